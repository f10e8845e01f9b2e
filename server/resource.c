/* The generic resource: collections with cursor paging and items with GET, PUT, PATCH, DELETE,
 * each write one store transaction with its preconditions checked against the current ETag. The
 * kind-specific rules come from struct resource_kind. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "resource.h"

#define PAGE_MAX 500
#define PAGE_DEFAULT 50

json_t *
resource_represent(const struct resource_kind *k, const struct store_obj *obj,
		   const struct principal *who)
{
	json_t *repr = json_pack("{s:s}", "name", obj->name);

	json_object_update(repr, obj->spec);
	if (k->redact)
		k->redact(repr);
	json_object_set(repr, "status", obj->status ? obj->status : json_null());
	hal_link(repr, "self", "/%s/%s", k->plural, obj->name);
	hal_link(repr, "collection", "/%s", k->plural);
	hal_add_curies(repr);
	if (k->decorate)
		k->decorate(repr, obj, who);
	return repr;
}

/* base64url without padding */
static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

void
page_cursor_encode(char dir, const char *name, char *out, size_t len)
{
	char raw[STORE_NAME_MAX + 4];
	int w = snprintf(raw, sizeof(raw), "%c:%s", dir, name);
	size_t n = w < 0 ? 0 : (size_t)w >= sizeof(raw) ? sizeof(raw) - 1 : (size_t)w, o = 0;
	const unsigned char *p = (const unsigned char *)raw;

	for (size_t i = 0; i < n && o + 5 < len; i += 3) {
		unsigned v = (unsigned)p[i] << 16 | (i + 1 < n ? (unsigned)p[i + 1] << 8 : 0) |
			     (i + 2 < n ? p[i + 2] : 0);
		out[o++] = b64[v >> 18 & 63];
		out[o++] = b64[v >> 12 & 63];
		if (i + 1 < n)
			out[o++] = b64[v >> 6 & 63];
		if (i + 2 < n)
			out[o++] = b64[v & 63];
	}
	out[o] = '\0';
}

int
page_cursor_decode(const char *cursor, char *dir, char *name, size_t len)
{
	char raw[STORE_NAME_MAX + 4];
	size_t n = 0, bits = 0;
	unsigned acc = 0;

	for (const char *c = cursor; *c != '\0'; c++) {
		const char *pos = strchr(b64, *c);
		if (pos == NULL || n + 1 >= sizeof(raw))
			return -1;
		acc = acc << 6 | (unsigned)(pos - b64);
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			raw[n++] = (char)(acc >> bits & 0xff);
		}
	}
	raw[n] = '\0';
	if (n < 3 || (raw[0] != 'a' && raw[0] != 'b') || raw[1] != ':' || strlen(raw) != n)
		return -1;
	*dir = raw[0];
	snprintf(name, len, "%s", raw + 2);
	return 0;
}

int
page_parse(const struct http_request *req, struct http_response *res, struct page *p)
{
	const char *limit = http_query(req, "limit"), *cursor = http_query(req, "cursor");
	char dir, name[STORE_NAME_MAX];

	memset(p, 0, sizeof(*p));
	p->limit = PAGE_DEFAULT;
	if (limit != NULL) {
		char *end;
		long v = strtol(limit, &end, 10);
		if (*limit == '\0' || *end != '\0' || v < 1 || v > PAGE_MAX)
			return http_problem(res, req, 400, "bad-request",
					    "limit must be an integer from 1 to %d", PAGE_MAX);
		p->limit = (int)v;
	}
	if (cursor != NULL) {
		if (page_cursor_decode(cursor, &dir, name, sizeof(name)) != 0)
			return http_problem(res, req, 400, "bad-request", "cursor is not valid");
		snprintf(dir == 'a' ? p->after : p->before, STORE_NAME_MAX, "%s", name);
	}
	return 0;
}

/* Appends "<href>; rel=..." to the Link header being built in buf. */
static void
link_header_add(char *buf, size_t len, const char *href, const char *rel)
{
	size_t o = strlen(buf);

	snprintf(buf + o, len - o, "%s<%s>; rel=\"%s\"", o ? ", " : "", href, rel);
}

