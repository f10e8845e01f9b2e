/* vrrp_instance and vrrp_sync_group into VIPs (see import.h): the instance's numbers,
 * authentication and the VIP it makes; addresses are import_vrrp_addr.c's, tracking
 * import_vrrp_track.c's. Semantics are keepalived's, not
 * vigil's defaults: an instance preempts unless nopreempt, VRRP version 2 unless set, priority
 * 100, advert_int 1 s, GARP delay 5 s and repeat 5. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "import_vrrp.h"
#include "vip_fields.h"

static void
kw_auth(struct inst *in, const struct ka_stmt *s)
{
	imp_note(in->im, s, "applied", NULL);
	for (const struct ka_stmt *a = s->sub; a != NULL; a = a->next) {
		const char *v = arg1(a);
		if (strcmp(a->argv[0], "auth_type") == 0 && v != NULL && strcmp(v, "PASS") == 0) {
			imp_note(in->im, a, "applied", NULL);
		} else if (strcmp(a->argv[0], "auth_type") == 0) {
			imp_note(in->im, a, "not_applied", "vigil speaks only PASS authentication");
		} else if (strcmp(a->argv[0], "auth_pass") == 0 && v != NULL) {
			char pass[9];
			snprintf(pass, sizeof(pass), "%s", v); /* keepalived keeps 8 characters */
			json_object_set_new(in->spec, "auth_pass", json_string(pass));
			in->auth = a;
			if (strlen(v) > 8)
				imp_note(
				    in->im, a, "applied",
				    "only the first 8 characters are used, as keepalived does");
			else
				imp_note(in->im, a, "applied", NULL);
		} else {
			imp_note_tree(in->im, a, "not an authentication setting");
		}
	}
}

/* Keywords of an instance that vigil has no place for, with the reason. */
static const struct {
	const char *kw, *why;
} inst_skip[] = {
    {"state", "not needed: priorities decide who is master"},
    {"mcast_src_ip", "vigil sends advertisements from the node's address"},
    {"notify_deleted", "vigil has no DELETED state: its notify runs with STOP"},
    {"notify_master_rx_lower_pri", "vigil has no such notification"},
    {"smtp_alert", "vigil sends no mail: follow /events instead"},
    {"lvs_sync_daemon_interface", "vigil drives HAProxy, not IPVS"},
    {"dont_track_primary", "vigil always tracks the VIP's interface"},
    {"track_src_ip", "vigil sends from the node's address"},
    {"vmac_xmit_base", "vigil chooses it: with unicast the parent interface sends"},
    {"debug", "vigil-agent has its own --verbose"},
};

/* Known to keepalived inside an instance, but not modelled by vigil. */
static const char *const inst_known[] = {
    "native_ipv6",
    "accept",
    "no_accept",
    "strict_mode",
    "skip_check_adv_addr",
    "check_unicast_src",
    "garp_master_refresh_repeat",
    "garp_lower_prio_delay",
    "garp_lower_prio_repeat",
    "lower_prio_no_advert",
    "higher_prio_send_advert",
    "kernel_rx_buf_size",
    "unicast_ttl",
    "unicast_fault_no_peer",
    "notify_priority_changes",
    "track_file",
    "track_process",
    "track_bfd",
    "virtual_routes",
    "virtual_rules",
    "promote_secondaries",
    "linkbeat_use_polling",
    "old_unicast_checksum",
    "down_timer_adverts",
    "lvs_sync_daemon_inteface",
    "mcast_ttl",
    "use_vmac_addr",
    NULL,
};

