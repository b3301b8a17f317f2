/*
 * vioscope-agent: /init of the Linux guest image (scripts/build-guest-image),
 * the same under QEMU and vioscope-vmm. It mounts the usual file systems,
 * loads the modules named on the kernel command line, runs the one
 * workload asked for there, prints its result between markers on the
 * console and powers the machine off.
 *
 *   vio.modules=ahci,sd_mod      modules to load (modprobe, in order)
 *   vio.job=fio                  fio on /dev/$vio.dev (default vda) with
 *   vio.fio=RW:BS:QD:SECONDS       io_uring, O_DIRECT, time based,
 *                                  1 s ramp, total-latency percentiles
 *                                  (fio's own JSON result)
 *   vio.job=iperf3               iperf3's client on $vio.dev (default eth0)
 *   vio.iperf3=KIND:SECONDS[:BITRATE]  at $vio.ip (address/prefix) against
 *   vio.ip=10.0.2.15/24            the server at vio.server; KIND tcp-tx
 *   vio.server=10.0.2.1            (guest sends), tcp-rx (host sends, -R)
 *                                  or udp-tx (at BITRATE, default 100M);
 *                                  the first second omitted (-O 1)
 *   vio.job=shell                the kernel, PCI devices and uptime
 *
 * Output: "@@VIOSCOPE-RESULT-BEGIN@@", one JSON object
 *   {"job": "fio", "device": "/dev/vda", "status": 0, "ops": <device ops
 *    during the workload>, "result": <the tool's JSON or null>}
 * then "@@VIOSCOPE-RESULT-END@@". A statically linked C program: the image
 * needs no shell for it, and every argument reaches the tool unparsed by
 * one.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/io.h>
#include <sys/mount.h>
#include <sys/reboot.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define BEGIN "@@VIOSCOPE-RESULT-BEGIN@@"
#define END "@@VIOSCOPE-RESULT-END@@"

static char cmdline[4096];

/* The value of vio.KEY= on the kernel command line, else dflt, in buf. */
static char *arg(const char *key, const char *dflt, char *buf, size_t len)
{
	char pat[64];
	const char *p;

	snprintf(pat, sizeof(pat), "vio.%s=", key);
	snprintf(buf, len, "%s", dflt);
	for (p = cmdline; (p = strstr(p, pat)); p++)
		if (p == cmdline || p[-1] == ' ') {
			size_t n = strcspn(p + strlen(pat), " \n");

			snprintf(buf, len, "%.*s", (int)n, p + strlen(pat));
			break;
		}
	return buf;
}

