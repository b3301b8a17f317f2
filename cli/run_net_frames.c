/*
 * The frames workloads of the net class: vioscope's raw test frames
 * (lib/frame.h) between a guest and `vioscope peer`, no TCP/IP in the way.
 * Suite parameters: frames=tx (guest sends) | rx (guest receives) |
 * pingpong (guest times round trips); size=64..1514 (default 64);
 * count=N (default 2000); rate=PPS (rx: the peer's pace, default flat
 * out); verify=1 (every payload byte the guest receives is checked; the
 * peer always checks what it receives).
 *   emul, pv  the probe guest's e1000 / virtio-net driver on vioscope-vmm's
 *             models, backed by a TAP in a network namespace of the run's
 *             own with the peer on the TAP's host side
 *   native    the ceiling: peer to peer over a veth pair between two
 *             namespaces (the host's stack alone)
 */
#include <cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

#include "cli/run.h"
#include "lib/file.h"
#include "lib/json.h"
#include "lib/netns.h"

#define TAP_NAME	"vtap0"
#define TAP_ADDR	"10.0.4.1"

struct frames_job {
	char kind[16], size[8], count[16], rate[16], verify[4];
};

static int frames_job(const struct suite_line *l, struct frames_job *j, char *why, size_t why_len)
{
	*j = (struct frames_job){ "pingpong", "64", "2000", "", "0" };
	suite__param(l->params, "frames", j->kind, sizeof(j->kind));
	suite__param(l->params, "size", j->size, sizeof(j->size));
	suite__param(l->params, "count", j->count, sizeof(j->count));
	suite__param(l->params, "rate", j->rate, sizeof(j->rate));
	suite__param(l->params, "verify", j->verify, sizeof(j->verify));
	if (strcmp(j->kind, "tx") && strcmp(j->kind, "rx") && strcmp(j->kind, "pingpong")) {
		snprintf(why, why_len, "frames=%s: tx, rx or pingpong", j->kind);
		return -1;
	}
	if (atoi(j->size) < 64 || atoi(j->size) > 1514 || atol(j->count) < 1) {
		snprintf(why, why_len, "size=%s count=%s: size is 64..1514, count at least 1",
			 j->size, j->count);
		return -1;
	}
	return 0;
}

const char *run_net_frames__unavailable(const struct run_ctx *ctx, const char *mode,
					char *buf, size_t len)
{
	if (geteuid())
		return "the network namespace and the peer's raw socket need root";
	if (!strcmp(mode, "native"))
		return run__have("ip") ? NULL : "the native run needs ip (iproute2)";
	if (!strcmp(mode, "pt"))
		return run__have_iommu() ? "the probe guest has no driver for a passed-through NIC: "
					   "Linux guests measure it in the nested test bed"
					 : "no IOMMU here: VFIO pass-through of a NIC runs in the "
					   "nested test bed (an e1000e)";
	if (strcmp(mode, "emul") && strcmp(mode, "pv")) {
		snprintf(buf, len, "unknown mode '%s' (emul, pv, pt, native)", mode);
		return buf;
	}
	if (!strcmp(ctx->hypervisor, "qemu"))
		return "frames workloads run the probe guest on vioscope-vmm; Linux guests under "
		       "QEMU run iperf3 (kind=...)";
	if (access("/dev/kvm", R_OK | W_OK))
		return "no usable /dev/kvm: the reference VMM needs KVM";
	if (access("/dev/net/tun", R_OK | W_OK))
		return "no /dev/net/tun: the NIC models' TAP backend needs it";
	return NULL;
}

/* The peer's arguments for its side of kind (its view: what it does). */
static void peer_argv(char **argv, const char *cli, const char *dev, const char *pmode,
		      const struct frames_job *j, bool start_on_frame)
{
	int n = 0;

	argv[n++] = (char *)cli;
	argv[n++] = "peer";
	argv[n++] = "--dev";
	argv[n++] = (char *)dev;
	argv[n++] = "--mode";
	argv[n++] = (char *)pmode;
	argv[n++] = "--size";
	argv[n++] = (char *)j->size;
	if (strcmp(pmode, "echo") && strcmp(pmode, "sink")) {
		argv[n++] = "--count";
		argv[n++] = (char *)j->count;
	}
	if (j->rate[0] && !strcmp(pmode, "source")) {
		argv[n++] = "--rate";
		argv[n++] = (char *)j->rate;
	}
	if (start_on_frame)
		argv[n++] = "--start-on-frame";
	argv[n++] = "--json";
	argv[n] = NULL;
}

/* The peer's JSON line from its output file (its errors are other lines). */
static cJSON *peer_result(const char *path)
{
	char *text = file__read_text(path), *line;
	cJSON *j = NULL;

	for (line = text; line && *line && !j; line += strcspn(line, "\n") + (line[strcspn(line, "\n")] != 0))
		if (*line == '{')
			j = cJSON_ParseWithOpts(line, NULL, false);
	free(text);
	return j;
}

