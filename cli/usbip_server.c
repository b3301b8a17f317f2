/*
 * vioscope usbip-server --disk PATH[,size=64M] [--listen ADDR[:PORT]]
 *                       [--busid 1-1] [--connections N]
 *
 * Exports vioscope's USB mass-storage model on a raw image over USB/IP
 * (hypervisor/usb/usbip.c), for Linux guests that attach it with their
 * vhci-hcd (`usbip attach -r ADDR -b 1-1`): the paravirtual USB mode.
 * It listens only where it is told (default 127.0.0.1:3240; a run puts it
 * on the TAP of its own network namespace), serves one connection at a
 * time, and after --connections of them (default: until SIGINT/SIGTERM)
 * prints what it served.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "cli/cli.h"
#include "hypervisor/backends/blk.h"
#include "hypervisor/usb/usb.h"
#include "hypervisor/usb/usbip.h"
#include "lib/log.h"

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static int listen_on(const char *spec)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(USBIP_PORT) };
	char host[64];
	const char *colon = strrchr(spec, ':');
	int fd, one = 1;

	snprintf(host, sizeof(host), "%.*s", colon ? (int)(colon - spec) : (int)strlen(spec), spec);
	if (colon) {
		char *end;
		long port = strtol(colon + 1, &end, 10);

		if (*end || port < 1 || port > 65535)
			die("usbip-server: --listen %s: bad port", spec);
		a.sin_port = htons((uint16_t)port);
	}
	if (inet_pton(AF_INET, host, &a.sin_addr) != 1)
		die("usbip-server: --listen %s: not an IPv4 address", spec);
	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) ||
	    bind(fd, (struct sockaddr *)&a, sizeof(a)) || listen(fd, 1))
		die("usbip-server: --listen %s: %s", spec, strerror(errno));
	return fd;
}

int cmd_usbip_server(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "disk", required_argument, NULL, 'd' },
		{ "listen", required_argument, NULL, 'l' },
		{ "busid", required_argument, NULL, 'b' },
		{ "connections", required_argument, NULL, 'c' },
		{ 0 },
	};
	const char *disk = NULL, *where = "127.0.0.1", *busid = "1-1";
	struct usbip_stats st = { 0 };
	struct sigaction sa = { .sa_handler = on_signal };
	struct disk_args da;
	struct usb_dev *d;
	long conns = 0, served = 0;
	char why[160], *end;
	int c, lfd, one = 1;

	while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (c) {
		case 'd': disk = optarg; break;
		case 'l': where = optarg; break;
		case 'b':
			if (strlen(optarg) >= USBIP_BUSID_LEN || !*optarg)
				die("usbip-server: --busid is 1..31 characters");
			busid = optarg;
			break;
		case 'c':
			conns = strtol(optarg, &end, 10);
			if (*end || conns < 1)
				die("usbip-server: --connections is a positive number, not '%s'", optarg);
			break;
		default:
			die("usbip-server: usage: vioscope usbip-server --disk PATH[,size=64M] "
			    "[--listen ADDR[:PORT]] [--busid 1-1] [--connections N]");
		}
	}
	if (!disk || disk_args__parse(disk, &da))
		die("usbip-server: --disk PATH[,size=64M] is required");
	d = usb_storage__new(da.path, da.size, why, sizeof(why));
	if (!d)
		die("usbip-server: %s", why);
	lfd = listen_on(where);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	pr_info("usbip-server: %s as %s on %s", da.path, busid, where);
	while (!stop && (!conns || served < conns)) {
		int fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC), ret;

		if (fd < 0) {
			if (errno == EINTR)
				continue;
			die("usbip-server: accept: %s", strerror(errno));
		}
		/* Every URB is a request and a reply: no Nagle delay (as usbip's
		 * own tools set it). */
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		ret = usbip__serve(fd, d, busid, &st);
		if (ret && ret != -ECONNRESET)
			pr_warn("usbip-server: connection dropped: %s", strerror(-ret));
		close(fd);
		served++;
	}
	printf("usbip-server: %ld connections, %lu imports, %lu device lists, %lu URBs "
	       "(%lu stalled), %lu unlinks, %lu bad messages; %lu bytes to the client, %lu from it\n",
	       served, st.imports, st.devlists, st.submits, st.stalls, st.unlinks, st.bad_messages,
	       st.bytes_out, st.bytes_in);
	close(lfd);
	usb__destroy(d);
	return 0;
}
