// links: agent/instance.c agent/realtime.c agent/caps.c common/errmsg.c agent/vrrp.c agent/vrrp_packet.c agent/vrrp_drops.c agent/loop.c common/addr.c tests/unit/stub_kernel.c
/* Unit tests for the agent's VRRP instance table (agent/instance.c) fed node configs, with the
 * kernel replaced by tests/unit/stub_kernel.c: configs that are not what vigild renders (they may
 * come from the cache on disk) are refused entry by entry, never crash the agent. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "instance.h"
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

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_update_without_address_removes_the_instance),
	    cmocka_unit_test(test_duplicate_name_without_address),
	    cmocka_unit_test(test_unchanged_config_keeps_the_instance),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
