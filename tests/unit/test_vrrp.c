// links: agent/vrrp.c agent/vrrp_packet.c
/* Unit tests for the VRRP state machine with a fake clock: startup, Master_Down_Interval and
 * Skew_Time per version, preempt and preempt_delay, priority-0 release, the owner, the tie-break,
 * fault, shutdown, check weights and the manual move's make-before-break ordering. Adverts between
 * instances go through the real codec (encode, then decode with the receiver's expectations). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <arpa/inet.h>
#include <sys/socket.h>
#include <cmocka.h>

#include "vrrp.h"

static struct addr
ip(const char *s)
{
	struct addr a;

	memset(&a, 0, sizeof(a));
	a.family = AF_INET;
	assert_int_equal(inet_pton(AF_INET, s, &a.u.v4), 1);
	return a;
}

/* An instance for VIP 198.18.0.100, vrid 51, on a node whose address is primary. */
static void
mk(struct vrrp_instance *inst, int version, int priority, const char *primary, bool preempt)
{
	struct vrrp_config c;
	char err[128];

	vrrp_config_defaults(&c);
	c.vrid = 51;
	c.version = (uint8_t)version;
	c.priority = (uint8_t)priority;
	c.preempt = preempt;
	c.primary = ip(primary);
	c.naddr = 1;
	c.addrs[0] = ip("198.18.0.100");
	if (version == 2) {
		c.auth_type = VRRP_AUTH_PASS;
		memcpy(c.auth_data, "7388", 4);
	}
	assert_int_equal(vrrp_init(inst, &c, err, sizeof(err)), 0);
}

/* Asserts the action types, in order. */
static void
expect_types(const struct vrrp_actions *a, unsigned n, ...)
{
	va_list ap;

	assert_false(a->overflow);
	assert_int_equal(a->n, n);
	va_start(ap, n);
	for (unsigned i = 0; i < n; i++)
		assert_int_equal(a->list[i].type, va_arg(ap, int));
	va_end(ap);
}

static const struct vrrp_action *
last(const struct vrrp_actions *a)
{
	assert_true(a->n > 0);
	return &a->list[a->n - 1];
}

static void
expect_change(const struct vrrp_action *a, enum vrrp_state from, enum vrrp_state to,
	      enum vrrp_reason why)
{
	assert_int_equal(a->type, VRRP_ACT_STATE_CHANGED);
	assert_int_equal(a->from, from);
	assert_int_equal(a->to, to);
	assert_int_equal(a->reason, why);
}

/* Sends an advert with priority from `from` to `to` through the codec; returns vrrp_recv's
 * verdict (or the decoder's). */
static enum vrrp_pkt_error
deliver(struct vrrp_instance *from, uint8_t priority, struct vrrp_instance *to, int64_t now,
	struct vrrp_actions *out)
{
	struct vrrp_advert adv, got;
	struct vrrp_rx_expect ex;
	struct vrrp_rx_meta m = {
	    .family = AF_INET, .src = from->cfg.primary, .dst = ip("224.0.0.18"), .ttl = 255};
	uint8_t buf[VRRP_PKT_MAX];
	ssize_t n;
	enum vrrp_pkt_error e;

	vrrp_advert_fill(from, priority, &adv);
	n = vrrp_packet_encode(&adv, &m.src, &m.dst, buf, sizeof(buf));
	assert_true(n > 0);
	vrrp_rx_expect_fill(to, &ex);
	e = vrrp_packet_decode(buf, (size_t)n, &m, &ex, &got);
	if (e != VRRP_PKT_OK)
		return e;
	return vrrp_recv(to, &got, &m.src, now, out);
}

static void
test_timer_numbers(void **state)
{
	struct vrrp_instance v2, v3;

	(void)state;
	/* Priority 100 at 1 s: Skew_Time 156/256 s, Master_Down_Interval 3.609375 s, both. */
	mk(&v2, 2, 100, "198.18.0.2", false);
	mk(&v3, 3, 100, "198.18.0.2", false);
	assert_int_equal(vrrp_skew_time_us(&v2), 609375);
	assert_int_equal(vrrp_master_down_interval_us(&v2), 3609375);
	assert_int_equal(vrrp_skew_time_us(&v3), 609375);
	assert_int_equal(vrrp_master_down_interval_us(&v3), 3609375);
	/* At 3 s they part: v2's skew ignores the interval, v3's scales with it. */
	v2.cfg.advert_int_ms = v2.master_adver_int_ms = 3000;
	v3.cfg.advert_int_ms = v3.master_adver_int_ms = 3000;
	assert_int_equal(vrrp_skew_time_us(&v2), 609375);
	assert_int_equal(vrrp_master_down_interval_us(&v2), 9609375);
	assert_int_equal(vrrp_skew_time_us(&v3), 1828125);
	assert_int_equal(vrrp_master_down_interval_us(&v3), 10828125);
	/* v3 at 100 ms, priority 200: 56 * 100 ms / 256 = 21.875 ms. */
	mk(&v3, 3, 200, "198.18.0.2", false);
	v3.cfg.advert_int_ms = v3.master_adver_int_ms = 100;
	assert_int_equal(vrrp_skew_time_us(&v3), 21875);
	assert_int_equal(vrrp_master_down_interval_us(&v3), 321875);
}

