/*
 * xHCI USB host controller (eXtensible Host Controller Interface 1.2), the
 * emulated USB path of the comparison: PCI class 0C/03/30, capability,
 * operational, runtime and doorbell registers (5.3 - 5.6), three USB 2.0
 * and two USB 3.x root ports (7.2 Supported Protocol capabilities), one
 * interrupter on MSI-X. The rings live in xhci-ring.c. Every register
 * access and every doorbell is a trapped MMIO exit, and the TDs a doorbell
 * starts run on that vCPU thread: that is the cost being measured.
 *
 *   --usb emul:PATH[,size=64M]   a USB mass-storage disk on root port 1
 * and always the latency keyboard (usb/hid.c) on root port 2, whose
 * events complete a waiting interrupt TD from the keyboard's own thread;
 *   host=VENDOR:PRODUCT          a host USB device through usbfs
 *                                (usb/host.c) on port 3, or port 4 when
 *                                it is SuperSpeed
 */
#include <cJSON.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hypervisor/backends/blk.h"
#include "hypervisor/device.h"
#include "hypervisor/devices/disk-args.h"
#include "hypervisor/devices/xhci.h"
#include "hypervisor/kvm.h"
#include "hypervisor/usb/usb.h"
#include "lib/clock.h"
#include "lib/log.h"

#define MMIO_BAR	0
#define MMIO_SIZE	0x4000
#define MSIX_BAR	4
#define CAPLENGTH	0x40		/* operational registers follow */
#define OP		CAPLENGTH
#define PORTS		0x400		/* from OP, 5.4.8: a 16-byte set per port */
#define RUNTIME		0x1000		/* RTSOFF */
#define IR0		(RUNTIME + 0x20)
#define DOORBELLS	0x2000		/* DBOFF */
#define XECP		0x800		/* extended capabilities (7) */

/* Capability registers, 5.3 */
#define HCIVERSION	0x0120
#define HCSPARAMS1	(XHCI_MAX_SLOTS | 1u << 8 | (uint32_t)XHCI_NR_PORTS << 24)
#define HCSPARAMS2	(4u << 4)	/* ERST Max: 2^4 segments, no scratchpad */
#define HCCPARAMS1	(1u | (XECP / 4) << 16)	/* AC64, 32-byte contexts, xECP */

/* Operational register offsets, 5.4 */
#define R_USBCMD	0x00
#define R_USBSTS	0x04
#define R_PAGESIZE	0x08
#define R_DNCTRL	0x14
#define R_CRCR_LO	0x18
#define R_CRCR_HI	0x1c
#define R_DCBAAP_LO	0x30
#define R_DCBAAP_HI	0x34
#define R_CONFIG	0x38
#define CRCR_RCS	(1u << 0)
#define CRCR_CS		(1u << 1)
#define CRCR_CA		(1u << 2)
#define CRCR_CRR	(1u << 3)
#define STS_RW1C	(STS_HSE | STS_EINT | STS_PCD | (1u << 10))

/* Port link states (5.4.8 PLS) and speed IDs (7.2.2.1.1) */
#define PLS_U0		0
#define PLS_RXDETECT	5
#define PLS_POLLING	7
#define SPEED_FULL	1
#define SPEED_LOW	2
#define SPEED_HIGH	3
#define SPEED_SUPER	4
#define PORT_HOST	2		/* index of port 3: a passed-through device */
#define PORT_HOST_SS	3		/* port 4: one at SuperSpeed */

static bool port_usb3(unsigned int i)
{
	return i >= XHCI_USB2_PORTS;
}

/* A port change bit set (0 -> 1) is a Port Status Change Event (4.19.2). */
static void port_notify(struct xhci *x, unsigned int i, uint32_t bits)
{
	struct xhci_port *p = &x->port[i];

	if ((p->portsc & bits) == bits)
		return;
	p->portsc |= bits;
	x->usbsts |= STS_PCD;
	if (x->usbcmd & CMD_RS)
		xhci__event(x, (uint64_t)(i + 1) << 24, (uint32_t)CC_SUCCESS << 24,
			    TRB_PORT_STATUS << 10);
}

