/*
 * virtio-net (virtio 1.2, section 5.1) on the modern virtio-pci transport,
 * on the shared NIC backend (a TAP with a virtio-net header). Queues:
 * 0 receiveq, 1 transmitq, 2 controlq (5.1.2). Transmit kicks arrive on
 * an ioeventfd and are handled on the event loop; packets for the guest
 * are read there too, when the backend is readable or the driver adds
 * receive buffers. Offered: MAC, STATUS, mergeable receive buffers
 * (5.1.6.3.2), the control queue with the RX-mode class, and checksum and
 * TSO offloads both ways, which the TAP's kernel side carries out.
 *
 * The guest is untrusted: a transmit chain that is too short or too long,
 * writable, or whose header asks for an offload not negotiated is
 * dropped and counted; a receive buffer that is not writable is returned
 * empty; none of it stops the device.
 *
 *   --net pv:tap=IFNAME[,mac=...] | pv:fd=N[,mac=...]
 */
#include <cJSON.h>
#include <errno.h>
#include <linux/if_tun.h>
#include <linux/virtio_ids.h>
#include <linux/virtio_net.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/sdt.h>

#include "hypervisor/backends/net.h"
#include "hypervisor/device.h"
#include "hypervisor/evloop.h"
#include "hypervisor/kvm.h"
#include "hypervisor/reqtrace.h"
#include "hypervisor/virtio-pci.h"
#include "lib/log.h"

#define RXQ		0
#define TXQ		1
#define CTRLQ		2
#define QUEUE_SIZE	256
#define RX_STASH	64	/* buffers one packet may take (mergeable) */
#define RX_BATCH	32	/* packets between two receive interrupts */
#define PKT_MAX		(NET_HDR_LEN + NET_FRAME_MAX)

#define OFFLOADS	((1ULL << VIRTIO_NET_F_CSUM) | (1ULL << VIRTIO_NET_F_GUEST_CSUM) |	\
			 (1ULL << VIRTIO_NET_F_HOST_TSO4) | (1ULL << VIRTIO_NET_F_HOST_TSO6) |	\
			 (1ULL << VIRTIO_NET_F_GUEST_TSO4) | (1ULL << VIRTIO_NET_F_GUEST_TSO6))

struct vnet {
	struct device *dev;
	struct virtio_pci vp;
	struct net_backend be;
	/* Receive side, under the receive queue's lock: one packet read from
	 * the backend and not yet delivered, and the buffers taken for it. */
	uint8_t *pkt;
	size_t pkt_len;
	struct virtq_req *stash;
	unsigned int nr_stash;
	uint64_t stash_bytes;
	struct metric_counter *tx_packets, *tx_bytes, *rx_packets, *rx_bytes;
	struct metric_counter *tx_bad, *tx_dropped, *rx_bad_buffers, *rx_dropped, *rx_stalls;
	struct metric_counter *ctrl_commands, *ctrl_errors;
};

static void vnet__config_read(struct virtio_pci *vp, uint32_t off, void *data, uint32_t len)
{
	struct vnet *vn = vp->priv;
	struct virtio_net_config cfg = { .status = VIRTIO_NET_S_LINK_UP };

	memcpy(cfg.mac, vn->be.mac, 6);
	if (off + len <= sizeof(cfg))
		memcpy(data, (uint8_t *)&cfg + off, len);
}

/* Copies len bytes of src into the chain's writable buffers. */
static void copy_to_chain(const struct virtq_req *r, const uint8_t *src, uint64_t len)
{
	virtq__iov_copy(r->iov + r->nr_out, r->nr_in, 0, (void *)src, len, true);
}

/* Gives a buffer back unused (5.1.6.4: the driver drops a short one). */
static void give_back(struct virtq *vq, uint16_t head)
{
	virtq__push(vq, head, 0);
}

/*
 * Delivers vn->pkt into receive buffers. 1 delivered, 0 no buffers yet
 * (the packet waits), -1 dropped: it does not fit the buffers the driver
 * gives (one chain without mergeable buffers, else RX_STASH of them).
 */
