// links: server/validate.c
/* Field validators (server/validate.c): resource names, the server-owned members dropped on input,
 * unknown members named by JSON Pointer (RFC 6901, with its ~0 and ~1 escapes), typed getters with
 * their ranges and defaults (written back into the object), and the exact error texts. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "validate.h"
#include "unit_json.h"

/* Asserts that the error list of e is exactly want (a JSON array in J's notation). */
static void
assert_errors(const struct verr *e, const char *want)
{
	json_t *w = J(want);

	if (!json_equal(e->list ? e->list : json_array(), w)) {
		char *got = e->list ? json_dumps(e->list, JSON_COMPACT) : strdup("(none)");
		fail_msg("errors: got %s, want %s", got, want);
	}
	json_decref(w);
}

static void
test_valid_name(void **state)
{
	char s[80];

	(void)state;
	assert_true(valid_name("a"));
	assert_true(valid_name("0"));
	assert_true(valid_name("lb1"));
	assert_true(valid_name("web-vip-2"));
	assert_true(valid_name("a-"));
	assert_true(valid_name("1-2-3"));
	assert_false(valid_name(""));
	assert_false(valid_name("-a"));
	assert_false(valid_name("-"));
	assert_false(valid_name("Lb1"));
	assert_false(valid_name("lB1"));
	assert_false(valid_name("a_b"));
	assert_false(valid_name("a.b"));
	assert_false(valid_name("a b"));
	assert_false(valid_name("a/b"));
	assert_false(valid_name("caf\xc3\xa9"));
	assert_false(valid_name("a\t"));
	memset(s, 'a', sizeof(s));
	s[63] = '\0';
	assert_true(valid_name(s)); /* 63: the longest */
	s[63] = 'a';
	s[64] = '\0';
	assert_false(valid_name(s)); /* 64 */
	s[0] = '9';
	s[63] = '\0';
	assert_true(valid_name(s));
	s[0] = '-';
	assert_false(valid_name(s));
}

static void
test_v_ptr(void **state)
{
	char buf[64];

	(void)state;
	assert_string_equal(v_ptr(buf, sizeof(buf), "vrid", -1), "/vrid");
	assert_string_equal(v_ptr(buf, sizeof(buf), "members", 3), "/members/3");
	assert_string_equal(v_ptr(buf, sizeof(buf), "members", 0), "/members/0");
	/* RFC 6901 3: '~' is written ~0 and '/' is written ~1 */
	assert_string_equal(v_ptr(buf, sizeof(buf), "a/b", -1), "/a~1b");
	assert_string_equal(v_ptr(buf, sizeof(buf), "a~b", -1), "/a~0b");
	assert_string_equal(v_ptr(buf, sizeof(buf), "~1", -1), "/~01");
	assert_string_equal(v_ptr(buf, sizeof(buf), "/~", 2), "/~1~0/2");
	assert_string_equal(v_ptr(buf, sizeof(buf), "", -1), "/");
	/* a short buffer is cut before an escape, never inside one */
	assert_string_equal(v_ptr(buf, 8, "~~~~~~~~", -1), "/~0~0");
	assert_string_equal(v_ptr(buf, 8, "abcdefghij", -1), "/abcd");
}

static void
test_verr(void **state)
{
	struct verr e = {0};

	(void)state;
	assert_false(verr_any(&e));
	verr_add(&e, "/a", "bad %d", 7);
	verr_add(&e, "", "whole");
	assert_true(verr_any(&e));
	assert_errors(&e, "[{'pointer':'/a','detail':'bad 7'},{'pointer':'','detail':'whole'}]");
	verr_clear(&e);
	assert_null(e.list);
	assert_false(verr_any(&e));
}

