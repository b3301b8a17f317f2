/*
 * vioscope peer over a veth pair between two network namespaces (root and
 * iproute2; skipped with the reason otherwise): a source's frames reach
 * the sink whole and all counted, and a ping gets every echo back.
 */
#include <cJSON.h>
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tests/helpers.h"

static char ns_a[32], ns_b[32];

static void setup(void)
{
	char cmd[320];

	if (geteuid() || system("command -v ip >/dev/null 2>&1"))
		return;
	snprintf(ns_a, sizeof(ns_a), "vio-peer-a-%d", (int)getpid());
	snprintf(ns_b, sizeof(ns_b), "vio-peer-b-%d", (int)getpid());
	snprintf(cmd, sizeof(cmd), "ip netns add %s && ip netns add %s && "
		 "ip -n %s link add va type veth peer name vb netns %s && "
		 "ip -n %s link set va up && ip -n %s link set vb up", ns_a, ns_b, ns_a, ns_b, ns_a,
		 ns_b);
	cr_assert_eq(system(cmd), 0, "%s", cmd);
}

static void teardown(void)
{
	char cmd[128];

	if (!ns_a[0])
		return;
	snprintf(cmd, sizeof(cmd), "ip netns del %s; ip netns del %s", ns_a, ns_b);
	cr_assert_eq(system(cmd), 0);
}

/* The JSON line a peer printed to path. */
static cJSON *result(const char *path)
{
	char line[1024] = "";
	FILE *f = fopen(path, "r");

	cr_assert_not_null(f, "%s", path);
	cr_assert_not_null(fgets(line, sizeof(line), f), "%s is empty", path);
	fclose(f);
	return cJSON_Parse(line);
}

static double num(const cJSON *j, const char *k)
{
	return cJSON_GetNumberValue(cJSON_GetObjectItem(j, k));
}

/* B runs a peer in the background into out; A runs one in the foreground. */
static void pair(const char *b_args, const char *a_args, const char *out_b, const char *out_a)
{
	char cmd[512];

	snprintf(cmd, sizeof(cmd), "ip netns exec %s %s peer --dev vb %s --json > %s & "
		 "sleep 0.5; ip netns exec %s %s peer --dev va %s --json > %s; rc=$?; wait; "
		 "exit $rc", ns_b, test_bin("vioscope"), b_args, out_b, ns_a, test_bin("vioscope"),
		 a_args, out_a);
	cr_assert_eq(system(cmd), 0, "%s", cmd);
}

Test(peer, frames_cross_a_veth_pair_whole, .init = setup, .fini = teardown, .timeout = 60)
{
	cJSON *sink, *src;

	if (!ns_a[0]) {
		fprintf(stderr, "SKIP: vioscope peer over veth needs root and iproute2\n");
		cr_skip_test("not root");
	}
	/* 5,000 frames fit the sink's 32 MiB queue even if it sleeps. */
	pair("--mode sink --count 5000 --size 1514", "--mode source --count 5000 --size 1514",
	     "/tmp/vio-peer-sink.json", "/tmp/vio-peer-src.json");
	sink = result("/tmp/vio-peer-sink.json");
	src = result("/tmp/vio-peer-src.json");
	cr_assert_eq(num(src, "frames"), 5000);
	cr_assert_eq(num(sink, "frames"), 5000, "the sink got them all");
	cr_assert_eq(num(sink, "bad"), 0);
	cr_assert_eq(num(sink, "lost"), 0);
	cr_assert_gt(num(sink, "gbit_per_s"), 0);
	cJSON_Delete(sink);
	cJSON_Delete(src);
	unlink("/tmp/vio-peer-sink.json");
	unlink("/tmp/vio-peer-src.json");
}

Test(peer, ping_gets_every_echo, .init = setup, .fini = teardown, .timeout = 60)
{
	cJSON *ping;

	if (!ns_a[0]) {
		fprintf(stderr, "SKIP: vioscope peer over veth needs root and iproute2\n");
		cr_skip_test("not root");
	}
	pair("--mode echo --seconds 5", "--mode ping --count 500 --size 64",
	     "/tmp/vio-peer-echo.json", "/tmp/vio-peer-ping.json");
	ping = result("/tmp/vio-peer-ping.json");
	cr_assert_eq(num(ping, "frames"), 500);
	cr_assert_eq(num(ping, "lost"), 0);
	cr_assert_gt(num(ping, "rtt_p50_ns"), 0);
	cr_assert_geq(num(ping, "rtt_p99_ns"), num(ping, "rtt_p50_ns"));
	cJSON_Delete(ping);
	unlink("/tmp/vio-peer-echo.json");
	unlink("/tmp/vio-peer-ping.json");
}
