/* One VRRP instance (instance.h). The state machine (vrrp.c) decides; this file does what it
 * says, in the order it says: for a new Master, address then gratuitous ARP then advert (make
 * before break); for a Master stepping down, the address goes only after the higher advert was
 * seen. */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arp.h"
#include "instance.h"
#include "realtime.h"
#include "vrrp_drops.h"

static void run(struct instance *in, struct vrrp_actions *acts);

static int64_t
now(void)
{
	return loop_now_ms();
}

static struct loop *
loop_of(const struct instance *in)
{
	return in->ctx->io->loop;
}

static void
on_timer(void *arg)
{
	struct instance *in = arg;
	struct vrrp_actions acts;
	int64_t t = now(), due = vrrp_next_deadline(&in->vr);

	if (due != VRRP_NEVER && t > due) /* the loop was busy: say so when it matters */
		rt_timer_late(in->name, t - due, in->vr.master_adver_int_ms, t);
	vrrp_timer(&in->vr, t, &acts);
	run(in, &acts);
}

static void
rearm(struct instance *in)
{
	int64_t at = vrrp_next_deadline(&in->vr);

	if (at == VRRP_NEVER)
		loop_timer_off(loop_of(in), &in->timer);
	else
		loop_timer_at(loop_of(in), &in->timer, at);
}

static int
sock_of(const struct instance *in)
{
	return in->family == AF_INET ? in->ctx->io->sock4 : in->ctx->io->sock6;
}

/* Where the instance holds its addresses and sends from: its macvlan with vmac, else its
 * interface. Adverts arrive on either (see join()). */
static int
out_ifindex(const struct instance *in)
{
	return in->vmac.on ? in->vmac.ifindex : in->ifc.ifindex;
}

static const uint8_t *
out_mac(const struct instance *in)
{
	return in->vmac.on ? in->vmac.mac : in->ifc.mac;
}

/* Encodes the advert for destination dst (the group or a unicast peer: the v3 checksum covers
 * it, RFC 5798 5.2.8, as keepalived computes it for unicast) and sends it there. Unicast with
 * vmac leaves from the interface (keepalived's vmac_xmit_base, which vigild renders): from the
 * macvlan, the ARP for a peer would teach it our address at the virtual MAC, which moves. */
static void
send_to(struct instance *in, const struct vrrp_advert *adv, const struct addr *dst)
{
	uint8_t buf[VRRP_PKT_MAX];
	ssize_t len = vrrp_packet_encode(adv, &in->vr.cfg.primary, dst, buf, sizeof(buf));
	int ifindex = in->uc.on ? in->ifc.ifindex : out_ifindex(in);
	char to[ADDR_STRLEN];

	if (len < 0 ||
	    vrrp_io_send_to(sock_of(in), ifindex, &in->vr.cfg.primary, dst, buf, (size_t)len) != 0)
		fprintf(stderr, "vigil-agent: %s: cannot send advertisement to %s\n", in->name,
			addr_format(dst, to, sizeof(to)));
}

/* Multicast: one advert to the group. Unicast: one to each peer. */
static void
send_advert(struct instance *in, uint8_t priority)
{
	struct vrrp_advert adv;
	struct addr group;

	vrrp_advert_fill(&in->vr, priority, &adv);
	if (!in->uc.on) {
		vrrp_io_group(in->family, &group);
		send_to(in, &adv, &group);
		return;
	}
	for (unsigned i = 0; i < in->uc.npeers; i++)
		send_to(in, &adv, &in->uc.peers[i]);
}

/* One gratuitous ARP (IPv4: request and reply form) or unsolicited NA (IPv6) for a. */
static int
announce_one(struct instance *in, const struct addr *a, char *err, size_t errlen)
{
	int fd = in->ctx->io->arp_fd;

	if (a->family == AF_INET)
		return arp_send_garp(fd, out_ifindex(in), out_mac(in), a->u.v4, err, errlen);
	return arp_send_na(fd, out_ifindex(in), out_mac(in),
			   in->ifc.has_ipv6_ll ? &in->ifc.ipv6_ll : &a->u.v6, &a->u.v6, false, err,
			   errlen);
}

/* The i-th address of the instance: the advertised ones, then the excluded ones. */
static const struct addr_prefix *
prefix_at(const struct instance *in, unsigned i)
{
	return i < in->naddr ? &in->prefix[i] : &in->excl[i - in->naddr];
}

