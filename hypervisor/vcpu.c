/*
 * vCPU threads and exit dispatch. Each exit goes to the PIO or MMIO bus by
 * binary search; USDT probes mark the exit and the end of its handling so
 * that collectors can time userspace exit handling per device.
 */
#include "hypervisor/vcpu.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/sdt.h>
#include <unistd.h>

#include "hypervisor/kvm.h"
#include "lib/log.h"

#define VCPU_KICK_SIGNAL	SIGUSR1

const char *const vcpu_exit_names[NR_EXIT_KINDS] = {
	[EXIT_PIO] = "pio", [EXIT_MMIO] = "mmio", [EXIT_HLT] = "hlt",
	[EXIT_INTR] = "intr", [EXIT_SHUTDOWN] = "shutdown",
	[EXIT_INTERNAL] = "internal_error", [EXIT_OTHER] = "other",
	[EXIT_RAW] = "raw_loop", [EXIT_UNHANDLED] = "unhandled",
};

static void kick_handler(int sig)
{
	(void)sig;
}

/*
 * KVM_GET_SUPPORTED_CPUID describes the host; a guest also needs to know it
 * is one: the hypervisor bit (CPUID.1:ECX[31]) is what makes Linux look at
 * the KVM leaves at 0x40000000 (kvmclock, PV features), and the initial
 * APIC ID (CPUID.1:EBX[31:24]) must be the vCPU's.
 */
static void filter_cpuid(struct kvm_cpu *cpu, struct kvm_cpuid2 *cpuid)
{
	uint32_t i;

	for (i = 0; i < cpuid->nent; i++) {
		struct kvm_cpuid_entry2 *e = &cpuid->entries[i];

		if (e->function != 1)
			continue;
		e->ecx |= 1u << 31;
		e->ebx = (e->ebx & 0x00ffffffu) | ((uint32_t)cpu->id << 24);
	}
}

static int set_cpuid(struct kvm_cpu *cpu)
{
	struct kvm_cpuid2 *cpuid;
	int nent = 100, ret;

	for (;;) {
		cpuid = calloc(1, sizeof(*cpuid) + (size_t)nent * sizeof(cpuid->entries[0]));
		if (!cpuid)
			return -ENOMEM;
		cpuid->nent = (uint32_t)nent;
		ret = __kvm_ioctl(cpu->kvm->sys_fd, KVM_GET_SUPPORTED_CPUID, cpuid);
		if (ret == 0 || errno != E2BIG)
			break;
		free(cpuid);
		nent *= 2;
	}
	if (ret == 0) {
		filter_cpuid(cpu, cpuid);
		ret = kvm_ioctl(cpu->fd, KVM_SET_CPUID2, cpuid);
	} else {
		ret = -errno;
	}
	free(cpuid);
	return ret;
}

int kvm_cpu__create(struct kvm *kvm, int id, struct kvm_cpu **out)
{
	struct kvm_cpu *cpu = calloc(1, sizeof(*cpu));
	int ret;

	if (!cpu)
		return -ENOMEM;
	cpu->id = id;
	cpu->kvm = kvm;
	hist__init(&cpu->dispatch_ns);
	perf_counters__init(&cpu->perf);
	cpu->fd = kvm_ioctl(kvm->vm_fd, KVM_CREATE_VCPU, id);
	if (cpu->fd < 0) {
		ret = cpu->fd;
		free(cpu);
		return ret;
	}
	cpu->run = mmap(NULL, (size_t)kvm->vcpu_mmap_size, PROT_READ | PROT_WRITE,
			MAP_SHARED, cpu->fd, 0);
	if (cpu->run == MAP_FAILED) {
		ret = -errno;
		close(cpu->fd);
		free(cpu);
		return ret;
	}
	ret = set_cpuid(cpu);
	if (ret)
		pr_warn("vcpu%d: KVM_SET_CPUID2 failed, guest sees defaults", id);
	if (!kvm->tsc_khz) {
		ret = __kvm_ioctl(cpu->fd, KVM_GET_TSC_KHZ, 0);
		kvm->tsc_khz = ret > 0 ? (uint64_t)ret : 0;
	}
	*out = cpu;
	return 0;
}

void kvm_cpu__destroy(struct kvm_cpu *cpu)
{
	munmap(cpu->run, (size_t)cpu->kvm->vcpu_mmap_size);
	close(cpu->fd);
	free(cpu);
}

