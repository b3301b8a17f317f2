/*
 * The guest agent's serial-command mode (skipped without QEMU): the guest
 * boots with vio.job=serial under QEMU (TCG here), says it is ready on the
 * console, runs the jobs written to QEMU's stdin one a line, each result
 * between its markers, and powers off on "vio.job=poweroff".
 */
#include <cJSON.h>
#include <criterion/criterion.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "hypervisor/qemu/qemu.h"

/* Reads fd into buf until needle appears or EOF; false on 300 s silence. */
static bool read_until(int fd, char *buf, size_t len, size_t *have, const char *needle)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };

	while (!needle || !strstr(buf, needle)) {
		ssize_t n;

		if (poll(&p, 1, 300000) <= 0)
			return false;
		n = read(fd, buf + *have, len - 1 - *have);
		if (n <= 0)
			return !needle;
		*have += (size_t)n;
		buf[*have] = 0;
	}
	return true;
}

Test(qemu_agent, runs_jobs_sent_over_the_console, .timeout = 600)
{
	char dir[256] = "", kernel[300], initrd[300], image[] = "/tmp/vioscope-agent-XXXXXX";
	char argbuf[2048], *argv[48], *out = malloc(1 << 20), *p;
	struct qemu_vm vm = { .qemu = "qemu-system-x86_64", .accel = "tcg", .class = "disk",
			      .mode = "pv", .job = "vio.job=serial", .kernel = kernel,
			      .initrd = initrd, .image = image };
	int in[2], o[2], fd, status, results = 0;
	size_t have = 0;
	FILE *f;
	pid_t pid;
	static const char cmds[] = "vio.job=shell\n"
				   "vio.job=fio vio.fio=randread:4k:1:1\n"
				   "vio.job=nonsense\n"
				   "vio.job=poweroff\n";

	if (system("command -v qemu-system-x86_64 >/dev/null 2>&1")) {
		fprintf(stderr, "SKIP: QEMU is not installed (scripts/install-deps nested)\n");
		cr_skip_test("no QEMU");
	}
	f = popen("scripts/build-guest-image 2>/dev/null", "r");
	cr_assert_not_null(f);
	cr_assert_not_null(fgets(dir, sizeof(dir), f));
	cr_assert_eq(pclose(f), 0, "scripts/build-guest-image");
	dir[strcspn(dir, "\n")] = 0;
	snprintf(kernel, sizeof(kernel), "%s/vmlinuz", dir);
	snprintf(initrd, sizeof(initrd), "%s/initrd.cpio.gz", dir);
	fd = mkstemp(image);
	cr_assert_geq(fd, 0);
	cr_assert_eq(ftruncate(fd, 16 << 20), 0);
	close(fd);
	cr_assert_gt(qemu__argv(&vm, argv, 48, argbuf, sizeof(argbuf)), 0);
	cr_assert_eq(pipe(in), 0);
	cr_assert_eq(pipe(o), 0);
	pid = fork();
	if (pid == 0) {
		dup2(in[0], STDIN_FILENO);
		dup2(o[1], STDOUT_FILENO);
		dup2(o[1], STDERR_FILENO);
		execvp(argv[0], argv);
		_exit(127);
	}
	close(in[0]);
	close(o[1]);
	out[0] = 0;
	cr_assert(read_until(o[0], out, 1 << 20, &have, "@@VIOSCOPE-READY@@"), "%s", out);
	cr_assert_eq(write(in[1], cmds, sizeof(cmds) - 1), (ssize_t)sizeof(cmds) - 1);
	cr_assert(read_until(o[0], out, 1 << 20, &have, NULL), "QEMU did not exit: %s", out);
	cr_assert_eq(waitpid(pid, &status, 0), pid);
	cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0, "%s", out);
	/* Three results, in order: shell, fio (fio's JSON), the unknown job. */
	for (p = out; (p = strstr(p, "@@VIOSCOPE-RESULT-BEGIN@@")); p++) {
		char why[128];
		cJSON *j = qemu__agent_result(p, why, sizeof(why));
		const char *job;

		cr_assert_not_null(j, "%s", why);
		job = cJSON_GetStringValue(cJSON_GetObjectItem(j, "job"));
		cr_assert_str_eq(job, results == 0 ? "shell" : results == 1 ? "fio" : "nonsense");
		if (results == 1)
			cr_assert_not_null(cJSON_GetObjectItem(cJSON_GetObjectItem(j, "result"), "jobs"));
		if (results == 2)
			cr_assert_str_eq(cJSON_GetStringValue(cJSON_GetObjectItem(j, "error")),
					 "unknown job");
		cJSON_Delete(j);
		results++;
	}
	cr_assert_eq(results, 3, "%s", out);
	unlink(image);
	free(out);
}
