// links: server/resource.c server/store.c server/store_conn.c server/store_token.c server/store_keys.c server/hmap.c server/write.c server/auth.c server/validate.c server/http.c server/embedded.c build/gen/embedded.c common/addr.c common/clock.c
/* Collection paging (server/resource.c): opaque cursors ("a:NAME" / "b:NAME" in base64url without
 * padding, RFC 4648 5), ?limit and ?cursor parsing with their 400s, and the self/first/next/prev
 * links in the HAL body and in the RFC 8288 Link header. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "resource.h"

/* ------------------------------------------------------------------ cursors */

/* Known answers, computed independently (Python's base64.urlsafe_b64encode, '=' stripped). */
static void
test_cursor_encode_known(void **state)
{
	char out[160];

	(void)state;
	page_cursor_encode('a', "web", out, sizeof(out));
	assert_string_equal(out, "YTp3ZWI");
	page_cursor_encode('b', "lb-1", out, sizeof(out));
	assert_string_equal(out, "YjpsYi0x");
	page_cursor_encode('a', "a", out, sizeof(out));
	assert_string_equal(out, "YTph");
	page_cursor_encode('b', "lb1", out, sizeof(out));
	assert_string_equal(out, "YjpsYjE");
}

/* Encodes (dir, name), decodes it back and checks both. */
static void
round_trip(char dir, const char *name)
{
	char cur[160], name_out[STORE_NAME_MAX], d = '?';

	page_cursor_encode(dir, name, cur, sizeof(cur));
	for (const char *c = cur; *c != '\0'; c++)
		if (strchr("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_",
			   *c) == NULL)
			fail_msg("cursor %s for %s has a character outside base64url", cur, name);
	memset(name_out, 'X', sizeof(name_out));
	assert_int_equal(page_cursor_decode(cur, &d, name_out, sizeof(name_out)), 0);
	assert_int_equal(d, dir);
	assert_string_equal(name_out, name);
}

static void
test_cursor_round_trip(void **state)
{
	char longest[STORE_NAME_MAX];
	char cur[160];

	(void)state;
	round_trip('a', "a");
	round_trip('b', "a");
	round_trip('a', "ab");
	round_trip('a', "abc");
	round_trip('a', "lb-1");
	round_trip('b', "web-vip-2-");
	round_trip('a', "0-0-0");
	round_trip('b', "node-with-a-rather-long-name");
	memset(longest, 'z', STORE_NAME_MAX - 1);
	longest[STORE_NAME_MAX - 1] = '\0'; /* 63: the longest valid name */
	longest[5] = '-';
	round_trip('a', longest);
	round_trip('b', longest);
	/* 65 raw bytes -> 87 base64url characters, unpadded */
	page_cursor_encode('a', longest, cur, sizeof(cur));
	assert_int_equal(strlen(cur), 87);
	memset(longest, 'x', STORE_NAME_MAX - 1);
	page_cursor_encode('a', longest, cur, sizeof(cur));
	assert_string_equal(cur,
			    "YTp4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4e"
			    "Hh4eHh4eHh4eHh4eHg");
}

static void
test_cursor_decode_rejects(void **state)
{
	static const char *const bad[] = {
	    "",			   /* nothing */
	    "YTo",		   /* "a:" without a name */
	    "YQ",		   /* "a" */
	    "eDp3ZWI",		   /* "x:web": unknown direction */
	    "YS13ZWI",		   /* "a-web": no colon */
	    "YTp3AGI",		   /* "a:w\0b": an embedded NUL */
	    "YTp3ZWI=",		   /* padding is not base64url-without-padding */
	    "YTp3Z WI",		   /* space */
	    "YTp3ZW+",		   /* '+' is base64, not base64url */
	    "YTp3ZW/",		   /* '/' likewise */
	    "YTp3ZWI%3D",	   /* percent-encoded */
	    "!!!!",	  "a:web", /* not encoded at all */
	    "QTp3ZWI",		   /* "A:web": the direction is lowercase */
	};
	char d = '?', name[STORE_NAME_MAX] = "untouched";

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (page_cursor_decode(bad[i], &d, name, sizeof(name)) != -1)
			fail_msg("cursor \"%s\" was accepted (dir %c name %s)", bad[i], d, name);
	assert_int_equal(d, '?');
	assert_string_equal(name, "untouched");
}

