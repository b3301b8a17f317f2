#ifndef VIOSCOPE__NET_BACKEND_H
#define VIOSCOPE__NET_BACKEND_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <sys/uio.h>

/*
 * The backend behind both NIC models (e1000 and virtio-net), so comparing
 * them measures the device path and nothing else: one packet per read or
 * write, each with a 12-byte virtio-net header in front (virtio 1.2, 5.1.6,
 * struct virtio_net_hdr_v1). That is a TAP opened with IFF_VNET_HDR
 * (lib/tap.c), whose kernel side then does the checksum and segmentation
 * work the header asks for, or any datagram descriptor carrying the same
 * (a socketpair in the tests).
 *
 *   --net pv|emul:tap=IFNAME[,mac=52:54:00:12:34:56]
 *   --net pv|emul:fd=N[,mac=...]    an inherited descriptor (TAP or datagram)
 */
#define NET_HDR_LEN	12
#define NET_ETH_HLEN	14
/* Largest frame either way: a 64 KiB TSO/GSO packet and its Ethernet header. */
#define NET_FRAME_MAX	(65535 + NET_ETH_HLEN)

struct net_backend {
	int fd;			/* non-blocking, close-on-exec */
	bool is_tap;
	bool owned;		/* opened here (tap=), closed here */
	uint8_t mac[6];		/* the guest NIC's address */
	char ifname[16];
	unsigned int offload;	/* TUN_F_* last set */
};

/* Parses "tap=NAME|fd=N[,mac=...]" and opens the backend. 0 or -errno with
 * one line in why. */
int net_backend__open(struct net_backend *nb, const char *args, char *why, size_t why_len);
void net_backend__close(struct net_backend *nb);
/* One packet, header first: bytes moved, or -1 with errno (EAGAIN: none,
 * or no room). */
ssize_t net_backend__send(struct net_backend *nb, const struct iovec *iov, int iovcnt);
ssize_t net_backend__recv(struct net_backend *nb, void *buf, size_t len);
/* The offloads the guest takes on receive (TUN_F_CSUM, TUN_F_TSO4, ...):
 * a TAP then hands over packets that need them; other backends ignore it. */
int net_backend__set_offload(struct net_backend *nb, unsigned int tun_flags);

#endif /* VIOSCOPE__NET_BACKEND_H */
