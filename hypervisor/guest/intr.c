/* IDT, local APIC (xAPIC MMIO) and interrupt dispatch. */
#include "hypervisor/guest/guest.h"

#define LAPIC_BASE	0xfee00000ULL
#define LAPIC_ID	0x020
#define LAPIC_TPR	0x080
#define LAPIC_EOI	0x0b0
#define LAPIC_SVR	0x0f0
#define LAPIC_LVT_TIMER	0x320
#define LAPIC_TIMER_ICR	0x380
#define LAPIC_TIMER_DCR	0x3e0
#define SVR_ENABLE	0x100
#define LVT_MASKED	0x10000
#define LVT_PERIODIC	0x20000
#define CODE_SELECTOR	0x10
#define IOAPIC_BASE	0xfec00000ULL
#define IOAPIC_SEL	0x00
#define IOAPIC_WIN	0x10

struct idt_gate {
	uint16_t off_lo;
	uint16_t sel;
	uint8_t ist;
	uint8_t type;
	uint16_t off_mid;
	uint32_t off_hi;
	uint32_t reserved;
} __attribute__((packed));

struct frame {
	uint64_t rbx, r11, r10, r9, r8, rdi, rsi, rdx, rcx, rax;
	uint64_t vector, error;
	uint64_t rip, cs, rflags, rsp, ss;
};

extern const uint64_t isr_exception_table[32];
extern const uint64_t isr_device_table[4];
extern const uint64_t isr_timer[1];
extern const uint64_t isr_spurious[1];

static struct idt_gate idt[256] __attribute__((aligned(16)));
static irq_handler_t handlers[256];

void intr_dispatch(struct frame *f);

static void set_gate(uint8_t vec, uint64_t fn)
{
	idt[vec] = (struct idt_gate){
		.off_lo = (uint16_t)fn, .sel = CODE_SELECTOR, .ist = 0,
		.type = 0x8e,	/* present, DPL 0, 64-bit interrupt gate */
		.off_mid = (uint16_t)(fn >> 16), .off_hi = (uint32_t)(fn >> 32),
	};
}

static inline void lapic_write(uint32_t reg, uint32_t v)
{
	mmio_write32(LAPIC_BASE + reg, v);
}

uint32_t lapic_id(void)
{
	return mmio_read32(LAPIC_BASE + LAPIC_ID) >> 24;
}

void lapic_eoi(void)
{
	lapic_write(LAPIC_EOI, 0);
}

void lapic_timer_periodic(uint32_t count)
{
	lapic_write(LAPIC_TIMER_DCR, 0xb);	/* divide by 1 */
	lapic_write(LAPIC_LVT_TIMER, LVT_PERIODIC | INTR_WATCHDOG);
	lapic_write(LAPIC_TIMER_ICR, count);
}

void lapic_timer_stop(void)
{
	lapic_write(LAPIC_LVT_TIMER, LVT_MASKED | INTR_WATCHDOG);
	lapic_write(LAPIC_TIMER_ICR, 0);
}

/* I/O APIC redirection entry of pin (82093AA 3.2.4): vector, fixed, level
 * triggered, active high (PCI INTx as KVM's I/O APIC takes it), to us. */
void ioapic_route(unsigned int pin, uint8_t vector)
{
	mmio_write32(IOAPIC_BASE + IOAPIC_SEL, 0x11 + 2 * pin);
	mmio_write32(IOAPIC_BASE + IOAPIC_WIN, lapic_id() << 24);
	mmio_write32(IOAPIC_BASE + IOAPIC_SEL, 0x10 + 2 * pin);
	mmio_write32(IOAPIC_BASE + IOAPIC_WIN, vector | 1u << 15);
}

void intr_set_handler(uint8_t vector, irq_handler_t fn)
{
	handlers[vector] = fn;
}

void intr_dispatch(struct frame *f)
{
	uint8_t vec = (uint8_t)f->vector;

	if (vec < 32) {
		printf("guest: exception %u (error %lx) at rip %lx\n", vec, f->error, f->rip);
		guest_exit(VIO_EXIT_EXCEPTION + vec);
	}
	if (handlers[vec])
		handlers[vec](vec);
	if (vec != INTR_SPURIOUS)	/* spurious vectors take no EOI (SDM 10.9) */
		lapic_eoi();
}

void intr_init(void)
{
	struct {
		uint16_t limit;
		uint64_t base;
	} __attribute__((packed)) idtr = { sizeof(idt) - 1, (uint64_t)idt };
	unsigned int i;

	for (i = 0; i < 32; i++)
		set_gate((uint8_t)i, isr_exception_table[i]);
	for (i = 0; i < 4; i++)
		set_gate((uint8_t)(INTR_MSIX_BASE + i), isr_device_table[i]);
	set_gate(INTR_WATCHDOG, isr_timer[0]);
	set_gate(INTR_SPURIOUS, isr_spurious[0]);
	asm volatile("lidt %0" :: "m"(idtr));

	/* Mask both 8259s: a PCI INTx line goes to the I/O APIC and to the
	 * PIC, and an unprogrammed PIC would deliver it through LINT0 with a
	 * vector from 0 (IRQ 10 arrived as vector 2, an NMI's). */
	outb(0x21, 0xff);
	outb(0xa1, 0xff);
	lapic_write(LAPIC_TPR, 0);
	lapic_write(LAPIC_SVR, SVR_ENABLE | INTR_SPURIOUS);
	lapic_timer_stop();
}
