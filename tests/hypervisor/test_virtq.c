/* The split virtqueue against well-formed and hostile descriptor chains. */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "hypervisor/kvm.h"
#include "hypervisor/virtq.h"
#include "tests/helpers.h"

#define RAM	(1u << 20)
#define QSIZE	8
#define DESC	0x1000
#define AVAIL	0x2000
#define USED	0x3000
#define INDIR	0x4000
#define DATA	0x10000

static struct kvm *kvm;
static struct virtq vq;
static struct vring_desc *desc;
static struct vring_avail *avail;
static struct vring_used *used;
static struct virtq_req req;

static void setup(void)
{
	kvm = test_fake_kvm_with_ram(RAM);
	desc = (void *)((uint8_t *)kvm->ram + DESC);
	avail = (void *)((uint8_t *)kvm->ram + AVAIL);
	used = (void *)((uint8_t *)kvm->ram + USED);
	cr_assert_eq(virtq__init(&vq, kvm, QSIZE, DESC, AVAIL, USED, false, true), 0);
}

static void teardown(void)
{
	test_fake_kvm_free(kvm);
}

TestSuite(virtq, .init = setup, .fini = teardown);

static void set_desc(struct vring_desc *t, unsigned int i, uint64_t addr, uint32_t len,
		     uint16_t flags, uint16_t next)
{
	t[i] = (struct vring_desc){ .addr = addr, .len = len, .flags = flags, .next = next };
}

static void make_available(uint16_t head)
{
	avail->ring[avail->idx % QSIZE] = head;
	avail->idx++;
}

Test(virtq, a_block_request_chain_is_split_into_out_and_in)
{
	set_desc(desc, 0, DATA, 16, VRING_DESC_F_NEXT, 3);
	set_desc(desc, 3, DATA + 0x100, 512, VRING_DESC_F_NEXT | VRING_DESC_F_WRITE, 5);
	set_desc(desc, 5, DATA + 0x400, 1, VRING_DESC_F_WRITE, 0);
	cr_assert_eq(virtq__pop(&vq, &req), 0, "nothing available yet");
	make_available(0);
	cr_assert(virtq__has_work(&vq));
	cr_assert_eq(virtq__pop(&vq, &req), 1);
	cr_assert_eq(req.head, 0);
	cr_assert_eq(req.nr_out, 1);
	cr_assert_eq(req.nr_in, 2);
	cr_assert_eq(req.out_bytes, 16);
	cr_assert_eq(req.in_bytes, 513);
	cr_assert_eq(req.iov[1].iov_base, (uint8_t *)kvm->ram + DATA + 0x100);
	cr_assert_not(virtq__has_work(&vq));
}

/* An empty buffer (here at guest address 0, last in the chain) is left out:
 * the byte before it, outside RAM, can never be taken as a status byte. */
Test(virtq, empty_buffers_are_left_out)
{
	set_desc(desc, 0, DATA, 16, VRING_DESC_F_NEXT, 1);
	set_desc(desc, 1, DATA + 0x400, 1, VRING_DESC_F_NEXT | VRING_DESC_F_WRITE, 2);
	set_desc(desc, 2, 0, 0, VRING_DESC_F_WRITE, 0);
	make_available(0);
	cr_assert_eq(virtq__pop(&vq, &req), 1);
	cr_assert_eq(req.nr_out, 1);
	cr_assert_eq(req.nr_in, 1);
	cr_assert_eq(req.iov[1].iov_len, 1);
	cr_assert_eq(req.iov[1].iov_base, (uint8_t *)kvm->ram + DATA + 0x400);
}

Test(virtq, push_fills_the_used_ring_and_honours_no_interrupt)
{
	set_desc(desc, 2, DATA, 8, 0, 0);
	make_available(2);
	cr_assert_eq(virtq__pop(&vq, &req), 1);
	virtq__push(&vq, req.head, 77);
	cr_assert_eq(used->idx, 1);
	cr_assert_eq(used->ring[0].id, 2);
	cr_assert_eq(used->ring[0].len, 77);
	cr_assert(virtq__should_notify(&vq));
	avail->flags = VRING_AVAIL_F_NO_INTERRUPT;
	cr_assert_not(virtq__should_notify(&vq));
}

Test(virtq, event_idx_suppresses_until_used_event)
{
	uint16_t *used_event = &avail->ring[QSIZE], avail_event;
	int i;

	cr_assert_eq(virtq__init(&vq, kvm, QSIZE, DESC, AVAIL, USED, true, false), 0);
	set_desc(desc, 0, DATA, 8, 0, 0);
	*used_event = 2;	/* "interrupt me when used->idx passes 2" */
	for (i = 0; i < 4; i++) {
		make_available(0);
		cr_assert_eq(virtq__pop(&vq, &req), 1);
		virtq__push(&vq, 0, 0);
		/* The first ever may notify; after that only the crossing of 2. */
		if (i == 0)
			(void)virtq__should_notify(&vq);
		else
			cr_assert_eq(virtq__should_notify(&vq), i == 2, "push %d", i);
	}
	/* enable_notify publishes avail_event = where we are. */
	cr_assert_not(virtq__enable_notify(&vq));

	memcpy(&avail_event, &used->ring[QSIZE], 2);
	cr_assert_eq(avail_event, 4);
}

