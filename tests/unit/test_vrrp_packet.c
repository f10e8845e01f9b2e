// links: agent/vrrp_packet.c
/* Unit tests for the VRRP packet codec: round trips for v2 and v3 over IPv4 and IPv6, checksum
 * known answers, every discard reason, and real advertisements captured from keepalived 2.2.7.
 *
 * How the keepalived vectors were captured (root, on the project machine): two network
 * namespaces joined by a veth pair, 198.18.0.1/24 (keepalived side, veth0) and 198.18.0.2/24;
 * keepalived 2.2.7 run in the foreground in its own session
 * (`setsid ip netns exec A keepalived -n -l -D -f CONF -p/-r/-c /tmp/...pid`) with
 *   v2:  vrrp_instance VI_1 { state MASTER interface veth0 virtual_router_id 51 priority 200
 *        advert_int 1 authentication { auth_type PASS auth_pass 7388 }
 *        virtual_ipaddress { 198.18.0.100/24 } }
 *   v3:  the same with global_defs { vrrp_version 3 } and no authentication;
 *   v3 IPv6: vrid 52, priority 150, advert_int 0.5, virtual_ipaddress { 2001:db8::100/64 }.
 * In the other namespace a /usr/bin/python3 raw socket (AF_INET, SOCK_RAW, 112 after joining
 * 224.0.0.18; AF_INET6 with IPV6_RECVHOPLIMIT / IPV6_RECVPKTINFO after joining ff02::12)
 * printed each packet's source, destination, TTL / hop limit and the bytes after the IP header.
 * After a few adverts keepalived got SIGTERM to its process group, which produced the
 * priority-0 adverts below; then the namespaces were deleted.
 *
 * The unicast vectors (KA_UC_*) were captured the same way with 198.18.200.1/24 (keepalived) and
 * 198.18.200.2/24 (a raw socket, no group joined):
 *   v3:  vrrp_version 3, vrid 61, priority 150, advert_int 1, unicast_src_ip 198.18.200.1,
 *        unicast_peer { 198.18.200.2 }, virtual_ipaddress { 198.18.200.10/24 198.18.200.11/24 };
 *   v2:  vrid 62, priority 150, authentication { auth_type PASS auth_pass secret1 }, the same
 *        unicast settings, virtual_ipaddress { 198.18.200.20/24 }.
 * keepalived puts the unicast destination in the v3 pseudo-header (RFC 5798 5.2.8: the IP
 * destination), not the group: with 224.0.0.18 the v3 checksum would be 0xad78. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <arpa/inet.h>
#include <sys/socket.h>
#include <cmocka.h>

#include "vrrp_packet.h"

/* keepalived v2, PASS 7388, from 198.18.0.1 to 224.0.0.18, TTL 255 */
#define KA_V2 "2133c8010101dfe7c61200643733383800000000"
#define KA_V2_PRIO0 "213300010101a7e8c61200643733383800000000"
/* keepalived v3 IPv4, from 198.18.0.1 to 224.0.0.18, TTL 255 */
#define KA_V3 "3133c8010064994dc6120064"
#define KA_V3_PRIO0 "313300010064614ec6120064"
/* keepalived v3 IPv6, from fe80::e8e8:e7ff:fe29:dfef to ff02::12, hop limit 255 */
#define KA_V3_6 "3134960100325cbe20010db8000000000000000000000100"
#define KA_V3_6_PRIO0 "313400010032f2be20010db8000000000000000000000100"
/* keepalived unicast, from 198.18.200.1 to 198.18.200.2, TTL 255 */
#define KA_UC_V3 "313d96020064ff75c612c80ac612c80b"
#define KA_UC_V2 "213e960101014c4bc612c8147365637265743100"
#define KA_V6_SRC "fe80::e8e8:e7ff:fe29:dfef"

static size_t
unhex(const char *hex, uint8_t *out)
{
	size_t n = strlen(hex) / 2;

	for (size_t i = 0; i < n; i++) {
		unsigned v;

		assert_int_equal(sscanf(hex + 2 * i, "%2x", &v), 1);
		out[i] = (uint8_t)v;
	}
	return n;
}

static struct addr
ip(const char *s)
{
	struct addr a;

	memset(&a, 0, sizeof(a));
	if (inet_pton(AF_INET, s, &a.u.v4) == 1) {
		a.family = AF_INET;
	} else {
		assert_int_equal(inet_pton(AF_INET6, s, &a.u.v6), 1);
		a.family = AF_INET6;
	}
	return a;
}

