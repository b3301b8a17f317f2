/*
 * vioscope trace on a real probe-guest run (root, BTF and /dev/kvm, else
 * skipped with the reason): the exits the BPF collector counts match the
 * VMM's own counters, and PIO/MMIO land on the devices that own them.
 */
#include <cJSON.h>
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "lib/file.h"
#include "tests/helpers.h"

static const cJSON *find(const cJSON *arr, const char *k1, const char *v1, const char *k2,
			 const char *v2, const char *k3, const char *v3)
{
	const cJSON *e;

	cJSON_ArrayForEach(e, arr) {
		if (!strcmp(cJSON_GetStringValue(cJSON_GetObjectItem(e, k1)) ?: "", v1) &&
		    (!k2 || !strcmp(cJSON_GetStringValue(cJSON_GetObjectItem(e, k2)) ?: "", v2)) &&
		    (!k3 || !strcmp(cJSON_GetStringValue(cJSON_GetObjectItem(e, k3)) ?: "", v3)))
			return e;
	}
	return NULL;
}

/* JSON lines: the last one of path, parsed (*text keeps the file, *last
 * points at that line in it, for messages). */
static cJSON *last_json_line(const char *path, char **text, char **last)
{
	*text = file__read_text(path);
	cr_assert_not_null(*text, "%s", path);
	*last = *text;
	for (char *p = *text; (p = strstr(p, "\n{")); p++)
		*last = p + 1;
	return cJSON_Parse(*last);
}

/* The files a traced run leaves in its directory, and the directory. */
static void remove_run_dir(const char *dir)
{
	static const char *const files[] = { "trace.json", "vmm.json", "a.img", "b.img" };
	char path[96];
	size_t i;

	for (i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, files[i]);
		unlink(path);
	}
	rmdir(dir);
}

static double num(const cJSON *o, const char *path)
{
	return o ? test_json_num(o, path) : NAN;
}

/* mode: a --bpf-attach mode, or NULL for the back end's own choice. */
static void check_backend(const char *backend, const char *mode)
{
	char dir[] = "/tmp/vioscope-trace-XXXXXX", tfile[64], vfile[64], emul[96], pv[96];
	char *out, *err, *text, *last;
	cJSON *t, *v;
	const cJSON *e, *dev;
	double user, vmm;
	int rc;

	cr_assert_not_null(mkdtemp(dir));
	snprintf(tfile, sizeof(tfile), "%s/trace.json", dir);
	snprintf(vfile, sizeof(vfile), "%s/vmm.json", dir);
	snprintf(emul, sizeof(emul), "emul:%s/a.img,size=8M", dir);
	snprintf(pv, sizeof(pv), "pv:%s/b.img,size=8M", dir);
	rc = test_run((char *[]){ (char *)test_bin("vioscope"), "trace", "--json", "-o", tfile,
				 "--backend", (char *)backend,
				 mode ? "--bpf-attach" : "--json", mode ? (char *)mode : "--json", "--",
				 (char *)test_bin("vioscope-vmm"), "--quiet", "--disk", emul,
				 "--disk", pv, "--workload",
				 "micro kind=pio count=2000; micro kind=mmio count=2000; "
				 "disk dev=emul rw=randread iodepth=1 ios=500; "
				 "disk dev=pv rw=randread iodepth=1 ios=500",
				 "--json", vfile, NULL }, &out, &err);
	cr_assert_eq(rc, 0, "%s", err);
	t = last_json_line(tfile, &text, &last);	/* JSON lines: the total is last */
	v = test_read_json(vfile);
	cr_assert_not_null(t, "%s", text);
	cr_assert_not_null(v);
	cr_assert_str_eq(cJSON_GetStringValue(cJSON_GetObjectItem(t, "type")), "total");
	cr_assert_str_eq(cJSON_GetStringValue(cJSON_GetObjectItem(t, "backend")), backend);
	if (mode) {
		char want[32];

		snprintf(want, sizeof(want), "BPF (%s)", mode);
		cr_assert_not_null(strstr(cJSON_GetStringValue(cJSON_GetObjectItem(t, "attach")), want),
				   "%s", cJSON_GetStringValue(cJSON_GetObjectItem(t, "attach")));
	}

	/* KVM_EXIT_IO + KVM_EXIT_MMIO seen by BPF = the VMM's PIO + MMIO +
	 * raw-loop exits (the last exit never re-enters, hence the slack). */
	e = cJSON_GetObjectItem(t, "exits");
	user = num(find(e, "kind", "user", "reason", "IO", NULL, NULL), "count") +
	       num(find(e, "kind", "user", "reason", "MMIO", NULL, NULL), "count");
	vmm = test_json_num(v, "exits.pio") + test_json_num(v, "exits.mmio") +
	      test_json_num(v, "exits.raw_loop");
	cr_assert(fabs(user - vmm) <= 3 + vmm * 0.001, "BPF %g vs VMM %g", user, vmm);

	/* Attribution through the VMM's published region map. */
	dev = cJSON_GetObjectItem(t, "devices");
	cr_assert_eq(num(find(dev, "device", "bench0", "space", "pio", "dir", "write"), "events"),
		     4000, "2000 measured + 2000 raw-loop doorbell writes");
	cr_assert_eq(num(find(dev, "device", "bench0", "space", "mmio", "dir", "write"), "events"),
		     4000);
	e = find(dev, "device", "ahci0", "space", "mmio", "dir", "read");
	cr_assert_geq(num(e, "events"), 2 * 500, "AHCI: several register reads per I/O");
	cr_assert_geq(num(e, "user_exits.count"), num(e, "events") - 1, "each one a trapped exit");
	e = find(dev, "device", "virtio-blk0", "space", "mmio", "dir", "write");
	cr_assert_geq(num(e, "events"), 500, "one notify write per I/O");
	cr_assert_lt(num(e, "user_exits.count"), 0.1 * num(e, "events"),
		     "doorbells end at the ioeventfd in the kernel");
	cr_assert_geq(num(t, "irqs.msi"), 1000, "one MSI-X per I/O on both disks");
	cr_assert_eq(num(t, "drops.threads") + num(t, "drops.reasons") + num(t, "drops.addresses") +
		     num(t, "drops.trace_buffer"), 0);

	cJSON_Delete(t);
	cJSON_Delete(v);
	free(text);
	free(out);
	free(err);
	remove_run_dir(dir);
}