/* A burst: count announcements of every address, advertised and excluded (each of its own
 * family), back to back as keepalived's garp_interval 0. Logs the first failure only. */
static void
announce(struct instance *in, unsigned count)
{
	char err[160];
	bool logged = false;

	for (unsigned r = 0; r < count; r++)
		for (unsigned i = 0; i < in->naddr + in->nexcl; i++)
			if (announce_one(in, &prefix_at(in, i)->addr, err, sizeof(err)) != 0 &&
			    !logged) {
				fprintf(stderr, "vigil-agent: %s: announce: %s\n", in->name, err);
				logged = true;
			}
}

static void
rearm_garp(struct instance *in)
{
	int64_t at = garp_sched_next(&in->garp);

	if (at == GARP_NEVER)
		loop_timer_off(loop_of(in), &in->garp_timer);
	else
		loop_timer_at(loop_of(in), &in->garp_timer, at);
}

/* The second burst or a refresh (garp_delay_s, garp_refresh_s) is due. */
static void
on_garp_timer(void *arg)
{
	struct instance *in = arg;

	announce(in, garp_sched_due(&in->garp, now()));
	rearm_garp(in);
}

/* Adds or removes every address of the instance on ifindex, excluded ones too: they move
 * together. */
static void
set_addr_on(struct instance *in, int ifindex, bool add)
{
	struct nl_ctx *nl = in->ctx->io->nl;
	char err[160];

	for (unsigned i = 0; i < in->naddr + in->nexcl; i++) {
		const struct addr_prefix *p = prefix_at(in, i);
		int rc = add ? nl_ifaddr_add(nl, ifindex, p, err, sizeof(err))
			     : nl_ifaddr_del(nl, ifindex, p, err, sizeof(err));
		if (rc != 0)
			fprintf(stderr, "vigil-agent: %s: %s address: %s\n", in->name,
				add ? "add" : "remove", err);
	}
}

static void
set_addr(struct instance *in, bool add)
{
	set_addr_on(in, out_ifindex(in), add);
}

/* Says why the state changed: a fault names its input (the link, a tracked interface, the
 * failing node checks), anything else the state machine's reason. */
static void
transition(struct instance *in, const struct vrrp_action *a)
{
	const struct inst_ctx *ctx = in->ctx;
	char reason[300], track_why[80], check_why[256] = "";
	int track_adjust, check_adjust = 0;
	bool track_fault, check_fault = false;

	track_eval(&in->track, &track_adjust, &track_fault, track_why, sizeof(track_why));
	if (a->reason == VRRP_REASON_FAULT && ctx->checks_for)
		ctx->checks_for(ctx->arg, in->name, &check_adjust, &check_fault, check_why,
				sizeof(check_why));
	if (a->reason == VRRP_REASON_FAULT && in->link_down)
		snprintf(reason, sizeof(reason), "interface %s down", in->ifname);
	else if (a->reason == VRRP_REASON_FAULT && track_fault)
		snprintf(reason, sizeof(reason), "%s", track_why);
	else if (a->reason == VRRP_REASON_FAULT && check_fault)
		snprintf(reason, sizeof(reason), "%s", check_why);
	else if (a->reason == VRRP_REASON_FAULT && !in->own_fault && in->group[0])
		snprintf(reason, sizeof(reason), "sync group %s: another member is at fault",
			 in->group);
	else if (a->reason == VRRP_REASON_SYNC)
		snprintf(reason, sizeof(reason), "sync group %s", in->group);
	else
		snprintf(reason, sizeof(reason), "%s", vrrp_reason_str(a->reason));
	fprintf(stderr, "vigil-agent: %s: %s -> %s (%s)\n", in->name, vrrp_state_str(a->from),
		vrrp_state_str(a->to), reason);
	if (ctx->state_changed)
		ctx->state_changed(ctx->arg, in, a->from, a->to, reason);
}

/* Carries out the actions in order, re-arms the instance's timer, then tells the table what its
 * sync group must know. */