static struct vrrp_rx_meta
meta4(void)
{
	return (struct vrrp_rx_meta){
	    .family = AF_INET, .src = ip("198.18.0.1"), .dst = ip("224.0.0.18"), .ttl = 255};
}

static struct vrrp_rx_meta
meta6(void)
{
	return (struct vrrp_rx_meta){
	    .family = AF_INET6, .src = ip(KA_V6_SRC), .dst = ip("ff02::12"), .ttl = 255};
}

static struct vrrp_rx_expect
expect_v2_pass(const char *pass)
{
	struct vrrp_rx_expect e = {.version = 2, .auth_type = VRRP_AUTH_PASS};

	memcpy(e.auth_data, pass, strlen(pass));
	return e;
}

static const struct vrrp_rx_expect EXPECT_V3 = {.version = 3};

/* Recomputes the checksum of a hand-modified packet so that a later check is reached. */
static void
fix_checksum(uint8_t *buf, size_t len, const struct vrrp_rx_meta *m)
{
	uint16_t ck;

	buf[6] = buf[7] = 0;
	ck = vrrp_checksum(buf, len, buf[0] >> 4, &m->src, &m->dst);
	buf[6] = (uint8_t)(ck >> 8);
	buf[7] = (uint8_t)ck;
}

/* Decodes a captured packet, checks it is OK, re-encodes it and expects the same bytes. */
static void
check_capture(const char *hex, const struct vrrp_rx_meta *m, const struct vrrp_rx_expect *e,
	      struct vrrp_advert *adv)
{
	uint8_t buf[VRRP_PKT_MAX], again[VRRP_PKT_MAX];
	size_t len = unhex(hex, buf);

	assert_int_equal(vrrp_packet_decode(buf, len, m, e, adv), VRRP_PKT_OK);
	assert_int_equal(vrrp_packet_encode(adv, &m->src, &m->dst, again, sizeof(again)),
			 (ssize_t)len);
	assert_memory_equal(buf, again, len);
}

static void
test_keepalived_v2_pass(void **state)
{
	struct vrrp_rx_meta m = meta4();
	struct vrrp_rx_expect e = expect_v2_pass("7388");
	struct vrrp_advert adv;
	struct addr vip = ip("198.18.0.100");

	(void)state;
	check_capture(KA_V2, &m, &e, &adv);
	assert_int_equal(adv.version, 2);
	assert_int_equal(adv.type, VRRP_TYPE_ADVERT);
	assert_int_equal(adv.vrid, 51);
	assert_int_equal(adv.priority, 200);
	assert_int_equal(adv.naddr, 1);
	assert_int_equal(adv.auth_type, VRRP_AUTH_PASS);
	assert_int_equal(adv.adver_int_ms, 1000);
	assert_int_equal(adv.checksum, 0xdfe7);
	assert_memory_equal(adv.addrs[0].u.bytes, vip.u.bytes, 4);
	assert_memory_equal(adv.auth_data, "7388\0\0\0\0", 8);

	check_capture(KA_V2_PRIO0, &m, &e, &adv);
	assert_int_equal(adv.priority, 0);
	assert_int_equal(adv.checksum, 0xa7e8);
}

static void
test_keepalived_v3_ipv4(void **state)
{
	struct vrrp_rx_meta m = meta4();
	struct vrrp_advert adv;

	(void)state;
	check_capture(KA_V3, &m, &EXPECT_V3, &adv);
	assert_int_equal(adv.version, 3);
	assert_int_equal(adv.vrid, 51);
	assert_int_equal(adv.priority, 200);
	assert_int_equal(adv.adver_int_ms, 1000);
	assert_int_equal(adv.checksum, 0x994d);
	assert_int_equal(adv.auth_type, VRRP_AUTH_NONE);

	check_capture(KA_V3_PRIO0, &m, &EXPECT_V3, &adv);
	assert_int_equal(adv.priority, 0);
}

static void
test_keepalived_v3_ipv6(void **state)
{
	struct vrrp_rx_meta m = meta6();
	struct vrrp_advert adv;
	struct addr vip = ip("2001:db8::100");

	(void)state;
	check_capture(KA_V3_6, &m, &EXPECT_V3, &adv);
	assert_int_equal(adv.vrid, 52);
	assert_int_equal(adv.priority, 150);
	assert_int_equal(adv.adver_int_ms, 500);
	assert_int_equal(adv.family, AF_INET6);
	assert_int_equal(adv.checksum, 0x5cbe);
	assert_memory_equal(adv.addrs[0].u.bytes, vip.u.bytes, 16);

	check_capture(KA_V3_6_PRIO0, &m, &EXPECT_V3, &adv);
	assert_int_equal(adv.priority, 0);
}