Test(trace, bpf_counts_match_the_vmm_and_devices_are_named, .timeout = 120)
{
	test_require_kvm();
	test_require_bpf();
	check_backend("bpf", NULL);
}

/* The two fallbacks of tp_btf, forced: the same counts. */
Test(trace, bpf_raw_tp_counts_match_the_vmm, .timeout = 120)
{
	test_require_kvm();
	test_require_bpf();
	check_backend("bpf", "raw_tp");
}

Test(trace, bpf_classic_tracepoints_count_the_same, .timeout = 120)
{
	test_require_kvm();
	test_require_bpf();
	check_backend("bpf", "tracepoint");
}

/* The no-BPF fallback runs the same state machine over tracefs. */
Test(trace, tracefs_counts_match_the_vmm_and_devices_are_named, .timeout = 120)
{
	test_require_kvm();
	if (geteuid() != 0) {
		fprintf(stderr, "SKIP: tracefs needs root\n");
		cr_skip_test("tracefs needs root");
	}
	check_backend("tracefs", NULL);
}

/* The per_op mean (ns) of the VMM's record for a disk model. */
static double vmm_mean(const cJSON *v, const char *device)
{
	const cJSON *r;

	cJSON_ArrayForEach(r, cJSON_GetObjectItem(v, "results"))
		if (!strcmp(cJSON_GetStringValue(cJSON_GetObjectItem(r, "device")) ?: "", device))
			return test_json_num(r, "per_op.ns.mean");
	return NAN;
}

/*
 * Both disks at QD4 under --stages: every guest I/O joins its request,
 * all eight stages are there, and they add up to the latency the guest
 * measured itself (the VMM's record, timer cost taken off) within 10%.
 */
