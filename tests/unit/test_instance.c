// links: agent/inst_table.c agent/instance.c agent/inst_group.c agent/sync_group.c agent/node_config.c agent/text.c agent/track.c agent/garp.c agent/vrrp_unicast.c agent/realtime.c agent/caps.c common/errmsg.c agent/vrrp.c agent/vrrp_packet.c agent/vrrp_drops.c agent/loop.c common/addr.c tests/unit/stub_kernel.c common/clock.c
/* Unit tests for the agent's VRRP instance table (agent/inst_table.c, agent/instance.c) fed node
 * configs read by agent/node_config.c, with the
 * kernel replaced by tests/unit/stub_kernel.c: configs that are not what vigild renders (they may
 * come from the cache on disk) are refused entry by entry, never crash the agent. */
#include <arpa/inet.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "inst_table.h"
#include "stub_kernel.h"
#include "unit_json.h"

struct table {
	struct loop *loop;
	struct inst_io io;
	struct inst_table *t;
};

static void
table_init(struct table *t)
{
	const struct inst_table_hooks hooks = {0};

	memset(t, 0, sizeof(*t));
	assert_non_null(t->loop = loop_new());
	t->io.loop = t->loop;
	t->io.sock4 = t->io.sock6 = 100; /* the stubs ignore them */
	t->io.arp_fd = -1;
	assert_non_null(t->t = inst_table_new(&t->io, "lb1", NULL, &hooks));
}

static void
table_free(struct table *t)
{
	inst_table_free(t->t);
	loop_free(t->loop);
}

/* Applies a config as the agent does: read by node_config, then handed to the table. */
static void
apply(struct table *t, const char *text)
{
	json_t *cfg = J(text);
	struct node_config c;
	char err[120];

	assert_int_equal(node_config_parse(cfg, "lb1", &c, err, sizeof(err)), 0);
	inst_table_apply(t->t, &c);
	node_config_free(&c);
	json_decref(cfg);
}

/* Instances running, and the one of VIP name. */
#define COUNT(t) inst_table_count((t).t)
#define FIND(t, name) inst_table_find((t).t, name)

#define VIP_WEB                                                                                    \
	"{\"name\":\"web\",\"addresses\":[\"198.18.0.100/24\"],\"interface\":\"eth0\","            \
	"\"vrid\":51,"                                                                             \
	"\"version\":3,\"advert_int_ms\":1000,\"priority\":100}"

/* Found by fuzz_node_config: an update of a running VIP whose entry lost its address (or has a
 * non-string one) passed NULL to addr_parse_prefix. The entry is not a usable VIP: it goes. */
static void
test_update_without_address_removes_the_instance(void **state)
{
	struct table t;

	(void)state;
	table_init(&t);
	apply(&t, "{\"vips\":[" VIP_WEB "]}");
	assert_int_equal(COUNT(t), 1);
	apply(&t, "{\"vips\":[{\"name\":\"web\",\"interface\":\"eth0\",\"vrid\":51}]}");
	assert_int_equal(COUNT(t), 0);
	apply(&t, "{\"vips\":[" VIP_WEB "]}");
	apply(&t, "{\"vips\":[{\"name\":\"web\",\"addresses\":7,\"interface\":\"eth0\"}]}");
	assert_int_equal(COUNT(t), 0);
	apply(&t, "{\"vips\":[" VIP_WEB "]}");
	apply(&t, "{\"vips\":[{\"name\":\"web\",\"addresses\":[7],\"interface\":\"eth0\"}]}");
	assert_int_equal(COUNT(t), 0);
	table_free(&t);
}

/* The fuzzer's input as it found it: one config with the same name twice, the first entry
 * without an address, applied twice. */
