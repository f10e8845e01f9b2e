/* The check runner: turns config.checks into scheduled probes (check_net.c, check_script.c), one
 * timer per check, never two probes of one check at once, and keeps each check's rise/fall counter,
 * last output and the time that output was first seen. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <arpa/inet.h>
#include <netinet/in.h>

#include "clock.h"
#include "addr.h"
#include "check_probe.h"
#include "checks.h"
#include "script.h"
#include "text.h"

enum check_type {
	TYPE_TCP,
	TYPE_HTTP,
	TYPE_HTTPS,
	TYPE_SCRIPT,
};

struct check {
	char name[64];
	char backend[64]; /* "" for a node check */
	enum check_type type;
	int interval_ms, timeout_ms, rise, fall, weight;
	/* A node check's "vips" (keepalived's per-instance track_script): the VIPs it moves, each
	 * by its own weight; nvips 0: every VIP of the node, by weight. */
	unsigned nvips;
	struct check_vip {
		char vip[64];
		int weight;
	} vips[CHECK_VIPS_MAX];
	char *ident;	      /* what the probe does, canonical JSON: a change restarts the check */
	char target_err[200]; /* the check cannot run (config): unknown with this output */
	struct sockaddr_storage sa;
	socklen_t salen;
	char url[600];
	bool verify_tls;
	long expect_status;
	char **argv; /* script, NULL-terminated, owned */
	struct check_counter ctr;
	char output[PROBE_OUTPUT_MAX + 1];
	int64_t at_ms;	     /* wall clock: when (state, output) was first seen */
	uint64_t version;    /* cs->version when (state, output) last changed */
	struct probe *probe; /* running, or NULL */
	int64_t started_ms;  /* monotonic start of the last probe */
	struct loop_timer timer;
	struct checks *cs;
	bool seen;
};

struct checks {
	struct loop *loop;
	struct http_multi *http;
	struct script_runner *scripts;
	void (*on_change)(void *arg);
	void *arg;
	struct check **tab;
	int n, cap;
	uint64_t version; /* bumped by every change of a reported entry */
};

static const char *const type_names[] = {"tcp", "http", "https", "script"};

const char *
checks_state_str(enum check_state s)
{
	return s == CHECK_UP ? "up" : s == CHECK_DOWN ? "down" : "unknown";
}

bool
checks_count(struct check_counter *c, bool up, int rise, int fall)
{
	enum check_state before = c->state;

	if (up) {
		c->downs = 0;
		if (c->ups < rise)
			c->ups++;
		if (c->ups >= rise)
			c->state = CHECK_UP;
	} else {
		c->ups = 0;
		if (c->downs < fall)
			c->downs++;
		if (c->downs >= fall)
			c->state = CHECK_DOWN;
	}
	return c->state != before;
}

void
probe_cancel(struct probe *p)
{
	if (p != NULL)
		p->cancel(p);
}

void
probe_clean_text(char *out, const char *text, size_t len)
{
	text_clean(out, PROBE_OUTPUT_MAX + 1, text, len);
}

void
probe_result_set(struct probe_result *r, enum probe_verdict v, const char *fmt, ...)
{
	char buf[PROBE_OUTPUT_MAX * 2];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (n < 0)
		n = 0;
	probe_clean_text(r->output, buf, (size_t)n < sizeof(buf) ? (size_t)n : sizeof(buf) - 1);
	r->verdict = v;
}

static void start_probe(struct check *c);

static void
on_timer(void *arg)
{
	start_probe(arg);
}

/* Arms the next probe one interval after the last start (at once if that has passed). */
static void
schedule_next(struct check *c)
{
	int64_t now = loop_now_ms(), at = c->started_ms + c->interval_ms;

	loop_timer_at(c->cs->loop, &c->timer, at > now ? at : now);
}

/* Takes a result: counts it, remembers the output, schedules the next probe, tells the owner. */
static void
record(struct check *c, const struct probe_result *r)
{
	struct checks *cs = c->cs;
	enum check_state before = c->ctr.state;
	bool changed;

