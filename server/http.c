/* HTTP semantics independent of the wire: negotiation (RFC 9110 12.5.1), entity tags and
 * preconditions (RFC 9110 8.8.3, 13), problem details (RFC 9457), HAL links, request bodies. */
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "http.h"
#include "store.h"

struct http_options http_opts;

enum http_method
http_method_of(const char *name)
{
	static const struct {
		const char *name;
		enum http_method m;
	} t[] = {{"GET", HTTP_GET},	   {"HEAD", HTTP_HEAD},	  {"POST", HTTP_POST},
		 {"PUT", HTTP_PUT},	   {"PATCH", HTTP_PATCH}, {"DELETE", HTTP_DELETE},
		 {"OPTIONS", HTTP_OPTIONS}};

	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		if (strcmp(name, t[i].name) == 0)
			return t[i].m;
	return HTTP_UNKNOWN;
}

const char *
http_query(const struct http_request *req, const char *key)
{
	for (int i = 0; i < req->n_query; i++)
		if (strcmp(req->query_keys[i], key) == 0)
			return req->query_vals[i];
	return NULL;
}

size_t
http_utf8_prefix(const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0;

	while (i < n) {
		unsigned c = p[i], cp, len;
		if (c < 0x80) {
			i++;
			continue;
		}
		if (c >= 0xC2 && c <= 0xDF)
			len = 2, cp = c & 0x1F;
		else if (c >= 0xE0 && c <= 0xEF)
			len = 3, cp = c & 0x0F;
		else if (c >= 0xF0 && c <= 0xF4)
			len = 4, cp = c & 0x07;
		else
			return i; /* a continuation byte, an overlong lead (C0, C1) or F5..FF */
		if (n - i < len)
			return i;
		for (unsigned k = 1; k < len; k++) {
			if ((p[i + k] & 0xC0) != 0x80)
				return i;
			cp = cp << 6 | (p[i + k] & 0x3F);
		}
		if ((len == 3 && cp < 0x800) || (len == 4 && (cp < 0x10000 || cp > 0x10FFFF)) ||
		    (cp >= 0xD800 && cp <= 0xDFFF))
			return i; /* overlong, beyond Unicode, or a surrogate */
		i += len;
	}
	return n;
}

static int
hex_value(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = (char)(c | 0x20);
	return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* Percent-decodes s[0..n) to out (NUL-terminated), '+' as a space when plus. Returns the decoded
 * length, or -1 with why filled. slash_ok: whether a decoded '/' may appear (not inside a path
 * segment, where "%2F" would make one segment look like two). */
static long
decode_component(const char *s, size_t n, char *out, bool plus, bool slash_ok, const char *what,
		 char *why, size_t whylen)
{
	size_t o = 0;

	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c == '%') {
			int hi = i + 2 < n ? hex_value(s[i + 1]) : -1;
			int lo = hi >= 0 ? hex_value(s[i + 2]) : -1;
			if (lo < 0) {
				snprintf(why, whylen, "the %s has a malformed percent-encoding",
					 what);
				return -1;
			}
			c = (unsigned char)(hi << 4 | lo);
			i += 2;
			if (c == '/' && !slash_ok) {
				snprintf(why, whylen,
					 "the %s has an encoded '/' (%%2F) inside a path segment",
					 what);
				return -1;
			}
		} else if (c == '+' && plus) {
			c = ' ';
		}
		if (c < 0x20 || c == 0x7F) {
			snprintf(why, whylen, "the %s has a NUL or control character", what);
			return -1;
		}
		out[o++] = (char)c;
	}
	out[o] = '\0';
	if (http_utf8_prefix(out, o) != o) {
		snprintf(why, whylen, "the %s is not valid UTF-8", what);
		return -1;
	}
	return (long)o;
}

