/*
 * The graphics class of `vioscope run`: glmark2 (glmark2-es2-drm, Mesa's
 * llvmpipe) in a Linux guest, the scenes of workloads/glmark2/scenes at
 * one resolution in every mode, so the scores compare.
 *   emul    QEMU's bochs-display, Linux's bochs DRM driver; its EDID
 *           offers the one mode size=WxH
 *   pv      QEMU's virtio-gpu-pci (2D), Linux's virtio_gpu; with gl=virgl
 *           virtio-gpu-gl-pci: Mesa's virgl driver in the guest, the GL
 *           work done by virglrenderer on the host's GL (Mesa llvmpipe
 *           here, through SDL under Xvfb: QEMU's GL displays need a
 *           render node or an X server)
 *   pt      a GPU through VFIO: no IOMMU and no GPU here
 *   native  glmark2 on the host: no DRM device here
 * Lines with pattern= are the probe guest's gfx workload on vioscope-vmm:
 * emul its bochs-display, pv its virtio-gpu (2D; gl=virgl: a virgl stream
 * rendered by virglrenderer), the display offering size= as its one mode.
 * Suite parameters: gl=soft|virgl (pv's device, above); size=WxH
 * (default 1280x720). glmark2 2023.01 renders
 * at the largest mode a connector offers, and Linux's virtio_gpu offers
 * QEMU's whole EDID list (up to 5120x2160), so the guest agent gives every
 * display one EDID with the one mode WxH (drm.edid_firmware), and the run
 * checks glmark2's surface was that size. (glmark2's --off-screen does
 * not work in its DRM build: "glwindow has never been initialized".)
 */
#include <cJSON.h>
#include <dirent.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli/run.h"
#include "hypervisor/qemu/qemu.h"
#include "lib/glmark2.h"

/* A display controller on the host's PCI bus (class 03). */
static bool have_gpu(void)
{
	DIR *d = opendir("/sys/bus/pci/devices");
	struct dirent *e;
	bool any = false;

	while (d && !any && (e = readdir(d))) {
		char path[300], class[16] = "";
		FILE *f;

		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/class", e->d_name);
		f = fopen(path, "r");
		if (f && fgets(class, sizeof(class), f))
			any = !strncmp(class, "0x03", 4);
		if (f)
			fclose(f);
	}
	if (d)
		closedir(d);
	return any;
}

/* A line with pattern= is the probe guest's gfx workload on vioscope-vmm;
 * the others are glmark2 in a Linux guest under QEMU. */
static bool is_probe(const char *params)
{
	char v[16];

	return suite__param(params, "pattern", v, sizeof(v)) != NULL;
}

static const char *gfx_headline(const char *params)
{
	return is_probe(params) ? "frames_seen_per_s" : "fps_mean";
}

static const char *gfx_unavailable(const struct run_ctx *ctx, const char *mode,
				   const char *params, char *buf,
				   size_t len)
{
	const char *why;
	char gl[16] = "";

	if (suite__param(params, "gl", gl, sizeof(gl)) && strcmp(gl, "soft") &&
	    !strcmp(mode, "emul"))
		return "gl= sets the pv display (virtio-gpu 3D); the line without it has this mode";
	if (is_probe(params)) {
		if (!strcmp(ctx->hypervisor, "qemu"))
			return "pattern= lines are the probe guest's: they run on vioscope-vmm";
		if (!strcmp(mode, "emul") || !strcmp(mode, "pv"))
			return NULL;
		if (strcmp(mode, "pt"))
			return "no display on this host to draw on natively";
		if (!have_gpu() || !run__have_iommu())
			return !have_gpu() && !run__have_iommu() ? "no GPU and no IOMMU here: nothing to pass through"
			       : !have_gpu() ? "no GPU on this host: nothing to pass through"
			       : "no IOMMU here: VFIO pass-through of the GPU cannot run";
		return "the probe guest has no driver for a real GPU: pass-through is for a Linux "
		       "guest (glmark2 lines)";
	}
	if (!strcmp(mode, "pt"))
		return run__have_iommu() ? "VFIO pass-through of a GPU is not built yet"
					 : "no IOMMU here: VFIO pass-through of a GPU cannot run";
	if (!strcmp(mode, "native"))
		return access("/dev/dri", F_OK) ? "no DRM device on this host (glmark2 needs one)"
						: "glmark2 on the host (the ceiling) is not built yet";
	if (strcmp(mode, "emul") && strcmp(mode, "pv")) {
		snprintf(buf, len, "unknown mode '%s' (emul, pv, pt, native)", mode);
		return buf;
	}
	if (strcmp(ctx->hypervisor, "qemu"))
		return "glmark2 needs a Linux guest with a DRM driver: run it with --hypervisor qemu";
	why = run_qemu__unavailable(ctx, "gfx", mode, buf, len);
	if (why)
		return why;
	if (!ctx->gfx_image)
		return "no graphics guest image: glmark2-es2-drm is not installed "
		       "(scripts/install-deps nested)";
	return NULL;
}