static void
test_startup_backup_then_master(void **state)
{
	struct vrrp_instance b;
	struct vrrp_actions out;

	(void)state;
	mk(&b, 3, 100, "198.18.0.2", false);
	assert_int_equal(vrrp_next_deadline(&b), VRRP_NEVER);
	vrrp_start(&b, 1000, &out);
	expect_types(&out, 1, VRRP_ACT_STATE_CHANGED);
	expect_change(&out.list[0], VRRP_STATE_INIT, VRRP_STATE_BACKUP, VRRP_REASON_STARTUP);
	/* 3.609375 s, rounded up to the millisecond. */
	assert_int_equal(vrrp_next_deadline(&b), 1000 + 3610);
	vrrp_timer(&b, 4609, &out);
	expect_types(&out, 0);
	vrrp_timer(&b, 4610, &out);
	expect_types(&out, 4, VRRP_ACT_ADD_VIP, VRRP_ACT_SEND_GARP, VRRP_ACT_SEND_ADVERT,
		     VRRP_ACT_STATE_CHANGED);
	assert_int_equal(out.list[2].priority, 100);
	expect_change(&out.list[3], VRRP_STATE_BACKUP, VRRP_STATE_MASTER, VRRP_REASON_MASTER_DOWN);
	assert_string_equal(vrrp_state_str(b.state), "MASTER");
	assert_string_equal(vrrp_reason_str(b.last_reason), "master_down");
	/* Adver_Timer and the two repeated announcements, a second apart. */
	assert_int_equal(vrrp_next_deadline(&b), 5610);
	vrrp_timer(&b, 5610, &out);
	expect_types(&out, 2, VRRP_ACT_SEND_GARP, VRRP_ACT_SEND_ADVERT);
	vrrp_timer(&b, 6610, &out);
	expect_types(&out, 2, VRRP_ACT_SEND_GARP, VRRP_ACT_SEND_ADVERT);
	vrrp_timer(&b, 7610, &out);
	expect_types(&out, 1, VRRP_ACT_SEND_ADVERT);
	vrrp_start(&b, 8000, &out); /* not INIT: ignored */
	expect_types(&out, 0);
}

static void
test_higher_priority_keeps_backup_and_v3_learns_interval(void **state)
{
	struct vrrp_instance m, b;
	struct vrrp_actions out;

	(void)state;
	mk(&m, 3, 200, "198.18.0.1", false);
	mk(&b, 3, 100, "198.18.0.2", true);
	m.cfg.advert_int_ms = 2000; /* the Master's interval differs: v3 Backup learns it */
	vrrp_start(&b, 0, &out);
	for (int64_t t = 1000; t <= 30000; t += 2000) {
		assert_int_equal(deliver(&m, 200, &b, t, &out), VRRP_PKT_OK);
		expect_types(&out, 0);
		/* Logged once, when the new interval is first heard. */
		assert_int_equal(b.rx_warn, t == 1000 ? VRRP_WARN_INTERVAL : 0);
		vrrp_timer(&b, t + 1999, &out);
		expect_types(&out, 0);
	}
	assert_int_equal(b.state, VRRP_STATE_BACKUP);
	assert_int_equal(b.master_adver_int_ms, 2000);
	assert_int_equal(b.master_priority, 200);
	/* 3 * 2 s + 156 * 2 s / 256 = 7.21875 s after the last advert. */
	assert_int_equal(vrrp_next_deadline(&b), 29000 + 7219);
}

static void
test_preempt_off_vs_on(void **state)
{
	struct vrrp_instance low, hi_off, hi_on;
	struct vrrp_actions out;

	(void)state;
	mk(&low, 3, 100, "198.18.0.1", false);
	mk(&hi_off, 3, 150, "198.18.0.2", false);
	mk(&hi_on, 3, 150, "198.18.0.3", true);
	vrrp_start(&hi_off, 0, &out);
	vrrp_start(&hi_on, 0, &out);
	for (int64_t t = 0; t < 20000; t += 1000) {
		assert_int_equal(deliver(&low, 100, &hi_off, t, &out), VRRP_PKT_OK);
		assert_int_equal(deliver(&low, 100, &hi_on, t, &out), VRRP_PKT_OK);
		vrrp_timer(&hi_off, t + 999, &out);
		expect_types(&out, 0);
		vrrp_timer(&hi_on, t + 999, &out);
		if (hi_on.state == VRRP_STATE_MASTER)
			break;
	}
	assert_int_equal(hi_off.state, VRRP_STATE_BACKUP);
	/* Preempt: the lower adverts were discarded, so the timer started at 0 ran out:
	 * 3 s + 106/256 s = 3.4140625 s -> 3415 ms; seen at the 3999 ms tick. */
	assert_int_equal(hi_on.state, VRRP_STATE_MASTER);
	assert_int_equal(hi_on.last_reason, VRRP_REASON_PREEMPT);
	assert_int_equal(hi_on.last_change_ms, 3999);
}

