#ifndef VIOSCOPE__LIB_NETNS_H
#define VIOSCOPE__LIB_NETNS_H

#include <stddef.h>

/*
 * The host side of a network test: a network namespace of its own, so no
 * traffic leaves the machine and nothing is left behind. The namespace
 * is anonymous: it lives as long as a process in it, so whatever ends the
 * run (a crash of the hypervisor or of vioscope included) also tears it
 * down. Needs CAP_NET_ADMIN (root).
 */

/* Moves the calling process (a child: fork first) into a new network
 * namespace with lo up and a TAP device ifname at addr/prefix_len, up.
 * Returns the TAP's file descriptor, opened with IFF_VNET_HDR and
 * O_CLOEXEC (clear it for the hypervisor that is to inherit it, QEMU:
 * -netdev tap,fd=N), or -1 with one line in why. */
int netns__enter_with_tap(const char *ifname, const char *addr, int prefix_len, char *why,
			  size_t why_len);

/* In the caller's namespace: lo up, and ifname at addr/prefix_len, up. 0,
 * or -1 with one line in why. */
int netns__addr_up(const char *ifname, const char *addr, int prefix_len, char *why,
		   size_t why_len);

#endif /* VIOSCOPE__LIB_NETNS_H */
