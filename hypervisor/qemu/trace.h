#ifndef VIOSCOPE__QEMU_TRACE_H
#define VIOSCOPE__QEMU_TRACE_H

#include <stdbool.h>
#include <stddef.h>

/*
 * QEMU's own trace events for the device path (-trace events=FILE with
 * the log backend Debian builds, to -D FILE), counted over the workload:
 * the guest agent brackets it with a byte to port 0x80 ('V' before, 'v'
 * after), so boot and firmware are left out.
 */
struct qemu_trace_counts {
	double accesses;	/* guest reads and writes of the device's registers
				 * and virtqueue notifications: the exits under KVM */
	double interrupts;	/* virtio_notify(_irqfd), ahci_trigger_irq */
	bool have_interrupts;	/* QEMU traces the device's interrupts (not e1000's) */
	double lines;		/* trace lines in the window */
	bool windowed;		/* both markers were found */
};

/* The event patterns to enable, one per line (the -trace events= file). */
extern const char qemu_trace__events[];

struct qemu_device;

/* Counts path's events for device d (its register regions' names contain
 * d->region); 0, or -1 with why (no file, no markers: the agent did not
 * run the workload). */
int qemu_trace__count(const char *path, const struct qemu_device *d,
		      struct qemu_trace_counts *c, char *why, size_t why_len);

#endif /* VIOSCOPE__QEMU_TRACE_H */
