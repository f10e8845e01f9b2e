/* Sync groups among the instance table's instances (issue 10): finds a group's members in the
 * table, asks sync_group.c (pure) what they must do and carries it out through instance.h.
 * Called by inst_table.c from the instances' hooks (instance.h's struct inst_ctx). Every
 * function takes the table's instances tab[0..n) and the member in question, in (which may be
 * leaving the table or not be in it yet). */
#ifndef VIGIL_INST_GROUP_H
#define VIGIL_INST_GROUP_H

#include <stdbool.h>

#include "instance.h"

/* Does another member of in's group have its own fault (in must be FAULT too)? */
bool inst_group_fault(struct instance *const tab[], int n, struct instance *in);
/* in's own fault changed: the other members take their group fault again. */
void inst_group_inputs_changed(struct instance *const tab[], int n, struct instance *in);
/* A batch of in's actions was carried out (r): the members that must follow do, a gated
 * Master_Down_Timer that ran out becomes Master once the whole group wants it. Returns true
 * when the group's state changed since it was last notified, with the new one in *state. */
bool inst_group_ran(struct instance *const tab[], int n, struct instance *in,
		    const struct inst_ran *r, enum vrrp_state *state);
/* After a config: group faults again, and a Backup member joins a Master group. */
void inst_group_reconcile(struct instance *const tab[], int n);

#endif
