/* VRRP packet codec: the byte layout of RFC 3768 5.1 (v2) and RFC 5798 5.1 (v3), the checksum of
 * each version, and the receive-side validation of RFC 3768 7.1 / RFC 5798 7.1 that needs only
 * the packet and its IP header. Pure functions; vrrp.c applies the checks that need an instance. */
#include <errno.h>
#include <string.h>
#include <sys/socket.h>

#include "vrrp_packet.h"

_Static_assert(VRRP_MAX_ADDRS == UINT8_MAX, "struct vrrp_advert holds any Count IPvX Addrs");

/*
 * Fixed header, both versions (RFC 3768 5.1, RFC 5798 5.1):
 *   0: version (4 bits) | type (4 bits)
 *   1: VRID   2: priority   3: Count IP Addrs
 *   v2: 4: Auth Type  5: Adver Int (seconds)
 *   v3: 4..5: rsvd (4 bits) | Max Adver Int (12 bits, centiseconds)
 *   6..7: checksum
 * then the addresses, then (v2 only) 8 bytes of authentication data.
 */
#define OFF_VERTYPE 0
#define OFF_VRID 1
#define OFF_PRIO 2
#define OFF_NADDR 3
#define OFF_AUTH 4
#define OFF_ADVINT_V2 5
#define OFF_ADVINT_V3 4
#define OFF_CKSUM 6
#define V3_ADVINT_MASK 0x0fff

static const char *const error_names[VRRP_PKT_ERROR_MAX] = {
    [VRRP_PKT_OK] = "ok",
    [VRRP_PKT_TOO_SHORT] = "too_short",
    [VRRP_PKT_BAD_TTL] = "bad_ttl",
    [VRRP_PKT_BAD_VERSION] = "bad_version",
    [VRRP_PKT_BAD_TYPE] = "bad_type",
    [VRRP_PKT_BAD_FAMILY] = "bad_family",
    [VRRP_PKT_NO_ADDRS] = "no_addrs",
    [VRRP_PKT_BAD_LENGTH] = "bad_length",
    [VRRP_PKT_TOO_MANY_ADDRS] = "too_many_addrs",
    [VRRP_PKT_BAD_CHECKSUM] = "bad_checksum",
    [VRRP_PKT_BAD_AUTH_TYPE] = "bad_auth_type",
    [VRRP_PKT_AUTH_TYPE_MISMATCH] = "auth_type_mismatch",
    [VRRP_PKT_AUTH_FAILURE] = "auth_failure",
    [VRRP_PKT_BAD_INTERVAL] = "bad_interval",
    [VRRP_PKT_VRID_MISMATCH] = "vrid_mismatch",
    [VRRP_PKT_INTERVAL_MISMATCH] = "interval_mismatch",
    [VRRP_PKT_ADDR_MISMATCH] = "addr_mismatch",
    [VRRP_PKT_LOCAL_OWNER] = "local_owner",
    [VRRP_PKT_OWN_ADVERT] = "own_advert",
};

const char *
vrrp_pkt_error_str(enum vrrp_pkt_error e)
{
	if ((int)e < 0 || e >= VRRP_PKT_ERROR_MAX || error_names[e] == NULL)
		return "unknown";
	return error_names[e];
}

static size_t
family_addr_len(int family)
{
	if (family == AF_INET)
		return 4;
	if (family == AF_INET6)
		return 16;
	return 0;
}

size_t
vrrp_packet_len(uint8_t version, int family, unsigned naddr)
{
	size_t alen = family_addr_len(family);

	if (alen == 0 || naddr == 0 || naddr > 255)
		return 0;
	if (version == 2 && family == AF_INET)
		return VRRP_HDR_LEN + naddr * alen + VRRP_AUTH_LEN;
	if (version == 3)
		return VRRP_HDR_LEN + naddr * alen;
	return 0;
}

/* Adds len bytes to a running 32-bit one's complement sum of 16-bit big-endian words (RFC 1071).
 * len is even except possibly for the last chunk of a message. */
static uint32_t
sum_words(uint32_t sum, const uint8_t *p, size_t len)
{
	while (len > 1) {
		sum += (uint32_t)p[0] << 8 | p[1];
		p += 2;
		len -= 2;
	}
	if (len == 1)
		sum += (uint32_t)p[0] << 8;
	return sum;
}

