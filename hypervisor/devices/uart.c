/*
 * 16550A UART at COM1 (0x3F8, IRQ 4), enough of the National Semiconductor
 * PC16550D data sheet for Linux's 8250 driver and early console: divisor
 * latch, FIFO control, loopback, THRE and receive interrupts on the IOAPIC.
 * Output goes to stdout; input comes from stdin when it is a terminal.
 */
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "hypervisor/device.h"
#include "hypervisor/evloop.h"
#include "hypervisor/irq.h"
#include "hypervisor/kvm.h"
#include "lib/log.h"

#define UART_BASE	0x3f8
#define UART_IRQ	4
#define UART_FIFO	64

/* Register offsets and bits, PC16550D section 8 */
#define RBR 0
#define IER 1
#define IIR 2
#define LCR 3
#define MCR 4
#define LSR 5
#define MSR 6
#define SCR 7
#define IER_RDI		0x01
#define IER_THRI	0x02
#define IIR_NONE	0x01
#define IIR_THRI	0x02
#define IIR_RDI		0x04
#define IIR_FIFO	0xc0
#define FCR_ENABLE	0x01
#define FCR_CLEAR_RX	0x02
#define LCR_DLAB	0x80
#define MCR_OUT2	0x08
#define MCR_LOOP	0x10
#define LSR_DR		0x01
#define LSR_THRE	0x20
#define LSR_TEMT	0x40

struct uart {
	pthread_mutex_t lock;
	struct device *dev;
	uint8_t ier, lcr, mcr, scr, fcr, dll, dlm, msr;
	bool thri_pending;	/* THR-empty event not yet acknowledged */
	uint8_t rx[UART_FIFO];
	unsigned int rx_head, rx_len;
	int irq_level;
	bool console;
	bool stdin_attached;
	struct metric_counter *tx_bytes, *rx_bytes, *irqs;
};

static uint8_t uart__iir(struct uart *u)
{
	uint8_t fifo = (u->fcr & FCR_ENABLE) ? IIR_FIFO : 0;

	if ((u->ier & IER_RDI) && u->rx_len)
		return fifo | IIR_RDI;
	if ((u->ier & IER_THRI) && u->thri_pending)
		return fifo | IIR_THRI;
	return fifo | IIR_NONE;
}

/* Called with the lock held: drives IRQ 4 from the interrupt state. */
static void uart__update_irq(struct uart *u)
{
	int level = !(uart__iir(u) & IIR_NONE) && (u->mcr & MCR_OUT2);

	if (level == u->irq_level)
		return;
	u->irq_level = level;
	if (level)
		counter__inc(u->irqs);
	irq__line(u->dev->kvm, UART_IRQ, level);
}

static void uart__rx_push(struct uart *u, uint8_t c)
{
	if (u->rx_len == UART_FIFO)
		return;		/* overrun: the byte is lost, as on hardware */
	u->rx[(u->rx_head + u->rx_len++) % UART_FIFO] = c;
	counter__inc(u->rx_bytes);
}

static void uart__tx(struct uart *u, uint8_t c)
{
	counter__inc(u->tx_bytes);
	if (u->mcr & MCR_LOOP)
		uart__rx_push(u, c);
	else if (u->console && write(STDOUT_FILENO, &c, 1) < 0)
		u->console = false;
	u->thri_pending = true;	/* the byte left at once: THR is empty again */
}

static void uart__write(struct uart *u, unsigned int reg, uint8_t v)
{
	switch (reg) {
	case RBR:
		if (u->lcr & LCR_DLAB)
			u->dll = v;
		else
			uart__tx(u, v);
		break;
	case IER:
		if (u->lcr & LCR_DLAB) {
			u->dlm = v;
		} else {
			/* Enabling THRI with THR empty raises it at once. */
			if (!(u->ier & IER_THRI) && (v & IER_THRI))
				u->thri_pending = true;
			u->ier = v & 0x0f;
		}
		break;
	case IIR:	/* FCR on write */
		u->fcr = v & (FCR_ENABLE | 0xc0);
		if (v & FCR_CLEAR_RX)
			u->rx_len = 0;
		break;
	case LCR: u->lcr = v; break;
	case MCR: u->mcr = v & 0x1f; break;
	case SCR: u->scr = v; break;
	default: break;	/* LSR and MSR are read-only */
	}
}

