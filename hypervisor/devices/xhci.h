/*
 * The xHCI controller's state, shared by xhci.c (registers, ports, PCI)
 * and xhci-ring.c (the TRB rings: commands, transfers, events). Section
 * numbers are of the eXtensible Host Controller Interface 1.2 spec.
 */
#ifndef VIOSCOPE__XHCI_H
#define VIOSCOPE__XHCI_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "hypervisor/metrics.h"
#include "hypervisor/msix.h"
#include "hypervisor/pci.h"

struct device;
struct kvm;
struct usb_dev;

#define XHCI_MAX_SLOTS		8
#define XHCI_NR_PORTS		5	/* 1-3 USB 2.0, 4-5 USB 3.x (7.2) */
#define XHCI_USB2_PORTS		3
#define XHCI_ERST_MAX		16	/* event ring segments: HCSPARAMS2.ERST Max = 4 */
#define XHCI_MAX_XFER		(1u << 20)	/* bytes one TD may move */
#define XHCI_MAX_TD_TRBS	512	/* TRBs one TD may span */
#define XHCI_MAX_RING_STEPS	4096	/* TRBs read per doorbell: a ring that never ends */
#define XHCI_MAX_LINKS		64	/* link TRBs in a row: a link loop */

/* Register bits the two files share: USBCMD (5.4.1), USBSTS (5.4.2),
 * IMAN (5.5.2.1), ERDP (5.5.2.3.3), PORTSC (5.4.8). */
#define CMD_RS			(1u << 0)
#define CMD_HCRST		(1u << 1)
#define CMD_INTE		(1u << 2)
#define STS_HCH			(1u << 0)
#define STS_HSE			(1u << 2)
#define STS_EINT		(1u << 3)
#define STS_PCD			(1u << 4)
#define IMAN_IP			(1u << 0)
#define IMAN_IE			(1u << 1)
#define ERDP_EHB		(1u << 3)
#define PORTSC_CCS		(1u << 0)
#define PORTSC_PED		(1u << 1)
#define PORTSC_PR		(1u << 4)
#define PORTSC_PLS_SHIFT	5
#define PORTSC_PP		(1u << 9)
#define PORTSC_SPEED_SHIFT	10
#define PORTSC_LWS		(1u << 16)
#define PORTSC_CSC		(1u << 17)
#define PORTSC_PEC		(1u << 18)
#define PORTSC_WRC		(1u << 19)
#define PORTSC_OCC		(1u << 20)
#define PORTSC_PRC		(1u << 21)
#define PORTSC_PLC		(1u << 22)
#define PORTSC_CEC		(1u << 23)
#define PORTSC_CHANGES		(PORTSC_CSC | PORTSC_PEC | PORTSC_WRC | PORTSC_OCC | \
				 PORTSC_PRC | PORTSC_PLC | PORTSC_CEC)
#define PORTSC_WPR		(1u << 31)

/* TRB (6.4): parameter, status, control; control bit 0 is the cycle bit. */
struct xhci_trb {
	uint64_t param;
	uint32_t status;
	uint32_t control;
};

#define TRB_C			(1u << 0)
#define TRB_TC			(1u << 1)	/* link: toggle cycle */
#define TRB_ISP			(1u << 2)	/* interrupt on short packet */
#define TRB_CH			(1u << 4)	/* chain */
#define TRB_IOC			(1u << 5)
#define TRB_IDT			(1u << 6)	/* immediate data */
#define TRB_BSR			(1u << 9)	/* address device: block SET_ADDRESS */
#define TRB_DC			(1u << 9)	/* configure endpoint: deconfigure */
#define TRB_TYPE(c)		(((c) >> 10) & 0x3f)
#define TRB_SLOT(c)		((c) >> 24)
#define TRB_EP(c)		(((c) >> 16) & 0x1f)

/* TRB types, 6.4.6 */
enum {
	TRB_NORMAL = 1, TRB_SETUP, TRB_DATA, TRB_STATUS, TRB_ISOCH, TRB_LINK, TRB_EVENT_DATA,
	TRB_NOOP, TRB_ENABLE_SLOT, TRB_DISABLE_SLOT, TRB_ADDRESS_DEVICE, TRB_CONFIGURE_EP,
	TRB_EVALUATE_CTX, TRB_RESET_EP, TRB_STOP_EP, TRB_SET_TR_DEQ, TRB_RESET_DEVICE,
	TRB_NOOP_CMD = 23,
	TRB_TRANSFER_EVENT = 32, TRB_CMD_COMPLETION, TRB_PORT_STATUS, TRB_BANDWIDTH_REQ,
	TRB_DOORBELL_EVENT, TRB_HC_EVENT,
};

