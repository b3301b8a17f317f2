/*
 * MSI-X (PCI Local Bus 3.0, 6.8.2): the table and PBA live in a memory BAR,
 * each vector becomes a KVM MSI route with an irqfd so that a backend thread
 * can interrupt the guest with one eventfd write, without a vCPU exit.
 */
#include "hypervisor/msix.h"

#include <errno.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/sdt.h>
#include <unistd.h>

#include "hypervisor/irq.h"
#include "hypervisor/kvm.h"
#include "hypervisor/pci.h"
#include "lib/log.h"

#define MSIX_CTRL_ENABLE	0x8000
#define MSIX_CTRL_FMASK		0x4000

static uint64_t total_sent;

uint64_t msix__total_sent(void)
{
	return __atomic_load_n(&total_sent, __ATOMIC_RELAXED);
}

int msix__init(struct msix *m, struct pci_device *pdev, unsigned int nr, int bar,
	       uint32_t table_off, uint32_t pba_off)
{
	unsigned int i;
	uint8_t cap;

	if (nr == 0 || nr > MSIX_MAX_VECTORS || (table_off & 7) || (pba_off & 7))
		return -EINVAL;
	cap = pci__add_cap(pdev, PCI_CAP_ID_MSIX, MSIX_CAP_LEN);
	if (!cap)
		return -ENOSPC;

	memset(m, 0, sizeof(*m));
	m->pdev = pdev;
	m->cap = cap;
	m->nr = nr;
	m->table_off = table_off;
	m->pba_off = pba_off;
	pthread_mutex_init(&m->lock, NULL);
	for (i = 0; i < nr; i++)
		m->vec[i] = (struct msix_vector){ .ctrl = 1, .gsi = -1, .irqfd = -1 };

	pdev->cfg[cap + PCI_MSIX_FLAGS] = (uint8_t)(nr - 1);
	pdev->cfg[cap + PCI_MSIX_FLAGS + 1] = (uint8_t)((nr - 1) >> 8);
	/* Only Enable and Function Mask are writable. */
	pdev->wmask[cap + PCI_MSIX_FLAGS + 1] = 0xc0;
	memcpy(&pdev->cfg[cap + PCI_MSIX_TABLE], &(uint32_t){ table_off | (uint32_t)bar }, 4);
	memcpy(&pdev->cfg[cap + PCI_MSIX_PBA], &(uint32_t){ pba_off | (uint32_t)bar }, 4);
	return 0;
}

void msix__exit(struct msix *m)
{
	unsigned int i;

	for (i = 0; i < m->nr; i++)
		if (m->vec[i].irqfd >= 0)
			close(m->vec[i].irqfd);
	pthread_mutex_destroy(&m->lock);
}

static uint16_t msix__ctrl(const struct msix *m)
{
	return pci__cfg16(m->pdev, m->cap + PCI_MSIX_FLAGS);
}

bool msix__enabled(struct msix *m)
{
	return msix__ctrl(m) & MSIX_CTRL_ENABLE;
}

static bool vector_masked(const struct msix *m, unsigned int v)
{
	uint16_t ctrl = msix__ctrl(m);

	return !(ctrl & MSIX_CTRL_ENABLE) || (ctrl & MSIX_CTRL_FMASK) ||
	       (m->vec[v].ctrl & PCI_MSIX_ENTRY_CTRL_MASKBIT);
}

/* Called with m->lock held: makes sure the route and irqfd are current. */
static int vector_prepare(struct msix *m, unsigned int v)
{
	struct msix_vector *vec = &m->vec[v];
	struct kvm *kvm = m->pdev->kvm;
	int ret;

	if (!kvm)
		return -ENODEV;
	if (vec->gsi < 0) {
		vec->gsi = irq__alloc_msi(kvm);
		if (vec->gsi < 0)
			return vec->gsi;
		vec->route_stale = true;
	}
	if (vec->route_stale) {
		ret = irq__set_msi_route(kvm, vec->gsi,
					 (uint64_t)vec->addr_hi << 32 | vec->addr_lo, vec->data);
		if (ret)
			return ret;
		vec->route_stale = false;
	}
	if (vec->irqfd < 0) {
		int fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);

		if (fd < 0)
			return -errno;
		ret = irq__irqfd(kvm, fd, vec->gsi, 1);
		if (ret) {
			close(fd);
			return ret;
		}
		vec->irqfd = fd;
	}
	return 0;
}

