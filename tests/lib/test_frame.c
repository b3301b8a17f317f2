/* vioscope's test frames: what the sink accepts and what it calls bad. */
#include <criterion/criterion.h>
#include <string.h>

#include "lib/frame.h"

static const unsigned char mac[6] = { 0x52, 0x54, 0x00, 0x12, 0x34, 0x56 };

Test(frame, a_frame_checks_as_itself)
{
	unsigned char buf[FRAME_MAX];
	uint32_t seq = 0;

	frame__fill(buf, FRAME_MAX, mac, 70000, 123);
	cr_assert(frame__check(buf, FRAME_MAX, FRAME_MAX, &seq));
	cr_assert_eq(seq, 70000);
	cr_assert(frame__check(buf, FRAME_MAX, 0, &seq), "any size");
	cr_assert_eq(buf[12], 0x88);
	cr_assert_eq(buf[13], 0xb5);
	cr_assert_eq(memcmp(buf + 6, mac, 6), 0);
	frame__fill(buf, FRAME_MIN, mac, 1, 0);
	cr_assert(frame__check(buf, FRAME_MIN, FRAME_MIN, &seq));
}

Test(frame, damage_of_any_kind_is_bad)
{
	unsigned char buf[FRAME_MAX + 1];
	uint32_t seq;
	size_t i;

	frame__fill(buf, 256, mac, 7, 0);
	cr_assert_not(frame__check(buf, 256, 255, &seq), "not the size expected");
	cr_assert_not(frame__check(buf, FRAME_MIN - 1, 0, &seq), "a runt");
	cr_assert_not(frame__check(buf, FRAME_MAX + 1, 0, &seq), "a giant");
	/* One flipped bit anywhere past the addresses. */
	for (i = 12; i < 256; i++) {
		if (i >= 18 && i < 30)
			continue;	/* sequence and time: any value is a frame */
		buf[i] ^= 0x10;
		cr_assert_not(frame__check(buf, 256, 256, &seq), "byte %zu flipped", i);
		buf[i] ^= 0x10;
	}
	cr_assert(frame__check(buf, 256, 256, &seq));
}
