#ifndef VIOSCOPE__LIB_GLMARK2_H
#define VIOSCOPE__LIB_GLMARK2_H

#include <stdbool.h>
#include <stddef.h>

/* The figures of a glmark2 run (its text output: glmark2 has no JSON). */
#define GLMARK2_MAX_SCENES 16

struct glmark2_scene {
	char name[32];		/* "build", "texture", ... */
	double fps;		/* as printed: whole frames per second */
	double frame_time_ms;	/* the precise figure */
};

struct glmark2_figures {
	double score;		/* "glmark2 Score:" */
	double fps_mean;	/* mean over scenes of 1000 / frame time: the
				 * score without its rounding to whole frames */
	unsigned int width, height;	/* "Surface Size:" */
	char renderer[96];	/* GL_RENDERER */
	struct glmark2_scene scenes[GLMARK2_MAX_SCENES];
	int nscenes;
};

/* 0, or -1 with one line in why: no score (cut short), no scene, a scene
 * line without its figures. */
int glmark2__parse(const char *text, struct glmark2_figures *f, char *why, size_t why_len);

#endif /* VIOSCOPE__LIB_GLMARK2_H */
