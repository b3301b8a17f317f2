/*
 * vioscope-agent: /init of the Linux guest image (scripts/build-guest-image),
 * the same under QEMU and vioscope-vmm. It mounts the usual file systems,
 * loads the modules named on the kernel command line, runs the one
 * workload asked for there, prints its result between markers on the
 * console and powers the machine off.
 *
 *   vio.modules=ahci,sd_mod      modules to load (modprobe, in order)
 *   vio.job=fio                  fio on /dev/$vio.dev (default vda), the
 *   vio.fio=RW:BS:QD:SECONDS       job /etc/vioscope/fio/guest.fio
 *   vio.usbip=HOST[:BUSID]         (first: eth0 up at vio.ip and `usbip
 *                                  attach`, the disk a USB/IP device)
 *                                  (workloads/fio/guest.fio: io_uring,
 *                                  O_DIRECT, time based, 1 s ramp,
 *                                  total-latency percentiles); fio's own
 *                                  JSON result
 *   vio.job=iperf3               iperf3's client on $vio.dev (default eth0)
 *   vio.iperf3=KIND:SECONDS[:BITRATE]  at $vio.ip (address/prefix) against
 *   vio.ip=10.0.2.15/24            the server at vio.server; KIND tcp-tx
 *   vio.server=10.0.2.1            (guest sends), tcp-rx (host sends, -R)
 *                                  or udp-tx (at BITRATE, default 100M);
 *                                  the first second omitted (-O 1)
 *   vio.job=glmark2              glmark2-es2-drm on /dev/dri/card0, the
 *   vio.glmark2=WxH                scenes of /etc/vioscope/glmark2.scenes
 *                                  (workloads/glmark2/scenes), Mesa's
 *                                  llvmpipe through kms_swrast, on screen
 *                                  at WxH, the one mode offered
 *                                  (write_edid); vio.gl=virgl: Mesa's
 *                                  virgl driver instead (virtio-gpu-gl).
 *                                  glmark2 has no JSON: its
 *                                  output goes as a string, {"size":
 *                                  "WxH", "output": "..."}
 *   vio.job=shell                the kernel, PCI devices and uptime
 *   vio.job=serial               jobs read from the console, one a line,
 *                                  after "@@VIOSCOPE-READY@@" (serial_jobs)
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
#define READY "@@VIOSCOPE-READY@@"

#define CMDLINE_MAX 4096	/* the kernel's, and a console line's */
static char cmdline[2 * CMDLINE_MAX + 2];

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

/* Runs argv with stdout (and, with both, stderr) to out, or the console;
 * its exit status. */