static void
test_preempt_delay(void **state)
{
	struct vrrp_instance low, hi;
	struct vrrp_actions out;
	int64_t t;

	(void)state;
	mk(&low, 3, 100, "198.18.0.1", false);
	mk(&hi, 3, 150, "198.18.0.2", true);
	hi.cfg.preempt_delay_ms = 10000;
	vrrp_start(&hi, 0, &out);
	for (t = 0; t < 30000 && hi.state != VRRP_STATE_MASTER; t += 100) {
		if (t % 1000 == 0)
			assert_int_equal(deliver(&low, 100, &hi, t, &out), VRRP_PKT_OK);
		vrrp_timer(&hi, t, &out);
	}
	/* Within the delay the lower adverts count as a live Master (last one at 10 s - 1 s =
	 * 9 s); after it they are discarded and Master_Down_Interval runs out: 9 s + 3.415 s. */
	assert_int_equal(hi.state, VRRP_STATE_MASTER);
	assert_int_equal(hi.last_reason, VRRP_REASON_PREEMPT);
	assert_int_equal(hi.last_change_ms, 9000 + 3415 + 85); /* first 100 ms tick after */
}

static void
test_priority_zero_release(void **state)
{
	struct vrrp_instance m, b;
	struct vrrp_actions out;

	(void)state;
	mk(&m, 2, 200, "198.18.0.1", false);
	mk(&b, 2, 100, "198.18.0.2", false);
	vrrp_start(&m, 0, &out);
	vrrp_start(&b, 0, &out);
	vrrp_timer(&m, 3300, &out); /* 3 s + 56/256 s */
	assert_int_equal(m.state, VRRP_STATE_MASTER);
	assert_int_equal(deliver(&m, 200, &b, 3300, &out), VRRP_PKT_OK);
	vrrp_shutdown(&m, 3500, &out);
	expect_types(&out, 3, VRRP_ACT_SEND_ADVERT, VRRP_ACT_DEL_VIP, VRRP_ACT_STATE_CHANGED);
	assert_int_equal(out.list[0].priority, 0);
	expect_change(last(&out), VRRP_STATE_MASTER, VRRP_STATE_INIT, VRRP_REASON_SHUTDOWN);
	assert_int_equal(deliver(&m, 0, &b, 3500, &out), VRRP_PKT_OK);
	/* Skew_Time = 0.609375 s -> 610 ms */
	assert_int_equal(vrrp_next_deadline(&b), 4110);
	vrrp_timer(&b, 4109, &out);
	expect_types(&out, 0);
	vrrp_timer(&b, 4110, &out);
	expect_types(&out, 4, VRRP_ACT_ADD_VIP, VRRP_ACT_SEND_GARP, VRRP_ACT_SEND_ADVERT,
		     VRRP_ACT_STATE_CHANGED);
	expect_change(last(&out), VRRP_STATE_BACKUP, VRRP_STATE_MASTER,
		      VRRP_REASON_MASTER_RELEASED);
}

static void
test_owner(void **state)
{
	struct vrrp_instance o, b;
	struct vrrp_actions out;

	(void)state;
	mk(&o, 3, 255, "198.18.0.1", false);
	mk(&b, 3, 100, "198.18.0.2", false);
	vrrp_start(&o, 0, &out);
	expect_types(&out, 4, VRRP_ACT_ADD_VIP, VRRP_ACT_SEND_GARP, VRRP_ACT_SEND_ADVERT,
		     VRRP_ACT_STATE_CHANGED);
	assert_int_equal(out.list[2].priority, 255);
	expect_change(last(&out), VRRP_STATE_INIT, VRRP_STATE_MASTER, VRRP_REASON_OWNER);
	vrrp_start(&b, 0, &out);
	assert_int_equal(deliver(&b, 100, &o, 10, &out), VRRP_PKT_LOCAL_OWNER);
	vrrp_set_priority_adjust(&o, -100, 20, &out);
	assert_int_equal(vrrp_effective_priority(&o), 255);
	expect_types(&out, 0);
}

