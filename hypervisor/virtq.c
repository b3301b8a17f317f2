/*
 * Split virtqueue, device side: virtio 1.2 sections 2.7.5 (descriptor
 * table), 2.7.6 (available ring), 2.7.8 (used ring), 2.7.5.3 (indirect
 * descriptors) and 2.7.7 / 2.7.10 (EVENT_IDX notification suppression).
 * Descriptors are copied out of guest memory once and checked; the buffers
 * they point to are handed out as iovecs into guest RAM only after
 * kvm__gpa_to_hva() has bounded them.
 */
#include "hypervisor/virtq.h"

#include <errno.h>
#include <string.h>

#include "hypervisor/kvm.h"

const char *const virtq_error_names[NR_VIRTQ_ERRORS] = {
	[VIRTQ_ERR_HEAD] = "bad_head", [VIRTQ_ERR_NEXT] = "bad_next",
	[VIRTQ_ERR_LOOP] = "loop", [VIRTQ_ERR_RANGE] = "outside_ram",
	[VIRTQ_ERR_ORDER] = "readable_after_writable", [VIRTQ_ERR_INDIRECT] = "bad_indirect",
	[VIRTQ_ERR_SEGS] = "too_many_buffers", [VIRTQ_ERR_BYTES] = "too_many_bytes",
};

int virtq__init(struct virtq *vq, struct kvm *kvm, uint16_t size, uint64_t desc_gpa,
		uint64_t avail_gpa, uint64_t used_gpa, bool event_idx, bool indirect)
{
	/* Sizes from section 2.7: the trailing u16 is used_event / avail_event. */
	uint64_t desc_len = 16ULL * size, avail_len = 6 + 2ULL * size, used_len = 6 + 8ULL * size;

	memset(vq, 0, sizeof(*vq));
	if (size == 0 || size > VIRTQ_MAX_SIZE || (size & (size - 1)))
		return -EINVAL;
	/* Alignment, section 2.7 table: descriptors 16, available 2, used 4. */
	if ((desc_gpa & 15) || (avail_gpa & 1) || (used_gpa & 3))
		return -EINVAL;
	vq->desc = kvm__gpa_to_hva(kvm, desc_gpa, desc_len);
	vq->avail = kvm__gpa_to_hva(kvm, avail_gpa, avail_len);
	vq->used = kvm__gpa_to_hva(kvm, used_gpa, used_len);
	if (!vq->desc || !vq->avail || !vq->used)
		return -EFAULT;
	vq->kvm = kvm;
	vq->size = size;
	vq->event_idx = event_idx;
	vq->indirect = indirect;
	vq->used_idx = __atomic_load_n(&vq->used->idx, __ATOMIC_ACQUIRE);
	vq->last_avail = vq->used_idx;
	return 0;
}

bool virtq__has_work(struct virtq *vq)
{
	return __atomic_load_n(&vq->avail->idx, __ATOMIC_ACQUIRE) != vq->last_avail;
}

static int fail(struct virtq *vq, enum virtq_error e)
{
	vq->errors[e]++;
	return -(int)e;
}

static int walk(struct virtq *vq, struct virtq_req *req)
{
	const struct vring_desc *table = vq->desc;
	uint32_t max = vq->size, idx = req->head, count = 0;
	bool in_indirect = false;
	unsigned int segs = 0;
	uint64_t total = 0;

	for (;;) {
		struct vring_desc d;
		void *p;

		if (++count > max)
			return fail(vq, VIRTQ_ERR_LOOP);
		/* One copy: the guest may rewrite the descriptor under us. */
		memcpy(&d, &table[idx], sizeof(d));

		if (d.flags & VRING_DESC_F_INDIRECT) {
			/*
			 * Section 2.7.5.3.1: not nested, not with NEXT, whole
			 * entries. Nesting is tracked by state, not by address:
			 * a table placed on the ring itself must not restart
			 * the walk (found by fuzz_virtq).
			 */
			if (!vq->indirect || in_indirect || (d.flags & VRING_DESC_F_NEXT) ||
			    d.len == 0 || d.len % sizeof(struct vring_desc) ||
			    d.len / sizeof(struct vring_desc) > VIRTQ_MAX_SIZE)
				return fail(vq, VIRTQ_ERR_INDIRECT);
			table = kvm__gpa_to_hva(vq->kvm, d.addr, d.len);
			if (!table)
				return fail(vq, VIRTQ_ERR_RANGE);
			max = d.len / sizeof(struct vring_desc);
			idx = 0;
			count = 0;
			in_indirect = true;
			continue;
		}
		if (d.len > VIRTQ_MAX_CHAIN_BYTES - total)
			return fail(vq, VIRTQ_ERR_BYTES);
		total += d.len;
		p = kvm__gpa_to_hva(vq->kvm, d.addr, d.len);
		if (!p)
			return fail(vq, VIRTQ_ERR_RANGE);
		/* An empty buffer carries nothing and is left out, so every iovec
		 * has a last byte (a status or ack byte is written there). */
		if (d.len == 0)
			goto next;
		if (segs == VIRTQ_MAX_SEGS)
			return fail(vq, VIRTQ_ERR_SEGS);
		if (d.flags & VRING_DESC_F_WRITE) {
			req->nr_in++;
			req->in_bytes += d.len;
		} else {
			/* Section 2.7.4.2: readable buffers come first. */
			if (req->nr_in)
				return fail(vq, VIRTQ_ERR_ORDER);
			req->nr_out++;
			req->out_bytes += d.len;
		}
		req->iov[segs].iov_base = p;
		req->iov[segs].iov_len = d.len;
		segs++;
next:
		if (!(d.flags & VRING_DESC_F_NEXT))
			return 1;
		idx = d.next;
		if (idx >= max)
			return fail(vq, VIRTQ_ERR_NEXT);
	}
}

