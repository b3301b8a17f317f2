#include <criterion/criterion.h>
#include <string.h>

#include "hypervisor/device.h"
#include "hypervisor/kvm.h"
#include "tests/helpers.h"

static uint8_t rd(struct kvm *kvm, uint16_t port)
{
	uint8_t v = 0x5a;

	cr_assert(bus__dispatch(&kvm->pio_bus, port, &v, 1, false));
	return v;
}

/*
 * What Linux needs from a PC without a keyboard: i8042_flush() must give
 * up after 16 reads (output always "full", data 0xFF: "No controller
 * found"), and the reboot path must find the input buffer empty (bit 1)
 * so that its 0xFE reset goes out at once.
 */
Test(i8042, no_controller_for_linux_and_reset_ends_the_run)
{
	struct kvm *kvm = test_fake_kvm();
	uint8_t reset = 0xfe, other = 0xaa;

	cr_assert_not_null(device__create(kvm, "i8042", NULL));
	cr_assert_eq(rd(kvm, 0x64) & 0x01, 0x01, "output buffer full");
	cr_assert_eq(rd(kvm, 0x64) & 0x02, 0, "input buffer empty: writes go through");
	cr_assert_eq(rd(kvm, 0x60), 0xff);
	cr_assert_eq(rd(kvm, 0x61), 0, "port B reads as zero");
	cr_assert(bus__dispatch(&kvm->pio_bus, 0x64, &other, 1, true));
	cr_assert_not(kvm->stopping, "only 0xFE resets");
	cr_assert(bus__dispatch(&kvm->pio_bus, 0x64, &reset, 1, true));
	cr_assert(kvm->stopping);
	cr_assert_eq(kvm->exit_status, VMM_EXIT_OK);
	cr_assert_not_null(strstr(kvm->stop_reason, "i8042"));
	device__destroy_all(kvm);
	test_fake_kvm_free(kvm);
}