static void
test_checksum_known_answers(void **state)
{
	uint8_t buf[64];
	size_t len;
	struct vrrp_rx_meta m4 = meta4(), m6 = meta6();
	struct addr other = ip("224.0.0.19");

	(void)state;
	/* v2: the message alone; the IP addresses play no part. */
	len = unhex(KA_V2, buf);
	buf[6] = buf[7] = 0;
	assert_int_equal(vrrp_checksum(buf, len, 2, NULL, NULL), 0xdfe7);
	assert_int_equal(vrrp_checksum(buf, len, 2, &m4.src, &other), 0xdfe7);
	/* v3 IPv4: with the pseudo-header; the field's content is ignored. */
	len = unhex(KA_V3, buf);
	assert_int_equal(vrrp_checksum(buf, len, 3, &m4.src, &m4.dst), 0x994d);
	assert_int_not_equal(vrrp_checksum(buf, len, 3, &m4.src, &other), 0x994d);
	/* v3 IPv6 */
	len = unhex(KA_V3_6, buf);
	assert_int_equal(vrrp_checksum(buf, len, 3, &m6.src, &m6.dst), 0x5cbe);
	/* Hand-computed: v3 IPv4 10.0.0.1 -> 224.0.0.18, vrid 1, prio 100, 1 s, 10.0.0.100.
	 * Words: 0a00 0001 e000 0012 0070 000c | 3101 6401 0064 0a00 0064 = 0x18a59;
	 * folded 0x8a5a, complement 0x75a5. */
	len = unhex("3101640100640000"
		    "0a000064",
		    buf);
	other = ip("10.0.0.1");
	assert_int_equal(vrrp_checksum(buf, len, 3, &other, &m4.dst), 0x75a5);
}

static void
test_round_trip_v2_none_and_v3_ipv6_multi(void **state)
{
	struct vrrp_advert a = {.version = 2,
				.vrid = 7,
				.priority = 254,
				.adver_int_ms = 3000,
				.family = AF_INET,
				.naddr = 2};
	struct vrrp_advert b;
	struct vrrp_rx_meta m = meta4();
	struct vrrp_rx_expect e = {.version = 2};
	uint8_t buf[VRRP_PKT_MAX];
	ssize_t n;

	(void)state;
	a.addrs[0] = ip("198.18.1.1");
	a.addrs[1] = ip("198.18.1.2");
	n = vrrp_packet_encode(&a, &m.src, &m.dst, buf, sizeof(buf));
	assert_int_equal(n, 8 + 8 + 8);
	assert_int_equal(buf[5], 3); /* whole seconds */
	assert_int_equal(vrrp_packet_decode(buf, (size_t)n, &m, &e, &b), VRRP_PKT_OK);
	assert_int_equal(b.vrid, 7);
	assert_int_equal(b.priority, 254);
	assert_int_equal(b.adver_int_ms, 3000);
	assert_int_equal(b.naddr, 2);
	assert_memory_equal(b.addrs[1].u.bytes, a.addrs[1].u.bytes, 4);

	struct vrrp_advert c = {.version = 3,
				.vrid = 200,
				.priority = 1,
				.adver_int_ms = 40950,
				.family = AF_INET6,
				.naddr = 3};
	struct vrrp_rx_meta m6 = meta6();

	c.addrs[0] = ip("fe80::1");
	c.addrs[1] = ip("2001:db8::1");
	c.addrs[2] = ip("2001:db8::ffff");
	n = vrrp_packet_encode(&c, &m6.src, &m6.dst, buf, sizeof(buf));
	assert_int_equal(n, 8 + 48);
	assert_int_equal(buf[4], 0x0f); /* 4095 cs, reserved bits zero */
	assert_int_equal(buf[5], 0xff);
	assert_int_equal(vrrp_packet_decode(buf, (size_t)n, &m6, &EXPECT_V3, &b), VRRP_PKT_OK);
	assert_int_equal(b.adver_int_ms, 40950);
	assert_int_equal(b.naddr, 3);
	assert_memory_equal(b.addrs[2].u.bytes, c.addrs[2].u.bytes, 16);
}

