/* The importer's shared state between import.c (driver, report, globals, scripts),
 * import_vrrp.c (vrrp_instance, vrrp_sync_group) and import_lvs.c (virtual_server). Private to
 * those three files. */
#ifndef VIGIL_IMPORT_INT_H
#define VIGIL_IMPORT_INT_H

#include <stdbool.h>

#include "import.h"

struct imp {
	const char *node, *node_address;
	struct import_plan *p;
	json_t *seen;	     /* "%p" of a statement -> its report entry */
	json_t *script_defs; /* vrrp_script name -> {"line", "spec", "tracked": [instance]} */
	json_t *groups;	     /* instance name -> vigil group name */
	json_t *instances;   /* instance names of the file, for sync groups and script gaps */
	int version;	     /* global vrrp_version (2 unless set) */
	long garp_delay_s, garp_repeat, garp_refresh_s; /* global garp defaults, -1 unset */
};

/* Records what became of st: result "applied", "not_applied" or "error"; why (printf) or NULL. A
 * later note of the same statement replaces an earlier one, except that an error stays. */
void imp_note(struct imp *im, const struct ka_stmt *st, const char *result, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* Notes st and everything in its block as not applied, for the same reason. */
void imp_note_tree(struct imp *im, const struct ka_stmt *st, const char *why);
/* Why a statement inside a block where keepalived reads none (after an address, a peer, a
 * setting) is not applied: each kind's reader notes the rest of its block with it at the end. */
#define IMP_STRAY_BLOCK "a block where keepalived expects none: ignored"
/* Notes only the statements inside st's block not noted yet. */
void imp_note_rest(struct imp *im, const struct ka_stmt *st, const char *why);
/* An error keepalived itself would refuse: noted as "error" and listed in errors. */
void imp_error(struct imp *im, const struct ka_stmt *st, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* A place where keepalived's model is finer than vigil's. */
void imp_gap(struct imp *im, const struct ka_stmt *st, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* The node's unicast source of family (4 or 6) the file gave so far (plan's unicast_sources),
 * or NULL. Borrowed. */
const char *imp_unicast_source(struct imp *im, int family);

/* Whole-word number readers: true and *v set when s is entirely a number in [min, max]. */
bool imp_long(const char *s, long min, long max, long *v);
bool imp_seconds(const char *s, double max, double *v); /* decimal seconds >= 0 */

/* Turns a keepalived script line (argv[from..argc) joined) into a vigil argv for the agent's
 * --script-dir, listing the file to place there in scripts. what names the wrapper when the line
 * is shell syntax. Returns the argv (new reference). */
json_t *imp_script_argv(struct imp *im, const struct ka_stmt *st, int from, const char *what);

/* The statements of one kind. */
void imp_instance(struct imp *im, const struct ka_stmt *st);
void imp_sync_group(struct imp *im, const struct ka_stmt *st);
void imp_virtual_server(struct imp *im, const struct ka_stmt *st);

#endif
