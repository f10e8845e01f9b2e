// links: agent/node_config.c agent/vrrp_unicast.c common/addr.c
/* Unit tests for the typed node config (agent/node_config.c): what vigild renders reads into the
 * structs field by field; what it never renders (a hand-edited or old cache) is refused entry by
 * entry with a reason, and the other entries still read. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <cmocka.h>
#include <jansson.h>

#include "node_config.h"
#include "unit_json.h"

/* A full VIP entry as vigild renders it, with fields replaced by extra (an object in J's
 * notation, merged over it). */
static json_t *
vip(const char *extra)
{
	json_t *v = J("{'name':'web','addresses':['198.18.1.10/24','198.18.1.11/24'],"
		      "'excluded_addresses':['2001:db8::10/64'],'interface':'eth0','vrid':51,"
		      "'version':3,'advert_int_ms':1000,'preempt':true,'preempt_delay_ms':0,"
		      "'priority':150,'unicast':false,'peers':[{'node':'lb2','address':"
		      "'198.18.0.12','priority':100}],'group':null,'track_interfaces':[],"
		      "'notify':null,'garp_repeat':5,'garp_delay_s':5,'garp_refresh_s':0,"
		      "'vmac':false,'external_peers':[],'unicast_src':null,'unicast_peers':[],"
		      "'move':null}");
	json_t *x = J(extra);

	json_object_update(v, x);
	json_decref(x);
	return v;
}

/* Parses a config holding the given VIP entries (stolen) as node lb1. */
static void
parse_vips(struct node_config *c, json_t *e1, json_t *e2)
{
	json_t *doc = J("{'node':'lb1','ip_nonlocal_bind':true,'haproxy_socket':'/run/h.sock',"
			"'vips':[],'checks':[],'backends':[]}");
	char err[120];

	if (e1)
		json_array_append_new(json_object_get(doc, "vips"), e1);
	if (e2)
		json_array_append_new(json_object_get(doc, "vips"), e2);
	assert_int_equal(node_config_parse(doc, "lb1", c, err, sizeof(err)), 0);
	json_decref(doc);
}

static void
test_rendered_entry_reads_field_by_field(void **state)
{
	struct node_config c;
	const struct nc_vip *v;
	char buf[ADDR_STRLEN];

	(void)state;
	parse_vips(
	    &c,
	    vip("{'group':'pair','vmac':true,'notify':['note.sh','-v'],"
		"'track_interfaces':[{'interface':'eth1','weight':-20},{'interface':'eth2'}],"
		"'garp_refresh_s':60,'move':{'id':7,'target':'lb1'}}"),
	    NULL);
	assert_int_equal(c.ip_nonlocal_bind, 1);
	assert_string_equal(c.haproxy_socket, "/run/h.sock");
	assert_int_equal(c.nvips, 1);
	v = node_config_vip(&c, "web");
	assert_non_null(v);
	assert_string_equal(v->err, "");
	assert_string_equal(v->ifname, "eth0");
	assert_int_equal(v->family, AF_INET);
	assert_int_equal(v->naddr, 2);
	assert_string_equal(addr_format_prefix(&v->addrs[1], buf, sizeof(buf)), "198.18.1.11/24");
	assert_int_equal(v->nexcl, 1);
	assert_int_equal(v->excl[0].addr.family, AF_INET6);
	assert_int_equal(v->vrid, 51);
	assert_int_equal(v->version, 3);
	assert_int_equal(v->priority, 150);
	assert_int_equal(v->advert_int_ms, 1000);
	assert_true(v->preempt);
	assert_string_equal(v->auth_pass, "");
	assert_false(v->uc.on);
	assert_int_equal(v->garp.repeat, 5);
	assert_int_equal(v->garp.refresh_ms, 60000);
	assert_int_equal(v->ntrack, 2);
	assert_string_equal(v->track[0].name, "eth1");
	assert_int_equal(v->track[0].weight, -20);
	assert_int_equal(v->track[1].weight, 0);
	assert_int_equal(v->nnotify, 2);
	assert_string_equal(v->notify[1], "-v");
	assert_null(v->notify[2]);
	assert_string_equal(v->group, "pair");
	assert_true(v->vmac);
	assert_int_equal(v->move_id, 7);
	assert_true(v->move_here);
	assert_int_equal(v->move_priority, 150); /* ours is above the other member's 100 */
	node_config_free(&c);
	assert_int_equal(c.nvips, 0);
}

static void
test_move_priority_is_above_every_member(void **state)
{
	struct node_config c;

	(void)state;
	parse_vips(&c,
		   vip("{'priority':90,'peers':[{'node':'lb2','address':'198.18.0.12',"
		       "'priority':200},{'node':'lb3','address':'198.18.0.13','priority':120}],"
		       "'move':{'id':3,'target':'lb2'}}"),
		   vip("{'name':'top','vrid':52,'priority':254,'peers':[{'node':'lb2','address':"
		       "'198.18.0.12','priority':254}],'move':{'id':4,'target':'lb1'}}"));
	assert_int_equal(c.vips[0].move_priority, 201);
	assert_false(c.vips[0].move_here);
	assert_int_equal(c.vips[1].move_priority, 254); /* capped: 255 is the address owner's */
	node_config_free(&c);
}

