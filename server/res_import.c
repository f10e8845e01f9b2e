/* /imports: a node's keepalived.conf (text/plain) turned into VIPs, backends and checks in one
 * transaction (import.c makes the plan; this file merges it with what is stored and writes it),
 * and /imports/{id}: the stored report. A dry run is the same import rolled back. Instances of
 * two nodes' files with the same vrid, interface and addresses become one VIP with both members;
 * the same vrid and interface with other addresses or auth is a 409 naming both lines. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "import.h"
#include "res_import.h"
#include "resource.h"
#include "write.h"

#define IMPORT_VIPS_MAX 500 /* VIPs read to find the one an instance joins */

struct import_run {
	const char *node, *address, *ifname; /* address: ?address, then the node's */
	char address_buf[64];
	bool dry_run;
	struct ka_conf conf;
	struct import_plan plan;
	json_t *resources; /* the report's resources */
	json_t *renamed;   /* planned VIP name -> the name it is stored under */
	json_t *planned;   /* [[kind, name]] of the backends and checks this import wrote */
};

/* A 422 whose errors name lines of the file: [{line, keyword, detail}] (borrowed). */
static int
problem_lines(struct http_response *res, const struct http_request *req, json_t *lines)
{
	struct verr e = {0};
	json_t *l, *item;
	size_t i;

	json_array_foreach(lines, i, l)
	{
		json_int_t n = json_integer_value(json_object_get(l, "line"));
		const char *d = json_string_value(json_object_get(l, "detail"));
		if (n > 0)
			verr_add(&e, "", "line %lld: %s", (long long)n, d);
		else
			verr_add(&e, "", "%s", d);
	}
	json_array_foreach(e.list, i, item)
	{
		json_object_set(item, "line", json_object_get(json_array_get(lines, i), "line"));
		json_object_set(item, "keyword",
				json_object_get(json_array_get(lines, i), "keyword"));
	}
	http_problem_validation(res, req, &e);
	json_object_set_new(
	    res->body, "detail",
	    json_sprintf("the file cannot be imported: %zu error%s, first at line "
			 "%lld",
			 json_array_size(lines), json_array_size(lines) == 1 ? "" : "s",
			 json_integer_value(json_object_get(json_array_get(lines, 0), "line"))));
	return -1;
}

/* Records a resource of the report. */
static void
report_resource(struct import_run *r, const char *kind, const char *plural, const char *name,
		enum resource_did did, json_t *line)
{
	static const char *const words[] = {"unchanged", "created", "updated"};
	json_t *e = json_pack("{s:s, s:s, s:s, s:O}", "kind", kind, "name", name, "action",
			      words[did], "line", line);

	hal_link(e, "self", "/%s/%s", plural, name);
	json_array_append_new(r->resources, e);
}

/* Records that r's node owns what its import wrote, when the import made it: created now, or
 * already owned by another node's import. What users made by hand stays theirs. */
static int
own(struct write_ctx *w, struct import_run *r, const char *kind, const char *name,
    enum resource_did did)
{
	int owners = did == RESOURCE_CREATED ? 1 : store_import_owners(kind, name);

	json_array_append_new(r->planned, json_pack("[s, s]", kind, name));
	if (owners < 0)
		return owners;
	return owners > 0 ? store_import_own(w->tx, kind, name, r->node) : STORE_OK;
}

/* Records a resource of the report that the file no longer has: deleted, or kept because a
 * hand-made object refers to it. */
static void
report_gone(struct import_run *r, const struct resource_kind *k, const char *name, bool deleted)
{
	json_t *e = json_pack("{s:s, s:s, s:s, s:i}", "kind", k->kind, "name", name, "action",
			      deleted ? "deleted" : "kept", "line", 0);

	if (!deleted)
		hal_link(e, "self", "/%s/%s", k->plural, name);
	json_array_append_new(r->resources, e);
}

/* Writes one planned object (entry {name, line, spec}) of kind k, as name. Returns STORE_OK, a
 * store_rc, or WRITE_ANSWERED (422 naming the line). */