static void
test_encode_errors(void **state)
{
	struct vrrp_advert a = {.version = 2,
				.vrid = 1,
				.priority = 100,
				.adver_int_ms = 1000,
				.family = AF_INET6,
				.naddr = 1};
	struct vrrp_rx_meta m = meta4(), m6 = meta6();
	uint8_t buf[VRRP_PKT_MAX];

	(void)state;
	a.addrs[0] = ip("2001:db8::1");
	assert_int_equal(vrrp_packet_encode(&a, &m6.src, &m6.dst, buf, sizeof(buf)), -EINVAL);
	a.family = AF_INET;
	a.addrs[0] = ip("198.18.0.100");
	a.adver_int_ms = 1500; /* v2 carries whole seconds */
	assert_int_equal(vrrp_packet_encode(&a, &m.src, &m.dst, buf, sizeof(buf)), -EINVAL);
	a.adver_int_ms = 1000;
	a.auth_type = 3;
	assert_int_equal(vrrp_packet_encode(&a, &m.src, &m.dst, buf, sizeof(buf)), -EINVAL);
	a.auth_type = VRRP_AUTH_PASS;
	assert_int_equal(vrrp_packet_encode(&a, &m.src, &m.dst, buf, 19), -ENOSPC);
	assert_int_equal(vrrp_packet_encode(&a, &m.src, &m.dst, buf, 20), 20);
	a.version = 3; /* v3 has no auth */
	assert_int_equal(vrrp_packet_encode(&a, &m.src, &m.dst, buf, sizeof(buf)), -EINVAL);
	a.auth_type = VRRP_AUTH_NONE;
	a.adver_int_ms = 5; /* below one centisecond */
	assert_int_equal(vrrp_packet_encode(&a, &m.src, &m.dst, buf, sizeof(buf)), -EINVAL);
	a.adver_int_ms = 50;
	a.naddr = 0;
	assert_int_equal(vrrp_packet_encode(&a, &m.src, &m.dst, buf, sizeof(buf)), -EINVAL);
	a.naddr = 1;
	assert_int_equal(vrrp_packet_encode(&a, NULL, NULL, buf, sizeof(buf)), -EINVAL);
	assert_int_equal(vrrp_packet_encode(&a, &m.src, &m.dst, buf, sizeof(buf)), 12);
}

/* Decodes hex (after an optional edit) and returns the verdict. */
static enum vrrp_pkt_error
verdict(const char *hex, size_t cut, int byte, int value, bool refix, struct vrrp_rx_meta m,
	const struct vrrp_rx_expect *e)
{
	uint8_t buf[VRRP_PKT_MAX + 64];
	struct vrrp_advert adv;
	size_t len = unhex(hex, buf);

	if (byte >= 0)
		buf[byte] = (uint8_t)value;
	if (refix)
		fix_checksum(buf, len, &m);
	if (cut > 0)
		len = cut;
	return vrrp_packet_decode(buf, len, &m, e, &adv);
}