static void
test_duplicate_name_without_address(void **state)
{
	struct table t;
	const char *cfg =
	    "{\"vips\":[{\"name\":\"v53\",\"interface\":\"eth0\"},{\"name\":\"v53\","
	    "\"addresses\":[\"9.1.2.4/4\"],\"advert_int_ms\":1000,\"interface\":\"eth0\","
	    "\"version\":2,\"vrid\":9}]}";

	(void)state;
	table_init(&t);
	apply(&t, cfg);
	apply(&t, cfg);
	assert_true(COUNT(t) <= 1);
	table_free(&t);
}

static void
test_unchanged_config_keeps_the_instance(void **state)
{
	struct table t;
	struct instance *before;

	(void)state;
	table_init(&t);
	apply(&t, "{\"vips\":[" VIP_WEB "]}");
	assert_int_equal(COUNT(t), 1);
	before = FIND(t, "web");
	apply(&t, "{\"vips\":[" VIP_WEB "]}");
	assert_int_equal(COUNT(t), 1);
	assert_ptr_equal(FIND(t, "web"), before);
	apply(&t, "{\"vips\":[]}");
	assert_int_equal(COUNT(t), 0);
	table_free(&t);
}

/* lb1 (the stub's eth0 is 198.18.0.1; unicast_src says 198.18.0.11) with two unicast peers, two
 * advertised addresses, an excluded one of each family, GARP bursts of 3 and a move to lb1, so
 * that it becomes Master at once. */
#define VIP_UNI(peers, move)                                                                       \
	"{\"vips\":[{\"name\":\"uni\",\"addresses\":[\"198.18.0.110/24\",\"198.18.0.111/24\"],"    \
	"\"excluded_addresses\":[\"198.18.0.113/24\",\"2001:db8::113/"                             \
	"64\"],\"interface\":\"eth0\","                                                            \
	"\"vrid\":51,\"version\":3,\"advert_int_ms\":1000,\"priority\":100,\"unicast\":true,"      \
	"\"unicast_src\":\"198.18.0.11\",\"unicast_peers\":" peers ",\"garp_repeat\":3,"           \
	"\"garp_delay_s\":0,\"move\":" move "}]}"
#define UNI_PEERS "[\"198.18.0.12\",\"198.18.0.13\"]"
#define UNI_MOVE "{\"id\":7,\"target\":\"lb1\"}"

/* Hands inst_receive() one v3 advert of vrid 51 from src to 198.18.0.11 (its checksum right for
 * that destination), priority 1: a Master ignores it unless it is refused first. */
static void
receive_on(struct table *t, const char *src, int ifindex)
{
	struct vrrp_advert adv = {.version = 3,
				  .type = VRRP_TYPE_ADVERT,
				  .vrid = 51,
				  .priority = 1,
				  .adver_int_ms = 1000,
				  .family = AF_INET,
				  .naddr = 2};
	static uint8_t buf[VRRP_PKT_MAX];
	struct vrrp_rx rx = {.ifindex = ifindex, .payload = buf};
	ssize_t len;

	addr_parse("198.18.0.110", &adv.addrs[0]);
	addr_parse("198.18.0.111", &adv.addrs[1]);
	rx.meta.family = AF_INET;
	rx.meta.ttl = 255;
	addr_parse(src, &rx.meta.src);
	addr_parse("198.18.0.11", &rx.meta.dst);
	len = vrrp_packet_encode(&adv, &rx.meta.src, &rx.meta.dst, buf, sizeof(buf));
	assert_true(len > 0);
	rx.len = (size_t)len;
	stub_kernel.rx = &rx;
	stub_kernel.rx_n = 1;
	inst_table_receive(t->t, t->io.sock4, AF_INET);
}

static void
receive_from(struct table *t, const char *src)
{
	receive_on(t, src, 2); /* eth0 */
}

/* The count of refused packets of one reason (NULL: of every reason). */
static json_int_t
drops(const struct table *t, const char *reason)
{
	json_t *c = inst_table_counters(t->t), *v;
	json_int_t n = 0;
	const char *k;

	json_object_foreach(c, k, v) if (reason == NULL || strcmp(k, reason) == 0) n +=
	    json_integer_value(v);
	json_decref(c);
	return n;
}