int
http_target_parse(const char *uri, struct http_target *t, char *why, size_t whylen)
{
	size_t len = strlen(uri);
	const char *q = strchr(uri, '?');
	size_t plen = q ? (size_t)(q - uri) : len;
	char *o;
	long k;

	memset(t, 0, sizeof(*t));
	/* decoding never grows a string: the path, then each key and value with its NUL */
	if ((t->buf = malloc(2 * len + 2)) == NULL) {
		snprintf(why, whylen, "out of memory");
		return -1;
	}
	o = t->buf;
	if (plen == 0 || uri[0] != '/') {
		snprintf(why, whylen, "the request target must be a path starting with '/'");
		return -1;
	}
	t->path = o;
	for (size_t i = 0; i < plen;) { /* segment by segment, each '/' kept as it was */
		size_t j = i + 1;
		while (j < plen && uri[j] != '/')
			j++;
		*o++ = '/';
		if ((k = decode_component(uri + i + 1, j - i - 1, o, false, false, "path", why,
					  whylen)) < 0)
			return -1;
		o += k;
		i = j;
	}
	*o++ = '\0';
	if (q == NULL)
		return 0;
	for (const char *p = q + 1; *p;) {
		const char *amp = strchr(p, '&'), *end = amp ? amp : p + strlen(p);
		const char *eq = memchr(p, '=', (size_t)(end - p));
		if (end > p) { /* "a&&b": no empty parameters */
			if (t->n == HTTP_MAX_QUERY) {
				snprintf(why, whylen, "more than %d query parameters",
					 HTTP_MAX_QUERY);
				return -1;
			}
			t->keys[t->n] = o;
			if ((k = decode_component(p, (size_t)((eq ? eq : end) - p), o, true, true,
						  "query", why, whylen)) < 0)
				return -1;
			o += k + 1;
			t->vals[t->n] = o;
			if ((k = decode_component(eq ? eq + 1 : end,
						  eq ? (size_t)(end - eq - 1) : 0, o, true, true,
						  "query", why, whylen)) < 0)
				return -1;
			o += k + 1;
			t->n++;
		}
		p = amp ? amp + 1 : end;
	}
	return 0;
}

void
http_target_free(struct http_target *t)
{
	free(t->buf);
	t->buf = NULL;
}

/* Copies the media type of a header element (up to ';' or ',') lowercased and trimmed. */
static const char *
media_type(const char *s, char *buf, size_t len)
{
	size_t n = 0;

	while (*s == ' ' || *s == '\t')
		s++;
	while (*s != '\0' && *s != ';' && *s != ',' && *s != ' ' && n + 1 < len)
		buf[n++] = (char)tolower((unsigned char)*s++);
	buf[n] = '\0';
	return s;
}

/* How well range ("type/sub", "type/ *", "* / *") matches type: 3 exact, 2 subtype wildcard,
 * 1 full wildcard, 0 none. */
static int
range_match(const char *range, const char *type)
{
	const char *slash = strchr(type, '/');

	if (strcmp(range, type) == 0)
		return 3;
	if (strcmp(range, "*/*") == 0)
		return 1;
	if (slash != NULL) {
		size_t tl = (size_t)(slash - type);
		if (strncmp(range, type, tl) == 0 && strcmp(range + tl, "/*") == 0)
			return 2;
	}
	return 0;
}

int
http_negotiate(const char *accept, const char *const offered[], int n)
{
	double best_q[8] = {0};
	int best_spec[8] = {0};
	char range[96];
	const char *p = accept;

	if (accept == NULL || *accept == '\0')
		return 0;
	if (n > 8)
		n = 8;
	while (*p != '\0') {
		double q = 1.0;
		p = media_type(p, range, sizeof(range));
		while (*p == ';' || *p == ' ' || *p == '\t') {
			p++;
			while (*p == ' ')
				p++;
			if ((p[0] == 'q' || p[0] == 'Q') && p[1] == '=') {
				q = strtod(p + 2, NULL);
				if (q < 0 || q > 1)
					q = 0;
			}
			while (*p != '\0' && *p != ';' && *p != ',')
				p++;
		}
		for (int i = 0; i < n; i++) {
			int m = range_match(range, offered[i]);
			if (m > best_spec[i]) {
				best_spec[i] = m;
				best_q[i] = q;
			}
		}
		while (*p != '\0' && *p != ',')
			p++;
		if (*p == ',')
			p++;
	}
	int chosen = -1;
	for (int i = 0; i < n; i++)
		if (best_spec[i] > 0 && best_q[i] > 0 && (chosen < 0 || best_q[i] > best_q[chosen]))
			chosen = i;
	return chosen;
}

