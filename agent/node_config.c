/* The node config document read into typed structs (node_config.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "node_config.h"

/* Copies the string member key of v into buf if it is a string that fits; else "" and false. */
static bool
str_into(json_t *v, const char *key, char *buf, size_t len)
{
	const char *s = json_string_value(json_object_get(v, key));

	buf[0] = '\0';
	if (s == NULL || strlen(s) >= len)
		return false;
	memcpy(buf, s, strlen(s) + 1);
	return true;
}

/* The integer member key of v if it is one in lo..hi, else def. */
static json_int_t
int_in(json_t *v, const char *key, json_int_t lo, json_int_t hi, json_int_t def)
{
	json_t *j = json_object_get(v, key);

	if (!json_is_integer(j) || json_integer_value(j) < lo || json_integer_value(j) > hi)
		return def;
	return json_integer_value(j);
}

/*
 * Reads "addresses" (excluded false: 1 to VRRP_MAX_ADDRS of one family, each carried in the
 * advertisement) or "excluded_addresses" (true: none to VRRP_MAX_ADDRS of either family;
 * absent is none) into out. Returns 0, or -1 with the reason in err.
 */
static int
read_prefixes(json_t *list, bool excluded, struct addr_prefix out[], unsigned *n, char *err,
	      size_t errlen)
{
	json_t *a;
	size_t i;

	*n = 0;
	if (json_array_size(list) < (excluded ? 0 : 1) || json_array_size(list) > VRRP_MAX_ADDRS) {
		snprintf(err, errlen, "needs %d to %d %saddresses", excluded ? 0 : 1,
			 VRRP_MAX_ADDRS, excluded ? "excluded " : "");
		return -1;
	}
	json_array_foreach(list, i, a)
	{
		const char *s = json_string_value(a);
		if (s == NULL || addr_parse_prefix(s, &out[i]) != 0 ||
		    (!excluded && i > 0 && out[i].addr.family != out[0].addr.family)) {
			snprintf(err, errlen, "bad %saddress %.64s", excluded ? "excluded " : "",
				 s ? s : "(not a string)");
			return -1;
		}
	}
	*n = (unsigned)i;
	return 0;
}

/* track_interfaces: entries that are not an interface name with an integer weight in -254..254
 * are left out (vigild never renders one), as are those beyond TRACK_MAX. */
static void
read_track(json_t *list, struct nc_vip *v)
{
	json_t *e;
	size_t i;

	v->ntrack = 0;
	json_array_foreach(list, i, e)
	{
		struct track_spec *t = &v->track[v->ntrack];
		json_t *w = json_object_get(e, "weight");
		if (v->ntrack >= TRACK_MAX || !str_into(e, "interface", t->name, sizeof(t->name)) ||
		    t->name[0] == '\0' || (w != NULL && !json_is_integer(w)))
			continue;
		t->weight = (int)int_in(e, "weight", -254, 254, 0);
		v->ntrack++;
	}
}

static void
free_notify(struct nc_vip *v)
{
	for (unsigned i = 0; i < v->nnotify; i++)
		free(v->notify[i]);
	memset(v->notify, 0, sizeof(v->notify));
	v->nnotify = 0;
}

/* notify: 1..NC_NOTIFY_ARGS strings, or nothing (null, absent, or anything else). */
static int
read_notify(json_t *list, struct nc_vip *v, char *err, size_t errlen)
{
	json_t *a;
	size_t i;

	if (json_array_size(list) == 0 || json_array_size(list) > NC_NOTIFY_ARGS)
		return 0;
	json_array_foreach(list, i, a)
	{
		if (!json_is_string(a) || (v->notify[i] = strdup(json_string_value(a))) == NULL) {
			free_notify(v);
			if (json_is_string(a)) {
				snprintf(err, errlen, "out of memory");
				return -1;
			}
			return 0;
		}
		v->nnotify = (unsigned)i + 1;
	}
	return 0;
}

