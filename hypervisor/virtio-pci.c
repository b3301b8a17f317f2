/*
 * Modern virtio-pci transport (virtio 1.2, section 4.1), no legacy
 * interface. BAR0 holds the common configuration (4.1.4.3), the ISR status
 * (4.1.4.5), the device configuration (4.1.4.6) and one notification
 * register per queue (4.1.4.4, notify_off_multiplier 4); BAR1 holds the
 * MSI-X table and PBA. Queue notifications are ioeventfds, so a kick costs
 * the guest no userspace exit; interrupts are MSI-X vectors through irqfds.
 * Deviation: no VIRTIO_PCI_CAP_PCI_CFG window (4.1.4.8) yet; Linux does not
 * use it.
 */
#include "hypervisor/virtio-pci.h"

#include <errno.h>
#include <linux/virtio_config.h>
#include <linux/virtio_pci.h>
#include <linux/virtio_ring.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sdt.h>

#include "hypervisor/device.h"
#include "hypervisor/kvm.h"
#include "lib/clock.h"
#include "lib/log.h"

#define VIRTIO_VENDOR		0x1af4
#define VIRTIO_DEVICE_BASE	0x1040	/* 4.1.2.1: 0x1040 + device type */
#define BAR_CFG			0
#define BAR_MSIX		1
#define BAR_CFG_SIZE		0x4000
#define OFF_COMMON		0x0000
#define OFF_ISR			0x1000
#define OFF_DEVICE		0x2000
#define OFF_NOTIFY		0x3000
#define NOTIFY_MULT		4
#define COMMON_SIZE		((uint32_t)sizeof(struct virtio_pci_common_cfg))

/* Feature bits every device here offers (6, "Reserved Feature Bits"). */
#define TRANSPORT_FEATURES	((1ULL << VIRTIO_F_VERSION_1) |			\
				 (1ULL << VIRTIO_RING_F_INDIRECT_DESC) |	\
				 (1ULL << VIRTIO_RING_F_EVENT_IDX))

static uint64_t offered(const struct virtio_pci *vp)
{
	return vp->ops->features | TRANSPORT_FEATURES;
}

bool virtio_pci__has_feature(const struct virtio_pci *vp, unsigned int bit)
{
	return vp->driver_features & (1ULL << bit);
}

int virtio_queue__pop(struct virtio_queue *q, struct virtq_req *r)
{
	int ret = q->enabled ? virtq__pop(&q->vq, r) : 0;

	if (ret == 0 && q->enabled && virtq__enable_notify(&q->vq))
		ret = virtq__pop(&q->vq, r);	/* arrived while we re-armed */
	return ret;
}

void virtio_pci__serve(struct virtio_pci *vp, unsigned int qi, virtio_handle_t handle,
		       struct metric_counter *malformed, struct metric_latency *ns)
{
	struct virtio_queue *q = &vp->queues[qi];
	struct virtq_req *r = malloc(sizeof(*r));	/* 4 KiB of iovecs: not on the stack */
	int ret;

	if (!r)
		return;
	pthread_mutex_lock(&q->lock);
	for (;;) {
		uint64_t t0 = now_ns();
		uint32_t len = 0;

		ret = virtio_queue__pop(q, r);
		if (ret == 0 || ret == -VIRTQ_ERR_HEAD)
			break;
		if (ret < 0)
			counter__inc(malformed);
		else
			len = handle(vp, qi, r);
		if (len == VIRTIO_HELD)
			continue;
		virtq__push(&q->vq, r->head, len);
		virtio_pci__signal(vp, q);
		if (ns)
			latency__record(ns, now_ns() - t0);
	}
	pthread_mutex_unlock(&q->lock);
	free(r);
}

void virtio_pci__signal(struct virtio_pci *vp, struct virtio_queue *q)
{
	if (!virtq__should_notify(&q->vq))
		return;
	__atomic_or_fetch(&vp->isr, 1, __ATOMIC_RELAXED);
	if (q->msix_vector != VIRTIO_MSI_NO_VECTOR && msix__notify(&vp->msix, q->msix_vector) == 0)
		counter__inc(vp->irqs);
	/* Without a vector the ISR bit is all there is: no INTx here. */
}

