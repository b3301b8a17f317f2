/*
 * The network class of `vioscope run`: iperf3 between a Linux guest and a
 * server on the host side of a TAP, in a network namespace the run sets up
 * and tears down (run_qemu.c), so no traffic leaves the machine.
 *   emul    QEMU's e1000 (82540EM), Linux's e1000 driver
 *   pv      QEMU's virtio-net-pci, Linux's virtio_net (vhost off: no
 *           /dev/vhost-net here)
 *   pt      pass-through: VFIO; the nested test bed passes an e1000e
 *   native  the host-native ceiling: the same iperf3 between two network
 *           namespaces over a veth pair (run_native), no hypervisor
 * Suite parameters: kind=tcp-tx (guest sends), tcp-rx (host sends) or
 * udp-tx; bitrate=100M (UDP); qemu_runtime=S seconds measured after a
 * first second iperf3 leaves out (default 3).
 */
#include <cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cli/run.h"
#include "hypervisor/qemu/qemu.h"
#include "lib/file.h"
#include "lib/iperf3.h"
#include "lib/netns.h"

#define NATIVE_SERVER "10.0.3.1"
#define NATIVE_CLIENT "10.0.3.2"

/* A line with frames= is a raw-frames workload (run_net_frames.c). */
static bool is_frames(const char *params)
{
	char v[16];

	return suite__param(params, "frames", v, sizeof(v)) != NULL;
}

static const char *net_headline(const char *params)
{
	char v[16] = "";

	if (!suite__param(params, "frames", v, sizeof(v)))
		return "throughput_mbit_s";
	return strcmp(v, "pingpong") ? "frames_per_s" : "lat_p50";
}

static const char *net_unavailable(const struct run_ctx *ctx, const char *mode,
				   const char *params, char *buf,
				   size_t len)
{
	if (is_frames(params))
		return run_net_frames__unavailable(ctx, mode, buf, len);
	if (!strcmp(mode, "pt"))
		return run__have_iommu() ? "VFIO pass-through of a NIC under QEMU is not built "
					   "yet: the nested test bed measures it (an e1000e)"
					 : "no IOMMU here: VFIO pass-through of a NIC runs in the "
					   "nested test bed (an e1000e)";
	if (!strcmp(mode, "native")) {
		if (geteuid())
			return "the network namespaces of the native run need root";
		if (!run__have("iperf3") || !run__have("ip"))
			return "the native run needs iperf3 and ip (iproute2)";
		return NULL;
	}
	if (strcmp(mode, "emul") && strcmp(mode, "pv")) {
		snprintf(buf, len, "unknown mode '%s' (emul, pv, pt, native)", mode);
		return buf;
	}
	if (strcmp(ctx->hypervisor, "qemu"))
		return "iperf3 needs a Linux guest: run it with --hypervisor qemu (vioscope-vmm "
		       "runs the probe guest's frames=... workloads)";
	return run_qemu__unavailable(ctx, "net", mode, buf, len);
}

/* iperf3's figures as metrics, each with its unit and direction. */
static int iperf3_metrics(const cJSON *res, struct run_result *r, char *why, size_t why_len)
{
	struct iperf3_figures f;

	if (iperf3__parse(res, &f, why, why_len))
		return -1;
	run_result__add(r, "throughput_mbit_s", "Mbit/s", true, f.receiver_bps / 1e6);
	run_result__add(r, "sender_mbit_s", "Mbit/s", true, f.sender_bps / 1e6);
	if (f.udp) {
		run_result__add(r, "jitter", "ms", false, f.jitter_ms);
		run_result__add(r, "lost", "%", false, f.lost_percent);
		run_result__add(r, "datagrams", "count", true, f.packets);
	} else if (f.retransmits >= 0) {
		run_result__add(r, "retransmits", "count", false, f.retransmits);
	}
	if (f.cpu_local >= 0)
		run_result__add(r, "cpu_guest", "%", false, f.cpu_local);
	if (f.cpu_remote >= 0)
		run_result__add(r, "cpu_host_peer", "%", false, f.cpu_remote);
	return 0;
}

