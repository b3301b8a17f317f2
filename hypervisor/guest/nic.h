/*
 * The probe guest's NIC drivers (virtio-net, e1000) behind one ops table,
 * so the net workload is the same code above both. Rings of NIC_SLOTS
 * entries, one NIC_BUF buffer per entry; transmit slots are used in
 * order, the workload building each frame in place (no copies).
 */
#ifndef VIOSCOPE__GUEST_NIC_H
#define VIOSCOPE__GUEST_NIC_H

#include "hypervisor/guest/guest.h"

#define NIC_SLOTS	256
#define NIC_BUF		2048

struct gnic_ops {
	const char *name;
	/* Finds and starts the NIC: its address into mac, receive interrupts
	 * on vector. 0, or a negative step number for the error line. */
	int (*init)(uint8_t vector, uint8_t mac[6]);
	/* Where transmit slot s's frame is built (NIC_BUF bytes). */
	uint8_t *(*tx_frame)(unsigned int s);
	/* Hands slot s (len bytes) to the NIC, ringing the doorbell if kick. */
	void (*tx)(unsigned int s, uint32_t len, int kick);
	/* Transmit slots the NIC finished since the last call. */
	unsigned int (*tx_done)(void);
	/* Interrupts for transmit completions (only while the ring is full). */
	void (*tx_irq)(int on);
	/* Next received frame: its slot, with *frame and *len; -1 when none. */
	int (*rx)(uint8_t **frame, uint32_t *len);
	/* Gives receive slot s back, ringing the doorbell if kick. */
	void (*rx_refill)(unsigned int s, int kick);
	/* The device's part of the interrupt handler (e1000: read ICR). */
	void (*irq)(void);
};

extern const struct gnic_ops gnic_virtio_ops;
extern const struct gnic_ops gnic_e1000_ops;

#endif
