/* IP addresses and prefixes as the API writes them: parsing, validation and canonical text. Shared
 * by the server (validation) and the agent (netlink). */
#ifndef VIGIL_ADDR_H
#define VIGIL_ADDR_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>

#define ADDR_STRLEN 64 /* canonical address with "/prefix" fits */

struct addr {
	int family; /* AF_INET or AF_INET6 */
	union {
		struct in_addr v4;
		struct in6_addr v6;
		unsigned char bytes[16];
	} u;
};

struct addr_prefix {
	struct addr addr;
	int prefix_len;
};

/* Parses an IPv4 or IPv6 address without prefix. Returns 0 or -1 (not an address). */
int addr_parse(const char *s, struct addr *out);
/* Parses "ADDR/LEN" (LEN required, 0..32 or 0..128, decimal without leading zeros or sign).
 * Returns 0 or -1. */
int addr_parse_prefix(const char *s, struct addr_prefix *out);
/* Canonical text (inet_ntop) into buf of ADDR_STRLEN; returns buf. */
const char *addr_format(const struct addr *a, char *buf, size_t len);
const char *addr_format_prefix(const struct addr_prefix *p, char *buf, size_t len);
/* Byte length of an address of this family (4 or 16). */
size_t addr_len(const struct addr *a);
bool addr_equal(const struct addr *a, const struct addr *b);

#endif