void
page_links(json_t *repr, struct http_response *res, const char *base, const struct page *p,
	   const char *first_name, const char *last_name, bool has_prev, bool has_next)
{
	char href[512], cur[160], hdr[2048] = "";
	const char sep = strchr(base, '?') ? '&' : '?';

	if (p->after[0] || p->before[0]) {
		page_cursor_encode(p->after[0] ? 'a' : 'b', p->after[0] ? p->after : p->before, cur,
				   sizeof(cur));
		snprintf(href, sizeof(href), "%s%climit=%d&cursor=%s", base, sep, p->limit, cur);
	} else {
		snprintf(href, sizeof(href), "%s%climit=%d", base, sep, p->limit);
	}
	hal_link(repr, "self", "%s", href);
	link_header_add(hdr, sizeof(hdr), href, "self");
	snprintf(href, sizeof(href), "%s%climit=%d", base, sep, p->limit);
	hal_link(repr, "first", "%s", href);
	link_header_add(hdr, sizeof(hdr), href, "first");
	if (has_next && last_name) {
		page_cursor_encode('a', last_name, cur, sizeof(cur));
		snprintf(href, sizeof(href), "%s%climit=%d&cursor=%s", base, sep, p->limit, cur);
		hal_link(repr, "next", "%s", href);
		link_header_add(hdr, sizeof(hdr), href, "next");
	}
	if (has_prev && first_name) {
		page_cursor_encode('b', first_name, cur, sizeof(cur));
		snprintf(href, sizeof(href), "%s%climit=%d&cursor=%s", base, sep, p->limit, cur);
		hal_link(repr, "prev", "%s", href);
		link_header_add(hdr, sizeof(hdr), href, "prev");
	}
	free(res->link_header);
	res->link_header = strdup(hdr);
}

/* Builds the templated search link "/vips{?node}" from the kind's filters. */
static void
find_link(const struct resource_kind *k, json_t *repr)
{
	char href[160];
	size_t o;

	if (k->filters == NULL || k->filters[0] == NULL)
		return;
	o = (size_t)snprintf(href, sizeof(href), "/%s{?", k->plural);
	for (int i = 0; k->filters[i] != NULL; i++)
		o += (size_t)snprintf(href + o, sizeof(href) - o, "%s%s", i ? "," : "",
				      k->filters[i]);
	snprintf(href + o, sizeof(href) - o, "}");
	hal_link_templated(repr, "vg:find", href);
}

static int
collection_get(const struct resource_kind *k, struct http_request *req, struct http_response *res)
{
	struct page p;
	const char *fkey = NULL, *fval = NULL;
	char base[256], esc[200];
	struct store_obj *objs;
	int n, total;

	if (page_parse(req, res, &p) != 0)
		return -1;
	snprintf(base, sizeof(base), "/%s", k->plural);
	for (int i = 0; k->filters && k->filters[i] != NULL; i++)
		if ((fval = http_query(req, k->filters[i])) != NULL) {
			fkey = k->filters[i];
			snprintf(base, sizeof(base), "/%s?%s=%s", k->plural, fkey,
				 http_qs_escape(fval, esc, sizeof(esc)));
			break;
		}
	objs = calloc((size_t)p.limit + 1, sizeof(*objs));
	if (objs == NULL)
		return http_problem(res, req, 503, "unavailable", "out of memory");
	n = store_list(k->kind, fkey, fval, p.after[0] ? p.after : NULL,
		       p.before[0] ? p.before : NULL, p.limit + 1, objs, &total);
	if (n < 0) {
		free(objs);
		return http_problem_store(res, req, n, NULL);
	}
	bool more = n > p.limit, has_prev, has_next;
	int first = 0, count = n;
	if (more) {
		count = p.limit;
		if (p.before[0]) /* read backwards: the extra one is the oldest, drop it */
			first = 1;
	}
	has_next = p.before[0] ? true : more;
	has_prev = p.before[0] ? more : p.after[0] != '\0';
	json_t *items = json_array();
	for (int i = first; i < first + count; i++)
		json_array_append_new(items, resource_represent(k, &objs[i], &req->who));
	res->body = json_pack("{s:i, s:i, s:{s:o}}", "count", count, "total", total, "_embedded",
			      k->plural, items);
	page_links(res->body, res, base, &p, count ? objs[first].name : NULL,
		   count ? objs[first + count - 1].name : NULL, has_prev && count,
		   has_next && count);
	hal_add_curies(res->body);
	find_link(k, res->body);
	res->status = 200;
	res->last_modified_ms = store_kind_modified_ms(k->kind);
	if (res->last_modified_ms < http_opts.start_ms)
		res->last_modified_ms = http_opts.start_ms;
	for (int i = 0; i < n; i++)
		store_obj_clear(&objs[i]);
	free(objs);
	return 0;
}

/* Checks a body's "name" against the URL's (422 on mismatch) and removes it from spec. */
static int
take_name(json_t *spec, const char *name, struct verr *e)
{
	json_t *v = json_object_get(spec, "name");

	if (v == NULL)
		return 0;
	if (!json_is_string(v) || strcmp(json_string_value(v), name) != 0)
		verr_add(e, "/name", "must equal the name in the URL (%s); names are immutable",
			 name);
	json_object_del(spec, "name");
	return 0;
}

