/*
 * A USB HID keyboard for input-latency tests (Device Class Definition for
 * HID 1.11): full speed, one interrupt IN endpoint (0x81, 32 bytes, every
 * 1 ms). Its input report is a keyboard report (modifiers, reserved, six
 * key codes: 8 bytes, HID 1.11 appendix B.1) followed by a vendor-defined
 * field of 12 bytes, the event's sequence number and the host's
 * CLOCK_MONOTONIC at injection, so a guest can tell how long the event
 * took to reach it. Events alternate key down ('a'..'z') and all keys up.
 *
 * The events are the host's: a vendor request on endpoint 0 (type vendor,
 * recipient device, bRequest 1, wValue = count, wIndex = interval in us)
 * starts a thread that injects them on an absolute schedule, whether or
 * not the guest keeps up; a report waits in a queue of HID_QUEUE (beyond,
 * dropped and counted) until the guest's interrupt transfer takes it,
 * which NAKs (-EAGAIN) while the queue is empty. Each injection wakes the
 * host controller (usb_dev.wakeup) to retry a waiting transfer.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "hypervisor/usb/usb.h"
#include "lib/clock.h"

#define EP_IN		1
#define REPORT_LEN	20
#define HID_QUEUE	64
#define REQ_START	1		/* vendor: start injecting */
#define MAX_THREADS	4		/* injecting threads alive at once (old runs ending) */
#define REQ_STOP	2

/* HID class requests (7.2) and descriptor types (7.1) */
#define REQ_GET_REPORT		0x01
#define REQ_GET_IDLE		0x02
#define REQ_GET_PROTOCOL	0x03
#define REQ_SET_REPORT		0x09
#define REQ_SET_IDLE		0x0a
#define REQ_SET_PROTOCOL	0x0b
#define DESC_HID		0x21
#define DESC_REPORT		0x22

static const uint8_t report_desc[] = {
	0x05, 0x01, 0x09, 0x06, 0xa1, 0x01,	/* Generic Desktop, Keyboard, Application */
	0x05, 0x07, 0x19, 0xe0, 0x29, 0xe7,	/*   modifier keys 224..231 */
	0x15, 0x00, 0x25, 0x01, 0x75, 0x01, 0x95, 0x08, 0x81, 0x02,
	0x95, 0x01, 0x75, 0x08, 0x81, 0x01,	/*   reserved byte */
	0x95, 0x05, 0x75, 0x01, 0x05, 0x08,	/*   five LEDs (output) */
	0x19, 0x01, 0x29, 0x05, 0x91, 0x02,
	0x95, 0x01, 0x75, 0x03, 0x91, 0x01,	/*   LED padding */
	0x95, 0x06, 0x75, 0x08, 0x15, 0x00,	/*   six key codes 0..101 */
	0x25, 0x65, 0x05, 0x07, 0x19, 0x00, 0x29, 0x65, 0x81, 0x00,
	0x06, 0x00, 0xff, 0x09, 0x01,		/*   vendor: sequence + host ns */
	0x15, 0x00, 0x26, 0xff, 0x00, 0x75, 0x08, 0x95, 12, 0x81, 0x02,
	0xc0,
};

static const uint8_t device_desc[18] = {
	18, 1, 0x00, 0x02,		/* bcdUSB 2.00 */
	0, 0, 0, 64,			/* class per interface, EP0 64 bytes */
	0x34, 0x12, 0x07, 0x71,		/* 1234:7107 (unofficial test IDs) */
	0x00, 0x01, 1, 2, 3, 1,		/* bcdDevice 1.00, strings, 1 config */
};

static const uint8_t config_desc[34] = {
	9, 2, 34, 0, 1, 1, 0, 0xa0, 50,			/* bus powered, remote wakeup */
	9, 4, 0, 0, 1, 0x03, 0x00, 0x00, 0,		/* HID, no boot subclass */
	9, DESC_HID, 0x11, 0x01, 0, 1, DESC_REPORT,	/* HID 1.11, one report descriptor */
	sizeof(report_desc), 0,
	7, 5, 0x80 | EP_IN, 3, 32, 0, 1,		/* interrupt IN, 32 bytes, 1 ms */
};