	if (r->verdict == PROBE_REFUSED)
		c->ctr = (struct check_counter){CHECK_UNKNOWN, 0, 0};
	else
		checks_count(&c->ctr, r->verdict == PROBE_UP, c->rise, c->fall);
	changed = before != c->ctr.state || strcmp(c->output, r->output) != 0;
	if (changed) {
		snprintf(c->output, sizeof(c->output), "%s", r->output);
		c->at_ms = clock_wall_ms();
		c->version = ++cs->version;
	}
	if (before != c->ctr.state)
		fprintf(stderr, "vigil-agent: check %s: %s -> %s (%.*s)\n", c->name,
			checks_state_str(before), checks_state_str(c->ctr.state),
			(int)strcspn(c->output, "\n"), c->output);
	schedule_next(c);
	if (changed && cs->on_change != NULL)
		cs->on_change(cs->arg); /* last: it may look at anything */
}

static void
on_done(const struct probe_result *r, void *arg)
{
	struct check *c = arg;

	c->probe = NULL;
	record(c, r);
}

static void
start_probe(struct check *c)
{
	struct probe_result now;
	int rc;

	c->started_ms = loop_now_ms();
	switch (c->type) {
	case TYPE_TCP:
		rc = probe_tcp_start(c->cs->loop, (struct sockaddr *)&c->sa, c->salen,
				     c->timeout_ms, on_done, c, &c->probe, &now);
		break;
	case TYPE_HTTP:
	case TYPE_HTTPS:
		if (c->cs->http == NULL) {
			probe_result_set(&now, PROBE_REFUSED, "libcurl is not available");
			rc = 1;
			break;
		}
		rc = probe_http_start(c->cs->http, c->url, c->verify_tls, c->expect_status,
				      c->timeout_ms, on_done, c, &c->probe, &now);
		break;
	default:
		rc = probe_script_start(c->cs->scripts, c->argv, c->timeout_ms, on_done, c,
					&c->probe, &now);
		break;
	}
	if (rc != 0) {
		c->probe = NULL;
		record(c, &now);
	}
}

struct checks *
checks_new(struct loop *l, const char *script_dir, const char *script_user,
	   void (*on_change)(void *arg), void *arg)
{
	struct checks *cs = calloc(1, sizeof(*cs));

	if (cs == NULL)
		return NULL;
	cs->loop = l;
	cs->on_change = on_change;
	cs->arg = arg;
	if ((cs->scripts = script_runner_new(l, script_dir, script_user)) == NULL) {
		free(cs);
		return NULL;
	}
	if ((cs->http = http_multi_new(l)) == NULL)
		fprintf(stderr,
			"vigil-agent: checks: cannot start libcurl: http checks stay unknown\n");
	return cs;
}

static void
free_argv(char **argv)
{
	for (size_t i = 0; argv != NULL && argv[i] != NULL; i++)
		free(argv[i]);
	free(argv);
}

static void
check_free(struct check *c)
{
	loop_timer_off(c->cs->loop, &c->timer);
	probe_cancel(c->probe);
	free_argv(c->argv);
	free(c->ident);
	free(c);
}

void
checks_free(struct checks *cs)
{
	if (cs == NULL)
		return;
	for (int i = 0; i < cs->n; i++)
		check_free(cs->tab[i]);
	free(cs->tab);
	http_multi_free(cs->http);
	script_runner_free(cs->scripts);
	free(cs);
}

/* The backend entry called name in config.backends (borrowed), or NULL. */
static json_t *
find_backend(json_t *backends, const char *name)
{
	json_t *b;
	size_t i;

	json_array_foreach(backends, i, b)
	{
		const char *n = json_string_value(json_object_get(b, "name"));
		if (n != NULL && strcmp(n, name) == 0)
			return b;
	}
	return NULL;
}

/* Fills c's socket address from host and port. Returns 0 or -1. */
static int
set_sockaddr(struct check *c, const char *host, int port)
{
	struct addr a;

	memset(&c->sa, 0, sizeof(c->sa));
	if (host == NULL || addr_parse(host, &a) != 0)
		return -1;
	if (a.family == AF_INET) {
		struct sockaddr_in *s = (struct sockaddr_in *)&c->sa;
		s->sin_family = AF_INET;
		s->sin_port = htons((uint16_t)port);
		s->sin_addr = a.u.v4;
		c->salen = sizeof(*s);
	} else {
		struct sockaddr_in6 *s = (struct sockaddr_in6 *)&c->sa;
		s->sin6_family = AF_INET6;
		s->sin6_port = htons((uint16_t)port);
		s->sin6_addr = a.u.v6;
		c->salen = sizeof(*s);
	}
	return 0;
}

