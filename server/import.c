/* The keepalived.conf importer's driver (see import.h): the passes over the file, the report,
 * global_defs, vrrp_script (node checks) and the turning of script lines into --script-dir argvs.
 * Instances are import_vrrp.c's, virtual servers import_lvs.c's. */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "import_int.h"

#define IMP_SCRIPT_MAX_ARGS 16

void
import_name(const char *prefix, const char *s, char out[64])
{
	size_t o = 0;
	bool dash = false;

	for (; *s != '\0' && o < 63; s++) {
		char c = *s;
		if (c >= 'A' && c <= 'Z')
			c = (char)(c - 'A' + 'a');
		if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')) {
			if (dash && o > 0 && o < 62)
				out[o++] = '-';
			out[o++] = c;
			dash = false;
		} else {
			dash = true;
		}
	}
	out[o] = '\0';
	if (o == 0)
		snprintf(out, 64, "%s", prefix);
}

static json_t *
entry_of(struct imp *im, const struct ka_stmt *st)
{
	char key[32];

	snprintf(key, sizeof(key), "%p", (const void *)st);
	return json_object_get(im->seen, key);
}

static void __attribute__((format(printf, 4, 0)))
vnote(struct imp *im, const struct ka_stmt *st, const char *result, const char *fmt, va_list ap)
{
	char key[32], why[512];
	json_t *e, *old = entry_of(im, st);

	/* An error stays one: a later note of the block around it (an instance dropped, the rest
	 * of a refused block) must not hide what keepalived refuses. */
	if (old != NULL && strcmp(result, "error") != 0 &&
	    strcmp(json_string_value(json_object_get(old, "result")), "error") == 0)
		return;
	e = json_pack("{s:i, s:s, s:s}", "line", st->line, "keyword", st->argv[0], "result",
		      result);
	if (fmt != NULL) {
		vsnprintf(why, sizeof(why), fmt, ap);
		json_object_set_new(e, "why", json_string(why));
	}
	snprintf(key, sizeof(key), "%p", (const void *)st);
	json_object_set_new(im->seen, key, e);
}

void
imp_note(struct imp *im, const struct ka_stmt *st, const char *result, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vnote(im, st, result, fmt, ap);
	va_end(ap);
}

void
imp_note_rest(struct imp *im, const struct ka_stmt *st, const char *why)
{
	for (const struct ka_stmt *s = st->sub; s != NULL; s = s->next) {
		if (entry_of(im, s) == NULL)
			imp_note(im, s, "not_applied", "%s", why);
		imp_note_rest(im, s, why);
	}
}

void
imp_note_tree(struct imp *im, const struct ka_stmt *st, const char *why)
{
	imp_note(im, st, "not_applied", "%s", why);
	for (const struct ka_stmt *s = st->sub; s != NULL; s = s->next)
		imp_note_tree(im, s, why);
}