static uint8_t uart__read(struct uart *u, unsigned int reg)
{
	uint8_t v;

	switch (reg) {
	case RBR:
		if (u->lcr & LCR_DLAB)
			return u->dll;
		if (!u->rx_len)
			return 0;
		v = u->rx[u->rx_head];
		u->rx_head = (u->rx_head + 1) % UART_FIFO;
		u->rx_len--;
		return v;
	case IER:
		return (u->lcr & LCR_DLAB) ? u->dlm : u->ier;
	case IIR:
		v = uart__iir(u);
		/* Reading IIR acknowledges a THRE interrupt (section 8.6.2). */
		if ((v & 0x0f) == IIR_THRI)
			u->thri_pending = false;
		return v;
	case LCR: return u->lcr;
	case MCR: return u->mcr;
	case LSR: return LSR_THRE | LSR_TEMT | (u->rx_len ? LSR_DR : 0);
	case MSR:
		if (u->mcr & MCR_LOOP)	/* loopback wires MCR outputs to MSR inputs */
			return (uint8_t)(((u->mcr & 0x0c) << 4) | ((u->mcr & 0x01) << 5) |
					 ((u->mcr & 0x02) << 3));
		return 0xb0;	/* DCD, DSR, CTS asserted */
	default:
		return u->scr;
	}
}

static void uart__io(void *opaque, uint64_t off, void *data, uint32_t len, bool is_write)
{
	struct uart *u = opaque;
	uint8_t *p = data;
	uint32_t i;

	pthread_mutex_lock(&u->lock);
	for (i = 0; i < len && off + i < 8; i++) {
		if (is_write)
			uart__write(u, (unsigned int)(off + i), p[i]);
		else
			p[i] = uart__read(u, (unsigned int)(off + i));
	}
	uart__update_irq(u);
	pthread_mutex_unlock(&u->lock);
}

static void uart__stdin(void *opaque, int fd, uint32_t events)
{
	struct uart *u = opaque;
	uint8_t buf[UART_FIFO];
	ssize_t n, i;

	(void)events;
	n = read(fd, buf, sizeof(buf));
	if (n <= 0) {
		evloop__del(u->dev->kvm->evloop, fd);
		u->stdin_attached = false;
		return;
	}
	pthread_mutex_lock(&u->lock);
	for (i = 0; i < n; i++)
		uart__rx_push(u, buf[i]);
	uart__update_irq(u);
	pthread_mutex_unlock(&u->lock);
}

static int uart__init(struct kvm *kvm, struct device *dev, const char *args)
{
	struct uart *u = calloc(1, sizeof(*u));
	int ret;

	(void)args;
	if (!u)
		return -ENOMEM;
	pthread_mutex_init(&u->lock, NULL);
	u->dev = dev;
	u->console = kvm->cfg.console;
	u->tx_bytes = metrics__counter(&dev->metrics, "tx_bytes");
	u->rx_bytes = metrics__counter(&dev->metrics, "rx_bytes");
	u->irqs = metrics__counter(&dev->metrics, "irqs_raised");
	dev->priv = u;
	ret = bus__register(&kvm->pio_bus, UART_BASE, 8, uart__io, u, dev->name);
	if (ret)
		return ret;
	if (u->console && isatty(STDIN_FILENO) &&
	    evloop__add(kvm->evloop, STDIN_FILENO, EPOLLIN, uart__stdin, u) == 0)
		u->stdin_attached = true;
	return 0;
}

static void uart__exit(struct device *dev)
{
	struct uart *u = dev->priv;

	if (u->stdin_attached)
		evloop__del(dev->kvm->evloop, STDIN_FILENO);
	pthread_mutex_destroy(&u->lock);
	free(u);
}

static const struct device_ops uart_ops = {
	.name = "uart",
	.help = "16550A serial console at 0x3f8, IRQ 4",
	.init = uart__init,
	.exit = uart__exit,
};
device_register(uart_ops);
