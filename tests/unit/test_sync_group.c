// links: agent/sync_group.c agent/vrrp.c agent/vrrp_packet.c
/* Unit tests for sync group decisions (agent/sync_group.c): fault spreads and clears only when no
 * member is faulty, Backup and Master follow, forced changes never spread (no ping-pong), the
 * Master gate; and, with the real state machine, a group that hears a Master on one member only
 * stays Backup instead of thrashing. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <arpa/inet.h>
#include <sys/socket.h>
#include <cmocka.h>

#include "sync_group.h"

#define B VRRP_STATE_BACKUP
#define M VRRP_STATE_MASTER
#define F VRRP_STATE_FAULT
#define I VRRP_STATE_INIT

static void
test_fault_spreads_until_none_is_faulty(void **state)
{
	struct sync_member m[3] = {{M, false, false}, {M, true, false}, {M, false, false}};

	(void)state;
	assert_true(sync_group_fault(m, 3, 0));
	assert_false(sync_group_fault(m, 3, 1)); /* its own fault is its own input */
	assert_true(sync_group_fault(m, 3, 2));
	m[2].own_fault = true;
	m[1].own_fault = false; /* one clears: the others stay faulted by member 2 */
	assert_true(sync_group_fault(m, 3, 0));
	assert_true(sync_group_fault(m, 3, 1));
	m[2].own_fault = false;
	for (unsigned i = 0; i < 3; i++)
		assert_false(sync_group_fault(m, 3, i));
}

static void
test_master_and_backup_follow(void **state)
{
	struct sync_member m[3] = {{M, false, false}, {B, false, false}, {F, false, false}};
	enum vrrp_state force[3];

	(void)state;
	/* Member 0 became Master: the Backup follows, the FAULT one is left alone. */
	assert_int_equal(sync_group_follow(m, 3, 0, B, VRRP_REASON_MASTER_DOWN, force), 1);
	assert_int_equal(force[0], I);
	assert_int_equal(force[1], M);
	assert_int_equal(force[2], I);
	/* Member 1 heard a higher Master: the other Master steps down too. */
	m[1].state = B;
	m[0].state = M;
	m[2].state = M;
	assert_int_equal(sync_group_follow(m, 3, 1, M, VRRP_REASON_HIGHER_PRIORITY, force), 2);
	assert_int_equal(force[0], B);
	assert_int_equal(force[1], I);
	assert_int_equal(force[2], B);
	/* A manual move made member 1 Master. */
	m[0].state = m[2].state = B;
	m[1].state = M;
	assert_int_equal(sync_group_follow(m, 3, 1, B, VRRP_REASON_MOVE, force), 2);
	assert_int_equal(force[0], M);
	assert_int_equal(force[2], M);
}

static void
test_forced_changes_do_not_spread(void **state)
{
	struct sync_member m[2] = {{B, false, false}, {M, false, false}};
	enum vrrp_state force[2];

	(void)state;
	assert_int_equal(sync_group_follow(m, 2, 0, M, VRRP_REASON_SYNC, force), 0);
	assert_int_equal(sync_group_follow(m, 2, 1, B, VRRP_REASON_SYNC, force), 0);
	assert_int_equal(force[0], I);
	assert_int_equal(force[1], I);
	/* A FAULT or INIT change is no order to the others (faults go by sync_group_fault). */
	m[0].state = F;
	assert_int_equal(sync_group_follow(m, 2, 0, B, VRRP_REASON_FAULT, force), 0);
	m[0].state = I;
	assert_int_equal(sync_group_follow(m, 2, 0, M, VRRP_REASON_SHUTDOWN, force), 0);
}

static void
test_new_member_joins_a_master_group(void **state)
{
	struct sync_member m[2] = {{M, false, false}, {B, false, false}};
	enum vrrp_state force[2];

	(void)state;
	assert_int_equal(sync_group_follow(m, 2, 1, I, VRRP_REASON_STARTUP, force), 1);
	assert_int_equal(force[1], M);
	assert_int_equal(force[0], I);
	/* The whole group leaving FAULT together: nobody is Master, nobody moves. */
	m[0].state = B;
	assert_int_equal(sync_group_follow(m, 2, 1, F, VRRP_REASON_FAULT_CLEARED, force), 0);
}

