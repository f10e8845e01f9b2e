// links: server/http.c server/validate.c common/clock.c
/* HTTP semantics without the wire (server/http.c): content negotiation (RFC 9110 12.5.1),
 * entity-tag comparison and write preconditions (RFC 9110 8.8.3, 13.1, 13.2.2), request bodies
 * (400/415), problem details (RFC 9457), the Allow header, HAL links, timestamps and query
 * escaping. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "http.h"
#include "store.h"
#include "unit_json.h"

static const char *
str_member(const json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));

	if (s == NULL)
		fail_msg("member %s is not a string", key);
	return s;
}

/* Asserts that res holds a problem with this status and type slug. */
static void
assert_problem(const struct http_response *res, int status, const char *slug)
{
	char type[96];

	snprintf(type, sizeof(type), "/problems/%s", slug);
	assert_int_equal(res->status, status);
	assert_true(res->is_problem);
	assert_string_equal(res->content_type, MT_PROBLEM);
	assert_true(res->no_cache_headers);
	assert_non_null(res->body);
	assert_string_equal(str_member(res->body, "type"), type);
	assert_int_equal(json_integer_value(json_object_get(res->body, "status")), status);
}

/* ------------------------------------------------------------------ negotiation */

static const char *const offered[] = {MT_HAL, MT_JSON};

static void
test_negotiate_basic(void **state)
{
	(void)state;
	/* no Accept, or an empty one: anything goes, the server's first choice wins */
	assert_int_equal(http_negotiate(NULL, offered, 2), 0);
	assert_int_equal(http_negotiate("", offered, 2), 0);
	assert_int_equal(http_negotiate("application/json", offered, 2), 1);
	assert_int_equal(http_negotiate("application/hal+json", offered, 2), 0);
	assert_int_equal(http_negotiate("APPLICATION/JSON", offered, 2), 1); /* case-insensitive */
	assert_int_equal(http_negotiate("application/json; charset=utf-8", offered, 2), 1);
	assert_int_equal(http_negotiate("text/html, application/json", offered, 2), 1);
	/* unsupported: 406 */
	assert_int_equal(http_negotiate("text/html", offered, 2), -1);
	assert_int_equal(http_negotiate("text/*", offered, 2), -1);
	assert_int_equal(http_negotiate("application/xml", offered, 2), -1);
	assert_int_equal(http_negotiate("application/jsonx", offered, 2), -1);
	assert_int_equal(http_negotiate("json", offered, 2), -1);
}

static void
test_negotiate_wildcards(void **state)
{
	(void)state;
	assert_int_equal(http_negotiate("*/*", offered, 2), 0);
	assert_int_equal(http_negotiate("application/*", offered, 2), 0);
	/* a browser's Accept */
	assert_int_equal(http_negotiate("text/html,application/xhtml+xml,application/xml;q=0.9,"
					"*/*;q=0.8",
					offered, 2),
			 0);
	/* curl's default */
	assert_int_equal(http_negotiate("*/*", offered + 1, 1), 0);
}

static void
test_negotiate_qvalues(void **state)
{
	(void)state;
	assert_int_equal(http_negotiate("application/hal+json;q=0.5, application/json", offered, 2),
			 1);
	assert_int_equal(
	    http_negotiate("application/json;q=0.5, application/hal+json;q=0.9", offered, 2), 0);
	assert_int_equal(
	    http_negotiate("application/json; q=0.9, application/hal+json ; q=0.8", offered, 2), 1);
	assert_int_equal(
	    http_negotiate("application/json;Q=0.9, application/hal+json;q=0.8", offered, 2), 1);
	/* the most specific range sets the quality (RFC 9110 12.5.1) */
	assert_int_equal(
	    http_negotiate("application/*;q=0.9, application/hal+json;q=0.1", offered, 2), 1);
	assert_int_equal(http_negotiate("*/*;q=0.1, application/json;q=0.2", offered, 2), 1);
	/* parameters before q */
	assert_int_equal(http_negotiate("application/hal+json;charset=utf-8;q=0.2, "
					"application/json;q=0.3",
					offered, 2),
			 1);
	/* equal quality: the server's order decides */
	assert_int_equal(http_negotiate("application/json, application/hal+json", offered, 2), 0);
}

static void
test_negotiate_refusal(void **state)
{
	(void)state;
	/* q=0 means "not acceptable", also when a wildcard would allow it */
	assert_int_equal(http_negotiate("application/hal+json;q=0, */*", offered, 2), 1);
	assert_int_equal(http_negotiate("application/json;q=0, application/*", offered, 2), 0);
	assert_int_equal(http_negotiate("application/json;q=0", offered, 2), -1);
	assert_int_equal(http_negotiate("application/json;q=0.000", offered + 1, 1), -1);
	assert_int_equal(http_negotiate("*/*;q=0", offered, 2), -1);
	assert_int_equal(http_negotiate("application/*;q=0, text/html", offered, 2), -1);
	assert_int_equal(
	    http_negotiate("application/json;q=0, application/hal+json;q=0", offered, 2), -1);
}

/* ------------------------------------------------------------------ entity tags */

#define ETAG "\"0123456789abcdef\""