Test(virtq, indirect_tables_are_followed)
{
	struct vring_desc *ind = (void *)((uint8_t *)kvm->ram + INDIR);

	set_desc(ind, 0, DATA, 16, VRING_DESC_F_NEXT, 1);
	set_desc(ind, 1, DATA + 0x100, 4096, VRING_DESC_F_WRITE | VRING_DESC_F_NEXT, 2);
	set_desc(ind, 2, DATA + 0x2000, 1, VRING_DESC_F_WRITE, 0);
	set_desc(desc, 4, INDIR, 3 * 16, VRING_DESC_F_INDIRECT, 0);
	make_available(4);
	cr_assert_eq(virtq__pop(&vq, &req), 1);
	cr_assert_eq(req.head, 4);
	cr_assert_eq(req.nr_out, 1);
	cr_assert_eq(req.nr_in, 2);
	cr_assert_eq(req.in_bytes, 4097);
}

struct hostile {
	const char *what;
	enum virtq_error expect;
	void (*build)(void);
};

static struct vring_desc *indirect_table(void)
{
	return (void *)((uint8_t *)kvm->ram + INDIR);
}

static void loop2(void)
{
	set_desc(desc, 0, DATA, 8, VRING_DESC_F_NEXT, 1);
	set_desc(desc, 1, DATA, 8, VRING_DESC_F_NEXT, 0);
}
static void self_loop(void) { set_desc(desc, 0, DATA, 8, VRING_DESC_F_NEXT, 0); }
static void next_out_of_range(void) { set_desc(desc, 0, DATA, 8, VRING_DESC_F_NEXT, QSIZE); }
static void outside_ram(void) { set_desc(desc, 0, RAM - 4, 8, 0, 0); }
static void addr_wraps(void) { set_desc(desc, 0, UINT64_MAX - 4, 100, 0, 0); }
static void huge_len(void) { set_desc(desc, 0, DATA, 0xffffffff, 0, 0); }
static void read_after_write(void)
{
	set_desc(desc, 0, DATA, 8, VRING_DESC_F_WRITE | VRING_DESC_F_NEXT, 1);
	set_desc(desc, 1, DATA, 8, 0, 0);
}
static void nested_indirect(void)
{
	set_desc(indirect_table(), 0, INDIR, 16, VRING_DESC_F_INDIRECT, 0);
	set_desc(desc, 0, INDIR, 16, VRING_DESC_F_INDIRECT, 0);
}
/* An "indirect table" that is the descriptor table itself, pointing at
 * itself again: must count as nesting, not restart the walk forever. */
static void indirect_onto_the_ring(void) { set_desc(desc, 0, DESC, 16 * QSIZE, VRING_DESC_F_INDIRECT, 0); }
static void indirect_with_next(void) { set_desc(desc, 0, INDIR, 16, VRING_DESC_F_INDIRECT | VRING_DESC_F_NEXT, 1); }
static void indirect_odd_len(void) { set_desc(desc, 0, INDIR, 20, VRING_DESC_F_INDIRECT, 0); }
static void indirect_empty(void) { set_desc(desc, 0, INDIR, 0, VRING_DESC_F_INDIRECT, 0); }
static void indirect_outside(void) { set_desc(desc, 0, RAM - 16, 32, VRING_DESC_F_INDIRECT, 0); }
static void indirect_loop(void)
{
	set_desc(indirect_table(), 0, DATA, 8, VRING_DESC_F_NEXT, 1);
	set_desc(indirect_table(), 1, DATA, 8, VRING_DESC_F_NEXT, 0);
	set_desc(desc, 0, INDIR, 32, VRING_DESC_F_INDIRECT, 0);
}
static void indirect_next_out_of_table(void)
{
	set_desc(indirect_table(), 0, DATA, 8, VRING_DESC_F_NEXT, 2);
	set_desc(desc, 0, INDIR, 32, VRING_DESC_F_INDIRECT, 0);
}
static void too_many_segments(void)
{
	unsigned int i, n = VIRTQ_MAX_SEGS + 1;

	for (i = 0; i < n; i++)
		set_desc(indirect_table(), i, DATA, 1, i + 1 < n ? VRING_DESC_F_NEXT : 0,
			 (uint16_t)(i + 1));
	set_desc(desc, 0, INDIR, n * 16, VRING_DESC_F_INDIRECT, 0);
}
static void too_many_bytes(void)
{
	unsigned int i;

	/* 100 buffers each covering all 1 MiB of RAM: 100 MiB, over the limit. */
	for (i = 0; i < 100; i++)
		set_desc(indirect_table(), i, 0, RAM, i + 1 < 100 ? VRING_DESC_F_NEXT : 0,
			 (uint16_t)(i + 1));
	set_desc(desc, 0, INDIR, 100 * 16, VRING_DESC_F_INDIRECT, 0);
}

