/*
 * glmark2's text output (see glmark2.h), as 2021.02-2023.01 print it:
 *       Surface Size:   1280x720 fullscreen
 *   [build] duration=4:use-vbo=true: FPS: 5 FrameTime: 218.540 ms
 *                                     glmark2 Score: 23
 */
#include "lib/glmark2.h"

#include <stdio.h>
#include <string.h>

static int scene_line(const char *line, struct glmark2_scene *s, char *why, size_t why_len)
{
	const char *fps = strstr(line, " FPS: "), *ft = strstr(line, " FrameTime: ");

	if (sscanf(line, "[%31[^]]]", s->name) != 1 || !fps || !ft ||
	    sscanf(fps, " FPS: %lf", &s->fps) != 1 ||
	    sscanf(ft, " FrameTime: %lf ms", &s->frame_time_ms) != 1 || s->frame_time_ms <= 0) {
		snprintf(why, why_len, "glmark2: a scene without its figures: %.*s",
			 (int)strcspn(line, "\n"), line);
		return -1;
	}
	return 0;
}

int glmark2__parse(const char *text, struct glmark2_figures *f, char *why, size_t why_len)
{
	const char *line, *p;
	bool have_score = false;
	double sum = 0;
	char buf[512];

	memset(f, 0, sizeof(*f));
	for (line = text; line && *line; line = strchr(line, '\n') ? strchr(line, '\n') + 1 : NULL) {
		const char *l = buf;

		/* One line at a time: the searches below stay inside it. */
		snprintf(buf, sizeof(buf), "%.*s", (int)strcspn(line, "\n"), line);
		l += strspn(l, " ");

		if (*l == '[' && f->nscenes < GLMARK2_MAX_SCENES) {
			if (scene_line(l, &f->scenes[f->nscenes], why, why_len))
				return -1;
			sum += 1000.0 / f->scenes[f->nscenes++].frame_time_ms;
		} else if ((p = strstr(l, "glmark2 Score:"))) {
			have_score = sscanf(p, "glmark2 Score: %lf", &f->score) == 1;
		} else if (!strncmp(l, "Surface Size:", 13)) {
			sscanf(l + 13, " %ux%u", &f->width, &f->height);
		} else if (!strncmp(l, "GL_RENDERER:", 12)) {
			l += 12 + strspn(l + 12, " ");
			snprintf(f->renderer, sizeof(f->renderer), "%s", l);
		}
	}
	if (!f->nscenes) {
		snprintf(why, why_len, "glmark2 ran no scene (no display, or no GL?)");
		return -1;
	}
	if (!have_score) {
		snprintf(why, why_len, "glmark2's output has no score (cut short?)");
		return -1;
	}
	f->fps_mean = sum / f->nscenes;
	return 0;
}
