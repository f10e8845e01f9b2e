// links: server/import.c server/import_vrrp.c server/import_vrrp_addr.c server/import_vrrp_track.c server/import_vrrp_notify.c server/import_lvs.c server/kaconf.c server/vip_fields.c server/validate.c server/http.c common/addr.c
/* The keepalived.conf mapping (server/import*.c): keepalived's semantics carried (preempt unless
 * nopreempt, version 2, PASS truncated to 8), what is not applied reported with its line, what
 * keepalived refuses an error with its line, and every file of ../shared/keepalived-corpus
 * planned with every statement accounted for. IMPORT_DUMP=1 prints each corpus file's plan. */
#include <dirent.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "import.h"

/* Plans text as node lb1 (address 10.0.0.1); fails the test when the file cannot be read. */
static void
plan_of(const char *text, size_t len, struct import_plan *p)
{
	struct ka_conf c;
	struct ka_error e;

	if (ka_parse(text, len, "lb1", &c, &e) != 0)
		fail_msg("refused at line %d: %s", e.line, e.what);
	assert_int_equal(import_plan(&c, "lb1", "10.0.0.1", p), 0);
	ka_free(&c);
}

/* The report entry of the statement at line with keyword kw, or NULL. */
static json_t *
statement(const struct import_plan *p, int line, const char *kw)
{
	json_t *s;
	size_t i;

	json_array_foreach(p->statements, i,
			   s) if (json_integer_value(json_object_get(s, "line")) == line &&
				  strcmp(json_string_value(json_object_get(s, "keyword")), kw) ==
				      0) return s;
	return NULL;
}

static void
expect_result(const struct import_plan *p, int line, const char *kw, const char *result,
	      const char *why_part)
{
	json_t *s = statement(p, line, kw);
	const char *why;

	if (s == NULL)
		fail_msg("no statement %s at line %d", kw, line);
	assert_string_equal(json_string_value(json_object_get(s, "result")), result);
	why = json_string_value(json_object_get(s, "why"));
	if (why_part != NULL && (why == NULL || strstr(why, why_part) == NULL))
		fail_msg("line %d %s: why \"%s\" lacks \"%s\"", line, kw, why ? why : "", why_part);
}

static const char pair[] = "global_defs {\n"				    /* 1 */
			   "  router_id LVS_DEVEL\n"			    /* 2 */
			   "}\n"					    /* 3 */
			   "vrrp_script chk_haproxy {\n"		    /* 4 */
			   "  script \"/usr/bin/killall -0 haproxy\"\n"	    /* 5 */
			   "  interval 2\n"				    /* 6 */
			   "  weight -20\n"				    /* 7 */
			   "}\n"					    /* 8 */
			   "vrrp_instance VI_1 {\n"			    /* 9 */
			   "  state MASTER\n"				    /* 10 */
			   "  interface eth0\n"				    /* 11 */
			   "  virtual_router_id 51\n"			    /* 12 */
			   "  priority 101\n"				    /* 13 */
			   "  authentication {\n"			    /* 14 */
			   "    auth_type PASS\n"			    /* 15 */
			   "    auth_pass secret1234\n"			    /* 16 */
			   "  }\n"					    /* 17 */
			   "  virtual_ipaddress {\n"			    /* 18 */
			   "    192.168.1.10/24 dev eth0\n"		    /* 19 */
			   "    2001:db8::10\n"				    /* 20 */
			   "  }\n"					    /* 21 */
			   "  track_script {\n"				    /* 22 */
			   "    chk_haproxy weight -10\n"		    /* 23 */
			   "  }\n"					    /* 24 */
			   "  advert_int 1\n"				    /* 25 */
			   "}\n"					    /* 26 */
			   "virtual_server 192.168.1.10 80 {\n"		    /* 27 */
			   "  delay_loop 6\n"				    /* 28 */
			   "  lb_algo wrr\n"				    /* 29 */
			   "  real_server 10.0.1.1 8080 {\n"		    /* 30 */
			   "    weight 3\n"				    /* 31 */
			   "    HTTP_GET {\n"				    /* 32 */
			   "      url { path /health\n status_code 204 }\n" /* 33, 34 */
			   "      connect_timeout 3\n"			    /* 35 */
			   "    }\n"					    /* 36 */
			   "  }\n"					    /* 37 */
			   "}\n";					    /* 38 */

