/* The VRRP state machine of one virtual router (one VIP): Initialize, Backup, Master (RFC 5798
 * 6.4, RFC 3768 6.4) plus Fault, with preempt, preempt_delay, priority 0 release, the address
 * owner, check-weight priority adjustment and the manual move of issue 3. No I/O and no clock:
 * every input takes the caller's time in milliseconds and fills a list of actions for the caller
 * to carry out in order; vrrp_next_deadline() tells the event loop when to call vrrp_timer(). */
#ifndef VIGIL_VRRP_H
#define VIGIL_VRRP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "addr.h"
#include "vrrp_packet.h"

#define VRRP_NEVER INT64_MAX /* no deadline */
#define VRRP_MAX_ACTIONS 8

enum vrrp_state {
	VRRP_STATE_INIT = 0,
	VRRP_STATE_BACKUP,
	VRRP_STATE_MASTER,
	VRRP_STATE_FAULT,
};

/* Why the state changed (the status report's last_transition.reason). */
enum vrrp_reason {
	VRRP_REASON_NONE = 0,
	VRRP_REASON_STARTUP,	 /* Initialize -> Backup (RFC 5798 6.4.1) */
	VRRP_REASON_OWNER,	 /* priority 255: Initialize -> Master (6.4.1) */
	VRRP_REASON_MASTER_DOWN, /* Master_Down_Timer fired: no advert for Master_Down_Interval */
	VRRP_REASON_MASTER_RELEASED, /* Master_Down_Timer fired Skew_Time after a priority-0 advert
				      */
	VRRP_REASON_PREEMPT,	     /* ditto, after discarding lower-priority adverts (preempt) */
	VRRP_REASON_HIGHER_PRIORITY, /* Master saw a higher priority, or equal from a larger IP */
	VRRP_REASON_SHUTDOWN,	     /* vrrp_shutdown() */
	VRRP_REASON_FAULT,	     /* interface down, or a weight-0 check failing */
	VRRP_REASON_FAULT_CLEARED,   /* fault over: Initialize again, then Backup */
	VRRP_REASON_MOVE,	     /* manual move: this node is the target */
	VRRP_REASON_SYNC,	     /* another member of its sync group changed (sync_group.h) */
};

enum vrrp_action_type {
	VRRP_ACT_ADD_VIP,	/* add every configured address to the interface */
	VRRP_ACT_SEND_GARP,	/* announce them: gratuitous ARP (IPv4) or unsolicited NA (IPv6) */
	VRRP_ACT_SEND_ADVERT,	/* send an advertisement with .priority (vrrp_advert_fill) */
	VRRP_ACT_DEL_VIP,	/* remove the addresses */
	VRRP_ACT_STATE_CHANGED, /* .from -> .to because of .reason: report it */
	VRRP_ACT_MOVE_DONE,	/* the move .move_id was carried out here: report moves_done */
	VRRP_ACT_WANT_MASTER,	/* sync-gated: the Master_Down_Timer ran out (vrrp_set_sync_gate) */
};

struct vrrp_action {
	enum vrrp_action_type type;
	uint8_t priority;	 /* SEND_ADVERT */
	enum vrrp_state from;	 /* STATE_CHANGED */
	enum vrrp_state to;	 /* STATE_CHANGED */
	enum vrrp_reason reason; /* STATE_CHANGED */
	int64_t move_id;	 /* MOVE_DONE */
};

/* Output of one input call, to be carried out in order. Every input function overwrites it. */
struct vrrp_actions {
	unsigned n;
	bool overflow; /* more than VRRP_MAX_ACTIONS were due: a bug, never expected */
	struct vrrp_action list[VRRP_MAX_ACTIONS];
};

struct vrrp_config {
	uint8_t vrid;		/* 1..255 */
	uint8_t version;	/* 2 or 3 */
	uint8_t priority;	/* 1..254, or 255 for the address owner */
	uint32_t advert_int_ms; /* v2: 1000..255000 step 1000; v3: 10..40950 step 10 */
	bool preempt;
	uint32_t preempt_delay_ms; /* after (re)start, no preemption for this long (keepalived) */
	int family;		   /* AF_INET or AF_INET6 (v3 only) */
	struct addr primary;	   /* our address on the link: advert source and tie-break */
	uint8_t naddr;		   /* 1..VRRP_MAX_ADDRS */
	struct addr addrs[VRRP_MAX_ADDRS]; /* the VIP(s) advertised and added */
	uint8_t auth_type;		   /* v2: VRRP_AUTH_NONE or VRRP_AUTH_PASS; v3: NONE */
	uint8_t auth_data[VRRP_AUTH_LEN];  /* PASS: password, NUL padded */
	unsigned garp_repeat;		   /* announcements after the first on becoming Master */
	uint32_t garp_interval_ms;	   /* spacing of those */
};