static void
test_master_steps_down_and_tie_break(void **state)
{
	struct vrrp_instance m, hi, eq_big, eq_small;
	struct vrrp_actions out;

	(void)state;
	mk(&m, 3, 100, "198.18.0.5", false);
	mk(&hi, 3, 150, "198.18.0.1", false);
	mk(&eq_big, 3, 100, "198.18.0.9", false);
	mk(&eq_small, 3, 100, "198.18.0.4", false);
	vrrp_start(&m, 0, &out);
	vrrp_timer(&m, 4000, &out);
	assert_int_equal(m.state, VRRP_STATE_MASTER);
	/* Lower priority, and equal from a smaller address: discarded. */
	assert_int_equal(deliver(&eq_small, 50, &m, 4100, &out), VRRP_PKT_OK);
	expect_types(&out, 0);
	assert_int_equal(deliver(&eq_small, 100, &m, 4200, &out), VRRP_PKT_OK);
	expect_types(&out, 0);
	/* Priority 0 from another: answer with an advert at once (RFC 5798 6.4.3). */
	assert_int_equal(deliver(&hi, 0, &m, 4300, &out), VRRP_PKT_OK);
	expect_types(&out, 1, VRRP_ACT_SEND_ADVERT);
	assert_int_equal(out.list[0].priority, 100);
	assert_int_equal(m.adver_at, 5300); /* Adver_Timer reset */
	/* Equal from a larger address: step down. */
	assert_int_equal(deliver(&eq_big, 100, &m, 4400, &out), VRRP_PKT_OK);
	expect_types(&out, 2, VRRP_ACT_DEL_VIP, VRRP_ACT_STATE_CHANGED);
	expect_change(last(&out), VRRP_STATE_MASTER, VRRP_STATE_BACKUP,
		      VRRP_REASON_HIGHER_PRIORITY);
	/* Higher priority: step down too. */
	vrrp_timer(&m, 9000, &out);
	assert_int_equal(m.state, VRRP_STATE_MASTER);
	assert_int_equal(deliver(&hi, 150, &m, 9100, &out), VRRP_PKT_OK);
	expect_types(&out, 2, VRRP_ACT_DEL_VIP, VRRP_ACT_STATE_CHANGED);
	assert_int_equal(vrrp_next_deadline(&m), 9100 + 3610);
}

static void
test_fault_and_shutdown(void **state)
{
	struct vrrp_instance a, other;
	struct vrrp_actions out;

	(void)state;
	mk(&a, 3, 100, "198.18.0.2", false);
	mk(&other, 3, 200, "198.18.0.1", false);
	vrrp_start(&a, 0, &out);
	vrrp_timer(&a, 4000, &out);
	assert_int_equal(a.state, VRRP_STATE_MASTER);
	vrrp_set_fault(&a, true, 5000, &out);
	expect_types(&out, 3, VRRP_ACT_SEND_ADVERT, VRRP_ACT_DEL_VIP, VRRP_ACT_STATE_CHANGED);
	assert_int_equal(out.list[0].priority, 0);
	expect_change(last(&out), VRRP_STATE_MASTER, VRRP_STATE_FAULT, VRRP_REASON_FAULT);
	assert_int_equal(vrrp_next_deadline(&a), VRRP_NEVER);
	assert_int_equal(deliver(&other, 0, &a, 5100, &out), VRRP_PKT_OK);
	expect_types(&out, 0);
	vrrp_timer(&a, 60000, &out);
	expect_types(&out, 0);
	vrrp_set_fault(&a, true, 6000, &out); /* no change */
	expect_types(&out, 0);
	vrrp_set_fault(&a, false, 7000, &out);
	expect_types(&out, 1, VRRP_ACT_STATE_CHANGED);
	expect_change(last(&out), VRRP_STATE_FAULT, VRRP_STATE_BACKUP, VRRP_REASON_FAULT_CLEARED);
	assert_int_equal(vrrp_next_deadline(&a), 7000 + 3610);
	/* Backup shutdown: no advert, no VIP to drop. */
	vrrp_shutdown(&a, 8000, &out);
	expect_types(&out, 1, VRRP_ACT_STATE_CHANGED);
	expect_change(last(&out), VRRP_STATE_BACKUP, VRRP_STATE_INIT, VRRP_REASON_SHUTDOWN);
	/* Fault before start: start lands in FAULT. */
	vrrp_set_fault(&a, true, 9000, &out);
	expect_types(&out, 0);
	vrrp_start(&a, 9000, &out);
	expect_change(last(&out), VRRP_STATE_INIT, VRRP_STATE_FAULT, VRRP_REASON_FAULT);
}

static void
test_priority_adjust(void **state)
{
	struct vrrp_instance a;
	struct vrrp_actions out;

	(void)state;
	mk(&a, 3, 100, "198.18.0.2", false);
	vrrp_start(&a, 0, &out);
	vrrp_set_priority_adjust(&a, -30, 100, &out); /* Backup: nothing to send */
	expect_types(&out, 0);
	assert_int_equal(vrrp_effective_priority(&a), 70);
	assert_int_equal(vrrp_skew_time_us(&a), 186 * 1000000 / 256);
	vrrp_timer(&a, 10000, &out);
	vrrp_set_priority_adjust(&a, -50, 10100, &out);
	expect_types(&out, 1, VRRP_ACT_SEND_ADVERT);
	assert_int_equal(out.list[0].priority, 50);
	vrrp_set_priority_adjust(&a, -500, 10200, &out);
	assert_int_equal(out.list[0].priority, 1);
	vrrp_set_priority_adjust(&a, 500, 10300, &out);
	assert_int_equal(out.list[0].priority, 254);
	vrrp_set_priority_adjust(&a, 500, 10400, &out); /* unchanged: nothing */
	expect_types(&out, 0);
}