static int run_to(char *const argv[], const char *out, int both)
{
	int status;
	pid_t pid = fork();

	if (pid == 0) {
		if (out) {
			int fd = open(out, O_WRONLY | O_CREAT | O_TRUNC, 0644);

			if (fd >= 0)
				dup2(fd, STDOUT_FILENO);
			if (fd >= 0 && both)
				dup2(fd, STDERR_FILENO);
		}
		execv(argv[0], argv);
		fprintf(stderr, "agent: cannot run %s: %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	if (pid < 0 || waitpid(pid, &status, 0) < 0)
		return -1;
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

static int run(char *const argv[], const char *out)
{
	return run_to(argv, out, 0);
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

static int net_up(const char *dev);

/*
 * vio.usbip=HOST[:BUSID]: the disk is a USB device on a USB/IP server (the
 * paravirtual USB mode): eth0 up at vio.ip, then `usbip attach`, after
 * which the device appears on the guest's vhci-hcd like a local one.
 */
static int usbip_attach(char *why, size_t why_len)
{
	char spec[96], host[64], busid[32] = "1-1";

	if (!*arg("usbip", "", spec, sizeof(spec)))
		return 0;
	if (sscanf(spec, "%63[^:]:%31s", host, busid) < 1) {
		snprintf(why, why_len, "vio.usbip=%s: expected HOST[:BUSID]", spec);
		return -1;
	}
	if (net_up("eth0")) {
		snprintf(why, why_len, "eth0 did not come up for USB/IP");
		return -1;
	}
	if (run((char *[]){ "/usr/sbin/usbip", "attach", "-r", host, "-b", busid, NULL },
		"/tmp/usbip.log")) {
		snprintf(why, why_len, "usbip attach -r %s -b %s failed", host, busid);
		cat("/tmp/usbip.log");
		return -1;
	}
	return 0;
}

static int job_fio(void)
{
	char spec[64], dev[32], path[48], rw[16] = "randread", bs[16] = "4k", qd[8] = "1";
	char secs[8] = "5", why[160];
	double ops;
	int status;

	arg("fio", "randread:4k:1:5", spec, sizeof(spec));
	sscanf(spec, "%15[^:]:%15[^:]:%7[^:]:%7s", rw, bs, qd, secs);
	snprintf(path, sizeof(path), "/dev/%s", arg("dev", "vda", dev, sizeof(dev)));
	if (usbip_attach(why, sizeof(why))) {
		printf(BEGIN "\n{\"job\": \"fio\", \"device\": \"%s\", \"status\": 3, "
		       "\"result\": null, \"error\": \"%s\"}\n" END "\n", path, why);
		return 3;
	}
	if (wait_block(dev)) {
		printf(BEGIN "\n{\"job\": \"fio\", \"device\": \"%s\", \"status\": 3, "
		       "\"result\": null, \"error\": \"no block device %s\"}\n" END "\n",
		       path, dev);
		return 3;
	}
	/* The job file (workloads/fio/guest.fio) takes the pattern from here. */
	setenv("VIO_DEV", path, 1);
	setenv("VIO_RW", rw, 1);
	setenv("VIO_BS", bs, 1);
	setenv("VIO_QD", qd, 1);
	setenv("VIO_RUNTIME", secs, 1);
	ops = ops_of(dev);
	mark(1);
	status = run((char *[]){ "/usr/bin/fio", "--output-format=json",
				 "/etc/vioscope/fio/guest.fio", NULL }, "/tmp/result.json");
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

/* path's text as a JSON string. */
static void json_string(const char *path)
{
	FILE *f = fopen(path, "r");
	int c;

	putchar('"');
	while (f && (c = fgetc(f)) != EOF) {
		if (c == '"' || c == '\\')
			printf("\\%c", c);
		else if (c == '\n')
			fputs("\\n", stdout);
		else if (c < 0x20 || c > 0x7e)
			printf("\\u%04x", c & 0xff);
		else
			putchar(c);
	}
	putchar('"');
	if (f)
		fclose(f);
}

/*
 * One mode for every display: glmark2-es2-drm 2023.01 renders at the
 * largest mode a connector offers, and Linux's virtio_gpu offers QEMU's
 * whole EDID list (up to 5120x2160). An EDID 1.3 block (VESA E-EDID
 * Standard, section 3) with a single detailed timing of WxH, no
 * established or standard timings and no range limits (so nothing is
 * inferred), written where drm.edid_firmware=edid/vioscope.bin (on the
 * kernel command line) makes DRM take it instead of the device's own.
 * Blanking after CVT reduced blanking (160 pixels, 30 lines): the
 * virtual displays ignore the timings, only the size matters.
 */
static int write_edid(unsigned int w, unsigned int h)
{
	unsigned char e[128] = { 0x00, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x00,
				 0x59, 0x2f,	/* manufacturer "VIO" */
				 0x01, 0x00, 0, 0, 0, 0, 0, 34,	/* product 1, year 2024 */
				 1, 3,		/* EDID 1.3 */
				 0x80, 0x30, 0x1b, 0x78,	/* digital, 48x27 cm, gamma 2.2 */
				 0x0a,		/* RGB colour, preferred timing in DTD 1 */
				 0xee, 0x91, 0xa3, 0x54, 0x4c, 0x99, 0x26, 0x0f, 0x50, 0x54 };
	unsigned int hb = 160, vb = 30, hfp = 48, hsw = 32, vfp = 3, vsw = 5, wmm = 480, hmm = 270;
	unsigned int clk = (w + hb) * (h + vb) * 60 / 10000;	/* 10 kHz units */
	unsigned char *d = e + 54, sum = 0;
	FILE *f;
	int i;

	for (i = 38; i < 54; i++)
		e[i] = 0x01;	/* standard timings: unused */
	d[0] = clk & 0xff;
	d[1] = clk >> 8;
	d[2] = w & 0xff;
	d[3] = hb & 0xff;
	d[4] = (unsigned char)(((w >> 8) << 4) | (hb >> 8));
	d[5] = h & 0xff;
	d[6] = vb & 0xff;
	d[7] = (unsigned char)(((h >> 8) << 4) | (vb >> 8));
	d[8] = (unsigned char)hfp;
	d[9] = (unsigned char)hsw;
	d[10] = (unsigned char)((vfp << 4) | vsw);
	d[11] = 0;
	d[12] = wmm & 0xff;
	d[13] = hmm & 0xff;
	d[14] = (unsigned char)(((wmm >> 8) << 4) | (hmm >> 8));
	d[17] = 0x1e;	/* digital separate sync, +hsync +vsync */
	/* Descriptors 2-4: a monitor name and two dummies (tag 0x10). */
	memcpy(e + 72, "\0\0\0\xfc\0vioscope\n    ", 18);
	memcpy(e + 90, "\0\0\0\x10\0", 5);
	memcpy(e + 108, "\0\0\0\x10\0", 5);
	for (i = 0; i < 127; i++)
		sum = (unsigned char)(sum + e[i]);
	e[127] = (unsigned char)(0x100 - sum);
	mkdir("/lib/firmware", 0755);
	mkdir("/lib/firmware/edid", 0755);
	f = fopen("/lib/firmware/edid/vioscope.bin", "wb");
	if (!f || fwrite(e, 1, sizeof(e), f) != sizeof(e)) {
		if (f)
			fclose(f);
		return -1;
	}
	return fclose(f);
}

static int job_glmark2(void)
{
	char size[24] = "1280x720", gl[16], card[] = "/dev/dri/card0";
	/* No alpha: an XRGB8888 scanout, which every KMS driver takes (bochs
	 * refuses ARGB8888 framebuffers). -s 1x1: the DRM build always draws
	 * at the mode, but makes its surface only when the size asked for
	 * differs from the mode's (with --fullscreen, or the default 800x600
	 * on an 800x600 mode, it makes none: "glwindow has never been
	 * initialized"). */
	char *argv[12] = { "/usr/bin/glmark2-es2-drm", "-f", "/etc/vioscope/glmark2.scenes",
			   "--visual-config", "red=8:green=8:blue=8:alpha=0", "-s", "1x1" };
	int argc = 7, status, i;

	arg("glmark2", "1280x720", size, sizeof(size));
	for (i = 0; i < 100 && access(card, F_OK); i++)
		usleep(100000);
	argv[argc] = NULL;
	/* vio.gl=virgl: Mesa's virgl driver sends the GL work to the host
	 * (virtio-gpu-gl). Otherwise Mesa's software rasteriser on any KMS
	 * device (bochs has no DRI driver; virtio-gpu's wants virgl). */
	if (strcmp(arg("gl", "soft", gl, sizeof(gl)), "virgl")) {
		setenv("MESA_LOADER_DRIVER_OVERRIDE", "kms_swrast", 1);
		setenv("GALLIUM_DRIVER", "llvmpipe", 1);
	}
	mark(1);
	/* Its errors too: they say why when it fails. */
	status = run_to(argv, "/tmp/glmark2.txt", 1);
	mark(0);
	printf(BEGIN "\n{\"job\": \"glmark2\", \"device\": \"%s\", \"status\": %d, "
	       "\"ops\": 0, \"result\": {\"size\": \"%s\", \"output\": ", card, status, size);
	json_string("/tmp/glmark2.txt");
	printf("}}\n" END "\n");
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

/* One job, as the command line or a console line names it. */
static void dispatch(const char *job)
{
	if (!strcmp(job, "fio"))
		job_fio();
	else if (!strcmp(job, "iperf3"))
		job_iperf3();
	else if (!strcmp(job, "glmark2"))
		job_glmark2();
	else if (!strcmp(job, "shell"))
		job_shell();
	else
		printf(BEGIN "\n{\"job\": \"%.31s\", \"status\": 2, \"result\": null, "
		       "\"error\": \"unknown job\"}\n" END "\n", job);
}

/*
 * vio.job=serial: jobs from the console, one a line, in the command
 * line's own words ("vio.job=fio vio.fio=randread:4k:1:2"); a line's
 * words come before the command line's, so they win (arg() takes the
 * first). The modules are the command line's, loaded once.
 * "vio.job=poweroff" or the end of input ends. READY says when to send:
 * bytes sent while the kernel sets the UART up can be lost.
 */
static void serial_jobs(void)
{
	static char boot[CMDLINE_MAX];
	char line[CMDLINE_MAX], job[32];

	snprintf(boot, sizeof(boot), "%.*s", CMDLINE_MAX - 1, cmdline);
	printf(READY "\n");
	while (fgets(line, sizeof(line), stdin)) {
		line[strcspn(line, "\r\n")] = 0;
		snprintf(cmdline, sizeof(cmdline), "%s %s", line, boot);
		if (!strcmp(arg("job", "", job, sizeof(job)), "poweroff"))
			break;
		if (strcmp(job, "serial") && job[0])
			dispatch(job);
	}
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
		ssize_t n = read(fd, cmdline, CMDLINE_MAX - 1);

		cmdline[n > 0 ? n : 0] = 0;
		close(fd);
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	arg("job", "shell", job, sizeof(job));
	if (!strcmp(job, "glmark2")) {
		char spec[64];
		unsigned int w = 1280, h = 720;

		/* Before the DRM modules load: they read it at probe. */
		sscanf(arg("glmark2", "1280x720", spec, sizeof(spec)), "%ux%u", &w, &h);
		if (write_edid(w, h))
			printf("agent: cannot write the EDID override\n");
	}
	for (m = strtok_r(arg("modules", "", mods, sizeof(mods)), ",", &save); m;
	     m = strtok_r(NULL, ",", &save))
		if (run((char *[]){ "/bin/modprobe", m, NULL }, NULL))
			printf("agent: modprobe %s failed\n", m);
	if (!strcmp(job, "serial"))
		serial_jobs();
	else
		dispatch(job);
	fflush(stdout);
	sync();
	reboot(RB_POWER_OFF);
	return 0;
}
