/* GET /nodes/{name}/config: a node's desired state, rendered from the VIPs it is a member of, the
 * backends behind those VIPs and the checks it must run. The agent long-polls it; its ETag depends
 * on nothing but this content. With Accept: text/plain it is the equivalent keepalived.conf. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "res_node.h"
#include "resource.h"
#include "vip_fields.h"

#define PAGE 64
#define VIGIL_SCRIPT_DIR "/etc/vigil/scripts" /* vigil-agent's default --script-dir */

/* Raises *modified_ms to o's modification time: a config's Last-Modified is the newest of the
 * objects it was rendered from. */
static void
saw(int64_t *modified_ms, const struct store_obj *o)
{
	if (o->modified_ms > *modified_ms)
		*modified_ms = o->modified_ms;
}

/* Calls fn for every object of kind referencing (ref_kind, ref_name), raising *modified_ms to the
 * newest of them. Returns a store_rc. */
static int
for_each_ref(const char *kind, const char *ref_kind, const char *ref_name, int64_t *modified_ms,
	     void (*fn)(const struct store_obj *o, void *arg), void *arg)
{
	struct store_obj objs[PAGE];
	char after[STORE_NAME_MAX] = "";
	int n;

	do {
		n = store_list(kind, ref_kind, ref_name, after, NULL, PAGE, objs, NULL);
		if (n < 0)
			return n;
		for (int i = 0; i < n; i++) {
			saw(modified_ms, &objs[i]);
			fn(&objs[i], arg);
			snprintf(after, sizeof(after), "%s", objs[i].name);
			store_obj_clear(&objs[i]);
		}
	} while (n == PAGE);
	return STORE_OK;
}

/* Appends {"name": ..., spec...} to the array arg. */
static void
add_named_spec(const struct store_obj *o, void *arg)
{
	json_t *item = json_pack("{s:s}", "name", o->name);

	json_object_update(item, o->spec);
	json_array_append_new(arg, item);
}

struct vip_ctx {
	const char *node;
	const json_t *node_spec; /* the node's spec: its address and unicast sources (borrowed) */
	bool with_secret;
	json_t *vips, *backends, *checks;
	int64_t modified_ms; /* the newest object read so far */
};

static void
add_backend(const struct store_obj *o, void *arg)
{
	struct vip_ctx *c = arg;
	json_t *item = json_pack("{s:s}", "name", o->name);

	json_object_update(item, o->spec);
	if (json_object_get(item, "haproxy_backend") == NULL)
		json_object_set(item, "haproxy_backend", json_object_get(o->spec, "vip"));
	if (json_object_get(item, "haproxy_server") == NULL)
		json_object_set_new(item, "haproxy_server", json_string(o->name));
	json_array_append_new(c->backends, item);
	for_each_ref("check", "backend", o->name, &c->modified_ms, add_named_spec, c->checks);
}

