/* A VIP's VRRP-instance fields beyond the basics: each rule records its error at the field's JSON
 * Pointer, values are canonicalised in place and defaults filled, as the rest of validate.c does.
 * Limits and their reasons are in vip_fields.h; the contract is api-spec/openapi.yaml. */
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "addr.h"
#include "vip_fields.h"

int
vipf_parse_prefix(const char *s, char *canon, size_t len)
{
	static const unsigned char zero[16];
	struct addr_prefix p;
	const unsigned char *b = p.addr.u.bytes;

	if (addr_parse_prefix(s, &p) != 0 || p.prefix_len == 0 ||
	    memcmp(b, zero, addr_len(&p.addr)) == 0)
		return 0;
	if (p.addr.family == AF_INET ? (b[0] & 0xf0) == 0xe0 : b[0] == 0xff)
		return 0;
	addr_format_prefix(&p, canon, len);
	return p.addr.family == AF_INET ? 4 : 6;
}

/* Parses an address without prefix (a unicast peer): canonical text into canon, returns the
 * family (4 or 6) or 0. */
static int
parse_host(const char *s, char *canon, size_t len)
{
	static const unsigned char zero[16];
	struct addr a;

	if (addr_parse(s, &a) != 0 || memcmp(a.u.bytes, zero, addr_len(&a)) == 0)
		return 0;
	if (a.family == AF_INET ? (a.u.bytes[0] & 0xf0) == 0xe0 : a.u.bytes[0] == 0xff)
		return 0;
	addr_format(&a, canon, len);
	return a.family == AF_INET ? 4 : 6;
}

bool
vipf_valid_ifname(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > 15 || strcmp(s, ".") == 0 || strcmp(s, "..") == 0)
		return false;
	for (; *s != '\0'; s++)
		if (*s <= ' ' || *s > '~' || *s == '/' || *s == ':')
			return false;
	return true;
}

/* Is s equal to one of the first n strings of list? */
static bool
seen_before(const json_t *list, size_t n, const char *s)
{
	for (size_t j = 0; j < n; j++) {
		const char *o = json_string_value(json_array_get(list, j));
		if (o != NULL && strcmp(o, s) == 0)
			return true;
	}
	return false;
}

/*
 * Checks spec[key] as an array of addresses (min..max items), each canonicalised in place by
 * parse (vipf_parse_prefix or parse_host); duplicates refused. what describes one item for the
 * error. fam[i] gets each item's family (0 when bad; fam has room for max items). Returns the
 * number of items, or -1 when the member is not such an array (absent: dflt_empty stores []).
 */
static int
address_list(json_t *spec, const char *key, size_t min, size_t max, bool dflt_empty,
	     int (*parse)(const char *, char *, size_t), const char *what, int fam[],
	     struct verr *e)
{
	json_t *list = json_object_get(spec, key), *it;
	char ptr[64], canon[ADDR_STRLEN];
	size_t i;

	if (list == NULL && dflt_empty) {
		json_object_set_new(spec, key, json_array());
		return 0;
	}
	v_ptr(ptr, sizeof(ptr), key, -1);
	if (list == NULL) {
		verr_add(e, ptr, "is required");
		return -1;
	}
	if (!json_is_array(list) || json_array_size(list) < min || json_array_size(list) > max) {
		verr_add(e, ptr, "must be an array of %zu to %zu %s", min, max, what);
		return -1;
	}
	json_array_foreach(list, i, it)
	{
		const char *s = json_string_value(it);
		v_ptr(ptr, sizeof(ptr), key, (int)i);
		fam[i] = 0;
		if (s == NULL || json_string_length(it) > 64 ||
		    (fam[i] = parse(s, canon, sizeof(canon))) == 0) {
			verr_add(e, ptr, "must be %s", what);
			continue;
		}
		json_array_set_new(list, i, json_string(canon));
		if (seen_before(list, i, canon)) {
			verr_add(e, ptr, "%s is listed twice", canon);
			fam[i] = 0;
		}
	}
	return (int)i;
}

int
vipf_addresses(json_t *spec, struct verr *e)
{
	int fam[VIPF_MAX_ADDRS_V4], n, family = 0;
	json_t *list = json_object_get(spec, "addresses");
	char ptr[64];

	n = address_list(spec, "addresses", 1, VIPF_MAX_ADDRS_V4, false, vipf_parse_prefix,
			 "unicast IPv4 or IPv6 addresses with a prefix length (e.g. "
			 "198.18.0.100/24, 2001:db8::10/64)",
			 fam, e);
	for (int i = 0; i < n; i++) {
		if (fam[i] == 0)
			continue;
		if (family == 0)
			family = fam[i];
		else if (fam[i] != family)
			verr_add(e, v_ptr(ptr, sizeof(ptr), "addresses", i),
				 "must be of one address family with the first (IPv%d): one "
				 "advertisement carries one family; use excluded_addresses for the "
				 "other",
				 family);
	}
	if (family == 6 && json_array_size(list) > VIPF_MAX_ADDRS_V6)
		verr_add(e, "/addresses",
			 "at most %d IPv6 addresses fit one advertisement in a 1500-byte MTU",
			 VIPF_MAX_ADDRS_V6);
	return family;
}