static int
put_one(struct write_ctx *w, struct import_run *r, const struct resource_kind *k, const char *name,
	json_t *entry, json_t *spec)
{
	struct store_obj old = {0};
	struct verr e = {0};
	enum resource_did did = RESOURCE_UNCHANGED;
	int rc = store_get(k->kind, name, &old);

	if (rc != STORE_OK && rc != STORE_NOTFOUND)
		return rc;
	rc = resource_apply(k, w->tx, name, spec, old.spec, false, true, &e, w->detail,
			    sizeof(w->detail), &did);
	store_obj_clear(&old);
	if (rc == RESOURCE_INVALID) {
		json_t *lines = json_array(), *item;
		size_t i;
		json_array_foreach(e.list, i, item) json_array_append_new(
		    lines, json_pack("{s:O, s:s, s:s+++}", "line", json_object_get(entry, "line"),
				     "keyword", k->kind, "detail", name,
				     json_string_value(json_object_get(item, "pointer")), ": ",
				     json_string_value(json_object_get(item, "detail"))));
		verr_clear(&e);
		problem_lines(w->res, w->req, lines);
		json_decref(lines);
		return WRITE_ANSWERED;
	}
	if (rc == STORE_OK)
		report_resource(r, k->kind, k->plural, name, did, json_object_get(entry, "line"));
	if (rc == STORE_OK && k != &res_vip_kind && k != &res_node_kind)
		rc = own(w, r, k->kind, name, did);
	return rc;
}

/* Does list hold s? */
static bool
has_string(const json_t *list, const char *s)
{
	json_t *v;
	size_t i;

	json_array_foreach(list, i, v) if (strcmp(json_string_value(v), s) == 0) return true;
	return false;
}

/* Same members as sets. */
static bool
same_set(const json_t *a, const json_t *b)
{
	json_t *v;
	size_t i;

	if (json_array_size(a) != json_array_size(b))
		return false;
	json_array_foreach(a, i, v) if (!has_string(b, json_string_value(v))) return false;
	return true;
}

/* json_equal, with two absent values equal (json_equal calls them different). */
static bool
same_value(const json_t *a, const json_t *b)
{
	return a == NULL || b == NULL ? a == b : json_equal(a, b);
}

/* The stored VIP with vip's vrid, interface and family, or none (NOTFOUND). */
static int
find_twin(const json_t *spec, struct store_obj *out)
{
	struct store_obj *objs = calloc(IMPORT_VIPS_MAX, sizeof(*objs));
	const char *a0 = json_string_value(json_array_get(json_object_get(spec, "addresses"), 0));
	int n, rc = STORE_NOTFOUND;

	if (objs == NULL)
		return STORE_ERROR;
	n = store_list("vip", NULL, NULL, NULL, NULL, IMPORT_VIPS_MAX, objs, NULL);
	for (int i = 0; i < n; i++) {
		const json_t *o = objs[i].spec;
		const char *b0 =
		    json_string_value(json_array_get(json_object_get(o, "addresses"), 0));
		if (rc == STORE_NOTFOUND &&
		    json_equal(json_object_get(o, "vrid"), json_object_get(spec, "vrid")) &&
		    json_equal(json_object_get(o, "interface"),
			       json_object_get(spec, "interface")) &&
		    b0 != NULL && (strchr(a0, ':') != NULL) == (strchr(b0, ':') != NULL)) {
			*out = objs[i];
			memset(&objs[i], 0, sizeof(objs[i]));
			rc = STORE_OK;
		}
		store_obj_clear(&objs[i]);
	}
	free(objs);
	return n < 0 ? n : rc;
}

/* Joins the planned spec to the stored twin: the other nodes stay members, peers that are now
 * members' addresses go. */