static void check_stages(const char *buffer, const char *transport)
{
	char dir[] = "/tmp/vioscope-stages-XXXXXX", tfile[64], vfile[64], emul[96], pv[96];
	static const char *const devs[][3] = {
		{ "ahci0", "emul", "ahci" }, { "virtio-blk0", "pv", "virtio-blk" },
	};
	char *out, *err, *text, *last;
	cJSON *t, *v;
	unsigned int i;
	int rc;

	cr_assert_not_null(mkdtemp(dir));
	snprintf(tfile, sizeof(tfile), "%s/trace.json", dir);
	snprintf(vfile, sizeof(vfile), "%s/vmm.json", dir);
	snprintf(emul, sizeof(emul), "emul:%s/a.img,size=8M", dir);
	snprintf(pv, sizeof(pv), "pv:%s/b.img,size=8M", dir);
	rc = test_run((char *[]){ (char *)test_bin("vioscope"), "trace", "--json", "--stages",
				 "--buffer", (char *)buffer, "-o", tfile, "--",
				 (char *)test_bin("vioscope-vmm"), "--quiet", "--disk", emul,
				 "--disk", pv, "--workload",
				 "disk dev=emul rw=randread iodepth=4 ios=400 verify=1 stamps=1; "
				 "disk dev=pv rw=randread iodepth=4 ios=400 verify=1 stamps=1",
				 "--json", vfile, NULL }, &out, &err);
	cr_assert_eq(rc, 0, "%s", err);
	t = last_json_line(tfile, &text, &last);
	v = test_read_json(vfile);
	cr_assert_not_null(t, "%s", text);
	cr_assert_not_null(v);
	cr_assert_str_eq(cJSON_GetStringValue(cJSON_GetObjectItem(t, "type")), "stages");
	cr_assert_str_eq(cJSON_GetStringValue(cJSON_GetObjectItem(t, "transport")), transport);
	cr_assert_eq(test_json_num(t, "drops"), 0);
	for (i = 0; i < 2; i++) {
		const cJSON *d = find(cJSON_GetObjectItem(t, "devices"), "device", devs[i][0], NULL,
				      NULL, NULL, NULL);
		double sum, guest;

		cr_assert_not_null(d, "no stages for %s: %s", devs[i][0], last);
		cr_assert_str_eq(cJSON_GetStringValue(cJSON_GetObjectItem(d, "mode")), devs[i][1]);
		cr_assert_str_eq(cJSON_GetStringValue(cJSON_GetObjectItem(d, "view")), "guest");
		cr_assert_eq(test_json_num(d, "guest_ios"), 400);
		cr_assert_eq(test_json_num(d, "matched"), 400, "every timed I/O joined: %s", last);
		cr_assert_eq(test_json_num(d, "partial"), 0);
		cr_assert_gt(test_json_num(d, "requests"), 400, "the verify pass is outside the window");
		cr_assert_eq(cJSON_GetArraySize(cJSON_GetObjectItem(d, "stages")), 10, "%s", last);
		cr_assert_leq(test_json_num(d, "negative"), 4, "clock anchors off: %s", last);
		sum = test_json_num(d, "sum_of_stage_means_ns");
		guest = vmm_mean(v, devs[i][2]);
		cr_assert(fabs(sum - guest) <= 0.10 * guest, "%s: stages %g ns vs guest %g ns",
			  devs[i][0], sum, guest);
	}
	cJSON_Delete(t);
	cJSON_Delete(v);
	free(text);
	free(out);
	free(err);
	remove_run_dir(dir);
}

Test(trace, stages_add_up_to_the_guest_latency, .timeout = 180)
{
	test_require_kvm();
	test_require_bpf();
	check_stages("ring", "ring buffer");
}

/* The fallback for kernels before 5.8, forced. */
Test(trace, stages_through_the_perf_buffer, .timeout = 180)
{
	test_require_kvm();
	test_require_bpf();
	check_stages("perf", "perf buffer");
}

Test(trace, stages_need_a_vmm_with_request_probes)
{
	char *out, *err;

	test_require_bpf();
	cr_assert_eq(test_run((char *[]){ (char *)test_bin("vioscope"), "trace", "--stages", "--",
					  "/bin/true", NULL }, &out, &err), 1);
	cr_assert_eq(test_count_lines(err), 1, "%s", err);
	cr_assert_not_null(strstr(err, "request probes"), "%s", err);
	free(out);
	free(err);
}

/*
 * With O_DIRECT on an image whose blocks exist on a block device, the
 * backend I/O splits into queue, device and cqe from the kernel's block
 * requests (a sparse image or the page cache never reach the device).
 */