/* iperf3's client arguments for kind (the guest agent builds the same). */
static void client_argv(char **argv, const char *server, const char *kind, const char *secs,
			const char *rate)
{
	int n = 0;

	argv[n++] = "/usr/bin/env";
	argv[n++] = "iperf3";
	argv[n++] = "-c";
	argv[n++] = (char *)server;
	argv[n++] = "-J";
	argv[n++] = "-O";
	argv[n++] = "1";
	argv[n++] = "-t";
	argv[n++] = (char *)secs;
	argv[n++] = "--connect-timeout";
	argv[n++] = "5000";
	if (!strcmp(kind, "tcp-rx")) {
		argv[n++] = "-R";
	} else if (!strcmp(kind, "udp-tx")) {
		argv[n++] = "-u";
		argv[n++] = "-b";
		argv[n++] = (char *)rate;
	}
	argv[n] = NULL;
}

/* iperf3's server listens in this namespace (/proc/self/net/tcp: port
 * 5201 = 0x1451 in state 0A, LISTEN); up to 5 s. */
static bool server_listening(void)
{
	char line[256];
	int i;

	for (i = 0; i < 50; i++) {
		FILE *f = fopen("/proc/self/net/tcp", "r");
		bool up = false;

		while (f && fgets(line, sizeof(line), f))
			up |= strstr(line, ":1451 ") && strstr(line, " 0A ");
		if (f)
			fclose(f);
		if (up)
			return true;
		usleep(100000);
	}
	return false;
}

/*
 * Two namespaces: this child makes the server's and forks the client,
 * which makes its own and waits; the veth pair is made here with its
 * peer put in the client's namespace (ip link ... netns PID), the server
 * started; then the client runs. Both namespaces go with their processes.
 */