static void
add_vip(const struct store_obj *o, void *arg)
{
	struct vip_ctx *c = arg;
	json_t *v = json_pack("{s:s}", "name", o->name), *peers = json_array(), *m;
	json_t *members = json_object_get(o->spec, "members");
	const char *requested = json_string_value(json_object_get(o->status, "requested"));
	size_t i;

	json_t *unicast_peers = json_array();
	bool unicast = json_is_true(json_object_get(o->spec, "unicast"));
	const char *a0 =
	    json_string_value(json_array_get(json_object_get(o->spec, "addresses"), 0));
	int family = a0 != NULL && strchr(a0, ':') ? 6 : 4;
	const char *src = vipf_unicast_source(c->node_spec, family);

	json_object_update(v, o->spec);
	json_object_del(v, "members");
	/* "peers" here are the other members (with their priorities); the spec's peers, the
	 * routers vigil does not manage, are "external_peers". */
	json_object_set(v, "external_peers", json_object_get(o->spec, "peers"));
	if (!c->with_secret)
		json_object_del(v, "auth_pass");
	json_array_foreach(members, i, m)
	{
		const char *node = json_string_value(json_object_get(m, "node"));
		json_t *prio = json_object_get(m, "priority");
		struct store_obj peer;
		if (node == NULL)
			continue;
		if (strcmp(node, c->node) == 0) {
			json_object_set(v, "priority", prio);
			continue;
		}
		if (store_get("node", node, &peer) != STORE_OK)
			continue;
		saw(&c->modified_ms, &peer);
		if (unicast && vipf_unicast_source(peer.spec, family) != NULL)
			json_array_append_new(unicast_peers,
					      json_string(vipf_unicast_source(peer.spec, family)));
		json_array_append_new(peers, json_pack("{s:s, s:O, s:O}", "node", node, "address",
						       json_object_get(peer.spec, "address"),
						       "priority", prio));
		store_obj_clear(&peer);
	}
	json_object_set_new(v, "peers", peers);
	/* Unicast: what the agent sends from and to (RFC 5798 allows unicast; keepalived's
	 * unicast_src_ip and unicast_peer): this node's source of the VIP's family (its address or
	 * unicast_sources, vipf_unicast_source), every other member's and the
	 * external peers. */
	json_object_set_new(v, "unicast_src", unicast && src ? json_string(src) : json_null());
	if (unicast)
		json_array_extend(unicast_peers, json_object_get(o->spec, "peers"));
	json_object_set_new(v, "unicast_peers", unicast_peers);
	if (requested != NULL)
		json_object_set_new(v, "move",
				    json_pack("{s:O, s:s}", "id",
					      json_object_get(o->status, "move_id"), "target",
					      requested));
	else
		json_object_set_new(v, "move", json_null());
	json_array_append_new(c->vips, v);
	for_each_ref("backend", "vip", o->name, &c->modified_ms, add_backend, c);
}

/* Builds the config document of node (caller owns), or NULL with rc set; *modified_ms gets the
 * newest modification of what it was rendered from. */
static json_t *
build_config(const struct store_obj *node, bool with_secret, int64_t *modified_ms, int *rc)
{
	struct vip_ctx c = {node->name,	  node->spec,	with_secret,	  json_array(),
			    json_array(), json_array(), node->modified_ms};
	json_t *cfg = json_pack("{s:s, s:O, s:O}", "node", node->name, "address",
				json_object_get(node->spec, "address"), "interface",
				json_object_get(node->spec, "interface"));

	json_object_set(cfg, "ip_nonlocal_bind",
			json_object_get(node->spec, "ip_nonlocal_bind")
			    ? json_object_get(node->spec, "ip_nonlocal_bind")
			    : json_null());
	json_object_set(cfg, "haproxy_socket",
			json_object_get(node->spec, "haproxy_socket")
			    ? json_object_get(node->spec, "haproxy_socket")
			    : json_null());
	*rc = for_each_ref("vip", "node", node->name, &c.modified_ms, add_vip, &c);
	if (*rc == STORE_OK)
		*rc = for_each_ref("check", "node", node->name, &c.modified_ms, add_named_spec,
				   c.checks);
	json_object_set_new(cfg, "vips", c.vips);
	json_object_set_new(cfg, "backends", c.backends);
	json_object_set_new(cfg, "checks", c.checks);
	*modified_ms = c.modified_ms;
	if (*rc != STORE_OK) {
		json_decref(cfg);
		return NULL;
	}
	hal_link(cfg, "self", "/nodes/%s/config", node->name);
	hal_link(cfg, "vg:node", "/nodes/%s", node->name);
	hal_link(cfg, "vg:status", "/nodes/%s/status", node->name);
	hal_add_curies(cfg);
	return cfg;
}

struct text {
	char *s;
	size_t len;
	FILE *f;
};

/* keepalived wants whole seconds for most timers; round up so that we never check faster. */
static long
secs(json_t *ms)
{
	json_int_t v = json_integer_value(ms);

	return v <= 0 ? 1 : (long)((v + 999) / 1000);
}

/* keepalived splits a script line on white space and honours single quotes: an argument with
 * white space or quotes is quoted, a single quote in it written as '\''. */
