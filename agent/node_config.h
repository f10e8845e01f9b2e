/* The node config document (GET /nodes/{name}/config, or its cached copy on disk) read into typed
 * structs, once, in one place: nothing else in the agent reads a VIP entry's JSON. Pure: no I/O,
 * no clock, no globals; a document that is not what vigild renders (an old cache, a hand edit)
 * never crashes it. A VIP entry that cannot be used is kept with the reason in .err, so the agent
 * can say which one it skips and why while it runs the others.
 *
 * Checks and backends stay JSON here: checks.c and haproxy.c read their own entries (see
 * checks_apply(), haproxy_apply()). */
#ifndef VIGIL_NODE_CONFIG_H
#define VIGIL_NODE_CONFIG_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "addr.h"
#include "garp.h"
#include "netlink.h"
#include "track.h"
#include "vrrp_packet.h"
#include "vrrp_unicast.h"

#define NC_NAME_MAX 64	  /* a resource name (the API's Name: at most 63 characters) */
#define NC_NOTIFY_ARGS 16 /* the API's VipNotify: at most 16 elements */

/* One VIP entry: one VRRP instance as this node runs it. */
struct nc_vip {
	char name[NC_NAME_MAX];
	char err[200]; /* non-empty: unusable, skipped (why); the fields below may be partial */
	char ifname[NL_IFNAMSIZ];
	int family; /* AF_INET or AF_INET6: of every advertised address */
	unsigned naddr;
	struct addr_prefix addrs[VRRP_MAX_ADDRS]; /* 1..VRRP_MAX_ADDRS, advertised */
	unsigned nexcl;
	struct addr_prefix excl[VRRP_MAX_ADDRS]; /* excluded_addresses: moved, not advertised */
	uint8_t vrid;				 /* 1..255 */
	uint8_t version;			 /* 2 or 3 */
	uint8_t priority;			 /* this node's, 1..254 */
	uint32_t advert_int_ms;
	bool preempt;
	uint32_t preempt_delay_ms;
	char auth_pass[VRRP_AUTH_LEN + 1]; /* v2 PASS, or "" */
	struct vrrp_unicast uc;		   /* unicast peers, or multicast */
	struct garp_params garp;
	unsigned ntrack;
	struct track_spec track[TRACK_MAX];
	unsigned nnotify;		  /* 0: no notify script */
	char *notify[NC_NOTIFY_ARGS + 1]; /* owned, NULL-terminated argv */
	char group[NC_NAME_MAX];	  /* sync group, or "" */
	bool vmac;
	int64_t move_id;       /* the pending manual move, or 0 */
	bool move_here;	       /* this node is its target */
	uint8_t move_priority; /* what a move target advertises: above every other member */
};

struct node_config {
	int ip_nonlocal_bind;	  /* 1, 0, or -1: leave the sysctl alone */
	char haproxy_socket[108]; /* a unix socket path, or "" */
	size_t nvips;
	struct nc_vip *vips; /* owned, nvips entries in the document's order */
};

/* Reads doc (borrowed) as the config of node `node` into out (which the caller frees with
 * node_config_free() whatever this returns). Returns 0; or -1 with the reason in err when doc is
 * not a config at all (not an object, or "vips" not an array): entry-level faults go to each
 * entry's .err instead. */
int node_config_parse(json_t *doc, const char *node, struct node_config *out, char *err,
		      size_t errlen);

/* Frees what node_config_parse() allocated; out is empty afterwards. */
void node_config_free(struct node_config *c);

/* The entry named name, or NULL. */
const struct nc_vip *node_config_vip(const struct node_config *c, const char *name);

/* Do a and b differ in what an instance cannot take as an update (interface, addresses, excluded
 * addresses, unicast settings, vmac)? Such a change recreates it: release, then start afresh. */
bool nc_vip_needs_restart(const struct nc_vip *a, const struct nc_vip *b);

#endif
