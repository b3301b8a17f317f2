/*
 * The network class of `vioscope run`: iperf3 between a Linux guest and a
 * server on the host side of a TAP, in a network namespace the run sets up
 * and tears down (run_qemu.c), so no traffic leaves the machine.
 *   emul    QEMU's e1000 (82540EM), Linux's e1000 driver
 *   pv      QEMU's virtio-net-pci, Linux's virtio_net (vhost off: no
 *           /dev/vhost-net here)
 *   pt      pass-through: VFIO; the nested test bed passes an e1000e
 *   native  the host-native ceiling: comes with vioscope-vmm's NICs
 *           (two namespaces over a veth pair)
 * Suite parameters: kind=tcp-tx (guest sends), tcp-rx (host sends) or
 * udp-tx; bitrate=100M (UDP); qemu_runtime=S seconds measured after a
 * first second iperf3 leaves out (default 3).
 */
#include <cJSON.h>
#include <stdio.h>
#include <string.h>

#include "cli/run.h"
#include "hypervisor/qemu/qemu.h"
#include "lib/iperf3.h"

static const char *net_unavailable(const struct run_ctx *ctx, const char *mode, char *buf,
				   size_t len)
{
	if (!strcmp(mode, "pt"))
		return "no IOMMU here: VFIO pass-through of a NIC runs in the nested test bed "
		       "(an e1000e)";
	if (!strcmp(mode, "native"))
		return "the host-native network ceiling (a veth pair between two namespaces) "
		       "is not built yet";
	if (strcmp(mode, "emul") && strcmp(mode, "pv")) {
		snprintf(buf, len, "unknown mode '%s' (emul, pv, pt, native)", mode);
		return buf;
	}
	if (strcmp(ctx->hypervisor, "qemu"))
		return "vioscope-vmm has no network device yet: run it with --hypervisor qemu";
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

static int net_run(const struct run_ctx *ctx, const char *mode, const struct suite_line *l,
		   struct run_result *r, char *why, size_t why_len)
{
	char kind[16] = "tcp-tx", rate[16] = "100M", secs[16] = "3", job[200];
	struct qemu_vm vm = { .class = "net", .mode = mode, .job = job, .mem_mb = 512 };
	cJSON *j;
	int rc;

	suite__param(l->params, "kind", kind, sizeof(kind));
	suite__param(l->params, "bitrate", rate, sizeof(rate));
	suite__param(l->params, "qemu_runtime", secs, sizeof(secs));
	if (strcmp(kind, "tcp-tx") && strcmp(kind, "tcp-rx") && strcmp(kind, "udp-tx")) {
		snprintf(why, why_len, "kind=%s: tcp-tx, tcp-rx or udp-tx", kind);
		return -1;
	}
	snprintf(job, sizeof(job), "vio.job=iperf3 vio.iperf3=%s:%s:%s vio.ip=10.0.2.15/24 "
		 "vio.server=10.0.2.1", kind, secs, rate);
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
	.unavailable = net_unavailable,
	.run = net_run,
};