static void
run(struct instance *in, struct vrrp_actions *acts)
{
	struct inst_ran r = {false, VRRP_STATE_INIT, VRRP_REASON_NONE, false};

	for (unsigned i = 0; i < acts->n; i++) {
		const struct vrrp_action *a = &acts->list[i];
		switch (a->type) {
		case VRRP_ACT_ADD_VIP:
			set_addr(in, true);
			break;
		case VRRP_ACT_DEL_VIP:
			set_addr(in, false);
			break;
		case VRRP_ACT_SEND_GARP: /* becoming Master: the first burst */
			announce(in, garp_sched_start(&in->garp, now()));
			rearm_garp(in);
			break;
		case VRRP_ACT_SEND_ADVERT:
			send_advert(in, a->priority);
			break;
		case VRRP_ACT_STATE_CHANGED:
			if (a->from == VRRP_STATE_MASTER) {
				garp_sched_stop(&in->garp);
				rearm_garp(in);
			}
			transition(in, a);
			if (!r.changed) /* the group follows the first change */
				r = (struct inst_ran){true, a->from, a->reason, r.want_master};
			break;
		case VRRP_ACT_MOVE_DONE:
			if (in->ctx->move_done)
				in->ctx->move_done(in->ctx->arg, in, a->move_id);
			break;
		case VRRP_ACT_WANT_MASTER:
			r.want_master = true;
			break;
		}
	}
	rearm(in);
	if (in->ctx->ran)
		in->ctx->ran(in->ctx->arg, in, &r);
}

void
inst_sync_to(struct instance *in, enum vrrp_state to, enum vrrp_reason why)
{
	struct vrrp_actions acts;

	vrrp_sync_to(&in->vr, to, why, now(), &acts);
	run(in, &acts);
}

/* Builds the VRRP config of entry v on the instance's interface. Returns 0 or -1 (reason in
 * err). */
static int
make_config(const struct instance *in, const struct nc_vip *v, struct vrrp_config *c, char *err,
	    size_t errlen)
{
	vrrp_config_defaults(c);
	c->vrid = v->vrid;
	c->version = v->version;
	c->priority = v->priority;
	c->advert_int_ms = v->advert_int_ms;
	c->preempt = v->preempt;
	c->preempt_delay_ms = v->preempt_delay_ms;
	c->family = v->family;
	c->garp_repeat = 0; /* the bursts after the first are garp.c's */
	if (v->uc.on) {
		c->primary = v->uc.src; /* keepalived's unicast_src_ip: source and tie-break */
	} else if (c->family == AF_INET) {
		if (!in->ifc.has_ipv4) {
			snprintf(err, errlen, "%s has no IPv4 address", in->ifname);
			return -1;
		}
		c->primary.family = AF_INET;
		c->primary.u.v4 = in->ifc.ipv4;
	} else {
		if (!in->ifc.has_ipv6_ll) {
			snprintf(err, errlen, "%s has no IPv6 link-local address", in->ifname);
			return -1;
		}
		c->primary.family = AF_INET6;
		c->primary.u.v6 = in->ifc.ipv6_ll;
	}
	c->naddr = (uint8_t)v->naddr;
	for (unsigned i = 0; i < v->naddr; i++)
		c->addrs[i] = v->addrs[i].addr;
	if (c->version == 2 && v->auth_pass[0] != '\0') {
		c->auth_type = VRRP_AUTH_PASS;
		memcpy(c->auth_data, v->auth_pass, strnlen(v->auth_pass, VRRP_AUTH_LEN));
	}
	return 0;
}

void
inst_inputs(struct instance *in)
{
	const struct inst_ctx *ctx = in->ctx;
	struct vrrp_actions acts;
	int adjust, check_adjust = 0;
	bool fault, check_fault = false, was_own = in->own_fault;

	track_eval(&in->track, &adjust, &fault, NULL, 0);
	if (ctx->checks_for)
		ctx->checks_for(ctx->arg, in->name, &check_adjust, &check_fault, NULL, 0);
	adjust += check_adjust;
	in->own_fault = fault || in->link_down || check_fault;
	fault =
	    in->own_fault || (in->group[0] && ctx->group_fault && ctx->group_fault(ctx->arg, in));
	if (in->vr.priority_adjust != adjust) {
		vrrp_set_priority_adjust(&in->vr, adjust, now(), &acts);
		run(in, &acts);
	}
	if (in->vr.fault != fault) {
		vrrp_set_fault(&in->vr, fault, now(), &acts);
		run(in, &acts);
	}
	if (in->group[0] && in->own_fault != was_own && ctx->own_fault_changed)
		ctx->own_fault_changed(ctx->arg, in); /* the others' group fault changed */
}

