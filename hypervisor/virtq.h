#ifndef VIOSCOPE__VIRTQ_H
#define VIOSCOPE__VIRTQ_H

#include <linux/virtio_ring.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/uio.h>

struct kvm;

/*
 * A split virtqueue, device side (virtio 1.2, section 2.7). Everything in
 * the rings is written by the guest and is checked before use: a chain
 * that loops, runs past the queue size, leaves guest RAM, nests indirect
 * tables, puts readable after writable buffers or carries absurd lengths
 * is refused with an error and counted; it never reaches host memory
 * outside guest RAM.
 */
#define VIRTQ_MAX_SIZE		32768
#define VIRTQ_MAX_SEGS		256		/* buffers in one chain */
#define VIRTQ_MAX_CHAIN_BYTES	(64u << 20)	/* sum of one chain's lengths */

enum virtq_error {
	VIRTQ_ERR_HEAD = 1,	/* head index out of range: nothing to answer */
	VIRTQ_ERR_NEXT,		/* next index out of range */
	VIRTQ_ERR_LOOP,		/* longer than the queue size: a loop */
	VIRTQ_ERR_RANGE,	/* buffer or table outside guest RAM */
	VIRTQ_ERR_ORDER,	/* a readable buffer after a writable one */
	VIRTQ_ERR_INDIRECT,	/* indirect not negotiated, nested, or bad size */
	VIRTQ_ERR_SEGS,		/* more than VIRTQ_MAX_SEGS buffers */
	VIRTQ_ERR_BYTES,	/* more than VIRTQ_MAX_CHAIN_BYTES */
	NR_VIRTQ_ERRORS,
};

extern const char *const virtq_error_names[NR_VIRTQ_ERRORS];

/* One request: the chain's readable (out) then writable (in) buffers. */
struct virtq_req {
	uint16_t head;
	unsigned int nr_out, nr_in;
	struct iovec iov[VIRTQ_MAX_SEGS];	/* out buffers first, then in */
	uint64_t out_bytes, in_bytes;
};

struct virtq {
	struct kvm *kvm;
	uint16_t size;
	struct vring_desc *desc;
	struct vring_avail *avail;
	struct vring_used *used;
	uint16_t last_avail;		/* next avail ring slot to consume */
	uint16_t used_idx;		/* our copy of used->idx */
	uint16_t signalled_used;	/* used->idx at the last notification */
	bool signalled_valid;
	bool event_idx;			/* VIRTIO_F_EVENT_IDX negotiated */
	bool indirect;			/* VIRTIO_F_INDIRECT_DESC negotiated */
	uint64_t errors[NR_VIRTQ_ERRORS];
};

/* Checks the three ring areas (alignment, inside RAM) and starts the queue. */
int virtq__init(struct virtq *vq, struct kvm *kvm, uint16_t size, uint64_t desc_gpa,
		uint64_t avail_gpa, uint64_t used_gpa, bool event_idx, bool indirect);
/* True when the driver made buffers available that we have not taken. */
bool virtq__has_work(struct virtq *vq);
/*
 * Takes the next available chain. Returns 1 with *req filled, 0 when there
 * is none, or -enum virtq_error for a malformed chain: then req->head is
 * set (unless the error is VIRTQ_ERR_HEAD) and the caller still pushes it,
 * with whatever status it can write, so the guest is not left waiting.
 */
int virtq__pop(struct virtq *vq, struct virtq_req *req);
/* Returns a chain to the driver with len bytes written. */
void virtq__push(struct virtq *vq, uint16_t head, uint32_t len);
/* After pushes: should the driver be interrupted (EVENT_IDX / NO_INTERRUPT)? */
bool virtq__should_notify(struct virtq *vq);
/* With EVENT_IDX: asks to be notified at the next avail entry, then says
 * whether more arrived meanwhile (so the caller re-checks before sleeping). */
bool virtq__enable_notify(struct virtq *vq);
uint64_t virtq__total_errors(const struct virtq *vq);
/* Copies bytes [skip, skip + len) of the buffers iov[0..n) to or from p;
 * false when the buffers end first. */
bool virtq__iov_copy(const struct iovec *iov, unsigned int n, uint64_t skip, void *p,
		     uint64_t len, bool to_iov);

#endif /* VIOSCOPE__VIRTQ_H */
