/* vioscope's test frames (see frame.h). */
#include "lib/frame.h"

#include <string.h>

#define MAGIC "VIOS"

void frame__fill(unsigned char *buf, size_t size, const unsigned char mac[6], uint32_t seq,
		 uint64_t time_ns)
{
	size_t i;

	memset(buf, 0xff, 6);
	memcpy(buf + 6, mac, 6);
	buf[12] = FRAME_ETHERTYPE >> 8;
	buf[13] = FRAME_ETHERTYPE & 0xff;
	memcpy(buf + 14, MAGIC, 4);
	memcpy(buf + 18, &seq, 4);
	memcpy(buf + 22, &time_ns, 8);
	for (i = FRAME_HDR_LEN; i < size; i++)
		buf[i] = (unsigned char)(seq + (i - FRAME_HDR_LEN));
}

bool frame__check(const unsigned char *buf, size_t len, size_t want, uint32_t *seq)
{
	size_t i;

	if ((want && len != want) || len < FRAME_MIN || len > FRAME_MAX ||
	    buf[12] != FRAME_ETHERTYPE >> 8 || buf[13] != (FRAME_ETHERTYPE & 0xff) ||
	    memcmp(buf + 14, MAGIC, 4))
		return false;
	memcpy(seq, buf + 18, 4);
	for (i = FRAME_HDR_LEN; i < len; i++)
		if (buf[i] != (unsigned char)(*seq + (i - FRAME_HDR_LEN)))
			return false;
	return true;
}
