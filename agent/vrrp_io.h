/* VRRP on the wire: raw IP sockets for protocol 112, IPv4 (224.0.0.18) and IPv6 (ff02::12), group
 * membership per interface, TTL/hop limit 255, and receive with the facts the codec needs (source,
 * destination, TTL, interface). No VRRP logic here. */
#ifndef VIGIL_VRRP_IO_H
#define VIGIL_VRRP_IO_H

#include <stddef.h>
#include <stdint.h>

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
/* Receives one datagram into buf. Returns 1 with *rx filled, 0 when nothing is pending, -errno,
 * or 2 for a datagram that is not a usable VRRP packet (too short for its IP header). */
int vrrp_io_recv(int fd, int family, uint8_t *buf, size_t buflen, struct vrrp_rx *rx);
/* The group address of a family. */
void vrrp_io_group(int family, struct addr *out);

#endif
