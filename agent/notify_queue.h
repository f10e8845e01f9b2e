/* The pure part of notify scripts: a per-VIP FIFO of transitions waiting for their script, and
 * the argv a run gets. No I/O; notify.c runs the scripts. Order is never changed: a run always
 * sees the transitions in the order they happened, and the last one queued is always run. */
#ifndef VIGIL_NOTIFY_QUEUE_H
#define VIGIL_NOTIFY_QUEUE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vrrp.h"

#define NOTIFY_QUEUE_MAX 8 /* pending transitions per VIP (the running one not counted) */
#define NOTIFY_ARGV_MAX 24 /* the VIP's notify argv (at most 16) + 4 generic arguments + NULL */

/* keepalived's generic notify states. */
enum notify_state {
	NOTIFY_MASTER,
	NOTIFY_BACKUP,
	NOTIFY_FAULT,
	NOTIFY_STOP,
};

/* A transition of the VIP's instance (group "") or of its sync group (GROUP <group> <state>). */
struct notify_event {
	enum notify_state state;
	int priority;
	int64_t at_ms;	/* wall clock of the transition */
	char group[64]; /* "" for the instance; else the sync group that changed */
};

struct notify_queue {
	struct notify_event ev[NOTIFY_QUEUE_MAX]; /* ring */
	unsigned head, n;
	/* Per kind, [0] the instance's, [1] the group's: they repeat independently. */
	bool have_last[2];
	enum notify_state last[2]; /* state of the newest event queued or taken */
	bool have_taken[2];
	enum notify_state taken[2]; /* state of the last event taken (run or running) */
	uint64_t coalesced;	    /* events dropped so far (overflow, repeats) */
};

/* The notify state of a VRRP state: INIT (shutdown) is STOP. */
enum notify_state notify_state_of(enum vrrp_state s);

/* "MASTER", "BACKUP", "FAULT", "STOP". */
const char *notify_state_str(enum notify_state s);

/*
 * Queues a transition. A state equal to the newest one of its kind (instance or group) queued or
 * taken is no transition for the script: it only updates a pending entry's priority and is
 * otherwise dropped (counted in coalesced). On a full queue the oldest pending entries are dropped
 * (counted) until there is room, and then, from the front, any entry whose state equals the last
 * taken of its kind: the script sees fewer transitions, never a reordered or repeated one, and
 * always the newest.
 */
void notify_queue_push(struct notify_queue *q, const struct notify_event *ev);

/* Takes the oldest pending event into *ev. Returns false when none is pending. */
bool notify_queue_pop(struct notify_queue *q, struct notify_event *ev);

/* Drops every pending event but the newest of each kind, the instance's and the group's (agent
 * shutdown: only the final states matter now), counted in coalesced. */
void notify_queue_keep_last(struct notify_queue *q);

/*
 * Fills out[] (NOTIFY_ARGV_MAX entries) with base (NULL-terminated, borrowed) followed by
 * keepalived's generic arguments, "INSTANCE" name state priority, or for a group event "GROUP"
 * group state, NULL-terminated; the priority's digits are written to prio_buf (at least 12
 * bytes), which out may point into; the group is ev's. Returns the number of arguments, or -1
 * when base is empty or too long.
 */
int notify_build_argv(char *const base[], const char *name, const struct notify_event *ev,
		      char *prio_buf, char *out[]);

#endif
