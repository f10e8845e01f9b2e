/* Sync group decisions (sync_group.h): keepalived's vrrp_sync.c rules, pure. */
#include "sync_group.h"

bool
sync_group_fault(const struct sync_member m[], unsigned n, unsigned self)
{
	for (unsigned i = 0; i < n; i++)
		if (i != self && m[i].own_fault)
			return true;
	return false;
}

bool
sync_group_can_master(const struct sync_member m[], unsigned n, unsigned who)
{
	for (unsigned i = 0; i < n; i++) {
		if (i == who || m[i].state == VRRP_STATE_MASTER)
			continue;
		if (m[i].state != VRRP_STATE_BACKUP || !m[i].want_master)
			return false;
	}
	return who < n && m[who].state == VRRP_STATE_BACKUP;
}

/* Forces every member but who that is in state from to state to; returns how many. */
static unsigned
force_others(const struct sync_member m[], unsigned n, unsigned who, enum vrrp_state from,
	     enum vrrp_state to, enum vrrp_state force[])
{
	unsigned k = 0;

	for (unsigned i = 0; i < n; i++)
		if (i != who && m[i].state == from) {
			force[i] = to;
			k++;
		}
	return k;
}

unsigned
sync_group_follow(const struct sync_member m[], unsigned n, unsigned who, enum vrrp_state from,
		  enum vrrp_reason why, enum vrrp_state force[])
{
	for (unsigned i = 0; i < n; i++)
		force[i] = VRRP_STATE_INIT;
	if (who >= n || why == VRRP_REASON_SYNC)
		return 0;
	if (m[who].state == VRRP_STATE_MASTER)
		return force_others(m, n, who, VRRP_STATE_BACKUP, VRRP_STATE_MASTER, force);
	if (m[who].state != VRRP_STATE_BACKUP)
		return 0;
	if (from == VRRP_STATE_MASTER)
		return force_others(m, n, who, VRRP_STATE_MASTER, VRRP_STATE_BACKUP, force);
	for (unsigned i = 0; i < n; i++)
		if (i != who && m[i].state == VRRP_STATE_MASTER) {
			force[who] = VRRP_STATE_MASTER;
			return 1;
		}
	return 0;
}

enum vrrp_state
sync_group_state(const struct sync_member m[], unsigned n)
{
	bool any = false, all_master = true;

	for (unsigned i = 0; i < n; i++) {
		if (m[i].state == VRRP_STATE_INIT)
			continue;
		if (m[i].state == VRRP_STATE_FAULT)
			return VRRP_STATE_FAULT;
		any = true;
		all_master = all_master && m[i].state == VRRP_STATE_MASTER;
	}
	if (!any)
		return VRRP_STATE_INIT;
	return all_master ? VRRP_STATE_MASTER : VRRP_STATE_BACKUP;
}