/* A unicast Master advertises to each peer, from unicast_src; it takes adverts from its peers
 * and counts those from anyone else under not_unicast_peer. */
static void
test_unicast_sends_to_each_peer_and_takes_only_peers(void **state)
{
	struct table t;
	struct addr peer2;

	(void)state;
	table_init(&t);
	memset(&stub_kernel, 0, sizeof(stub_kernel));
	apply(&t, VIP_UNI(UNI_PEERS, UNI_MOVE));
	assert_int_equal(COUNT(t), 1);
	assert_int_equal(FIND(t, "uni")->vr.state, VRRP_STATE_MASTER);
	assert_int_equal(stub_kernel.adverts, 2); /* the takeover's advert, once per peer */
	addr_parse("198.18.0.13", &peer2);
	assert_true(addr_equal(&stub_kernel.last_dst, &peer2));
	assert_int_equal(FIND(t, "uni")->vr.cfg.primary.u.v4.s_addr, inet_addr("198.18.0.11"));

	receive_from(&t, "198.18.0.50");
	assert_int_equal(drops(&t, "not_unicast_peer"), 1);
	receive_from(&t, "198.18.0.12");
	receive_from(&t, "198.18.0.13");
	assert_int_equal(drops(&t, NULL), 1);
	assert_int_equal(FIND(t, "uni")->vr.state, VRRP_STATE_MASTER);
	table_free(&t);
}

/* Excluded addresses are added and announced with the others (a burst of garp_repeat each),
 * never advertised. */
static void
test_excluded_addresses_move_and_are_announced(void **state)
{
	struct table t;

	(void)state;
	table_init(&t);
	memset(&stub_kernel, 0, sizeof(stub_kernel));
	apply(&t, VIP_UNI(UNI_PEERS, UNI_MOVE));
	assert_int_equal(COUNT(t), 1);
	assert_int_equal(FIND(t, "uni")->nexcl, 2);
	assert_int_equal(FIND(t, "uni")->vr.cfg.naddr, 2);
	assert_int_equal(stub_kernel.addr_adds, 4);
	assert_int_equal(stub_kernel.announcements, 3 * 4);
	table_free(&t);
}

/* Other peers (or unicast off) make a new instance; other GARP timers do not. */
static void
test_unicast_change_recreates_garp_change_does_not(void **state)
{
	struct table t;
	struct instance *before;

	(void)state;
	table_init(&t);
	apply(&t, VIP_UNI(UNI_PEERS, "null"));
	before = FIND(t, "uni");
	apply(&t, VIP_UNI(UNI_PEERS, "null"));
	assert_ptr_equal(FIND(t, "uni"), before);
	apply(&t, VIP_UNI("[\"198.18.0.12\"]", "null"));
	assert_int_equal(COUNT(t), 1);
	assert_int_equal(FIND(t, "uni")->uc.npeers, 1);
	before = FIND(t, "uni");
	apply(&t, "{\"vips\":[{\"name\":\"uni\",\"addresses\":[\"198.18.0.110/24\","
		  "\"198.18.0.111/24\"],\"excluded_addresses\":[\"198.18.0.113/24\","
		  "\"2001:db8::113/64\"],\"interface\":\"eth0\",\"vrid\":51,\"version\":3,"
		  "\"advert_int_ms\":1000,\"priority\":100,\"unicast\":true,\"unicast_src\":"
		  "\"198.18.0.11\",\"unicast_peers\":[\"198.18.0.12\"],\"garp_repeat\":9,"
		  "\"garp_refresh_s\":60}]}");
	assert_ptr_equal(FIND(t, "uni"), before);
	assert_int_equal(FIND(t, "uni")->garp.p.repeat, 9);
	assert_int_equal(FIND(t, "uni")->garp.p.refresh_ms, 60000);
	assert_int_equal(FIND(t, "uni")->garp.p.delay_ms, 5000); /* absent: the default */
	table_free(&t);
}

