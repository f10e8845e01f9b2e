/* One VRRP instance (one VIP of the node's config) bound to its interface: it builds its
 * vrrp_config from the typed config entry (node_config.h), feeds the pure state machine (vrrp.c)
 * its inputs (packets, timers, link state, checks, moves) and carries out the actions it returns,
 * in order: netlink addresses, gratuitous ARP / unsolicited NA, advertisements. What the
 * instance table must know (a state change, a move carried out, what its sync group must follow)
 * goes out through the context's hooks; the instance reads the context and never writes it.
 * inst_table.c owns the instances. */
#ifndef VIGIL_INSTANCE_H
#define VIGIL_INSTANCE_H

#include <stdbool.h>

#include "addr.h"
#include "garp.h"
#include "loop.h"
#include "netlink.h"
#include "node_config.h"
#include "track.h"
#include "vmac.h"
#include "vrrp.h"
#include "vrrp_io.h"
#include "vrrp_unicast.h"

/* The kernel handles instances use: owned by the agent, borrowed here. */
struct inst_io {
	struct loop *loop;
	struct nl_ctx *nl;
	int sock4, sock6; /* VRRP raw sockets (-1 when unavailable) */
	int arp_fd;
};

struct instance;

/* What one batch of actions did, for the instance's sync group (inst_group.h). */
struct inst_ran {
	bool changed;	      /* the state changed (the first change of the batch:) */
	enum vrrp_state from; /* from */
	enum vrrp_reason why; /* because of */
	bool want_master;     /* sync-gated, the Master_Down_Timer ran out */
};

/* What every instance of a table reads (owned by the table, const to instances). */
struct inst_ctx {
	const struct inst_io *io;
	const char *node; /* this node's name: is a move for us? */
	/* Hooks: called from within the instance's input calls, after the action was carried out.
	 * state: from -> to because of reason (text: the interface, the tracked interface or the
	 * check that faulted it, else the state machine's reason). */
	void (*state_changed)(void *arg, struct instance *in, enum vrrp_state from,
			      enum vrrp_state to, const char *reason);
	void (*move_done)(void *arg, struct instance *in, int64_t move_id);
	/* The node checks that move VIP vip: the sum of the failing ones' weights, whether one of
	 * weight 0 fails, and which (reason may be NULL). */
	void (*checks_for)(void *arg, const char *vip, int *adjust, bool *fault, char *reason,
			   size_t len);
	/* Sync groups: does another member of in's group have a fault of its own (in must be
	 * FAULT too)? in's own fault changed. A batch of in's actions was carried out. */
	bool (*group_fault)(void *arg, struct instance *in);
	void (*own_fault_changed)(void *arg, struct instance *in);
	void (*ran)(void *arg, struct instance *in, const struct inst_ran *r);
	void *arg;
};

struct instance {
	char name[NC_NAME_MAX];
	char ifname[NL_IFNAMSIZ];
	char group[NC_NAME_MAX]; /* sync group, or "" */
	struct nl_iface ifc;
	int family; /* AF_INET or AF_INET6: of every address */
	unsigned naddr;
	struct addr_prefix prefix[VRRP_MAX_ADDRS]; /* the advertised addresses, moved together */
	unsigned nexcl;
	struct addr_prefix excl[VRRP_MAX_ADDRS]; /* excluded_addresses: moved, not advertised */
	struct vrrp_unicast uc;			 /* unicast peers, or multicast */
	struct garp_sched garp;			 /* announcement bursts while Master */
	struct loop_timer garp_timer;
	struct vrrp_instance vr;
	struct loop_timer timer;
	const struct inst_ctx *ctx;
	bool link_down;	    /* the interface is down (netlink) */
	struct track track; /* track_interfaces: FAULT or a priority change while one is down */
	bool own_fault;	    /* its own inputs fault it (link, tracked interface, node check) */
	enum vrrp_state group_state; /* its sync group's state as last notified */
	struct vmac vmac; /* vmac: the macvlan that holds the addresses and sends (vmac.h) */
};

/* Creates and starts the instance of config entry v (usable: v->err empty), resuming from
 * move_done_id (the last move carried out here before a restart, or 0). Returns it, or NULL with
 * the reason in err. */
struct instance *inst_create(const struct inst_ctx *ctx, const struct nc_vip *v,
			     int64_t move_done_id, char *err, size_t errlen);

/* Takes v as the instance's new config: returns 0, or -1 (reason in err) when it cannot (the
 * interface, the addresses, unicast or vmac changed, or the VRRP config is refused): destroy it
 * and create it anew. */
int inst_update(struct instance *in, const struct nc_vip *v, char *err, size_t errlen);

/* Releases the VIP (priority 0, addresses removed) and frees the instance. */
void inst_destroy(struct instance *in);

/* The inputs that move the priority or fault the instance changed (its context's checks, its
 * link, its tracked interfaces): feeds the state machine what differs. */
void inst_inputs(struct instance *in);

/* The config's manual move for this VIP (v->move_id 0: none, a standing one is cleared). */
void inst_move(struct instance *in, const struct nc_vip *v);

/* Forced by its sync group (vrrp_sync_to): to MASTER or BACKUP because of why. */
void inst_sync_to(struct instance *in, enum vrrp_state to, enum vrrp_reason why);

/* The instance's interface went up or down. */
void inst_link(struct instance *in, bool up);

/* Is rx (a VRRP packet received on the socket of family) for this instance? */
bool inst_wants(const struct instance *in, const struct vrrp_rx *rx, int family);

/* One received packet for this instance: decoded, checked and fed to the state machine.
 * Returns VRRP_PKT_OK or why it was refused (a vrrp_drops reason); *warn gets VRRP_WARN_* of a
 * used packet worth logging and *adv_int_ms its interval. */
int inst_receive(struct instance *in, const struct vrrp_rx *rx, unsigned *warn,
		 uint32_t *adv_int_ms);

#endif
