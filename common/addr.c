/* IP address and prefix parsing with inet_pton, strict about the prefix syntax. */
#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

#include "addr.h"

int
addr_parse(const char *s, struct addr *out)
{
	memset(out, 0, sizeof(*out));
	if (strchr(s, ':') != NULL) {
		if (inet_pton(AF_INET6, s, &out->u.v6) != 1)
			return -1;
		out->family = AF_INET6;
		return 0;
	}
	if (inet_pton(AF_INET, s, &out->u.v4) != 1)
		return -1;
	out->family = AF_INET;
	return 0;
}

int
addr_parse_prefix(const char *s, struct addr_prefix *out)
{
	char buf[ADDR_STRLEN];
	const char *slash = strchr(s, '/');
	size_t alen;
	int len = 0, max;

	if (slash == NULL || (alen = (size_t)(slash - s)) == 0 || alen >= sizeof(buf))
		return -1;
	memcpy(buf, s, alen);
	buf[alen] = '\0';
	if (addr_parse(buf, &out->addr) != 0)
		return -1;
	const char *p = slash + 1;
	if (*p == '\0' || strlen(p) > 3 || (p[0] == '0' && p[1] != '\0'))
		return -1;
	for (; *p != '\0'; p++) {
		if (*p < '0' || *p > '9')
			return -1;
		len = len * 10 + (*p - '0');
	}
	max = out->addr.family == AF_INET ? 32 : 128;
	if (len > max)
		return -1;
	out->prefix_len = len;
	return 0;
}

const char *
addr_format(const struct addr *a, char *buf, size_t len)
{
	if (inet_ntop(a->family, &a->u, buf, (socklen_t)len) == NULL)
		snprintf(buf, len, "?");
	return buf;
}

const char *
addr_format_prefix(const struct addr_prefix *p, char *buf, size_t len)
{
	char a[ADDR_STRLEN];

	snprintf(buf, len, "%s/%d", addr_format(&p->addr, a, sizeof(a)), p->prefix_len);
	return buf;
}

size_t
addr_len(const struct addr *a)
{
	return a->family == AF_INET ? 4 : 16;
}

bool
addr_equal(const struct addr *a, const struct addr *b)
{
	return a->family == b->family && memcmp(&a->u, &b->u, addr_len(a)) == 0;
}
