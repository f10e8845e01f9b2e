/* The generic resource: collections with cursor paging and items with GET, PUT, PATCH, DELETE,
 * each write one store transaction with its preconditions checked against the current ETag. The
 * kind-specific rules come from struct resource_kind. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "resource.h"
#include "write.h"

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

/* An item's own representation: resource_represent plus what the kind keeps in memory. Sets
 * res->no_store when there is such a part (when res is non-NULL). Caller owns the result. */
static json_t *
represent_item(const struct resource_kind *k, const struct store_obj *obj,
	       const struct principal *who, struct http_response *res)
{
	json_t *repr = resource_represent(k, obj, who);

	if (k->live != NULL) {
		k->live(repr, obj);
		if (res != NULL)
			res->no_store = true;
	}
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

/* Builds the templated search link "/vips{?node,group}" from the kind's filters. */
static void
find_link(const struct resource_kind *k, json_t *repr)
{
	const char *const *lists[] = {k->filters, k->tag_filters};
	char href[160];
	size_t o;
	int n = 0;

	if (k->filters == NULL || k->filters[0] == NULL)
		return;
	o = (size_t)snprintf(href, sizeof(href), "/%s{?", k->plural);
	for (size_t l = 0; l < 2; l++)
		for (int i = 0; lists[l] != NULL && lists[l][i] != NULL; i++)
			o += (size_t)snprintf(href + o, sizeof(href) - o, "%s%s", n++ ? "," : "",
					      lists[l][i]);
	snprintf(href + o, sizeof(href) - o, "}");
	hal_link_templated(repr, "vg:find", href);
}

static int
collection_get(const struct resource_kind *k, struct http_request *req, struct http_response *res)
{
	struct page p;
	const char *fkey = NULL, *fval = NULL;
	bool by_tag = false;
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
	for (int i = 0; fkey == NULL && k->tag_filters && k->tag_filters[i] != NULL; i++)
		if ((fval = http_query(req, k->tag_filters[i])) != NULL) {
			fkey = k->tag_filters[i];
			by_tag = true;
			snprintf(base, sizeof(base), "/%s?%s=%s", k->plural, fkey,
				 http_qs_escape(fval, esc, sizeof(esc)));
		}
	objs = calloc((size_t)p.limit + 1, sizeof(*objs));
	if (objs == NULL)
		return http_problem(res, req, 503, "unavailable", "out of memory");
	n = (by_tag ? store_list_tagged
		    : store_list)(k->kind, fkey, fval, p.after[0] ? p.after : NULL,
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
	/* A filtered page depends on its filter's key alone ("node/lb1<vip"), not on every object
	 * of the kind: the kind's latest change is an upper bound for its Last-Modified. */
	struct store_keys *tracking = fkey != NULL ? store_track_swap(NULL) : NULL;
	res->last_modified_ms = store_kind_modified_ms(k->kind);
	if (fkey != NULL)
		store_track_swap(tracking);
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

int
resource_apply(const struct resource_kind *k, struct store_tx *tx, const char *name, json_t *spec,
	       const json_t *old, bool must_create, bool keep_same, struct verr *e, char *detail,
	       size_t detail_len, enum resource_did *did)
{
	struct store_links links;
	char scratch[2048];
	bool created = false;
	int rc;

	take_name(spec, name, e);
	k->validate(spec, name, old, e);
	if (verr_any(e))
		return RESOURCE_INVALID;
	if (keep_same && old != NULL && json_equal(spec, old)) {
		*did = RESOURCE_UNCHANGED;
		return STORE_OK;
	}
	memset(&links, 0, sizeof(links));
	if (k->links)
		k->links(spec, &links, scratch, sizeof(scratch));
	rc = store_put(tx, k->kind, name, spec, &links, must_create, &created, detail, detail_len);
	if (rc != STORE_OK)
		return rc;
	*did = created ? RESOURCE_CREATED : RESOURCE_UPDATED;
	if (created && k->initial_status) {
		json_t *st = k->initial_status(spec);
		rc = st ? store_set_status(tx, k->kind, name, st) : STORE_OK;
		json_decref(st);
		if (rc != STORE_OK)
			return rc;
	}
	if (k->after_write)
		return k->after_write(tx, name, spec);
	return STORE_OK;
}

/*
 * Validates spec (owned by the caller) and stores it as (kind, name) through w->tx. old is the
 * current object (spec NULL when absent). Fills *created. Returns STORE_OK, a store_rc (detail in
 * w->detail) or WRITE_ANSWERED (422 in w->res).
 */
static int
store_spec(const struct resource_kind *k, struct write_ctx *w, const char *name, json_t *spec,
	   const struct store_obj *old, bool must_create, bool *created)
{
	struct verr e = {0};
	enum resource_did did = RESOURCE_UNCHANGED;
	int rc = resource_apply(k, w->tx, name, spec, old->spec, must_create, false, &e, w->detail,
				sizeof(w->detail), &did);

	*created = did == RESOURCE_CREATED;
	if (rc == RESOURCE_INVALID) {
		http_problem_validation(w->res, w->req, &e);
		return WRITE_ANSWERED;
	}
	return rc;
}

/* After a successful write: puts the stored representation into the answer (committed by the
 * runner afterwards). Returns a store_rc. */
static int
answer_written(const struct resource_kind *k, struct write_ctx *w, const char *name, int status)
{
	struct store_obj now;
	int rc = store_get(k->kind, name, &now);

	if (rc != STORE_OK)
		return rc;
	w->res->body = represent_item(k, &now, &w->req->who, w->res);
	w->res->last_modified_ms = now.modified_ms;
	store_obj_clear(&now);
	w->res->status = status;
	if (status == 201) {
		char loc[160];
		snprintf(loc, sizeof(loc), "/%s/%s", k->plural, name);
		w->res->location = strdup(loc);
	}
	return STORE_OK;
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
	repr = represent_item(k, o, w, NULL);
	http_etag_json(repr, etag);
	json_decref(repr);
}

json_t *
resource_merge_patch(json_t *target, json_t *patch)
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
		json_object_set_new(target, key,
				    resource_merge_patch(cur ? json_incref(cur) : NULL, val));
	}
	return target;
}

/* One item write: PUT, PATCH, POST or DELETE of (k, name). body is owned (NULL for DELETE). */
struct item_write {
	const struct resource_kind *k;
	const char *name;
	json_t *body;
	enum http_method how;
	struct store_obj old; /* read by item_current; spec NULL when absent */
};

static int
item_current(struct write_ctx *w, void *arg, bool *exists, char etag[24])
{
	struct item_write *iw = arg;
	const struct resource_kind *k = iw->k;
	int rc = store_get(k->kind, iw->name, &iw->old);

	if (rc != STORE_OK && rc != STORE_NOTFOUND)
		return rc;
	*exists = iw->old.spec != NULL;
	current_etag(k, &iw->old, &w->req->who, etag);
	if (!*exists && (iw->how == HTTP_PATCH || iw->how == HTTP_DELETE)) {
		http_problem(w->res, w->req, 404, "not-found", "%s %s does not exist", k->kind,
			     iw->name);
		return WRITE_ANSWERED;
	}
	if (*exists && iw->how == HTTP_POST) {
		http_problem(w->res, w->req, 409, "conflict", "%s %s already exists", k->kind,
			     iw->name);
		return WRITE_ANSWERED;
	}
	return STORE_OK;
}

static int
item_apply(struct write_ctx *w, void *arg)
{
	struct item_write *iw = arg;
	const struct resource_kind *k = iw->k;
	struct store_obj none = {0};
	bool created = false;
	int rc;

	if (iw->how == HTTP_DELETE) {
		rc = store_delete(w->tx, k->kind, iw->name, w->detail, sizeof(w->detail));
		if (rc == STORE_OK && k->after_write)
			rc = k->after_write(w->tx, iw->name, NULL);
		w->res->status = 204;
		return rc;
	}
	if (iw->how == HTTP_PATCH) {
		json_t *merged = json_deep_copy(iw->old.spec);
		json_object_del(iw->body, "_links");
		json_object_del(iw->body, "_embedded");
		json_object_del(iw->body, "status");
		if (json_object_get(iw->body, "name") == NULL)
			json_object_set_new(merged, "name", json_string(iw->name));
		json_t *patched = resource_merge_patch(merged, iw->body);
		json_decref(iw->body);
		iw->body = patched;
	}
	/* A merge patch already carries the stored members, so validate sees no "old" for it:
	 * a write-only member patched to null must stay removed. */
	rc = store_spec(k, w, iw->name, iw->body, iw->how == HTTP_PATCH ? &none : &iw->old,
			iw->how == HTTP_POST, &created);
	if (rc != STORE_OK)
		return rc;
	return answer_written(k, w, iw->name, created ? 201 : 200);
}

static const struct write_ops item_ops = {item_current, item_apply};

/* Runs one item write; consumes body. */
static int
write_item(const struct resource_kind *k, struct http_request *req, struct http_response *res,
	   const char *name, json_t *body, enum http_method how)
{
	struct item_write iw = {.k = k, .name = name, .body = body, .how = how};
	int ret = write_run(req, res, &item_ops, &iw);

	store_obj_clear(&iw.old);
	json_decref(iw.body);
	return ret;
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
		res->body = represent_item(k, &obj, &req->who, res);
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
		return write_item(k, req, res, name, NULL, HTTP_DELETE);
	default:
		return http_problem_method(res, req,
					   HTTP_GET | HTTP_HEAD | HTTP_PUT | HTTP_PATCH |
					       HTTP_DELETE | HTTP_OPTIONS);
	}
}