/* The priority a move target advertises: above every other member's, at most 254. */
static uint8_t
move_priority(json_t *e)
{
	json_int_t best = json_integer_value(json_object_get(e, "priority"));
	json_t *p;
	size_t i;

	json_array_foreach(json_object_get(e, "peers"), i, p)
	{
		json_int_t q = json_integer_value(json_object_get(p, "priority"));
		if (q >= best)
			best = q + 1;
	}
	return (uint8_t)(best > 254 ? 254 : best < 1 ? 1 : best);
}

static void
read_move(json_t *e, const char *node, struct nc_vip *v)
{
	json_t *move = json_object_get(e, "move");
	const char *target = json_string_value(json_object_get(move, "target"));
	json_int_t id = json_integer_value(json_object_get(move, "id"));

	if (target == NULL || id <= 0)
		return;
	v->move_id = id;
	v->move_here = strcmp(target, node) == 0;
	v->move_priority = move_priority(e);
}

/* garp_repeat, garp_delay_s, garp_refresh_s: absent or out of range (an old cached config)
 * gives the API's defaults: 5 per burst, a second burst after 5 s, no refresh. */
static void
read_garp(json_t *e, struct garp_params *out)
{
	out->repeat = (unsigned)int_in(e, "garp_repeat", 1, 100, 5);
	out->delay_ms = (uint32_t)int_in(e, "garp_delay_s", 0, 3600, 5) * 1000;
	out->refresh_ms = (uint32_t)int_in(e, "garp_refresh_s", 0, 86400, 0) * 1000;
}

/* The string j as an address of family into out. Returns 0 or -1. */
static int
read_addr(json_t *j, int family, struct addr *out)
{
	const char *s = json_string_value(j);

	if (s == NULL || addr_parse(s, out) != 0 || out->family != family)
		return -1;
	return 0;
}

/* unicast, unicast_src, unicast_peers (of the VIP's family). Returns 0 or -1 (reason in err). */
static int
read_unicast(json_t *e, int family, struct vrrp_unicast *out, char *err, size_t errlen)
{
	json_t *peers = json_object_get(e, "unicast_peers"), *p;
	size_t i;

	memset(out, 0, sizeof(*out));
	if (!json_is_true(json_object_get(e, "unicast")))
		return 0;
	out->on = true;
	if (read_addr(json_object_get(e, "unicast_src"), family, &out->src) != 0) {
		snprintf(err, errlen, "unicast: no usable unicast_src of the VIP's family");
		return -1;
	}
	/* No peer is a member alone: it is Master, and sends to nobody. */
	if (json_array_size(peers) > VRRP_UNICAST_MAX_PEERS) {
		snprintf(err, errlen, "unicast: more than %d unicast_peers",
			 VRRP_UNICAST_MAX_PEERS);
		return -1;
	}
	json_array_foreach(peers, i, p)
	{
		if (read_addr(p, family, &out->peers[i]) != 0) {
			snprintf(err, errlen, "unicast: bad peer %.64s",
				 json_string_value(p) ? json_string_value(p) : "(not a string)");
			return -1;
		}
	}
	out->npeers = (unsigned)i;
	return 0;
}

