/*
 * The disk class of `vioscope run`: one suite line in each mode.
 *   emul    the probe guest's AHCI driver on vioscope-vmm's AHCI model
 *   pv      its virtio-blk driver on the virtio-blk model
 *   pt      pass-through: needs VFIO, and a guest with an NVMe driver
 *           (Linux in the nested test bed: make bench-disk-nested)
 *   native  fio on the host, on the same image: the ceiling. Host I/O is
 *           so fast that the guest's I/O count would last milliseconds,
 *           which fio's millisecond clock cannot rate: it runs for
 *           native_runtime=S seconds (default 1) instead.
 * All modes use one raw image in the work directory, io_uring underneath.
 * backend_delay_us=N holds every completion of the VMM's backend N us: an
 * injected regression, to check that vioscope compare catches one.
 * With --hypervisor qemu, emul and pv are QEMU's AHCI and virtio-blk under
 * a Linux guest running fio (run_disk__qemu_fio).
 */
#include <cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/run.h"
#include "hypervisor/qemu/qemu.h"
#include "lib/file.h"
#include "lib/fio.h"
#include "lib/json.h"

#define IMAGE_SIZE "64M"

static const char *disk_unavailable(const struct run_ctx *ctx, const char *mode,
				   const char *params, char *buf,
				    size_t len)
{
	if (!strcmp(mode, "pt")) {
		if (!run__have_iommu())
			return "no IOMMU (/sys/kernel/iommu_groups is empty): VFIO pass-through "
			       "cannot run here; the nested test bed measures it "
			       "(make bench-disk-nested)";
		return "the probe guest has no NVMe driver: pass-through disks are measured "
		       "with Linux guests (make bench-disk-nested)";
	}
	if (!strcmp(mode, "native"))
		return run__have("fio") ? NULL : "fio is not installed (scripts/install-deps)";
	if (strcmp(mode, "emul") && strcmp(mode, "pv")) {
		snprintf(buf, len, "unknown mode '%s' (emul, pv, pt, native)", mode);
		return buf;
	}
	if (!strcmp(ctx->hypervisor, "qemu"))
		return run_qemu__unavailable(ctx, "disk", mode, buf, len);
	if (access("/dev/kvm", R_OK | W_OK))
		return "no usable /dev/kvm: the reference VMM needs KVM";
	return NULL;
}

static cJSON *read_json(const char *path)
{
	char *text = file__read_text(path);
	cJSON *j = text ? cJSON_Parse(text) : NULL;

	free(text);
	return j;
}

/* One probe-guest record -> metrics and samples. */
static int from_vmm(const cJSON *rec, struct run_result *r, char *why, size_t why_len)
{
	const char *status = cJSON_GetStringValue(cJSON_GetObjectItem(rec, "status"));
	const cJSON *m, *s;
	size_t n = 0;

	if (!status || strcmp(status, "ok")) {
		snprintf(why, why_len, "the guest's workload failed: %s", status ?: "no result");
		return -1;
	}
	cJSON_ArrayForEach(m, cJSON_GetObjectItem(rec, "metrics")) {
		const char *name = cJSON_GetStringValue(cJSON_GetObjectItem(m, "name"));
		const char *dir = cJSON_GetStringValue(cJSON_GetObjectItem(m, "direction"));
		double v = json__num(m, -1, "value", NULL, NULL);

		if (!name || !dir)
			continue;
		if (!strncmp(name, "verify_mismatches", 17) && v != 0) {
			snprintf(why, why_len, "%s: %g blocks (data corruption)", name, v);
			return -1;
		}
		if (!strcmp(name, "frame_mismatches") && v != 0) {
			snprintf(why, why_len, "frame_mismatches: %g pixels of the last frame (%s)", v,
				 v < 0 ? "no frame to check" : "not what the guest drew");
			return -1;
		}
		run_result__add(r, name, cJSON_GetStringValue(cJSON_GetObjectItem(m, "unit")) ?: "",
				!strcmp(dir, "higher_is_better"), v);
	}
	run_result__add(r, "exits_per_io", "count", false,
			json__num(rec, -1, "exits_per_op", "pio", NULL) +
			json__num(rec, -1, "exits_per_op", "mmio", NULL));
	s = cJSON_GetObjectItem(rec, "samples_ns");
	r->samples = malloc(((size_t)cJSON_GetArraySize(s) + 1) * sizeof(uint64_t));
	if (!r->samples)
		return -1;
	cJSON_ArrayForEach(m, s)
		r->samples[n++] = (uint64_t)m->valuedouble;
	r->nsamples = n;
	return 0;
}

