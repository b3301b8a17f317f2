#ifndef VIOSCOPE__LIB_IPERF3_H
#define VIOSCOPE__LIB_IPERF3_H

#include <stdbool.h>
#include <stddef.h>

struct cJSON;

/* The figures of iperf3's JSON output (-J, the client's), in a guest or on
 * the host. Throughput is what the receiver got: for TCP the same as the
 * sender once the run drains; for UDP it leaves the lost datagrams out. */
struct iperf3_figures {
	bool udp;
	double receiver_bps;	/* bits per second */
	double sender_bps;
	double retransmits;	/* TCP, sender side; -1 when iperf3 had no figure */
	double jitter_ms;	/* UDP, receiver side */
	double lost_percent;	/* UDP */
	double packets;		/* UDP datagrams sent */
	double cpu_local, cpu_remote;	/* percent of one host, total */
};

/* 0, or -1 with one line in why: iperf3's own "error", no end summary, no
 * figure for the receiver. */
int iperf3__parse(const struct cJSON *j, struct iperf3_figures *f, char *why, size_t why_len);

#endif /* VIOSCOPE__LIB_IPERF3_H */