static void
test_etag_compute(void **state)
{
	char e[24];
	json_t *v;

	(void)state;
	/* known answers, computed independently (FNV-1a 64 and the avalanche, in Python) */
	http_etag_bytes("", 0, e);
	assert_string_equal(e, "\"ecba3df2c3383c52\"");
	http_etag_bytes("hello", 5, e);
	assert_string_equal(e, "\"c8c76d8999b8ebcc\"");
	/* a JSON value's tag is the tag of its compact text */
	v = J("{'a':1}");
	http_etag_json(v, e);
	assert_string_equal(e, "\"d37edf12a2b6941a\"");
	json_decref(v);
	v = J("{ }");
	http_etag_json(v, e);
	assert_string_equal(e, "\"d8b028930fd9aba7\"");
	json_decref(v);
	v = J("{'a':2}");
	http_etag_json(v, e);
	assert_string_not_equal(e, "\"d37edf12a2b6941a\"");
	assert_int_equal(strlen(e), 18);
	json_decref(v);
}

static void
test_etag_matches(void **state)
{
	(void)state;
	assert_true(http_etag_matches(ETAG, ETAG, true));
	/* If-None-Match uses the weak comparison: W/ is ignored */
	assert_true(http_etag_matches("W/" ETAG, ETAG, true));
	assert_true(http_etag_matches("\"x\", " ETAG, ETAG, true));
	assert_true(http_etag_matches("\"x\",W/" ETAG ",\"y\"", ETAG, true));
	assert_true(http_etag_matches("  \"x\" ,\t" ETAG "  ", ETAG, true));
	assert_true(http_etag_matches("*", ETAG, true));
	assert_false(http_etag_matches("*", "", false));
	assert_false(http_etag_matches(ETAG, ETAG, false)); /* nothing matches what is absent */
	assert_false(http_etag_matches("\"0123456789abcde\"", ETAG, true));
	assert_false(http_etag_matches("\"0123456789abcdef0\"", ETAG, true));
	assert_false(http_etag_matches("\"0123456789ABCDEF\"", ETAG, true)); /* case matters */
	assert_false(http_etag_matches("0123456789abcdef", ETAG, true));     /* unquoted */
	assert_false(http_etag_matches("\"0123456789abcdef", ETAG, true));   /* unterminated */
	assert_false(http_etag_matches("w/" ETAG, ETAG, true));		     /* W is uppercase */
	assert_false(http_etag_matches("", ETAG, true));
	assert_false(http_etag_matches("\"a\", \"b\"", ETAG, true));
}

/* A request with these conditional headers (NULL: absent). */
static struct http_request
cond_req(const char *if_match, const char *if_none_match)
{
	struct http_request req;

	memset(&req, 0, sizeof(req));
	req.method = HTTP_PUT;
	req.method_name = "PUT";
	req.path = "/vips/web";
	req.if_match = if_match;
	req.if_none_match = if_none_match;
	return req;
}

/* Runs the write preconditions; returns the status (0 when the write may proceed). */
static int
precond(const char *if_match, const char *if_none_match, bool exists)
{
	struct http_request req = cond_req(if_match, if_none_match);
	struct http_response res;
	int rc, status;

	memset(&res, 0, sizeof(res));
	rc = http_check_write_preconditions(&req, &res, exists, exists ? ETAG : "");
	status = res.status;
	if (rc == 0) {
		assert_int_equal(status, 0);
		assert_null(res.body);
	} else {
		assert_int_equal(rc, -1);
		assert_true(res.is_problem);
	}
	http_response_clear(&res);
	return status;
}

static void
test_preconditions_if_match(void **state)
{
	(void)state;
	assert_int_equal(precond(NULL, NULL, true), 0);
	assert_int_equal(precond(NULL, NULL, false), 0);
	assert_int_equal(precond(ETAG, NULL, true), 0);
	assert_int_equal(precond("\"old\", " ETAG, NULL, true), 0);
	assert_int_equal(precond("*", NULL, true), 0);
	/* If-Match uses the strong comparison: a weak tag never matches (RFC 9110 13.1.1) */
	assert_int_equal(precond("W/" ETAG, NULL, true), 412);
	assert_int_equal(precond("\"old\"", NULL, true), 412);
	assert_int_equal(precond("\"old\", W/" ETAG, NULL, true), 412);
	/* nothing to match: a specific tag or "*" on an absent resource */
	assert_int_equal(precond(ETAG, NULL, false), 412);
	assert_int_equal(precond("*", NULL, false), 412);
}

static void
test_preconditions_if_none_match(void **state)
{
	(void)state;
	/* If-None-Match: * is "create only" */
	assert_int_equal(precond(NULL, "*", true), 412);
	assert_int_equal(precond(NULL, "*", false), 0);
	/* a matching tag on a write fails (RFC 9110 13.1.2), weakly compared */
	assert_int_equal(precond(NULL, ETAG, true), 412);
	assert_int_equal(precond(NULL, "W/" ETAG, true), 412);
	assert_int_equal(precond(NULL, "\"a\", " ETAG, true), 412);
	assert_int_equal(precond(NULL, "\"old\"", true), 0);
	assert_int_equal(precond(NULL, ETAG, false), 0);
	/* both: If-Match is evaluated first (RFC 9110 13.2.2) */
	assert_int_equal(precond("\"old\"", "\"other\"", true), 412);
	assert_int_equal(precond(ETAG, "\"other\"", true), 0);
	assert_int_equal(precond(ETAG, "*", true), 412);
}