Test(virtq, hostile_chains_are_refused_and_counted)
{
	static const struct hostile cases[] = {
		{ "two-descriptor loop", VIRTQ_ERR_LOOP, loop2 },
		{ "self loop", VIRTQ_ERR_LOOP, self_loop },
		{ "next past the queue", VIRTQ_ERR_NEXT, next_out_of_range },
		{ "buffer past RAM", VIRTQ_ERR_RANGE, outside_ram },
		{ "address that wraps", VIRTQ_ERR_RANGE, addr_wraps },
		{ "4 GiB length", VIRTQ_ERR_BYTES, huge_len },
		{ "readable after writable", VIRTQ_ERR_ORDER, read_after_write },
		{ "nested indirect", VIRTQ_ERR_INDIRECT, nested_indirect },
		{ "indirect with NEXT", VIRTQ_ERR_INDIRECT, indirect_with_next },
		{ "indirect table on the ring itself", VIRTQ_ERR_INDIRECT, indirect_onto_the_ring },
		{ "indirect of 20 bytes", VIRTQ_ERR_INDIRECT, indirect_odd_len },
		{ "empty indirect", VIRTQ_ERR_INDIRECT, indirect_empty },
		{ "indirect table past RAM", VIRTQ_ERR_RANGE, indirect_outside },
		{ "loop inside an indirect table", VIRTQ_ERR_LOOP, indirect_loop },
		{ "next past the indirect table", VIRTQ_ERR_NEXT, indirect_next_out_of_table },
		{ "257 buffers", VIRTQ_ERR_SEGS, too_many_segments },
		{ "100 MiB in one chain", VIRTQ_ERR_BYTES, too_many_bytes },
	};
	unsigned int i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		memset(desc, 0, 16 * QSIZE);
		memset(indirect_table(), 0, 0x2000);
		cases[i].build();
		make_available(0);
		cr_assert_eq(virtq__pop(&vq, &req), -(int)cases[i].expect, "%s: %s expected",
			     cases[i].what, virtq_error_names[cases[i].expect]);
		cr_assert_eq(req.head, 0, "the head is known, so it can be answered");
		virtq__push(&vq, req.head, 0);
	}
	cr_assert_eq(virtq__total_errors(&vq), i);
	/* The queue still works afterwards. */
	memset(desc, 0, 16 * QSIZE);
	set_desc(desc, 1, DATA, 8, 0, 0);
	make_available(1);
	cr_assert_eq(virtq__pop(&vq, &req), 1);
}

Test(virtq, a_head_past_the_queue_is_dropped)
{
	make_available(QSIZE + 3);
	cr_assert_eq(virtq__pop(&vq, &req), -VIRTQ_ERR_HEAD);
	cr_assert_eq(vq.errors[VIRTQ_ERR_HEAD], 1);
	cr_assert_eq(virtq__pop(&vq, &req), 0, "consumed, not retried forever");
}

Test(virtq, indirect_needs_negotiation)
{
	cr_assert_eq(virtq__init(&vq, kvm, QSIZE, DESC, AVAIL, USED, false, false), 0);
	set_desc(desc, 0, INDIR, 16, VRING_DESC_F_INDIRECT, 0);
	make_available(0);
	cr_assert_eq(virtq__pop(&vq, &req), -VIRTQ_ERR_INDIRECT);
}

Test(virtq, ring_placement_is_checked)
{
	struct virtq q;

	cr_assert_eq(virtq__init(&q, kvm, 6, DESC, AVAIL, USED, false, false), -EINVAL, "not a power of 2");
	cr_assert_eq(virtq__init(&q, kvm, 0, DESC, AVAIL, USED, false, false), -EINVAL);
	cr_assert_eq(virtq__init(&q, kvm, QSIZE, DESC + 8, AVAIL, USED, false, false), -EINVAL);
	cr_assert_eq(virtq__init(&q, kvm, QSIZE, DESC, AVAIL + 1, USED, false, false), -EINVAL);
	cr_assert_eq(virtq__init(&q, kvm, QSIZE, DESC, AVAIL, USED + 2, false, false), -EINVAL);
	cr_assert_eq(virtq__init(&q, kvm, 1024, RAM - 0x1000, AVAIL, USED, false, false), -EFAULT);
	cr_assert_eq(virtq__init(&q, kvm, QSIZE, DESC, AVAIL, RAM - 8, false, false), -EFAULT);
}
