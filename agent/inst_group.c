/* Sync groups among the instance table's instances (inst_group.h). */
#include <string.h>

#include "inst_group.h"
#include "inst_table.h"
#include "sync_group.h"

/* The members of in's group among tab[0..n): in first, then the others, into out[] and m[]
 * (INST_MAX entries). Returns how many (1 when in has no group). */
static unsigned
members(struct instance *const tab[], int n, struct instance *in, struct instance *out[],
	struct sync_member m[])
{
	unsigned cnt = 0;

	out[cnt++] = in;
	for (int k = 0; in->group[0] && k < n && cnt < INST_MAX; k++)
		if (tab[k] != in && strcmp(tab[k]->group, in->group) == 0)
			out[cnt++] = tab[k];
	for (unsigned i = 0; i < cnt; i++)
		m[i] = (struct sync_member){out[i]->vr.state, out[i]->own_fault,
					    out[i]->vr.want_master};
	return cnt;
}

bool
inst_group_fault(struct instance *const tab[], int n, struct instance *in)
{
	struct instance *mi[INST_MAX];
	struct sync_member m[INST_MAX];

	return sync_group_fault(m, members(tab, n, in, mi, m), 0);
}

void
inst_group_inputs_changed(struct instance *const tab[], int n, struct instance *in)
{
	struct instance *mi[INST_MAX];
	struct sync_member m[INST_MAX];
	unsigned cnt = members(tab, n, in, mi, m);

	for (unsigned i = 1; i < cnt; i++)
		inst_inputs(mi[i]);
}

/* in changed from -> to because of why: forces the members that must follow
 * (sync_group_follow); their forced changes do not spread further. */
static void
follow(struct instance *const tab[], int n, struct instance *in, enum vrrp_state from,
       enum vrrp_reason why)
{
	struct instance *mi[INST_MAX];
	struct sync_member m[INST_MAX];
	enum vrrp_state force[INST_MAX];
	unsigned cnt = members(tab, n, in, mi, m);

	if (cnt < 2 || sync_group_follow(m, cnt, 0, from, why, force) == 0)
		return;
	for (unsigned i = 0; i < cnt; i++)
		if (force[i] != VRRP_STATE_INIT)
			inst_sync_to(mi[i], force[i], VRRP_REASON_SYNC);
}

bool
inst_group_ran(struct instance *const tab[], int n, struct instance *in, const struct inst_ran *r,
	       enum vrrp_state *state)
{
	struct instance *mi[INST_MAX];
	struct sync_member m[INST_MAX];
	unsigned cnt;

	if (!in->group[0])
		return false;
	if (r->changed)
		follow(tab, n, in, r->from, r->why);
	/* A gated Backup whose timer ran out: Master once the whole group wants it (the others
	 * then follow as forced Masters). */
	if (r->want_master && sync_group_can_master(m, members(tab, n, in, mi, m), 0))
		inst_sync_to(in, VRRP_STATE_MASTER, in->vr.down_reason);
	cnt = members(tab, n, in, mi, m);
	*state = sync_group_state(m, cnt);
	if (*state == in->group_state)
		return false;
	for (unsigned i = 0; i < cnt; i++)
		mi[i]->group_state = *state;
	return true;
}

void
inst_group_reconcile(struct instance *const tab[], int n)
{
	for (int k = 0; k < n; k++)
		if (tab[k]->group[0])
			inst_inputs(tab[k]);
	for (int k = 0; k < n; k++) {
		struct instance *mi[INST_MAX];
		struct sync_member m[INST_MAX];
		enum vrrp_state force[INST_MAX];
		if (!tab[k]->group[0] || tab[k]->vr.state != VRRP_STATE_BACKUP)
			continue;
		if (sync_group_follow(m, members(tab, n, tab[k], mi, m), 0, VRRP_STATE_INIT,
				      VRRP_REASON_STARTUP, force) > 0)
			inst_sync_to(tab[k], VRRP_STATE_MASTER, VRRP_REASON_SYNC);
	}
}