/* Runs argv with stdout to out (or the console); its exit status. */
static int run(char *const argv[], const char *out)
{
	int status;
	pid_t pid = fork();

	if (pid == 0) {
		if (out) {
			int fd = open(out, O_WRONLY | O_CREAT | O_TRUNC, 0644);

			if (fd >= 0)
				dup2(fd, STDOUT_FILENO);
		}
		execv(argv[0], argv);
		fprintf(stderr, "agent: cannot run %s: %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	if (pid < 0 || waitpid(pid, &status, 0) < 0)
		return -1;
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

static void cat(const char *path)
{
	char buf[4096];
	size_t n;
	FILE *f = fopen(path, "r");

	if (!f) {
		fputs("null", stdout);
		return;
	}
	while ((n = fread(buf, 1, sizeof(buf), f)) > 0)
		fwrite(buf, 1, n, stdout);
	fclose(f);
}

/*
 * Brackets the workload for the hypervisor's own tracing: a byte written
 * to port 0x80 (the POST-code port, which Linux leaves alone) is one
 * trapped access with a recognisable value, 'V' before and 'v' after, so
 * QEMU's trace of the device path (-trace memory_region_ops_write) can
 * leave the boot out.
 */
static void mark(int start)
{
	if (ioperm(0x80, 1, 1) == 0)
		outb(start ? 'V' : 'v', 0x80);
}

/* The operations dev completed so far, as the guest counts them: reads
 * and writes for a block device (/sys/block/DEV/stat), packets both ways
 * for a NIC. The hypervisor's counts are divided by the difference. */
static double ops_of(const char *dev)
{
	char path[96];
	double v[2] = { 0, 0 };
	unsigned long long f[5];
	FILE *fp;
	int i;

	snprintf(path, sizeof(path), "/sys/block/%s/stat", dev);
	fp = fopen(path, "r");
	if (fp) {
		if (fscanf(fp, "%llu %llu %llu %llu %llu", &f[0], &f[1], &f[2], &f[3], &f[4]) == 5) {
			v[0] = (double)f[0];
			v[1] = (double)f[4];
		}
		fclose(fp);
		return v[0] + v[1];
	}
	for (i = 0; i < 2; i++) {
		snprintf(path, sizeof(path), "/sys/class/net/%s/statistics/%s_packets", dev,
			 i ? "tx" : "rx");
		fp = fopen(path, "r");
		if (fp) {
			if (fscanf(fp, "%llu", &f[0]) == 1)
				v[i] = (double)f[0];
			fclose(fp);
		}
	}
	return v[0] + v[1];
}

/* Prints the result object for a tool whose JSON went to out; ops: what
 * the device did meanwhile (ops_of). */
static void result(const char *job, const char *dev, int status, const char *out, double ops)
{
	printf(BEGIN "\n{\"job\": \"%s\", \"device\": \"%s\", \"status\": %d, \"ops\": %.0f, "
	       "\"result\": ", job, dev, status, ops);
	if (status == 0)
		cat(out);
	else
		fputs("null", stdout);
	printf("}\n" END "\n");
}

/* Some devices appear after their driver loads (usb-storage scans the
 * bus first): up to 20 s for /sys/block/dev. */
static int wait_block(const char *dev)
{
	char path[64];
	int i;

	snprintf(path, sizeof(path), "/sys/block/%s", dev);
	for (i = 0; i < 200 && access(path, F_OK); i++)
		usleep(100000);
	return access(path, F_OK);
}

static int job_fio(void)
{
	char spec[64], dev[32], path[48], rw[16] = "randread", bs[16] = "4k", qd[8] = "1";
	char secs[8] = "5", a_file[64], a_rw[32], a_bs[32], a_qd[32], a_rt[32];
	double ops;
	int status;

	arg("fio", "randread:4k:1:5", spec, sizeof(spec));
	sscanf(spec, "%15[^:]:%15[^:]:%7[^:]:%7s", rw, bs, qd, secs);
	snprintf(path, sizeof(path), "/dev/%s", arg("dev", "vda", dev, sizeof(dev)));
	snprintf(a_file, sizeof(a_file), "--filename=%s", path);
	snprintf(a_rw, sizeof(a_rw), "--rw=%s", rw);
	snprintf(a_bs, sizeof(a_bs), "--bs=%s", bs);
	snprintf(a_qd, sizeof(a_qd), "--iodepth=%s", qd);
	snprintf(a_rt, sizeof(a_rt), "--runtime=%s", secs);
	if (wait_block(dev)) {
		printf(BEGIN "\n{\"job\": \"fio\", \"device\": \"%s\", \"status\": 3, "
		       "\"result\": null, \"error\": \"no block device %s\"}\n" END "\n",
		       path, dev);
		return 3;
	}
	ops = ops_of(dev);
	mark(1);
	status = run((char *[]){ "/usr/bin/fio", "--name=agent", a_file, a_rw, a_bs, a_qd,
				 "--ioengine=io_uring", "--direct=1", "--time_based", a_rt,
				 "--ramp_time=1", "--randrepeat=0", "--lat_percentiles=1",
				 "--output-format=json", NULL },
		     "/tmp/result.json");
	mark(0);
	result("fio", path, status, "/tmp/result.json", ops_of(dev) - ops);
	return status;
}

/* The interface up at vio.ip, and its link: a NIC reports carrier a
 * little after it is brought up. */
static int net_up(const char *dev)
{
	char ip[48], addr[48], mask[24] = "255.255.255.0", path[96], c = '0';
	int prefix = 24, i;

	arg("ip", "10.0.2.15/24", ip, sizeof(ip));
	if (sscanf(ip, "%47[^/]/%d", addr, &prefix) < 1)
		return -1;
	if (prefix > 0 && prefix <= 32) {
		unsigned int m = ~0u << (32 - prefix);

		snprintf(mask, sizeof(mask), "%u.%u.%u.%u", m >> 24, (m >> 16) & 255,
			 (m >> 8) & 255, m & 255);
	}
	run((char *[]){ "/bin/ifconfig", "lo", "127.0.0.1", "up", NULL }, NULL);
	if (run((char *[]){ "/bin/ifconfig", (char *)dev, addr, "netmask", mask, "up", NULL },
		NULL))
		return -1;
	snprintf(path, sizeof(path), "/sys/class/net/%s/carrier", dev);
	for (i = 0; i < 50 && c != '1'; i++) {
		FILE *f = fopen(path, "r");

		if (f) {
			c = (char)fgetc(f);
			fclose(f);
		}
		if (c != '1')
			usleep(100000);
	}
	return c == '1' ? 0 : -1;
}

static int job_iperf3(void)
{
	char spec[64], dev[32], server[48], kind[16] = "tcp-tx", secs[8] = "5", rate[16] = "100M";
	char a_t[32], a_b[32];
	char *argv[16] = { "/usr/bin/iperf3", "-c", server, "-J", "-O", "1", "-t", a_t,
			   "--connect-timeout", "5000" };
	int argc = 10, status;
	double ops;

	arg("iperf3", "tcp-tx:5", spec, sizeof(spec));
	sscanf(spec, "%15[^:]:%7[^:]:%15s", kind, secs, rate);
	arg("dev", "eth0", dev, sizeof(dev));
	arg("server", "10.0.2.1", server, sizeof(server));
	snprintf(a_t, sizeof(a_t), "%s", secs);
	snprintf(a_b, sizeof(a_b), "%s", rate);
	if (!strcmp(kind, "tcp-rx")) {
		argv[argc++] = "-R";
	} else if (!strcmp(kind, "udp-tx")) {
		argv[argc++] = "-u";
		argv[argc++] = "-b";
		argv[argc++] = a_b;
	} else if (strcmp(kind, "tcp-tx")) {
		printf(BEGIN "\n{\"job\": \"iperf3\", \"status\": 2, \"result\": null, "
		       "\"error\": \"unknown kind %s\"}\n" END "\n", kind);
		return 2;
	}
	argv[argc] = NULL;
	if (net_up(dev)) {
		printf(BEGIN "\n{\"job\": \"iperf3\", \"device\": \"%s\", \"status\": 3, "
		       "\"result\": null, \"error\": \"the interface has no link\"}\n" END "\n",
		       dev);
		return 3;
	}
	/* iperf3 -J prints its JSON (with an "error" member) also when it
	 * fails: keep it, it says why. */
	ops = ops_of(dev);
	mark(1);
	status = run(argv, "/tmp/result.json");
	mark(0);
	result("iperf3", dev, access("/tmp/result.json", R_OK) ? status : 0, "/tmp/result.json",
	       ops_of(dev) - ops);
	return status;
}

static int job_shell(void)
{
	char buf[256] = "";
	FILE *f = fopen("/proc/uptime", "r");

	if (f) {
		if (!fgets(buf, sizeof(buf), f))
			buf[0] = 0;
		fclose(f);
	}
	buf[strcspn(buf, " \n")] = 0;
	printf(BEGIN "\n{\"job\": \"shell\", \"status\": 0, \"result\": {\"uptime_s\": %s}}\n" END
	       "\n", buf[0] ? buf : "0");
	return 0;
}

int main(void)
{
	char mods[512], job[32], *m, *save;
	int fd;

	mount("proc", "/proc", "proc", 0, NULL);
	mount("sysfs", "/sys", "sysfs", 0, NULL);
	mount("devtmpfs", "/dev", "devtmpfs", 0, NULL);
	mount("tmpfs", "/tmp", "tmpfs", 0, NULL);
	setenv("PATH", "/bin:/usr/bin", 1);
	fd = open("/proc/cmdline", O_RDONLY);
	if (fd >= 0) {
		ssize_t n = read(fd, cmdline, sizeof(cmdline) - 1);

		cmdline[n > 0 ? n : 0] = 0;
		close(fd);
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	for (m = strtok_r(arg("modules", "", mods, sizeof(mods)), ",", &save); m;
	     m = strtok_r(NULL, ",", &save))
		if (run((char *[]){ "/bin/modprobe", m, NULL }, NULL))
			printf("agent: modprobe %s failed\n", m);
	arg("job", "shell", job, sizeof(job));
	if (!strcmp(job, "fio"))
		job_fio();
	else if (!strcmp(job, "iperf3"))
		job_iperf3();
	else if (!strcmp(job, "shell"))
		job_shell();
	else
		printf(BEGIN "\n{\"job\": \"%s\", \"status\": 2, \"result\": null, "
		       "\"error\": \"unknown job\"}\n" END "\n", job);
	fflush(stdout);
	sync();
	reboot(RB_POWER_OFF);
	return 0;
}