static int vnet__rx_one(struct vnet *vn, struct virtio_queue *q)
{
	bool mrg = virtio_pci__has_feature(&vn->vp, VIRTIO_NET_F_MRG_RXBUF);
	unsigned int i, nr;
	uint64_t off, left;
	uint16_t n16;

	while (vn->stash_bytes < vn->pkt_len && vn->nr_stash < (mrg ? RX_STASH : 1)) {
		struct virtq_req *r = &vn->stash[vn->nr_stash];
		int ret = virtq__pop(&q->vq, r);

		if (ret == 0 && virtq__enable_notify(&q->vq))
			continue;	/* added while we re-armed */
		if (ret == 0)
			return 0;
		if (ret < 0 || r->nr_out || r->in_bytes < NET_HDR_LEN) {
			counter__inc(vn->rx_bad_buffers);
			if (ret != -VIRTQ_ERR_HEAD)
				give_back(&q->vq, r->head);
			continue;
		}
		vn->stash_bytes += r->in_bytes;
		vn->nr_stash++;
	}
	if (vn->stash_bytes < vn->pkt_len) {
		/* Too small for it: the buffers go back empty (counted by the
		 * driver as length errors), not held for a packet that fits. */
		counter__inc(vn->rx_dropped);
		for (i = 0; i < vn->nr_stash; i++)
			give_back(&q->vq, vn->stash[i].head);
		vn->stash_bytes = 0;
		vn->nr_stash = 0;
		return -1;
	}
	/* num_buffers (5.1.6.4): counted before the header is copied. */
	for (nr = 0, left = vn->pkt_len; left; nr++)
		left -= vn->stash[nr].in_bytes < left ? vn->stash[nr].in_bytes : left;
	n16 = (uint16_t)nr;
	memcpy(vn->pkt + offsetof(struct virtio_net_hdr_v1, num_buffers), &n16, 2);
	for (i = 0, off = 0; i < nr; i++) {
		uint64_t k = vn->pkt_len - off < vn->stash[i].in_bytes ?
			     vn->pkt_len - off : vn->stash[i].in_bytes;

		copy_to_chain(&vn->stash[i], vn->pkt + off, k);
		virtq__push(&q->vq, vn->stash[i].head, (uint32_t)k);
		off += k;
	}
	DTRACE_PROBE3(vioscope, net_rx, vn->dev->id, vn->pkt_len - NET_HDR_LEN, nr);
	counter__inc(vn->rx_packets);
	counter__add(vn->rx_bytes, vn->pkt_len - NET_HDR_LEN);
	vn->stash_bytes = 0;
	vn->nr_stash = 0;
	return 1;
}

/* Moves packets from the backend to the guest while it has buffers. Runs
 * on the event loop (backend readable, receive queue kicked). */
static void vnet__rx(struct vnet *vn)
{
	struct virtio_queue *q = &vn->vp.queues[RXQ];
	unsigned int batch = 0;

	pthread_mutex_lock(&q->lock);
	while (q->enabled) {
		int ret;

		if (!vn->pkt_len) {
			ssize_t n = net_backend__recv(&vn->be, vn->pkt, PKT_MAX);

			if (n < 0)
				break;		/* EAGAIN: the edge re-arms on the next packet */
			if (n < NET_HDR_LEN + NET_ETH_HLEN) {
				counter__inc(vn->rx_dropped);
				continue;
			}
			vn->pkt_len = (size_t)n;
		}
		ret = vnet__rx_one(vn, q);
		if (ret == 0) {
			counter__inc(vn->rx_stalls);	/* resumes on the next kick */
			break;
		}
		vn->pkt_len = 0;
		if (++batch == RX_BATCH) {
			virtio_pci__signal(&vn->vp, q);
			batch = 0;
		}
	}
	if (batch)
		virtio_pci__signal(&vn->vp, q);
	pthread_mutex_unlock(&q->lock);
}

static void vnet__backend_ready(void *opaque, int fd, uint32_t events)
{
	(void)fd;
	(void)events;
	vnet__rx(opaque);
}

/*
 * The header the driver wrote (5.1.6.2): offloads only as negotiated.
 * The TAP checks the offsets against the packet itself.
 */