static void queue_kicked(void *opaque, uint64_t count)
{
	struct virtio_queue *q = opaque;

	(void)count;
	counter__inc(q->vp->kicks);
	DTRACE_PROBE2(vioscope, virtio_kick, q->vp->ops->device_id, q->index);
	if (q->enabled)
		q->vp->ops->notify(q->vp, q->index);
}

static uint64_t notify_addr(struct virtio_pci *vp, unsigned int q)
{
	return pci__bar_address(&vp->pci, BAR_CFG) + OFF_NOTIFY + NOTIFY_MULT * q;
}

/* Called with vp->lock held. */
static void queue_disable(struct virtio_pci *vp, struct virtio_queue *q)
{
	if (!q->enabled)
		return;
	ioeventfd__del(&q->kick);
	pthread_mutex_lock(&q->lock);
	q->enabled = false;
	pthread_mutex_unlock(&q->lock);
}

/* Called with vp->lock held. */
static void queue_enable(struct virtio_pci *vp, struct virtio_queue *q)
{
	int ret;

	if (q->enabled)
		return;
	pthread_mutex_lock(&q->lock);
	ret = virtq__init(&q->vq, vp->kvm, q->size, q->desc, q->avail, q->used,
			  virtio_pci__has_feature(vp, VIRTIO_RING_F_EVENT_IDX),
			  virtio_pci__has_feature(vp, VIRTIO_RING_F_INDIRECT_DESC));
	if (!ret)
		q->enabled = true;
	pthread_mutex_unlock(&q->lock);
	if (ret) {
		/* 2.1.2: a queue we cannot use makes the device need a reset. */
		counter__inc(vp->bad_queues);
		vp->status |= VIRTIO_CONFIG_S_NEEDS_RESET;
		pr_warn_ratelimited("%s: queue %u placed outside RAM or misaligned", vp->dev->name,
				    q->index);
		return;
	}
	/* Linux writes the queue index as 16 bits (iowrite16). */
	if (ioeventfd__add(&q->kick, vp->kvm, notify_addr(vp, q->index), 2, false,
			   queue_kicked, q))
		pr_warn("%s: queue %u: no ioeventfd, kicks will exit", vp->dev->name, q->index);
}

/* 4.1.4.3.1 / 2.4: writing 0 to device_status resets the device. */
static void device_reset(struct virtio_pci *vp)
{
	unsigned int i;

	for (i = 0; i < vp->ops->nr_queues; i++) {
		struct virtio_queue *q = &vp->queues[i];

		queue_disable(vp, q);
		q->size = vp->ops->queue_max;
		q->msix_vector = VIRTIO_MSI_NO_VECTOR;
		q->desc = q->avail = q->used = 0;
	}
	vp->driver_features = 0;
	vp->device_feature_select = vp->driver_feature_select = 0;
	vp->msix_config = VIRTIO_MSI_NO_VECTOR;
	vp->status = 0;
	vp->isr = 0;
	vp->queue_select = 0;
	if (vp->ops->reset)
		vp->ops->reset(vp);
}

static void set_status(struct virtio_pci *vp, uint8_t v)
{
	if (v == 0) {
		device_reset(vp);
		return;
	}
	/* 3.1.1: FEATURES_OK only sticks for a subset we offer, with VERSION_1. */
	if ((v & VIRTIO_CONFIG_S_FEATURES_OK) && !(vp->status & VIRTIO_CONFIG_S_FEATURES_OK) &&
	    ((vp->driver_features & ~offered(vp)) ||
	     !(vp->driver_features & (1ULL << VIRTIO_F_VERSION_1))))
		v &= (uint8_t)~VIRTIO_CONFIG_S_FEATURES_OK;
	if ((v & VIRTIO_CONFIG_S_FEATURES_OK) && !(vp->status & VIRTIO_CONFIG_S_FEATURES_OK) &&
	    vp->ops->features_ok)
		vp->ops->features_ok(vp);
	vp->status = (uint8_t)(v | (vp->status & VIRTIO_CONFIG_S_NEEDS_RESET));
}