/* Called with m->lock held. */
static int vector_send(struct msix *m, unsigned int v)
{
	int ret = vector_prepare(m, v);

	if (ret) {
		m->route_errors++;
		pr_warn_ratelimited("%s: MSI-X vector %u: %s", m->pdev->name, v, strerror(-ret));
		return ret;
	}
	DTRACE_PROBE3(vioscope, msix_send, m->pdev->slot, v, m->vec[v].gsi);
	if (eventfd_write(m->vec[v].irqfd, 1) < 0)
		return -errno;
	m->delivered++;
	__atomic_add_fetch(&total_sent, 1, __ATOMIC_RELAXED);
	return 0;
}

int msix__notify(struct msix *m, unsigned int v)
{
	int ret;

	if (v >= m->nr)
		return -EINVAL;
	pthread_mutex_lock(&m->lock);
	if (vector_masked(m, v)) {
		m->pending |= 1u << v;
		m->held++;
		ret = 1;
	} else {
		ret = vector_send(m, v);
	}
	pthread_mutex_unlock(&m->lock);
	return ret;
}

int msix__vector_fd(struct msix *m, unsigned int v)
{
	int ret;

	if (v >= m->nr)
		return -EINVAL;
	pthread_mutex_lock(&m->lock);
	ret = vector_prepare(m, v);
	if (!ret)
		ret = m->vec[v].irqfd;
	else
		m->route_errors++;
	pthread_mutex_unlock(&m->lock);
	return ret;
}

static void notify_changed(struct msix *m)
{
	if (m->changed)
		m->changed(m, m->changed_opaque);
}

/* Section 6.8.2.9: a pending message is sent once its vector is unmasked. */
static void deliver_unmasked_pending(struct msix *m)
{
	unsigned int v;

	for (v = 0; v < m->nr; v++) {
		if (!(m->pending & (1u << v)) || vector_masked(m, v))
			continue;
		m->pending &= ~(1u << v);
		vector_send(m, v);
	}
}

void msix__cfg_written(struct msix *m, uint32_t off, uint32_t len)
{
	if (off > m->cap + PCI_MSIX_FLAGS + 1U || off + len <= m->cap + PCI_MSIX_FLAGS + 0U)
		return;
	pthread_mutex_lock(&m->lock);
	deliver_unmasked_pending(m);
	pthread_mutex_unlock(&m->lock);
	notify_changed(m);
}

static void table_access(struct msix *m, uint32_t off, uint32_t *val, bool is_write)
{
	struct msix_vector *vec = &m->vec[off / MSIX_ENTRY_SIZE];
	uint32_t *field;

	switch (off % MSIX_ENTRY_SIZE) {
	case PCI_MSIX_ENTRY_LOWER_ADDR: field = &vec->addr_lo; break;
	case PCI_MSIX_ENTRY_UPPER_ADDR: field = &vec->addr_hi; break;
	case PCI_MSIX_ENTRY_DATA: field = &vec->data; break;
	default: field = &vec->ctrl; break;
	}
	if (!is_write) {
		*val = *field;
		return;
	}
	if (field == &vec->ctrl) {
		vec->ctrl = *val & PCI_MSIX_ENTRY_CTRL_MASKBIT;	/* other bits reserved */
		deliver_unmasked_pending(m);
	} else if (*field != *val) {
		*field = *val;
		vec->route_stale = true;
	}
}

void msix__mmio(void *opaque, uint64_t off, void *data, uint32_t len, bool is_write)
{
	struct msix *m = opaque;
	uint32_t table_end = m->table_off + m->nr * MSIX_ENTRY_SIZE;
	uint32_t dw[2] = { 0, 0 };
	unsigned int i, n;

	/* Section 6.8.2: software uses aligned dword or qword accesses only. */
	if ((len != 4 && len != 8) || (off & (len - 1))) {
		if (!is_write)
			memset(data, 0xff, len);
		return;
	}
	n = len / 4;
	if (is_write)
		memcpy(dw, data, len);

	pthread_mutex_lock(&m->lock);
	for (i = 0; i < n; i++) {
		uint64_t o = off + 4 * i;

		if (o >= m->table_off && o < table_end)
			table_access(m, (uint32_t)(o - m->table_off), &dw[i], is_write);
		else if (o >= m->pba_off && o < m->pba_off + 8 && !is_write)
			dw[i] = o == m->pba_off ? m->pending : 0;
		else if (!is_write)
			dw[i] = 0;	/* PBA is read-only; holes read as zero */
	}
	pthread_mutex_unlock(&m->lock);
	if (!is_write)
		memcpy(data, dw, len);
	else
		notify_changed(m);
}