/* QEMU opens an image, it does not make one: a 64 MiB file of zeros. */
static int ensure_image(const char *path, char *why, size_t why_len)
{
	int fd;

	if (!access(path, R_OK | W_OK))
		return 0;
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	if (fd < 0 || ftruncate(fd, 64 << 20)) {
		snprintf(why, why_len, "%s: %s", path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	close(fd);
	return 0;
}

/* The probe guest's workload: the line's parameters but the runner's own
 * (native_*, backend_*, qemu_*, usb_host=, hc=, gl=). */
static void guest_params(const char *params, char *out, size_t len)
{
	char copy[SUITE_PARAMS_MAX], *save, *w;
	size_t n = 0;

	snprintf(copy, sizeof(copy), "%s", params);
	out[0] = 0;
	for (w = strtok_r(copy, " \t", &save); w; w = strtok_r(NULL, " \t", &save))
		if (strncmp(w, "native_", 7) && strncmp(w, "backend_", 8) && strncmp(w, "qemu_", 5) &&
		    strncmp(w, "usb_host=", 9) && strncmp(w, "hc=", 3) && strncmp(w, "gl=", 3) &&
		    n < len)
			n += (size_t)snprintf(out + n, len - n, "%s%s", n ? " " : "", w);
}

int run_disk__vmm(const struct run_ctx *ctx, const char *class, const char *mode,
		  const struct suite_line *l, struct run_result *r, char *why, size_t why_len)
{
	bool usb = !strcmp(class, "usb") || !strcmp(class, "hid"), gfx = !strcmp(class, "gfx");
	bool virgl;
	/* The USB and display models fire no request probes: no stage view
	 * to trace (and the gfx workload takes no stamps=). */
	bool traced = ctx->trace && !usb && !gfx;
	char params[SUITE_PARAMS_MAX], delay[24], host[32] = "", gl[16] = "";
	char vmm[256], cli[256], disk[320], workload[400], json[256], log[256], trace[256];
	char *argv[24];
	cJSON *j, *rec;
	int argc = 0, rc;

	snprintf(vmm, sizeof(vmm), "%s/vioscope-vmm", ctx->bindir);
	snprintf(cli, sizeof(cli), "%s/vioscope", ctx->bindir);
	snprintf(disk, sizeof(disk), "%s:%s/disk.img,size=" IMAGE_SIZE "%s%s", mode, ctx->workdir,
		 suite__param(l->params, "backend_delay_us", delay, sizeof(delay)) ? ",delay=" : "",
		 suite__param(l->params, "backend_delay_us", delay, sizeof(delay)) ? delay : "");
	guest_params(l->params, params, sizeof(params));
	/* Traced: the guest also stamps its doorbells (driver vs notify). */
	/* pt (usb): a host device behind the xHCI, found by the same driver;
	 * gfx pv with gl=virgl: the guest's virgl stream on virtio-gpu 3D. */
	virgl = gfx && suite__param(l->params, "gl", gl, sizeof(gl)) && !strcmp(gl, "virgl");
	snprintf(workload, sizeof(workload), "%s dev=%s %s%s", class,
		 !strcmp(mode, "pt") ? "emul" : virgl ? "virgl" : mode, params,
		 traced && !strstr(params, "stamps=") ? " stamps=1" : "");
	snprintf(json, sizeof(json), "%s/vmm.json", ctx->workdir);
	snprintf(log, sizeof(log), "%s/vmm.log", ctx->workdir);
	snprintf(trace, sizeof(trace), "%s/trace.json", ctx->workdir);
	unlink(json);
	if (traced) {
		argv[argc++] = cli;
		argv[argc++] = "trace";
		argv[argc++] = "--json";
		argv[argc++] = "--stages";
		argv[argc++] = "-o";
		argv[argc++] = trace;
		argv[argc++] = "--";
	}
	argv[argc++] = vmm;
	argv[argc++] = "--quiet";
	argv[argc++] = "--samples";
	argv[argc++] = "--timeout";
	argv[argc++] = "300";
	if (usb && !strcmp(mode, "pt")) {
		suite__param(l->params, "usb_host", host, sizeof(host));
		argv[argc++] = "--usb-host";	/* alone: port 1 stays empty */
		argv[argc++] = host;
	} else if (gfx) {		/* the display offers the line's size as its one mode */
		char size[24] = "1280x720";

		suite__param(l->params, "size", size, sizeof(size));
		snprintf(r->frame, sizeof(r->frame), "%s/frame.png", ctx->workdir);
		unlink(r->frame);
		snprintf(disk, sizeof(disk), "%s:mode=%s%s,capture=%s", mode, size,
			 virgl ? ",virgl" : "", r->frame);
		argv[argc++] = "--gfx";
		argv[argc++] = disk;
	} else {
		argv[argc++] = usb ? "--usb" : "--disk";	/* xHCI or USB/IP channel */
		argv[argc++] = disk;
	}
	argv[argc++] = "--workload";
	argv[argc++] = workload;
	argv[argc++] = "--json";
	argv[argc++] = json;
	argv[argc] = NULL;
	rc = run__command(argv, log);
	j = read_json(json);
	rec = cJSON_GetArrayItem(cJSON_GetObjectItem(j, "results"), 0);
	if (rc != 0 || !rec) {
		char *text = file__read_text(log), *last = text;

		/* The VMM's (or trace's) own last line says why. */
		for (char *p = text; p && (p = strstr(p, "error: ")); p++)
			last = p;
		snprintf(why, why_len, "vioscope-vmm exited %d: %.*s", rc,
			 last ? (int)strcspn(last, "\n") : 0, last ? last : "");
		free(text);
		cJSON_Delete(j);
		return -1;
	}
	rc = from_vmm(rec, r, why, why_len);
	cJSON_Delete(j);
	if (!rc && traced)
		r->stages = file__json_line(trace, "stages");
	return rc;
}

/* fio's per-I/O total latency log (ns in fio 3.x): "msec, value, ddir, bs, ..." */
static int read_lat_log(const char *path, struct run_result *r)
{
	FILE *f = fopen(path, "r");
	size_t cap = 4096;
	unsigned long long t, v;

	if (!f)
		return -1;
	r->samples = malloc(cap * sizeof(uint64_t));
	while (r->samples && fscanf(f, "%llu, %llu, %*[^\n]\n", &t, &v) == 2) {
		if (r->nsamples == cap) {
			uint64_t *p = realloc(r->samples, cap * 2 * sizeof(uint64_t));

			if (!p)
				break;
			r->samples = p;
			cap *= 2;
		}
		r->samples[r->nsamples++] = v;
	}
	fclose(f);
	return r->samples ? 0 : -1;
}

/* fio's figures (lib/fio.c) as metrics: the same for the host and a guest. */
static int fio_metrics(const cJSON *fio, const char *rw, struct run_result *r, char *why,
		       size_t why_len)
{
	struct fio_figures f;

	if (fio__parse(fio, rw, &f, why, why_len))
		return -1;
	run_result__add(r, "iops", "IO/s", true, f.iops);
	run_result__add(r, "throughput_mib_s", "MiB/s", true, f.bw_bytes / (1 << 20));
	run_result__add(r, "io_errors", "count", false, f.errors);
	if (f.have_lat) {
		run_result__add(r, "lat_mean", "ns", false, f.lat_mean_ns);
		run_result__add(r, "lat_p50", "ns", false, f.lat_p50_ns);
		run_result__add(r, "lat_p99", "ns", false, f.lat_p99_ns);
	}
	return 0;
}

int run_disk__native(const struct run_ctx *ctx, const struct suite_line *l,
		     struct run_result *r, char *why, size_t why_len)
{
	char rw[32] = "randread", bs[32] = "4096", qd[32] = "1", secs[32] = "1", img[256];
	char a_rw[48], a_bs[48], a_qd[48], a_t[48], a_file[288], a_out[288], a_log[288], json[256];
	char log[256], lat[256];
	cJSON *j;
	int rc;

	suite__param(l->params, "rw", rw, sizeof(rw));
	suite__param(l->params, "bs", bs, sizeof(bs));
	suite__param(l->params, "iodepth", qd, sizeof(qd));
	suite__param(l->params, "native_runtime", secs, sizeof(secs));
	snprintf(img, sizeof(img), "%s/disk.img", ctx->workdir);
	snprintf(json, sizeof(json), "%s/fio.json", ctx->workdir);
	snprintf(log, sizeof(log), "%s/fio.log", ctx->workdir);
	snprintf(lat, sizeof(lat), "%s/fio_lat.1.log", ctx->workdir);
	snprintf(a_rw, sizeof(a_rw), "--rw=%s", rw);
	snprintf(a_bs, sizeof(a_bs), "--bs=%s", bs);
	snprintf(a_qd, sizeof(a_qd), "--iodepth=%s", qd);
	snprintf(a_t, sizeof(a_t), "--runtime=%s", secs);
	snprintf(a_file, sizeof(a_file), "--filename=%s", img);
	snprintf(a_out, sizeof(a_out), "--output=%s", json);
	snprintf(a_log, sizeof(a_log), "--write_lat_log=%s/fio", ctx->workdir);
	unlink(lat);
	rc = run__command((char *[]){ "/usr/bin/env", "fio", "--name=native", a_file, a_rw, a_bs,
				      a_qd, "--time_based", a_t, "--ioengine=io_uring",
				      "--size=" IMAGE_SIZE,
				      "--randrepeat=0", "--log_avg_msec=0", a_log,
				      "--output-format=json", a_out, NULL }, log);
	j = read_json(json);
	if (rc != 0 || fio_metrics(j, rw, r, why, why_len)) {
		snprintf(why, why_len, "fio exited %d (see %s)", rc, log);
		cJSON_Delete(j);
		return -1;
	}
	cJSON_Delete(j);
	if (read_lat_log(lat, r) == 0 && r->nsamples)
		return 0;
	snprintf(why, why_len, "fio wrote no latency log (%s)", lat);
	return -1;
}

int run_disk__qemu_fio(const struct run_ctx *ctx, const char *class, const char *mode,
		       const struct suite_line *l, struct run_result *r, char *why, size_t why_len)
{
	char rw[32] = "randread", bs[32] = "4096", qd[32] = "1", secs[32] = "2", job[200];
	char image[288];
	struct qemu_vm vm = { .class = class, .mode = mode, .image = image, .job = job,
			      .mem_mb = 512 };
	cJSON *j;
	int rc;

	suite__param(l->params, "rw", rw, sizeof(rw));
	suite__param(l->params, "bs", bs, sizeof(bs));
	suite__param(l->params, "iodepth", qd, sizeof(qd));
	suite__param(l->params, "qemu_runtime", secs, sizeof(secs));
	snprintf(job, sizeof(job), "vio.job=fio vio.fio=%s:%s:%s:%s%s", rw, bs, qd, secs,
		 !strcmp(class, "usb") && !strcmp(mode, "pv") ?
		 " vio.usbip=" QEMU_NET_HOST ":1-1 vio.ip=" QEMU_NET_GUEST : "");
	snprintf(image, sizeof(image), "%s/disk.img", ctx->workdir);
	if (ensure_image(image, why, why_len))
		return -1;
	j = run_qemu__boot(ctx, &vm, r, why, why_len);
	if (!j)
		return -1;
	rc = fio_metrics(cJSON_GetObjectItem(j, "result"), rw, r, why, why_len);
	cJSON_Delete(j);
	return rc;
}

static int disk_run(const struct run_ctx *ctx, const char *mode, const struct suite_line *l,
		    struct run_result *r, char *why, size_t why_len)
{
	if (!strcmp(mode, "native"))
		return run_disk__native(ctx, l, r, why, why_len);
	if (!strcmp(ctx->hypervisor, "qemu"))
		return run_disk__qemu_fio(ctx, "disk", mode, l, r, why, why_len);
	return run_disk__vmm(ctx, "disk", mode, l, r, why, why_len);
}

const struct class_runner run_disk = {
	.class = "disk",
	.headline = "iops",
	.unavailable = disk_unavailable,
	.run = disk_run,
};
