/*
 * The latency keyboard: the descriptors a HID driver reads (HID and
 * report descriptors through GET_DESCRIPTOR on the interface), the class
 * requests, NAKs while nothing happened, a vendor request that starts the
 * host's events (each carrying its sequence and injection time, and a
 * wakeup for the controller), and the queue that drops what the guest
 * does not take, counted.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <pthread.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "hypervisor/usb/usb.h"
#include "lib/clock.h"

static struct usb_dev *d;
static unsigned int wakeups;
static pthread_mutex_t wake_lock = PTHREAD_MUTEX_INITIALIZER;

static void on_wakeup(void *hc, struct usb_dev *dev, unsigned int ep)
{
	cr_assert_eq(hc, (void *)&wakeups);
	cr_assert_eq(dev, d);
	cr_assert_eq(ep, 1);
	pthread_mutex_lock(&wake_lock);
	wakeups++;
	pthread_mutex_unlock(&wake_lock);
}

static void setup(void)
{
	d = usb_hid__new();
	cr_assert_not_null(d);
	d->wakeup = on_wakeup;
	d->hc = &wakeups;
	wakeups = 0;
}

static void teardown(void)
{
	usb__destroy(d);
}

TestSuite(usb_hid, .init = setup, .fini = teardown);

static int control(uint8_t type, uint8_t req, uint16_t value, uint16_t index, uint16_t len,
		   uint8_t *data)
{
	struct usb_setup s = { type, req, value, index, len };

	return usb__control(d, &s, data);
}

static unsigned int woken(void)
{
	unsigned int n;

	pthread_mutex_lock(&wake_lock);
	n = wakeups;
	pthread_mutex_unlock(&wake_lock);
	return n;
}

Test(usb_hid, descriptors_and_class_requests)
{
	uint8_t buf[256];
	int n, report_len;

	n = control(0x80, 6, 0x0200, 0, 255, buf);
	cr_assert_eq(n, 34);
	cr_assert_eq(buf[9 + 5], 3, "HID interface");
	cr_assert_eq(buf[18 + 1], 0x21, "HID descriptor follows the interface");
	cr_assert_eq(buf[27 + 3] & 3, 3, "interrupt endpoint");
	cr_assert_eq(buf[27 + 2], 0x81);
	report_len = buf[18 + 7] | buf[18 + 8] << 8;	/* wDescriptorLength (HID 6.2.1) */
	n = control(0x81, 6, 0x2200, 0, 255, buf);	/* report descriptor, on the interface */
	cr_assert_eq(n, report_len);
	cr_assert_eq(buf[n - 1], 0xc0, "ends its collection");
	cr_assert_eq(control(0x81, 6, 0x2100, 0, 9, buf), 9);
	cr_assert_eq(buf[1], 0x21);
	cr_assert_eq(control(0x80, 6, 0x2200, 0, 255, buf), -EPIPE, "not a device descriptor");
	cr_assert_eq(control(0x00, 9, 1, 0, 0, NULL), 0);
	cr_assert_eq(control(0x21, 0x0a, 0, 0, 0, NULL), 0, "SET_IDLE");
	cr_assert_eq(control(0xa1, 0x03, 0, 0, 1, buf), 1, "GET_PROTOCOL");
	cr_assert_eq(buf[0], 1, "report protocol");
	buf[0] = 2;
	cr_assert_eq(control(0x21, 0x09, 0x0200, 0, 1, buf), 0, "SET_REPORT: LEDs");
	cr_assert_eq(control(0x21, 0x55, 0, 0, 0, NULL), -EPIPE);
	cr_assert_eq(control(0x40, 9, 0, 0, 0, NULL), -EPIPE, "unknown vendor request");
}

Test(usb_hid, events_carry_sequence_and_injection_time)
{
	uint8_t r[32];
	uint64_t t0 = now_ns(), ns;
	uint32_t seq;
	int i, n;

	cr_assert_eq(control(0x00, 9, 1, 0, 0, NULL), 0);
	cr_assert_eq(usb__transfer(d, 1, true, r, sizeof(r)), -EAGAIN, "NAK: nothing yet");
	cr_assert_eq(usb__transfer(d, 1, false, r, 8), -EPIPE, "no OUT endpoint");
	cr_assert_eq(control(0x40, 1, 5, 1000, 0, NULL), 0, "start: 5 events, 1 ms apart");
	for (i = 0; i < 5; i++) {
		while ((n = usb__transfer(d, 1, true, r, sizeof(r))) == -EAGAIN)
			usleep(200);
		cr_assert_eq(n, 20);
		memcpy(&seq, r + 8, 4);
		memcpy(&ns, r + 12, 8);
		cr_assert_eq(seq, (uint32_t)i);
		cr_assert(ns >= t0 && ns <= now_ns(), "injected in this test's window");
		cr_assert_eq(r[2], i % 2 ? 0 : 0x04 + i / 2, "key down, all up, ...");
	}
	usleep(5000);
	cr_assert_eq(usb__transfer(d, 1, true, r, sizeof(r)), -EAGAIN, "all five taken");
	cr_assert_eq(woken(), 5, "the controller was woken for each");
}

Test(usb_hid, a_guest_that_does_not_take_them_loses_them_counted)
{
	uint64_t injected, dropped;
	uint8_t r[32];
	int taken = 0;

	cr_assert_eq(control(0x00, 9, 1, 0, 0, NULL), 0);
	cr_assert_eq(control(0x40, 1, 100, 100, 0, NULL), 0, "100 events, 100 us apart");
	usleep(100 * 1000);
	do {
		usb_hid__stats(d, &injected, &dropped);
	} while (injected + dropped < 100 && usleep(1000) == 0);
	cr_assert_eq(injected + dropped, 100);
	cr_assert_eq(injected, 64, "the queue holds 64");
	while (usb__transfer(d, 1, true, r, sizeof(r)) == 20)
		taken++;
	cr_assert_eq(taken, 64);
	/* A stop request ends a run early; destroying the device mid-run
	 * waits for its thread (teardown). */
	cr_assert_eq(control(0x40, 1, 1000, 1000, 0, NULL), 0);
	cr_assert_eq(control(0x40, 2, 0, 0, 0, NULL), 0);
}
