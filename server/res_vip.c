/* The VIP resource: its fields and their rules (RFC 5798 / RFC 3768 ranges), its refs and vrid
 * uniqueness, its HAL links (vg:failback only when a failback is possible now), and its derived
 * status, recomputed from the member nodes' agent reports. The holder sub-resource is res_holder.c.
 */
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "addr.h"
#include "http.h"
#include "res_vip.h"
#include "resource.h"
#include "store.h"
#include "validate.h"
#include "vip_fields.h"

#define VIP_MAX_MEMBERS 32

/* Spec members in the order they are stored and shown. */
static const char *const vip_fields[] = {
    "name",	      "addresses",   "excluded_addresses",
    "interface",      "vrid",	     "version",
    "advert_int_ms",  "preempt",     "preempt_delay_ms",
    "auth_pass",      "members",     "unicast",
    "peers",	      "group",	     "track_interfaces",
    "notify",	      "garp_repeat", "garp_delay_s",
    "garp_refresh_s", "vmac",	     NULL,
};
static const char *const vip_member_fields[] = {"node", "priority", NULL};

/*
 * Validates members (the array at spec.members, default []), in place: each entry {node,
 * priority 1..254}, nodes unique and existing. Entries are rebuilt in canonical member order.
 */
static void
vip_validate_members(json_t *spec, struct verr *e)
{
	json_t *members = json_object_get(spec, "members"), *m;
	char ptr[64];
	size_t i, j;

	if (members == NULL) {
		json_object_set_new(spec, "members", json_array());
		return;
	}
	if (!json_is_array(members)) {
		verr_add(e, "/members", "must be an array of {\"node\", \"priority\"}");
		return;
	}
	if (json_array_size(members) > VIP_MAX_MEMBERS)
		verr_add(e, "/members", "at most %d members", VIP_MAX_MEMBERS);
	json_array_foreach(members, i, m)
	{
		struct verr sub = {0};
		const char *node = NULL;
		json_int_t prio;
		struct store_obj o = {0};

		snprintf(ptr, sizeof(ptr), "/members/%zu", i);
		if (!json_is_object(m)) {
			verr_add(e, ptr, "must be an object {\"node\", \"priority\"}");
			continue;
		}
		v_only_fields(m, vip_member_fields, &sub);
		v_name_ref(m, "node", true, &node, &sub);
		v_int(m, "priority", true, 1, 254, 0, false, &prio, &sub);
		verr_nest(e, ptr, &sub);
		if (node == NULL)
			continue;
		snprintf(ptr, sizeof(ptr), "/members/%zu/node", i);
		for (j = 0; j < i; j++) {
			const char *other =
			    json_string_value(json_object_get(json_array_get(members, j), "node"));
			if (other != NULL && strcmp(other, node) == 0) {
				verr_add(e, ptr, "node %s is listed twice", node);
				break;
			}
		}
		if (store_get("node", node, &o) == STORE_NOTFOUND)
			verr_add(e, ptr, "no node named %s", node);
		store_obj_clear(&o);
	}
}

/* With unicast, advertisements go between the members' node addresses: each must be of the
 * family of the VIP's addresses (RFC 5798: one advertisement, one family). */
static void
vip_unicast_members(const json_t *spec, int family, struct verr *e)
{
	json_t *m;
	size_t i;
	char ptr[64];

	json_array_foreach(json_object_get(spec, "members"), i, m)
	{
		const char *node = json_string_value(json_object_get(m, "node"));
		struct store_obj o = {0};
		if (node == NULL || store_get("node", node, &o) != STORE_OK) {
			store_obj_clear(&o);
			continue;
		}
		const char *a = json_string_value(json_object_get(o.spec, "address"));
		if (a != NULL && vipf_unicast_source(o.spec, family) == NULL) {
			snprintf(ptr, sizeof(ptr), "/members/%zu/node", i);
			verr_add(e, ptr,
				 "node %s has address %s: unicast needs an IPv%d node address (or "
				 "unicast source), the family of addresses",
				 node, a, family);
		}
		store_obj_clear(&o);
	}
}