static void
test_instance_checks(void **state)
{
	struct vrrp_instance a, b, v3a, v3b;
	struct vrrp_actions out;

	(void)state;
	mk(&a, 2, 100, "198.18.0.2", false);
	mk(&b, 2, 200, "198.18.0.1", false);
	vrrp_start(&a, 0, &out);
	b.cfg.vrid = 52;
	assert_int_equal(deliver(&b, 200, &a, 10, &out), VRRP_PKT_VRID_MISMATCH);
	b.cfg.vrid = 51;
	b.cfg.advert_int_ms = 2000;
	assert_int_equal(deliver(&b, 200, &a, 10, &out), VRRP_PKT_INTERVAL_MISMATCH);
	b.cfg.advert_int_ms = 1000;
	b.cfg.addrs[0] = ip("198.18.0.101");
	assert_int_equal(deliver(&b, 200, &a, 10, &out), VRRP_PKT_ADDR_MISMATCH);
	assert_int_equal(deliver(&b, 255, &a, 10, &out), VRRP_PKT_OK); /* the owner's: kept */
	assert_true(a.rx_warn & VRRP_WARN_ADDRS);
	b.cfg.primary = a.cfg.primary;
	assert_int_equal(deliver(&b, 200, &a, 10, &out), VRRP_PKT_OWN_ADVERT);
	memcpy(b.cfg.auth_data, "nope", 4);
	assert_int_equal(deliver(&b, 200, &a, 10, &out), VRRP_PKT_AUTH_FAILURE);
	/* v3: a different address list is only a warning (RFC 5798 7.1 MAY). */
	mk(&v3a, 3, 100, "198.18.0.2", false);
	mk(&v3b, 3, 200, "198.18.0.1", false);
	v3b.cfg.addrs[0] = ip("198.18.0.101");
	vrrp_start(&v3a, 0, &out);
	assert_int_equal(deliver(&v3b, 200, &v3a, 10, &out), VRRP_PKT_OK);
	assert_int_equal(v3a.rx_warn, VRRP_WARN_ADDRS);
	assert_int_equal(deliver(&a, 200, &v3a, 10, &out), VRRP_PKT_BAD_VERSION);
}

/* Manual move: the target takes over at once, with everything that makes it answer for the VIP
 * before its advert; the old Master drops the VIP only on that advert. Then ordinary rules. */
static void
test_manual_move_make_before_break(void **state)
{
	struct vrrp_instance t, old;
	struct vrrp_actions out;
	int held = 0;

	(void)state;
	mk(&t, 2, 100, "198.18.0.2", false);
	mk(&old, 2, 200, "198.18.0.3", true); /* a keepalived-like peer: preempt on */
	vrrp_start(&old, 0, &out);
	vrrp_start(&t, 0, &out);
	vrrp_timer(&old, 3400, &out);
	assert_int_equal(old.state, VRRP_STATE_MASTER);
	held++;
	assert_int_equal(deliver(&old, 200, &t, 3400, &out), VRRP_PKT_OK);

	assert_int_equal(vrrp_move(&t, 7, true, 201, 3500, &out), VRRP_MOVE_DONE);
	expect_types(&out, 5, VRRP_ACT_ADD_VIP, VRRP_ACT_SEND_GARP, VRRP_ACT_SEND_ADVERT,
		     VRRP_ACT_STATE_CHANGED, VRRP_ACT_MOVE_DONE);
	assert_int_equal(out.list[2].priority, 201);
	expect_change(&out.list[3], VRRP_STATE_BACKUP, VRRP_STATE_MASTER, VRRP_REASON_MOVE);
	assert_int_equal(out.list[4].move_id, 7);
	held++;
	assert_int_equal(held, 2); /* both answer for a moment: no gap */
	assert_int_equal(deliver(&t, 201, &old, 3501, &out), VRRP_PKT_OK);
	expect_types(&out, 2, VRRP_ACT_DEL_VIP, VRRP_ACT_STATE_CHANGED);
	expect_change(last(&out), VRRP_STATE_MASTER, VRRP_STATE_BACKUP,
		      VRRP_REASON_HIGHER_PRIORITY);
	held--;
	/* The same request again (config re-delivered): carried out once only. */
	assert_int_equal(vrrp_move(&t, 7, true, 201, 3600, &out), VRRP_MOVE_ALREADY);
	expect_types(&out, 0);
	assert_int_equal(vrrp_move(&old, 7, false, 0, 3600, &out), VRRP_MOVE_NOT_TARGET);
	expect_types(&out, 0);
	/* The old Master, preempt on, never takes it back while the request stands. */
	for (int64_t now = 3600; now < 30000; now += 100) {
		vrrp_timer(&t, now, &out);
		if (out.n > 0 && out.list[out.n - 1].type == VRRP_ACT_SEND_ADVERT)
			assert_int_equal(deliver(&t, out.list[out.n - 1].priority, &old, now, &out),
					 VRRP_PKT_OK);
		vrrp_timer(&old, now, &out);
		assert_int_equal(old.state, VRRP_STATE_BACKUP);
	}
	assert_int_equal(t.state, VRRP_STATE_MASTER);
	assert_int_equal(held, 1);
	/* The target fails and recovers: with preempt off it stays Backup, even as the requested
	 * holder (issue 3). */
	vrrp_set_fault(&t, true, 30000, &out);
	assert_int_equal(deliver(&t, 0, &old, 30000, &out), VRRP_PKT_OK);
	vrrp_timer(&old, 30610, &out);
	assert_int_equal(old.state, VRRP_STATE_MASTER);
	vrrp_set_fault(&t, false, 31000, &out);
	for (int64_t now = 31000; now < 40000; now += 1000) {
		assert_int_equal(deliver(&old, 200, &t, now, &out), VRRP_PKT_OK);
		vrrp_timer(&t, now + 999, &out);
		assert_int_equal(t.state, VRRP_STATE_BACKUP);
	}
	/* A new request moves it again. */
	assert_int_equal(vrrp_move(&t, 8, true, 201, 40000, &out), VRRP_MOVE_DONE);
	assert_int_equal(t.state, VRRP_STATE_MASTER);
	/* Request deleted: back to configured priorities; the Master advertises 100 at once. */
	vrrp_move_clear(&t, 41000, &out);
	expect_types(&out, 1, VRRP_ACT_SEND_ADVERT);
	assert_int_equal(out.list[0].priority, 100);
}