static struct virtio_queue *selected(struct virtio_pci *vp)
{
	return vp->queue_select < vp->ops->nr_queues ? &vp->queues[vp->queue_select] : NULL;
}

/* Common configuration, field by field (struct virtio_pci_common_cfg). */
static uint64_t common_read(struct virtio_pci *vp, uint32_t off)
{
	struct virtio_queue *q = selected(vp);

	switch (off) {
	case offsetof(struct virtio_pci_common_cfg, device_feature_select):
		return vp->device_feature_select;
	case offsetof(struct virtio_pci_common_cfg, device_feature):
		return vp->device_feature_select < 2 ?
		       (uint32_t)(offered(vp) >> (32 * vp->device_feature_select)) : 0;
	case offsetof(struct virtio_pci_common_cfg, guest_feature_select):
		return vp->driver_feature_select;
	case offsetof(struct virtio_pci_common_cfg, guest_feature):
		return vp->driver_feature_select < 2 ?
		       (uint32_t)(vp->driver_features >> (32 * vp->driver_feature_select)) : 0;
	case offsetof(struct virtio_pci_common_cfg, msix_config): return vp->msix_config;
	case offsetof(struct virtio_pci_common_cfg, num_queues): return vp->ops->nr_queues;
	case offsetof(struct virtio_pci_common_cfg, device_status): return vp->status;
	case offsetof(struct virtio_pci_common_cfg, config_generation): return 0;
	case offsetof(struct virtio_pci_common_cfg, queue_select): return vp->queue_select;
	}
	if (!q)		/* 4.1.4.3.1: a queue past num_queues reads size 0 */
		return 0;
	switch (off) {
	case offsetof(struct virtio_pci_common_cfg, queue_size): return q->size;
	case offsetof(struct virtio_pci_common_cfg, queue_msix_vector): return q->msix_vector;
	case offsetof(struct virtio_pci_common_cfg, queue_enable): return q->enabled;
	case offsetof(struct virtio_pci_common_cfg, queue_notify_off): return q->index;
	case offsetof(struct virtio_pci_common_cfg, queue_desc_lo): return (uint32_t)q->desc;
	case offsetof(struct virtio_pci_common_cfg, queue_desc_hi): return q->desc >> 32;
	case offsetof(struct virtio_pci_common_cfg, queue_avail_lo): return (uint32_t)q->avail;
	case offsetof(struct virtio_pci_common_cfg, queue_avail_hi): return q->avail >> 32;
	case offsetof(struct virtio_pci_common_cfg, queue_used_lo): return (uint32_t)q->used;
	case offsetof(struct virtio_pci_common_cfg, queue_used_hi): return q->used >> 32;
	}
	return 0;
}

static void set_lo(uint64_t *v, uint32_t x) { *v = (*v & ~0xffffffffULL) | x; }
static void set_hi(uint64_t *v, uint32_t x) { *v = (*v & 0xffffffffULL) | (uint64_t)x << 32; }

