/* keepalived.conf import, the pure part: from the statements of one node's file (kaconf.h) to a
 * plan of vigil resources (VIPs, node checks, backends and their checks) and a report of what
 * became of every statement. No store and no HTTP: res_import.c merges the plan with what is
 * stored and writes it in one transaction. */
#ifndef VIGIL_IMPORT_H
#define VIGIL_IMPORT_H

#include <jansson.h>

#include "kaconf.h"

/*
 * A plan. Every member is an owned JSON array (import_plan_free releases them):
 *   vips       [{"name", "instance", "line", "spec"}]: spec as a VIP PUT takes it, members holding
 *              this node alone; name is derived from the instance name
 *   checks     [{"name", "line", "spec"}]: backend checks (spec.backend a planned backend) and
 *              node checks (vrrp_script: spec.node is the node); write backends first
 *   backends   [{"name", "line", "spec"}]: spec.vip names a planned VIP by its planned name
 *   statements [{"line", "keyword", "result", "why"?}]: every statement of the file once, in file
 *              order; result "applied", "not_applied" or "error"; why for all but a plain
 *              "applied" (an applied statement may carry a note on a part that was dropped)
 *   gaps       [{"line", "keyword", "why"}]: where keepalived's model is finer than vigil's and
 *              meaning is lost (priority 255, weight reverse, two unicast sources of a family)
 *   scripts    [{"line", "name", "from"?, "content"?}]: the files to place in the agent's
 *              --script-dir: "from" a path of the file, or "content" a wrapper to write
 *   errors     [{"line", "keyword", "detail"}]: what keepalived itself would refuse; non-empty
 *              means nothing may be imported
 *   unicast_sources [ADDR]: the node's unicast sources of the other family than its address
 *              (unicast_src_ip of an instance of that family), for the node's unicast_sources
 */
struct import_plan {
	json_t *vips, *checks, *backends, *statements, *gaps, *scripts, *errors, *unicast_sources;
};

/*
 * Maps c, the file of node (whose address is node_address, for unicast_src_ip), into p (whose
 * members it creates; free them with import_plan_free even on failure). Returns 0, or -1 when out
 * of memory.
 */
int import_plan(const struct ka_conf *c, const char *node, const char *node_address,
		struct import_plan *p);
void import_plan_free(struct import_plan *p);

/* Lowercases s into a vigil name ([a-z0-9][a-z0-9-]{0,62}) in out[64]: runs of other characters
 * become one '-', leading and trailing ones go; prefix is put in front when nothing is left or
 * the result would not start with a letter or digit. */
void import_name(const char *prefix, const char *s, char out[64]);

#endif
