/* The probe table in probes/usdt.h is the truth: the binary has exactly
 * those probes and README.md documents each of them. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "probes/usdt.h"
#include "tests/helpers.h"

#define NAME(name, args, meaning) #name,
static const char *const probes[] = { VIOSCOPE_USDT_TABLE(NAME) };
#define NR_PROBES (sizeof(probes) / sizeof(probes[0]))

static bool in_table(const char *name)
{
	size_t i;

	for (i = 0; i < NR_PROBES; i++)
		if (!strcmp(probes[i], name))
			return true;
	return false;
}

Test(usdt, binary_notes_match_the_table)
{
	bool seen[NR_PROBES] = { false };
	char *out, *err, *line, *save;
	size_t i;
	int rc;

	rc = test_run((char *[]){ "/usr/bin/readelf", "-n", (char *)test_bin("vioscope-vmm"),
				  NULL }, &out, &err);
	cr_assert_eq(rc, 0, "readelf: %s", err);
	cr_assert_not_null(strstr(out, "Provider: vioscope"), "no USDT notes in the binary");
	for (line = strtok_r(out, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char *name = strstr(line, "Name: ");

		if (!name)
			continue;
		name += 6;
		cr_assert(in_table(name), "probe '%s' is in the binary but not in probes/usdt.h",
			  name);
		for (i = 0; i < NR_PROBES; i++)
			if (!strcmp(probes[i], name))
				seen[i] = true;
	}
	for (i = 0; i < NR_PROBES; i++)
		cr_assert(seen[i], "probes/usdt.h lists '%s' but the binary has no such probe",
			  probes[i]);
	free(out);
	free(err);
}

Test(usdt, every_probe_is_in_the_readme)
{
	FILE *f = fopen("README.md", "r");
	static char text[1 << 18];
	size_t n, i;

	cr_assert_not_null(f, "run the tests from the project root");
	n = fread(text, 1, sizeof(text) - 1, f);
	text[n] = 0;
	fclose(f);
	for (i = 0; i < NR_PROBES; i++) {
		char pat[64];

		snprintf(pat, sizeof(pat), "`%s`", probes[i]);
		cr_assert_not_null(strstr(text, pat), "README.md does not document %s", probes[i]);
	}
}
