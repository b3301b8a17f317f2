/*
 * Long-mode entry state (Intel SDM vol. 3, 9.8.5): paging with PAE and
 * EFER.LME/LMA set, a 64-bit code segment. Both the probe guest and the
 * Linux 64-bit boot protocol start here.
 */
#include "hypervisor/boot/x86.h"

#include <errno.h>
#include <linux/kvm.h>
#include <string.h>
#include <sys/ioctl.h>

#include "hypervisor/guest/abi.h"
#include "hypervisor/kvm.h"
#include "hypervisor/vcpu.h"

#define CR0_PE		(1ULL << 0)
#define CR0_MP		(1ULL << 1)
#define CR0_ET		(1ULL << 4)
#define CR0_NE		(1ULL << 5)
#define CR0_PG		(1ULL << 31)
#define CR4_PAE		(1ULL << 5)
#define EFER_LME	(1ULL << 8)
#define EFER_LMA	(1ULL << 10)
#define PTE_P		(1ULL << 0)
#define PTE_RW		(1ULL << 1)
#define PTE_PS		(1ULL << 7)

/* GDT entry from base/limit/flags (SDM vol. 3, 3.4.5). */
static uint64_t gdt_entry(uint16_t flags, uint32_t base, uint32_t limit)
{
	return ((uint64_t)(base & 0xff000000) << 32) | ((uint64_t)(flags & 0xf0ff) << 40) |
	       ((uint64_t)(limit & 0x000f0000) << 32) | ((uint64_t)(base & 0x00ffffff) << 16) |
	       (uint64_t)(limit & 0x0000ffff);
}

int x86__setup_long_mode_tables(struct kvm *kvm)
{
	uint64_t *gdt = kvm__gpa_to_hva(kvm, VIO_GDT_GPA, 4 * 8);
	uint64_t *pml4 = kvm__gpa_to_hva(kvm, VIO_PGTABLE_GPA, 6 * 4096);
	uint64_t *pdpt, *pd;
	unsigned int i;

	if (!gdt || !pml4)
		return -ENOMEM;
	gdt[0] = 0;
	gdt[1] = 0;
	gdt[BOOT_CS / 8] = gdt_entry(0xa09b, 0, 0xfffff);	/* 64-bit code, DPL 0 */
	gdt[BOOT_DS / 8] = gdt_entry(0xc093, 0, 0xfffff);	/* flat data */

	pdpt = pml4 + 512;
	pd = pdpt + 512;
	memset(pml4, 0, 6 * 4096);
	pml4[0] = (VIO_PGTABLE_GPA + 0x1000) | PTE_P | PTE_RW;
	for (i = 0; i < 4; i++)
		pdpt[i] = (VIO_PGTABLE_GPA + 0x2000 + i * 0x1000ULL) | PTE_P | PTE_RW;
	for (i = 0; i < 4 * 512; i++)
		pd[i] = ((uint64_t)i << 21) | PTE_P | PTE_RW | PTE_PS;
	return 0;
}

static void set_segment(struct kvm_segment *s, uint16_t sel, bool code)
{
	*s = (struct kvm_segment){
		.base = 0, .limit = 0xffffffff, .selector = sel,
		.type = code ? 11 : 3, .present = 1, .dpl = 0,
		.db = code ? 0 : 1, .s = 1, .l = code ? 1 : 0, .g = 1,
	};
}

int x86__enter_long_mode(struct kvm_cpu *cpu, uint64_t rip, uint64_t rdi, uint64_t rsi)
{
	struct kvm_sregs sregs;
	struct kvm_regs regs;
	int ret;

	ret = kvm_ioctl(cpu->fd, KVM_GET_SREGS, &sregs);
	if (ret)
		return ret;
	set_segment(&sregs.cs, BOOT_CS, true);
	set_segment(&sregs.ds, BOOT_DS, false);
	sregs.es = sregs.fs = sregs.gs = sregs.ss = sregs.ds;
	sregs.gdt.base = VIO_GDT_GPA;
	sregs.gdt.limit = 4 * 8 - 1;
	sregs.cr0 = CR0_PE | CR0_MP | CR0_ET | CR0_NE | CR0_PG;
	sregs.cr3 = VIO_PGTABLE_GPA;
	sregs.cr4 = CR4_PAE;
	sregs.efer = EFER_LME | EFER_LMA;
	ret = kvm_ioctl(cpu->fd, KVM_SET_SREGS, &sregs);
	if (ret)
		return ret;

	memset(&regs, 0, sizeof(regs));
	regs.rflags = 2;	/* bit 1 is reserved-one; IF clear */
	regs.rip = rip;
	regs.rdi = rdi;
	regs.rsi = rsi;
	return kvm_ioctl(cpu->fd, KVM_SET_REGS, &regs);
}
