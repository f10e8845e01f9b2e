// links: server/res_vip.c server/vip_fields.c server/res_holder.c server/validate.c server/store.c server/store_conn.c server/store_token.c server/store_keys.c server/hmap.c server/write.c server/auth.c server/http.c server/embedded.c build/gen/embedded.c common/addr.c common/clock.c
/* VIPs (server/res_vip.c, server/res_holder.c): field rules with their JSON Pointers, refs and the
 * vrid unique key, the derived status (holder, preferred, per-member state, move completion), the
 * vg:failback rule, and the holder sub-resource, on a temporary database. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "res_vip.h"
#include "resource.h"
#include "unit_json.h"

#define V (&res_vip_kind)

static char tmpdir[64];

/* Sets the status of node name to text (inside its own transaction). */
static void
node_status(const char *name, const char *text)
{
	struct store_tx *tx;
	json_t *st = J(text);

	assert_int_equal(store_write_begin(NULL, &tx), STORE_OK);
	assert_int_equal(store_set_status(tx, "node", name, st), STORE_OK);
	assert_int_equal(store_commit(tx), STORE_OK);
	json_decref(st);
}

static void
put_node(const char *name)
{
	struct store_links l;
	bool created;
	char detail[128];
	struct store_tx *tx;
	json_t *spec = json_object();

	memset(&l, 0, sizeof(l));
	assert_int_equal(store_write_begin(NULL, &tx), STORE_OK);
	assert_int_equal(
	    store_put(tx, "node", name, spec, &l, true, &created, detail, sizeof(detail)),
	    STORE_OK);
	assert_int_equal(store_commit(tx), STORE_OK);
	json_decref(spec);
}

/* Validates text as VIP name with old (may be NULL); returns the spec, errors in e. */
static json_t *
run(const char *text, const json_t *old, struct verr *e)
{
	json_t *spec = J(text);

	memset(e, 0, sizeof(*e));
	V->validate(spec, "web", old, e);
	return spec;
}

static json_t *
ok(const char *text, const json_t *old)
{
	struct verr e;
	json_t *spec = run(text, old, &e);

	if (verr_any(&e))
		fail_msg("%s: unexpected errors %s", text, json_dumps(e.list, 0));
	return spec;
}

/* Asserts that text gives errors exactly at the pointers given (NULL-terminated). */
static void
bad_at(const char *text, ...)
{
	struct verr e;
	json_t *spec = run(text, NULL, &e), *err;
	char *dump;
	const char *want;
	size_t i, n_want = 0;
	va_list ap;

	if (!verr_any(&e))
		fail_msg("%s: no error", text);
	dump = json_dumps(e.list, 0);
	va_start(ap, text);
	while ((want = va_arg(ap, const char *)) != NULL) {
		bool found = false;
		json_array_foreach(e.list, i, err)
		{
			if (strcmp(json_string_value(json_object_get(err, "pointer")), want) == 0)
				found = true;
		}
		if (!found)
			fail_msg("%s: no error at %s in %s", text, want, dump);
		n_want++;
	}
	va_end(ap);
	if (json_array_size(e.list) != n_want)
		fail_msg("%s: expected %zu errors, got %s", text, n_want, dump);
	free(dump);
	verr_clear(&e);
	json_decref(spec);
}
#define BAD(text, ...) bad_at(text, __VA_ARGS__, (const char *)NULL)

#define VK "'addresses':['198.18.0.100/24'],'interface':'eth0','vrid':51"
#define MEM "'members':[{'node':'lb1','priority':200},{'node':'lb2','priority':100}]"

static void
test_vip_defaults_and_canonical(void **state)
{
	json_t *s;
	char *dump;

	(void)state;
	s = ok("{'vrid':7,'interface':'eth0','addresses':['2001:DB8::0010/64']}", NULL);
	dump = json_dumps(s, 0);
	assert_string_equal(dump, "{\"addresses\": [\"2001:db8::10/64\"], "
				  "\"excluded_addresses\": [], "
				  "\"interface\": \"eth0\", \"vrid\": 7, \"version\": 3, "
				  "\"advert_int_ms\": 1000, \"preempt\": false, "
				  "\"preempt_delay_ms\": 0, \"members\": [], \"unicast\": false, "
				  "\"peers\": [], \"group\": null, \"track_interfaces\": [], "
				  "\"notify\": null, \"garp_repeat\": 5, \"garp_delay_s\": 5, "
				  "\"garp_refresh_s\": 0, \"vmac\": false}");
	free(dump);
	json_decref(s);
	json_decref(ok("{" VK ",'name':'web','status':{},'_links':{}," MEM "}", NULL));
}

