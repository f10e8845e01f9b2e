// links: agent/instance.c agent/track.c agent/garp.c agent/vrrp_unicast.c agent/realtime.c agent/caps.c common/errmsg.c agent/vrrp.c agent/vrrp_packet.c agent/vrrp_drops.c agent/loop.c common/addr.c tests/unit/stub_kernel.c
/* Unit tests for the agent's VRRP instance table (agent/instance.c) fed node configs, with the
 * kernel replaced by tests/unit/stub_kernel.c: configs that are not what vigild renders (they may
 * come from the cache on disk) are refused entry by entry, never crash the agent. */
#include <arpa/inet.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "instance.h"
#include "stub_kernel.h"
#include "unit_json.h"

struct table {
	struct loop *loop;
	struct inst_env env;
	struct instance *tab[INST_MAX];
	int n;
};

static void
table_init(struct table *t)
{
	memset(t, 0, sizeof(*t));
	assert_non_null(t->loop = loop_new());
	t->env.loop = t->loop;
	t->env.sock4 = t->env.sock6 = 100; /* the stubs ignore them */
	t->env.arp_fd = -1;
	t->env.node = "lb1";
	t->env.moves_done = json_object();
}

static void
table_free(struct table *t)
{
	inst_shutdown_all(&t->env, t->tab, &t->n);
	json_decref(t->env.moves_done);
	json_decref(t->env.last_transition);
	loop_free(t->loop);
}

static void
apply(struct table *t, const char *text)
{
	json_t *cfg = J(text);

	inst_apply(&t->env, t->tab, &t->n, cfg);
	json_decref(cfg);
}

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
	assert_int_equal(t.n, 1);
	apply(&t, "{\"vips\":[{\"name\":\"web\",\"interface\":\"eth0\",\"vrid\":51}]}");
	assert_int_equal(t.n, 0);
	apply(&t, "{\"vips\":[" VIP_WEB "]}");
	apply(&t, "{\"vips\":[{\"name\":\"web\",\"addresses\":7,\"interface\":\"eth0\"}]}");
	assert_int_equal(t.n, 0);
	apply(&t, "{\"vips\":[" VIP_WEB "]}");
	apply(&t, "{\"vips\":[{\"name\":\"web\",\"addresses\":[7],\"interface\":\"eth0\"}]}");
	assert_int_equal(t.n, 0);
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
	assert_true(t.n <= 1);
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
	assert_int_equal(t.n, 1);
	before = t.tab[0];
	apply(&t, "{\"vips\":[" VIP_WEB "]}");
	assert_int_equal(t.n, 1);
	assert_ptr_equal(t.tab[0], before);
	apply(&t, "{\"vips\":[]}");
	assert_int_equal(t.n, 0);
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
	inst_receive(&t->env, t->tab, t->n, t->env.sock4, AF_INET);
}

static void
receive_from(struct table *t, const char *src)
{
	receive_on(t, src, 2); /* eth0 */
}

static uint64_t
drops_total(const struct table *t)
{
	uint64_t n = 0;

	for (int r = 0; r < VRRP_DROP_MAX; r++)
		n += t->env.drops.count[r];
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
	assert_int_equal(t.n, 1);
	assert_int_equal(t.tab[0]->vr.state, VRRP_STATE_MASTER);
	assert_int_equal(stub_kernel.adverts, 2); /* the takeover's advert, once per peer */
	addr_parse("198.18.0.13", &peer2);
	assert_true(addr_equal(&stub_kernel.last_dst, &peer2));
	assert_int_equal(t.tab[0]->vr.cfg.primary.u.v4.s_addr, inet_addr("198.18.0.11"));

	receive_from(&t, "198.18.0.50");
	assert_int_equal(t.env.drops.count[VRRP_DROP_NOT_UNICAST_PEER], 1);
	receive_from(&t, "198.18.0.12");
	receive_from(&t, "198.18.0.13");
	assert_int_equal(drops_total(&t), 1);
	assert_int_equal(t.tab[0]->vr.state, VRRP_STATE_MASTER);
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
	assert_int_equal(t.n, 1);
	assert_int_equal(t.tab[0]->nexcl, 2);
	assert_int_equal(t.tab[0]->vr.cfg.naddr, 2);
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
	before = t.tab[0];
	apply(&t, VIP_UNI(UNI_PEERS, "null"));
	assert_ptr_equal(t.tab[0], before);
	apply(&t, VIP_UNI("[\"198.18.0.12\"]", "null"));
	assert_int_equal(t.n, 1);
	assert_int_equal(t.tab[0]->uc.npeers, 1);
	before = t.tab[0];
	apply(&t, "{\"vips\":[{\"name\":\"uni\",\"addresses\":[\"198.18.0.110/24\","
		  "\"198.18.0.111/24\"],\"excluded_addresses\":[\"198.18.0.113/24\","
		  "\"2001:db8::113/64\"],\"interface\":\"eth0\",\"vrid\":51,\"version\":3,"
		  "\"advert_int_ms\":1000,\"priority\":100,\"unicast\":true,\"unicast_src\":"
		  "\"198.18.0.11\",\"unicast_peers\":[\"198.18.0.12\"],\"garp_repeat\":9,"
		  "\"garp_refresh_s\":60}]}");
	assert_ptr_equal(t.tab[0], before);
	assert_int_equal(t.tab[0]->garp.p.repeat, 9);
	assert_int_equal(t.tab[0]->garp.p.refresh_ms, 60000);
	assert_int_equal(t.tab[0]->garp.p.delay_ms, 5000); /* absent: the default */
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
	assert_int_equal(t.n, 1);
	assert_int_equal(stub_kernel.vmacs, 1);
	assert_int_equal(t.tab[0]->vr.state, VRRP_STATE_MASTER);
	assert_int_equal(stub_kernel.advert_ifindex, 151);
	assert_int_equal(stub_kernel.announce_ifindex, 151);
	receive_on(&t, "198.18.0.12", 151);
	receive_on(&t, "198.18.0.12", 2);
	assert_int_equal(t.env.drops.count[VRRP_DROP_UNKNOWN_VRID], 0);
	receive_on(&t, "198.18.0.12", 3); /* eth1: not this instance's */
	assert_int_equal(t.env.drops.count[VRRP_DROP_UNKNOWN_VRID], 1);
	inst_report(t.tab, t.n, vrrp, held);
	assert_string_equal(
	    json_string_value(json_object_get(json_object_get(vrrp, "web"), "vmac")), "vrrp.51");
	apply(&t, VIP_VMAC("false"));
	assert_int_equal(t.n, 1);
	assert_int_equal(stub_kernel.vmacs, 0);
	assert_false(t.tab[0]->vmac.on);
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
	assert_int_equal(t.n, 1);
	assert_int_equal(t.tab[0]->vr.state, VRRP_STATE_MASTER);
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
	assert_int_equal(t.n, 0);
	apply(&t, VIP_UNI("[7]", "null"));
	assert_int_equal(t.n, 0);
	apply(&t, VIP_UNI("[]", "null")); /* a member alone: fine */
	assert_int_equal(t.n, 1);
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
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