static const char *const strings[] = { "vioscope", "vioscope latency keyboard", "VIOSCOPE0002" };

struct hid {
	struct usb_dev dev;
	pthread_mutex_t lock;
	uint8_t queue[HID_QUEUE][REPORT_LEN];
	unsigned int head, count;
	uint8_t last[REPORT_LEN];	/* GET_REPORT */
	uint8_t idle, protocol, leds;
	pthread_cond_t idle_cond;
	/* A start bumps gen; an injecting thread whose gen is old ends. It is
	 * never joined from a request: the controller may hold its own lock
	 * then, which the thread's wakeup call takes. */
	uint64_t gen;
	unsigned int threads;
	uint32_t events, interval_us;
	uint64_t injected, dropped;
};

static struct hid *to_hid(struct usb_dev *d) { return d->priv; }

static void make_report(uint8_t *r, uint32_t seq, uint64_t ns)
{
	memset(r, 0, REPORT_LEN);
	if (!(seq & 1))
		r[2] = (uint8_t)(0x04 + (seq / 2) % 26);	/* usage 'a'.. */
	memcpy(r + 8, &seq, 4);
	memcpy(r + 12, &ns, 8);
}

struct inject_args {
	struct hid *h;
	uint64_t gen;
	uint32_t events, interval_us;
};

static void *inject_thread(void *opaque)
{
	struct inject_args a = *(struct inject_args *)opaque;
	struct hid *h = a.h;
	struct timespec next;
	uint32_t seq;

	free(opaque);
	clock_gettime(CLOCK_MONOTONIC, &next);
	for (seq = 0; seq < a.events; seq++) {
		bool queued;

		next.tv_nsec += (long)a.interval_us * 1000;
		while (next.tv_nsec >= 1000000000L) {
			next.tv_nsec -= 1000000000L;
			next.tv_sec++;
		}
		while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &next, NULL) == EINTR)
			;
		pthread_mutex_lock(&h->lock);
		if (h->gen != a.gen) {
			pthread_mutex_unlock(&h->lock);
			break;
		}
		queued = h->count < HID_QUEUE;
		if (queued) {
			make_report(h->queue[(h->head + h->count) % HID_QUEUE], seq, now_ns());
			h->count++;
			h->injected++;
		} else {
			h->dropped++;
		}
		pthread_mutex_unlock(&h->lock);
		if (queued && h->dev.wakeup)
			h->dev.wakeup(h->dev.hc, &h->dev, EP_IN);
	}
	pthread_mutex_lock(&h->lock);
	h->threads--;
	pthread_cond_broadcast(&h->idle_cond);
	pthread_mutex_unlock(&h->lock);
	return NULL;
}

/* Ends the injecting thread's run (it notices at its next event). */
static void hid_stop(struct hid *h)
{
	pthread_mutex_lock(&h->lock);
	h->gen++;
	pthread_mutex_unlock(&h->lock);
}

static int hid_start(struct hid *h, uint16_t count, uint16_t interval_us)
{
	struct inject_args *a = malloc(sizeof(*a));
	pthread_attr_t attr;
	pthread_t t;
	int ret;

	if (!a)
		return -EPIPE;
	pthread_mutex_lock(&h->lock);
	if (h->threads >= MAX_THREADS) {
		/* Starts faster than old runs notice their end: a guest
		 * looping on the request gets a STALL, not a thread each. */
		pthread_mutex_unlock(&h->lock);
		free(a);
		return -EPIPE;
	}
	h->gen++;
	h->head = h->count = 0;
	*a = (struct inject_args){ h, h->gen, count, interval_us ? interval_us : 1000 };
	h->events = a->events;
	h->interval_us = a->interval_us;
	h->threads++;
	pthread_mutex_unlock(&h->lock);
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	ret = pthread_create(&t, &attr, inject_thread, a);
	pthread_attr_destroy(&attr);
	if (ret) {
		free(a);
		pthread_mutex_lock(&h->lock);
		h->threads--;
		pthread_mutex_unlock(&h->lock);
		return -EPIPE;
	}
	return 0;
}

