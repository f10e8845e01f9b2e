/* The check resource: a health check (keepalived's TCP_CHECK, HTTP_GET, SSL_GET, MISC_CHECK) that
 * targets either a backend (run by the agents serving its VIP) or a node (run by that node's
 * agent, track_script-like through weight). Only its fields and links live here. */
#include <stdio.h>
#include <string.h>

#include "resource.h"

/* Spec members in the order they are stored and shown. */
static const char *const check_fields[] = {
    "name", "type", "backend",	     "node",	   "interval_ms", "timeout_ms", "rise", "fall",
    "port", "path", "expect_status", "verify_tls", "script",	  "weight",	"vips", NULL,
};
static const char *const check_vip_fields[] = {"vip", "weight", NULL};

static const char *const check_types[] = {"tcp", "http", "https", "script", NULL};

static const char *const check_filters[] = {"backend", "node", NULL};

#define CHECK_SCRIPT_MAX_ARGS 32
#define CHECK_PATH_MAX 1024
#define CHECK_VIPS_MAX 32 /* VIPs one node check names (each a ref: STORE_MAX_REFS) */

/* Which types a type-specific field belongs to. */
enum {
	T_TCP = 1 << 0,
	T_HTTP = 1 << 1,
	T_HTTPS = 1 << 2,
	T_SCRIPT = 1 << 3,
};

/* T_* bit of a valid type name, 0 for NULL (type missing or invalid). */
static int
type_bit(const char *type)
{
	if (type == NULL)
		return 0;
	if (strcmp(type, "tcp") == 0)
		return T_TCP;
	if (strcmp(type, "http") == 0)
		return T_HTTP;
	if (strcmp(type, "https") == 0)
		return T_HTTPS;
	return T_SCRIPT;
}

/*
 * Is field key usable with this check? type is a T_* bit, or 0 when the type is missing or bad
 * (then every field is given the benefit of the doubt, so the client sees only the /type error
 * and the value errors). When it is not, records "not allowed" at /key and returns false; an
 * absent field is not an error.
 */
static bool
field_applies(json_t *spec, const char *key, int type, int allowed_types, const char *what,
	      struct verr *e)
{
	char ptr[64];

	if (type == 0 || (type & allowed_types) != 0)
		return true;
	if (json_object_get(spec, key) != NULL)
		verr_add(e, v_ptr(ptr, sizeof(ptr), key, -1), "is only allowed for %s checks",
			 what);
	return false;
}

/*
 * A change of type or target (PATCH {"type": "tcp"} on an http check) would otherwise trip over
 * the defaults that the server itself filled in for the old type. So a field that no longer
 * applies is dropped when it is unchanged from the stored spec (old, NULL on create) and still
 * has its default value; anything else the client carried over is a 422 as usual.
 */
static void
drop_stale_defaults(json_t *spec, const json_t *old, int type, int target)
{
	static const struct {
		const char *key;
		int types; /* T_* bits the field applies to; 0: node checks only */
		const char *dflt;
	} d[] = {
	    {"path", T_HTTP | T_HTTPS, "\"/\""},
	    {"expect_status", T_HTTP | T_HTTPS, "200"},
	    {"verify_tls", T_HTTPS, "true"},
	    {"weight", 0, "0"},
	};

	if (old == NULL)
		return;
	for (size_t i = 0; i < sizeof(d) / sizeof(d[0]); i++) {
		json_t *v = json_object_get(spec, d[i].key), *dflt;
		bool stale = target == 'b';

		if (d[i].types != 0)
			stale = type != 0 && (type & d[i].types) == 0;
		if (v == NULL || !stale || !json_equal(v, json_object_get(old, d[i].key)))
			continue;
		dflt = json_loads(d[i].dflt, JSON_DECODE_ANY, NULL);
		if (json_equal(v, dflt))
			json_object_del(spec, d[i].key);
		json_decref(dflt);
	}
}

/* The HTTP request path: starts with '/', at most 1024 bytes, no spaces or control characters. */
static void
check_path(json_t *spec, struct verr *e)
{
	const char *s;
	size_t len;

	if (!v_string(spec, "path", false, 1, CHECK_PATH_MAX, &s, e))
		return;
	len = json_string_length(json_object_get(spec, "path"));
	if (s[0] != '/' || strchr(s, ' ') != NULL || v_has_control(s, len))
		verr_add(e, "/path",
			 "must start with '/' and contain no spaces or control characters");
}

