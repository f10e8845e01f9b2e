/* VRRP advertisements on the wire: encode, decode, validate and checksum, for VRRPv2 (RFC 3768,
 * IPv4, optional simple-text password) and VRRPv3 (RFC 5798, IPv4 or IPv6). Pure code: no sockets,
 * no clocks; the receive path hands in the IP-level facts it knows. The state machine is vrrp.c. */
#ifndef VIGIL_VRRP_PACKET_H
#define VIGIL_VRRP_PACKET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "addr.h"

#define VRRP_PROTO 112 /* IANA protocol number, RFC 5798 5.1.1.4 */
#define VRRP_TTL 255   /* RFC 5798 5.1.1.3 / 5.1.2.3: TTL and hop limit */
#define VRRP_GROUP_V4 "224.0.0.18"
#define VRRP_GROUP_V6 "ff02::12"
#define VRRP_TYPE_ADVERT 1 /* RFC 5798 5.2.2: the only type */
#define VRRP_HDR_LEN 8	   /* fixed part, both versions */
#define VRRP_AUTH_LEN 8	   /* RFC 3768 5.3.10: v2 authentication data */
#define VRRP_MAX_ADDRS 255 /* every count Count IPvX Addrs (8 bits) can say is kept */
#define VRRP_PKT_MAX (VRRP_HDR_LEN + VRRP_MAX_ADDRS * 16 + VRRP_AUTH_LEN)

/* RFC 3768 5.3.6: v2 Auth Type. 2 (IP Authentication Header) is recognised but never accepted. */
enum vrrp_auth_type {
	VRRP_AUTH_NONE = 0,
	VRRP_AUTH_PASS = 1, /* simple text password, 8 bytes, NUL padded (keepalived PASS) */
	VRRP_AUTH_AH = 2,
};

/* Why a received packet was dropped. Values up to VRRP_PKT_BAD_INTERVAL come from
 * vrrp_packet_decode(); the rest from vrrp_recv(), which knows the instance. vrrp_pkt_error_str()
 * gives a short snake_case name fit for a metric label. */
enum vrrp_pkt_error {
	VRRP_PKT_OK = 0,
	VRRP_PKT_TOO_SHORT,	 /* fewer bytes than the 8-byte fixed header */
	VRRP_PKT_BAD_TTL,	 /* TTL / hop limit not 255 (RFC 5798 5.1.1.3, RFC 3768 5.2.3) */
	VRRP_PKT_BAD_VERSION,	 /* not the instance's version */
	VRRP_PKT_BAD_TYPE,	 /* type is not ADVERTISEMENT (RFC 5798 5.2.2) */
	VRRP_PKT_BAD_FAMILY,	 /* v2 over IPv6, or a family that is neither */
	VRRP_PKT_NO_ADDRS,	 /* Count IPvX Addrs is 0 (minimum 1, RFC 5798 5.2.5) */
	VRRP_PKT_BAD_LENGTH,	 /* length disagrees with Count IPvX Addrs (and v2 auth data) */
	VRRP_PKT_TOO_MANY_ADDRS, /* unused since VRRP_MAX_ADDRS is 255; kept for the labels */
	VRRP_PKT_BAD_CHECKSUM,	 /* RFC 5798 5.2.8, RFC 3768 5.3.8 */
	VRRP_PKT_BAD_AUTH_TYPE,	 /* v2: unknown Auth Type (RFC 3768 5.3.6) */
	VRRP_PKT_AUTH_TYPE_MISMATCH, /* v2: not the locally configured Auth Type */
	VRRP_PKT_AUTH_FAILURE,	     /* v2: password differs */
	VRRP_PKT_BAD_INTERVAL,	     /* advertisement interval 0: would make Master_Down 0 */
	VRRP_PKT_VRID_MISMATCH,	     /* not this instance's VRID (RFC 5798 7.1) */
	VRRP_PKT_INTERVAL_MISMATCH,  /* v2: Adver Int differs from ours (RFC 3768 7.1) */
	VRRP_PKT_ADDR_MISMATCH,	     /* v2: address list differs and sender is not the owner */
	VRRP_PKT_LOCAL_OWNER,	     /* we are the address owner, priority 255 (RFC 5798 7.1) */
	VRRP_PKT_OWN_ADVERT,	     /* sent by our own primary address (multicast loop) */
	VRRP_PKT_ERROR_MAX
};