/* A cursor longer than any name could make is refused, not overrun. */
static void
test_cursor_decode_too_long(void **state)
{
	char cur[400], d = '?', name[STORE_NAME_MAX];
	char longest[STORE_NAME_MAX];

	(void)state;
	memset(cur, 'Y', sizeof(cur) - 1);
	cur[sizeof(cur) - 1] = '\0';
	assert_int_equal(page_cursor_decode(cur, &d, name, sizeof(name)), -1);
	/* the longest name (63) decodes */
	memset(longest, 'q', sizeof(longest) - 1);
	longest[sizeof(longest) - 1] = '\0';
	page_cursor_encode('a', longest, cur, sizeof(cur));
	assert_int_equal(page_cursor_decode(cur, &d, name, sizeof(name)), 0);
	assert_string_equal(name, longest);
	/* "a:" + 65 q's (67 bytes) is the most the decoder takes; the name is cut to fit */
	assert_int_equal(
	    page_cursor_decode("YTpxcXFxcXFxcXFxcXFxcXFxcXFxcXFxcXFxcXFxcXFxcXFxcXFxcXFx"
			       "cXFxcXFxcXFxcXFxcXFxcXFxcXFxcXFxcQ",
			       &d, name, sizeof(name)),
	    0);
	assert_string_equal(name, longest);
	/* "a:" + 66 q's (68 bytes) and "a:" + 70 q's are refused */
	assert_int_equal(
	    page_cursor_decode("YTpxcXFxcXFxcXFxcXFxcXFxcXFxcXFxcXFxcXFxcXFxcXFxcXFxcXFx"
			       "cXFxcXFxcXFxcXFxcXFxcXFxcXFxcXFxcXE",
			       &d, name, sizeof(name)),
	    -1);
	assert_int_equal(
	    page_cursor_decode("YTpxcXFxcXFxcXFxcXFxcXFxcXFxcXFxcXFxcXFxcXFxcXFxcXFxcXFx"
			       "cXFxcXFxcXFxcXFxcXFxcXFxcXFxcXFxcXFxcXFx",
			       &d, name, sizeof(name)),
	    -1);
	/* a small output buffer truncates the name */
	char small[4];
	assert_int_equal(page_cursor_decode("YTp3ZWJzaXRl", &d, small, sizeof(small)), 0);
	assert_string_equal(small, "web");
}

/* ------------------------------------------------------------------ page_parse */

/* A GET with up to two query parameters (NULL value: absent). */
static struct http_request
list_req(const char *limit, const char *cursor)
{
	struct http_request req;

	memset(&req, 0, sizeof(req));
	req.method = HTTP_GET;
	req.method_name = "GET";
	req.path = "/nodes";
	if (limit != NULL) {
		req.query_keys[req.n_query] = "limit";
		req.query_vals[req.n_query++] = limit;
	}
	if (cursor != NULL) {
		req.query_keys[req.n_query] = "cursor";
		req.query_vals[req.n_query++] = cursor;
	}
	return req;
}

/* Runs page_parse; returns the status (0 when accepted), the page through *p. */
static int
parse(const char *limit, const char *cursor, struct page *p)
{
	struct http_request req = list_req(limit, cursor);
	struct http_response res;
	int rc, status;

	memset(&res, 0, sizeof(res));
	rc = page_parse(&req, &res, p);
	status = res.status;
	if (rc == 0) {
		assert_int_equal(status, 0);
		assert_null(res.body);
	} else {
		assert_int_equal(rc, -1);
		assert_true(res.is_problem);
		assert_string_equal(json_string_value(json_object_get(res.body, "type")),
				    "/problems/bad-request");
	}
	http_response_clear(&res);
	return status;
}

