/* The agent's VRRP instances (inst_table.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "inst_group.h"
#include "inst_table.h"

struct inst_table {
	struct inst_ctx ctx; /* what the instances read; ctx.arg is the table */
	char node[NC_NAME_MAX];
	struct inst_table_hooks hooks;
	struct instance *tab[INST_MAX];
	int n;
	struct vrrp_drops drops;  /* what the receive path refused, per reason */
	uint32_t rxq_overflow[2]; /* the kernel's drop counter last seen: IPv4, IPv6 socket */
	json_t *moves_done;	  /* {vip: id}, owned */
	json_t *last_transition;  /* owned, or NULL */
};

static void
changed(struct inst_table *t)
{
	if (t->hooks.changed)
		t->hooks.changed(t->hooks.arg);
}

static void
on_state_changed(void *arg, struct instance *in, enum vrrp_state from, enum vrrp_state to,
		 const char *reason)
{
	struct inst_table *t = arg;
	char at[CLOCK_RFC3339_LEN];

	json_decref(t->last_transition);
	t->last_transition =
	    json_pack("{s:s, s:s, s:s, s:s, s:s}", "vip", in->name, "from", vrrp_state_str(from),
		      "to", vrrp_state_str(to), "reason", reason, "at",
		      clock_rfc3339(clock_wall_ms(), at, sizeof(at)));
	if (t->hooks.transitioned)
		t->hooks.transitioned(t->hooks.arg, in->name, to, vrrp_effective_priority(&in->vr));
	changed(t);
}

static void
on_move_done(void *arg, struct instance *in, int64_t move_id)
{
	struct inst_table *t = arg;

	json_object_set_new(t->moves_done, in->name, json_integer(move_id));
	changed(t);
}

static void
on_checks_for(void *arg, const char *vip, int *adjust, bool *fault, char *reason, size_t len)
{
	struct inst_table *t = arg;

	*adjust = 0;
	*fault = false;
	if (reason != NULL && len > 0)
		reason[0] = '\0';
	if (t->hooks.checks_for)
		t->hooks.checks_for(t->hooks.arg, vip, adjust, fault, reason, len);
}

static bool
on_group_fault(void *arg, struct instance *in)
{
	struct inst_table *t = arg;

	return inst_group_fault(t->tab, t->n, in);
}

static void
on_own_fault_changed(void *arg, struct instance *in)
{
	struct inst_table *t = arg;

	inst_group_inputs_changed(t->tab, t->n, in);
}

/* A batch of in's actions ran: its sync group follows, and a change of the group's state runs
 * the group's notify. */
static void
on_ran(void *arg, struct instance *in, const struct inst_ran *r)
{
	struct inst_table *t = arg;
	enum vrrp_state st;

	if (!inst_group_ran(t->tab, t->n, in, r, &st))
		return;
	fprintf(stderr, "vigil-agent: sync group %s: %s\n", in->group, vrrp_state_str(st));
	if (t->hooks.group_transitioned)
		t->hooks.group_transitioned(t->hooks.arg, in->group, st);
}

struct inst_table *
inst_table_new(const struct inst_io *io, const char *node, json_t *moves_done,
	       const struct inst_table_hooks *hooks)
{
	struct inst_table *t = calloc(1, sizeof(*t));

	if (t == NULL)
		return NULL;
	snprintf(t->node, sizeof(t->node), "%s", node);
	t->ctx.io = io;
	t->ctx.node = t->node;
	t->ctx.state_changed = on_state_changed;
	t->ctx.move_done = on_move_done;
	t->ctx.checks_for = on_checks_for;
	t->ctx.group_fault = on_group_fault;
	t->ctx.own_fault_changed = on_own_fault_changed;
	t->ctx.ran = on_ran;
	t->ctx.arg = t;
	t->hooks = *hooks;
	t->moves_done = json_is_object(moves_done) ? json_deep_copy(moves_done) : json_object();
	if (t->moves_done == NULL) {
		free(t);
		return NULL;
	}
	return t;
}

void
inst_table_free(struct inst_table *t)
{
	if (t == NULL)
		return;
	inst_table_shutdown(t);
	json_decref(t->moves_done);
	json_decref(t->last_transition);
	free(t);
}

