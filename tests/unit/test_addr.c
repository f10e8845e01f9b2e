// links: common/addr.c
/* IP addresses and prefixes as the API accepts them (common/addr.c): IPv4 and IPv6 parsing, the
 * canonical text that responses show (RFC 5952 for IPv6, through inet_ntop), and the strict prefix
 * syntax: a required decimal length without sign or leading zero, bounded by the family. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <arpa/inet.h>
#include <cmocka.h>

#include "addr.h"

/* Parses s as an address (must succeed) and returns its canonical text in buf. */
static const char *
canon(const char *s, char *buf)
{
	struct addr a;

	if (addr_parse(s, &a) != 0)
		fail_msg("addr_parse(\"%s\") failed", s);
	return addr_format(&a, buf, ADDR_STRLEN);
}

/* Parses s as a prefix (must succeed) and returns its canonical text in buf. */
static const char *
canon_prefix(const char *s, char *buf)
{
	struct addr_prefix p;

	if (addr_parse_prefix(s, &p) != 0)
		fail_msg("addr_parse_prefix(\"%s\") failed", s);
	return addr_format_prefix(&p, buf, ADDR_STRLEN);
}

static void
test_ipv4_parse(void **state)
{
	struct addr a;
	char buf[ADDR_STRLEN];
	const unsigned char want[4] = {198, 18, 0, 1};

	(void)state;
	assert_int_equal(addr_parse("198.18.0.1", &a), 0);
	assert_int_equal(a.family, AF_INET);
	assert_memory_equal(a.u.bytes, want, 4);
	assert_int_equal(addr_len(&a), 4);
	assert_string_equal(canon("0.0.0.0", buf), "0.0.0.0");
	assert_string_equal(canon("255.255.255.255", buf), "255.255.255.255");
	assert_string_equal(canon("10.0.0.1", buf), "10.0.0.1");
}

static void
test_ipv4_rejects(void **state)
{
	static const char *const bad[] = {
	    "",		 "1.2.3",      "1.2.3.4.5", "256.1.1.1", "1.2.3.-1", "1.2.3.4 ",
	    " 1.2.3.4",	 "1.2.3.4x",   "a.b.c.d",   "1..2.3",	 "1.2.3.",   "01.2.3.4",
	    "0x1.2.3.4", "1.2.3.4/24", "localhost", "1.2.3.4.",	 "1,2,3,4",  "1.2.3.04",
	};
	struct addr a;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (addr_parse(bad[i], &a) != -1)
			fail_msg("addr_parse(\"%s\") accepted it", bad[i]);
}

static void
test_ipv6_parse_and_canonical(void **state)
{
	struct addr a;
	char buf[ADDR_STRLEN];
	const unsigned char want[16] = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};

	(void)state;
	assert_int_equal(addr_parse("2001:DB8::0:1", &a), 0);
	assert_int_equal(a.family, AF_INET6);
	assert_memory_equal(a.u.bytes, want, 16);
	assert_int_equal(addr_len(&a), 16);
	/* RFC 5952 4.3 lowercase, 4.1 no leading zeros, 4.2.1 longest run of zeros as "::" */
	assert_string_equal(canon("2001:DB8::0:1", buf), "2001:db8::1");
	assert_string_equal(canon("2001:0db8:0000:0000:0000:0000:0000:0001", buf), "2001:db8::1");
	assert_string_equal(canon("::", buf), "::");
	assert_string_equal(canon("::1", buf), "::1");
	assert_string_equal(canon("FE80::A:b:C:d", buf), "fe80::a:b:c:d");
	/* 4.2.3: the first of two equal runs of zeros is shortened */
	assert_string_equal(canon("2001:db8:0:0:1:0:0:1", buf), "2001:db8::1:0:0:1");
	/* 4.2.2: a single zero field is not shortened */
	assert_string_equal(canon("2001:db8:0:1:1:1:1:1", buf), "2001:db8:0:1:1:1:1:1");
	/* IPv4-mapped keeps its dotted tail (RFC 5952 5) */
	assert_string_equal(canon("::ffff:1.2.3.4", buf), "::ffff:1.2.3.4");
	assert_string_equal(canon("::FFFF:0102:0304", buf), "::ffff:1.2.3.4");
}

static void
test_ipv6_rejects(void **state)
{
	static const char *const bad[] = {
	    ":",
	    ":::",
	    "1::2::3",
	    "2001:db8::g",
	    "12345::1",
	    "fe80::1%eth0",
	    "2001:db8::/64",
	    "[::1]",
	    "1:2:3:4:5:6:7:8:9",
	    "::ffff:1.2.3",
	    "2001:db8::1 ",
	    ":1",
	};
	struct addr a;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (addr_parse(bad[i], &a) != -1)
			fail_msg("addr_parse(\"%s\") accepted it", bad[i]);
}

