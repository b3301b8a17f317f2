/* A TAP device as a NIC backend (see tap.h), the way kvmtool's and QEMU's
 * tap backends set one up. */
#include "lib/tap.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

int tap__open(const char *ifname, bool nonblock, char *why, size_t why_len)
{
	struct ifreq ifr = { 0 };
	int hdr = TAP_VNET_HDR_LEN;
	int fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC | (nonblock ? O_NONBLOCK : 0));

	if (fd < 0) {
		snprintf(why, why_len, "/dev/net/tun: %s", strerror(errno));
		return -1;
	}
	ifr.ifr_flags = IFF_TAP | IFF_NO_PI | IFF_VNET_HDR;
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifname);
	if (ioctl(fd, TUNSETIFF, &ifr)) {
		snprintf(why, why_len, "TUNSETIFF %s: %s", ifname, strerror(errno));
		close(fd);
		return -1;
	}
	/* The header with num_buffers: what a modern (VERSION_1) or a
	 * mergeable-buffers virtio-net guest uses. */
	if (ioctl(fd, TUNSETVNETHDRSZ, &hdr)) {
		snprintf(why, why_len, "TUNSETVNETHDRSZ: %s", strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

int tap__set_offload(int fd, unsigned int tun_flags)
{
	return ioctl(fd, TUNSETOFFLOAD, tun_flags) ? -1 : 0;
}

ssize_t tap__send(int fd, const struct iovec *iov, int iovcnt)
{
	ssize_t n;

	do
		n = writev(fd, iov, iovcnt);
	while (n < 0 && errno == EINTR);
	return n;
}

ssize_t tap__recv(int fd, const struct iovec *iov, int iovcnt)
{
	ssize_t n;

	do
		n = readv(fd, iov, iovcnt);
	while (n < 0 && errno == EINTR);
	return n;
}

bool tap__have_vhost_net(char *why, size_t why_len)
{
	int fd = open("/dev/vhost-net", O_RDWR | O_CLOEXEC);

	if (fd < 0) {
		snprintf(why, why_len, "/dev/vhost-net: %s", strerror(errno));
		return false;
	}
	close(fd);
	return true;
}
