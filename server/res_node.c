/* Nodes: the load balancers. Their spec is what operators write; their status is what the node's
 * agent reports (PUT /nodes/{name}/status) plus the server's view of its liveness. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "addr.h"
#include "res_health.h"
#include "res_node.h"
#include "res_vip.h"
#include "resource.h"

static const char *const node_fields[] = {"address",	      "interface",	"labels",
					  "ip_nonlocal_bind", "haproxy_socket", NULL};

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

static void
node_decorate(json_t *repr, const struct store_obj *obj, const struct principal *who)
{
	(void)who;
	hal_link(repr, "vg:config", "/nodes/%s/config", obj->name);
	hal_link(repr, "vg:status", "/nodes/%s/status", obj->name);
	hal_link(repr, "vg:vips", "/vips?node=%s", obj->name);
}

const struct resource_kind res_node_kind = {
    .kind = "node",
    .plural = "nodes",
    .validate = node_validate,
    .decorate = node_decorate,
    .initial_status = node_initial_status,
};

/* Refreshes the derived status of every VIP that lists node as a member. */
static int
refresh_vips_of(const char *node)
{
	struct store_obj vips[64];
	int total, n, rc = STORE_OK;
	char after[STORE_NAME_MAX] = "";

	do {
		n = store_list("vip", "node", node, after, NULL, 64, vips, &total);
		if (n < 0)
			return n;
		for (int i = 0; i < n; i++) {
			if (rc == STORE_OK)
				rc = vip_refresh_status(vips[i].name);
			snprintf(after, sizeof(after), "%s", vips[i].name);
			store_obj_clear(&vips[i]);
		}
	} while (n == 64 && rc == STORE_OK);
	return rc;
}

static const char *const report_fields[] = {"agent_version", "ip_nonlocal_bind", "vrrp",
					    "vips_held",     "last_transition",	 "moves_done",
					    "checks",	     "counters",	 NULL};
static const char *const vrrp_states[] = {"INIT", "BACKUP", "MASTER", "FAULT", NULL};
static const char *const check_states[] = {"up", "down", "unknown", NULL};

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
		size_t i;
		json_t *one;
		json_array_foreach(sub.list, i, one)
		{
			char full[320];
			snprintf(full, sizeof(full), "%s%s", ptr,
				 json_string_value(json_object_get(one, "pointer")));
			verr_add(e, full, "%s", json_string_value(json_object_get(one, "detail")));
		}
		verr_clear(&sub);
	}
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

static void
validate_report(json_t *r, struct verr *e)
{
	static const char *const vrrp_fields[] = {"state", "priority", "since", NULL};
	static const char *const check_fields[] = {"state", "output", "at", NULL};
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
			json_object_foreach(v, k, x) if (!json_is_integer(x) || strlen(k) > 63)
			    verr_add(e, "/counters", "must map names to integers");
	}
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

	http_rfc3339(now, ts, sizeof(ts));
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
					   "last_transition", "counters",	  NULL};
	for (int i = 0; keep[i]; i++)
		if (json_object_get(st, keep[i]) == NULL)
			json_object_set(st, keep[i],
					json_object_get(old, keep[i])
					    ? json_object_get(old, keep[i])
					    : json_null());
	return st;
}

static json_t *
status_repr(const char *name, const json_t *status)
{
	json_t *r = status ? json_deep_copy(status) : json_object();

	hal_link(r, "self", "/nodes/%s/status", name);
	hal_link(r, "vg:node", "/nodes/%s", name);
	hal_add_curies(r);
	return r;
}

