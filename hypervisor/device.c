#include "hypervisor/device.h"

#include <cJSON.h>
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hypervisor/kvm.h"
#include "lib/log.h"

#define DEVICE_MAX_MODELS	32

static const struct device_ops *models[DEVICE_MAX_MODELS];
static unsigned int nr_models;

void device__register_ops(const struct device_ops *ops)
{
	if (nr_models < DEVICE_MAX_MODELS)
		models[nr_models++] = ops;
}

const struct device_ops *device__find_ops(const char *name)
{
	unsigned int i;

	for (i = 0; i < nr_models; i++)
		if (!strcmp(models[i]->name, name))
			return models[i];
	return NULL;
}

uint64_t device__next_req(void)
{
	static uint64_t last;

	return __atomic_add_fetch(&last, 1, __ATOMIC_RELAXED);
}

struct device *device__create(struct kvm *kvm, const char *type, const char *args)
{
	const struct device_ops *ops = device__find_ops(type);
	struct device *dev, **tail;
	unsigned int n = 0, id = 0;
	int ret;

	if (!ops) {
		pr_err("unknown device model '%s' (see --list-devices)", type);
		return NULL;
	}
	dev = calloc(1, sizeof(*dev));
	if (!dev)
		return NULL;
	for (tail = &kvm->devices; *tail; tail = &(*tail)->next, id++)
		if ((*tail)->ops == ops)
			n++;
	dev->ops = ops;
	dev->id = id;
	dev->kvm = kvm;
	/* uart0, virtio-blk0; a model whose name ends in a digit gets a dash:
	 * e1000-0, not e10000. */
	snprintf(dev->name, sizeof(dev->name), "%s%s%u", ops->name,
		 isdigit((unsigned char)ops->name[strlen(ops->name) - 1]) ? "-" : "", n);
	metrics__init(&dev->metrics);
	ret = ops->init(kvm, dev, args);
	if (ret) {
		pr_debug("%s: cannot create: %s", dev->name, strerror(-ret));
		free(dev);
		return NULL;
	}
	*tail = dev;
	return dev;
}

struct device *device__find(struct kvm *kvm, const char *type)
{
	struct device *dev;

	for (dev = kvm->devices; dev; dev = dev->next)
		if (!strcmp(dev->ops->name, type))
			return dev;
	return NULL;
}

void device__sync_all(struct kvm *kvm)
{
	struct device *dev;

	for (dev = kvm->devices; dev; dev = dev->next)
		if (dev->ops->sync)
			dev->ops->sync(dev);
}

void device__destroy_all(struct kvm *kvm)
{
	while (kvm->devices) {
		struct device *dev = kvm->devices;

		kvm->devices = dev->next;
		if (dev->ops->exit)
			dev->ops->exit(dev);
		free(dev);
	}
}

cJSON *device__all_to_json(struct kvm *kvm)
{
	cJSON *arr = cJSON_CreateArray();
	struct device *dev;

	for (dev = kvm->devices; dev; dev = dev->next) {
		cJSON *o = cJSON_CreateObject();

		cJSON_AddStringToObject(o, "name", dev->name);
		cJSON_AddStringToObject(o, "model", dev->ops->name);
		cJSON_AddItemToObject(o, "metrics", metrics__to_json(&dev->metrics));
		if (dev->ops->to_json)
			dev->ops->to_json(dev, o);
		cJSON_AddItemToArray(arr, o);
	}
	return arr;
}

void device__print_models(void)
{
	unsigned int i;

	for (i = 0; i < nr_models; i++)
		printf("%-10s %s\n", models[i]->name, models[i]->help);
}
