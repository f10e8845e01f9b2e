/* Private to instance.c and inst_group.c (nobody else includes it): the sync group wiring and
 * the two entry points of instance.c it calls back. One thread, the agent's loop. */
#ifndef VIGIL_INSTANCE_INT_H
#define VIGIL_INSTANCE_INT_H

#include "instance.h"
#include "sync_group.h"

/* instance.c: carries out acts for in (then re-arms, reports, and lets its group follow). */
void inst_run(struct instance *in, struct vrrp_actions *acts);
/* instance.c: feeds in its priority and fault inputs again (its group's fault included). */
void inst_inputs(struct instance *in);

/* inst_group.c. Sets in's group from VIP entry v ("" none) and gates it (vrrp_set_sync_gate). */
void inst_group_set(struct instance *in, json_t *v);
/* Does another member of in's group have its own fault (in must be FAULT too)? */
bool inst_group_fault(struct instance *in);
/* in's own fault changed: the other members take their group fault again. */
void inst_group_inputs_changed(struct instance *in);
/* in changed from (because of why, not a forced change): the members that must follow do. */
void inst_group_follow(struct instance *in, enum vrrp_state from, enum vrrp_reason why);
/* in's Master_Down_Timer ran out while gated: Master once the whole group wants it. */
void inst_group_want_master(struct instance *in);
/* Runs env->group_transitioned once per change of in's group's state. */
void inst_group_notify(struct instance *in);
/* After a config: group faults again, and a Backup member joins a Master group. */
void inst_group_reconcile(struct instance *tab[], int n);

#endif