static void
test_preconditions_details(void **state)
{
	struct http_request req = cond_req("\"old\"", NULL);
	struct http_response res;

	(void)state;
	memset(&res, 0, sizeof(res));
	assert_int_equal(http_check_write_preconditions(&req, &res, true, ETAG), -1);
	assert_problem(&res, 412, "precondition-failed");
	assert_string_equal(str_member(res.body, "detail"),
			    "the resource has changed: its ETag is now " ETAG);
	assert_string_equal(str_member(res.body, "instance"), "/vips/web");
	http_response_clear(&res);

	req = cond_req("*", NULL);
	assert_int_equal(http_check_write_preconditions(&req, &res, false, ""), -1);
	assert_problem(&res, 412, "precondition-failed");
	assert_string_equal(str_member(res.body, "detail"), "the resource does not exist");
	http_response_clear(&res);

	req = cond_req(NULL, "*");
	assert_int_equal(http_check_write_preconditions(&req, &res, true, ETAG), -1);
	assert_problem(&res, 412, "precondition-failed");
	assert_string_equal(str_member(res.body, "detail"),
			    "the resource exists and If-None-Match forbids replacing it");
	http_response_clear(&res);
}

static void
test_preconditions_require_if_match(void **state)
{
	struct http_request req = cond_req(NULL, NULL);
	struct http_response res;

	(void)state;
	http_opts.require_if_match = true;
	assert_int_equal(precond(NULL, NULL, true), 428);
	assert_int_equal(precond(NULL, NULL, false), 0); /* a create needs no If-Match */
	assert_int_equal(precond(NULL, "*", false), 0);
	assert_int_equal(precond(ETAG, NULL, true), 0);
	assert_int_equal(precond("*", NULL, true), 0);
	assert_int_equal(precond("\"old\"", NULL, true), 412);
	memset(&res, 0, sizeof(res));
	assert_int_equal(http_check_write_preconditions(&req, &res, true, ETAG), -1);
	assert_problem(&res, 428, "precondition-required");
	assert_string_equal(str_member(res.body, "title"), "Precondition Required");
	http_response_clear(&res);
	http_opts.require_if_match = false;
	assert_int_equal(precond(NULL, NULL, true), 0);
}

/* ------------------------------------------------------------------ request bodies */

/* Parses body (len bytes) sent with content type ct; returns the status (0 when accepted) and
 * the parsed object through *out (NULL when refused). */
static int
parse(const char *ct, const char *body, size_t len, bool merge_patch, json_t **out)
{
	struct http_request req;
	struct http_response res;
	int status;

	memset(&req, 0, sizeof(req));
	memset(&res, 0, sizeof(res));
	req.method = merge_patch ? HTTP_PATCH : HTTP_PUT;
	req.path = "/nodes/a";
	req.content_type = ct;
	req.body = body;
	req.body_len = len;
	*out = http_parse_body(&req, &res, merge_patch);
	status = res.status;
	if (*out == NULL) {
		assert_true(status == 400 || status == 415);
		assert_problem(&res, status,
			       status == 400 ? "malformed-json" : "unsupported-media-type");
	} else {
		assert_int_equal(status, 0);
		assert_null(res.body);
	}
	http_response_clear(&res);
	return status;
}

/* Status of body (a C string) sent as application/json to PUT. */
static int
put_status(const char *body)
{
	json_t *v;
	int status = parse(MT_JSON, body, strlen(body), false, &v);

	json_decref(v);
	return status;
}

static void
test_body_content_type(void **state)
{
	json_t *v;
	const char *b = "{\"a\":1}";

	(void)state;
	assert_int_equal(parse(NULL, b, strlen(b), false, &v), 415);
	assert_int_equal(parse("", b, strlen(b), false, &v), 415);
	assert_int_equal(parse("text/plain", b, strlen(b), false, &v), 415);
	assert_int_equal(parse("application/x-www-form-urlencoded", b, strlen(b), false, &v), 415);
	assert_int_equal(parse("application/jsonx", b, strlen(b), false, &v), 415);
	assert_int_equal(parse("application/problem+json", b, strlen(b), false, &v), 415);
	assert_int_equal(parse(MT_MERGE_PATCH, b, strlen(b), false, &v), 415);
	/* PATCH takes merge patches only */
	assert_int_equal(parse(MT_JSON, b, strlen(b), true, &v), 415);
	assert_int_equal(parse(MT_HAL, b, strlen(b), true, &v), 415);
	/* the 415 is checked before the body: an empty body with a wrong type is still 415 */
	assert_int_equal(parse("text/plain", "", 0, false, &v), 415);

	assert_int_equal(parse(MT_JSON, b, strlen(b), false, &v), 0);
	assert_json(v, "{'a':1}");
	json_decref(v);
	assert_int_equal(parse(MT_HAL, b, strlen(b), false, &v), 0);
	json_decref(v);
	assert_int_equal(parse("application/json; charset=utf-8", b, strlen(b), false, &v), 0);
	json_decref(v);
	assert_int_equal(parse("Application/JSON;charset=UTF-8", b, strlen(b), false, &v), 0);
	json_decref(v);
	assert_int_equal(parse(MT_MERGE_PATCH, b, strlen(b), true, &v), 0);
	json_decref(v);
	assert_int_equal(
	    parse("application/merge-patch+json; charset=utf-8", b, strlen(b), true, &v), 0);
	json_decref(v);
}

