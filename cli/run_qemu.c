/*
 * Booting the Linux guest under QEMU for one workload, shared by the
 * class runners (run_disk.c, run_net.c, run_usb.c, run_gfx.c). The agent in the guest runs the
 * workload and prints the tool's JSON between markers on the console,
 * which is QEMU's stdout here (-nographic), logged to qemu.log.
 *
 * A net guest gets the host side of its network too: a child enters a
 * network namespace of its own (lib/netns.c) with a TAP at 10.0.2.1/24,
 * starts an iperf3 server there, then QEMU with the TAP's descriptor.
 * When QEMU exits the child stops the server and exits, and the
 * namespace, which nothing else holds, goes with it: nothing to clean
 * up, also after a crash (PR_SET_PDEATHSIG takes the child down with us).
 *
 * Traced (run --trace), QEMU logs its device-path events
 * (hypervisor/qemu/trace.c) and the cell gets the guest's register
 * accesses (exits, under KVM) and interrupts per device operation.
 */
#include <cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cli/run.h"
#include "hypervisor/qemu/qemu.h"
#include "hypervisor/qemu/trace.h"
#include "lib/file.h"
#include "lib/json.h"
#include "lib/netns.h"

#define QEMU_TIMEOUT "600"
#define CONSOLE_MAX (64 << 20)

const char *run_qemu__unavailable(const struct run_ctx *ctx, const char *class,
				  const char *mode, char *buf, size_t len)
{
	if (!qemu__device(class, mode)) {
		snprintf(buf, len, "QEMU has no %s mode '%s' in vioscope's device table", class,
			 mode);
		return buf;
	}
	if (!run__have("qemu-system-x86_64"))
		return "QEMU is not installed (scripts/install-deps nested)";
	if (!strcmp(class, "net") && (geteuid() != 0 || !run__have("iperf3")))
		return geteuid() ? "the network namespace and TAP need root"
				 : "iperf3 is not installed (scripts/install-deps)";
	if (!strcmp(class, "usb") && !strcmp(mode, "pv") && geteuid())
		return "USB/IP's server sits in a network namespace with a TAP: needs root";
	if (!strcmp(class, "usb") && !strcmp(mode, "pv") && access("/usr/sbin/usbip", X_OK))
		return "usbip is not installed (scripts/install-deps nested): the guest image "
		       "has no usbip attach";
	if (!ctx->guest_dir[0]) {
		snprintf(buf, len, "no Linux guest image: %s", ctx->guest_error);
		return buf;
	}
	return NULL;
}

/* QEMU in a network namespace with the guest's far end (server: iperf3,
 * or vioscope's USB/IP server), its command line from argv[first] on;
 * exits with QEMU's status (125: the namespace could not be set up, said
 * in log). */
static void __attribute__((noreturn)) net_child(struct qemu_vm *vm, char **argv, size_t first,
						size_t max, char *buf, size_t len,
						char **server_argv, const char *log,
						const char *server_log)
{
	char why[200];
	pid_t server;
	int tap, rc;

	prctl(PR_SET_PDEATHSIG, SIGKILL);
	tap = netns__enter_with_tap("vtap0", QEMU_NET_HOST, 24, why, sizeof(why));
	if (tap < 0) {
		FILE *f = fopen(log, "w");

		if (f) {
			fprintf(f, "error: %s\n", why);
			fclose(f);
		}
		_exit(125);
	}
	/* The server does not inherit the TAP (O_CLOEXEC); QEMU does. */
	server = run__spawn(server_argv, server_log);
	vm->tap_fd = tap;
	if (fcntl(tap, F_SETFD, 0) || qemu__argv(vm, argv + first, max - first, buf, len) < 0)
		_exit(125);
	rc = run__command(argv, log);
	if (server > 0) {
		kill(server, SIGTERM);
		run__wait(server);
	}
	_exit(rc < 0 ? 126 : rc);
}

/* The trace's counts per operation of the device, as metrics. */
static int trace_metrics(const struct qemu_vm *vm, const cJSON *agent, const char *path,
			 struct run_result *r, char *why, size_t why_len)
{
	struct qemu_trace_counts c;
	double ops = json__num(agent, 0, "ops", NULL, NULL);

	if (qemu_trace__count(path, qemu__device(vm->class, vm->mode), &c, why, why_len))
		return -1;
	if (ops <= 0) {
		/* Nothing to divide by (a display: the agent counts no frames):
		 * the workload's totals. */
		run_result__add(r, "qemu_accesses", "count", false, c.accesses);
		if (c.have_interrupts)
			run_result__add(r, "qemu_interrupts", "count", false, c.interrupts);
		return 0;
	}
	run_result__add(r, "qemu_accesses_per_op", "count", false, c.accesses / ops);
	if (c.have_interrupts)
		run_result__add(r, "qemu_interrupts_per_op", "count", false, c.interrupts / ops);
	return 0;
}