static const char *
status_title(int status)
{
	switch (status) {
	case 400:
		return "Bad Request";
	case 401:
		return "Unauthorized";
	case 403:
		return "Forbidden";
	case 404:
		return "Not Found";
	case 405:
		return "Method Not Allowed";
	case 406:
		return "Not Acceptable";
	case 409:
		return "Conflict";
	case 410:
		return "Gone";
	case 412:
		return "Precondition Failed";
	case 413:
		return "Content Too Large";
	case 414:
		return "URI Too Long";
	case 415:
		return "Unsupported Media Type";
	case 422:
		return "Unprocessable Content";
	case 428:
		return "Precondition Required";
	case 429:
		return "Too Many Requests";
	case 500:
		return "Internal Server Error";
	case 501:
		return "Not Implemented";
	case 503:
		return "Service Unavailable";
	default:
		return "Error";
	}
}

int
http_problem(struct http_response *res, const struct http_request *req, int status,
	     const char *slug, const char *fmt, ...)
{
	char detail[512], type[96];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(detail, sizeof(detail), fmt, ap);
	va_end(ap);
	detail[http_utf8_prefix(detail, strlen(detail))] = '\0'; /* JSON strings are UTF-8 */
	snprintf(type, sizeof(type), "/problems/%s", slug);
	json_decref(res->body);
	free(res->text);
	res->text = NULL;
	res->status = status;
	res->body = json_pack("{s:s, s:s, s:i, s:s}", "type", type, "title", status_title(status),
			      "status", status, "detail", detail);
	if (res->body != NULL && req != NULL && req->path != NULL) /* none for a bad target */
		json_object_set_new(res->body, "instance", json_string(req->path));
	res->is_problem = true;
	res->content_type = MT_PROBLEM;
	res->no_cache_headers = true;
	res->etag[0] = '\0';
	res->last_modified_ms = 0;
	return -1;
}

int
http_problem_validation(struct http_response *res, const struct http_request *req, struct verr *e)
{
	size_t n = e->list ? json_array_size(e->list) : 0;
	json_t *first = n ? json_array_get(e->list, 0) : NULL;

	http_problem(res, req, 422, "validation", "%zu invalid field%s%s%s%s", n, n == 1 ? "" : "s",
		     first ? ", first " : "",
		     first ? json_string_value(json_object_get(first, "pointer")) : "",
		     first ? ": see errors" : "");
	json_object_set_new(res->body, "errors", e->list ? e->list : json_array());
	e->list = NULL;
	return -1;
}

void
http_allow_string(unsigned mask, char *buf, size_t len)
{
	static const struct {
		unsigned bit;
		const char *name;
	} names[] = {{HTTP_GET, "GET"},	       {HTTP_HEAD, "HEAD"},   {HTTP_POST, "POST"},
		     {HTTP_PUT, "PUT"},	       {HTTP_PATCH, "PATCH"}, {HTTP_DELETE, "DELETE"},
		     {HTTP_OPTIONS, "OPTIONS"}};
	size_t o = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (mask & names[i].bit)
			o += (size_t)snprintf(buf + o, o < len ? len - o : 0, "%s%s", o ? ", " : "",
					      names[i].name);
}

int
http_problem_method(struct http_response *res, const struct http_request *req, unsigned allowed)
{
	http_problem(res, req, 405, "method-not-allowed", "%s is not allowed on %s",
		     req->method_name, req->path);
	http_allow_string(allowed, res->allow, sizeof(res->allow));
	return -1;
}

