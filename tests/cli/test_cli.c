/* The vioscope front end: doctor and testbed-result. */
#include <cJSON.h>
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tests/helpers.h"

Test(cli, doctor_lists_every_environment)
{
	char *out, *err;
	cJSON *j;

	cr_assert_eq(test_run((char *[]){ (char *)test_bin("vioscope"), "doctor", NULL },
			      &out, &err), 0, "%s", err);
	cr_assert_not_null(strstr(out, "KVM on this host:"));
	for (const char *const *e = (const char *const[]){ "pvm-kvm", "real-kvm", "qemu-tcg",
				 "vmm-net", "vhost-net", "vmm-usb", "usb-host", "vmm-gfx", "vmm-virgl",
				 "qemu-net", "qemu-gfx", "qemu-virgl", "nested-testbed", "vfio",
				 "tracing", NULL }; *e; e++)
		cr_assert_not_null(strstr(out, *e), "%s missing: %s", *e, out);
	free(out);
	free(err);

	cr_assert_eq(test_run((char *[]){ (char *)test_bin("vioscope"), "doctor", "--json", NULL },
			      &out, &err), 0);
	j = cJSON_Parse(out);
	cr_assert_not_null(j, "doctor --json is JSON: %s", out);
	cr_assert_eq(cJSON_GetArraySize(cJSON_GetObjectItem(j, "environments")), 15);
	cJSON_Delete(j);
	free(out);
	free(err);
}

Test(cli, bad_commands_fail_with_one_line)
{
	char *out, *err;

	cr_assert_neq(test_run((char *[]){ (char *)test_bin("vioscope"), "frobnicate", NULL },
				&out, &err), 0);
	cr_assert_eq(test_count_lines(err), 1, "%s", err);
	free(out);
	free(err);
}

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	cr_assert_not_null(f);
	fputs(text, f);
	fclose(f);
}

/* A console as the L2 guest prints it: CR LF line ends, markers, fio JSON. */
Test(cli, testbed_result_judges_a_fio_console)
{
	char console[] = "/tmp/vioscope-console-XXXXXX", json[] = "/tmp/vioscope-res-XXXXXX";
	char *out, *err;
	cJSON *j;
	int fd;

	fd = mkstemp(console);
	close(fd);
	fd = mkstemp(json);
	close(fd);
	write_file(console,
		"[    1.0] booting\r\n@@VIO-BEGIN@@\r\nl2: fio status 0\r\n@@FIO-JSON-BEGIN@@\r\n"
		"{ \"jobs\": [ { \"error\": 0, \"write\": { \"iops\": 612.5, \"clat_ns\": { \"mean\": 1500000 } },"
		" \"read\": { \"iops\": 700.25 } } ] }\r\n@@FIO-JSON-END@@\r\n@@VIO-END@@\r\n");
	cr_assert_eq(test_run((char *[]){ (char *)test_bin("vioscope"), "testbed-result", "--suite",
					  "nvme-passthrough", "--console", console, "--out", json,
					  NULL }, &out, &err), 0, "%s", err);
	j = test_read_json(json);
	cr_assert_not_null(j);
	cr_assert_str_eq(cJSON_GetStringValue(cJSON_GetObjectItem(j, "status")), "passed");
	cr_assert_eq(test_json_num(j, "metrics.0.value"), 612.5);
	cr_assert_eq(test_json_num(j, "metrics.1.value"), 700.25);
	cr_assert_eq(test_json_num(j, "metrics.3.value"), 0, "fio_errors");
	cJSON_Delete(j);
	free(out);
	free(err);

	/* A verify error fails the suite. */
	write_file(console, "@@VIO-BEGIN@@\nl2: fio status 1\n@@FIO-JSON-BEGIN@@\n"
			    "{ \"jobs\": [ { \"error\": 84 } ] }\n@@FIO-JSON-END@@\n@@VIO-END@@\n");
	cr_assert_eq(test_run((char *[]){ (char *)test_bin("vioscope"), "testbed-result", "--suite",
					  "nvme-passthrough", "--console", console, "--out", json,
					  NULL }, &out, &err), 1);
	j = test_read_json(json);
	cr_assert_str_eq(cJSON_GetStringValue(cJSON_GetObjectItem(j, "status")), "failed");
	cJSON_Delete(j);
	free(out);
	free(err);
	unlink(console);
	unlink(json);
}

Test(cli, fio_summary_reads_fio_json)
{
	char path[] = "/tmp/vioscope-fio-XXXXXX";
	char *out, *err;
	int fd = mkstemp(path);

	close(fd);
	write_file(path, "note: fio prints this first\n{ \"jobs\": [ { \"job options\": { \"rw\": \"randread\","
		   " \"bs\": \"4k\", \"iodepth\": \"1\" }, \"read\": { \"iops\": 12345.6, \"total_ios\": 1000,"
		   " \"clat_ns\": { \"percentile\": { \"50.000000\": 80000, \"99.000000\": 250000 } } } } ] }");
	cr_assert_eq(test_run((char *[]){ (char *)test_bin("vioscope"), "fio-summary", path, NULL },
			      &out, &err), 0, "%s", err);
	cr_assert_not_null(strstr(out, "native randread"), "%s", out);
	cr_assert_not_null(strstr(out, "12346 IOPS"), "%s", out);
	cr_assert_not_null(strstr(out, "p50    80.00 us"), "%s", out);
	free(out);
	free(err);
	cr_assert_eq(test_run((char *[]){ (char *)test_bin("vioscope"), "fio-summary", "--label",
					  "qemu-pv", path, NULL }, &out, &err), 0, "%s", err);
	cr_assert_not_null(strstr(out, "qemu-pv randread"), "%s", out);
	free(out);
	free(err);
	write_file(path, "not json");
	cr_assert_eq(test_run((char *[]){ (char *)test_bin("vioscope"), "fio-summary", path, NULL },
			      &out, &err), 1);
	free(out);
	free(err);
	unlink(path);
}