/* Copies a script argv from the JSON array (1..32 strings). Returns it (caller frees) or NULL. */
static char **
copy_argv(json_t *arr)
{
	size_t n = json_array_size(arr), i;
	char **argv;

	if (n < 1 || n > 32 || (argv = calloc(n + 1, sizeof(*argv))) == NULL)
		return NULL;
	for (i = 0; i < n; i++) {
		const char *s = json_string_value(json_array_get(arr, i));
		if (s == NULL || (argv[i] = strdup(s)) == NULL) {
			free_argv(argv);
			return NULL;
		}
	}
	return argv;
}

/* A node check's "vips" [{vip, weight?}] into c (absent or malformed entries: left out; weight
 * absent: the check's). */
static void
read_vips(struct check *c, json_t *list)
{
	json_t *e;
	size_t i;

	c->nvips = 0;
	json_array_foreach(list, i, e)
	{
		const char *vip = json_string_value(json_object_get(e, "vip"));
		json_t *w = json_object_get(e, "weight");
		if (c->nvips >= CHECK_VIPS_MAX || vip == NULL ||
		    strlen(vip) >= sizeof(c->vips[0].vip))
			continue;
		snprintf(c->vips[c->nvips].vip, sizeof(c->vips[0].vip), "%s", vip);
		c->vips[c->nvips++].weight =
		    json_is_integer(w) ? (int)json_integer_value(w) : c->weight;
	}
}

/*
 * Builds what check c does from its spec (borrowed) and the config's backends into c (type,
 * target, parameters, ident). A problem that keeps it from running goes to c->target_err.
 * Returns 0, or -1 if the entry is not a check at all (no name or type).
 */
static int
build(struct check *c, json_t *spec, json_t *backends)
{
	const char *name = json_string_value(json_object_get(spec, "name"));
	const char *type = json_string_value(json_object_get(spec, "type"));
	const char *backend = json_string_value(json_object_get(spec, "backend"));
	const char *host = "127.0.0.1", *path = json_string_value(json_object_get(spec, "path"));
	json_t *b = NULL, *p = json_object_get(spec, "port");
	int port = 0;
	size_t t;

	if (name == NULL || type == NULL)
		return -1;
	for (t = 0; t < 4 && strcmp(type, type_names[t]) != 0; t++)
		;
	if (t == 4)
		return -1;
	snprintf(c->name, sizeof(c->name), "%s", name);
	snprintf(c->backend, sizeof(c->backend), "%s", backend ? backend : "");
	c->type = (enum check_type)t;
	c->interval_ms = (int)json_integer_value(json_object_get(spec, "interval_ms"));
	c->timeout_ms = (int)json_integer_value(json_object_get(spec, "timeout_ms"));
	c->rise = (int)json_integer_value(json_object_get(spec, "rise"));
	c->fall = (int)json_integer_value(json_object_get(spec, "fall"));
	c->weight = backend ? 0 : (int)json_integer_value(json_object_get(spec, "weight"));
	read_vips(c, backend ? NULL : json_object_get(spec, "vips"));
	c->interval_ms = c->interval_ms >= 100 ? c->interval_ms : 2000;
	c->timeout_ms = c->timeout_ms >= 10 ? c->timeout_ms : 1000;
	c->rise = c->rise >= 1 ? c->rise : 1;
	c->fall = c->fall >= 1 ? c->fall : 1;
	c->expect_status = json_object_get(spec, "expect_status")
			       ? (long)json_integer_value(json_object_get(spec, "expect_status"))
			       : 200;
	c->verify_tls = !json_is_false(json_object_get(spec, "verify_tls"));
	if (backend != NULL) {
		if ((b = find_backend(backends, backend)) == NULL)
			snprintf(c->target_err, sizeof(c->target_err),
				 "backend %s is not in this node's config", backend);
		host = json_string_value(json_object_get(b, "address"));
		port = (int)json_integer_value(json_object_get(b, "port"));
	}
	if (json_is_integer(p))
		port = (int)json_integer_value(p);
	if (c->type == TYPE_SCRIPT) {
		if ((c->argv = copy_argv(json_object_get(spec, "script"))) == NULL)
			snprintf(c->target_err, sizeof(c->target_err), "no script to run");
	} else if (c->target_err[0] == '\0' && (port < 1 || port > 65535)) {
		snprintf(c->target_err, sizeof(c->target_err), "no port to check");
	} else if (c->target_err[0] == '\0' && set_sockaddr(c, host, port) != 0) {
		snprintf(c->target_err, sizeof(c->target_err), "bad address %s", host ? host : "");
	} else if (c->type != TYPE_TCP) {
		bool v6 = c->sa.ss_family == AF_INET6;
		snprintf(c->url, sizeof(c->url), "%s://%s%s%s:%d%s", type_names[c->type],
			 v6 ? "[" : "", host, v6 ? "]" : "", port, path ? path : "/");
	}
	json_t *id =
	    json_pack("{s:s, s:i, s:s, s:s, s:b, s:I, s:s}", "type", type, "timeout_ms",
		      c->timeout_ms, "url", c->url, "host", host ? host : "", "verify",
		      c->verify_tls, "expect", (json_int_t)c->expect_status, "err", c->target_err);
	json_object_set_new(id, "port", json_integer(port));
	if (c->type == TYPE_SCRIPT)
		json_object_set(id, "script", json_object_get(spec, "script"));
	c->ident = json_dumps(id, JSON_COMPACT | JSON_SORT_KEYS);
	json_decref(id);
	return c->ident != NULL ? 0 : -1;
}

