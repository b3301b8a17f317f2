/* libFuzzer target: the virtqueue parser over guest memory the fuzzer writes
 * (descriptor table, rings, indirect tables and all). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "hypervisor/kvm.h"
#include "hypervisor/virtq.h"

#define RAM (64u << 10)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct kvm kvm;
	static struct virtq_req req;
	struct virtq vq;
	int i, ret;

	if (size < 1)
		return 0;
	if (!kvm.ram) {
		kvm.ram = malloc(RAM);
		kvm.ram_size = RAM;
	}
	memset(kvm.ram, 0, RAM);
	memcpy(kvm.ram, data + 1, size - 1 < RAM ? size - 1 : RAM);
	/* Queue of 16 at fixed places; byte 0 picks the negotiated features. */
	if (virtq__init(&vq, &kvm, 16, 0x0, 0x100, 0x200, data[0] & 1, data[0] & 2))
		return 0;
	for (i = 0; i < 64; i++) {
		ret = virtq__pop(&vq, &req);
		if (ret == 0)
			break;
		if (ret != -VIRTQ_ERR_HEAD)
			virtq__push(&vq, req.head, (uint32_t)req.in_bytes);
		virtq__should_notify(&vq);
	}
	virtq__enable_notify(&vq);
	return 0;
}
