/* VRRP on the wire: raw IP sockets for protocol 112, IPv4 (224.0.0.18) and IPv6 (ff02::12), group
 * membership per interface, TTL/hop limit 255, and receive with the facts the codec needs (source,
 * destination, TTL, interface). No VRRP logic here. */
#ifndef VIGIL_VRRP_IO_H
#define VIGIL_VRRP_IO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "addr.h"
#include "vrrp_packet.h"

/* A received VRRP message: the bytes after the IP header and where they came from. */
struct vrrp_rx {
	int ifindex;
	struct vrrp_rx_meta meta;
	const uint8_t *payload;
	size_t len;
};

/* Opens a non-blocking raw socket for family (AF_INET or AF_INET6). Returns fd or -errno. */
int vrrp_io_open(int family, char *err, size_t errlen);
/* Joins the VRRP group on ifindex (idempotent). Returns 0 or -errno. */
int vrrp_io_join(int fd, int family, int ifindex);
int vrrp_io_leave(int fd, int family, int ifindex);
/* Sends len bytes of VRRP message to the group out of ifindex with source address src. */
int vrrp_io_send(int fd, int ifindex, const struct addr *src, const uint8_t *msg, size_t len);
/* The same to dst: the group, or a unicast peer (the message's v3 checksum must be computed for
 * that destination). Returns 0 or -errno. */
int vrrp_io_send_to(int fd, int ifindex, const struct addr *src, const struct addr *dst,
		    const uint8_t *msg, size_t len);
#define VRRP_IO_BATCH 64 /* datagrams per vrrp_io_recv_batch(): the receive budget per wake-up */
#define VRRP_IO_BUF 2048 /* bytes kept per datagram: a VRRP advert is at most 552 + IP header */
#define VRRP_IO_CTL 256

/* The buffers of one recvmmsg(2) call and what it received. Large (about 150 KB): keep one. */
struct vrrp_io_batch {
	struct mmsghdr msgs[VRRP_IO_BATCH];
	struct iovec iov[VRRP_IO_BATCH];
	struct sockaddr_storage from[VRRP_IO_BATCH];
	union {
		struct cmsghdr align;
		char buf[VRRP_IO_CTL];
	} ctl[VRRP_IO_BATCH];
	uint8_t data[VRRP_IO_BATCH][VRRP_IO_BUF];
	struct vrrp_rx rx[VRRP_IO_BATCH];
	bool usable[VRRP_IO_BATCH]; /* false: too short for its IP header */
	bool has_overflow;	    /* the kernel reported its drop counter (SO_RXQ_OVFL) */
	uint32_t overflow;	    /* and its latest value: packets dropped on a full queue */
};

/* Receives up to VRRP_IO_BATCH datagrams with one non-blocking recvmmsg(2) into b. Returns how
 * many (b->rx[i] filled where b->usable[i]), 0 when nothing is pending, or -errno. One call per
 * wake-up bounds the work a flood can make the loop do before it looks at its timers again. */
int vrrp_io_recv_batch(int fd, int family, struct vrrp_io_batch *b);
/* The group address of a family. */
void vrrp_io_group(int family, struct addr *out);

#endif
