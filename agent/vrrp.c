/* VRRP state machine, one instance per VIP, exact to RFC 5798 6.4 and RFC 3768 6.4, with a Fault
 * state, keepalived-style preempt_delay and check weights, and issue 3's manual move. Pure: the
 * caller passes the time and carries out the returned actions (vrrp.h). Make-before-break: a new
 * Master adds and announces the VIP before it advertises; an old Master drops the VIP only once it
 * has seen the higher-priority advert or has sent its priority-0 advert. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "vrrp.h"

static void
push(struct vrrp_actions *out, struct vrrp_action a)
{
	if (out->n >= VRRP_MAX_ACTIONS) {
		out->overflow = true;
		return;
	}
	out->list[out->n++] = a;
}

/* Appends an action without state-change details (priority only matters for SEND_ADVERT). */
static void
act(struct vrrp_actions *out, enum vrrp_action_type type, uint8_t priority)
{
	push(out, (struct vrrp_action){.type = type, .priority = priority});
}

static void
reset_out(struct vrrp_actions *out)
{
	out->n = 0;
	out->overflow = false;
}

static size_t
alen(int family)
{
	return family == AF_INET6 ? 16 : 4;
}

static bool
addr_eq(const struct addr *a, const struct addr *b)
{
	return a->family == b->family && memcmp(a->u.bytes, b->u.bytes, alen(a->family)) == 0;
}

/* Deadline now + us, rounded up to the next millisecond: never earlier than the RFC says. */
static int64_t
after_us(int64_t now_ms, int64_t us)
{
	return now_ms + (us + 999) / 1000;
}

/* The next deadline of a periodic timer that was due at at_ms and fired at now_ms: one period
 * after the deadline, not after now, so that the loop's wake-up latency does not stretch every
 * period (at 20 ms a 1 ms late wake-up would otherwise be a 5% slower advert rate). Fired a whole
 * period or more late, it skips the missed ticks and keeps the phase: one advert, not a burst. */
static int64_t
next_period(int64_t at_ms, uint32_t period_ms, int64_t now_ms)
{
	int64_t next = at_ms + period_ms;

	if (period_ms == 0)
		return now_ms;
	if (next <= now_ms)
		next += ((now_ms - next) / period_ms + 1) * period_ms;
	return next;
}

void
vrrp_config_defaults(struct vrrp_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->version = 3;
	cfg->priority = 100;
	cfg->advert_int_ms = 1000;
	cfg->family = AF_INET;
	cfg->garp_repeat = 2;
	cfg->garp_interval_ms = 1000;
}

static int
fail(char *err, size_t errlen, const char *msg)
{
	if (err != NULL && errlen > 0)
		snprintf(err, errlen, "%s", msg);
	return -EINVAL;
}

static int
check_config(const struct vrrp_config *c, char *err, size_t errlen)
{
	if (c->vrid == 0)
		return fail(err, errlen, "vrid must be 1..255");
	if (c->version != 2 && c->version != 3)
		return fail(err, errlen, "version must be 2 or 3");
	if (c->priority == 0)
		return fail(err, errlen, "priority must be 1..255");
	if (c->family != AF_INET && c->family != AF_INET6)
		return fail(err, errlen, "family must be IPv4 or IPv6");
	if (c->version == 2 && c->family != AF_INET)
		return fail(err, errlen, "VRRPv2 carries IPv4 only");
	if (c->version == 2 &&
	    (c->advert_int_ms % 1000 != 0 || c->advert_int_ms < 1000 || c->advert_int_ms > 255000))
		return fail(err, errlen, "v2 advert interval must be whole seconds, 1..255");
	if (c->version == 3 &&
	    (c->advert_int_ms % 10 != 0 || c->advert_int_ms < 10 || c->advert_int_ms > 40950))
		return fail(err, errlen, "v3 advert interval must be centiseconds, 10..40950 ms");
	if (c->naddr == 0) /* at most VRRP_MAX_ADDRS: the range of naddr */
		return fail(err, errlen, "need 1..VRRP_MAX_ADDRS addresses");
	for (unsigned i = 0; i < c->naddr; i++)
		if (c->addrs[i].family != c->family)
			return fail(err, errlen, "address family differs from the instance's");
	if (c->primary.family != c->family)
		return fail(err, errlen, "primary address family differs from the instance's");
	if (c->auth_type != VRRP_AUTH_NONE && (c->version != 2 || c->auth_type != VRRP_AUTH_PASS))
		return fail(err, errlen, "auth is v2 PASS only");
	return 0;
}

