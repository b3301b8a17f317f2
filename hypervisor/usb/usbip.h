/*
 * The USB/IP protocol (Linux Documentation/usb/usbip_protocol.rst): the
 * server side that exports vioscope's USB device models to a client's
 * vhci-hcd. Big-endian headers; the setup packet travels as on the bus.
 * Everything the client sends is checked: unknown commands, isochronous
 * packets and transfer lengths beyond USBIP_MAX_BUFFER drop the
 * connection (counted), nothing is allocated from a length unchecked.
 */
#ifndef VIOSCOPE__USBIP_H
#define VIOSCOPE__USBIP_H

#include <stddef.h>
#include <stdint.h>

struct usb_dev;

#define USBIP_VERSION		0x0111
#define USBIP_PORT		3240
#define USBIP_OP_REQ_DEVLIST	0x8005
#define USBIP_OP_REP_DEVLIST	0x0005
#define USBIP_OP_REQ_IMPORT	0x8003
#define USBIP_OP_REP_IMPORT	0x0003
#define USBIP_CMD_SUBMIT	1
#define USBIP_CMD_UNLINK	2
#define USBIP_RET_SUBMIT	3
#define USBIP_RET_UNLINK	4
#define USBIP_DIR_OUT		0
#define USBIP_DIR_IN		1
#define USBIP_OP_LEN		8	/* version, code, status */
#define USBIP_BUSID_LEN		32
#define USBIP_DEVICE_LEN	312	/* struct usbip_usb_device */
#define USBIP_HDR_LEN		48	/* struct usbip_header */
#define USBIP_MAX_BUFFER	(1u << 20)

struct usbip_cmd {
	uint32_t command, seqnum, devid, direction, ep;
	uint32_t flags;			/* CMD_SUBMIT */
	uint32_t length;		/* transfer_buffer_length, checked */
	int32_t start_frame, npackets, interval;
	uint8_t setup[8];
	uint32_t unlink_seqnum;		/* CMD_UNLINK */
};

enum usbip_error {
	USBIP_ERR_COMMAND = 1,		/* not CMD_SUBMIT or CMD_UNLINK */
	USBIP_ERR_DIRECTION,
	USBIP_ERR_ENDPOINT,
	USBIP_ERR_LENGTH,		/* negative, or beyond USBIP_MAX_BUFFER */
	USBIP_ERR_ISO,			/* isochronous packets: not supported */
};

/* One header from the client: 0, or -enum usbip_error. */
int usbip__parse_cmd(const uint8_t hdr[USBIP_HDR_LEN], struct usbip_cmd *c);
void usbip__ret_submit(uint8_t hdr[USBIP_HDR_LEN], uint32_t seqnum, int32_t status,
		       uint32_t actual);
void usbip__ret_unlink(uint8_t hdr[USBIP_HDR_LEN], uint32_t seqnum, int32_t status);
/* The version, code and status of an OP_REP_* reply. */
void usbip__op_header(uint8_t p[USBIP_OP_LEN], uint16_t code, uint32_t status);
/* struct usbip_usb_device of d at out (USBIP_DEVICE_LEN bytes). */
void usbip__device_record(uint8_t out[USBIP_DEVICE_LEN], const struct usb_dev *d,
			  const char *busid);

struct usbip_stats {
	uint64_t imports, devlists, submits, unlinks, stalls, bad_messages;
	uint64_t bytes_in, bytes_out;
};

/* Runs one CMD_SUBMIT on the device, whatever carried it (TCP here, the
 * probe guest's virtqueue in devices/virtio-usbip.c): data holds c->length
 * bytes (OUT data in, IN data out). The RET_SUBMIT status (0, or -EPIPE
 * for a STALL) with *actual the bytes moved; -EAGAIN when the device NAKs
 * (an interrupt endpoint with nothing yet): the transport keeps the URB
 * and runs it again on the device's wakeup. The TCP server exports the
 * storage model, which never NAKs. */
int32_t usbip__urb(struct usb_dev *d, const struct usbip_cmd *c, uint8_t *data, uint32_t *actual,
		   struct usbip_stats *st);

/* Serves one connection on fd: a device list, or an import and then URBs
 * until the client goes. 0 when it ended cleanly, else -errno (a protocol
 * error, counted: the connection is dropped). */
int usbip__serve(int fd, struct usb_dev *d, const char *busid, struct usbip_stats *st);

#endif /* VIOSCOPE__USBIP_H */
