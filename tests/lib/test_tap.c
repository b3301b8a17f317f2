/*
 * The TAP backend (root; skipped with the reason otherwise): in a network
 * namespace of the test's own, a frame written to the TAP with its
 * virtio-net header arrives on the host side whole, and a frame the host
 * sends out of the TAP is read back behind a header.
 */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <errno.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <poll.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "lib/frame.h"
#include "lib/netns.h"
#include "lib/tap.h"

static const unsigned char guest_mac[6] = { 0x52, 0x54, 0x00, 0x12, 0x34, 0x56 };

/* An AF_PACKET socket on ifname for vioscope's test frames. */
static int packet_socket(const char *ifname)
{
	struct sockaddr_ll sll = { .sll_family = AF_PACKET, .sll_protocol = htons(FRAME_ETHERTYPE),
				   .sll_ifindex = (int)if_nametoindex(ifname) };
	int s = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, htons(FRAME_ETHERTYPE));

	cr_assert_geq(s, 0, "%s", strerror(errno));
	cr_assert_eq(bind(s, (struct sockaddr *)&sll, sizeof(sll)), 0, "%s", strerror(errno));
	return s;
}

Test(tap, frames_cross_both_ways_behind_a_vnet_header)
{
	unsigned char hdr[TAP_VNET_HDR_LEN] = { 0 }, frame[FRAME_MAX], back[FRAME_MAX + 64];
	struct iovec out[2] = { { hdr, sizeof(hdr) }, { frame, 600 } };
	struct iovec in[2] = { { hdr, sizeof(hdr) }, { back, sizeof(back) } };
	struct pollfd p;
	char why[160];
	uint32_t seq;
	ssize_t n;
	int tap, s, i;

	if (geteuid() || unshare(CLONE_NEWNET)) {
		fprintf(stderr, "SKIP: a TAP in a network namespace needs root\n");
		cr_skip_test("not root");
	}
	tap = tap__open("vtest0", true, why, sizeof(why));
	cr_assert_geq(tap, 0, "%s", why);
	cr_assert_eq(netns__addr_up("vtest0", "10.9.0.1", 24, why, sizeof(why)), 0, "%s", why);
	s = packet_socket("vtest0");

	/* Guest to host: header (no offloads) + frame. */
	frame__fill(frame, 600, guest_mac, 41, 0);
	cr_assert_eq(tap__send(tap, out, 2), (ssize_t)(sizeof(hdr) + 600));
	p = (struct pollfd){ .fd = s, .events = POLLIN };
	cr_assert_eq(poll(&p, 1, 2000), 1, "the frame did not arrive");
	n = recv(s, back, sizeof(back), 0);
	cr_assert(frame__check(back, (size_t)n, 600, &seq), "%zd bytes", n);
	cr_assert_eq(seq, 41);

	/* Host to guest: the kernel's own frames (IPv6 neighbour discovery)
	 * may come first; ours is the one with our EtherType. */
	frame__fill(frame, 1514, guest_mac, 42, 0);
	cr_assert_eq(send(s, frame, 1514, 0), 1514);
	for (i = 0; i < 20; i++) {
		p = (struct pollfd){ .fd = tap, .events = POLLIN };
		cr_assert_eq(poll(&p, 1, 2000), 1, "nothing came out of the TAP");
		n = tap__recv(tap, in, 2);
		cr_assert_gt(n, TAP_VNET_HDR_LEN);
		if (frame__check(back, (size_t)n - TAP_VNET_HDR_LEN, 1514, &seq))
			break;
	}
	cr_assert_lt(i, 20, "our frame never came out of the TAP");
	cr_assert_eq(seq, 42);
	cr_assert_eq(tap__set_offload(tap, 0), 0);
	close(s);
	close(tap);
}

Test(tap, vhost_net_is_detected_or_said_missing)
{
	char why[160] = "";
	bool have = tap__have_vhost_net(why, sizeof(why));

	cr_assert(have || strstr(why, "/dev/vhost-net"), "%s", why);
	fprintf(stderr, "vhost-net here: %s\n", have ? "yes" : why);
}
