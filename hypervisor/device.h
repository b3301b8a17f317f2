#ifndef VIOSCOPE__DEVICE_H
#define VIOSCOPE__DEVICE_H

#include <stdint.h>

#include "hypervisor/metrics.h"

struct kvm;
struct cJSON;

/*
 * A device model. Each model is one file that fills a device_ops and
 * registers it with device_register(); the VMM creates instances by name.
 */
struct device;

struct device_ops {
	const char *name;
	const char *help;
	/* args: the text after "name," on the command line, or NULL. */
	int (*init)(struct kvm *kvm, struct device *dev, const char *args);
	void (*exit)(struct device *dev);
	/* Optional: bring metrics up to date (drain pending notifications). */
	void (*sync)(struct device *dev);
	/* Optional, disks: counts blocks 0..n-1 of the backing image that do not
	 * hold vio_pattern() (the guest's verify=1 check, from the host side). */
	int64_t (*host_verify)(struct device *dev, uint32_t block_size, uint64_t blocks);
	/* Optional, displays: pixels of the frame the host last saw that are
	 * not what the gfx workload of abi.h drew (-1: no frame to check). */
	int64_t (*frame_verify)(struct device *dev, uint32_t pattern, uint32_t width,
				uint32_t height, uint64_t frames);
	/* Optional, displays: host ns when the refresh first showed the gfx
	 * workload's frame k (its stamp), 0 if it never did. */
	uint64_t (*frame_seen)(struct device *dev, uint64_t frame);
	/* Optional: model state worth keeping in the results (beside metrics). */
	void (*to_json)(struct device *dev, struct cJSON *obj);
};

struct device {
	const struct device_ops *ops;
	struct kvm *kvm;
	unsigned int id;	/* creation order: the "dev" of the request probes */
	char name[32];
	struct metrics metrics;
	void *priv;
	struct device *next;
};

void device__register_ops(const struct device_ops *ops);
const struct device_ops *device__find_ops(const char *name);
/* Creates and initialises an instance, linked into kvm->devices. NULL on
 * failure: the model has reported why. */
struct device *device__create(struct kvm *kvm, const char *type, const char *args);
struct device *device__find(struct kvm *kvm, const char *type);
void device__sync_all(struct kvm *kvm);
void device__destroy_all(struct kvm *kvm);
struct cJSON *device__all_to_json(struct kvm *kvm);
void device__print_models(void);
/* A new request id, unique in this VMM (the request probes' "req"). */
uint64_t device__next_req(void);

#define device_register(ops)						\
	static void __attribute__((constructor)) register_##ops(void)	\
	{								\
		device__register_ops(&ops);				\
	}

#endif /* VIOSCOPE__DEVICE_H */
