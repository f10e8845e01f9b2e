/* vrrp_instance and vrrp_sync_group into VIPs (see import.h). Semantics are keepalived's, not
 * vigil's defaults: an instance preempts unless nopreempt, VRRP version 2 unless set, priority
 * 100, advert_int 1 s, GARP delay 5 s and repeat 5. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "addr.h"
#include "import_int.h"
#include "vip_fields.h"

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

static const char *
arg1(const struct ka_stmt *s)
{
	return s->argc > 1 ? s->argv[1] : NULL;
}

/* Adds one "ADDR[/PREFIX] [dev IF] [label L] ..." entry to list (addresses or excluded), with the
 * keepalived default prefix (/32, /128). Returns the family, 0 when not an address. */
static int
add_address(struct inst *in, const struct ka_stmt *s, json_t *list)
{
	char text[80], canon[80];
	int fam;

	snprintf(text, sizeof(text), "%s%s", s->argv[0],
		 strchr(s->argv[0], '/')   ? ""
		 : strchr(s->argv[0], ':') ? "/128"
					   : "/32");
	if ((fam = vipf_parse_prefix(text, canon, sizeof(canon))) == 0) {
		imp_error(in->im, s, "%s is not an IP address (keepalived refuses it)", s->argv[0]);
		return 0;
	}
	for (size_t i = 0; i < json_array_size(list); i++)
		if (strcmp(json_string_value(json_array_get(list, i)), canon) == 0) {
			imp_note(in->im, s, "not_applied", "listed twice");
			return fam;
		}
	json_array_append_new(list, json_string(canon));
	if (s->argc > 1) {
		const char *dev = NULL;
		for (int k = 1; k + 1 < s->argc; k++)
			if (strcmp(s->argv[k], "dev") == 0)
				dev = s->argv[k + 1];
		imp_note(in->im, s, "applied",
			 "%s%s: vigil puts the addresses on the VIP's interface, with no label, "
			 "broadcast or scope",
			 dev != NULL ? "dev " : "options", dev != NULL ? dev : " dropped");
	} else {
		imp_note(in->im, s, "applied", NULL);
	}
	return fam;
}

static void
kw_addresses(struct inst *in, const struct ka_stmt *s)
{
	imp_note(in->im, s, "applied", NULL);
	for (const struct ka_stmt *a = s->sub; a != NULL; a = a->next) {
		int fam;
		if (in->family == 0) {
			in->family = add_address(in, a, in->addresses);
			continue;
		}
		/* An advertisement carries one family: keepalived moves the others out of it. */
		fam = add_address(in, a,
				  (strchr(a->argv[0], ':') ? 6 : 4) == in->family ? in->addresses
										  : in->excluded);
		if (fam != 0 && fam != in->family)
			imp_note(in->im, a, "applied",
				 "not IPv%d like the first address: an excluded address (not "
				 "advertised), as keepalived does",
				 in->family);
	}
}

static void
kw_excluded(struct inst *in, const struct ka_stmt *s)
{
	imp_note(in->im, s, "applied", NULL);
	for (const struct ka_stmt *a = s->sub; a != NULL; a = a->next)
		add_address(in, a, in->excluded);
}

/* An address without prefix, canonical, into out (ADDR_STRLEN); a "/N" is dropped (and *cut
 * set). Returns 4 or 6, or 0 when it is not an address. */
static int
plain_address(const char *s, char *out, bool *cut)
{
	char buf[ADDR_STRLEN];
	struct addr a;

	snprintf(buf, sizeof(buf), "%s", s);
	*cut = strchr(buf, '/') != NULL;
	if (*cut)
		*strchr(buf, '/') = '\0';
	if (addr_parse(buf, &a) != 0)
		return 0;
	addr_format(&a, out, ADDR_STRLEN);
	return strchr(out, ':') ? 6 : 4;
}