static void
test_bad_entries_are_refused_alone(void **state)
{
	static const struct {
		const char *extra, *why;
	} bad[] = {
	    {"{'name':null}", "no name"},
	    {"{'interface':'an-interface-name-too-long'}", "no usable interface"},
	    {"{'vrid':0}", "bad vrid or version"},
	    {"{'vrid':256}", "bad vrid or version"},
	    {"{'version':4}", "bad vrid or version"},
	    {"{'addresses':[]}", "needs 1 to 255 addresses"},
	    {"{'addresses':['198.18.1.10/24','2001:db8::1/64']}", "bad address 2001:db8::1/64"},
	    {"{'addresses':['198.18.1.10']}", "bad address 198.18.1.10"},
	    {"{'excluded_addresses':[7]}", "bad excluded address (not a string)"},
	    {"{'auth_pass':'much-too-long'}", "bad auth_pass"},
	    {"{'unicast':true,'unicast_src':null}", "unicast: no usable unicast_src"},
	};

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct node_config c;
		parse_vips(&c, vip(bad[i].extra), vip("{'name':'good','vrid':60}"));
		assert_int_equal(c.nvips, 2);
		if (strncmp(c.vips[0].err, bad[i].why, strlen(bad[i].why)) != 0)
			fail_msg("%s: got \"%s\", want \"%s\"", bad[i].extra, c.vips[0].err,
				 bad[i].why);
		assert_null(node_config_vip(&c, "web"));
		assert_non_null(node_config_vip(&c, "good"));
		node_config_free(&c);
	}
}

static void
test_oddities_fall_back_without_refusing(void **state)
{
	struct node_config c;
	const struct nc_vip *v;

	(void)state;
	parse_vips(&c,
		   vip("{'priority':999,'notify':[1,2],'track_interfaces':[{'interface':'eth1',"
		       "'weight':'x'},{'weight':3},{'interface':'eth3','weight':500}],'group':7,"
		       "'move':{'id':0,'target':'lb1'}}"),
		   NULL);
	v = &c.vips[0];
	assert_string_equal(v->err, "");
	assert_int_equal(v->priority, 100);
	assert_int_equal(v->nnotify, 0);
	assert_int_equal(v->ntrack, 1);
	assert_int_equal(v->track[0].weight, 0);
	assert_string_equal(v->group, "");
	assert_int_equal(v->move_id, 0);
	node_config_free(&c);
}

static void
test_garp_parameters_and_their_defaults(void **state)
{
	struct node_config c;

	(void)state;
	parse_vips(&c, vip("{'garp_repeat':3,'garp_delay_s':1,'garp_refresh_s':2}"),
		   vip("{'name':'old','vrid':60,'garp_repeat':0,'garp_delay_s':-1,"
		       "'garp_refresh_s':'x'}"));
	assert_int_equal(c.vips[0].garp.repeat, 3);
	assert_int_equal(c.vips[0].garp.delay_ms, 1000);
	assert_int_equal(c.vips[0].garp.refresh_ms, 2000);
	/* out of range: the API's defaults */
	assert_int_equal(c.vips[1].garp.repeat, 5);
	assert_int_equal(c.vips[1].garp.delay_ms, 5000);
	assert_int_equal(c.vips[1].garp.refresh_ms, 0);
	node_config_free(&c);
	parse_vips(&c, vip("{'garp_delay_s':0}"), NULL);
	assert_int_equal(c.vips[0].garp.delay_ms, 0);
	node_config_free(&c);
}

static void
test_not_a_config(void **state)
{
	struct node_config c;
	char err[80];
	json_t *docs[] = {J("[]"), J("{'vips':{}}"), J("{'vips':'x'}")};

	(void)state;
	for (size_t i = 0; i < 3; i++) {
		assert_int_equal(node_config_parse(docs[i], "lb1", &c, err, sizeof(err)), -1);
		assert_string_equal(err, "not a node config");
		node_config_free(&c);
		json_decref(docs[i]);
	}
	json_t *empty = J("{}");
	assert_int_equal(node_config_parse(empty, "lb1", &c, err, sizeof(err)), 0);
	assert_int_equal(c.ip_nonlocal_bind, -1);
	assert_int_equal(c.nvips, 0);
	node_config_free(&c);
	json_decref(empty);
}

static void
test_restart_needed_only_for_identity_changes(void **state)
{
	struct node_config a, b;

	(void)state;
	parse_vips(&a, vip("{}"), NULL);
	parse_vips(&b, vip("{'priority':10,'advert_int_ms':2000,'notify':['x'],'group':'g'}"),
		   NULL);
	assert_false(nc_vip_needs_restart(&a.vips[0], &b.vips[0]));
	node_config_free(&b);
	const char *changes[] = {"{'interface':'eth1'}",
				 "{'addresses':['198.18.1.10/24']}",
				 "{'addresses':['198.18.1.10/25','198.18.1.11/24']}",
				 "{'excluded_addresses':[]}",
				 "{'vmac':true}",
				 "{'unicast':true,'unicast_src':'198.18.0.11','unicast_peers':"
				 "['198.18.0.12']}"};
	for (size_t i = 0; i < sizeof(changes) / sizeof(changes[0]); i++) {
		parse_vips(&b, vip(changes[i]), NULL);
		if (!nc_vip_needs_restart(&a.vips[0], &b.vips[0]))
			fail_msg("%s should need a restart", changes[i]);
		node_config_free(&b);
	}
	node_config_free(&a);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_rendered_entry_reads_field_by_field),
	    cmocka_unit_test(test_move_priority_is_above_every_member),
	    cmocka_unit_test(test_bad_entries_are_refused_alone),
	    cmocka_unit_test(test_oddities_fall_back_without_refusing),
	    cmocka_unit_test(test_garp_parameters_and_their_defaults),
	    cmocka_unit_test(test_not_a_config),
	    cmocka_unit_test(test_restart_needed_only_for_identity_changes),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
