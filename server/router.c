/* The route table and the order of checks every request goes through (RFC 9110 status codes):
 * 501 unknown method, 414 long target, CORS preflight, 401, 404, 405, 403, OPTIONS, 406.
 * 401 comes before 404 and 405 so that a caller without a valid token learns nothing about a
 * protected path, not even which methods it has (RFC 9110 leaves the order to the server). */
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "auth.h"
#include "cache.h"
#include "res_import.h"
#include "res_node.h"
#include "res_vip.h"
#include "resource.h"
#include "router.h"

#define MAX_TARGET 4096

enum { R = HTTP_GET | HTTP_HEAD | HTTP_OPTIONS };
enum { COLL = R | HTTP_POST, ITEM = R | HTTP_PUT | HTTP_PATCH | HTTP_DELETE };

enum offer { OFFER_JSON, OFFER_CONFIG, OFFER_TEXT, OFFER_HTML, OFFER_YAML, OFFER_ANY };

struct route {
	const char *pattern; /* '*' matches one path segment, which becomes a parameter */
	unsigned methods;
	enum auth_role read_min; /* NONE: no authentication at all */
	enum auth_role write_min;
	bool agent_self; /* the agent of node params[0] may read (and write, for status) */
	enum offer offer;
	int (*fn)(struct http_request *, struct http_response *);
	const struct resource_kind *kind; /* generic resource: fn NULL */
};

static const struct route routes[] = {
    {"/", R, ROLE_AGENT, ROLE_ADMIN, false, OFFER_JSON, res_root, NULL},
    {"/healthz", R, ROLE_NONE, ROLE_NONE, false, OFFER_JSON, res_healthz, NULL},
    {"/openapi.yaml", R, ROLE_NONE, ROLE_NONE, false, OFFER_YAML, res_openapi, NULL},
    {"/rels/*", R, ROLE_NONE, ROLE_NONE, false, OFFER_HTML, res_doc, NULL},
    {"/problems/*", R, ROLE_NONE, ROLE_NONE, false, OFFER_HTML, res_doc, NULL},
    {"/ui", R, ROLE_NONE, ROLE_NONE, false, OFFER_ANY, res_ui, NULL},
    {"/ui/", R, ROLE_NONE, ROLE_NONE, false, OFFER_ANY, res_ui, NULL},
    {"/ui/*", R, ROLE_NONE, ROLE_NONE, false, OFFER_ANY, res_ui, NULL},
    {"/metrics", R, ROLE_VIEWER, ROLE_ADMIN, false, OFFER_TEXT, res_metrics, NULL},
    {"/events", R, ROLE_VIEWER, ROLE_ADMIN, false, OFFER_JSON, res_events, NULL},
    {"/nodes", COLL, ROLE_VIEWER, ROLE_OPERATOR, false, OFFER_JSON, NULL, &res_node_kind},
    {"/nodes/*", ITEM, ROLE_VIEWER, ROLE_OPERATOR, true, OFFER_JSON, NULL, &res_node_kind},
    {"/nodes/*/status", R | HTTP_PUT, ROLE_VIEWER, ROLE_ADMIN, true, OFFER_JSON, res_node_status,
     NULL},
    {"/nodes/*/config", R, ROLE_VIEWER, ROLE_ADMIN, true, OFFER_CONFIG, res_node_config, NULL},
    {"/vips", COLL, ROLE_VIEWER, ROLE_OPERATOR, false, OFFER_JSON, NULL, &res_vip_kind},
    {"/vips/*", ITEM, ROLE_VIEWER, ROLE_OPERATOR, false, OFFER_JSON, NULL, &res_vip_kind},
    {"/vips/*/holder", R | HTTP_PUT | HTTP_DELETE, ROLE_VIEWER, ROLE_OPERATOR, false, OFFER_JSON,
     res_vip_holder, NULL},
    {"/backends", COLL, ROLE_VIEWER, ROLE_OPERATOR, false, OFFER_JSON, NULL, &res_backend_kind},
    {"/backends/*", ITEM, ROLE_VIEWER, ROLE_OPERATOR, false, OFFER_JSON, NULL, &res_backend_kind},
    {"/checks", COLL, ROLE_VIEWER, ROLE_OPERATOR, false, OFFER_JSON, NULL, &res_check_kind},
    {"/checks/*", ITEM, ROLE_VIEWER, ROLE_OPERATOR, false, OFFER_JSON, NULL, &res_check_kind},
    {"/imports", HTTP_POST | HTTP_OPTIONS, ROLE_OPERATOR, ROLE_OPERATOR, false, OFFER_JSON,
     res_imports, NULL},
    {"/imports/*", R, ROLE_VIEWER, ROLE_ADMIN, false, OFFER_JSON, res_import, NULL},
    {"/tokens", COLL, ROLE_ADMIN, ROLE_ADMIN, false, OFFER_JSON, res_tokens, NULL},
    {"/tokens/*", R | HTTP_DELETE, ROLE_ADMIN, ROLE_ADMIN, false, OFFER_JSON, res_token, NULL},
};

