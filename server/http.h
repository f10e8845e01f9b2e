/* HTTP semantics in one place: the request and response that handlers see, content negotiation,
 * ETags and conditional requests, problem+json errors, HAL links, paging links. Handlers fill a
 * struct http_response; http.c turns it into bytes on the wire (server.c owns libmicrohttpd). */
#ifndef VIGIL_HTTP_H
#define VIGIL_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <jansson.h>

#include "clock.h"

#include "validate.h"

enum http_method {
	HTTP_GET = 1 << 0,
	HTTP_HEAD = 1 << 1,
	HTTP_POST = 1 << 2,
	HTTP_PUT = 1 << 3,
	HTTP_PATCH = 1 << 4,
	HTTP_DELETE = 1 << 5,
	HTTP_OPTIONS = 1 << 6,
	HTTP_UNKNOWN = 1 << 7,
};

enum auth_role { ROLE_NONE = 0, ROLE_AGENT, ROLE_VIEWER, ROLE_OPERATOR, ROLE_ADMIN };

/* Who is asking: filled by auth before the handler runs. */
struct principal {
	enum auth_role role;
	char token_id[64];
	char node[64];	       /* for ROLE_AGENT: the node it is bound to */
	char description[256]; /* the token's, recorded with the changes it causes */
};

#define HTTP_MAX_PARAMS 4
#define HTTP_MAX_QUERY 16

/* A parsed request. All strings are borrowed from the server layer and valid for the request. */
struct http_request {
	enum http_method method;
	const char *method_name;
	const char *path;
	const char *params[HTTP_MAX_PARAMS]; /* path parameters matched by the router ({name}) */
	int n_params;
	const char *query_keys[HTTP_MAX_QUERY];
	const char *query_vals[HTTP_MAX_QUERY]; /* "" for a bare key such as ?pretty */
	int n_query;
	const char *accept, *content_type, *if_match, *if_none_match, *if_modified_since;
	const char *authorization, *origin;
	const char *body;
	size_t body_len;
	struct principal who;
	const char *media_type; /* the negotiated response type (MT_HAL, MT_JSON, ...) */
	bool pretty;
	bool preflight; /* a CORS preflight from an allowed origin: answered without a token */
	int wait_s;	/* ?wait=N, -1 when absent */
};

/* What a handler answers. Owned members are freed by http_response_clear(). */
struct http_response {
	int status;
	json_t *body; /* owned; JSON body (HAL or problem) */
	char *text;   /* owned; non-JSON body (text/plain, text/html, yaml) */
	size_t text_len;
	const char *content_type; /* static string; NULL: negotiated JSON type */
	bool is_problem;
	char etag[24];		  /* "\"hex\"" ; computed from the body when empty on 200 GET */
	int64_t last_modified_ms; /* 0: no Last-Modified */
	char *location;		  /* owned */
	char *link_header;	  /* owned; RFC 8288 Link value */
	char allow[80];		  /* Allow header (405, OPTIONS) */
	const char *extra_name;	  /* one extra header, static strings (Accept-Patch, ...) */
	const char *extra_value;
	bool no_cache_headers; /* true for errors and writes: no ETag/Cache-Control */
	bool nothing_yet;      /* a feed with nothing new: a long-poll keeps waiting */
	bool no_store;	       /* shows what is not in the store (a heartbeat): never cache it */
	const char *csp;       /* Content-Security-Policy (static string), for pages */
};

/* Media types this server speaks. */
#define MT_HAL "application/hal+json"
#define MT_JSON "application/json"
#define MT_PROBLEM "application/problem+json"
#define MT_MERGE_PATCH "application/merge-patch+json"
#define MT_TEXT "text/plain; charset=utf-8"
#define MT_PROMETHEUS "text/plain; version=0.0.4; charset=utf-8"
#define MT_HTML "text/html; charset=utf-8"

/* The request target (RFC 9112 3.2.1, origin-form) decoded: the path and the query's keys and
 * values, each percent-decoded ('+' is a space in the query). */
struct http_target {
	char *buf; /* owned: the decoded strings that path, keys and vals point into */
	const char *path;
	const char *keys[HTTP_MAX_QUERY], *vals[HTTP_MAX_QUERY]; /* "" for a bare key */
	int n;
};