static void
render_arg(FILE *f, const char *s)
{
	if (s[strcspn(s, " \t'\"\\")] == '\0') {
		fputs(s, f);
		return;
	}
	fputc('\'', f);
	for (; *s != '\0'; s++) {
		if (*s == '\'')
			fputs("'\\''", f);
		else
			fputc(*s, f);
	}
	fputc('\'', f);
}

/* A node check of type script as a vrrp_script: its program is a bare name in the agent's
 * --script-dir, shown there (VIGIL_SCRIPT_DIR) as for notify, since keepalived wants a path. */
static void
render_script(FILE *f, json_t *chk)
{
	const char *name = json_string_value(json_object_get(chk, "name"));
	json_t *argv = json_object_get(chk, "script"), *a;
	size_t i;

	fprintf(f, "vrrp_script %s {\n\tscript \"%s/", name, VIGIL_SCRIPT_DIR);
	json_array_foreach(argv, i, a)
	{
		if (i > 0)
			fputc(' ', f);
		render_arg(f, json_string_value(a));
	}
	fprintf(f, "\"\n\tinterval %ld\n\ttimeout %ld\n\trise %lld\n\tfall %lld\n",
		secs(json_object_get(chk, "interval_ms")), secs(json_object_get(chk, "timeout_ms")),
		json_integer_value(json_object_get(chk, "rise")),
		json_integer_value(json_object_get(chk, "fall")));
	if (json_integer_value(json_object_get(chk, "weight")) != 0)
		fprintf(f, "\tweight %lld\n", json_integer_value(json_object_get(chk, "weight")));
	fprintf(f, "}\n\n");
}

/* keyword { ADDR dev IF ... } */
static void
render_addresses(FILE *f, const char *keyword, json_t *list, const char *ifname)
{
	json_t *a;
	size_t i;

	fprintf(f, "\t%s {\n", keyword);
	json_array_foreach(list, i, a) fprintf(f, "\t\t%s dev %s\n", json_string_value(a), ifname);
	fprintf(f, "\t}\n");
}

static void
render_unicast(FILE *f, json_t *v)
{
	json_t *a;
	size_t i;

	if (!json_is_true(json_object_get(v, "unicast")))
		return;
	fprintf(f, "\tunicast_src_ip %s\n\tunicast_peer {\n",
		json_string_value(json_object_get(v, "unicast_src")));
	json_array_foreach(json_object_get(v, "unicast_peers"), i, a)
	    fprintf(f, "\t\t%s\n", json_string_value(a));
	fprintf(f, "\t}\n");
}

/*
 * notify, track_interface, use_vmac and the GARP timers. The notify program is a bare name in the
 * agent's --script-dir; keepalived wants a path, so it is shown in the agent's default script
 * directory (VIGIL_SCRIPT_DIR), where a node that runs keepalived instead keeps the same scripts.
 */
static void
render_vrrp_extras(FILE *f, json_t *v)
{
	json_t *notify = json_object_get(v, "notify"), *a, *t;
	json_int_t refresh = json_integer_value(json_object_get(v, "garp_refresh_s"));
	size_t i;

	if (json_array_size(notify) > 0) {
		fprintf(f, "\tnotify \"%s/", VIGIL_SCRIPT_DIR);
		json_array_foreach(notify, i, a)
		{
			if (i > 0)
				fputc(' ', f);
			render_arg(f, json_string_value(a));
		}
		fprintf(f, "\"\n");
	}
	if (json_array_size(json_object_get(v, "track_interfaces")) > 0) {
		fprintf(f, "\ttrack_interface {\n");
		json_array_foreach(json_object_get(v, "track_interfaces"), i, t)
		{
			json_int_t w = json_integer_value(json_object_get(t, "weight"));
			fprintf(f, "\t\t%s", json_string_value(json_object_get(t, "interface")));
			if (w != 0)
				fprintf(f, " weight %lld", w);
			fprintf(f, "\n");
		}
		fprintf(f, "\t}\n");
	}
	if (json_is_true(json_object_get(v, "vmac")))
		/* keepalived sends unicast from the parent interface only with vmac_xmit_base */
		fprintf(f, "\tuse_vmac\n%s",
			json_is_true(json_object_get(v, "unicast")) ? "\tvmac_xmit_base\n" : "");
	fprintf(f, "\tgarp_master_delay %lld\n\tgarp_master_repeat %lld\n",
		json_integer_value(json_object_get(v, "garp_delay_s")),
		json_integer_value(json_object_get(v, "garp_repeat")));
	if (refresh > 0) /* keepalived refreshes with one GARP unless told; vigil-agent a burst */
		fprintf(f, "\tgarp_master_refresh %lld\n\tgarp_master_refresh_repeat %lld\n",
			refresh, json_integer_value(json_object_get(v, "garp_repeat")));
}