bool
vip_has_member(const json_t *spec, const char *node)
{
	json_t *m;
	size_t i;

	json_array_foreach(json_object_get(spec, "members"), i, m)
	{
		const char *n = json_string_value(json_object_get(m, "node"));
		if (n != NULL && strcmp(n, node) == 0)
			return true;
	}
	return false;
}

/*
 * A sync group changes state together, so its VIPs must run on the same nodes: the members of
 * spec (VIP name) must be the nodes of the group's other VIPs (one is enough to compare with:
 * they all passed this rule). Priorities may differ, as keepalived allows.
 */
static void
vip_group_members(const json_t *spec, const char *name, const char *group, struct verr *e)
{
	struct store_obj objs[2];
	json_t *mine = json_object_get(spec, "members"), *theirs, *m;
	int n = store_list_tagged("vip", "group", group, NULL, NULL, 2, objs, NULL);
	const struct store_obj *other = NULL;
	size_t i;
	bool same;

	for (int k = 0; k < n && other == NULL; k++)
		if (strcmp(objs[k].name, name) != 0)
			other = &objs[k];
	if (other != NULL) {
		theirs = json_object_get(other->spec, "members");
		same = json_array_size(theirs) == json_array_size(mine);
		json_array_foreach(theirs, i, m)
		{
			const char *node = json_string_value(json_object_get(m, "node"));
			same = same && node != NULL && vip_has_member(spec, node);
		}
		if (!same)
			verr_add(e, "/members",
				 "must be the nodes of the other VIPs of group %s (as VIP %s has "
				 "them): a sync group changes state together on the same nodes",
				 group, other->name);
	}
	for (int k = 0; k < n; k++)
		store_obj_clear(&objs[k]);
}

/* Keeps, drops or checks auth_pass (RFC 3768 5.3.6.1 simple text password, 8 octets max). */
static void
vip_validate_auth(json_t *spec, const json_t *old, json_int_t version, struct verr *e)
{
	json_t *pass = json_object_get(spec, "auth_pass");
	const char *s = NULL;

	if (pass != NULL && json_is_null(pass)) {
		json_object_del(spec, "auth_pass"); /* explicit null clears */
		return;
	}
	if (pass == NULL) {
		/* Write-only: a replace that does not mention it keeps the stored one, as far as
		 * it still applies (a VIP moved to version 3 loses it). */
		json_t *kept = old ? json_object_get(old, "auth_pass") : NULL;
		if (kept != NULL && version == 2)
			json_object_set(spec, "auth_pass", kept);
		return;
	}
	if (version != 2 && old != NULL && json_equal(pass, json_object_get(old, "auth_pass"))) {
		/* The stored one carried along (a merge patch to version 3): it lapses. */
		json_object_del(spec, "auth_pass");
		return;
	}
	if (!v_string(spec, "auth_pass", false, 1, 8, &s, e))
		return;
	for (const char *c = s; *c != '\0'; c++) {
		if (*c <= ' ' || *c > '~') {
			verr_add(e, "/auth_pass",
				 "must be 1..8 printable ASCII characters, no spaces");
			return;
		}
	}
	if (version != 2)
		verr_add(e, "/auth_pass", "authentication exists only in VRRP version 2");
}

/*
 * resource_kind.validate: every rule of the VIP section of the contract. The address is stored
 * canonical, defaults are filled in, and the members appear in vip_fields order.
 */