static uint16_t
fold(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

uint16_t
vrrp_checksum(const uint8_t *buf, size_t len, uint8_t version, const struct addr *src,
	      const struct addr *dst)
{
	uint32_t sum = 0;

	if (version == 3 && src != NULL && dst != NULL) {
		size_t alen = family_addr_len(src->family);
		uint8_t tail[8];

		sum = sum_words(sum, src->u.bytes, alen);
		sum = sum_words(sum, dst->u.bytes, alen);
		if (src->family == AF_INET) {
			/* zero, protocol, VRRP length (RFC 768-style IPv4 pseudo-header) */
			tail[0] = 0;
			tail[1] = VRRP_PROTO;
			tail[2] = (uint8_t)(len >> 8);
			tail[3] = (uint8_t)len;
			sum = sum_words(sum, tail, 4);
		} else {
			/* upper-layer length (32 bits), 3 zero bytes, next header (RFC 2460 8.1) */
			tail[0] = (uint8_t)(len >> 24);
			tail[1] = (uint8_t)(len >> 16);
			tail[2] = (uint8_t)(len >> 8);
			tail[3] = (uint8_t)len;
			tail[4] = tail[5] = tail[6] = 0;
			tail[7] = VRRP_PROTO;
			sum = sum_words(sum, tail, 8);
		}
	}
	/* The message with its checksum field taken as zero. */
	if (len >= VRRP_HDR_LEN) {
		sum = sum_words(sum, buf, OFF_CKSUM);
		sum = sum_words(sum, buf + VRRP_HDR_LEN, len - VRRP_HDR_LEN);
	} else {
		sum = sum_words(sum, buf, len);
	}
	return fold(sum);
}

/* Returns true when the interval can be carried by this version: v2 whole seconds 1..255,
 * v3 whole centiseconds 1..4095. */
static bool
interval_fits(uint8_t version, uint32_t ms)
{
	if (version == 2)
		return ms % 1000 == 0 && ms >= 1000 && ms <= 255000;
	return ms % 10 == 0 && ms >= 10 && ms <= 40950;
}

ssize_t
vrrp_packet_encode(const struct vrrp_advert *adv, const struct addr *src, const struct addr *dst,
		   uint8_t *buf, size_t buflen)
{
	size_t alen = family_addr_len(adv->family);
	size_t len = vrrp_packet_len(adv->version, adv->family, adv->naddr);
	uint8_t *p;
	uint16_t ck;

	if (len == 0 || !interval_fits(adv->version, adv->adver_int_ms))
		return -EINVAL;
	if (adv->version == 3 && adv->auth_type != VRRP_AUTH_NONE)
		return -EINVAL;
	if (adv->version == 2 && adv->auth_type != VRRP_AUTH_NONE &&
	    adv->auth_type != VRRP_AUTH_PASS)
		return -EINVAL;
	if (adv->version == 3 && (src == NULL || dst == NULL || src->family != adv->family ||
				  dst->family != adv->family))
		return -EINVAL;
	for (unsigned i = 0; i < adv->naddr; i++)
		if (adv->addrs[i].family != adv->family)
			return -EINVAL;
	if (buflen < len)
		return -ENOSPC;

	memset(buf, 0, len);
	buf[OFF_VERTYPE] = (uint8_t)(adv->version << 4 | VRRP_TYPE_ADVERT);
	buf[OFF_VRID] = adv->vrid;
	buf[OFF_PRIO] = adv->priority;
	buf[OFF_NADDR] = adv->naddr;
	if (adv->version == 2) {
		buf[OFF_AUTH] = adv->auth_type;
		buf[OFF_ADVINT_V2] = (uint8_t)(adv->adver_int_ms / 1000);
	} else {
		uint16_t cs = (uint16_t)(adv->adver_int_ms / 10);

		buf[OFF_ADVINT_V3] = (uint8_t)(cs >> 8);
		buf[OFF_ADVINT_V3 + 1] = (uint8_t)cs;
	}
	p = buf + VRRP_HDR_LEN;
	for (unsigned i = 0; i < adv->naddr; i++, p += alen)
		memcpy(p, adv->addrs[i].u.bytes, alen);
	if (adv->version == 2 && adv->auth_type == VRRP_AUTH_PASS)
		memcpy(p, adv->auth_data, VRRP_AUTH_LEN);

	ck = vrrp_checksum(buf, len, adv->version, src, dst);
	buf[OFF_CKSUM] = (uint8_t)(ck >> 8);
	buf[OFF_CKSUM + 1] = (uint8_t)ck;
	return (ssize_t)len;
}

/* RFC 3768 7.1 and 5.3.6: Auth Type known, equal to ours, and for PASS the same 8 bytes. */
static enum vrrp_pkt_error
check_auth_v2(const struct vrrp_advert *adv, const struct vrrp_rx_expect *expect)
{
	if (adv->auth_type > VRRP_AUTH_AH)
		return VRRP_PKT_BAD_AUTH_TYPE;
	if (adv->auth_type != expect->auth_type)
		return VRRP_PKT_AUTH_TYPE_MISMATCH;
	if (adv->auth_type == VRRP_AUTH_PASS &&
	    memcmp(adv->auth_data, expect->auth_data, VRRP_AUTH_LEN) != 0)
		return VRRP_PKT_AUTH_FAILURE;
	return VRRP_PKT_OK;
}

enum vrrp_pkt_error
vrrp_packet_decode(const uint8_t *buf, size_t len, const struct vrrp_rx_meta *meta,
		   const struct vrrp_rx_expect *expect, struct vrrp_advert *out)
{
	size_t alen = family_addr_len(meta->family);
	size_t want;
	uint16_t ck;
	const uint8_t *p;

	if (len < VRRP_HDR_LEN)
		return VRRP_PKT_TOO_SHORT;
	if (meta->ttl != VRRP_TTL)
		return VRRP_PKT_BAD_TTL;

	memset(out, 0, sizeof(*out));
	out->version = buf[OFF_VERTYPE] >> 4;
	out->type = buf[OFF_VERTYPE] & 0x0f;
	if (out->version != expect->version || (out->version != 2 && out->version != 3))
		return VRRP_PKT_BAD_VERSION;
	if (out->type != VRRP_TYPE_ADVERT)
		return VRRP_PKT_BAD_TYPE;
	if (alen == 0 || (out->version == 2 && meta->family != AF_INET))
		return VRRP_PKT_BAD_FAMILY;

	out->vrid = buf[OFF_VRID];
	out->priority = buf[OFF_PRIO];
	out->naddr = buf[OFF_NADDR];
	out->family = meta->family;
	if (out->naddr == 0)
		return VRRP_PKT_NO_ADDRS;
	want = vrrp_packet_len(out->version, meta->family, out->naddr);
	if (len != want)
		return VRRP_PKT_BAD_LENGTH;

	out->checksum = (uint16_t)(buf[OFF_CKSUM] << 8 | buf[OFF_CKSUM + 1]);
	ck = vrrp_checksum(buf, len, out->version, &meta->src, &meta->dst);
	if (ck != out->checksum)
		return VRRP_PKT_BAD_CHECKSUM;

	if (out->version == 2) {
		out->auth_type = buf[OFF_AUTH];
		out->adver_int_ms = (uint32_t)buf[OFF_ADVINT_V2] * 1000;
	} else {
		/* RFC 5798 5.2.6: the 4 reserved bits are ignored on reception. */
		uint16_t cs = (uint16_t)(buf[OFF_ADVINT_V3] << 8 | buf[OFF_ADVINT_V3 + 1]);

		out->adver_int_ms = (uint32_t)(cs & V3_ADVINT_MASK) * 10;
	}
	p = buf + VRRP_HDR_LEN;
	for (unsigned i = 0; i < out->naddr; i++, p += alen) {
		out->addrs[i].family = meta->family;
		memcpy(out->addrs[i].u.bytes, p, alen);
	}
	if (out->version == 2) {
		enum vrrp_pkt_error e;

		memcpy(out->auth_data, p, VRRP_AUTH_LEN);
		e = check_auth_v2(out, expect);
		if (e != VRRP_PKT_OK)
			return e;
	}
	if (out->adver_int_ms == 0)
		return VRRP_PKT_BAD_INTERVAL;
	return VRRP_PKT_OK;
}