void
inst_move(struct instance *in, const struct nc_vip *v)
{
	struct vrrp_actions acts;

	if (v->move_id > 0) {
		vrrp_move(&in->vr, v->move_id, v->move_here, v->move_priority, now(), &acts);
		run(in, &acts);
	} else if (in->vr.move_id != 0 && in->vr.move_priority != 0) {
		vrrp_move_clear(&in->vr, now(), &acts);
		run(in, &acts);
	}
}

/* vmac: the macvlan of entry v, made (or a crash's leftover reused) before anything is sent. */
static int
open_vmac(struct instance *in, const struct nc_vip *v, char *err, size_t errlen)
{
	if (!v->vmac)
		return 0;
	return vmac_open(in->ctx->io->nl, &in->ifc, in->vr.cfg.vrid, in->family, &in->vmac, err,
			 errlen);
}

static void
close_vmac(struct instance *in)
{
	char err[160];

	if (vmac_close(in->ctx->io->nl, &in->vmac, err, sizeof(err)) != 0)
		fprintf(stderr, "vigil-agent: %s: %s\n", in->name, err);
}

void
inst_destroy(struct instance *in)
{
	struct vrrp_actions acts;

	vrrp_shutdown(&in->vr, now(), &acts);
	run(in, &acts);
	loop_timer_off(loop_of(in), &in->timer);
	loop_timer_off(loop_of(in), &in->garp_timer);
	close_vmac(in);
	free(in);
}

/* Joins the sync group of entry v ("" none): gated, the group decides on Master. */
static void
group_from(struct instance *in, const struct nc_vip *v)
{
	snprintf(in->group, sizeof(in->group), "%s", v->group);
	vrrp_set_sync_gate(&in->vr, in->group[0] != '\0');
}

/* Follows the tracked interfaces of entry v (resolving every one: all, or only those not known
 * yet). */
static void
track_from(struct instance *in, const struct nc_vip *v, bool all)
{
	track_configure(&in->track, v->track, v->ntrack);
	track_resolve(&in->track, in->ctx->io->nl, all);
}

/* On start we hold nothing: an address left behind (a crash, a reboot) goes. */
static void
remove_leftovers(struct instance *in)
{
	bool present[VRRP_MAX_ADDRS] = {false}, excl_present[VRRP_MAX_ADDRS] = {false};
	struct nl_ctx *nl = in->ctx->io->nl;
	char err[160];

	if ((nl_ifaddr_present(nl, in->ifc.ifindex, in->prefix, in->naddr, present, err,
			       sizeof(err)) == 0 &&
	     memchr(present, true, in->naddr) != NULL) ||
	    (in->nexcl > 0 &&
	     nl_ifaddr_present(nl, in->ifc.ifindex, in->excl, in->nexcl, excl_present, err,
			       sizeof(err)) == 0 &&
	     memchr(excl_present, true, in->nexcl) != NULL))
		set_addr_on(in, in->ifc.ifindex, false);
	if (in->vmac.on) /* a reused macvlan may hold them too */
		set_addr(in, false);
}

/* Joins the VRRP group (a unicast instance hears its peers without it: RFC 5798 allows
 * unicast). With vmac on the macvlan too: the kernel hands a frame whose source is our own
 * virtual MAC (a peer's advert, from its macvlan) to our macvlan alone, not to the parent. */
static int
join(struct instance *in)
{
	if (sock_of(in) < 0)
		return -1;
	if (in->uc.on)
		return 0;
	if (vrrp_io_join(sock_of(in), in->family, in->ifc.ifindex) != 0 ||
	    (in->vmac.on && vrrp_io_join(sock_of(in), in->family, in->vmac.ifindex) != 0))
		return -1;
	return 0;
}

