// links: server/res_backend.c server/res_check.c server/validate.c server/store.c server/store_sqlite.c server/store_conn.c server/store_token.c server/store_keys.c server/hmap.c server/http.c server/embedded.c build/gen/embedded.c common/addr.c server/store_import.c
/* Field rules of backends and checks (server/res_backend.c, server/res_check.c): for each field a
 * valid and an invalid value, with the JSON Pointer of the error. Existence of the referenced VIP,
 * backend or node goes through the real store, on a temporary database. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "resource.h"
#include "unit_json.h"

static char tmpdir[64];

/* Writes a bare object of kind/name into the store (no validation: the store is generic). */
static void
put_raw(const char *kind, const char *name, const char *ref_kind, const char *ref_name)
{
	struct store_links l;
	bool created;
	char detail[128];
	struct store_tx *tx;
	json_t *spec = json_object();

	memset(&l, 0, sizeof(l));
	if (ref_kind != NULL) {
		l.refs[0].kind = ref_kind;
		l.refs[0].name = ref_name;
		l.n_refs = 1;
	}
	assert_int_equal(store_write_begin(NULL, &tx), STORE_OK);
	assert_int_equal(
	    store_put(tx, kind, name, spec, &l, true, &created, detail, sizeof(detail)), STORE_OK);
	assert_int_equal(store_commit(tx), STORE_OK);
	json_decref(spec);
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
	put_raw("vip", "web", NULL, NULL);
	put_raw("node", "lb1", NULL, NULL);
	put_raw("backend", "b1", "vip", "web");
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

/* Runs kind's validate on spec (stolen) as object name; returns the spec, errors in e. */
static json_t *
run(const struct resource_kind *k, json_t *spec, const char *name, struct verr *e)
{
	memset(e, 0, sizeof(*e));
	k->validate(spec, name, NULL, e);
	return spec;
}

/* Asserts that validating text gives no error; returns the normalised spec (caller frees). */
static json_t *
ok(const struct resource_kind *k, const char *text)
{
	struct verr e;
	json_t *spec = run(k, J(text), "x1", &e);

	if (verr_any(&e)) {
		char *dump = json_dumps(e.list, 0);
		fail_msg("%s: unexpected errors %s", text, dump);
	}
	verr_clear(&e);
	return spec;
}

/* Asserts that validating text gives errors exactly at the pointers given (NULL-terminated). */
static void
bad_at(const struct resource_kind *k, const char *text, ...)
{
	struct verr e;
	json_t *spec = run(k, J(text), "x1", &e), *err;
	char *dump;
	const char *want;
	size_t i, n_want = 0;
	va_list ap;

	assert_true(verr_any(&e));
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

#define BAD(k, text, ...) bad_at(k, text, __VA_ARGS__, (const char *)NULL)
#define B (&res_backend_kind)
#define C (&res_check_kind)

static json_int_t
get_int(const json_t *o, const char *key)
{
	const json_t *v = json_object_get(o, key);

	assert_non_null(v);
	assert_true(json_is_integer(v));
	return json_integer_value(v);
}

static const char *
get_str(const json_t *o, const char *key)
{
	const json_t *v = json_object_get(o, key);

	assert_non_null(v);
	return json_string_value(v);
}

/* ---- backends ---- */

#define BK "'vip':'web','address':'198.18.0.10','port':80"

static void
test_backend_minimal_gets_defaults(void **state)
{
	json_t *s;

	(void)state;
	s = ok(B, "{'port':80,'address':'198.18.0.10','vip':'web'}");
	assert_string_equal(get_str(s, "name"), "x1");
	assert_int_equal(get_int(s, "weight"), 1);
	assert_string_equal(get_str(s, "admin_state"), "enabled");
	assert_null(json_object_get(s, "haproxy_backend"));
	assert_null(json_object_get(s, "haproxy_server"));
	/* canonical member order, whatever the input order */
	char *dump = json_dumps(s, JSON_COMPACT);
	assert_string_equal(dump, "{\"name\":\"x1\",\"vip\":\"web\",\"address\":\"198.18.0.10\","
				  "\"port\":80,\"weight\":1,\"admin_state\":\"enabled\"}");
	free(dump);
	json_decref(s);
}

static void
test_backend_unknown_and_server_owned_fields(void **state)
{
	json_t *s;

	(void)state;
	BAD(B, "{" BK ",'foo':1}", "/foo");
	s = ok(B, "{" BK ",'name':'x1','status':{'health':'up'},'_links':{},'_embedded':{}}");
	assert_null(json_object_get(s, "status"));
	assert_null(json_object_get(s, "_links"));
	assert_null(json_object_get(s, "_embedded"));
	json_decref(s);
	BAD(B, "{" BK ",'name':'other'}", "/name");
}

static void
test_backend_vip(void **state)
{
	(void)state;
	BAD(B, "{'address':'198.18.0.10','port':80}", "/vip");
	BAD(B, "{'vip':'nope','address':'198.18.0.10','port':80}", "/vip");
	BAD(B, "{'vip':'Web','address':'198.18.0.10','port':80}", "/vip");
	BAD(B, "{'vip':7,'address':'198.18.0.10','port':80}", "/vip");
}

static void
test_backend_address(void **state)
{
	json_t *s;

	(void)state;
	s = ok(B, "{'vip':'web','address':'2001:DB8:0:0::0:1','port':80}");
	assert_string_equal(get_str(s, "address"), "2001:db8::1");
	json_decref(s);
	s = ok(B, "{'vip':'web','address':'198.18.0.1','port':80}");
	assert_string_equal(get_str(s, "address"), "198.18.0.1");
	json_decref(s);
	BAD(B, "{'vip':'web','port':80}", "/address");
	BAD(B, "{'vip':'web','address':'198.18.0.300','port':80}", "/address");
	BAD(B, "{'vip':'web','address':'198.18.0.1/24','port':80}", "/address");
	BAD(B, "{'vip':'web','address':'fe80::1%eth0','port':80}", "/address");
	BAD(B, "{'vip':'web','address':'web.example','port':80}", "/address");
	BAD(B, "{'vip':'web','address':'','port':80}", "/address");
	BAD(B, "{'vip':'web','address':['198.18.0.1'],'port':80}", "/address");
}

static void
test_backend_port(void **state)
{
	(void)state;
	json_decref(ok(B, "{'vip':'web','address':'198.18.0.1','port':1}"));
	json_decref(ok(B, "{'vip':'web','address':'198.18.0.1','port':65535}"));
	BAD(B, "{'vip':'web','address':'198.18.0.1'}", "/port");
	BAD(B, "{'vip':'web','address':'198.18.0.1','port':0}", "/port");
	BAD(B, "{'vip':'web','address':'198.18.0.1','port':65536}", "/port");
	BAD(B, "{'vip':'web','address':'198.18.0.1','port':'80'}", "/port");
	BAD(B, "{'vip':'web','address':'198.18.0.1','port':80.5}", "/port");
}

static void
test_backend_weight(void **state)
{
	(void)state;
	json_decref(ok(B, "{" BK ",'weight':0}"));
	json_decref(ok(B, "{" BK ",'weight':255}"));
	BAD(B, "{" BK ",'weight':-1}", "/weight");
	BAD(B, "{" BK ",'weight':256}", "/weight");
	BAD(B, "{" BK ",'weight':true}", "/weight");
}

static void
test_backend_admin_state(void **state)
{
	(void)state;
	json_decref(ok(B, "{" BK ",'admin_state':'drain'}"));
	json_decref(ok(B, "{" BK ",'admin_state':'disabled'}"));
	BAD(B, "{" BK ",'admin_state':'paused'}", "/admin_state");
	BAD(B, "{" BK ",'admin_state':'Enabled'}", "/admin_state");
	BAD(B, "{" BK ",'admin_state':1}", "/admin_state");
}

static void
test_backend_haproxy_names(void **state)
{
	char text[256];
	char long_name[65];

	(void)state;
	json_decref(ok(B, "{" BK ",'haproxy_backend':'be_web:1.a-B','haproxy_server':'s1'}"));
	memset(long_name, 'a', 63);
	long_name[63] = '\0';
	snprintf(text, sizeof(text), "{" BK ",'haproxy_server':'%s'}", long_name);
	json_decref(ok(B, text));
	long_name[63] = 'a';
	long_name[64] = '\0';
	snprintf(text, sizeof(text), "{" BK ",'haproxy_server':'%s'}", long_name);
	BAD(B, text, "/haproxy_server");
	BAD(B, "{" BK ",'haproxy_backend':''}", "/haproxy_backend");
	BAD(B, "{" BK ",'haproxy_backend':'be web'}", "/haproxy_backend");
	BAD(B, "{" BK ",'haproxy_server':'s/1'}", "/haproxy_server");
	BAD(B, "{" BK ",'haproxy_server':5}", "/haproxy_server");
}

static void
test_backend_links_status_decorate(void **state)
{
	json_t *s = ok(B, "{" BK "}"), *st, *repr;
	struct store_links l;
	struct store_obj obj;
	struct principal who = {.role = ROLE_ADMIN};
	char scratch[256];

	(void)state;
	res_backend_kind.links(s, &l, scratch, sizeof(scratch));
	assert_int_equal(l.n_refs, 1);
	assert_string_equal(l.refs[0].kind, "vip");
	assert_string_equal(l.refs[0].name, "web");
	assert_int_equal(l.n_uniques, 0);

	st = res_backend_kind.initial_status(s);
	assert_string_equal(get_str(st, "health"), "unknown");
	assert_true(json_is_null(json_object_get(st, "since")));
	assert_true(json_is_null(json_object_get(st, "reason")));
	json_decref(st);

	memset(&obj, 0, sizeof(obj));
	snprintf(obj.kind, sizeof(obj.kind), "backend");
	snprintf(obj.name, sizeof(obj.name), "b1");
	repr = json_deep_copy(s);
	res_backend_kind.decorate(repr, &obj, &who);
	assert_string_equal(
	    get_str(json_object_get(json_object_get(repr, "_links"), "vg:vip"), "href"),
	    "/vips/web");
	assert_string_equal(
	    get_str(json_object_get(json_object_get(repr, "_links"), "vg:checks"), "href"),
	    "/checks?backend=b1");
	assert_string_equal(res_backend_kind.filters[0], "vip");
	assert_null(res_backend_kind.filters[1]);
	json_decref(repr);
	json_decref(s);
}

/* ---- checks ---- */

static void
test_check_tcp_backend_defaults(void **state)
{
	json_t *s;

	(void)state;
	s = ok(C, "{'backend':'b1','type':'tcp'}");
	char *dump = json_dumps(s, JSON_COMPACT);
	assert_string_equal(dump,
			    "{\"name\":\"x1\",\"type\":\"tcp\",\"backend\":\"b1\","
			    "\"interval_ms\":2000,\"timeout_ms\":1000,\"rise\":1,\"fall\":1}");
	free(dump);
	assert_int_equal(get_int(s, "interval_ms"), 2000);
	assert_int_equal(get_int(s, "timeout_ms"), 1000);
	assert_int_equal(get_int(s, "rise"), 1);
	assert_int_equal(get_int(s, "fall"), 1);
	assert_null(json_object_get(s, "port"));
	assert_null(json_object_get(s, "weight"));
	assert_null(json_object_get(s, "path"));
	assert_null(json_object_get(s, "expect_status"));
	assert_null(json_object_get(s, "verify_tls"));
	json_decref(s);
}

static void
test_check_http_https_defaults(void **state)
{
	json_t *s;

	(void)state;
	s = ok(C, "{'type':'http','node':'lb1','port':8080}");
	assert_string_equal(get_str(s, "path"), "/");
	assert_int_equal(get_int(s, "expect_status"), 200);
	assert_int_equal(get_int(s, "weight"), 0);
	assert_null(json_object_get(s, "verify_tls"));
	json_decref(s);
	s = ok(C, "{'type':'https','backend':'b1'}");
	assert_true(json_is_true(json_object_get(s, "verify_tls")));
	assert_string_equal(get_str(s, "path"), "/");
	json_decref(s);
	s = ok(C, "{'type':'https','backend':'b1','verify_tls':false,'path':'/h?x=1',"
		  "'expect_status':204,'port':443}");
	assert_true(json_is_false(json_object_get(s, "verify_tls")));
	json_decref(s);
}

static void
test_check_type(void **state)
{
	(void)state;
	BAD(C, "{'backend':'b1'}", "/type");
	BAD(C, "{'type':'icmp','backend':'b1'}", "/type");
	BAD(C, "{'type':'TCP','backend':'b1'}", "/type");
	BAD(C, "{'type':'tcp','backend':'b1','foo':1}", "/foo");
}

static void
test_check_target(void **state)
{
	(void)state;
	json_decref(ok(C, "{'type':'script','node':'lb1','script':['x']}"));
	BAD(C, "{'type':'tcp'}", "/backend", "/node");
	BAD(C, "{'type':'tcp','backend':'b1','node':'lb1'}", "/backend", "/node");
	BAD(C, "{'type':'tcp','backend':'nope'}", "/backend");
	BAD(C, "{'type':'tcp','node':'nope','port':1}", "/node");
	BAD(C, "{'type':'tcp','backend':'B1'}", "/backend");
	BAD(C, "{'type':'tcp','node':3,'port':1}", "/node");
}

static void
test_check_timing(void **state)
{
	(void)state;
	json_decref(ok(C, "{'type':'tcp','backend':'b1','interval_ms':100,'timeout_ms':10,"
			  "'rise':1,'fall':100}"));
	json_decref(ok(C, "{'type':'tcp','backend':'b1','interval_ms':3600000,'timeout_ms':60000,"
			  "'rise':100,'fall':1}"));
	BAD(C, "{'type':'tcp','backend':'b1','interval_ms':99}", "/interval_ms");
	BAD(C, "{'type':'tcp','backend':'b1','interval_ms':3600001}", "/interval_ms");
	BAD(C, "{'type':'tcp','backend':'b1','timeout_ms':9}", "/timeout_ms");
	BAD(C, "{'type':'tcp','backend':'b1','timeout_ms':60001}", "/timeout_ms");
	BAD(C, "{'type':'tcp','backend':'b1','rise':0}", "/rise");
	BAD(C, "{'type':'tcp','backend':'b1','rise':101}", "/rise");
	BAD(C, "{'type':'tcp','backend':'b1','fall':0}", "/fall");
	BAD(C, "{'type':'tcp','backend':'b1','fall':'3'}", "/fall");
}

static void
test_check_port(void **state)
{
	(void)state;
	json_decref(ok(C, "{'type':'tcp','backend':'b1','port':65535}"));
	json_decref(ok(C, "{'type':'tcp','node':'lb1','port':1}"));
	BAD(C, "{'type':'tcp','node':'lb1'}", "/port");
	BAD(C, "{'type':'https','node':'lb1'}", "/port");
	BAD(C, "{'type':'tcp','backend':'b1','port':0}", "/port");
	BAD(C, "{'type':'tcp','backend':'b1','port':65536}", "/port");
	BAD(C, "{'type':'script','backend':'b1','script':['x'],'port':80}", "/port");
}

static void
test_check_path(void **state)
{
	char text[1200], path[1100];

	(void)state;
	json_decref(ok(C, "{'type':'http','backend':'b1','path':'/healthz?full=1'}"));
	path[0] = '/';
	memset(path + 1, 'a', 1023);
	path[1024] = '\0';
	snprintf(text, sizeof(text), "{'type':'http','backend':'b1','path':'%s'}", path);
	json_decref(ok(C, text));
	path[1024] = 'a';
	path[1025] = '\0';
	snprintf(text, sizeof(text), "{'type':'http','backend':'b1','path':'%s'}", path);
	BAD(C, text, "/path");
	BAD(C, "{'type':'http','backend':'b1','path':'healthz'}", "/path");
	BAD(C, "{'type':'http','backend':'b1','path':''}", "/path");
	BAD(C, "{'type':'http','backend':'b1','path':'/a b'}", "/path");
	BAD(C, "{'type':'http','backend':'b1','path':'/a\\tb'}", "/path");
	BAD(C, "{'type':'http','backend':'b1','path':'/a\\u007fb'}", "/path");
	BAD(C, "{'type':'tcp','backend':'b1','path':'/'}", "/path");
	BAD(C, "{'type':'script','backend':'b1','script':['x'],'path':'/'}", "/path");
}

static void
test_check_expect_status(void **state)
{
	(void)state;
	json_decref(ok(C, "{'type':'http','backend':'b1','expect_status':100}"));
	json_decref(ok(C, "{'type':'https','backend':'b1','expect_status':599}"));
	BAD(C, "{'type':'http','backend':'b1','expect_status':99}", "/expect_status");
	BAD(C, "{'type':'http','backend':'b1','expect_status':600}", "/expect_status");
	BAD(C, "{'type':'tcp','backend':'b1','expect_status':200}", "/expect_status");
}

static void
test_check_verify_tls(void **state)
{
	(void)state;
	json_decref(ok(C, "{'type':'https','backend':'b1','verify_tls':true}"));
	BAD(C, "{'type':'https','backend':'b1','verify_tls':'yes'}", "/verify_tls");
	BAD(C, "{'type':'http','backend':'b1','verify_tls':false}", "/verify_tls");
	BAD(C, "{'type':'tcp','backend':'b1','verify_tls':true}", "/verify_tls");
}

static void
test_check_script(void **state)
{
	char text[4096], arg[1100];
	json_t *s;

	(void)state;
	s = ok(C, "{'type':'script','node':'lb1','script':['check_haproxy-2.sh','--quiet','a b']}");
	assert_int_equal(get_int(s, "weight"), 0);
	assert_null(json_object_get(s, "port"));
	json_decref(s);
	memset(arg, 'a', 1024);
	arg[1024] = '\0';
	snprintf(text, sizeof(text), "{'type':'script','backend':'b1','script':['x','%s']}", arg);
	json_decref(ok(C, text));
	arg[1024] = 'a';
	arg[1025] = '\0';
	snprintf(text, sizeof(text), "{'type':'script','backend':'b1','script':['x','%s']}", arg);
	BAD(C, text, "/script/1");

	BAD(C, "{'type':'script','backend':'b1'}", "/script");
	BAD(C, "{'type':'script','backend':'b1','script':[]}", "/script");
	BAD(C, "{'type':'script','backend':'b1','script':'check'}", "/script");
	BAD(C,
	    "{'type':'script','backend':'b1','script':['a','a','a','a','a','a','a','a','a','a',"
	    "'a','a','a','a','a','a','a','a','a','a','a','a','a','a','a','a','a','a','a','a',"
	    "'a','a','a']}",
	    "/script");
	BAD(C, "{'type':'script','backend':'b1','script':['/bin/sh','-c','true']}", "/script/0");
	BAD(C, "{'type':'script','backend':'b1','script':['../x']}", "/script/0");
	BAD(C, "{'type':'script','backend':'b1','script':['..']}", "/script/0");
	BAD(C, "{'type':'script','backend':'b1','script':['.']}", "/script/0");
	BAD(C, "{'type':'script','backend':'b1','script':['a b']}", "/script/0");
	BAD(C, "{'type':'script','backend':'b1','script':['']}", "/script/0");
	BAD(C, "{'type':'script','backend':'b1','script':[1]}", "/script/0");
	BAD(C, "{'type':'script','backend':'b1','script':['x','']}", "/script/1");
	BAD(C, "{'type':'script','backend':'b1','script':['x','a\\nb']}", "/script/1");
	BAD(C, "{'type':'script','backend':'b1','script':['x',null]}", "/script/1");
	BAD(C, "{'type':'tcp','backend':'b1','script':['x']}", "/script");
}

static void
test_check_weight(void **state)
{
	(void)state;
	json_decref(ok(C, "{'type':'script','node':'lb1','script':['x'],'weight':-253}"));
	json_decref(ok(C, "{'type':'script','node':'lb1','script':['x'],'weight':253}"));
	BAD(C, "{'type':'script','node':'lb1','script':['x'],'weight':-254}", "/weight");
	BAD(C, "{'type':'script','node':'lb1','script':['x'],'weight':254}", "/weight");
	BAD(C, "{'type':'tcp','backend':'b1','weight':0}", "/weight");
}

/* Validates old_text (as stored), then new_text as a replacement of it; returns the errors. */
static json_t *
replace(const char *old_text, const char *new_text, struct verr *e)
{
	json_t *old = ok(C, old_text), *spec = J(new_text);

	memset(e, 0, sizeof(*e));
	res_check_kind.validate(spec, "x1", old, e);
	json_decref(old);
	return spec;
}

static void
test_check_type_change_drops_server_defaults(void **state)
{
	struct verr e;
	json_t *s;

	(void)state;
	/* PATCH {"type":"tcp"} on an https check: the merged spec still has the https defaults */
	s = replace(
	    "{'type':'https','backend':'b1'}",
	    "{'type':'tcp','backend':'b1','path':'/','expect_status':200,'verify_tls':true}", &e);
	assert_false(verr_any(&e));
	assert_null(json_object_get(s, "path"));
	assert_null(json_object_get(s, "expect_status"));
	assert_null(json_object_get(s, "verify_tls"));
	json_decref(s);
	/* a value the client chose is not dropped silently */
	s = replace("{'type':'http','backend':'b1','path':'/health'}",
		    "{'type':'tcp','backend':'b1','path':'/health','expect_status':200}", &e);
	assert_int_equal(json_array_size(e.list), 1);
	assert_string_equal(get_str(json_array_get(e.list, 0), "pointer"), "/path");
	verr_clear(&e);
	json_decref(s);
	/* node -> backend: the default weight goes, a chosen one is a 422 */
	s = replace("{'type':'tcp','node':'lb1','port':22}",
		    "{'type':'tcp','backend':'b1','port':22,'weight':0}", &e);
	assert_false(verr_any(&e));
	assert_null(json_object_get(s, "weight"));
	json_decref(s);
	s = replace("{'type':'tcp','node':'lb1','port':22,'weight':-5}",
		    "{'type':'tcp','backend':'b1','port':22,'weight':-5}", &e);
	assert_int_equal(json_array_size(e.list), 1);
	assert_string_equal(get_str(json_array_get(e.list, 0), "pointer"), "/weight");
	verr_clear(&e);
	json_decref(s);
}

static void
test_check_links_status_decorate(void **state)
{
	json_t *s, *st, *repr, *links;
	struct store_links l;
	struct store_obj obj;
	struct principal who = {.role = ROLE_VIEWER};
	char scratch[256];

	(void)state;
	memset(&obj, 0, sizeof(obj));
	snprintf(obj.kind, sizeof(obj.kind), "check");
	snprintf(obj.name, sizeof(obj.name), "c1");

	s = ok(C, "{'type':'tcp','backend':'b1'}");
	res_check_kind.links(s, &l, scratch, sizeof(scratch));
	assert_int_equal(l.n_refs, 1);
	assert_string_equal(l.refs[0].kind, "backend");
	assert_string_equal(l.refs[0].name, "b1");
	repr = json_deep_copy(s);
	res_check_kind.decorate(repr, &obj, &who);
	links = json_object_get(repr, "_links");
	assert_string_equal(get_str(json_object_get(links, "vg:backend"), "href"), "/backends/b1");
	assert_null(json_object_get(links, "vg:node"));
	st = res_check_kind.initial_status(s);
	assert_true(json_is_object(json_object_get(st, "results")));
	assert_int_equal(json_object_size(json_object_get(st, "results")), 0);
	json_decref(st);
	json_decref(repr);
	json_decref(s);

	s = ok(C, "{'type':'tcp','node':'lb1','port':22}");
	res_check_kind.links(s, &l, scratch, sizeof(scratch));
	assert_int_equal(l.n_refs, 1);
	assert_string_equal(l.refs[0].kind, "node");
	assert_string_equal(l.refs[0].name, "lb1");
	repr = json_deep_copy(s);
	res_check_kind.decorate(repr, &obj, &who);
	links = json_object_get(repr, "_links");
	assert_string_equal(get_str(json_object_get(links, "vg:node"), "href"), "/nodes/lb1");
	assert_null(json_object_get(links, "vg:backend"));
	json_decref(repr);
	json_decref(s);

	assert_string_equal(res_check_kind.filters[0], "backend");
	assert_string_equal(res_check_kind.filters[1], "node");
	assert_null(res_check_kind.filters[2]);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_backend_minimal_gets_defaults),
	    cmocka_unit_test(test_backend_unknown_and_server_owned_fields),
	    cmocka_unit_test(test_backend_vip),
	    cmocka_unit_test(test_backend_address),
	    cmocka_unit_test(test_backend_port),
	    cmocka_unit_test(test_backend_weight),
	    cmocka_unit_test(test_backend_admin_state),
	    cmocka_unit_test(test_backend_haproxy_names),
	    cmocka_unit_test(test_backend_links_status_decorate),
	    cmocka_unit_test(test_check_tcp_backend_defaults),
	    cmocka_unit_test(test_check_http_https_defaults),
	    cmocka_unit_test(test_check_type),
	    cmocka_unit_test(test_check_target),
	    cmocka_unit_test(test_check_timing),
	    cmocka_unit_test(test_check_port),
	    cmocka_unit_test(test_check_path),
	    cmocka_unit_test(test_check_expect_status),
	    cmocka_unit_test(test_check_verify_tls),
	    cmocka_unit_test(test_check_script),
	    cmocka_unit_test(test_check_weight),
	    cmocka_unit_test(test_check_type_change_drops_server_defaults),
	    cmocka_unit_test(test_check_links_status_decorate),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
