/*
 * The hid workload: input events from the host to the guest.
 *   hid dev=emul|pv events=N interval=US
 * The VMM's latency keyboard (hypervisor/usb/hid.c) is found behind the
 * xHCI (dev=emul, default) or imported over the USB/IP channel (dev=pv),
 * asked by a vendor request to inject N events, one every US microseconds
 * (default 2000), and the guest keeps one interrupt IN transfer waiting,
 * as Linux's usbhid does. For each report it keeps its TSC at receipt and
 * the host's injection time the report carries; the VMM turns the pairs
 * into event -> guest delivery latencies (results.c). Sequence gaps are
 * events the keyboard dropped because the guest was not taking them.
 */
#include "hypervisor/guest/usb.h"

#define HID_VECTOR	(INTR_MSIX_BASE + 3)	/* the last of the four device gates */
#define REPORT_LEN	20
#define MAX_EVENTS	65535

static const char *const hid_args[] = { "dev", "events", "interval", NULL };
static const struct arg_choice hid_devs[] = { { "pv", 0 }, { "emul", 1 }, { 0 } };
static volatile uint64_t irqs;
static struct vio_result result;

static void on_irq(uint8_t v) { irqs++; }
static void on_tick(uint8_t v) { }

int hid_run(const char *args, const struct vio_boot_info *bi)
{
	uint64_t events = 1000, interval = 2000, *rx, *inject, expect = 0, i;
	const struct gusb_hc *hc;
	struct gusb_setup s;
	uint8_t *report;
	int dev = 1, ret;

	if (arg_check("hid", args, hid_args) ||
	    arg_choose("hid", args, "dev", hid_devs, &dev) < 0 ||
	    arg_u64("hid", args, "events", 1, MAX_EVENTS, &events) < 0 ||
	    arg_u64("hid", args, "interval", 100, 65535, &interval) < 0)
		return VIO_ERR_WORKLOAD;
	intr_set_handler(HID_VECTOR, on_irq);
	intr_set_handler(INTR_WATCHDOG, on_tick);
	lapic_timer_periodic(100000000u);	/* the drivers' waits end on it */
	hc = dev ? &gxhci_hc : &gusbip_hc;
	ret = dev ? gxhci_init(HID_VECTOR, 3) : gusbip_init(HID_VECTOR, "1-2");
	if (ret) {
		lapic_timer_stop();
		printf("guest: hid: no USB keyboard %s (%d); add --usb %s:PATH\n",
		       dev ? "behind an xHCI controller" : "on the USB/IP channel", ret,
		       dev ? "emul" : "pv");
		return VIO_ERR_NODEV;
	}
	rx = guest_alloc(events * sizeof(uint64_t));
	inject = guest_alloc(events * sizeof(uint64_t));
	report = guest_alloc(4096);
	if (!rx || !inject || !report) {
		lapic_timer_stop();
		printf("guest: hid: buffers do not fit in RAM\n");
		return VIO_ERR_NOMEM;
	}
	result = (struct vio_result){ .magic = VIO_RESULT_MAGIC, .kind = VIO_HID };
	/* Linux asks a full-speed device for its device qualifier (hub.c,
	 * check_highspeed); the keyboard has none and stalls, and the driver
	 * must carry on (EP0 reset on the xHCI). */
	s = (struct gusb_setup){ 0x80, 6, 0x0600, 0, 10 };
	if (hc->control(&s, report, 0) != GUSB_STALL) {
		lapic_timer_stop();
		printf("guest: hid: the device qualifier request did not stall as it should\n");
		return VIO_ERR_WORKLOAD;
	}
	s = (struct gusb_setup){ 0x21, 0x0a, 0, 0, 0 };	/* SET_IDLE 0, as usbhid */
	hc->control(&s, 0, 0);
	irqs = 0;
	outl(VIO_CTL_BEGIN, 0);
	result.tsc_start = rdtsc();
	s = (struct gusb_setup){ 0x40, 1, (uint16_t)events, (uint16_t)interval, 0 };
	if (hc->control(&s, 0, 0)) {
		printf("guest: hid: the keyboard refused to start\n");
		result.status = VIO_ERR_WORKLOAD;
	}
	for (i = 0; !result.status && i < events; ) {
		uint32_t got = 0, seq;

		if (hc->intr_in(report, 32, &got) || got < REPORT_LEN) {
			printf("guest: hid: no report after %lu events\n", i);
			result.status = VIO_ERR_TIMEOUT;
			break;
		}
		rx[i] = rdtsc();
		memcpy(&seq, report + 8, 4);
		memcpy(&inject[i], report + 12, 8);
		if (seq < expect) {
			result.hid.lost++;	/* never: the keyboard counts up */
			continue;
		}
		result.hid.lost += seq - expect;
		expect = seq + 1;
		i++;
		if (expect >= events)
			break;
	}
	result.tsc_end = rdtsc();
	lapic_timer_stop();
	s = (struct gusb_setup){ 0x40, 2, 0, 0, 0 };		/* stop */
	hc->control(&s, 0, 0);
	result.ops = i;
	result.measured = (struct vio_samples){ (uint64_t)rx, i };
	result.tags = (struct vio_samples){ (uint64_t)inject, i };
	result.hid.events = events;
	result.hid.received = i;
	result.hid.interrupts = irqs;
	result.hid.interval_us = (uint32_t)interval;
	result.hid.flags = dev ? VIO_HID_EMUL : 0;
	result.irq_mode = VIO_IRQ_MSIX;
	result.space = dev ? VIO_SPACE_MMIO : VIO_SPACE_NONE;
	outl(VIO_CTL_RESULT, (uint32_t)(uint64_t)&result);
	printf("guest: hid%s: %lu events, %lu lost\n", args, i, result.hid.lost);
	if (result.status)
		return (int)result.status;
	return VIO_OK;
}
