/* Health results reported by agents: each check's per-node result, and each backend's health
 * derived from the results of the checks that target it. */
#ifndef VIGIL_RES_HEALTH_H
#define VIGIL_RES_HEALTH_H

#include <jansson.h>
#include <stdbool.h>

#include "store.h"

/*
 * Records node's check results (the "checks" member of its status report: {check: {state,
 * output, at}}, borrowed) into each check's status.results[node], ignoring checks that do not
 * exist or that this node does not run, and re-derives the health of the backends concerned.
 * *changed tells whether any result differs from the stored one. With tx NULL it only reads and
 * tells (nothing is written). Returns a store_rc.
 */
int health_record(struct store_tx *tx, const char *node, json_t *checks, bool *changed);

#endif