/* The keywords whose value is one number. Returns true when s was one of them. */
static bool
kw_number(struct inst *in, const struct ka_stmt *s)
{
	const char *kw = s->argv[0], *v = arg1(s);
	long n;
	bool ok;

	if (strcmp(kw, "virtual_router_id") == 0) {
		if (!imp_long(v, 1, 255, &in->vrid)) {
			imp_error(in->im, s, "virtual_router_id %s: must be 1 to 255",
				  v ? v : "(none)");
			in->bad = true;
			return true;
		}
		ok = true;
	} else if (strcmp(kw, "priority") == 0) {
		ok = imp_long(v, 1, 255, &n);
		in->priority = ok ? n : in->priority;
	} else if (strcmp(kw, "version") == 0) {
		ok = imp_long(v, 2, 3, &in->version);
		in->version_st = s;
	} else if (strcmp(kw, "advert_int") == 0) {
		ok = imp_seconds(v, 255, &in->advert_s) && in->advert_s > 0;
		in->advert = s;
	} else if (strcmp(kw, "preempt_delay") == 0) {
		ok = imp_seconds(v, 1000, &in->preempt_delay_s);
	} else if (strcmp(kw, "garp_master_delay") == 0 || strcmp(kw, "garp_master_repeat") == 0 ||
		   strcmp(kw, "garp_master_refresh") == 0) {
		const char *f = strcmp(kw, "garp_master_delay") == 0	? "garp_delay_s"
				: strcmp(kw, "garp_master_repeat") == 0 ? "garp_repeat"
									: "garp_refresh_s";
		ok = imp_long(v, 0, 86400, &n);
		if (ok)
			json_object_set_new(in->spec, f, json_integer(n));
	} else {
		return false;
	}
	if (ok)
		imp_note(in->im, s, "applied", NULL);
	else
		imp_note(in->im, s, "not_applied",
			 "%s is not a valid value here (keepalived ignores it too): the default "
			 "stays",
			 v ? v : "nothing");
	return true;
}

static void
kw_other(struct inst *in, const struct ka_stmt *s, json_t *tracked)
{
	const char *kw = s->argv[0];

	if (strcmp(kw, "interface") == 0 && arg1(s) && vipf_valid_ifname(arg1(s))) {
		json_object_set_new(in->spec, "interface", json_string(arg1(s)));
		imp_note(in->im, s, "applied", NULL);
	} else if (strcmp(kw, "interface") == 0) {
		imp_error(in->im, s, "not an interface name");
		in->bad = true;
	} else if (strcmp(kw, "virtual_ipaddress") == 0) {
		vrrp_kw_addresses(in, s);
	} else if (strcmp(kw, "virtual_ipaddress_excluded") == 0) {
		vrrp_kw_excluded(in, s);
	} else if (strcmp(kw, "unicast_src_ip") == 0) {
		vrrp_kw_unicast_src(in, s);
	} else if (strcmp(kw, "unicast_peer") == 0) {
		vrrp_kw_unicast_peer(in, s);
	} else if (strcmp(kw, "authentication") == 0) {
		kw_auth(in, s);
	} else if (strcmp(kw, "track_interface") == 0) {
		vrrp_kw_track_interface(in, s);
	} else if (strcmp(kw, "track_script") == 0) {
		vrrp_kw_track_script(in, s, tracked);
	} else if (strcmp(kw, "nopreempt") == 0 || strcmp(kw, "preempt") == 0) {
		json_object_set_new(in->spec, "preempt", json_boolean(kw[0] == 'p'));
		imp_note(in->im, s, "applied", NULL);
	} else if (strcmp(kw, "use_vmac") == 0) {
		json_object_set_new(in->spec, "vmac", json_true());
		imp_note(in->im, s, "applied",
			 s->argc > 1 ? "vigil names the interface vrrp.VRID" : NULL);
	} else if (vrrp_kw_notify(in, s)) {
		/* vrrp_notify_finish decides */
	} else {
		for (size_t i = 0; i < sizeof(inst_skip) / sizeof(inst_skip[0]); i++)
			if (strcmp(kw, inst_skip[i].kw) == 0) {
				imp_note_tree(in->im, s, inst_skip[i].why);
				return;
			}
		for (size_t i = 0; inst_known[i] != NULL; i++)
			if (strcmp(kw, inst_known[i]) == 0) {
				imp_note_tree(in->im, s,
					      "a keepalived setting vigil has no "
					      "equivalent for");
				return;
			}
		imp_note_tree(
		    in->im, s,
		    "keepalived does not know this keyword in a vrrp_instance and ignores "
		    "it (a typo?)");
	}
}

