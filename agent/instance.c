/* VRRP instances of the agent. The state machine (vrrp.c) decides; this file does what it says,
 * in the order it says: for a new Master, address then gratuitous ARP then advert (make before
 * break); for a Master stepping down, the address goes only after the higher advert was seen. */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "arp.h"
#include "instance.h"
#include "realtime.h"
#include "vrrp_io.h"

static void run(struct instance *in, struct vrrp_actions *acts);

static int64_t
now(void)
{
	return loop_now_ms();
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
		loop_timer_off(in->env->loop, &in->timer);
	else
		loop_timer_at(in->env->loop, &in->timer, at);
}

static int
sock_of(const struct instance *in)
{
	return in->family == AF_INET ? in->env->sock4 : in->env->sock6;
}

/* Where the instance holds its addresses and sends from: its macvlan with vmac, else its
 * interface. Adverts arrive on either (see create()). */
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
	if (a->family == AF_INET)
		return arp_send_garp(in->env->arp_fd, out_ifindex(in), out_mac(in), a->u.v4, err,
				     errlen);
	return arp_send_na(in->env->arp_fd, out_ifindex(in), out_mac(in),
			   in->ifc.has_ipv6_ll ? &in->ifc.ipv6_ll : &a->u.v6, &a->u.v6, false, err,
			   errlen);
}

/* A burst: count announcements of every address, advertised and excluded (each of its own
 * family), back to back as keepalived's garp_interval 0. Logs the first failure only. */
static void
announce(struct instance *in, unsigned count)
{
	char err[160];
	bool logged = false;

	for (unsigned r = 0; r < count; r++)
		for (unsigned i = 0; i < in->naddr + in->nexcl; i++) {
			const struct addr *a =
			    i < in->naddr ? &in->prefix[i].addr : &in->excl[i - in->naddr].addr;
			if (announce_one(in, a, err, sizeof(err)) != 0 && !logged) {
				fprintf(stderr, "vigil-agent: %s: announce: %s\n", in->name, err);
				logged = true;
			}
		}
}

static void
rearm_garp(struct instance *in)
{
	int64_t at = garp_sched_next(&in->garp);

	if (at == GARP_NEVER)
		loop_timer_off(in->env->loop, &in->garp_timer);
	else
		loop_timer_at(in->env->loop, &in->garp_timer, at);
}

/* The second burst or a refresh (garp_delay_s, garp_refresh_s) is due. */
static void
on_garp_timer(void *arg)
{
	struct instance *in = arg;

	announce(in, garp_sched_due(&in->garp, now()));
	rearm_garp(in);
}

