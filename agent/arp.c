/* Gratuitous ARP and unsolicited neighbour advertisements (see arp.h). Frames are laid out byte by
 * byte in network order, so there is no struct packing or alignment to trust. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <arpa/inet.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>

#include "errmsg.h"
#include "arp.h"

#define ETH_HDR 14
#define IP6_HDR 40
#define NA_BODY 24 /* type, code, checksum, flags + reserved, target */
#define NA_OPT 8   /* type 2, length 1 (8 octets), MAC */

#define ICMP6_NA 136
#define ND_OPT_TARGET_LLADDR 2
#define NA_FLAG_ROUTER 0x80
#define NA_FLAG_SOLICITED 0x40
#define NA_FLAG_OVERRIDE 0x20

static const uint8_t mac_bcast[6] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
static const uint8_t mac_all_nodes[6] = {0x33, 0x33, 0x00, 0x00, 0x00, 0x01}; /* RFC 2464 7 */
static const struct in6_addr ip6_all_nodes = {.s6_addr = {0xff, 0x02, [15] = 0x01}};

static uint8_t *
put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
	return p + 2;
}

static uint8_t *
put(uint8_t *p, const void *src, size_t n)
{
	memcpy(p, src, n);
	return p + n;
}

static uint8_t *
put_eth(uint8_t *p, const uint8_t dst[6], const uint8_t src[6], uint16_t type)
{
	p = put(p, dst, 6);
	p = put(p, src, 6);
	return put16(p, type);
}

size_t
arp_build_garp(uint8_t *buf, size_t len, const uint8_t mac[6], struct in_addr ip,
	       enum arp_garp_op op)
{
	uint8_t *p = buf;

	if (len < ARP_GARP_LEN)
		return 0;
	p = put_eth(p, mac_bcast, mac, ETH_P_ARP);
	p = put16(p, 1); /* hardware type: Ethernet */
	p = put16(p, ETH_P_IP);
	*p++ = 6; /* hardware address length */
	*p++ = 4; /* protocol address length */
	p = put16(p, (uint16_t)op);
	/* RFC 5944 4.6: sender and target protocol address both the address being announced, sender
	 * hardware address the one to bind it to; the target hardware address is unused in a
	 * request (broadcast, as keepalived sends it) and repeats the sender's in a reply. */
	p = put(p, mac, 6);
	p = put(p, &ip, 4);
	p = put(p, op == ARP_GARP_REPLY ? mac : mac_bcast, 6);
	p = put(p, &ip, 4);
	return (size_t)(p - buf);
}

/* One's complement sum of n bytes (RFC 1071), added to sum, not folded. */
static uint32_t
sum16(uint32_t sum, const uint8_t *p, size_t n)
{
	size_t i;

	for (i = 0; i + 1 < n; i += 2)
		sum += (uint32_t)(p[i] << 8 | p[i + 1]);
	if (n & 1)
		sum += (uint32_t)(p[n - 1] << 8);
	return sum;
}