/* Warnings from the last vrrp_recv(): the advert was used but the caller should log it. */
#define VRRP_WARN_INTERVAL 0x1 /* v3: a new Max Adver Int, not ours (learned, RFC 5798 6.4.2) */
#define VRRP_WARN_ADDRS 0x2    /* address list differs from ours (RFC 5798 7.1 MAY) */

/* One virtual router. The caller owns the memory; fields are readable, change them only through
 * the functions below (except move_done_id, see vrrp_init). */
struct vrrp_instance {
	struct vrrp_config cfg;
	enum vrrp_state state;
	bool fault;	       /* fault input asserted (kept while INIT) */
	int priority_adjust;   /* sum of failing check weights, added to the base priority */
	uint8_t move_priority; /* base priority while we are the requested holder; 0 = none */
	int64_t move_id;       /* last move request seen (0 = none) */
	int64_t move_done_id;  /* last move carried out or acknowledged (0 = none) */
	bool move_pending;     /* target of move_id, not carried out yet (INIT or FAULT) */
	uint32_t master_adver_int_ms; /* Master_Adver_Interval (v3 learns it from the Master) */
	int64_t master_down_at;	      /* Backup: Master_Down_Timer deadline, else VRRP_NEVER */
	int64_t adver_at;	      /* Master: Adver_Timer deadline, else VRRP_NEVER */
	int64_t garp_at;	      /* Master: next repeated announcement, else VRRP_NEVER */
	unsigned garp_left;
	int64_t preempt_after;	      /* Backup may preempt from this time on (preempt_delay) */
	enum vrrp_reason down_reason; /* reason given if the Master_Down_Timer fires */
	struct addr master_addr;      /* Backup: source of the last accepted advert */
	uint8_t master_priority;      /* and its priority */
	unsigned rx_warn;	      /* VRRP_WARN_* of the last vrrp_recv() */
	bool sync_gate;		      /* in a sync group: the group decides on Master */
	bool want_master;	      /* gated Backup whose Master_Down_Timer ran out */
	enum vrrp_reason last_reason; /* of the last state change */
	int64_t last_change_ms;	      /* time of the last state change */
};

/* Fills cfg with defaults: version 3, priority 100, advert 1000 ms, preempt off, no delay,
 * IPv4, no auth, 2 repeated announcements 1000 ms apart. Addresses and vrid are left zero. */
void vrrp_config_defaults(struct vrrp_config *cfg);

/* Checks cfg and sets inst up in INIT with no timers. Returns 0, or -EINVAL with a message in
 * err (may be NULL). To carry a move over a restart, set inst->move_done_id after this call. */
int vrrp_init(struct vrrp_instance *inst, const struct vrrp_config *cfg, char *err, size_t errlen);

/* Applies a new config of the same virtual router: priority, preempt, preempt_delay, interval,
 * auth, primary address, announcements. Returns 0 (actions in out: a Master advertises a changed
 * priority at once; a new owner takes over), or -EINVAL when vrid, version, family or the
 * addresses differ (tear the instance down and make a new one) or cfg is invalid. */
int vrrp_update_config(struct vrrp_instance *inst, const struct vrrp_config *cfg, int64_t now_ms,
		       struct vrrp_actions *out, char *err, size_t errlen);

/* Startup event (RFC 5798 6.4.1): owner -> Master, pending move -> Master, fault -> FAULT,
 * else Backup with Master_Down_Timer = Master_Down_Interval. Starts the preempt_delay window.
 * Does nothing unless INIT. */
void vrrp_start(struct vrrp_instance *inst, int64_t now_ms, struct vrrp_actions *out);

/* Shutdown event: a Master sends priority 0 then drops the VIP; every state goes to INIT. */
void vrrp_shutdown(struct vrrp_instance *inst, int64_t now_ms, struct vrrp_actions *out);

/* A decoded advertisement (vrrp_packet_decode() said OK) from IP source src. Applies the checks
 * that need the instance (VRID, family, our own advert, owner, v2 interval and address list)
 * and then RFC 5798 6.4.2 / 6.4.3. Returns VRRP_PKT_OK when the advert was used or ignored by
 * the state (Init, Fault, lower priority), or the drop reason. Sets inst->rx_warn. */
enum vrrp_pkt_error vrrp_recv(struct vrrp_instance *inst, const struct vrrp_advert *adv,
			      const struct addr *src, int64_t now_ms, struct vrrp_actions *out);

/* Fires every deadline that is due at now_ms (Master_Down_Timer, Adver_Timer, announcements).
 * Calling it early or twice is harmless. */
void vrrp_timer(struct vrrp_instance *inst, int64_t now_ms, struct vrrp_actions *out);

/* The earliest pending deadline (absolute ms), or VRRP_NEVER. */
int64_t vrrp_next_deadline(const struct vrrp_instance *inst);