/* Adds or removes every address of the instance, excluded ones too: they move together. */
static void
set_addr_on(struct instance *in, int ifindex, bool add)
{
	char err[160];

	for (unsigned i = 0; i < in->naddr + in->nexcl; i++) {
		const struct addr_prefix *p =
		    i < in->naddr ? &in->prefix[i] : &in->excl[i - in->naddr];
		int rc = add ? nl_ifaddr_add(in->env->nl, ifindex, p, err, sizeof(err))
			     : nl_ifaddr_del(in->env->nl, ifindex, p, err, sizeof(err));
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

/*
 * Parses a VIP entry's "addresses" (excluded false: 1 to VRRP_MAX_ADDRS of one family, every
 * one carried in the advertisement) or "excluded_addresses" (true: none to VRRP_MAX_ADDRS of
 * either family, keepalived's virtual_ipaddress_excluded; absent is none) into out. Returns 0,
 * or -1 with the reason in err. track_interfaces is track.c's, notify notify.c's (through
 * env->transitioned), vmac vmac.c's; sync groups are not acted on yet.
 */
static int
parse_prefixes(json_t *list, bool excluded, struct addr_prefix out[], unsigned *n, char *err,
	       size_t errlen)
{
	json_t *a;
	size_t i;

	*n = 0;
	if (json_array_size(list) < (excluded ? 0 : 1) || json_array_size(list) > VRRP_MAX_ADDRS) {
		snprintf(err, errlen, "needs %d to %d %saddresses", excluded ? 0 : 1,
			 VRRP_MAX_ADDRS, excluded ? "excluded " : "");
		return -1;
	}
	json_array_foreach(list, i, a)
	{
		const char *s = json_string_value(a);
		if (s == NULL || addr_parse_prefix(s, &out[i]) != 0 ||
		    (!excluded && i > 0 && out[i].addr.family != out[0].addr.family)) {
			snprintf(err, errlen, "bad %saddress %s", excluded ? "excluded " : "",
				 s ? s : "(not a string)");
			return -1;
		}
	}
	*n = (unsigned)i;
	return 0;
}

static void
transition(struct instance *in, const struct vrrp_action *a)
{
	char ts[40];
	struct inst_env *env = in->env;
	struct timespec t;

	clock_gettime(CLOCK_REALTIME, &t);
	struct tm tm;
	gmtime_r(&t.tv_sec, &tm);
	strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%SZ", &tm);
	/* A fault says which input caused it: the link, or the failing node checks. */
	char reason[300];
	int track_adjust;
	bool track_fault;
	char track_why[80];
	track_eval(&in->track, &track_adjust, &track_fault, track_why, sizeof(track_why));
	if (a->reason == VRRP_REASON_FAULT && in->link_down)
		snprintf(reason, sizeof(reason), "interface %s down", in->ifname);
	else if (a->reason == VRRP_REASON_FAULT && track_fault)
		snprintf(reason, sizeof(reason), "%s", track_why);
	else if (a->reason == VRRP_REASON_FAULT && env->check_fault)
		snprintf(reason, sizeof(reason), "%s", env->fault_reason);
	else
		snprintf(reason, sizeof(reason), "%s", vrrp_reason_str(a->reason));
	json_decref(env->last_transition);
	env->last_transition =
	    json_pack("{s:s, s:s, s:s, s:s, s:s}", "vip", in->name, "from", vrrp_state_str(a->from),
		      "to", vrrp_state_str(a->to), "reason", reason, "at", ts);
	fprintf(stderr, "vigil-agent: %s: %s -> %s (%s)\n", in->name, vrrp_state_str(a->from),
		vrrp_state_str(a->to), reason);
	if (env->transitioned)
		env->transitioned(env->transitioned_arg, in->name, a->to,
				  vrrp_effective_priority(&in->vr));
}

/* Carries out the actions in order, then re-arms the instance's timer and reports. */
static void
run(struct instance *in, struct vrrp_actions *acts)
{
	bool report = false;

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
			report = true;
			break;
		case VRRP_ACT_MOVE_DONE:
			json_object_set_new(in->env->moves_done, in->name,
					    json_integer(a->move_id));
			report = true;
			break;
		}
	}
	rearm(in);
	if (report && in->env->changed)
		in->env->changed(in->env->changed_arg);
}