Test(trace, stages_follow_the_block_device, .timeout = 180)
{
	char dir[] = "build/vioscope-blk-XXXXXX", img[64], disk[96], *out, *err;
	static char buf[1 << 20];
	const cJSON *d, *st;
	struct stat sb;
	cJSON *t;
	FILE *f;
	int i, rc;

	test_require_kvm();
	test_require_bpf();
	cr_assert_not_null(mkdtemp(dir));
	cr_assert_eq(stat(dir, &sb), 0);
	if (major(sb.st_dev) == 0) {
		rmdir(dir);
		fprintf(stderr, "SKIP: build/ is not on a block device (tmpfs, overlay)\n");
		cr_skip_test("build/ is not on a block device");
	}
	snprintf(img, sizeof(img), "%s/full.img", dir);
	f = fopen(img, "w");
	cr_assert_not_null(f);
	for (i = 0; i < (int)sizeof(buf); i++)
		buf[i] = (char)(i * 7);
	for (i = 0; i < 16; i++)	/* 16 MiB, every block allocated */
		cr_assert_eq(fwrite(buf, 1, sizeof(buf), f), sizeof(buf));
	cr_assert_eq(fclose(f), 0);
	sync();
	snprintf(disk, sizeof(disk), "pv:%s,direct", img);
	rc = test_run((char *[]){ (char *)test_bin("vioscope"), "trace", "--json", "--stages", "--",
				 (char *)test_bin("vioscope-vmm"), "--quiet", "--disk", disk,
				 "--workload", "disk dev=pv rw=randread ios=300", NULL }, &out, &err);
	unlink(img);
	rmdir(dir);
	cr_assert_eq(rc, 0, "%s", err);
	cr_assert_not_null(strstr(out, "{\"type\":\"stages\""), "%s", out);
	t = cJSON_Parse(strstr(out, "{\"type\":\"stages\""));	/* the line ends the value */
	cr_assert_not_null(t, "%s", out);
	cr_assert_not_null(strstr(cJSON_GetStringValue(cJSON_GetObjectItem(t, "kernel_events")),
				  "block_rq_issue, block_rq_complete"), "%s", out);
	d = find(cJSON_GetObjectItem(t, "devices"), "device", "virtio-blk0", NULL, NULL, NULL, NULL);
	cr_assert_not_null(d, "%s", out);
	cr_assert_geq(test_json_num(d, "blk_ios"), 0.95 * 300, "%s", out);
	cJSON_ArrayForEach(st, cJSON_GetObjectItem(d, "stages"))
		if (!strcmp(cJSON_GetStringValue(cJSON_GetObjectItem(st, "stage")), "device"))
			cr_assert_gt(test_json_num(st, "p50_ns"), 0);
	cJSON_Delete(t);
	free(out);
	free(err);
}

Test(trace, bad_usage_is_one_clear_line)
{
	char *out, *err;

	cr_assert_eq(test_run((char *[]){ (char *)test_bin("vioscope"), "trace", "--interval", "x",
					  NULL }, &out, &err), 1);
	cr_assert_eq(test_count_lines(err), 1, "%s", err);
	cr_assert_not_null(strstr(err, "--interval"));
	free(out);
	free(err);
	cr_assert_eq(test_run((char *[]){ (char *)test_bin("vioscope"), "trace", "--pid", "1", "--",
					  "true", NULL }, &out, &err), 1);
	cr_assert_not_null(strstr(err, "not both"), "%s", err);
	free(out);
	free(err);
	cr_assert_eq(test_run((char *[]){ (char *)test_bin("vioscope"), "trace", "--backend", "dtrace",
					  NULL }, &out, &err), 1);
	cr_assert_eq(test_count_lines(err), 1, "%s", err);
	free(out);
	free(err);
	cr_assert_eq(test_run((char *[]){ (char *)test_bin("vioscope"), "trace", "--pid", "2147483646",
					  NULL }, &out, &err), 1);
	cr_assert_not_null(strstr(err, "no such process"), "%s", err);
	free(out);
	free(err);
	cr_assert_eq(test_run((char *[]){ (char *)test_bin("vioscope"), "trace", "--stages",
					  NULL }, &out, &err), 1);
	cr_assert_eq(test_count_lines(err), 1, "%s", err);
	cr_assert_not_null(strstr(err, "--pid or a COMMAND"), "%s", err);
	free(out);
	free(err);
	cr_assert_eq(test_run((char *[]){ (char *)test_bin("vioscope"), "trace", "--bpf-attach",
					  "kprobe", NULL }, &out, &err), 1);
	cr_assert_eq(test_count_lines(err), 1, "%s", err);
	cr_assert_not_null(strstr(err, "--bpf-attach"), "%s", err);
	free(out);
	free(err);
	cr_assert_eq(test_run((char *[]){ (char *)test_bin("vioscope"), "trace", "--buffer", "big",
					  NULL }, &out, &err), 1);
	cr_assert_not_null(strstr(err, "--buffer"), "%s", err);
	free(out);
	free(err);
}
