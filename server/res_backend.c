/* The backend resource: a real server behind a VIP (address, port, weight, admin state) and the
 * names of the HAProxy server that stands for it. Only its fields and links live here; resource.c
 * does the HTTP and the store. Health ("status") is derived from check results elsewhere. */
#include <string.h>

#include "addr.h"
#include "resource.h"

/* Spec members in the order they are stored and shown. */
static const char *const backend_fields[] = {
    "name",	      "vip", "address", "port", "weight", "admin_state", "haproxy_backend",
    "haproxy_server", NULL,
};

static const char *const admin_states[] = {"enabled", "drain", "disabled", NULL};

static const char *const backend_filters[] = {"vip", NULL};

/* HAProxy proxy and server names: its own rules allow [A-Za-z0-9._:-]. */
static bool
valid_haproxy_name(const char *s)
{
	for (; *s != '\0'; s++) {
		char c = *s;
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '.' || c == '_' || c == ':' || c == '-'))
			return false;
	}
	return true;
}

/* Optional HAProxy name field key: 1..63 characters of [A-Za-z0-9._:-]. */
static void
check_haproxy_name(json_t *spec, const char *key, struct verr *e)
{
	char ptr[64];
	const char *s;

	if (!v_string(spec, key, false, 1, 63, &s, e))
		return;
	if (!valid_haproxy_name(s))
		verr_add(e, v_ptr(ptr, sizeof(ptr), key, -1),
			 "may contain only letters, digits, '.', '_', ':' and '-'");
}

/*
 * Required IP address field key (IPv4 or IPv6, no prefix), replaced in spec by its canonical
 * text (inet_ntop). Errors go to e.
 */
static void
check_address(json_t *spec, const char *key, struct verr *e)
{
	char ptr[64], canon[ADDR_STRLEN];
	struct addr a;
	const char *s;

	if (!v_string(spec, key, true, 1, ADDR_STRLEN - 1, &s, e))
		return;
	if (strlen(s) != json_string_length(json_object_get(spec, key)) || addr_parse(s, &a) != 0) {
		verr_add(e, v_ptr(ptr, sizeof(ptr), key, -1),
			 "must be an IPv4 or IPv6 address without prefix");
		return;
	}
	json_object_set_new(spec, key, json_string(addr_format(&a, canon, sizeof(canon))));
}

/*
 * Validates a backend spec in place (defaults: weight 1, admin_state enabled; "name" set from the
 * URL, members in canonical order). The VIP must exist:
 * only a definite "not found" is a 422; a store failure is left to store_put, which refuses the
 * dangling reference with its own error.
 */
static void
backend_validate(json_t *spec, const char *name, const json_t *old, struct verr *e)
{
	struct store_obj vip;
	const char *s, *vip_name, *body_name;
	json_int_t n;

	(void)old;
	v_only_fields(spec, backend_fields, e);
	body_name = json_string_value(json_object_get(spec, "name"));
	if (json_object_get(spec, "name") != NULL && (body_name == NULL || strcmp(body_name, name)))
		verr_add(e, "/name", "must equal the name in the URL (%s)", name);
	json_object_set_new(spec, "name", json_string(name));
	if (v_name_ref(spec, "vip", true, &vip_name, e)) {
		memset(&vip, 0, sizeof(vip));
		if (store_get("vip", vip_name, &vip) == STORE_NOTFOUND)
			verr_add(e, "/vip", "no VIP named %s", vip_name);
		store_obj_clear(&vip);
	}
	check_address(spec, "address", e);
	v_int(spec, "port", true, 1, 65535, 0, false, &n, e);
	v_int(spec, "weight", false, 0, 255, 1, true, &n, e);
	v_enum(spec, "admin_state", false, admin_states, "enabled", &s, e);
	check_haproxy_name(spec, "haproxy_backend", e);
	check_haproxy_name(spec, "haproxy_server", e);
	v_order_fields(spec, backend_fields);
}

/* A backend references its VIP (deleting the VIP is refused while it does). No unique keys. */
static void
backend_links(const json_t *spec, struct store_links *out, char *scratch, size_t scratch_len)
{
	const char *vip = json_string_value(json_object_get(spec, "vip"));

	(void)scratch;
	(void)scratch_len;
	memset(out, 0, sizeof(*out));
	if (vip != NULL) {
		out->refs[0].kind = "vip";
		out->refs[0].name = vip;
		out->n_refs = 1;
	}
}

/* Adds vg:vip and vg:checks (the checks that target this backend). */
static void
backend_decorate(json_t *repr, const struct store_obj *obj, const struct principal *who)
{
	const char *vip = json_string_value(json_object_get(repr, "vip"));
	char q[3 * STORE_NAME_MAX + 1];

	(void)who;
	if (vip != NULL)
		hal_link(repr, "vg:vip", "/vips/%s", vip);
	hal_link(repr, "vg:checks", "/checks?backend=%s", http_qs_escape(obj->name, q, sizeof(q)));
}

/* Health is unknown until some agent has checked the backend. Caller owns the result. */
static json_t *
backend_initial_status(const json_t *spec)
{
	(void)spec;
	return json_pack("{s:s, s:n, s:n}", "health", "unknown", "since", "reason");
}

const struct resource_kind res_backend_kind = {
    .kind = "backend",
    .plural = "backends",
    .validate = backend_validate,
    .links = backend_links,
    .decorate = backend_decorate,
    .redact = NULL,
    .initial_status = backend_initial_status,
    .filters = backend_filters,
    .after_write = NULL,
};
