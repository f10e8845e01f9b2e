/* Health checks run by the agent (issue 4): tcp, http, https and script checks from the node's
 * config, run on the agent's event loop without ever blocking it, with keepalived's rise/fall
 * semantics. Their results feed the status report, VRRP (node checks: weight or FAULT) and the
 * node's HAProxy (backend checks, see haproxy.h). */
#ifndef VIGIL_CHECKS_H
#define VIGIL_CHECKS_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "loop.h"

struct checks;

enum check_state {
	CHECK_UNKNOWN,
	CHECK_UP,
	CHECK_DOWN,
};

/*
 * A new, empty check runner on loop l. script_dir is where script checks' executables live (bare
 * names only), script_user the account they run as (looked up here, once; if it does not exist,
 * or is NULL for script checks disabled, every script check is refused with that reason).
 * on_change(arg) is called from the loop whenever checks_report() would return something different
 * (a state or an output changed); it is never called from inside checks_apply(). Returns NULL on
 * allocation failure. Free with checks_free().
 */
struct checks *checks_new(struct loop *l, const char *script_dir, const char *script_user,
			  void (*on_change)(void *arg), void *arg);

/* Cancels every running check, kills running scripts (SIGKILL to their process groups) and reaps
 * them, frees cs. NULL is fine. */
void checks_free(struct checks *cs);

/*
 * Applies a node config document (GET /nodes/N/config, borrowed): creates, updates and removes
 * checks by name from config.checks. Backend checks target the backend's address and port (from
 * config.backends; the check's port overrides it); node checks target 127.0.0.1:port. A check whose
 * target did not change keeps its state and counters; one whose target or probe changed starts
 * over from unknown. A check that cannot run (backend missing, no port) is unknown, with the reason
 * as its output. node is this node's name. The caller re-reads checks_report(),
 * checks_priority_adjust() and checks_backend_health() afterwards.
 */
void checks_apply(struct checks *cs, json_t *config, const char *node);

/*
 * The "checks" member of PUT /nodes/N/status: {name: {"state", "output", "at"}} for every check,
 * caller owns. "at" is the time the (state, output) pair was first seen, so the object only changes
 * when a result changes and a heartbeat carrying it again rewrites nothing on the server.
 */
json_t *checks_report(const struct checks *cs);

/*
 * The same, limited to the entries that changed after version since (0: all), for an agent that
 * sends only changes: *version (if not NULL) gets the version this report is complete up to. Keep
 * it while the PUT is in flight and pass it as since once the server answered 200; after a failed
 * PUT, pass the old since again. Removed checks are simply absent.
 */
json_t *checks_report_since(const struct checks *cs, uint64_t since, uint64_t *version);

#define CHECK_VIPS_MAX 32 /* the API's CheckVips */

/*
 * keepalived's track_script for node checks, for the VRRP instance of VIP vip: returns the sum
 * of the weights of the node checks that are down and move it with a weight != 0 (add it to the
 * instance's priority), and sets *fault when one that moves it with weight 0 is down (the
 * instance goes to FAULT). A check moves every VIP of the node by its weight, or, with "vips",
 * only those it names, each by its own weight. vip NULL: every failing node check counts.
 * unknown is not down.
 */
int checks_priority_adjust(const struct checks *cs, const char *vip, bool *fault);

/* Describes the failing node checks that move vip (NULL: all), ("check haproxy down (exit 1:
 * ...); check ..."), those with weight 0 first, into buf (truncated to len). Returns how many
 * fail. For last_transition's reason when a check takes an instance to FAULT or lowers its
 * priority. */
int checks_node_failures(const struct checks *cs, const char *vip, char *buf, size_t len);

/* {backend: "up"|"down"|"unknown"} from this node's backend checks (down if any check is down, up
 * if all are up, else unknown), caller owns. Backends without checks are absent. */
json_t *checks_backend_health(const struct checks *cs);

/* The rise/fall counter of one check: the state flips after rise consecutive up results or fall
 * consecutive down results; it starts unknown. */
struct check_counter {
	enum check_state state;
	int ups, downs; /* current run of consecutive results */
};

/* Feeds one result to c; returns true when c->state changed. rise and fall are >= 1. */
bool checks_count(struct check_counter *c, bool up, int rise, int fall);

/* "up", "down", "unknown". */
const char *checks_state_str(enum check_state s);

/*
 * keepalived's enable_script_security for script name in dir: name must be a bare file name
 * ([A-Za-z0-9._-]+, not "." or ".."); the file (after symlinks) must be a regular executable owned
 * by root and writable by nobody else; every directory on the way to it and to dir must be owned by
 * root and not writable by group or others unless sticky (like /tmp). On success returns 0 and
 * writes the path to run into path; otherwise -1 with the reason in path (a message for the check's
 * output).
 */
int checks_script_vet(const char *dir, const char *name, char *path, size_t pathlen);

#endif