static void
vip_validate(json_t *spec, const char *name, const json_t *old, struct verr *e)
{
	const char *ifname = NULL, *body_name, *group;
	json_int_t vrid, version = 0, advert, delay;
	bool preempt;
	int family;

	v_only_fields(spec, vip_fields, e);
	body_name = json_string_value(json_object_get(spec, "name"));
	if (json_object_get(spec, "name") != NULL && (body_name == NULL || strcmp(body_name, name)))
		verr_add(e, "/name", "must equal the name in the URL (%s)", name);
	json_object_del(spec, "name"); /* the object's name is kept by the store, not in spec */

	family = vipf_addresses(spec, e);
	vipf_excluded(spec, e);
	if (v_string(spec, "interface", true, 1, 15, &ifname, e) && !vipf_valid_ifname(ifname))
		verr_add(e, "/interface",
			 "must be 1..15 printable characters without '/', ':' or "
			 "spaces");
	v_int(spec, "vrid", true, 1, 255, 0, false, &vrid, e);
	if (!v_int(spec, "version", false, 2, 3, 3, true, &version, e))
		version = 0;
	if (family == 6 && version == 2)
		verr_add(e, "/version", "IPv6 VIPs need VRRP version 3 (RFC 5798)");

	/* RFC 5798 5.2.7: v3 adverts are in centiseconds, 12 bits; RFC 3768 5.3.7: v2 in
	 * whole seconds, 8 bits. */
	if (v_int(spec, "advert_int_ms", false, 10, 255000, 1000, true, &advert, e)) {
		if (version == 3 && (advert % 10 != 0 || advert > 40950))
			verr_add(e, "/advert_int_ms", "VRRPv3: a multiple of 10 from 10 to 40950");
		else if (version == 2 && (advert % 1000 != 0 || advert < 1000))
			verr_add(e, "/advert_int_ms",
				 "VRRPv2: a multiple of 1000 from 1000 to 255000");
	}
	v_bool(spec, "preempt", false, false, true, &preempt, e);
	v_int(spec, "preempt_delay_ms", false, 0, 3600000, 0, true, &delay, e);
	vip_validate_auth(spec, old, version, e);
	vip_validate_members(spec, e);
	vipf_unicast(spec, family, e);
	if (json_is_true(json_object_get(spec, "unicast")) && family != 0)
		vip_unicast_members(spec, family, e);
	group = vipf_group(spec, e);
	if (group != NULL && !verr_any(e))
		vip_group_members(spec, name, group, e);
	vipf_track_interfaces(spec, e);
	vipf_notify(spec, e);
	vipf_garp_vmac(spec, e);
	v_order_fields(spec, vip_fields);
}

/* Refs: each member node. Tag: the sync group. Unique: the vrid on its interface and address
 * family (the family of addresses). */
static void
vip_links(const json_t *spec, struct store_links *out, char *scratch, size_t scratch_len)
{
	const char *addr = json_string_value(json_array_get(json_object_get(spec, "addresses"), 0));
	const char *group = json_string_value(json_object_get(spec, "group"));
	const char *ifname = json_string_value(json_object_get(spec, "interface"));
	json_t *m;
	size_t i;

	json_array_foreach(json_object_get(spec, "members"), i, m)
	{
		if (out->n_refs >= STORE_MAX_REFS)
			break;
		out->refs[out->n_refs].kind = "node";
		out->refs[out->n_refs].name = json_string_value(json_object_get(m, "node"));
		out->n_refs++;
	}
	if (group != NULL) {
		out->tags[0].kind = "group";
		out->tags[0].name = group;
		out->n_tags = 1;
	}
	if (addr != NULL && ifname != NULL && out->n_uniques < STORE_MAX_UNIQUES) {
		snprintf(scratch, scratch_len, "vrid:%s:%d:%" JSON_INTEGER_FORMAT, ifname,
			 strchr(addr, ':') ? 6 : 4,
			 json_integer_value(json_object_get(spec, "vrid")));
		out->uniques[out->n_uniques++] = scratch;
	}
}

static void
vip_redact(json_t *repr)
{
	json_object_del(repr, "auth_pass");
}

/*
 * Issue 10: copies the member's last notify run (node_status.notify[vip]), its tracked
 * interfaces (vrrp.track) and its macvlan (vrrp.vmac) into mst (the member's entry), and keeps in
 * *last (owned, a copy with "node") the newest notify run across members, by its "at".
 */