/* A unicast entry the agent cannot use (source of another family, a bad peer) is refused. */
/* vmac: the instance opens its macvlan (the stub's ifindex 100 + VRID), sends its adverts and
 * announcements from it, takes adverts arriving on it or on eth0, reports its name, and closes it
 * when vmac goes off (a new instance) or the VIP goes. */
#define VIP_VMAC(vmac)                                                                             \
	"{\"vips\":[{\"name\":\"web\",\"addresses\":[\"198.18.0.110/24\",\"198.18.0.111/24\"],"    \
	"\"interface\":\"eth0\",\"vrid\":51,\"version\":3,\"advert_int_ms\":1000,"                 \
	"\"priority\":100,\"vmac\":" vmac ",\"move\":" UNI_MOVE "}]}"

static void
test_vmac_sends_from_the_macvlan_and_hears_both(void **state)
{
	struct table t;
	json_t *vrrp = json_object(), *held = json_array();

	(void)state;
	table_init(&t);
	memset(&stub_kernel, 0, sizeof(stub_kernel));
	apply(&t, VIP_VMAC("true"));
	assert_int_equal(COUNT(t), 1);
	assert_int_equal(stub_kernel.vmacs, 1);
	assert_int_equal(FIND(t, "web")->vr.state, VRRP_STATE_MASTER);
	assert_int_equal(stub_kernel.advert_ifindex, 151);
	assert_int_equal(stub_kernel.announce_ifindex, 151);
	receive_on(&t, "198.18.0.12", 151);
	receive_on(&t, "198.18.0.12", 2);
	assert_int_equal(drops(&t, "unknown_vrid"), 0);
	receive_on(&t, "198.18.0.12", 3); /* eth1: not this instance's */
	assert_int_equal(drops(&t, "unknown_vrid"), 1);
	inst_table_report(t.t, vrrp, held);
	assert_string_equal(
	    json_string_value(json_object_get(json_object_get(vrrp, "web"), "vmac")), "vrrp.51");
	apply(&t, VIP_VMAC("false"));
	assert_int_equal(COUNT(t), 1);
	assert_int_equal(stub_kernel.vmacs, 0);
	assert_false(FIND(t, "web")->vmac.on);
	apply(&t, VIP_VMAC("true"));
	assert_int_equal(stub_kernel.vmacs, 1);
	table_free(&t);
	assert_int_equal(stub_kernel.vmacs, 0);
	json_decref(vrrp);
	json_decref(held);
}

/* Unicast with vmac: adverts leave from eth0 (vmac_xmit_base), announcements from the macvlan. */
static void
test_vmac_unicast_adverts_leave_from_the_parent(void **state)
{
	struct table t;

	(void)state;
	table_init(&t);
	memset(&stub_kernel, 0, sizeof(stub_kernel));
	apply(&t, VIP_UNI(UNI_PEERS, UNI_MOVE ",\"vmac\":true"));
	assert_int_equal(COUNT(t), 1);
	assert_int_equal(FIND(t, "uni")->vr.state, VRRP_STATE_MASTER);
	assert_int_equal(stub_kernel.advert_ifindex, 2);
	assert_int_equal(stub_kernel.announce_ifindex, 151);
	table_free(&t);
}

static void
test_bad_unicast_entry_is_refused(void **state)
{
	struct table t;

	(void)state;
	table_init(&t);
	apply(&t, VIP_UNI("[\"2001:db8::12\"]", "null"));
	assert_int_equal(COUNT(t), 0);
	apply(&t, VIP_UNI("[7]", "null"));
	assert_int_equal(COUNT(t), 0);
	apply(&t, VIP_UNI("[]", "null")); /* a member alone: fine */
	assert_int_equal(COUNT(t), 1);
	table_free(&t);
}