static void handle_pio(struct kvm_cpu *cpu)
{
	struct kvm_run *run = cpu->run;
	uint8_t *data = (uint8_t *)run + run->io.data_offset;
	bool is_write = run->io.direction == KVM_EXIT_IO_OUT;
	uint32_t i;

	DTRACE_PROBE4(vioscope, exit_pio, cpu->id, run->io.port, run->io.size, is_write);
	/* String I/O (rep outsb/insb) arrives as count back-to-back accesses. */
	for (i = 0; i < run->io.count; i++, data += run->io.size) {
		if (bus__dispatch(&cpu->kvm->pio_bus, run->io.port, data, run->io.size, is_write))
			continue;
		cpu->exits[EXIT_UNHANDLED]++;
		if (!is_write)
			memset(data, 0xff, run->io.size);	/* floating ISA bus */
		pr_warn_ratelimited("vcpu%d: %s of unmapped port %#x", cpu->id,
				    is_write ? "write" : "read", run->io.port);
	}
}

static void handle_mmio(struct kvm_cpu *cpu)
{
	struct kvm_run *run = cpu->run;
	uint32_t len = run->mmio.len;

	DTRACE_PROBE4(vioscope, exit_mmio, cpu->id, run->mmio.phys_addr, len,
		      run->mmio.is_write);
	if (len > sizeof(run->mmio.data))
		len = sizeof(run->mmio.data);
	if (bus__dispatch(&cpu->kvm->mmio_bus, run->mmio.phys_addr, run->mmio.data, len,
			  run->mmio.is_write))
		return;
	cpu->exits[EXIT_UNHANDLED]++;
	if (!run->mmio.is_write)
		memset(run->mmio.data, 0xff, len);
	pr_warn_ratelimited("vcpu%d: %s of unmapped address %#llx", cpu->id,
			    run->mmio.is_write ? "write" : "read",
			    (unsigned long long)run->mmio.phys_addr);
}

static bool raw_match(const struct kvm *kvm, const struct kvm_run *run)
{
	if (kvm->raw_is_pio)
		return run->exit_reason == KVM_EXIT_IO && run->io.port == kvm->raw_addr;
	return run->exit_reason == KVM_EXIT_MMIO && run->mmio.phys_addr == kvm->raw_addr;
}

/*
 * The baseline loop of the pio-raw / mmio-raw microbenchmarks: nothing
 * between two KVM_RUNs but the check that the exit is the benchmark's own.
 * Returns with a different exit pending in cpu->run, or -errno.
 */
static int kvm_cpu__raw_loop(struct kvm_cpu *cpu)
{
	uint64_t n = 0;
	int ret;

	while ((ret = ioctl(cpu->fd, KVM_RUN, 0)) == 0 && raw_match(cpu->kvm, cpu->run))
		n++;
	cpu->exits[EXIT_RAW] += n;
	return ret < 0 ? -errno : 0;
}

/* The stop reason names the vCPU and where it was; main logs it once. */
static void kvm_cpu__fatal(struct kvm_cpu *cpu, const char *what)
{
	struct kvm_regs regs;
	char reason[128];

	if (__kvm_ioctl(cpu->fd, KVM_GET_REGS, &regs) == 0)
		snprintf(reason, sizeof(reason), "vcpu%d: %s at rip %#llx", cpu->id, what,
			 (unsigned long long)regs.rip);
	else
		snprintf(reason, sizeof(reason), "vcpu%d: %s", cpu->id, what);
	kvm__request_stop(cpu->kvm, VMM_EXIT_VM_FAILED, reason);
}

/* Returns false when the vCPU must stop. */
static bool kvm_cpu__dispatch(struct kvm_cpu *cpu)
{
	struct kvm_run *run = cpu->run;
	char what[96];

	switch (run->exit_reason) {
	case KVM_EXIT_IO:
		cpu->exits[EXIT_PIO]++;
		handle_pio(cpu);
		return true;
	case KVM_EXIT_MMIO:
		cpu->exits[EXIT_MMIO]++;
		handle_mmio(cpu);
		return true;
	case KVM_EXIT_HLT:
		cpu->exits[EXIT_HLT]++;
		return true;
	case KVM_EXIT_INTR:
		cpu->exits[EXIT_INTR]++;
		return true;
	case KVM_EXIT_SHUTDOWN:
		cpu->exits[EXIT_SHUTDOWN]++;
		kvm_cpu__fatal(cpu, "guest shut down (triple fault)");
		return false;
	case KVM_EXIT_INTERNAL_ERROR:
		cpu->exits[EXIT_INTERNAL]++;
		snprintf(what, sizeof(what), "KVM internal error, suberror %u",
			 run->internal.suberror);
		kvm_cpu__fatal(cpu, what);
		return false;
	case KVM_EXIT_SYSTEM_EVENT:
		cpu->exits[EXIT_OTHER]++;
		kvm__request_stop(cpu->kvm, 0, "guest requested reset or power off");
		return false;
	default:
		cpu->exits[EXIT_OTHER]++;
		snprintf(what, sizeof(what), "unhandled exit reason %u", run->exit_reason);
		kvm_cpu__fatal(cpu, what);
		return false;
	}
}