int
vrrp_init(struct vrrp_instance *inst, const struct vrrp_config *cfg, char *err, size_t errlen)
{
	struct vrrp_config copy = *cfg; /* cfg may point into inst */
	int rc = check_config(cfg, err, errlen);

	if (rc != 0)
		return rc;
	memset(inst, 0, sizeof(*inst));
	inst->cfg = copy;
	inst->state = VRRP_STATE_INIT;
	inst->master_adver_int_ms = cfg->advert_int_ms;
	inst->master_down_at = inst->adver_at = inst->garp_at = VRRP_NEVER;
	return 0;
}

uint8_t
vrrp_effective_priority(const struct vrrp_instance *inst)
{
	int base = inst->cfg.priority;

	if (base == 255)
		return 255; /* RFC 5798 5.2.4: the owner's priority is 255 */
	if (inst->move_priority > base)
		base = inst->move_priority;
	base += inst->priority_adjust;
	if (base < 1)
		base = 1;
	if (base > 254)
		base = 254; /* RFC 5798 5.2.4: backups use 1..254 */
	return (uint8_t)base;
}

int64_t
vrrp_skew_time_us(const struct vrrp_instance *inst)
{
	int64_t p = vrrp_effective_priority(inst);

	if (inst->cfg.version == 2)
		return (256 - p) * 1000000 / 256; /* RFC 3768 6.1: seconds */
	return (256 - p) * (int64_t)inst->master_adver_int_ms * 1000 / 256; /* RFC 5798 6.1 */
}

int64_t
vrrp_master_down_interval_us(const struct vrrp_instance *inst)
{
	return 3 * (int64_t)inst->master_adver_int_ms * 1000 + vrrp_skew_time_us(inst);
}

int64_t
vrrp_next_deadline(const struct vrrp_instance *inst)
{
	int64_t t = inst->master_down_at;

	if (inst->adver_at < t)
		t = inst->adver_at;
	if (inst->garp_at < t)
		t = inst->garp_at;
	return t;
}

static void
stop_timers(struct vrrp_instance *inst)
{
	inst->master_down_at = inst->adver_at = inst->garp_at = VRRP_NEVER;
	inst->garp_left = 0;
}

static void
set_state(struct vrrp_instance *inst, enum vrrp_state to, enum vrrp_reason why, int64_t now_ms,
	  struct vrrp_actions *out)
{
	push(out,
	     (struct vrrp_action){
		 .type = VRRP_ACT_STATE_CHANGED, .from = inst->state, .to = to, .reason = why});
	inst->state = to;
	inst->want_master = false;
	inst->last_reason = why;
	inst->last_change_ms = now_ms;
}

/* Becoming Master (RFC 5798 6.4.1 / 6.4.2): the VIP is added and announced first, so that it
 * answers before anyone is told we are Master; then the advert, then Adver_Timer. */
static void
enter_master(struct vrrp_instance *inst, enum vrrp_reason why, int64_t now_ms,
	     struct vrrp_actions *out)
{
	stop_timers(inst);
	act(out, VRRP_ACT_ADD_VIP, 0);
	act(out, VRRP_ACT_SEND_GARP, 0);
	act(out, VRRP_ACT_SEND_ADVERT, vrrp_effective_priority(inst));
	inst->adver_at = now_ms + inst->cfg.advert_int_ms;
	inst->garp_left = inst->cfg.garp_repeat;
	if (inst->garp_left > 0)
		inst->garp_at = now_ms + inst->cfg.garp_interval_ms;
	set_state(inst, VRRP_STATE_MASTER, why, now_ms, out);
}