static void
test_move_pending_and_stale_boost(void **state)
{
	struct vrrp_instance t, m;
	struct vrrp_actions out;

	(void)state;
	mk(&t, 3, 100, "198.18.0.2", false);
	mk(&m, 3, 150, "198.18.0.1", false);
	vrrp_start(&t, 0, &out);
	vrrp_set_fault(&t, true, 100, &out);
	assert_int_equal(vrrp_move(&t, 3, true, 151, 200, &out), VRRP_MOVE_PENDING);
	expect_types(&out, 0);
	vrrp_set_fault(&t, false, 300, &out);
	expect_types(&out, 5, VRRP_ACT_ADD_VIP, VRRP_ACT_SEND_GARP, VRRP_ACT_SEND_ADVERT,
		     VRRP_ACT_STATE_CHANGED, VRRP_ACT_MOVE_DONE);
	assert_int_equal(out.list[2].priority, 151);
	assert_int_equal(out.list[4].move_id, 3);
	/* Another node now hears a Master that still advertises an old boost (220): the move goes
	 * above it, not just above the configured figure the caller passed. */
	vrrp_init(&t, &t.cfg, NULL, 0);
	vrrp_start(&t, 1000, &out);
	assert_int_equal(deliver(&m, 220, &t, 1100, &out), VRRP_PKT_OK);
	assert_int_equal(vrrp_move(&t, 4, true, 151, 1200, &out), VRRP_MOVE_DONE);
	assert_int_equal(out.list[2].priority, 221);
	assert_int_equal(vrrp_move(&t, 0, true, 151, 1300, &out), VRRP_MOVE_ALREADY);
}

static void
test_config_checks_and_update(void **state)
{
	struct vrrp_instance a;
	struct vrrp_config c;
	struct vrrp_actions out;
	char err[128];

	(void)state;
	mk(&a, 2, 100, "198.18.0.2", false);
	c = a.cfg;
	c.advert_int_ms = 1500;
	assert_int_equal(vrrp_init(&a, &c, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "whole seconds"));
	c = a.cfg;
	c.family = AF_INET6;
	assert_int_equal(vrrp_init(&a, &c, err, sizeof(err)), -EINVAL);
	c = a.cfg;
	c.version = 3; /* auth with v3 */
	assert_int_equal(vrrp_init(&a, &c, err, sizeof(err)), -EINVAL);
	c = a.cfg;
	c.naddr = 0;
	assert_int_equal(vrrp_init(&a, &c, err, sizeof(err)), -EINVAL);

	vrrp_start(&a, 0, &out);
	vrrp_timer(&a, 4000, &out);
	c = a.cfg;
	c.priority = 120;
	assert_int_equal(vrrp_update_config(&a, &c, 4100, &out, err, sizeof(err)), 0);
	expect_types(&out, 1, VRRP_ACT_SEND_ADVERT);
	assert_int_equal(out.list[0].priority, 120);
	c.vrid = 9;
	assert_int_equal(vrrp_update_config(&a, &c, 4200, &out, err, sizeof(err)), -EINVAL);
	assert_int_equal(a.cfg.vrid, 51);
}

/* The adverts captured from keepalived 2.2.7 (see test_vrrp_packet.c for how), through the
 * decoder into a vigil Backup: the Master's adverts hold it, its priority 0 hands over. */
