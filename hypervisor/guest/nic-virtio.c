/*
 * virtio-net from the driver's side (virtio 1.2, 5.1): VERSION_1, MAC and
 * mergeable receive buffers, no offloads; queue 0 receive, 1 transmit.
 * Each buffer is one descriptor with the 12-byte header in front of the
 * frame. Transmit completions are polled from the used ring (memory, no
 * exit) with interrupts off (VRING_AVAIL_F_NO_INTERRUPT), as Linux does.
 */
#include "hypervisor/guest/nic.h"
#include "hypervisor/guest/virtio.h"

#define VNET_TYPE	1
#define F_MAC		(1u << 5)
#define F_MRG_RXBUF	(1u << 15)
#define HDR		12

static struct gvirtio vn;
static uint8_t *txbuf, *rxbuf;

static int vnet_init(uint8_t vector, uint8_t mac[6])
{
	unsigned int s, i;
	int ret = gvirtio_init(&vn, VNET_TYPE, F_MAC | F_MRG_RXBUF, 2, NIC_SLOTS, vector);

	if (ret)
		return ret;
	if (vn.q[0].size != NIC_SLOTS || vn.q[1].size != NIC_SLOTS || !vn.msix)
		return -7;
	txbuf = guest_alloc(NIC_SLOTS * NIC_BUF);
	rxbuf = guest_alloc(NIC_SLOTS * NIC_BUF);
	if (!txbuf || !rxbuf)
		return -8;
	for (i = 0; i < 6; i++)
		mac[i] = *(volatile uint8_t *)(vn.device + i);
	memset(txbuf, 0, NIC_SLOTS * NIC_BUF);
	gvirtio_interrupts(&vn.q[1], 0);
	for (s = 0; s < NIC_SLOTS; s++) {
		vn.q[0].desc[s] = (struct vq_desc){ (uint64_t)(rxbuf + s * NIC_BUF), NIC_BUF,
						    VQ_F_WRITE, 0 };
		gvirtio_add(&vn.q[0], (uint16_t)s);
	}
	gvirtio_kick(&vn.q[0], 0);
	return 0;
}

static uint8_t *vnet_tx_frame(unsigned int s)
{
	return txbuf + s * NIC_BUF + HDR;	/* the header stays zero: no offloads */
}

static void vnet_tx(unsigned int s, uint32_t len, int kick)
{
	vn.q[1].desc[s] = (struct vq_desc){ (uint64_t)(txbuf + s * NIC_BUF), HDR + len, 0, 0 };
	gvirtio_add(&vn.q[1], (uint16_t)s);
	if (kick)
		gvirtio_kick(&vn.q[1], 0);
}

static unsigned int vnet_tx_done(void)
{
	unsigned int n = 0;
	uint32_t len;

	while (gvirtio_used(&vn.q[1], &len) >= 0)
		n++;
	return n;
}

static void vnet_tx_irq(int on)
{
	gvirtio_interrupts(&vn.q[1], on);
}

static int vnet_rx(uint8_t **frame, uint32_t *len)
{
	uint32_t n;
	int s = gvirtio_used(&vn.q[0], &n);

	if (s < 0)
		return -1;
	if (s >= NIC_SLOTS || n < HDR) {	/* the device's mistake: take it as empty */
		*len = 0;
		*frame = rxbuf;
		return s < NIC_SLOTS ? s : 0;
	}
	*frame = rxbuf + (unsigned int)s * NIC_BUF + HDR;
	*len = n - HDR;
	return s;
}

static void vnet_rx_refill(unsigned int s, int kick)
{
	gvirtio_add(&vn.q[0], (uint16_t)s);
	if (kick)
		gvirtio_kick(&vn.q[0], 0);
}

static void vnet_irq(void)
{
}

const struct gnic_ops gnic_virtio_ops = {
	.name = "virtio-net",
	.init = vnet_init,
	.tx_frame = vnet_tx_frame,
	.tx = vnet_tx,
	.tx_done = vnet_tx_done,
	.tx_irq = vnet_tx_irq,
	.rx = vnet_rx,
	.rx_refill = vnet_rx_refill,
	.irq = vnet_irq,
};
