/* The agent's conversation with vigild (session.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "session.h"

struct session {
	struct loop *loop;
	struct client *client;
	struct session_hooks hooks;
	char node[64];
	int poll_wait_s;
	char config_etag[128];
	char config_href[512];
	char status_href[512];
	int backoff_ms;
	struct loop_timer retry;
	bool status_inflight, status_dirty, stopping;
};

static void discover(struct session *s);
static void poll_config(struct session *s);

struct session *
session_new(struct loop *l, struct client *c, const char *node, int poll_wait_s,
	    const struct session_hooks *hooks)
{
	struct session *s = calloc(1, sizeof(*s));

	if (s == NULL)
		return NULL;
	s->loop = l;
	s->client = c;
	s->hooks = *hooks;
	snprintf(s->node, sizeof(s->node), "%s", node);
	s->poll_wait_s = poll_wait_s;
	return s;
}

void
session_free(struct session *s)
{
	if (s == NULL)
		return;
	loop_timer_off(s->loop, &s->retry);
	free(s);
}

static void
retry_later(struct session *s, void (*what)(struct session *), const char *why)
{
	if (s->stopping)
		return;
	s->backoff_ms = s->backoff_ms ? s->backoff_ms * 2 : 250;
	if (s->backoff_ms > 10000)
		s->backoff_ms = 10000;
	fprintf(stderr, "vigil-agent: %s; retrying in %d ms\n", why, s->backoff_ms);
	s->retry.fn = (loop_timer_fn)what;
	s->retry.arg = s;
	loop_timer_at(s->loop, &s->retry, loop_now_ms() + s->backoff_ms);
}

/* Returns the href of rel in a HAL document, or NULL. */
static const char *
link_of(json_t *doc, const char *rel)
{
	return json_string_value(
	    json_object_get(json_object_get(json_object_get(doc, "_links"), rel), "href"));
}

static void
on_config(const struct client_response *r, void *arg)
{
	struct session *s = arg;
	json_t *cfg;

	if (s->stopping)
		return;
	if (r->status == 304) {
		s->backoff_ms = 0;
		poll_config(s);
		return;
	}
	if (r->status != 200 || (cfg = json_loads(r->body, 0, NULL)) == NULL) {
		char why[200];
		snprintf(why, sizeof(why), "config: %s",
			 r->status ? "unexpected answer" : r->error);
		if (r->status == 404 || r->status == 401)
			retry_later(s, discover, why);
		else
			retry_later(s, poll_config, why);
		return;
	}
	s->backoff_ms = 0;
	snprintf(s->config_etag, sizeof(s->config_etag), "%s", r->etag);
	s->hooks.config(s->hooks.arg, cfg, r->body);
	json_decref(cfg);
	poll_config(s);
}

static void
poll_config(struct session *s)
{
	char href[600];

	snprintf(href, sizeof(href), "%s%swait=%d", s->config_href,
		 strchr(s->config_href, '?') ? "&" : "?", s->poll_wait_s);
	if (client_request(s->client, "GET", href, s->config_etag[0] ? s->config_etag : NULL, NULL,
			   (long)(s->poll_wait_s + 15) * 1000, on_config, s) != 0)
		retry_later(s, poll_config, "cannot start the config request");
}

static void
on_node(const struct client_response *r, void *arg)
{
	struct session *s = arg;
	json_t *doc = r->status == 200 ? json_loads(r->body, 0, NULL) : NULL;
	const char *cfg = link_of(doc, "vg:config"), *st = link_of(doc, "vg:status");

	if (cfg == NULL || st == NULL) {
		json_decref(doc);
		retry_later(s, discover, r->status ? "node: no config/status links" : r->error);
		return;
	}
	snprintf(s->config_href, sizeof(s->config_href), "%s", cfg);
	snprintf(s->status_href, sizeof(s->status_href), "%s", st);
	json_decref(doc);
	s->backoff_ms = 0;
	poll_config(s);
	session_report(s);
}

/* Follows the root's templated vg:node link to our node. */
static void
on_root(const struct client_response *r, void *arg)
{
	struct session *s = arg;
	json_t *doc = r->status == 200 ? json_loads(r->body, 0, NULL) : NULL;
	const char *tmpl = link_of(doc, "vg:node"), *at;
	char href[512];

	if (tmpl == NULL || (at = strstr(tmpl, "{name}")) == NULL) {
		json_decref(doc);
		retry_later(s, discover, r->status ? "root: no vg:node link" : r->error);
		return;
	}
	snprintf(href, sizeof(href), "%.*s%s%s", (int)(at - tmpl), tmpl, s->node, at + 6);
	json_decref(doc);
	if (client_request(s->client, "GET", href, NULL, NULL, 5000, on_node, s) != 0)
		retry_later(s, discover, "cannot start a request");
}

static void
discover(struct session *s)
{
	if (client_request(s->client, "GET", "/", NULL, NULL, 5000, on_root, s) != 0)
		retry_later(s, discover, "cannot start a request");
}

void
session_start(struct session *s)
{
	discover(s);
}

static void
on_status(const struct client_response *r, void *arg)
{
	struct session *s = arg;

	s->status_inflight = false;
	if (r->status != 200 && !s->stopping)
		fprintf(stderr, "vigil-agent: status report: %s (%ld)\n",
			r->status ? "refused" : r->error, r->status);
	if (s->status_dirty)
		session_report(s);
	else if (s->stopping && s->hooks.drained)
		s->hooks.drained(s->hooks.arg);
}

void
session_report(struct session *s)
{
	json_t *rep;
	char *body;

	if (s->status_href[0] == '\0')
		return; /* not discovered yet: the discovery sends one */
	if (s->status_inflight) {
		s->status_dirty = true;
		return;
	}
	s->status_dirty = false;
	rep = s->hooks.report(s->hooks.arg);
	body = json_dumps(rep, JSON_COMPACT);
	json_decref(rep);
	if (body != NULL &&
	    client_request(s->client, "PUT", s->status_href, NULL, body, 3000, on_status, s) == 0)
		s->status_inflight = true;
	free(body);
}

void
session_stop(struct session *s)
{
	s->stopping = true;
	loop_timer_off(s->loop, &s->retry);
	s->status_inflight = false; /* a final report, whatever is in flight */
	session_report(s);
	if (!session_busy(s) && s->hooks.drained)
		s->hooks.drained(s->hooks.arg);
}

bool
session_busy(const struct session *s)
{
	return s->status_inflight || s->status_dirty;
}
