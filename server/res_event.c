/* /events: the change feed. Each write appends one entry per changed object, ordered by revision;
 * ?since=REV&wait=N parks until something newer exists. Entries older than --events-keep are
 * dropped, and asking for them is 410 Gone (the client reloads and continues from "revision"). */
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

int
res_events(struct http_request *req, struct http_response *res)
{
	long long since = query_int(req, "since", (1LL << 62)),
		  limit = query_int(req, "limit", 500);
	struct store_change *ch;
	char ts[40];
	int n;

	if (since == -2)
		return http_problem(res, req, 400, "bad-request",
				    "since must be a revision number");
	if (limit == -2 || limit == 0)
		return http_problem(res, req, 400, "bad-request", "limit must be from 1 to 500");
	if (limit < 0)
		limit = 100;
	int64_t rev = store_revision();
	if ((ch = calloc((size_t)limit, sizeof(*ch))) == NULL)
		return http_problem(res, req, 503, "unavailable", "out of memory");
	n = store_changes(since, (int)limit, ch);
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
	for (int i = 0; i < n; i++) {
		json_t *e =
		    json_pack("{s:I, s:s, s:s, s:s, s:s}", "revision", (json_int_t)ch[i].rev,
			      "change", ch[i].op, "kind", ch[i].kind, "name", ch[i].name, "time",
			      http_rfc3339(ch[i].ts_ms, ts, sizeof(ts)));
		hal_link(e, "about", "/%s/%s", plural_of(ch[i].kind), ch[i].name);
		json_array_append_new(items, e);
	}
	long long last = n > 0 ? ch[n - 1].rev : (since >= 0 ? since : rev);
	res->body = json_pack("{s:I, s:i, s:{s:o}}", "revision", (json_int_t)rev, "count", n,
			      "_embedded", "events", items);
	if (since >= 0)
		hal_link(res->body, "self", "/events?since=%lld", since);
	else
		hal_link(res->body, "self", "/events");
	hal_link(res->body, "next", "/events?since=%lld", last);
	hal_add_curies(res->body);
	res->last_modified_ms = store_kind_modified_ms(NULL);
	if (res->last_modified_ms < http_opts.start_ms)
		res->last_modified_ms = http_opts.start_ms;
	res->nothing_yet = since >= 0 && n == 0;
	res->status = 200;
	free(ch);
	return 0;
}
