/*
 * Interrupt and exception entry stubs. Each pushes (error code or 0,
 * vector) so that isr_common sees one frame layout, then saves the
 * caller-saved registers (and rbx, used to realign the stack) and calls intr_dispatch(frame).
 */
	.text
	.macro	ISR_NOERR vec
	.globl	isr_\vec
isr_\vec:
	pushq	$0
	pushq	$\vec
	jmp	isr_common
	.endm

	.macro	ISR_ERR vec
	.globl	isr_\vec
isr_\vec:
	pushq	$\vec
	jmp	isr_common
	.endm

isr_common:
	push	%rax
	push	%rcx
	push	%rdx
	push	%rsi
	push	%rdi
	push	%r8
	push	%r9
	push	%r10
	push	%r11
	push	%rbx
	mov	%rsp, %rdi
	/* Align the stack for the C call (the frame may leave it at 8 mod 16). */
	mov	%rsp, %rbx
	and	$-16, %rsp
	call	intr_dispatch
	mov	%rbx, %rsp
	pop	%rbx
	pop	%r11
	pop	%r10
	pop	%r9
	pop	%r8
	pop	%rdi
	pop	%rsi
	pop	%rdx
	pop	%rcx
	pop	%rax
	add	$16, %rsp	/* vector and error code */
	iretq

	/* Exceptions 0-31 (8, 10-14, 17, 21, 29, 30 push an error code). */
	ISR_NOERR 0
	ISR_NOERR 1
	ISR_NOERR 2
	ISR_NOERR 3
	ISR_NOERR 4
	ISR_NOERR 5
	ISR_NOERR 6
	ISR_NOERR 7
	ISR_ERR 8
	ISR_NOERR 9
	ISR_ERR 10
	ISR_ERR 11
	ISR_ERR 12
	ISR_ERR 13
	ISR_ERR 14
	ISR_NOERR 15
	ISR_NOERR 16
	ISR_ERR 17
	ISR_NOERR 18
	ISR_NOERR 19
	ISR_NOERR 20
	ISR_ERR 21
	ISR_NOERR 22
	ISR_NOERR 23
	ISR_NOERR 24
	ISR_NOERR 25
	ISR_NOERR 26
	ISR_NOERR 27
	ISR_NOERR 28
	ISR_ERR 29
	ISR_ERR 30
	ISR_NOERR 31
	/* Device vectors (MSI-X) and the LAPIC timer / spurious vectors. */
	ISR_NOERR 64
	ISR_NOERR 65
	ISR_NOERR 66
	ISR_NOERR 67
	ISR_NOERR 240
	ISR_NOERR 255

	.section .rodata
	.balign 8
	.globl	isr_exception_table
isr_exception_table:
	.irp n, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31
	.quad	isr_\n
	.endr
	.globl	isr_device_table
isr_device_table:
	.quad	isr_64, isr_65, isr_66, isr_67
	.globl	isr_timer
isr_timer:
	.quad	isr_240
	.globl	isr_spurious
isr_spurious:
	.quad	isr_255