int virtq__pop(struct virtq *vq, struct virtq_req *req)
{
	uint16_t avail_idx = __atomic_load_n(&vq->avail->idx, __ATOMIC_ACQUIRE);
	uint16_t head;

	if (avail_idx == vq->last_avail)
		return 0;
	head = __atomic_load_n(&vq->avail->ring[vq->last_avail & (vq->size - 1)], __ATOMIC_RELAXED);
	vq->last_avail++;
	req->head = head;
	req->nr_out = req->nr_in = 0;
	req->out_bytes = req->in_bytes = 0;
	if (head >= vq->size)
		return fail(vq, VIRTQ_ERR_HEAD);
	return walk(vq, req);
}

void virtq__push(struct virtq *vq, uint16_t head, uint32_t len)
{
	struct vring_used_elem *e = &vq->used->ring[vq->used_idx & (vq->size - 1)];

	e->id = head;
	e->len = len;
	/* Section 2.7.8.2: the element is visible before the index moves. */
	__atomic_store_n(&vq->used->idx, ++vq->used_idx, __ATOMIC_RELEASE);
}

bool virtq__should_notify(struct virtq *vq)
{
	uint16_t old = vq->signalled_used, event;
	bool valid = vq->signalled_valid;

	if (!vq->event_idx)
		return !(__atomic_load_n(&vq->avail->flags, __ATOMIC_ACQUIRE) &
			 VRING_AVAIL_F_NO_INTERRUPT);
	/* The used index store must be ordered before reading used_event. */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	event = __atomic_load_n(&vq->avail->ring[vq->size], __ATOMIC_RELAXED);	/* used_event */
	vq->signalled_used = vq->used_idx;
	vq->signalled_valid = true;
	return !valid || vring_need_event(event, vq->used_idx, old);
}

bool virtq__enable_notify(struct virtq *vq)
{
	if (vq->event_idx) {
		/* avail_event sits after the used ring (section 2.7.8). */
		uint16_t *avail_event = (uint16_t *)(void *)&vq->used->ring[vq->size];

		__atomic_store_n(avail_event, vq->last_avail, __ATOMIC_RELAXED);
	}
	else
		__atomic_and_fetch(&vq->used->flags, (uint16_t)~VRING_USED_F_NO_NOTIFY,
				   __ATOMIC_RELAXED);
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	return virtq__has_work(vq);
}

uint64_t virtq__total_errors(const struct virtq *vq)
{
	uint64_t n = 0;
	int i;

	for (i = 1; i < NR_VIRTQ_ERRORS; i++)
		n += vq->errors[i];
	return n;
}

bool virtq__iov_copy(const struct iovec *iov, unsigned int n, uint64_t skip, void *p,
		     uint64_t len, bool to_iov)
{
	uint8_t *b = p;
	unsigned int i;

	for (i = 0; i < n && len; i++) {
		uint64_t l = iov[i].iov_len, k;

		if (skip >= l) {
			skip -= l;
			continue;
		}
		k = l - skip < len ? l - skip : len;
		if (to_iov)
			memcpy((uint8_t *)iov[i].iov_base + skip, b, k);
		else
			memcpy(b, (uint8_t *)iov[i].iov_base + skip, k);
		b += k;
		len -= k;
		skip = 0;
	}
	return len == 0;
}
