/*
 * The 82540EM's descriptor rings (8254x SDM 3.2 receive, 3.3 transmit):
 * everything here reads guest memory the guest described, so every ring,
 * descriptor and buffer is checked. A ring outside RAM or a head/tail
 * past its end is not walked (counted: bad_rings); a descriptor whose
 * buffer is outside RAM, or a packet longer than 64 KiB, drops that packet
 * (counted) and the ring moves on. A tail write walks at most one ring's
 * worth of descriptors, so nothing the guest writes makes it loop.
 *
 * Offloads go to the backend as a virtio-net header (the TAP then does
 * the work): the TCP/UDP checksum of a context descriptor (TXSM) becomes
 * NEEDS_CSUM, TCP segmentation (TSE) a GSO packet. The IP header checksum
 * (IXSM) is computed here.
 */
#include <errno.h>
#include <linux/virtio_net.h>
#include <string.h>
#include <sys/sdt.h>

#include "hypervisor/device.h"
#include "hypervisor/devices/e1000.h"
#include "hypervisor/kvm.h"
#include "hypervisor/reqtrace.h"

#define RX_MIN_FRAME	60	/* padded to the Ethernet minimum, FCS apart */
#define FCS_LEN		4

/* The ring base register triple as a host pointer to n descriptors, or
 * NULL when it is empty, outside RAM or its head/tail are past its end. */
static void *ring(struct e1000 *e, uint32_t bal, uint32_t *n)
{
	uint64_t base = (uint64_t)e1000__reg(e, bal + 4) << 32 | (e1000__reg(e, bal) & ~0xfu);
	uint32_t len = e1000__reg(e, bal + 8) & 0xfff80;	/* 128-byte multiples */
	void *p;

	*n = len / 16;
	if (!*n || e1000__reg(e, bal + 0x10) >= *n || e1000__reg(e, bal + 0x18) >= *n)
		goto bad;
	p = kvm__gpa_to_hva(e->kvm, base, len);
	if (p)
		return p;
bad:
	counter__inc(e->bad_rings);
	return NULL;
}

static uint16_t get16(const uint8_t *p) { return (uint16_t)(p[0] << 8 | p[1]); }
static void put16(uint8_t *p, uint16_t v) { p[0] = (uint8_t)(v >> 8); p[1] = (uint8_t)v; }