/*
 * In a child: a namespace with the TAP, the peer on its host side, the
 * VMM with the TAP's descriptor. The namespace goes when the last of them
 * exits; PDEATHSIG takes them all along if vioscope dies.
 */
static void __attribute__((noreturn)) vmm_child(const struct run_ctx *ctx, const char *mode,
						const struct frames_job *j, const char *vmm_json,
						const char *vmm_log, const char *peer_out)
{
	char cli[256], vmm[256], why[200], net[64], workload[200], *pargv[20];
	const char *pmode = !strcmp(j->kind, "tx") ? "sink" : !strcmp(j->kind, "rx") ? "source" : "echo";
	pid_t peer, vm;
	int tap, rc;

	prctl(PR_SET_PDEATHSIG, SIGKILL);
	tap = netns__enter_with_tap(TAP_NAME, TAP_ADDR, 24, why, sizeof(why));
	if (tap < 0) {
		errno = 0;
		run__fail_child(vmm_log, why);
	}
	snprintf(cli, sizeof(cli), "%s/vioscope", ctx->bindir);
	snprintf(vmm, sizeof(vmm), "%s/vioscope-vmm", ctx->bindir);
	peer_argv(pargv, cli, TAP_NAME, pmode, j, !strcmp(j->kind, "rx"));
	peer = run__spawn(pargv, peer_out);
	usleep(200000);		/* its socket bound before the guest's first frame */
	fcntl(tap, F_SETFD, 0);	/* the VMM inherits the TAP */
	snprintf(net, sizeof(net), "%s:fd=%d", mode, tap);
	snprintf(workload, sizeof(workload), "net dev=%s mode=%s size=%s count=%s verify=%s",
		 mode, j->kind, j->size, j->count, j->verify);
	vm = run__spawn((char *[]){ vmm, "--quiet", "--samples", "--timeout", "300", "--net", net,
				    "--workload", workload, "--json", (char *)vmm_json, NULL }, vmm_log);
	close(tap);
	rc = run__wait(vm);
	if (rc != 0)
		kill(peer, SIGTERM);
	run__wait(peer);
	_exit(rc < 0 ? 126 : rc);
}

/* The guest's record: its metrics, exits per frame, round trips. */
static int from_vmm(const cJSON *rec, struct run_result *r, char *why, size_t why_len)
{
	const char *status = cJSON_GetStringValue(cJSON_GetObjectItem(rec, "status"));
	const cJSON *m;
	size_t n = 0;

	if (!status || strcmp(status, "ok")) {
		snprintf(why, why_len, "the guest's net workload failed: %s", status ?: "no result");
		return -1;
	}
	cJSON_ArrayForEach(m, cJSON_GetObjectItem(rec, "metrics")) {
		const char *name = cJSON_GetStringValue(cJSON_GetObjectItem(m, "name"));
		const char *dir = cJSON_GetStringValue(cJSON_GetObjectItem(m, "direction"));

		if (name && dir)
			run_result__add(r, name, cJSON_GetStringValue(cJSON_GetObjectItem(m, "unit")) ?: "",
					!strcmp(dir, "higher_is_better"),
					json__num(m, -1, "value", NULL, NULL));
	}
	run_result__add(r, "exits_per_frame", "count", false,
			json__num(rec, -1, "exits_per_op", "pio", NULL) +
			json__num(rec, -1, "exits_per_op", "mmio", NULL));
	run_result__add(r, "kicks_per_frame", "count", false,
			json__num(rec, -1, "exits_per_op", "ioeventfd_signals", NULL));
	run_result__add(r, "irqs_per_frame", "count", false,
			json__num(rec, -1, "exits_per_op", "irqs_injected", NULL));
	m = cJSON_GetObjectItem(rec, "samples_ns");
	if (!cJSON_GetArraySize(m))
		return 0;
	r->samples = malloc((size_t)cJSON_GetArraySize(m) * sizeof(uint64_t));
	if (!r->samples)
		return -1;
	cJSON_ArrayForEach(rec, m)
		r->samples[n++] = (uint64_t)rec->valuedouble;
	r->nsamples = n;
	return 0;
}

/* What the peer saw: a bad frame from the guest is corruption. */
static int from_peer(const cJSON *p, const struct frames_job *j, struct run_result *r, char *why,
		     size_t why_len)
{
	if (!p) {
		snprintf(why, why_len, "vioscope peer wrote no result");
		return -1;
	}
	if (json__num(p, 0, "bad", NULL, NULL) > 0) {
		snprintf(why, why_len, "the peer received %.0f bad frames (payload or size wrong)",
			 json__num(p, 0, "bad", NULL, NULL));
		return -1;
	}
	if (!strcmp(j->kind, "tx")) {
		run_result__add(r, "peer_frames", "frames", true, json__num(p, 0, "frames", NULL, NULL));
		run_result__add(r, "peer_frames_lost", "frames", false,
				atof(j->count) - json__num(p, 0, "frames", NULL, NULL));
	}
	return 0;
}