static void
test_only_fields(void **state)
{
	static const char *const allowed[] = {"name", "address", "labels", NULL};
	json_t *o = J("{'name':'a','_links':{'self':{'href':'/x'}},'bogus':1,'_embedded':{},"
		      "'status':{'up':true},'address':'10.0.0.1','a/b~c':2,'labels':{}}");
	struct verr e = {0};

	(void)state;
	v_only_fields(o, allowed, &e);
	/* server-owned members are removed without an error; unknown ones stay and are named */
	assert_json(o, "{'name':'a','bogus':1,'address':'10.0.0.1','a/b~c':2,'labels':{}}");
	assert_errors(&e, "[{'pointer':'/bogus','detail':'unknown field'},"
			  "{'pointer':'/a~1b~0c','detail':'unknown field'}]");
	verr_clear(&e);
	json_decref(o);

	/* only server-owned members: no error at all, and they are gone */
	o = J("{'_links':{},'_embedded':{},'status':null}");
	v_only_fields(o, allowed, &e);
	assert_json(o, "{}");
	assert_false(verr_any(&e));
	json_decref(o);

	/* an empty allow-list flags everything else; "Status" is not "status" */
	static const char *const none[] = {NULL};
	o = J("{'Status':1}");
	v_only_fields(o, none, &e);
	assert_errors(&e, "[{'pointer':'/Status','detail':'unknown field'}]");
	verr_clear(&e);
	json_decref(o);
}

static void
test_v_int(void **state)
{
	json_t *o = J("{'vrid':51,'low':0,'high':256,'s':'5','r':5.0,'b':true,'n':null,"
		      "'neg':-253,'big':9007199254740993}");
	struct verr e = {0};
	json_int_t v = 777;

	(void)state;
	assert_true(v_int(o, "vrid", true, 1, 255, 0, false, &v, &e));
	assert_int_equal(v, 51);
	assert_false(verr_any(&e));
	v = 777;
	assert_false(v_int(o, "low", true, 1, 255, 0, false, &v, &e));
	assert_false(v_int(o, "high", true, 1, 255, 0, false, &v, &e));
	assert_int_equal(v, 777); /* untouched on error */
	assert_true(v_int(o, "neg", false, -253, 253, 0, false, &v, &e));
	assert_int_equal(v, -253);
	assert_true(v_int(o, "big", false, 0, INT64_MAX, 0, false, &v, &e));
	assert_int_equal(v, 9007199254740993LL);
	assert_false(v_int(o, "s", false, 0, 10, 0, false, &v, &e));
	assert_false(v_int(o, "r", false, 0, 10, 0, false, &v, &e));
	assert_false(v_int(o, "b", false, 0, 10, 0, false, &v, &e));
	assert_false(v_int(o, "n", false, 0, 10, 0, false, &v, &e));
	assert_errors(&e, "[{'pointer':'/low','detail':'must be between 1 and 255'},"
			  "{'pointer':'/high','detail':'must be between 1 and 255'},"
			  "{'pointer':'/s','detail':'must be an integer'},"
			  "{'pointer':'/r','detail':'must be an integer'},"
			  "{'pointer':'/b','detail':'must be an integer'},"
			  "{'pointer':'/n','detail':'must be an integer'}]");
	verr_clear(&e);

	/* absent: required without default is an error; optional leaves *out alone */
	v = 777;
	assert_false(v_int(o, "missing", true, 0, 10, 0, false, &v, &e));
	assert_errors(&e, "[{'pointer':'/missing','detail':'is required'}]");
	verr_clear(&e);
	assert_false(v_int(o, "missing", false, 0, 10, 0, false, &v, &e));
	assert_false(verr_any(&e));
	assert_int_equal(v, 777);
	assert_null(json_object_get(o, "missing"));

	/* absent with a default: stored in *out and written into the object, even if "required" */
	assert_true(v_int(o, "advert_int_ms", false, 10, 40950, 1000, true, &v, &e));
	assert_int_equal(v, 1000);
	assert_int_equal(json_integer_value(json_object_get(o, "advert_int_ms")), 1000);
	assert_true(v_int(o, "version", true, 2, 3, 3, true, &v, &e));
	assert_int_equal(v, 3);
	assert_int_equal(json_integer_value(json_object_get(o, "version")), 3);
	assert_false(verr_any(&e));
	/* a present value is not replaced by the default */
	assert_true(v_int(o, "vrid", true, 1, 255, 9, true, &v, &e));
	assert_int_equal(v, 51);
	assert_int_equal(json_integer_value(json_object_get(o, "vrid")), 51);
	json_decref(o);
}

