/* iperf3's JSON: recorded TCP and UDP runs, and failed, truncated or
 * malformed output. */
#include <cJSON.h>
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "lib/file.h"
#include "lib/iperf3.h"

static cJSON *recorded(const char *path)
{
	char *text = file__read_text(path);
	cJSON *j = text ? cJSON_Parse(text) : NULL;

	cr_assert_not_null(j, "%s: run the tests from the project root", path);
	free(text);
	return j;
}

Test(iperf3, a_recorded_tcp_run)
{
	cJSON *j = recorded("tests/data/iperf3-tcp.json");
	struct iperf3_figures f;
	char why[128];

	cr_assert_eq(iperf3__parse(j, &f, why, sizeof(why)), 0, "%s", why);
	cr_assert_not(f.udp);
	cr_assert_gt(f.receiver_bps, 1e6);
	/* A drained TCP run: what was received is what was sent, within 5%. */
	cr_assert_float_eq(f.receiver_bps / f.sender_bps, 1.0, 0.05);
	cr_assert_geq(f.retransmits, 0);
	cr_assert_gt(f.cpu_local, 0);
	cJSON_Delete(j);
}

Test(iperf3, a_recorded_udp_run_keeps_loss_and_jitter)
{
	cJSON *j = recorded("tests/data/iperf3-udp.json");
	struct iperf3_figures f;
	char why[128];

	cr_assert_eq(iperf3__parse(j, &f, why, sizeof(why)), 0, "%s", why);
	cr_assert(f.udp);
	cr_assert_float_eq(f.receiver_bps, 100e6, 2e6, "run at -b 100M");
	cr_assert_gt(f.packets, 0);
	cr_assert_geq(f.jitter_ms, 0);
	cr_assert_geq(f.lost_percent, 0);
	cr_assert_leq(f.lost_percent, 100);
	cJSON_Delete(j);
}

Test(iperf3, failed_truncated_or_malformed_output_is_refused)
{
	static const struct {
		const char *json, *why;
	} cases[] = {
		{ "{\"start\": {}, \"intervals\": [], \"end\": {}, "
		  "\"error\": \"unable to connect to server: Connection refused\"}",
		  "Connection refused" },
		{ "{\"start\": {}, \"intervals\": []}", "no end summary" },
		{ "{\"end\": {\"sum_sent\": {\"bytes\": 1}}}", "no receiver" },
		{ "{\"end\": {\"sum_sent\": {}, \"sum_received\": {\"bits_per_second\": 1e9}}}",
		  "no sender" },
		{ "{\"end\": {\"sum_sent\": {\"bits_per_second\": \"fast\"}, "
		  "\"sum_received\": {\"bits_per_second\": 1e9}}}", "no sender" },
	};
	struct iperf3_figures f;
	char why[128];
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		cJSON *j = cJSON_Parse(cases[i].json);

		cr_assert_not_null(j);
		cr_assert_eq(iperf3__parse(j, &f, why, sizeof(why)), -1, "%s", cases[i].json);
		cr_assert_not_null(strstr(why, cases[i].why), "%s: %s", cases[i].json, why);
		cJSON_Delete(j);
	}
	{
		char *text = file__read_text("tests/data/iperf3-tcp.json");

		text[strlen(text) * 2 / 3] = 0;
		cr_assert_null(cJSON_Parse(text), "a truncated file does not parse");
		free(text);
	}
}
