/* The probe guest's virtio-gpu driver (gpu.c): commands in batches. */
#ifndef VIOSCOPE__GUEST_GPU_H
#define VIOSCOPE__GUEST_GPU_H

#include "hypervisor/guest/guest.h"

/* virtio 1.2 section 5.7.6.7 */
#define GPU_GET_DISPLAY_INFO	0x0100
#define GPU_RESOURCE_CREATE_2D	0x0101
#define GPU_SET_SCANOUT		0x0103
#define GPU_RESOURCE_FLUSH	0x0104
#define GPU_TRANSFER_TO_HOST_2D	0x0105
#define GPU_ATTACH_BACKING	0x0106
#define GPU_CTX_CREATE		0x0200
#define GPU_CTX_ATTACH_RESOURCE	0x0202
#define GPU_RESOURCE_CREATE_3D	0x0204
#define GPU_SUBMIT_3D		0x0207
#define GPU_RESP_OK_DISPLAY_INFO 0x1101
#define GPU_RESP_ERR_UNSPEC	0x1200
#define GPU_FORMAT_B8G8R8X8	2	/* XRGB8888 little-endian */
#define GPU_BATCH		8	/* commands per submit, at most */

/* Finds the device, takes EDID (and VIRGL when asked) and sets up the
 * control queue on MSI-X `vector`. 0; -1 no device; -2 no VIRGL. */
int ggpu_init(uint8_t vector, int virgl);
/* The next command of the batch: its header is filled (type, context);
 * the caller writes `body` dwords after it, the returned pointer. */
uint32_t *ggpu_cmd(uint32_t type, uint32_t ctx, unsigned int body);
/* Data that follows the last command's body (SUBMIT_3D's stream). */
void ggpu_cmd_data(const void *data, uint32_t len);
/* Sends the batch with one kick and waits for every response: 0, or the
 * first error response type (or 1 when the device did not answer). */
uint32_t ggpu_submit(void);
/* The response of command i of the last batch (its header first). */
const uint32_t *ggpu_resp(unsigned int i);

#endif
