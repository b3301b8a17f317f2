#include "tests/helpers.h"

#include <cJSON.h>
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <linux/virtio_config.h>
#include <linux/virtio_pci.h>
#include <math.h>
#include <stddef.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "hypervisor/device.h"
#include "hypervisor/evloop.h"
#include "hypervisor/irq.h"
#include "hypervisor/kvm.h"
#include "lib/file.h"

const char *test_bin(const char *name)
{
	static char buf[8][512];
	static unsigned int slot;
	const char *dir = getenv("VIOSCOPE_BIN");
	char *p = buf[slot++ % 8];

	snprintf(p, 512, "%s/%s", dir ? dir : "bin", name);
	return p;
}

bool test_kvm_usable(const char **why)
{
	int fd = open("/dev/kvm", O_RDWR | O_CLOEXEC), vm;

	if (fd < 0) {
		*why = errno == ENOENT ? "/dev/kvm does not exist" : "/dev/kvm cannot be opened";
		return false;
	}
	vm = ioctl(fd, KVM_CREATE_VM, 0);
	close(fd);
	if (vm < 0) {
		*why = "KVM_CREATE_VM fails";
		return false;
	}
	close(vm);
	return true;
}

void test_require_kvm(void)
{
	const char *why;

	if (!test_kvm_usable(&why)) {
		fprintf(stderr, "SKIP: %s\n", why);
		cr_skip_test("needs a usable /dev/kvm: %s", why);
	}
}

void test_require_bpf(void)
{
	const char *why = NULL;

	if (geteuid() != 0)
		why = "BPF tracing needs root";
	else if (access("/sys/kernel/btf/vmlinux", R_OK))
		why = "no kernel BTF (/sys/kernel/btf/vmlinux)";
	if (why) {
		fprintf(stderr, "SKIP: %s\n", why);
		cr_skip_test("%s", why);
	}
}

void test_require_virgl(void)
{
	/* What virglrenderer's EGL renders with when there is no GPU. */
	if (access("/usr/lib/x86_64-linux-gnu/libEGL_mesa.so.0", R_OK) ||
	    access("/usr/lib/x86_64-linux-gnu/dri/swrast_dri.so", R_OK)) {
		fprintf(stderr, "SKIP: no Mesa EGL / llvmpipe (scripts/install-deps): virgl cannot "
				"render\n");
		cr_skip_test("no Mesa EGL");
	}
}

static void drain(int fd, char **buf, size_t *len, size_t *cap)
{
	ssize_t n;

	if (*len + 4096 >= *cap) {
		*cap = *cap ? *cap * 2 : 65536;
		*buf = realloc(*buf, *cap);
	}
	n = read(fd, *buf + *len, *cap - *len - 1);
	if (n > 0)
		*len += (size_t)n;
	(*buf)[*len] = 0;
}

