/* Nodes: the load balancers. Their spec is what operators write; their status is what the node's
 * agent reports (PUT /nodes/{name}/status) plus the server's view of its liveness. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "addr.h"
#include "lease.h"
#include "res_health.h"
#include "res_node.h"
#include "res_vip.h"
#include "vip_fields.h"
#include "resource.h"
#include "write.h"

static const char *const node_fields[] = {
    "address",	      "interface",	 "labels", "ip_nonlocal_bind",
    "haproxy_socket", "unicast_sources", NULL};

/* Interface names as the kernel takes them: 1..15 bytes, no '/', ':' or whitespace. */
static void
v_ifname(json_t *spec, const char *key, bool required, struct verr *e)
{
	const char *s;

	if (!v_string(spec, key, required, 1, 15, &s, e))
		return;
	for (const char *p = s; *p; p++)
		if (*p == '/' || *p == ':' || *p <= ' ' || *p == 0x7f) {
			verr_add(e, "/interface",
				 "must be an interface name without '/', ':' or "
				 "spaces");
			return;
		}
}

/* An IP address without prefix, canonicalised in place. */
static void
v_address(json_t *spec, const char *key, bool required, struct verr *e)
{
	const char *s;
	struct addr a;
	char buf[ADDR_STRLEN], ptr[64];

	if (!v_string(spec, key, required, 1, 64, &s, e))
		return;
	if (addr_parse(s, &a) != 0) {
		verr_add(e, v_ptr(ptr, sizeof(ptr), key, -1), "must be an IPv4 or IPv6 address");
		return;
	}
	json_object_set_new(spec, key, json_string(addr_format(&a, buf, sizeof(buf))));
}

/* unicast_sources (optional): at most one address per family, canonical (issue 11: keepalived's
 * unicast_src_ip per instance, a dual-stack node's IPv6 source beside an IPv4 address). */
static void
v_unicast_sources(json_t *spec, struct verr *e)
{
	json_t *list = json_object_get(spec, "unicast_sources"), *one;
	int seen = 0;
	size_t i;

	if (list == NULL)
		return;
	if (!json_is_array(list) || json_array_size(list) > 2) {
		verr_add(e, "/unicast_sources", "must be an array of at most 2 addresses");
		return;
	}
	json_array_foreach(list, i, one)
	{
		json_t *wrap = json_pack("{s:O}", "a", one);
		struct verr sub = {0};
		char ptr[48];
		const char *a;
		int fam;

		snprintf(ptr, sizeof(ptr), "/unicast_sources/%zu", i);
		v_address(wrap, "a", true, &sub);
		a = json_string_value(json_object_get(wrap, "a"));
		if (sub.list != NULL && json_array_size(sub.list) > 0) {
			verr_add(e, ptr, "must be an IPv4 or IPv6 address");
		} else {
			fam = strchr(a, ':') ? 6 : 4;
			if (seen & (1 << (fam == 6)))
				verr_add(e, ptr, "one address per family: IPv%d is listed before",
					 fam);
			seen |= 1 << (fam == 6);
			json_array_set(list, i, json_object_get(wrap, "a"));
		}
		verr_clear(&sub);
		json_decref(wrap);
	}
}

static void
node_validate(json_t *spec, const char *name, const json_t *old, struct verr *e)
{
	json_t *labels;
	const char *s, *k;
	json_t *v;
	bool b;
	char ptr[160];

	(void)name;
	(void)old;
	v_only_fields(spec, node_fields, e);
	v_address(spec, "address", true, e);
	v_unicast_sources(spec, e);
	v_ifname(spec, "interface", true, e);
	v_bool(spec, "ip_nonlocal_bind", false, false, false, &b, e);
	if (v_string(spec, "haproxy_socket", false, 2, 107, &s, e) && s[0] != '/')
		verr_add(e, "/haproxy_socket", "must be an absolute path");
	labels = json_object_get(spec, "labels");
	if (labels == NULL) {
		json_object_set_new(spec, "labels", json_object());
	} else if (!json_is_object(labels)) {
		verr_add(e, "/labels", "must be an object of strings");
	} else {
		json_object_foreach(labels, k, v)
		{
			snprintf(ptr, sizeof(ptr), "/labels/%s", k);
			if (strlen(k) < 1 || strlen(k) > 63 || strchr(k, '/') || strchr(k, '~'))
				verr_add(e, ptr,
					 "label keys are 1 to 63 characters, no '/' or '~'");
			else if (!json_is_string(v) || json_string_length(v) > 256)
				verr_add(e, ptr,
					 "label values are strings of at most 256 characters");
		}
	}
}

