// links: server/import.c server/import_vrrp.c server/import_vrrp_addr.c server/import_vrrp_track.c server/import_vrrp_notify.c server/import_lvs.c server/kaconf.c server/vip_fields.c server/validate.c server/http.c common/addr.c
/* Fuzzes the keepalived.conf import's plan (server/import*.c) over what the reader accepts.
 * Input: a file (node and config id "lb1"); its length modulo 3 picks the node's address
 * (IPv4, IPv6 or none), so that real files seed it as they are. Oracles: every statement of the
 * file is reported exactly once, in file order, as applied, not_applied (with why) or error; errors
 * are listed iff a statement is one; every planned VIP names one member, lb1, at 1..254, with a
 * vrid of 1..255, a valid name and at least one address; the VIP field checks run on every planned
 * spec (for the sanitizers); nothing leaks (ASan's leak check). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_check.h"
#include "import.h"
#include "validate.h"
#include "vip_fields.h"

static int
count(const struct ka_stmt *s)
{
	int n = 0;

	for (; s != NULL; s = s->next)
		n += 1 + count(s->sub);
	return n;
}

static void
check_statements(const struct import_plan *p, int statements)
{
	json_t *s;
	size_t i, errors = 0;
	json_int_t last = 0;

	CHECK((int)json_array_size(p->statements) == statements);
	json_array_foreach(p->statements, i, s)
	{
		const char *r = json_string_value(json_object_get(s, "result"));
		json_int_t line = json_integer_value(json_object_get(s, "line"));
		CHECK(r != NULL && line >= last);
		last = line;
		CHECK(strcmp(r, "applied") == 0 || strcmp(r, "not_applied") == 0 ||
		      strcmp(r, "error") == 0);
		CHECK(strcmp(r, "not_applied") != 0 || json_is_string(json_object_get(s, "why")));
		CHECK(strcmp(r, "not_applied") != 0 ||
		      strstr(json_string_value(json_object_get(s, "why")), "not understood") ==
			  NULL);
		errors += strcmp(r, "error") == 0;
	}
	CHECK((errors > 0) == (json_array_size(p->errors) > 0));
}

static void
check_vips(const struct import_plan *p)
{
	json_t *v;
	size_t i;

	json_array_foreach(p->vips, i, v)
	{
		json_t *spec = json_deep_copy(json_object_get(v, "spec"));
		json_t *m = json_object_get(spec, "members");
		json_int_t prio =
		    json_integer_value(json_object_get(json_array_get(m, 0), "priority"));
		json_int_t vrid = json_integer_value(json_object_get(spec, "vrid"));
		struct verr e = {0};
		int family;

		CHECK(valid_name(json_string_value(json_object_get(v, "name"))));
		CHECK(json_array_size(m) == 1 && prio >= 1 && prio <= 254);
		CHECK(strcmp(json_string_value(json_object_get(json_array_get(m, 0), "node")),
			     "lb1") == 0);
		CHECK(vrid >= 1 && vrid <= 255);
		CHECK(json_array_size(json_object_get(spec, "addresses")) >= 1);
		family = vipf_addresses(spec, &e);
		vipf_excluded(spec, &e);
		vipf_unicast(spec, family, &e);
		vipf_group(spec, &e);
		vipf_track_interfaces(spec, &e);
		vipf_notify(spec, &e);
		vipf_garp_vmac(spec, &e);
		verr_clear(&e);
		json_decref(spec);
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const addresses[] = {"10.0.0.1", "2001:db8::1", NULL};
	struct import_plan p;
	struct ka_conf c;
	struct ka_error e;

	if (ka_parse((const char *)data, size, "lb1", &c, &e) != 0)
		return 0;
	CHECK(import_plan(&c, "lb1", addresses[size % 3], &p) == 0);
	check_statements(&p, count(c.first));
	check_vips(&p);
	import_plan_free(&p);
	ka_free(&c);
	return 0;
}
