/* The vrrp_instance reader's shared state, private to import_vrrp.c (the instance, its numbers,
 * authentication and sync groups), import_vrrp_addr.c (addresses and unicast) and
 * import_vrrp_track.c (tracked interfaces and scripts). */
#ifndef VIGIL_IMPORT_VRRP_H
#define VIGIL_IMPORT_VRRP_H

#include "import_int.h"

#define VRRP_NOTIFY_KINDS 5 /* notify, notify_master, notify_backup, notify_fault, notify_stop */

/* One instance being read. */
struct inst {
	struct imp *im;
	const struct ka_stmt *st;
	json_t *spec;		      /* the VIP spec being built */
	json_t *addresses, *excluded; /* borrowed from spec */
	long priority, vrid, version;
	double advert_s, preempt_delay_s;
	const struct ka_stmt *advert, *auth, *version_st, *unicast;
	const struct ka_stmt
	    *notify[VRRP_NOTIFY_KINDS]; /* notify, notify_master, ... (last wins) */
	int family;
	bool bad;
};

/* argv[1] of s, or NULL. */
static inline const char *
arg1(const struct ka_stmt *s)
{
	return s->argc > 1 ? s->argv[1] : NULL;
}

/* virtual_ipaddress and virtual_ipaddress_excluded: the addresses, an address of the other
 * family than the first moved to the excluded ones, as keepalived does. */
void vrrp_kw_addresses(struct inst *in, const struct ka_stmt *s);
void vrrp_kw_excluded(struct inst *in, const struct ka_stmt *s);
/* unicast_src_ip (vigil sends from the node's address) and unicast_peer (the peers). */
void vrrp_kw_unicast_src(struct inst *in, const struct ka_stmt *s);
void vrrp_kw_unicast_peer(struct inst *in, const struct ka_stmt *s);
/* track_interface, and track_script (appending {"script", "weight"?} to tracked). */
void vrrp_kw_track_interface(struct inst *in, const struct ka_stmt *s);
void vrrp_kw_track_script(struct inst *in, const struct ka_stmt *s, json_t *tracked);
/* notify and notify_master/backup/fault/stop: vrrp_kw_notify keeps the statement (false when kw
 * is none of them); vrrp_notify_finish sets the VIP's notify: the notify line as an argv, or a
 * wrapper script (in the plan's scripts) that runs each line for its state. vname names it. */
bool vrrp_kw_notify(struct inst *in, const struct ka_stmt *s);
void vrrp_notify_finish(struct inst *in, const char *vname);
/* Drops the instance's own interface from its tracked ones, as keepalived does. */
void vrrp_drop_own_track(struct inst *in);

#endif
