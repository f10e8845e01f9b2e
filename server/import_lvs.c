/* virtual_server / real_server into backends of the VIP that carries the virtual address, and
 * their TCP_CHECK / HTTP_GET / SSL_GET / MISC_CHECK into backend checks (see import.h). vigil
 * drives HAProxy, not IPVS: scheduling, forwarding and persistence are reported, not carried. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "addr.h"
#include "import_int.h"

/* The planned VIP whose addresses (or excluded addresses) hold address s, or NULL. */
static const char *
vip_of_address(struct imp *im, const char *s)
{
	struct addr want, a;
	char buf[ADDR_STRLEN];
	json_t *v, *x;
	size_t i, j;

	if (addr_parse(s, &want) != 0)
		return NULL;
	json_array_foreach(im->p->vips, i, v)
	{
		json_t *spec = json_object_get(v, "spec");
		const char *lists[] = {"addresses", "excluded_addresses"};
		for (int l = 0; l < 2; l++)
			json_array_foreach(json_object_get(spec, lists[l]), j, x)
			{
				snprintf(buf, sizeof(buf), "%s", json_string_value(x));
				if (strchr(buf, '/'))
					*strchr(buf, '/') = '\0';
				if (addr_parse(buf, &a) == 0 && addr_equal(&a, &want))
					return json_string_value(json_object_get(v, "name"));
			}
	}
	return NULL;
}

/* One checker block into a check of backend (named bname); interval_ms from delay_loop. */
static void
imp_checker(struct imp *im, const struct ka_stmt *c, const char *bname, json_int_t interval_ms,
	    int index)
{
	const char *kw = c->argv[0];
	const char *type = strcmp(kw, "TCP_CHECK") == 0	   ? "tcp"
			   : strcmp(kw, "HTTP_GET") == 0   ? "http"
			   : strcmp(kw, "SSL_GET") == 0	   ? "https"
			   : strcmp(kw, "MISC_CHECK") == 0 ? "script"
							   : NULL;
	json_t *spec;
	char name[64], what[80];
	bool url_done = false;
	double d;
	long n;

	if (type == NULL) {
		imp_note_tree(im, c, "vigil checks backends by tcp, http, https or script only");
		return;
	}
	snprintf(what, sizeof(what), "%.52s-%s%.0d", bname, type, index);
	import_name("chk", what, name);
	spec = json_pack("{s:s, s:s, s:I, s:i, s:i, s:i}", "type", type, "backend", bname,
			 "interval_ms", interval_ms, "timeout_ms", 5000, "rise", 1, "fall", 1);
	if (strcmp(type, "https") == 0)
		json_object_set_new(spec, "verify_tls", json_false());
	imp_note(im, c, "applied",
		 strcmp(type, "https") == 0 ? "keepalived does not verify the certificate: "
					      "verify_tls false"
					    : NULL);
	for (const struct ka_stmt *s = c->sub; s != NULL; s = s->next) {
		const char *k = s->argv[0], *v = s->argc > 1 ? s->argv[1] : NULL;
		bool ok = true;

		if (strcmp(k, "connect_timeout") == 0 || strcmp(k, "misc_timeout") == 0) {
			if ((ok = imp_seconds(v, 60, &d) && d >= 0.01))
				json_object_set_new(spec, "timeout_ms",
						    json_integer((json_int_t)llround(d * 1000)));
		} else if (strcmp(k, "connect_port") == 0 && strcmp(type, "script") != 0) {
			if ((ok = imp_long(v, 1, 65535, &n)))
				json_object_set_new(spec, "port", json_integer(n));
		} else if (strcmp(k, "retry") == 0 || strcmp(k, "nb_get_retry") == 0) {
			if ((ok = imp_long(v, 1, 100, &n)))
				json_object_set_new(spec, "fall", json_integer(n));
		} else if (strcmp(k, "delay_loop") == 0) {
			if ((ok = imp_seconds(v, 3600, &d) && d >= 0.1))
				json_object_set_new(spec, "interval_ms",
						    json_integer((json_int_t)llround(d * 1000)));
		} else if (strcmp(k, "misc_path") == 0 && strcmp(type, "script") == 0 && v) {
			snprintf(what, sizeof(what), "%s", name);
			json_object_set_new(spec, "script", imp_script_argv(im, s, 1, what));
		} else if (strcmp(k, "url") == 0 && !url_done && strcmp(type, "script") != 0 &&
			   strcmp(type, "tcp") != 0) {
			url_done = true;
			imp_note(im, s, "applied", NULL);
			for (const struct ka_stmt *u = s->sub; u != NULL; u = u->next) {
				const char *uv = u->argc > 1 ? u->argv[1] : NULL;
				if (strcmp(u->argv[0], "path") == 0 && uv && uv[0] == '/') {
					json_object_set_new(spec, "path", json_string(uv));
					imp_note(im, u, "applied", NULL);
				} else if (strcmp(u->argv[0], "status_code") == 0 &&
					   imp_long(uv, 100, 599, &n) && u->argc == 2) {
					json_object_set_new(spec, "expect_status", json_integer(n));
					imp_note(im, u, "applied", NULL);
				} else {
					imp_note_tree(im, u,
						      "vigil checks one path for one status code");
				}
			}
			continue;
		} else {
			imp_note_tree(im, s,
				      strcmp(k, "url") == 0 ? "vigil checks one URL per check"
				      : strcmp(k, "delay_before_retry") == 0
					  ? "vigil retries at the check's interval"
					  : "a checker setting vigil has no equivalent for");
			continue;
		}
		if (ok)
			imp_note(im, s, "applied", NULL);
		else
			imp_note(im, s, "not_applied",
				 "not a valid value here (keepalived ignores it too)");
	}
	if (strcmp(type, "script") == 0 && json_object_get(spec, "script") == NULL) {
		imp_note(im, c, "not_applied", "no misc_path");
		json_decref(spec);
		return;
	}
	json_array_append_new(im->p->checks, json_pack("{s:s, s:i, s:o}", "name", name, "line",
						       c->line, "spec", spec));
}