/* One advertisement, decoded or to encode. Addresses are in network byte order. */
struct vrrp_advert {
	uint8_t version;       /* 2 or 3 */
	uint8_t type;	       /* VRRP_TYPE_ADVERT */
	uint8_t vrid;	       /* 1..255 */
	uint8_t priority;      /* 0 = release, 1..254, 255 = owner */
	uint32_t adver_int_ms; /* v2: Adver Int s * 1000; v3: Max Adver Int cs * 10 */
	uint16_t checksum;     /* decoded: as received (host order); ignored by the encoder */
	int family;	       /* AF_INET or AF_INET6: the family of addrs */
	uint8_t naddr;	       /* 1..VRRP_MAX_ADDRS */
	struct addr addrs[VRRP_MAX_ADDRS];
	uint8_t auth_type;		  /* v2 only: enum vrrp_auth_type */
	uint8_t auth_data[VRRP_AUTH_LEN]; /* v2 only: password, NUL padded; zeros for NONE */
};

/* What the receive path knows about the IP packet that carried the advertisement. */
struct vrrp_rx_meta {
	int family;	 /* AF_INET or AF_INET6 */
	struct addr src; /* IP source: the sender's primary address */
	struct addr dst; /* IP destination: normally the VRRP group (v3 pseudo-header) */
	int ttl;	 /* IPv4 TTL or IPv6 hop limit */
};

/* What the receiving instance expects: version, and for v2 its authentication. */
struct vrrp_rx_expect {
	uint8_t version;		  /* 2 or 3 */
	uint8_t auth_type;		  /* v2: VRRP_AUTH_NONE or VRRP_AUTH_PASS */
	uint8_t auth_data[VRRP_AUTH_LEN]; /* v2 PASS: password, NUL padded */
};

/* Returns the on-wire length of an advertisement of this version, family and address count
 * (8 + n * 4 or 16, + 8 auth bytes for v2), or 0 if the combination is invalid. */
size_t vrrp_packet_len(uint8_t version, int family, unsigned naddr);

/* Computes the VRRP checksum of the len bytes at buf, whose checksum field (bytes 6..7) must be
 * zero or is treated as such. v2: the Internet checksum of the VRRP message alone (RFC 3768
 * 5.3.8). v3: with the IPv4 pseudo-header (src, dst, 0, 112, length) or the IPv6 one of RFC 2460
 * 8.1 (src, dst, length, 0, next header 112), per RFC 5798 5.2.8; src and dst are the IP
 * addresses of the packet (dst is the group). Returns the value to store, in host order. */
uint16_t vrrp_checksum(const uint8_t *buf, size_t len, uint8_t version, const struct addr *src,
		       const struct addr *dst);

/* Encodes adv into buf: version, type 1, vrid, priority, count, v2 auth type and whole-second
 * Adver Int or v3 12-bit Max Adver Int in centiseconds (reserved bits zero), addresses, v2 auth
 * data, and the checksum computed for the given IP source and destination (the latter only
 * matters for v3). Returns the length written, or -EINVAL (inconsistent advert: bad version,
 * count, family, an interval the version cannot carry, v3 with auth) or -ENOSPC (buf too small). */
ssize_t vrrp_packet_encode(const struct vrrp_advert *adv, const struct addr *src,
			   const struct addr *dst, uint8_t *buf, size_t buflen);

/* Validates and decodes the VRRP message at buf (the bytes after the IP header) per RFC 5798 7.1
 * and RFC 3768 7.1, in this order: length of the fixed header, TTL, version, type, family,
 * address count against the length, checksum, for v2 the authentication (type known, type
 * ours, password equal), and last an interval other than zero. On VRRP_PKT_OK
 * *out holds the advertisement; on any other value *out is unspecified and the packet must be
 * dropped (count it by the value). VRID, interval and address-list checks need the instance and
 * are vrrp_recv()'s. */
enum vrrp_pkt_error vrrp_packet_decode(const uint8_t *buf, size_t len,
				       const struct vrrp_rx_meta *meta,
				       const struct vrrp_rx_expect *expect,
				       struct vrrp_advert *out);

/* Returns a static snake_case name for e ("bad_checksum"), "unknown" when out of range. */
const char *vrrp_pkt_error_str(enum vrrp_pkt_error e);

#endif