/* Spreads first probes over up to a second (by name), so that hundreds of checks do not start in
 * the same millisecond. */
static int
first_delay_ms(const struct check *c)
{
	unsigned h = 5381;
	int span = c->interval_ms < 1000 ? c->interval_ms : 1000;

	for (const char *s = c->name; *s; s++)
		h = h * 33 + (unsigned char)*s;
	return (int)(h % (unsigned)span);
}

/* Starts c afresh: unknown, or unknown with the reason it cannot run. */
static void
restart(struct check *c)
{
	probe_cancel(c->probe);
	c->probe = NULL;
	c->ctr = (struct check_counter){CHECK_UNKNOWN, 0, 0};
	snprintf(c->output, sizeof(c->output), "%s", c->target_err);
	c->at_ms = clock_wall_ms();
	c->version = ++c->cs->version;
	c->started_ms = loop_now_ms() - c->interval_ms + first_delay_ms(c);
	if (c->target_err[0] == '\0')
		schedule_next(c);
	else
		loop_timer_off(c->cs->loop, &c->timer);
}

static struct check *
find_check(struct checks *cs, const char *name, int *idx)
{
	for (int i = 0; i < cs->n; i++)
		if (strcmp(cs->tab[i]->name, name) == 0) {
			*idx = i;
			return cs->tab[i];
		}
	return NULL;
}

/* Merges the freshly built c into the table: a new check, an old one whose probe changed
 * (replaced, starts over), or one with only its timing or weight changed (kept). */
static void
merge(struct checks *cs, struct check *c)
{
	int i;
	struct check *old = find_check(cs, c->name, &i);

	if (old != NULL && strcmp(old->ident, c->ident) == 0) {
		old->rise = c->rise;
		old->fall = c->fall;
		old->weight = c->weight;
		old->nvips = c->nvips;
		memcpy(old->vips, c->vips, sizeof(c->vips));
		snprintf(old->backend, sizeof(old->backend), "%s", c->backend);
		if (old->interval_ms != c->interval_ms) {
			old->interval_ms = c->interval_ms;
			if (old->probe == NULL && old->target_err[0] == '\0')
				schedule_next(old);
		}
		old->seen = true;
		check_free(c);
		return;
	}
	if (old != NULL) {
		check_free(old);
		cs->tab[i] = c;
	} else if (cs->n == cs->cap) {
		int cap = cs->cap ? cs->cap * 2 : 16;
		struct check **grown = realloc(cs->tab, (size_t)cap * sizeof(*grown));
		if (grown == NULL) {
			check_free(c);
			return;
		}
		cs->tab = grown;
		cs->cap = cap;
		cs->tab[cs->n++] = c;
	} else {
		cs->tab[cs->n++] = c;
	}
	c->seen = true;
	restart(c);
}

