/* vioscope-vmm as a user runs it: options, errors and a misbehaving guest. */
#include <cJSON.h>
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tests/helpers.h"

/* Bad input: a non-zero exit and exactly one "error:" line. */
static void expect_one_error(char *const argv[], const char *needle)
{
	char *out, *err;
	int rc = test_run(argv, &out, &err);

	cr_assert_neq(rc, 0, "%s: exit status 0", needle);
	cr_assert_not_null(strstr(err, "error:"), "stderr: %s", err);
	cr_assert_not_null(strstr(err, needle), "expected '%s' in: %s", needle, err);
	cr_assert_eq(test_count_lines(err), 1, "one line, got: %s", err);
	free(out);
	free(err);
}

Test(vmm_cli, rejects_bad_options_with_one_line)
{
	const char *vmm = test_bin("vioscope-vmm");

	expect_one_error((char *[]){ (char *)vmm, "--bogus", NULL }, "--bogus");
	expect_one_error((char *[]){ (char *)vmm, "--mem", "lots", NULL }, "--mem");
	expect_one_error((char *[]){ (char *)vmm, "--mem", "8G", NULL }, "--mem");
	expect_one_error((char *[]){ (char *)vmm, "--cpus", "0", NULL }, "--cpus");
	expect_one_error((char *[]){ (char *)vmm, "--cpus", "2x", NULL }, "--cpus");
	expect_one_error((char *[]){ (char *)vmm, "--initrd", "x", NULL }, "--kernel");
	expect_one_error((char *[]){ (char *)vmm, "--kernel", "a", "--guest", "b", NULL },
			 "exclusive");
	expect_one_error((char *[]){ (char *)vmm, "extra", NULL }, "unexpected argument");
}

Test(vmm_cli, help_and_device_list)
{
	char *out;

	cr_assert_eq(test_run((char *[]){ (char *)test_bin("vioscope-vmm"), "--help", NULL },
			      &out, NULL), 0);
	cr_assert_not_null(strstr(out, "--workload"));
	free(out);
	cr_assert_eq(test_run((char *[]){ (char *)test_bin("vioscope-vmm"), "--list-devices",
					  NULL }, &out, NULL), 0);
	cr_assert_not_null(strstr(out, "uart"));
	cr_assert_not_null(strstr(out, "bench"));
	free(out);
}

Test(vmm_errors, missing_kvm_device_is_one_clear_line)
{
	char *out, *err;
	int rc;

	if (getuid() != 0 || access("/usr/bin/unshare", X_OK)) {
		fprintf(stderr, "SKIP: needs root and unshare to hide /dev/kvm\n");
		cr_skip_test("needs root and unshare");
	}
	/* A private /dev without kvm in a new mount namespace. */
	rc = test_run((char *[]){ "/usr/bin/unshare", "-m", "sh", "-c",
		"mount -t tmpfs none /dev && exec \"$0\"", (char *)test_bin("vioscope-vmm"),
		NULL }, &out, &err);
	cr_assert_neq(rc, 0);
	cr_assert_not_null(strstr(err, "/dev/kvm does not exist"), "%s", err);
	cr_assert_eq(test_count_lines(err), 1, "%s", err);
	free(out);
	free(err);
}

Test(vmm_errors, kvm_permission_denied_is_one_clear_line)
{
	char dir[] = "/tmp/vioscope-nobody-XXXXXX", exe[64], cmd[256];
	char *out, *err;
	int rc;

	if (getuid() != 0 || access("/usr/bin/setpriv", X_OK)) {
		fprintf(stderr, "SKIP: needs root and setpriv to drop privileges\n");
		cr_skip_test("needs root and setpriv");
	}
	test_require_kvm();
	/* A copy in a world-readable place: the build tree may not be. */
	cr_assert_not_null(mkdtemp(dir));
	chmod(dir, 0755);
	snprintf(exe, sizeof(exe), "%s/vioscope-vmm", dir);
	snprintf(cmd, sizeof(cmd), "cp '%s' '%s' && chmod 755 '%s'", test_bin("vioscope-vmm"),
		 exe, exe);
	cr_assert_eq(system(cmd), 0);
	rc = test_run((char *[]){ "/usr/bin/setpriv", "--reuid=65534", "--regid=65534",
		"--clear-groups", exe, NULL }, &out, &err);
	unlink(exe);
	rmdir(dir);
	cr_assert_neq(rc, 0);
	cr_assert_not_null(strstr(err, "permission denied"), "%s", err);
	cr_assert_eq(test_count_lines(err), 1, "%s", err);
	free(out);
	free(err);
}