static void
join_twin(struct import_run *r, json_t *spec, const json_t *twin)
{
	json_t *members = json_object_get(spec, "members"), *m, *peers = json_array(), *p;
	size_t i;

	json_array_foreach(json_object_get(twin, "members"), i,
			   m) if (strcmp(json_string_value(json_object_get(m, "node")), r->node) !=
				  0) json_array_append(members, m);
	json_array_foreach(json_object_get(twin, "peers"), i,
			   p) if (!has_string(json_object_get(spec, "peers"), json_string_value(p)))
	    json_array_append(json_object_get(spec, "peers"), p);
	json_array_foreach(json_object_get(spec, "peers"), i, p)
	{
		bool member = false;
		size_t j;
		json_array_foreach(members, j, m)
		{
			struct store_obj n = {0};
			const char *node = json_string_value(json_object_get(m, "node"));
			if (strcmp(node, r->node) == 0)
				member =
				    member ||
				    (r->address && strcmp(r->address, json_string_value(p)) == 0) ||
				    has_string(r->plan.unicast_sources, json_string_value(p));
			else if (store_get("node", node, &n) == STORE_OK)
				member = member ||
					 json_equal(json_object_get(n.spec, "address"), p) ||
					 has_string(json_object_get(n.spec, "unicast_sources"),
						    json_string_value(p));
			store_obj_clear(&n);
		}
		if (!member)
			json_array_append(peers, p);
	}
	json_object_set_new(spec, "peers", peers);
}

/* Members in node-name order, so that importing again compares equal. */
static int
by_node(const void *a, const void *b)
{
	return strcmp(json_string_value(json_object_get(*(json_t *const *)a, "node")),
		      json_string_value(json_object_get(*(json_t *const *)b, "node")));
}

static void
sort_members(json_t *spec)
{
	json_t *m = json_object_get(spec, "members"), *sorted = json_array();
	size_t n = json_array_size(m);
	json_t **v = calloc(n ? n : 1, sizeof(*v));

	for (size_t i = 0; v != NULL && i < n; i++)
		v[i] = json_array_get(m, i);
	if (v != NULL)
		qsort(v, n, sizeof(*v), by_node);
	for (size_t i = 0; v != NULL && i < n; i++)
		json_array_append(sorted, v[i]);
	free(v);
	json_object_set_new(spec, "members", sorted);
}

/* One planned VIP: joined to its twin, or created under its planned name. */
static int
put_vip(struct write_ctx *w, struct import_run *r, json_t *entry)
{
	json_t *spec = json_deep_copy(json_object_get(entry, "spec"));
	const char *planned = json_string_value(json_object_get(entry, "name"));
	struct store_obj twin = {0};
	char name[STORE_NAME_MAX];
	int rc = find_twin(spec, &twin), line = 0;

	snprintf(name, sizeof(name), "%s", planned);
	if (rc == STORE_OK) {
		if (!same_set(json_object_get(spec, "addresses"),
			      json_object_get(twin.spec, "addresses")) ||
		    !same_value(json_object_get(spec, "auth_pass"),
				json_object_get(twin.spec, "auth_pass"))) {
			char other[STORE_NAME_MAX] = "", from[160] = "made by hand";
			if (store_import_of_vip(twin.name, other, &line) == STORE_OK)
				snprintf(from, sizeof(from),
					 "imported from line %d of node %s's file", line, other);
			http_problem(
			    w->res, w->req, 409, "conflict",
			    "line %lld (vrrp_instance %s): vrid %lld on %s is already VIP %s, "
			    "%s, with other addresses or authentication",
			    json_integer_value(json_object_get(entry, "line")),
			    json_string_value(json_object_get(entry, "instance")),
			    json_integer_value(json_object_get(spec, "vrid")),
			    json_string_value(json_object_get(spec, "interface")), twin.name, from);
			store_obj_clear(&twin);
			json_decref(spec);
			return WRITE_ANSWERED;
		}
		snprintf(name, sizeof(name), "%s", twin.name);
		join_twin(r, spec, twin.spec);
	} else if (rc == STORE_NOTFOUND) {
		struct store_obj taken = {0};
		if (store_get("vip", name, &taken) == STORE_OK) /* a VIP of another vrid */
			snprintf(name, sizeof(name), "%.40s-%.22s", planned, r->node);
		store_obj_clear(&taken);
	} else {
		json_decref(spec);
		return rc;
	}
	store_obj_clear(&twin);
	sort_members(spec);
	json_object_set_new(r->renamed, planned, json_string(name));
	rc = put_one(w, r, &res_vip_kind, name, entry, spec);
	json_decref(spec);
	return rc;
}

