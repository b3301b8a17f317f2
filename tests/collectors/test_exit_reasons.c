#include <criterion/criterion.h>

#include "collectors/exit_reasons.h"
#include "probes/kvm_exits.h"

static const char *name(unsigned int kind, unsigned int isa, uint32_t reason)
{
	static char buf[48];

	return exit_reason__name(kind, isa, reason, buf, sizeof(buf));
}

Test(exit_reasons, user_space_exits_are_kvm_exit_codes)
{
	cr_assert_str_eq(name(KX_USER, 0, 2), "IO");
	cr_assert_str_eq(name(KX_USER, 0, 6), "MMIO");
	cr_assert_str_eq(name(KX_USER, 0, 5), "HLT");
	cr_assert_str_eq(name(KX_USER, 0, 24), "SYSTEM_EVENT");
	cr_assert_str_eq(name(KX_USER, 0, KX_USER_ERRNO | 4), "restart");
	cr_assert_str_eq(name(KX_USER, 0, KX_USER_ERRNO | 14), "error 14");
	cr_assert_str_eq(name(KX_USER, 0, 999), "KVM_EXIT 0x3e7");
}

Test(exit_reasons, vmx_basic_reasons_ignore_the_flag_bits)
{
	cr_assert_str_eq(name(KX_GUEST, EXIT_ISA_VMX, 30), "IO_INSTRUCTION");
	cr_assert_str_eq(name(KX_GUEST, EXIT_ISA_VMX, 48), "EPT_VIOLATION");
	cr_assert_str_eq(name(KX_GUEST, EXIT_ISA_VMX, 0x80000021), "INVALID_STATE",
			 "bit 31 (failed VM entry) is not part of the reason");
	cr_assert_str_eq(name(KX_GUEST, EXIT_ISA_VMX, 5), "vmx 0x5", "a hole in the table");
}

Test(exit_reasons, svm_codes_and_their_ranges)
{
	cr_assert_str_eq(name(KX_GUEST, EXIT_ISA_SVM, 0x7b), "ioio");
	cr_assert_str_eq(name(KX_GUEST, EXIT_ISA_SVM, 0x400), "npf");
	cr_assert_str_eq(name(KX_GUEST, EXIT_ISA_SVM, 0x000), "read_cr0");
	cr_assert_str_eq(name(KX_GUEST, EXIT_ISA_SVM, 0x013), "write_cr3");
	cr_assert_str_eq(name(KX_GUEST, EXIT_ISA_SVM, 0x027), "read_dr7");
	cr_assert_str_eq(name(KX_GUEST, EXIT_ISA_SVM, 0x04e), "excp_14");
	cr_assert_str_eq(name(KX_GUEST, EXIT_ISA_SVM, 0x999), "svm 0x999");
}

Test(exit_reasons, unknown_isa_is_a_number)
{
	cr_assert_str_eq(name(KX_GUEST, 0, 12), "reason 0xc");
}
