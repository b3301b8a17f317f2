/*
 * vioscope peer --dev IFNAME --mode sink|source|echo|ping [--size BYTES]
 *               [--count N] [--seconds S] [--rate PPS] [--start-on-frame] [--json]
 *
 * The host side of a network measurement (issue: network path): raw
 * Ethernet frames on one interface (a TAP in the run's namespace, or one
 * end of a veth pair for the native ceiling) through an AF_PACKET socket
 * bound to vioscope's EtherType, 0x88B5 (IEEE 802 local experimental 1),
 * so nothing else on the link is touched.
 *
 * A frame (size 64..1514, FCS not counted): broadcast destination, the
 * interface's address as source, 0x88B5, then "VIOS", a 32-bit sequence
 * number, the 64-bit CLOCK_MONOTONIC send time, and a pattern (byte i of
 * the payload = seq + i) that the sink checks byte by byte.
 *   source  sends --count frames (or for --seconds) as fast as it can, or
 *           at --rate frames/s; --start-on-frame: once a frame came from
 *           the other side (a guest ready to receive)
 *   sink    takes them until --count, --seconds or 1 s of silence: frames,
 *           bad frames (wrong pattern or size), lost and reordered
 *           (sequence gaps and steps back), and of the lost how many its
 *           own socket queue dropped (socket_drops)
 *   echo    sends every frame back, addresses swapped
 *   ping    one frame at a time to an echo: round-trip p50/p99
 * Results: one JSON object (--json) or lines, with units; the exit status
 * is 1 when a sink saw a bad frame or a ping went unanswered.
 */
#include <arpa/inet.h>
#include <cJSON.h>
#include <errno.h>
#include <getopt.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <poll.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "analyzers/stats.h"
#include "cli/cli.h"
#include "lib/frame.h"
#include "lib/log.h"


struct peer {
	int fd, ifindex;
	unsigned char mac[ETH_ALEN];
	size_t size;
	unsigned long count;
	double seconds;
	double rate;			/* source: frames per second, 0 = flat out */
	bool start_on_frame;		/* source: after a frame from the other side */
	/* results */
	unsigned long frames, bad, lost, reordered, socket_drops;
	double bytes, elapsed_s;
	uint64_t *rtt;
	size_t nrtt;
};

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void peer__open(struct peer *p, const char *dev)
{
	struct sockaddr_ll sll = { .sll_family = AF_PACKET,
				   .sll_protocol = htons(FRAME_ETHERTYPE) };
	struct ifreq ifr = { 0 };
	int rcvbuf = 32 << 20;

	p->fd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, htons(FRAME_ETHERTYPE));
	if (p->fd < 0)
		die("peer: AF_PACKET socket: %s (needs root)", strerror(errno));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", dev);
	if (ioctl(p->fd, SIOCGIFINDEX, &ifr))
		die("peer: no interface '%s': %s", dev, strerror(errno));
	p->ifindex = ifr.ifr_ifindex;
	if (ioctl(p->fd, SIOCGIFHWADDR, &ifr))
		die("peer: %s: no hardware address: %s", dev, strerror(errno));
	memcpy(p->mac, ifr.ifr_hwaddr.sa_data, ETH_ALEN);
	sll.sll_ifindex = p->ifindex;
	if (bind(p->fd, (struct sockaddr *)&sll, sizeof(sll)))
		die("peer: bind to %s: %s", dev, strerror(errno));
	/* A deep receive queue, so the peer is not what drops (what it still
	 * drops is counted apart: socket_drops). */
	if (setsockopt(p->fd, SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf, sizeof(rcvbuf)))
		setsockopt(p->fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
}

/* Frames the kernel dropped because this socket's queue was full. */
static unsigned long peer__socket_drops(const struct peer *p)
{
	struct tpacket_stats st = { 0 };
	socklen_t len = sizeof(st);

	return getsockopt(p->fd, SOL_PACKET, PACKET_STATISTICS, &st, &len) ? 0 : st.tp_drops;
}

/*
 * One frame. A link that just came up (a veth whose other end a moment
 * ago was down) leaves ENETDOWN pending on the socket: that is not an
 * error for a peer that waits for traffic, and is taken as no frame.
 */
static ssize_t peer__recv(struct peer *p, unsigned char *buf, size_t len)
{
	ssize_t n = recv(p->fd, buf, len, MSG_TRUNC);

	if (n < 0 && (errno == ENETDOWN || errno == EINTR || errno == EAGAIN))
		return 0;
	if (n < 0)
		die("peer: recv: %s", strerror(errno));
	return n;
}

static bool done(const struct peer *p, unsigned long n, uint64_t t0)
{
	if (p->count && n >= p->count)
		return true;
	return p->seconds > 0 && (double)(now_ns() - t0) / 1e9 >= p->seconds;
}

/* --start-on-frame: waits up to 30 s for a vioscope frame from the other
 * side (a guest saying it is ready to receive). */