static int hid_transfer(struct usb_dev *d, unsigned int ep, bool in, uint8_t *buf, uint32_t len)
{
	struct hid *h = to_hid(d);
	uint32_t n = len < REPORT_LEN ? len : REPORT_LEN;

	if (ep != EP_IN || !in)
		return -EPIPE;
	pthread_mutex_lock(&h->lock);
	if (!h->count) {
		pthread_mutex_unlock(&h->lock);
		return -EAGAIN;		/* NAK: nothing happened yet */
	}
	memcpy(buf, h->queue[h->head], n);
	memcpy(h->last, h->queue[h->head], REPORT_LEN);
	h->head = (h->head + 1) % HID_QUEUE;
	h->count--;
	pthread_mutex_unlock(&h->lock);
	return (int)n;
}

static int hid_control(struct usb_dev *d, const struct usb_setup *s, uint8_t *data)
{
	struct hid *h = to_hid(d);
	uint8_t type = s->bmRequestType & USB_TYPE_MASK;

	if (type == USB_TYPE_STANDARD) {	/* GET_DESCRIPTOR on the interface (7.1) */
		if (s->wValue >> 8 == DESC_REPORT)
			return usb__copy_out(data, s->wLength, report_desc, sizeof(report_desc));
		if (s->wValue >> 8 == DESC_HID)
			return usb__copy_out(data, s->wLength, config_desc + 18, 9);
		return -EPIPE;
	}
	if (type == 0x40) {			/* vendor */
		if (s->bRequest == REQ_START)
			return hid_start(h, s->wValue, s->wIndex);
		if (s->bRequest == REQ_STOP) {
			hid_stop(h);
			return 0;
		}
		return -EPIPE;
	}
	switch (s->bRequest) {
	case REQ_GET_REPORT:
		return usb__copy_out(data, s->wLength, h->last, REPORT_LEN);
	case REQ_GET_IDLE:
		return usb__copy_out(data, s->wLength, &h->idle, 1);
	case REQ_GET_PROTOCOL:
		return usb__copy_out(data, s->wLength, &h->protocol, 1);
	case REQ_SET_REPORT:		/* the LEDs */
		if (s->wLength >= 1)
			h->leds = data[0];
		return 0;
	case REQ_SET_IDLE:
		h->idle = (uint8_t)(s->wValue >> 8);
		return 0;
	case REQ_SET_PROTOCOL:
		h->protocol = (uint8_t)s->wValue;
		return 0;
	}
	return -EPIPE;
}

static void hid_reset(struct usb_dev *d)
{
	struct hid *h = to_hid(d);

	pthread_mutex_lock(&h->lock);
	h->protocol = 1;		/* report protocol */
	pthread_mutex_unlock(&h->lock);
}

static void hid_destroy(struct usb_dev *d)
{
	struct hid *h = to_hid(d);

	/* Nobody holds a controller lock here: wait for the thread to go. */
	pthread_mutex_lock(&h->lock);
	h->gen++;
	while (h->threads)
		pthread_cond_wait(&h->idle_cond, &h->lock);
	pthread_mutex_unlock(&h->lock);
	pthread_mutex_destroy(&h->lock);
	pthread_cond_destroy(&h->idle_cond);
	free(h);
}

static const struct usb_dev_ops hid_ops = {
	.name = "usb-hid",
	.control = hid_control,
	.transfer = hid_transfer,
	.reset = hid_reset,
	.destroy = hid_destroy,
};

struct usb_dev *usb_hid__new(void)
{
	struct hid *h = calloc(1, sizeof(*h));

	if (!h)
		return NULL;
	pthread_mutex_init(&h->lock, NULL);
	pthread_cond_init(&h->idle_cond, NULL);
	h->protocol = 1;
	h->dev = (struct usb_dev){ .ops = &hid_ops, .device_desc = device_desc,
		.config_desc = config_desc, .config_len = sizeof(config_desc), .strings = strings,
		.nr_strings = 3, .speed = USB_SPEED_FULL, .priv = h };
	return &h->dev;
}

void usb_hid__stats(struct usb_dev *d, uint64_t *injected, uint64_t *dropped)
{
	struct hid *h = to_hid(d);

	pthread_mutex_lock(&h->lock);
	*injected = h->injected;
	*dropped = h->dropped;
	pthread_mutex_unlock(&h->lock);
}