/*
 * Validates spec (owned by the caller) and stores it as (kind, name) inside an open write
 * transaction. old is the current object (spec NULL when absent). On success fills *created and
 * returns 0; on failure fills res and returns -1.
 */
static int
store_spec(const struct resource_kind *k, struct http_request *req, struct http_response *res,
	   const char *name, json_t *spec, const struct store_obj *old, bool must_create,
	   bool *created)
{
	struct verr e = {0};
	struct store_links links;
	char scratch[2048], detail[256];
	int rc;

	take_name(spec, name, &e);
	k->validate(spec, name, old->spec, &e);
	if (verr_any(&e))
		return http_problem_validation(res, req, &e);
	memset(&links, 0, sizeof(links));
	if (k->links)
		k->links(spec, &links, scratch, sizeof(scratch));
	rc = store_put(k->kind, name, spec, &links, must_create, created, detail, sizeof(detail));
	if (rc == STORE_DANGLING) {
		verr_add(&e, "", "%s", detail);
		return http_problem_validation(res, req, &e);
	}
	if (rc != STORE_OK)
		return http_problem_store(res, req, rc, detail);
	if (*created && k->initial_status) {
		json_t *st = k->initial_status(spec);
		rc = st ? store_set_status(k->kind, name, st) : STORE_OK;
		json_decref(st);
		if (rc != STORE_OK)
			return http_problem_store(res, req, rc, NULL);
	}
	if (k->after_write && (rc = k->after_write(name, spec)) != STORE_OK)
		return http_problem_store(res, req, rc, NULL);
	return 0;
}

/* After a successful write: answers with the stored representation, then commits. */
static int
answer_and_commit(const struct resource_kind *k, struct http_request *req,
		  struct http_response *res, const char *name, int status)
{
	struct store_obj now;
	int rc = store_get(k->kind, name, &now);

	if (rc != STORE_OK) {
		store_rollback();
		return http_problem_store(res, req, rc, NULL);
	}
	res->body = resource_represent(k, &now, &req->who);
	res->last_modified_ms = now.modified_ms;
	store_obj_clear(&now);
	if ((rc = store_commit()) != STORE_OK) {
		json_decref(res->body);
		res->body = NULL;
		return http_problem_store(res, req, rc, NULL);
	}
	res->status = status;
	if (status == 201) {
		char loc[160];
		snprintf(loc, sizeof(loc), "/%s/%s", k->plural, name);
		res->location = strdup(loc);
	}
	return 0;
}

/* The current ETag of an object's representation (as GET would compute it). */
static void
current_etag(const struct resource_kind *k, const struct store_obj *o, const struct principal *w,
	     char etag[24])
{
	json_t *repr;

	etag[0] = '\0';
	if (o->spec == NULL)
		return;
	repr = resource_represent(k, o, w);
	http_etag_json(repr, etag);
	json_decref(repr);
}

/*
 * RFC 7396 merge patch: applies patch (borrowed) to target (stolen) and returns the result (new
 * reference). null members remove; objects merge recursively; anything else replaces.
 */
static json_t *
merge_patch(json_t *target, json_t *patch)
{
	const char *key;
	json_t *val;

	if (!json_is_object(patch)) {
		json_decref(target);
		return json_deep_copy(patch);
	}
	if (!json_is_object(target)) {
		json_decref(target);
		target = json_object();
	}
	json_object_foreach(patch, key, val)
	{
		if (json_is_null(val)) {
			json_object_del(target, key);
			continue;
		}
		json_t *cur = json_object_get(target, key);
		json_object_set_new(target, key, merge_patch(cur ? json_incref(cur) : NULL, val));
	}
	return target;
}

/* PUT (create or replace), PATCH (merge patch) or POST (create, name from the body). */
static int
write_item(const struct resource_kind *k, struct http_request *req, struct http_response *res,
	   const char *name, json_t *body, enum http_method how)
{
	struct store_obj old;
	char etag[24];
	bool created = false;
	int rc;

	if ((rc = store_write_begin()) != STORE_OK) {
		json_decref(body);
		return http_problem_store(res, req, rc, NULL);
	}
	rc = store_get(k->kind, name, &old);
	if (rc != STORE_OK && rc != STORE_NOTFOUND)
		goto fail_store;
	current_etag(k, &old, &req->who, etag);
	if (how == HTTP_PATCH && old.spec == NULL) {
		http_problem(res, req, 404, "not-found", "%s %s does not exist", k->kind, name);
		goto fail;
	}
	if (how == HTTP_POST && old.spec != NULL) {
		http_problem(res, req, 409, "conflict", "%s %s already exists", k->kind, name);
		goto fail;
	}
	if (http_check_write_preconditions(req, res, old.spec != NULL, etag) != 0)
		goto fail;
	if (how == HTTP_PATCH) {
		json_t *merged = json_deep_copy(old.spec);
		json_object_del(body, "_links");
		json_object_del(body, "_embedded");
		json_object_del(body, "status");
		if (json_object_get(body, "name") == NULL)
			json_object_set_new(merged, "name", json_string(name));
		json_t *patched = merge_patch(merged, body);
		json_decref(body);
		body = patched;
	}
	/* A merge patch already carries the stored members, so validate sees no "old" for it:
	 * a write-only member patched to null must stay removed. */
	struct store_obj none = {0};
	if (store_spec(k, req, res, name, body, how == HTTP_PATCH ? &none : &old, how == HTTP_POST,
		       &created) != 0)
		goto fail;
	json_decref(body);
	store_obj_clear(&old);
	return answer_and_commit(k, req, res, name, created ? 201 : 200);
fail_store:
	http_problem_store(res, req, rc, NULL);
fail:
	store_rollback();
	store_obj_clear(&old);
	json_decref(body);
	return -1;
}