void
vipf_excluded(json_t *spec, struct verr *e)
{
	int fam[VIPF_MAX_EXCLUDED], n;
	json_t *list = json_object_get(spec, "excluded_addresses");
	json_t *adv = json_object_get(spec, "addresses");
	char ptr[64];

	n = address_list(spec, "excluded_addresses", 0, VIPF_MAX_EXCLUDED, true, vipf_parse_prefix,
			 "unicast IPv4 or IPv6 addresses with a prefix length", fam, e);
	list = json_object_get(spec, "excluded_addresses");
	for (int i = 0; i < n; i++) {
		const char *s = json_string_value(json_array_get(list, (size_t)i));
		if (fam[i] != 0 && json_is_array(adv) && seen_before(adv, json_array_size(adv), s))
			verr_add(e, v_ptr(ptr, sizeof(ptr), "excluded_addresses", i),
				 "%s is in addresses already", s);
	}
}

void
vipf_unicast(json_t *spec, int family, struct verr *e)
{
	int fam[VIPF_MAX_PEERS], n;
	bool unicast = false;
	char ptr[64];

	v_bool(spec, "unicast", false, false, true, &unicast, e);
	n = address_list(spec, "peers", 0, VIPF_MAX_PEERS, true, parse_host,
			 "unicast IPv4 or IPv6 addresses without prefix length", fam, e);
	for (int i = 0; i < n; i++)
		if (fam[i] != 0 && family != 0 && fam[i] != family)
			verr_add(e, v_ptr(ptr, sizeof(ptr), "peers", i),
				 "must be an IPv%d address, the family of addresses", family);
	if (n > 0 && !unicast)
		verr_add(e, "/peers", "needs unicast: true (peers are unicast destinations)");
}

const char *
vipf_group(json_t *spec, struct verr *e)
{
	json_t *g = json_object_get(spec, "group");
	const char *s = NULL;

	if (g == NULL || json_is_null(g)) {
		json_object_set_new(spec, "group", json_null());
		return NULL;
	}
	return v_name_ref(spec, "group", false, &s, e) ? s : NULL;
}

void
vipf_track_interfaces(json_t *spec, struct verr *e)
{
	static const char *const fields[] = {"interface", "weight", NULL};
	json_t *list = json_object_get(spec, "track_interfaces"), *t, *err;
	char ptr[64], sub[96];
	size_t i;

	if (list == NULL) {
		json_object_set_new(spec, "track_interfaces", json_array());
		return;
	}
	if (!json_is_array(list) || json_array_size(list) > VIPF_MAX_TRACK) {
		verr_add(e, "/track_interfaces",
			 "must be an array of at most %d {\"interface\", \"weight\"}",
			 VIPF_MAX_TRACK);
		return;
	}
	json_array_foreach(list, i, t)
	{
		struct verr one = {0};
		const char *ifname = NULL;
		json_int_t w;
		size_t j;

		snprintf(ptr, sizeof(ptr), "/track_interfaces/%zu", i);
		if (!json_is_object(t)) {
			verr_add(e, ptr, "must be an object {\"interface\", \"weight\"}");
			continue;
		}
		v_only_fields(t, fields, &one);
		if (v_string(t, "interface", true, 1, 15, &ifname, &one) &&
		    !vipf_valid_ifname(ifname)) {
			verr_add(&one, "/interface",
				 "must be 1..15 printable characters without '/', ':' or spaces");
			ifname = NULL;
		}
		v_int(t, "weight", false, -254, 254, 0, true, &w, &one);
		json_array_foreach(one.list, j, err)
		{
			snprintf(sub, sizeof(sub), "%s%s", ptr,
				 json_string_value(json_object_get(err, "pointer")));
			verr_add(e, sub, "%s", json_string_value(json_object_get(err, "detail")));
		}
		verr_clear(&one);
		for (j = 0; ifname != NULL && j < i; j++) {
			const char *o = json_string_value(
			    json_object_get(json_array_get(list, j), "interface"));
			if (o != NULL && strcmp(o, ifname) == 0) {
				verr_add(e, ptr, "interface %s is tracked twice", ifname);
				break;
			}
		}
		v_order_fields(t, fields);
	}
}

void
vipf_notify(json_t *spec, struct verr *e)
{
	json_t *n = json_object_get(spec, "notify");

	if (n == NULL || json_is_null(n)) {
		json_object_set_new(spec, "notify", json_null());
		return;
	}
	v_script_argv(spec, "notify", VIPF_MAX_NOTIFY_ARGS, e);
}

void
vipf_garp_vmac(json_t *spec, struct verr *e)
{
	json_int_t n;
	bool b;

	v_int(spec, "garp_repeat", false, 1, 100, 5, true, &n, e);
	v_int(spec, "garp_delay_s", false, 0, 3600, 5, true, &n, e);
	v_int(spec, "garp_refresh_s", false, 0, 86400, 0, true, &n, e);
	v_bool(spec, "vmac", false, false, true, &b, e);
}

const char *
vipf_unicast_source(const json_t *node_spec, int family)
{
	const char *a = json_string_value(json_object_get(node_spec, "address"));
	json_t *s;
	size_t i;

	json_array_foreach(json_object_get(node_spec, "unicast_sources"), i, s)
	{
		const char *t = json_string_value(s);
		if (t != NULL && (strchr(t, ':') ? 6 : 4) == family)
			return t;
	}
	return a != NULL && (strchr(a, ':') ? 6 : 4) == family ? a : NULL;
}
