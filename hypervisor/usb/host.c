/*
 * Pass-through of a host USB device through usbfs (libusb), the way QEMU's
 * usb-host does it: the device is opened by vendor:product, its kernel
 * driver detached, and every request the guest's driver makes is made of
 * the real device. Control requests all go to it (the standard ones too:
 * SET_CONFIGURATION, SET_INTERFACE and CLEAR_FEATURE(ENDPOINT_HALT) through
 * their libusb calls, so the host kernel's view stays right; SET_ADDRESS
 * stays with the host controller); bulk and interrupt OUT transfers are
 * synchronous; an interrupt IN transfer runs asynchronously and the
 * endpoint NAKs until it completes, when the controller is woken.
 *
 * Isochronous endpoints are not supported (transfers stall, counted).
 */
#include <errno.h>
#include <libusb.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hypervisor/usb/usb.h"

#define TIMEOUT_MS	10000
#define MAX_CONFIG	4096
#define INTR_MAX	1024

struct intr_in {
	struct libusb_transfer *xfer;
	uint8_t buf[INTR_MAX];
	bool busy, done;
	int status, actual;
};

struct usb_host {
	struct usb_dev dev;
	libusb_context *ctx;
	libusb_device_handle *h;
	uint8_t device_desc[18];
	uint8_t config_desc[MAX_CONFIG];
	uint8_t ep_type[32];		/* LIBUSB_TRANSFER_TYPE_* by endpoint address index */
	uint32_t claimed;		/* interfaces claimed */
	pthread_mutex_t lock;
	pthread_t events;
	bool stop;
	uint32_t wake;			/* endpoints whose interrupt IN completed */
	struct intr_in intr[16];
	uint64_t errors;
};

static struct usb_host *to_host(struct usb_dev *d) { return d->priv; }

static unsigned int ep_index(unsigned int ep, bool in)
{
	return (ep & 15) + (in ? 16 : 0);
}

/* Endpoint types and interfaces of the configuration descriptor. */
static void parse_config(struct usb_host *u, unsigned int *nr_intf)
{
	const uint8_t *c = u->config_desc;
	unsigned int i, len = u->dev.config_len;

	*nr_intf = len >= 9 ? c[4] : 0;
	memset(u->ep_type, 0, sizeof(u->ep_type));
	for (i = 0; i + 7 <= len && c[i] >= 2; i += c[i])
		if (c[i + 1] == LIBUSB_DT_ENDPOINT)
			u->ep_type[ep_index(c[i + 2], c[i + 2] & 0x80)] = c[i + 3] & 3;
}

static void release_all(struct usb_host *u)
{
	unsigned int i;

	for (i = 0; i < 32; i++)
		if (u->claimed & (1u << i))
			libusb_release_interface(u->h, (int)i);
	u->claimed = 0;
}

static int claim_all(struct usb_host *u)
{
	unsigned int n, i;

	parse_config(u, &n);
	for (i = 0; i < n && i < 32; i++) {
		if (libusb_claim_interface(u->h, (int)i))
			return -EPIPE;
		u->claimed |= 1u << i;
	}
	return 0;
}

static int from_libusb(struct usb_host *u, int ret)
{
	if (ret >= 0)
		return ret;
	if (ret != LIBUSB_ERROR_PIPE)
		u->errors++;		/* timeouts, a vanished device: a stall to the guest */
	return -EPIPE;
}

static int host_control(struct usb_dev *d, const struct usb_setup *s, uint8_t *data)
{
	struct usb_host *u = to_host(d);
	bool standard = (s->bmRequestType & USB_TYPE_MASK) == USB_TYPE_STANDARD;
	int ret;

	if (standard && s->bRequest == 5)		/* SET_ADDRESS: the controller's */
		return 0;
	if (standard && s->bRequest == 9 && s->bmRequestType == 0) {	/* SET_CONFIGURATION */
		release_all(u);
		ret = libusb_set_configuration(u->h, s->wValue);
		if (ret)
			return from_libusb(u, ret);
		d->config = (uint8_t)s->wValue;
		return s->wValue ? claim_all(u) : 0;
	}
	if (standard && s->bRequest == 11 && s->bmRequestType == 1)	/* SET_INTERFACE */
		return from_libusb(u, libusb_set_interface_alt_setting(u->h, s->wIndex, s->wValue));
	if (standard && s->bRequest == 1 && s->bmRequestType == 2 && s->wValue == 0)
		return from_libusb(u, libusb_clear_halt(u->h, (unsigned char)s->wIndex));
	ret = libusb_control_transfer(u->h, s->bmRequestType, s->bRequest, s->wValue, s->wIndex,
				      data, s->wLength, TIMEOUT_MS);
	return from_libusb(u, ret);
}