int
http_problem_store(struct http_response *res, const struct http_request *req, int rc,
		   const char *detail)
{
	const char *d = detail && *detail ? detail : NULL;

	switch (rc) {
	case STORE_NOTFOUND:
		return http_problem(res, req, 404, "not-found", "%s", d ? d : "no such resource");
	case STORE_EXISTS:
	case STORE_UNIQUE:
	case STORE_REFERENCED:
		return http_problem(res, req, 409, "conflict", "%s", d ? d : "conflict");
	case STORE_GONE:
		return http_problem(res, req, 410, "gone", "%s", d ? d : "gone");
	case STORE_BUSY:
		return http_problem(res, req, 503, "unavailable", "the store is busy; retry");
	default:
		return http_problem(res, req, 500, "internal", "store error");
	}
}

/* Maximum nesting depth of v (a scalar is 0). */
static int
json_depth(const json_t *v)
{
	int max = 0, d;
	size_t i;
	const char *k;
	json_t *c;

	if (json_is_object(v)) {
		json_object_foreach((json_t *)v, k, c) if ((d = json_depth(c)) > max) max = d;
		return max + 1;
	}
	if (json_is_array(v)) {
		json_array_foreach(v, i, c) if ((d = json_depth(c)) > max) max = d;
		return max + 1;
	}
	return 0;
}

json_t *
http_parse_body(const struct http_request *req, struct http_response *res, bool merge_patch)
{
	char mt[96];
	json_error_t jerr;
	json_t *v;

	media_type(req->content_type ? req->content_type : "", mt, sizeof(mt));
	if (merge_patch ? strcmp(mt, MT_MERGE_PATCH) != 0
			: strcmp(mt, MT_JSON) != 0 && strcmp(mt, MT_HAL) != 0) {
		http_problem(res, req, 415, "unsupported-media-type", "send the body as %s",
			     merge_patch ? MT_MERGE_PATCH : MT_JSON);
		if (merge_patch) {
			res->extra_name = "Accept-Patch";
			res->extra_value = MT_MERGE_PATCH;
		}
		return NULL;
	}
	if (req->body == NULL || req->body_len == 0) {
		http_problem(res, req, 400, "malformed-json", "the request has no body");
		return NULL;
	}
	v = json_loadb(req->body, req->body_len, JSON_REJECT_DUPLICATES, &jerr);
	if (v == NULL) {
		http_problem(res, req, 400, "malformed-json", "line %d column %d: %s", jerr.line,
			     jerr.column, jerr.text);
		return NULL;
	}
	if (!json_is_object(v)) {
		json_decref(v);
		http_problem(res, req, 400, "malformed-json", "the body must be a JSON object");
		return NULL;
	}
	if (json_depth(v) > HTTP_MAX_DEPTH) {
		json_decref(v);
		http_problem(res, req, 400, "malformed-json", "nesting deeper than %d levels",
			     HTTP_MAX_DEPTH);
		return NULL;
	}
	return v;
}

void
http_etag_bytes(const void *data, size_t len, char out[24])
{
	const unsigned char *p = data;
	uint64_t h = 0xcbf29ce484222325ULL; /* FNV-1a 64, then a final avalanche */

	for (size_t i = 0; i < len; i++) {
		h ^= p[i];
		h *= 0x100000001b3ULL;
	}
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdULL;
	h ^= h >> 33;
	snprintf(out, 24, "\"%016llx\"", (unsigned long long)h);
}

void
http_etag_json(const json_t *v, char out[24])
{
	char *s = json_dumps(v, JSON_COMPACT);

	http_etag_bytes(s ? s : "", s ? strlen(s) : 0, out);
	free(s);
}

/* Compares a header's entity-tag list with etag. weak: W/ prefixes are ignored (If-None-Match,
 * RFC 9110 8.8.3.2); strong otherwise (If-Match: a weak tag never matches). */
static bool
etag_list_matches(const char *header, const char *etag, bool exists, bool weak)
{
	const char *p = header;
	size_t elen = strlen(etag);

	while (*p != '\0') {
		bool is_weak = false;
		while (*p == ' ' || *p == '\t' || *p == ',')
			p++;
		if (*p == '*')
			return exists;
		if (p[0] == 'W' && p[1] == '/') {
			is_weak = true;
			p += 2;
		}
		if (*p != '"')
			return false;
		const char *end = strchr(p + 1, '"');
		if (end == NULL)
			return false;
		size_t len = (size_t)(end - p) + 1;
		if (exists && len == elen && memcmp(p, etag, len) == 0 && (weak || !is_weak))
			return true;
		p = end + 1;
	}
	return false;
}