static bool tx_header_ok(struct vnet *vn, const struct virtio_net_hdr_v1 *h)
{
	uint8_t gso = h->gso_type & ~VIRTIO_NET_HDR_GSO_ECN;

	if (h->flags & ~(VIRTIO_NET_HDR_F_NEEDS_CSUM | VIRTIO_NET_HDR_F_DATA_VALID))
		return false;
	if ((h->flags & VIRTIO_NET_HDR_F_NEEDS_CSUM) &&
	    !virtio_pci__has_feature(&vn->vp, VIRTIO_NET_F_CSUM))
		return false;
	if ((h->gso_type & VIRTIO_NET_HDR_GSO_ECN) &&
	    !virtio_pci__has_feature(&vn->vp, VIRTIO_NET_F_HOST_ECN))
		return false;
	switch (gso) {
	case VIRTIO_NET_HDR_GSO_NONE:
		return true;
	case VIRTIO_NET_HDR_GSO_TCPV4:
		return virtio_pci__has_feature(&vn->vp, VIRTIO_NET_F_HOST_TSO4) && h->gso_size;
	case VIRTIO_NET_HDR_GSO_TCPV6:
		return virtio_pci__has_feature(&vn->vp, VIRTIO_NET_F_HOST_TSO6) && h->gso_size;
	}
	return false;
}

/* One transmit chain: header then frame, all readable (5.1.6.2). The
 * header is copied out first, so the guest cannot change it after the
 * check; the frame goes to the backend straight from guest RAM. */
static void vnet__tx_one(struct vnet *vn, const struct virtq_req *r, uint64_t doorbell_ns)
{
	struct iovec iov[VIRTQ_MAX_SEGS + 1];
	struct virtio_net_hdr_v1 hdr;
	uint64_t skip = NET_HDR_LEN, got = 0, id;
	unsigned int i, n = 1;
	ssize_t ret;

	if (r->nr_in || r->out_bytes < NET_HDR_LEN + NET_ETH_HLEN ||
	    r->out_bytes > NET_HDR_LEN + NET_FRAME_MAX) {
		counter__inc(vn->tx_bad);
		return;
	}
	for (i = 0; i < r->nr_out; i++) {
		uint64_t len = r->iov[i].iov_len, k = len < skip ? len : skip;

		if (k) {
			memcpy((uint8_t *)&hdr + got, r->iov[i].iov_base, k);
			got += k;
			skip -= k;
		}
		if (len > k)
			iov[n++] = (struct iovec){ (uint8_t *)r->iov[i].iov_base + k, len - k };
	}
	if (!tx_header_ok(vn, &hdr)) {
		counter__inc(vn->tx_bad);
		return;
	}
	hdr.num_buffers = 0;
	iov[0] = (struct iovec){ &hdr, NET_HDR_LEN };
	/* The request probes, as the disks fire them: vioscope trace --stages
	 * times each frame from the doorbell through the TAP write. */
	id = reqtrace__pickup(vn->dev, r->head, doorbell_ns);
	reqtrace__submit(id, 0);
	ret = net_backend__send(&vn->be, iov, (int)n);
	reqtrace__backend_done(id, ret < 0 ? -errno : ret);
	reqtrace__done(id, ret < 0);
	DTRACE_PROBE3(vioscope, net_tx, vn->dev->id, r->out_bytes - NET_HDR_LEN, ret < 0 ? errno : 0);
	if (ret < 0) {
		counter__inc(vn->tx_dropped);	/* the TAP's queue is full, or it refused */
		return;
	}
	counter__inc(vn->tx_packets);
	counter__add(vn->tx_bytes, r->out_bytes - NET_HDR_LEN);
}

/* Control queue (5.1.6.5): {class, command, data} then one ack byte. The
 * backend is a TAP in a namespace of its own: RX modes and MAC filters are
 * accepted, nothing is filtered. */
static uint8_t vnet__ctrl_one(struct vnet *vn, const struct virtq_req *r)
{
	uint8_t cls, cmd;

	if (r->nr_out == 0 || r->iov[0].iov_len < 2)
		return VIRTIO_NET_ERR;
	cls = ((uint8_t *)r->iov[0].iov_base)[0];
	cmd = ((uint8_t *)r->iov[0].iov_base)[1];
	counter__inc(vn->ctrl_commands);
	if (cls == VIRTIO_NET_CTRL_RX &&
	    (cmd == VIRTIO_NET_CTRL_RX_PROMISC || cmd == VIRTIO_NET_CTRL_RX_ALLMULTI))
		return r->out_bytes == 3 ? VIRTIO_NET_OK : VIRTIO_NET_ERR;
	if (cls == VIRTIO_NET_CTRL_MAC && cmd == VIRTIO_NET_CTRL_MAC_TABLE_SET)
		return VIRTIO_NET_OK;
	return VIRTIO_NET_ERR;
}

