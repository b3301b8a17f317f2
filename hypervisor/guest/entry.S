/*
 * Entry from the VMM in 64-bit mode, interrupts off, identity-mapped
 * (see boot/x86.c): rdi = struct vio_boot_info, rsi = vCPU index.
 */
	.section .text.entry, "ax"
	.globl _start
_start:
	cli
	/* Each vCPU gets its own stack: stacks + (index + 1) * GUEST_STACK. */
	mov	%rsi, %rax
	cmp	$64, %rax
	jae	park
	inc	%rax
	shl	$14, %rax
	lea	stacks(%rip), %rsp
	add	%rax, %rsp
	test	%rsi, %rsi
	jnz	park		/* secondary vCPUs idle; workloads run on vCPU 0 */
	call	guest_main
park:
	cli
	hlt
	jmp	park

	.bss
	.balign 4096
stacks:
	.skip	16384 * 64
