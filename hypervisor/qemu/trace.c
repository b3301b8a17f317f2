/*
 * QEMU's device-path trace events (see trace.h). A line of the log
 * backend, optionally prefixed "PID@SECONDS:" (-msg timestamp=on):
 *   memory_region_ops_write cpu 0 mr 0x... addr 0x80 value 0x56 size 1 name 'ioport80'
 *   virtio_queue_notify vdev 0x... n 0 vq 0x...
 */
#include "hypervisor/qemu/trace.h"
#include "hypervisor/qemu/qemu.h"

#include <stdio.h>
#include <string.h>

const char qemu_trace__events[] =
	"memory_region_ops_read\n"
	"memory_region_ops_write\n"
	"virtio_queue_notify\n"
	"virtio_notify\n"
	"virtio_notify_irqfd\n"
	"ahci_trigger_irq\n";

/* The event name of line, past a "PID@SECONDS:" prefix. */
static const char *event_of(const char *line, size_t *len)
{
	const char *at = strchr(line, '@'), *colon = strchr(line, ':'), *sp = strchr(line, ' ');

	if (at && colon && (!sp || colon < sp))
		line = colon + 1;
	*len = strcspn(line, " \n");
	return line;
}

/* name (" name 'ahci'") is one of the device's: regions is a list of
 * substrings separated by '|'. */
static bool of_device(const char *name, const char *regions)
{
	char tok[64];

	while (*regions) {
		size_t n = strcspn(regions, "|");

		snprintf(tok, sizeof(tok), "%.*s", (int)n, regions);
		if (n && strstr(name, tok))
			return true;
		regions += n + (regions[n] == '|');
	}
	return false;
}

static bool is(const char *ev, size_t len, const char *name)
{
	return len == strlen(name) && !memcmp(ev, name, len);
}

int qemu_trace__count(const char *path, const struct qemu_device *d,
		      struct qemu_trace_counts *c, char *why, size_t why_len)
{
	char line[512];
	bool in = false, done = false;
	FILE *f = fopen(path, "r");

	memset(c, 0, sizeof(*c));
	if (!f) {
		snprintf(why, why_len, "no QEMU trace at %s", path);
		return -1;
	}
	while (!done && fgets(line, sizeof(line), f)) {
		size_t len;
		const char *ev = event_of(line, &len), *name;
		bool write = is(ev, len, "memory_region_ops_write");

		if (write && strstr(line, "name 'ioport80'")) {
			if (strstr(line, " value 0x56 "))
				in = true;
			else if (in && strstr(line, " value 0x76 "))
				done = true;
			continue;
		}
		if (!in)
			continue;
		c->lines++;
		if (write || is(ev, len, "memory_region_ops_read")) {
			/* Guest CPUs only: "cpu -1" is a device's own write (an MSI). */
			name = strstr(line, " name '");
			if (name && of_device(name, d->region) && !strstr(line, " cpu -1 "))
				c->accesses++;
		} else if (is(ev, len, "virtio_queue_notify")) {
			c->accesses++;
		} else if (is(ev, len, "virtio_notify") || is(ev, len, "virtio_notify_irqfd") ||
			   is(ev, len, "ahci_trigger_irq")) {
			c->interrupts++;
		}
	}
	fclose(f);
	c->windowed = in && done;
	c->have_interrupts = d->irq_traced;
	if (!c->windowed) {
		snprintf(why, why_len, "QEMU's trace has no %s marker from the guest agent",
			 in ? "end" : "start");
		return -1;
	}
	return 0;
}