/* The timers and authentication, once the version is known. */
static void
inst_version(struct inst *in)
{
	long v = in->version ? in->version : in->im->version;
	double ms;

	if (in->family == 6 && v == 2) {
		v = 3;
		if (in->version_st != NULL)
			imp_note(in->im, in->version_st, "applied",
				 "IPv6 needs VRRP version 3: imported as 3");
	}
	json_object_set_new(in->spec, "version", json_integer(v));
	if (v == 2) {
		ms = ceil(in->advert_s) * 1000; /* RFC 3768: whole seconds */
		if (in->advert != NULL && ms != in->advert_s * 1000)
			imp_note(in->im, in->advert, "applied",
				 "VRRPv2 counts whole seconds: %.0f s", ms / 1000);
	} else {
		ms = round(in->advert_s * 100) * 10; /* RFC 5798: centiseconds, at most 40.95 s */
		ms = ms < 10 ? 10 : ms > 40950 ? 40950 : ms;
		if (in->advert != NULL && fabs(ms - in->advert_s * 1000) > 0.5)
			imp_note(in->im, in->advert, "applied",
				 "VRRPv3 counts centiseconds up to 40.95 s: %.2f s", ms / 1000);
	}
	json_object_set_new(in->spec, "advert_int_ms", json_integer((json_int_t)ms));
	if (v == 3 && in->auth != NULL) {
		json_object_del(in->spec, "auth_pass");
		imp_note(in->im, in->auth, "not_applied",
			 "VRRPv3 has no authentication (keepalived ignores it too)");
	}
}

/* A GARP timer not set in the instance: the global default, else keepalived's own. */
static void
inst_garp_default(struct inst *in, const char *field, long global, long dflt)
{
	if (json_object_get(in->spec, field) == NULL)
		json_object_set_new(in->spec, field, json_integer(global >= 0 ? global : dflt));
}

/* Adds the instance's VIP to the plan, named after the instance (unique in the file). */
static void
inst_finish(struct inst *in, const char *vname, json_t *tracked)
{
	struct imp *im = in->im;
	const char *iname = in->st->argv[1];
	json_t *g = json_object_get(im->groups, iname), *v;
	char name[64];
	size_t i;

	if (in->vrid == 0 && !in->bad) {
		imp_error(im, in->st, "no virtual_router_id (keepalived refuses the instance)");
		in->bad = true;
	}
	if (json_object_get(in->spec, "interface") == NULL && !in->bad) {
		imp_error(im, in->st, "no interface");
		in->bad = true;
	}
	if (in->bad)
		return;
	if (json_array_size(in->addresses) == 0) {
		imp_note_tree(im, in->st,
			      "an instance without virtual_ipaddress: a vigil VIP carries at least "
			      "one address");
		return;
	}
	inst_version(in);
	vrrp_drop_own_track(in);
	vrrp_notify_finish(in, vname);
	if (in->unicast != NULL && im->node_address != NULL &&
	    (strchr(im->node_address, ':') ? 6 : 4) != in->family &&
	    imp_unicast_source(im, in->family) == NULL) {
		/* no source of this family: neither the node's address nor a unicast_src_ip */
		json_object_set_new(in->spec, "unicast", json_false());
		json_array_clear(json_object_get(in->spec, "peers"));
		imp_note_tree(im, in->unicast,
			      "no unicast_src_ip of this instance's family, and the node's address "
			      "is of the other: imported as multicast");
		imp_gap(im, in->unicast, "a unicast instance without a source of its family");
	}
	inst_garp_default(in, "garp_delay_s", im->garp_delay_s, 5);
	inst_garp_default(in, "garp_repeat", im->garp_repeat, 5);
	inst_garp_default(in, "garp_refresh_s", im->garp_refresh_s, 0);
	if (in->priority == 255)
		imp_gap(im, in->st,
			"priority 255 (the address owner): vigil members are 1 to 254, "
			"imported as 254");
	json_object_set_new(in->spec, "vrid", json_integer(in->vrid));
	json_object_set_new(in->spec, "preempt_delay_ms",
			    json_integer((json_int_t)llround(in->preempt_delay_s * 1000)));
	json_object_set_new(in->spec, "group", g ? json_incref(g) : json_null());
	json_object_set_new(in->spec, "members",
			    json_pack("[{s:s, s:i}]", "node", im->node, "priority",
				      (int)(in->priority > 254 ? 254 : in->priority)));
	snprintf(name, sizeof(name), "%s", vname);
	json_array_foreach(im->p->vips, i,
			   v) if (strcmp(json_string_value(json_object_get(v, "name")), name) == 0)
	    snprintf(name, sizeof(name), "%.50s-%ld", vname, in->vrid);
	json_array_append_new(im->p->vips,
			      json_pack("{s:s, s:s, s:i, s:O}", "name", name, "instance", iname,
					"line", in->st->line, "spec", in->spec));
	json_array_append_new(im->instances, json_string(iname));
	json_array_foreach(tracked, i, v)
	{
		json_t *by = json_pack("{s:s}", "vip", name);
		if (json_object_get(v, "weight") != NULL)
			json_object_set(by, "weight", json_object_get(v, "weight"));
		json_array_append_new(
		    json_object_get(
			json_object_get(im->script_defs,
					json_string_value(json_object_get(v, "script"))),
			"tracked"),
		    by);
	}
}

