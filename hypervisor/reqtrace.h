/*
 * The request probes of the disk models (USDT, see probes/usdt.h): one id
 * per guest request from the moment a model takes it to the interrupt that
 * tells the guest, so that collectors/reqs.c can time every stage of it.
 * A probe is a single nop until something attaches; only the id and the
 * doorbell time are computed on every request.
 */
#ifndef VIOSCOPE__REQTRACE_H
#define VIOSCOPE__REQTRACE_H

#include <stdint.h>
#include <sys/sdt.h>

#include "hypervisor/device.h"
#include "hypervisor/vcpu.h"
#include "lib/clock.h"

/*
 * Probe arguments are passed in registers: for an argument in memory the
 * attached program pays a bpf_probe_read_user (measured here: a pickup
 * with three memory arguments cost 1.9 us of BPF time, 0.7 us without).
 */
static inline uint64_t reqtrace__reg(uint64_t v)
{
	__asm__("" : "+r"(v));
	return v;
}

/* When the VMM learnt of the guest's doorbell: the trapped exit's return
 * from KVM_RUN on a vCPU thread, else now (the event loop has just woken
 * on the ioeventfd). */
static inline uint64_t reqtrace__doorbell_ns(void)
{
	uint64_t t = vcpu__exit_ns();

	return t ? t : now_ns();
}

/* The model took request `tag` (virtqueue head, AHCI slot): a new id. */
static inline uint64_t reqtrace__pickup(const struct device *dev, uint32_t tag,
					uint64_t doorbell_ns)
{
	uint64_t id = device__next_req();

	DTRACE_PROBE5(vioscope, req_pickup, reqtrace__reg(dev->id), dev->name, reqtrace__reg(id),
		      reqtrace__reg(tag), reqtrace__reg(doorbell_ns));
	return id;
}

/* Handed to the block backend; breq is the io_uring user_data. */
#define reqtrace__submit(id, breq)					\
	DTRACE_PROBE2(vioscope, req_submit, reqtrace__reg(id), breq)
/* The backend's completion reached the model (bytes or -errno). */
#define reqtrace__backend_done(id, res)					\
	DTRACE_PROBE2(vioscope, req_backend_done, reqtrace__reg(id), res)
/* Status posted; the interrupt (when the guest wants one) follows at
 * once. Fired before it: the woken vCPU may preempt this thread. */
#define reqtrace__done(id, status)					\
	DTRACE_PROBE2(vioscope, req_done, reqtrace__reg(id), status)

#endif /* VIOSCOPE__REQTRACE_H */
