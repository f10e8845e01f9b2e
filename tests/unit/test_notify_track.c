// links: agent/notify_queue.c agent/track.c agent/node_config.c agent/vrrp_unicast.c agent/vrrp.c agent/vrrp_packet.c common/addr.c tests/unit/stub_kernel.c
/* Unit tests for the pure parts of issue 10's notify scripts and tracked interfaces: the notify
 * queue's order and coalescing (agent/notify_queue.c), the argv a run gets, and track_interfaces'
 * weight arithmetic and link events (agent/track.c; links resolved by tests/unit/stub_kernel.c:
 * eth0..eth2 up, eth3 down, nothing else). */
#include <jansson.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "notify_queue.h"
#include "node_config.h"
#include "track.h"

static void
push(struct notify_queue *q, enum notify_state s, int prio)
{
	struct notify_event ev = {s, prio, 0, ""};

	notify_queue_push(q, &ev);
}

/* Pops everything into a string of state initials ("MBF S"). */
static void
drain(struct notify_queue *q, char *out)
{
	struct notify_event ev;
	size_t n = 0;

	while (notify_queue_pop(q, &ev))
		out[n++] = "MBFS"[ev.state];
	out[n] = '\0';
}

static void
test_queue_keeps_transition_order(void **state)
{
	struct notify_queue q = {0};
	char got[32];

	(void)state;
	push(&q, NOTIFY_BACKUP, 100);
	push(&q, NOTIFY_MASTER, 100);
	push(&q, NOTIFY_FAULT, 100);
	push(&q, NOTIFY_BACKUP, 100);
	drain(&q, got);
	assert_string_equal(got, "BMFB");
	assert_int_equal(q.coalesced, 0);
}

static void
test_queue_drops_a_repeated_state_and_keeps_the_newest_priority(void **state)
{
	struct notify_queue q = {0};
	struct notify_event ev;

	(void)state;
	push(&q, NOTIFY_MASTER, 100);
	push(&q, NOTIFY_MASTER, 150); /* a priority change is no transition */
	assert_true(notify_queue_pop(&q, &ev));
	assert_int_equal(ev.state, NOTIFY_MASTER);
	assert_int_equal(ev.priority, 150);
	push(&q, NOTIFY_MASTER, 90); /* same as the one taken: nothing new for the script */
	assert_false(notify_queue_pop(&q, &ev));
	assert_int_equal(q.coalesced, 1);
}

static void
test_queue_overflow_drops_oldest_never_reorders_and_keeps_newest(void **state)
{
	struct notify_queue q = {0};
	struct notify_event ev;
	char got[32];

	(void)state;
	push(&q, NOTIFY_BACKUP, 1);
	assert_true(notify_queue_pop(&q, &ev)); /* BACKUP runs */
	/* a flapping instance: M B M B ... 9 pending, one more than fits */
	for (int i = 0; i < NOTIFY_QUEUE_MAX + 1; i++)
		push(&q, i % 2 == 0 ? NOTIFY_MASTER : NOTIFY_BACKUP, i);
	assert_true(q.n <= NOTIFY_QUEUE_MAX);
	assert_true(q.coalesced >= 1);
	drain(&q, got);
	/* alternating still, newest (MASTER, pushed last) last, and never B right after the
	 * BACKUP that ran */
	assert_int_equal(got[0], 'M');
	assert_int_equal(got[strlen(got) - 1], 'M');
	for (size_t i = 1; got[i]; i++)
		assert_true(got[i] != got[i - 1]);
	assert_int_equal(strlen(got) + q.coalesced, NOTIFY_QUEUE_MAX + 1);
}

static void
test_queue_keep_last_leaves_only_the_stop(void **state)
{
	struct notify_queue q = {0};
	char got[32];

	(void)state;
	push(&q, NOTIFY_MASTER, 1);
	push(&q, NOTIFY_BACKUP, 1);
	push(&q, NOTIFY_STOP, 0);
	notify_queue_keep_last(&q);
	drain(&q, got);
	assert_string_equal(got, "S");
	assert_int_equal(q.coalesced, 2);
}

static void
test_state_of_vrrp_states(void **state)
{
	(void)state;
	assert_int_equal(notify_state_of(VRRP_STATE_MASTER), NOTIFY_MASTER);
	assert_int_equal(notify_state_of(VRRP_STATE_BACKUP), NOTIFY_BACKUP);
	assert_int_equal(notify_state_of(VRRP_STATE_FAULT), NOTIFY_FAULT);
	assert_int_equal(notify_state_of(VRRP_STATE_INIT), NOTIFY_STOP);
	assert_string_equal(notify_state_str(NOTIFY_STOP), "STOP");
}