static void
member_notify_track(json_t *mst, json_t *node_status, json_t *vrrp, const char *vip_name,
		    const char *node, json_t **last)
{
	json_t *n = json_object_get(json_object_get(node_status, "notify"), vip_name);
	json_t *track = json_object_get(vrrp, "track");
	const char *at = json_string_value(json_object_get(n, "at"));
	const char *best = json_string_value(json_object_get(*last, "at"));

	if (json_is_array(track))
		json_object_set(mst, "track", track);
	if (json_is_string(json_object_get(vrrp, "vmac")))
		json_object_set(mst, "vmac", json_object_get(vrrp, "vmac"));
	if (!json_is_object(n))
		return;
	json_object_set(mst, "notify", n);
	if (at != NULL && (best == NULL || strcmp(at, best) > 0)) {
		json_decref(*last);
		*last = json_deep_copy(n);
		json_object_set_new(*last, "node", json_string(node));
	}
}

/*
 * The derived status of a VIP from its spec, its previous status (NULL on create; the move
 * request members and since are carried over) and node_status[i], the status of member i (NULL
 * when unknown). Returns a new object (caller owns).
 */
static json_t *
vip_derive_status(const json_t *spec, const json_t *old, json_t *const node_status[],
		  const char *vip_name, int64_t now_ms)
{
	json_t *st = json_object(), *members = json_object(), *m, *last_notify = NULL;
	const char *holder = NULL, *preferred = NULL, *old_holder, *requested;
	json_int_t holder_prio = -1, pref_prio = -1, move_id, move_done;
	char ts[40];
	size_t i;

	json_array_foreach(json_object_get(spec, "members"), i, m)
	{
		const char *node = json_string_value(json_object_get(m, "node"));
		json_int_t prio = json_integer_value(json_object_get(m, "priority"));
		const char *agent = json_string_value(json_object_get(node_status[i], "agent"));
		json_t *vrrp = json_object_get(json_object_get(node_status[i], "vrrp"), vip_name);
		const char *state = json_string_value(json_object_get(vrrp, "state"));
		json_t *rprio = json_object_get(vrrp, "priority");
		bool up = agent != NULL && strcmp(agent, "up") == 0;

		if (!up || state == NULL ||
		    (strcmp(state, "INIT") && strcmp(state, "BACKUP") && strcmp(state, "MASTER") &&
		     strcmp(state, "FAULT")))
			state = "unknown";
		if (agent == NULL || (strcmp(agent, "down") != 0 && !up))
			agent = "unknown";
		if (strcmp(state, "unknown") == 0 || !json_is_integer(rprio))
			rprio = NULL;
		json_t *mst = json_pack("{s:s, s:s, s:O}", "state", state, "agent", agent,
					"priority", rprio ? rprio : json_null());
		member_notify_track(mst, node_status[i], vrrp, vip_name, node, &last_notify);
		json_object_set_new(members, node, mst);
		if (strcmp(state, "MASTER") == 0) {
			json_int_t rp = json_integer_value(rprio);
			if (holder == NULL || rp > holder_prio ||
			    (rp == holder_prio && strcmp(node, holder) < 0)) {
				holder = node;
				holder_prio = rp;
			}
		}
		if (preferred == NULL || prio > pref_prio ||
		    (prio == pref_prio && strcmp(node, preferred) < 0)) {
			preferred = node;
			pref_prio = prio;
		}
	}

	requested = json_string_value(json_object_get(old, "requested"));
	if (requested != NULL && json_object_get(members, requested) == NULL)
		requested = NULL; /* no longer a member: the request lapses */
	move_id = json_integer_value(json_object_get(old, "move_id"));
	move_done = json_integer_value(json_object_get(old, "move_done"));
	if (requested != NULL && holder != NULL && strcmp(holder, requested) == 0)
		move_done = move_id;
	if (requested != NULL)
		preferred = requested;

	old_holder = json_string_value(json_object_get(old, "holder"));
	if ((old_holder == NULL) != (holder == NULL) ||
	    (holder != NULL && strcmp(holder, old_holder) != 0))
		json_object_set_new(st, "since",
				    json_string(clock_rfc3339(now_ms, ts, sizeof(ts))));
	else
		json_object_set(st, "since",
				json_object_get(old, "since") ? json_object_get(old, "since")
							      : json_null());

	json_object_set_new(st, "holder", holder ? json_string(holder) : json_null());
	json_object_set_new(st, "preferred", preferred ? json_string(preferred) : json_null());
	json_object_set_new(st, "requested", requested ? json_string(requested) : json_null());
	json_object_set_new(st, "move_id", json_integer(move_id));
	json_object_set_new(st, "move_done", json_integer(move_done));
	json_object_set_new(st, "members", members);
	json_object_set_new(st, "last_notify", last_notify ? last_notify : json_null());
	return st;
}