int test_run(char *const argv[], char **out, char **err)
{
	int po[2], pe[2], status;
	char *ob = NULL, *eb = NULL;
	size_t ol = 0, oc = 0, el = 0, ec = 0;
	struct pollfd pfd[2];
	pid_t pid;
	int open_fds = 2;

	if (pipe(po) || pipe(pe))
		return -1;
	pid = fork();
	if (pid == 0) {
		int devnull = open("/dev/null", O_RDONLY);

		dup2(devnull, 0);
		dup2(po[1], 1);
		dup2(pe[1], 2);
		execv(argv[0], argv);
		_exit(127);
	}
	close(po[1]);
	close(pe[1]);
	oc = ec = 65536;
	ob = calloc(1, oc);
	eb = calloc(1, ec);
	pfd[0] = (struct pollfd){ .fd = po[0], .events = POLLIN };
	pfd[1] = (struct pollfd){ .fd = pe[0], .events = POLLIN };
	while (open_fds) {
		int i;

		if (poll(pfd, 2, -1) < 0 && errno != EINTR)
			break;
		for (i = 0; i < 2; i++) {
			size_t before;

			if (pfd[i].fd < 0 || !(pfd[i].revents & (POLLIN | POLLHUP)))
				continue;
			before = i ? el : ol;
			if (i)
				drain(pe[0], &eb, &el, &ec);
			else
				drain(po[0], &ob, &ol, &oc);
			if ((i ? el : ol) == before) {
				close(pfd[i].fd);
				pfd[i].fd = -1;
				open_fds--;
			}
		}
	}
	waitpid(pid, &status, 0);
	if (out)
		*out = ob;
	else
		free(ob);
	if (err)
		*err = eb;
	else
		free(eb);
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

int test_run_vmm(const char *const args[], char **out, char **err, cJSON **json)
{
	char path[] = "/tmp/vioscope-test-XXXXXX";
	char *argv[64];
	int n = 0, rc, fd = mkstemp(path);

	cr_assert_geq(fd, 0);
	close(fd);
	argv[n++] = (char *)test_bin("vioscope-vmm");
	while (*args && n < 60)
		argv[n++] = (char *)*args++;
	argv[n++] = "--json";
	argv[n++] = path;
	argv[n] = NULL;
	rc = test_run(argv, out, err);
	*json = test_read_json(path);
	unlink(path);
	return rc;
}

cJSON *test_read_json(const char *path)
{
	char *text = file__read_text(path);
	cJSON *j = text ? cJSON_Parse(text) : NULL;

	free(text);
	return j;
}

double test_json_num(const cJSON *root, const char *path)
{
	char key[64];
	const char *p = path;

	while (root && *p) {
		size_t n = strcspn(p, ".");

		snprintf(key, sizeof(key), "%.*s", (int)n, p);
		if (cJSON_IsArray(root))
			root = cJSON_GetArrayItem(root, atoi(key));
		else
			root = cJSON_GetObjectItemCaseSensitive(root, key);
		p += n;
		if (*p == '.')
			p++;
	}
	return cJSON_IsNumber(root) ? root->valuedouble : NAN;
}

int test_count_lines(const char *s)
{
	int n = 0;

	for (; s && *s; s++)
		if (*s == '\n')
			n++;
	return n;
}

struct kvm *test_fake_kvm(void)
{
	struct kvm *kvm = calloc(1, sizeof(*kvm));

	kvm->sys_fd = kvm->vm_fd = kvm->ram_fd = kvm->stop_fd = -1;
	bus__init(&kvm->pio_bus, "pio");
	bus__init(&kvm->mmio_bus, "mmio");
	pci__host_init(&kvm->pci, kvm);
	irq__init(kvm);
	return kvm;
}

struct kvm *test_fake_kvm_with_ram(uint64_t ram_size)
{
	struct kvm *kvm = test_fake_kvm();

	kvm->ram = calloc(1, ram_size);
	kvm->ram_size = ram_size;
	return kvm;
}

uint32_t test_mmio_read(struct kvm *kvm, uint64_t addr, uint32_t len)
{
	uint32_t v = 0;

	cr_assert(bus__dispatch(&kvm->mmio_bus, addr, &v, len, false), "nothing at %#lx",
		  (unsigned long)addr);
	return v;
}

void test_mmio_write(struct kvm *kvm, uint64_t addr, uint32_t v, uint32_t len)
{
	cr_assert(bus__dispatch(&kvm->mmio_bus, addr, &v, len, true), "nothing at %#lx",
		  (unsigned long)addr);
}

#define COMMON(f) offsetof(struct virtio_pci_common_cfg, f)

void test_virtio_bring_up(struct kvm *kvm, uint64_t bar, uint32_t features, unsigned int nr,
			  uint16_t qsize, uint64_t ring, uint64_t stride)
{
	unsigned int q;

	test_mmio_write(kvm, bar + COMMON(device_status), 0, 1);
	test_mmio_write(kvm, bar + COMMON(device_status),
			VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER, 1);
	test_mmio_write(kvm, bar + COMMON(guest_feature_select), 0, 4);
	test_mmio_write(kvm, bar + COMMON(guest_feature), features, 4);
	test_mmio_write(kvm, bar + COMMON(guest_feature_select), 1, 4);
	test_mmio_write(kvm, bar + COMMON(guest_feature), 1, 4);	/* VERSION_1 */
	test_mmio_write(kvm, bar + COMMON(device_status), 0x0b, 1);
	cr_assert(test_mmio_read(kvm, bar + COMMON(device_status), 1) & VIRTIO_CONFIG_S_FEATURES_OK,
		  "features accepted");
	for (q = 0; q < nr; q++) {
		test_mmio_write(kvm, bar + COMMON(queue_select), q, 2);
		test_mmio_write(kvm, bar + COMMON(queue_size), qsize, 2);
		test_mmio_write(kvm, bar + COMMON(queue_desc_lo), (uint32_t)(ring + q * stride), 4);
		test_mmio_write(kvm, bar + COMMON(queue_avail_lo), (uint32_t)(ring + q * stride + 0x1000), 4);
		test_mmio_write(kvm, bar + COMMON(queue_used_lo), (uint32_t)(ring + q * stride + 0x2000), 4);
		test_mmio_write(kvm, bar + COMMON(queue_enable), 1, 2);
	}
	test_mmio_write(kvm, bar + COMMON(device_status), 0x0f, 1);
	cr_assert_eq(test_mmio_read(kvm, bar + COMMON(device_status), 1), 0x0f, "driver OK");
}

void test_fake_kvm_evloop(struct kvm *kvm)
{
	kvm->evloop = evloop__new();
	cr_assert_not_null(kvm->evloop);
	cr_assert_eq(evloop__start(kvm->evloop), 0);
}

int test_nic_backend(char *args, size_t len)
{
	int sv[2];

	cr_assert_eq(socketpair(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0, sv), 0);
	snprintf(args, len, "fd=%d", sv[1]);
	return sv[0];
}

void test_fake_kvm_free(struct kvm *kvm)
{
	if (kvm->evloop) {
		/* Callbacks end before the devices they call go. */
		evloop__stop(kvm->evloop);
		device__destroy_all(kvm);
		evloop__free(kvm->evloop);
	}
	free(kvm->ram);
	irq__exit(kvm);
	pci__host_exit(&kvm->pci);
	bus__exit(&kvm->pio_bus);
	bus__exit(&kvm->mmio_bus);
	free(kvm);
}
