/* Polled 16550 output on COM1: the guest's console. */
#include "hypervisor/guest/guest.h"

#define COM1		0x3f8
#define LSR_THRE	0x20

void serial_init(void)
{
	outb(COM1 + 1, 0x00);	/* IER: no interrupts, output is polled */
	outb(COM1 + 3, 0x80);	/* LCR: DLAB to set the divisor */
	outb(COM1 + 0, 0x01);	/* 115200 baud */
	outb(COM1 + 1, 0x00);
	outb(COM1 + 3, 0x03);	/* 8N1 */
	outb(COM1 + 2, 0x07);	/* FIFO on, cleared */
}

void serial_putc(char c)
{
	unsigned int spins = 0;

	/* Each LSR read is an exit, so the wait is bounded, not a CPL0 spin. */
	while (!(inb(COM1 + 5) & LSR_THRE) && ++spins < 1000)
		;
	outb(COM1, (uint8_t)c);
}