/* One VIP entry e into v. Returns 0, or -1 with v->err set (entry unusable). */
static int
read_vip(json_t *e, const char *node, struct nc_vip *v)
{
	char *err = v->err;
	size_t errlen = sizeof(v->err);
	json_int_t vrid = int_in(e, "vrid", 1, 255, 0), version = int_in(e, "version", 2, 3, 0);

	if (!str_into(e, "name", v->name, sizeof(v->name)) || v->name[0] == '\0') {
		snprintf(err, errlen, "no name");
		return -1;
	}
	if (!str_into(e, "interface", v->ifname, sizeof(v->ifname)) || v->ifname[0] == '\0') {
		snprintf(err, errlen, "no usable interface");
		return -1;
	}
	if (vrid == 0 || version == 0) {
		snprintf(err, errlen, "bad vrid or version");
		return -1;
	}
	if (read_prefixes(json_object_get(e, "addresses"), false, v->addrs, &v->naddr, err,
			  errlen) != 0 ||
	    read_prefixes(json_object_get(e, "excluded_addresses"), true, v->excl, &v->nexcl, err,
			  errlen) != 0)
		return -1;
	v->family = v->addrs[0].addr.family;
	v->vrid = (uint8_t)vrid;
	v->version = (uint8_t)version;
	v->priority = (uint8_t)int_in(e, "priority", 1, 254, 100);
	v->advert_int_ms = (uint32_t)int_in(e, "advert_int_ms", 0, UINT32_MAX, 0);
	v->preempt = json_is_true(json_object_get(e, "preempt"));
	v->preempt_delay_ms = (uint32_t)int_in(e, "preempt_delay_ms", 0, UINT32_MAX, 0);
	if (!str_into(e, "auth_pass", v->auth_pass, sizeof(v->auth_pass)) &&
	    json_object_get(e, "auth_pass") != NULL &&
	    !json_is_null(json_object_get(e, "auth_pass"))) {
		snprintf(err, errlen, "bad auth_pass");
		return -1;
	}
	if (read_unicast(e, v->family, &v->uc, err, errlen) != 0)
		return -1;
	read_garp(e, &v->garp);
	read_track(json_object_get(e, "track_interfaces"), v);
	if (read_notify(json_object_get(e, "notify"), v, err, errlen) != 0)
		return -1;
	str_into(e, "group", v->group, sizeof(v->group));
	v->vmac = json_is_true(json_object_get(e, "vmac"));
	read_move(e, node, v);
	return 0;
}

int
node_config_parse(json_t *doc, const char *node, struct node_config *out, char *err, size_t errlen)
{
	json_t *vips = json_object_get(doc, "vips"), *e,
	       *nl = json_object_get(doc, "ip_nonlocal_bind");
	size_t i;

	memset(out, 0, sizeof(*out));
	out->ip_nonlocal_bind = json_is_boolean(nl) ? json_is_true(nl) : -1;
	str_into(doc, "haproxy_socket", out->haproxy_socket, sizeof(out->haproxy_socket));
	if (!json_is_object(doc) || (vips != NULL && !json_is_array(vips))) {
		snprintf(err, errlen, "not a node config");
		return -1;
	}
	if (json_array_size(vips) == 0)
		return 0;
	if ((out->vips = calloc(json_array_size(vips), sizeof(*out->vips))) == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	json_array_foreach(vips, i, e)
	{
		read_vip(e, node, &out->vips[i]);
		out->nvips = i + 1;
	}
	return 0;
}

void
node_config_free(struct node_config *c)
{
	for (size_t i = 0; i < c->nvips; i++)
		free_notify(&c->vips[i]);
	free(c->vips);
	memset(c, 0, sizeof(*c));
}

const struct nc_vip *
node_config_vip(const struct node_config *c, const char *name)
{
	for (size_t i = 0; i < c->nvips; i++)
		if (c->vips[i].err[0] == '\0' && strcmp(c->vips[i].name, name) == 0)
			return &c->vips[i];
	return NULL;
}

static bool
same_prefixes(const struct addr_prefix *a, unsigned na, const struct addr_prefix *b, unsigned nb)
{
	if (na != nb)
		return false;
	for (unsigned i = 0; i < na; i++)
		if (!addr_equal(&a[i].addr, &b[i].addr) || a[i].prefix_len != b[i].prefix_len)
			return false;
	return true;
}

bool
nc_vip_needs_restart(const struct nc_vip *a, const struct nc_vip *b)
{
	return strcmp(a->ifname, b->ifname) != 0 ||
	       !same_prefixes(a->addrs, a->naddr, b->addrs, b->naddr) ||
	       !same_prefixes(a->excl, a->nexcl, b->excl, b->nexcl) ||
	       !vrrp_unicast_equal(&a->uc, &b->uc) || a->vmac != b->vmac;
}