/* The running instance of VIP name, its index in *k; NULL when none. */
static struct instance *
find_name(struct inst_table *t, const char *name, int *k)
{
	for (*k = 0; *k < t->n; (*k)++)
		if (strcmp(t->tab[*k]->name, name) == 0)
			return t->tab[*k];
	return NULL;
}

static void
remove_at(struct inst_table *t, int k)
{
	inst_destroy(t->tab[k]);
	t->tab[k] = t->tab[--t->n];
}

/* Brings up (or updates) the instance of entry v; returns it, or NULL (logged). */
static struct instance *
apply_one(struct inst_table *t, const struct nc_vip *v)
{
	char err[200];
	int k;
	struct instance *in = find_name(t, v->name, &k);

	if (in != NULL && inst_update(in, v, err, sizeof(err)) != 0) {
		fprintf(stderr, "vigil-agent: VIP %s: %s: starting it afresh\n", v->name, err);
		remove_at(t, k);
		in = NULL;
	}
	if (in == NULL) {
		if (t->n >= INST_MAX) {
			fprintf(stderr, "vigil-agent: VIP %s: more than %d VIPs on this node\n",
				v->name, INST_MAX);
			return NULL;
		}
		in = inst_create(&t->ctx, v,
				 json_integer_value(json_object_get(t->moves_done, v->name)), err,
				 sizeof(err));
		if (in == NULL) {
			fprintf(stderr, "vigil-agent: VIP %s: %s\n", v->name, err);
			return NULL;
		}
		t->tab[t->n++] = in;
	}
	return in;
}

void
inst_table_apply(struct inst_table *t, const struct node_config *c)
{
	for (size_t i = 0; i < c->nvips; i++) {
		const struct nc_vip *v = &c->vips[i];
		struct instance *in;
		if (v->err[0] != '\0') {
			fprintf(stderr, "vigil-agent: VIP %s: %s\n", v->name[0] ? v->name : "?",
				v->err);
			continue;
		}
		if (node_config_vip(c, v->name) != v) /* a duplicate name: the first counts */
			continue;
		if ((in = apply_one(t, v)) == NULL)
			continue;
		inst_inputs(in);
		inst_move(in, v);
	}
	/* Downwards: remove_at() moves the last instance, already looked at, into the gap. */
	for (int k = t->n - 1; k >= 0; k--)
		if (node_config_vip(c, t->tab[k]->name) == NULL) {
			json_object_del(t->moves_done, t->tab[k]->name);
			remove_at(t, k);
		}
	inst_group_reconcile(t->tab, t->n);
}

void
inst_table_shutdown(struct inst_table *t)
{
	while (t->n > 0)
		inst_destroy(t->tab[--t->n]);
}

int
inst_table_count(const struct inst_table *t)
{
	return t->n;
}

struct instance *
inst_table_find(const struct inst_table *t, const char *name)
{
	for (int k = 0; k < t->n; k++)
		if (strcmp(t->tab[k]->name, name) == 0)
			return t->tab[k];
	return NULL;
}

/* Counts n occurrences of reason and logs the line vrrp_drops_note() says is due. */
static void
note(struct inst_table *t, int reason, uint64_t n, const char *detail)
{
	char line[300];

	if (vrrp_drops_note(&t->drops, reason, n, detail, loop_now_ms(), line, sizeof(line)))
		fprintf(stderr, "vigil-agent: %s\n", line);
}

void
inst_table_drops_flush(struct inst_table *t)
{
	char line[300];

	while (vrrp_drops_flush(&t->drops, loop_now_ms(), line, sizeof(line)))
		fprintf(stderr, "vigil-agent: %s\n", line);
}

