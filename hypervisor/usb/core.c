/* The standard device requests (USB 2.0, 9.4) every vioscope USB device
 * answers the same way; the model sees only class and vendor requests. */
#include "hypervisor/usb/usb.h"

#include <errno.h>
#include <string.h>

#define REQ_GET_STATUS		0
#define REQ_CLEAR_FEATURE	1
#define REQ_SET_FEATURE		3
#define REQ_SET_ADDRESS		5
#define REQ_GET_DESCRIPTOR	6
#define REQ_GET_CONFIGURATION	8
#define REQ_SET_CONFIGURATION	9
#define REQ_GET_INTERFACE	10
#define REQ_SET_INTERFACE	11
#define DESC_DEVICE		1
#define DESC_CONFIG		2
#define DESC_STRING		3
#define DESC_QUALIFIER		6
#define FEATURE_ENDPOINT_HALT	0

static uint32_t halt_bit(unsigned int ep, bool in)
{
	return 1u << ((ep & 15) + (in ? 16 : 0));
}

void usb__halt(struct usb_dev *d, unsigned int ep, bool in)
{
	d->halted |= halt_bit(ep, in);
	d->stalls++;
}

int usb__copy_out(uint8_t *data, uint16_t want, const void *src, size_t len)
{
	size_t n = len < want ? len : want;

	memcpy(data, src, n);
	return (int)n;
}

/* String descriptor i (9.6.7): UTF-16LE of an ASCII string. */
static int string_desc(const struct usb_dev *d, unsigned int i, uint8_t *data, uint16_t want)
{
	uint8_t buf[2 + 2 * 126];
	size_t n, k;

	if (i == 0)
		return usb__copy_out(data, want, (const uint8_t[]){ 4, DESC_STRING, 0x09, 0x04 }, 4);
	if (i > d->nr_strings)
		return -EPIPE;
	n = strlen(d->strings[i - 1]);
	if (n > 126)
		n = 126;
	buf[0] = (uint8_t)(2 + 2 * n);
	buf[1] = DESC_STRING;
	for (k = 0; k < n; k++) {
		buf[2 + 2 * k] = (uint8_t)d->strings[i - 1][k];
		buf[3 + 2 * k] = 0;
	}
	return usb__copy_out(data, want, buf, buf[0]);
}

static int get_descriptor(struct usb_dev *d, const struct usb_setup *s, uint8_t *data)
{
	switch (s->wValue >> 8) {
	case DESC_DEVICE:
		return usb__copy_out(data, s->wLength, d->device_desc, 18);
	case DESC_CONFIG:
		if ((s->wValue & 0xff) != 0)
			return -EPIPE;		/* one configuration */
		return usb__copy_out(data, s->wLength, d->config_desc, d->config_len);
	case DESC_STRING:
		return string_desc(d, s->wValue & 0xff, data, s->wLength);
	case DESC_QUALIFIER:		/* 9.6.2: a high-speed-only device stalls it */
	default:
		return -EPIPE;
	}
}

int usb__control(struct usb_dev *d, const struct usb_setup *s, uint8_t *data)
{
	bool in = s->bmRequestType & USB_DIR_IN;
	unsigned int ep = s->wIndex & 15;

	if (s->wLength > USB_MAX_CONTROL) {
		d->bad_requests++;
		return -EPIPE;
	}
	if (d->forward || (s->bmRequestType & USB_TYPE_MASK) != USB_TYPE_STANDARD) {
		if (!d->ops->control)
			return -EPIPE;
		return d->ops->control(d, s, data);
	}
	switch (s->bRequest) {
	case REQ_GET_DESCRIPTOR:
		/* Class descriptors of an interface (HID's) are the model's. */
		if ((s->bmRequestType & USB_RECIP_MASK) == USB_RECIP_INTERFACE)
			return in && d->ops->control ? d->ops->control(d, s, data) : -EPIPE;
		return in ? get_descriptor(d, s, data) : -EPIPE;
	case REQ_GET_CONFIGURATION:
		return usb__copy_out(data, s->wLength, &d->config, 1);
	case REQ_SET_CONFIGURATION:
		if (s->wValue > d->config_desc[5])
			return -EPIPE;
		d->config = (uint8_t)s->wValue;
		d->halted = 0;
		if (d->ops->reset)
			d->ops->reset(d);
		return 0;
	case REQ_SET_ADDRESS:		/* the host controller's business */
		return 0;
	case REQ_GET_INTERFACE:
		return usb__copy_out(data, s->wLength, (const uint8_t[]){ 0 }, 1);
	case REQ_SET_INTERFACE:		/* alternate setting 0 only */
		return s->wValue == 0 ? 0 : -EPIPE;
	case REQ_GET_STATUS: {
		uint16_t st = 0;

		if ((s->bmRequestType & USB_RECIP_MASK) == USB_RECIP_ENDPOINT)
			st = (d->halted & halt_bit(ep, s->wIndex & 0x80)) ? 1 : 0;
		return usb__copy_out(data, s->wLength, &st, 2);
	}
	case REQ_CLEAR_FEATURE:
	case REQ_SET_FEATURE:
		if ((s->bmRequestType & USB_RECIP_MASK) != USB_RECIP_ENDPOINT ||
		    s->wValue != FEATURE_ENDPOINT_HALT)
			return 0;	/* remote wakeup, test mode: nothing to do */
		if (s->bRequest == REQ_SET_FEATURE)
			d->halted |= halt_bit(ep, s->wIndex & 0x80);
		else
			d->halted &= ~halt_bit(ep, s->wIndex & 0x80);
		return 0;
	}
	d->bad_requests++;
	return -EPIPE;
}

int usb__transfer(struct usb_dev *d, unsigned int ep, bool in, uint8_t *buf, uint32_t len)
{
	int ret;

	if (ep == 0 || ep > 15 || !d->config || !d->ops->transfer) {
		d->bad_requests++;
		return -EPIPE;
	}
	if (d->halted & halt_bit(ep, in))
		return -EPIPE;
	ret = d->ops->transfer(d, ep, in, buf, len);
	if (ret >= 0)
		d->transfers++;
	return ret;
}

void usb__destroy(struct usb_dev *d)
{
	if (d && d->ops->destroy)
		d->ops->destroy(d);
}
