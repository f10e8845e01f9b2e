/* Sync groups in the instance table (issue 10): finds a group's members among the instances,
 * asks sync_group.c what they must do and carries it out through instance.c's run and inputs
 * (instance_int.h). instance.c calls in here after each batch of actions and input change. */
#include <stdio.h>
#include <string.h>

#include "instance_int.h"

/*
 * The members of in's group on this node: in first (it may be leaving the table),
 * then the table's others, into out[] and m[] (INST_MAX entries). Returns how many (1 when in has
 * no group).
 */
static unsigned
members(struct instance *in, struct instance *out[], struct sync_member m[])
{
	struct inst_env *env = in->env;
	unsigned n = 0;

	out[n++] = in;
	for (int k = 0; in->group[0] && env->tab && k < *env->ntab && n < INST_MAX; k++)
		if (env->tab[k] != in && strcmp(env->tab[k]->group, in->group) == 0)
			out[n++] = env->tab[k];
	for (unsigned i = 0; i < n; i++)
		m[i] = (struct sync_member){out[i]->vr.state, out[i]->own_fault,
					    out[i]->vr.want_master};
	return n;
}

/* Another member's own fault faults in too (sync_group_fault). */
bool
inst_group_fault(struct instance *in)
{
	struct instance *mi[INST_MAX];
	struct sync_member m[INST_MAX];

	return sync_group_fault(m, members(in, mi, m), 0);
}

/* in changed from -> to because of why: forces the members that must follow (sync_group_follow);
 * their forced changes do not spread further. */
void
inst_group_follow(struct instance *in, enum vrrp_state from, enum vrrp_reason why)
{
	struct instance *mi[INST_MAX];
	struct sync_member m[INST_MAX];
	enum vrrp_state force[INST_MAX];
	struct vrrp_actions acts;
	unsigned n = members(in, mi, m);

	if (n < 2 || sync_group_follow(m, n, 0, from, why, force) == 0)
		return;
	for (unsigned i = 0; i < n; i++)
		if (force[i] != VRRP_STATE_INIT) {
			vrrp_sync_to(&mi[i]->vr, force[i], VRRP_REASON_SYNC, loop_now_ms(), &acts);
			inst_run(mi[i], &acts);
		}
}

/* in's Master_Down_Timer ran out while gated: Master once the whole group wants it (the others
 * then follow as forced Masters). */
void
inst_group_want_master(struct instance *in)
{
	struct instance *mi[INST_MAX];
	struct sync_member m[INST_MAX];
	struct vrrp_actions acts;

	if (!sync_group_can_master(m, members(in, mi, m), 0))
		return;
	vrrp_sync_to(&in->vr, VRRP_STATE_MASTER, in->vr.down_reason, loop_now_ms(), &acts);
	inst_run(in, &acts);
}

/* Notifies a change of the group's state (GROUP <group> <state>), once per change. */
void
inst_group_notify(struct instance *in)
{
	struct instance *mi[INST_MAX];
	struct sync_member m[INST_MAX];
	unsigned n = members(in, mi, m);
	enum vrrp_state st = sync_group_state(m, n);

	if (!in->group[0] || st == in->group_state)
		return;
	for (unsigned i = 0; i < n; i++)
		mi[i]->group_state = st;
	fprintf(stderr, "vigil-agent: sync group %s: %s\n", in->group, vrrp_state_str(st));
	if (in->env->group_transitioned)
		in->env->group_transitioned(in->env->group_transitioned_arg, in->group, st);
}

/* The group of VIP entry v into in ("" none); gated when it has one (vrrp_set_sync_gate). */
void
inst_group_set(struct instance *in, json_t *v)
{
	const char *g = json_string_value(json_object_get(v, "group"));

	snprintf(in->group, sizeof(in->group), "%s", g ? g : "");
	vrrp_set_sync_gate(&in->vr, in->group[0] != '\0');
}

/* After a config: every grouped instance takes its group's fault, and a member that is Backup
 * while another is Master (new in the group) joins it. */
void
inst_group_reconcile(struct instance *tab[], int n)
{
	for (int k = 0; k < n; k++)
		if (tab[k]->group[0])
			inst_inputs(tab[k]);
	for (int k = 0; k < n; k++) {
		struct instance *mi[INST_MAX];
		struct sync_member m[INST_MAX];
		enum vrrp_state force[INST_MAX];
		struct vrrp_actions acts;
		unsigned cnt;
		if (!tab[k]->group[0] || tab[k]->vr.state != VRRP_STATE_BACKUP)
			continue;
		cnt = members(tab[k], mi, m);
		if (sync_group_follow(m, cnt, 0, VRRP_STATE_INIT, VRRP_REASON_STARTUP, force) > 0) {
			vrrp_sync_to(&tab[k]->vr, VRRP_STATE_MASTER, VRRP_REASON_SYNC,
				     loop_now_ms(), &acts);
			inst_run(tab[k], &acts);
		}
	}
}

void
inst_group_inputs_changed(struct instance *in)
{
	struct instance *mi[INST_MAX];
	struct sync_member m[INST_MAX];
	unsigned n = members(in, mi, m);

	for (unsigned i = 1; i < n; i++)
		inst_inputs(mi[i]);
}
