/*
 * virtio-blk (virtio 1.2, section 5.2) on the modern virtio-pci transport,
 * backed by the shared block backend (io_uring, or synchronous I/O).
 * Requests: IN, OUT, FLUSH, GET_ID, DISCARD and WRITE_ZEROES (5.2.6; one
 * segment per request, as max_*_seg says). A request the guest got wrong
 * (bad chain, short header, no status byte, sectors past the end) is
 * answered VIRTIO_BLK_S_IOERR or _UNSUPP where a status byte exists,
 * counted, and never stops the device.
 *
 *   --disk pv:PATH[,size=64M][,engine=uring|sync][,direct]
 */
#include <cJSON.h>
#include <errno.h>
#include <linux/virtio_blk.h>
#include <linux/virtio_ids.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sdt.h>
#include <unistd.h>

#include "hypervisor/backends/blk.h"
#include "hypervisor/device.h"
#include "hypervisor/devices/disk-args.h"
#include "hypervisor/guest/abi.h"
#include "hypervisor/kvm.h"
#include "hypervisor/reqtrace.h"
#include "hypervisor/virtio-pci.h"
#include "lib/log.h"

#define QUEUE_SIZE	256
#define SECTOR		512
#define HDR_SIZE	16	/* struct virtio_blk_outhdr */
#define SEG_SIZE	16	/* struct virtio_blk_discard_write_zeroes */
#define MAX_RANGE_SECTORS	(1u << 22)	/* 2 GiB per DISCARD / WRITE_ZEROES */
#define RANGE_ALIGN_SECTORS	8		/* 4 KiB: what hole punching frees */
#define WZ_FLAG_UNMAP	1u

struct vblk {
	struct device *dev;
	struct virtio_pci vp;
	struct blk_backend *backend;
	struct metric_counter *reads, *writes, *flushes, *bytes_read, *bytes_written;
	struct metric_counter *discards, *write_zeroes;
	struct metric_counter *io_errors, *bad_requests, *unsupported;
	struct metric_latency *req_ns;
};

struct vblk_req {
	struct vblk *vb;
	struct virtio_queue *q;
	struct blk_req breq;
	uint16_t head;
	uint8_t *status;
	uint32_t in_len;		/* bytes written to the guest, status included */
	uint64_t start_ns;
	uint64_t id;			/* request probes */
	unsigned int niov;
	struct iovec iov[VIRTQ_MAX_SEGS];
};

static void vblk__config_read(struct virtio_pci *vp, uint32_t off, void *data, uint32_t len)
{
	struct vblk *vb = vp->priv;
	struct virtio_blk_config cfg = {
		.capacity = vb->backend->size / SECTOR,
		.seg_max = VIRTQ_MAX_SEGS - 2,	/* header and status take two */
		.blk_size = SECTOR,
		.max_discard_sectors = MAX_RANGE_SECTORS,
		.max_discard_seg = 1,
		.discard_sector_alignment = RANGE_ALIGN_SECTORS,
		.max_write_zeroes_sectors = MAX_RANGE_SECTORS,
		.max_write_zeroes_seg = 1,
		.write_zeroes_may_unmap = 1,
	};

	if (off + len <= sizeof(cfg))
		memcpy(data, (uint8_t *)&cfg + off, len);
}

/* Completes a request: status byte, used ring, interrupt if wanted. */
static void vblk__finish(struct vblk_req *r, uint8_t status)
{
	struct virtio_queue *q = r->q;

	if (r->status)
		*r->status = status;
	if (status != VIRTIO_BLK_S_OK)
		counter__inc(status == VIRTIO_BLK_S_UNSUPP ? r->vb->unsupported : r->vb->io_errors);
	latency__record(r->vb->req_ns, now_ns() - r->start_ns);
	DTRACE_PROBE2(vioscope, blk_complete, r->head, status);
	pthread_mutex_lock(&q->lock);
	if (q->enabled) {
		virtq__push(&q->vq, r->head, r->in_len);
		reqtrace__done(r->id, status);
		virtio_pci__signal(&r->vb->vp, q);
	}
	pthread_mutex_unlock(&q->lock);
	free(r);
}

