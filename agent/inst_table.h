/* The agent's VRRP instances, one per usable VIP entry of the node config: this module owns them
 * and what they share, applies each new config (creating, updating, recreating and removing
 * instances), hands them their inputs (packets by interface and VRID, link events, node checks),
 * lets the members of a sync group change state together (inst_group.h) and keeps what the
 * agent reports and persists of them: each instance's state, the moves done
 * (moves.json) and the last transition. */
#ifndef VIGIL_INST_TABLE_H
#define VIGIL_INST_TABLE_H

#include <jansson.h>
#include <stdbool.h>

#include "instance.h"
#include "node_config.h"
#include "vrrp_drops.h"

#define INST_MAX 64

struct inst_table_hooks {
	/* A state changed or a move was carried out: report and persist (moves_done). */
	void (*changed)(void *arg);
	/* Every state change of an instance, for notify scripts. */
	void (*transitioned)(void *arg, const char *vip, enum vrrp_state to, int priority);
	/* The node checks that move VIP vip (instance.h's inst_ctx.checks_for). */
	void (*checks_for)(void *arg, const char *vip, int *adjust, bool *fault, char *reason,
			   size_t len);
	/* Every change of a sync group's state (sync_group_state), for notify scripts. */
	void (*group_transitioned)(void *arg, const char *group, enum vrrp_state to);
	void *arg;
};

struct inst_table;

/* A table of node `node` (copied) on io (borrowed, must outlive the table), resuming the moves
 * done (a {vip: id} object, borrowed and copied; NULL: none). NULL on allocation failure. */
struct inst_table *inst_table_new(const struct inst_io *io, const char *node, json_t *moves_done,
				  const struct inst_table_hooks *hooks);
/* Releases every instance (inst_table_shutdown) and frees t. NULL is fine. */
void inst_table_free(struct inst_table *t);

/* Applies a config: an entry refused by node_config is logged and runs no instance; an
 * instance whose VIP left the config is released and its move forgotten. */
void inst_table_apply(struct inst_table *t, const struct node_config *c);
/* Releases every instance (priority 0, addresses removed); the table stays usable. */
void inst_table_shutdown(struct inst_table *t);
/* Instances running now. */
int inst_table_count(const struct inst_table *t);
/* The running instance of VIP name, or NULL. */
struct instance *inst_table_find(const struct inst_table *t, const char *name);

/* Reads at most one batch (VRRP_IO_BATCH) of pending VRRP packets from fd (family) and
 * dispatches them; what is left waits for the next wake-up, after due timers. Counts and logs
 * (rate-limited) what it refuses. */
void inst_table_receive(struct inst_table *t, int fd, int family);
/* Logs the summaries of refused packets that are due (call it now and then). */
void inst_table_drops_flush(struct inst_table *t);

/* A link changed (netlink): the instances on it and those tracking it. */
void inst_table_link(struct inst_table *t, const char *name, int ifindex, bool up, bool gone);

/* Node checks changed: every instance asks hooks->checks_for again (keepalived's track_script). */
void inst_table_checks(struct inst_table *t);

/* Adds {vip: {state, priority, track, group, group_state}} to vrrp and held VIP names to held. */
void inst_table_report(const struct inst_table *t, json_t *vrrp, json_t *held);
/* The refused packets per reason, {reason: count} (new reference). */
json_t *inst_table_counters(const struct inst_table *t);
/* {vip: move id} carried out (borrowed: persist it, report it). */
json_t *inst_table_moves_done(const struct inst_table *t);
/* The last transition {vip, from, to, reason, at} (borrowed), or NULL before the first. */
json_t *inst_table_last_transition(const struct inst_table *t);

#endif