static void
kw_unicast_src(struct inst *in, const struct ka_stmt *s)
{
	char a[ADDR_STRLEN];
	bool cut;
	int fam = arg1(s) ? plain_address(arg1(s), a, &cut) : 0;

	if (fam == 0) {
		imp_note(in->im, s, "not_applied", "not an IP address (keepalived ignores it too)");
		return;
	}
	if (in->im->node_address != NULL && strcmp(a, in->im->node_address) == 0) {
		imp_note(in->im, s, "applied", "vigil sends unicast from the node's address");
		return;
	}
	imp_note(in->im, s, "not_applied", "vigil sends unicast from the node's address, %s",
		 in->im->node_address ? in->im->node_address : "(none)");
	if (in->im->node_address != NULL && (strchr(in->im->node_address, ':') ? 6 : 4) != fam)
		imp_gap(in->im, s,
			"a unicast source of another family than the node's address: vigil has one "
			"address per node, not one per family");
}

static void
kw_unicast_peer(struct inst *in, const struct ka_stmt *s)
{
	json_t *peers = json_object_get(in->spec, "peers");
	char a[ADDR_STRLEN];
	bool cut;

	json_object_set_new(in->spec, "unicast", json_true());
	in->unicast = s;
	imp_note(in->im, s, "applied", NULL);
	for (const struct ka_stmt *p = s->sub; p != NULL; p = p->next) {
		if (plain_address(p->argv[0], a, &cut) == 0) {
			imp_note(in->im, p, "not_applied", "not an IP address");
			continue;
		}
		if (in->im->node_address != NULL && strcmp(a, in->im->node_address) == 0) {
			imp_note(in->im, p, "not_applied", "the node's own address");
			continue;
		}
		json_array_append_new(peers, json_string(a));
		if (cut || p->argc > 1)
			imp_note(in->im, p, "applied", "only the address is kept%s",
				 cut ? ": a peer has no prefix" : " (no per-peer TTL limits)");
		else
			imp_note(in->im, p, "applied", NULL);
	}
}

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

static void
kw_track_interface(struct inst *in, const struct ka_stmt *s)
{
	json_t *list = json_object_get(in->spec, "track_interfaces");
	long w = 0;

	imp_note(in->im, s, "applied", NULL);
	for (const struct ka_stmt *t = s->sub; t != NULL; t = t->next) {
		w = 0;
		if (!vipf_valid_ifname(t->argv[0]) ||
		    (t->argc > 1 && (t->argc != 3 || strcmp(t->argv[1], "weight") != 0 ||
				     !imp_long(t->argv[2], -254, 254, &w)))) {
			imp_note(in->im, t, "not_applied", "not INTERFACE [weight N]");
			continue;
		}
		json_array_append_new(
		    list, json_pack("{s:s, s:i}", "interface", t->argv[0], "weight", (int)w));
		imp_note(in->im, t, "applied", NULL);
	}
}

/* track_script { NAME [weight N] }: tracked has {"script", "weight"?} per script, the weight
 * when this instance overrides the script's own (the check's "vips" carry it). */
static void
kw_track_script(struct inst *in, const struct ka_stmt *s, json_t *tracked)
{
	imp_note(in->im, s, "applied", NULL);
	for (const struct ka_stmt *t = s->sub; t != NULL; t = t->next) {
		json_t *def = json_object_get(in->im->script_defs, t->argv[0]);
		json_t *entry = json_pack("{s:s}", "script", t->argv[0]);
		long w;

		if (def == NULL) {
			imp_note(in->im, t, "not_applied",
				 "no vrrp_script of this name (keepalived ignores it too)");
			json_decref(entry);
			continue;
		}
		if (t->argc == 1) {
			imp_note(in->im, t, "applied", NULL);
		} else if (t->argc >= 3 && strcmp(t->argv[1], "weight") == 0 &&
			   imp_long(t->argv[2], -253, 253, &w)) {
			json_int_t own = json_integer_value(
			    json_object_get(json_object_get(def, "spec"), "weight"));
			if (w != own)
				json_object_set_new(entry, "weight", json_integer(w));
			imp_note(in->im, t, "applied",
				 w != own ? "weight %ld for this VIP (the check's vips)" : NULL, w);
		} else {
			imp_note(in->im, t, "applied",
				 "the words after the name are ignored (keepalived ignores them "
				 "too)");
		}
		json_array_append_new(tracked, entry);
	}
}