/* Backup with Master_Down_Timer = Master_Down_Interval (the caller has set the interval). A
 * Master leaving drops the VIP here, after whatever made it leave. */
static void
enter_backup(struct vrrp_instance *inst, enum vrrp_reason why, int64_t now_ms,
	     struct vrrp_actions *out)
{
	bool was_master = inst->state == VRRP_STATE_MASTER;

	stop_timers(inst);
	if (was_master)
		act(out, VRRP_ACT_DEL_VIP, 0);
	inst->master_down_at = after_us(now_ms, vrrp_master_down_interval_us(inst));
	inst->down_reason = VRRP_REASON_MASTER_DOWN;
	set_state(inst, VRRP_STATE_BACKUP, why, now_ms, out);
}

/* Leaves Master or Backup for FAULT or INIT. A Master first sends priority 0 (RFC 5798 6.4.3
 * Shutdown; keepalived does the same on FAULT) so a Backup takes over after Skew_Time, then drops
 * the VIP. */
static void
leave_active(struct vrrp_instance *inst, enum vrrp_state to, enum vrrp_reason why, int64_t now_ms,
	     struct vrrp_actions *out)
{
	if (inst->state == VRRP_STATE_MASTER) {
		act(out, VRRP_ACT_SEND_ADVERT, 0);
		act(out, VRRP_ACT_DEL_VIP, 0);
	}
	stop_timers(inst);
	set_state(inst, to, why, now_ms, out);
}

static void
move_done(struct vrrp_instance *inst, struct vrrp_actions *out)
{
	inst->move_pending = false;
	inst->move_done_id = inst->move_id;
	push(out, (struct vrrp_action){.type = VRRP_ACT_MOVE_DONE, .move_id = inst->move_id});
}

/* RFC 5798 6.4.1 Startup event, shared by vrrp_start() and the end of a fault. */
static void
startup(struct vrrp_instance *inst, enum vrrp_reason why, int64_t now_ms, struct vrrp_actions *out)
{
	inst->preempt_after = now_ms + inst->cfg.preempt_delay_ms;
	inst->master_adver_int_ms = inst->cfg.advert_int_ms;
	memset(&inst->master_addr, 0, sizeof(inst->master_addr));
	inst->master_priority = 0;
	if (inst->fault) {
		stop_timers(inst);
		set_state(inst, VRRP_STATE_FAULT, VRRP_REASON_FAULT, now_ms, out);
	} else if (inst->cfg.priority == 255) {
		enter_master(inst, VRRP_REASON_OWNER, now_ms, out);
	} else if (inst->move_pending) {
		enter_master(inst, VRRP_REASON_MOVE, now_ms, out);
		move_done(inst, out);
	} else {
		enter_backup(inst, why, now_ms, out);
	}
}

void
vrrp_start(struct vrrp_instance *inst, int64_t now_ms, struct vrrp_actions *out)
{
	reset_out(out);
	if (inst->state == VRRP_STATE_INIT)
		startup(inst, VRRP_REASON_STARTUP, now_ms, out);
}

void
vrrp_shutdown(struct vrrp_instance *inst, int64_t now_ms, struct vrrp_actions *out)
{
	reset_out(out);
	if (inst->state != VRRP_STATE_INIT)
		leave_active(inst, VRRP_STATE_INIT, VRRP_REASON_SHUTDOWN, now_ms, out);
}

