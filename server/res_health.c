/* Backend health from check results. A backend is down while any of its checks reports down on
 * any node (the reason names the check, the node and the output), up when every check has at least
 * one result and all are up, and unknown before that. */
#include <stdio.h>
#include <string.h>

#include "res_health.h"
#include "store.h"
#include "http.h"

/* Does node run check c (its own node check, or a check of a backend behind one of its VIPs)? */
static bool
runs_check(const char *node, const struct store_obj *c)
{
	const char *target = json_string_value(json_object_get(c->spec, "node"));
	const char *backend = json_string_value(json_object_get(c->spec, "backend"));
	struct store_obj b, v;
	json_t *m;
	size_t i;
	bool yes = false;

	if (target != NULL)
		return strcmp(target, node) == 0;
	if (backend == NULL || store_get("backend", backend, &b) != STORE_OK)
		return false;
	if (store_get("vip", json_string_value(json_object_get(b.spec, "vip")), &v) == STORE_OK) {
		json_array_foreach(json_object_get(v.spec, "members"), i,
				   m) if (strcmp(json_string_value(json_object_get(m, "node")),
						 node) == 0) yes = true;
		store_obj_clear(&v);
	}
	store_obj_clear(&b);
	return yes;
}

/* Re-derives status.health of backend name from its checks' results. */
static int
derive_backend(struct store_tx *tx, const char *name)
{
	struct store_obj checks[64], b;
	int n = store_list("check", "backend", name, NULL, NULL, 64, checks, NULL);
	const char *health = n > 0 ? "up" : "unknown";
	char reason[300] = "";
	int rc;

	if (n < 0)
		return n;
	for (int i = 0; i < n; i++) {
		json_t *res = json_object_get(checks[i].status, "results"), *r;
		const char *node;
		bool any = false;
		json_object_foreach(res, node, r)
		{
			const char *st = json_string_value(json_object_get(r, "state"));
			any = true;
			if (st != NULL && strcmp(st, "down") == 0 && strcmp(health, "down") != 0) {
				health = "down";
				snprintf(reason, sizeof(reason), "check %s fails on %s: %s",
					 checks[i].name, node,
					 json_string_value(json_object_get(r, "output"))
					     ? json_string_value(json_object_get(r, "output"))
					     : "down");
			}
		}
		if (!any && strcmp(health, "up") == 0)
			health = "unknown";
		store_obj_clear(&checks[i]);
	}
	if (strcmp(health, "up") == 0)
		snprintf(reason, sizeof(reason), "all %d checks pass", n);
	if ((rc = store_get("backend", name, &b)) != STORE_OK)
		return rc == STORE_NOTFOUND ? STORE_OK : rc;
	const char *old = json_string_value(json_object_get(b.status, "health"));
	json_t *since = json_object_get(b.status, "since");
	char ts[40];
	json_t *st =
	    json_pack("{s:s, s:s*}", "health", health, "reason", reason[0] ? reason : NULL);
	if (old != NULL && strcmp(old, health) == 0 && since != NULL)
		json_object_set(st, "since", since);
	else
		json_object_set_new(st, "since",
				    json_string(clock_rfc3339(clock_wall_ms(), ts, sizeof(ts))));
	rc = store_set_status(tx, "backend", name, st);
	json_decref(st);
	store_obj_clear(&b);
	return rc;
}

int
health_record(struct store_tx *tx, const char *node, json_t *checks, bool *changed)
{
	const char *name;
	json_t *r;
	int rc = STORE_OK;
	char ts[40];

	*changed = false;
	json_object_foreach(checks, name, r)
	{
		struct store_obj c;
		if (store_get("check", name, &c) != STORE_OK)
			continue;
		if (!runs_check(node, &c)) {
			store_obj_clear(&c);
			continue;
		}
		json_t *st = c.status ? json_deep_copy(c.status) : json_object();
		json_t *results = json_object_get(st, "results");
		if (!json_is_object(results))
			json_object_set_new(st, "results", results = json_object());
		json_t *prev = json_object_get(results, node);
		json_t *entry = json_deep_copy(r);
		const char *ps = json_string_value(json_object_get(prev, "state"));
		const char *ns = json_string_value(json_object_get(r, "state"));
		if (ps && ns && strcmp(ps, ns) == 0 && json_object_get(prev, "since"))
			json_object_set(entry, "since", json_object_get(prev, "since"));
		else
			json_object_set_new(
			    entry, "since",
			    json_string(clock_rfc3339(clock_wall_ms(), ts, sizeof(ts))));
		bool same = prev != NULL && json_equal(prev, entry);
		*changed = *changed || !same;
		json_object_set_new(results, node, entry);
		if (tx != NULL && !same)
			rc = store_set_status(tx, "check", name, st);
		json_decref(st);
		const char *backend = json_string_value(json_object_get(c.spec, "backend"));
		if (tx != NULL && !same && rc == STORE_OK && backend != NULL)
			rc = derive_backend(tx, backend);
		store_obj_clear(&c);
		if (rc != STORE_OK)
			break;
	}
	return rc;
}