static void
test_master_gate(void **state)
{
	struct sync_member m[3] = {{B, false, true}, {B, false, false}, {M, false, false}};

	(void)state;
	assert_false(sync_group_can_master(m, 3, 0)); /* member 1 still hears a Master */
	m[1].want_master = true;
	assert_true(sync_group_can_master(m, 3, 0));
	assert_true(sync_group_can_master(m, 3, 1));
	m[2].state = F;
	assert_false(sync_group_can_master(m, 3, 0));
	m[2].state = M;
	m[0].state = M; /* not a Backup any more: nothing to decide */
	assert_false(sync_group_can_master(m, 3, 0));
	struct sync_member one = {B, false, true};
	assert_true(sync_group_can_master(&one, 1, 0));
}

static void
test_group_state(void **state)
{
	struct sync_member m[3] = {{M, false, false}, {M, false, false}, {I, false, false}};

	(void)state;
	assert_int_equal(sync_group_state(m, 3), M); /* an INIT member (leaving) does not count */
	m[1].state = B;
	assert_int_equal(sync_group_state(m, 3), B);
	m[2].state = F;
	assert_int_equal(sync_group_state(m, 3), F);
	m[0].state = m[1].state = m[2].state = I;
	assert_int_equal(sync_group_state(m, 3), I);
	assert_int_equal(sync_group_state(m, 0), I);
}

static struct addr
ip(const char *s)
{
	struct addr a;

	memset(&a, 0, sizeof(a));
	a.family = AF_INET;
	assert_int_equal(inet_pton(AF_INET, s, &a.u.v4), 1);
	return a;
}

static void
mk(struct vrrp_instance *v, uint8_t vrid, uint8_t priority, const char *primary)
{
	struct vrrp_config c;
	char err[128];

	vrrp_config_defaults(&c);
	c.vrid = vrid;
	c.priority = priority;
	c.preempt = true;
	c.primary = ip(primary);
	c.naddr = 1;
	c.addrs[0] = ip(vrid == 1 ? "198.18.1.100" : "198.18.2.100");
	assert_int_equal(vrrp_init(v, &c, err, sizeof(err)), 0);
	vrrp_set_sync_gate(v, true);
}

/* A Backup group whose member 0 hears a better Master while member 1 would preempt a worse one
 * (priorities crossed between the nodes): member 1 keeps wanting Master, the gate keeps saying no,
 * and nothing changes state, advert after advert: no thrashing. */
static void
test_crossed_priorities_do_not_thrash(void **state)
{
	struct vrrp_instance g[2];
	struct vrrp_advert adv;
	struct vrrp_actions a;
	struct addr peer = ip("198.18.1.3");
	int64_t t = 0;

	(void)state;
	mk(&g[0], 1, 100, "198.18.1.2"); /* the peer advertises 200 here */
	mk(&g[1], 2, 200, "198.18.2.2"); /* and 100 here: member 1 would preempt */
	vrrp_start(&g[0], t, &a);
	vrrp_start(&g[1], t, &a);
	for (t = 0; t < 60000; t += 1000) {
		for (int i = 0; i < 2; i++) {
			vrrp_advert_fill(&g[i], i == 0 ? 200 : 100, &adv);
			assert_int_equal(vrrp_recv(&g[i], &adv, &peer, t, &a), VRRP_PKT_OK);
			vrrp_timer(&g[i], t, &a);
			if (a.n == 1 && a.list[0].type == VRRP_ACT_WANT_MASTER) {
				struct sync_member m[2] = {{g[0].state, false, g[0].want_master},
							   {g[1].state, false, g[1].want_master}};
				assert_false(sync_group_can_master(m, 2, (unsigned)i));
			}
			assert_int_equal(g[i].state, VRRP_STATE_BACKUP);
		}
	}
	assert_true(g[1].want_master);
	assert_false(g[0].want_master);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_fault_spreads_until_none_is_faulty),
	    cmocka_unit_test(test_master_and_backup_follow),
	    cmocka_unit_test(test_forced_changes_do_not_spread),
	    cmocka_unit_test(test_new_member_joins_a_master_group),
	    cmocka_unit_test(test_master_gate),
	    cmocka_unit_test(test_group_state),
	    cmocka_unit_test(test_crossed_priorities_do_not_thrash),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
