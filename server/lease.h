/* Agent liveness: one lease per node, renewed by every status report. A heartbeat that reports
 * nothing new renews the lease and nothing else: no disk write, no revision, no event. The
 * durable "agent" state (up/down) changes only when a lease starts or expires, by the sweep.
 * Where the store is this process's own (SQLite) the leases are in memory and every process
 * sweeps; after a restart every node stored up gets a fresh lease: it is marked down only if it
 * then stays silent for the whole timeout. Where several vigild share the store (etcd), the
 * leases are the store's (store_live_*), one elected process sweeps (lease_sweeper) with fenced
 * writes, and a new leader gives every node the same timeout before it marks any down. */
#ifndef VIGIL_LEASE_H
#define VIGIL_LEASE_H

#include <stdbool.h>
#include <stdint.h>

#include "store.h"

/* The timeout of every lease (--agent-timeout), and of the leadership where it is shared (at
 * least 3 s there). */
void lease_set_timeout(int64_t timeout_ms);
/* Should this process run the sweep and other background work now? Always where liveness is
 * local; where shared, campaigns for or renews the leadership: true while this process leads.
 * Background writes then call store_tx_fence. */
bool lease_sweeper(int64_t now_ms);
/* Tests only: VIGIL_TEST_SWEEP_PAUSE_MS (environment) pauses the sweep between its reads and its
 * commit that long, so that a test can stop a leader inside that window. */
void lease_test_pause(void);
/* A report from node's agent at now_ms: the lease runs from now. */
void lease_renew(const char *node, int64_t now_ms);
/* Mirrors the stored agent state: up (the sweep watches the lease) or down. Granting up to a
 * node without a lease starts one at now_ms (its agent has not reported since this start). */
void lease_set_up(const char *node, bool up, int64_t now_ms);
/* When node's agent last reported to this process (0: not since it started). */
int64_t lease_last_seen(const char *node);
/* Is node's lease up and older than timeout_ms at now_ms? */
bool lease_expired(const char *node, int64_t now_ms, int64_t timeout_ms);
/* Names of up to max nodes whose lease is up and expired, into out. Returns the count. */
int lease_list_expired(int64_t now_ms, int64_t timeout_ms, char (*out)[STORE_NAME_MAX], int max);
/* Drops node's lease (the node is gone). */
void lease_forget(const char *node);
/* Drops every lease (at shutdown). */
void lease_clear(void);

#endif
