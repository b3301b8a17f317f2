/*
 * libFuzzer target: the USB/IP server side on the mass-storage model. The
 * input is what a client sends on the connection (op request, URB headers
 * and their data), fed through a socketpair; the server must answer or drop
 * the connection, never read or write past what it checked.
 */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "hypervisor/usb/usb.h"
#include "hypervisor/usb/usbip.h"
#include "lib/log.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void *drain(void *arg)
{
	uint8_t buf[65536];
	int fd = *(int *)arg;

	while (read(fd, buf, sizeof(buf)) > 0)
		;
	return NULL;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct usb_dev *d;
	struct usbip_stats st = { 0 };
	int sv[2];
	pthread_t t;

	if (!d) {
		char why[160], path[64];

		log_level = LOG_ERR - 1;
		snprintf(path, sizeof(path), "/tmp/vioscope-fuzz-usbip-%d.img", (int)getpid());
		d = usb_storage__new(path, 1 << 20, why, sizeof(why));
		if (!d)
			abort();
		unlink(path);	/* the backend keeps it open */
	}
	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv))
		abort();
	/* The client's bytes, then its end closed: the server reads them all
	 * and meets EOF; what it answers is drained by a thread. */
	pthread_create(&t, NULL, drain, &sv[0]);
	if (size && write(sv[0], data, size) < 0)
		abort();
	shutdown(sv[0], SHUT_WR);
	usbip__serve(sv[1], d, "1-1", &st);
	close(sv[1]);
	pthread_join(t, NULL);
	close(sv[0]);
	/* A fresh device state for the next input. */
	{
		struct usb_setup s = { 0x00, 9, 0, 0, 0 };

		usb__control(d, &s, NULL);
	}
	return 0;
}