static void
test_vip_field_errors(void **state)
{
	(void)state;
	BAD("{}", "/addresses", "/interface", "/vrid");
	BAD("{" VK ",'foo':1}", "/foo");
	BAD("{" VK ",'name':'other'}", "/name");
	BAD("{'addresses':['198.18.0.100'],'interface':'eth0','vrid':1}", "/addresses/0");
	BAD("{'addresses':['198.18.0.100/33'],'interface':'eth0','vrid':1}", "/addresses/0");
	BAD("{'addresses':['2001:db8::1/129'],'interface':'eth0','vrid':1}", "/addresses/0");
	BAD("{'addresses':['224.0.0.18/24'],'interface':'eth0','vrid':1}", "/addresses/0");
	BAD("{'addresses':['198.18.0.1/024'],'interface':'eth0','vrid':1}", "/addresses/0");
	BAD("{'addresses':['198.18.0.1/24'],'interface':'eth0:1','vrid':1}", "/interface");
	BAD("{'addresses':['198.18.0.1/24'],'interface':'a234567890123456','vrid':1}",
	    "/interface");
	BAD("{'addresses':['198.18.0.1/24'],'interface':'eth0','vrid':0}", "/vrid");
	BAD("{'addresses':['198.18.0.1/24'],'interface':'eth0','vrid':256}", "/vrid");
	BAD("{" VK ",'version':4}", "/version");
	BAD("{'addresses':['2001:db8::1/64'],'interface':'eth0','vrid':1,'version':2}", "/version");
	BAD("{" VK ",'advert_int_ms':15}", "/advert_int_ms");
	BAD("{" VK ",'advert_int_ms':41000}", "/advert_int_ms");
	BAD("{" VK ",'version':2,'advert_int_ms':1500}", "/advert_int_ms");
	json_decref(ok("{" VK ",'version':2,'advert_int_ms':255000}", NULL));
	json_decref(ok("{" VK ",'advert_int_ms':40950}", NULL));
	BAD("{" VK ",'preempt':1}", "/preempt");
	BAD("{" VK ",'preempt_delay_ms':3600001}", "/preempt_delay_ms");
	BAD("{" VK ",'auth_pass':'x'}", "/auth_pass");
	BAD("{" VK ",'version':2,'auth_pass':'123456789'}", "/auth_pass");
	BAD("{" VK ",'version':2,'auth_pass':'a b'}", "/auth_pass");
	json_decref(ok("{" VK ",'version':2,'auth_pass':'7388'}", NULL));
}

