#include "collectors/exit_reasons.h"

#include <stdio.h>

#include "probes/kvm_exits.h"


/* include/uapi/linux/kvm.h: KVM_EXIT_* */
static const char *const kvm_exit_names[] = {
	"UNKNOWN", "EXCEPTION", "IO", "HYPERCALL", "DEBUG", "HLT", "MMIO",
	"IRQ_WINDOW_OPEN", "SHUTDOWN", "FAIL_ENTRY", "INTR", "SET_TPR", "TPR_ACCESS",
	"S390_SIEIC", "S390_RESET", "DCR", "NMI", "INTERNAL_ERROR", "OSI", "PAPR_HCALL",
	"S390_UCONTROL", "WATCHDOG", "S390_TSCH", "EPR", "SYSTEM_EVENT", "S390_STSI",
	"IOAPIC_EOI", "HYPERV", "ARM_NISV", "X86_RDMSR", "X86_WRMSR", "DIRTY_RING_FULL",
	"AP_RESET_HOLD", "X86_BUS_LOCK", "XEN", "RISCV_SBI", "RISCV_CSR", "NOTIFY",
	"LOONGARCH_IOCSR", "MEMORY_FAULT",
};

/* Intel SDM vol. 3, appendix C: basic exit reasons (low 16 bits). */
static const char *const vmx_names[] = {
	[0] = "EXCEPTION_NMI", [1] = "EXTERNAL_INTERRUPT", [2] = "TRIPLE_FAULT",
	[3] = "INIT_SIGNAL", [4] = "SIPI_SIGNAL", [7] = "INTERRUPT_WINDOW",
	[8] = "NMI_WINDOW", [9] = "TASK_SWITCH", [10] = "CPUID", [12] = "HLT",
	[13] = "INVD", [14] = "INVLPG", [15] = "RDPMC", [16] = "RDTSC", [18] = "VMCALL",
	[19] = "VMCLEAR", [20] = "VMLAUNCH", [21] = "VMPTRLD", [22] = "VMPTRST",
	[23] = "VMREAD", [24] = "VMRESUME", [25] = "VMWRITE", [26] = "VMOFF", [27] = "VMON",
	[28] = "CR_ACCESS", [29] = "DR_ACCESS", [30] = "IO_INSTRUCTION", [31] = "MSR_READ",
	[32] = "MSR_WRITE", [33] = "INVALID_STATE", [34] = "MSR_LOAD_FAIL",
	[36] = "MWAIT_INSTRUCTION", [37] = "MONITOR_TRAP_FLAG", [39] = "MONITOR_INSTRUCTION",
	[40] = "PAUSE_INSTRUCTION", [41] = "MCE_DURING_VMENTRY", [43] = "TPR_BELOW_THRESHOLD",
	[44] = "APIC_ACCESS", [45] = "EOI_INDUCED", [46] = "GDTR_IDTR", [47] = "LDTR_TR",
	[48] = "EPT_VIOLATION", [49] = "EPT_MISCONFIG", [50] = "INVEPT", [51] = "RDTSCP",
	[52] = "PREEMPTION_TIMER", [53] = "INVVPID", [54] = "WBINVD", [55] = "XSETBV",
	[56] = "APIC_WRITE", [57] = "RDRAND", [58] = "INVPCID", [59] = "VMFUNC",
	[60] = "ENCLS", [61] = "RDSEED", [62] = "PML_FULL", [63] = "XSAVES", [64] = "XRSTORS",
	[67] = "UMWAIT", [68] = "TPAUSE", [74] = "BUS_LOCK", [75] = "NOTIFY",
};

/* AMD APM vol. 2, appendix C: SVM exit codes. */
static const struct {
	uint32_t code;
	const char *name;
} svm_names[] = {
	{ 0x060, "intr" }, { 0x061, "nmi" }, { 0x062, "smi" }, { 0x063, "init" },
	{ 0x064, "vintr" }, { 0x065, "cr0_sel_write" }, { 0x06e, "rdtsc" }, { 0x06f, "rdpmc" },
	{ 0x070, "pushf" }, { 0x071, "popf" }, { 0x072, "cpuid" }, { 0x073, "rsm" },
	{ 0x074, "iret" }, { 0x075, "swint" }, { 0x076, "invd" }, { 0x077, "pause" },
	{ 0x078, "hlt" }, { 0x079, "invlpg" }, { 0x07a, "invlpga" }, { 0x07b, "ioio" },
	{ 0x07c, "msr" }, { 0x07d, "task_switch" }, { 0x07e, "ferr_freeze" },
	{ 0x07f, "shutdown" }, { 0x080, "vmrun" }, { 0x081, "vmmcall" }, { 0x082, "vmload" },
	{ 0x083, "vmsave" }, { 0x084, "stgi" }, { 0x085, "clgi" }, { 0x086, "skinit" },
	{ 0x087, "rdtscp" }, { 0x088, "icebp" }, { 0x089, "wbinvd" }, { 0x08a, "monitor" },
	{ 0x08b, "mwait" }, { 0x08c, "mwait_cond" }, { 0x08d, "xsetbv" }, { 0x08e, "rdpru" },
	{ 0x08f, "efer_write_trap" }, { 0x090, "cr0_write_trap" }, { 0x094, "cr4_write_trap" },
	{ 0x098, "cr8_write_trap" }, { 0x0a2, "invpcid" }, { 0x0a5, "buslock" },
	{ 0x0a6, "idle_hlt" }, { 0x400, "npf" }, { 0x401, "avic_incomplete_ipi" },
	{ 0x402, "avic_noaccel" }, { 0x403, "vmgexit" },
};

const char *exit_reason__name(unsigned int kind, unsigned int isa, uint32_t reason,
			      char *buf, size_t len)
{
	const char *name = NULL;
	size_t i;

	if (kind == KX_USER) {
		if (reason & KX_USER_ERRNO) {
			reason &= ~KX_USER_ERRNO;
			if (reason == 4)	/* EINTR: a signal kicked the vCPU out */
				snprintf(buf, len, "restart");
			else
				snprintf(buf, len, "error %u", reason);
			return buf;
		}
		if (reason < sizeof(kvm_exit_names) / sizeof(kvm_exit_names[0]))
			name = kvm_exit_names[reason];
	} else if (isa == EXIT_ISA_VMX) {
		uint32_t basic = reason & 0xffff;

		if (basic < sizeof(vmx_names) / sizeof(vmx_names[0]))
			name = vmx_names[basic];
	} else if (isa == EXIT_ISA_SVM) {
		if (reason <= 0x1f)
			snprintf(buf, len, "%s_cr%u", reason < 0x10 ? "read" : "write", reason & 0xf);
		else if (reason <= 0x3f)
			snprintf(buf, len, "%s_dr%u", reason < 0x30 ? "read" : "write", reason & 0xf);
		else if (reason <= 0x5f)
			snprintf(buf, len, "excp_%u", reason - 0x40);
		else
			for (i = 0; i < sizeof(svm_names) / sizeof(svm_names[0]); i++)
				if (svm_names[i].code == reason)
					name = svm_names[i].name;
		if (!name && reason <= 0x5f)
			return buf;
	}
	if (name)
		snprintf(buf, len, "%s", name);
	else
		snprintf(buf, len, "%s %#x", isa == EXIT_ISA_VMX ? "vmx" :
			 isa == EXIT_ISA_SVM ? "svm" : kind == KX_USER ? "KVM_EXIT" : "reason", reason);
	return buf;
}
