/* One VRRP instance per VIP of the node's config, bound to its interface: builds the vrrp_config
 * from the config JSON, feeds the state machine its inputs (packets, timers, link state, moves) and
 * carries out the actions it returns (netlink, ARP/NA, adverts). */
#ifndef VIGIL_INSTANCE_H
#define VIGIL_INSTANCE_H

#include <jansson.h>
#include <stdbool.h>

#include "addr.h"
#include "garp.h"
#include "loop.h"
#include "netlink.h"
#include "track.h"
#include "vmac.h"
#include "vrrp.h"
#include "vrrp_drops.h"
#include "vrrp_unicast.h"

#define INST_MAX 64

/* What instances share: owned by the agent. */
struct inst_env {
	struct loop *loop;
	struct nl_ctx *nl;
	int sock4, sock6; /* VRRP raw sockets (-1 when unavailable) */
	int arp_fd;
	const char *node;
	struct vrrp_drops drops;    /* what the receive path refused, per reason */
	uint32_t rxq_overflow[2];   /* the kernel's drop counter last seen: IPv4, IPv6 socket */
	json_t *moves_done;	    /* {vip: id}, owned here, persisted by the agent */
	json_t *last_transition;    /* owned, or NULL */
	int check_adjust;	    /* sum of the weights of failing node checks */
	bool check_fault;	    /* a failing node check has weight 0 */
	char fault_reason[256];	    /* why check_fault holds */
	void (*changed)(void *arg); /* state, move or transition changed: report and persist */
	void *changed_arg;
	/* every state change, for notify scripts (may be NULL) */
	void (*transitioned)(void *arg, const char *vip, enum vrrp_state to, int priority);
	void *transitioned_arg;
};

struct instance {
	char name[64];
	char ifname[NL_IFNAMSIZ];
	struct nl_iface ifc;
	int family;	/* AF_INET or AF_INET6: of every address */
	unsigned naddr; /* 1..VRRP_MAX_ADDRS */
	struct addr_prefix
	    prefix[VRRP_MAX_ADDRS]; /* the VIP's addresses, added and removed together */
	unsigned nexcl;		    /* 0..VRRP_MAX_ADDRS */
	struct addr_prefix excl[VRRP_MAX_ADDRS]; /* excluded_addresses: moved, not advertised */
	struct vrrp_unicast uc;			 /* unicast peers, or multicast */
	struct garp_sched garp;			 /* announcement bursts while Master */
	struct loop_timer garp_timer;
	struct vrrp_instance vr;
	struct loop_timer timer;
	struct inst_env *env;
	bool seen;	    /* present in the config being applied */
	bool link_down;	    /* the interface is down (netlink) */
	struct track track; /* track_interfaces: FAULT or a priority change while one is down */
	struct vmac vmac;   /* vmac: the macvlan that holds the addresses and sends (vmac.h) */
};

/* Applies config (the node's config document, borrowed) to the instance table: creates, updates,
 * moves and removes instances. */
void inst_apply(struct inst_env *env, struct instance *tab[], int *n, json_t *config);
/* Releases every instance (priority 0, addresses removed) and frees them. */
void inst_shutdown_all(struct inst_env *env, struct instance *tab[], int *n);
/* Reads at most one batch (VRRP_IO_BATCH) of pending VRRP packets from fd (family) and
 * dispatches them; what is left waits for the next wake-up, after due timers. Counts and logs
 * (rate-limited) what it refuses. */
void inst_receive(struct inst_env *env, struct instance *tab[], int n, int fd, int family);
/* Logs the summaries of refused packets that are due (call it now and then). */
void inst_drops_flush(struct inst_env *env);
/* A link changed state (netlink event). */
void inst_link(struct inst_env *env, struct instance *tab[], int n, int ifindex, bool up);
/* A link event (netlink) for the instances' tracked interfaces (track.h). */
void inst_track_link(struct inst_env *env, struct instance *tab[], int n, const char *name,
		     int ifindex, bool up, bool gone);
/* Node checks changed: the priority adjustment and the check fault (env->check_*) apply to every
 * instance (keepalived's track_script). */
void inst_checks(struct inst_env *env, struct instance *tab[], int n);
/* Adds {vip: {state, priority, track, vmac}} to vrrp and held VIP names to held. */
void inst_report(struct instance *tab[], int n, json_t *vrrp, json_t *held);

#endif
