/* The results channel treats the guest as hostile: bad records are counted
 * and dropped, good ones are copied out of guest RAM. */
#include <cJSON.h>
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "hypervisor/kvm.h"
#include "hypervisor/results.h"
#include "lib/log.h"
#include "tests/helpers.h"

#define RAM	(1u << 20)
#define REC_GPA	0x1000
#define SAMPLES	0x2000

static struct kvm *kvm;
static struct vio_result *rec;
static uint64_t *samples;

static void setup(void)
{
	log_level = LOG_ERR;	/* rejections warn on purpose */
	kvm = test_fake_kvm_with_ram(RAM);
	kvm->tsc_khz = 1000000;	/* 1 GHz: one cycle per ns */
	kvm->results = results__new();
	rec = (struct vio_result *)((uint8_t *)kvm->ram + REC_GPA);
	samples = (uint64_t *)((uint8_t *)kvm->ram + SAMPLES);
	for (int i = 0; i < 100; i++)
		samples[i] = 1000 + (uint64_t)i;
	*rec = (struct vio_result){
		.magic = VIO_RESULT_MAGIC, .kind = VIO_MICRO_PIO, .ops = 100,
		.measured = { SAMPLES, 100 },
	};
}

static void teardown(void)
{
	results__free(kvm->results);
	test_fake_kvm_free(kvm);
}

TestSuite(results, .init = setup, .fini = teardown);

Test(results, a_good_record_is_copied_and_summarised)
{
	cJSON *arr;

	cr_assert_eq(results__add_from_guest(kvm, REC_GPA), 0);
	samples[0] = 999999;	/* later guest writes do not change the result */
	arr = results__to_json(kvm);
	cr_assert_eq(cJSON_GetArraySize(arr), 1);
	cr_assert_eq(test_json_num(arr, "0.per_op.ns.min"), 1000);
	cr_assert_eq(test_json_num(arr, "0.per_op.ns.max"), 1099);
	cr_assert_eq(test_json_num(arr, "0.per_op.samples"), 100);
	cJSON_Delete(arr);
}

Test(results, the_timer_median_is_subtracted)
{
	cJSON *arr;
	uint64_t *timer = samples + 200;

	for (int i = 0; i < 5; i++)
		timer[i] = 100 + (uint64_t)i;	/* median 102 */
	rec->timer = (struct vio_samples){ SAMPLES + 200 * 8, 5 };
	cr_assert_eq(results__add_from_guest(kvm, REC_GPA), 0);
	arr = results__to_json(kvm);
	cr_assert_eq(test_json_num(arr, "0.timer_overhead_cycles"), 102);
	cr_assert_eq(test_json_num(arr, "0.per_op.ns.min"), 1000 - 102);
	cr_assert_eq(test_json_num(arr, "0.per_op_gross.ns.min"), 1000);
	cJSON_Delete(arr);
}

Test(results, hostile_records_are_rejected_and_counted)
{
	static const struct {
		const char *what;
		uint64_t gpa, samples_gpa, count;
		uint32_t magic;
	} cases[] = {
		{ "record outside RAM", RAM - 8, SAMPLES, 100, VIO_RESULT_MAGIC },
		{ "record far outside RAM", 0xfffffff0, SAMPLES, 100, VIO_RESULT_MAGIC },
		{ "bad magic", REC_GPA, SAMPLES, 100, 0x12345678 },
		{ "samples outside RAM", REC_GPA, RAM - 16, 100, VIO_RESULT_MAGIC },
		{ "count past the limit", REC_GPA, SAMPLES, RESULTS_MAX_SAMPLES + 1, VIO_RESULT_MAGIC },
		{ "count that overflows", REC_GPA, SAMPLES, UINT64_MAX / 4, VIO_RESULT_MAGIC },
		{ "address that wraps", REC_GPA, UINT64_MAX - 8, 2, VIO_RESULT_MAGIC },
	};
	unsigned int i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		rec->magic = cases[i].magic;
		rec->measured = (struct vio_samples){ cases[i].samples_gpa, cases[i].count };
		cr_assert_lt(results__add_from_guest(kvm, cases[i].gpa), 0, "%s accepted",
			     cases[i].what);
	}
	cr_assert_eq(kvm->results->rejected, i);
	cr_assert_eq(kvm->results->nr, 0);
}

Test(results, the_number_of_records_is_bounded)
{
	unsigned int i;

	for (i = 0; i < RESULTS_MAX_RECORDS; i++)
		cr_assert_eq(results__add_from_guest(kvm, REC_GPA), 0);
	cr_assert_lt(results__add_from_guest(kvm, REC_GPA), 0);
	cr_assert_eq(kvm->results->nr, RESULTS_MAX_RECORDS);
}