Test(vmm_errors, bad_guest_and_kernel_images)
{
	char trunc[] = "/tmp/vioscope-test-XXXXXX";
	const char *vmm = test_bin("vioscope-vmm");
	FILE *in, *outf;
	char buf[200];
	int fd;

	test_require_kvm();
	/* The first 200 bytes of the real guest: a truncated ELF. */
	fd = mkstemp(trunc);
	cr_assert_geq(fd, 0);
	in = fopen(test_bin("vioscope-guest.elf"), "rb");
	cr_assert_not_null(in);
	cr_assert_eq(fread(buf, 1, sizeof(buf), in), sizeof(buf));
	fclose(in);
	outf = fdopen(fd, "wb");
	fwrite(buf, 1, sizeof(buf), outf);
	fclose(outf);

	expect_one_error((char *[]){ (char *)vmm, "--guest", trunc, NULL }, "truncated");
	/* An ELF is taken for a vmlinux: the same checks apply. */
	expect_one_error((char *[]){ (char *)vmm, "--kernel", trunc, NULL }, "truncated");
	expect_one_error((char *[]){ (char *)vmm, "--guest", "/nonexistent", NULL },
			 "No such file");
	expect_one_error((char *[]){ (char *)vmm, "--kernel", "/etc/hostname", NULL },
			 "not a bzImage");
	unlink(trunc);
}

/* Any ELF64 passed as --kernel is loaded at its physical addresses and
 * entered with rsi = zero page, as a vmlinux is. The probe guest takes rsi
 * for its vCPU index, so it parks in its entry code: the VMM's timeout
 * report shows it running there, in long mode. */
Test(vmm_guest, elf_kernel_is_loaded_and_entered)
{
	char *out, *err;
	int rc;

	test_require_kvm();
	rc = test_run((char *[]){ (char *)test_bin("vioscope-vmm"), "--kernel",
				  (char *)test_bin("vioscope-guest.elf"), "--timeout", "2", NULL },
		      &out, &err);
	cr_assert_eq(rc, 3, "the guest parks, the VMM times out: %d %s", rc, err);
	cr_assert_not_null(strstr(err, "vcpu0 stopped at rip 0x1000"), "%s", err);
	free(out);
	free(err);
}

Test(vmm_guest, unknown_workload_fails_cleanly)
{
	char *out, *err;
	int rc;

	test_require_kvm();
	rc = test_run((char *[]){ (char *)test_bin("vioscope-vmm"), "--workload", "dance",
				  NULL }, &out, &err);
	cr_assert_eq(rc, 1, "guest status VIO_ERR_WORKLOAD, got %d", rc);
	cr_assert_not_null(strstr(out, "unknown workload 'dance'"), "%s", out);
	free(out);
	free(err);
	rc = test_run((char *[]){ (char *)test_bin("vioscope-vmm"), "--workload",
				  "micro kind=pio colour=red", NULL }, &out, &err);
	cr_assert_eq(rc, 1);
	cr_assert_not_null(strstr(out, "colour"), "%s", out);
	free(out);
	free(err);
}

