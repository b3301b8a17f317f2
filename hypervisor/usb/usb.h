/*
 * USB devices of vioscope (USB 2.0, chapter 9): a device is an ops table
 * behind the standard requests every device answers alike (usb__control),
 * so the same models serve the emulated xHCI and the USB/IP server. A
 * transfer returns the bytes moved or a negative errno: -EPIPE is a STALL
 * (the endpoint halts until CLEAR_FEATURE), -EAGAIN a NAK (nothing now).
 */
#ifndef VIOSCOPE__USB_H
#define VIOSCOPE__USB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define USB_SPEED_LOW		1	/* as Linux's enum usb_device_speed */
#define USB_SPEED_FULL		2
#define USB_SPEED_HIGH		3
#define USB_SPEED_SUPER		5
#define USB_MAX_CONTROL		4096	/* longest control data stage we take */

/* The setup packet (9.3), little-endian as on the wire. */
struct usb_setup {
	uint8_t bmRequestType;
	uint8_t bRequest;
	uint16_t wValue;
	uint16_t wIndex;
	uint16_t wLength;
} __attribute__((packed));

#define USB_DIR_IN		0x80
#define USB_TYPE_MASK		0x60
#define USB_TYPE_STANDARD	0x00
#define USB_TYPE_CLASS		0x20
#define USB_RECIP_MASK		0x1f
#define USB_RECIP_DEVICE	0x00
#define USB_RECIP_INTERFACE	0x01
#define USB_RECIP_ENDPOINT	0x02

struct usb_dev;

struct usb_dev_ops {
	const char *name;
	/* Class and vendor requests on endpoint 0: bytes returned (IN) or 0,
	 * or -EPIPE. data holds wLength bytes. */
	int (*control)(struct usb_dev *d, const struct usb_setup *s, uint8_t *data);
	/* A bulk or interrupt transfer on endpoint ep (1..15). */
	int (*transfer)(struct usb_dev *d, unsigned int ep, bool in, uint8_t *buf, uint32_t len);
	/* Bus reset or SET_CONFIGURATION: back to the idle state. */
	void (*reset)(struct usb_dev *d);
	void (*destroy)(struct usb_dev *d);
};

struct usb_dev {
	const struct usb_dev_ops *ops;
	const uint8_t *device_desc;	/* 18 bytes (9.6.1) */
	const uint8_t *config_desc;	/* the whole configuration (9.6.3) */
	uint16_t config_len;
	const char *const *strings;	/* index 1.. (0 is the language list) */
	unsigned int nr_strings;
	uint8_t speed;
	bool forward;			/* every control request to the model (pass-through) */
	uint8_t config;			/* bConfigurationValue set, 0 = none */
	uint32_t halted;		/* bit ep (OUT) and 16 + ep (IN) */
	void *priv;
	/* Set by the host controller the device is attached to: the model
	 * calls it (from any thread, holding none of its locks) when data it
	 * NAKed on endpoint ep is there now. */
	void (*wakeup)(void *hc, struct usb_dev *d, unsigned int ep);
	void *hc;
	/* counters */
	uint64_t transfers, stalls, bad_requests;
};

/* Endpoint 0: the standard requests (9.4), class/vendor to the model. */
int usb__control(struct usb_dev *d, const struct usb_setup *s, uint8_t *data);
/* A data endpoint: refused on a halted endpoint or before a configuration. */
int usb__transfer(struct usb_dev *d, unsigned int ep, bool in, uint8_t *buf, uint32_t len);
/* Halts endpoint ep (a STALL the model decided), counted. */
void usb__halt(struct usb_dev *d, unsigned int ep, bool in);
/* An IN data stage: len bytes of src, at most want of them (wLength); the
 * bytes returned. */
int usb__copy_out(uint8_t *data, uint16_t want, const void *src, size_t len);
void usb__destroy(struct usb_dev *d);

/* storage.c: a USB mass-storage device (Bulk-Only Transport, SCSI) on a
 * raw image through the shared block backend. NULL with why. */
struct usb_dev *usb_storage__new(const char *path, uint64_t create_size, char *why,
				 size_t why_len);

/* host.c: a host USB device through usbfs, "VENDOR:PRODUCT" in hex; NULL
 * with why ("unavailable: ..." when there is no such device). */
struct usb_dev *usb_host__new(const char *spec, char *why, size_t why_len);

/* hid.c: the latency keyboard (a vendor request starts its events). */
struct usb_dev *usb_hid__new(void);
void usb_hid__stats(struct usb_dev *d, uint64_t *injected, uint64_t *dropped);

/* The block backend under a storage device (the host-side verify). */
struct blk_backend *usb_storage__backend(struct usb_dev *d);

#endif /* VIOSCOPE__USB_H */
