/*
 * The USB/IP channel: the paravirtual USB path of the probe guest. The
 * guest's driver sends the USB/IP protocol's own messages (usbip.h) over
 * two virtqueues instead of a TCP connection, and every URB runs through
 * usbip__urb(), the code the TCP server runs for Linux's vhci-hcd, on the
 * same USB device models. Kicks are ioeventfds and completions MSI-X
 * irqfds: no userspace exit per URB.
 *
 * Not a standard virtio device type: vioscope's own (ID 63, PCI 1af4:107f).
 *   queue 0, control: out OP_REQ_DEVLIST or OP_REQ_IMPORT (+ busid), in
 *            the OP_REP_* reply as on TCP.
 *   queue 1, URBs: out a 48-byte USBIP_CMD_SUBMIT / CMD_UNLINK header and
 *            the OUT data; in the 48-byte RET_SUBMIT / RET_UNLINK and the
 *            IN data. The used length is what the device wrote.
 * A message that fails usbip__parse_cmd, buffers shorter than the lengths
 * they claim, or URBs before an import come back with nothing written
 * (used length 0) and a counter; nothing is allocated from a guest length.
 * A URB the device NAKs (the keyboard's interrupt endpoint before an
 * event) is held, up to MAX_PENDING, and completed when the device wakes
 * the channel: from the keyboard's thread, under the URB queue's lock.
 *
 *   --usb pv:PATH[,size=64M]   a USB mass-storage disk on the channel
 *                              (bus id 1-1), the latency keyboard (1-2)
 */
#include <cJSON.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "hypervisor/backends/blk.h"
#include "hypervisor/device.h"
#include "hypervisor/devices/disk-args.h"
#include "hypervisor/kvm.h"
#include "hypervisor/usb/usb.h"
#include "hypervisor/usb/usbip.h"
#include "hypervisor/virtio-pci.h"
#include "lib/log.h"

#define VIRTIO_ID_USBIP		63
#define QUEUE_SIZE		64
#define Q_CONTROL		0
#define Q_URB			1
#define MAX_PENDING		8

static const char *const busids[] = { "1-1", "1-2" };	/* storage, keyboard */

struct pending {
	struct virtq_req r;
	struct usbip_cmd c;
};

struct vusbip {
	struct virtio_pci vp;
	struct device *dev;
	struct usb_dev *devs[2];	/* by bus id */
	struct usb_dev *usb;		/* the one imported, or NULL */
	struct pending *pending[MAX_PENDING];
	unsigned int nr_pending;
	uint8_t *buf;			/* one URB's data, USBIP_MAX_BUFFER */
	struct usbip_stats st;
	struct metric_counter *urbs, *bad_messages, *not_imported, *held_full;
	struct metric_latency *urb_ns;
};

static uint32_t control(struct vusbip *u, struct virtq_req *r)
{
	struct iovec *in = r->iov + r->nr_out;
	uint8_t op[USBIP_OP_LEN + USBIP_BUSID_LEN], rep[USBIP_OP_LEN + USBIP_DEVICE_LEN];
	uint16_t code;
	unsigned int i;

	if (!virtq__iov_copy(r->iov, r->nr_out, 0, op, USBIP_OP_LEN, false))
		goto bad;
	code = (uint16_t)(op[2] << 8 | op[3]);
	if (code != USBIP_OP_REQ_IMPORT ||
	    !virtq__iov_copy(r->iov, r->nr_out, 0, op, sizeof(op), false) ||
	    r->in_bytes < sizeof(rep))
		goto bad;	/* the channel carries imports only: one device */
	op[sizeof(op) - 1] = 0;
	for (i = 0; i < 2 && strcmp((char *)op + USBIP_OP_LEN, busids[i]); i++)
		;
	usbip__op_header(rep, USBIP_OP_REP_IMPORT, i == 2);	/* 1: ST_NA */
	if (i == 2) {
		virtq__iov_copy(in, r->nr_in, 0, rep, USBIP_OP_LEN, true);
		return USBIP_OP_LEN;
	}
	/* One device at a time: an import replaces the last (URBs of the
	 * last one still held are answered when it wakes, or dropped). */
	u->st.imports++;
	pthread_mutex_lock(&u->vp.queues[Q_URB].lock);	/* vusbip__wakeup reads it */
	u->usb = u->devs[i];
	pthread_mutex_unlock(&u->vp.queues[Q_URB].lock);
	usbip__device_record(rep + USBIP_OP_LEN, u->usb, busids[i]);
	virtq__iov_copy(in, r->nr_in, 0, rep, sizeof(rep), true);
	return sizeof(rep);
bad:
	u->st.bad_messages++;
	counter__inc(u->bad_messages);
	return 0;
}