static void
test_body_415_details(void **state)
{
	struct http_request req;
	struct http_response res;

	(void)state;
	memset(&req, 0, sizeof(req));
	memset(&res, 0, sizeof(res));
	req.path = "/nodes/a";
	req.content_type = MT_JSON;
	req.body = "{}";
	req.body_len = 2;
	assert_null(http_parse_body(&req, &res, true));
	assert_problem(&res, 415, "unsupported-media-type");
	assert_string_equal(str_member(res.body, "detail"),
			    "send the body as application/merge-patch+json");
	/* RFC 5789 3.1: a 415 to PATCH says which patch formats are accepted */
	assert_string_equal(res.extra_name, "Accept-Patch");
	assert_string_equal(res.extra_value, MT_MERGE_PATCH);
	http_response_clear(&res);

	req.content_type = "text/plain";
	assert_null(http_parse_body(&req, &res, false));
	assert_problem(&res, 415, "unsupported-media-type");
	assert_string_equal(str_member(res.body, "detail"), "send the body as application/json");
	assert_null(res.extra_name);
	http_response_clear(&res);
}

static void
test_body_malformed(void **state)
{
	json_t *v;

	(void)state;
	assert_int_equal(put_status(""), 400);
	assert_int_equal(parse(MT_JSON, NULL, 0, false, &v), 400);
	assert_int_equal(put_status("{"), 400);
	assert_int_equal(put_status("{\"a\":}"), 400);
	assert_int_equal(put_status("{'a':1}"), 400);
	assert_int_equal(put_status("{\"a\":1,}"), 400);
	assert_int_equal(put_status("{\"a\":1,\"a\":2}"), 400);		/* duplicate key */
	assert_int_equal(put_status("{\"a\":{\"b\":1,\"b\":1}}"), 400); /* nested duplicate */
	assert_int_equal(put_status("{\"a\":\"x\\u0000y\"}"), 400);	/* escaped NUL */
	assert_int_equal(put_status("{\"a\\u0000\":1}"), 400);		/* NUL in a key */
	assert_int_equal(put_status("{\"a\":\"\xff\"}"), 400);		/* invalid UTF-8 */
	assert_int_equal(put_status("{\"a\":\"\xc0\xaf\"}"), 400);	/* overlong */
	assert_int_equal(put_status("{\"a\":\"\xed\xa0\x80\"}"), 400);	/* encoded surrogate */
	assert_int_equal(put_status("{\"a\":\"\xc3\"}"), 400);		/* truncated sequence */
	assert_int_equal(put_status("{\"a\":\"\\ud800\"}"), 400);	/* lone surrogate */
	assert_int_equal(put_status("{\"\xfe\":1}"), 400);		/* invalid UTF-8 key */
	assert_int_equal(put_status("{} x"), 400);			/* trailing garbage */
	assert_int_equal(put_status("{}{}"), 400);
	assert_int_equal(put_status("{},"), 400);
	assert_int_equal(put_status("[]"), 400); /* not an object */
	assert_int_equal(put_status("[{}]"), 400);
	assert_int_equal(put_status("1"), 400);
	assert_int_equal(put_status("\"s\""), 400);
	assert_int_equal(put_status("null"), 400);
	assert_int_equal(put_status("   "), 400);
	/* raw NUL bytes inside the counted body */
	assert_int_equal(parse(MT_JSON, "{\"a\":\"x\0y\"}", 11, false, &v), 400);
	assert_int_equal(parse(MT_JSON, "{\"a\":1}\0", 8, false, &v), 400);
	/* valid UTF-8 and trailing whitespace are fine */
	assert_int_equal(put_status("{\"a\":\"caf\xc3\xa9 \xf0\x9f\x98\x80\"} \r\n\t"), 0);
	assert_int_equal(put_status("{\"a\":\"\\ud83d\\ude00\"}"), 0);
	/* only body_len bytes are read: what follows is not the body */
	assert_int_equal(parse(MT_JSON, "{\"a\":1}garbage", 7, false, &v), 0);
	assert_json(v, "{'a':1}");
	json_decref(v);
}

static void
test_body_400_details(void **state)
{
	struct http_request req;
	struct http_response res;

	(void)state;
	memset(&req, 0, sizeof(req));
	memset(&res, 0, sizeof(res));
	req.path = "/nodes/a";
	req.content_type = MT_JSON;
	req.body = "";
	assert_null(http_parse_body(&req, &res, false));
	assert_problem(&res, 400, "malformed-json");
	assert_string_equal(str_member(res.body, "detail"), "the request has no body");
	assert_string_equal(str_member(res.body, "title"), "Bad Request");
	http_response_clear(&res);

	req.body = "[]";
	req.body_len = 2;
	assert_null(http_parse_body(&req, &res, false));
	assert_string_equal(str_member(res.body, "detail"), "the body must be a JSON object");
	http_response_clear(&res);

	req.body = "{\"a\":1,\"a\":2}";
	req.body_len = strlen(req.body);
	assert_null(http_parse_body(&req, &res, false));
	/* jansson's message, with line and column */
	assert_string_equal(str_member(res.body, "detail"),
			    "line 1 column 10: duplicate object key near '\"a\"'");
	http_response_clear(&res);
}