static void
test_prefix_parse(void **state)
{
	struct addr_prefix p;
	char buf[ADDR_STRLEN];

	(void)state;
	assert_int_equal(addr_parse_prefix("198.18.0.10/24", &p), 0);
	assert_int_equal(p.addr.family, AF_INET);
	assert_int_equal(p.prefix_len, 24);
	/* host bits are kept: a VIP is an address with its prefix, not a network */
	assert_string_equal(addr_format_prefix(&p, buf, sizeof(buf)), "198.18.0.10/24");
	assert_string_equal(canon_prefix("0.0.0.0/0", buf), "0.0.0.0/0");
	assert_string_equal(canon_prefix("10.0.0.1/32", buf), "10.0.0.1/32");
	assert_string_equal(canon_prefix("10.0.0.1/9", buf), "10.0.0.1/9");
	assert_string_equal(canon_prefix("2001:DB8::0:1/64", buf), "2001:db8::1/64");
	assert_string_equal(canon_prefix("::/0", buf), "::/0");
	assert_string_equal(canon_prefix("::1/128", buf), "::1/128");
	assert_string_equal(canon_prefix("::ffff:1.2.3.4/120", buf), "::ffff:1.2.3.4/120");
	assert_int_equal(addr_parse_prefix("::ffff:1.2.3.4/128", &p), 0);
	assert_int_equal(p.addr.family, AF_INET6);
	assert_int_equal(p.prefix_len, 128);
}

static void
test_prefix_rejects(void **state)
{
	static const char *const bad[] = {
	    "",		   /* empty */
	    "10.0.0.1",	   /* missing prefix */
	    "2001:db8::1", /* missing prefix */
	    "/24",	   /* missing address */
	    "10.0.0.1/",   /* empty length */
	    "10.0.0.1/33", /* over 32 on IPv4 */
	    "10.0.0.1/100",
	    "::1/129", /* over 128 on IPv6 */
	    "::1/999",
	    "10.0.0.1/024", /* leading zero */
	    "10.0.0.1/00",
	    "10.0.0.1/-1", /* sign */
	    "10.0.0.1/+8",
	    "10.0.0.1/ 8",
	    "10.0.0.1/8 ", /* trailing junk */
	    "10.0.0.1/8x",
	    "10.0.0.1/8/8",
	    "10.0.0.1/0008", /* too many digits */
	    "1.2.3/24",	     /* not an address */
	    "1.2.3.4.5/24",
	    "10.0.0.1 /24",
	    "fe80::1%eth0/64",
	    "::ffff:1.2.3/96",
	    "10.0.0.0/255.0.0.0", /* a netmask is not a length */
	    "10.0.0.1/0x8",
	};
	struct addr_prefix p;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (addr_parse_prefix(bad[i], &p) != -1)
			fail_msg("addr_parse_prefix(\"%s\") accepted it", bad[i]);
}

/* An address part of ADDR_STRLEN bytes or more cannot be copied: rejected, not overrun. */
static void
test_prefix_long_input(void **state)
{
	char s[200];
	struct addr_prefix p;

	(void)state;
	memset(s, '1', sizeof(s));
	s[150] = '/';
	s[151] = '8';
	s[152] = '\0';
	assert_int_equal(addr_parse_prefix(s, &p), -1);
	/* an IPv6 address written at its longest (45 chars) still fits */
	assert_int_equal(addr_parse_prefix("0000:0000:0000:0000:0000:ffff:255.255.255.255/128", &p),
			 0);
	assert_int_equal(p.prefix_len, 128);
}

static void
test_equal(void **state)
{
	struct addr a, b, c, d;

	(void)state;
	assert_int_equal(addr_parse("2001:db8::1", &a), 0);
	assert_int_equal(addr_parse("2001:DB8:0:0:0:0:0:1", &b), 0);
	assert_int_equal(addr_parse("2001:db8::2", &c), 0);
	assert_int_equal(addr_parse("10.0.0.1", &d), 0);
	assert_true(addr_equal(&a, &b));
	assert_false(addr_equal(&a, &c));
	assert_false(addr_equal(&a, &d));
	assert_false(addr_equal(&d, &a));
	assert_int_equal(addr_parse("::ffff:10.0.0.1", &a), 0);
	assert_false(addr_equal(&a, &d)); /* mapped IPv6 is not the IPv4 address */
	assert_int_equal(addr_parse("10.0.0.1", &a), 0);
	assert_true(addr_equal(&a, &d));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_ipv4_parse),
	    cmocka_unit_test(test_ipv4_rejects),
	    cmocka_unit_test(test_ipv6_parse_and_canonical),
	    cmocka_unit_test(test_ipv6_rejects),
	    cmocka_unit_test(test_prefix_parse),
	    cmocka_unit_test(test_prefix_rejects),
	    cmocka_unit_test(test_prefix_long_input),
	    cmocka_unit_test(test_equal),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