struct instance *
inst_create(const struct inst_ctx *ctx, const struct nc_vip *v, int64_t move_done_id, char *err,
	    size_t errlen)
{
	struct instance *in = calloc(1, sizeof(*in));
	struct vrrp_config cfg;
	struct vrrp_actions acts;

	if (in == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	in->ctx = ctx;
	snprintf(in->name, sizeof(in->name), "%s", v->name);
	snprintf(in->ifname, sizeof(in->ifname), "%s", v->ifname);
	in->timer.fn = on_timer;
	in->timer.arg = in;
	in->garp_timer.fn = on_garp_timer;
	in->garp_timer.arg = in;
	garp_sched_init(&in->garp, &v->garp);
	in->family = v->family;
	in->naddr = v->naddr;
	memcpy(in->prefix, v->addrs, sizeof(v->addrs[0]) * v->naddr);
	in->nexcl = v->nexcl;
	memcpy(in->excl, v->excl, sizeof(v->excl[0]) * v->nexcl);
	in->uc = v->uc;
	if (nl_if_resolve(ctx->io->nl, v->ifname, &in->ifc, err, errlen) != 0 ||
	    make_config(in, v, &cfg, err, errlen) != 0 ||
	    vrrp_init(&in->vr, &cfg, err, errlen) != 0 || open_vmac(in, v, err, errlen) != 0)
		goto fail;
	in->vr.move_done_id = move_done_id;
	remove_leftovers(in);
	if (join(in) != 0) {
		snprintf(err, errlen, "cannot join the VRRP group on %s", v->ifname);
		close_vmac(in);
		goto fail;
	}
	in->link_down = !in->ifc.oper_up;
	group_from(in, v);
	track_from(in, v, true);
	inst_inputs(in);
	vrrp_start(&in->vr, now(), &acts);
	run(in, &acts);
	return in;
fail:
	free(in);
	return NULL;
}

int
inst_update(struct instance *in, const struct nc_vip *v, char *err, size_t errlen)
{
	struct vrrp_config cfg;
	struct vrrp_actions acts;
	struct nc_vip have;

	/* what cannot change in place, as the instance holds it */
	memset(&have, 0, sizeof(have));
	snprintf(have.ifname, sizeof(have.ifname), "%s", in->ifname);
	have.naddr = in->naddr;
	memcpy(have.addrs, in->prefix, sizeof(in->prefix[0]) * in->naddr);
	have.nexcl = in->nexcl;
	memcpy(have.excl, in->excl, sizeof(in->excl[0]) * in->nexcl);
	have.uc = in->uc;
	have.vmac = in->vmac.on;
	if (nc_vip_needs_restart(&have, v)) {
		snprintf(err, errlen, "interface, addresses, unicast or vmac changed");
		return -1;
	}
	if (make_config(in, v, &cfg, err, errlen) != 0 ||
	    vrrp_update_config(&in->vr, &cfg, now(), &acts, err, errlen) != 0)
		return -1;
	group_from(in, v);
	garp_sched_set(&in->garp, &v->garp, now());
	rearm_garp(in);
	run(in, &acts);
	track_from(in, v, false);
	return 0;
}

void
inst_link(struct instance *in, bool up)
{
	if (in->link_down == !up)
		return;
	in->link_down = !up;
	if (up) { /* the primary address may have changed while it was down */
		struct nl_iface ifc;
		char err[160];
		if (nl_if_resolve(in->ctx->io->nl, in->ifname, &ifc, err, sizeof(err)) == 0)
			in->ifc = ifc;
	}
	inst_inputs(in);
}

bool
inst_wants(const struct instance *in, const struct vrrp_rx *rx, int family)
{
	return (in->ifc.ifindex == rx->ifindex ||
		(in->vmac.on && in->vmac.ifindex == rx->ifindex)) &&
	       rx->len >= 2 && in->vr.cfg.vrid == rx->payload[1] && in->family == family;
}

int
inst_receive(struct instance *in, const struct vrrp_rx *rx, unsigned *warn, uint32_t *adv_int_ms)
{
	struct vrrp_rx_expect expect;
	struct vrrp_advert adv;
	struct vrrp_actions acts;
	enum vrrp_pkt_error e;

	*warn = 0;
	if (!vrrp_unicast_accepts(&in->uc, &rx->meta.src))
		return VRRP_DROP_NOT_UNICAST_PEER;
	vrrp_rx_expect_fill(&in->vr, &expect);
	e = vrrp_packet_decode(rx->payload, rx->len, &rx->meta, &expect, &adv);
	if (e == VRRP_PKT_OK)
		e = vrrp_recv(&in->vr, &adv, &rx->meta.src, now(), &acts);
	if (e != VRRP_PKT_OK)
		return (int)e;
	*warn = in->vr.rx_warn;
	*adv_int_ms = adv.adver_int_ms;
	run(in, &acts);
	return VRRP_PKT_OK;
}