/* Counts the VIPs of vips (up to index end, or all with end -1) whose group equals g. */
static size_t
group_count(json_t *vips, json_t *g, long end)
{
	json_t *w;
	size_t j, n = 0;

	json_array_foreach(vips, j, w)
	{
		if (end >= 0 && (long)j >= end)
			break;
		n += json_equal(json_object_get(w, "group"), g);
	}
	return n;
}

/*
 * vrrp_sync_group for every group of the node's VIPs (all of a group's VIPs are on the same
 * nodes, a rule of the VIP resource, so the group is whole here), once, at its first VIP. A
 * group of one VIP is left out (keepalived calls it a configuration error). Tracked interface
 * weights apply per VIP in vigil: sync_group_tracking_weight keeps keepalived from ignoring them.
 */
static void
render_sync_groups(FILE *f, json_t *vips)
{
	json_t *v, *w, *g;
	size_t i, j;

	json_array_foreach(vips, i, v)
	{
		g = json_object_get(v, "group");
		if (!json_is_string(g) || group_count(vips, g, (long)i) > 0 ||
		    group_count(vips, g, -1) < 2)
			continue;
		fprintf(f, "vrrp_sync_group %s {\n\tgroup {\n", json_string_value(g));
		json_array_foreach(vips, j, w) if (json_equal(json_object_get(w, "group"), g))
		    fprintf(f, "\t\t%s\n", json_string_value(json_object_get(w, "name")));
		fprintf(f, "\t}\n\tsync_group_tracking_weight\n}\n\n");
	}
}

/* Does the VIP named vip track node check c? Every VIP does unless c lists its "vips"; then
 * *weight is the listed VIP's own weight (borrowed), if it has one. */
static bool
check_tracked_by(json_t *c, json_t *vip, json_t **weight)
{
	json_t *list = json_object_get(c, "vips"), *e;
	size_t i;

	if (list == NULL)
		return true;
	json_array_foreach(list, i, e) if (json_equal(json_object_get(e, "vip"), vip))
	{
		*weight = json_object_get(e, "weight");
		return true;
	}
	return false;
}

static void
render_vip(FILE *f, json_t *v, json_t *checks)
{
	const char *ifname = json_string_value(json_object_get(v, "interface"));
	json_int_t version = json_integer_value(json_object_get(v, "version"));
	json_int_t adv = json_integer_value(json_object_get(v, "advert_int_ms"));
	const char *pass = json_string_value(json_object_get(v, "auth_pass"));
	json_t *c;
	size_t i;
	bool tracked = false;

	fprintf(f, "vrrp_instance %s {\n\tstate BACKUP\n\tinterface %s\n\tvirtual_router_id %lld\n",
		json_string_value(json_object_get(v, "name")),
		json_string_value(json_object_get(v, "interface")),
		json_integer_value(json_object_get(v, "vrid")));
	fprintf(f, "\tpriority %lld\n\tversion %lld\n",
		json_integer_value(json_object_get(v, "priority")), version);
	if (adv % 1000 == 0)
		fprintf(f, "\tadvert_int %lld\n", adv / 1000);
	else
		fprintf(f, "\tadvert_int %lld.%02lld\n", adv / 1000, (adv % 1000) / 10);
	if (!json_is_true(json_object_get(v, "preempt")))
		fprintf(f, "\tnopreempt\n");
	else if (json_integer_value(json_object_get(v, "preempt_delay_ms")) > 0)
		fprintf(f, "\tpreempt_delay %ld\n", secs(json_object_get(v, "preempt_delay_ms")));
	if (pass != NULL)
		fprintf(f, "\tauthentication {\n\t\tauth_type PASS\n\t\tauth_pass %s\n\t}\n", pass);
	else if (version == 2 && json_object_get(v, "auth_pass") == NULL)
		fprintf(f, "\t# authentication, if any, is shown to the node's agent only\n");
	render_addresses(f, "virtual_ipaddress", json_object_get(v, "addresses"), ifname);
	if (json_array_size(json_object_get(v, "excluded_addresses")) > 0)
		render_addresses(f, "virtual_ipaddress_excluded",
				 json_object_get(v, "excluded_addresses"), ifname);
	render_unicast(f, v);
	render_vrrp_extras(f, v);
	json_array_foreach(checks, i, c)
	{
		json_t *weight = NULL;
		if (json_object_get(c, "node") == NULL ||
		    strcmp(json_string_value(json_object_get(c, "type")), "script") != 0 ||
		    !check_tracked_by(c, json_object_get(v, "name"), &weight))
			continue;
		if (!tracked)
			fprintf(f, "\ttrack_script {\n");
		tracked = true;
		fprintf(f, "\t\t%s", json_string_value(json_object_get(c, "name")));
		if (weight != NULL)
			fprintf(f, " weight %lld", json_integer_value(weight));
		fprintf(f, "\n");
	}
	if (tracked)
		fprintf(f, "\t}\n");
	fprintf(f, "}\n\n");
}

