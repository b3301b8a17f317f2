/*
 * Just enough of the i8042 keyboard controller for a PC guest to reboot:
 * without ACPI, Linux resets the machine by writing command 0xFE (pulse
 * the reset line) to port 0x64. vioscope-vmm takes that as the end of the
 * run. There is no keyboard. The status register always reports a full
 * output buffer (bit 0) and an empty input buffer (bit 1 clear), and data
 * reads return 0xFF: Linux's i8042_flush() reads 16 bytes, concludes "No
 * controller found" and moves on, and its reboot path (which waits for
 * bit 1 to clear) writes 0xFE at once. With a status of 0, Linux instead
 * polled for output 10,000 times per command (about 2 s of boot in the
 * nested test bed, seen with vioscope trace).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "hypervisor/device.h"
#include "hypervisor/kvm.h"

#define I8042_DATA	0x60
#define I8042_CMD	0x64
#define CMD_RESET	0xfe
#define STATUS_OBF	0x01	/* output buffer full: data waits at 0x60 */

struct i8042 {
	struct device *dev;
	struct metric_counter *resets;
};

static void i8042__io(void *opaque, uint64_t off, void *data, uint32_t len, bool is_write)
{
	struct i8042 *k = opaque;

	if (!is_write) {
		/* 0x61-0x63 (port B and beyond) read as zero. */
		memset(data, off == 0 ? 0xff : 0, len);
		if (off == I8042_CMD - I8042_DATA)
			memset(data, STATUS_OBF, len);
		return;
	}
	if (off == I8042_CMD - I8042_DATA && *(uint8_t *)data == CMD_RESET) {
		counter__inc(k->resets);
		kvm__request_stop(k->dev->kvm, VMM_EXIT_OK, "guest reset the machine (i8042)");
	}
}

static int i8042__init(struct kvm *kvm, struct device *dev, const char *args)
{
	struct i8042 *k = calloc(1, sizeof(*k));

	(void)args;
	if (!k)
		return -ENOMEM;
	k->dev = dev;
	k->resets = metrics__counter(&dev->metrics, "resets");
	dev->priv = k;
	/* 0x60-0x64 as one region: 0x61 (port B) and 0x62/0x63 read as zero too. */
	return bus__register(&kvm->pio_bus, I8042_DATA, 5, i8042__io, k, dev->name);
}

static void i8042__exit(struct device *dev)
{
	free(dev->priv);
}

static const struct device_ops i8042_ops = {
	.name = "i8042",
	.help = "keyboard controller stub: the reset line (0xFE to port 0x64) ends the run",
	.init = i8042__init,
	.exit = i8042__exit,
};
device_register(i8042_ops);
