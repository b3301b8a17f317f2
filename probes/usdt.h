/*
 * Every USDT probe in vioscope-vmm (provider "vioscope"), in one table.
 * Attach with e.g. `bpftrace -e 'usdt:bin/vioscope-vmm:vioscope:exit_pio { ... }'`
 * or `perf probe -x bin/vioscope-vmm sdt_vioscope:exit_pio`.
 *
 * VIOSCOPE_USDT(name, arguments, meaning). tests/probes/test_usdt.c checks
 * that this table, the binary's stapsdt notes and README.md agree.
 */
#ifndef VIOSCOPE__USDT_H
#define VIOSCOPE__USDT_H

#define VIOSCOPE_USDT_TABLE(X)							\
	X(exit_pio, "cpu, port, size, is_write",				\
	  "vCPU returned from KVM_RUN with a port I/O exit, before dispatch")	\
	X(exit_mmio, "cpu, gpa, len, is_write",				\
	  "vCPU returned from KVM_RUN with an MMIO exit, before dispatch")	\
	X(exit_done, "cpu, exit_reason, dispatch_ns",				\
	  "userspace handling of one exit finished; the vCPU re-enters")	\
	X(evloop_wake, "fd",							\
	  "the I/O event loop woke for fd (ioeventfd, console, backend)")	\
	X(ioeventfd, "addr, is_pio, count",					\
	  "a doorbell's eventfd was consumed: count guest writes since last")	\
	X(bench_kick, "count",							\
	  "bench device: doorbell writes handed to the device model")		\
	X(bench_irq, "slot, result",						\
	  "bench device: interrupt requested (result 0 sent, 1 held pending)") \
	X(msix_send, "slot, vector, gsi",					\
	  "MSI-X message written to the vector's irqfd (KVM injects it)")	\
	X(vfio_bar, "bar, offset, len, is_write",				\
	  "vfio-pci: a trapped BAR access forwarded to the host device")	\
	X(virtio_kick, "device_id, queue",					\
	  "a virtio queue was notified (ioeventfd or trapped write)")		\
	X(blk_submit, "type, sector, bytes",					\
	  "virtio-blk: a request parsed and handed to the block backend")	\
	X(blk_complete, "head, status",					\
	  "virtio-blk: a request answered (status byte, used ring)")		\
	X(net_tx, "dev, bytes, error",					\
	  "a NIC model handed one frame to its backend (error: errno, 0 ok)") \
	X(net_rx, "dev, bytes, buffers",					\
	  "a NIC model placed one frame from its backend in guest buffers") \
	X(ahci_command, "slot, command, lba",					\
	  "AHCI: a command slot started (ATA command code, LBA)")		\
	X(ahci_complete, "slot, status",					\
	  "AHCI: a command finished (ATA status), D2H FIS posted")		\
	X(guest_phase, "phase",						\
	  "probe guest switched measurement phase (0 dispatch, 1 raw loop)") \
	X(req_pickup, "dev, dev_name, req, tag, doorbell_ns",			\
	  "a disk model took request req (tag: virtqueue head or AHCI slot); " \
	  "doorbell_ns: when the VMM learnt of the guest's doorbell")	\
	X(req_submit, "req, breq",						\
	  "request req handed to the block backend (breq: io_uring user_data)") \
	X(req_backend_done, "req, result",					\
	  "the block backend's completion of req reached the model")	\
	X(req_done, "req, status",						\
	  "req answered: status posted, the interrupt about to be sent")	\
	X(req_guest, "dev, tag, submit_ns, doorbell_ns, complete_ns",	\
	  "one probe-guest I/O as the guest timed it (taken, doorbell "	\
	  "written, completion seen) on the host clock, fired when its "	\
	  "result record arrives")

#endif /* VIOSCOPE__USDT_H */