static void
test_pair_semantics(void **state)
{
	struct import_plan p;
	json_t *vip, *spec, *chk, *be;

	(void)state;
	plan_of(pair, sizeof(pair) - 1, &p);
	assert_int_equal(json_array_size(p.errors), 0);
	assert_int_equal(json_array_size(p.vips), 1);
	vip = json_array_get(p.vips, 0);
	assert_string_equal(json_string_value(json_object_get(vip, "name")), "vi-1");
	spec = json_object_get(vip, "spec");
	assert_true(json_is_true(json_object_get(spec, "preempt"))); /* no nopreempt */
	assert_int_equal(json_integer_value(json_object_get(spec, "version")), 2);
	assert_int_equal(json_integer_value(json_object_get(spec, "advert_int_ms")), 1000);
	assert_string_equal(json_string_value(json_object_get(spec, "auth_pass")), "secret12");
	assert_string_equal(
	    json_string_value(json_array_get(json_object_get(spec, "addresses"), 0)),
	    "192.168.1.10/24");
	assert_string_equal(
	    json_string_value(json_array_get(json_object_get(spec, "excluded_addresses"), 0)),
	    "2001:db8::10/128");
	assert_int_equal(json_integer_value(json_object_get(
			     json_array_get(json_object_get(spec, "members"), 0), "priority")),
			 101);
	expect_result(&p, 2, "router_id", "not_applied", "name");
	expect_result(&p, 10, "state", "not_applied", "priorities decide");
	expect_result(&p, 16, "auth_pass", "applied", "8 characters");
	expect_result(&p, 23, "chk_haproxy", "applied", "weight -10 for this VIP");
	expect_result(&p, 29, "lb_algo", "not_applied", "HAProxy, not IPVS");
	assert_int_equal(json_array_size(p.gaps), 0); /* per-instance weights: the check's vips */

	assert_int_equal(json_array_size(p.checks), 2);
	chk = json_object_get(json_array_get(p.checks, 1), "spec"); /* node checks come last */
	assert_string_equal(json_string_value(json_object_get(chk, "node")), "lb1");
	assert_string_equal(json_string_value(json_array_get(json_object_get(chk, "script"), 0)),
			    "killall");
	assert_int_equal(json_integer_value(json_object_get(chk, "weight")), -20);
	assert_int_equal(json_integer_value(json_object_get(chk, "interval_ms")), 2000);
	assert_int_equal(json_array_size(json_object_get(chk, "vips")), 1);
	assert_string_equal(json_string_value(json_object_get(
				json_array_get(json_object_get(chk, "vips"), 0), "vip")),
			    "vi-1");
	assert_int_equal(json_integer_value(json_object_get(
			     json_array_get(json_object_get(chk, "vips"), 0), "weight")),
			 -10);
	be = json_object_get(json_array_get(p.backends, 0), "spec");
	assert_string_equal(json_string_value(json_object_get(be, "vip")), "vi-1");
	assert_int_equal(json_integer_value(json_object_get(be, "weight")), 3);
	chk = json_object_get(json_array_get(p.checks, 0), "spec");
	assert_string_equal(json_string_value(json_object_get(chk, "type")), "http");
	assert_string_equal(json_string_value(json_object_get(chk, "path")), "/health");
	assert_int_equal(json_integer_value(json_object_get(chk, "expect_status")), 204);
	assert_int_equal(json_integer_value(json_object_get(chk, "interval_ms")), 6000);
	assert_int_equal(json_integer_value(json_object_get(chk, "timeout_ms")), 3000);
	import_plan_free(&p);
}

