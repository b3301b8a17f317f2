/*
 * The host's view of a display model's screen: see display.h.
 */
#include <errno.h>
#include <png.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hypervisor/display.h"
#include "hypervisor/guest/abi.h"
#include "lib/clock.h"

#define MAX_STAMPS	(1u << 17)	/* frames of one gfx run that get a time */

int display__init(struct display *d)
{
	*d = (struct display){ 0 };
	d->seen = calloc(MAX_STAMPS, sizeof(d->seen[0]));
	return d->seen ? 0 : -ENOMEM;
}

void display__exit(struct display *d)
{
	free(d->shadow);
	free(d->seen);
	*d = (struct display){ 0 };
}

int display__set_mode(struct display *d, uint32_t w, uint32_t h, uint64_t pitch)
{
	size_t need = (size_t)(h * pitch);

	if (need > d->shadow_size) {
		uint8_t *p = realloc(d->shadow, need);

		if (!p) {
			d->on = false;
			d->width = d->height = 0;
			return -ENOMEM;
		}
		d->shadow = p;
		d->shadow_size = need;
	}
	memset(d->shadow, 0, need);
	memset(d->seen, 0, MAX_STAMPS * sizeof(d->seen[0]));	/* a new run */
	d->on = true;
	d->width = w;
	d->height = h;
	d->pitch = pitch;
	d->last_stamp = 0;
	return 0;
}

void display__off(struct display *d)
{
	d->on = false;
}

void display__shown(struct display *d)
{
	uint32_t px;

	if (!d->on)
		return;
	/* The gfx workload's stamp in pixel (0, 0): its frame is now on the
	 * screen (abi.h). */
	memcpy(&px, d->shadow, 4);
	px &= 0xffffff;
	if (px != d->last_stamp && (px & 0x800000) && (px & 0x7fffff) < MAX_STAMPS &&
	    !d->seen[px & 0x7fffff])
		d->seen[px & 0x7fffff] = now_ns();
	d->last_stamp = px;
}

int64_t display__verify(const struct display *d, uint32_t pattern, uint32_t w, uint32_t h,
			uint64_t frames)
{
	uint64_t k, bad = 0;
	uint32_t *want, x, y;

	if (!frames || !d->on || d->width != w || d->height != h || w < VIO_RECT || h < VIO_RECT ||
	    !(want = calloc((size_t)w * h, 4)))
		return -1;
	if (pattern == VIO_GFX_FULL) {
		for (x = 0; x < w * h; x++)
			want[x] = vio_color(frames - 1);
	} else {
		for (k = 0; k < frames; k++)
			for (y = 0; y < VIO_RECT; y++)
				for (x = 0; x < VIO_RECT; x++)
					want[(vio_rect_y(k, h) + y) * w + vio_rect_x(k, w) + x] =
						vio_color(k);
	}
	want[0] = vio_stamp(frames - 1);
	for (y = 0; y < h; y++)
		for (x = 0; x < w; x++) {
			uint32_t px;

			memcpy(&px, d->shadow + y * d->pitch + 4 * x, 4);
			bad += (px & 0xffffff) != want[y * w + x];
		}
	free(want);
	return (int64_t)bad;
}

uint64_t display__seen(const struct display *d, uint64_t frame)
{
	return frame < MAX_STAMPS ? d->seen[frame] : 0;
}

int display__capture_png(const struct display *d, const char *path)
{
	uint32_t w = d->width, h = d->height, x, y;
	png_structp png = NULL;
	png_infop info = NULL;
	uint8_t *volatile row = NULL;	/* volatile: live across libpng's longjmp */
	FILE *f;
	volatile int ret = -EIO;

	if (!w || !h)
		return -ENODATA;
	f = fopen(path, "wb");
	if (!f)
		return -errno;
	png = png_create_write_struct(PNG_LIBPNG_VER_STRING, NULL, NULL, NULL);
	info = png ? png_create_info_struct(png) : NULL;
	row = malloc((size_t)w * 3);
	if (!png || !info || !row || setjmp(png_jmpbuf(png)))
		goto out;
	png_init_io(png, f);
	png_set_IHDR(png, info, w, h, 8, PNG_COLOR_TYPE_RGB, PNG_INTERLACE_NONE,
		     PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
	png_write_info(png, info);
	for (y = 0; y < h; y++) {
		const uint8_t *px = d->shadow + y * d->pitch;

		for (x = 0; x < w; x++) {	/* XRGB8888 little-endian: B, G, R, X */
			row[3 * x] = px[4 * x + 2];
			row[3 * x + 1] = px[4 * x + 1];
			row[3 * x + 2] = px[4 * x];
		}
		png_write_row(png, row);
	}
	png_write_end(png, NULL);
	ret = 0;
out:
	png_destroy_write_struct(&png, &info);
	free((uint8_t *)row);
	if (fclose(f) && !ret)
		ret = -errno;
	return ret;
}

void display__edid(uint8_t *e, uint32_t w, uint32_t h)
{
	static const uint8_t header[8] = { 0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0 };
	uint32_t hb = 160, vb = 30, clock = (w + hb) * (h + vb) * 60 / 10000, i, sum = 0;
	uint8_t *t = e + 54;

	memset(e, 0, 128);
	memcpy(e, header, 8);
	e[8] = 0x5a;			/* manufacturer "VIO" (5-bit letters) */
	e[9] = 0xef;
	e[10] = 0x01;			/* product */
	e[16] = 1;			/* week */
	e[17] = 35;			/* 2025 */
	e[18] = 1;			/* EDID 1.4 */
	e[19] = 4;
	e[20] = 0xa5;			/* digital, 8 bits, DisplayPort */
	e[21] = (uint8_t)(w / 40);	/* size in cm, roughly */
	e[22] = (uint8_t)(h / 40);
	e[23] = 120;			/* gamma 2.2 */
	e[24] = 0x06;			/* sRGB, preferred timing native */
	memset(e + 38, 0x01, 16);	/* no standard timings */
	/* Detailed timing descriptor (VESA E-EDID 3.10.2): the one mode. */
	t[0] = (uint8_t)clock;
	t[1] = (uint8_t)(clock >> 8);
	t[2] = (uint8_t)w;
	t[3] = (uint8_t)hb;
	t[4] = (uint8_t)((w >> 8) << 4 | hb >> 8);
	t[5] = (uint8_t)h;
	t[6] = (uint8_t)vb;
	t[7] = (uint8_t)((h >> 8) << 4 | vb >> 8);
	t[8] = 48;			/* hsync offset */
	t[9] = 32;			/* hsync width */
	t[10] = 3 << 4 | 5;		/* vsync offset, width */
	t[17] = 0x1a;			/* digital separate sync */
	/* Display product name descriptor. */
	t = e + 72;
	t[3] = 0xfc;
	memcpy(t + 5, "vioscope\n    ", 13);
	/* Dummy descriptors for the last two. */
	e[90 + 3] = 0x10;
	e[108 + 3] = 0x10;
	for (i = 0; i < 127; i++)
		sum += e[i];
	e[127] = (uint8_t)(256 - sum % 256);
}

int display__parse_option(const char *tok, uint32_t *w, uint32_t *h, char *capture,
			  size_t capture_len)
{
	if (!strncmp(tok, "mode=", 5))
		return sscanf(tok + 5, "%ux%u", w, h) == 2 && *w >= 64 && *h >= 64 &&
		       *w <= 2560 && *h <= 1600 ? 0 : -1;
	if (!strncmp(tok, "capture=", 8)) {
		snprintf(capture, capture_len, "%s", tok + 8);
		return 0;
	}
	return -1;
}
