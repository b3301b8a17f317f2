/*
 * The benchmark device: a PCI function whose only job is to be cheap, so
 * that what the microbenchmarks measure is the exit and notification path
 * itself. Trapped registers count accesses; doorbells are ioeventfds served
 * by the event loop; the IRQ doorbell answers with MSI-X vector 0 through an
 * irqfd, or sets the STATUS bit for a guest that polls. The IRQ_SYNC
 * registers trap instead, so the vCPU thread itself raises the interrupt:
 * the difference between the two is the cost of waking a backend thread.
 */
#include <cJSON.h>
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sdt.h>

#include "hypervisor/device.h"
#include "hypervisor/guest/abi.h"
#include "hypervisor/ioeventfd.h"
#include "hypervisor/kvm.h"
#include "hypervisor/msix.h"
#include "hypervisor/pci.h"
#include "lib/log.h"

struct bench {
	struct device *dev;
	struct pci_device pci;
	struct msix msix;
	struct ioeventfd pio_kick, pio_irq, mmio_kick, mmio_irq;
	uint32_t status;	/* bit 0: an interrupt request is pending */
	pthread_mutex_t raise_lock;	/* an interrupt and its count are one step */
	uint32_t last_value;
	struct metric_counter *pio_exits, *mmio_exits, *kicks, *irq_kicks, *irqs_sent,
		*irqs_held, *trapped_kicks;
};

static void bench__raise(struct bench *b)
{
	int ret;

	pthread_mutex_lock(&b->raise_lock);
	__atomic_or_fetch(&b->status, 1, __ATOMIC_RELEASE);
	ret = msix__notify(&b->msix, 0);
	DTRACE_PROBE2(vioscope, bench_irq, b->pci.slot, ret);
	if (ret == 0)
		counter__inc(b->irqs_sent);
	else
		counter__inc(b->irqs_held);	/* polling guest, or vector masked */
	pthread_mutex_unlock(&b->raise_lock);
}

static void bench__kick(void *opaque, uint64_t count)
{
	struct bench *b = opaque;

	DTRACE_PROBE1(vioscope, bench_kick, count);
	counter__add(b->kicks, count);
}

static void bench__irq_kick(void *opaque, uint64_t count)
{
	struct bench *b = opaque;

	counter__add(b->irq_kicks, count);
	bench__raise(b);
}

static void bench__pio(void *opaque, uint64_t off, void *data, uint32_t len, bool is_write)
{
	struct bench *b = opaque;

	counter__inc(b->pio_exits);
	if (!is_write) {
		memset(data, 0, len);
		return;
	}
	/* A doorbell write KVM did not match (other length) is served here. */
	if (off == VIO_BENCH_PIO_KICK || off == VIO_BENCH_PIO_IRQ)
		counter__inc(b->trapped_kicks);
	if (off == VIO_BENCH_PIO_KICK)
		bench__kick(b, 1);
	else if (off == VIO_BENCH_PIO_IRQ)
		bench__irq_kick(b, 1);
	else if (off == VIO_BENCH_PIO_IRQ_SYNC)
		bench__raise(b);
	else
		memcpy(&b->last_value, data, len < 4 ? len : 4);
}

static void bench__mmio(void *opaque, uint64_t off, void *data, uint32_t len, bool is_write)
{
	struct bench *b = opaque;

	counter__inc(b->mmio_exits);
	if (!is_write) {
		uint32_t v = 0;

		if (off == VIO_BENCH_MMIO_STATUS)
			v = __atomic_exchange_n(&b->status, 0, __ATOMIC_ACQ_REL);
		memset(data, 0, len);
		memcpy(data, &v, len < 4 ? len : 4);
		return;
	}
	if (off == VIO_BENCH_MMIO_KICK || off == VIO_BENCH_MMIO_IRQ)
		counter__inc(b->trapped_kicks);
	if (off == VIO_BENCH_MMIO_KICK)
		bench__kick(b, 1);
	else if (off == VIO_BENCH_MMIO_IRQ)
		bench__irq_kick(b, 1);
	else if (off == VIO_BENCH_MMIO_IRQ_SYNC)
		bench__raise(b);
	else
		memcpy(&b->last_value, data, len < 4 ? len : 4);
}

static void bench__cfg_written(struct pci_device *pdev, uint32_t off, uint32_t len)
{
	struct bench *b = pdev->priv;

	msix__cfg_written(&b->msix, off, len);
}