/* The VRRP-instance fields of issue 10: each bad value names its own pointer. */
static void
test_vip_instance_field_errors(void **state)
{
	char big[8192];
	size_t o;
	json_t *s;

	(void)state;
	/* addresses: one family, no duplicates, canonical, 255 IPv4 / 90 IPv6 */
	BAD("{'addresses':[],'interface':'eth0','vrid':1}", "/addresses");
	BAD("{'addresses':'198.18.0.1/24','interface':'eth0','vrid':1}", "/addresses");
	BAD("{'addresses':['198.18.0.1/24','2001:db8::1/64'],'interface':'eth0','vrid':1}",
	    "/addresses/1");
	BAD("{'addresses':['198.18.0.1/24','198.18.0.01/24'],'interface':'eth0','vrid':1}",
	    "/addresses/1");
	BAD("{'addresses':['198.18.0.1/24',7],'interface':'eth0','vrid':1}", "/addresses/1");
	BAD("{" VK ",'address':'198.18.0.1/24'}", "/address"); /* the old field is unknown */
	o = (size_t)snprintf(big, sizeof(big), "{'interface':'eth0','vrid':1,'addresses':[");
	for (int i = 0; i < 91; i++)
		o += (size_t)snprintf(big + o, sizeof(big) - o, "%s'2001:db8::%x/64'", i ? "," : "",
				      i + 1);
	snprintf(big + o, sizeof(big) - o, "]}");
	BAD(big, "/addresses");
	o = (size_t)snprintf(big, sizeof(big), "{'interface':'eth0','vrid':1,'addresses':[");
	for (int i = 0; i < 90; i++)
		o += (size_t)snprintf(big + o, sizeof(big) - o, "%s'2001:db8::%x/64'", i ? "," : "",
				      i + 1);
	snprintf(big + o, sizeof(big) - o, "]}");
	json_decref(ok(big, NULL));
	o = (size_t)snprintf(big, sizeof(big), "{'interface':'eth0','vrid':1,'addresses':[");
	for (int i = 0; i < 256; i++)
		o += (size_t)snprintf(big + o, sizeof(big) - o, "%s'198.18.%d.%d/16'", i ? "," : "",
				      i / 200, i % 200 + 1);
	snprintf(big + o, sizeof(big) - o, "]}");
	BAD(big, "/addresses");
	/* excluded: either family, not in addresses */
	s = ok("{" VK ",'excluded_addresses':['2001:DB8::1/64','198.18.1.1/32']}", NULL);
	assert_string_equal(
	    json_string_value(json_array_get(json_object_get(s, "excluded_addresses"), 0)),
	    "2001:db8::1/64");
	json_decref(s);
	BAD("{" VK ",'excluded_addresses':['198.18.0.100/24']}", "/excluded_addresses/0");
	BAD("{" VK ",'excluded_addresses':['x']}", "/excluded_addresses/0");
	BAD("{" VK ",'excluded_addresses':{}}", "/excluded_addresses");
	/* unicast and peers */
	json_decref(ok("{" VK ",'unicast':true,'peers':['198.18.0.7']}", NULL));
	BAD("{" VK ",'unicast':1}", "/unicast");
	BAD("{" VK ",'peers':['198.18.0.7']}", "/peers");
	BAD("{" VK ",'unicast':true,'peers':['2001:db8::7']}", "/peers/0");
	BAD("{" VK ",'unicast':true,'peers':['198.18.0.7/24']}", "/peers/0");
	BAD("{" VK ",'unicast':true,'peers':['198.18.0.7','198.18.0.7']}", "/peers/1");
	/* group */
	json_decref(ok("{" VK ",'group':'edge-1'}", NULL));
	BAD("{" VK ",'group':'Edge'}", "/group");
	BAD("{" VK ",'group':''}", "/group");
	BAD("{" VK ",'group':5}", "/group");
	/* track_interfaces */
	s = ok("{" VK
	       ",'track_interfaces':[{'weight':-20,'interface':'eth1'},{'interface':'bond0'}]}",
	       NULL);
	assert_json(json_object_get(s, "track_interfaces"),
		    "[{'interface':'eth1','weight':-20},{'interface':'bond0','weight':0}]");
	json_decref(s);
	BAD("{" VK ",'track_interfaces':[{'interface':'eth1','weight':255}]}",
	    "/track_interfaces/0/weight");
	BAD("{" VK ",'track_interfaces':[{'interface':'eth:1'}]}", "/track_interfaces/0/interface");
	BAD("{" VK ",'track_interfaces':[{'weight':1}]}", "/track_interfaces/0/interface");
	BAD("{" VK ",'track_interfaces':[{'interface':'eth1','x':1}]}", "/track_interfaces/0/x");
	BAD("{" VK ",'track_interfaces':[{'interface':'eth1'},{'interface':'eth1'}]}",
	    "/track_interfaces/1");
	BAD("{" VK ",'track_interfaces':['eth1']}", "/track_interfaces/0");
	/* notify: the script check rules */
	json_decref(ok("{" VK ",'notify':['notify.sh','--fast']}", NULL));
	BAD("{" VK ",'notify':[]}", "/notify");
	BAD("{" VK ",'notify':['/bin/sh','-c','x']}", "/notify/0");
	BAD("{" VK ",'notify':['..']}", "/notify/0");
	BAD("{" VK ",'notify':['ok.sh','a\\nb']}", "/notify/1");
	BAD("{" VK ",'notify':'notify.sh'}", "/notify");
	BAD("{" VK
	    ",'notify':['a','b','c','d','e','f','g','h','i','j','k','l','m','n','o','p','q']}",
	    "/notify");
	/* GARP and vmac */
	BAD("{" VK ",'garp_repeat':0}", "/garp_repeat");
	BAD("{" VK ",'garp_repeat':101}", "/garp_repeat");
	BAD("{" VK ",'garp_delay_s':-1}", "/garp_delay_s");
	BAD("{" VK ",'garp_delay_s':3601}", "/garp_delay_s");
	BAD("{" VK ",'garp_refresh_s':86401}", "/garp_refresh_s");
	BAD("{" VK ",'vmac':'yes'}", "/vmac");
	json_decref(ok("{" VK ",'garp_repeat':100,'garp_delay_s':0,'garp_refresh_s':86400,"
		       "'vmac':true}",
		       NULL));
	/* advert_int_ms: VRRPv3 centiseconds 10..40950 in 10 ms steps, v2 whole seconds */
	BAD("{" VK ",'advert_int_ms':0}", "/advert_int_ms");
	BAD("{" VK ",'advert_int_ms':5}", "/advert_int_ms");
	BAD("{" VK ",'advert_int_ms':40960}", "/advert_int_ms");
	BAD("{" VK ",'version':2,'advert_int_ms':500}", "/advert_int_ms");
	BAD("{" VK ",'version':2,'advert_int_ms':256000}", "/advert_int_ms");
	BAD("{" VK ",'advert_int_ms':'1000'}", "/advert_int_ms");
	json_decref(ok("{" VK ",'advert_int_ms':10}", NULL));
	json_decref(ok("{" VK ",'advert_int_ms':20}", NULL));
}