/* Transmit and control chains, on the event loop after a kick. */
static void vnet__drain(struct vnet *vn, struct virtio_queue *q, struct virtq_req *r)
{
	uint64_t doorbell_ns = reqtrace__doorbell_ns();
	unsigned int done = 0;

	pthread_mutex_lock(&q->lock);
	while (q->enabled) {
		int ret = virtq__pop(&q->vq, r);
		uint32_t len = 0;

		if (ret == 0 && virtq__enable_notify(&q->vq))
			continue;
		if (ret == 0)
			break;
		if (ret < 0) {
			counter__inc(q->index == TXQ ? vn->tx_bad : vn->ctrl_errors);
			if (ret == -VIRTQ_ERR_HEAD)
				continue;
		} else if (q->index == TXQ) {
			vnet__tx_one(vn, r, doorbell_ns);
		} else if (r->nr_in && r->in_bytes) {
			struct iovec *last = &r->iov[r->nr_out + r->nr_in - 1];
			uint8_t ack = vnet__ctrl_one(vn, r);

			if (ack != VIRTIO_NET_OK)
				counter__inc(vn->ctrl_errors);
			((uint8_t *)last->iov_base)[last->iov_len - 1] = ack;
			len = 1;
		} else {
			counter__inc(vn->ctrl_errors);	/* nowhere to put the ack */
		}
		virtq__push(&q->vq, r->head, len);
		done++;
	}
	if (done)
		virtio_pci__signal(&vn->vp, q);
	pthread_mutex_unlock(&q->lock);
}

static void vnet__notify(struct virtio_pci *vp, unsigned int qi)
{
	struct vnet *vn = vp->priv;
	struct virtq_req *r;

	if (qi == RXQ) {
		vnet__rx(vn);	/* new buffers: packets may be waiting */
		return;
	}
	r = malloc(sizeof(*r));
	if (!r)
		return;
	vnet__drain(vn, &vp->queues[qi], r);
	free(r);
}

/* The guest takes checksum and TSO offloads on receive: so may the TAP. */
static void vnet__features_ok(struct virtio_pci *vp)
{
	struct vnet *vn = vp->priv;
	unsigned int tun = 0;

	if (virtio_pci__has_feature(vp, VIRTIO_NET_F_GUEST_CSUM)) {
		tun |= TUN_F_CSUM;
		if (virtio_pci__has_feature(vp, VIRTIO_NET_F_GUEST_TSO4))
			tun |= TUN_F_TSO4;
		if (virtio_pci__has_feature(vp, VIRTIO_NET_F_GUEST_TSO6))
			tun |= TUN_F_TSO6;
	}
	if (net_backend__set_offload(&vn->be, tun))
		pr_warn("%s: TUNSETOFFLOAD %#x: %s", vn->dev->name, tun, strerror(errno));
}

static void vnet__reset(struct virtio_pci *vp)
{
	struct vnet *vn = vp->priv;

	/* Queues are disabled already: the stashed buffers belong to a ring
	 * that no longer exists, and a half-delivered packet is dropped. */
	pthread_mutex_lock(&vp->queues[RXQ].lock);
	vn->nr_stash = 0;
	vn->stash_bytes = 0;
	vn->pkt_len = 0;
	pthread_mutex_unlock(&vp->queues[RXQ].lock);
}

static const struct virtio_dev_ops vnet_virtio_ops = {
	.name = "virtio-net",
	.device_id = VIRTIO_ID_NET,
	.class_code = 0x020000,		/* network, Ethernet */
	.nr_queues = 3,
	.queue_max = QUEUE_SIZE,
	.features = (1ULL << VIRTIO_NET_F_MAC) | (1ULL << VIRTIO_NET_F_STATUS) |
		    (1ULL << VIRTIO_NET_F_MRG_RXBUF) | (1ULL << VIRTIO_NET_F_CTRL_VQ) |
		    (1ULL << VIRTIO_NET_F_CTRL_RX) | OFFLOADS,
	.config_size = sizeof(struct virtio_net_config),
	.config_read = vnet__config_read,
	.notify = vnet__notify,
	.features_ok = vnet__features_ok,
	.reset = vnet__reset,
};