/* Builds the VRRP config of a VIP entry. Returns 0 or -1 (reason in err). */
static int
make_config(struct instance *in, json_t *v, struct vrrp_config *c, char *err, size_t errlen)
{
	const char *pass = json_string_value(json_object_get(v, "auth_pass"));
	json_int_t prio = json_integer_value(json_object_get(v, "priority"));

	vrrp_config_defaults(c);
	c->vrid = (uint8_t)json_integer_value(json_object_get(v, "vrid"));
	c->version = (uint8_t)json_integer_value(json_object_get(v, "version"));
	c->priority = (uint8_t)(prio >= 1 && prio <= 254 ? prio : 100);
	c->advert_int_ms = (uint32_t)json_integer_value(json_object_get(v, "advert_int_ms"));
	c->preempt = json_is_true(json_object_get(v, "preempt"));
	c->preempt_delay_ms = (uint32_t)json_integer_value(json_object_get(v, "preempt_delay_ms"));
	c->family = in->family;
	c->garp_repeat = 0; /* the bursts after the first are garp.c's */
	if (in->uc.on) {
		c->primary = in->uc.src; /* keepalived's unicast_src_ip: source and tie-break */
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
	c->naddr = (uint8_t)in->naddr;
	for (unsigned i = 0; i < in->naddr; i++)
		c->addrs[i] = in->prefix[i].addr;
	if (c->version == 2 && pass != NULL) {
		c->auth_type = VRRP_AUTH_PASS;
		memcpy(c->auth_data, pass, strnlen(pass, VRRP_AUTH_LEN)); /* NUL padded */
	}
	return 0;
}

/* Feeds the instance what moves its priority or faults it: the node checks (env), its link and
 * its tracked interfaces. */
static void
apply_inputs(struct instance *in)
{
	struct inst_env *env = in->env;
	struct vrrp_actions acts;
	int adjust;
	bool fault;

	track_eval(&in->track, &adjust, &fault, NULL, 0);
	adjust += env->check_adjust;
	fault = fault || in->link_down || env->check_fault;
	if (in->vr.priority_adjust != adjust) {
		vrrp_set_priority_adjust(&in->vr, adjust, now(), &acts);
		run(in, &acts);
	}
	if (in->vr.fault != fault) {
		vrrp_set_fault(&in->vr, fault, now(), &acts);
		run(in, &acts);
	}
}

/* The priority a move target advertises: above every other member's, at most 254. */
static uint8_t
move_priority(json_t *v)
{
	json_int_t best = json_integer_value(json_object_get(v, "priority"));
	json_t *p;
	size_t i;

	json_array_foreach(json_object_get(v, "peers"), i,
			   p) if (json_integer_value(json_object_get(p, "priority")) >= best) best =
	    json_integer_value(json_object_get(p, "priority")) + 1;
	return (uint8_t)(best > 254 ? 254 : best < 1 ? 1 : best);
}

static void
apply_move(struct instance *in, json_t *v)
{
	json_t *move = json_object_get(v, "move");
	struct vrrp_actions acts;

	if (json_is_object(move)) {
		const char *target = json_string_value(json_object_get(move, "target"));
		json_int_t id = json_integer_value(json_object_get(move, "id"));
		if (target == NULL || id <= 0)
			return;
		vrrp_move(&in->vr, id, strcmp(target, in->env->node) == 0, move_priority(v), now(),
			  &acts);
		run(in, &acts);
	} else if (in->vr.move_id != 0 && in->vr.move_priority != 0) {
		vrrp_move_clear(&in->vr, now(), &acts);
		run(in, &acts);
	}
}

/* vmac: the macvlan of VIP entry v, made (or a leftover reused) before anything is sent. */
static int
open_vmac(struct instance *in, json_t *v, char *err, size_t errlen)
{
	if (!json_is_true(json_object_get(v, "vmac")))
		return 0;
	return vmac_open(in->env->nl, &in->ifc, in->vr.cfg.vrid, in->family, &in->vmac, err,
			 errlen);
}

static void
close_vmac(struct instance *in)
{
	char err[160];

	if (vmac_close(in->env->nl, &in->vmac, err, sizeof(err)) != 0)
		fprintf(stderr, "vigil-agent: %s: %s\n", in->name, err);
}

static void
destroy(struct instance *in)
{
	struct vrrp_actions acts;

	vrrp_shutdown(&in->vr, now(), &acts);
	run(in, &acts);
	loop_timer_off(in->env->loop, &in->timer);
	loop_timer_off(in->env->loop, &in->garp_timer);
	close_vmac(in);
	free(in);
}

/* Creates and starts the instance of VIP entry v. Returns it or NULL (logged). */
static struct instance *
create(struct inst_env *env, json_t *v)
{
	struct instance *in = calloc(1, sizeof(*in));
	const char *name = json_string_value(json_object_get(v, "name"));
	const char *ifname = json_string_value(json_object_get(v, "interface"));
	struct vrrp_config cfg;
	struct vrrp_actions acts;
	char err[200];
	bool present[VRRP_MAX_ADDRS] = {false}, excl_present[VRRP_MAX_ADDRS] = {false};
	struct garp_params gp;

	if (in == NULL || !name || !ifname)
		goto fail_quiet;
	in->env = env;
	snprintf(in->name, sizeof(in->name), "%s", name);
	snprintf(in->ifname, sizeof(in->ifname), "%s", ifname);
	in->timer.fn = on_timer;
	in->timer.arg = in;
	in->garp_timer.fn = on_garp_timer;
	in->garp_timer.arg = in;
	garp_params_parse(v, &gp);
	garp_sched_init(&in->garp, &gp);
	if (parse_prefixes(json_object_get(v, "addresses"), false, in->prefix, &in->naddr, err,
			   sizeof(err)) != 0 ||
	    parse_prefixes(json_object_get(v, "excluded_addresses"), true, in->excl, &in->nexcl,
			   err, sizeof(err)) != 0)
		goto fail;
	in->family = in->prefix[0].addr.family;
	if (vrrp_unicast_parse(v, in->family, &in->uc, err, sizeof(err)) != 0)
		goto fail;
	if (nl_if_resolve(env->nl, ifname, &in->ifc, err, sizeof(err)) != 0 ||
	    make_config(in, v, &cfg, err, sizeof(err)) != 0 ||
	    vrrp_init(&in->vr, &cfg, err, sizeof(err)) != 0 ||
	    open_vmac(in, v, err, sizeof(err)) != 0)
		goto fail;
	in->vr.move_done_id = json_integer_value(json_object_get(env->moves_done, name));
	/* On start we hold nothing: an address left behind (a crash, a reboot) goes. */
	if ((nl_ifaddr_present(env->nl, in->ifc.ifindex, in->prefix, in->naddr, present, err,
			       sizeof(err)) == 0 &&
	     memchr(present, true, in->naddr) != NULL) ||
	    (in->nexcl > 0 &&
	     nl_ifaddr_present(env->nl, in->ifc.ifindex, in->excl, in->nexcl, excl_present, err,
			       sizeof(err)) == 0 &&
	     memchr(excl_present, true, in->nexcl) != NULL))
		set_addr_on(in, in->ifc.ifindex, false);
	if (in->vmac.on) /* a reused macvlan may hold them too */
		set_addr(in, false);
	/* A unicast instance hears its peers without the group (RFC 5798 allows unicast). With
	 * vmac it joins on the macvlan too: the kernel hands a frame whose source is our own
	 * virtual MAC (a peer's advert, from its macvlan) to our macvlan alone, not to the parent.
	 */
	if (sock_of(in) < 0 ||
	    (!in->uc.on &&
	     (vrrp_io_join(sock_of(in), in->family, in->ifc.ifindex) != 0 ||
	      (in->vmac.on && vrrp_io_join(sock_of(in), in->family, in->vmac.ifindex) != 0)))) {
		snprintf(err, sizeof(err), "cannot join the VRRP group on %s", ifname);
		close_vmac(in);
		goto fail;
	}
	in->link_down = !in->ifc.oper_up;
	track_configure(&in->track, json_object_get(v, "track_interfaces"));
	track_resolve(&in->track, env->nl, true);
	apply_inputs(in);
	vrrp_start(&in->vr, now(), &acts);
	run(in, &acts);
	return in;
fail:
	fprintf(stderr, "vigil-agent: VIP %s: %s\n", name ? name : "?", err);
fail_quiet:
	free(in);
	return NULL;
}

/* Does the address list (excluded or not) equal have[nhave], in order, prefix lengths included?
 * (A changed list recreates the instance: the old addresses go, the new ones come.) */
static bool
same_prefixes(const struct addr_prefix *have, unsigned nhave, json_t *list, bool excluded)
{
	static struct addr_prefix p[VRRP_MAX_ADDRS]; /* one thread: the agent's loop */
	unsigned n;
	char err[80];

	if (parse_prefixes(list, excluded, p, &n, err, sizeof(err)) != 0 || n != nhave)
		return false;
	for (unsigned i = 0; i < n; i++)
		if (!addr_equal(&p[i].addr, &have[i].addr) || p[i].prefix_len != have[i].prefix_len)
			return false;
	return true;
}

/* Can the instance take VIP entry v as an update? Same interface and addresses, excluded ones
 * too, and the same unicast settings (a change recreates it: release, then start afresh). */
static bool
same_instance(const struct instance *in, json_t *v)
{
	static struct vrrp_unicast uc; /* one thread: the agent's loop */
	const char *ifname = json_string_value(json_object_get(v, "interface"));
	char err[80];

	return ifname && strcmp(ifname, in->ifname) == 0 &&
	       same_prefixes(in->prefix, in->naddr, json_object_get(v, "addresses"), false) &&
	       same_prefixes(in->excl, in->nexcl, json_object_get(v, "excluded_addresses"), true) &&
	       vrrp_unicast_parse(v, in->family, &uc, err, sizeof(err)) == 0 &&
	       vrrp_unicast_equal(&uc, &in->uc) &&
	       json_is_true(json_object_get(v, "vmac")) == in->vmac.on;
}

void
inst_apply(struct inst_env *env, struct instance *tab[], int *n, json_t *config)
{
	json_t *v;
	size_t i;

	for (int k = 0; k < *n; k++)
		tab[k]->seen = false;
	json_array_foreach(json_object_get(config, "vips"), i, v)
	{
		const char *name = json_string_value(json_object_get(v, "name"));
		struct instance *in = NULL;
		int k;
		for (k = 0; k < *n && name; k++)
			if (strcmp(tab[k]->name, name) == 0) {
				in = tab[k];
				break;
			}
		if (in != NULL) {
			struct vrrp_config cfg;
			struct vrrp_actions acts;
			char err[200];
			struct garp_params gp;
			if (same_instance(in, v) &&
			    make_config(in, v, &cfg, err, sizeof(err)) == 0 &&
			    vrrp_update_config(&in->vr, &cfg, now(), &acts, err, sizeof(err)) ==
				0) {
				garp_params_parse(v, &gp);
				garp_sched_set(&in->garp, &gp, now());
				rearm_garp(in);
				run(in, &acts);
			} else {
				destroy(in);
				tab[k] = tab[--*n];
				in = NULL;
			}
		}
		if (in == NULL && *n < INST_MAX && (in = create(env, v)) != NULL)
			tab[(*n)++] = in;
		if (in != NULL) {
			in->seen = true;
			track_configure(&in->track, json_object_get(v, "track_interfaces"));
			track_resolve(&in->track, env->nl, false);
			apply_inputs(in);
			apply_move(in, v);
		}
	}
	for (int k = 0; k < *n;) {
		if (tab[k]->seen) {
			k++;
			continue;
		}
		json_object_del(env->moves_done, tab[k]->name);
		destroy(tab[k]);
		tab[k] = tab[--*n];
	}
}

void
inst_shutdown_all(struct inst_env *env, struct instance *tab[], int *n)
{
	(void)env;
	while (*n > 0)
		destroy(tab[--*n]);
}

/* Counts n occurrences of reason and logs the line vrrp_drops_note() says is due. */
static void
note(struct inst_env *env, int reason, uint64_t n, const char *detail)
{
	char line[300];

	if (vrrp_drops_note(&env->drops, reason, n, detail, now(), line, sizeof(line)))
		fprintf(stderr, "vigil-agent: %s\n", line);
}

void
inst_drops_flush(struct inst_env *env)
{
	char line[300];

	while (vrrp_drops_flush(&env->drops, now(), line, sizeof(line)))
		fprintf(stderr, "vigil-agent: %s\n", line);
}

/* The instance a packet is for: same interface (or its macvlan), VRID and family. NULL when
 * none. */
static struct instance *
find(struct instance *tab[], int n, const struct vrrp_rx *rx, int family)
{
	for (int k = 0; k < n; k++)
		if ((tab[k]->ifc.ifindex == rx->ifindex ||
		     (tab[k]->vmac.on && tab[k]->vmac.ifindex == rx->ifindex)) &&
		    tab[k]->vr.cfg.vrid == rx->payload[1] && tab[k]->family == family)
			return tab[k];
	return NULL;
}

/* Decodes, checks and feeds one received packet to its instance; counts what it refuses. */
static void
receive_one(struct inst_env *env, struct instance *tab[], int n, const struct vrrp_rx *rx,
	    int family)
{
	struct instance *in;
	struct vrrp_rx_expect expect;
	struct vrrp_advert adv;
	struct vrrp_actions acts;
	enum vrrp_pkt_error e;
	char src[ADDR_STRLEN], detail[96];

	addr_format(&rx->meta.src, src, sizeof(src));
	if (rx->len < 2) {
		snprintf(detail, sizeof(detail), "from %s", src);
		note(env, VRRP_PKT_TOO_SHORT, 1, detail);
		return;
	}
	snprintf(detail, sizeof(detail), "from %s, vrid %u", src, rx->payload[1]);
	if ((in = find(tab, n, rx, family)) == NULL) {
		note(env, VRRP_DROP_UNKNOWN_VRID, 1, detail);
		return;
	}
	if (!vrrp_unicast_accepts(&in->uc, &rx->meta.src)) {
		note(env, VRRP_DROP_NOT_UNICAST_PEER, 1, detail);
		return;
	}
	vrrp_rx_expect_fill(&in->vr, &expect);
	e = vrrp_packet_decode(rx->payload, rx->len, &rx->meta, &expect, &adv);
	if (e == VRRP_PKT_OK)
		e = vrrp_recv(&in->vr, &adv, &rx->meta.src, now(), &acts);
	if (e != VRRP_PKT_OK) {
		note(env, e, 1, detail);
		return;
	}
	/* Used, but worth knowing (RFC 5798 7.1: SHOULD log; 6.4.2: the interval is learned). */
	if (in->vr.rx_warn & VRRP_WARN_ADDRS)
		note(env, VRRP_DROP_ADDR_DIFFERS, 1, detail);
	if (in->vr.rx_warn & VRRP_WARN_INTERVAL) {
		snprintf(detail, sizeof(detail), "from %s, vrid %u, %u ms", src, rx->payload[1],
			 adv.adver_int_ms);
		note(env, VRRP_DROP_INTERVAL_DIFFERS, 1, detail);
	}
	run(in, &acts);
}

void
inst_receive(struct inst_env *env, struct instance *tab[], int n, int fd, int family)
{
	static struct vrrp_io_batch b; /* one thread, one batch at a time: ~150 KB off the stack */
	uint32_t *seen = &env->rxq_overflow[family == AF_INET ? 0 : 1];
	int got = vrrp_io_recv_batch(fd, family, &b);

	for (int i = 0; i < got; i++) {
		if (!b.usable[i]) {
			note(env, VRRP_PKT_TOO_SHORT, 1, NULL);
			continue;
		}
		receive_one(env, tab, n, &b.rx[i], family);
	}
	if (got > 0 && b.has_overflow && b.overflow != *seen) {
		note(env, VRRP_DROP_RXQ_OVERFLOW, (uint32_t)(b.overflow - *seen), NULL);
		*seen = b.overflow;
	}
}

void
inst_link(struct inst_env *env, struct instance *tab[], int n, int ifindex, bool up)
{
	for (int k = 0; k < n; k++) {
		struct instance *in = tab[k];
		if (in->ifc.ifindex != ifindex || in->link_down == !up)
			continue;
		in->link_down = !up;
		if (up) { /* the primary address may have changed while it was down */
			struct nl_iface ifc;
			char err[160];
			if (nl_if_resolve(env->nl, in->ifname, &ifc, err, sizeof(err)) == 0)
				in->ifc = ifc;
		}
		apply_inputs(in);
	}
}

void
inst_track_link(struct inst_env *env, struct instance *tab[], int n, const char *name, int ifindex,
		bool up, bool gone)
{
	(void)env;
	for (int k = 0; k < n; k++)
		if (track_link_event(&tab[k]->track, name, ifindex, up, gone))
			apply_inputs(tab[k]);
}

void
inst_checks(struct inst_env *env, struct instance *tab[], int n)
{
	(void)env;
	for (int k = 0; k < n; k++)
		apply_inputs(tab[k]);
}

void
inst_report(struct instance *tab[], int n, json_t *vrrp, json_t *held)
{
	for (int k = 0; k < n; k++) {
		struct instance *in = tab[k];
		json_t *e = json_pack("{s:s, s:i}", "state", vrrp_state_str(in->vr.state),
				      "priority", vrrp_effective_priority(&in->vr));
		if (in->track.n > 0)
			json_object_set_new(e, "track", track_report(&in->track));
		if (in->vmac.on)
			json_object_set_new(e, "vmac", json_string(in->vmac.name));
		json_object_set_new(vrrp, in->name, e);
		if (in->vr.state == VRRP_STATE_MASTER)
			json_array_append_new(held, json_string(in->name));
	}
}