static void
test_keepalived_capture_drives_backup(void **state)
{
	/* 20 bytes each; sizeof - 1 drops the literal's NUL */
	static const char ka[] = "\x21\x33\xc8\x01\x01\x01\xdf\xe7\xc6\x12\x00\x64"
				 "7388\0\0\0\0";
	static const char ka_prio0[] = "\x21\x33\x00\x01\x01\x01\xa7\xe8\xc6\x12\x00\x64"
				       "7388\0\0\0\0";
	struct vrrp_rx_meta m = {
	    .family = AF_INET, .src = ip("198.18.0.1"), .dst = ip("224.0.0.18"), .ttl = 255};
	struct vrrp_instance b;
	struct vrrp_rx_expect ex;
	struct vrrp_advert adv;
	struct vrrp_actions out;

	(void)state;
	mk(&b, 2, 100, "198.18.0.2", true);
	vrrp_rx_expect_fill(&b, &ex);
	vrrp_start(&b, 0, &out);
	for (int64_t t = 1000; t <= 10000; t += 1000) {
		assert_int_equal(
		    vrrp_packet_decode((const uint8_t *)ka, sizeof(ka) - 1, &m, &ex, &adv),
		    VRRP_PKT_OK);
		assert_int_equal(vrrp_recv(&b, &adv, &m.src, t, &out), VRRP_PKT_OK);
		vrrp_timer(&b, t + 999, &out);
		assert_int_equal(b.state, VRRP_STATE_BACKUP);
	}
	assert_int_equal(
	    vrrp_packet_decode((const uint8_t *)ka_prio0, sizeof(ka_prio0) - 1, &m, &ex, &adv),
	    VRRP_PKT_OK);
	assert_int_equal(vrrp_recv(&b, &adv, &m.src, 10500, &out), VRRP_PKT_OK);
	vrrp_timer(&b, 10500 + 610, &out);
	expect_change(last(&out), VRRP_STATE_BACKUP, VRRP_STATE_MASTER,
		      VRRP_REASON_MASTER_RELEASED);
}

/* Issue 10's fast timers, exact to the microsecond: 50 and 20 ms at priority 100 (the backup)
 * and 200, and a v3 Backup that learns 20 ms from a Master's adverts. The Master re-arms its
 * Adver_Timer from the deadline: late wake-ups do not stretch the period, and one a whole period
 * late sends one advert, not a burst. */
static void
test_subsecond_timers(void **state)
{
	struct vrrp_instance m, b;
	struct vrrp_actions out;

	(void)state;
	mk(&b, 3, 100, "198.18.0.2", false);
	b.cfg.advert_int_ms = b.master_adver_int_ms = 50;
	/* 156 * 50 ms / 256 = 30.46875 ms; 3 * 50 ms + that = 180.46875 ms < 200 ms. */
	assert_int_equal(vrrp_skew_time_us(&b), 30468); /* 30468.75, truncated */
	assert_int_equal(vrrp_master_down_interval_us(&b), 180468);
	b.cfg.advert_int_ms = b.master_adver_int_ms = 20;
	/* 156 * 20 ms / 256 = 12.1875 ms; 72.1875 ms < 100 ms. */
	assert_int_equal(vrrp_skew_time_us(&b), 12187);
	assert_int_equal(vrrp_master_down_interval_us(&b), 72187);

	mk(&m, 3, 200, "198.18.0.1", false);
	m.cfg.advert_int_ms = m.master_adver_int_ms = 20;
	mk(&b, 3, 100, "198.18.0.2", false); /* configured 1 s: learns 20 ms from the Master */
	vrrp_start(&b, 0, &out);
	assert_int_equal(deliver(&m, 200, &b, 100, &out), VRRP_PKT_OK);
	assert_int_equal(b.master_adver_int_ms, 20);
	/* Rounded up to the millisecond, never earlier than the RFC's 72.1875 ms. */
	assert_int_equal(vrrp_next_deadline(&b), 100 + 73);
	vrrp_timer(&b, 172, &out);
	expect_types(&out, 0);
	vrrp_timer(&b, 173, &out);
	expect_change(last(&out), VRRP_STATE_BACKUP, VRRP_STATE_MASTER, VRRP_REASON_MASTER_DOWN);

	/* A fresh Master at 20 ms: adverts at 20, 40, 60 ... whatever the wake-up latency. */
	mk(&m, 3, 255, "198.18.0.1", false);
	m.cfg.advert_int_ms = m.master_adver_int_ms = 20;
	m.cfg.garp_repeat = 0;
	vrrp_start(&m, 1000, &out);
	assert_int_equal(m.state, VRRP_STATE_MASTER);
	assert_int_equal(vrrp_next_deadline(&m), 1020);
	vrrp_timer(&m, 1023, &out); /* 3 ms late */
	expect_types(&out, 1, VRRP_ACT_SEND_ADVERT);
	assert_int_equal(vrrp_next_deadline(&m), 1040);
	vrrp_timer(&m, 1040, &out);
	assert_int_equal(vrrp_next_deadline(&m), 1060);
	vrrp_timer(&m, 1105, &out); /* 45 ms late: one advert, then back in phase */
	expect_types(&out, 1, VRRP_ACT_SEND_ADVERT);
	assert_int_equal(vrrp_next_deadline(&m), 1120);
}

