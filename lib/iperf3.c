/* iperf3's JSON output (see iperf3.h). Keys as iperf3 3.x writes them:
 * end.sum_sent / end.sum_received for TCP, end.sum (the receiver's
 * report, jitter and loss) for UDP. */
#include "lib/iperf3.h"
#include "lib/json.h"

#include <cJSON.h>
#include <stdio.h>
#include <string.h>

int iperf3__parse(const cJSON *j, struct iperf3_figures *f, char *why, size_t why_len)
{
	const cJSON *end = cJSON_GetObjectItem(j, "end");
	const char *err = cJSON_GetStringValue(cJSON_GetObjectItem(j, "error"));
	const char *proto = cJSON_GetStringValue(
		cJSON_GetObjectItem(cJSON_GetObjectItem(cJSON_GetObjectItem(j, "start"),
							"test_start"), "protocol"));
	const cJSON *rx;

	memset(f, 0, sizeof(*f));
	if (err) {
		snprintf(why, why_len, "iperf3: %s", err);
		return -1;
	}
	if (!cJSON_IsObject(end) || !cJSON_GetObjectItem(end, "sum_sent")) {
		snprintf(why, why_len, "iperf3's output has no end summary (cut short?)");
		return -1;
	}
	f->udp = proto && !strcmp(proto, "UDP");
	rx = cJSON_GetObjectItem(end, f->udp ? "sum" : "sum_received");
	f->receiver_bps = json__num(rx, -1, "bits_per_second", NULL, NULL);
	f->sender_bps = json__num(end, -1, "sum_sent", "bits_per_second", NULL);
	if (f->receiver_bps < 0 || f->sender_bps < 0) {
		snprintf(why, why_len, "iperf3's output has no %s throughput",
			 f->receiver_bps < 0 ? "receiver" : "sender");
		return -1;
	}
	f->retransmits = json__num(end, -1, "sum_sent", "retransmits", NULL);
	f->jitter_ms = json__num(rx, 0, "jitter_ms", NULL, NULL);
	f->lost_percent = json__num(rx, 0, "lost_percent", NULL, NULL);
	f->packets = json__num(rx, 0, "packets", NULL, NULL);
	f->cpu_local = json__num(end, -1, "cpu_utilization_percent", "host_total", NULL);
	f->cpu_remote = json__num(end, -1, "cpu_utilization_percent", "remote_total", NULL);
	return 0;
}