/* An object nested depth levels deep ({} is 1), as text in buf. */
static const char *
nested(char *buf, size_t len, int depth, bool arrays)
{
	size_t o = 0;

	o += (size_t)snprintf(buf + o, len - o, "{\"a\":");
	for (int i = 1; i < depth; i++)
		o += (size_t)snprintf(buf + o, len - o, arrays && i % 2 ? "[" : "{\"a\":");
	o += (size_t)snprintf(buf + o, len - o, "1");
	for (int i = depth - 1; i >= 1; i--)
		o += (size_t)snprintf(buf + o, len - o, arrays && i % 2 ? "]" : "}");
	snprintf(buf + o, len - o, "}");
	return buf;
}

static void
test_body_depth(void **state)
{
	char buf[512];
	struct http_request req;
	struct http_response res;

	(void)state;
	assert_string_equal(nested(buf, sizeof(buf), 2, false), "{\"a\":{\"a\":1}}");
	assert_string_equal(nested(buf, sizeof(buf), 3, true), "{\"a\":[{\"a\":1}]}");
	assert_int_equal(put_status("{}"), 0);
	assert_int_equal(put_status(nested(buf, sizeof(buf), HTTP_MAX_DEPTH, false)), 0);
	assert_int_equal(put_status(nested(buf, sizeof(buf), HTTP_MAX_DEPTH + 1, false)), 400);
	assert_int_equal(put_status(nested(buf, sizeof(buf), HTTP_MAX_DEPTH, true)), 0);
	assert_int_equal(put_status(nested(buf, sizeof(buf), HTTP_MAX_DEPTH + 1, true)), 400);
	assert_int_equal(put_status(nested(buf, sizeof(buf), 40, true)), 400);
	/* depth counts the deepest branch, not the first */
	assert_int_equal(put_status("{\"a\":1,\"b\":[[[[[[[[1]]]]]]]]}"), 400);
	assert_int_equal(put_status("{\"a\":1,\"b\":[[[[[[[1]]]]]]]}"), 0);
	assert_int_equal(put_status("{\"b\":[[[[[[[[]]]]]]]]}"), 400); /* empty ones count */

	memset(&req, 0, sizeof(req));
	memset(&res, 0, sizeof(res));
	req.content_type = MT_JSON;
	req.body = nested(buf, sizeof(buf), 9, false);
	req.body_len = strlen(buf);
	assert_null(http_parse_body(&req, &res, false));
	assert_problem(&res, 400, "malformed-json");
	assert_string_equal(str_member(res.body, "detail"), "nesting deeper than 8 levels");
	assert_null(json_object_get(res.body, "instance")); /* no path: no instance */
	http_response_clear(&res);
}

/* ------------------------------------------------------------------ problems */