cJSON *run_qemu__boot(const struct run_ctx *ctx, struct qemu_vm *vm, struct run_result *r,
		      char *why, size_t why_len)
{
	char kernel[288], initrd[288], log[256], server_log[256], buf[2048], *argv[48], *text;
	char events[256], trace_log[256];
	const char *err;
	struct stat st;
	size_t n = 0;
	cJSON *j;
	int rc;

	snprintf(kernel, sizeof(kernel), "%s/vmlinuz", ctx->guest_dir);
	snprintf(initrd, sizeof(initrd), "%s/%s", ctx->guest_dir,
		 vm->initrd_name ? vm->initrd_name : "initrd.cpio.gz");
	snprintf(log, sizeof(log), "%s/qemu.log", ctx->workdir);
	snprintf(server_log, sizeof(server_log), "%s/%s-server.log", ctx->workdir,
		 strcmp(vm->class, "usb") ? "iperf3" : "usbip");
	vm->qemu = "qemu-system-x86_64";
	vm->accel = ctx->accel;
	vm->kernel = kernel;
	vm->initrd = initrd;
	if (ctx->trace) {
		FILE *f;

		snprintf(events, sizeof(events), "%s/qemu-trace.events", ctx->workdir);
		snprintf(trace_log, sizeof(trace_log), "%s/qemu-trace.log", ctx->workdir);
		f = fopen(events, "w");
		if (!f || fputs(qemu_trace__events, f) < 0 || fclose(f)) {
			snprintf(why, why_len, "%s: %s", events, strerror(errno));
			return NULL;
		}
		unlink(trace_log);
		vm->trace_events = events;
		vm->trace_log = trace_log;
	}
	/* timeout(1) first: a guest that hangs must not hang the run. A GL
	 * display gets a private X server (xvfb-run -a: a free display
	 * number, the server gone with QEMU). */
	argv[n++] = "/usr/bin/timeout";
	argv[n++] = QEMU_TIMEOUT;
	if (qemu__needs_x(vm)) {
		argv[n++] = "xvfb-run";
		argv[n++] = "-a";
		argv[n++] = "-s";
		argv[n++] = "-screen 0 1920x1080x24 -nolisten tcp";
	}
	if (qemu__needs_net(vm)) {
		/* The command line needs the TAP, which the child makes. */
		char cli[256], disk[320];
		char *iperf3[] = { "/usr/bin/env", "iperf3", "--server", "--one-off", "--bind",
				   QEMU_NET_HOST, NULL };
		char *usbip[] = { cli, "usbip-server", "--disk", disk, "--listen",
				  QEMU_NET_HOST ":3240", NULL };
		pid_t pid;

		snprintf(cli, sizeof(cli), "%s/vioscope", ctx->bindir);
		snprintf(disk, sizeof(disk), "%s", vm->image ? vm->image : "");
		pid = fork();
		if (pid == 0)
			net_child(vm, argv, n, sizeof(argv) / sizeof(argv[0]), buf, sizeof(buf),
				  strcmp(vm->class, "usb") ? iperf3 : usbip, log, server_log);
		rc = run__wait(pid);
	} else if (qemu__argv(vm, argv + n, sizeof(argv) / sizeof(argv[0]) - n, buf,
			      sizeof(buf)) < 0) {
		snprintf(why, why_len, "cannot build the QEMU command line");
		return NULL;
	} else {
		rc = run__command(argv, log);
	}
	/* The console is the guest's to fill: read a sane amount only. */
	if (stat(log, &st) == 0 && st.st_size > CONSOLE_MAX) {
		snprintf(why, why_len, "the guest wrote %lld bytes to its console, more than the %d "
			 "a result can take (see %s)", (long long)st.st_size, CONSOLE_MAX, log);
		return NULL;
	}
	text = file__read_text(log);
	if (rc == 125 && text && !strncmp(text, "error: ", 7)) {
		snprintf(why, why_len, "%.*s", (int)strcspn(text + 7, "\n"), text + 7);
		free(text);
		return NULL;
	}
	j = qemu__agent_result(text, why, why_len);
	free(text);
	if (!j) {
		char what[160];

		snprintf(what, sizeof(what), "%s", why);
		snprintf(why, why_len, "QEMU exited %d%s, %s (see %s)", rc,
			 rc == 124 ? " (timed out after " QEMU_TIMEOUT " s)" : "", what, log);
		return NULL;
	}
	if (json__num(j, -1, "status", NULL, NULL) == 0 &&
	    cJSON_IsObject(cJSON_GetObjectItem(j, "result"))) {
		if (ctx->trace && trace_metrics(vm, j, trace_log, r, why, why_len)) {
			cJSON_Delete(j);
			return NULL;
		}
		return j;
	}
	/* The agent's reason, else the tool's own (iperf3 -J: "error"). */
	err = cJSON_GetStringValue(cJSON_GetObjectItem(j, "error"));
	if (!err)
		err = cJSON_GetStringValue(
			cJSON_GetObjectItem(cJSON_GetObjectItem(j, "result"), "error"));
	snprintf(why, why_len, "%s in the guest exited %.0f%s%s (see %s)",
		 cJSON_GetStringValue(cJSON_GetObjectItem(j, "job")) ?: "the workload",
		 json__num(j, -1, "status", NULL, NULL), err ? ": " : "", err ? err : "", log);
	cJSON_Delete(j);
	return NULL;
}
