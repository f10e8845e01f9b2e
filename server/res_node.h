/* Nodes beyond the generic resource: the status sub-resource (written by the node's agent), the
 * agent-liveness sweep, and the rendered config the agent long-polls. */
#ifndef VIGIL_RES_NODE_H
#define VIGIL_RES_NODE_H

#include <stdint.h>

#include "http.h"

/* GET/PUT /nodes/{name}/status. */
int res_node_status(struct http_request *req, struct http_response *res);
/* GET /nodes/{name}/config (JSON or keepalived.conf as text/plain). */
int res_node_config(struct http_request *req, struct http_response *res);
/* Marks nodes whose lease is older than timeout_ms as down (and refreshes their VIPs), in its own
 * write transaction; nothing is read or written when no lease expired. Returns a store_rc. */
int node_sweep_liveness(int64_t now_ms, int64_t timeout_ms);
/* At start: a fresh lease for every node whose stored agent state is up (see lease.h). */
int node_leases_load(int64_t now_ms);

#endif