/* Port state after a controller reset or an attach (4.19.1). */
static void port_attach(struct xhci *x, unsigned int i)
{
	struct xhci_port *p = &x->port[i];

	p->portsc = PORTSC_PP | PLS_RXDETECT << PORTSC_PLS_SHIFT;
	if (!p->dev)
		return;
	if (port_usb3(i)) {		/* a USB 3 link trains to U0, enabled (4.19.1.2) */
		p->portsc = PORTSC_PP | PORTSC_CCS | PORTSC_PED | PLS_U0 << PORTSC_PLS_SHIFT |
			    SPEED_SUPER << PORTSC_SPEED_SHIFT;
	} else {
		uint32_t speed = p->dev->speed == USB_SPEED_HIGH ? SPEED_HIGH
			       : p->dev->speed == USB_SPEED_LOW ? SPEED_LOW : SPEED_FULL;

		p->portsc = PORTSC_PP | PORTSC_CCS | PLS_POLLING << PORTSC_PLS_SHIFT |
			    speed << PORTSC_SPEED_SHIFT;
	}
	port_notify(x, i, PORTSC_CSC);
}

/* 4.19.5: a USB 2.0 port reset enables the port in U0, the device reset. */
static void port_reset(struct xhci *x, unsigned int i, bool warm)
{
	struct xhci_port *p = &x->port[i];

	if (!(p->portsc & PORTSC_CCS))
		return;
	p->portsc &= ~(PORTSC_PR | 0xfu << PORTSC_PLS_SHIFT);
	p->portsc |= PORTSC_PED | PLS_U0 << PORTSC_PLS_SHIFT;
	p->dev->config = 0;
	p->dev->halted = 0;
	if (p->dev->ops->reset)
		p->dev->ops->reset(p->dev);
	port_notify(x, i, PORTSC_PRC | (warm ? PORTSC_WRC : 0));
}

static void port_write(struct xhci *x, unsigned int i, uint32_t v)
{
	struct xhci_port *p = &x->port[i];

	if ((v & PORTSC_WPR) && port_usb3(i)) {
		port_reset(x, i, true);
		return;
	}
	if (v & PORTSC_PR) {
		port_reset(x, i, false);
		return;
	}
	p->portsc &= ~(v & PORTSC_CHANGES);		/* RW1C */
	if (v & PORTSC_PED)				/* RW1CS: 1 disables */
		p->portsc &= ~PORTSC_PED;
	if ((v & PORTSC_LWS) && (p->portsc & PORTSC_PED)) {
		/* Link state writes: U0 and U3 (suspend) only, done at once. */
		uint32_t pls = (v >> PORTSC_PLS_SHIFT) & 0xf;

		if (pls == 0 || pls == 3) {
			p->portsc = (p->portsc & ~(0xfu << PORTSC_PLS_SHIFT)) |
				    pls << PORTSC_PLS_SHIFT;
			if (pls == 0)
				port_notify(x, i, PORTSC_PLC);
		}
	}
	/* PP and the wake enables (bits 25-27) are plain read/write. */
	p->portsc = (p->portsc & ~(PORTSC_PP | 7u << 25)) | (v & (PORTSC_PP | 7u << 25));
}

static void xhci_reset(struct xhci *x)
{
	unsigned int i;

	x->usbcmd = 0;
	x->usbsts = STS_HCH;
	x->dnctrl = x->config = 0;
	x->dcbaap = 0;
	x->cmd = (struct xhci_ring){ 0 };
	x->cmd_running = false;
	x->iman = x->erstsz = 0;
	x->imod = 4000;			/* 5.5.2.2 default: 1 ms */
	x->erstba = x->erdp = 0;
	x->nr_segs = x->er_seg = x->er_idx = 0;
	x->er_pcs = true;
	x->er_full = false;
	xhci__slots_reset(x);
	for (i = 0; i < XHCI_NR_PORTS; i++)
		port_attach(x, i);
	x->usbsts &= ~STS_PCD;		/* nothing was running to be told */
}

