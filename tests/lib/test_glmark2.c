/* glmark2's output: a recorded run on QEMU's bochs-display, and cut short
 * or broken ones. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "lib/file.h"
#include "lib/glmark2.h"

Test(glmark2, a_recorded_run)
{
	char *text = file__read_text("tests/data/glmark2-bochs.txt"), why[160];
	struct glmark2_figures f;

	cr_assert_not_null(text, "run the tests from the project root");
	cr_assert_eq(glmark2__parse(text, &f, why, sizeof(why)), 0, "%s", why);
	cr_assert_eq(f.score, 23);
	cr_assert_eq(f.width, 1280);
	cr_assert_eq(f.height, 720);
	cr_assert_not_null(strstr(f.renderer, "llvmpipe"));
	cr_assert_eq(f.nscenes, 5);
	cr_assert_str_eq(f.scenes[0].name, "build");
	cr_assert_float_eq(f.scenes[0].frame_time_ms, 218.540, 1e-9);
	cr_assert_str_eq(f.scenes[4].name, "clear");
	/* The mean of 1000/frame time is the score without its rounding. */
	cr_assert_float_eq(f.fps_mean, f.score, 1.0);
	free(text);
}

Test(glmark2, cut_short_or_broken_output_is_refused)
{
	char *text = file__read_text("tests/data/glmark2-bochs.txt"), *cut, why[160];
	struct glmark2_figures f;

	cr_assert_not_null(text);
	cut = strstr(text, "[clear]");
	cr_assert_not_null(cut);
	*cut = 0;
	cr_assert_eq(glmark2__parse(text, &f, why, sizeof(why)), -1);
	cr_assert_not_null(strstr(why, "no score"), "%s", why);
	cr_assert_eq(glmark2__parse("Error: Failed to open DRM device\n", &f, why, sizeof(why)), -1);
	cr_assert_not_null(strstr(why, "no scene"), "%s", why);
	cr_assert_eq(glmark2__parse("[build] use-vbo=true: FPS: fast\n glmark2 Score: 1\n", &f, why,
				    sizeof(why)), -1);
	cr_assert_not_null(strstr(why, "without its figures"), "%s", why);
	cr_assert_eq(glmark2__parse("", &f, why, sizeof(why)), -1);
	free(text);
}