void
vrrp_set_fault(struct vrrp_instance *inst, bool fault, int64_t now_ms, struct vrrp_actions *out)
{
	reset_out(out);
	if (inst->fault == fault)
		return;
	inst->fault = fault;
	if (fault && (inst->state == VRRP_STATE_BACKUP || inst->state == VRRP_STATE_MASTER))
		leave_active(inst, VRRP_STATE_FAULT, VRRP_REASON_FAULT, now_ms, out);
	else if (!fault && inst->state == VRRP_STATE_FAULT)
		startup(inst, VRRP_REASON_FAULT_CLEARED, now_ms, out);
}

/* After the effective priority changed: a Master tells the others at once, so that a better
 * Backup with preempt (or a Master that should step down) hears it now, not at the next tick. */
static void
priority_changed(struct vrrp_instance *inst, uint8_t before, int64_t now_ms,
		 struct vrrp_actions *out)
{
	uint8_t now_prio = vrrp_effective_priority(inst);

	if (now_prio == before || inst->state != VRRP_STATE_MASTER)
		return;
	act(out, VRRP_ACT_SEND_ADVERT, now_prio);
	inst->adver_at = now_ms + inst->cfg.advert_int_ms;
}

void
vrrp_set_priority_adjust(struct vrrp_instance *inst, int adjust, int64_t now_ms,
			 struct vrrp_actions *out)
{
	uint8_t before = vrrp_effective_priority(inst);

	reset_out(out);
	inst->priority_adjust = adjust;
	priority_changed(inst, before, now_ms, out);
}

enum vrrp_move_result
vrrp_move(struct vrrp_instance *inst, int64_t move_id, bool is_target, uint8_t move_priority,
	  int64_t now_ms, struct vrrp_actions *out)
{
	uint8_t before = vrrp_effective_priority(inst);

	reset_out(out);
	if (move_id <= 0)
		return VRRP_MOVE_ALREADY; /* ids start at 1; 0 is "no move" */
	if (move_priority > 254)
		move_priority = 254;
	if (!is_target) {
		/* The target will advertise above us; RFC 5798 6.4.3 makes a Master step down. */
		inst->move_priority = 0;
		inst->move_pending = false;
		inst->move_id = move_id;
		inst->move_done_id = move_id;
		priority_changed(inst, before, now_ms, out);
		return VRRP_MOVE_NOT_TARGET;
	}
	if (move_id == inst->move_done_id) {
		/* The request still stands: keep the boost, raise it if the caller's grew. */
		if (move_priority > inst->move_priority)
			inst->move_priority = move_priority;
		priority_changed(inst, before, now_ms, out);
		return VRRP_MOVE_ALREADY;
	}
	inst->move_id = move_id;
	/* Above every other member's: the caller's figure, or above the Master we hear now if that
	 * one still advertises a boost of its own (a stale earlier move). */
	if (inst->state == VRRP_STATE_BACKUP && inst->master_priority >= move_priority &&
	    inst->master_priority < 254)
		move_priority = (uint8_t)(inst->master_priority + 1);
	inst->move_priority = move_priority;
	switch (inst->state) {
	case VRRP_STATE_BACKUP:
		enter_master(inst, VRRP_REASON_MOVE, now_ms, out);
		move_done(inst, out);
		return VRRP_MOVE_DONE;
	case VRRP_STATE_MASTER:
		/* Already holds the VIP: advertise the new priority and call it done. */
		act(out, VRRP_ACT_SEND_ADVERT, vrrp_effective_priority(inst));
		inst->adver_at = now_ms + inst->cfg.advert_int_ms;
		move_done(inst, out);
		return VRRP_MOVE_DONE;
	default:
		inst->move_pending = true;
		return VRRP_MOVE_PENDING;
	}
}

void
vrrp_move_clear(struct vrrp_instance *inst, int64_t now_ms, struct vrrp_actions *out)
{
	uint8_t before = vrrp_effective_priority(inst);

	reset_out(out);
	inst->move_priority = 0;
	inst->move_pending = false;
	priority_changed(inst, before, now_ms, out);
}