static int vnet__init(struct kvm *kvm, struct device *dev, const char *args)
{
	struct vnet *vn = calloc(1, sizeof(*vn));
	char why[160];
	int ret;

	if (!vn)
		return -ENOMEM;
	dev->priv = vn;
	vn->dev = dev;
	vn->be.fd = -1;
	ret = net_backend__open(&vn->be, args, why, sizeof(why));
	if (ret) {
		pr_err("--net pv:%s: %s", args ? args : "", why);
		return ret;
	}
	vn->pkt = malloc(PKT_MAX);
	vn->stash = calloc(RX_STASH, sizeof(*vn->stash));
	if (!vn->pkt || !vn->stash)
		return -ENOMEM;
	vn->tx_packets = metrics__counter(&dev->metrics, "tx_packets");
	vn->tx_bytes = metrics__counter(&dev->metrics, "tx_bytes");
	vn->rx_packets = metrics__counter(&dev->metrics, "rx_packets");
	vn->rx_bytes = metrics__counter(&dev->metrics, "rx_bytes");
	vn->tx_bad = metrics__counter(&dev->metrics, "tx_bad_chains");
	vn->tx_dropped = metrics__counter(&dev->metrics, "tx_dropped");
	vn->rx_bad_buffers = metrics__counter(&dev->metrics, "rx_bad_buffers");
	vn->rx_dropped = metrics__counter(&dev->metrics, "rx_dropped");
	vn->rx_stalls = metrics__counter(&dev->metrics, "rx_no_buffer_stalls");
	vn->ctrl_commands = metrics__counter(&dev->metrics, "ctrl_commands");
	vn->ctrl_errors = metrics__counter(&dev->metrics, "ctrl_errors");
	ret = virtio_pci__init(&vn->vp, kvm, dev, &vnet_virtio_ops, vn);
	if (ret)
		return ret;
	/* Edge-triggered: vnet__rx reads until EAGAIN, or stops for want of
	 * buffers and resumes when the driver kicks the receive queue. */
	if (kvm->evloop)
		ret = evloop__add(kvm->evloop, vn->be.fd, EPOLLIN | EPOLLET, vnet__backend_ready, vn);
	return ret;
}

static void vnet__exit(struct device *dev)
{
	struct vnet *vn = dev->priv;

	if (dev->kvm->evloop && vn->be.fd >= 0)
		evloop__del(dev->kvm->evloop, vn->be.fd);
	virtio_pci__exit(&vn->vp);
	net_backend__close(&vn->be);
	free(vn->stash);
	free(vn->pkt);
	free(vn);
}

static void vnet__to_json(struct device *dev, struct cJSON *obj)
{
	struct vnet *vn = dev->priv;
	cJSON *q = cJSON_AddObjectToObject(obj, "virtqueue_errors");
	char mac[18];
	unsigned int i;
	int e;

	snprintf(mac, sizeof(mac), "%02x:%02x:%02x:%02x:%02x:%02x", vn->be.mac[0], vn->be.mac[1],
		 vn->be.mac[2], vn->be.mac[3], vn->be.mac[4], vn->be.mac[5]);
	cJSON_AddStringToObject(obj, "mac", mac);
	cJSON_AddStringToObject(obj, "backend", vn->be.is_tap ? "tap" : "socket");
	cJSON_AddNumberToObject(obj, "driver_features", (double)vn->vp.driver_features);
	for (e = 1; e < NR_VIRTQ_ERRORS; e++) {
		uint64_t sum = 0;

		for (i = 0; i < vnet_virtio_ops.nr_queues; i++)
			sum += vn->vp.queues[i].vq.errors[e];
		cJSON_AddNumberToObject(q, virtq_error_names[e], (double)sum);
	}
}

static const struct device_ops vnet_ops = {
	.name = "virtio-net",
	.help = "paravirtual NIC: virtio-net on modern virtio-pci (--net pv:tap=IF)",
	.init = vnet__init,
	.exit = vnet__exit,
	.to_json = vnet__to_json,
};
device_register(vnet_ops);