static uint32_t cap_read(uint64_t off)
{
	switch (off) {
	case 0x00: return CAPLENGTH | HCIVERSION << 16;
	case 0x04: return HCSPARAMS1;
	case 0x08: return HCSPARAMS2;
	case 0x10: return HCCPARAMS1;
	case 0x14: return DOORBELLS;
	case 0x18: return RUNTIME;
	}
	return 0;
}

/* Two Supported Protocol capabilities (7.2): ports 1-3 USB 2.0, 4-5 USB 3.0. */
static uint32_t xecp_read(uint64_t off)
{
	static const uint32_t caps[8] = {
		2 | 4u << 8 | 0x02u << 24, 0x20425355, 1 | XHCI_USB2_PORTS << 8, 0,
		2 | 0u << 8 | 0x03u << 24, 0x20425355,
		(XHCI_USB2_PORTS + 1) | (XHCI_NR_PORTS - XHCI_USB2_PORTS) << 8, 0,
	};
	uint64_t i = (off - XECP) / 4;

	return i < 8 ? caps[i] : 0;
}

static uint32_t op_read(struct xhci *x, uint64_t off)
{
	if (off >= PORTS) {
		uint64_t i = (off - PORTS) / 16;

		return i < XHCI_NR_PORTS && (off & 15) == 0 ? x->port[i].portsc : 0;
	}
	switch (off) {
	case R_USBCMD: return x->usbcmd;
	case R_USBSTS: return x->usbsts;
	case R_PAGESIZE: return 1;			/* 4 KiB pages */
	case R_DNCTRL: return x->dnctrl;
	case R_CRCR_LO: return x->cmd_running ? CRCR_CRR : 0;	/* pointer reads 0 */
	case R_DCBAAP_LO: return (uint32_t)x->dcbaap;
	case R_DCBAAP_HI: return (uint32_t)(x->dcbaap >> 32);
	case R_CONFIG: return x->config;
	}
	return 0;
}

static void op_write(struct xhci *x, uint64_t off, uint32_t v)
{
	if (off >= PORTS) {
		uint64_t i = (off - PORTS) / 16;

		if (i < XHCI_NR_PORTS && (off & 15) == 0)
			port_write(x, (unsigned int)i, v);
		return;
	}
	switch (off) {
	case R_USBCMD:
		if (v & CMD_HCRST) {
			xhci_reset(x);		/* 4.2: done at once, CNR never set */
			return;
		}
		if ((v & CMD_RS) && !(x->usbcmd & CMD_RS)) {
			x->usbsts &= ~STS_HCH;
			x->start_ns = now_ns();
		} else if (!(v & CMD_RS)) {
			x->usbsts |= STS_HCH;
			x->cmd_running = false;
		}
		x->usbcmd = v & 0x3f0f;
		break;
	case R_USBSTS:
		x->usbsts &= ~(v & STS_RW1C);
		break;
	case R_DNCTRL:
		x->dnctrl = v & 0xffff;
		break;
	case R_CRCR_LO:
		if (x->cmd_running && (v & (CRCR_CS | CRCR_CA))) {
			/* 4.6.1.2: stop, and say where the ring stands. */
			x->cmd_running = false;
			xhci__event(x, x->cmd.deq, (uint32_t)CC_CMD_RING_STOPPED << 24,
				    TRB_CMD_COMPLETION << 10);
		} else if (!x->cmd_running) {
			x->cmd.deq = (x->cmd.deq & ~0xffffffffull) | (v & ~0x3fu);
			x->cmd.ccs = v & CRCR_RCS;
		}
		break;
	case R_CRCR_HI:
		if (!x->cmd_running)
			x->cmd.deq = (x->cmd.deq & 0xffffffffull) | (uint64_t)v << 32;
		break;
	case R_DCBAAP_LO:
		x->dcbaap = (x->dcbaap & ~0xffffffffull) | (v & ~0x3fu);
		break;
	case R_DCBAAP_HI:
		x->dcbaap = (x->dcbaap & 0xffffffffull) | (uint64_t)v << 32;
		break;
	case R_CONFIG:
		x->config = (v & 0xff) > XHCI_MAX_SLOTS ? XHCI_MAX_SLOTS : v & 0x3ff;
		break;
	}
}

