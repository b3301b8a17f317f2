/* virgl command streams (guest/virgl.c): each encoder writes one command
 * at p and returns the dword after it. */
#ifndef VIOSCOPE__GUEST_VIRGL_H
#define VIOSCOPE__GUEST_VIRGL_H

#include "hypervisor/guest/guest.h"

/* A surface object `handle` on level 0 of 2D resource res. */
uint32_t *virgl__surface(uint32_t *p, uint32_t handle, uint32_t res, uint32_t format);
/* One colour buffer (the surface), no depth. */
uint32_t *virgl__set_framebuffer(uint32_t *p, uint32_t surface);
/* The colour buffer cleared to 0xRRGGBB (alpha 1). */
uint32_t *virgl__clear(uint32_t *p, uint32_t rgb);
/* w x h from (0, 0) of src to (x, y) of dst, nearest, all channels. */
uint32_t *virgl__blit(uint32_t *p, uint32_t dst, uint32_t x, uint32_t y, uint32_t src,
		      uint32_t w, uint32_t h, uint32_t format);
/* One 32-bit pixel of res at (x, y), carried in the stream. */
uint32_t *virgl__write_pixel(uint32_t *p, uint32_t res, uint32_t x, uint32_t y, uint32_t px);

#endif