Test(vmm_guest, unmapped_accesses_are_counted_and_rate_limited)
{
	char *out, *err;
	cJSON *j;
	int rc;

	test_require_kvm();
	rc = test_run_vmm((const char *[]){ "--workload", "poke count=500", NULL }, &out, &err, &j);
	cr_assert_eq(rc, 0, "stderr: %s", err);
	cr_assert_not_null(strstr(out, "2000 accesses, 0 reads not all-ones"), "%s", out);
	/* Two sites (PIO, MMIO) log their first 10 each, + the end-of-run total. */
	cr_assert_leq(test_count_lines(err), 2 * 10 + 1, "%s", err);
	cr_assert_not_null(j);
	cr_assert_eq(test_json_num(j, "exits.unmapped_pio"), 1000);
	cr_assert_eq(test_json_num(j, "exits.unmapped_mmio"), 1000);
	cJSON_Delete(j);
	free(out);
	free(err);
}

Test(vmm_guest, boots_with_several_vcpus_and_reports_the_environment)
{
	char *out, *err;
	const char *kind;
	cJSON *j;
	int rc;

	test_require_kvm();
	rc = test_run_vmm((const char *[]){ "--cpus", "2", "--mem", "64M", NULL }, &out, &err, &j);
	cr_assert_eq(rc, 0, "stderr: %s", err);
	cr_assert_not_null(strstr(out, "cpu 0 of 2, 64 MiB"), "%s", out);
	cr_assert_not_null(strstr(out, "1234:7105"), "bench device enumerated: %s", out);
	cr_assert_not_null(j);
	kind = cJSON_GetStringValue(cJSON_GetObjectItem(cJSON_GetObjectItem(j, "environment"),
							"kvm_kind"));
	cr_assert_not_null(kind);
	cr_assert_not_null(cJSON_GetObjectItem(cJSON_GetObjectItem(j, "environment"),
					       "git_revision"));
	cr_assert_eq(test_json_num(j, "vm.cpus"), 2);
	cr_assert_gt(test_json_num(j, "vm.tsc_khz"), 0);
	cJSON_Delete(j);
	free(out);
	free(err);
}

Test(vmm_guest, timeout_stops_a_guest_and_keeps_the_json)
{
	char *out, *err;
	cJSON *j;
	int rc;

	test_require_kvm();
	/* 200k unmapped accesses take far longer than one second here. */
	rc = test_run_vmm((const char *[]){ "--workload", "poke count=200000", "--timeout", "1",
					    NULL }, &out, &err, &j);
	cr_assert_eq(rc, 3, "timeout status, got %d: %s", rc, err);
	cr_assert_not_null(strstr(err, "timeout"), "%s", err);
	cr_assert_not_null(strstr(err, "vcpu0 stopped at rip"), "%s", err);
	cr_assert_not_null(j, "the JSON is still written");
	cr_assert_gt(test_json_num(j, "exits.unmapped_pio"), 0);
	cJSON_Delete(j);
	free(out);
	free(err);
}

Test(vmm_guest, sigint_stops_cleanly_and_keeps_what_was_recorded)
{
	char json[] = "/tmp/vioscope-sigint-XXXXXX";
	int status, fd = mkstemp(json);
	cJSON *j;
	pid_t pid;

	test_require_kvm();
	close(fd);
	pid = fork();
	if (pid == 0) {
		int null = open("/dev/null", O_WRONLY);

		dup2(null, 1);
		dup2(null, 2);
		execl(test_bin("vioscope-vmm"), "vioscope-vmm", "--workload",
		      "micro kind=pio count=500; poke count=1000000", "--json", json, NULL);
		_exit(127);
	}
	/* Wait until the micro record is in, then interrupt the poke. */
	usleep(1500 * 1000);
	kill(pid, SIGINT);
	waitpid(pid, &status, 0);
	cr_assert(WIFEXITED(status), "exited, not killed");
	cr_assert_eq(WEXITSTATUS(status), 128 + SIGINT);
	j = test_read_json(json);
	cr_assert_not_null(j, "JSON written after SIGINT");
	cr_assert_str_eq(cJSON_GetStringValue(cJSON_GetObjectItem(j, "stop_reason")),
			 "interrupted by a signal");
	cr_assert_eq(test_json_num(j, "results.0.ops"), 500, "the finished record is kept");
	cJSON_Delete(j);
	unlink(json);
}
