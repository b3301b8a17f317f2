/*
 * A network namespace with a TAP device (see netns.h), by ioctl as
 * kvmtool's and QEMU's tap helpers do: the TAP from lib/tap.c, then
 * SIOCSIF* on an inet socket.
 */
#include "lib/netns.h"
#include "lib/tap.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/if.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

static int if_up(int sock, const char *ifname)
{
	struct ifreq ifr = { 0 };

	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifname);
	if (ioctl(sock, SIOCGIFFLAGS, &ifr))
		return -1;
	ifr.ifr_flags |= IFF_UP;
	return ioctl(sock, SIOCSIFFLAGS, &ifr);
}

static int if_addr(int sock, const char *ifname, const char *addr, int prefix_len)
{
	struct ifreq ifr = { 0 };
	struct sockaddr_in *sin = (struct sockaddr_in *)&ifr.ifr_addr;

	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifname);
	sin->sin_family = AF_INET;
	if (inet_pton(AF_INET, addr, &sin->sin_addr) != 1) {
		errno = EINVAL;
		return -1;
	}
	if (ioctl(sock, SIOCSIFADDR, &ifr))
		return -1;
	sin->sin_addr.s_addr = htonl(prefix_len ? ~0u << (32 - prefix_len) : 0);
	return ioctl(sock, SIOCSIFNETMASK, &ifr);
}

int netns__addr_up(const char *ifname, const char *addr, int prefix_len, char *why,
		   size_t why_len)
{
	int sock = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	const char *step = "socket";

	if (sock < 0)
		goto fail;
	step = "bringing lo up";
	if (if_up(sock, "lo"))
		goto fail;
	step = "the address";
	if (if_addr(sock, ifname, addr, prefix_len))
		goto fail;
	step = "bringing it up";
	if (if_up(sock, ifname))
		goto fail;
	close(sock);
	return 0;
fail:
	snprintf(why, why_len, "%s: %s: %s", ifname, step, strerror(errno));
	if (sock >= 0)
		close(sock);
	return -1;
}

static void sysctl_set(const char *path, const char *v)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);

	if (fd < 0)
		return;
	if (write(fd, v, strlen(v)) < 0) {
		/* absent or refused: the namespace works without it */
	}
	close(fd);
}

int netns__enter_with_tap(const char *ifname, const char *addr, int prefix_len, char *why,
			  size_t why_len)
{
	char what[160];
	int tap;

	if (unshare(CLONE_NEWNET)) {
		snprintf(why, why_len, "network namespace: unshare(CLONE_NEWNET) (needs root): %s",
			 strerror(errno));
		return -1;
	}
	/* Only the test's own traffic on the link: no IPv6 router and
	 * neighbour solicitations from the new interfaces (best effort). */
	sysctl_set("/proc/sys/net/ipv6/conf/default/disable_ipv6", "1");
	sysctl_set("/proc/sys/net/ipv6/conf/all/disable_ipv6", "1");
	tap = tap__open(ifname, false, what, sizeof(what));
	if (tap < 0 || netns__addr_up(ifname, addr, prefix_len, what, sizeof(what))) {
		snprintf(why, why_len, "network namespace: %s", what);
		if (tap >= 0)
			close(tap);
		return -1;
	}
	return tap;
}