static void
test_problem_fields(void **state)
{
	struct http_request req;
	struct http_response res;
	char big[700];

	(void)state;
	memset(&req, 0, sizeof(req));
	memset(&res, 0, sizeof(res));
	req.path = "/vips/web";
	/* a previous body, text, ETag and Last-Modified are replaced (ASan checks no leak) */
	res.body = json_object();
	res.text = strdup("old");
	snprintf(res.etag, sizeof(res.etag), "%s", ETAG);
	res.last_modified_ms = 5;
	assert_int_equal(http_problem(&res, &req, 404, "not-found", "vip %s does not exist", "web"),
			 -1);
	assert_json(res.body, "{'type':'/problems/not-found','title':'Not Found','status':404,"
			      "'detail':'vip web does not exist','instance':'/vips/web'}");
	assert_int_equal(res.status, 404);
	assert_true(res.is_problem);
	assert_string_equal(res.content_type, MT_PROBLEM);
	assert_true(res.no_cache_headers);
	assert_null(res.text);
	assert_string_equal(res.etag, "");
	assert_int_equal(res.last_modified_ms, 0);
	http_response_clear(&res);

	/* without a request there is no instance; an unknown status has a generic title */
	assert_int_equal(http_problem(&res, NULL, 418, "teapot", "short and stout"), -1);
	assert_json(res.body, "{'type':'/problems/teapot','title':'Error','status':418,"
			      "'detail':'short and stout'}");
	http_response_clear(&res);

	static const struct {
		int status;
		const char *title;
	} titles[] = {
	    {400, "Bad Request"},
	    {401, "Unauthorized"},
	    {403, "Forbidden"},
	    {405, "Method Not Allowed"},
	    {406, "Not Acceptable"},
	    {409, "Conflict"},
	    {410, "Gone"},
	    {412, "Precondition Failed"},
	    {413, "Content Too Large"},
	    {415, "Unsupported Media Type"},
	    {422, "Unprocessable Content"},
	    {428, "Precondition Required"},
	    {500, "Internal Server Error"},
	    {501, "Not Implemented"},
	    {503, "Service Unavailable"},
	};
	for (size_t i = 0; i < sizeof(titles) / sizeof(titles[0]); i++) {
		http_problem(&res, &req, titles[i].status, "x", "d");
		assert_string_equal(str_member(res.body, "title"), titles[i].title);
		assert_int_equal(json_integer_value(json_object_get(res.body, "status")),
				 titles[i].status);
		http_response_clear(&res);
	}

	/* a long detail is cut, not overrun */
	memset(big, 'd', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	http_problem(&res, &req, 400, "bad-request", "%s", big);
	assert_int_equal(strlen(str_member(res.body, "detail")), 511);
	http_response_clear(&res);
}

static void
test_problem_validation(void **state)
{
	struct http_request req;
	struct http_response res;
	struct verr e = {0};

	(void)state;
	memset(&req, 0, sizeof(req));
	memset(&res, 0, sizeof(res));
	req.path = "/vips";
	verr_add(&e, "/vrid", "must be between 1 and 255");
	verr_add(&e, "/members/0/node", "node lb9 does not exist");
	assert_int_equal(http_problem_validation(&res, &req, &e), -1);
	assert_null(e.list); /* consumed */
	assert_json(res.body, "{'type':'/problems/validation','title':'Unprocessable Content',"
			      "'status':422,'detail':'2 invalid fields, first /vrid: see errors',"
			      "'instance':'/vips','errors':["
			      "{'pointer':'/vrid','detail':'must be between 1 and 255'},"
			      "{'pointer':'/members/0/node','detail':'node lb9 does not exist'}]}");
	http_response_clear(&res);

	verr_add(&e, "/name", "is required");
	http_problem_validation(&res, &req, &e);
	assert_string_equal(str_member(res.body, "detail"),
			    "1 invalid field, first /name: see errors");
	http_response_clear(&res);

	/* no errors at all still gives a well-formed problem with an empty list */
	http_problem_validation(&res, &req, &e);
	assert_problem(&res, 422, "validation");
	assert_string_equal(str_member(res.body, "detail"), "0 invalid fields");
	assert_json(json_object_get(res.body, "errors"), "[]");
	http_response_clear(&res);
}

static void
test_problem_method_and_store(void **state)
{
	struct http_request req;
	struct http_response res;

	(void)state;
	memset(&req, 0, sizeof(req));
	memset(&res, 0, sizeof(res));
	req.path = "/vips";
	req.method_name = "PUT";
	assert_int_equal(http_problem_method(&res, &req, HTTP_GET | HTTP_HEAD | HTTP_POST), -1);
	assert_problem(&res, 405, "method-not-allowed");
	assert_string_equal(str_member(res.body, "detail"), "PUT is not allowed on /vips");
	assert_string_equal(res.allow, "GET, HEAD, POST");
	http_response_clear(&res);

	static const struct {
		int rc, status;
		const char *slug, *detail_in, *detail_out;
	} map[] = {
	    {STORE_NOTFOUND, 404, "not-found", NULL, "no such resource"},
	    {STORE_NOTFOUND, 404, "not-found", "", "no such resource"},
	    {STORE_NOTFOUND, 404, "not-found", "vip x", "vip x"},
	    {STORE_EXISTS, 409, "conflict", "node a already exists", "node a already exists"},
	    {STORE_UNIQUE, 409, "conflict", "vrid:eth0:51 is held", "vrid:eth0:51 is held"},
	    {STORE_REFERENCED, 409, "conflict", NULL, "conflict"},
	    {STORE_GONE, 410, "gone", NULL, "gone"},
	    {STORE_BUSY, 503, "unavailable", "ignored", "the store is busy; retry"},
	    {STORE_ERROR, 500, "internal", "secret sql text", "store error"},
	    {STORE_DANGLING, 500, "internal", NULL, "store error"},
	};
	for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++) {
		assert_int_equal(http_problem_store(&res, &req, map[i].rc, map[i].detail_in), -1);
		assert_problem(&res, map[i].status, map[i].slug);
		assert_string_equal(str_member(res.body, "detail"), map[i].detail_out);
		http_response_clear(&res);
	}
}

static void
test_allow_string(void **state)
{
	char buf[80], small[12];

	(void)state;
	http_allow_string(0, buf, sizeof(buf));
	assert_string_equal(buf, "");
	http_allow_string(HTTP_GET, buf, sizeof(buf));
	assert_string_equal(buf, "GET");
	http_allow_string(HTTP_OPTIONS | HTTP_PUT | HTTP_GET | HTTP_HEAD, buf, sizeof(buf));
	assert_string_equal(buf, "GET, HEAD, PUT, OPTIONS");
	http_allow_string(0xff, buf, sizeof(buf)); /* HTTP_UNKNOWN is never allowed */
	assert_string_equal(buf, "GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS");
	http_allow_string(HTTP_DELETE | HTTP_PATCH, buf, sizeof(buf));
	assert_string_equal(buf, "PATCH, DELETE");
	/* a short buffer is cut and terminated, never overrun */
	memset(small, 'X', sizeof(small));
	http_allow_string(HTTP_GET | HTTP_HEAD | HTTP_POST | HTTP_PUT, small, 8);
	assert_string_equal(small, "GET, HE");
	assert_memory_equal(small + 8, "XXXX", 4);
}

/* ------------------------------------------------------------------ HAL */