static int gfx_run(const struct run_ctx *ctx, const char *mode, const struct suite_line *l,
		   struct run_result *r, char *why, size_t why_len)
{
	if (is_probe(l->params))
		return run_disk__vmm(ctx, "gfx", mode, l, r, why, why_len);
	char size[24] = "1280x720", gl[16] = "soft", job[160];
	struct qemu_vm vm = { .class = "gfx", .mode = mode, .job = job, .mem_mb = 1536,
			      .initrd_name = "initrd-gfx.cpio.gz" };
	struct glmark2_figures f;
	const char *out;
	cJSON *j;
	int i;

	suite__param(l->params, "size", size, sizeof(size));
	suite__param(l->params, "gl", gl, sizeof(gl));
	if (strcmp(gl, "soft") && strcmp(gl, "virgl")) {
		snprintf(why, why_len, "gl=%s: soft or virgl", gl);
		return -1;
	}
	if (!strcmp(gl, "virgl") && !strcmp(mode, "pv")) {
		if (!run__have("xvfb-run")) {
			snprintf(why, why_len, "gl=virgl needs xvfb-run for QEMU's GL display "
				 "(scripts/install-deps nested)");
			return -1;
		}
		vm.mode = "virgl";
	}
	if (sscanf(size, "%ux%u", &vm.xres, &vm.yres) != 2 || vm.xres < 320 || vm.yres < 200 ||
	    vm.xres > 4096 || vm.yres > 2160) {
		snprintf(why, why_len, "size=%s: WxH between 320x200 and 4096x2160", size);
		return -1;
	}
	snprintf(job, sizeof(job), "vio.job=glmark2 vio.glmark2=%ux%u vio.gl=%s", vm.xres, vm.yres,
		 strcmp(vm.mode, "virgl") ? "soft" : "virgl");
	j = run_qemu__boot(ctx, &vm, r, why, why_len);
	if (!j)
		return -1;
	out = cJSON_GetStringValue(cJSON_GetObjectItem(cJSON_GetObjectItem(j, "result"), "output"));
	if (!out || glmark2__parse(out, &f, why, why_len)) {
		if (!out)
			snprintf(why, why_len, "the agent returned no glmark2 output");
		cJSON_Delete(j);
		return -1;
	}
	cJSON_Delete(j);
	if (f.width != vm.xres || f.height != vm.yres) {
		snprintf(why, why_len, "glmark2 rendered at %ux%u, not %ux%u: the display ignored "
			 "the one-mode EDID, the score would not compare", f.width, f.height,
			 vm.xres, vm.yres);
		return -1;
	}
	/* Mesa falls back to software quietly: say so rather than call it virgl. */
	if (!strcmp(vm.mode, "virgl") != !!strstr(f.renderer, "virgl")) {
		snprintf(why, why_len, "glmark2 rendered with '%s', not %s", f.renderer,
			 strcmp(vm.mode, "virgl") ? "software" : "virgl");
		return -1;
	}
	run_result__add(r, "glmark2_score", "score", true, f.score);
	run_result__add(r, "fps_mean", "frames/s", true, f.fps_mean);
	for (i = 0; i < f.nscenes && r->nm < RUN_MAX_METRICS; i++) {
		char name[40];

		snprintf(name, sizeof(name), "frame_time_%s", f.scenes[i].name);
		run_result__add(r, name, "ms", false, f.scenes[i].frame_time_ms);
	}
	return 0;
}

const struct class_runner run_gfx = {
	.class = "gfx",
	.headline = "fps_mean",
	.headline_for = gfx_headline,
	.unavailable = gfx_unavailable,
	.run = gfx_run,
};