/* RFC 1071 over [start, end), folded and complemented. */
static uint16_t inet_csum(const uint8_t *p, uint32_t start, uint32_t end)
{
	uint32_t sum = 0, i;

	for (i = start; i + 1 < end; i += 2)
		sum += get16(p + i);
	if (i < end)
		sum += (uint32_t)p[i] << 8;
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

/* Adds v to a big-endian 16-bit ones'-complement sum at p. */
static void csum_add16(uint8_t *p, uint32_t v)
{
	uint32_t sum = get16(p) + v;

	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	put16(p, (uint16_t)sum);
}

/* The IPv4 header checksum at ipcso over ipcss..ipcse (0: the header's
 * own length). */
static bool ip_checksum(struct e1000 *e, uint32_t len)
{
	const struct e1000_tx_ctx *c = &e->ctx;
	uint32_t end = c->ipcse ? c->ipcse + 1u : c->ipcss + 4u * (e->tx_buf[c->ipcss] & 0xf);

	if (c->ipcss + 20u > len || end > len || end <= c->ipcss || c->ipcso + 2u > end ||
	    c->ipcso < c->ipcss)
		return false;
	put16(e->tx_buf + c->ipcso, 0);
	put16(e->tx_buf + c->ipcso, inet_csum(e->tx_buf, c->ipcss, end));
	return true;
}

/*
 * TCP segmentation (3.5): the driver leaves the IP length at 0 and the TCP
 * checksum seeded with a pseudo-header without length, since the hardware
 * fills both per segment. The backend segments a whole packet whose
 * headers are right for it: the lengths go in here, and the length into
 * the seed, as the virtio-net header expects (5.1.6.2).
 */
static bool tso_fixup(struct e1000 *e, uint32_t len, struct virtio_net_hdr_v1 *h)
{
	const struct e1000_tx_ctx *c = &e->ctx;
	bool v4 = c->tucmd & E1000_TUCMD_IP;

	if (!(c->tucmd & E1000_TUCMD_TCP) || !c->mss || c->hdr_len > len ||
	    c->tucso + 2u > c->hdr_len || c->tucss >= c->tucso || c->ipcss >= c->tucss ||
	    c->ipcss + (v4 ? 20u : 40u) > c->tucss)
		return false;
	if (v4) {
		put16(e->tx_buf + c->ipcss + 2, (uint16_t)(len - c->ipcss));
		if (!ip_checksum(e, len))
			return false;
	} else {
		put16(e->tx_buf + c->ipcss + 4, (uint16_t)(len - c->ipcss - 40));
	}
	csum_add16(e->tx_buf + c->tucso, len - c->tucss);
	h->gso_type = v4 ? VIRTIO_NET_HDR_GSO_TCPV4 : VIRTIO_NET_HDR_GSO_TCPV6;
	h->gso_size = c->mss;
	h->hdr_len = c->hdr_len;
	return true;
}

/* The gathered packet to the backend with its offloads. */
static void tx_send(struct e1000 *e)
{
	struct virtio_net_hdr_v1 h = { 0 };
	const struct e1000_tx_ctx *c = &e->ctx;
	uint32_t len = e->tx_len;
	struct iovec iov[2];
	uint64_t id;
	ssize_t ret;
	bool ok = len >= NET_ETH_HLEN && !e->tx_bad;

	if (ok && e->tx_legacy_ic) {
		/* Legacy checksum insertion (3.3.3.1): CSS to the end, at CSO. */
		ok = e->tx_css < len && e->tx_cso + 2u <= len && e->tx_cso >= e->tx_css;
		if (ok)
			put16(e->tx_buf + e->tx_cso, inet_csum(e->tx_buf, e->tx_css, len));
	}
	if (ok && (e->tx_tse || (e->tx_popts & (E1000_TXD_POPTS_TXSM | E1000_TXD_POPTS_IXSM))))
		ok = c->valid;
	if (ok && e->tx_tse)
		ok = tso_fixup(e, len, &h);
	else if (ok && (e->tx_popts & E1000_TXD_POPTS_IXSM))
		ok = ip_checksum(e, len);
	if (ok && (e->tx_tse || (e->tx_popts & E1000_TXD_POPTS_TXSM))) {
		ok = c->tucss < c->tucso && c->tucso + 2u <= len;
		h.flags = VIRTIO_NET_HDR_F_NEEDS_CSUM;
		h.csum_start = c->tucss;
		h.csum_offset = (uint16_t)(c->tucso - c->tucss);
	}
	if (!ok) {
		counter__inc(e->tx_bad_desc);
		return;
	}
	iov[0] = (struct iovec){ &h, NET_HDR_LEN };
	iov[1] = (struct iovec){ e->tx_buf, len };
	/* The request probes (vioscope trace --stages): the TDT write's exit
	 * is the doorbell, the packet's first descriptor the tag. */
	id = reqtrace__pickup(e->dev, e->tx_first, reqtrace__doorbell_ns());
	reqtrace__submit(id, 0);
	ret = net_backend__send(&e->be, iov, 2);
	reqtrace__backend_done(id, ret < 0 ? -errno : ret);
	reqtrace__done(id, ret < 0);
	DTRACE_PROBE3(vioscope, net_tx, e->dev->id, len, ret < 0 ? errno : 0);
	if (ret < 0) {
		counter__inc(e->tx_dropped);
		return;
	}
	counter__inc(e->tx_packets);
	counter__add(e->tx_bytes, len);
	e1000__stat_add(e, E1000_GPTC, 1);
	e1000__stat_add(e, E1000_TPT, 1);
	e1000__stat_add(e, E1000_GOTCL, len);
	e1000__stat_add(e, E1000_TOTL, len);
}

static void tx_context(struct e1000 *e, const struct e1000_tx_desc *d)
{
	uint64_t a = d->addr;

	e->ctx = (struct e1000_tx_ctx){
		.ipcss = (uint8_t)a, .ipcso = (uint8_t)(a >> 8), .ipcse = (uint16_t)(a >> 16),
		.tucss = (uint8_t)(a >> 32), .tucso = (uint8_t)(a >> 40), .tucse = (uint16_t)(a >> 48),
		.paylen = d->lower & 0xfffff, .tucmd = (uint8_t)(d->lower >> 24),
		.hdr_len = (uint8_t)(d->upper >> 8), .mss = (uint16_t)(d->upper >> 16),
		.valid = true,
	};
}

/* A data descriptor (legacy or extended): its buffer joins the packet. */
static void tx_data(struct e1000 *e, const struct e1000_tx_desc *d, bool ext, uint32_t idx)
{
	uint8_t cmd = (uint8_t)(d->lower >> 24);
	uint32_t len = ext ? d->lower & 0xfffff : d->lower & 0xffff;
	const void *src;

	if (e->tx_len == 0 && !e->tx_bad) {	/* the packet's first descriptor */
		e->tx_first = idx;
		e->tx_tse = ext && (cmd & E1000_TXD_CMD_TSE);
		e->tx_popts = ext ? (uint8_t)(d->upper >> 8) : 0;
		e->tx_legacy_ic = !ext && (cmd & E1000_TXD_CMD_IC);
		e->tx_cso = (uint8_t)(d->lower >> 16);
		e->tx_css = (uint8_t)(d->upper >> 8);
	}
	if (len) {
		src = kvm__gpa_to_hva(e->kvm, d->addr, len);
		if (!src || len > NET_FRAME_MAX - e->tx_len)
			e->tx_bad = true;
		if (!e->tx_bad) {
			memcpy(e->tx_buf + e->tx_len, src, len);
			e->tx_len += len;
		}
	}
	if (cmd & E1000_TXD_CMD_EOP) {
		tx_send(e);
		e->tx_len = 0;
		e->tx_bad = false;
	}
}

void e1000__tx(struct e1000 *e)
{
	struct e1000_tx_desc *r;
	uint32_t n, head, tail, budget;
	bool any = false;

	if (!(e1000__reg(e, E1000_TCTL) & E1000_TCTL_EN))
		return;
	r = ring(e, E1000_TDBAL, &n);
	if (!r)
		return;
	head = e1000__reg(e, E1000_TDH);
	tail = e1000__reg(e, E1000_TDT);
	for (budget = n; head != tail && budget; budget--) {
		struct e1000_tx_desc d;
		uint8_t cmd, dtyp;

		memcpy(&d, &r[head], sizeof(d));	/* once: the guest may change it */
		cmd = (uint8_t)(d.lower >> 24);
		dtyp = (d.lower >> 20) & 0xf;
		if (!(cmd & E1000_TXD_CMD_DEXT))
			tx_data(e, &d, false, head);
		else if (dtyp == E1000_TXD_DTYP_CTX)
			tx_context(e, &d);
		else if (dtyp == E1000_TXD_DTYP_DATA)
			tx_data(e, &d, true, head);
		else
			counter__inc(e->tx_bad_desc);
		/* Report Status (3.3.3.2): Descriptor Done written back. */
		if (cmd & E1000_TXD_CMD_RS)
			__atomic_or_fetch((uint8_t *)&r[head].upper, E1000_TXD_STAT_DD, __ATOMIC_RELEASE);
		head = (head + 1) % n;
		any = true;
	}
	e1000__set_reg(e, E1000_TDH, head);
	if (any)
		e1000__raise(e, E1000_ICR_TXDW | (head == tail ? E1000_ICR_TXQE : 0));
}

/* Receive buffer size from RCTL.BSIZE and BSEX (13.4.22). */
static uint32_t rx_buf_size(uint32_t rctl)
{
	static const uint32_t sizes[2][4] = { { 2048, 1024, 512, 256 }, { 2048, 16384, 8192, 4096 } };

	return sizes[!!(rctl & E1000_RCTL_BSEX)][(rctl >> E1000_RCTL_BSIZE_SHIFT) & 3];
}

/* Address filtering (3.2.1): broadcast with BAM, our unicast addresses,
 * promiscuous modes, the multicast table. */
static bool rx_accept(struct e1000 *e, const uint8_t *f)
{
	static const unsigned int mta_shift[4] = { 4, 3, 2, 0 };
	uint32_t rctl = e1000__reg(e, E1000_RCTL), hash;
	unsigned int i;

	if (!memcmp(f, "\xff\xff\xff\xff\xff\xff", 6))
		return rctl & E1000_RCTL_BAM;
	if (f[0] & 1) {
		if (rctl & E1000_RCTL_MPE)
			return true;
		hash = (uint32_t)((f[5] << 8 | f[4]) >> mta_shift[(rctl >> E1000_RCTL_MO_SHIFT) & 3]) & 0xfff;
		return e1000__reg(e, E1000_MTA + 4 * (hash >> 5)) & (1u << (hash & 31));
	}
	if (rctl & E1000_RCTL_UPE)
		return true;
	for (i = 0; i < 16; i++) {
		uint32_t lo = e1000__reg(e, E1000_RA + 8 * i), hi = e1000__reg(e, E1000_RA + 8 * i + 4);
		uint8_t mac[6] = { (uint8_t)lo, (uint8_t)(lo >> 8), (uint8_t)(lo >> 16),
				   (uint8_t)(lo >> 24), (uint8_t)hi, (uint8_t)(hi >> 8) };

		if ((hi & E1000_RAH_AV) && !memcmp(mac, f, 6))
			return true;
	}
	return false;
}

/* Places e->rx_buf in descriptors RDH.. : 1 done, 0 not enough free. */
static int rx_place(struct e1000 *e, struct e1000_rx_desc *r, uint32_t n)
{
	uint32_t rctl = e1000__reg(e, E1000_RCTL), bs = rx_buf_size(rctl);
	uint32_t head = e1000__reg(e, E1000_RDH), tail = e1000__reg(e, E1000_RDT);
	uint32_t len = e->rx_len, off = 0, free_desc = (tail + n - head) % n, need;
	uint8_t *frame = e->rx_buf + NET_HDR_LEN;

	if (len < RX_MIN_FRAME) {
		memset(frame + len, 0, RX_MIN_FRAME - len);
		len = RX_MIN_FRAME;
	}
	if (!(rctl & E1000_RCTL_SECRC)) {
		/* The FCS a real NIC leaves on (drivers strip it): not computed. */
		memset(frame + len, 0, FCS_LEN);
		len += FCS_LEN;
	}
	need = (len + bs - 1) / bs;
	if (free_desc < need)
		return 0;
	while (off < len) {
		struct e1000_rx_desc *d = &r[head];
		uint32_t k = len - off < bs ? len - off : bs;
		void *dst = kvm__gpa_to_hva(e->kvm, d->addr, k);

		if (dst) {
			memcpy(dst, frame + off, k);
			d->errors = 0;
		} else {
			counter__inc(e->rx_bad_desc);
			d->errors = 0x80;	/* RXE: the guest sees a receive error */
		}
		d->length = (uint16_t)k;
		d->csum = 0;
		d->special = 0;
		off += k;
		__atomic_store_n(&d->status, E1000_RXD_STAT_DD | (off == len ? E1000_RXD_STAT_EOP : 0),
				 __ATOMIC_RELEASE);
		head = (head + 1) % n;
	}
	e1000__set_reg(e, E1000_RDH, head);
	return 1;
}

void e1000__rx(struct e1000 *e)
{
	bool any = false;

	while (e1000__reg(e, E1000_RCTL) & E1000_RCTL_EN) {
		struct e1000_rx_desc *r;
		uint32_t n, free_desc, rdmts;

		if (!e->rx_len) {
			ssize_t got = net_backend__recv(&e->be, e->rx_buf, NET_HDR_LEN + NET_FRAME_MAX);

			if (got < 0)
				break;
			/* No offloads were asked of the TAP: whole frames, at most the MTU. */
			if (got < NET_HDR_LEN + NET_ETH_HLEN || got > NET_HDR_LEN + 16384) {
				counter__inc(e->rx_filtered);
				continue;
			}
			if (!rx_accept(e, e->rx_buf + NET_HDR_LEN)) {
				counter__inc(e->rx_filtered);
				continue;
			}
			e->rx_len = (uint32_t)(got - NET_HDR_LEN);
		}
		r = ring(e, E1000_RDBAL, &n);
		if (!r || !rx_place(e, r, n)) {
			/* Waits for the tail to move (a guest stall, counted as a
			 * missed packet only if it is finally dropped). */
			counter__inc(e->rx_no_buffer);
			break;
		}
		DTRACE_PROBE3(vioscope, net_rx, e->dev->id, e->rx_len, 1);
		counter__inc(e->rx_packets);
		counter__add(e->rx_bytes, e->rx_len);
		e1000__stat_add(e, E1000_GPRC, 1);
		e1000__stat_add(e, E1000_TPR, 1);
		e1000__stat_add(e, E1000_GORCL, e->rx_len);
		e1000__stat_add(e, E1000_TORL, e->rx_len);
		if (!memcmp(e->rx_buf + NET_HDR_LEN, "\xff\xff\xff\xff\xff\xff", 6))
			e1000__stat_add(e, E1000_BPRC, 1);
		e->rx_len = 0;
		any = true;
		/* Minimum threshold (RCTL.RDMTS): 1/2, 1/4 or 1/8 of the ring free. */
		free_desc = (e1000__reg(e, E1000_RDT) + n - e1000__reg(e, E1000_RDH)) % n;
		rdmts = (e1000__reg(e, E1000_RCTL) >> E1000_RCTL_RDMTS_SHIFT) & 3;
		if (rdmts < 3 && free_desc <= n >> (rdmts + 1))
			e1000__raise(e, E1000_ICR_RXDMT0);
	}
	if (any)
		e1000__raise(e, E1000_ICR_RXT0);
}

void e1000__ring_reset(struct e1000 *e)
{
	e->tx_len = 0;
	e->tx_bad = false;
	e->ctx.valid = false;
	e->rx_len = 0;
}
