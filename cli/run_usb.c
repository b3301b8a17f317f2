/*
 * The USB class of `vioscope run`: USB mass storage, fio in a Linux guest
 * on the same image and patterns as the disk class.
 *   emul    QEMU's qemu-xhci with a usb-storage disk (Bulk-Only
 *           Transport), Linux's xhci_hcd and usb-storage
 *   pv      URB forwarding over USB/IP: the guest's vhci-hcd attaches
 *           (`usbip attach`) vioscope's usbip-server, which serves its USB
 *           mass-storage model on the same image from the host side of a
 *           TAP in the run's own namespace
 *   pt      a host USB device through usbfs (QEMU's usb-host)
 */
#include <dirent.h>
#include <stdio.h>
#include <string.h>

#include "cli/run.h"

/* Any USB device on the host (usbfs pass-through needs one). */
static bool have_usb_device(void)
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

static const char *usb_unavailable(const struct run_ctx *ctx, const char *mode,
				   const char *params, char *buf,
				   size_t len)
{
	if (!strcmp(mode, "pt"))
		return have_usb_device() ? "usbfs pass-through (QEMU usb-host) is not built yet"
					 : "no USB device on this host (/sys/bus/usb has none) to "
					   "pass through";
	if (!strcmp(mode, "native"))
		return "no USB device on this host to measure natively";
	if (strcmp(mode, "emul") && strcmp(mode, "pv")) {
		snprintf(buf, len, "unknown mode '%s' (emul, pv, pt, native)", mode);
		return buf;
	}
	if (strcmp(ctx->hypervisor, "qemu"))
		return !strcmp(mode, "pv") ? "the probe guest has no USB/IP channel yet: run it with "
					     "--hypervisor qemu (Linux's vhci-hcd)"
					   : "vioscope-vmm has no xHCI yet: run it with --hypervisor qemu";
	return run_qemu__unavailable(ctx, "usb", mode, buf, len);
}

static int usb_run(const struct run_ctx *ctx, const char *mode, const struct suite_line *l,
		   struct run_result *r, char *why, size_t why_len)
{
	return run_disk__qemu_fio(ctx, "usb", mode, l, r, why, why_len);
}

const struct class_runner run_usb = {
	.class = "usb",
	.headline = "iops",
	.unavailable = usb_unavailable,
	.run = usb_run,
};