static void
test_discard_reasons(void **state)
{
	struct vrrp_rx_meta m = meta4(), bad = meta4();
	struct vrrp_rx_expect pass = expect_v2_pass("7388");
	struct vrrp_rx_expect wrong = expect_v2_pass("7389");
	struct vrrp_rx_expect none = {.version = 2, .auth_type = VRRP_AUTH_NONE};

	(void)state;
	assert_int_equal(verdict(KA_V2, 7, -1, 0, false, m, &pass), VRRP_PKT_TOO_SHORT);
	assert_int_equal(verdict(KA_V2, 0, -1, 0, false, m, &pass), VRRP_PKT_OK);
	bad.ttl = 254;
	assert_int_equal(verdict(KA_V2, 0, -1, 0, false, bad, &pass), VRRP_PKT_BAD_TTL);
	bad.ttl = 64;
	assert_int_equal(verdict(KA_V3, 0, -1, 0, false, bad, &EXPECT_V3), VRRP_PKT_BAD_TTL);
	/* RFC 5798 5.1.2.3 / 7.1: the IPv6 hop limit too; -1: the kernel gave none. */
	bad = meta6();
	assert_int_equal(verdict(KA_V3_6, 0, -1, 0, false, bad, &EXPECT_V3), VRRP_PKT_OK);
	bad.ttl = 1;
	assert_int_equal(verdict(KA_V3_6, 0, -1, 0, false, bad, &EXPECT_V3), VRRP_PKT_BAD_TTL);
	bad.ttl = -1;
	assert_int_equal(verdict(KA_V3_6, 0, -1, 0, false, bad, &EXPECT_V3), VRRP_PKT_BAD_TTL);
	bad = meta4();
	assert_int_equal(verdict(KA_V2, 0, -1, 0, false, m, &EXPECT_V3), VRRP_PKT_BAD_VERSION);
	assert_int_equal(verdict(KA_V3, 0, -1, 0, false, m, &pass), VRRP_PKT_BAD_VERSION);
	assert_int_equal(verdict(KA_V3, 0, 0, 0x41, true, m, &EXPECT_V3), VRRP_PKT_BAD_VERSION);
	assert_int_equal(verdict(KA_V3, 0, 0, 0x32, true, m, &EXPECT_V3), VRRP_PKT_BAD_TYPE);
	assert_int_equal(verdict(KA_V2, 0, -1, 0, false, meta6(), &pass), VRRP_PKT_BAD_FAMILY);
	assert_int_equal(verdict(KA_V3, 0, 3, 0, true, m, &EXPECT_V3), VRRP_PKT_NO_ADDRS);
	/* Count says 2, one address present; truncated; a trailing byte; v2 without auth data. */
	assert_int_equal(verdict(KA_V3, 0, 3, 2, true, m, &EXPECT_V3), VRRP_PKT_BAD_LENGTH);
	assert_int_equal(verdict(KA_V3, 11, -1, 0, false, m, &EXPECT_V3), VRRP_PKT_BAD_LENGTH);
	assert_int_equal(verdict(KA_V3 "00", 0, -1, 0, false, m, &EXPECT_V3), VRRP_PKT_BAD_LENGTH);
	assert_int_equal(verdict(KA_V2, 12, -1, 0, false, m, &pass), VRRP_PKT_BAD_LENGTH);
	assert_int_equal(verdict(KA_V3_6, 0, -1, 0, false, m, &EXPECT_V3), VRRP_PKT_BAD_LENGTH);
	/* Corrupted address, interval, or a pseudo-header with the wrong source. */
	assert_int_equal(verdict(KA_V3, 0, 11, 0x65, false, m, &EXPECT_V3), VRRP_PKT_BAD_CHECKSUM);
	assert_int_equal(verdict(KA_V2, 0, 5, 2, false, m, &pass), VRRP_PKT_BAD_CHECKSUM);
	bad = meta4();
	bad.src = ip("198.18.0.3");
	assert_int_equal(verdict(KA_V3, 0, -1, 0, false, bad, &EXPECT_V3), VRRP_PKT_BAD_CHECKSUM);
	assert_int_equal(verdict(KA_V2, 0, -1, 0, false, bad, &pass), VRRP_PKT_OK); /* v2: no */
	/* v2 authentication */
	assert_int_equal(verdict(KA_V2, 0, 4, 3, true, m, &pass), VRRP_PKT_BAD_AUTH_TYPE);
	assert_int_equal(verdict(KA_V2, 0, -1, 0, false, m, &none), VRRP_PKT_AUTH_TYPE_MISMATCH);
	assert_int_equal(verdict(KA_V2, 0, 4, 2, true, m, &pass), VRRP_PKT_AUTH_TYPE_MISMATCH);
	assert_int_equal(verdict(KA_V2, 0, -1, 0, false, m, &wrong), VRRP_PKT_AUTH_FAILURE);
	assert_int_equal(verdict(KA_V2, 0, 19, 'x', true, m, &pass), VRRP_PKT_AUTH_FAILURE);
	/* Interval 0 */
	assert_int_equal(verdict(KA_V3, 0, 5, 0, true, m, &EXPECT_V3), VRRP_PKT_BAD_INTERVAL);
	assert_int_equal(verdict(KA_V2, 0, 5, 0, true, m, &pass), VRRP_PKT_BAD_INTERVAL);
	/* RFC 5798 5.2.6: reserved bits are ignored on reception. */
	assert_int_equal(verdict(KA_V3, 0, 4, 0xf0, true, m, &EXPECT_V3), VRRP_PKT_OK);
}