/* Interface down or a weight-0 check failing (fault = true), or over (false). A Master sends
 * priority 0 and drops the VIP; Backup and Master go to FAULT. Clearing it runs the startup
 * event again (reason FAULT_CLEARED). */
void vrrp_set_fault(struct vrrp_instance *inst, bool fault, int64_t now_ms,
		    struct vrrp_actions *out);

/* Sets the sum of the weights of failing checks (keepalived track_script: negative lowers). The
 * effective priority is base + adjust clamped to 1..254 (an owner stays 255). A Master
 * advertises a change at once. */
void vrrp_set_priority_adjust(struct vrrp_instance *inst, int adjust, int64_t now_ms,
			      struct vrrp_actions *out);

enum vrrp_move_result {
	VRRP_MOVE_DONE,	      /* carried out now (MOVE_DONE action given) */
	VRRP_MOVE_ALREADY,    /* this id was carried out before: nothing moved */
	VRRP_MOVE_PENDING,    /* target but INIT or FAULT: carried out on start / fault cleared */
	VRRP_MOVE_NOT_TARGET, /* another node is the target: boost dropped, we step down on its
				 advert */
};

/* Manual move id (issue 3, PUT /vips/{name}/holder). Call it with every config that carries the
 * move; only a new id acts. Target: base priority becomes move_priority (the caller passes one
 * above every other member's, 1..254) for as long as the request stands, and a Backup takes over
 * at once as Master (ADD_VIP, SEND_GARP, SEND_ADVERT, STATE_CHANGED, MOVE_DONE); the old Master
 * steps down when it sees that advert (RFC 5798 6.4.3). Not the target: any boost is dropped. */
enum vrrp_move_result vrrp_move(struct vrrp_instance *inst, int64_t move_id, bool is_target,
				uint8_t move_priority, int64_t now_ms, struct vrrp_actions *out);

/* The move request was deleted: back to the configured priority (a Master advertises it). */
void vrrp_move_clear(struct vrrp_instance *inst, int64_t now_ms, struct vrrp_actions *out);

/* Sync groups (keepalived's vrrp_sync_group, sync_group.h decides). While gated, a Backup whose
 * Master_Down_Timer runs out does not become Master: it sets want_master, restarts the timer
 * (Master_Down_Interval) and gives VRRP_ACT_WANT_MASTER; the caller makes it Master with
 * vrrp_sync_to() once the whole group wants it. An advert it accepts from a Master (priority
 * above 0, not discarded for preempt) clears want_master; so does any state change. */
void vrrp_set_sync_gate(struct vrrp_instance *inst, bool gate);

/* Forced by the sync group. to MASTER: a Backup becomes Master at once (ADD_VIP, SEND_GARP,
 * SEND_ADVERT, STATE_CHANGED with why). to BACKUP: a Master sends priority 0 (its peer takes over
 * after Skew_Time, as on a fault) and drops the VIP, then waits as Backup. Any other case, and
 * INIT or FAULT instances, are left alone (a fault is an input: vrrp_set_fault). */
void vrrp_sync_to(struct vrrp_instance *inst, enum vrrp_state to, enum vrrp_reason why,
		  int64_t now_ms, struct vrrp_actions *out);

/* The priority this instance advertises now: 255 for an owner, else clamp(base + adjust). */
uint8_t vrrp_effective_priority(const struct vrrp_instance *inst);

/* Skew_Time in microseconds: v2 (256 - Priority) / 256 s (RFC 3768 6.1); v3
 * ((256 - Priority) * Master_Adver_Interval) / 256 (RFC 5798 6.1). Exact where the math is. */
int64_t vrrp_skew_time_us(const struct vrrp_instance *inst);

/* Master_Down_Interval in microseconds: 3 * Master_Adver_Interval + Skew_Time. Deadlines are
 * this rounded up to the next millisecond. */
int64_t vrrp_master_down_interval_us(const struct vrrp_instance *inst);

/* Fills adv for vrrp_packet_encode(): our version, vrid, the given priority, our interval,
 * addresses and auth. */
void vrrp_advert_fill(const struct vrrp_instance *inst, uint8_t priority, struct vrrp_advert *adv);

/* Fills what vrrp_packet_decode() must expect for this instance. */
void vrrp_rx_expect_fill(const struct vrrp_instance *inst, struct vrrp_rx_expect *expect);

/* "INIT", "BACKUP", "MASTER", "FAULT" (the API's spelling). */
const char *vrrp_state_str(enum vrrp_state s);

/* snake_case: "startup", "owner", "master_down", "master_released", "preempt",
 * "higher_priority", "shutdown", "fault", "fault_cleared", "move", "sync"; "none". */
const char *vrrp_reason_str(enum vrrp_reason r);

#endif