static json_t *
node_initial_status(const json_t *spec)
{
	(void)spec;
	return json_pack("{s:s, s:n, s:n, s:n, s:{}, s:[], s:n}", "agent", "unknown", "last_seen",
			 "agent_version", "ip_nonlocal_bind", "vrrp", "vips_held",
			 "last_transition");
}

/* resource_kind.after_write: a deleted node's lease goes with it (a node created later under
 * the same name starts without one; if the delete rolls back, the next report restores it). */
static int
node_after_write(struct store_tx *tx, const char *name, const json_t *spec)
{
	(void)tx;
	if (spec == NULL)
		lease_forget(name);
	return STORE_OK;
}

static void
node_decorate(json_t *repr, const struct store_obj *obj, const struct principal *who)
{
	(void)who;
	hal_link(repr, "vg:config", "/nodes/%s/config", obj->name);
	hal_link(repr, "vg:status", "/nodes/%s/status", obj->name);
	hal_link(repr, "vg:vips", "/vips?node=%s", obj->name);
}

/* Overlays status (borrowed; changed in place) with the latest heartbeat of node's agent, which is
 * kept in memory (lease.c) rather than stored. */
static void
node_overlay_last_seen(json_t *status, const char *node)
{
	int64_t seen = lease_last_seen(node);
	char ts[40];

	if (seen > 0 && json_is_object(status))
		json_object_set_new(status, "last_seen",
				    json_string(clock_rfc3339(seen, ts, sizeof(ts))));
}

static void
node_live(json_t *repr, const struct store_obj *obj)
{
	json_t *st = json_object_get(repr, "status");

	if (json_is_object(st)) { /* repr may share status with obj: overlay a copy */
		st = json_deep_copy(st);
		node_overlay_last_seen(st, obj->name);
		json_object_set_new(repr, "status", st);
	}
}

const struct resource_kind res_node_kind = {
    .kind = "node",
    .plural = "nodes",
    .validate = node_validate,
    .decorate = node_decorate,
    .live = node_live,
    .initial_status = node_initial_status,
    .after_write = node_after_write,
};

/* Refreshes the derived status of every VIP that lists node as a member. */
static int
refresh_vips_of(struct store_tx *tx, const char *node)
{
	struct store_obj vips[64];
	int n, rc = STORE_OK;
	char after[STORE_NAME_MAX] = "";

	do {
		n = store_list("vip", "node", node, after, NULL, 64, vips, NULL);
		if (n < 0)
			return n;
		for (int i = 0; i < n; i++) {
			if (rc == STORE_OK)
				rc = vip_refresh_status(tx, vips[i].name);
			snprintf(after, sizeof(after), "%s", vips[i].name);
			store_obj_clear(&vips[i]);
		}
	} while (n == 64 && rc == STORE_OK);
	return rc;
}

static const char *const report_fields[] = {"agent_version", "ip_nonlocal_bind", "vrrp",
					    "vips_held",     "last_transition",	 "moves_done",
					    "checks",	     "counters",	 "capabilities",
					    "notify",	     "realtime",	 NULL};
static const char *const vrrp_states[] = {"INIT", "BACKUP", "MASTER", "FAULT", NULL};
static const char *const check_states[] = {"up", "down", "unknown", NULL};
static const char *const track_states[] = {"up", "down", "missing", NULL};
static const char *const notify_states[] = {"MASTER", "BACKUP", "FAULT", "STOP", NULL};
static const char *const notify_results[] = {"exit", "signal", "timeout", "refused", NULL};

