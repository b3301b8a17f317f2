/* fio's JSON: a recorded run, and truncated or malformed output. */
#include <cJSON.h>
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "lib/file.h"
#include "lib/fio.h"

Test(fio, a_recorded_run)
{
	char *text = file__read_text("tests/data/fio-randread.json"), why[128];
	cJSON *j = text ? cJSON_Parse(text) : NULL;
	struct fio_figures f;

	cr_assert_not_null(j, "run the tests from the project root");
	cr_assert_eq(fio__parse(j, "randread", &f, why, sizeof(why)), 0, "%s", why);
	cr_assert_gt(f.iops, 0);
	cr_assert_gt(f.bw_bytes, 0);
	cr_assert_float_eq(f.bw_bytes / f.iops, 4096, 64, "4 KiB per I/O");
	cr_assert(f.have_lat);
	cr_assert_leq(f.lat_p50_ns, f.lat_p99_ns);
	cr_assert_eq(f.errors, 0);
	/* The write side of a read job has no I/Os, but figures (zeros). */
	cr_assert_eq(fio__parse(j, "randwrite", &f, why, sizeof(why)), 0, "%s", why);
	cr_assert_eq(f.iops, 0);
	cJSON_Delete(j);
	free(text);
}

Test(fio, truncated_or_malformed_output_is_refused)
{
	static const char *const cases[] = {
		"{}", "{\"jobs\": []}", "{\"jobs\": [{\"jobname\": \"x\"}]}",
		"{\"jobs\": [{\"read\": {\"iops\": \"many\"}}]}",
	};
	struct fio_figures f;
	char why[128];
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		cJSON *j = cJSON_Parse(cases[i]);

		cr_assert_not_null(j);
		cr_assert_eq(fio__parse(j, "randread", &f, why, sizeof(why)), -1, "%s", cases[i]);
		cr_assert_gt(strlen(why), 10);
		cJSON_Delete(j);
	}
	/* A truncated file does not even parse: the caller says so. */
	{
		char *text = file__read_text("tests/data/fio-randread.json");

		text[strlen(text) / 2] = 0;
		cr_assert_null(cJSON_Parse(text));
		free(text);
	}
}