static json_t *
vip_initial_status(const json_t *spec)
{
	json_t *none[VIP_MAX_MEMBERS] = {NULL};

	return vip_derive_status(spec, NULL, none, "", 0);
}

int
vip_refresh_status(struct store_tx *tx, const char *name)
{
	struct store_obj vip = {0}, nodes[VIP_MAX_MEMBERS];
	json_t *ns[VIP_MAX_MEMBERS] = {NULL}, *m, *st = NULL;
	size_t i, n = 0;
	int rc;

	memset(nodes, 0, sizeof(nodes));
	if ((rc = store_get("vip", name, &vip)) != STORE_OK)
		goto out;
	json_array_foreach(json_object_get(vip.spec, "members"), i, m)
	{
		if (i >= VIP_MAX_MEMBERS)
			break;
		rc = store_get("node", json_string_value(json_object_get(m, "node")), &nodes[i]);
		if (rc != STORE_OK && rc != STORE_NOTFOUND)
			goto out;
		ns[i] = nodes[i].status;
		n = i + 1;
	}
	st = vip_derive_status(vip.spec, vip.status, ns, name, clock_wall_ms());
	rc = store_set_status(tx, "vip", name, st);
out:
	json_decref(st);
	for (i = 0; i < n; i++)
		store_obj_clear(&nodes[i]);
	store_obj_clear(&vip);
	return rc;
}

static int
vip_after_write(struct store_tx *tx, const char *name, const json_t *spec)
{
	if (spec == NULL)
		return STORE_OK;
	return vip_refresh_status(tx, name);
}

/*
 * Links: vg:holder, vg:backends, vg:member for each member, and vg:failback only when a failback
 * is possible now: held by a node other than the preferred one, whose agent is up.
 */
static void
vip_decorate(json_t *repr, const struct store_obj *obj, const struct principal *who)
{
	const json_t *st = json_object_get(repr, "status");
	const char *holder = json_string_value(json_object_get(st, "holder"));
	const char *pref = json_string_value(json_object_get(st, "preferred"));
	json_t *m;
	size_t i;
	char href[96];

	(void)who;
	hal_link(repr, "vg:holder", "/vips/%s/holder", obj->name);
	hal_link(repr, "vg:backends", "/backends?vip=%s", obj->name);
	json_array_foreach(json_object_get(obj->spec, "members"), i, m)
	{
		const char *node = json_string_value(json_object_get(m, "node"));
		snprintf(href, sizeof(href), "/nodes/%s", node);
		hal_link_array_add(repr, "vg:member", href, node, NULL);
	}
	if (holder != NULL && pref != NULL && strcmp(holder, pref) != 0) {
		const char *agent = json_string_value(json_object_get(
		    json_object_get(json_object_get(st, "members"), pref), "agent"));
		if (agent != NULL && strcmp(agent, "up") == 0) {
			json_t *l;
			hal_link(repr, "vg:failback", "/vips/%s/holder", obj->name);
			l = json_object_get(hal_links(repr), "vg:failback");
			json_object_set_new(l, "title", json_sprintf("Move to %s", pref));
			json_object_set_new(l, "name", json_string(pref));
		}
	}
}

static const char *const vip_filters[] = {"node", NULL};
static const char *const vip_tag_filters[] = {"group", NULL};

const struct resource_kind res_vip_kind = {
    .kind = "vip",
    .plural = "vips",
    .validate = vip_validate,
    .links = vip_links,
    .decorate = vip_decorate,
    .redact = vip_redact,
    .initial_status = vip_initial_status,
    .filters = vip_filters,
    .tag_filters = vip_tag_filters,
    .after_write = vip_after_write,
};
