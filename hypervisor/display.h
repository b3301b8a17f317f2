#ifndef VIOSCOPE__DISPLAY_H
#define VIOSCOPE__DISPLAY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * What a display model has shown the host: the frame as the host last saw
 * it (the shadow, XRGB8888 little-endian), and for the gfx workload of
 * abi.h when each frame's stamp first appeared. The models (bochs-display,
 * virtio-gpu) differ in how frames reach the shadow; checking a frame
 * pixel by pixel, saving it as PNG and the one-mode EDID are shared.
 * The caller holds its own lock around every call.
 */
struct display {
	bool on;			/* a frame is being shown */
	uint32_t width, height;		/* of the last frame shown; 0 when none */
	uint64_t pitch;			/* bytes per shadow row */
	uint8_t *shadow;
	size_t shadow_size;
	uint64_t *seen;			/* host ns each stamp was first shown */
	uint32_t last_stamp;
};

int display__init(struct display *d);
void display__exit(struct display *d);
/* A new mode: a cleared shadow of h rows of pitch bytes, a new gfx run. */
int display__set_mode(struct display *d, uint32_t w, uint32_t h, uint64_t pitch);
/* The screen goes dark (the scanout was disabled): nothing to check or
 * time until the next mode; the last frame stays for the capture. */
void display__off(struct display *d);
/* The shadow changed: notes the stamp in pixel (0, 0) if it is new. */
void display__shown(struct display *d);
/* Pixels of the shadow that differ from frame `frames` - 1 of the gfx
 * workload (abi.h) at w x h; -1 when there is no such frame to check. */
int64_t display__verify(const struct display *d, uint32_t pattern, uint32_t w, uint32_t h,
			uint64_t frames);
/* Host ns when frame k's stamp was first shown, 0 if never. */
uint64_t display__seen(const struct display *d, uint64_t frame);
/* The last frame shown as an RGB PNG: 0, -ENODATA without one, or -errno. */
int display__capture_png(const struct display *d, const char *path);
/* An EDID 1.4 block (128 bytes) offering one mode, w x h at 60 Hz. */
void display__edid(uint8_t *e, uint32_t w, uint32_t h);
/* Parses "mode=WxH" and "capture=FILE" options of --gfx: 0, or -1. */
int display__parse_option(const char *tok, uint32_t *w, uint32_t *h, char *capture,
			  size_t capture_len);

#endif /* VIOSCOPE__DISPLAY_H */