static void
test_vip_member_errors(void **state)
{
	(void)state;
	BAD("{" VK ",'members':{}}", "/members");
	BAD("{" VK ",'members':[1]}", "/members/0");
	BAD("{" VK ",'members':[{'node':'nope','priority':1}]}", "/members/0/node");
	BAD("{" VK ",'members':[{'node':'lb1','priority':1},{'node':'lb1','priority':2}]}",
	    "/members/1/node");
	BAD("{" VK ",'members':[{'node':'lb1','priority':255}]}", "/members/0/priority");
	BAD("{" VK ",'members':[{'node':'lb1','priority':0,'x':1}]}", "/members/0/priority",
	    "/members/0/x");
	BAD("{" VK ",'members':[{'priority':1}]}", "/members/0/node");
	BAD("{" VK ",'members':[{'node':'LB1','priority':1}]}", "/members/0/node");
}

static void
test_vip_auth_pass_write_only(void **state)
{
	json_t *old = J("{" VK ",'version':2,'auth_pass':'7388'}"), *s, *repr;

	(void)state;
	s = ok("{" VK ",'version':2}", old);
	assert_string_equal(json_string_value(json_object_get(s, "auth_pass")), "7388");
	repr = json_deep_copy(s);
	V->redact(repr);
	assert_null(json_object_get(repr, "auth_pass"));
	json_decref(repr);
	json_decref(s);
	s = ok("{" VK ",'version':2,'auth_pass':null}", old);
	assert_null(json_object_get(s, "auth_pass"));
	json_decref(s);
	s = ok("{" VK "}", old); /* moved to v3: the stored one no longer applies */
	assert_null(json_object_get(s, "auth_pass"));
	json_decref(s);
	s = ok("{" VK ",'auth_pass':'7388'}", old); /* a merge patch of version to 3 */
	assert_null(json_object_get(s, "auth_pass"));
	json_decref(s);
	json_decref(old);
}

static void
test_vip_links(void **state)
{
	struct store_links l;
	char scratch[128];
	json_t *s = ok("{" VK "," MEM "}", NULL);

	(void)state;
	memset(&l, 0, sizeof(l));
	V->links(s, &l, scratch, sizeof(scratch));
	assert_int_equal(l.n_refs, 2);
	assert_string_equal(l.refs[1].name, "lb2");
	assert_int_equal(l.n_uniques, 1);
	assert_string_equal(l.uniques[0], "vrid:eth0:4:51");
	assert_int_equal(l.n_tags, 0);
	json_decref(s);
	s = ok("{" VK "," MEM ",'group':'edge'}", NULL);
	memset(&l, 0, sizeof(l));
	V->links(s, &l, scratch, sizeof(scratch));
	assert_int_equal(l.n_tags, 1);
	assert_string_equal(l.tags[0].kind, "group");
	assert_string_equal(l.tags[0].name, "edge");
	json_decref(s);
}