static void common_write(struct virtio_pci *vp, uint32_t off, uint32_t v)
{
	struct virtio_queue *q = selected(vp);

	switch (off) {
	case offsetof(struct virtio_pci_common_cfg, device_feature_select):
		vp->device_feature_select = v;
		return;
	case offsetof(struct virtio_pci_common_cfg, guest_feature_select):
		vp->driver_feature_select = v;
		return;
	case offsetof(struct virtio_pci_common_cfg, guest_feature):
		if (vp->status & VIRTIO_CONFIG_S_FEATURES_OK)
			return;		/* 3.1.1: features are fixed once accepted */
		if (vp->driver_feature_select == 0)
			set_lo(&vp->driver_features, v);
		else if (vp->driver_feature_select == 1)
			set_hi(&vp->driver_features, v);
		return;
	case offsetof(struct virtio_pci_common_cfg, msix_config):
		vp->msix_config = (uint16_t)v;
		return;
	case offsetof(struct virtio_pci_common_cfg, device_status):
		set_status(vp, (uint8_t)v);
		return;
	case offsetof(struct virtio_pci_common_cfg, queue_select):
		vp->queue_select = (uint16_t)v;
		return;
	}
	/* 4.1.4.3.2: queue fields only change while that queue is disabled. */
	if (!q || (q->enabled && off != offsetof(struct virtio_pci_common_cfg, queue_msix_vector)))
		return;
	switch (off) {
	case offsetof(struct virtio_pci_common_cfg, queue_size):
		/* Smaller powers of two are allowed; anything else is ignored. */
		if (v && v <= vp->ops->queue_max && !(v & (v - 1)))
			q->size = (uint16_t)v;
		break;
	case offsetof(struct virtio_pci_common_cfg, queue_msix_vector):
		q->msix_vector = (uint16_t)v < vp->msix.nr ? (uint16_t)v : VIRTIO_MSI_NO_VECTOR;
		break;
	case offsetof(struct virtio_pci_common_cfg, queue_enable):
		if (v == 1)
			queue_enable(vp, q);
		break;
	case offsetof(struct virtio_pci_common_cfg, queue_desc_lo): set_lo(&q->desc, v); break;
	case offsetof(struct virtio_pci_common_cfg, queue_desc_hi): set_hi(&q->desc, v); break;
	case offsetof(struct virtio_pci_common_cfg, queue_avail_lo): set_lo(&q->avail, v); break;
	case offsetof(struct virtio_pci_common_cfg, queue_avail_hi): set_hi(&q->avail, v); break;
	case offsetof(struct virtio_pci_common_cfg, queue_used_lo): set_lo(&q->used, v); break;
	case offsetof(struct virtio_pci_common_cfg, queue_used_hi): set_hi(&q->used, v); break;
	}
}

static void bar_io(void *opaque, uint64_t off, void *data, uint32_t len, bool is_write)
{
	struct virtio_pci *vp = opaque;
	uint32_t v = 0;

	if (len > 4) {		/* 4.1.3.1: no 64-bit accesses to these registers */
		if (!is_write)
			memset(data, 0, len);
		return;
	}
	if (is_write)
		memcpy(&v, data, len);
	pthread_mutex_lock(&vp->lock);
	if (off < OFF_COMMON + COMMON_SIZE) {
		if (is_write)
			common_write(vp, (uint32_t)off, v);
		else
			v = (uint32_t)common_read(vp, (uint32_t)off);
	} else if (off == OFF_ISR && !is_write) {
		v = __atomic_exchange_n(&vp->isr, 0, __ATOMIC_RELAXED);	/* 4.1.4.5: read clears */
	} else if (off >= OFF_DEVICE && off < OFF_DEVICE + vp->ops->config_size && !is_write) {
		if (off + len <= OFF_DEVICE + vp->ops->config_size)
			vp->ops->config_read(vp, (uint32_t)(off - OFF_DEVICE), &v, len);
	} else if (off >= OFF_NOTIFY && off < OFF_NOTIFY + NOTIFY_MULT * vp->ops->nr_queues &&
		   is_write) {
		/* A kick the ioeventfd did not catch (other width, before enable). */
		unsigned int qi = (unsigned int)(off - OFF_NOTIFY) / NOTIFY_MULT;

		pthread_mutex_unlock(&vp->lock);
		queue_kicked(&vp->queues[qi], 1);
		return;
	}
	pthread_mutex_unlock(&vp->lock);
	if (!is_write)
		memcpy(data, &v, len);
}

