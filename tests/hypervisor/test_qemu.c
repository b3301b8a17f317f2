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

Test(qemu, disk_modes_as_a_qemu_user_gives_them)
{
	struct qemu_disk_run q = { "qemu-system-x86_64", "tcg", "/k", "/i", "/img", "emul",
				   "randread:4096:1:2", 0 };
	char buf[2048], *argv[40];
	int n = qemu__disk_argv(&q, argv, 40, buf, sizeof(buf));

	cr_assert_gt(n, 10);
	cr_assert_null(argv[n]);
	cr_assert(has(argv, n, "-accel", "tcg"));
	cr_assert(has(argv, n, "-device", "ahci,id=vahci"));
	cr_assert(has(argv, n, "-device", "ide-hd,drive=vdisk,bus=vahci.0"));
	cr_assert(has(argv, n, "-drive", "file=/img,if=none,id=vdisk,format=raw,aio=io_uring"));
	cr_assert(has(argv, n, "-append", "vio.modules=ahci,sd_mod vio.dev=sda vio.fio=randread:4096:1:2"));
	cr_assert(has(argv, n, "-m", "512"));

	q.mode = "pv";
	n = qemu__disk_argv(&q, argv, 40, buf, sizeof(buf));
	cr_assert(has(argv, n, "-device", "virtio-blk-pci,drive=vdisk"));
	cr_assert_not(has(argv, n, "-device", "ahci"));
	cr_assert(has(argv, n, "-append", "vio.modules=virtio_pci,virtio_blk vio.dev=vda"));

	q.mode = "pt";
	cr_assert_eq(qemu__disk_argv(&q, argv, 40, buf, sizeof(buf)), -1);
	q.mode = "pv";
	cr_assert_eq(qemu__disk_argv(&q, argv, 40, buf, 20), -1, "too little room");
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
