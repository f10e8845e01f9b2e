/* Real-time scheduling and locked memory for the agent's VRRP loop (keepalived's vrrp_rt_priority
 * and vrrp_no_swap): a busy host must not delay an advertisement until a Backup takes over. Set up
 * once at start-up, while the agent still holds CAP_SYS_NICE, CAP_IPC_LOCK and CAP_SYS_RESOURCE;
 * children never inherit it (SCHED_RESET_ON_FORK). Failure is a warning with its reason, never
 * fatal: the agent then runs as an ordinary process. */
#ifndef VIGIL_REALTIME_H
#define VIGIL_REALTIME_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "caps.h"

/* SCHED_RR at this priority (1..99): above every normal task, below the kernel's threaded
 * interrupt handlers (50), which deliver the packets the loop waits for. */
#define RT_PRIORITY 10

struct rt_state {
	bool requested;	     /* false: --no-realtime */
	int policy;	     /* SCHED_OTHER, SCHED_RR, ... as the kernel reports it afterwards */
	int priority;	     /* its real-time priority, 0 for SCHED_OTHER */
	bool memory_locked;  /* mlockall(MCL_CURRENT | MCL_FUTURE) held */
	bool keep_ipc_lock;  /* locked under a finite RLIMIT_MEMLOCK: keep CAP_IPC_LOCK */
	char sched_why[160]; /* why not real-time, "" when it is (or was not requested) */
	char lock_why[200];  /* why memory is not locked, "" when it is (or was not requested) */
};

/* Makes the calling process SCHED_RR | SCHED_RESET_ON_FORK at RT_PRIORITY and locks its memory,
 * when enable; otherwise only records the current policy. Memory is locked only where later
 * allocations cannot then fail: RLIMIT_MEMLOCK unlimited (raised here when allowed), or else
 * CAP_IPC_LOCK held now and kept (rt_caps_needed); and not in an AddressSanitizer build (its
 * shadow memory is terabytes of reserve). Fills st; never fails. */
void rt_setup(bool enable, struct rt_state *st);

/* The capabilities the running agent must keep for st: CAP_IPC_LOCK when its memory was locked
 * under a finite RLIMIT_MEMLOCK (with MCL_FUTURE every later mapping is locked, and without the
 * capability one past the limit fails), else none. Scheduling needs nothing after rt_setup. */
caps_mask rt_caps_needed(const struct rt_state *st);

/* In a forked child before execve (async-signal-safe): gives it the kernel's default
 * RLIMIT_MEMLOCK (8 MiB) rather than the agent's unlimited one, so a script cannot lock the host's
 * memory. The scheduling policy needs nothing here: SCHED_RESET_ON_FORK resets it. */
void rt_child_reset(void);

/* One line for the log: "real-time: SCHED_RR priority 10, memory locked" or the reasons. */
void rt_describe(const struct rt_state *st, char *buf, size_t len);

/* The status report's "realtime" member, a new reference: {"policy", "priority",
 * "memory_locked"} plus "reason" when either part was requested and did not happen. */
json_t *rt_report(const struct rt_state *st);

/* "SCHED_OTHER", "SCHED_FIFO", "SCHED_RR", "SCHED_BATCH", "SCHED_IDLE", "SCHED_DEADLINE" or
 * "unknown" (the API's spelling). */
const char *rt_policy_name(int policy);

/* A VRRP timer fired late_ms after its deadline, for an instance advertising every interval_ms.
 * Logs (at most every 10 s, with the worst since) when late by a quarter interval or more: the
 * host is too busy for these timers. Returns the worst lateness seen since start, in ms. */
int64_t rt_timer_late(const char *name, int64_t late_ms, uint32_t interval_ms, int64_t now_ms);

#endif