static int
status_put(struct http_request *req, struct http_response *res, const char *name)
{
	struct verr e = {0};
	struct store_obj node;
	json_t *report, *st;
	char etag[24];
	int rc;

	if ((report = http_parse_body(req, res, false)) == NULL)
		return -1;
	validate_report(report, &e);
	if (verr_any(&e)) {
		json_decref(report);
		return http_problem_validation(res, req, &e);
	}
	if ((rc = store_write_begin()) != STORE_OK) {
		json_decref(report);
		return http_problem_store(res, req, rc, NULL);
	}
	if ((rc = store_get("node", name, &node)) != STORE_OK) {
		store_rollback();
		json_decref(report);
		return http_problem_store(res, req, rc, "no such node");
	}
	json_t *cur = status_repr(name, node.status);
	http_etag_json(cur, etag);
	json_decref(cur);
	if (http_check_write_preconditions(req, res, true, etag) != 0) {
		store_rollback();
		store_obj_clear(&node);
		json_decref(report);
		return -1;
	}
	st = merge_report(report, node.status, http_now_ms());
	store_obj_clear(&node);
	/* check results live on the checks, not in the node's status */
	rc = health_record(name, json_object_get(report, "checks"));
	json_object_del(st, "checks");
	json_decref(report);
	if (rc == STORE_OK)
		rc = store_set_status("node", name, st);
	if (rc == STORE_OK)
		rc = refresh_vips_of(name);
	if (rc != STORE_OK) {
		store_rollback();
		json_decref(st);
		return http_problem_store(res, req, rc, NULL);
	}
	if ((rc = store_commit()) != STORE_OK) {
		json_decref(st);
		return http_problem_store(res, req, rc, NULL);
	}
	res->body = status_repr(name, st);
	json_decref(st);
	res->status = 200;
	return 0;
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
	store_obj_clear(&node);
	return 0;
}

/* Parses our RFC 3339 timestamps back into ms. Returns 0 when unparseable. */
static int64_t
parse_rfc3339(const char *s)
{
	struct tm tm = {0};
	const char *end;
	int ms = 0;

	if (s == NULL || (end = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm)) == NULL)
		return 0;
	if (*end == '.')
		ms = atoi(end + 1);
	return (int64_t)timegm(&tm) * 1000 + ms;
}

int
node_sweep_liveness(int64_t now_ms, int64_t timeout_ms)
{
	struct store_obj nodes[64];
	char stale[64][STORE_NAME_MAX], after[STORE_NAME_MAX] = "";
	int n, total, n_stale = 0, rc = STORE_OK;

	do { /* read outside any transaction: a sweep that finds nothing writes nothing */
		n = store_list("node", NULL, NULL, after, NULL, 64, nodes, &total);
		if (n < 0)
			return n;
		for (int i = 0; i < n; i++) {
			const json_t *st = nodes[i].status;
			const char *agent = json_string_value(json_object_get(st, "agent"));
			int64_t seen =
			    parse_rfc3339(json_string_value(json_object_get(st, "last_seen")));
			if (agent && strcmp(agent, "up") == 0 && now_ms - seen > timeout_ms &&
			    n_stale < 64)
				snprintf(stale[n_stale++], STORE_NAME_MAX, "%s", nodes[i].name);
			snprintf(after, sizeof(after), "%s", nodes[i].name);
			store_obj_clear(&nodes[i]);
		}
	} while (n == 64);
	if (n_stale == 0)
		return STORE_OK;
	if ((rc = store_write_begin()) != STORE_OK)
		return rc;
	for (int i = 0; i < n_stale && rc == STORE_OK; i++) {
		struct store_obj node;
		if (store_get("node", stale[i], &node) != STORE_OK)
			continue;
		const char *agent = json_string_value(json_object_get(node.status, "agent"));
		int64_t seen =
		    parse_rfc3339(json_string_value(json_object_get(node.status, "last_seen")));
		if (agent == NULL || strcmp(agent, "up") != 0 || now_ms - seen <= timeout_ms) {
			store_obj_clear(&node); /* it reported while we looked */
			continue;
		}
		json_t *st = node.status ? json_deep_copy(node.status) : json_object();
		json_object_set_new(st, "agent", json_string("down"));
		rc = store_set_status("node", stale[i], st);
		json_decref(st);
		store_obj_clear(&node);
		if (rc == STORE_OK)
			rc = refresh_vips_of(stale[i]);
	}
	if (rc != STORE_OK) {
		store_rollback();
		return rc;
	}
	return store_commit();
}