static void
test_page_parse_limit(void **state)
{
	struct page p;

	(void)state;
	assert_int_equal(parse(NULL, NULL, &p), 0);
	assert_int_equal(p.limit, 50);
	assert_string_equal(p.after, "");
	assert_string_equal(p.before, "");
	assert_int_equal(parse("1", NULL, &p), 0);
	assert_int_equal(p.limit, 1);
	assert_int_equal(parse("500", NULL, &p), 0);
	assert_int_equal(p.limit, 500);
	assert_int_equal(parse("0", NULL, &p), 400);
	assert_int_equal(parse("501", NULL, &p), 400);
	assert_int_equal(parse("-1", NULL, &p), 400);
	assert_int_equal(parse("abc", NULL, &p), 400);
	assert_int_equal(parse("", NULL, &p), 400);
	assert_int_equal(parse("10x", NULL, &p), 400);
	assert_int_equal(parse("1.5", NULL, &p), 400);
	assert_int_equal(parse("99999999999999999999999", NULL, &p), 400);
	assert_int_equal(parse("0x10", NULL, &p), 400);

	struct http_request req = list_req("501", NULL);
	struct http_response res;
	memset(&res, 0, sizeof(res));
	assert_int_equal(page_parse(&req, &res, &p), -1);
	assert_int_equal(res.status, 400);
	assert_string_equal(json_string_value(json_object_get(res.body, "detail")),
			    "limit must be an integer from 1 to 500");
	assert_string_equal(json_string_value(json_object_get(res.body, "instance")), "/nodes");
	http_response_clear(&res);
}

static void
test_page_parse_cursor(void **state)
{
	struct page p;
	char cur[160];

	(void)state;
	page_cursor_encode('a', "lb-1", cur, sizeof(cur));
	assert_int_equal(parse("2", cur, &p), 0);
	assert_int_equal(p.limit, 2);
	assert_string_equal(p.after, "lb-1");
	assert_string_equal(p.before, "");
	page_cursor_encode('b', "lb-9", cur, sizeof(cur));
	assert_int_equal(parse(NULL, cur, &p), 0);
	assert_int_equal(p.limit, 50);
	assert_string_equal(p.after, "");
	assert_string_equal(p.before, "lb-9");
	assert_int_equal(parse(NULL, "garbage!", &p), 400);
	assert_int_equal(parse(NULL, "", &p), 400);
	assert_int_equal(parse(NULL, "eDp3ZWI", &p), 400);

	struct http_request req = list_req(NULL, "YTo");
	struct http_response res;
	memset(&res, 0, sizeof(res));
	assert_int_equal(page_parse(&req, &res, &p), -1);
	assert_string_equal(json_string_value(json_object_get(res.body, "detail")),
			    "cursor is not valid");
	http_response_clear(&res);
}

/* ------------------------------------------------------------------ page_links */

static const char *
href(const json_t *repr, const char *rel)
{
	return json_string_value(
	    json_object_get(json_object_get(json_object_get(repr, "_links"), rel), "href"));
}

static void
test_page_links_first_page(void **state)
{
	struct page p = {.limit = 2};
	struct http_response res;
	json_t *r = json_object();
	char next[160], want[512];

	(void)state;
	memset(&res, 0, sizeof(res));
	page_links(r, &res, "/nodes", &p, "a", "b", false, true);
	page_cursor_encode('a', "b", next, sizeof(next));
	assert_string_equal(next, "YTpi");
	assert_string_equal(href(r, "self"), "/nodes?limit=2");
	assert_string_equal(href(r, "first"), "/nodes?limit=2");
	assert_string_equal(href(r, "next"), "/nodes?limit=2&cursor=YTpi");
	assert_null(href(r, "prev"));
	assert_int_equal(json_object_size(json_object_get(r, "_links")), 3);
	/* RFC 8288 3: "<" URI-Reference ">" *( OWS ";" OWS link-param ), comma separated */
	snprintf(want, sizeof(want),
		 "</nodes?limit=2>; rel=\"self\", </nodes?limit=2>; "
		 "rel=\"first\", </nodes?limit=2&cursor=YTpi>; rel=\"next\"");
	assert_string_equal(res.link_header, want);
	json_decref(r);
	http_response_clear(&res);
}

static void
test_page_links_middle_page(void **state)
{
	struct page p = {.limit = 2};
	struct http_response res;
	json_t *r = json_object();

	(void)state;
	snprintf(p.after, sizeof(p.after), "b");
	memset(&res, 0, sizeof(res));
	res.link_header = strdup("stale"); /* replaced, not leaked */
	page_links(r, &res, "/nodes", &p, "c", "d", true, true);
	/* self carries the cursor this page was asked with */
	assert_string_equal(href(r, "self"), "/nodes?limit=2&cursor=YTpi");
	assert_string_equal(href(r, "first"), "/nodes?limit=2");
	assert_string_equal(href(r, "next"), "/nodes?limit=2&cursor=YTpk"); /* a:d */
	assert_string_equal(href(r, "prev"), "/nodes?limit=2&cursor=Yjpj"); /* b:c */
	assert_string_equal(res.link_header,
			    "</nodes?limit=2&cursor=YTpi>; rel=\"self\", </nodes?limit=2>; "
			    "rel=\"first\", </nodes?limit=2&cursor=YTpk>; rel=\"next\", "
			    "</nodes?limit=2&cursor=Yjpj>; rel=\"prev\"");
	json_decref(r);
	http_response_clear(&res);
}