/*
 * Decodes uri into t. Returns 0, or -1 with why filled when the target cannot name a resource: a
 * malformed escape, a decoded NUL or control character, invalid UTF-8 (RFC 3629: no overlong
 * forms, surrogates or code points over U+10FFFF), an encoded '/' inside a path segment, a path
 * that does not start with '/', or more than HTTP_MAX_QUERY query parameters. t owns its buffer
 * either way: release it with http_target_free().
 */
int http_target_parse(const char *uri, struct http_target *t, char *why, size_t whylen);
void http_target_free(struct http_target *t);

/* Returns the length of the longest prefix of s[0..n) that is valid UTF-8 (RFC 3629). */
size_t http_utf8_prefix(const char *s, size_t n);

/* The method named name (case-sensitive, RFC 9110 9.1), or HTTP_UNKNOWN. */
enum http_method http_method_of(const char *name);

/* Returns the value of query parameter key, or NULL when absent. */
const char *http_query(const struct http_request *req, const char *key);

/*
 * Content negotiation: returns the index in offered[] (n entries, media types without parameters)
 * that best satisfies the request's Accept, or -1 when none is acceptable (406).
 */
int http_negotiate(const char *accept, const char *const offered[], int n);

/* Fills res with an RFC 9457 problem. slug names /problems/{slug}; detail is printf-style.
 * Always returns -1 so that handlers can `return http_problem(...)`. */
int http_problem(struct http_response *res, const struct http_request *req, int status,
		 const char *slug, const char *fmt, ...) __attribute__((format(printf, 5, 6)));
/* 422 with the errors of e (which it consumes: e is cleared). */
int http_problem_validation(struct http_response *res, const struct http_request *req,
			    struct verr *e);
/* 405 with Allow built from the allowed method mask. */
int http_problem_method(struct http_response *res, const struct http_request *req,
			unsigned allowed);
/* Maps a store_rc to a problem (404, 409, 503, 500). */
int http_problem_store(struct http_response *res, const struct http_request *req, int rc,
		       const char *detail);

/* Allow header text for a method mask ("GET, HEAD, PUT, ..."). */
void http_allow_string(unsigned mask, char *buf, size_t len);

/*
 * Parses a request body as a JSON object: 400 for malformed input (syntax, duplicate keys, NUL,
 * invalid UTF-8, trailing bytes, depth over HTTP_MAX_DEPTH, not an object), 415 for a wrong
 * Content-Type. merge_patch selects application/merge-patch+json. Returns the object (caller owns)
 * or NULL with res filled.
 */
#define HTTP_MAX_DEPTH 8
json_t *http_parse_body(const struct http_request *req, struct http_response *res,
			bool merge_patch);

/* Strong ETag of a JSON value ("\"16 hex digits\"", from its compact serialisation). */
void http_etag_json(const json_t *v, char out[24]);
void http_etag_bytes(const void *data, size_t len, char out[24]);

/* Does an If-Match / If-None-Match header value match etag? ("*" matches any existing). */
bool http_etag_matches(const char *header, const char *etag, bool exists);

/*
 * Write preconditions, evaluated against the current state (exists, etag): returns 0 to proceed or
 * fills res with 412 (stale If-Match, If-None-Match: * on an existing one) or 428 (strict mode,
 * no If-Match on an existing resource) and returns -1.
 */
int http_check_write_preconditions(const struct http_request *req, struct http_response *res,
				   bool exists, const char *etag);

/* HAL helpers. All return the new object (owned by its parent once added). */
json_t *hal_links(json_t *repr); /* gets or creates repr._links */
void hal_link(json_t *repr, const char *rel, const char *href_fmt, ...)
    __attribute__((format(printf, 3, 4)));
void hal_link_templated(json_t *repr, const char *rel, const char *href);
void hal_add_curies(json_t *repr);
/* Appends {href, name, title} to the array at rel (creating it). title may be NULL. */
void hal_link_array_add(json_t *repr, const char *rel, const char *href, const char *name,
			const char *title);

/* Percent-encodes a query value into buf (returns buf). */
const char *http_qs_escape(const char *s, char *buf, size_t len);

void http_response_clear(struct http_response *res);

/* Serialises a JSON body (compact) into res->text and, for a success, computes its ETag; the body
 * is released. Does nothing when res->text is already set. */
void http_serialize(struct http_response *res);

/* Server-wide options that change HTTP behaviour, set once at start. */
struct http_options {
	int64_t start_ms; /* Last-Modified of what has never changed */
	bool require_if_match;
	const char *cors_origins[16];
	int n_cors_origins;
};
extern struct http_options http_opts;

#endif
