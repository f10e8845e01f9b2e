// links: agent/arp.c common/errmsg.c
/* Frame bytes of gratuitous ARP (request and reply form) and of the unsolicited neighbour
 * advertisement, field by field; the NA checksum against a value computed independently (Python,
 * RFC 4443 2.3 over the RFC 8200 8.1 pseudo-header) and by re-summing the frame here. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <arpa/inet.h>
#include <cmocka.h>

#include "arp.h"

static const uint8_t mac[6] = {0x52, 0x54, 0x00, 0x12, 0x34, 0x56};
static const uint8_t bcast[6] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};

static uint16_t
be16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static void
check_garp(const uint8_t *f, uint16_t op, const uint8_t *tha)
{
	/* Ethernet: broadcast from our MAC, ethertype ARP */
	assert_memory_equal(f, bcast, 6);
	assert_memory_equal(f + 6, mac, 6);
	assert_int_equal(be16(f + 12), 0x0806);
	/* ARP: Ethernet / IPv4, lengths 6 and 4, opcode */
	assert_int_equal(be16(f + 14), 1);
	assert_int_equal(be16(f + 16), 0x0800);
	assert_int_equal(f[18], 6);
	assert_int_equal(f[19], 4);
	assert_int_equal(be16(f + 20), op);
	/* sender MAC + IP, target MAC + IP: both IPs are the VIP 198.18.0.100 */
	assert_memory_equal(f + 22, mac, 6);
	assert_memory_equal(f + 28, "\xc6\x12\x00\x64", 4);
	assert_memory_equal(f + 32, tha, 6);
	assert_memory_equal(f + 38, "\xc6\x12\x00\x64", 4);
}

static void
test_garp_request_fields(void **state)
{
	uint8_t f[64];
	struct in_addr ip;

	(void)state;
	inet_pton(AF_INET, "198.18.0.100", &ip);
	memset(f, 0xaa, sizeof(f));
	assert_int_equal(arp_build_garp(f, sizeof(f), mac, ip, ARP_GARP_REQUEST), ARP_GARP_LEN);
	assert_int_equal(ARP_GARP_LEN, 42);
	check_garp(f, 1, bcast);
	assert_int_equal(f[42], 0xaa); /* nothing written past the frame */
}

static void
test_garp_reply_fields(void **state)
{
	uint8_t f[ARP_GARP_LEN];
	struct in_addr ip;

	(void)state;
	inet_pton(AF_INET, "198.18.0.100", &ip);
	assert_int_equal(arp_build_garp(f, sizeof(f), mac, ip, ARP_GARP_REPLY), ARP_GARP_LEN);
	check_garp(f, 2, mac);
}

static void
test_garp_short_buffer_is_refused(void **state)
{
	uint8_t f[ARP_GARP_LEN - 1];
	struct in_addr ip = {0};

	(void)state;
	assert_int_equal(arp_build_garp(f, sizeof(f), mac, ip, ARP_GARP_REQUEST), 0);
}

/* Re-sums pseudo-header plus ICMPv6 message; a correct checksum makes it 0xffff. */
static uint16_t
resum(const uint8_t *f)
{
	const uint8_t *ip6 = f + 14, *icmp = f + 54;
	size_t len = be16(ip6 + 4), i;
	uint32_t s = 0;

	for (i = 0; i < 32; i += 2) /* source and destination */
		s += be16(ip6 + 8 + i);
	s += (uint32_t)len; /* upper-layer length (its high 16 bits are 0) */
	s += 58;	    /* next header */
	for (i = 0; i < len; i += 2)
		s += be16(icmp + i);
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)s;
}

static void
build_na(uint8_t *f, size_t len, bool router)
{
	struct in6_addr src, target;

	inet_pton(AF_INET6, "fe80::5054:ff:fe12:3456", &src);
	inet_pton(AF_INET6, "2001:db8::10", &target);
	assert_int_equal(arp_build_na(f, len, mac, &src, &target, router), ARP_NA_LEN);
}

static void
test_na_fields_and_checksum(void **state)
{
	static const uint8_t all_nodes_mac[6] = {0x33, 0x33, 0, 0, 0, 1};
	static const uint8_t src[16] = {0xfe, 0x80, 0,	  0,	0,    0,    0,	  0,
					0x50, 0x54, 0x00, 0xff, 0xfe, 0x12, 0x34, 0x56};
	static const uint8_t all_nodes[16] = {0xff, 0x02, [15] = 1};
	static const uint8_t target[16] = {0x20, 0x01, 0x0d, 0xb8, [15] = 0x10};
	uint8_t f[128];

	(void)state;
	memset(f, 0xaa, sizeof(f));
	build_na(f, sizeof(f), false);
	assert_int_equal(ARP_NA_LEN, 86);
	assert_int_equal(f[86], 0xaa);
	/* Ethernet: to 33:33:00:00:00:01 (RFC 2464 7), from our MAC, IPv6 */
	assert_memory_equal(f, all_nodes_mac, 6);
	assert_memory_equal(f + 6, mac, 6);
	assert_int_equal(be16(f + 12), 0x86dd);
	/* IPv6: version 6, class/flow 0, payload 32, next header ICMPv6, hop limit 255 */
	assert_memory_equal(f + 14, "\x60\x00\x00\x00", 4);
	assert_int_equal(be16(f + 18), 32);
	assert_int_equal(f[20], 58);
	assert_int_equal(f[21], 255);
	assert_memory_equal(f + 22, src, 16);
	assert_memory_equal(f + 38, all_nodes, 16);
	/* ICMPv6 NA: type 136 code 0, flags R=0 S=0 O=1, reserved 0, target */
	assert_int_equal(f[54], 136);
	assert_int_equal(f[55], 0);
	assert_int_equal(f[58], 0x20);
	assert_memory_equal(f + 59, "\0\0\0", 3);
	assert_memory_equal(f + 62, target, 16);
	/* target link-layer address option: type 2, length 1 (x 8 octets), our MAC */
	assert_int_equal(f[78], 2);
	assert_int_equal(f[79], 1);
	assert_memory_equal(f + 80, mac, 6);
	/* checksum: the value Python computed for these bytes, and a re-sum that folds to 0xffff */
	assert_int_equal(be16(f + 56), 0x1fdd);
	assert_int_equal(resum(f), 0xffff);
}

static void
test_na_router_flag_changes_flags_and_checksum(void **state)
{
	uint8_t f[ARP_NA_LEN];

	(void)state;
	build_na(f, sizeof(f), true);
	assert_int_equal(f[58], 0xa0); /* R and O */
	assert_int_equal(be16(f + 56), 0x9fdc);
	assert_int_equal(resum(f), 0xffff);
}

static void
test_na_short_buffer_is_refused(void **state)
{
	uint8_t f[ARP_NA_LEN - 1];
	struct in6_addr a = IN6ADDR_LOOPBACK_INIT;

	(void)state;
	assert_int_equal(arp_build_na(f, sizeof(f), mac, &a, &a, false), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_garp_request_fields),
	    cmocka_unit_test(test_garp_reply_fields),
	    cmocka_unit_test(test_garp_short_buffer_is_refused),
	    cmocka_unit_test(test_na_fields_and_checksum),
	    cmocka_unit_test(test_na_router_flag_changes_flags_and_checksum),
	    cmocka_unit_test(test_na_short_buffer_is_refused),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