/* Validates each member of an object-of-objects report (vrrp, checks) with fields and fn. */
static void
v_report_map(json_t *report, const char *key, const char *const fields[],
	     void (*fn)(json_t *entry, const char *ptr, struct verr *e), struct verr *e)
{
	json_t *map = json_object_get(report, key), *entry;
	const char *k;
	char ptr[160];

	if (map == NULL)
		return;
	if (!json_is_object(map)) {
		verr_add(e, v_ptr(ptr, sizeof(ptr), key, -1), "must be an object");
		return;
	}
	json_object_foreach(map, k, entry)
	{
		snprintf(ptr, sizeof(ptr), "/%s/%s", key, k);
		if (!valid_name(k) || !json_is_object(entry)) {
			verr_add(e, ptr, "must be an object keyed by a resource name");
			continue;
		}
		struct verr sub = {0};
		v_only_fields(entry, fields, &sub);
		fn(entry, ptr, &sub);
		verr_nest(e, ptr, &sub);
	}
}

/* A VRRP entry's "track": [{interface, weight, state}] of its tracked interfaces (issue 10). */
static void
v_track_list(json_t *entry, struct verr *e)
{
	static const char *const fields[] = {"interface", "weight", "state", NULL};
	json_t *list = json_object_get(entry, "track"), *t;
	size_t i;

	if (list == NULL)
		return;
	if (!json_is_array(list) || json_array_size(list) > 16) {
		verr_add(e, "/track", "must be an array of at most 16 tracked interfaces");
		return;
	}
	json_array_foreach(list, i, t)
	{
		const char *s;
		json_int_t n;
		struct verr sub = {0};
		if (!json_is_object(t)) {
			verr_add(e, "/track", "must be an array of {interface, weight, state}");
			continue;
		}
		v_only_fields(t, fields, &sub);
		v_string(t, "interface", true, 1, 15, &s, &sub);
		v_int(t, "weight", false, -254, 254, 0, false, &n, &sub);
		v_enum(t, "state", true, track_states, NULL, &s, &sub);
		char ptr[32];
		snprintf(ptr, sizeof(ptr), "/track/%zu", i);
		verr_nest(e, ptr, &sub);
	}
}

/* A report entry's "group": the VIP's sync group, a resource name (absent without one). */
static void
v_group(json_t *entry, struct verr *e)
{
	const char *s;

	if (v_string(entry, "group", false, 1, 63, &s, e) && !valid_name(s))
		verr_add(e, "/group", "must be a resource name");
}

static void
v_vrrp_entry(json_t *entry, const char *ptr, struct verr *e)
{
	const char *s;
	json_int_t n;

	(void)ptr;
	v_enum(entry, "state", true, vrrp_states, NULL, &s, e);
	v_int(entry, "priority", false, 0, 255, 0, false, &n, e);
	json_object_del(entry, "since");
	v_track_list(entry, e);
	/* the macvlan of a vmac VIP (issue 10) */
	if (v_string(entry, "vmac", false, 1, 15, &s, e) && s != NULL && !vipf_valid_ifname(s))
		verr_add(e, "/vmac", "must be an interface name");
	v_group(entry, e);
	v_enum(entry, "group_state", false, vrrp_states, NULL, &s, e);
}

/* A notify entry: the last notify script run of a VIP on this node (issue 10). */
static void
v_notify_entry(json_t *entry, const char *ptr, struct verr *e)
{
	static const char *const nullable[] = {"exit_status", "signal", NULL};
	const char *s;
	json_int_t n;

	(void)ptr;
	v_enum(entry, "state", true, notify_states, NULL, &s, e);
	v_enum(entry, "result", true, notify_results, NULL, &s, e);
	v_int(entry, "priority", false, 0, 255, 0, false, &n, e);
	for (int i = 0; nullable[i]; i++)
		if (!json_is_null(json_object_get(entry, nullable[i])))
			v_int(entry, nullable[i], false, 0, 255, 0, false, &n, e);
	v_string(entry, "output", false, 0, 4096, &s, e);
	v_group(entry, e);
	v_string(entry, "transition_at", false, 0, 64, &s, e);
	v_string(entry, "at", false, 0, 64, &s, e);
	v_int(entry, "duration_ms", false, 0, INT64_MAX, 0, false, &n, e);
	v_int(entry, "coalesced", false, 0, INT64_MAX, 0, false, &n, e);
}

