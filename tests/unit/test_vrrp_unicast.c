// links: agent/vrrp_unicast.c agent/node_config.c common/addr.c
/* Unit tests for the unicast settings of a VRRP instance (agent/vrrp_unicast.c): read from a node
 * config VIP entry (agent/node_config.c), and the source filter that takes adverts only from the
 * peers. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <cmocka.h>
#include <jansson.h>

#include "unit_json.h"
#include "node_config.h"
#include "vrrp_unicast.h"

static struct addr
ip(const char *s)
{
	struct addr a;

	memset(&a, 0, sizeof(a));
	assert_int_equal(addr_parse(s, &a), 0);
	return a;
}

/* Reads the unicast fields in text (J's notation) as node_config.c reads them from a VIP entry
 * whose addresses are of family. Returns 0, or -1 when the entry is refused. */
static int
parse(const char *text, int family, struct vrrp_unicast *u)
{
	json_t *doc = J("{'vips':[{'name':'v','interface':'eth0','vrid':7,'version':3}]}"),
	       *v = json_array_get(json_object_get(doc, "vips"), 0), *x = J(text);
	struct node_config c;
	char err[120];
	int rc;

	json_object_update(v, x);
	json_object_set_new(
	    v, "addresses",
	    json_pack("[s]", family == AF_INET ? "198.18.1.1/24" : "2001:db8::1/64"));
	assert_int_equal(node_config_parse(doc, "lb1", &c, err, sizeof(err)), 0);
	rc = c.vips[0].err[0] == '\0' ? 0 : -1;
	*u = c.vips[0].uc;
	node_config_free(&c);
	json_decref(x);
	json_decref(doc);
	return rc;
}

static void
test_multicast_accepts_any_source(void **state)
{
	struct vrrp_unicast u;
	struct addr any = ip("198.18.0.50");

	(void)state;
	assert_int_equal(
	    parse("{'unicast':false,'unicast_src':null,'unicast_peers':[]}", AF_INET, &u), 0);
	assert_false(u.on);
	assert_true(vrrp_unicast_accepts(&u, &any));
	assert_int_equal(parse("{}", AF_INET, &u), 0); /* an old config: multicast */
	assert_false(u.on);
}

static void
test_unicast_accepts_only_peers(void **state)
{
	struct vrrp_unicast u;
	struct addr p1 = ip("198.18.0.12"), p2 = ip("198.18.0.13"), other = ip("198.18.0.50"),
		    self = ip("198.18.0.11"), v6 = ip("2001:db8::12");

	(void)state;
	assert_int_equal(parse("{'unicast':true,'unicast_src':'198.18.0.11',"
			       "'unicast_peers':['198.18.0.12','198.18.0.13']}",
			       AF_INET, &u),
			 0);
	assert_true(u.on);
	assert_true(addr_equal(&u.src, &self));
	assert_int_equal(u.npeers, 2);
	assert_true(vrrp_unicast_accepts(&u, &p1));
	assert_true(vrrp_unicast_accepts(&u, &p2));
	assert_false(vrrp_unicast_accepts(&u, &other));
	assert_false(vrrp_unicast_accepts(&u, &self));
	assert_false(vrrp_unicast_accepts(&u, &v6));
}

static void
test_unicast_ipv6(void **state)
{
	struct vrrp_unicast u;
	struct addr p = ip("2001:db8::12"), v4 = ip("198.18.0.12");

	(void)state;
	assert_int_equal(parse("{'unicast':true,'unicast_src':'2001:db8::11',"
			       "'unicast_peers':['2001:db8::12']}",
			       AF_INET6, &u),
			 0);
	assert_true(vrrp_unicast_accepts(&u, &p));
	assert_false(vrrp_unicast_accepts(&u, &v4));
}

static void
test_bad_settings_are_refused(void **state)
{
	struct vrrp_unicast u;

	(void)state;
	assert_int_equal(
	    parse("{'unicast':true,'unicast_src':null,'unicast_peers':['198.18.0.12']}", AF_INET,
		  &u),
	    -1);
	assert_int_equal(parse("{'unicast':true,'unicast_src':'2001:db8::11',"
			       "'unicast_peers':['198.18.0.12']}",
			       AF_INET, &u),
			 -1);
	assert_int_equal(parse("{'unicast':true,'unicast_src':'198.18.0.11',"
			       "'unicast_peers':['198.18.0.12/24']}",
			       AF_INET, &u),
			 -1);
	assert_int_equal(
	    parse("{'unicast':true,'unicast_src':'198.18.0.11','unicast_peers':[]}", AF_INET, &u),
	    0); /* a member alone */
	assert_int_equal(u.npeers, 0);
}

static void
test_equal(void **state)
{
	struct vrrp_unicast a, b;

	(void)state;
	parse("{'unicast':true,'unicast_src':'198.18.0.11','unicast_peers':['198.18.0.12']}",
	      AF_INET, &a);
	parse("{'unicast':true,'unicast_src':'198.18.0.11','unicast_peers':['198.18.0.12']}",
	      AF_INET, &b);
	assert_true(vrrp_unicast_equal(&a, &b));
	parse("{'unicast':true,'unicast_src':'198.18.0.11','unicast_peers':['198.18.0.13']}",
	      AF_INET, &b);
	assert_false(vrrp_unicast_equal(&a, &b));
	parse("{'unicast':false}", AF_INET, &b);
	assert_false(vrrp_unicast_equal(&a, &b));
	parse("{'unicast':false,'unicast_peers':['198.18.0.12']}", AF_INET, &a);
	assert_true(vrrp_unicast_equal(&a, &b));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_multicast_accepts_any_source),
	    cmocka_unit_test(test_unicast_accepts_only_peers),
	    cmocka_unit_test(test_unicast_ipv6),
	    cmocka_unit_test(test_bad_settings_are_refused),
	    cmocka_unit_test(test_equal),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
