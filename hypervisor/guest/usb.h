/*
 * The probe guest's USB stack: a host side as an ops table (the xHCI
 * driver, or the USB/IP channel) under the Bulk-Only mass-storage driver,
 * so the disk workload runs the same BOT code over both.
 */
#ifndef VIOSCOPE__GUEST_USB_H
#define VIOSCOPE__GUEST_USB_H

#include "hypervisor/guest/guest.h"

struct gusb_setup {
	uint8_t type, request;
	uint16_t value, index, length;
} __attribute__((packed));

struct gusb_hc {
	const char *name;
	/* A control transfer on endpoint 0: 0 with *actual, or <0 (a STALL
	 * is -2, a timeout -1). */
	int (*control)(const struct gusb_setup *s, void *buf, uint32_t *actual);
	/* A bulk transfer on the storage interface's endpoint of direction in. */
	int (*bulk)(int in, void *buf, uint32_t len, uint32_t *actual);
	/* After a STALL on a bulk endpoint: clear it on both sides (5.3.1 BOT). */
	int (*clear_halt)(int in);
	/* One transfer on the HID interface's interrupt IN endpoint: returns
	 * when the device has a report (or -1 on the watchdog's timeout). */
	int (*intr_in)(void *buf, uint32_t len, uint32_t *actual);
};

#define GUSB_STALL	-2

/* xhci.c: the first xHCI controller; the first device on its ports whose
 * interface class is want_class (8 mass storage: its bulk IN and OUT
 * endpoints; 3 HID: its interrupt IN endpoint) addressed and configured.
 * Interrupts come on `vector` (the caller's handler); waits need the LAPIC
 * watchdog running to end. */
int gxhci_init(uint8_t vector, unsigned int want_class);
extern const struct gusb_hc gxhci_hc;

/* usbip.c: the USB/IP channel (virtio-usbip): the device of bus id busid
 * ("1-1" storage, "1-2" the keyboard) imported, configured, its bulk or
 * interrupt endpoints found. */
int gusbip_init(uint8_t vector, const char *busid);
extern const struct gusb_hc gusbip_hc;

/* The first endpoint of a type (2 bulk, 3 interrupt) and direction in a
 * configuration descriptor (USB 2.0 9.6.6): its number, and optionally
 * its max packet size and bInterval. 0, or -1 when there is none. */
int gusb_find_ep(const uint8_t *cfg, unsigned int len, unsigned int type, int in,
		 unsigned int *ep, unsigned int *mps, unsigned int *interval);
/* The bulk IN and OUT endpoint numbers of a configuration descriptor. */
int gusb_find_bulk(const uint8_t *cfg, unsigned int len, unsigned int *ep_in,
		   unsigned int *ep_out);

/* bot.c: USB mass storage, Bulk-Only Transport with SCSI (INQUIRY, TEST
 * UNIT READY, READ CAPACITY(10), READ(10), WRITE(10)). */
int gbot_init(const struct gusb_hc *hc, uint64_t *capacity);
/* One command: 0, >0 a failed CSW status, <0 a transport error. */
int gbot_rw(int write, uint64_t lba, uint32_t blocks, void *buf, uint32_t bytes);

#endif
