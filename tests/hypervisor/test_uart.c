#include <criterion/criterion.h>

#include "hypervisor/device.h"
#include "hypervisor/kvm.h"
#include "tests/helpers.h"

static struct kvm *kvm;
static struct device *uart;

static void setup(void)
{
	kvm = test_fake_kvm();
	kvm->cfg.console = false;
	uart = device__create(kvm, "uart", NULL);
	cr_assert_not_null(uart);
}

static void teardown(void)
{
	device__destroy_all(kvm);
	test_fake_kvm_free(kvm);
}

TestSuite(uart, .init = setup, .fini = teardown);

static uint8_t rd(unsigned int reg)
{
	uint8_t v = 0;

	cr_assert(bus__dispatch(&kvm->pio_bus, 0x3f8 + reg, &v, 1, false));
	return v;
}

static void wr(unsigned int reg, uint8_t v)
{
	cr_assert(bus__dispatch(&kvm->pio_bus, 0x3f8 + reg, &v, 1, true));
}

Test(uart, scratch_and_divisor_latch)
{
	wr(7, 0xa5);
	cr_assert_eq(rd(7), 0xa5);
	wr(3, 0x80);		/* DLAB */
	wr(0, 0x0c);
	wr(1, 0x00);
	cr_assert_eq(rd(0), 0x0c);
	wr(3, 0x03);
	cr_assert_eq(rd(3), 0x03);
	cr_assert_eq(rd(1), 0, "IER is separate from DLM");
}

Test(uart, transmitter_is_always_ready)
{
	cr_assert_eq(rd(5) & 0x60, 0x60);
	wr(0, 'x');
	cr_assert_eq(rd(5) & 0x60, 0x60);
	cr_assert_eq(metrics__value(&uart->metrics, "tx_bytes"), 1);
}

Test(uart, loopback_returns_written_bytes)
{
	wr(4, 0x10);		/* MCR loop */
	wr(0, 'h');
	wr(0, 'i');
	cr_assert(rd(5) & 0x01, "data ready");
	cr_assert_eq(rd(0), 'h');
	cr_assert_eq(rd(0), 'i');
	cr_assert_not(rd(5) & 0x01);
	wr(4, 0x10 | 0x02);	/* RTS -> CTS in loopback */
	cr_assert(rd(6) & 0x10);
}

Test(uart, thre_interrupt_is_identified_and_acknowledged)
{
	cr_assert_eq(rd(2) & 0x0f, 0x01, "no interrupt pending");
	wr(1, 0x02);		/* enable THRI */
	cr_assert_eq(rd(2) & 0x0f, 0x02);
	cr_assert_eq(rd(2) & 0x0f, 0x01, "reading IIR acknowledged it");
	wr(0, 'a');
	cr_assert_eq(rd(2) & 0x0f, 0x02, "raised again once the byte left");
	wr(2, 0x01);		/* FCR: FIFO on */
	cr_assert_eq(rd(2) & 0xc0, 0xc0);
}