static int run_vmm(const struct run_ctx *ctx, const char *mode, const struct frames_job *j,
		   struct run_result *r, char *why, size_t why_len)
{
	char json[256], log[256], peer_out[256];
	cJSON *v, *p, *rec;
	pid_t pid;
	int rc;

	snprintf(json, sizeof(json), "%s/vmm.json", ctx->workdir);
	snprintf(log, sizeof(log), "%s/vmm.log", ctx->workdir);
	snprintf(peer_out, sizeof(peer_out), "%s/peer.out", ctx->workdir);
	unlink(json);
	unlink(peer_out);
	pid = fork();
	if (pid == 0)
		vmm_child(ctx, mode, j, json, log, peer_out);
	rc = run__wait(pid);
	{
		char *text = file__read_text(json);

		v = text ? cJSON_Parse(text) : NULL;
		free(text);
	}
	rec = cJSON_GetArrayItem(cJSON_GetObjectItem(v, "results"), 0);
	if (rc != 0 || !rec) {
		char *text = file__read_text(log), *last = text;

		for (char *q = text; q && (q = strstr(q, "error: ")); q++)
			last = q;
		snprintf(why, why_len, "vioscope-vmm exited %d: %.*s", rc,
			 last ? (int)strcspn(last, "\n") : 0, last ? last : "");
		free(text);
		cJSON_Delete(v);
		return -1;
	}
	rc = from_vmm(rec, r, why, why_len);
	cJSON_Delete(v);
	p = peer_result(peer_out);
	if (!rc)
		rc = from_peer(p, j, r, why, why_len);
	cJSON_Delete(p);
	return rc;
}

/* The sink or echo binds its socket in a few milliseconds. */
static bool peer_ready(void)
{
	usleep(300000);
	return true;
}

/* The ceiling: the same frames between two namespaces over a veth pair,
 * a source or ping on one side, a sink or echo on the other. */
static int run_native(const struct run_ctx *ctx, const struct frames_job *j,
		      struct run_result *r, char *why, size_t why_len)
{
	bool ping = !strcmp(j->kind, "pingpong");
	char cli[256], out[256], log[256], slog[256], *client[20], *server[20];
	cJSON *p;
	int rc;

	snprintf(cli, sizeof(cli), "%s/vioscope", ctx->bindir);
	snprintf(out, sizeof(out), "%s/peer-native.json", ctx->workdir);
	snprintf(log, sizeof(log), "%s/peer-native.log", ctx->workdir);
	snprintf(slog, sizeof(slog), "%s/peer-native-server.out", ctx->workdir);
	peer_argv(client, cli, "vc0", ping ? "ping" : "source", j, false);
	peer_argv(server, cli, "vs0", ping ? "echo" : "sink", j, false);
	rc = run_net__two_namespaces(client, server, peer_ready, out, log, slog);
	/* The sink's view for throughput, the pinger's for round trips. */
	p = peer_result(ping ? out : slog);
	if (rc != 0 || !p) {
		char *l = file__read_text(log);
		const char *e = l ? strstr(l, "error: ") : NULL;

		snprintf(why, why_len, "native peers exited %d%s%.*s", rc, e ? ": " : "",
			 e ? (int)strcspn(e + 7, "\n") : 0, e ? e + 7 : "");
		free(l);
		cJSON_Delete(p);
		return -1;
	}
	if (ping) {
		run_result__add(r, "round_trips_per_s", "1/s", true,
				json__num(p, 0, "frames_per_s", NULL, NULL));
		run_result__add(r, "lat_p50", "ns", false, json__num(p, 0, "rtt_p50_ns", NULL, NULL));
		run_result__add(r, "lat_p99", "ns", false, json__num(p, 0, "rtt_p99_ns", NULL, NULL));
	} else {
		run_result__add(r, "frames_per_s", "frames/s", true,
				json__num(p, 0, "frames_per_s", NULL, NULL));
		run_result__add(r, "throughput_gbit_s", "Gbit/s", true,
				json__num(p, 0, "gbit_per_s", NULL, NULL));
	}
	run_result__add(r, "frames_lost", "frames", false, json__num(p, 0, "lost", NULL, NULL));
	rc = json__num(p, 0, "bad", NULL, NULL) > 0 ? -1 : 0;
	if (rc)
		snprintf(why, why_len, "the native peer received bad frames");
	cJSON_Delete(p);
	return rc;
}

int run_net_frames__run(const struct run_ctx *ctx, const char *mode, const struct suite_line *l,
			struct run_result *r, char *why, size_t why_len)
{
	struct frames_job j;

	if (frames_job(l, &j, why, why_len))
		return -1;
	if (!strcmp(mode, "native"))
		return run_native(ctx, &j, r, why, why_len);
	return run_vmm(ctx, mode, &j, r, why, why_len);
}
