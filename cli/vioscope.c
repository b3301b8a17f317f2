/*
 * vioscope: the thin front end.
 *   vioscope doctor [--json]        which environments this host offers
 *   vioscope testbed-result ...     turn one nested test-bed suite's
 *                                   console and JSON into a result record
 *   vioscope fio-summary ...        fio JSON as one-line disk summaries
 *   vioscope trace ...              VM exits per reason and device (BPF)
 *   vioscope run ...                a suite's matrix into the results database
 *   vioscope compare|history|recommend|report|export ...   read it back
 *   vioscope peer ...               the host side of network tests
 *   vioscope usbip-server ...       a USB device model over USB/IP
 */
#include <cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "lib/log.h"

static void usage(FILE *f)
{
	fprintf(f,
"usage: vioscope COMMAND [options]\n"
"  doctor [--json]       environments available here: PVM KVM, real KVM,\n"
"                        the nested test bed, QEMU-TCG, VFIO\n"
"  testbed-result --suite NAME --console FILE [--vmm-json FILE]\n"
"                 [--testbed FILE] [--trace FILE] --out FILE\n"
"                        build a suite's result JSON from the guest's console\n"
"  fio-summary [--label NAME] FILE...\n"
"                        fio JSON output as vioscope's one-line disk summaries\n"
"  trace [--pid PID] [--interval S] [--count N] [--json] [-o FILE]\n"
"        [--backend bpf|tracefs] [--bpf-attach tp_btf|raw_tp|tracepoint]\n"
"        [--stages [--buffer ring|perf]] [-- COMMAND...]\n"
"                        VM exits per reason and PIO/MMIO per device, with\n"
"                        rates and p50/p99 (eBPF on KVM's tracepoints, or\n"
"                        tracefs without BPF; root); --stages: every disk\n"
"                        request of a vioscope-vmm timed stage by stage\n"
"  run [--suite NAME] [--classes LIST] [--modes emul,pv,pt,native]\n"
"      [--iterations N] [--min-iterations N] [--cv PCT] [--label TEXT]\n"
"      [--trace] [--db FILE] [--workdir DIR] [--resume[=RUN]]\n"
"      [--hypervisor vioscope-vmm|qemu]\n"
"                        a suite (workloads/NAME) in every mode into the\n"
"                        results database (default results/vioscope.db)\n"
"  compare A B [--metric NAME] [--alpha P] [--gate PCT] [--db FILE]\n"
"                        B against A per cell; exit 1 on a regression\n"
"  history LABEL [--metric NAME] [--db FILE]\n"
"                        change points over a label's runs\n"
"  recommend [RUN] [--db FILE]\n"
"                        the I/O mode to use per device class, and why\n"
"  report [RUN] [--with RUN] [--out DIR] [--format html|pdf] [--db FILE]\n"
"                        charts, tables and advice as HTML or PDF; --with:\n"
"                        another run (hypervisor) side by side\n"
"  export [RUN] [--format json|openmetrics] [--db FILE]\n"
"                        a run for dashboards\n"
"  peer --dev IFNAME --mode sink|source|echo|ping [--size BYTES] [--count N]\n"
"       [--seconds S] [--rate PPS] [--start-on-frame] [--json]\n"
"                        the host side of a network test: raw frames with\n"
"                        checked payloads on one interface (root)\n"
"  usbip-server --disk PATH[,size=64M] [--listen ADDR[:PORT]] [--busid 1-1]\n"
"               [--connections N]\n"
"                        export a USB mass-storage device on the image over\n"
"                        USB/IP (Linux guests: usbip attach)\n");
}

int main(int argc, char **argv)
{
	log_prog = "vioscope";
	if (argc < 2 || !strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")) {
		usage(argc < 2 ? stderr : stdout);
		return argc < 2;
	}
	if (!strcmp(argv[1], "doctor"))
		return cmd_doctor(argc - 1, argv + 1);
	if (!strcmp(argv[1], "testbed-result"))
		return cmd_testbed_result(argc - 1, argv + 1);
	if (!strcmp(argv[1], "fio-summary"))
		return cmd_fio_summary(argc - 1, argv + 1);
	if (!strcmp(argv[1], "trace"))
		return cmd_trace(argc - 1, argv + 1);
	if (!strcmp(argv[1], "run"))
		return cmd_run(argc - 1, argv + 1);
	if (!strcmp(argv[1], "compare"))
		return cmd_compare(argc - 1, argv + 1);
	if (!strcmp(argv[1], "history"))
		return cmd_history(argc - 1, argv + 1);
	if (!strcmp(argv[1], "recommend"))
		return cmd_recommend(argc - 1, argv + 1);
	if (!strcmp(argv[1], "report"))
		return cmd_report(argc - 1, argv + 1);
	if (!strcmp(argv[1], "export"))
		return cmd_export(argc - 1, argv + 1);
	if (!strcmp(argv[1], "peer"))
		return cmd_peer(argc - 1, argv + 1);
	if (!strcmp(argv[1], "usbip-server"))
		return cmd_usbip_server(argc - 1, argv + 1);
	die("unknown command '%s' (see vioscope --help)", argv[1]);
}
