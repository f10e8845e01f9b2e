// links: server/resource.c server/http.c server/validate.c server/store.c server/store_conn.c server/store_keys.c server/store_token.c server/hmap.c server/write.c server/auth.c server/embedded.c build/gen/embedded.c common/clock.c
/* Fuzzes the paging cursors and limits of collections (server/resource.c): page_cursor_decode on
 * any text, page_parse on ?limit and ?cursor, and page_links. Input: up to three lines, the
 * cursor (or a name to encode), the limit, and a filter value for the links' base. Oracles: a
 * cursor that decodes names at most STORE_NAME_MAX - 1 bytes and encodes back to one that decodes
 * to the same; any name without NUL encodes to a cursor that decodes back to it. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_check.h"
#include "resource.h"

/* Copies the next line of *p (up to end) into a new string (caller frees). */
static char *
next_line(const char **p, const char *end)
{
	const char *nl = memchr(*p, '\n', (size_t)(end - *p));
	size_t n = nl ? (size_t)(nl - *p) : (size_t)(end - *p);
	char *s = malloc(n + 1);

	memcpy(s, *p, n);
	s[n] = '\0';
	*p = nl ? nl + 1 : end;
	return s;
}

static void
round_trips(const char *cursor, const char *name_in)
{
	char dir, name[STORE_NAME_MAX], name2[STORE_NAME_MAX], enc[160];

	if (page_cursor_decode(cursor, &dir, name, sizeof(name)) == 0) {
		CHECK(dir == 'a' || dir == 'b');
		CHECK(strlen(name) < STORE_NAME_MAX);
		page_cursor_encode(dir, name, enc, sizeof(enc));
		if (name[0] != '\0') {
			char dir2;
			CHECK(page_cursor_decode(enc, &dir2, name2, sizeof(name2)) == 0);
			CHECK(dir2 == dir && strcmp(name, name2) == 0);
		}
	}
	/* any name that fits encodes and decodes back */
	snprintf(name, sizeof(name), "%s", name_in);
	page_cursor_encode('b', name, enc, sizeof(enc));
	if (name[0] != '\0') {
		CHECK(page_cursor_decode(enc, &dir, name2, sizeof(name2)) == 0);
		CHECK(dir == 'b' && strcmp(name, name2) == 0);
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *p = (const char *)data, *end = p + size;
	char *cursor, *limit, *filter, base[256], esc[200];
	struct http_request req;
	struct http_response res;
	struct page pg;

	if (size > 4096)
		return 0;
	cursor = next_line(&p, end);
	limit = next_line(&p, end);
	filter = next_line(&p, end);
	round_trips(cursor, cursor);

	memset(&req, 0, sizeof(req));
	memset(&res, 0, sizeof(res));
	req.method = HTTP_GET;
	req.method_name = "GET";
	req.path = "/vips";
	req.query_keys[0] = "cursor";
	req.query_vals[0] = cursor;
	req.query_keys[1] = "limit";
	req.query_vals[1] = limit;
	req.n_query = limit[0] || p < end ? 2 : 1;
	if (page_parse(&req, &res, &pg) == 0) {
		json_t *repr = json_object();
		CHECK(pg.limit >= 1 && pg.limit <= 500);
		CHECK(!(pg.after[0] && pg.before[0]));
		snprintf(base, sizeof(base), "/vips?node=%s",
			 http_qs_escape(filter, esc, sizeof(esc)));
		page_links(repr, &res, filter[0] ? base : "/vips", &pg,
			   pg.after[0] ? pg.after : "a", filter[0] ? filter : NULL, true, true);
		CHECK(res.link_header != NULL);
		json_decref(repr);
	} else {
		CHECK(res.status == 400);
	}
	http_response_clear(&res);
	free(cursor);
	free(limit);
	free(filter);
	return 0;
}
