/* The vrrp_instance reader's shared state, private to import_vrrp.c (the instance, its numbers,
 * authentication and sync groups), import_vrrp_addr.c (addresses and unicast) and
 * import_vrrp_track.c (tracked interfaces and scripts). */
#ifndef VIGIL_IMPORT_VRRP_H
#define VIGIL_IMPORT_VRRP_H

#include "import_int.h"

/* One instance being read. */
struct inst {
	struct imp *im;
	const struct ka_stmt *st;
	json_t *spec;		      /* the VIP spec being built */
	json_t *addresses, *excluded; /* borrowed from spec */
	long priority, vrid, version;
	double advert_s, preempt_delay_s;
	const struct ka_stmt *advert, *auth, *version_st, *unicast;
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
/* Drops the instance's own interface from its tracked ones, as keepalived does. */
void vrrp_drop_own_track(struct inst *in);

#endif
