/*
 * The probe guest's control device: a PIO window (see guest/abi.h) through
 * which the guest returns results, switches the raw-loop phase of the
 * microbenchmarks and ends the run.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sdt.h>
#include <unistd.h>

#include "hypervisor/device.h"
#include "hypervisor/guest/abi.h"
#include "hypervisor/kvm.h"
#include "hypervisor/results.h"
#include "lib/log.h"

struct vioctl {
	struct device *dev;
	struct metric_counter *exits, *records, *phase_switches;
};

static void vioctl__io(void *opaque, uint64_t off, void *data, uint32_t len, bool is_write)
{
	struct vioctl *c = opaque;
	struct kvm *kvm = c->dev->kvm;
	uint32_t v = 0;
	char reason[64];

	counter__inc(c->exits);
	if (!is_write) {
		memset(data, 0xff, len);
		return;
	}
	memcpy(&v, data, len < 4 ? len : 4);
	switch (VIO_CTL_PORT + off) {
	case VIO_CTL_RESULT:
		if (results__add_from_guest(kvm, v) == 0)
			counter__inc(c->records);
		break;
	case VIO_CTL_BEGIN:
		results__begin(kvm);
		break;
	case VIO_CTL_RAW_ADDR:
		kvm->raw_is_pio = v < 0x10000;
		kvm->raw_addr = v;
		break;
	case VIO_CTL_PHASE:
		counter__inc(c->phase_switches);
		DTRACE_PROBE1(vioscope, guest_phase, v);
		__atomic_store_n(&kvm->raw_phase, v == VIO_PHASE_RAW && kvm->raw_addr,
				 __ATOMIC_RELAXED);
		break;
	case VIO_CTL_EXIT:
		if (v >= VIO_EXIT_EXCEPTION && v < VIO_EXIT_EXCEPTION + 32)
			snprintf(reason, sizeof(reason), "guest took exception vector %u",
				 v - VIO_EXIT_EXCEPTION);
		else
			snprintf(reason, sizeof(reason), "guest exited with status %u", v);
		kvm__request_stop(kvm, (int)(v > 255 ? 255 : v), reason);
		break;
	case VIO_CTL_LOG:
		if (kvm->cfg.console && write(STDOUT_FILENO, data, 1) < 0)
			break;
		break;
	default:
		break;
	}
}

static int vioctl__init(struct kvm *kvm, struct device *dev, const char *args)
{
	struct vioctl *c = calloc(1, sizeof(*c));

	(void)args;
	if (!c)
		return -ENOMEM;
	c->dev = dev;
	c->exits = metrics__counter(&dev->metrics, "exits");
	c->records = metrics__counter(&dev->metrics, "result_records");
	c->phase_switches = metrics__counter(&dev->metrics, "phase_switches");
	dev->priv = c;
	return bus__register(&kvm->pio_bus, VIO_CTL_PORT, VIO_CTL_LEN, vioctl__io, c, dev->name);
}

static void vioctl__exit(struct device *dev)
{
	free(dev->priv);
}

static const struct device_ops vioctl_ops = {
	.name = "vioctl",
	.help = "probe-guest control port: results channel, phases, exit",
	.init = vioctl__init,
	.exit = vioctl__exit,
};
device_register(vioctl_ops);
