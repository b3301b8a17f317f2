#ifndef VIOSCOPE__TEST_HELPERS_H
#define VIOSCOPE__TEST_HELPERS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct cJSON;
struct kvm;

/* Path of a built binary: $VIOSCOPE_BIN/name, default bin/name. */
const char *test_bin(const char *name);
/* True when /dev/kvm can create a VM; otherwise *why says what is missing. */
bool test_kvm_usable(const char **why);
/* Skips the current test with the reason printed, when KVM is unusable. */
void test_require_kvm(void);
/* Skips the current test (reason printed) without root or kernel BTF. */
void test_require_bpf(void);
/* Skips (with the reason) where Mesa's EGL and llvmpipe are missing. */
void test_require_virgl(void);

/* Runs argv, captures stdout and stderr (each up to a few MiB). Returns the
 * exit status, or 128 + signal. */
int test_run(char *const argv[], char **out, char **err);
/* Runs bin/vioscope-vmm with args (NULL-terminated) plus --json to a
 * temporary file; *json is the parsed file or NULL. Returns the status. */
int test_run_vmm(const char *const args[], char **out, char **err, struct cJSON **json);
/* Reads and parses a JSON file (NULL on error). */
struct cJSON *test_read_json(const char *path);
/* Number at a dotted path like "results.0.per_op.ns.p50"; NAN if absent. */
double test_json_num(const struct cJSON *root, const char *path);
/* Counts lines of s. */
int test_count_lines(const char *s);

/* A struct kvm with buses, PCI host and IRQ routing but no VM (vm_fd -1),
 * for device-model unit tests. */
struct kvm *test_fake_kvm(void);
/* The same with ram_size bytes of zeroed guest RAM (freed by _free). */
struct kvm *test_fake_kvm_with_ram(uint64_t ram_size);
void test_fake_kvm_free(struct kvm *kvm);
/* A driver's register access through the fake VM's MMIO bus (asserted to
 * reach a device). */
uint32_t test_mmio_read(struct kvm *kvm, uint64_t addr, uint32_t len);
void test_mmio_write(struct kvm *kvm, uint64_t addr, uint32_t v, uint32_t len);
/* A virtio-pci driver's bring-up (virtio 1.2, 3.1.1) on the device whose
 * common configuration is at bar (offset 0): reset, features (bits 0-31,
 * and VERSION_1), FEATURES_OK, queues 0..nr-1 of qsize entries with their
 * rings at ring + q * stride (avail +0x1000, used +0x2000), DRIVER_OK. */
void test_virtio_bring_up(struct kvm *kvm, uint64_t bar, uint32_t features, unsigned int nr,
			  uint16_t qsize, uint64_t ring, uint64_t stride);
/* For NIC models: a running event loop on kvm (stopped and freed by
 * test_fake_kvm_free), and a datagram socketpair carrying header + frame
 * as a TAP does; returns the test's end, args gets "fd=N" for --net. */
void test_fake_kvm_evloop(struct kvm *kvm);
int test_nic_backend(char *args, size_t len);

#endif /* VIOSCOPE__TEST_HELPERS_H */