static void
test_refusals(void **state)
{
	static const char vrid[] = "vrrp_instance A {\n interface eth0\n virtual_router_id 999\n"
				   " virtual_ipaddress {\n 10.1.1.1\n }\n}\n";
	static const char unknown[] = "global_defs {\n}\nvrrp_instanse A {\n}\n";
	static const char novrid[] = "vrrp_instance A {\n interface eth0\n}\n";
	struct import_plan p;

	(void)state;
	plan_of(vrid, sizeof(vrid) - 1, &p);
	assert_int_equal(json_array_size(p.errors), 1);
	assert_int_equal(json_integer_value(json_object_get(json_array_get(p.errors, 0), "line")),
			 3);
	assert_int_equal(json_array_size(p.vips), 0);
	import_plan_free(&p);
	plan_of(unknown, sizeof(unknown) - 1, &p);
	assert_int_equal(json_integer_value(json_object_get(json_array_get(p.errors, 0), "line")),
			 3);
	import_plan_free(&p);
	plan_of(novrid, sizeof(novrid) - 1, &p);
	assert_int_equal(json_integer_value(json_object_get(json_array_get(p.errors, 0), "line")),
			 1);
	import_plan_free(&p);
}

/* Found by fuzz_import: an error stays one when the instance around it is dropped, and a block
 * after a list entry is reported, not left "not understood". */
static void
test_errors_stay_and_stray_blocks_are_noted(void **state)
{
	static const char bad_addr[] = "vrrp_instance A {\n interface eth0\n virtual_router_id 51\n"
				       " virtual_ipaddress {\n  not-an-address\n }\n}\n";
	static const char stray[] = "vrrp_instance A {\n interface eth0\n virtual_router_id 51\n"
				    " virtual_ipaddress {\n  10.1.1.1 {\n   x y\n  }\n }\n}\n";
	struct import_plan p;

	(void)state;
	plan_of(bad_addr, sizeof(bad_addr) - 1, &p);
	assert_int_equal(json_array_size(p.errors), 1);
	expect_result(&p, 5, "not-an-address", "error", "not an IP address");
	import_plan_free(&p);
	plan_of(stray, sizeof(stray) - 1, &p);
	expect_result(&p, 5, "10.1.1.1", "applied", NULL);
	expect_result(&p, 6, "x", "not_applied", "expects none");
	import_plan_free(&p);
}

/* notify_master/backup/fault/stop (and notify) become one wrapper that dispatches on the state
 * vigil-agent appends as the third argument; a lone notify stays an argv. */
static void
test_notify_lines_become_one_wrapper(void **state)
{
	static const char per_state[] =
	    "vrrp_instance A {\n interface eth0\n virtual_router_id 51\n"
	    " virtual_ipaddress {\n  10.1.1.1\n }\n"
	    " notify_master \"/usr/local/bin/up.sh master\"\n"
	    " notify_backup /usr/local/bin/down.sh\n"
	    " notify /usr/local/bin/log.sh\n}\n";
	static const char lone[] = "vrrp_instance A {\n interface eth0\n virtual_router_id 51\n"
				   " virtual_ipaddress {\n  10.1.1.1\n }\n"
				   " notify /usr/local/bin/log.sh --to ops\n}\n";
	struct import_plan p;
	json_t *spec, *script;
	const char *content;

	(void)state;
	plan_of(per_state, sizeof(per_state) - 1, &p);
	spec = json_object_get(json_array_get(p.vips, 0), "spec");
	assert_string_equal(json_string_value(json_array_get(json_object_get(spec, "notify"), 0)),
			    "a-notify.sh");
	script = json_array_get(p.scripts, 0);
	assert_string_equal(json_string_value(json_object_get(script, "name")), "a-notify.sh");
	content = json_string_value(json_object_get(script, "content"));
	assert_non_null(strstr(content, "/usr/local/bin/log.sh \"$@\"\n"));
	assert_non_null(strstr(content, "MASTER) /usr/local/bin/up.sh master ;;\n"));
	assert_non_null(strstr(content, "BACKUP) /usr/local/bin/down.sh ;;\n"));
	assert_null(strstr(content, "FAULT)"));
	expect_result(&p, 7, "notify_master", "applied", "run MASTER");
	expect_result(&p, 9, "notify", "applied", "every transition");
	import_plan_free(&p);
	plan_of(lone, sizeof(lone) - 1, &p);
	spec = json_object_get(json_array_get(p.vips, 0), "spec");
	assert_int_equal(json_array_size(json_object_get(spec, "notify")), 3);
	assert_string_equal(json_string_value(json_array_get(json_object_get(spec, "notify"), 0)),
			    "log.sh");
	import_plan_free(&p);
}