static uint32_t runtime_read(struct xhci *x, uint64_t off)
{
	switch (off) {
	case 0x00:			/* MFINDEX: 125 us microframes */
		return x->usbcmd & CMD_RS ? (uint32_t)((now_ns() - x->start_ns) / 125000) & 0x3fff : 0;
	case IR0 - RUNTIME + 0x00: return x->iman;
	case IR0 - RUNTIME + 0x04: return x->imod;
	case IR0 - RUNTIME + 0x08: return x->erstsz;
	case IR0 - RUNTIME + 0x10: return (uint32_t)x->erstba;
	case IR0 - RUNTIME + 0x14: return (uint32_t)(x->erstba >> 32);
	case IR0 - RUNTIME + 0x18: return (uint32_t)x->erdp;
	case IR0 - RUNTIME + 0x1c: return (uint32_t)(x->erdp >> 32);
	}
	return 0;
}

static void runtime_write(struct xhci *x, uint64_t off, uint32_t v)
{
	switch (off) {
	case IR0 - RUNTIME + 0x00:	/* IMAN: IP is RW1C, IE read/write */
		x->iman = (x->iman & ~(v & IMAN_IP) & ~IMAN_IE) | (v & IMAN_IE);
		break;
	case IR0 - RUNTIME + 0x04:
		x->imod = v;
		break;
	case IR0 - RUNTIME + 0x08:
		x->erstsz = v & 0xffff;
		break;
	case IR0 - RUNTIME + 0x10:
		x->erstba = (x->erstba & ~0xffffffffull) | (v & ~0x3fu);
		break;
	case IR0 - RUNTIME + 0x14:	/* the high half completes the address */
		x->erstba = (x->erstba & 0xffffffffull) | (uint64_t)v << 32;
		xhci__event_ring_setup(x);
		break;
	case IR0 - RUNTIME + 0x18:	/* ERDP: EHB is RW1C */
		x->erdp = (x->erdp & ~0xffffffffull) | (v & ~ERDP_EHB) |
			  ((x->erdp & ERDP_EHB) && !(v & ERDP_EHB) ? ERDP_EHB : 0);
		xhci__interrupt_update(x);
		break;
	case IR0 - RUNTIME + 0x1c:
		x->erdp = (x->erdp & 0xffffffffull) | (uint64_t)v << 32;
		break;
	}
}

static void doorbell(struct xhci *x, unsigned int i, uint32_t v)
{
	counter__inc(x->doorbells);
	if (i == 0) {
		if ((v & 0xff) == 0 && (x->usbcmd & CMD_RS)) {
			x->cmd_running = true;
			xhci__run_commands(x);
		}
		return;
	}
	xhci__run_endpoint(x, i, v & 0xff);
}

static void mmio_dword(struct xhci *x, uint64_t off, uint32_t *v, bool is_write)
{
	if (off < CAPLENGTH) {
		if (!is_write)
			*v = cap_read(off);
	} else if (off < XECP) {
		if (is_write)
			op_write(x, off - OP, *v);
		else
			*v = op_read(x, off - OP);
	} else if (off < RUNTIME) {
		if (!is_write)
			*v = xecp_read(off);
	} else if (off < DOORBELLS) {
		if (is_write)
			runtime_write(x, off - RUNTIME, *v);
		else
			*v = runtime_read(x, off - RUNTIME);
	} else if (off < DOORBELLS + 4 * (XHCI_MAX_SLOTS + 1)) {
		if (is_write)
			doorbell(x, (unsigned int)(off - DOORBELLS) / 4, *v);
		else
			*v = 0;
	} else if (!is_write) {
		*v = 0;
	}
}