void
checks_apply(struct checks *cs, json_t *config, const char *node)
{
	json_t *spec, *backends = json_object_get(config, "backends");
	size_t i;

	for (int k = 0; k < cs->n; k++)
		cs->tab[k]->seen = false;
	json_array_foreach(json_object_get(config, "checks"), i, spec)
	{
		const char *target = json_string_value(json_object_get(spec, "node"));
		struct check *c;
		if (target != NULL && node != NULL && strcmp(target, node) != 0)
			continue; /* another node's check: not ours to run */
		if ((c = calloc(1, sizeof(*c))) == NULL)
			continue;
		c->cs = cs;
		c->timer.fn = on_timer;
		c->timer.arg = c;
		if (build(c, spec, backends) != 0) {
			check_free(c);
			continue;
		}
		merge(cs, c);
	}
	for (int k = 0; k < cs->n;) {
		if (cs->tab[k]->seen) {
			k++;
			continue;
		}
		check_free(cs->tab[k]);
		cs->tab[k] = cs->tab[--cs->n];
	}
}

json_t *
checks_report(const struct checks *cs)
{
	return checks_report_since(cs, 0, NULL);
}

json_t *
checks_report_since(const struct checks *cs, uint64_t since, uint64_t *version)
{
	json_t *r = json_object();
	char ts[80];

	if (version != NULL)
		*version = cs->version;
	for (int i = 0; i < cs->n; i++) {
		const struct check *c = cs->tab[i];
		if (c->version <= since)
			continue;
		json_object_set_new(r, c->name,
				    json_pack("{s:s, s:s, s:s}", "state",
					      checks_state_str(c->ctr.state), "output", c->output,
					      "at", clock_rfc3339(c->at_ms, ts, sizeof(ts))));
	}
	return r;
}

/* Does failing node check c move VIP vip (NULL: any), and by what weight (0: FAULT)? */
static bool
moves(const struct check *c, const char *vip, int *weight)
{
	if (c->backend[0] != '\0' || c->ctr.state != CHECK_DOWN)
		return false;
	*weight = c->weight;
	if (c->nvips == 0 || vip == NULL)
		return true;
	for (unsigned i = 0; i < c->nvips; i++)
		if (strcmp(c->vips[i].vip, vip) == 0) {
			*weight = c->vips[i].weight;
			return true;
		}
	return false;
}

int
checks_priority_adjust(const struct checks *cs, const char *vip, bool *fault)
{
	int sum = 0, w;

	*fault = false;
	for (int i = 0; i < cs->n; i++) {
		if (!moves(cs->tab[i], vip, &w))
			continue;
		if (w == 0)
			*fault = true;
		else
			sum += w;
	}
	return sum;
}

int
checks_node_failures(const struct checks *cs, const char *vip, char *buf, size_t len)
{
	int count = 0, w;
	size_t used = 0;

	if (len > 0)
		buf[0] = '\0';
	for (int pass = 0; pass < 2; pass++) /* weight 0 (FAULT) first */
		for (int i = 0; i < cs->n; i++) {
			const struct check *c = cs->tab[i];
			if (!moves(c, vip, &w) || (pass == 0) != (w == 0))
				continue;
			if (used < len) {
				int n = snprintf(buf + used, len - used, "%scheck %s down (%.*s)",
						 count ? "; " : "", c->name,
						 (int)strcspn(c->output, "\n"), c->output);
				used += n > 0 ? (size_t)n : 0;
			}
			count++;
		}
	return count;
}

json_t *
checks_backend_health(const struct checks *cs)
{
	json_t *h = json_object();

	for (int i = 0; i < cs->n; i++) {
		const struct check *c = cs->tab[i];
		const char *was, *now = checks_state_str(c->ctr.state);
		if (c->backend[0] == '\0')
			continue;
		was = json_string_value(json_object_get(h, c->backend));
		if (was == NULL || strcmp(now, "down") == 0 ||
		    (strcmp(was, "up") == 0 && strcmp(now, "unknown") == 0))
			json_object_set_new(h, c->backend, json_string(now));
	}
	return h;
}