static void
test_v_bool(void **state)
{
	json_t *o = J("{'t':true,'f':false,'i':1,'s':'true','n':null}");
	struct verr e = {0};
	bool b = true;

	(void)state;
	assert_true(v_bool(o, "t", true, false, false, &b, &e));
	assert_true(b);
	assert_true(v_bool(o, "f", true, true, true, &b, &e));
	assert_false(b);
	b = true;
	assert_false(v_bool(o, "i", false, false, false, &b, &e));
	assert_false(v_bool(o, "s", false, false, false, &b, &e));
	assert_false(v_bool(o, "n", false, false, true, &b, &e));
	assert_true(b);
	assert_false(v_bool(o, "missing", true, false, false, &b, &e));
	assert_errors(&e, "[{'pointer':'/i','detail':'must be true or false'},"
			  "{'pointer':'/s','detail':'must be true or false'},"
			  "{'pointer':'/n','detail':'must be true or false'},"
			  "{'pointer':'/missing','detail':'is required'}]");
	verr_clear(&e);
	assert_true(v_bool(o, "preempt", false, false, true, &b, &e));
	assert_false(b);
	assert_true(json_is_false(json_object_get(o, "preempt")));
	assert_true(v_bool(o, "on", true, true, true, &b, &e));
	assert_true(b);
	assert_true(json_is_true(json_object_get(o, "on")));
	assert_false(verr_any(&e));
	json_decref(o);
}

static void
test_v_string(void **state)
{
	json_t *o = J("{'s':'abc','empty':'','long':'123456789','num':5,'arr':['a'],"
		      "'utf':'\\u00e9\\u00e9\\u00e9\\u00e9'}");
	struct verr e = {0};
	const char *s = "untouched";

	(void)state;
	assert_true(v_string(o, "s", true, 1, 3, &s, &e));
	assert_string_equal(s, "abc");
	assert_ptr_equal(s, json_string_value(json_object_get(o, "s"))); /* borrowed from obj */
	assert_true(v_string(o, "empty", true, 0, 8, &s, &e));
	assert_string_equal(s, "");
	assert_false(verr_any(&e));
	s = "untouched";
	assert_false(v_string(o, "empty", true, 1, 8, &s, &e));
	assert_false(v_string(o, "long", true, 1, 8, &s, &e));
	assert_false(v_string(o, "s", true, 4, 8, &s, &e));
	assert_false(v_string(o, "num", true, 0, 8, &s, &e));
	assert_false(v_string(o, "arr", true, 0, 8, &s, &e));
	assert_false(v_string(o, "missing", true, 0, 8, &s, &e));
	assert_string_equal(s, "untouched");
	assert_errors(&e, "[{'pointer':'/empty','detail':'must be 1 to 8 characters long'},"
			  "{'pointer':'/long','detail':'must be 1 to 8 characters long'},"
			  "{'pointer':'/s','detail':'must be 4 to 8 characters long'},"
			  "{'pointer':'/num','detail':'must be a string'},"
			  "{'pointer':'/arr','detail':'must be a string'},"
			  "{'pointer':'/missing','detail':'is required'}]");
	verr_clear(&e);
	assert_false(v_string(o, "missing", false, 0, 8, &s, &e));
	assert_false(verr_any(&e));
	/* Lengths are counted in bytes (UTF-8), not characters: four e-acute are 8 bytes. Right for
	 * auth_pass (8 octets on the wire, RFC 2338 5.3.11), though the detail says "characters".
	 */
	assert_true(v_string(o, "utf", true, 1, 8, &s, &e));
	assert_false(v_string(o, "utf", true, 1, 7, &s, &e));
	assert_errors(&e, "[{'pointer':'/utf','detail':'must be 1 to 7 characters long'}]");
	verr_clear(&e);
	json_decref(o);
}