bool
http_etag_matches(const char *header, const char *etag, bool exists)
{
	return etag_list_matches(header, etag, exists, true);
}

int
http_check_write_preconditions(const struct http_request *req, struct http_response *res,
			       bool exists, const char *etag)
{
	if (req->if_match != NULL && !etag_list_matches(req->if_match, etag, exists, false)) {
		http_problem(res, req, 412, "precondition-failed",
			     exists ? "the resource has changed: its ETag is now %s"
				    : "the resource does not exist%s",
			     exists ? etag : "");
		return -1;
	}
	if (req->if_none_match != NULL &&
	    etag_list_matches(req->if_none_match, etag, exists, true)) {
		http_problem(res, req, 412, "precondition-failed",
			     "the resource exists and If-None-Match forbids replacing it");
		return -1;
	}
	if (http_opts.require_if_match && exists && req->if_match == NULL) {
		http_problem(res, req, 428, "precondition-required",
			     "this server requires If-Match on writes to existing resources");
		return -1;
	}
	return 0;
}

json_t *
hal_links(json_t *repr)
{
	json_t *l = json_object_get(repr, "_links");

	if (l == NULL) {
		l = json_object();
		json_object_set_new(repr, "_links", l);
	}
	return l;
}

void
hal_link(json_t *repr, const char *rel, const char *href_fmt, ...)
{
	char href[1024];
	va_list ap;

	va_start(ap, href_fmt);
	vsnprintf(href, sizeof(href), href_fmt, ap);
	va_end(ap);
	json_object_set_new(hal_links(repr), rel, json_pack("{s:s}", "href", href));
}

void
hal_link_templated(json_t *repr, const char *rel, const char *href)
{
	json_object_set_new(hal_links(repr), rel,
			    json_pack("{s:s, s:b}", "href", href, "templated", 1));
}

void
hal_add_curies(json_t *repr)
{
	json_object_set_new(
	    hal_links(repr), "curies",
	    json_pack("[{s:s, s:s, s:b}]", "name", "vg", "href", "/rels/{rel}", "templated", 1));
}

void
hal_link_array_add(json_t *repr, const char *rel, const char *href, const char *name,
		   const char *title)
{
	json_t *links = hal_links(repr), *arr = json_object_get(links, rel);
	json_t *l = json_pack("{s:s}", "href", href);

	if (arr == NULL) {
		arr = json_array();
		json_object_set_new(links, rel, arr);
	}
	if (name)
		json_object_set_new(l, "name", json_string(name));
	if (title)
		json_object_set_new(l, "title", json_string(title));
	json_array_append_new(arr, l);
}

const char *
http_qs_escape(const char *s, char *buf, size_t len)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t o = 0;

	for (; *s != '\0' && o + 4 < len; s++) {
		unsigned char c = (unsigned char)*s;
		if (isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
			buf[o++] = (char)c;
		} else {
			buf[o++] = '%';
			buf[o++] = hex[c >> 4];
			buf[o++] = hex[c & 15];
		}
	}
	buf[o] = '\0';
	return buf;
}

void
http_serialize(struct http_response *res)
{
	if (res->body == NULL || res->text != NULL)
		return;
	res->text = json_dumps(res->body, JSON_COMPACT);
	res->text_len = res->text ? strlen(res->text) : 0;
	/* the ETag is the hash of this very serialisation (http_etag_json): one dump serves both */
	if (res->status >= 200 && res->status < 300 && res->etag[0] == '\0')
		http_etag_bytes(res->text ? res->text : "", res->text_len, res->etag);
	json_decref(res->body);
	res->body = NULL;
}

void
http_response_clear(struct http_response *res)
{
	json_decref(res->body);
	free(res->text);
	free(res->location);
	free(res->link_header);
	memset(res, 0, sizeof(*res));
}