void
vrrp_set_sync_gate(struct vrrp_instance *inst, bool gate)
{
	inst->sync_gate = gate;
	if (!gate)
		inst->want_master = false;
}

void
vrrp_sync_to(struct vrrp_instance *inst, enum vrrp_state to, enum vrrp_reason why, int64_t now_ms,
	     struct vrrp_actions *out)
{
	reset_out(out);
	if (to == VRRP_STATE_MASTER && inst->state == VRRP_STATE_BACKUP) {
		enter_master(inst, why, now_ms, out);
	} else if (to == VRRP_STATE_BACKUP && inst->state == VRRP_STATE_MASTER) {
		act(out, VRRP_ACT_SEND_ADVERT, 0);
		enter_backup(inst, why, now_ms, out);
	}
}

/* True when the address lists hold the same addresses (any order). */
static bool
same_addrs(const struct vrrp_config *c, const struct vrrp_advert *adv)
{
	if (adv->naddr != c->naddr)
		return false;
	for (unsigned i = 0; i < c->naddr; i++) {
		bool found = false;

		for (unsigned j = 0; j < adv->naddr && !found; j++)
			found = addr_eq(&c->addrs[i], &adv->addrs[j]);
		if (!found)
			return false;
	}
	return true;
}

/* RFC 5798 7.1 / RFC 3768 7.1 checks that need the instance. */
static enum vrrp_pkt_error
check_advert(struct vrrp_instance *inst, const struct vrrp_advert *adv, const struct addr *src)
{
	const struct vrrp_config *c = &inst->cfg;

	if (adv->vrid != c->vrid)
		return VRRP_PKT_VRID_MISMATCH;
	if (adv->version != c->version)
		return VRRP_PKT_BAD_VERSION;
	if (adv->family != c->family || src->family != c->family)
		return VRRP_PKT_BAD_FAMILY;
	if (addr_eq(src, &c->primary))
		return VRRP_PKT_OWN_ADVERT;
	if (c->priority == 255)
		return VRRP_PKT_LOCAL_OWNER;
	if (c->version == 2 && adv->adver_int_ms != c->advert_int_ms)
		return VRRP_PKT_INTERVAL_MISMATCH; /* MUST discard, RFC 3768 7.1 */
	if (!same_addrs(c, adv)) {
		/* RFC 3768 7.1: drop unless the owner sent it; RFC 5798 7.1: log only. */
		if (c->version == 2 && adv->priority != 255)
			return VRRP_PKT_ADDR_MISMATCH;
		inst->rx_warn |= VRRP_WARN_ADDRS;
	}
	if (c->version == 3 && adv->adver_int_ms != c->advert_int_ms &&
	    adv->adver_int_ms != inst->master_adver_int_ms)
		inst->rx_warn |= VRRP_WARN_INTERVAL; /* once per new value, not every advert */
	return VRRP_PKT_OK;
}

/* True when the sender's primary address is larger than ours (RFC 5798 6.4.3 tie-break). */
static bool
src_wins_tie(const struct vrrp_instance *inst, const struct addr *src)
{
	return memcmp(src->u.bytes, inst->cfg.primary.u.bytes, alen(src->family)) > 0;
}

/* RFC 5798 6.4.2: an advertisement in Backup. */
static void
recv_backup(struct vrrp_instance *inst, const struct vrrp_advert *adv, const struct addr *src,
	    int64_t now_ms)
{
	bool preempt = inst->cfg.preempt && now_ms >= inst->preempt_after;

	if (adv->priority == 0) {
		inst->master_down_at = after_us(now_ms, vrrp_skew_time_us(inst));
		inst->down_reason = VRRP_REASON_MASTER_RELEASED;
		return;
	}
	if (!preempt || adv->priority >= vrrp_effective_priority(inst)) {
		if (inst->cfg.version == 3)
			inst->master_adver_int_ms = adv->adver_int_ms;
		inst->master_down_at = after_us(now_ms, vrrp_master_down_interval_us(inst));
		inst->down_reason = VRRP_REASON_MASTER_DOWN;
		inst->master_addr = *src;
		inst->master_priority = adv->priority;
		inst->want_master = false; /* a Master is heard: the group stays Backup */
		return;
	}
	/* Preempt and lower priority: discard; the Master_Down_Timer runs out and we take over. */
	inst->down_reason = VRRP_REASON_PREEMPT;
}