/* Creates VIP web with lb1 (200) and lb2 (100) as the resource layer would. */
static void
create_vip(void)
{
	struct store_links l;
	char scratch[128], detail[128];
	bool created;
	struct store_tx *tx;
	json_t *s = ok("{" VK "," MEM "}", NULL), *st;

	memset(&l, 0, sizeof(l));
	V->links(s, &l, scratch, sizeof(scratch));
	assert_int_equal(store_write_begin(NULL, &tx), STORE_OK);
	assert_int_equal(store_put(tx, "vip", "web", s, &l, true, &created, detail, sizeof(detail)),
			 STORE_OK);
	st = V->initial_status(s);
	assert_int_equal(store_set_status(tx, "vip", "web", st), STORE_OK);
	assert_int_equal(V->after_write(tx, "web", s), STORE_OK);
	assert_int_equal(store_commit(tx), STORE_OK);
	json_decref(st);
	json_decref(s);
}

static json_t *
refresh(void)
{
	struct store_obj o;
	struct store_tx *tx;
	json_t *st;

	assert_int_equal(store_write_begin(NULL, &tx), STORE_OK);
	assert_int_equal(vip_refresh_status(tx, "web"), STORE_OK);
	assert_int_equal(store_commit(tx), STORE_OK);
	assert_int_equal(store_get("vip", "web", &o), STORE_OK);
	st = json_incref(o.status);
	store_obj_clear(&o);
	return st;
}

static const char *
sget(const json_t *o, const char *path1, const char *path2)
{
	const json_t *v = json_object_get(o, path1);

	if (path2 != NULL)
		v = json_object_get(v, path2);
	return json_string_value(v);
}

/* The failback link of the VIP as decorate shows it (NULL when absent); caller frees. */
static json_t *
failback(void)
{
	struct store_obj o;
	struct principal who = {.role = ROLE_VIEWER};
	json_t *repr, *l;

	assert_int_equal(store_get("vip", "web", &o), STORE_OK);
	repr = json_pack("{s:O}", "status", o.status);
	V->decorate(repr, &o, &who);
	assert_non_null(json_object_get(json_object_get(repr, "_links"), "vg:holder"));
	assert_int_equal(
	    json_array_size(json_object_get(json_object_get(repr, "_links"), "vg:member")), 2);
	l = json_incref(json_object_get(json_object_get(repr, "_links"), "vg:failback"));
	json_decref(repr);
	store_obj_clear(&o);
	return l;
}

/* GET/PUT/DELETE on the holder; returns the status code, the body in *body (may be NULL). */
static int
holder(enum http_method m, const char *body, const char *if_match, json_t **out)
{
	struct http_request req;
	struct http_response res;
	int status;

	memset(&req, 0, sizeof(req));
	memset(&res, 0, sizeof(res));
	req.method = m;
	req.path = "/vips/web/holder";
	req.params[0] = "web";
	req.n_params = 1;
	req.content_type = "application/json";
	req.body = body;
	req.body_len = body ? strlen(body) : 0;
	req.if_match = if_match;
	req.wait_s = -1;
	res_vip_holder(&req, &res);
	status = res.status;
	if (out != NULL)
		*out = json_incref(res.body);
	if (m == HTTP_PUT && status == 202)
		assert_string_equal(res.location, "/vips/web/holder");
	http_response_clear(&res);
	return status;
}