static void LIBUSB_CALL intr_done(struct libusb_transfer *x)
{
	struct usb_host *u = x->user_data;
	unsigned int ep = x->endpoint & 15;
	struct intr_in *q = &u->intr[ep];

	pthread_mutex_lock(&u->lock);
	q->busy = false;
	q->done = true;
	q->status = x->status;
	q->actual = x->actual_length;
	if (x->status != LIBUSB_TRANSFER_CANCELLED)
		u->wake |= 1u << ep;
	pthread_mutex_unlock(&u->lock);
}

/* Interrupt IN: a result already in, or one transfer started and a NAK. */
static int intr_in(struct usb_host *u, unsigned int ep, uint8_t *buf, uint32_t len)
{
	struct intr_in *q = &u->intr[ep];
	int ret = -EAGAIN;

	pthread_mutex_lock(&u->lock);
	if (q->done) {
		q->done = false;
		if (q->status == LIBUSB_TRANSFER_COMPLETED) {
			ret = q->actual < (int)len ? q->actual : (int)len;
			memcpy(buf, q->buf, (size_t)ret);
		} else {
			ret = -EPIPE;
			if (q->status != LIBUSB_TRANSFER_STALL)
				u->errors++;
		}
	} else if (!q->busy) {
		if (!q->xfer)
			q->xfer = libusb_alloc_transfer(0);
		if (q->xfer) {
			libusb_fill_interrupt_transfer(q->xfer, u->h, (unsigned char)(0x80 | ep), q->buf,
						       len < INTR_MAX ? (int)len : INTR_MAX, intr_done,
						       u, 0);
			q->busy = libusb_submit_transfer(q->xfer) == 0;
		}
		if (!q->busy) {
			u->errors++;
			ret = -EPIPE;
		}
	}
	pthread_mutex_unlock(&u->lock);
	return ret;
}

static int host_transfer(struct usb_dev *d, unsigned int ep, bool in, uint8_t *buf, uint32_t len)
{
	struct usb_host *u = to_host(d);
	unsigned char addr = (unsigned char)(ep | (in ? 0x80 : 0));
	int actual = 0, ret;

	switch (u->ep_type[ep_index(ep, in)]) {
	case LIBUSB_TRANSFER_TYPE_BULK:
		ret = libusb_bulk_transfer(u->h, addr, buf, (int)len, &actual, TIMEOUT_MS);
		break;
	case LIBUSB_TRANSFER_TYPE_INTERRUPT:
		if (in)
			return intr_in(u, ep, buf, len);
		ret = libusb_interrupt_transfer(u->h, addr, buf, (int)len, &actual, TIMEOUT_MS);
		break;
	default:			/* isochronous, or no such endpoint */
		u->errors++;
		return -EPIPE;
	}
	return ret ? from_libusb(u, ret) : actual;
}

/* Port reset: the real device is reset, its configuration gone. */
static void host_reset(struct usb_dev *d)
{
	struct usb_host *u = to_host(d);

	release_all(u);
	libusb_reset_device(u->h);
	d->config = 0;
}

static void *event_thread(void *opaque)
{
	struct usb_host *u = opaque;
	struct timeval tv = { 0, 100000 };

	while (!__atomic_load_n(&u->stop, __ATOMIC_ACQUIRE)) {
		uint32_t wake;
		unsigned int ep;

		libusb_handle_events_timeout_completed(u->ctx, &tv, NULL);
		/* The controller is woken here, outside libusb's event
		 * handling: its lock may be held by a vCPU in a synchronous
		 * transfer that needs these very events handled. */
		pthread_mutex_lock(&u->lock);
		wake = u->wake;
		u->wake = 0;
		pthread_mutex_unlock(&u->lock);
		for (ep = 0; wake && ep < 16; ep++)
			if ((wake & (1u << ep)) && u->dev.wakeup)
				u->dev.wakeup(u->dev.hc, &u->dev, ep);
	}
	return NULL;
}