static void
test_argv_appends_keepalived_generic_arguments(void **state)
{
	char *base[] = {"notify.sh", "--flag", NULL}, *out[NOTIFY_ARGV_MAX], prio[12];
	struct notify_event ev = {NOTIFY_FAULT, 254, 0, ""};

	(void)state;
	assert_int_equal(notify_build_argv(base, "web", &ev, prio, out), 6);
	assert_string_equal(out[0], "notify.sh");
	assert_string_equal(out[1], "--flag");
	assert_string_equal(out[2], "INSTANCE");
	assert_string_equal(out[3], "web");
	assert_string_equal(out[4], "FAULT");
	assert_string_equal(out[5], "254");
	assert_null(out[6]);
}

/* Pops the next event and checks its state and group ("" for the instance's); returns it. */
static struct notify_event
pop_expect(struct notify_queue *q, enum notify_state st, const char *group)
{
	struct notify_event ev;

	assert_true(notify_queue_pop(q, &ev));
	assert_int_equal(ev.state, st);
	assert_string_equal(ev.group, group);
	return ev;
}

/* Sync groups: a GROUP event has its own repeats (GROUP MASTER after INSTANCE MASTER is a new
 * transition), keeps its place in the order, and gets "GROUP <group> <state>". */
static void
test_group_events_interleave_and_repeat_on_their_own(void **state)
{
	struct notify_queue q = {0};
	struct notify_event g = {NOTIFY_MASTER, 0, 0, "dbpair"}, ev;
	char *base[] = {"notify.sh", NULL}, *out[NOTIFY_ARGV_MAX], prio[12];

	(void)state;
	push(&q, NOTIFY_MASTER, 100);
	notify_queue_push(&q, &g);
	notify_queue_push(&q, &g);    /* a repeat of the group's state */
	push(&q, NOTIFY_MASTER, 120); /* a repeat of the instance's: priority only */
	push(&q, NOTIFY_BACKUP, 100);
	g.state = NOTIFY_BACKUP;
	notify_queue_push(&q, &g);
	assert_int_equal(q.n, 4);
	assert_int_equal(pop_expect(&q, NOTIFY_MASTER, "").priority, 120);
	ev = pop_expect(&q, NOTIFY_MASTER, "dbpair");
	assert_int_equal(notify_build_argv(base, "web", &ev, prio, out), 4);
	assert_string_equal(out[1], "GROUP");
	assert_string_equal(out[2], "dbpair");
	assert_string_equal(out[3], "MASTER");
	assert_null(out[4]);
	pop_expect(&q, NOTIFY_BACKUP, "");
	pop_expect(&q, NOTIFY_BACKUP, "dbpair");
	assert_false(notify_queue_pop(&q, &ev));
}

/* Agent shutdown with a group: the VIP's STOP and its group's STOP both stay. */
static void
test_keep_last_keeps_the_newest_of_each_kind(void **state)
{
	struct notify_queue q = {0};
	struct notify_event g = {NOTIFY_MASTER, 0, 0, "dbpair"};

	(void)state;
	push(&q, NOTIFY_MASTER, 100);
	notify_queue_push(&q, &g);
	push(&q, NOTIFY_STOP, 100);
	g.state = NOTIFY_STOP;
	notify_queue_push(&q, &g);
	notify_queue_keep_last(&q);
	assert_int_equal(q.n, 2);
	assert_int_equal(q.coalesced, 2);
	pop_expect(&q, NOTIFY_STOP, "");
	pop_expect(&q, NOTIFY_STOP, "dbpair");
}

static void
test_argv_refuses_empty_or_oversized_base(void **state)
{
	char *empty[] = {NULL}, *big[NOTIFY_ARGV_MAX + 1], *out[NOTIFY_ARGV_MAX], prio[12];
	struct notify_event ev = {NOTIFY_MASTER, 1, 0, ""};

	(void)state;
	for (int i = 0; i < NOTIFY_ARGV_MAX; i++)
		big[i] = "x";
	big[NOTIFY_ARGV_MAX] = NULL;
	assert_int_equal(notify_build_argv(empty, "web", &ev, prio, out), -1);
	assert_int_equal(notify_build_argv(NULL, "web", &ev, prio, out), -1);
	assert_int_equal(notify_build_argv(big, "web", &ev, prio, out), -1);
}

/* Follows the track_interfaces list in json, read as node_config.c reads it. */
static void
configure(struct track *t, const char *json)
{
	json_t *doc =
	    json_pack("{s:[{s:s, s:s, s:i, s:i, s:[s], s:o}]}", "vips", "name", "v", "interface",
		      "eth0", "vrid", 7, "version", 3, "addresses", "198.18.1.1/24",
		      "track_interfaces", json_loads(json, JSON_DECODE_ANY, NULL));
	struct node_config c;
	char err[80];

	assert_int_equal(node_config_parse(doc, "lb1", &c, err, sizeof(err)), 0);
	assert_string_equal(c.vips[0].err, "");
	track_configure(t, c.vips[0].track, c.vips[0].ntrack);
	node_config_free(&c);
	json_decref(doc);
}