static void
test_vip_status_and_moves(void **state)
{
	json_t *st, *h, *l;
	char etag[24];

	(void)state;
	create_vip();
	st = refresh();
	assert_true(json_is_null(json_object_get(st, "holder")));
	assert_string_equal(sget(st, "preferred", NULL), "lb1");
	assert_string_equal(sget(json_object_get(st, "members"), "lb1", "state"), "unknown");
	assert_true(json_is_null(json_object_get(st, "since")));
	json_decref(st);
	assert_int_equal(holder(HTTP_GET, NULL, NULL, &h), 200);
	assert_string_equal(sget(h, "state", NULL), "unheld");
	json_decref(h);

	/* lb2 is master while lb1 is down: failback not offered until lb1 is up. */
	node_status("lb1", "{'agent':'down','vrrp':{'web':{'state':'MASTER','priority':200}}}");
	node_status("lb2", "{'agent':'up','vrrp':{'web':{'state':'MASTER','priority':100}}}");
	st = refresh();
	assert_string_equal(sget(st, "holder", NULL), "lb2");
	assert_string_equal(sget(json_object_get(st, "members"), "lb1", "state"), "unknown");
	assert_string_equal(sget(json_object_get(st, "members"), "lb1", "agent"), "down");
	assert_non_null(sget(st, "since", NULL));
	json_decref(st);
	assert_null(failback());
	assert_int_equal(holder(HTTP_PUT, "{\"node\":\"lb1\"}", NULL, NULL), 409);

	node_status("lb1", "{'agent':'up','vrrp':{'web':{'state':'BACKUP','priority':200}}}");
	json_decref(refresh());
	l = failback();
	assert_non_null(l);
	assert_string_equal(sget(l, "name", NULL), "lb1");
	assert_string_equal(sget(l, "title", NULL), "Move to lb1");
	json_decref(l);

	/* The move: 422 for a non-member, 412 for a stale If-Match, then 202 and moving. */
	assert_int_equal(holder(HTTP_PUT, "{\"node\":\"lb3\"}", NULL, NULL), 422);
	assert_int_equal(holder(HTTP_PUT, "{\"node\":\"lb1\",\"x\":1}", NULL, NULL), 422);
	assert_int_equal(holder(HTTP_PUT, "{\"node\":\"lb1\"}", "\"0000\"", NULL), 412);
	assert_int_equal(holder(HTTP_GET, NULL, NULL, &h), 200);
	http_etag_json(h, etag);
	json_decref(h);
	assert_int_equal(holder(HTTP_PUT, "{\"node\":\"lb1\"}", etag, &h), 202);
	assert_string_equal(sget(h, "state", NULL), "moving");
	assert_string_equal(sget(h, "requested", NULL), "lb1");
	assert_string_equal(sget(h, "node", NULL), "lb2");
	assert_int_equal(json_integer_value(json_object_get(h, "move_id")), 1);
	json_decref(h);
	l = failback(); /* the contract's rule holds while moving too */
	assert_non_null(l);
	json_decref(l);

	node_status("lb1", "{'agent':'up','vrrp':{'web':{'state':'MASTER','priority':255}}}");
	node_status("lb2", "{'agent':'up','vrrp':{'web':{'state':'BACKUP','priority':100}}}");
	st = refresh();
	assert_string_equal(sget(st, "holder", NULL), "lb1");
	assert_int_equal(json_integer_value(json_object_get(st, "move_done")), 1);
	json_decref(st);
	assert_int_equal(holder(HTTP_GET, NULL, NULL, &h), 200);
	assert_string_equal(sget(h, "state", NULL), "settled");
	json_decref(h);
	assert_null(failback());

	assert_int_equal(holder(HTTP_DELETE, NULL, NULL, NULL), 204);
	assert_int_equal(holder(HTTP_GET, NULL, NULL, &h), 200);
	assert_true(json_is_null(json_object_get(h, "requested")));
	json_decref(h);
	assert_int_equal(holder(HTTP_POST, "{}", NULL, NULL), 405);
}

static int
setup(void **state)
{
	char path[128], err[256];

	(void)state;
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/vigil-unit-XXXXXX");
	if (mkdtemp(tmpdir) == NULL)
		return -1;
	snprintf(path, sizeof(path), "%s/v.db", tmpdir);
	if (store_open(path, 1000, NULL, err, sizeof(err)) != 0) {
		fprintf(stderr, "store_open: %s\n", err);
		return -1;
	}
	put_node("lb1");
	put_node("lb2");
	put_node("lb3");
	return 0;
}

static int
teardown(void **state)
{
	char cmd[128];

	(void)state;
	store_close();
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
	return system(cmd) == 0 ? 0 : -1;
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_vip_defaults_and_canonical),
	    cmocka_unit_test(test_vip_field_errors),
	    cmocka_unit_test(test_vip_instance_field_errors),
	    cmocka_unit_test(test_vip_member_errors),
	    cmocka_unit_test(test_vip_auth_pass_write_only),
	    cmocka_unit_test(test_vip_links),
	    cmocka_unit_test(test_vip_status_and_moves),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