static void
test_hal(void **state)
{
	json_t *r = J("{'name':'web'}");

	(void)state;
	hal_link(r, "self", "/vips/%s", "web");
	hal_link(r, "collection", "/vips");
	assert_json(r, "{'name':'web','_links':{'self':{'href':'/vips/web'},"
		       "'collection':{'href':'/vips'}}}");
	/* the same rel again replaces it */
	hal_link(r, "self", "/vips/%s?x=%d", "web", 2);
	assert_json(json_object_get(json_object_get(r, "_links"), "self"),
		    "{'href':'/vips/web?x=2'}");
	assert_ptr_equal(hal_links(r), json_object_get(r, "_links"));
	json_decref(r);

	r = json_object();
	hal_link_templated(r, "vg:find", "/vips{?node}");
	hal_add_curies(r);
	assert_json(r, "{'_links':{'vg:find':{'href':'/vips{?node}','templated':true},"
		       "'curies':[{'name':'vg','href':'/rels/{rel}','templated':true}]}}");
	json_decref(r);

	r = json_object();
	hal_link_array_add(r, "vg:member", "/nodes/lb1", "lb1", "preferred");
	hal_link_array_add(r, "vg:member", "/nodes/lb2", "lb2", NULL);
	hal_link_array_add(r, "vg:member", "/nodes/lb3", NULL, NULL);
	hal_link_array_add(r, "item", "/x", NULL, "X");
	assert_json(r, "{'_links':{'vg:member':["
		       "{'href':'/nodes/lb1','name':'lb1','title':'preferred'},"
		       "{'href':'/nodes/lb2','name':'lb2'},{'href':'/nodes/lb3'}],"
		       "'item':[{'href':'/x','title':'X'}]}}");
	json_decref(r);
}

/* ------------------------------------------------------------------ text helpers */

static void
test_rfc3339(void **state)
{
	char buf[40];

	(void)state;
	assert_string_equal(clock_rfc3339(0, buf, sizeof(buf)), "1970-01-01T00:00:00.000Z");
	assert_string_equal(clock_rfc3339(1700000000123LL, buf, sizeof(buf)),
			    "2023-11-14T22:13:20.123Z");
	assert_string_equal(clock_rfc3339(951782400000LL, buf, sizeof(buf)),
			    "2000-02-29T00:00:00.000Z");
	assert_string_equal(clock_rfc3339(4102444799999LL, buf, sizeof(buf)),
			    "2099-12-31T23:59:59.999Z");
	assert_string_equal(clock_rfc3339(1005, buf, sizeof(buf)), "1970-01-01T00:00:01.005Z");
	/* the wall clock is after this file was written and before 2100 */
	int64_t now = clock_wall_ms();
	assert_true(now > 1700000000000LL);
	assert_true(now < 4102444800000LL);
}

static void
test_qs_escape(void **state)
{
	char buf[64];

	(void)state;
	assert_string_equal(http_qs_escape("lb-1", buf, sizeof(buf)), "lb-1");
	assert_string_equal(http_qs_escape("AZaz09-_.~", buf, sizeof(buf)), "AZaz09-_.~");
	assert_string_equal(http_qs_escape("a b&c=d/e?f#g%h+i", buf, sizeof(buf)),
			    "a%20b%26c%3Dd%2Fe%3Ff%23g%25h%2Bi");
	assert_string_equal(http_qs_escape("caf\xc3\xa9", buf, sizeof(buf)), "caf%C3%A9");
	assert_string_equal(http_qs_escape("", buf, sizeof(buf)), "");
	/* a short buffer is cut before an escape, never inside one */
	assert_string_equal(http_qs_escape("a/b", buf, 7), "a%2F");
	assert_string_equal(http_qs_escape("abcdef", buf, 6), "ab");
}

static void
test_query(void **state)
{
	struct http_request req;

	(void)state;
	memset(&req, 0, sizeof(req));
	req.query_keys[0] = "limit";
	req.query_vals[0] = "5";
	req.query_keys[1] = "pretty";
	req.query_vals[1] = "";
	req.n_query = 2;
	assert_string_equal(http_query(&req, "limit"), "5");
	assert_string_equal(http_query(&req, "pretty"), "");
	assert_null(http_query(&req, "cursor"));
	assert_null(http_query(&req, "Limit"));
}

/* --- the request target ---------------------------------------------------------------- */

static void
test_target_decodes_path_and_query(void **state)
{
	struct http_target t;
	char why[128];

	(void)state;
	assert_int_equal(http_target_parse("/nodes/lb%E2%82%AC?node=a%26b&x&limit=2+3&&q=%3D", &t,
					   why, sizeof(why)),
			 0);
	assert_string_equal(t.path, "/nodes/lb\xe2\x82\xac");
	assert_int_equal(t.n, 4);
	assert_string_equal(t.keys[0], "node");
	assert_string_equal(t.vals[0], "a&b");
	assert_string_equal(t.keys[1], "x");
	assert_string_equal(t.vals[1], "");
	assert_string_equal(t.vals[2], "2 3");
	assert_string_equal(t.keys[3], "q");
	assert_string_equal(t.vals[3], "=");
	http_target_free(&t);
	assert_int_equal(http_target_parse("/", &t, why, sizeof(why)), 0);
	assert_string_equal(t.path, "/");
	assert_int_equal(t.n, 0);
	http_target_free(&t);
	assert_int_equal(http_target_parse("/a//b/?", &t, why, sizeof(why)), 0);
	assert_string_equal(t.path, "/a//b/");
	http_target_free(&t);
}