static void
test_track_weights_add_while_down_and_zero_faults(void **state)
{
	struct track t = {0};
	int adjust;
	bool fault;
	char why[80];

	(void)state;
	/* eth1 up, eth3 down (stub), eth9 missing */
	configure(&t, "[{\"interface\": \"eth1\", \"weight\": -50},"
		      " {\"interface\": \"eth3\", \"weight\": -20},"
		      " {\"interface\": \"eth9\", \"weight\": 7}]");
	track_resolve(&t, NULL, true);
	assert_int_equal(t.list[0].link, TRACK_UP);
	assert_int_equal(t.list[1].link, TRACK_DOWN);
	assert_int_equal(t.list[2].link, TRACK_MISSING);
	track_eval(&t, &adjust, &fault, why, sizeof(why));
	assert_int_equal(adjust, -20 + 7); /* a missing interface counts as down */
	assert_false(fault);
	assert_string_equal(why, "");

	configure(&t, "[{\"interface\": \"eth3\"}, {\"interface\": \"eth1\", \"weight\": -50}]");
	track_eval(&t, &adjust, &fault, why, sizeof(why));
	assert_int_equal(adjust, 0);
	assert_true(fault); /* weight 0 (the default) down: FAULT */
	assert_string_equal(why, "tracked interface eth3 down");
}

static void
test_track_link_events_by_name_index_and_deletion(void **state)
{
	struct track t = {0};
	int adjust;
	bool fault;

	(void)state;
	configure(&t, "[{\"interface\": \"eth1\", \"weight\": -50}]");
	track_resolve(&t, NULL, true);
	assert_int_equal(t.list[0].ifindex, 3);
	assert_true(track_link_event(&t, "eth1", 3, false, false));
	track_eval(&t, &adjust, &fault, NULL, 0);
	assert_int_equal(adjust, -50);
	assert_false(track_link_event(&t, "eth1", 3, false, false)); /* no change */
	assert_false(track_link_event(&t, "eth2", 4, false, false)); /* not tracked */
	assert_true(track_link_event(&t, "", 3, true, false));	     /* by index */
	track_eval(&t, &adjust, &fault, NULL, 0);
	assert_int_equal(adjust, 0);
	assert_true(track_link_event(&t, "eth1", 3, false, true)); /* deleted */
	assert_int_equal(t.list[0].link, TRACK_MISSING);
	assert_true(track_link_event(&t, "eth1", 12, true, false)); /* created again */
	assert_int_equal(t.list[0].ifindex, 12);
	assert_true(track_link_event(&t, "wan0", 12, true, false)); /* renamed away */
	assert_int_equal(t.list[0].link, TRACK_MISSING);
}

static void
test_track_reconfigure_keeps_known_states_and_report(void **state)
{
	struct track t = {0};
	json_t *r;

	(void)state;
	configure(&t, "[{\"interface\": \"eth1\", \"weight\": -50}]");
	track_resolve(&t, NULL, true);
	track_link_event(&t, "eth1", 3, false, false);
	configure(&t, "[{\"interface\": \"eth1\", \"weight\": -10}, {\"interface\": \"eth2\"}]");
	assert_int_equal(t.list[0].link, TRACK_DOWN); /* kept, not re-read */
	assert_int_equal(t.list[0].weight, -10);
	assert_int_equal(t.list[1].link, TRACK_MISSING); /* until resolved */
	track_resolve(&t, NULL, false);
	assert_int_equal(t.list[0].link, TRACK_DOWN);
	assert_int_equal(t.list[1].link, TRACK_UP);
	r = track_report(&t);
	char *s = json_dumps(r, JSON_COMPACT);
	assert_string_equal(s, "[{\"interface\":\"eth1\",\"weight\":-10,\"state\":\"down\"},"
			       "{\"interface\":\"eth2\",\"weight\":0,\"state\":\"up\"}]");
	free(s);
	json_decref(r);
	configure(&t, "null");
	assert_int_equal(t.n, 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_queue_keeps_transition_order),
	    cmocka_unit_test(test_queue_drops_a_repeated_state_and_keeps_the_newest_priority),
	    cmocka_unit_test(test_queue_overflow_drops_oldest_never_reorders_and_keeps_newest),
	    cmocka_unit_test(test_queue_keep_last_leaves_only_the_stop),
	    cmocka_unit_test(test_state_of_vrrp_states),
	    cmocka_unit_test(test_argv_appends_keepalived_generic_arguments),
	    cmocka_unit_test(test_group_events_interleave_and_repeat_on_their_own),
	    cmocka_unit_test(test_keep_last_keeps_the_newest_of_each_kind),
	    cmocka_unit_test(test_argv_refuses_empty_or_oversized_base),
	    cmocka_unit_test(test_track_weights_add_while_down_and_zero_faults),
	    cmocka_unit_test(test_track_link_events_by_name_index_and_deletion),
	    cmocka_unit_test(test_track_reconfigure_keeps_known_states_and_report),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