/*
 * The target: exactly one of backend and node, naming an object that exists. Returns 'b' or 'n'
 * for a usable target, 0 otherwise. Only a definite "not found" is a 422; a store failure is
 * left to store_put, which refuses the dangling reference with its own error.
 */
static int
check_target(json_t *spec, struct verr *e)
{
	bool has_b = json_object_get(spec, "backend") != NULL;
	bool has_n = json_object_get(spec, "node") != NULL;
	const char *kind = has_b ? "backend" : "node", *target;
	struct store_obj obj;
	char ptr[64];

	if (has_b == has_n) {
		const char *why = has_b ? "only one of backend and node may be given"
					: "one of backend and node is required";
		verr_add(e, "/backend", "%s", why);
		verr_add(e, "/node", "%s", why);
		return 0;
	}
	if (!v_name_ref(spec, kind, true, &target, e))
		return 0;
	memset(&obj, 0, sizeof(obj));
	if (store_get(kind, target, &obj) == STORE_NOTFOUND) {
		verr_add(e, v_ptr(ptr, sizeof(ptr), kind, -1), "no %s named %s", kind, target);
		store_obj_clear(&obj);
		return 0;
	}
	store_obj_clear(&obj);
	return has_b ? 'b' : 'n';
}

/*
 * A node check's "vips" (keepalived's per-instance track_script, issue 11): absent, every VIP of
 * the node tracks the check with its weight; else [{vip, weight?}], only those VIPs, each with
 * its own weight when given. VIPs must exist and be named once.
 */
static void
check_vips(json_t *spec, struct verr *e)
{
	json_t *list = json_object_get(spec, "vips"), *v;
	size_t i, j;

	if (list == NULL)
		return;
	if (!json_is_array(list) || json_array_size(list) > CHECK_VIPS_MAX) {
		verr_add(e, "/vips", "must be an array of at most %d {vip, weight}",
			 CHECK_VIPS_MAX);
		return;
	}
	json_array_foreach(list, i, v)
	{
		struct verr sub = {0};
		struct store_obj obj = {0};
		const char *vip = NULL;
		json_int_t n;
		char ptr[32];

		snprintf(ptr, sizeof(ptr), "/vips/%zu", i);
		if (!json_is_object(v)) {
			verr_add(e, ptr, "must be an object {vip, weight}");
			continue;
		}
		v_only_fields(v, check_vip_fields, &sub);
		if (v_name_ref(v, "vip", true, &vip, &sub) &&
		    store_get("vip", vip, &obj) == STORE_NOTFOUND)
			verr_add(&sub, "/vip", "no vip named %s", vip);
		store_obj_clear(&obj);
		for (j = 0; vip != NULL && j < i; j++)
			if (json_equal(json_object_get(json_array_get(list, j), "vip"),
				       json_object_get(v, "vip")))
				verr_add(&sub, "/vip", "names a VIP listed before");
		v_int(v, "weight", false, -253, 253, 0, false, &n, &sub);
		v_order_fields(v, check_vip_fields);
		verr_nest(e, ptr, &sub);
	}
}

/*
 * Validates a check spec in place. Defaults: interval_ms 2000, timeout_ms 1000, rise and fall 1;
 * for http/https path "/" and expect_status 200; for https verify_tls true; for node checks
 * weight 0; "name" set from the URL, members in canonical order. A field of another type (or
 * weight on a backend check) is a 422 at its pointer. port stays absent on backend checks when
 * not given: the agent then uses the backend's port, so a later change of that port carries over.
 * old (the stored spec on replace, else NULL) only serves drop_stale_defaults().
 */