/* The vCPU this thread runs, for device handlers that need its state. */
static __thread struct kvm_cpu *current_cpu;

uint64_t vcpu__exit_ns(void)
{
	return current_cpu ? current_cpu->exit_ns : 0;
}

#define MSR_IA32_TSC	0x10

/*
 * The guest's TSC as KVM computes it (host TSC scaled plus the vCPU's
 * offset) read between two host clock reads; the narrowest of a few tries
 * bounds the error. Only the vCPU's own thread may ask (it is not in
 * KVM_RUN then).
 */
int vcpu__tsc_anchor(struct tsc_anchor *a)
{
	/* struct kvm_msrs ends in a flexible array: room for one entry. */
	uint64_t buf[(sizeof(struct kvm_msrs) + sizeof(struct kvm_msr_entry)) / 8 + 1];
	struct kvm_msrs *m = (struct kvm_msrs *)buf;
	int i, ok = 0;

	if (!current_cpu)
		return -EPERM;
	for (i = 0; i < 5; i++) {
		uint64_t t0, t1;

		memset(buf, 0, sizeof(buf));
		m->nmsrs = 1;
		m->entries[0].index = MSR_IA32_TSC;
		t0 = now_ns();
		if (__kvm_ioctl(current_cpu->fd, KVM_GET_MSRS, m) != 1)
			continue;
		t1 = now_ns();
		if (!ok || (t1 - t0) / 2 < a->err_ns) {
			a->tsc = m->entries[0].data;
			a->host_ns = t0 + (t1 - t0) / 2;
			a->err_ns = (t1 - t0) / 2 + 1;
			ok = 1;
		}
	}
	return ok ? 0 : -EIO;
}

static void *kvm_cpu__thread(void *arg)
{
	struct kvm_cpu *cpu = arg;
	struct kvm *kvm = cpu->kvm;
	sigset_t set;

	current_cpu = cpu;
	sigemptyset(&set);
	sigaddset(&set, VCPU_KICK_SIGNAL);
	pthread_sigmask(SIG_UNBLOCK, &set, NULL);
	perf_counters__open_self(&cpu->perf);

	while (!__atomic_load_n(&kvm->stopping, __ATOMIC_ACQUIRE)) {
		uint64_t t0;
		int ret;

		if (__atomic_load_n(&kvm->raw_phase, __ATOMIC_RELAXED))
			ret = kvm_cpu__raw_loop(cpu);
		else
			ret = ioctl(cpu->fd, KVM_RUN, 0) < 0 ? -errno : 0;
		if (ret == -EINTR || ret == -EAGAIN) {
			cpu->run->immediate_exit = 0;
			cpu->exits[EXIT_INTR]++;
			continue;
		}
		if (ret) {
			kvm_cpu__fatal(cpu, "KVM_RUN failed");
			break;
		}
		t0 = now_ns();
		cpu->exit_ns = t0;
		if (!kvm_cpu__dispatch(cpu))
			break;
		t0 = now_ns() - t0;
		hist__record(&cpu->dispatch_ns, t0);
		DTRACE_PROBE3(vioscope, exit_done, cpu->id, cpu->run->exit_reason, t0);
	}
	return NULL;
}

int kvm_cpu__start(struct kvm_cpu *cpu)
{
	static bool handler_installed;
	sigset_t set;
	int ret;

	if (!handler_installed) {
		/* No SA_RESTART: the signal must make KVM_RUN return EINTR. */
		struct sigaction sa = { .sa_handler = kick_handler };

		sigaction(VCPU_KICK_SIGNAL, &sa, NULL);
		handler_installed = true;
	}
	/* Other threads keep the kick signal blocked; vCPU threads unblock it. */
	sigemptyset(&set);
	sigaddset(&set, VCPU_KICK_SIGNAL);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	ret = pthread_create(&cpu->thread, NULL, kvm_cpu__thread, cpu);
	return -ret;
}

void kvm_cpu__stop(struct kvm_cpu *cpu)
{
	/* immediate_exit closes the race of a signal sent just before KVM_RUN. */
	cpu->run->immediate_exit = 1;
	pthread_kill(cpu->thread, VCPU_KICK_SIGNAL);
	pthread_join(cpu->thread, NULL);
}