/* Completion codes, 6.4.5 */
enum {
	CC_SUCCESS = 1, CC_DATA_BUFFER = 2, CC_TRANSACTION = 4, CC_TRB_ERROR = 5, CC_STALL = 6,
	CC_RESOURCE = 7, CC_NO_SLOTS = 9, CC_SLOT_NOT_ENABLED = 11, CC_EP_NOT_ENABLED = 12,
	CC_SHORT_PACKET = 13, CC_PARAMETER = 17, CC_CONTEXT_STATE = 19,
	CC_EVENT_RING_FULL = 21, CC_CMD_RING_STOPPED = 24,
};

/* Slot states (6.2.2, DW3) and endpoint states (6.2.3, DW0) */
enum { SLOT_DISABLED = 0, SLOT_DEFAULT = 1, SLOT_ADDRESSED = 2, SLOT_CONFIGURED = 3 };
enum { EP_DISABLED = 0, EP_RUNNING, EP_HALTED, EP_STOPPED, EP_ERROR };
/* Endpoint types (6.2.3, DW1) */
enum { EPT_ISOCH_OUT = 1, EPT_BULK_OUT, EPT_INT_OUT, EPT_CONTROL, EPT_ISOCH_IN, EPT_BULK_IN,
       EPT_INT_IN };

/* A ring the controller consumes: its dequeue pointer and cycle state. */
struct xhci_ring {
	uint64_t deq;
	bool ccs;
};

struct xhci_ep {
	uint8_t state;
	uint8_t type;
	struct xhci_ring ring;
};

struct xhci_slot {
	bool enabled;
	uint8_t state;
	uint8_t port;			/* root hub port, 1-based; 0 = none */
	struct xhci_ep ep[32];		/* by device context index (DCI) 1..31 */
};

struct xhci_port {
	uint32_t portsc;
	struct usb_dev *dev;		/* attached device, or NULL */
};

struct xhci {
	struct device *dev;
	struct kvm *kvm;
	pthread_mutex_t lock;
	struct pci_device pci;
	struct msix msix;

	/* operational registers, 5.4 */
	uint32_t usbcmd, usbsts, dnctrl, config;
	uint64_t dcbaap;
	struct xhci_ring cmd;
	bool cmd_running;		/* CRCR.CRR */
	/* interrupter 0, 5.5.2 (the only one: HCSPARAMS1.MaxIntrs = 1) */
	uint32_t iman, imod, erstsz;
	uint64_t erstba, erdp;
	struct { uint64_t base; uint32_t size; } erst[XHCI_ERST_MAX];
	unsigned int nr_segs, er_seg, er_idx;	/* the event ring's enqueue point */
	bool er_pcs;			/* producer cycle state */
	bool er_full;

	struct xhci_port port[XHCI_NR_PORTS];
	struct xhci_slot slot[XHCI_MAX_SLOTS + 1];
	uint8_t *buf;			/* a TD's data, XHCI_MAX_XFER */
	struct xhci_trb td[XHCI_MAX_TD_TRBS];	/* the TD being run, read once */
	uint64_t td_at[XHCI_MAX_TD_TRBS];	/* and where each TRB was */
	uint64_t start_ns;		/* MFINDEX counts from here */

	struct metric_counter *reg_reads, *reg_writes, *doorbells, *commands, *tds, *events, *irqs;
	struct metric_counter *trb_errors, *ring_loops, *bad_addresses, *stalls, *events_dropped;
	struct metric_counter *short_packets, *bytes_in, *bytes_out;
	struct metric_latency *td_ns;
};

/* xhci-ring.c; all with x->lock held */
void xhci__run_commands(struct xhci *x);
void xhci__run_endpoint(struct xhci *x, unsigned int slot, unsigned int dci);
/* Queues an event (6.4.2) and interrupts as 4.17 says. */
void xhci__event(struct xhci *x, uint64_t param, uint32_t status, uint32_t control);
/* ERSTBA written: the segment table read (5.5.2.3.2). */
void xhci__event_ring_setup(struct xhci *x);
/* The guest moved ERDP: more events pending interrupt again. */
void xhci__interrupt_update(struct xhci *x);
void xhci__slots_reset(struct xhci *x);

#endif /* VIOSCOPE__XHCI_H */