static void
v_check_entry(json_t *entry, const char *ptr, struct verr *e)
{
	const char *s;

	(void)ptr;
	v_enum(entry, "state", true, check_states, NULL, &s, e);
	v_string(entry, "output", false, 0, 4096, &s, e);
	v_string(entry, "at", false, 0, 64, &s, e);
}

/* A capability name as the agent reports it: "cap_" then 1..59 of [a-z0-9_]. */
static bool
valid_cap_name(const char *s)
{
	size_t n = s ? strlen(s) : 0;

	return n > 4 && n <= 63 && strncmp(s, "cap_", 4) == 0 &&
	       strspn(s + 4, "abcdefghijklmnopqrstuvwxyz0123456789_") == n - 4;
}

/* The agent's "realtime" member: {policy, priority, memory_locked, reason?} (issue 10). */
static void
v_realtime(json_t *r, struct verr *e)
{
	static const char *const fields[] = {"policy", "priority", "memory_locked", "reason", NULL};
	static const char *const policies[] = {"SCHED_OTHER", "SCHED_FIFO", "SCHED_RR",
					       "SCHED_BATCH", "SCHED_IDLE", "SCHED_DEADLINE",
					       "unknown",     NULL};
	json_t *rt = json_object_get(r, "realtime");
	struct verr sub = {0};
	const char *s;
	json_int_t n;
	bool b;

	if (rt == NULL)
		return;
	if (!json_is_object(rt)) {
		verr_add(e, "/realtime", "must be an object");
		return;
	}
	v_only_fields(rt, fields, &sub);
	v_enum(rt, "policy", true, policies, NULL, &s, &sub);
	v_int(rt, "priority", true, 0, 99, 0, false, &n, &sub);
	v_bool(rt, "memory_locked", true, false, false, &b, &sub);
	v_string(rt, "reason", false, 0, 512, &s, &sub);
	verr_nest(e, "/realtime", &sub);
}

static void
validate_report(json_t *r, struct verr *e)
{
	static const char *const vrrp_fields[] = {"state", "priority",	  "since", "track",
						  "group", "group_state", "vmac",  NULL};
	static const char *const check_fields[] = {"state", "output", "at", NULL};
	static const char *const notify_fields[] = {
	    "state", "priority",      "result",	     "exit_status", "signal", "output",
	    "at",    "transition_at", "duration_ms", "coalesced",   "group",  NULL};
	const char *s;
	bool b;
	json_t *v, *x;
	size_t i;
	const char *k;

	v_only_fields(r, report_fields, e);
	v_string(r, "agent_version", false, 0, 64, &s, e);
	v_bool(r, "ip_nonlocal_bind", false, false, false, &b, e);
	v_report_map(r, "vrrp", vrrp_fields, v_vrrp_entry, e);
	v_report_map(r, "checks", check_fields, v_check_entry, e);
	v_report_map(r, "notify", notify_fields, v_notify_entry, e);
	if ((v = json_object_get(r, "vips_held")) != NULL) {
		if (!json_is_array(v) || json_array_size(v) > 256)
			verr_add(e, "/vips_held", "must be an array of VIP names");
		else
			json_array_foreach(v, i, x) if (!json_is_string(x) ||
							!valid_name(json_string_value(x)))
			    verr_add(e, "/vips_held", "must be an array of VIP names");
	}
	if ((v = json_object_get(r, "last_transition")) != NULL && !json_is_object(v) &&
	    !json_is_null(v))
		verr_add(e, "/last_transition", "must be an object");
	if ((v = json_object_get(r, "counters")) != NULL) {
		if (!json_is_object(v))
			verr_add(e, "/counters", "must be an object of counter name to integer");
		else
			json_object_foreach(v, k, x) if (!json_is_integer(x) ||
							 json_integer_value(x) < 0 ||
							 strlen(k) > 63)
			    verr_add(e, "/counters", "must map names to integers");
	}
	if ((v = json_object_get(r, "capabilities")) != NULL) {
		if (!json_is_array(v) || json_array_size(v) > 64)
			verr_add(e, "/capabilities", "must be an array of capability names");
		else
			json_array_foreach(v, i, x) if (!valid_cap_name(json_string_value(x)))
			    verr_add(e, "/capabilities", "must be an array of capability names");
	}
	v_realtime(r, e);
	if ((v = json_object_get(r, "moves_done")) != NULL) {
		if (!json_is_object(v))
			verr_add(e, "/moves_done", "must be an object of VIP name to move id");
		else
			json_object_foreach(v, k, x) if (!json_is_integer(x) || !valid_name(k))
			    verr_add(e, "/moves_done", "must map VIP names to integers");
	}
}

