#ifndef VIOSCOPE__LIB_TAP_H
#define VIOSCOPE__LIB_TAP_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>
#include <sys/uio.h>

/*
 * A TAP device as a NIC backend (QEMU's through lib/netns.c, vioscope-vmm's
 * NIC models): frames with a virtio-net header in front (IFF_VNET_HDR), so
 * checksum and segmentation offloads pass through as virtio-net describes
 * them (virtio 1.2, 5.1.6: struct virtio_net_hdr, 12 bytes with
 * num_buffers).
 */
#define TAP_VNET_HDR_LEN 12

/* Opens (creating if need be) TAP ifname in the caller's network
 * namespace: IFF_TAP | IFF_NO_PI | IFF_VNET_HDR, a 12-byte header,
 * O_CLOEXEC. The descriptor, or -1 with one line in why. */
int tap__open(const char *ifname, bool nonblock, char *why, size_t why_len);

/* Offloads the guest takes (TUN_F_CSUM, TUN_F_TSO4, ...); 0 or -1. */
int tap__set_offload(int fd, unsigned int tun_flags);

/* One frame each way, header first: the frame's length (header
 * included), or -1 with errno (EAGAIN: none, for a non-blocking TAP). */
ssize_t tap__send(int fd, const struct iovec *iov, int iovcnt);
ssize_t tap__recv(int fd, const struct iovec *iov, int iovcnt);

/* /dev/vhost-net can be opened (the kernel's virtio-net data path);
 * false with why. */
bool tap__have_vhost_net(char *why, size_t why_len);

#endif /* VIOSCOPE__LIB_TAP_H */