/* Renders cfg as keepalived.conf into a malloc'd string (caller frees). */
static char *
render_keepalived(json_t *cfg, size_t *len)
{
	struct text t = {0};
	json_t *c, *v;
	size_t i;

	t.f = open_memstream(&t.s, &t.len);
	if (t.f == NULL)
		return NULL;
	fprintf(t.f,
		"# keepalived.conf for node %s, rendered by vigild from its desired state\n"
		"global_defs {\n\trouter_id %s\n\tenable_script_security\n"
		"\tscript_user nobody\n}\n\n",
		json_string_value(json_object_get(cfg, "node")),
		json_string_value(json_object_get(cfg, "node")));
	json_array_foreach(json_object_get(cfg, "checks"), i,
			   c) if (json_object_get(c, "node") != NULL &&
				  strcmp(json_string_value(json_object_get(c, "type")), "script") ==
				      0) render_script(t.f, c);
	json_array_foreach(json_object_get(cfg, "vips"), i, v)
	    render_vip(t.f, v, json_object_get(cfg, "checks"));
	render_sync_groups(t.f, json_object_get(cfg, "vips"));
	json_array_foreach(json_object_get(cfg, "backends"), i, v)
	    fprintf(t.f, "# backend %s: %s port %lld behind VIP %s, %s, weight %lld (HAProxy)\n",
		    json_string_value(json_object_get(v, "name")),
		    json_string_value(json_object_get(v, "address")),
		    json_integer_value(json_object_get(v, "port")),
		    json_string_value(json_object_get(v, "vip")),
		    json_string_value(json_object_get(v, "admin_state")),
		    json_integer_value(json_object_get(v, "weight")));
	fclose(t.f);
	*len = t.len;
	return t.s;
}

int
res_node_config(struct http_request *req, struct http_response *res)
{
	const char *name = req->params[0];
	struct store_obj node;
	json_t *cfg;
	int rc;

	if (!valid_name(name))
		return http_problem(res, req, 404, "not-found", "node %s does not exist", name);
	if ((rc = store_get("node", name, &node)) != STORE_OK)
		return http_problem_store(res, req, rc, "no such node");
	cfg = build_config(&node, req->who.role == ROLE_AGENT, &res->last_modified_ms, &rc);
	store_obj_clear(&node);
	if (cfg == NULL)
		return http_problem_store(res, req, rc, NULL);
	res->status = 200;
	if (strcmp(req->media_type, "text/plain") == 0) {
		res->text = render_keepalived(cfg, &res->text_len);
		res->content_type = MT_TEXT;
		json_decref(cfg);
		if (res->text == NULL)
			return http_problem(res, req, 503, "unavailable", "out of memory");
		return 0;
	}
	res->body = cfg;
	return 0;
}