/* One real_server into a backend of vip and its checks. */
static void
imp_real_server(struct imp *im, const struct ka_stmt *rs, const char *vip, json_int_t interval_ms)
{
	char id[160], bname[64], canon[ADDR_STRLEN];
	struct addr a;
	long port, weight = 1;
	int checkers = 0;

	if (rs->argc < 3 || addr_parse(rs->argv[1], &a) != 0 ||
	    !imp_long(rs->argv[2], 1, 65535, &port)) {
		imp_note_tree(im, rs, "not real_server ADDRESS PORT (keepalived refuses it too)");
		return;
	}
	addr_format(&a, canon, sizeof(canon));
	snprintf(id, sizeof(id), "%s-%s-%ld", vip, canon, port);
	import_name("rs", id, bname);
	imp_note(im, rs, "applied", NULL);
	for (const struct ka_stmt *s = rs->sub; s != NULL; s = s->next) {
		if (strcmp(s->argv[0], "weight") == 0) {
			long w;
			if (imp_long(s->argc > 1 ? s->argv[1] : NULL, 0, 65535, &w)) {
				weight = w > 255 ? 255 : w;
				imp_note(im, s, "applied",
					 w > 255 ? "vigil weights go to 255" : NULL);
			} else {
				imp_note(im, s, "not_applied", "not a weight");
			}
		} else if (s->has_block && s->argv[0][0] >= 'A' && s->argv[0][0] <= 'Z') {
			imp_checker(im, s, bname, interval_ms, checkers++);
		} else {
			imp_note_tree(im, s,
				      strncmp(s->argv[0], "notify_", 7) == 0
					  ? "vigil shows backend health in /backends and /events"
					  : "an IPVS setting: vigil drives HAProxy, not IPVS");
		}
	}
	json_array_append_new(im->p->backends,
			      json_pack("{s:s, s:i, s:{s:s, s:s, s:i, s:i}}", "name", bname, "line",
					rs->line, "spec", "vip", vip, "address", canon, "port",
					(int)port, "weight", (int)weight));
}

void
imp_virtual_server(struct imp *im, const struct ka_stmt *st)
{
	const char *vip;
	json_int_t interval_ms = 60000; /* keepalived's delay_loop default */
	double d;

	if (st->argc < 3 || strcmp(st->argv[1], "fwmark") == 0 ||
	    strcmp(st->argv[1], "group") == 0) {
		imp_note_tree(im, st,
			      "vigil balances one address and port, not firewall marks or "
			      "groups");
		return;
	}
	if ((vip = vip_of_address(im, st->argv[1])) == NULL) {
		imp_note_tree(im, st,
			      "no imported VRRP instance carries this address: vigil's backends "
			      "belong to a VIP");
		return;
	}
	for (const struct ka_stmt *s = st->sub; s != NULL; s = s->next) {
		const char *v = s->argc > 1 ? s->argv[1] : NULL;
		if (strcmp(s->argv[0], "protocol") == 0 && v && strcmp(v, "TCP") != 0) {
			imp_note_tree(im, st, "HAProxy balances TCP only");
			return;
		}
		if (strcmp(s->argv[0], "delay_loop") == 0 && imp_seconds(v, 3600, &d) && d >= 0.1)
			interval_ms = (json_int_t)llround(d * 1000);
	}
	imp_note(im, st, "applied",
		 st->argc > 3 ? "the words after the port are not carried" : NULL);
	for (const struct ka_stmt *s = st->sub; s != NULL; s = s->next) {
		if (strcmp(s->argv[0], "real_server") == 0)
			imp_real_server(im, s, vip, interval_ms);
		else if (strcmp(s->argv[0], "delay_loop") == 0 ||
			 strcmp(s->argv[0], "protocol") == 0)
			imp_note(im, s, "applied", NULL);
		else
			imp_note_tree(im, s, "an IPVS setting: vigil drives HAProxy, not IPVS");
	}
	imp_note_rest(im, st, IMP_STRAY_BLOCK);
}
