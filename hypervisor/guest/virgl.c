/*
 * The probe guest's virgl command stream: the few commands of its gfx
 * workload, encoded as Mesa's virgl driver does (dwords; a header of
 * command, object type and length, virglrenderer's virgl_protocol.h), for
 * SUBMIT_3D. virglrenderer's decoder checks them on the host.
 */
#include "hypervisor/guest/virgl.h"

#define VIRGL_CMD(cmd, obj, len)	((uint32_t)(cmd) | (uint32_t)(obj) << 8 | (uint32_t)(len) << 16)
#define CCMD_CREATE_OBJECT	1
#define CCMD_SET_FRAMEBUFFER	5
#define CCMD_CLEAR		7
#define CCMD_INLINE_WRITE	9
#define CCMD_BLIT		16
#define OBJ_SURFACE		8
#define PIPE_CLEAR_COLOR0	(1u << 2)
#define PIPE_MASK_RGBA		0xf

/* c / 255 as an IEEE-754 single, in integers (the guest has no FPU code):
 * the unorm8 a clear colour of c comes back as. */
static uint32_t unorm_f32(uint32_t c)
{
	uint64_t m;
	uint32_t s = 1;

	if (!c)
		return 0;
	if (c >= 255)
		return 0x3f800000u;
	while ((c << s) < 255)		/* c / 255 in [2^-s, 2^-s+1) */
		s++;
	m = (((uint64_t)c << (23 + s)) + 127) / 255;
	if (m >> 24) {
		m >>= 1;
		s--;
	}
	return (127 - s) << 23 | (uint32_t)(m & 0x7fffff);
}

uint32_t *virgl__surface(uint32_t *p, uint32_t handle, uint32_t res, uint32_t format)
{
	*p++ = VIRGL_CMD(CCMD_CREATE_OBJECT, OBJ_SURFACE, 5);
	*p++ = handle;
	*p++ = res;
	*p++ = format;
	*p++ = 0;			/* level */
	*p++ = 0;			/* first and last layer */
	return p;
}

uint32_t *virgl__set_framebuffer(uint32_t *p, uint32_t surface)
{
	*p++ = VIRGL_CMD(CCMD_SET_FRAMEBUFFER, 0, 3);
	*p++ = 1;			/* colour buffers */
	*p++ = 0;			/* no depth surface */
	*p++ = surface;
	return p;
}

uint32_t *virgl__clear(uint32_t *p, uint32_t rgb)
{
	*p++ = VIRGL_CMD(CCMD_CLEAR, 0, 8);
	*p++ = PIPE_CLEAR_COLOR0;
	*p++ = unorm_f32(rgb >> 16 & 0xff);
	*p++ = unorm_f32(rgb >> 8 & 0xff);
	*p++ = unorm_f32(rgb & 0xff);
	*p++ = 0x3f800000u;		/* alpha 1.0 */
	*p++ = 0;			/* depth (a double) and stencil */
	*p++ = 0;
	*p++ = 0;
	return p;
}

uint32_t *virgl__blit(uint32_t *p, uint32_t dst, uint32_t x, uint32_t y, uint32_t src,
		      uint32_t w, uint32_t h, uint32_t format)
{
	const uint32_t cmd[22] = {
		VIRGL_CMD(CCMD_BLIT, 0, 21),
		PIPE_MASK_RGBA,		/* nearest filter, no scissor, no blending */
		0, 0,			/* scissor */
		dst, 0, format, x, y, 0, w, h, 1,
		src, 0, format, 0, 0, 0, w, h, 1,
	};

	memcpy(p, cmd, sizeof(cmd));
	return p + 22;
}

uint32_t *virgl__write_pixel(uint32_t *p, uint32_t res, uint32_t x, uint32_t y, uint32_t px)
{
	const uint32_t cmd[13] = {
		VIRGL_CMD(CCMD_INLINE_WRITE, 0, 12),
		res, 0, 0,		/* level, usage */
		4, 0,			/* stride, layer stride */
		x, y, 0, 1, 1, 1,	/* the box */
		px,
	};

	memcpy(p, cmd, sizeof(cmd));
	return p + 13;
}
