/*
 * Workload text from the VMM's --workload: one or more workloads separated
 * by ';', each "<name> key=value ...", e.g. "micro kind=pio count=20000".
 */
#include "hypervisor/guest/guest.h"

const char *arg_get(const char *args, const char *key, char *buf, size_t len)
{
	size_t klen = strlen(key);
	const char *p = args;

	while (*p) {
		while (*p == ' ')
			p++;
		if (!strncmp(p, key, klen) && p[klen] == '=') {
			size_t n = 0;

			p += klen + 1;
			while (p[n] && p[n] != ' ' && n + 1 < len) {
				buf[n] = p[n];
				n++;
			}
			buf[n] = 0;
			return buf;
		}
		while (*p && *p != ' ')
			p++;
	}
	return NULL;
}

int arg_check(const char *who, const char *args, const char *const *known)
{
	const char *p = args;

	while (*p) {
		const char *start;
		size_t n, i;
		int ok = 0;

		while (*p == ' ')
			p++;
		if (!*p)
			break;
		start = p;
		while (*p && *p != ' ' && *p != '=')
			p++;
		n = (size_t)(p - start);
		for (i = 0; known[i]; i++)
			if (strlen(known[i]) == n && !strncmp(start, known[i], n))
				ok = 1;
		if (!ok || *p != '=') {
			char tok[32];

			if (n >= sizeof(tok))
				n = sizeof(tok) - 1;
			memcpy(tok, start, n);
			tok[n] = 0;
			printf("guest: %s: unknown or valueless argument '%s'\n", who, tok);
			return -1;
		}
		while (*p && *p != ' ')
			p++;
	}
	return 0;
}

int arg_choose(const char *who, const char *args, const char *key,
	       const struct arg_choice *choices, int *out)
{
	char buf[32];
	const struct arg_choice *c;

	if (!arg_get(args, key, buf, sizeof(buf)))
		return 0;
	for (c = choices; c->name; c++) {
		if (!strncmp(buf, c->name, sizeof(buf))) {
			*out = c->value;
			return 1;
		}
	}
	printf("guest: %s: %s=%s is not one of:", who, key, buf);
	for (c = choices; c->name; c++)
		printf(" %s", c->name);
	printf("\n");
	return -1;
}

int arg_u64(const char *who, const char *args, const char *key, uint64_t lo, uint64_t hi,
	    uint64_t *out)
{
	char buf[32];
	const char *end;
	uint64_t v;

	if (!arg_get(args, key, buf, sizeof(buf)))
		return 0;
	end = parse_u64(buf, &v);
	if (!end || *end || v < lo || v > hi) {
		printf("guest: %s: %s must be a number from %lu to %lu\n", who, key, lo, hi);
		return -1;
	}
	*out = v;
	return 1;
}

int workload_run(const struct vio_boot_info *bi)
{
	char one[VIO_WORKLOAD_MAX];
	const char *p = bi->workload;
	int status = 0;

	if (!*p) {
		printf("guest: no workload given, nothing to do\n");
		return 0;
	}
	while (*p && !status) {
		size_t n = 0;

		while (*p == ' ' || *p == ';')
			p++;
		while (p[n] && p[n] != ';' && n + 1 < sizeof(one)) {
			one[n] = p[n];
			n++;
		}
		one[n] = 0;
		p += n;
		if (!n)
			break;
		if (!strncmp(one, "micro", 5) && (one[5] == ' ' || !one[5])) {
			status = micro_run(one + 5, bi);
		} else if (!strncmp(one, "disk", 4) && (one[4] == ' ' || !one[4])) {
			status = disk_run(one + 4, bi);
		} else if (!strncmp(one, "net", 3) && (one[3] == ' ' || !one[3])) {
			status = net_run(one + 3, bi);
		} else if (!strncmp(one, "usb", 3) && (one[3] == ' ' || !one[3])) {
			status = usb_run(one + 3, bi);
		} else if (!strncmp(one, "gfx", 3) && (one[3] == ' ' || !one[3])) {
			status = gfx_run(one + 3, bi);
		} else if (!strncmp(one, "hid", 3) && (one[3] == ' ' || !one[3])) {
			status = hid_run(one + 3, bi);
		} else if (!strncmp(one, "poke", 4) && (one[4] == ' ' || !one[4])) {
			status = poke_run(one + 4);
		} else {
			printf("guest: unknown workload '%s' (known: micro, disk, net, usb, hid, gfx, poke)\n", one);
			status = VIO_ERR_WORKLOAD;
		}
	}
	return status;
}