static void
test_max_addrs(void **state)
{
	uint8_t buf[8 + VRRP_MAX_ADDRS * 4];
	struct vrrp_rx_meta m = meta4();
	struct vrrp_advert adv;

	(void)state;
	memset(buf, 0, sizeof(buf));
	buf[0] = 0x31;
	buf[1] = 1;
	buf[2] = 100;
	buf[5] = 100;
	/* every count the 8-bit field can carry decodes (an IPv4 advert of 255 addresses is 1028
	 * bytes): none is "too many" */
	buf[3] = VRRP_MAX_ADDRS;
	fix_checksum(buf, 8 + VRRP_MAX_ADDRS * 4, &m);
	assert_int_equal(vrrp_packet_decode(buf, 8 + VRRP_MAX_ADDRS * 4, &m, &EXPECT_V3, &adv),
			 VRRP_PKT_OK);
	assert_int_equal(adv.naddr, VRRP_MAX_ADDRS);
}

static void
test_error_names_and_lengths(void **state)
{
	(void)state;
	for (int i = 0; i < VRRP_PKT_ERROR_MAX; i++) {
		assert_string_not_equal(vrrp_pkt_error_str(i), "unknown");
		for (int j = 0; j < i; j++)
			assert_string_not_equal(vrrp_pkt_error_str(i), vrrp_pkt_error_str(j));
	}
	assert_string_equal(vrrp_pkt_error_str(VRRP_PKT_ERROR_MAX), "unknown");
	assert_string_equal(vrrp_pkt_error_str(VRRP_PKT_BAD_CHECKSUM), "bad_checksum");
	assert_int_equal(vrrp_packet_len(2, AF_INET, 1), 20);
	assert_int_equal(vrrp_packet_len(3, AF_INET, 1), 12);
	assert_int_equal(vrrp_packet_len(3, AF_INET6, 2), 40);
	assert_int_equal(vrrp_packet_len(2, AF_INET6, 1), 0);
	assert_int_equal(vrrp_packet_len(3, AF_INET, 0), 0);
	assert_int_equal(vrrp_packet_len(4, AF_INET, 1), 0);
}

/* keepalived's unicast v3 advert: the checksum covers the unicast destination. Decoded with
 * that destination it is OK and re-encodes to the same bytes; with the group it is refused. */
static void
test_keepalived_unicast_v3_checksum(void **state)
{
	struct vrrp_rx_meta m = {
	    .family = AF_INET, .src = ip("198.18.200.1"), .dst = ip("198.18.200.2"), .ttl = 255};
	struct vrrp_advert adv;
	uint8_t buf[VRRP_PKT_MAX];
	size_t len = unhex(KA_UC_V3, buf);
	struct addr group = ip("224.0.0.18");

	(void)state;
	check_capture(KA_UC_V3, &m, &EXPECT_V3, &adv);
	assert_int_equal(adv.vrid, 61);
	assert_int_equal(adv.priority, 150);
	assert_int_equal(adv.naddr, 2);
	assert_int_equal(adv.checksum, 0xff75);
	assert_int_equal(vrrp_checksum(buf, len, 3, &m.src, &group), 0xad78);
	m.dst = group;
	assert_int_equal(vrrp_packet_decode(buf, len, &m, &EXPECT_V3, &adv), VRRP_PKT_BAD_CHECKSUM);
}

/* v2 has no pseudo-header: keepalived's unicast v2 advert is the same whatever the destination. */
static void
test_keepalived_unicast_v2(void **state)
{
	struct vrrp_rx_meta m = {
	    .family = AF_INET, .src = ip("198.18.200.1"), .dst = ip("198.18.200.2"), .ttl = 255};
	struct vrrp_rx_expect e = expect_v2_pass("secret1");
	struct vrrp_advert adv;

	(void)state;
	check_capture(KA_UC_V2, &m, &e, &adv);
	assert_int_equal(adv.vrid, 62);
	assert_int_equal(adv.auth_type, VRRP_AUTH_PASS);
	m.dst = ip("224.0.0.18");
	check_capture(KA_UC_V2, &m, &e, &adv);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_keepalived_v2_pass),
	    cmocka_unit_test(test_keepalived_v3_ipv4),
	    cmocka_unit_test(test_keepalived_v3_ipv6),
	    cmocka_unit_test(test_keepalived_unicast_v3_checksum),
	    cmocka_unit_test(test_keepalived_unicast_v2),
	    cmocka_unit_test(test_checksum_known_answers),
	    cmocka_unit_test(test_round_trip_v2_none_and_v3_ipv6_multi),
	    cmocka_unit_test(test_encode_errors),
	    cmocka_unit_test(test_discard_reasons),
	    cmocka_unit_test(test_max_addrs),
	    cmocka_unit_test(test_error_names_and_lengths),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
