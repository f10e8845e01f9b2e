// links: server/http.c server/validate.c
/* Fuzzes the request-target decoder (http_target_parse in server/http.c), which turns the target
 * exactly as a client sent it into the path and query the router sees. Input: the target (up to
 * the first NUL). Oracles: an accepted target decodes to a path that starts with '/', has no NUL,
 * control character or invalid UTF-8, and no more '/' than the target had; at most HTTP_MAX_QUERY
 * parameters whose keys and values are valid UTF-8 without control characters; and decoding is
 * a function (the same target decodes the same twice). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_check.h"
#include "http.h"

static void
check_text(const char *s)
{
	size_t n = strlen(s);

	CHECK(http_utf8_prefix(s, n) == n);
	for (const unsigned char *p = (const unsigned char *)s; *p; p++)
		CHECK(*p >= 0x20 && *p != 0x7f);
}

static size_t
count(const char *s, size_t n, char c)
{
	size_t k = 0;

	for (size_t i = 0; i < n; i++)
		k += s[i] == c;
	return k;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *uri = malloc(size + 1), why[128], why2[128];
	struct http_target t, t2;
	int rc, rc2;

	memcpy(uri, data, size);
	uri[size] = '\0';
	why[0] = why2[0] = '\0';
	rc = http_target_parse(uri, &t, why, sizeof(why));
	rc2 = http_target_parse(uri, &t2, why2, sizeof(why2));
	CHECK(rc == rc2);
	if (rc == 0) {
		const char *q = strchr(uri, '?');
		size_t plen = q ? (size_t)(q - uri) : strlen(uri);
		CHECK(t.path[0] == '/');
		check_text(t.path);
		CHECK(strcmp(t.path, t2.path) == 0);
		CHECK(count(t.path, strlen(t.path), '/') == count(uri, plen, '/'));
		CHECK(t.n >= 0 && t.n <= HTTP_MAX_QUERY && t.n == t2.n);
		for (int i = 0; i < t.n; i++) {
			check_text(t.keys[i]);
			check_text(t.vals[i]);
			CHECK(strcmp(t.keys[i], t2.keys[i]) == 0 &&
			      strcmp(t.vals[i], t2.vals[i]) == 0);
		}
	} else {
		CHECK(rc == -1 && why[0] != '\0' && strcmp(why, why2) == 0);
	}
	http_target_free(&t);
	http_target_free(&t2);
	free(uri);
	return 0;
}
