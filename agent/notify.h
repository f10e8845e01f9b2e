/* Notify scripts (issue 10; keepalived's generic `notify`): per VIP, the script named by the
 * VIP's notify argv runs on every transition of its instance with "INSTANCE <name> <MASTER|
 * BACKUP|FAULT|STOP> <priority>" appended, one run at a time per VIP, in transition order
 * (notify_queue.h says what a full queue drops), on the shared script runner (script.h: the
 * script-dir security, the script user, a clean environment, killed with its process group
 * after the timeout). The last run's result is reported per VIP. */
#ifndef VIGIL_NOTIFY_H
#define VIGIL_NOTIFY_H

#include <jansson.h>
#include <stdbool.h>

#include "loop.h"
#include "node_config.h"
#include "vrrp.h"

#define NOTIFY_TIMEOUT_MS_DEFAULT 10000 /* a run longer than this is killed */

struct notify_set;

/* A new set on loop l running scripts from script_dir as script_user (NULL: every run is
 * refused, as script checks are) with timeout_ms per run. changed(arg) is called from the loop
 * whenever notify_report() would say something new, never from inside the calls below (runs are
 * started from a timer). NULL on allocation failure. */
struct notify_set *notify_new(struct loop *l, const char *script_dir, const char *script_user,
			      int timeout_ms, void (*changed)(void *arg), void *arg);

/* Kills what still runs (SIGKILL to the process groups), drops what waits, frees s. NULL is
 * fine. */
void notify_free(struct notify_set *s);

/* Takes each VIP's notify argv from a node config (borrowed). Call it before the instances are
 * applied: a VIP that left the config keeps its argv until its queue has run (its STOP
 * included). */
void notify_apply(struct notify_set *s, const struct node_config *c);

/* The instance of VIP name entered state to (INIT: stopped) advertising priority: queues a run
 * if the VIP has a notify argv. */
void notify_transition(struct notify_set *s, const char *name, enum vrrp_state to, int priority);

/* The sync group group entered state to (sync_group_state; INIT: stopped): queues one run with
 * "GROUP <group> <state>" on the queue of the group's first member in name order that has a
 * notify argv, after that VIP's own transitions. One run per group change, as keepalived's notify
 * on a vrrp_sync_group; a VIP without notify is passed over, a group without any runs nothing. */
void notify_group(struct notify_set *s, const char *group, enum vrrp_state to);

/* Agent shutdown: from now on only each VIP's newest transition (its STOP) is still run after
 * the one running. */
void notify_stopping(struct notify_set *s);

/* True while a script runs or a transition waits. */
bool notify_busy(const struct notify_set *s);

/* {vip: {state, priority, group (a GROUP run), result, exit_status, signal, output, transition_at,
 * at, duration_ms, coalesced}} for each VIP with a finished (or refused) run; caller owns. */
json_t *notify_report(const struct notify_set *s);

#endif