/* Hands one received packet to its instance; counts what is refused. */
static void
receive_one(struct inst_table *t, const struct vrrp_rx *rx, int family)
{
	struct instance *in = NULL;
	char src[ADDR_STRLEN], detail[96];
	unsigned warn;
	uint32_t adv_int_ms = 0;
	int e;

	addr_format(&rx->meta.src, src, sizeof(src));
	if (rx->len < 2) {
		snprintf(detail, sizeof(detail), "from %s", src);
		note(t, VRRP_PKT_TOO_SHORT, 1, detail);
		return;
	}
	snprintf(detail, sizeof(detail), "from %s, vrid %u", src, rx->payload[1]);
	for (int k = 0; k < t->n && in == NULL; k++)
		if (inst_wants(t->tab[k], rx, family))
			in = t->tab[k];
	if (in == NULL) {
		note(t, VRRP_DROP_UNKNOWN_VRID, 1, detail);
		return;
	}
	if ((e = inst_receive(in, rx, &warn, &adv_int_ms)) != VRRP_PKT_OK) {
		note(t, e, 1, detail);
		return;
	}
	/* Used, but worth knowing (RFC 5798 7.1: SHOULD log; 6.4.2: the interval is learned). */
	if (warn & VRRP_WARN_ADDRS)
		note(t, VRRP_DROP_ADDR_DIFFERS, 1, detail);
	if (warn & VRRP_WARN_INTERVAL) {
		snprintf(detail, sizeof(detail), "from %s, vrid %u, %u ms", src, rx->payload[1],
			 adv_int_ms);
		note(t, VRRP_DROP_INTERVAL_DIFFERS, 1, detail);
	}
}

void
inst_table_receive(struct inst_table *t, int fd, int family)
{
	static struct vrrp_io_batch b; /* one thread, one batch at a time: ~150 KB off the stack */
	uint32_t *seen = &t->rxq_overflow[family == AF_INET ? 0 : 1];
	int got = vrrp_io_recv_batch(fd, family, &b);

	for (int i = 0; i < got; i++) {
		if (!b.usable[i]) {
			note(t, VRRP_PKT_TOO_SHORT, 1, NULL);
			continue;
		}
		receive_one(t, &b.rx[i], family);
	}
	if (got > 0 && b.has_overflow && b.overflow != *seen) {
		note(t, VRRP_DROP_RXQ_OVERFLOW, (uint32_t)(b.overflow - *seen), NULL);
		*seen = b.overflow;
	}
}

void
inst_table_link(struct inst_table *t, const char *name, int ifindex, bool up, bool gone)
{
	for (int k = 0; k < t->n; k++) {
		struct instance *in = t->tab[k];
		if (in->ifc.ifindex == ifindex)
			inst_link(in, up);
		if (track_link_event(&in->track, name, ifindex, up, gone))
			inst_inputs(in);
	}
}

void
inst_table_checks(struct inst_table *t)
{
	for (int k = 0; k < t->n; k++)
		inst_inputs(t->tab[k]);
}

void
inst_table_report(const struct inst_table *t, json_t *vrrp, json_t *held)
{
	for (int k = 0; k < t->n; k++) {
		const struct instance *in = t->tab[k];
		json_t *e = json_pack("{s:s, s:i}", "state", vrrp_state_str(in->vr.state),
				      "priority", vrrp_effective_priority(&in->vr));
		if (in->track.n > 0)
			json_object_set_new(e, "track", track_report(&in->track));
		if (in->vmac.on)
			json_object_set_new(e, "vmac", json_string(in->vmac.name));
		if (in->group[0]) {
			json_object_set_new(e, "group", json_string(in->group));
			json_object_set_new(e, "group_state",
					    json_string(vrrp_state_str(in->group_state)));
		}
		json_object_set_new(vrrp, in->name, e);
		if (in->vr.state == VRRP_STATE_MASTER)
			json_array_append_new(held, json_string(in->name));
	}
}

json_t *
inst_table_counters(const struct inst_table *t)
{
	json_t *counters = json_object();

	for (int e = VRRP_PKT_OK + 1; e < VRRP_DROP_MAX; e++)
		if (t->drops.count[e])
			json_object_set_new(counters, vrrp_drops_name(e),
					    json_integer((json_int_t)t->drops.count[e]));
	return counters;
}

json_t *
inst_table_moves_done(const struct inst_table *t)
{
	return t->moves_done;
}

json_t *
inst_table_last_transition(const struct inst_table *t)
{
	return t->last_transition;
}