static void host_destroy(struct usb_dev *d)
{
	struct usb_host *u = to_host(d);
	unsigned int i;

	for (i = 0; i < 16; i++)
		if (u->intr[i].busy)
			libusb_cancel_transfer(u->intr[i].xfer);
	__atomic_store_n(&u->stop, true, __ATOMIC_RELEASE);
	pthread_join(u->events, NULL);
	for (i = 0; i < 16; i++)
		if (u->intr[i].xfer)
			libusb_free_transfer(u->intr[i].xfer);
	release_all(u);
	libusb_close(u->h);
	libusb_exit(u->ctx);
	pthread_mutex_destroy(&u->lock);
	free(u);
}

static const struct usb_dev_ops host_ops = {
	.name = "usb-host",
	.control = host_control,
	.transfer = host_transfer,
	.reset = host_reset,
	.destroy = host_destroy,
};

static uint8_t speed_of(int s)
{
	switch (s) {
	case LIBUSB_SPEED_LOW: return USB_SPEED_LOW;
	case LIBUSB_SPEED_FULL: return USB_SPEED_FULL;
	case LIBUSB_SPEED_HIGH: return USB_SPEED_HIGH;
	default: return USB_SPEED_SUPER;	/* SuperSpeed and faster */
	}
}

struct usb_dev *usb_host__new(const char *spec, char *why, size_t why_len)
{
	struct usb_host *u = calloc(1, sizeof(*u));
	unsigned int vid, pid;
	int n, ret;

	if (!u) {
		snprintf(why, why_len, "out of memory");
		return NULL;
	}
	if (sscanf(spec, "%4x:%4x%n", &vid, &pid, &n) != 2 || spec[n]) {
		snprintf(why, why_len, "expected VENDOR:PRODUCT in hex, e.g. 46f4:0001");
		goto fail;
	}
	ret = libusb_init(&u->ctx);
	if (ret) {
		snprintf(why, why_len, "unavailable: libusb: %s", libusb_strerror(ret));
		goto fail;
	}
	u->h = libusb_open_device_with_vid_pid(u->ctx, (uint16_t)vid, (uint16_t)pid);
	if (!u->h) {
		snprintf(why, why_len, "unavailable: no USB device %04x:%04x on this host (or no "
			 "access to its usbfs node)", vid, pid);
		goto fail_ctx;
	}
	libusb_set_auto_detach_kernel_driver(u->h, 1);
	if (libusb_get_descriptor(u->h, LIBUSB_DT_DEVICE, 0, u->device_desc, 18) != 18 ||
	    libusb_get_descriptor(u->h, LIBUSB_DT_CONFIG, 0, u->config_desc, 9) != 9) {
		snprintf(why, why_len, "%04x:%04x: cannot read its descriptors", vid, pid);
		goto fail_close;
	}
	n = u->config_desc[2] | u->config_desc[3] << 8;
	if (n > MAX_CONFIG)
		n = MAX_CONFIG;
	n = libusb_get_descriptor(u->h, LIBUSB_DT_CONFIG, 0, u->config_desc, n);
	if (n < 9) {
		snprintf(why, why_len, "%04x:%04x: cannot read its configuration", vid, pid);
		goto fail_close;
	}
	/* Every interface's kernel driver goes now: SET_CONFIGURATION from the
	 * guest must not find the device busy. */
	for (ret = 0; ret < u->config_desc[4] && ret < 32; ret++)
		if (libusb_kernel_driver_active(u->h, ret) == 1)
			libusb_detach_kernel_driver(u->h, ret);
	pthread_mutex_init(&u->lock, NULL);
	u->dev = (struct usb_dev){ .ops = &host_ops, .device_desc = u->device_desc,
		.config_desc = u->config_desc, .config_len = (uint16_t)n, .forward = true,
		.speed = speed_of(libusb_get_device_speed(libusb_get_device(u->h))), .priv = u };
	if (pthread_create(&u->events, NULL, event_thread, u)) {
		snprintf(why, why_len, "cannot start the libusb event thread");
		pthread_mutex_destroy(&u->lock);
		goto fail_close;
	}
	return &u->dev;
fail_close:
	libusb_close(u->h);
fail_ctx:
	libusb_exit(u->ctx);
fail:
	free(u);
	return NULL;
}