static void __attribute__((noreturn)) two_ns_child(char **client, char **server,
						   bool (*ready)(void), const char *out,
						   const char *log, const char *server_log)
{
	int pready[2], go[2];
	char pid[16], why[200], c;
	pid_t cl, srv;
	bool gone;
	int rc, i;

	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (unshare(CLONE_NEWNET))
		run__fail_child(log, "unshare(CLONE_NEWNET) (needs root)");
	if (pipe(pready) || pipe(go))
		run__fail_child(log, "pipe");
	cl = fork();
	if (cl == 0) {
		int fd;

		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (unshare(CLONE_NEWNET))
			run__fail_child(log, "unshare(CLONE_NEWNET)");
		if (write(pready[1], "r", 1) != 1 || read(go[0], &c, 1) != 1)
			_exit(125);
		if (netns__addr_up("vc0", NATIVE_CLIENT, 24, why, sizeof(why)))
			run__fail_child(log, why);
		fd = open(out, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
		if (fd < 0 || dup2(fd, STDOUT_FILENO) < 0)
			run__fail_child(log, out);
		execvp(client[0], client);
		run__fail_child(log, client[1] ? client[1] : client[0]);
	}
	if (cl < 0 || read(pready[0], &c, 1) != 1)
		run__fail_child(log, "the client's namespace");
	snprintf(pid, sizeof(pid), "%d", (int)cl);
	if (run__command((char *[]){ "/usr/bin/env", "ip", "link", "add", "vs0", "type", "veth",
				     "peer", "name", "vc0", "netns", pid, NULL }, server_log))
		run__fail_child(log, "ip link add (veth)");
	if (netns__addr_up("vs0", NATIVE_SERVER, 24, why, sizeof(why)))
		run__fail_child(log, why);
	srv = run__spawn(server, server_log);
	if (!ready())
		run__fail_child(log, "the server did not start");
	if (write(go[1], "g", 1) != 1)
		run__fail_child(log, "the client");
	rc = run__wait(cl);
	/* A server that ends by itself (iperf3 --one-off, a sink after 1 s of
	 * silence) gets 1.5 s to do so, then SIGTERM. */
	for (i = 0, gone = false; rc == 0 && i < 30 && !gone; i++)
		if (!(gone = waitpid(srv, NULL, WNOHANG) == srv))
			usleep(50000);
	if (!gone) {
		kill(srv, SIGTERM);
		waitpid(srv, NULL, 0);
	}
	_exit(rc < 0 ? 126 : rc);
}

int run_net__two_namespaces(char **client, char **server, bool (*ready)(void),
			    const char *out, const char *log, const char *server_log)
{
	pid_t pid;

	unlink(out);
	unlink(log);
	pid = fork();
	if (pid == 0)
		two_ns_child(client, server, ready, out, log, server_log);
	return run__wait(pid);
}

/* The host-native ceiling: the same iperf3 between two namespaces over a
 * veth pair, through the host's network stack alone. */
static int run_native(const struct run_ctx *ctx, const char *kind, const char *secs,
		      const char *rate, struct run_result *r, char *why, size_t why_len)
{
	char out[256], log[256], server_log[256], *client[20], *text;
	char *server[] = { "/usr/bin/env", "iperf3", "--server", "--one-off", "--bind",
			   NATIVE_SERVER, NULL };
	cJSON *j;
	int rc;

	snprintf(out, sizeof(out), "%s/iperf3-native.json", ctx->workdir);
	snprintf(log, sizeof(log), "%s/iperf3-native.log", ctx->workdir);
	snprintf(server_log, sizeof(server_log), "%s/iperf3-server.log", ctx->workdir);
	client_argv(client, NATIVE_SERVER, kind, secs, rate);
	rc = run_net__two_namespaces(client, server, server_listening, out, log, server_log);
	text = file__read_text(out);
	j = text ? cJSON_Parse(text) : NULL;
	free(text);
	if (!j) {
		char *l = file__read_text(log);
		const char *e = l ? strstr(l, "error: ") : NULL;

		snprintf(why, why_len, "native iperf3 exited %d%s%.*s", rc, e ? ": " : "",
			 e ? (int)strcspn(e + 7, "\n") : 0, e ? e + 7 : "");
		free(l);
		return -1;
	}
	rc = iperf3_metrics(j, r, why, why_len);
	cJSON_Delete(j);
	return rc;
}

static int net_run(const struct run_ctx *ctx, const char *mode, const struct suite_line *l,
		   struct run_result *r, char *why, size_t why_len)
{
	char kind[16] = "tcp-tx", rate[16] = "100M", secs[16] = "3", job[200];
	struct qemu_vm vm = { .class = "net", .mode = mode, .job = job, .mem_mb = 512 };
	cJSON *j;
	int rc;

	if (is_frames(l->params))
		return run_net_frames__run(ctx, mode, l, r, why, why_len);
	suite__param(l->params, "kind", kind, sizeof(kind));
	suite__param(l->params, "bitrate", rate, sizeof(rate));
	suite__param(l->params, "qemu_runtime", secs, sizeof(secs));
	if (strcmp(kind, "tcp-tx") && strcmp(kind, "tcp-rx") && strcmp(kind, "udp-tx")) {
		snprintf(why, why_len, "kind=%s: tcp-tx, tcp-rx or udp-tx", kind);
		return -1;
	}
	if (!strcmp(mode, "native"))
		return run_native(ctx, kind, secs, rate, r, why, why_len);
	snprintf(job, sizeof(job), "vio.job=iperf3 vio.iperf3=%s:%s:%s vio.ip=" QEMU_NET_GUEST
		 " vio.server=" QEMU_NET_HOST, kind, secs, rate);
	j = run_qemu__boot(ctx, &vm, r, why, why_len);
	if (!j)
		return -1;
	rc = iperf3_metrics(cJSON_GetObjectItem(j, "result"), r, why, why_len);
	cJSON_Delete(j);
	return rc;
}

const struct class_runner run_net = {
	.class = "net",
	.headline = "throughput_mbit_s",
	.headline_for = net_headline,
	.unavailable = net_unavailable,
	.run = net_run,
};