static void peer__wait_start(struct peer *p)
{
	struct pollfd pfd = { .fd = p->fd, .events = POLLIN };
	unsigned char buf[FRAME_MAX + 64];
	uint64_t t0 = now_ns();

	for (;;) {
		int left = 30000 - (int)((now_ns() - t0) / 1000000);
		ssize_t n;

		if (left <= 0 || poll(&pfd, 1, left) <= 0)
			die("peer: no start frame within 30 s");
		n = peer__recv(p, buf, sizeof(buf));
		if (n >= ETH_HLEN && memcmp(buf + ETH_ALEN, p->mac, ETH_ALEN))
			return;
	}
}

/* --rate: frame i leaves at t0 + i / rate (sleeps when ahead). */
static void pace(const struct peer *p, uint64_t t0, unsigned long i)
{
	uint64_t due = t0 + (uint64_t)((double)i * 1e9 / p->rate), now = now_ns();

	if (due > now + 50000) {
		struct timespec ts = { (time_t)((due - now) / 1000000000ull),
				       (long)((due - now) % 1000000000ull) };

		nanosleep(&ts, NULL);
	}
	while (now_ns() < due)
		;
}

static void peer__source(struct peer *p)
{
	unsigned char buf[FRAME_MAX];
	uint64_t t0;
	uint32_t seq = 0;

	if (p->start_on_frame)
		peer__wait_start(p);
	t0 = now_ns();
	while (!done(p, p->frames, t0)) {
		if (p->rate > 0)
			pace(p, t0, p->frames);
		frame__fill(buf, p->size, p->mac, seq, now_ns());
		if (send(p->fd, buf, p->size, 0) < 0) {
			if (errno == ENOBUFS || errno == EAGAIN)
				continue;	/* the queue is full: try again */
			die("peer: send: %s", strerror(errno));
		}
		seq++;
		p->frames++;
		p->bytes += (double)p->size;
	}
	p->elapsed_s = (double)(now_ns() - t0) / 1e9;
}

/* Takes frames until done or 1 s without one; echo sends each back. */
static void peer__sink(struct peer *p, bool echo)
{
	struct pollfd pfd = { .fd = p->fd, .events = POLLIN };
	unsigned char buf[FRAME_MAX + 64];
	uint64_t t0 = 0, last = 0;
	uint32_t next = 0, seq;
	bool started = false;

	while (!started || !done(p, p->frames + p->bad, t0)) {
		ssize_t n;

		if (poll(&pfd, 1, started ? 1000 : 30000) <= 0)
			break;	/* silence: the sender is done */
		n = peer__recv(p, buf, sizeof(buf));
		if (n == 0)
			continue;
		if (!started) {
			t0 = now_ns();
			started = true;
		}
		last = now_ns();
		if ((size_t)n < ETH_HLEN || !memcmp(buf + ETH_ALEN, p->mac, ETH_ALEN))
			continue;	/* our own echo or send, looped back */
		/* An echo reflects any size; a sink expects its own. */
		if (!frame__check(buf, (size_t)n, echo ? 0 : p->size, &seq)) {
			p->bad++;
			continue;
		}
		if (seq < next)
			p->reordered++;
		else
			p->lost += seq - next;
		next = seq >= next ? seq + 1 : next;
		p->frames++;
		p->bytes += (double)n;
		if (echo) {
			memcpy(buf, buf + ETH_ALEN, ETH_ALEN);
			memcpy(buf + ETH_ALEN, p->mac, ETH_ALEN);
			if (send(p->fd, buf, (size_t)n, 0) < 0 && errno != ENOBUFS)
				die("peer: send: %s", strerror(errno));
		}
	}
	p->elapsed_s = started ? (double)(last - t0) / 1e9 : 0;
}

/* One frame at a time to an echo; a frame unanswered in 1 s is lost. */
static void peer__ping(struct peer *p)
{
	struct pollfd pfd = { .fd = p->fd, .events = POLLIN };
	unsigned char buf[FRAME_MAX + 64];
	unsigned long n = 0;
	uint64_t t0 = now_ns();
	uint32_t seq = 0, got;

	p->rtt = calloc(p->count ? p->count : 1000000, sizeof(uint64_t));
	if (!p->rtt)
		die("peer: out of memory");
	for (; !done(p, n, t0) && n < (p->count ? p->count : 1000000); n++, seq++) {
		uint64_t sent = now_ns();

		frame__fill(buf, p->size, p->mac, seq, now_ns());
		if (send(p->fd, buf, p->size, 0) < 0)
			die("peer: send: %s", strerror(errno));
		for (;;) {
			int left = 1000 - (int)((now_ns() - sent) / 1000000);
			ssize_t r;

			if (left <= 0 || poll(&pfd, 1, left) <= 0) {
				p->lost++;
				break;
			}
			r = peer__recv(p, buf, sizeof(buf));
			if (r == 0)
				continue;
			if (!memcmp(buf + ETH_ALEN, p->mac, ETH_ALEN))
				continue;	/* our own frame */
			if (!frame__check(buf, (size_t)r, p->size, &got)) {
				p->bad++;
				continue;
			}
			if (got != seq)
				continue;	/* a late answer to an earlier one */
			p->rtt[p->nrtt++] = now_ns() - sent;
			p->frames++;
			p->bytes += (double)r;
			break;
		}
	}
	p->elapsed_s = (double)(now_ns() - t0) / 1e9;
}