/* RFC 5798 6.4.3: an advertisement in Master. */
static void
recv_master(struct vrrp_instance *inst, const struct vrrp_advert *adv, const struct addr *src,
	    int64_t now_ms, struct vrrp_actions *out)
{
	uint8_t mine = vrrp_effective_priority(inst);

	if (adv->priority == 0) {
		act(out, VRRP_ACT_SEND_ADVERT, mine);
		inst->adver_at = now_ms + inst->cfg.advert_int_ms;
		return;
	}
	if (adv->priority > mine || (adv->priority == mine && src_wins_tie(inst, src))) {
		if (inst->cfg.version == 3)
			inst->master_adver_int_ms = adv->adver_int_ms;
		inst->master_addr = *src;
		inst->master_priority = adv->priority;
		enter_backup(inst, VRRP_REASON_HIGHER_PRIORITY, now_ms, out);
	}
	/* else: discard */
}

enum vrrp_pkt_error
vrrp_recv(struct vrrp_instance *inst, const struct vrrp_advert *adv, const struct addr *src,
	  int64_t now_ms, struct vrrp_actions *out)
{
	enum vrrp_pkt_error e;

	reset_out(out);
	inst->rx_warn = 0;
	e = check_advert(inst, adv, src);
	if (e != VRRP_PKT_OK)
		return e;
	if (inst->state == VRRP_STATE_BACKUP)
		recv_backup(inst, adv, src, now_ms);
	else if (inst->state == VRRP_STATE_MASTER)
		recv_master(inst, adv, src, now_ms, out);
	return VRRP_PKT_OK;
}

void
vrrp_timer(struct vrrp_instance *inst, int64_t now_ms, struct vrrp_actions *out)
{
	reset_out(out);
	if (inst->state == VRRP_STATE_BACKUP && now_ms >= inst->master_down_at && inst->sync_gate) {
		/* A sync group goes Master only when every member wants to (keepalived prefers
		 * Backup to thrashing): say so, and wait another Master_Down_Interval. */
		inst->want_master = true;
		inst->master_down_at = after_us(now_ms, vrrp_master_down_interval_us(inst));
		act(out, VRRP_ACT_WANT_MASTER, 0);
		return;
	}
	if (inst->state == VRRP_STATE_BACKUP && now_ms >= inst->master_down_at) {
		/* RFC 5798 6.4.2: Master_Down_Timer fired. */
		enter_master(inst, inst->down_reason, now_ms, out);
		return;
	}
	if (inst->state != VRRP_STATE_MASTER)
		return;
	if (now_ms >= inst->garp_at) {
		act(out, VRRP_ACT_SEND_GARP, 0);
		inst->garp_left--;
		inst->garp_at = inst->garp_left > 0
				    ? next_period(inst->garp_at, inst->cfg.garp_interval_ms, now_ms)
				    : VRRP_NEVER;
	}
	if (now_ms >= inst->adver_at) {
		/* RFC 5798 6.4.3: Adver_Timer fired; reset to Advertisement_Interval from when it
		 * was due. */
		act(out, VRRP_ACT_SEND_ADVERT, vrrp_effective_priority(inst));
		inst->adver_at = next_period(inst->adver_at, inst->cfg.advert_int_ms, now_ms);
	}
}