void
imp_instance(struct imp *im, const struct ka_stmt *st)
{
	struct inst in = {.im = im, .st = st, .priority = 100, .advert_s = 1};
	json_t *tracked = json_array();
	char vname[64];

	if (st->argc < 2) {
		imp_error(im, st, "vrrp_instance needs a name");
		imp_note_rest(im, st, "inside an instance keepalived refuses");
		json_decref(tracked);
		return;
	}
	import_name("vi", st->argv[1], vname);
	in.spec = json_pack("{s:[], s:[], s:b, s:b, s:[], s:[], s:n, s:b}", "addresses",
			    "excluded_addresses", "preempt", 1, "unicast", 0, "peers",
			    "track_interfaces", "notify", "vmac", 0);
	in.addresses = json_object_get(in.spec, "addresses");
	in.excluded = json_object_get(in.spec, "excluded_addresses");
	imp_note(im, st, "applied", NULL);
	for (const struct ka_stmt *s = st->sub; s != NULL; s = s->next)
		if (!kw_number(&in, s))
			kw_other(&in, s, tracked);
	inst_finish(&in, vname, tracked);
	if (in.bad)
		imp_note_rest(im, st, "inside an instance keepalived refuses");
	imp_note_rest(im, st, IMP_STRAY_BLOCK);
	json_decref(tracked);
	json_decref(in.spec);
}

void
imp_sync_group(struct imp *im, const struct ka_stmt *st)
{
	char group[64];

	if (st->argc < 2) {
		imp_error(im, st, "vrrp_sync_group needs a name");
		return;
	}
	import_name("group", st->argv[1], group);
	imp_note(im, st, "applied", NULL);
	for (const struct ka_stmt *s = st->sub; s != NULL; s = s->next) {
		if (strcmp(s->argv[0], "group") != 0) {
			imp_note_tree(im, s,
				      "vigil runs notify scripts and tracking per VIP, not per "
				      "group");
			continue;
		}
		imp_note(im, s, "applied", NULL);
		for (const struct ka_stmt *m = s->sub; m != NULL; m = m->next) {
			json_object_set_new(im->groups, m->argv[0], json_string(group));
			imp_note(im, m, "applied", NULL);
			for (int k = 1; k < m->argc; k++) /* names may share a line */
				json_object_set_new(im->groups, m->argv[k], json_string(group));
		}
	}
	imp_note_rest(im, st, IMP_STRAY_BLOCK);
}
