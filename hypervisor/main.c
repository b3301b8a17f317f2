/*
 * vioscope-vmm: the reference VMM. Builds a KVM VM with the core devices,
 * loads the probe guest or a Linux bzImage, runs it and writes what the
 * guest and the devices measured as JSON.
 */
#include <cJSON.h>
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "hypervisor/boot/loader.h"
#include "hypervisor/boot/x86.h"
#include "hypervisor/device.h"
#include "hypervisor/evloop.h"
#include "hypervisor/guest/abi.h"
#include "hypervisor/kvm.h"
#include "hypervisor/regions.h"
#include "hypervisor/results.h"
#include "hypervisor/vcpu.h"
#include "lib/env.h"
#include "lib/log.h"

#define GUEST_IMAGE_MAX		(64U << 20)
#define DEFAULT_CMDLINE		"console=ttyS0 earlyprintk=serial,ttyS0,115200 panic=-1"

struct options {
	uint64_t mem;
	int cpus;
	const char *guest;
	const char *kernel;
	const char *initrd;
	const char *cmdline;
	const char *workload;
	const char *json;
	const char *passthrough[4];	/* host PCI addresses for vfio-pci */
	int nr_passthrough;
	const char *disks[4];		/* MODE:SPEC */
	int nr_disks;
	const char *nets[2];		/* MODE:SPEC */
	int nr_nets;
	const char *usb;		/* MODE:SPEC */
	const char *usb_host;		/* VENDOR:PRODUCT */
	const char *gfx;		/* MODE[:SPEC] */
	int timeout_s;
	bool console;
	bool samples;
};

static volatile sig_atomic_t got_signal;
static int signal_stop_fd = -1;

static void usage(FILE *f)
{
	fprintf(f,
"usage: vioscope-vmm [options]\n"
"  --guest probe|FILE   run the probe guest (default) or another ELF64 guest\n"
"  --workload TEXT      workload for the probe guest, e.g. \"micro kind=pio count=20000\"\n"
"  --kernel FILE        boot Linux: a bzImage (boot protocol 2.12+) or a vmlinux ELF\n"
"  --initrd FILE        initramfs for --kernel\n"
"  --cmdline TEXT       kernel command line (default \"" DEFAULT_CMDLINE "\")\n"
"  --passthrough BDF    give the guest a host PCI device bound to vfio-pci (up to 4)\n"
"  --disk pv|emul:PATH[,size=64M][,engine=uring|sync][,direct][,delay=US]\n"
"                       a virtio-blk (pv) or AHCI (emul) disk on a raw image\n"
"                       (delay: hold each completion US us, to test regressions)\n"
"  --net pv|emul:tap=IFNAME|fd=N[,mac=52:54:00:12:34:56]\n"
"                       a virtio-net (pv) or e1000 (emul) NIC on a TAP (up to 2)\n"
"  --usb pv|emul:PATH[,size=64M]\n"
"                       a USB mass-storage disk on a raw image, behind an xHCI\n"
"                       controller (emul) or on the USB/IP channel (pv)\n"
"  --gfx emul|pv[:mode=1280x720][,capture=FILE.png][,virgl]\n"
"                       emul: bochs-display; pv: virtio-gpu (virgl: 3D through\n"
"                       virglrenderer); one mode offered; the last frame to a PNG\n"
"  --usb-host VENDOR:PRODUCT\n"
"                       pass a host USB device through usbfs to the xHCI controller\n"
"  --mem SIZE           guest RAM, e.g. 256M or 1G (default 256M, at most 3G)\n"
"  --cpus N             vCPUs (default 1, at most 64)\n"
"  --json FILE          write results, exits, device metrics and environment\n"
"  --samples            with --json: every per-op latency (ns) of each record\n"
"  --timeout SEC        stop the guest after SEC seconds (default 600, 0 = never)\n"
"  --quiet              do not copy the guest console to stdout\n"
"  --list-devices       list the device models\n"
"  -v, --verbose        debug logging\n"
"  --version            print the version and git revision\n"
"  -h, --help           this text\n");
}

