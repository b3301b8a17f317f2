/* The NIC backend (see net.h): a TAP with a virtio-net header, or a
 * datagram descriptor that carries the same. */
#include "hypervisor/backends/net.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "lib/tap.h"

/* QEMU's default, so a guest's view matches under either hypervisor. */
static const uint8_t default_mac[6] = { 0x52, 0x54, 0x00, 0x12, 0x34, 0x56 };

static int parse_mac(const char *s, uint8_t mac[6])
{
	unsigned int b[6];
	char tail;
	int i;

	if (sscanf(s, "%x:%x:%x:%x:%x:%x%c", &b[0], &b[1], &b[2], &b[3], &b[4], &b[5],
		   &tail) != 6)
		return -EINVAL;
	for (i = 0; i < 6; i++) {
		if (b[i] > 0xff)
			return -EINVAL;
		mac[i] = (uint8_t)b[i];
	}
	/* A unicast address: bit 0 of the first byte set would be multicast. */
	return mac[0] & 1 ? -EINVAL : 0;
}

/* An inherited descriptor: a TAP answers TUNGETIFF, a socket is checked
 * to be a datagram one (one packet per read). */
static int adopt_fd(struct net_backend *nb, int fd, char *why, size_t why_len)
{
	struct ifreq ifr = { 0 };
	int type = 0, hdr = NET_HDR_LEN;
	socklen_t len = sizeof(type);

	if (fcntl(fd, F_GETFD) < 0) {
		snprintf(why, why_len, "fd=%d is not open", fd);
		return -EBADF;
	}
	if (ioctl(fd, TUNGETIFF, &ifr) == 0) {
		if (!(ifr.ifr_flags & IFF_VNET_HDR) || ioctl(fd, TUNSETVNETHDRSZ, &hdr)) {
			snprintf(why, why_len, "fd=%d: a TAP without IFF_VNET_HDR", fd);
			return -EINVAL;
		}
		nb->is_tap = true;
	} else if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len) ||
		   (type != SOCK_DGRAM && type != SOCK_SEQPACKET)) {
		snprintf(why, why_len, "fd=%d is neither a TAP nor a datagram socket", fd);
		return -EINVAL;
	}
	nb->fd = fd;
	return 0;
}

int net_backend__open(struct net_backend *nb, const char *args, char *why, size_t why_len)
{
	char buf[256], *tok, *save;
	int ret = 0, fd = -1;

	memset(nb, 0, sizeof(*nb));
	nb->fd = -1;
	memcpy(nb->mac, default_mac, 6);
	if (!args || strlen(args) >= sizeof(buf)) {
		snprintf(why, why_len, "expected tap=IFNAME or fd=N");
		return -EINVAL;
	}
	snprintf(buf, sizeof(buf), "%s", args);
	for (tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		char *end;

		if (!strncmp(tok, "tap=", 4) && tok[4] && strlen(tok + 4) < sizeof(nb->ifname)) {
			snprintf(nb->ifname, sizeof(nb->ifname), "%s", tok + 4);
		} else if (!strncmp(tok, "fd=", 3)) {
			long v = strtol(tok + 3, &end, 10);

			if (*end || end == tok + 3 || v < 0 || v > 65535) {
				snprintf(why, why_len, "'%s': not a descriptor number", tok);
				return -EINVAL;
			}
			fd = (int)v;
		} else if (!strncmp(tok, "mac=", 4)) {
			if (parse_mac(tok + 4, nb->mac)) {
				snprintf(why, why_len, "'%s': expected a unicast xx:xx:xx:xx:xx:xx", tok);
				return -EINVAL;
			}
		} else {
			snprintf(why, why_len, "unknown option '%s' (tap=, fd=, mac=)", tok);
			return -EINVAL;
		}
	}
	if (!!nb->ifname[0] == (fd >= 0)) {
		snprintf(why, why_len, "give one of tap=IFNAME and fd=N");
		return -EINVAL;
	}
	if (nb->ifname[0]) {
		nb->fd = tap__open(nb->ifname, true, why, why_len);
		if (nb->fd < 0)
			return -ENODEV;
		nb->is_tap = nb->owned = true;
		return 0;
	}
	ret = adopt_fd(nb, fd, why, why_len);
	if (ret)
		return ret;
	if (fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) ||
	    fcntl(fd, F_SETFD, FD_CLOEXEC)) {
		snprintf(why, why_len, "fd=%d: %s", fd, strerror(errno));
		return -errno;
	}
	nb->owned = true;	/* handed over: ours to close */
	return 0;
}

void net_backend__close(struct net_backend *nb)
{
	if (nb->owned && nb->fd >= 0)
		close(nb->fd);
	nb->fd = -1;
}

ssize_t net_backend__send(struct net_backend *nb, const struct iovec *iov, int iovcnt)
{
	return tap__send(nb->fd, iov, iovcnt);
}

ssize_t net_backend__recv(struct net_backend *nb, void *buf, size_t len)
{
	struct iovec iov = { buf, len };

	return tap__recv(nb->fd, &iov, 1);
}

int net_backend__set_offload(struct net_backend *nb, unsigned int tun_flags)
{
	if (!nb->is_tap || nb->offload == tun_flags)
		return 0;
	if (tap__set_offload(nb->fd, tun_flags))
		return -errno;
	nb->offload = tun_flags;
	return 0;
}