/* RET_SUBMIT (and IN data) into the chain; its used length. */
static uint32_t reply(struct vusbip *u, struct virtq_req *r, const struct usbip_cmd *c,
		      int32_t status, uint32_t actual)
{
	struct iovec *in = r->iov + r->nr_out;
	uint8_t hdr[USBIP_HDR_LEN];

	usbip__ret_submit(hdr, c->seqnum, status, actual);
	virtq__iov_copy(in, r->nr_in, 0, hdr, sizeof(hdr), true);
	if (c->direction != USBIP_DIR_IN || status)
		return sizeof(hdr);
	virtq__iov_copy(in, r->nr_in, USBIP_HDR_LEN, u->buf, actual, true);
	return USBIP_HDR_LEN + actual;
}

static uint32_t urb(struct vusbip *u, struct virtq_req *r)
{
	struct iovec *in = r->iov + r->nr_out;
	uint8_t hdr[USBIP_HDR_LEN];
	struct usbip_cmd c;
	uint32_t actual;
	int32_t status;
	bool dir_in;

	if (!virtq__iov_copy(r->iov, r->nr_out, 0, hdr, sizeof(hdr), false) ||
	    usbip__parse_cmd(hdr, &c) || r->in_bytes < USBIP_HDR_LEN)
		goto bad;
	if (c.command == USBIP_CMD_UNLINK) {
		/* URBs complete in order before the next is taken. */
		u->st.unlinks++;
		usbip__ret_unlink(hdr, c.seqnum, 0);
		virtq__iov_copy(in, r->nr_in, 0, hdr, sizeof(hdr), true);
		return sizeof(hdr);
	}
	dir_in = c.direction == USBIP_DIR_IN;
	/* The buffers must hold what the header claims, both ways. */
	if ((!dir_in && r->out_bytes < USBIP_HDR_LEN + (uint64_t)c.length) ||
	    (dir_in && r->in_bytes < USBIP_HDR_LEN + (uint64_t)c.length))
		goto bad;
	if (!u->usb) {
		counter__inc(u->not_imported);
		goto bad;
	}
	if (!dir_in)
		virtq__iov_copy(r->iov, r->nr_out, USBIP_HDR_LEN, u->buf, c.length, false);
	counter__inc(u->urbs);
	status = usbip__urb(u->usb, &c, u->buf, &actual, &u->st);
	if (status == -EAGAIN) {
		struct pending *p = u->nr_pending < MAX_PENDING ? malloc(sizeof(*p)) : NULL;

		if (p) {
			*p = (struct pending){ *r, c };
			u->pending[u->nr_pending++] = p;
			return VIRTIO_HELD;	/* kept: answered on wakeup */
		}
		counter__inc(u->held_full);	/* answered as the NAK it is */
	}
	return reply(u, r, &c, status, actual);
bad:
	u->st.bad_messages++;
	counter__inc(u->bad_messages);
	return 0;
}

static uint32_t vusbip__handle(struct virtio_pci *vp, unsigned int qi, struct virtq_req *r)
{
	struct vusbip *u = vp->priv;

	return qi == Q_CONTROL ? control(u, r) : urb(u, r);
}

static void vusbip__notify(struct virtio_pci *vp, unsigned int qi)
{
	struct vusbip *u = vp->priv;

	/* A malformed chain is a bad message, answered empty. */
	virtio_pci__serve(vp, qi, vusbip__handle, u->bad_messages,
			  qi == Q_URB ? u->urb_ns : NULL);
}

/* The device has data for a held URB: from the device's thread. */
static void vusbip__wakeup(void *hc, struct usb_dev *d, unsigned int ep)
{
	struct vusbip *u = hc;
	struct virtio_queue *q = &u->vp.queues[Q_URB];
	unsigned int i = 0;

	pthread_mutex_lock(&q->lock);
	while (i < u->nr_pending) {
		struct pending *p = u->pending[i];
		uint32_t actual;
		int32_t status;

		if (u->usb != d || p->c.ep != ep) {
			i++;
			continue;
		}
		status = usbip__urb(d, &p->c, u->buf, &actual, &u->st);
		if (status == -EAGAIN)
			break;		/* in order: the next waits behind it */
		if (q->enabled) {
			virtq__push(&q->vq, p->r.head, reply(u, &p->r, &p->c, status, actual));
			virtio_pci__signal(&u->vp, q);
		}
		free(p);
		memmove(&u->pending[i], &u->pending[i + 1],
			(u->nr_pending - i - 1) * sizeof(u->pending[0]));
		u->nr_pending--;
	}
	pthread_mutex_unlock(&q->lock);
}