static uint64_t parse_size(const char *s)
{
	char *end;
	unsigned long long v;

	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || end == s)
		die("--mem '%s': not a size", s);
	switch (*end) {
	case 'G': case 'g': v <<= 30; end++; break;
	case 'M': case 'm': v <<= 20; end++; break;
	case 'K': case 'k': v <<= 10; end++; break;
	case '\0': v <<= 20; break;	/* plain numbers are MiB, as in kvmtool */
	default: die("--mem '%s': unknown suffix (use K, M or G)", s);
	}
	if (*end)
		die("--mem '%s': trailing characters", s);
	return v;
}

static int parse_int(const char *opt, const char *s, int lo, int hi)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || end == s || *end || v < lo || v > hi)
		die("%s '%s': expected a number from %d to %d", opt, s, lo, hi);
	return (int)v;
}

static void parse_options(int argc, char **argv, struct options *o)
{
	static const struct option longopts[] = {
		{ "guest", required_argument, NULL, 'g' },
		{ "workload", required_argument, NULL, 'w' },
		{ "kernel", required_argument, NULL, 'k' },
		{ "initrd", required_argument, NULL, 'i' },
		{ "cmdline", required_argument, NULL, 'c' },
		{ "mem", required_argument, NULL, 'm' },
		{ "cpus", required_argument, NULL, 'n' },
		{ "json", required_argument, NULL, 'j' },
		{ "passthrough", required_argument, NULL, 'p' },
		{ "disk", required_argument, NULL, 'd' },
		{ "net", required_argument, NULL, 'N' },
		{ "usb", required_argument, NULL, 'U' },
		{ "usb-host", required_argument, NULL, 'H' },
		{ "gfx", required_argument, NULL, 'G' },
		{ "timeout", required_argument, NULL, 't' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "samples", no_argument, NULL, 'S' },
		{ "list-devices", no_argument, NULL, 'L' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "version", no_argument, NULL, 'V' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	int c;

	*o = (struct options){ .mem = 256ULL << 20, .cpus = 1, .timeout_s = 600,
			       .console = true };
	opterr = 0;
	while ((c = getopt_long(argc, argv, "vh", longopts, NULL)) != -1) {
		switch (c) {
		case 'g': o->guest = optarg; break;
		case 'w': o->workload = optarg; break;
		case 'k': o->kernel = optarg; break;
		case 'i': o->initrd = optarg; break;
		case 'c': o->cmdline = optarg; break;
		case 'm': o->mem = parse_size(optarg); break;
		case 'n': o->cpus = parse_int("--cpus", optarg, 1, 64); break;
		case 'j': o->json = optarg; break;
		case 'd':
			if (o->nr_disks == 4)
				die("--disk: at most 4 disks");
			if (strncmp(optarg, "pv:", 3) && strncmp(optarg, "emul:", 5))
				die("--disk %s: expected pv:PATH (virtio-blk) or emul:PATH (AHCI)", optarg);
			o->disks[o->nr_disks++] = optarg;
			break;
		case 'N':
			if (o->nr_nets == 2)
				die("--net: at most 2 NICs");
			if (strncmp(optarg, "pv:", 3) && strncmp(optarg, "emul:", 5))
				die("--net %s: expected pv:tap=IF (virtio-net) or emul:tap=IF (e1000)", optarg);
			o->nets[o->nr_nets++] = optarg;
			break;
		case 'U':
			if (o->usb)
				die("--usb: one controller");
			if (strncmp(optarg, "emul:", 5) && strncmp(optarg, "pv:", 3))
				die("--usb %s: expected emul:PATH (xHCI) or pv:PATH (USB/IP channel)",
				    optarg);
			o->usb = optarg;
			break;
		case 'H':
			o->usb_host = optarg;
			break;
		case 'G':
			if (strcmp(optarg, "emul") && strncmp(optarg, "emul:", 5) &&
			    strcmp(optarg, "pv") && strncmp(optarg, "pv:", 3))
				die("--gfx %s: expected emul|pv[:mode=WxH][,capture=FILE.png] "
				    "(bochs-display | virtio-gpu; pv takes ,virgl)", optarg);
			o->gfx = optarg;
			break;
		case 'p':
			if (o->nr_passthrough == 4)
				die("--passthrough: at most 4 devices");
			o->passthrough[o->nr_passthrough++] = optarg;
			break;
		case 't': o->timeout_s = parse_int("--timeout", optarg, 0, INT_MAX / 1000); break;
		case 'q': o->console = false; break;
		case 'S': o->samples = true; break;
		case 'L': device__print_models(); exit(0);
		case 'v': log_level = LOG_DEBUG; break;
		case 'V': printf("vioscope-vmm %s\n", env__version()); exit(0);
		case 'h': usage(stdout); exit(0);
		default:
			die("unknown or incomplete option '%s' (see --help)", argv[optind - 1]);
		}
	}
	if (optind < argc)
		die("unexpected argument '%s' (see --help)", argv[optind]);
	if (o->kernel && o->guest)
		die("--kernel and --guest are exclusive");
	if (!o->kernel && (o->initrd || o->cmdline))
		die("--initrd and --cmdline need --kernel");
	if (o->kernel && o->workload)
		die("--workload is for the probe guest, not --kernel");
	if (o->workload && strlen(o->workload) >= VIO_WORKLOAD_MAX)
		die("--workload: longer than %d characters", VIO_WORKLOAD_MAX - 1);
	if (!o->kernel && !o->guest)
		o->guest = "probe";
	if (o->usb_host && o->usb && strncmp(o->usb, "emul:", 5))
		die("--usb-host: the device goes behind the xHCI (--usb emul:PATH), not the channel");
}

/* The probe guest is installed next to the VMM binary. */
static const char *probe_guest_path(char *buf, size_t len)
{
	ssize_t n = readlink("/proc/self/exe", buf, len - 32);
	char *slash;

	if (n <= 0)
		return "vioscope-guest.elf";
	buf[n] = 0;
	slash = strrchr(buf, '/');
	strcpy(slash ? slash + 1 : buf, "vioscope-guest.elf");
	return buf;
}

static int load_elf_guest(struct kvm *kvm, const struct options *o, uint64_t *entry)
{
	char pathbuf[PATH_MAX];
	const char *path = o->guest, *why;
	struct vio_boot_info *bi;
	uint8_t *img;
	size_t size;
	int ret;

	if (!strcmp(path, "probe"))
		path = probe_guest_path(pathbuf, sizeof(pathbuf));
	ret = loader__read_file(path, GUEST_IMAGE_MAX, &img, &size);
	if (ret) {
		pr_err("guest image %s: %s", path, strerror(-ret));
		return ret;
	}
	ret = elf__load(img, size, kvm->ram, kvm->ram_size, VIO_GUEST_LOAD_GPA, entry, &why);
	free(img);
	if (ret) {
		pr_err("guest image %s: %s", path, why);
		return ret;
	}
	bi = kvm__gpa_to_hva(kvm, VIO_BOOT_INFO_GPA, sizeof(*bi));
	*bi = (struct vio_boot_info){
		.magic = VIO_BOOT_MAGIC, .nr_cpus = (uint32_t)o->cpus,
		.ram_size = kvm->ram_size, .tsc_khz = kvm->tsc_khz,
	};
	if (o->workload)
		snprintf(bi->workload, sizeof(bi->workload), "%s", o->workload);
	return 0;
}

static void on_signal(int sig)
{
	got_signal = sig;
	if (signal_stop_fd >= 0)
		eventfd_write(signal_stop_fd, 1);
}

static void wait_for_stop(struct kvm *kvm, int timeout_s)
{
	struct pollfd pfd = { .fd = kvm->stop_fd, .events = POLLIN };
	struct sigaction sa = { .sa_handler = on_signal };
	int ret;

	signal_stop_fd = kvm->stop_fd;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	do {
		ret = poll(&pfd, 1, timeout_s ? timeout_s * 1000 : -1);
	} while (ret < 0 && errno == EINTR && !got_signal);
	if (got_signal)
		kvm__request_stop(kvm, 128 + got_signal, "interrupted by a signal");
	else if (ret == 0)
		kvm__request_stop(kvm, VMM_EXIT_TIMEOUT, "timeout: the guest did not finish in time");
}

static cJSON *exits_json(struct kvm *kvm)
{
	cJSON *o = cJSON_CreateObject(), *lat;
	struct hist all;
	int i, k;

	hist__init(&all);
	for (k = 0; k < NR_EXIT_KINDS; k++) {
		uint64_t n = 0;

		for (i = 0; i < kvm->nr_cpus; i++)
			n += kvm->cpus[i]->exits[k];
		cJSON_AddNumberToObject(o, vcpu_exit_names[k], (double)n);
	}
	for (i = 0; i < kvm->nr_cpus; i++)
		hist__merge(&all, &kvm->cpus[i]->dispatch_ns);
	cJSON_AddNumberToObject(o, "unmapped_pio", (double)kvm->pio_bus.unhandled);
	cJSON_AddNumberToObject(o, "unmapped_mmio", (double)kvm->mmio_bus.unhandled);
	lat = cJSON_AddObjectToObject(o, "dispatch_ns");
	cJSON_AddNumberToObject(lat, "count", (double)all.count);
	cJSON_AddNumberToObject(lat, "mean", hist__mean(&all));
	cJSON_AddNumberToObject(lat, "p50", (double)hist__quantile(&all, 0.5));
	cJSON_AddNumberToObject(lat, "p99", (double)hist__quantile(&all, 0.99));
	cJSON_AddNumberToObject(lat, "max", all.count ? (double)all.max : 0);
	return o;
}

static cJSON *build_report(struct kvm *kvm, const struct options *o)
{
	cJSON *root = cJSON_CreateObject(), *vm;

	cJSON_AddStringToObject(root, "tool", "vioscope-vmm");
	cJSON_AddItemToObject(root, "environment", env__to_json());
	vm = cJSON_AddObjectToObject(root, "vm");
	cJSON_AddNumberToObject(vm, "mem_bytes", (double)kvm->ram_size);
	cJSON_AddNumberToObject(vm, "cpus", kvm->nr_cpus);
	cJSON_AddNumberToObject(vm, "tsc_khz", (double)kvm->tsc_khz);
	cJSON_AddStringToObject(vm, "guest", o->kernel ? o->kernel : o->guest);
	cJSON_AddStringToObject(root, "workload", o->workload ? o->workload : "");
	cJSON_AddStringToObject(root, "stop_reason", kvm->stop_reason);
	cJSON_AddNumberToObject(root, "exit_status", kvm->exit_status);
	cJSON_AddItemToObject(root, "results", results__to_json(kvm));
	cJSON_AddNumberToObject(root, "rejected_result_records", (double)kvm->results->rejected);
	cJSON_AddItemToObject(root, "exits", exits_json(kvm));
	cJSON_AddItemToObject(root, "devices", device__all_to_json(kvm));
	return root;
}

static int write_json(cJSON *root, const char *path)
{
	char tmp[PATH_MAX];
	char *text = cJSON_Print(root);
	FILE *f;
	int ret = 0;

	if (!text)
		return -ENOMEM;
	/* Write then rename: a reader never sees half a file. */
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	f = fopen(tmp, "w");
	if (!f || fputs(text, f) < 0 || fputc('\n', f) < 0 || fclose(f) != 0 ||
	    rename(tmp, path) < 0) {
		pr_err("--json %s: %s", path, strerror(errno));
		ret = -errno;
	}
	free(text);
	return ret;
}

static int create_vcpus(struct kvm *kvm, const struct options *o)
{
	int i, ret;

	kvm->cpus = calloc((size_t)o->cpus, sizeof(*kvm->cpus));
	if (!kvm->cpus)
		return -ENOMEM;
	for (i = 0; i < o->cpus; i++) {
		ret = kvm_cpu__create(kvm, i, &kvm->cpus[i]);
		if (ret)
			return ret;
		kvm->nr_cpus++;
	}
	return 0;
}

static int setup_vcpus(struct kvm *kvm, const struct options *o, uint64_t entry)
{
	int i, ret;

	ret = x86__setup_long_mode_tables(kvm);
	if (ret)
		return ret;
	if (o->kernel)	/* APs wait for INIT/SIPI from Linux */
		return x86__enter_long_mode(kvm->cpus[0], entry, 0, BZ_ZERO_PAGE_GPA);
	/* Probe guest: every vCPU enters at once, rsi = its index. */
	for (i = 0; i < o->cpus; i++) {
		struct kvm_mp_state mp = { .mp_state = KVM_MP_STATE_RUNNABLE };

		ret = x86__enter_long_mode(kvm->cpus[i], entry, VIO_BOOT_INFO_GPA, (uint64_t)i);
		if (!ret && i > 0)
			ret = kvm_ioctl(kvm->cpus[i]->fd, KVM_SET_MP_STATE, &mp);
		if (ret)
			return ret;
	}
	return 0;
}

/* Everything between opening KVM and starting the vCPUs; 0 or -errno with
 * the error already reported. */
static int vm__build(struct kvm *kvm, const struct options *o)
{
	uint64_t entry = 0;
	int i, ret;

	kvm->results = results__new();
	kvm->evloop = evloop__new();
	if (!kvm->results || !kvm->evloop || evloop__start(kvm->evloop)) {
		pr_err("cannot start the event loop");
		return -ENOMEM;
	}
	if (pci__host_register(&kvm->pci) || !device__create(kvm, "uart", NULL) ||
	    !device__create(kvm, "i8042", NULL) || !device__create(kvm, "rtc", NULL) ||
	    (!o->kernel && (!device__create(kvm, "vioctl", NULL) ||
			    !device__create(kvm, "bench", NULL)))) {
		pr_err("cannot create the devices");
		return -ENODEV;
	}
	for (i = 0; i < o->nr_passthrough; i++)
		if (!device__create(kvm, "vfio-pci", o->passthrough[i]))
			return -ENODEV;	/* the model said why */
	for (i = 0; i < o->nr_disks; i++) {
		bool pv = !strncmp(o->disks[i], "pv:", 3);

		if (!device__create(kvm, pv ? "virtio-blk" : "ahci", o->disks[i] + (pv ? 3 : 5)))
			return -ENODEV;
	}
	for (i = 0; i < o->nr_nets; i++) {
		bool pv = !strncmp(o->nets[i], "pv:", 3);

		if (!device__create(kvm, pv ? "virtio-net" : "e1000", o->nets[i] + (pv ? 3 : 5)))
			return -ENODEV;
	}
	if (o->gfx) {
		bool pv = o->gfx[0] == 'p';
		const char *spec = strchr(o->gfx, ':');

		if (!device__create(kvm, pv ? "virtio-gpu" : "bochs-display", spec ? spec + 1 : ""))
			return -ENODEV;
	}
	if (o->usb || o->usb_host) {
		char args[512];

		snprintf(args, sizeof(args), "%s%s%s", o->usb ? strchr(o->usb, ':') + 1 : "",
			 o->usb && o->usb_host ? "," : "", o->usb_host ? "host=" : "");
		snprintf(args + strlen(args), sizeof(args) - strlen(args), "%s",
			 o->usb_host ? o->usb_host : "");
		if (!device__create(kvm, o->usb && o->usb[0] == 'p' ? "virtio-usbip" : "xhci", args))
			return -ENODEV;
	}
	regions__publish(kvm);	/* for the collectors: which device owns an address */
	/* The vCPUs exist before loading so that tsc_khz is known to the guest. */
	ret = create_vcpus(kvm, o);
	if (ret) {
		pr_err("cannot create vCPUs: %s", strerror(-ret));
		return ret;
	}
	if (!o->kernel)
		ret = load_elf_guest(kvm, o, &entry);
	else if (loader__is_elf(o->kernel))
		ret = vmlinux__load(kvm, o->kernel, o->initrd,
				    o->cmdline ? o->cmdline : DEFAULT_CMDLINE, &entry);
	else
		ret = bzimage__load(kvm, o->kernel, o->initrd,
				    o->cmdline ? o->cmdline : DEFAULT_CMDLINE, &entry);
	if (ret)
		return ret;
	ret = setup_vcpus(kvm, o, entry);
	if (ret)
		pr_err("cannot set up vCPUs: %s", strerror(-ret));
	return ret;
}

static void vm__teardown(struct kvm *kvm)
{
	int i;

	evloop__stop(kvm->evloop);
	regions__unpublish(kvm);
	device__destroy_all(kvm);
	for (i = 0; i < kvm->nr_cpus; i++)
		kvm_cpu__destroy(kvm->cpus[i]);
	free(kvm->cpus);
	evloop__free(kvm->evloop);
	results__free(kvm->results);
	kvm__exit(kvm);
}

/* After a timeout, where each vCPU was is the first thing one wants. */
static void report_vcpu_positions(struct kvm *kvm)
{
	struct kvm_regs regs;
	int i;

	for (i = 0; i < kvm->nr_cpus; i++) {
		const uint8_t *code;
		char hex[16 * 3 + 1];
		int k;

		if (__kvm_ioctl(kvm->cpus[i]->fd, KVM_GET_REGS, &regs))
			continue;
		pr_info("vcpu%d stopped at rip %#llx", i, (unsigned long long)regs.rip);
		/* With -v: the code there, if rip is identity-mapped RAM. */
		code = kvm__gpa_to_hva(kvm, regs.rip, 16);
		if (!code || log_level < LOG_DEBUG)
			continue;
		for (k = 0; k < 16; k++)
			snprintf(hex + 3 * k, 4, "%02x ", code[k]);
		pr_debug("vcpu%d code at rip: %s", i, hex);
	}
}

int main(int argc, char **argv)
{
	struct kvm_config cfg;
	struct options o;
	struct kvm kvm;
	cJSON *report;
	int i, ret;

	log_prog = "vioscope-vmm";
	parse_options(argc, argv, &o);
	cfg = (struct kvm_config){ .ram_size = o.mem, .nr_cpus = o.cpus, .console = o.console,
				   .samples = o.samples };

	ret = kvm__init(&kvm, &cfg);
	if (!ret)
		ret = vm__build(&kvm, &o);
	for (i = 0; !ret && i < kvm.nr_cpus; i++) {
		ret = kvm_cpu__start(kvm.cpus[i]);
		if (ret) {
			pr_err("cannot start vcpu%d: %s", i, strerror(-ret));
			kvm__request_stop(&kvm, VMM_EXIT_VM_FAILED, "vCPU start failed");
			while (i--)
				kvm_cpu__stop(kvm.cpus[i]);
		}
	}
	if (ret) {
		vm__teardown(&kvm);
		return VMM_EXIT_USAGE;
	}

	wait_for_stop(&kvm, o.timeout_s);
	for (i = 0; i < kvm.nr_cpus; i++)
		kvm_cpu__stop(kvm.cpus[i]);
	evloop__stop(kvm.evloop);

	if (kvm.pio_bus.unhandled || kvm.mmio_bus.unhandled)
		pr_warn("the guest accessed unmapped space %llu times (PIO) and %llu times (MMIO)",
			(unsigned long long)kvm.pio_bus.unhandled,
			(unsigned long long)kvm.mmio_bus.unhandled);
	if (kvm.exit_status)
		pr_err("%s", kvm.stop_reason);
	else
		pr_debug("%s", kvm.stop_reason);
	if (kvm.exit_status == VMM_EXIT_TIMEOUT)
		report_vcpu_positions(&kvm);
	report = build_report(&kvm, &o);
	results__print(cJSON_GetObjectItem(report, "results"), stdout);
	if (o.json && write_json(report, o.json))
		kvm.exit_status = kvm.exit_status ? kvm.exit_status : 1;
	cJSON_Delete(report);

	ret = kvm.exit_status;
	vm__teardown(&kvm);
	return ret;
}
