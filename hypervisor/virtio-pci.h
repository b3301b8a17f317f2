#ifndef VIOSCOPE__VIRTIO_PCI_H
#define VIOSCOPE__VIRTIO_PCI_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "hypervisor/ioeventfd.h"
#include "hypervisor/metrics.h"
#include "hypervisor/msix.h"
#include "hypervisor/pci.h"
#include "hypervisor/virtq.h"

struct device;
struct kvm;
struct virtio_pci;

/*
 * A virtio device model on the modern virtio-pci transport (virtio 1.2,
 * section 4.1): the model gives its ID, features, config space and what to
 * do when a queue is notified; the transport does the rest.
 */
struct virtio_dev_ops {
	const char *name;
	uint16_t device_id;		/* virtio device type (5, "Device Types") */
	uint32_t class_code;		/* PCI class for the function */
	unsigned int nr_queues;
	uint16_t queue_max;		/* largest queue size offered */
	uint64_t features;		/* device-type feature bits */
	uint32_t config_size;
	void (*config_read)(struct virtio_pci *vp, uint32_t off, void *data, uint32_t len);
	/* Runs on the event loop thread when the driver kicked queue q. */
	void (*notify)(struct virtio_pci *vp, unsigned int q);
	/* Optional: the driver's features were accepted (FEATURES_OK). */
	void (*features_ok)(struct virtio_pci *vp);
	/* The driver reset the device: forget in-flight state. */
	void (*reset)(struct virtio_pci *vp);
};

struct virtio_queue {
	struct virtio_pci *vp;
	unsigned int index;
	uint16_t size;
	uint16_t msix_vector;
	bool enabled;
	uint64_t desc, avail, used;	/* guest-physical, as the driver set them */
	struct virtq vq;
	struct ioeventfd kick;
	pthread_mutex_t lock;		/* the model's processing of this queue */
};

struct virtio_pci {
	struct device *dev;
	struct kvm *kvm;
	const struct virtio_dev_ops *ops;
	void *priv;			/* the model's state */
	struct pci_device pci;
	struct msix msix;
	pthread_mutex_t lock;		/* transport registers */
	uint32_t device_feature_select, driver_feature_select;
	uint64_t driver_features;
	uint16_t msix_config;
	uint8_t status;
	uint8_t isr;
	uint16_t queue_select;
	struct virtio_queue *queues;
	struct metric_counter *kicks, *irqs, *bad_queues;
};

int virtio_pci__init(struct virtio_pci *vp, struct kvm *kvm, struct device *dev,
		     const struct virtio_dev_ops *ops, void *priv);
void virtio_pci__exit(struct virtio_pci *vp);
bool virtio_pci__has_feature(const struct virtio_pci *vp, unsigned int bit);
/* The next chain of an enabled queue; with none, notifications re-armed
 * (EVENT_IDX) and the ring checked once more for one that came meanwhile.
 * virtq__pop's returns; 0 on a disabled queue. Under q->lock. */
int virtio_queue__pop(struct virtio_queue *q, struct virtq_req *r);
/*
 * Serves queue qi of a request/response device until it is empty, under
 * the queue's lock: handle() answers each chain with the bytes it wrote
 * (VIRTIO_HELD: kept, the model pushes it later); a malformed chain is
 * returned empty and counted in `malformed`; `ns` (optional) gets the time
 * of each answer.
 */
#define VIRTIO_HELD	UINT32_MAX
typedef uint32_t (*virtio_handle_t)(struct virtio_pci *vp, unsigned int qi, struct virtq_req *r);
void virtio_pci__serve(struct virtio_pci *vp, unsigned int qi, virtio_handle_t handle,
		       struct metric_counter *malformed, struct metric_latency *ns);
/* Interrupts the driver for queue q if its ring asks for it. */
void virtio_pci__signal(struct virtio_pci *vp, struct virtio_queue *q);

#endif /* VIOSCOPE__VIRTIO_PCI_H */
