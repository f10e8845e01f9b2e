/* /events: the change feed. Each write appends one entry per changed object, ordered by revision,
 * with the actor who caused it; ?since=REV&wait=N parks until something newer exists, ?actor=
 * keeps one actor's entries. Entries older than --events-keep are dropped, and asking for them is
 * 410 Gone (the client reloads and continues from "revision"). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "resource.h"
#include "router.h"

static const char *
plural_of(const char *kind)
{
	static const char *const map[][2] = {{"node", "nodes"},
					     {"vip", "vips"},
					     {"backend", "backends"},
					     {"check", "checks"},
					     {"token", "tokens"}};

	for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++)
		if (strcmp(map[i][0], kind) == 0)
			return map[i][1];
	return kind;
}

/* Parses a non-negative integer query value; -1 when absent, -2 when bad. */
static long long
query_int(const struct http_request *req, const char *key, long long max)
{
	const char *v = http_query(req, key);
	char *end;
	long long n;

	if (v == NULL)
		return -1;
	n = strtoll(v, &end, 10);
	if (*v == '\0' || *end != '\0' || n < 0 || n > max)
		return -2;
	return n;
}

/*
 * Parses ?actor= (borrowed v) into m: "ID" (a token id), "node:NAME" (any agent token of that
 * node), "system" (vigild itself) or "system:NAME" (one part of it, such as liveness-sweep).
 * m->value points into v. Returns 0, or -1 when v is none of these.
 */
static int
parse_actor(const char *v, struct store_match *m)
{
	if (strcmp(v, "system") == 0) {
		*m = (struct store_match){STORE_MATCH_SYSTEM, NULL};
		return 0;
	}
	if (strncmp(v, "system:", 7) == 0)
		*m = (struct store_match){STORE_MATCH_SYSTEM, v + 7};
	else if (strncmp(v, "node:", 5) == 0)
		*m = (struct store_match){STORE_MATCH_NODE, v + 5};
	else
		*m = (struct store_match){STORE_MATCH_TOKEN, v};
	return valid_name(m->value) ? 0 : -1;
}

/* The actor of a change, as the API shows it (new reference): null when unknown (stored before
 * schema 3). */
static json_t *
actor_repr(const struct store_actor *a)
{
	if (a->type == STORE_ACTOR_SYSTEM)
		return json_pack("{s:s, s:s}", "type", "system", "name", a->id);
	if (a->type != STORE_ACTOR_TOKEN)
		return json_null();
	json_t *r = json_pack("{s:s, s:s, s:s, s:s}", "type", "token", "token", a->id, "role",
			      a->role, "description", a->description);
	json_object_set_new(r, "node", a->node[0] ? json_string(a->node) : json_null());
	return r;
}

static json_t *
event_repr(const struct store_change *c)
{
	char ts[40];
	json_t *e =
	    json_pack("{s:I, s:s, s:s, s:s, s:s, s:o}", "revision", (json_int_t)c->rev, "change",
		      c->op, "kind", c->kind, "name", c->name, "time",
		      clock_rfc3339(c->ts_ms, ts, sizeof(ts)), "actor", actor_repr(&c->actor));

	hal_link(e, "about", "/%s/%s", plural_of(c->kind), c->name);
	return e;
}

int
res_events(struct http_request *req, struct http_response *res)
{
	long long since = query_int(req, "since", (1LL << 62)),
		  limit = query_int(req, "limit", 500);
	const char *actor = http_query(req, "actor");
	struct store_match match = {STORE_MATCH_ALL, NULL};
	struct store_change *ch;
	char filter[96] = "";
	int n;

	if (since == -2)
		return http_problem(res, req, 400, "bad-request",
				    "since must be a revision number");
	if (limit == -2 || limit == 0)
		return http_problem(res, req, 400, "bad-request", "limit must be from 1 to 500");
	if (actor != NULL && parse_actor(actor, &match) != 0)
		return http_problem(res, req, 400, "bad-request",
				    "actor must be a token id, node:NAME, system or system:NAME");
	if (actor != NULL)
		snprintf(filter, sizeof(filter), "actor=%s", actor);
	if (limit < 0)
		limit = 100;
	int64_t rev = store_revision();
	if ((ch = calloc((size_t)limit, sizeof(*ch))) == NULL)
		return http_problem(res, req, 503, "unavailable", "out of memory");
	n = store_changes(since, (int)limit, &match, ch);
	if (n == STORE_GONE) {
		free(ch);
		return http_problem(res, req, 410, "gone",
				    "events after revision %lld are no longer kept; reload the "
				    "collections and follow the feed from revision %lld",
				    since, (long long)rev);
	}
	if (n < 0) {
		free(ch);
		return http_problem_store(res, req, n, NULL);
	}
	json_t *items = json_array();
	for (int i = 0; i < n; i++)
		json_array_append_new(items, event_repr(&ch[i]));
	long long last = n > 0 ? ch[n - 1].rev : (since >= 0 ? since : rev);
	res->body = json_pack("{s:I, s:i, s:{s:o}}", "revision", (json_int_t)rev, "count", n,
			      "_embedded", "events", items);
	if (since >= 0)
		hal_link(res->body, "self", "/events?since=%lld%s%s", since, *filter ? "&" : "",
			 filter);
	else
		hal_link(res->body, "self", "/events%s%s", *filter ? "?" : "", filter);
	hal_link(res->body, "next", "/events?since=%lld%s%s", last, *filter ? "&" : "", filter);
	hal_add_curies(res->body);
	res->nothing_yet = since >= 0 && n == 0;
	/* An empty page of one actor's events stays so until that actor writes: a long-poll on it
	 * waits for its "@" key alone (store_changes tracked it), not for every write. Any other
	 * answer shows the global revision and time, and so depends on every write. */
	struct store_keys *tracked = NULL;
	if (actor != NULL && res->nothing_yet)
		tracked = store_track_swap(NULL);
	else
		store_track_any();
	res->last_modified_ms = store_kind_modified_ms(NULL);
	if (actor != NULL && res->nothing_yet)
		store_track_swap(tracked);
	if (res->last_modified_ms < http_opts.start_ms)
		res->last_modified_ms = http_opts.start_ms;
	res->status = 200;
	free(ch);
	return 0;
}