static void xhci_mmio(void *opaque, uint64_t off, void *data, uint32_t len, bool is_write)
{
	struct xhci *x = opaque;
	uint32_t v[2] = { 0, 0 };
	unsigned int i;

	if ((len != 4 && len != 8) || (off & 3)) {
		if (!is_write)
			memset(data, 0, len);
		return;
	}
	counter__inc(is_write ? x->reg_writes : x->reg_reads);
	if (is_write)
		memcpy(v, data, len);
	pthread_mutex_lock(&x->lock);
	/* A 64-bit access is its two halves, low first (5.1). */
	for (i = 0; i < len / 4; i++)
		mmio_dword(x, off + 4 * i, &v[i], is_write);
	pthread_mutex_unlock(&x->lock);
	if (!is_write)
		memcpy(data, v, len);
}

/* A device has data for a TD it NAKed: run that endpoint's ring again. */
static void xhci_wakeup(void *hc, struct usb_dev *d, unsigned int ep)
{
	struct xhci *x = hc;
	unsigned int id;

	pthread_mutex_lock(&x->lock);
	/* Only a running endpoint: a stopped one waits for its doorbell. */
	for (id = 1; id <= XHCI_MAX_SLOTS; id++)
		if (x->slot[id].enabled && x->slot[id].port &&
		    x->port[x->slot[id].port - 1].dev == d &&
		    x->slot[id].ep[ep * 2 + 1].state == EP_RUNNING)
			xhci__run_endpoint(x, id, ep * 2 + 1);
	pthread_mutex_unlock(&x->lock);
}

static void xhci_cfg_written(struct pci_device *pdev, uint32_t off, uint32_t len)
{
	struct xhci *x = pdev->priv;

	msix__cfg_written(&x->msix, off, len);
}

/* "host=VENDOR:PRODUCT" taken out of args (into host), the rest left. */
static void split_host(const char *args, char *rest, size_t rest_len, char *host, size_t host_len)
{
	char copy[320], *save, *tok;
	size_t n = 0;

	snprintf(copy, sizeof(copy), "%s", args);
	rest[0] = host[0] = 0;
	for (tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		if (!strncmp(tok, "host=", 5))
			snprintf(host, host_len, "%s", tok + 5);
		else if (n < rest_len)
			n += (size_t)snprintf(rest + n, rest_len - n, "%s%s", n ? "," : "", tok);
	}
}