static void vusbip__config_read(struct virtio_pci *vp, uint32_t off, void *data, uint32_t len)
{
	char busid[USBIP_BUSID_LEN] = "1-1";

	memcpy(data, busid + off, len);	/* the transport bounds off + len */
}

static void vusbip__reset(struct virtio_pci *vp)
{
	struct vusbip *u = vp->priv;
	struct virtio_queue *q = &vp->queues[Q_URB];

	pthread_mutex_lock(&q->lock);
	u->usb = NULL;
	while (u->nr_pending)		/* the rings are gone: nothing to answer */
		free(u->pending[--u->nr_pending]);
	pthread_mutex_unlock(&q->lock);
}

static const struct virtio_dev_ops vusbip_virtio_ops = {
	.name = "virtio-usbip",
	.device_id = VIRTIO_ID_USBIP,
	.class_code = 0x0c0300,		/* serial bus, USB, unspecified interface */
	.nr_queues = 2,
	.queue_max = QUEUE_SIZE,
	.config_size = USBIP_BUSID_LEN,
	.config_read = vusbip__config_read,
	.notify = vusbip__notify,
	.reset = vusbip__reset,
};

static int vusbip__init(struct kvm *kvm, struct device *dev, const char *args)
{
	struct vusbip *u = calloc(1, sizeof(*u));
	struct disk_args da;
	char why[128];

	if (!u)
		return -ENOMEM;
	dev->priv = u;
	u->dev = dev;
	u->buf = malloc(USBIP_MAX_BUFFER);
	if (!u->buf)
		return -ENOMEM;
	if (!args || disk_args__parse(args, &da)) {
		pr_err("--usb pv:%s: expected PATH[,size=64M]", args ? args : "");
		return -EINVAL;
	}
	u->devs[0] = usb_storage__new(da.path, da.size, why, sizeof(why));
	if (!u->devs[0]) {
		pr_err("--usb pv:%s: %s", args, why);
		return -EINVAL;
	}
	u->devs[1] = usb_hid__new();
	if (!u->devs[1])
		return -ENOMEM;
	u->devs[1]->wakeup = vusbip__wakeup;
	u->devs[1]->hc = u;
	u->urbs = metrics__counter(&dev->metrics, "urbs");
	u->bad_messages = metrics__counter(&dev->metrics, "bad_messages");
	u->not_imported = metrics__counter(&dev->metrics, "urbs_before_import");
	u->held_full = metrics__counter(&dev->metrics, "naks_not_held");
	u->urb_ns = metrics__latency(&dev->metrics, "urb_ns");
	return virtio_pci__init(&u->vp, kvm, dev, &vusbip_virtio_ops, u);
}

static void vusbip__exit(struct device *dev)
{
	struct vusbip *u = dev->priv;

	if (!u)
		return;
	/* The keyboard first: its thread may be waking the channel. */
	usb__destroy(u->devs[1]);
	if (u->vp.queues)
		virtio_pci__exit(&u->vp);
	usb__destroy(u->devs[0]);
	while (u->nr_pending)
		free(u->pending[--u->nr_pending]);
	free(u->buf);
	free(u);
}

static int64_t vusbip__host_verify(struct device *dev, uint32_t bs, uint64_t blocks)
{
	struct vusbip *u = dev->priv;
	struct blk_backend *b = usb_storage__backend(u->devs[0]);

	return b ? disk__host_verify(b, bs, blocks) : -1;
}

static void vusbip__to_json(struct device *dev, cJSON *obj)
{
	struct vusbip *u = dev->priv;

	cJSON_AddNumberToObject(obj, "usbip_submits", (double)u->st.submits);
	cJSON_AddNumberToObject(obj, "usbip_stalls", (double)u->st.stalls);
	cJSON_AddNumberToObject(obj, "usbip_unlinks", (double)u->st.unlinks);
}

static const struct device_ops vusbip_ops = {
	.name = "virtio-usbip",
	.help = "paravirtual USB: USB/IP messages over virtqueues, a USB disk (--usb pv:PATH)",
	.init = vusbip__init,
	.exit = vusbip__exit,
	.host_verify = vusbip__host_verify,
	.to_json = vusbip__to_json,
};
device_register(vusbip_ops);