int
vrrp_update_config(struct vrrp_instance *inst, const struct vrrp_config *cfg, int64_t now_ms,
		   struct vrrp_actions *out, char *err, size_t errlen)
{
	const struct vrrp_config *old = &inst->cfg;
	uint8_t before = vrrp_effective_priority(inst);
	int rc;

	reset_out(out);
	rc = check_config(cfg, err, errlen);
	if (rc != 0)
		return rc;
	if (cfg->vrid != old->vrid || cfg->version != old->version || cfg->family != old->family ||
	    cfg->naddr != old->naddr)
		return fail(err, errlen, "vrid, version, family or addresses changed: recreate");
	for (unsigned i = 0; i < cfg->naddr; i++)
		if (!addr_eq(&cfg->addrs[i], &old->addrs[i]))
			return fail(err, errlen, "addresses changed: recreate");
	if (cfg->preempt_delay_ms != old->preempt_delay_ms)
		inst->preempt_after += (int64_t)cfg->preempt_delay_ms - old->preempt_delay_ms;
	inst->cfg = *cfg;
	if (cfg->version == 2 || inst->state != VRRP_STATE_BACKUP)
		inst->master_adver_int_ms = cfg->advert_int_ms;
	if (cfg->priority == 255 && inst->state == VRRP_STATE_BACKUP) {
		enter_master(inst, VRRP_REASON_OWNER, now_ms, out);
		return 0;
	}
	priority_changed(inst, before, now_ms, out);
	return 0;
}

void
vrrp_advert_fill(const struct vrrp_instance *inst, uint8_t priority, struct vrrp_advert *adv)
{
	const struct vrrp_config *c = &inst->cfg;

	memset(adv, 0, sizeof(*adv));
	adv->version = c->version;
	adv->type = VRRP_TYPE_ADVERT;
	adv->vrid = c->vrid;
	adv->priority = priority;
	adv->adver_int_ms = c->advert_int_ms;
	adv->family = c->family;
	adv->naddr = c->naddr;
	memcpy(adv->addrs, c->addrs, sizeof(c->addrs[0]) * c->naddr);
	adv->auth_type = c->auth_type;
	memcpy(adv->auth_data, c->auth_data, VRRP_AUTH_LEN);
}

void
vrrp_rx_expect_fill(const struct vrrp_instance *inst, struct vrrp_rx_expect *expect)
{
	memset(expect, 0, sizeof(*expect));
	expect->version = inst->cfg.version;
	expect->auth_type = inst->cfg.auth_type;
	memcpy(expect->auth_data, inst->cfg.auth_data, VRRP_AUTH_LEN);
}

const char *
vrrp_state_str(enum vrrp_state s)
{
	static const char *const names[] = {"INIT", "BACKUP", "MASTER", "FAULT"};

	if ((unsigned)s >= sizeof(names) / sizeof(names[0]))
		return "unknown";
	return names[s];
}

const char *
vrrp_reason_str(enum vrrp_reason r)
{
	static const char *const names[] = {
	    [VRRP_REASON_NONE] = "none",
	    [VRRP_REASON_STARTUP] = "startup",
	    [VRRP_REASON_OWNER] = "owner",
	    [VRRP_REASON_MASTER_DOWN] = "master_down",
	    [VRRP_REASON_MASTER_RELEASED] = "master_released",
	    [VRRP_REASON_PREEMPT] = "preempt",
	    [VRRP_REASON_HIGHER_PRIORITY] = "higher_priority",
	    [VRRP_REASON_SHUTDOWN] = "shutdown",
	    [VRRP_REASON_FAULT] = "fault",
	    [VRRP_REASON_FAULT_CLEARED] = "fault_cleared",
	    [VRRP_REASON_MOVE] = "move",
	    [VRRP_REASON_SYNC] = "sync",
	};

	if ((unsigned)r >= sizeof(names) / sizeof(names[0]) || names[r] == NULL)
		return "unknown";
	return names[r];
}
