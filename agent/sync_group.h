/* Sync groups (issue 10, keepalived's vrrp_sync_group): the VIPs of one group on this node change
 * state together. Pure: given the members' states and what one of them just did, it says what
 * the others must do; instance.c carries it out with vrrp_set_fault() and vrrp_sync_to(). */
#ifndef VIGIL_SYNC_GROUP_H
#define VIGIL_SYNC_GROUP_H

#include <stdbool.h>

#include "vrrp.h"

/* What the group needs to know of one member. */
struct sync_member {
	enum vrrp_state state;
	bool own_fault;	  /* its own inputs fault it: its link, a tracked interface, a check */
	bool want_master; /* a gated Backup whose Master_Down_Timer ran out (vrrp.h) */
};

/* True when a member other than self (an index into m[n]) has its own fault: self must be FAULT
 * as well, and leaves FAULT only once no member is faulty. */
bool sync_group_fault(const struct sync_member m[], unsigned n, unsigned self);

/* May member who (a gated Backup that wants Master) become Master? Only when every other member
 * is Master already or wants Master too; else the group stays Backup rather than thrash
 * (keepalived's vrrp_sync_can_goto_master). */
bool sync_group_can_master(const struct sync_member m[], unsigned n, unsigned who);

/*
 * Member who changed from -> to because of why (m[who].state is already to). Fills force[i] for
 * each member with the state it must be forced to (vrrp_sync_to), or VRRP_STATE_INIT for none,
 * and returns how many must be forced:
 * - to MASTER: the other Backups become Master;
 * - MASTER to BACKUP (a higher-priority Master was heard): the other Masters become Backup;
 * - INIT or FAULT to BACKUP (a new member, a fault over) while another member is Master: who
 *   joins it as Master;
 * - anything else, and every change with why VRRP_REASON_SYNC (itself forced: it never spreads
 *   further, so the group cannot ping-pong): nothing. FAULT spreads through sync_group_fault().
 */
unsigned sync_group_follow(const struct sync_member m[], unsigned n, unsigned who,
			   enum vrrp_state from, enum vrrp_reason why, enum vrrp_state force[]);

/* The group's state, over the members that are not INIT: FAULT if one is FAULT, MASTER if all
 * are MASTER, else BACKUP; INIT when every member is INIT (stopped) or n is 0. */
enum vrrp_state sync_group_state(const struct sync_member m[], unsigned n);

#endif