/* Matches path against pattern, storing segment parameters into req. */
static bool
match(const char *pattern, const char *path, struct http_request *req)
{
	static __thread char segs[HTTP_MAX_PARAMS][256];
	int n = 0;

	while (*pattern != '\0' && *path != '\0') {
		if (*pattern == '*') {
			size_t len = strcspn(path, "/");
			if (len == 0 || len >= sizeof(segs[0]) || n == HTTP_MAX_PARAMS)
				return false;
			memcpy(segs[n], path, len);
			segs[n][len] = '\0';
			req->params[n] = segs[n];
			n++;
			pattern++;
			path += len;
			continue;
		}
		if (*pattern++ != *path++)
			return false;
	}
	if (*pattern != '\0' || *path != '\0')
		return false;
	req->n_params = n;
	return true;
}

static const char *const offers_json[] = {MT_HAL, MT_JSON};
static const char *const offers_config[] = {MT_HAL, MT_JSON, "text/plain"};
static const char *const offers_text[] = {"text/plain"};
static const char *const offers_html[] = {"text/html"};
static const char *const offers_yaml[] = {"application/yaml", "text/yaml", "text/plain"};
static const char *const offers_any[] = {"*/*"};

static const char *
negotiate(const struct route *rt, const char *accept)
{
	const char *const *o;
	int n, i;

	switch (rt->offer) {
	case OFFER_CONFIG:
		o = offers_config;
		n = 3;
		break;
	case OFFER_TEXT:
		o = offers_text;
		n = 1;
		break;
	case OFFER_HTML:
		o = offers_html;
		n = 1;
		break;
	case OFFER_YAML:
		o = offers_yaml;
		n = 3;
		break;
	case OFFER_ANY:
		return offers_any[0]; /* static files: the handler picks the type */
	default:
		o = offers_json;
		n = 2;
		break;
	}
	i = http_negotiate(accept, o, n);
	return i < 0 ? NULL : o[i];
}

/* May who do method on this route (with path parameters in req)? */
static bool
allowed(const struct route *rt, const struct http_request *req)
{
	bool read = req->method & (HTTP_GET | HTTP_HEAD | HTTP_OPTIONS);
	enum auth_role need = read ? rt->read_min : rt->write_min;

	if (req->who.role == ROLE_AGENT)
		return (rt->agent_self && req->n_params > 0 &&
			strcmp(req->params[0], req->who.node) == 0 &&
			(read || strcmp(rt->pattern, "/nodes/*/status") == 0)) ||
		       (read && need == ROLE_AGENT);
	return req->who.role >= need;
}

/* Appends s percent-encoded (everything but unreserved characters) at key[*o]. Returns 0, or -1
 * when it does not fit. */
static int
key_escape(char *key, size_t len, size_t *o, const char *s)
{
	static const char hex[] = "0123456789ABCDEF";

	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if (*o + 4 >= len)
			return -1;
		if (isalnum(*p) || *p == '-' || *p == '_' || *p == '.' || *p == '~') {
			key[(*o)++] = (char)*p;
		} else {
			key[(*o)++] = '%';
			key[(*o)++] = hex[*p >> 4];
			key[(*o)++] = hex[*p & 15];
		}
	}
	key[*o] = '\0';
	return 0;
}

/* The answer cache's key of req: who asks (role, node), the negotiated type, the path and the
 * decoded query with every key and value percent-encoded again, so that no two different
 * requests share one. Returns 0, or -1 when it does not fit (the answer is then not cached). */
static int
cache_key(const struct http_request *req, char *key, size_t len)
{
	int w = snprintf(key, len, "%d|%s|%s|", req->who.role, req->who.node, req->media_type);
	size_t o = w < 0 || (size_t)w >= len ? len : (size_t)w;

	if (o >= len || key_escape(key, len, &o, req->path) != 0)
		return -1;
	for (int i = 0; i < req->n_query; i++) {
		if (o + 2 >= len)
			return -1;
		key[o++] = i ? '&' : '?';
		key[o] = '\0';
		if (key_escape(key, len, &o, req->query_keys[i]) != 0 || o + 2 >= len)
			return -1;
		key[o++] = '=';
		key[o] = '\0';
		if (key_escape(key, len, &o, req->query_vals[i]) != 0)
			return -1;
	}
	return 0;
}

