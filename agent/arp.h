/* Announcing a VIP on the link after taking it over: gratuitous ARP for IPv4 (RFC 5798 6.4.1,
 * RFC 5944 4.6) and unsolicited neighbour advertisements for IPv6 (RFC 4861 7.2.6). The frame
 * builders are pure (no I/O) so they can be unit-tested; the senders write whole Ethernet frames to
 * a send-only AF_PACKET socket. Spacing and repeating announcements is the caller's business. */
#ifndef VIGIL_ARP_H
#define VIGIL_ARP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <netinet/in.h>

#define ARP_GARP_LEN 42 /* Ethernet 14 + ARP 28 */
#define ARP_NA_LEN 86	/* Ethernet 14 + IPv6 40 + NA 24 + target link-layer option 8 */

enum arp_garp_op {
	ARP_GARP_REQUEST = 1, /* ARPOP_REQUEST, target MAC ff:ff:ff:ff:ff:ff (as keepalived) */
	ARP_GARP_REPLY = 2,   /* ARPOP_REPLY, target MAC = sender MAC (RFC 5944 4.6) */
};

/* Writes a broadcast gratuitous ARP frame for ip, sender MAC mac, into buf: sender and target IP
 * both ip. Returns ARP_GARP_LEN, or 0 when len is too small. */
size_t arp_build_garp(uint8_t *buf, size_t len, const uint8_t mac[6], struct in_addr ip,
		      enum arp_garp_op op);

/* Writes an unsolicited neighbour advertisement frame for target into buf: from mac to
 * 33:33:00:00:00:01, IPv6 src -> ff02::1, hop limit 255, Override set, Solicited clear, Router
 * as given, a target link-layer address option with mac, ICMPv6 checksum filled in.
 * src should be the interface's link-local address (the target itself when it has none).
 * Returns ARP_NA_LEN, or 0 when len is too small. */
size_t arp_build_na(uint8_t *buf, size_t len, const uint8_t mac[6], const struct in6_addr *src,
		    const struct in6_addr *target, bool router);

/* Opens a send-only AF_PACKET raw socket (non-blocking, close-on-exec; it receives nothing).
 * Returns the fd (the caller closes it) or -errno (-EPERM without CAP_NET_RAW). */
int arp_open(char *err, size_t errlen);

/* Sends the request and the reply form of the gratuitous ARP for ip on ifindex, from mac.
 * Returns 0 when both left, or -errno of the first failure (-EAGAIN: socket buffer full, try
 * later; -ENETDOWN: interface down). err (may be NULL) gets a message. */
int arp_send_garp(int fd, int ifindex, const uint8_t mac[6], struct in_addr ip, char *err,
		  size_t errlen);

/* Sends one unsolicited neighbour advertisement for target on ifindex (see arp_build_na).
 * Returns 0 or -errno as arp_send_garp. */
int arp_send_na(int fd, int ifindex, const uint8_t mac[6], const struct in6_addr *src,
		const struct in6_addr *target, bool router, char *err, size_t errlen);

#endif
