#include "lib/regions.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define REGIONS_MAX	4096	/* a bound on what a reader accepts */

static const char *run_dir(void)
{
	const char *d = getenv("VIOSCOPE_RUN_DIR");

	if (d && *d)
		return d;
	if (mkdir("/run/vioscope", 0755) == 0 || errno == EEXIST)
		if (access("/run/vioscope", W_OK) == 0)
			return "/run/vioscope";
	return "/tmp";
}

int regions__path(pid_t pid, char *buf, size_t len)
{
	int n = snprintf(buf, len, "%s/vmm-%d.regions", run_dir(), (int)pid);

	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

int regions__write(pid_t pid, const struct region *r, size_t n)
{
	char path[256], tmp[272];
	FILE *f;
	size_t i;
	int ret;

	ret = regions__path(pid, path, sizeof(path));
	if (ret)
		return ret;
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	f = fopen(tmp, "w");
	if (!f)
		return -errno;
	for (i = 0; i < n; i++)
		fprintf(f, "%s 0x%" PRIx64 " 0x%" PRIx64 " %s\n",
			r[i].space == REGION_PIO ? "pio" : "mmio", r[i].base, r[i].len, r[i].name);
	if (fclose(f) || rename(tmp, path)) {
		ret = -errno;
		unlink(tmp);
		return ret;
	}
	return 0;
}

void regions__remove(pid_t pid)
{
	char path[256];

	if (!regions__path(pid, path, sizeof(path)))
		unlink(path);
}

int region_map__load(struct region_map *m, pid_t pid)
{
	char path[256], line[128], space[8], name[32];
	struct region *r;
	FILE *f;
	int ret;

	memset(m, 0, sizeof(*m));
	ret = regions__path(pid, path, sizeof(path));
	if (ret)
		return ret;
	f = fopen(path, "r");
	/* A VMM without rights to /run/vioscope published in /tmp. */
	if (!f && errno == ENOENT && !getenv("VIOSCOPE_RUN_DIR")) {
		snprintf(path, sizeof(path), "/tmp/vmm-%d.regions", (int)pid);
		f = fopen(path, "r");
	}
	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f)) {
		uint64_t base, len;

		if (sscanf(line, "%7s %" SCNx64 " %" SCNx64 " %31s", space, &base, &len, name) != 4 ||
		    (strcmp(space, "pio") && strcmp(space, "mmio")) || m->nr == REGIONS_MAX) {
			ret = -EINVAL;
			break;
		}
		r = realloc(m->r, (m->nr + 1) * sizeof(*r));
		if (!r) {
			ret = -ENOMEM;
			break;
		}
		m->r = r;
		r[m->nr] = (struct region){ .space = strcmp(space, "pio") ? REGION_MMIO : REGION_PIO,
					    .base = base, .len = len };
		snprintf(r[m->nr].name, sizeof(r[m->nr].name), "%s", name);
		m->nr++;
	}
	fclose(f);
	if (ret)
		region_map__free(m);
	return ret;
}

void region_map__free(struct region_map *m)
{
	free(m->r);
	memset(m, 0, sizeof(*m));
}

const struct region *region_map__find(const struct region_map *m, enum region_space s,
				      uint64_t addr)
{
	size_t i;

	/* A handful of regions, looked up once per address per report. */
	for (i = 0; i < m->nr; i++)
		if (m->r[i].space == s && addr - m->r[i].base < m->r[i].len)
			return &m->r[i];
	return NULL;
}