/* Writes spec (stolen) as r's node, reported at line 0 (the node is the file's, not a line's).
 * Returns a store_rc, or WRITE_ANSWERED. */
static int
put_node(struct write_ctx *w, struct import_run *r, json_t *spec)
{
	json_t *entry = json_pack("{s:i}", "line", 0);
	int rc = put_one(w, r, &res_node_kind, r->node, entry, spec);

	json_decref(entry);
	json_decref(spec);
	return rc;
}

/* The file's unicast sources of other families than the node's address (issue 11) into the
 * stored node n: each replaces the node's source of its family. Returns a store_rc, or
 * WRITE_ANSWERED. */
static int
add_unicast_sources(struct write_ctx *w, struct import_run *r, const struct store_obj *n)
{
	json_t *spec, *list, *a, *old;
	size_t i, j;

	if (json_array_size(r->plan.unicast_sources) == 0)
		return STORE_OK;
	spec = json_deep_copy(n->spec);
	list = json_array();
	json_array_foreach(json_object_get(spec, "unicast_sources"), i, old)
	{
		bool replaced = false;
		json_array_foreach(r->plan.unicast_sources, j, a) replaced =
		    replaced || (strchr(json_string_value(a), ':') != NULL) ==
				    (strchr(json_string_value(old), ':') != NULL);
		if (!replaced)
			json_array_append(list, old);
	}
	json_array_extend(list, r->plan.unicast_sources);
	json_object_set_new(spec, "unicast_sources", list);
	return put_node(w, r, spec);
}

/* The node the file is of: as stored, or created from ?address (and ?interface, else the first
 * instance's). Sets r->address. */
static int
ensure_node(struct write_ctx *w, struct import_run *r)
{
	struct store_obj n = {0};
	int rc = store_get("node", r->node, &n);
	json_t *spec;
	const char *ifname = r->ifname;

	if (rc == STORE_OK) {
		if (r->address == NULL) {
			snprintf(r->address_buf, sizeof(r->address_buf), "%s",
				 json_string_value(json_object_get(n.spec, "address")));
			r->address = r->address_buf;
		}
		rc = add_unicast_sources(w, r, &n);
		store_obj_clear(&n);
		return rc;
	}
	if (rc != STORE_NOTFOUND)
		return rc;
	if (r->address == NULL) {
		char why[160];
		snprintf(why, sizeof(why),
			 "no node named %s: give ?address= (and ?interface=) to create it",
			 r->node);
		json_t *lines =
		    json_pack("[{s:i, s:s, s:s}]", "line", 0, "keyword", "", "detail", why);
		problem_lines(w->res, w->req, lines);
		json_decref(lines);
		return WRITE_ANSWERED;
	}
	if (ifname == NULL)
		ifname = json_string_value(json_object_get(
		    json_object_get(json_array_get(r->plan.vips, 0), "spec"), "interface"));
	spec =
	    json_pack("{s:s, s:s}", "address", r->address, "interface", ifname ? ifname : "eth0");
	if (json_array_size(r->plan.unicast_sources) > 0)
		json_object_set(spec, "unicast_sources", r->plan.unicast_sources);
	return put_node(w, r, spec);
}

/*
 * Re-import: the checks and backends r's node's imports own that this file no longer has lose
 * that owner, and go when no other node's import owns them (checks first: they may name a
 * backend). One that a hand-made object still references stays, reported "kept".
 */
