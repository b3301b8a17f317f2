/* Suite files: what parses, and one clear line for each mistake. */
#include <criterion/criterion.h>
#include <string.h>

#include "lib/suite.h"

static int parse(const char *text, struct suite *s, char *why)
{
	return suite__parse(s, text, "t", why, 256);
}

Test(suite, lines_comments_and_options)
{
	struct suite s;
	char why[256], v[32];

	cr_assert_eq(parse("# a comment\n\ndisk a-1  rw=read bs=4096   # trailing\n"
			   "option iterations=4 cv=2.5\n"
			   "disk b.2 rw=write\r\n", &s, why), 0, "%s", why);
	cr_assert_eq(s.nr, 2);
	cr_assert_str_eq(s.lines[0].class, "disk");
	cr_assert_str_eq(s.lines[0].name, "a-1");
	cr_assert_str_eq(s.lines[0].params, "rw=read bs=4096");
	cr_assert_eq(s.lines[1].lineno, 5);
	cr_assert_str_eq(s.lines[1].params, "rw=write");
	cr_assert_eq(s.iterations, 4);
	cr_assert_eq(s.min_iterations, 0);
	cr_assert_float_eq(s.cv, 2.5, 1e-9);
	cr_assert_str_eq(suite__param(s.lines[0].params, "bs", v, sizeof(v)), "4096");
	cr_assert_null(suite__param(s.lines[0].params, "s", v, sizeof(v)));
	suite__free(&s);
}

Test(suite, mistakes_name_the_line)
{
	static const struct {
		const char *text, *want;
	} cases[] = {
		{ "disk a rw=read\nfloppy b x=1\n", "t:2: unknown class 'floppy'" },
		{ "disk A rw=read\n", "t:1: bad workload name 'A'" },
		{ "disk a rw\n", "t:1: 'rw' is not KEY=VALUE" },
		{ "disk a rw=read rw=write\n", "t:1: 'rw' given twice" },
		{ "disk a x=1\ndisk a y=2\n", "t:2: disk a is already line 1" },
		{ "disk\n", "t:1: expected CLASS NAME" },
		{ "option iterations=0\ndisk a x=1\n", "t:1: option iterations" },
		{ "option speed=3\ndisk a x=1\n", "t:1: option: unknown" },
		{ "# nothing\n", "t: no workloads" },
	};
	struct suite s;
	char why[256];
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		cr_assert_eq(parse(cases[i].text, &s, why), -1, "%s", cases[i].text);
		cr_assert(!strncmp(why, cases[i].want, strlen(cases[i].want)), "'%s' gave '%s'",
			  cases[i].text, why);
		cr_assert_eq(s.nr, 0);
	}
}

/* The suites shipped in workloads/ parse. */
Test(suite, shipped_suites_parse)
{
	static const char *const names[] = { "smoke", "default", "disk", "net", "usb" };
	struct suite s;
	char why[256];
	size_t i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		cr_assert_eq(suite__load(&s, names[i], why, sizeof(why)), 0, "%s", why);
		cr_assert_gt(s.nr, 0);
		suite__free(&s);
	}
	cr_assert_eq(suite__load(&s, "no-such-suite", why, sizeof(why)), -1);
	cr_assert_not_null(strstr(why, "workloads/no-such-suite"), "%s", why);
}