/* Keywords of an instance that vigil has no place for, with the reason. */
static const struct {
	const char *kw, *why;
} inst_skip[] = {
    {"state", "not needed: priorities decide who is master"},
    {"mcast_src_ip", "vigil sends advertisements from the node's address"},
    {"notify_master", "vigil runs one notify script with the new state as its third argument: "
		      "a wrapper that dispatches on it replaces notify_master/backup/fault/stop"},
    {"notify_backup", "vigil runs one notify script with the new state as its third argument"},
    {"notify_fault", "vigil runs one notify script with the new state as its third argument"},
    {"notify_stop", "vigil runs one notify script with the new state as its third argument"},
    {"notify_deleted", "vigil runs one notify script with the new state as its third argument"},
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
kw_other(struct inst *in, const struct ka_stmt *s, json_t *tracked, char *vname)
{
	const char *kw = s->argv[0];
	char what[80];

	if (strcmp(kw, "interface") == 0 && arg1(s) && vipf_valid_ifname(arg1(s))) {
		json_object_set_new(in->spec, "interface", json_string(arg1(s)));
		imp_note(in->im, s, "applied", NULL);
	} else if (strcmp(kw, "interface") == 0) {
		imp_error(in->im, s, "not an interface name");
		in->bad = true;
	} else if (strcmp(kw, "virtual_ipaddress") == 0) {
		kw_addresses(in, s);
	} else if (strcmp(kw, "virtual_ipaddress_excluded") == 0) {
		kw_excluded(in, s);
	} else if (strcmp(kw, "unicast_src_ip") == 0) {
		kw_unicast_src(in, s);
	} else if (strcmp(kw, "unicast_peer") == 0) {
		kw_unicast_peer(in, s);
	} else if (strcmp(kw, "authentication") == 0) {
		kw_auth(in, s);
	} else if (strcmp(kw, "track_interface") == 0) {
		kw_track_interface(in, s);
	} else if (strcmp(kw, "track_script") == 0) {
		kw_track_script(in, s, tracked);
	} else if (strcmp(kw, "nopreempt") == 0 || strcmp(kw, "preempt") == 0) {
		json_object_set_new(in->spec, "preempt", json_boolean(kw[0] == 'p'));
		imp_note(in->im, s, "applied", NULL);
	} else if (strcmp(kw, "use_vmac") == 0) {
		json_object_set_new(in->spec, "vmac", json_true());
		imp_note(in->im, s, "applied",
			 s->argc > 1 ? "vigil names the interface vrrp.VRID" : NULL);
	} else if (strcmp(kw, "notify") == 0 && s->argc > 1) {
		snprintf(what, sizeof(what), "%s-notify", vname);
		json_object_set_new(in->spec, "notify", imp_script_argv(in->im, s, 1, what));
		imp_note(in->im, s, "applied", NULL);
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

/* keepalived always tracks an instance's own interface and ignores it in track_interface (with
 * a warning): so does the import, wherever the interface statement is in the block. */
static void
inst_drop_own_track(struct inst *in)
{
	const char *ifname = json_string_value(json_object_get(in->spec, "interface"));
	json_t *list = json_object_get(in->spec, "track_interfaces");
	size_t i = 0;

	for (const struct ka_stmt *s = in->st->sub; s != NULL; s = s->next) {
		if (strcmp(s->argv[0], "track_interface") != 0)
			continue;
		for (const struct ka_stmt *t = s->sub; t != NULL; t = t->next)
			if (strcmp(t->argv[0], ifname) == 0)
				imp_note(in->im, t, "not_applied",
					 "the instance's own interface: always tracked (keepalived "
					 "ignores it here too)");
	}
	while (i < json_array_size(list)) {
		const char *t =
		    json_string_value(json_object_get(json_array_get(list, i), "interface"));
		if (strcmp(t, ifname) == 0)
			json_array_remove(list, i);
		else
			i++;
	}
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
	inst_drop_own_track(in);
	if (in->unicast != NULL && im->node_address != NULL &&
	    (strchr(im->node_address, ':') ? 6 : 4) != in->family) {
		/* vigil sends unicast from the node's one address, of the other family here */
		json_object_set_new(in->spec, "unicast", json_false());
		json_array_clear(json_object_get(in->spec, "peers"));
		imp_note_tree(im, in->unicast,
			      "unicast from the node's address, which is not of this instance's "
			      "family: imported as multicast");
		imp_gap(im, in->unicast,
			"a unicast source per address family: vigil has one address per node");
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
			kw_other(&in, s, tracked, vname);
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