static int
prune_owned(struct write_ctx *w, struct import_run *r)
{
	static const struct resource_kind *const kinds[] = {&res_check_kind, &res_backend_kind};
	json_t *owned = NULL, *o, *p;
	size_t i, j;
	int rc = store_import_owned_by(r->node, &owned);

	for (size_t k = 0; rc == STORE_OK && k < 2; k++)
		json_array_foreach(owned, i, o)
		{
			const char *kind = json_string_value(json_array_get(o, 0));
			const char *name = json_string_value(json_array_get(o, 1));
			bool planned = false;
			json_array_foreach(r->planned, j, p) planned = planned || json_equal(p, o);
			if (planned || strcmp(kind, kinds[k]->kind) != 0)
				continue;
			if ((rc = store_import_disown(w->tx, kind, name, r->node)) != STORE_OK ||
			    (rc = store_import_owners(kind, name)) != 0)
				continue;
			rc = store_delete(w->tx, kind, name, w->detail, sizeof(w->detail));
			if (rc == STORE_OK && kinds[k]->after_write)
				rc = kinds[k]->after_write(w->tx, name, NULL);
			if (rc == STORE_REFERENCED || rc == STORE_OK)
				report_gone(r, kinds[k], name, rc == STORE_OK);
			rc = rc == STORE_REFERENCED || rc == STORE_NOTFOUND ? STORE_OK : rc;
		}
	json_decref(owned);
	return rc < 0 ? rc : STORE_OK;
}

static int
import_apply(struct write_ctx *w, void *arg)
{
	struct import_run *r = arg;
	json_t *e, *report;
	size_t i;
	int64_t id = 0;
	int rc;

	/* The plan needs the node's address (unicast_src_ip): read it, or take ?address. */
	{
		struct store_obj n = {0};
		const char *addr = r->address;
		if (addr == NULL && store_get("node", r->node, &n) == STORE_OK)
			addr = json_string_value(json_object_get(n.spec, "address"));
		rc = import_plan(&r->conf, r->node, addr, &r->plan);
		store_obj_clear(&n);
		if (rc != 0)
			return STORE_ERROR;
	}
	if (json_array_size(r->plan.errors) > 0) {
		problem_lines(w->res, w->req, r->plan.errors);
		return WRITE_ANSWERED;
	}
	if ((rc = ensure_node(w, r)) != STORE_OK)
		return rc;
	json_array_foreach(r->plan.vips, i, e) if ((rc = put_vip(w, r, e)) != STORE_OK) return rc;
	json_array_foreach(r->plan.backends, i, e)
	{
		json_t *spec = json_deep_copy(json_object_get(e, "spec"));
		json_object_set(
		    spec, "vip",
		    json_object_get(r->renamed, json_string_value(json_object_get(spec, "vip"))));
		rc = put_one(w, r, &res_backend_kind, json_string_value(json_object_get(e, "name")),
			     e, spec);
		json_decref(spec);
		if (rc != STORE_OK)
			return rc;
	}
	json_array_foreach(r->plan.checks, i, e)
	{
		json_t *spec = json_deep_copy(json_object_get(e, "spec")), *t;
		size_t j;
		json_array_foreach(json_object_get(spec, "vips"), j, t) json_object_set(
		    t, "vip",
		    json_object_get(r->renamed, json_string_value(json_object_get(t, "vip"))));
		rc = put_one(w, r, &res_check_kind, json_string_value(json_object_get(e, "name")),
			     e, spec);
		json_decref(spec);
		if (rc != STORE_OK)
			return rc;
	}
	if ((rc = prune_owned(w, r)) != STORE_OK)
		return rc;
	report = json_pack("{s:s, s:b, s:O, s:O, s:O, s:O}", "node", r->node, "dry_run", r->dry_run,
			   "resources", r->resources, "statements", r->plan.statements, "gaps",
			   r->plan.gaps, "scripts", r->plan.scripts);
	if (!r->dry_run &&
	    (rc = store_import_add(w->tx, r->node, clock_wall_ms(), report, &id)) != STORE_OK) {
		json_decref(report);
		return rc;
	}
	w->res->body = report;
	if (r->dry_run) {
		hal_link(report, "self", "/imports?node=%s&dry_run=true", r->node);
		w->res->status = 200;
		return WRITE_ANSWERED; /* rolled back: a dry run changes nothing */
	}
	json_object_set_new(report, "id", json_integer(id));
	hal_link(report, "self", "/imports/%lld", (long long)id);
	hal_link(report, "vg:node", "/nodes/%s", r->node);
	hal_add_curies(report);
	{
		char loc[64];
		snprintf(loc, sizeof(loc), "/imports/%lld", (long long)id);
		w->res->location = strdup(loc);
	}
	w->res->status = 201;
	return STORE_OK;
}

