#ifndef VIOSCOPE__LIB_FRAME_H
#define VIOSCOPE__LIB_FRAME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * vioscope's test frames (vioscope peer, and guests that send them): an
 * Ethernet frame of FRAME_MIN..FRAME_MAX bytes (FCS not counted) to the
 * broadcast address with EtherType 0x88B5 (IEEE 802 local experimental
 * 1), then "VIOS", a 32-bit sequence number, the 64-bit send time (ns)
 * and a pattern: byte i of the rest is (seq + i) mod 256.
 */
#define FRAME_ETHERTYPE 0x88b5
#define FRAME_MIN 64
#define FRAME_MAX 1514
#define FRAME_HDR_LEN (14 + 4 + 4 + 8)	/* Ethernet, magic, seq, time */

/* Frame seq of size bytes from source address mac into buf. */
void frame__fill(unsigned char *buf, size_t size, const unsigned char mac[6], uint32_t seq,
		 uint64_t time_ns);
/* buf[0..len) is one of these frames, whole and unchanged (len == want,
 * or any valid size for want 0): true with its sequence number. */
bool frame__check(const unsigned char *buf, size_t len, size_t want, uint32_t *seq);

#endif /* VIOSCOPE__LIB_FRAME_H */
