#ifndef VIOSCOPE__LIB_REGIONS_H
#define VIOSCOPE__LIB_REGIONS_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/*
 * The region map a running vioscope-vmm publishes so that collectors can
 * name the device behind a port or guest-physical address. One text file
 * per VMM process, rewritten (atomically) when a BAR moves:
 *   $VIOSCOPE_RUN_DIR (default /run/vioscope, else /tmp)/vmm-PID.regions
 * with one line per region: "pio|mmio BASE LEN NAME" (hex base and length).
 */
enum region_space { REGION_PIO, REGION_MMIO };

struct region {
	enum region_space space;
	uint64_t base;
	uint64_t len;
	char name[32];
};

struct region_map {
	struct region *r;
	size_t nr;
};

/* The map's path for process pid into buf; 0 or -ENAMETOOLONG. */
int regions__path(pid_t pid, char *buf, size_t len);
/* Writes n regions for pid (temporary file + rename); 0 or -errno. */
int regions__write(pid_t pid, const struct region *r, size_t n);
void regions__remove(pid_t pid);
/* Loads pid's map (from the run directory, else /tmp where an unprivileged
 * VMM writes it); 0, -ENOENT when that process publishes none, -EINVAL. */
int region_map__load(struct region_map *m, pid_t pid);
void region_map__free(struct region_map *m);
/* The region holding addr, or NULL. */
const struct region *region_map__find(const struct region_map *m, enum region_space s,
				      uint64_t addr);

#endif /* VIOSCOPE__LIB_REGIONS_H */