static void peer__report(const struct peer *p, const char *mode, bool json)
{
	double pps = p->elapsed_s > 0 ? (double)p->frames / p->elapsed_s : 0;
	double gbit = p->elapsed_s > 0 ? p->bytes * 8 / p->elapsed_s / 1e9 : 0;
	struct stats_summary s = { 0 };
	cJSON *o = cJSON_CreateObject();
	char *text;

	if (p->nrtt)
		stats__summarize_u64(p->rtt, p->nrtt, 1.0, &s);
	cJSON_AddStringToObject(o, "mode", mode);
	if (strcmp(mode, "echo"))	/* an echo takes any size */
		cJSON_AddNumberToObject(o, "size_bytes", (double)p->size);
	cJSON_AddNumberToObject(o, "frames", (double)p->frames);
	cJSON_AddNumberToObject(o, "seconds", p->elapsed_s);
	cJSON_AddNumberToObject(o, "frames_per_s", pps);
	cJSON_AddNumberToObject(o, "gbit_per_s", gbit);
	cJSON_AddNumberToObject(o, "bad", (double)p->bad);
	cJSON_AddNumberToObject(o, "lost", (double)p->lost);
	cJSON_AddNumberToObject(o, "reordered", (double)p->reordered);
	cJSON_AddNumberToObject(o, "socket_drops", (double)p->socket_drops);
	if (p->nrtt) {
		cJSON_AddNumberToObject(o, "rtt_p50_ns", s.p50);
		cJSON_AddNumberToObject(o, "rtt_p99_ns", s.p99);
	}
	if (json) {
		text = cJSON_PrintUnformatted(o);
		puts(text);
		free(text);
	} else {
		printf("%s: %lu frames in %.3f s: %.0f frames/s, %.3f Gbit/s; bad %lu, lost %lu "
		       "(the peer's own queue: %lu), reordered %lu\n", mode, p->frames,
		       p->elapsed_s, pps, gbit, p->bad, p->lost, p->socket_drops, p->reordered);
		if (p->nrtt)
			printf("round trip: p50 %.1f us, p99 %.1f us\n", s.p50 / 1e3, s.p99 / 1e3);
	}
	cJSON_Delete(o);
}

int cmd_peer(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "dev", required_argument, NULL, 'd' },
		{ "mode", required_argument, NULL, 'm' },
		{ "size", required_argument, NULL, 's' },
		{ "count", required_argument, NULL, 'c' },
		{ "seconds", required_argument, NULL, 't' },
		{ "rate", required_argument, NULL, 'r' },
		{ "start-on-frame", no_argument, NULL, 'S' },
		{ "json", no_argument, NULL, 'j' },
		{ 0 },
	};
	struct peer p = { .fd = -1, .size = 1514 };
	const char *dev = NULL, *mode = NULL;
	bool json = false;
	char *end;
	int c;

	while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (c) {
		case 'd': dev = optarg; break;
		case 'm': mode = optarg; break;
		case 's':
			p.size = strtoul(optarg, &end, 10);
			if (*end || p.size < FRAME_MIN || p.size > FRAME_MAX)
				die("peer: --size is %d..%d bytes, not '%s'", FRAME_MIN, FRAME_MAX,
				    optarg);
			break;
		case 'c':
			p.count = strtoul(optarg, &end, 10);
			if (*end || !p.count)
				die("peer: --count is a positive number, not '%s'", optarg);
			break;
		case 't':
			p.seconds = strtod(optarg, &end);
			if (*end || p.seconds <= 0)
				die("peer: --seconds is a positive number, not '%s'", optarg);
			break;
		case 'r':
			p.rate = strtod(optarg, &end);
			if (*end || p.rate <= 0)
				die("peer: --rate is frames per second (> 0), not '%s'", optarg);
			break;
		case 'S': p.start_on_frame = true; break;
		case 'j': json = true; break;
		default:
			die("peer: usage: vioscope peer --dev IFNAME --mode sink|source|echo|ping "
			    "[--size BYTES] [--count N] [--seconds S] [--rate PPS] [--start-on-frame] "
			    "[--json]");
		}
	}
	if (!dev || !mode)
		die("peer: --dev and --mode are required");
	if (strcmp(mode, "sink") && strcmp(mode, "source") && strcmp(mode, "echo") &&
	    strcmp(mode, "ping"))
		die("peer: --mode is sink, source, echo or ping, not '%s'", mode);
	if (!p.count && !p.seconds && strcmp(mode, "sink") && strcmp(mode, "echo"))
		die("peer: %s needs --count or --seconds", mode);
	peer__open(&p, dev);
	if (!strcmp(mode, "source"))
		peer__source(&p);
	else if (!strcmp(mode, "ping"))
		peer__ping(&p);
	else
		peer__sink(&p, !strcmp(mode, "echo"));
	p.socket_drops = peer__socket_drops(&p);
	peer__report(&p, mode, json);
	close(p.fd);
	free(p.rtt);
	return p.bad || (!strcmp(mode, "ping") && p.lost) ? 1 : 0;
}