static const struct write_ops import_ops = {NULL, import_apply};

/* Is the request body text/plain (any charset parameter)? */
static bool
is_text_plain(const char *ct)
{
	size_t n = ct ? strcspn(ct, ";") : 0;

	while (n > 0 && (ct[n - 1] == ' ' || ct[n - 1] == '\t'))
		n--;
	return ct != NULL && n == 10 && strncasecmp(ct, "text/plain", 10) == 0;
}

static int
import_post(struct http_request *req, struct http_response *res)
{
	struct import_run r = {0};
	const char *dry = http_query(req, "dry_run");
	struct ka_error ke;
	int ret;

	if (!is_text_plain(req->content_type))
		return http_problem(res, req, 415, "unsupported-media-type",
				    "send the keepalived.conf as text/plain");
	r.node = http_query(req, "node");
	r.address = http_query(req, "address");
	r.ifname = http_query(req, "interface");
	if (r.node == NULL || !valid_name(r.node))
		return http_problem(res, req, 400, "bad-request",
				    "?node= must name the node whose file this is");
	if (dry != NULL && strcmp(dry, "true") != 0 && strcmp(dry, "false") != 0 && dry[0] != '\0')
		return http_problem(res, req, 400, "bad-request", "dry_run is true or false");
	r.dry_run = dry != NULL && strcmp(dry, "false") != 0;
	if (ka_parse(req->body ? req->body : "", req->body_len, r.node, &r.conf, &ke) != 0) {
		json_t *lines = json_pack("[{s:i, s:s, s:s}]", "line", ke.line, "keyword", "",
					  "detail", ke.what);
		problem_lines(res, req, lines);
		json_decref(lines);
		return -1;
	}
	r.resources = json_array();
	r.renamed = json_object();
	r.planned = json_array();
	ret = write_run(req, res, &import_ops, &r);
	import_plan_free(&r.plan);
	ka_free(&r.conf);
	json_decref(r.resources);
	json_decref(r.renamed);
	json_decref(r.planned);
	return ret;
}

int
res_imports(struct http_request *req, struct http_response *res)
{
	if (req->method != HTTP_POST)
		return http_problem_method(res, req, HTTP_POST | HTTP_OPTIONS);
	return import_post(req, res);
}

int
res_import(struct http_request *req, struct http_response *res)
{
	const char *s = req->params[0];
	char node[STORE_NAME_MAX], *end;
	int64_t created_ms;
	json_t *report;
	long long id = strtoll(s, &end, 10);
	int rc;

	if (*s == '\0' || *end != '\0' || id <= 0 || s[0] == '0')
		return http_problem(res, req, 404, "not-found", "no import %s", s);
	rc = store_import_get(id, node, &created_ms, &report);
	if (rc == STORE_NOTFOUND)
		return http_problem(res, req, 404, "not-found", "no import %s", s);
	if (rc != STORE_OK)
		return http_problem_store(res, req, rc, NULL);
	json_object_set_new(report, "id", json_integer(id));
	json_object_del(report, "_links");
	hal_link(report, "self", "/imports/%lld", id);
	hal_link(report, "vg:node", "/nodes/%s", node);
	hal_add_curies(report);
	res->body = report;
	res->last_modified_ms = created_ms;
	res->status = 200;
	return 0;
}
