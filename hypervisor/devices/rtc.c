/*
 * MC146818 CMOS real-time clock at ports 0x70/0x71, enough for a PC guest
 * to read the date (Linux polls register A's update-in-progress bit and
 * reads the time in BCD, 24-hour mode) instead of spinning on a floating
 * bus. Time comes from the host's clock at each read; the CMOS RAM bytes
 * keep what the guest writes. No alarm or periodic interrupts.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "hypervisor/device.h"
#include "hypervisor/kvm.h"

#define RTC_PORT	0x70
#define REG_SEC		0x00
#define REG_MIN		0x02
#define REG_HOUR	0x04
#define REG_WDAY	0x06
#define REG_MDAY	0x07
#define REG_MON		0x08
#define REG_YEAR	0x09
#define REG_A		0x0a	/* bit 7: update in progress */
#define REG_B		0x0b	/* bit 2: binary (else BCD), bit 1: 24 h */
#define REG_C		0x0c	/* interrupt flags, cleared on read */
#define REG_D		0x0d	/* bit 7: valid RAM and time */
#define REG_CENTURY	0x32
#define B_24H		0x02
#define B_BINARY	0x04
#define D_VRT		0x80

struct rtc {
	pthread_mutex_t lock;
	uint8_t index;
	uint8_t cmos[128];
	struct metric_counter *reads;
};

static uint8_t rtc__enc(const struct rtc *r, int v)
{
	return (r->cmos[REG_B] & B_BINARY) ? (uint8_t)v : (uint8_t)(((v / 10) << 4) | (v % 10));
}

static uint8_t rtc__read(struct rtc *r, uint8_t reg)
{
	time_t now = time(NULL);
	struct tm tm;

	gmtime_r(&now, &tm);
	switch (reg) {
	case REG_SEC: return rtc__enc(r, tm.tm_sec);
	case REG_MIN: return rtc__enc(r, tm.tm_min);
	case REG_HOUR: return rtc__enc(r, tm.tm_hour);
	case REG_WDAY: return rtc__enc(r, tm.tm_wday + 1);
	case REG_MDAY: return rtc__enc(r, tm.tm_mday);
	case REG_MON: return rtc__enc(r, tm.tm_mon + 1);
	case REG_YEAR: return rtc__enc(r, tm.tm_year % 100);
	case REG_CENTURY: return rtc__enc(r, (tm.tm_year + 1900) / 100);
	case REG_A: return r->cmos[REG_A] & 0x7f;	/* never mid-update */
	case REG_C: return 0;
	case REG_D: return D_VRT;
	default: return r->cmos[reg];
	}
}

static void rtc__io(void *opaque, uint64_t off, void *data, uint32_t len, bool is_write)
{
	struct rtc *r = opaque;
	uint8_t *p = data;

	pthread_mutex_lock(&r->lock);
	if (off == 0) {
		/* Bit 7 of the index port is the NMI mask: ignored. */
		if (is_write)
			r->index = p[0] & 0x7f;
		else
			memset(data, 0xff, len);
	} else if (is_write) {
		if (r->index != REG_C && r->index != REG_D)
			r->cmos[r->index] = p[0];
	} else {
		counter__inc(r->reads);
		memset(data, 0, len);
		p[0] = rtc__read(r, r->index);
	}
	pthread_mutex_unlock(&r->lock);
}

static int rtc__init(struct kvm *kvm, struct device *dev, const char *args)
{
	struct rtc *r = calloc(1, sizeof(*r));

	(void)args;
	if (!r)
		return -ENOMEM;
	pthread_mutex_init(&r->lock, NULL);
	r->cmos[REG_A] = 0x26;		/* 32.768 kHz time base, 1024 Hz rate */
	r->cmos[REG_B] = B_24H;		/* BCD, 24-hour, no interrupts */
	r->reads = metrics__counter(&dev->metrics, "reads");
	dev->priv = r;
	return bus__register(&kvm->pio_bus, RTC_PORT, 2, rtc__io, r, dev->name);
}

static void rtc__exit(struct device *dev)
{
	struct rtc *r = dev->priv;

	pthread_mutex_destroy(&r->lock);
	free(r);
}

static const struct device_ops rtc_ops = {
	.name = "rtc",
	.help = "MC146818 CMOS clock at 0x70/0x71 (host time, BCD, 24 h)",
	.init = rtc__init,
	.exit = rtc__exit,
};
device_register(rtc_ops);