static void
check_validate(json_t *spec, const char *name, const json_t *old, struct verr *e)
{
	const char *type = NULL, *body_name;
	json_int_t n;
	bool b;
	int t, target;

	v_only_fields(spec, check_fields, e);
	body_name = json_string_value(json_object_get(spec, "name"));
	if (json_object_get(spec, "name") != NULL && (body_name == NULL || strcmp(body_name, name)))
		verr_add(e, "/name", "must equal the name in the URL (%s)", name);
	json_object_set_new(spec, "name", json_string(name));
	v_enum(spec, "type", true, check_types, NULL, &type, e);
	t = type_bit(type);
	target = check_target(spec, e);
	drop_stale_defaults(spec, old, t, target);

	v_int(spec, "interval_ms", false, 100, 3600000, 2000, true, &n, e);
	v_int(spec, "timeout_ms", false, 10, 60000, 1000, true, &n, e);
	v_int(spec, "rise", false, 1, 100, 1, true, &n, e);
	v_int(spec, "fall", false, 1, 100, 1, true, &n, e);

	if (field_applies(spec, "port", t, T_TCP | T_HTTP | T_HTTPS, "tcp, http and https", e)) {
		/* A node has no port of its own to fall back on. */
		bool need = target == 'n' && t != 0;
		v_int(spec, "port", need, 1, 65535, 0, false, &n, e);
	}
	if (field_applies(spec, "path", t, T_HTTP | T_HTTPS, "http and https", e)) {
		if (t != 0 && json_object_get(spec, "path") == NULL)
			json_object_set_new(spec, "path", json_string("/"));
		check_path(spec, e);
	}
	if (field_applies(spec, "expect_status", t, T_HTTP | T_HTTPS, "http and https", e))
		v_int(spec, "expect_status", false, 100, 599, 200, t != 0, &n, e);
	if (field_applies(spec, "verify_tls", t, T_HTTPS, "https", e))
		v_bool(spec, "verify_tls", false, true, t != 0, &b, e);
	if (field_applies(spec, "script", t, T_SCRIPT, "script", e)) {
		if (t != 0 || json_object_get(spec, "script") != NULL)
			v_script_argv(spec, "script", CHECK_SCRIPT_MAX_ARGS, e);
	}

	if (target == 'b' && json_object_get(spec, "weight") != NULL)
		verr_add(e, "/weight", "is only allowed for node checks");
	else if (target != 'b')
		v_int(spec, "weight", false, -253, 253, 0, target == 'n', &n, e);
	if (target == 'b' && json_object_get(spec, "vips") != NULL)
		verr_add(e, "/vips", "is only allowed for node checks");
	else if (target != 'b')
		check_vips(spec, e);
	v_order_fields(spec, check_fields);
}

/* A check references its backend or its node, and the VIPs it names (deleting any of them is
 * refused while it does). */
static void
check_links(const json_t *spec, struct store_links *out, char *scratch, size_t scratch_len)
{
	json_t *v;
	size_t i;
	const char *backend = json_string_value(json_object_get(spec, "backend"));
	const char *node = json_string_value(json_object_get(spec, "node"));

	(void)scratch;
	(void)scratch_len;
	memset(out, 0, sizeof(*out));
	if (backend != NULL) {
		out->refs[out->n_refs].kind = "backend";
		out->refs[out->n_refs++].name = backend;
	}
	if (node != NULL) {
		out->refs[out->n_refs].kind = "node";
		out->refs[out->n_refs++].name = node;
	}
	json_array_foreach(json_object_get(spec, "vips"), i, v)
	{
		if (out->n_refs >= STORE_MAX_REFS)
			break;
		out->refs[out->n_refs].kind = "vip";
		out->refs[out->n_refs++].name = json_string_value(json_object_get(v, "vip"));
	}
}

/* Adds vg:backend or vg:node, the check's target. */
static void
check_decorate(json_t *repr, const struct store_obj *obj, const struct principal *who)
{
	const char *backend = json_string_value(json_object_get(repr, "backend"));
	const char *node = json_string_value(json_object_get(repr, "node"));

	(void)obj;
	(void)who;
	if (backend != NULL)
		hal_link(repr, "vg:backend", "/backends/%s", backend);
	if (node != NULL)
		hal_link(repr, "vg:node", "/nodes/%s", node);
}

/* No node has reported a result yet. Caller owns the result. */
static json_t *
check_initial_status(const json_t *spec)
{
	(void)spec;
	return json_pack("{s:{}}", "results");
}

const struct resource_kind res_check_kind = {
    .kind = "check",
    .plural = "checks",
    .validate = check_validate,
    .links = check_links,
    .decorate = check_decorate,
    .redact = NULL,
    .initial_status = check_initial_status,
    .filters = check_filters,
    .after_write = NULL,
};
