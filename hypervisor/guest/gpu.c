/*
 * The probe guest's virtio-gpu driver: commands go out in batches of up
 * to GPU_BATCH chains (request, optional data, response) behind one kick,
 * as a frame's transfer and flush do, and the driver sleeps (sti; hlt)
 * until the MSI-X completion has answered them all.
 */
#include "hypervisor/guest/gpu.h"
#include "hypervisor/guest/virtio.h"

#define GPU_TYPE	16
#define F_VIRGL		(1u << 0)
#define F_EDID		(1u << 1)
#define SLOT		512		/* bytes of one request, and of one response */
#define RESP_LEN	408		/* the largest we ask for: DISPLAY_INFO */
#define WAIT_SPINS	100		/* hlt wakeups: the caller's 100 ms watchdog ticks */

static struct gvirtio gv;
static uint8_t *reqs, *resps;
static uint32_t lens[GPU_BATCH];
static const void *datas[GPU_BATCH];
static uint32_t data_lens[GPU_BATCH];
static unsigned int nr;

int ggpu_init(uint8_t vector, int virgl)
{
	if (gvirtio_init(&gv, GPU_TYPE, F_EDID | (virgl ? F_VIRGL : 0), 1, 64, vector))
		return -1;
	if (virgl && !(gv.features & F_VIRGL))
		return -2;
	reqs = guest_alloc(2 * GPU_BATCH * SLOT);
	if (!reqs)
		return -1;
	resps = reqs + GPU_BATCH * SLOT;
	nr = 0;
	return 0;
}

uint32_t *ggpu_cmd(uint32_t type, uint32_t ctx, unsigned int body)
{
	uint32_t *h = (uint32_t *)(reqs + nr * SLOT);

	memset(h, 0, 24);
	h[0] = type;
	h[4] = ctx;			/* flags, fence_id stay 0: no fences */
	lens[nr] = 24 + 4 * body;
	datas[nr] = 0;
	data_lens[nr] = 0;
	nr++;
	return h + 6;
}

void ggpu_cmd_data(const void *data, uint32_t len)
{
	datas[nr - 1] = data;
	data_lens[nr - 1] = len;
}

uint32_t ggpu_submit(void)
{
	struct gvq *q = &gv.q[0];
	unsigned int i, done = 0, spins = 0;
	uint32_t len, err = 0;

	for (i = 0; i < nr; i++) {
		uint16_t d = (uint16_t)(3 * i);

		q->desc[d] = (struct vq_desc){ (uint64_t)(reqs + i * SLOT), lens[i], VQ_F_NEXT,
					       (uint16_t)(d + 1) };
		if (datas[i]) {
			d++;
			q->desc[d] = (struct vq_desc){ (uint64_t)datas[i], data_lens[i], VQ_F_NEXT,
						       (uint16_t)(d + 1) };
		}
		q->desc[d + 1] = (struct vq_desc){ (uint64_t)(resps + i * SLOT), RESP_LEN,
						   VQ_F_WRITE, 0 };
		gvirtio_add(q, (uint16_t)(3 * i));
	}
	gvirtio_kick(q, 0);
	while (done < nr) {
		int head = gvirtio_used(q, &len);

		if (head < 0) {
			if (++spins > WAIT_SPINS) {
				nr = 0;
				return 1;
			}
			asm volatile("sti; hlt; cli" ::: "memory");
			continue;
		}
		done++;
		i = (unsigned int)head / 3;
		if (!err && (len < 24 || *(uint32_t *)(resps + i * SLOT) >= GPU_RESP_ERR_UNSPEC))
			err = len < 24 ? 1 : *(uint32_t *)(resps + i * SLOT);
	}
	nr = 0;
	return err;
}

const uint32_t *ggpu_resp(unsigned int i)
{
	return (const uint32_t *)(resps + i * SLOT);
}