static void add_cap(struct virtio_pci *vp, uint8_t type, uint32_t off, uint32_t len)
{
	bool notify = type == VIRTIO_PCI_CAP_NOTIFY_CFG;
	uint8_t cap = pci__add_cap(&vp->pci, PCI_CAP_ID_VNDR, notify ? 20 : 16);
	uint32_t mult = NOTIFY_MULT;

	if (!cap)
		return;
	vp->pci.cfg[cap + VIRTIO_PCI_CAP_LEN] = notify ? 20 : 16;
	vp->pci.cfg[cap + VIRTIO_PCI_CAP_CFG_TYPE] = type;
	vp->pci.cfg[cap + VIRTIO_PCI_CAP_BAR] = BAR_CFG;
	memcpy(&vp->pci.cfg[cap + VIRTIO_PCI_CAP_OFFSET], &off, 4);
	memcpy(&vp->pci.cfg[cap + VIRTIO_PCI_CAP_LENGTH], &len, 4);
	if (notify)
		memcpy(&vp->pci.cfg[cap + 16], &mult, 4);
}

static void cfg_written(struct pci_device *pdev, uint32_t off, uint32_t len)
{
	struct virtio_pci *vp = pdev->priv;

	msix__cfg_written(&vp->msix, off, len);
}

int virtio_pci__init(struct virtio_pci *vp, struct kvm *kvm, struct device *dev,
		     const struct virtio_dev_ops *ops, void *priv)
{
	unsigned int i;
	int ret;

	memset(vp, 0, sizeof(*vp));
	vp->dev = dev;
	vp->kvm = kvm;
	vp->ops = ops;
	vp->priv = priv;
	pthread_mutex_init(&vp->lock, NULL);
	vp->kicks = metrics__counter(&dev->metrics, "queue_kicks");
	vp->irqs = metrics__counter(&dev->metrics, "irqs_sent");
	vp->bad_queues = metrics__counter(&dev->metrics, "bad_queue_setups");
	vp->queues = calloc(ops->nr_queues, sizeof(*vp->queues));
	if (!vp->queues)
		return -ENOMEM;
	for (i = 0; i < ops->nr_queues; i++) {
		vp->queues[i].vp = vp;
		vp->queues[i].index = i;
		vp->queues[i].kick.fd = -1;
		pthread_mutex_init(&vp->queues[i].lock, NULL);
	}
	device_reset(vp);

	pci__device_init(&vp->pci, dev->name, VIRTIO_VENDOR,
			 (uint16_t)(VIRTIO_DEVICE_BASE + ops->device_id), ops->class_code);
	vp->pci.cfg[PCI_REVISION_ID] = 1;	/* 4.1.2.1: modern-only devices */
	vp->pci.priv = vp;
	vp->pci.cfg_written = cfg_written;
	ret = pci__add_bar(&vp->pci, BAR_CFG, BAR_CFG_SIZE, false, bar_io, vp);
	if (!ret)
		ret = pci__add_bar(&vp->pci, BAR_MSIX, 0x1000, false, msix__mmio, &vp->msix);
	if (!ret)
		ret = msix__init(&vp->msix, &vp->pci, ops->nr_queues + 1, BAR_MSIX, 0, 0x800);
	if (ret)
		return ret;
	add_cap(vp, VIRTIO_PCI_CAP_COMMON_CFG, OFF_COMMON, COMMON_SIZE);
	add_cap(vp, VIRTIO_PCI_CAP_NOTIFY_CFG, OFF_NOTIFY, NOTIFY_MULT * ops->nr_queues);
	add_cap(vp, VIRTIO_PCI_CAP_ISR_CFG, OFF_ISR, 1);
	add_cap(vp, VIRTIO_PCI_CAP_DEVICE_CFG, OFF_DEVICE, ops->config_size);
	return pci__register(&kvm->pci, &vp->pci);
}

void virtio_pci__exit(struct virtio_pci *vp)
{
	unsigned int i;

	pthread_mutex_lock(&vp->lock);
	for (i = 0; vp->queues && i < vp->ops->nr_queues; i++)
		queue_disable(vp, &vp->queues[i]);
	pthread_mutex_unlock(&vp->lock);
	msix__exit(&vp->msix);
	free(vp->queues);
}