static void
test_page_links_backwards_and_filter(void **state)
{
	struct page p = {.limit = 10};
	struct http_response res;
	json_t *r = json_object();

	(void)state;
	snprintf(p.before, sizeof(p.before), "lb1");
	memset(&res, 0, sizeof(res));
	/* a filter already in the base: parameters join with '&' */
	page_links(r, &res, "/vips?node=lb1", &p, "a", "web", false, true);
	assert_string_equal(href(r, "self"), "/vips?node=lb1&limit=10&cursor=YjpsYjE");
	assert_string_equal(href(r, "first"), "/vips?node=lb1&limit=10");
	assert_string_equal(href(r, "next"), "/vips?node=lb1&limit=10&cursor=YTp3ZWI");
	assert_null(href(r, "prev"));
	assert_string_equal(res.link_header,
			    "</vips?node=lb1&limit=10&cursor=YjpsYjE>; rel=\"self\", "
			    "</vips?node=lb1&limit=10>; rel=\"first\", "
			    "</vips?node=lb1&limit=10&cursor=YTp3ZWI>; rel=\"next\"");
	json_decref(r);
	http_response_clear(&res);
}

static void
test_page_links_single_and_empty(void **state)
{
	struct page p = {.limit = 50};
	struct http_response res;
	json_t *r = json_object();

	(void)state;
	memset(&res, 0, sizeof(res));
	/* the only page: no next or prev, even when asked, without names */
	page_links(r, &res, "/checks", &p, NULL, NULL, true, true);
	assert_string_equal(href(r, "self"), "/checks?limit=50");
	assert_string_equal(href(r, "first"), "/checks?limit=50");
	assert_null(href(r, "next"));
	assert_null(href(r, "prev"));
	assert_string_equal(res.link_header,
			    "</checks?limit=50>; rel=\"self\", </checks?limit=50>; rel=\"first\"");
	json_decref(r);
	http_response_clear(&res);

	r = json_object();
	page_links(r, &res, "/checks", &p, "a", "z", false, false);
	assert_null(href(r, "next"));
	assert_null(href(r, "prev"));
	assert_int_equal(json_object_size(json_object_get(r, "_links")), 2);
	json_decref(r);
	http_response_clear(&res);
}

/* The links of one page, followed, lead to the neighbouring pages (through page_parse). */
static void
test_page_links_follow(void **state)
{
	struct page p = {.limit = 3}, q;
	struct http_response res;
	json_t *r = json_object();
	const char *h, *c;

	(void)state;
	memset(&res, 0, sizeof(res));
	page_links(r, &res, "/backends", &p, "be-1", "be-3", false, true);
	h = href(r, "next");
	c = strstr(h, "cursor=");
	assert_non_null(c);
	assert_int_equal(parse("3", c + 7, &q), 0);
	assert_string_equal(q.after, "be-3");
	assert_string_equal(q.before, "");
	json_decref(r);
	http_response_clear(&res);

	r = json_object();
	page_links(r, &res, "/backends", &q, "be-4", "be-6", true, true);
	h = href(r, "prev");
	c = strstr(h, "cursor=");
	assert_non_null(c);
	assert_int_equal(parse("3", c + 7, &q), 0);
	assert_string_equal(q.after, "");
	assert_string_equal(q.before, "be-4");
	json_decref(r);
	http_response_clear(&res);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_cursor_encode_known),
	    cmocka_unit_test(test_cursor_round_trip),
	    cmocka_unit_test(test_cursor_decode_rejects),
	    cmocka_unit_test(test_cursor_decode_too_long),
	    cmocka_unit_test(test_page_parse_limit),
	    cmocka_unit_test(test_page_parse_cursor),
	    cmocka_unit_test(test_page_links_first_page),
	    cmocka_unit_test(test_page_links_middle_page),
	    cmocka_unit_test(test_page_links_backwards_and_filter),
	    cmocka_unit_test(test_page_links_single_and_empty),
	    cmocka_unit_test(test_page_links_follow),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