/* Builds the new status from a validated report and the old status (borrowed); caller owns. */
static json_t *
merge_report(json_t *report, const json_t *old, int64_t now)
{
	json_t *st = json_deep_copy(report), *vrrp = json_object_get(st, "vrrp"), *entry;
	json_t *old_vrrp = json_object_get(old, "vrrp");
	const char *k;
	char ts[40];

	clock_rfc3339(now, ts, sizeof(ts));
	json_object_set_new(st, "agent", json_string("up"));
	json_object_set_new(st, "last_seen", json_string(ts));
	if (vrrp == NULL)
		json_object_set_new(st, "vrrp", vrrp = json_object());
	json_object_foreach(vrrp, k, entry)
	{
		json_t *prev = json_object_get(old_vrrp, k);
		const char *ps = json_string_value(json_object_get(prev, "state"));
		const char *ns = json_string_value(json_object_get(entry, "state"));
		json_t *since = json_object_get(prev, "since");
		if (ps && ns && strcmp(ps, ns) == 0 && json_is_string(since))
			json_object_set(entry, "since", since);
		else
			json_object_set_new(entry, "since", json_string(ts));
	}
	static const char *const keep[] = {"agent_version",   "ip_nonlocal_bind", "vips_held",
					   "last_transition", "counters",	  "capabilities",
					   "notify",	      "realtime",	  NULL};
	for (int i = 0; keep[i]; i++)
		if (json_object_get(st, keep[i]) == NULL)
			json_object_set(st, keep[i],
					json_object_get(old, keep[i])
					    ? json_object_get(old, keep[i])
					    : json_null());
	return st;
}

/* The status sub-resource of node name from its stored status (borrowed, may be NULL), with the
 * latest heartbeat overlaid. Caller owns the result. */
static json_t *
status_repr(const char *name, const json_t *status)
{
	json_t *r = status ? json_deep_copy(status) : json_object();

	node_overlay_last_seen(r, name);
	hal_link(r, "self", "/nodes/%s/status", name);
	hal_link(r, "vg:node", "/nodes/%s", name);
	hal_add_curies(r);
	return r;
}

/* Does the new status st differ from the stored one in anything but last_seen? */
static bool
status_changed(const json_t *st, const json_t *old)
{
	const char *k;
	json_t *v;
	size_t n = 0, n_old = 0;

	if (!json_is_object(old))
		return true;
	json_object_foreach((json_t *)st, k, v)
	{
		if (strcmp(k, "last_seen") == 0)
			continue;
		n++;
		if (!json_equal(v, json_object_get(old, k)))
			return true;
	}
	json_object_foreach((json_t *)old, k, v) n_old += strcmp(k, "last_seen") != 0;
	return n != n_old;
}

/* One agent report (a validated body, owned) to record for node name at now_ms. */
struct report_write {
	const char *name;
	json_t *report;
	int64_t now_ms;
	struct store_obj node;
};