void
imp_error(struct imp *im, const struct ka_stmt *st, const char *fmt, ...)
{
	char why[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	imp_note(im, st, "error", "%s", why);
	json_array_append_new(im->p->errors, json_pack("{s:i, s:s, s:s}", "line", st->line,
						       "keyword", st->argv[0], "detail", why));
}

void
imp_gap(struct imp *im, const struct ka_stmt *st, const char *fmt, ...)
{
	char why[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	json_array_append_new(im->p->gaps, json_pack("{s:i, s:s, s:s}", "line", st->line, "keyword",
						     st->argv[0], "why", why));
}

const char *
imp_unicast_source(struct imp *im, int family)
{
	json_t *a;
	size_t i;

	json_array_foreach(im->p->unicast_sources, i, a)
	{
		const char *s = json_string_value(a);
		if ((strchr(s, ':') ? 6 : 4) == family)
			return s;
	}
	return NULL;
}

bool
imp_long(const char *s, long min, long max, long *v)
{
	char *end;
	long n;

	if (s == NULL || *s == '\0')
		return false;
	n = strtol(s, &end, 10);
	if (*end != '\0' || n < min || n > max)
		return false;
	*v = n;
	return true;
}

bool
imp_seconds(const char *s, double max, double *v)
{
	char *end;
	double d;

	if (s == NULL || *s == '\0' || *s == '-' || *s == '+')
		return false;
	d = strtod(s, &end);
	if (*end != '\0' || !isfinite(d) || d < 0 || d > max)
		return false;
	*v = d;
	return true;
}

/* Splits line into words as keepalived splits a script (blanks; single or double quotes keep a
 * word whole). Returns the words (new array), or NULL when a quote is left open. */
static json_t *
split_script(const char *line)
{
	json_t *words = json_array();
	char word[1024];
	size_t o = 0;
	bool any = false;
	char quote = 0;

	for (const char *s = line;; s++) {
		if (*s == '\0' || (quote == 0 && (*s == ' ' || *s == '\t'))) {
			if (any) {
				word[o] = '\0';
				json_array_append_new(words, json_string(word));
			}
			o = 0, any = false;
			if (*s == '\0')
				break;
			continue;
		}
		if (quote == 0 && (*s == '\'' || *s == '"')) {
			quote = *s, any = true;
		} else if (*s == quote) {
			quote = 0;
		} else if (o + 1 < sizeof(word)) {
			word[o++] = *s, any = true;
		}
	}
	if (quote != 0) {
		json_decref(words);
		return NULL;
	}
	return words;
}

/* A bare program name the agent accepts ([A-Za-z0-9._-], 1..64). */
static bool
bare_program(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > 64 || strcmp(s, ".") == 0 || strcmp(s, "..") == 0)
		return false;
	return strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-") == n;
}

json_t *
imp_script_argv(struct imp *im, const struct ka_stmt *st, int from, const char *what)
{
	char line[2048] = "", wrapper[80];
	size_t o = 0;
	json_t *words, *argv, *w;
	const char *prog, *base;
	size_t i;

	for (int k = from; k < st->argc; k++) {
		int n =
		    snprintf(line + o, sizeof(line) - o, "%s%s", k > from ? " " : "", st->argv[k]);
		o += n > 0 && (size_t)n < sizeof(line) - o ? (size_t)n : 0;
	}
	words = strpbrk(line, "|&;<>()$`*?[]{}\\") == NULL ? split_script(line) : NULL;
	prog = words != NULL ? json_string_value(json_array_get(words, 0)) : NULL;
	base = prog != NULL ? (strrchr(prog, '/') ? strrchr(prog, '/') + 1 : prog) : NULL;
	if (base == NULL || !bare_program(base) || json_array_size(words) > IMP_SCRIPT_MAX_ARGS) {
		/* Shell syntax: the agent runs programs, not shell lines; a wrapper keeps it. */
		json_decref(words);
		snprintf(wrapper, sizeof(wrapper), "%s.sh", what);
		json_array_append_new(im->p->scripts,
				      json_pack("{s:i, s:s, s:s++}", "line", st->line, "name",
						wrapper, "content", "#!/bin/sh\n", line, "\n"));
		return json_pack("[s]", wrapper);
	}
	argv = json_array();
	json_array_foreach(words, i, w)
	    json_array_append_new(argv, json_string(i == 0 ? base : json_string_value(w)));
	json_array_append_new(im->p->scripts, json_pack("{s:i, s:s, s:s}", "line", st->line, "name",
							base, "from", prog));
	json_decref(words);
	return argv;
}

/* global_defs: the defaults instances take, and what vigil has no place for. */
static void
imp_globals(struct imp *im, const struct ka_stmt *g)
{
	static const struct {
		const char *kw, *why;
	} skip[] = {
	    {"router_id", "vigil identifies a node by its name"},
	    {"notification_email", "vigil sends no mail: follow /events instead"},
	    {"notification_email_from", "vigil sends no mail: follow /events instead"},
	    {"smtp_server", "vigil sends no mail: follow /events instead"},
	    {"smtp_connect_timeout", "vigil sends no mail: follow /events instead"},
	    {"enable_script_security",
	     "vigil-agent runs only the scripts in its --script-dir, always checked"},
	    {"script_user", "vigil-agent runs scripts as its own user"},
	    {"max_auto_priority", "vigil-agent runs real-time by default (--no-realtime)"},
	};
	long n;

	imp_note(im, g, "applied", NULL);
	for (const struct ka_stmt *s = g->sub; s != NULL; s = s->next) {
		const char *kw = s->argv[0];
		long *dflt = strcmp(kw, "vrrp_garp_master_delay") == 0	   ? &im->garp_delay_s
			     : strcmp(kw, "vrrp_garp_master_repeat") == 0  ? &im->garp_repeat
			     : strcmp(kw, "vrrp_garp_master_refresh") == 0 ? &im->garp_refresh_s
									   : NULL;
		const char *why = "a keepalived global setting that vigil has no equivalent for";

		if (strcmp(kw, "vrrp_version") == 0 &&
		    imp_long(s->argc > 1 ? s->argv[1] : NULL, 2, 3, &n)) {
			im->version = (int)n;
			imp_note(im, s, "applied", "the default version of every instance");
			continue;
		}
		if (dflt != NULL && imp_long(s->argc > 1 ? s->argv[1] : NULL, 0, 86400, &n)) {
			*dflt = n;
			imp_note(im, s, "applied", "the default of every instance");
			continue;
		}
		for (size_t i = 0; i < sizeof(skip) / sizeof(skip[0]); i++)
			if (strcmp(kw, skip[i].kw) == 0)
				why = skip[i].why;
		imp_note_tree(im, s, why);
	}
}

/* vrrp_script NAME { ... }: read now, turned into a node check once instances tracked it. */
static void
imp_script_def(struct imp *im, const struct ka_stmt *st)
{
	double interval = 1, timeout = -1, d;
	long rise = 1, fall = 1, weight = 0;
	json_t *argv = NULL;
	char name[64], check[64];

	if (st->argc < 2) {
		imp_error(im, st, "vrrp_script needs a name");
		return;
	}
	import_name("script", st->argv[1], name);
	snprintf(check, sizeof(check), "%.30s-%.32s", im->node, name);
	imp_note(im, st, "applied", NULL);
	for (const struct ka_stmt *s = st->sub; s != NULL; s = s->next) {
		const char *kw = s->argv[0], *v = s->argc > 1 ? s->argv[1] : NULL;
		bool ok = true;

		if (strcmp(kw, "script") == 0 && s->argc > 1) {
			json_decref(argv);
			argv = imp_script_argv(im, s, 1, check);
		} else if (strcmp(kw, "interval") == 0) {
			ok = imp_seconds(v, 3600, &d) && d >= 0.1;
			interval = ok ? d : interval;
		} else if (strcmp(kw, "timeout") == 0) {
			ok = imp_seconds(v, 60, &d) && d >= 0.01;
			timeout = ok ? d : timeout;
		} else if (strcmp(kw, "rise") == 0) {
			ok = imp_long(v, 1, 100, &rise);
		} else if (strcmp(kw, "fall") == 0) {
			ok = imp_long(v, 1, 100, &fall);
		} else if (strcmp(kw, "weight") == 0) {
			ok = imp_long(v, -253, 253, &weight);
			if (ok && s->argc > 2)
				imp_gap(im, s, "weight ... reverse has no vigil equivalent");
		} else {
			imp_note_tree(im, s,
				      strcmp(kw, "user") == 0
					  ? "vigil-agent runs scripts as its own user"
					  : "a vrrp_script setting vigil has no equivalent for");
			continue;
		}
		if (ok)
			imp_note(im, s, "applied", NULL);
		else
			imp_note(im, s, "not_applied",
				 "not a valid value here (keepalived ignores it too): the default "
				 "stays");
	}
	if (argv == NULL) {
		imp_note(im, st, "not_applied", "no script: keepalived ignores it too");
		return;
	}
	if (timeout < 0)
		timeout =
		    interval < 60 ? interval : 60; /* keepalived: timeout defaults to interval */
	json_object_set_new(
	    im->script_defs, st->argv[1],
	    json_pack("{s:i, s:s, s:{s:s, s:s, s:o, s:I, s:I, s:i, s:i, s:i}, s:[]}", "line",
		      st->line, "check", check, "spec", "type", "script", "node", im->node,
		      "script", argv, "interval_ms", (json_int_t)llround(interval * 1000),
		      "timeout_ms", (json_int_t)llround(timeout * 1000), "rise", (int)rise, "fall",
		      (int)fall, "weight", (int)weight, "tracked"));
}

/* The vrrp_scripts that instances track become node checks naming the VIPs that track them,
 * with their weights where they override the script's (keepalived's per-instance track_script);
 * the others are reported. */
static void
imp_scripts_done(struct imp *im, const struct ka_stmt *first)
{
	for (const struct ka_stmt *st = first; st != NULL; st = st->next) {
		json_t *def, *spec;
		size_t tracked;

		if (strcmp(st->argv[0], "vrrp_script") != 0 || st->argc < 2 ||
		    (def = json_object_get(im->script_defs, st->argv[1])) == NULL)
			continue;
		tracked = json_array_size(json_object_get(def, "tracked"));
		if (tracked == 0) {
			imp_note(
			    im, st, "not_applied",
			    "no imported instance tracks it: keepalived does not run it either");
			continue;
		}
		/* Always the VIPs that track it: a node check without vips would move every VIP of
		 * the node, those the file does not have (made by hand, or by another import) too. */
		spec = json_deep_copy(json_object_get(def, "spec"));
		json_object_set(spec, "vips", json_object_get(def, "tracked"));
		json_array_append_new(im->p->checks, json_pack("{s:O, s:i, s:o}", "name",
							       json_object_get(def, "check"),
							       "line", st->line, "spec", spec));
	}
}

static const struct {
	const char *kw, *why;
} top_skip[] = {
    {"static_ipaddress", "vigil manages only the addresses of VRRP instances"},
    {"static_routes", "vigil manages no routes"},
    {"static_rules", "vigil manages no routing rules"},
    {"virtual_server_group", "vigil drives HAProxy, not IPVS"},
    {"vrrp_track_file", "vigil has no tracked files: use a script check"},
    {"track_file", "vigil has no tracked files: use a script check"},
    {"vrrp_track_process", "vigil has no tracked processes: use a script check"},
    {"track_process", "vigil has no tracked processes: use a script check"},
    {"garp_group", "vigil sets GARP timers per VIP"},
    {"linkbeat_use_polling", "vigil-agent watches links through netlink"},
    {"net_namespace", "vigil-agent runs in the namespace it is started in"},
    {"bfd_instance", "vigil has no BFD"},
};

/* Turns the notes into the statements list, in file order; a statement nobody noted is a bug
 * of the importer, shown rather than lost. */
static void
collect(struct imp *im, const struct ka_stmt *st)
{
	for (; st != NULL; st = st->next) {
		json_t *e = entry_of(im, st);
		if (e == NULL)
			e = json_pack("{s:i, s:s, s:s, s:s}", "line", st->line, "keyword",
				      st->argv[0], "result", "not_applied", "why",
				      "not understood by the importer");
		else
			json_incref(e);
		json_array_append_new(im->p->statements, e);
		collect(im, st->sub);
	}
}

static void
top_level(struct imp *im, const struct ka_stmt *st)
{
	const char *kw = st->argv[0];

	if (strcmp(kw, "vrrp_instance") == 0)
		imp_instance(im, st);
	else if (strcmp(kw, "vrrp_sync_group") == 0)
		imp_sync_group(im, st);
	else if (strcmp(kw, "virtual_server") == 0)
		imp_virtual_server(im, st);
	else if (strcmp(kw, "global_defs") != 0 && strcmp(kw, "vrrp_script") != 0) {
		for (size_t i = 0; i < sizeof(top_skip) / sizeof(top_skip[0]); i++)
			if (strcmp(kw, top_skip[i].kw) == 0) {
				imp_note_tree(im, st, top_skip[i].why);
				return;
			}
		imp_error(im, st, "unknown keyword %s at the top level", kw);
		imp_note_rest(im, st, "inside a block that keepalived refuses");
	}
}

int
import_plan(const struct ka_conf *c, const char *node, const char *node_address,
	    struct import_plan *p)
{
	struct imp im = {.node = node, .node_address = node_address, .p = p, .version = 2};
	const struct ka_stmt *st;

	p->vips = json_array(), p->checks = json_array(), p->backends = json_array();
	p->statements = json_array(), p->gaps = json_array(), p->scripts = json_array();
	p->errors = json_array(), p->unicast_sources = json_array();
	im.seen = json_object(), im.script_defs = json_object(), im.groups = json_object();
	im.instances = json_array();
	im.garp_delay_s = im.garp_repeat = im.garp_refresh_s = -1;
	if (!p->vips || !p->checks || !p->backends || !p->statements || !p->gaps || !p->scripts ||
	    !p->errors || !p->unicast_sources || !im.seen || !im.script_defs || !im.groups ||
	    !im.instances)
		goto oom;
	/* Pass 1: what instances refer to, wherever it is in the file (a vrrp_script may follow
	 * the instance that tracks it; sync groups name instances defined later). */
	for (st = c->first; st != NULL; st = st->next) {
		if (strcmp(st->argv[0], "global_defs") == 0)
			imp_globals(&im, st);
		else if (strcmp(st->argv[0], "vrrp_script") == 0)
			imp_script_def(&im, st);
		else if (strcmp(st->argv[0], "vrrp_sync_group") == 0)
			imp_sync_group(&im, st);
		else
			continue;
		imp_note_rest(&im, st, IMP_STRAY_BLOCK);
	}
	/* Pass 2: instances, then virtual servers (they hang off the VIP carrying their address).
	 */
	for (st = c->first; st != NULL; st = st->next)
		if (strcmp(st->argv[0], "virtual_server") != 0 &&
		    strcmp(st->argv[0], "vrrp_sync_group") != 0)
			top_level(&im, st);
	for (st = c->first; st != NULL; st = st->next)
		if (strcmp(st->argv[0], "virtual_server") == 0)
			top_level(&im, st);
	imp_scripts_done(&im, c->first);
	collect(&im, c->first);
	json_decref(im.seen), json_decref(im.script_defs), json_decref(im.groups);
	json_decref(im.instances);
	return 0;
oom:
	json_decref(im.seen), json_decref(im.script_defs), json_decref(im.groups);
	json_decref(im.instances);
	return -1;
}

void
import_plan_free(struct import_plan *p)
{
	json_decref(p->vips), json_decref(p->checks), json_decref(p->backends);
	json_decref(p->statements), json_decref(p->gaps), json_decref(p->scripts);
	json_decref(p->errors), json_decref(p->unicast_sources);
	memset(p, 0, sizeof(*p));
}