static void
test_target_refuses_what_names_nothing(void **state)
{
	static const struct {
		const char *uri, *why;
	} bad[] = {
	    {"/nodes/lb1%00", "NUL"},
	    {"/nodes/lb1%00x", "NUL"},
	    {"/nodes/lb1%1F", "control"},
	    {"/nodes/lb1%7f", "control"},
	    {"/nodes/lb1%FF", "UTF-8"},
	    {"/nodes/lb1%C0%AF", "UTF-8"},
	    {"/nodes/lb1%C1%BF", "UTF-8"},
	    {"/nodes/lb1%E0%80%AF", "UTF-8"},
	    {"/nodes/lb1%ED%BF%BF", "UTF-8"},
	    {"/nodes/lb1%F0%80%80%AF", "UTF-8"},
	    {"/nodes/lb1%F4%90%80%80", "UTF-8"},
	    {"/nodes/lb1%F5%80%80%80", "UTF-8"},
	    {"/nodes/lb1%80", "UTF-8"},
	    {"/nodes/lb1%E2%82", "UTF-8"},
	    {"/nodes/lb1\xff", "UTF-8"},
	    {"/nodes/lb1%2Fstatus", "%2F"},
	    {"/nodes%2f", "%2F"},
	    {"/nodes/%", "percent"},
	    {"/nodes/%4", "percent"},
	    {"/nodes/%4G", "percent"},
	    {"/nodes/%%41", "percent"},
	    {"nodes", "start"},
	    {"", "start"},
	    {"*", "start"},
	    {"/vips?node=a%00", "NUL"},
	    {"/vips?node%00=a", "NUL"},
	    {"/vips?node=%ED%A0%80", "UTF-8"},
	    {"/vips?node=%", "percent"},
	    {"/v?a=1&b=1&c=1&d=1&e=1&f=1&g=1&h=1&i=1&j=1&k=1&l=1&m=1&n=1&o=1&p=1&q=1",
	     "query parameters"},
	};
	struct http_target t;
	char why[128];

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		why[0] = '\0';
		if (http_target_parse(bad[i].uri, &t, why, sizeof(why)) != -1)
			fail_msg("%s was accepted as %s", bad[i].uri, t.path);
		if (strstr(why, bad[i].why) == NULL)
			fail_msg("%s: \"%s\" does not say %s", bad[i].uri, why, bad[i].why);
		http_target_free(&t);
	}
}

static void
test_utf8_prefix(void **state)
{
	(void)state;
	assert_int_equal(http_utf8_prefix("abc", 3), 3);
	assert_int_equal(http_utf8_prefix("a\xc3\xa9z", 4), 4);
	assert_int_equal(http_utf8_prefix("a\xc3", 2), 1);	       /* cut in a sequence */
	assert_int_equal(http_utf8_prefix("\xf0\x9f\x98\x80!", 5), 5); /* U+1F600 */
	assert_int_equal(http_utf8_prefix("\xef\xbf\xbf", 3), 3);      /* U+FFFF */
	assert_int_equal(http_utf8_prefix("x\xed\xa0\x80", 4), 1);     /* a surrogate */
	assert_int_equal(http_utf8_prefix("\xe0\x9f\xbf", 3), 0);      /* overlong */
}

/* A detail cut at the buffer's end inside a UTF-8 sequence must still make a JSON problem. */
static void
test_problem_detail_cut_inside_utf8(void **state)
{
	struct http_request req = {.path = "/x"};
	struct http_response res = {0};
	char long_detail[1200];

	(void)state;
	for (size_t i = 0; i + 2 < sizeof(long_detail); i += 2)
		memcpy(long_detail + i, "\xc3\xa9", 2);
	long_detail[sizeof(long_detail) - 2] = '\0';
	for (int shift = 0; shift < 2; shift++) {
		http_problem(&res, &req, 404, "not-found", "%.*s%s", shift, "x", long_detail);
		assert_non_null(res.body);
		assert_non_null(json_object_get(res.body, "detail"));
		http_response_clear(&res);
	}
	req.path = NULL; /* a bad target: no instance */
	http_problem(&res, &req, 400, "bad-request", "bad");
	assert_null(json_object_get(res.body, "instance"));
	http_response_clear(&res);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_negotiate_basic),
	    cmocka_unit_test(test_negotiate_wildcards),
	    cmocka_unit_test(test_negotiate_qvalues),
	    cmocka_unit_test(test_negotiate_refusal),
	    cmocka_unit_test(test_etag_compute),
	    cmocka_unit_test(test_etag_matches),
	    cmocka_unit_test(test_preconditions_if_match),
	    cmocka_unit_test(test_preconditions_if_none_match),
	    cmocka_unit_test(test_preconditions_details),
	    cmocka_unit_test(test_preconditions_require_if_match),
	    cmocka_unit_test(test_body_content_type),
	    cmocka_unit_test(test_body_415_details),
	    cmocka_unit_test(test_body_malformed),
	    cmocka_unit_test(test_body_400_details),
	    cmocka_unit_test(test_body_depth),
	    cmocka_unit_test(test_problem_fields),
	    cmocka_unit_test(test_problem_validation),
	    cmocka_unit_test(test_problem_method_and_store),
	    cmocka_unit_test(test_allow_string),
	    cmocka_unit_test(test_hal),
	    cmocka_unit_test(test_rfc3339),
	    cmocka_unit_test(test_qs_escape),
	    cmocka_unit_test(test_query),
	    cmocka_unit_test(test_target_decodes_path_and_query),
	    cmocka_unit_test(test_target_refuses_what_names_nothing),
	    cmocka_unit_test(test_utf8_prefix),
	    cmocka_unit_test(test_problem_detail_cut_inside_utf8),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