/* Sync gate: a gated Backup whose Master_Down_Timer runs out only says it wants Master and waits
 * another interval; hearing a Master clears the wish; vrrp_sync_to() forces Master and Backup. */
static void
test_sync_gate_and_forced_states(void **state)
{
	struct vrrp_instance b, m;
	struct vrrp_actions a;
	int64_t down;

	(void)state;
	mk(&b, 3, 100, "198.18.0.2", false);
	mk(&m, 3, 200, "198.18.0.3", false);
	vrrp_set_sync_gate(&b, true);
	vrrp_start(&b, 0, &a);
	down = b.master_down_at;
	vrrp_timer(&b, down, &a);
	expect_types(&a, 1, VRRP_ACT_WANT_MASTER);
	assert_int_equal(b.state, VRRP_STATE_BACKUP);
	assert_true(b.want_master);
	assert_int_equal(b.master_down_at, down + 3610); /* 3.609375 s rounded up */
	/* A Master heard: the wish goes; the timer restarts as usual. */
	vrrp_start(&m, 0, &a);
	m.state = VRRP_STATE_MASTER;
	assert_int_equal(deliver(&m, 200, &b, down + 10, &a), VRRP_PKT_OK);
	assert_false(b.want_master);
	/* A priority-0 release does not clear it (the Master is gone). */
	vrrp_timer(&b, b.master_down_at, &a);
	assert_true(b.want_master);
	assert_int_equal(deliver(&m, 0, &b, down + 5000, &a), VRRP_PKT_OK);
	assert_true(b.want_master);
	/* Forced Master: make before break, reason given. */
	vrrp_sync_to(&b, VRRP_STATE_MASTER, VRRP_REASON_SYNC, down + 5001, &a);
	expect_types(&a, 4, VRRP_ACT_ADD_VIP, VRRP_ACT_SEND_GARP, VRRP_ACT_SEND_ADVERT,
		     VRRP_ACT_STATE_CHANGED);
	expect_change(last(&a), VRRP_STATE_BACKUP, VRRP_STATE_MASTER, VRRP_REASON_SYNC);
	assert_false(b.want_master);
	/* Forced to Master again: nothing. Forced Backup: priority 0, then the VIP goes. */
	vrrp_sync_to(&b, VRRP_STATE_MASTER, VRRP_REASON_SYNC, down + 5002, &a);
	expect_types(&a, 0);
	vrrp_sync_to(&b, VRRP_STATE_BACKUP, VRRP_REASON_SYNC, down + 5003, &a);
	expect_types(&a, 3, VRRP_ACT_SEND_ADVERT, VRRP_ACT_DEL_VIP, VRRP_ACT_STATE_CHANGED);
	assert_int_equal(a.list[0].priority, 0);
	expect_change(last(&a), VRRP_STATE_MASTER, VRRP_STATE_BACKUP, VRRP_REASON_SYNC);
	assert_int_equal(b.master_down_at, down + 5003 + 3610);
	/* A FAULT instance is left alone; ungated, the timer makes it Master as always. */
	vrrp_set_fault(&b, true, down + 5004, &a);
	vrrp_sync_to(&b, VRRP_STATE_MASTER, VRRP_REASON_SYNC, down + 5005, &a);
	expect_types(&a, 0);
	vrrp_set_sync_gate(&b, false);
	vrrp_set_fault(&b, false, down + 5006, &a);
	vrrp_timer(&b, b.master_down_at, &a);
	expect_change(last(&a), VRRP_STATE_BACKUP, VRRP_STATE_MASTER, VRRP_REASON_MASTER_DOWN);
	assert_string_equal(vrrp_reason_str(VRRP_REASON_SYNC), "sync");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_timer_numbers),
	    cmocka_unit_test(test_startup_backup_then_master),
	    cmocka_unit_test(test_higher_priority_keeps_backup_and_v3_learns_interval),
	    cmocka_unit_test(test_preempt_off_vs_on),
	    cmocka_unit_test(test_preempt_delay),
	    cmocka_unit_test(test_priority_zero_release),
	    cmocka_unit_test(test_owner),
	    cmocka_unit_test(test_master_steps_down_and_tie_break),
	    cmocka_unit_test(test_fault_and_shutdown),
	    cmocka_unit_test(test_priority_adjust),
	    cmocka_unit_test(test_instance_checks),
	    cmocka_unit_test(test_manual_move_make_before_break),
	    cmocka_unit_test(test_move_pending_and_stale_boost),
	    cmocka_unit_test(test_config_checks_and_update),
	    cmocka_unit_test(test_keepalived_capture_drives_backup),
	    cmocka_unit_test(test_subsecond_timers),
	    cmocka_unit_test(test_sync_gate_and_forced_states),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
