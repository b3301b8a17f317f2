/* Chart data: a series without points must not shift the others' blocks
 * (gnuplot does not count an empty data block). */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/file.h"
#include "reports/charts.h"

Test(charts, empty_series_do_not_shift_the_others)
{
	char dir[] = "/tmp/vioscope-charts-XXXXXX", path[96], *gp, cmd[96];
	const char *labels[] = { "emul", "pt", "native" };
	double a[] = { 1, 10, 9, 11 }, c[] = { 1, 100, 90, 110 }, s1[] = { 1000, 2000 };
	const double *pts[] = { a, NULL, c }, *samples[] = { s1, NULL, s1 };
	size_t npts[] = { 1, 0, 1 }, counts[] = { 2, 0, 2 };
	struct charts *ch;

	cr_assert_not_null(mkdtemp(dir));
	ch = charts__new(dir);
	charts__trend(ch, "t", "trend", "IO/s", labels, pts, npts, 3, NULL, 0);
	charts__cdf(ch, "c", "cdf", labels, samples, counts, 3);
	cr_assert_eq(charts__count(ch), 2);
	snprintf(path, sizeof(path), "%s/t.gp", dir);
	gp = file__read_text(path);
	cr_assert_not_null(gp);
	cr_assert_not_null(strstr(gp, "index 1 using 1:2:3:4 with yerrorlines lw 2 title 'native'"),
			   "%s", gp);
	cr_assert_null(strstr(gp, "'pt'"), "%s", gp);
	free(gp);
	snprintf(path, sizeof(path), "%s/c.gp", dir);
	gp = file__read_text(path);
	cr_assert_not_null(strstr(gp, "index 1 using 1:2 with lines lw 2 title 'native'"), "%s", gp);
	free(gp);
	charts__free(ch);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	cr_assert_eq(system(cmd), 0);
}