static void
unauthorized(struct http_request *req, struct http_response *res)
{
	bool given = req->authorization != NULL;

	http_problem(res, req, 401, "unauthorized",
		     given ? "the token is not valid (revoked or mistyped)"
			   : "send Authorization: Bearer <token>");
	res->extra_name = "WWW-Authenticate";
	res->extra_value =
	    given ? "Bearer realm=\"vigil\", error=\"invalid_token\"" : "Bearer realm=\"vigil\"";
}

/* Everything that can refuse a request before its body is read: method, path, authentication,
 * the route's methods and roles. Returns the route, or NULL with res filled (a problem, or the
 * answer to OPTIONS). */
static const struct route *
admit(struct http_request *req, struct http_response *res)
{
	const struct route *rt = NULL;

	if (req->method == HTTP_UNKNOWN) {
		http_problem(res, req, 501, "not-implemented", "method %s is not implemented",
			     req->method_name);
		return NULL;
	}
	if (strlen(req->path) > MAX_TARGET) {
		http_problem(res, req, 414, "uri-too-long", "the request target is over %d bytes",
			     MAX_TARGET);
		return NULL;
	}
	for (size_t i = 0; i < sizeof(routes) / sizeof(routes[0]); i++)
		if (match(routes[i].pattern, req->path, req)) {
			rt = &routes[i];
			break;
		}
	if (rt != NULL && req->preflight) {
		res->status = 204; /* CORS preflight: headers added by the server layer */
		http_allow_string(rt->methods, res->allow, sizeof(res->allow));
		return NULL;
	}
	if ((rt == NULL || rt->read_min != ROLE_NONE) &&
	    auth_resolve(req->authorization, &req->who) != 0) {
		unauthorized(req, res);
		return NULL;
	}
	if (rt == NULL) {
		http_problem(res, req, 404, "not-found", "no resource at %s", req->path);
		return NULL;
	}
	if (!(rt->methods & req->method)) {
		http_problem_method(res, req, rt->methods);
		return NULL;
	}
	/* OPTIONS is a read like GET (the spec's roles): a caller who may not GET a resource is
	 * not told its methods either. */
	if (rt->read_min != ROLE_NONE && !allowed(rt, req)) {
		http_problem(res, req, 403, "forbidden", "the %s role may not %s %s",
			     auth_role_name(req->who.role), req->method_name, req->path);
		return NULL;
	}
	if (req->method == HTTP_OPTIONS) {
		res->status = 204;
		http_allow_string(rt->methods, res->allow, sizeof(res->allow));
		return NULL;
	}
	return rt;
}

int
router_precheck(struct http_request *req, struct http_response *res)
{
	if (admit(req, res) != NULL)
		return 0;
	return res->status != 0 ? -1 : 0;
}

void
router_dispatch(struct http_request *req, struct http_response *res, struct store_keys *deps,
		int64_t *rev0)
{
	const struct route *rt = admit(req, res);

	if (rt == NULL)
		return;
	if ((req->media_type = negotiate(rt, req->accept)) == NULL) {
		http_problem(res, req, 406, "not-acceptable", "this resource is available as %s",
			     rt->offer == OFFER_JSON ? MT_HAL " or " MT_JSON
						     : "another media type");
		return;
	}
	/* Everything but /metrics and what a handler marks no_store derives from the store alone:
	 * an answer stays right until one of the keys it read is touched. */
	bool cacheable =
	    (req->method & (HTTP_GET | HTTP_HEAD)) && !req->pretty && rt->fn != res_metrics;
	char key[1536];
	if (cacheable && cache_key(req, key, sizeof(key)) != 0)
		cacheable = false;
	if (cacheable && cache_get(key, res, deps, rev0))
		return;
	struct store_keys mine = {0}, *d = deps != NULL ? deps : &mine;
	*rev0 = store_revision(); /* before reading: what it reads is at least this new */
	store_track_begin(d);
	if (rt->kind != NULL)
		(strchr(rt->pattern, '*') ? resource_item : resource_collection)(rt->kind, req,
										 res);
	else
		rt->fn(req, res);
	store_track_end();
	if (cacheable && res->status == 200 && !res->is_problem && !res->nothing_yet &&
	    !res->no_store) {
		http_serialize(res);
		cache_put(key, d, *rev0, res);
	}
	store_keys_clear(&mine);
}
