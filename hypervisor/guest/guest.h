/* The probe guest's runtime: freestanding, no libc, runs at CPL0. */
#ifndef VIOSCOPE__GUEST_H
#define VIOSCOPE__GUEST_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include "hypervisor/guest/abi.h"

#define GUEST_MAX_CPUS	64
#define GUEST_STACK	16384

static inline void outb(uint16_t port, uint8_t v) { asm volatile("outb %0, %1" :: "a"(v), "Nd"(port)); }
static inline void outl(uint16_t port, uint32_t v) { asm volatile("outl %0, %1" :: "a"(v), "Nd"(port)); }
static inline uint8_t inb(uint16_t port) { uint8_t v; asm volatile("inb %1, %0" : "=a"(v) : "Nd"(port)); return v; }
static inline uint32_t inl(uint16_t port) { uint32_t v; asm volatile("inl %1, %0" : "=a"(v) : "Nd"(port)); return v; }
static inline void mmio_write32(uint64_t addr, uint32_t v) { *(volatile uint32_t *)addr = v; }
static inline uint32_t mmio_read32(uint64_t addr) { return *(volatile uint32_t *)addr; }

static inline uint64_t rdtsc(void)
{
	uint32_t lo, hi;

	asm volatile("rdtsc" : "=a"(lo), "=d"(hi) :: "memory");
	return (uint64_t)hi << 32 | lo;
}

/* lib.c */
void *memcpy(void *dst, const void *src, size_t n);
void *memset(void *dst, int c, size_t n);
void *memmove(void *dst, const void *src, size_t n);
int memcmp(const void *a, const void *b, size_t n);
size_t strlen(const char *s);
int strncmp(const char *a, const char *b, size_t n);
/* Parses a decimal number; returns the end pointer, or NULL if none. */
const char *parse_u64(const char *s, uint64_t *out);
void *guest_alloc(uint64_t size);	/* page-aligned bump allocator, NULL when out */
void guest_alloc_init(uint64_t ram_size);

/* printf.c: console output through the UART (serial.c) */
int vsnprintf(char *buf, size_t len, const char *fmt, va_list ap);
int printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void serial_init(void);
void serial_putc(char c);

/* The VMM's control device */
static inline void guest_exit(uint32_t status)
{
	outl(VIO_CTL_EXIT, status);
	for (;;)
		asm volatile("cli; hlt");
}

/* pci.c: configuration mechanism #1 */
struct pci_dev {
	uint8_t slot;
	uint16_t vendor, device;
	uint64_t bar[6];
};
uint32_t pci_read32(uint8_t slot, uint8_t off);
void pci_write32(uint8_t slot, uint8_t off, uint32_t v);
uint16_t pci_read16(uint8_t slot, uint8_t off);
void pci_write16(uint8_t slot, uint8_t off, uint16_t v);
int pci_scan(void (*cb)(struct pci_dev *dev));
int pci_find(uint16_t vendor, uint16_t device, struct pci_dev *out);
uint8_t pci_find_cap(uint8_t slot, uint8_t id);
/* Programs MSI-X entry `entry` to `vector` on this CPU and enables MSI-X. */
int pci_msix_enable(struct pci_dev *dev, unsigned int entry, uint8_t vector);

/* intr.c: IDT, local APIC, handlers */
typedef void (*irq_handler_t)(uint8_t vector);
void intr_init(void);
void intr_set_handler(uint8_t vector, irq_handler_t fn);
void lapic_eoi(void);
/* Routes I/O APIC pin (a PCI INTx line) to vector, level-triggered. */
void ioapic_route(unsigned int pin, uint8_t vector);
uint32_t lapic_id(void);
/* Periodic LAPIC timer as a watchdog for waits (vector INTR_WATCHDOG). */
void lapic_timer_periodic(uint32_t count);
void lapic_timer_stop(void);
#define INTR_MSIX_BASE	0x40
#define INTR_WATCHDOG	0xf0
#define INTR_SPURIOUS	0xff

/* workload.c / micro.c */
int workload_run(const struct vio_boot_info *bi);
int micro_run(const char *args, const struct vio_boot_info *bi);
int poke_run(const char *args);
int disk_run(const char *args, const struct vio_boot_info *bi);
int net_run(const char *args, const struct vio_boot_info *bi);
int usb_run(const char *args, const struct vio_boot_info *bi);
int hid_run(const char *args, const struct vio_boot_info *bi);
int gfx_run(const char *args, const struct vio_boot_info *bi);
/* Looks up key=value in a space-separated argument string. */
const char *arg_get(const char *args, const char *key, char *buf, size_t len);
/* The helpers below print "guest: <who>: ..." for bad input. 0 = all keys
 * known; -1 otherwise. */
int arg_check(const char *who, const char *args, const char *const *known);
struct arg_choice {
	const char *name;
	int value;
};
/* key=name from choices (NULL-name terminated) into *out: 1 set, 0 absent,
 * -1 not one of them. */
int arg_choose(const char *who, const char *args, const char *key,
	       const struct arg_choice *choices, int *out);
/* key=N in [lo, hi] into *out: 1 set, 0 absent, -1 invalid. */
int arg_u64(const char *who, const char *args, const char *key, uint64_t lo, uint64_t hi,
	    uint64_t *out);

#endif /* VIOSCOPE__GUEST_H */
