/*
 * The USB class of `vioscope run`: USB mass storage on the same image and
 * patterns as the disk class.
 *   emul    vioscope-vmm: its xHCI model with the USB disk on port 1, the
 *           probe guest's xHCI and BOT drivers (workload "usb dev=emul");
 *           QEMU: qemu-xhci + usb-storage, Linux's xhci_hcd and usb-storage
 *   pv      vioscope-vmm: the USB/IP channel (virtio-usbip), the same BOT
 *           driver (workload "usb dev=pv"); QEMU: URB forwarding over
 *           USB/IP, the guest's vhci-hcd attaches (`usbip attach`)
 *           vioscope's usbip-server from the host side of a TAP in the
 *           run's own namespace
 *   pt      vioscope-vmm: a host USB mass-storage device through usbfs
 *           (libusb) behind the xHCI model, named by usb_host=VID:PID on
 *           the line (its contents are overwritten: writes and verify=1
 *           go to the real device); QEMU's usb-host is not wired
 *   native  fio on the host, on the same image: the disk-native ceiling
 *           (no USB device here to measure natively)
 * Suite parameter hc=xhci|ehci (emul's controller; default xhci): ehci is
 * QEMU's usb-ehci, the USB 2.0 controller before xHCI (vioscope-vmm has no
 * EHCI model).
 * A line with events= is the input path instead: the probe guest's hid
 * workload against the VMM's latency keyboard (behind the xHCI, or over
 * the channel), headline the delivery latency's median.
 */
#include <dirent.h>
#include <stdio.h>
#include <string.h>

#include "cli/run.h"

bool run__have_usb_device(void)
{
	DIR *d = opendir("/sys/bus/usb/devices");
	struct dirent *e;
	bool any = false;

	while (d && (e = readdir(d)))
		any |= e->d_name[0] != '.' && strncmp(e->d_name, "usb", 3) && !strchr(e->d_name, ':');
	if (d)
		closedir(d);
	return any;
}

static bool is_hid(const char *params)
{
	char v[16];

	return suite__param(params, "events", v, sizeof(v)) != NULL;
}

/* emul's controller from hc=, or NULL when it is neither. */
static const char *usb_hc(const char *params)
{
	char v[16] = "xhci";

	suite__param(params, "hc", v, sizeof(v));
	return !strcmp(v, "xhci") ? "xhci" : !strcmp(v, "ehci") ? "ehci" : NULL;
}

static const char *usb_headline(const char *params)
{
	return is_hid(params) ? "lat_p50" : "iops";
}

static const char *usb_unavailable(const struct run_ctx *ctx, const char *mode,
				   const char *params, char *buf,
				   size_t len)
{
	if (is_hid(params) && (!strcmp(mode, "native") || !strcmp(mode, "pt")))
		return "no USB input device on this host";
	if (is_hid(params) && !strcmp(ctx->hypervisor, "qemu"))
		return "the Linux guest has no input-latency job: events= lines run on vioscope-vmm";
	if (!usb_hc(params))
		return "hc= takes xhci or ehci";
	if (!strcmp(usb_hc(params), "ehci") && strcmp(mode, "emul"))
		return "hc=ehci is a controller for the emulated mode only";
	if (!strcmp(usb_hc(params), "ehci") && strcmp(ctx->hypervisor, "qemu"))
		return "vioscope-vmm has no EHCI model: hc=ehci runs with --hypervisor qemu";
	if (!strcmp(mode, "pt")) {
		char host[32];

		if (!run__have_usb_device())
			return "no USB device on this host (/sys/bus/usb has none) to pass through";
		if (!strcmp(ctx->hypervisor, "qemu"))
			return "QEMU's usb-host is not wired: pass-through runs on vioscope-vmm";
		if (!suite__param(params, "usb_host", host, sizeof(host)))
			return "name the USB disk to pass through with usb_host=VENDOR:PRODUCT on the "
			       "line (its contents are overwritten)";
		return NULL;
	}
	if (!strcmp(mode, "native"))
		return NULL;		/* fio on the image: the disk-native ceiling */
	if (strcmp(mode, "emul") && strcmp(mode, "pv")) {
		snprintf(buf, len, "unknown mode '%s' (emul, pv, pt, native)", mode);
		return buf;
	}
	if (strcmp(ctx->hypervisor, "qemu"))
		return NULL;
	return run_qemu__unavailable(ctx, "usb", mode, buf, len);
}

static int usb_run(const struct run_ctx *ctx, const char *mode, const struct suite_line *l,
		   struct run_result *r, char *why, size_t why_len)
{
	if (is_hid(l->params))
		return run_disk__vmm(ctx, "hid", mode, l, r, why, why_len);
	if (!strcmp(mode, "native"))
		return run_disk__native(ctx, l, r, why, why_len);
	if (strcmp(ctx->hypervisor, "qemu") || !strcmp(mode, "pt"))
		return run_disk__vmm(ctx, "usb", mode, l, r, why, why_len);
	return run_disk__qemu_fio(ctx, "usb", strcmp(usb_hc(l->params), "ehci") ? mode : "ehci",
				  l, r, why, why_len);
}

const struct class_runner run_usb = {
	.class = "usb",
	.headline = "iops",
	.headline_for = usb_headline,
	.unavailable = usb_unavailable,
	.run = usb_run,
};
