#ifndef VIOSCOPE__COLLECTORS_EXIT_REASONS_H
#define VIOSCOPE__COLLECTORS_EXIT_REASONS_H

#include <stddef.h>
#include <stdint.h>

/*
 * Names of exit reasons: KVM_EXIT_* for exits to user space, VMX basic
 * exit reasons (Intel SDM vol. 3 appendix C) and SVM exit codes (AMD APM
 * vol. 2 appendix C) for kvm_exit. isa as in the kvm_exit tracepoint:
 * 1 VMX, 2 SVM; anything else (PVM, unknown) is printed as a number.
 */
#define EXIT_ISA_VMX	1
#define EXIT_ISA_SVM	2

/* kind as in probes/kvm_exits.h (KX_GUEST, KX_USER); writes into buf. */
const char *exit_reason__name(unsigned int kind, unsigned int isa, uint32_t reason,
			      char *buf, size_t len);

#endif /* VIOSCOPE__COLLECTORS_EXIT_REASONS_H */