static int
report_current(struct write_ctx *w, void *arg, bool *exists, char etag[24])
{
	struct report_write *rw = arg;
	int rc;

	(void)w;
	store_obj_clear(&rw->node);
	if ((rc = store_get("node", rw->name, &rw->node)) != STORE_OK) {
		snprintf(w->detail, sizeof(w->detail), "no such node");
		return rc;
	}
	json_t *cur = status_repr(rw->name, rw->node.status);
	http_etag_json(cur, etag);
	json_decref(cur);
	*exists = true;
	lease_renew(rw->name, rw->now_ms); /* after the ETag: If-Match names what was shown */
	return STORE_OK;
}

static int
report_apply(struct write_ctx *w, void *arg)
{
	struct report_write *rw = arg;
	json_t *st = merge_report(rw->report, rw->node.status, rw->now_ms);
	bool checks_changed;
	int rc;

	/* check results live on the checks, not in the node's status */
	json_object_del(st, "checks");
	rc = health_record(w->tx, rw->name, json_object_get(rw->report, "checks"), &checks_changed);
	/* only a change of observed state is written (last_seen alone is the lease's) */
	bool node_changed = status_changed(st, rw->node.status);
	if (rc == STORE_OK && node_changed)
		rc = store_set_status(w->tx, "node", rw->name, st);
	if (rc == STORE_OK && node_changed)
		rc = refresh_vips_of(w->tx, rw->name);
	if (rc == STORE_OK) {
		w->res->body = status_repr(rw->name, node_changed ? st : rw->node.status);
		w->res->no_store = true;
		w->res->status = 200;
	}
	json_decref(st);
	return rc;
}

static const struct write_ops report_ops = {report_current, report_apply};

/*
 * A heartbeat that reports nothing new (same observed state, agent already up, no check result
 * changed, no precondition asked for) renews the lease and answers without a write. Returns 1
 * when it answered, 0 when the report needs a write, -1 with a problem in res.
 */
static int
report_unchanged(struct http_request *req, struct http_response *res, struct report_write *rw)
{
	bool checks_changed = true;
	json_t *st;
	int rc;

	if (req->if_match != NULL || req->if_none_match != NULL)
		return 0;
	if ((rc = store_get("node", rw->name, &rw->node)) != STORE_OK)
		return http_problem_store(res, req, rc, "no such node");
	lease_renew(rw->name, rw->now_ms);
	st = merge_report(rw->report, rw->node.status, rw->now_ms);
	json_object_del(st, "checks");
	rc = health_record(NULL, rw->name, json_object_get(rw->report, "checks"), &checks_changed);
	bool same = rc == STORE_OK && !checks_changed && !status_changed(st, rw->node.status);
	json_decref(st);
	if (!same)
		return 0;
	/* the stored state is up: make sure the sweep watches the lease (a lease dropped by a
	 * delete that rolled back comes back here) */
	lease_set_up(rw->name, true, rw->now_ms);
	res->body = status_repr(rw->name, rw->node.status);
	res->status = 200;
	res->no_store = true;
	return 1;
}

static int
status_put(struct http_request *req, struct http_response *res, const char *name)
{
	struct verr e = {0};
	struct report_write rw = {.name = name, .now_ms = clock_wall_ms()};
	int ret;

	if ((rw.report = http_parse_body(req, res, false)) == NULL)
		return -1;
	validate_report(rw.report, &e);
	if (verr_any(&e)) {
		json_decref(rw.report);
		return http_problem_validation(res, req, &e);
	}
	ret = report_unchanged(req, res, &rw);
	if (ret == 0) {
		ret = write_run(req, res, &report_ops, &rw);
		if (ret == 0) /* the stored agent state is up now: the sweep watches the lease */
			lease_set_up(name, true, rw.now_ms);
	}
	store_obj_clear(&rw.node);
	json_decref(rw.report);
	return ret < 0 ? -1 : 0;
}

int
res_node_status(struct http_request *req, struct http_response *res)
{
	const char *name = req->params[0];
	struct store_obj node;
	int rc;

	if (!valid_name(name))
		return http_problem(res, req, 404, "not-found", "node %s does not exist", name);
	if (req->method == HTTP_PUT)
		return status_put(req, res, name);
	if ((rc = store_get("node", name, &node)) != STORE_OK)
		return http_problem_store(res, req, rc, "no such node");
	res->body = status_repr(name, node.status);
	res->last_modified_ms = node.modified_ms;
	res->status = 200;
	res->no_store = true; /* shows the latest heartbeat, which is not in the store */
	store_obj_clear(&node);
	return 0;
}