static int xhci__init(struct kvm *kvm, struct device *dev, const char *args)
{
	struct xhci *x = calloc(1, sizeof(*x));
	struct disk_args da;
	char why[160], rest[320], host[32];
	int ret;

	if (!x)
		return -ENOMEM;
	dev->priv = x;
	x->dev = dev;
	x->kvm = kvm;
	pthread_mutex_init(&x->lock, NULL);
	x->buf = malloc(XHCI_MAX_XFER);
	if (!x->buf)
		return -ENOMEM;
	split_host(args ? args : "", rest, sizeof(rest), host, sizeof(host));
	if (*host) {
		struct usb_dev *d = usb_host__new(host, why, sizeof(why));

		if (!d) {
			pr_err("usb host %s: %s", host, why);
			return -ENODEV;
		}
		x->port[d->speed == USB_SPEED_SUPER ? PORT_HOST_SS : PORT_HOST].dev = d;
	}
	if (*rest) {
		if (disk_args__parse(rest, &da)) {
			pr_err("--usb emul:%s: expected PATH[,size=64M]", rest);
			return -EINVAL;
		}
		x->port[0].dev = usb_storage__new(da.path, da.size, why, sizeof(why));
		if (!x->port[0].dev) {
			pr_err("--usb emul:%s: %s", args, why);
			return -EINVAL;
		}
	}
	x->port[1].dev = usb_hid__new();
	if (!x->port[1].dev)
		return -ENOMEM;
	for (unsigned int i = 0; i < XHCI_NR_PORTS; i++)
		if (x->port[i].dev) {
			x->port[i].dev->wakeup = xhci_wakeup;
			x->port[i].dev->hc = x;
		}
	x->reg_reads = metrics__counter(&dev->metrics, "register_reads");
	x->reg_writes = metrics__counter(&dev->metrics, "register_writes");
	x->doorbells = metrics__counter(&dev->metrics, "doorbells");
	x->commands = metrics__counter(&dev->metrics, "commands");
	x->tds = metrics__counter(&dev->metrics, "transfer_descriptors");
	x->events = metrics__counter(&dev->metrics, "events");
	x->irqs = metrics__counter(&dev->metrics, "irqs_sent");
	x->trb_errors = metrics__counter(&dev->metrics, "trb_errors");
	x->ring_loops = metrics__counter(&dev->metrics, "ring_loops");
	x->bad_addresses = metrics__counter(&dev->metrics, "bad_addresses");
	x->stalls = metrics__counter(&dev->metrics, "stalls");
	x->events_dropped = metrics__counter(&dev->metrics, "events_dropped");
	x->short_packets = metrics__counter(&dev->metrics, "short_packets");
	x->bytes_in = metrics__counter(&dev->metrics, "bytes_to_guest");
	x->bytes_out = metrics__counter(&dev->metrics, "bytes_from_guest");
	x->td_ns = metrics__latency(&dev->metrics, "td_ns");
	xhci_reset(x);

	/* Red Hat's qemu-xhci IDs, as QEMU uses; class 0C/03/30 (xHCI). */
	pci__device_init(&x->pci, dev->name, 0x1b36, 0x000d, 0x0c0330);
	x->pci.cfg[0x60] = 0x30;	/* SBRN: USB 3.0 (5.2.3) */
	x->pci.cfg[0x61] = 0x20;	/* FLADJ default (5.2.4) */
	x->pci.priv = x;
	x->pci.cfg_written = xhci_cfg_written;
	ret = pci__add_bar(&x->pci, MMIO_BAR, MMIO_SIZE, false, xhci_mmio, x);
	if (!ret)
		ret = pci__add_bar(&x->pci, MSIX_BAR, 0x1000, false, msix__mmio, &x->msix);
	if (!ret)
		ret = msix__init(&x->msix, &x->pci, 1, MSIX_BAR, 0, 0x800);
	if (!ret)
		ret = pci__register(&kvm->pci, &x->pci);
	return ret;
}

static void xhci__exit(struct device *dev)
{
	struct xhci *x = dev->priv;
	unsigned int i;

	if (!x)
		return;
	for (i = 0; i < XHCI_NR_PORTS; i++)
		usb__destroy(x->port[i].dev);
	free(x->buf);
	free(x);
}

static int64_t xhci_host_verify(struct device *dev, uint32_t bs, uint64_t blocks)
{
	struct xhci *x = dev->priv;
	struct blk_backend *b = x->port[0].dev ? usb_storage__backend(x->port[0].dev) : NULL;

	return b ? disk__host_verify(b, bs, blocks) : -1;
}

static void xhci__to_json(struct device *dev, cJSON *obj)
{
	struct xhci *x = dev->priv;
	cJSON *ports = cJSON_AddArrayToObject(obj, "ports");
	unsigned int i;

	for (i = 0; i < XHCI_NR_PORTS; i++)
		cJSON_AddItemToArray(ports, cJSON_CreateString(x->port[i].dev ?
					x->port[i].dev->ops->name : ""));
}

static const struct device_ops xhci_ops = {
	.name = "xhci",
	.help = "emulated USB: xHCI controller, a mass-storage disk on port 1 (--usb emul:PATH)",
	.init = xhci__init,
	.exit = xhci__exit,
	.host_verify = xhci_host_verify,
	.to_json = xhci__to_json,
};
device_register(xhci_ops);