static void vblk__done(struct blk_req *breq, int res)
{
	struct vblk_req *r = breq->opaque;

	/* Filesystems without ZERO_RANGE (tmpfs): punching a hole reads back as
	 * zeros too, which is all WRITE_ZEROES promises to the guest. */
	if (res == -EOPNOTSUPP && breq->op == BLK_WRITE_ZEROES) {
		breq->op = BLK_ZERO_UNMAP;
		if (blk__submit(r->vb->backend, breq) == 0)
			return;
	}

	reqtrace__backend_done(r->id, res);
	if (res >= 0 && breq->op == BLK_READ) {
		counter__add(r->vb->bytes_read, (uint64_t)res);
		r->in_len += (uint32_t)res;
	} else if (res >= 0 && breq->op == BLK_WRITE) {
		counter__add(r->vb->bytes_written, (uint64_t)res);
	}
	vblk__finish(r, res < 0 ? VIRTIO_BLK_S_IOERR : VIRTIO_BLK_S_OK);
}

/* Past the end of the image, or the backend's queue is full: IOERR. */
static void vblk__submit(struct vblk_req *r)
{
	reqtrace__submit(r->id, &r->breq);
	if (blk__submit(r->vb->backend, &r->breq))
		vblk__finish(r, VIRTIO_BLK_S_IOERR);
}

/* Splits the chain: header from the out side, status = last in byte, data
 * in between. Returns the request type, or -1 when the layout is unusable. */
static int vblk__parse(struct vblk_req *r, struct virtq_req *vr, uint64_t *sector)
{
	struct virtio_blk_outhdr hdr;
	unsigned int i, first = 0;
	struct iovec *last;

	if (vr->nr_in == 0 || vr->in_bytes == 0)
		return -1;	/* nowhere to put the status */
	last = &vr->iov[vr->nr_out + vr->nr_in - 1];
	r->status = (uint8_t *)last->iov_base + last->iov_len - 1;
	r->in_len = 1;
	if (vr->nr_out == 0 || vr->iov[0].iov_len < HDR_SIZE)
		return -1;	/* the header must be in the first readable buffer */
	memcpy(&hdr, vr->iov[0].iov_base, HDR_SIZE);
	*sector = hdr.sector;

	/* Data: the rest of the first buffer, then every buffer but the status. */
	r->niov = 0;
	if (vr->iov[0].iov_len > HDR_SIZE) {
		r->iov[r->niov].iov_base = (uint8_t *)vr->iov[0].iov_base + HDR_SIZE;
		r->iov[r->niov++].iov_len = vr->iov[0].iov_len - HDR_SIZE;
	}
	first = 1;
	for (i = first; i < vr->nr_out + vr->nr_in; i++) {
		struct iovec v = vr->iov[i];

		if (&vr->iov[i] == last)
			v.iov_len--;	/* its final byte is the status */
		if (v.iov_len)
			r->iov[r->niov++] = v;
	}
	return (int)hdr.type;
}

/*
 * DISCARD / WRITE_ZEROES (5.2.6.2): after the header, one readable segment
 * {le64 sector, le32 num_sectors, le32 flags}; only the status is writable.
 * Unknown flags, and unmap on a discard, are UNSUPP as the spec requires.
 */
static void vblk__range(struct vblk *vb, struct vblk_req *r, struct virtq_req *vr, int type,
			uint64_t bytes)
{
	struct virtio_blk_discard_write_zeroes seg;
	uint32_t flags, n, done = 0;
	unsigned int i;

	if (bytes != SEG_SIZE || vr->in_bytes != 1) {
		counter__inc(vb->bad_requests);	/* no segment, several, or data to write back */
		vblk__finish(r, VIRTIO_BLK_S_IOERR);
		return;
	}
	for (i = 0; i < r->niov && done < SEG_SIZE; i++) {
		uint32_t k = (uint32_t)(r->iov[i].iov_len < SEG_SIZE - done ?
					r->iov[i].iov_len : SEG_SIZE - done);

		memcpy((uint8_t *)&seg + done, r->iov[i].iov_base, k);
		done += k;
	}
	flags = seg.flags;
	n = seg.num_sectors;
	if ((type == VIRTIO_BLK_T_DISCARD ? flags : flags & ~WZ_FLAG_UNMAP) != 0) {
		vblk__finish(r, VIRTIO_BLK_S_UNSUPP);
		return;
	}
	if (n == 0 || n > MAX_RANGE_SECTORS || seg.sector > UINT64_MAX / SECTOR) {
		counter__inc(vb->bad_requests);
		vblk__finish(r, VIRTIO_BLK_S_IOERR);
		return;
	}
	counter__inc(type == VIRTIO_BLK_T_DISCARD ? vb->discards : vb->write_zeroes);
	r->breq = (struct blk_req){
		.op = type == VIRTIO_BLK_T_DISCARD ? BLK_DISCARD :
		      flags & WZ_FLAG_UNMAP ? BLK_ZERO_UNMAP : BLK_WRITE_ZEROES,
		.offset = seg.sector * SECTOR, .len = (uint64_t)n * SECTOR,
		.done = vblk__done, .opaque = r,
	};
	vblk__submit(r);
}