/* ICMPv6 checksum (RFC 4443 2.3) over the IPv6 pseudo-header (RFC 8200 8.1) and the message. */
static uint16_t
icmp6_checksum(const struct in6_addr *src, const struct in6_addr *dst, const uint8_t *msg,
	       size_t len)
{
	uint8_t tail[8] = {0};
	uint32_t sum = 0;

	tail[0] = (uint8_t)(len >> 24);
	tail[1] = (uint8_t)(len >> 16);
	tail[2] = (uint8_t)(len >> 8);
	tail[3] = (uint8_t)len;
	tail[7] = IPPROTO_ICMPV6;
	sum = sum16(sum, src->s6_addr, 16);
	sum = sum16(sum, dst->s6_addr, 16);
	sum = sum16(sum, tail, sizeof(tail));
	sum = sum16(sum, msg, len);
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

size_t
arp_build_na(uint8_t *buf, size_t len, const uint8_t mac[6], const struct in6_addr *src,
	     const struct in6_addr *target, bool router)
{
	uint8_t *p = buf, *icmp;
	uint16_t sum;

	if (len < ARP_NA_LEN)
		return 0;
	p = put_eth(p, mac_all_nodes, mac, ETH_P_IPV6);
	/* IPv6 header: version 6, traffic class and flow label 0. */
	p = put(p, "\x60\x00\x00\x00", 4);
	p = put16(p, NA_BODY + NA_OPT);
	*p++ = IPPROTO_ICMPV6;
	*p++ = 255; /* RFC 4861 7.1.2: a receiver drops an NA whose hop limit is not 255 */
	p = put(p, src, 16);
	p = put(p, &ip6_all_nodes, 16);
	icmp = p;
	*p++ = ICMP6_NA;
	*p++ = 0;	 /* code */
	p = put16(p, 0); /* checksum, filled below */
	/* RFC 4861 7.2.6: unsolicited, so S clear; O set so that caches update to our MAC. */
	*p++ = NA_FLAG_OVERRIDE | (router ? NA_FLAG_ROUTER : 0);
	p = put(p, "\0\0\0", 3);
	p = put(p, target, 16);
	*p++ = ND_OPT_TARGET_LLADDR;
	*p++ = 1; /* option length in units of 8 octets */
	p = put(p, mac, 6);
	sum = icmp6_checksum(src, &ip6_all_nodes, icmp, (size_t)(p - icmp));
	put16(icmp + 2, sum);
	return (size_t)(p - buf);
}

int
arp_open(char *err, size_t errlen)
{
	int fd;

	/* Protocol 0: the socket is bound to no ethertype and receives nothing. */
	fd = socket(AF_PACKET, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return errmsg(err, errlen, -errno, "arp: packet socket: %s", strerror(errno));
	return fd;
}

/* Sends one whole Ethernet frame on ifindex. */
static int
send_frame(int fd, int ifindex, const uint8_t *frame, size_t len, uint16_t proto, char *err,
	   size_t errlen)
{
	struct sockaddr_ll sll;
	ssize_t n;

	memset(&sll, 0, sizeof(sll));
	sll.sll_family = AF_PACKET;
	sll.sll_protocol = htons(proto);
	sll.sll_ifindex = ifindex;
	sll.sll_halen = 6;
	memcpy(sll.sll_addr, frame, 6); /* the frame's destination */
	n = sendto(fd, frame, len, 0, (struct sockaddr *)&sll, sizeof(sll));
	if (n < 0)
		return errmsg(err, errlen, -errno, "arp: send on ifindex %d: %s", ifindex,
			      strerror(errno));
	if ((size_t)n != len)
		return errmsg(err, errlen, -EIO, "arp: short send on ifindex %d", ifindex);
	return 0;
}

int
arp_send_garp(int fd, int ifindex, const uint8_t mac[6], struct in_addr ip, char *err,
	      size_t errlen)
{
	uint8_t frame[ARP_GARP_LEN];
	int rc;

	arp_build_garp(frame, sizeof(frame), mac, ip, ARP_GARP_REQUEST);
	rc = send_frame(fd, ifindex, frame, sizeof(frame), ETH_P_ARP, err, errlen);
	if (rc < 0)
		return rc;
	arp_build_garp(frame, sizeof(frame), mac, ip, ARP_GARP_REPLY);
	return send_frame(fd, ifindex, frame, sizeof(frame), ETH_P_ARP, err, errlen);
}

int
arp_send_na(int fd, int ifindex, const uint8_t mac[6], const struct in6_addr *src,
	    const struct in6_addr *target, bool router, char *err, size_t errlen)
{
	uint8_t frame[ARP_NA_LEN];

	arp_build_na(frame, sizeof(frame), mac, src, target, router);
	return send_frame(fd, ifindex, frame, sizeof(frame), ETH_P_IPV6, err, errlen);
}