/* A sync group of two VIPs on eth0 and eth1 (sync_group.h): a move of one makes both Master,
 * the report shows the group and its state, one link down faults both, and both leave FAULT
 * only once it is back. */
#define VIP_G(name, ifname, vrid, move)                                                            \
	"{\"name\":\"" name "\",\"addresses\":[\"198.18." vrid                                     \
	".100/24\"],\"interface\":\"" ifname "\",\"vrid\":" vrid                                   \
	",\"version\":3,\"advert_int_ms\":1000,\"priority\":100,"                                  \
	"\"group\":\"g\",\"move\":" move "}"

static int group_runs;
static enum vrrp_state group_last;

static void
on_group(void *arg, const char *group, enum vrrp_state to)
{
	(void)arg;
	assert_string_equal(group, "g");
	group_runs++;
	group_last = to;
}

static void
test_sync_group_moves_and_faults_together(void **state)
{
	struct table t;
	json_t *vrrp = json_object(), *held = json_array();
	const struct inst_table_hooks hooks = {.group_transitioned = on_group};
	const char *names[] = {"a", "b"};

	(void)state;
	memset(&t, 0, sizeof(t));
	assert_non_null(t.loop = loop_new());
	t.io = (struct inst_io){.loop = t.loop, .sock4 = 100, .sock6 = 100, .arp_fd = -1};
	assert_non_null(t.t = inst_table_new(&t.io, "lb1", NULL, &hooks));
	memset(&stub_kernel, 0, sizeof(stub_kernel));
	group_runs = 0;
	apply(&t, "{\"vips\":[" VIP_G("a", "eth0", "1", "{\"id\":3,\"target\":\"lb1\"}") "," VIP_G(
		      "b", "eth1", "2", "null") "]}");
	assert_int_equal(COUNT(t), 2);
	for (int k = 0; k < 2; k++) {
		assert_int_equal(FIND(t, names[k])->vr.state, VRRP_STATE_MASTER);
		assert_int_equal(FIND(t, names[k])->group_state, VRRP_STATE_MASTER);
	}
	assert_int_equal(group_last, VRRP_STATE_MASTER);
	inst_table_report(t.t, vrrp, held);
	assert_string_equal(json_string_value(json_object_get(json_object_get(vrrp, "b"), "group")),
			    "g");
	assert_string_equal(
	    json_string_value(json_object_get(json_object_get(vrrp, "b"), "group_state")),
	    "MASTER");
	assert_int_equal(json_array_size(held), 2);
	group_runs = 0;
	inst_table_link(t.t, "eth1", 3, false, false);
	for (int k = 0; k < 2; k++)
		assert_int_equal(FIND(t, names[k])->vr.state, VRRP_STATE_FAULT);
	assert_int_equal(group_runs, 1);
	assert_int_equal(group_last, VRRP_STATE_FAULT);
	inst_table_link(t.t, "eth1", 3, true, false);
	for (int k = 0; k < 2; k++)
		assert_int_equal(FIND(t, names[k])->vr.state, VRRP_STATE_BACKUP);
	assert_int_equal(group_last, VRRP_STATE_BACKUP);
	json_decref(vrrp);
	json_decref(held);
	table_free(&t);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_update_without_address_removes_the_instance),
	    cmocka_unit_test(test_duplicate_name_without_address),
	    cmocka_unit_test(test_unchanged_config_keeps_the_instance),
	    cmocka_unit_test(test_unicast_sends_to_each_peer_and_takes_only_peers),
	    cmocka_unit_test(test_excluded_addresses_move_and_are_announced),
	    cmocka_unit_test(test_unicast_change_recreates_garp_change_does_not),
	    cmocka_unit_test(test_bad_unicast_entry_is_refused),
	    cmocka_unit_test(test_vmac_sends_from_the_macvlan_and_hears_both),
	    cmocka_unit_test(test_vmac_unicast_adverts_leave_from_the_parent),
	    cmocka_unit_test(test_sync_group_moves_and_faults_together),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