int
resource_collection(const struct resource_kind *k, struct http_request *req,
		    struct http_response *res)
{
	struct verr e = {0};
	const char *name = NULL;
	json_t *body;

	switch (req->method) {
	case HTTP_GET:
	case HTTP_HEAD:
		return collection_get(k, req, res);
	case HTTP_POST:
		if ((body = http_parse_body(req, res, false)) == NULL)
			return -1;
		if (!v_name_ref(body, "name", true, &name, &e)) {
			json_decref(body);
			return http_problem_validation(res, req, &e);
		}
		char owned[STORE_NAME_MAX];
		snprintf(owned, sizeof(owned), "%s", name);
		return write_item(k, req, res, owned, body, HTTP_POST);
	default:
		return http_problem_method(res, req,
					   HTTP_GET | HTTP_HEAD | HTTP_POST | HTTP_OPTIONS);
	}
}

static int
item_delete(const struct resource_kind *k, struct http_request *req, struct http_response *res,
	    const char *name)
{
	struct store_obj old;
	char etag[24], detail[256];
	int rc;

	if ((rc = store_write_begin()) != STORE_OK)
		return http_problem_store(res, req, rc, NULL);
	rc = store_get(k->kind, name, &old);
	if (rc != STORE_OK) {
		store_rollback();
		if (rc == STORE_NOTFOUND)
			return http_problem(res, req, 404, "not-found", "%s %s does not exist",
					    k->kind, name);
		return http_problem_store(res, req, rc, NULL);
	}
	current_etag(k, &old, &req->who, etag);
	store_obj_clear(&old);
	if (http_check_write_preconditions(req, res, true, etag) != 0) {
		store_rollback();
		return -1;
	}
	rc = store_delete(k->kind, name, detail, sizeof(detail));
	if (rc == STORE_OK && k->after_write)
		rc = k->after_write(name, NULL);
	if (rc != STORE_OK) {
		store_rollback();
		return http_problem_store(res, req, rc, detail);
	}
	if ((rc = store_commit()) != STORE_OK)
		return http_problem_store(res, req, rc, NULL);
	res->status = 204;
	return 0;
}

int
resource_item(const struct resource_kind *k, struct http_request *req, struct http_response *res)
{
	const char *name = req->params[0];
	struct store_obj obj;
	json_t *body;
	int rc;

	switch (req->method) {
	case HTTP_GET:
	case HTTP_HEAD:
		rc = valid_name(name) ? store_get(k->kind, name, &obj) : STORE_NOTFOUND;
		if (rc == STORE_NOTFOUND)
			return http_problem(res, req, 404, "not-found", "%s %s does not exist",
					    k->kind, name);
		if (rc != STORE_OK)
			return http_problem_store(res, req, rc, NULL);
		res->body = resource_represent(k, &obj, &req->who);
		res->last_modified_ms = obj.modified_ms;
		res->status = 200;
		store_obj_clear(&obj);
		return 0;
	case HTTP_PUT:
	case HTTP_PATCH:
		if ((body = http_parse_body(req, res, req->method == HTTP_PATCH)) == NULL)
			return -1;
		if (!valid_name(name)) {
			struct verr e = {0};
			json_decref(body);
			verr_add(&e, "/name", "must be a name: lowercase letters, digits and '-'");
			return http_problem_validation(res, req, &e);
		}
		return write_item(k, req, res, name, body, req->method);
	case HTTP_DELETE:
		if (!valid_name(name))
			return http_problem(res, req, 404, "not-found", "%s %s does not exist",
					    k->kind, name);
		return item_delete(k, req, res, name);
	default:
		return http_problem_method(res, req,
					   HTTP_GET | HTTP_HEAD | HTTP_PUT | HTTP_PATCH |
					       HTTP_DELETE | HTTP_OPTIONS);
	}
}