static void vblk__handle(struct vblk *vb, struct virtio_queue *q, struct virtq_req *vr,
			 uint64_t doorbell_ns)
{
	struct vblk_req *r = calloc(1, sizeof(*r));
	uint64_t sector = 0, bytes = 0;
	unsigned int i;
	int type;

	if (!r)
		return;		/* the guest retries after a reset; nothing else to do */
	r->vb = vb;
	r->q = q;
	r->head = vr->head;
	r->start_ns = now_ns();
	r->id = reqtrace__pickup(vb->dev, vr->head, doorbell_ns);
	type = vblk__parse(r, vr, &sector);
	for (i = 0; i < r->niov; i++)
		bytes += r->iov[i].iov_len;
	DTRACE_PROBE3(vioscope, blk_submit, type, sector, bytes);

	switch (type) {
	case VIRTIO_BLK_T_IN:
	case VIRTIO_BLK_T_OUT:
		/* Whole sectors, all on the side the type says (5.2.6): a read
		 * has only its header readable, a write only its status writable. */
		if (bytes % SECTOR || sector > UINT64_MAX / SECTOR ||
		    (type == VIRTIO_BLK_T_IN ? vr->out_bytes != HDR_SIZE : vr->in_bytes != 1)) {
			counter__inc(vb->bad_requests);
			vblk__finish(r, VIRTIO_BLK_S_IOERR);
			return;
		}
		counter__inc(type == VIRTIO_BLK_T_IN ? vb->reads : vb->writes);
		r->breq = (struct blk_req){
			.op = type == VIRTIO_BLK_T_IN ? BLK_READ : BLK_WRITE,
			.offset = sector * SECTOR, .iov = r->iov, .iovcnt = (int)r->niov,
			.done = vblk__done, .opaque = r,
		};
		vblk__submit(r);
		return;
	case VIRTIO_BLK_T_DISCARD:
	case VIRTIO_BLK_T_WRITE_ZEROES:
		vblk__range(vb, r, vr, type, bytes);
		return;
	case VIRTIO_BLK_T_FLUSH:
		counter__inc(vb->flushes);
		r->breq = (struct blk_req){ .op = BLK_FLUSH, .done = vblk__done, .opaque = r };
		vblk__submit(r);
		return;
	case VIRTIO_BLK_T_GET_ID: {
		static const char id[VIRTIO_BLK_ID_BYTES] = "vioscope-vblk";
		uint32_t n = bytes < sizeof(id) ? (uint32_t)bytes : sizeof(id), done = 0;

		for (i = 0; i < r->niov && done < n; i++) {
			uint32_t k = (uint32_t)(r->iov[i].iov_len < n - done ? r->iov[i].iov_len : n - done);

			memcpy(r->iov[i].iov_base, id + done, k);
			done += k;
		}
		r->in_len += done;
		vblk__finish(r, VIRTIO_BLK_S_OK);
		return;
	}
	case -1:
		counter__inc(vb->bad_requests);
		vblk__finish(r, VIRTIO_BLK_S_IOERR);
		return;
	default:
		vblk__finish(r, VIRTIO_BLK_S_UNSUPP);
		return;
	}
}

