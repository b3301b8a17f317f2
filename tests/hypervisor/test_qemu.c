/* The QEMU driver: command lines per mode, and the guest agent's result. */
#include <cJSON.h>
#include <criterion/criterion.h>
#include <string.h>

#include "hypervisor/qemu/qemu.h"

static int has(char **argv, int n, const char *a, const char *b)
{
	int i;

	for (i = 0; i + 1 < n; i++)
		if (!strcmp(argv[i], a) && (!b || strstr(argv[i + 1], b)))
			return 1;
	return 0;
}

static int build(struct qemu_vm *vm, const char *class, const char *mode, char **argv,
		 char *buf, size_t len)
{
	vm->class = class;
	vm->mode = mode;
	return qemu__argv(vm, argv, 48, buf, len);
}

Test(qemu, each_mode_as_a_qemu_user_gives_it)
{
	struct qemu_vm vm = { .qemu = "qemu-system-x86_64", .accel = "tcg", .kernel = "/k",
			      .initrd = "/i", .image = "/img", .tap_fd = 7, .xres = 1280,
			      .yres = 720, .job = "vio.job=fio vio.fio=randread:4096:1:2" };
	char buf[2048], *argv[48];
	int n = build(&vm, "disk", "emul", argv, buf, sizeof(buf));

	cr_assert_gt(n, 10);
	cr_assert_null(argv[n]);
	cr_assert(has(argv, n, "-accel", "tcg"));
	cr_assert(has(argv, n, "-vga", "none"), "only the device under test");
	cr_assert(has(argv, n, "-nic", "none"));
	cr_assert(has(argv, n, "-device", "ahci,id=vahci"));
	cr_assert(has(argv, n, "-device", "ide-hd,drive=vdisk,bus=vahci.0"));
	cr_assert(has(argv, n, "-drive", "file=/img,if=none,id=vdisk,format=raw,aio=io_uring"));
	cr_assert(has(argv, n, "-append",
		      "vio.modules=ahci,sd_mod vio.dev=sda vio.job=fio vio.fio=randread:4096:1:2"));
	cr_assert(has(argv, n, "-m", "512"));

	n = build(&vm, "disk", "pv", argv, buf, sizeof(buf));
	cr_assert(has(argv, n, "-device", "virtio-blk-pci,drive=vdisk"));
	cr_assert_not(has(argv, n, "-device", "ahci"));
	cr_assert(has(argv, n, "-append", "vio.modules=virtio_pci,virtio_blk vio.dev=vda"));

	n = build(&vm, "net", "emul", argv, buf, sizeof(buf));
	cr_assert(has(argv, n, "-netdev", "tap,id=vnet,fd=7"));
	cr_assert(has(argv, n, "-device", "e1000,netdev=vnet"));
	cr_assert(has(argv, n, "-append", "vio.modules=e1000 vio.dev=eth0"));
	cr_assert_not(has(argv, n, "-drive", NULL));
	n = build(&vm, "net", "pv", argv, buf, sizeof(buf));
	cr_assert(has(argv, n, "-netdev", "tap,id=vnet,fd=7,vhost=off"));
	cr_assert(has(argv, n, "-device", "virtio-net-pci,netdev=vnet"));

	n = build(&vm, "usb", "emul", argv, buf, sizeof(buf));
	cr_assert(has(argv, n, "-device", "qemu-xhci,id=vhc"));
	cr_assert(has(argv, n, "-device", "usb-storage,bus=vhc.0,drive=vdisk"));
	n = build(&vm, "usb", "ehci", argv, buf, sizeof(buf));
	cr_assert(has(argv, n, "-device", "usb-ehci,id=vhc"));
	cr_assert(has(argv, n, "-device", "usb-storage,bus=vhc.0,drive=vdisk"));
	cr_assert(has(argv, n, "-append", "ehci_pci"));
	/* USB/IP: no USB device in QEMU, a NIC to reach the server instead. */
	n = build(&vm, "usb", "pv", argv, buf, sizeof(buf));
	cr_assert(has(argv, n, "-device", "virtio-net-pci,netdev=vnet"));
	cr_assert(has(argv, n, "-append", "vhci_hcd"));
	cr_assert_not(has(argv, n, "-drive", NULL));

	n = build(&vm, "gfx", "emul", argv, buf, sizeof(buf));
	cr_assert(has(argv, n, "-device", "bochs-display,edid=on,xres=1280,yres=720,xmax=1280,"
		      "ymax=720"), "one mode offered");
	n = build(&vm, "gfx", "pv", argv, buf, sizeof(buf));
	cr_assert(has(argv, n, "-device", "virtio-gpu-pci,edid=on,xres=1280,yres=720"));

	vm.trace_events = "/ev";
	vm.trace_log = "/trace.log";
	n = build(&vm, "disk", "pv", argv, buf, sizeof(buf));
	cr_assert(has(argv, n, "-trace", "events=/ev"));
	cr_assert(has(argv, n, "-D", "/trace.log"));

	cr_assert_eq(build(&vm, "disk", "pt", argv, buf, sizeof(buf)), -1, "no such mode");
	cr_assert_eq(build(&vm, "sound", "emul", argv, buf, sizeof(buf)), -1, "no such class");
	cr_assert_eq(build(&vm, "disk", "pv", argv, buf, 20), -1, "too little room");
	cr_assert_eq(qemu__argv(&vm, argv, 8, buf, sizeof(buf)), -1, "too few argv slots");
	cr_assert_not_null(qemu__device("net", "pv"));
	cr_assert_null(qemu__device("net", "pt"));
}

Test(qemu, the_agent_result_between_its_markers)
{
	char why[128];
	cJSON *j = qemu__agent_result("\033[2Jboot noise\n@@VIOSCOPE-RESULT-BEGIN@@\n"
				      "{\"job\": \"fio\", \"status\": 0, \"result\": {\"jobs\": []}}\n"
				      "@@VIOSCOPE-RESULT-END@@\n[ 11.9] reboot: Power down\n",
				      why, sizeof(why));

	cr_assert_not_null(j, "%s", why);
	cr_assert_str_eq(cJSON_GetStringValue(cJSON_GetObjectItem(j, "job")), "fio");
	cJSON_Delete(j);
	cr_assert_null(qemu__agent_result("Kernel panic - not syncing\n", why, sizeof(why)));
	cr_assert_not_null(strstr(why, "no result"), "%s", why);
	cr_assert_null(qemu__agent_result("@@VIOSCOPE-RESULT-BEGIN@@\n{\"job\": \"fio\", \"res",
					  why, sizeof(why)));
	cr_assert_not_null(strstr(why, "truncated"), "%s", why);
	cr_assert_null(qemu__agent_result("@@VIOSCOPE-RESULT-BEGIN@@\n{\"job\": }\n"
					  "@@VIOSCOPE-RESULT-END@@", why, sizeof(why)));
	cr_assert_not_null(strstr(why, "not a JSON object"), "%s", why);
	cr_assert_null(qemu__agent_result(NULL, why, sizeof(why)));
}