/* The nodes the sweep found silent. */
struct sweep {
	char names[64][STORE_NAME_MAX];
	int n;
	bool down[64]; /* marked down by this sweep */
	int64_t now_ms, timeout_ms;
};

static int
sweep_apply(struct store_tx *tx, void *arg)
{
	struct sweep *sw = arg;
	int rc = STORE_OK;

	store_tx_fence(tx); /* only as the leader that decided to sweep */
	for (int i = 0; i < sw->n && rc == STORE_OK; i++) {
		struct store_obj node;
		if ((rc = store_get("node", sw->names[i], &node)) == STORE_NOTFOUND) {
			lease_forget(sw->names[i]); /* deleted */
			rc = STORE_OK;
			continue;
		}
		if (rc != STORE_OK)
			break;
		const char *agent = json_string_value(json_object_get(node.status, "agent"));
		if (agent == NULL || strcmp(agent, "up") != 0) {
			lease_set_up(sw->names[i], false, sw->now_ms); /* mirror the stored state */
			store_obj_clear(&node);
			continue;
		}
		if (!lease_expired(sw->names[i], sw->now_ms, sw->timeout_ms)) {
			store_obj_clear(&node); /* it reported while we looked */
			continue;
		}
		json_t *st = node.status ? json_deep_copy(node.status) : json_object();
		json_object_set_new(st, "agent", json_string("down"));
		int64_t seen = lease_last_seen(sw->names[i]);
		char ts[40];
		if (seen > 0) /* the stored last_seen is the last change; keep the last heartbeat */
			json_object_set_new(st, "last_seen",
					    json_string(clock_rfc3339(seen, ts, sizeof(ts))));
		rc = store_set_status(tx, "node", sw->names[i], st);
		json_decref(st);
		store_obj_clear(&node);
		if (rc == STORE_OK)
			rc = refresh_vips_of(tx, sw->names[i]);
		sw->down[i] = true;
	}
	lease_test_pause();
	return rc;
}

int
node_sweep_liveness(int64_t now_ms, int64_t timeout_ms)
{
	/* 64 nodes a transaction, at most 16 transactions a sweep: a rack that goes silent at once
	 * is marked down within a few sweeps, and no transaction holds the writer for long. */
	if (!lease_sweeper(now_ms))
		return STORE_OK;
	for (int batch = 0; batch < 16; batch++) {
		struct sweep sw = {.now_ms = now_ms, .timeout_ms = timeout_ms};
		int rc;

		sw.n = lease_list_expired(now_ms, timeout_ms, sw.names, 64);
		if (sw.n == 0)
			return STORE_OK;
		if ((rc = write_background("liveness-sweep", sweep_apply, &sw)) != STORE_OK)
			return rc;
		bool progress = false;
		for (int i = 0; i < sw.n; i++)
			if (sw.down[i]) {
				lease_set_up(sw.names[i], false, now_ms);
				progress = true;
			}
		if (sw.n < 64 || !progress)
			return STORE_OK;
	}
	return STORE_OK;
}

int
node_leases_load(int64_t now_ms)
{
	struct store_obj nodes[64];
	char after[STORE_NAME_MAX] = "";
	int n;

	do {
		n = store_list("node", NULL, NULL, after, NULL, 64, nodes, NULL);
		if (n < 0)
			return n;
		for (int i = 0; i < n; i++) {
			const char *agent =
			    json_string_value(json_object_get(nodes[i].status, "agent"));
			if (agent != NULL && strcmp(agent, "up") == 0)
				lease_set_up(nodes[i].name, true, now_ms);
			snprintf(after, sizeof(after), "%s", nodes[i].name);
			store_obj_clear(&nodes[i]);
		}
	} while (n == 64);
	return STORE_OK;
}