static void
test_v_enum(void **state)
{
	static const char *const types[] = {"tcp", "http", "https", "script", NULL};
	json_t *o = J("{'type':'http','bad':'HTTP','num':1,'n':null}");
	struct verr e = {0};
	const char *s = "untouched";

	(void)state;
	assert_true(v_enum(o, "type", true, types, NULL, &s, &e));
	assert_string_equal(s, "http");
	assert_ptr_equal(s, types[1]); /* points at the static choice, not into obj */
	s = "untouched";
	assert_false(v_enum(o, "bad", true, types, NULL, &s, &e));
	assert_false(v_enum(o, "num", true, types, NULL, &s, &e));
	assert_false(v_enum(o, "n", false, types, "tcp", &s, &e));
	assert_false(v_enum(o, "missing", true, types, NULL, &s, &e));
	assert_string_equal(s, "untouched");
	assert_errors(&e, "[{'pointer':'/bad','detail':'must be one of: tcp, http, https, script'},"
			  "{'pointer':'/num','detail':'must be one of: tcp, http, https, script'},"
			  "{'pointer':'/n','detail':'must be one of: tcp, http, https, script'},"
			  "{'pointer':'/missing','detail':'is required'}]");
	verr_clear(&e);
	/* optional without default: absent is fine and leaves *out */
	assert_false(v_enum(o, "missing", false, types, NULL, &s, &e));
	assert_false(verr_any(&e));
	assert_string_equal(s, "untouched");
	/* a default is stored and written into the object, even when "required" */
	assert_true(v_enum(o, "admin_state", true, types, "script", &s, &e));
	assert_string_equal(s, "script");
	assert_string_equal(json_string_value(json_object_get(o, "admin_state")), "script");
	assert_false(verr_any(&e));
	json_decref(o);
}

static void
test_v_name_ref(void **state)
{
	char long_name[80], text[200];
	json_t *o;
	struct verr e = {0};
	const char *s = "untouched";

	(void)state;
	memset(long_name, 'a', 64);
	long_name[64] = '\0';
	snprintf(text, sizeof(text), "{'ok':'lb-1','up':'Lb1','dash':'-x','num':3,'long':'%s'}",
		 long_name);
	o = J(text);
	assert_true(v_name_ref(o, "ok", true, &s, &e));
	assert_string_equal(s, "lb-1");
	s = "untouched";
	assert_false(v_name_ref(o, "up", true, &s, &e));
	assert_false(v_name_ref(o, "dash", true, &s, &e));
	assert_false(v_name_ref(o, "num", true, &s, &e));
	assert_false(v_name_ref(o, "long", true, &s, &e));
	assert_false(v_name_ref(o, "missing", true, &s, &e));
	assert_string_equal(s, "untouched");
	assert_errors(&e,
		      "[{'pointer':'/up','detail':'must be a name: lowercase letters, digits and "
		      "\\u0027-\\u0027, not starting with \\u0027-\\u0027'},"
		      "{'pointer':'/dash','detail':'must be a name: lowercase letters, digits and "
		      "\\u0027-\\u0027, not starting with \\u0027-\\u0027'},"
		      "{'pointer':'/num','detail':'must be a string'},"
		      "{'pointer':'/long','detail':'must be 1 to 63 characters long'},"
		      "{'pointer':'/missing','detail':'is required'}]");
	verr_clear(&e);
	assert_false(v_name_ref(o, "missing", false, &s, &e));
	assert_false(verr_any(&e));
	json_decref(o);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_valid_name), cmocka_unit_test(test_v_ptr),
	    cmocka_unit_test(test_verr),       cmocka_unit_test(test_only_fields),
	    cmocka_unit_test(test_v_int),      cmocka_unit_test(test_v_bool),
	    cmocka_unit_test(test_v_string),   cmocka_unit_test(test_v_enum),
	    cmocka_unit_test(test_v_name_ref),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