static void
test_names(void **state)
{
	char out[64];

	(void)state;
	import_name("vi", "VI_1", out);
	assert_string_equal(out, "vi-1");
	import_name("vi", "__", out);
	assert_string_equal(out, "vi");
	import_name("vi", "Web--Front end", out);
	assert_string_equal(out, "web-front-end");
}

/* Counts the statements of the tree. */
static size_t
count(const struct ka_stmt *s)
{
	size_t n = 0;

	for (; s != NULL; s = s->next)
		n += 1 + count(s->sub);
	return n;
}

static void
test_the_corpus(void **state)
{
	const char *dir = "../shared/keepalived-corpus";
	struct dirent **names;
	int n = scandir(dir, &names, NULL, alphasort), files = 0;

	(void)state;
	if (n < 0)
		skip();
	for (int i = 0; i < n; i++) {
		char path[512], *text;
		size_t len;
		FILE *f;
		struct ka_conf c;
		struct ka_error e;
		struct import_plan p;

		if (strstr(names[i]->d_name, ".conf") == NULL) {
			free(names[i]);
			continue;
		}
		snprintf(path, sizeof(path), "%s/%s", dir, names[i]->d_name);
		assert_non_null(f = fopen(path, "rb"));
		text = malloc(1 << 20);
		len = fread(text, 1, 1 << 20, f);
		fclose(f);
		if (ka_parse(text, len, "lb1", &c, &e) == 0) {
			size_t i2;
			json_t *s;
			assert_int_equal(import_plan(&c, "lb1", "10.0.0.1", &p), 0);
			assert_int_equal(json_array_size(p.statements), count(c.first));
			json_array_foreach(p.statements, i2, s)
			{
				const char *why = json_string_value(json_object_get(s, "why"));
				if (why != NULL && strstr(why, "not understood") != NULL)
					fail_msg("%s line %lld: not accounted for", path,
						 json_integer_value(json_object_get(s, "line")));
			}
			if (getenv("IMPORT_DUMP")) {
				json_t *all = json_pack(
				    "{s:O, s:O, s:O, s:O, s:O, s:O, s:O}", "vips", p.vips, "checks",
				    p.checks, "backends", p.backends, "statements", p.statements,
				    "gaps", p.gaps, "scripts", p.scripts, "errors", p.errors);
				printf("=== %s\n", names[i]->d_name);
				json_dumpf(all, stdout, JSON_INDENT(1) | JSON_COMPACT);
				printf("\n");
				json_decref(all);
			}
			import_plan_free(&p);
			ka_free(&c);
		} else if (getenv("IMPORT_DUMP")) {
			printf("=== %s\nrefused at %d: %s\n", names[i]->d_name, e.line, e.what);
		}
		free(text);
		free(names[i]);
		files++;
	}
	free(names);
	assert_int_equal(files, 40);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_pair_semantics),
	    cmocka_unit_test(test_refusals),
	    cmocka_unit_test(test_errors_stay_and_stray_blocks_are_noted),
	    cmocka_unit_test(test_notify_lines_become_one_wrapper),
	    cmocka_unit_test(test_names),
	    cmocka_unit_test(test_the_corpus),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