static int bench__init(struct kvm *kvm, struct device *dev, const char *args)
{
	struct bench *b = calloc(1, sizeof(*b));
	uint64_t pio, mmio;
	int ret;

	(void)args;
	if (!b)
		return -ENOMEM;
	b->dev = dev;
	dev->priv = b;
	pthread_mutex_init(&b->raise_lock, NULL);
	b->pio_exits = metrics__counter(&dev->metrics, "pio_exits");
	b->mmio_exits = metrics__counter(&dev->metrics, "mmio_exits");
	b->kicks = metrics__counter(&dev->metrics, "ioeventfd_kicks");
	b->irq_kicks = metrics__counter(&dev->metrics, "irq_kicks");
	b->irqs_sent = metrics__counter(&dev->metrics, "irqs_sent");
	b->irqs_held = metrics__counter(&dev->metrics, "irqs_held");
	b->trapped_kicks = metrics__counter(&dev->metrics, "trapped_kicks");

	/* Class ff: "device does not fit any defined class". */
	pci__device_init(&b->pci, dev->name, VIO_BENCH_VENDOR, VIO_BENCH_DEVICE, 0xff0000);
	b->pci.priv = b;
	b->pci.cfg_written = bench__cfg_written;
	ret = pci__add_bar(&b->pci, VIO_BENCH_PIO_BAR, VIO_BENCH_PIO_SIZE, true, bench__pio, b);
	if (!ret)
		ret = pci__add_bar(&b->pci, VIO_BENCH_MMIO_BAR, VIO_BENCH_MMIO_SIZE, false,
				   bench__mmio, b);
	if (!ret)
		ret = pci__add_bar(&b->pci, VIO_BENCH_MSIX_BAR, 0x1000, false, msix__mmio, &b->msix);
	if (!ret)
		ret = msix__init(&b->msix, &b->pci, VIO_BENCH_MSIX_VECTORS, VIO_BENCH_MSIX_BAR,
				 0, 0x800);
	if (!ret)
		ret = pci__register(&kvm->pci, &b->pci);
	if (ret)
		return ret;

	/*
	 * Doorbells sit at the firmware-assigned BAR addresses; the probe
	 * guest does not move BARs. A guest that does loses the fast path
	 * (its writes then exit and are served by the handlers above).
	 */
	pio = pci__bar_address(&b->pci, VIO_BENCH_PIO_BAR);
	mmio = pci__bar_address(&b->pci, VIO_BENCH_MMIO_BAR);
	ret = ioeventfd__add(&b->pio_kick, kvm, pio + VIO_BENCH_PIO_KICK, 4, true, bench__kick, b);
	if (!ret)
		ret = ioeventfd__add(&b->pio_irq, kvm, pio + VIO_BENCH_PIO_IRQ, 4, true,
				     bench__irq_kick, b);
	if (!ret)
		ret = ioeventfd__add(&b->mmio_kick, kvm, mmio + VIO_BENCH_MMIO_KICK, 4, false,
				     bench__kick, b);
	if (!ret)
		ret = ioeventfd__add(&b->mmio_irq, kvm, mmio + VIO_BENCH_MMIO_IRQ, 4, false,
				     bench__irq_kick, b);
	return ret;
}

static void bench__exit(struct device *dev)
{
	struct bench *b = dev->priv;

	ioeventfd__del(&b->pio_kick);
	ioeventfd__del(&b->pio_irq);
	ioeventfd__del(&b->mmio_kick);
	ioeventfd__del(&b->mmio_irq);
	msix__exit(&b->msix);
	free(b);
}

/*
 * Only the counting doorbells are flushed (flushing an IRQ doorbell would
 * inject). The guest may see an interrupt before the thread that sent it
 * has counted it: taking raise_lock waits for that count.
 */
static void bench__sync(struct device *dev)
{
	struct bench *b = dev->priv;

	ioeventfd__flush(&b->pio_kick);
	ioeventfd__flush(&b->mmio_kick);
	pthread_mutex_lock(&b->raise_lock);
	pthread_mutex_unlock(&b->raise_lock);
}

static void bench__to_json(struct device *dev, struct cJSON *obj)
{
	struct bench *b = dev->priv;
	cJSON *m = cJSON_AddObjectToObject(obj, "msix");

	cJSON_AddBoolToObject(m, "enabled", msix__enabled(&b->msix));
	cJSON_AddNumberToObject(m, "delivered", (double)b->msix.delivered);
	cJSON_AddNumberToObject(m, "held_pending", (double)b->msix.held);
	cJSON_AddNumberToObject(m, "route_errors", (double)b->msix.route_errors);
}

static const struct device_ops bench_ops = {
	.name = "bench",
	.help = "PCI benchmark device: trapped PIO/MMIO registers, ioeventfd doorbells, MSI-X",
	.init = bench__init,
	.exit = bench__exit,
	.sync = bench__sync,
	.to_json = bench__to_json,
};
device_register(bench_ops);