static void vblk__notify(struct virtio_pci *vp, unsigned int qi)
{
	struct vblk *vb = vp->priv;
	struct virtio_queue *q = &vp->queues[qi];
	struct virtq_req *vr = malloc(sizeof(*vr));
	uint64_t doorbell_ns = reqtrace__doorbell_ns();
	int ret;

	if (!vr)
		return;
	for (;;) {
		pthread_mutex_lock(&q->lock);
		ret = virtio_queue__pop(q, vr);
		if (ret < 0 && ret != -VIRTQ_ERR_HEAD) {
			/* A malformed chain: answer it (no status byte is safe). */
			counter__inc(vb->bad_requests);
			virtq__push(&q->vq, vr->head, 0);
			virtio_pci__signal(vp, q);
		}
		pthread_mutex_unlock(&q->lock);
		if (ret == 0)
			break;
		if (ret > 0)
			vblk__handle(vb, q, vr, doorbell_ns);
	}
	free(vr);
}

static void vblk__reset(struct virtio_pci *vp)
{
	(void)vp;	/* in-flight requests finish and are dropped (queue disabled) */
}

static const struct virtio_dev_ops vblk_virtio_ops = {
	.name = "virtio-blk",
	.device_id = VIRTIO_ID_BLOCK,
	.class_code = 0x010000,		/* mass storage, SCSI: what QEMU uses */
	.nr_queues = 1,
	.queue_max = QUEUE_SIZE,
	.features = (1ULL << VIRTIO_BLK_F_SEG_MAX) | (1ULL << VIRTIO_BLK_F_BLK_SIZE) |
		    (1ULL << VIRTIO_BLK_F_FLUSH) | (1ULL << VIRTIO_BLK_F_DISCARD) |
		    (1ULL << VIRTIO_BLK_F_WRITE_ZEROES),
	.config_size = sizeof(struct virtio_blk_config),
	.config_read = vblk__config_read,
	.notify = vblk__notify,
	.reset = vblk__reset,
};

static int vblk__init(struct kvm *kvm, struct device *dev, const char *args)
{
	struct vblk *vb = calloc(1, sizeof(*vb));

	if (!vb)
		return -ENOMEM;
	dev->priv = vb;
	vb->dev = dev;
	vb->backend = disk__open(kvm, "pv", args, QUEUE_SIZE);
	if (!vb->backend)
		return -EINVAL;
	vb->reads = metrics__counter(&dev->metrics, "reads");
	vb->writes = metrics__counter(&dev->metrics, "writes");
	vb->flushes = metrics__counter(&dev->metrics, "flushes");
	vb->discards = metrics__counter(&dev->metrics, "discards");
	vb->write_zeroes = metrics__counter(&dev->metrics, "write_zeroes");
	vb->bytes_read = metrics__counter(&dev->metrics, "read_bytes");
	vb->bytes_written = metrics__counter(&dev->metrics, "written_bytes");
	vb->io_errors = metrics__counter(&dev->metrics, "io_errors");
	vb->bad_requests = metrics__counter(&dev->metrics, "bad_requests");
	vb->unsupported = metrics__counter(&dev->metrics, "unsupported_requests");
	vb->req_ns = metrics__latency(&dev->metrics, "request_ns");
	return virtio_pci__init(&vb->vp, kvm, dev, &vblk_virtio_ops, vb);
}

static void vblk__exit(struct device *dev)
{
	struct vblk *vb = dev->priv;

	virtio_pci__exit(&vb->vp);
	disk__close(dev->kvm, vb->backend);
	free(vb);
}

static int64_t vblk__host_verify(struct device *dev, uint32_t bs, uint64_t blocks)
{
	struct vblk *vb = dev->priv;

	return disk__host_verify(vb->backend, bs, blocks);
}

static void vblk__to_json(struct device *dev, struct cJSON *obj)
{
	struct vblk *vb = dev->priv;
	cJSON *q = cJSON_AddObjectToObject(obj, "virtqueue_errors");
	int i;

	cJSON_AddStringToObject(obj, "engine", vb->backend->ops->name);
	for (i = 1; i < NR_VIRTQ_ERRORS; i++)
		cJSON_AddNumberToObject(q, virtq_error_names[i], (double)vb->vp.queues[0].vq.errors[i]);
}

static const struct device_ops vblk_ops = {
	.name = "virtio-blk",
	.help = "paravirtual disk: virtio-blk on modern virtio-pci (--disk pv:PATH)",
	.init = vblk__init,
	.exit = vblk__exit,
	.host_verify = vblk__host_verify,
	.to_json = vblk__to_json,
};
device_register(vblk_ops);
