/* libmicrohttpd glue: turns a connection into a struct http_request, runs the router, writes the
 * response with its caching headers, and parks long-polls. A parked request is suspended (no thread
 * held) and watches the store keys its answer was computed from: a commit that touches one of them
 * queues it for re-evaluation by a pool of worker threads, which resume it when its representation
 * changed. A timer thread answers parked requests whose deadline passed and runs the agent
 * liveness sweep. Nothing is re-evaluated for a commit it does not depend on. */
#include <fcntl.h>
#include <microhttpd.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "hmap.h"
#include "linger.h"
#include "metrics.h"
#include "res_node.h"
#include "router.h"
#include "server.h"
#include "store.h"

#define MAX_BODY (1024 * 1024)
#define MAX_WAIT_S 300

/* Per-request state, MHD's con_cls. Owned by MHD's completion callback (request_done). */
struct reqctx {
	struct MHD_Connection *conn;
	struct timespec start;
	char *uri;		   /* owned: the request target as sent, before any decoding */
	struct http_target target; /* owned: uri decoded; req.path and req.query_* point into it */
	bool started;		   /* the access handler has seen the request's headers */
	bool linger;		   /* answered before the body was read: close gracefully */
	char *body;
	size_t body_len, body_cap;
	bool too_large;
	struct http_request req;
	/* long-poll: the fields below are guarded by s.lock while the request is suspended */
	enum { PARK_NONE, PARK_WATCHING, PARK_QUEUED } park;
	bool ready; /* a worker or the timer filled res; queue it on resume */
	struct http_response res;
	struct store_keys deps; /* what the answer was computed from */
	int64_t rev0;		/* the revision it was computed at */
	char parked_etag[24];
	bool parked_feed; /* waiting for a feed to have something */
	int64_t deadline_ms;
	struct reqctx *prev_parked, *next_parked; /* every suspended request */
	struct reqctx *next_queued;
};

/* The parked requests watching one key. */
struct watchers {
	struct reqctx **v; /* owned; n used of cap */
	size_t n, cap;
};

#define MAX_WORKERS 8

static struct {
	struct MHD_Daemon *daemon;
	pthread_t timer, workers[MAX_WORKERS];
	int n_workers;
	pthread_mutex_t lock;
	pthread_cond_t timer_cond, work_cond;
	struct reqctx *parked;		  /* every suspended request, watching or queued */
	struct hmap watch;		  /* key -> .p struct watchers */
	struct reqctx *queue, *queue_end; /* to re-evaluate, oldest first */
	int64_t timer_due_ms;		  /* when the timer thread wakes next */
	unsigned n_parked, max_parked;
	bool stopping;
	int64_t agent_timeout_ms;
} s = {
    .lock = PTHREAD_MUTEX_INITIALIZER,
    .timer_cond = PTHREAD_COND_INITIALIZER,
    .work_cond = PTHREAD_COND_INITIALIZER,
};

static const char *
header(struct MHD_Connection *c, const char *name)
{
	return MHD_lookup_connection_value(c, MHD_HEADER_KIND, name);
}

static bool
cors_allowed(const char *origin)
{
	for (int i = 0; origin && i < http_opts.n_cors_origins; i++)
		if (strcmp(origin, http_opts.cors_origins[i]) == 0)
			return true;
	return false;
}

/* Fills ctx->req from the connection. Returns 0, or -1 with res filled (400 for bad ?wait). */
static int
build_request(struct reqctx *ctx, const char *url, const char *method, struct http_response *res)
{
	struct http_request *req = &ctx->req;
	struct MHD_Connection *c = ctx->conn;
	const char *v;

	char why[128];

	(void)url; /* libmicrohttpd's decoding stops at a NUL: decode ctx->uri instead */
	req->method_name = method;
	req->method = http_method_of(method);
	req->path = NULL; /* a problem about the target has no instance */
	if (http_target_parse(ctx->uri ? ctx->uri : "", &ctx->target, why, sizeof(why)) != 0)
		return http_problem(res, req, 400, "bad-request", "%s", why);
	req->path = ctx->target.path;
	for (int i = 0; i < ctx->target.n; i++) {
		req->query_keys[i] = ctx->target.keys[i];
		req->query_vals[i] = ctx->target.vals[i];
	}
	req->n_query = ctx->target.n;
	req->accept = header(c, MHD_HTTP_HEADER_ACCEPT);
	req->content_type = header(c, MHD_HTTP_HEADER_CONTENT_TYPE);
	req->if_match = header(c, MHD_HTTP_HEADER_IF_MATCH);
	req->if_none_match = header(c, MHD_HTTP_HEADER_IF_NONE_MATCH);
	req->if_modified_since = header(c, MHD_HTTP_HEADER_IF_MODIFIED_SINCE);
	req->authorization = header(c, MHD_HTTP_HEADER_AUTHORIZATION);
	req->origin = header(c, "Origin");
	/* Fetch standard, CORS protocol: a preflight is an OPTIONS with
	 * Access-Control-Request-Method; only one from an allowed origin goes without a token. */
	req->preflight = req->method == HTTP_OPTIONS && cors_allowed(req->origin) &&
			 header(c, "Access-Control-Request-Method") != NULL;
	v = http_query(req, "pretty");
	req->pretty = v != NULL && strcmp(v, "false") != 0 && strcmp(v, "0") != 0;
	req->wait_s = -1;
	if ((v = http_query(req, "wait")) != NULL) {
		char *end;
		long w = strtol(v, &end, 10);
		if (*v == '\0' || *end != '\0' || w < 0 || w > MAX_WAIT_S)
			return http_problem(res, req, 400, "bad-request",
					    "wait must be an integer number of seconds, 0 to %d",
					    MAX_WAIT_S);
		req->wait_s = (int)w;
	}
	return 0;
}

/* Serialises the JSON body into res->text and computes the ETag of successful representations. */
static void
finalize(const struct http_request *req, struct http_response *res)
{
	if (res->body != NULL && res->text == NULL && !req->pretty) {
		http_serialize(res);
	} else if (res->body != NULL && res->text == NULL) {
		bool ok = res->status >= 200 && res->status < 300;
		if (ok && res->etag[0] == '\0')
			http_etag_json(res->body, res->etag);
		res->text = json_dumps(res->body, JSON_INDENT(2));
		res->text_len = res->text ? strlen(res->text) : 0;
		if (req->pretty && res->text) { /* end with a newline for terminals */
			char *t = realloc(res->text, res->text_len + 2);
			if (t != NULL) {
				t[res->text_len++] = '\n';
				t[res->text_len] = '\0';
				res->text = t;
			}
		}
	} else if (res->text != NULL && res->etag[0] == '\0' && res->status == 200) {
		http_etag_bytes(res->text, res->text_len, res->etag);
	}
	if (res->content_type == NULL)
		res->content_type = req->media_type ? req->media_type : MT_HAL;
	if (res->content_type == req->media_type && strcmp(res->content_type, "text/plain") == 0)
		res->content_type = MT_TEXT;
}

/* True when a GET/HEAD answer should become 304 (RFC 9110 13.2.2: If-None-Match wins). */
static bool
not_modified(const struct http_request *req, const struct http_response *res)
{
	if (!(req->method & (HTTP_GET | HTTP_HEAD)) || res->status != 200 || res->is_problem)
		return false;
	if (req->if_none_match != NULL)
		return res->etag[0] && http_etag_matches(req->if_none_match, res->etag, true);
	if (req->if_modified_since != NULL && res->last_modified_ms > 0) {
		struct tm tm = {0};
		const char *end =
		    strptime(req->if_modified_since, "%a, %d %b %Y %H:%M:%S GMT", &tm);
		if (end != NULL && *end == '\0')
			return (int64_t)timegm(&tm) >= res->last_modified_ms / 1000;
	}
	return false;
}

/* Adds res's headers to r: the caching headers of a cacheable answer, Vary, and what res asks. */
static void
add_headers(struct MHD_Response *r, const struct http_request *req, const struct http_response *res,
	    bool cacheable, bool cors)
{
	char date[64];

	if (res->status != 204 && res->status != 304)
		MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, res->content_type);
	if (res->etag[0] && (cacheable || (res->status >= 200 && res->status < 300)))
		MHD_add_response_header(r, MHD_HTTP_HEADER_ETAG, res->etag);
	if (cacheable) {
		if (res->last_modified_ms > 0) {
			time_t t = (time_t)(res->last_modified_ms / 1000);
			struct tm tm;
			gmtime_r(&t, &tm);
			strftime(date, sizeof(date), "%a, %d %b %Y %H:%M:%S GMT", &tm);
			MHD_add_response_header(r, MHD_HTTP_HEADER_LAST_MODIFIED, date);
		}
		MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-cache");
	}
	MHD_add_response_header(r, MHD_HTTP_HEADER_VARY,
				http_opts.n_cors_origins ? "Accept, Authorization, Origin"
							 : "Accept, Authorization");
	if (res->location)
		MHD_add_response_header(r, MHD_HTTP_HEADER_LOCATION, res->location);
	if (res->link_header && res->status == 200)
		MHD_add_response_header(r, MHD_HTTP_HEADER_LINK, res->link_header);
	if (res->allow[0])
		MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, res->allow);
	if (res->extra_name)
		MHD_add_response_header(r, res->extra_name, res->extra_value);
	if (res->csp) {
		MHD_add_response_header(r, "Content-Security-Policy", res->csp);
		MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
	}
	if (cors) {
		MHD_add_response_header(r, "Access-Control-Allow-Origin", req->origin);
		MHD_add_response_header(r, "Access-Control-Expose-Headers",
					"ETag, Link, Location, Last-Modified");
		if (req->method == HTTP_OPTIONS) {
			MHD_add_response_header(r, "Access-Control-Allow-Methods", res->allow);
			MHD_add_response_header(r, "Access-Control-Allow-Headers",
						"Authorization, Content-Type, If-Match, "
						"If-None-Match, If-Modified-Since");
			MHD_add_response_header(r, "Access-Control-Max-Age", "600");
		}
	}
}

/*
 * The last few responses built for cacheable 200/304 answers without per-request headers (CORS,
 * Location, Allow, extras), per thread: the same answer sent again is queued as it is, without a
 * new response object and its ten allocations and header copies. An entry matches on everything
 * that goes into the response, body bytes included, so bodies are kept only up to RMEMO_MAX_BODY.
 * MHD responses are reference counted and may be queued on any number of connections; the memo
 * holds one reference per entry. Date is added by MHD when it sends, so it stays current.
 */
#define RMEMO_SLOTS 4
#define RMEMO_MAX_BODY (16 * 1024)
struct rmemo {
	struct MHD_Response *r;
	int status;
	char etag[24];
	const char *content_type, *csp;
	int64_t last_modified_ms;
	char *link; /* owned */
	char *text; /* owned by r (MHD frees it) */
	size_t len;
};
static __thread struct rmemo rmemo[RMEMO_SLOTS];
static __thread unsigned rmemo_next;
static pthread_key_t rmemo_key; /* set in threads that used the memo: frees it when they end */
static pthread_once_t rmemo_once = PTHREAD_ONCE_INIT;

static void
rmemo_free(void *arg)
{
	struct rmemo *memo = arg;

	for (unsigned i = 0; i < RMEMO_SLOTS; i++) {
		if (memo[i].r != NULL)
			MHD_destroy_response(memo[i].r);
		free(memo[i].link);
		memset(&memo[i], 0, sizeof(memo[i]));
	}
}

static void
rmemo_init(void)
{
	pthread_key_create(&rmemo_key, rmemo_free);
}

static bool
rmemo_match(const struct rmemo *m, const struct http_response *res)
{
	return m->r != NULL && m->status == res->status && m->len == res->text_len &&
	       m->content_type == res->content_type && m->csp == res->csp &&
	       m->last_modified_ms == res->last_modified_ms &&
	       memcmp(m->etag, res->etag, sizeof(m->etag)) == 0 &&
	       (m->link == NULL) == (res->link_header == NULL) &&
	       (m->link == NULL || strcmp(m->link, res->link_header) == 0) &&
	       (res->text_len == 0 || memcmp(m->text, res->text, res->text_len) == 0);
}

/* Returns the memo's response for res (taking res->text when it builds one), or NULL. */
static struct MHD_Response *
rmemo_get(const struct http_request *req, struct http_response *res)
{
	struct rmemo *m;

	for (unsigned i = 0; i < RMEMO_SLOTS; i++)
		if (rmemo_match(&rmemo[i], res))
			return rmemo[i].r;
	pthread_once(&rmemo_once, rmemo_init);
	pthread_setspecific(rmemo_key, rmemo);
	m = &rmemo[rmemo_next++ % RMEMO_SLOTS];
	if (m->r != NULL)
		MHD_destroy_response(m->r);
	free(m->link);
	memset(m, 0, sizeof(*m));
	m->r = MHD_create_response_from_buffer(res->text_len, res->text ? res->text : (void *)"",
					       res->text ? MHD_RESPMEM_MUST_FREE
							 : MHD_RESPMEM_PERSISTENT);
	if (m->r == NULL)
		return NULL;
	m->text = res->text;
	res->text = NULL;
	m->len = res->text_len;
	m->status = res->status;
	memcpy(m->etag, res->etag, sizeof(m->etag));
	m->content_type = res->content_type;
	m->csp = res->csp;
	m->last_modified_ms = res->last_modified_ms;
	m->link = res->link_header ? strdup(res->link_header) : NULL;
	add_headers(m->r, req, res, true, false);
	return m->r;
}

/* Queues res (consumed) on the connection. */
static enum MHD_Result
send_response(struct reqctx *ctx, struct http_response *res)
{
	struct http_request *req = &ctx->req;
	struct MHD_Response *r = NULL;
	bool cacheable = (req->method & (HTTP_GET | HTTP_HEAD)) && !res->is_problem &&
			 (res->status == 200 || res->status == 304);
	bool cors = cors_allowed(req->origin);
	bool memo = false;
	enum MHD_Result ret;
	struct timespec end;

	if (res->status == 304 || res->status == 204) {
		free(res->text);
		res->text = NULL;
		res->text_len = 0;
	}
	if (cacheable && !cors && !res->location && !res->allow[0] && !res->extra_name &&
	    res->text_len <= RMEMO_MAX_BODY && (r = rmemo_get(req, res)) != NULL)
		memo = true;
	if (r == NULL) {
		r = MHD_create_response_from_buffer(
		    res->text_len, res->text ? res->text : (void *)"",
		    res->text ? MHD_RESPMEM_MUST_FREE : MHD_RESPMEM_PERSISTENT);
		res->text = NULL;
		if (r == NULL)
			return MHD_NO;
		add_headers(r, req, res, cacheable, cors);
	}
	ret = MHD_queue_response(ctx->conn, (unsigned)res->status, r);
	if (!memo)
		MHD_destroy_response(r);
	clock_gettime(CLOCK_MONOTONIC, &end);
	metrics_observe(req->method, res->status,
			(double)(end.tv_sec - ctx->start.tv_sec) +
			    (double)(end.tv_nsec - ctx->start.tv_nsec) / 1e9);
	http_response_clear(res);
	return ret;
}

/* Runs the request through the router and turns a fresh representation into 304 if asked. A
 * long-poll's dependencies go to ctx->deps and ctx->rev0 (replacing the old ones). */
static void
evaluate(struct reqctx *ctx, struct http_response *res)
{
	bool poll = ctx->req.wait_s > 0;

	ctx->deps.n = 0;
	ctx->deps.all = false;
	ctx->rev0 = store_revision();
	router_dispatch(&ctx->req, res, poll ? &ctx->deps : NULL, &ctx->rev0);
	finalize(&ctx->req, res);
	if (not_modified(&ctx->req, res)) {
		free(res->text);
		res->text = NULL;
		res->text_len = 0;
		res->status = 304;
	}
}

/* Adds ctx to the watchers of each of its keys. Called with s.lock. */
static void
watch_add(struct reqctx *ctx)
{
	if (ctx->deps.all) /* it depends on more than it could list: every commit touches "*" */
		store_keys_add(&ctx->deps, "*");
	for (size_t i = 0; i < ctx->deps.n; i++) {
		union hmap_val *v = hmap_put(&s.watch, ctx->deps.key[i]);
		struct watchers *w;
		if (v == NULL)
			continue;
		if (v->p == NULL && (v->p = calloc(1, sizeof(struct watchers))) == NULL)
			continue;
		w = v->p;
		if (w->n == w->cap) {
			size_t cap = w->cap ? w->cap * 2 : 4;
			struct reqctx **nv = realloc(w->v, cap * sizeof(*nv));
			if (nv == NULL)
				continue;
			w->v = nv;
			w->cap = cap;
		}
		w->v[w->n++] = ctx;
	}
}

static void
watchers_free(union hmap_val *v)
{
	struct watchers *w = v->p;

	if (w != NULL)
		free(w->v);
	free(w);
}

/* Removes ctx from the watchers of each of its keys but skip (NULL: all). Called with s.lock. */
static void
watch_del(struct reqctx *ctx, const char *skip)
{
	for (size_t i = 0; i < ctx->deps.n; i++) {
		const char *k = ctx->deps.key[i];
		union hmap_val *v;
		if ((skip != NULL && strcmp(k, skip) == 0) || (v = hmap_get(&s.watch, k)) == NULL)
			continue;
		struct watchers *w = v->p;
		for (size_t j = 0; w != NULL && j < w->n; j++)
			if (w->v[j] == ctx) {
				w->v[j] = w->v[--w->n];
				break;
			}
		if (w == NULL || w->n == 0) {
			union hmap_val old;
			if (hmap_del(&s.watch, k, &old) == 0)
				watchers_free(&old);
		}
	}
}

/* Queues ctx for a worker. Called with s.lock. */
static void
enqueue(struct reqctx *ctx)
{
	ctx->park = PARK_QUEUED;
	ctx->next_queued = NULL;
	if (s.queue_end != NULL)
		s.queue_end->next_queued = ctx;
	else
		s.queue = ctx;
	s.queue_end = ctx;
	pthread_cond_signal(&s.work_cond);
}

/* Watches ctx's keys, or queues it at once when one of them moved since it was evaluated. Called
 * with s.lock. */
static void
watch_or_requeue(struct reqctx *ctx)
{
	if (store_keys_rev(&ctx->deps) > ctx->rev0) {
		enqueue(ctx);
		return;
	}
	ctx->park = PARK_WATCHING;
	watch_add(ctx);
	if (ctx->deadline_ms < s.timer_due_ms)
		pthread_cond_signal(&s.timer_cond);
}

/* Unlinks ctx (no longer watching or queued) from the parked list and resumes it with ctx->res.
 * Called with s.lock. */
static void
finish(struct reqctx *ctx)
{
	if (ctx->prev_parked != NULL)
		ctx->prev_parked->next_parked = ctx->next_parked;
	else
		s.parked = ctx->next_parked;
	if (ctx->next_parked != NULL)
		ctx->next_parked->prev_parked = ctx->prev_parked;
	ctx->prev_parked = ctx->next_parked = NULL;
	ctx->park = PARK_NONE;
	ctx->ready = true;
	s.n_parked--;
	metrics_parked(-1);
	MHD_resume_connection(ctx->conn);
}

/* Replaces ctx's pending answer with a 503 (the server is stopping). */
static void
answer_stopping(struct reqctx *ctx)
{
	http_response_clear(&ctx->res);
	http_problem(&ctx->res, &ctx->req, 503, "unavailable", "the server is stopping");
	finalize(&ctx->req, &ctx->res);
}

/* Parks ctx (already evaluated to res) if it is a long-poll that has nothing new yet. */
static bool
maybe_park(struct reqctx *ctx, struct http_response *res)
{
	if (ctx->req.wait_s <= 0 || !(ctx->req.method & (HTTP_GET | HTTP_HEAD)))
		return false;
	if (!(res->status == 304 && ctx->req.if_none_match != NULL) && !res->nothing_yet)
		return false;
	pthread_mutex_lock(&s.lock);
	if (s.stopping) {
		pthread_mutex_unlock(&s.lock);
		return false;
	}
	if (s.n_parked >= s.max_parked) { /* every parked request holds a socket: bound them */
		pthread_mutex_unlock(&s.lock);
		http_response_clear(res);
		http_problem(res, &ctx->req, 429, "too-many-requests",
			     "%u long-polls are already waiting; retry without wait or later",
			     s.max_parked);
		res->extra_name = "Retry-After";
		res->extra_value = "5";
		finalize(&ctx->req, res);
		return false;
	}
	s.n_parked++;
	ctx->parked_feed = res->nothing_yet;
	memcpy(ctx->parked_etag, res->etag, sizeof(ctx->parked_etag));
	ctx->deadline_ms = clock_wall_ms() + (int64_t)ctx->req.wait_s * 1000;
	ctx->res = *res; /* kept for the timeout answer */
	memset(res, 0, sizeof(*res));
	ctx->prev_parked = NULL;
	ctx->next_parked = s.parked;
	if (s.parked != NULL)
		s.parked->prev_parked = ctx;
	s.parked = ctx;
	MHD_suspend_connection(ctx->conn); /* before anyone can resume it: we hold s.lock */
	watch_or_requeue(ctx);
	pthread_mutex_unlock(&s.lock);
	metrics_parked(1);
	return true;
}

/* Counts the request's headers named name and whether they all have the same value. */
struct header_count {
	const char *name, *first;
	int n;
	bool differ;
};

static enum MHD_Result
count_header(void *cls, enum MHD_ValueKind kind, const char *key, const char *value)
{
	struct header_count *h = cls;

	(void)kind;
	if (strcasecmp(key, h->name) != 0)
		return MHD_YES;
	if (h->n++ == 0)
		h->first = value;
	else if (strcmp(h->first, value ? value : "") != 0)
		h->differ = true;
	return MHD_YES;
}

static struct header_count
headers_named(struct MHD_Connection *c, const char *name)
{
	struct header_count h = {.name = name};

	MHD_get_connection_values(c, MHD_HEADER_KIND, count_header, &h);
	return h;
}

/*
 * The first call for a request, once its headers are in: answers at once what can be answered
 * without the body (a bad target or framing, a body over the limit, a request its token may not
 * make), so that nothing is buffered for it. Returns true with res filled when it answered.
 */
static bool
early_answer(struct reqctx *ctx, const char *url, const char *method, struct http_response *res,
	     bool *has_body)
{
	struct MHD_Connection *c = ctx->conn;
	struct header_count cl = headers_named(c, MHD_HTTP_HEADER_CONTENT_LENGTH);
	struct header_count te = headers_named(c, MHD_HTTP_HEADER_TRANSFER_ENCODING);
	struct http_request *req = &ctx->req;

	*has_body = te.n > 0 || (cl.n > 0 && strtoull(cl.first, NULL, 10) > 0);
	if (build_request(ctx, url, method, res) != 0)
		return true;
	/* RFC 9112 6.3: differing lengths, or a length beside a transfer coding, are what request
	 * smuggling is made of; a transfer coding other than chunked cannot be read. */
	if (cl.differ || (cl.n > 0 && te.n > 0)) {
		http_problem(res, req, 400, "bad-request",
			     cl.differ
				 ? "the request has differing Content-Length headers"
				 : "the request has both Content-Length and Transfer-Encoding");
		return true;
	}
	if (te.n > 0 && (te.n > 1 || strcasecmp(te.first, "chunked") != 0)) {
		http_problem(res, req, 501, "not-implemented",
			     "the only transfer coding understood is chunked");
		return true;
	}
	if (cl.n > 0 && strtoull(cl.first, NULL, 10) > MAX_BODY) {
		http_problem(res, req, 413, "payload-too-large", "the body is over %d bytes",
			     MAX_BODY);
		return true;
	}
	return *has_body && router_precheck(req, res) != 0;
}

static enum MHD_Result
access_handler(void *cls, struct MHD_Connection *conn, const char *url, const char *method,
	       const char *version, const char *upload_data, size_t *upload_data_size,
	       void **con_cls)
{
	struct reqctx *ctx = *con_cls;
	struct http_response res = {0};

	(void)cls;
	(void)version;
	if (ctx == NULL) /* no uri_log call (it cannot fail silently, but be safe) */
		return MHD_NO;
	if (!ctx->started) {
		bool has_body;
		ctx->started = true;
		ctx->conn = conn;
		if (early_answer(ctx, url, method, &res, &has_body)) {
			ctx->linger = has_body;
			finalize(&ctx->req, &res);
			return send_response(ctx, &res);
		}
		return MHD_YES;
	}
	if (ctx->ready) { /* resumed by the waker with the answer */
		ctx->ready = false;
		return send_response(ctx, &ctx->res);
	}
	if (*upload_data_size != 0) {
		size_t n = *upload_data_size;
		*upload_data_size = 0;
		if (ctx->too_large || ctx->body_len + n > MAX_BODY) {
			ctx->too_large = true;
			return MHD_YES;
		}
		if (ctx->body_len + n + 1 > ctx->body_cap) {
			size_t cap = (ctx->body_len + n + 1) * 2;
			char *b = realloc(ctx->body, cap > MAX_BODY + 1 ? MAX_BODY + 1 : cap);
			if (b == NULL)
				return MHD_NO;
			ctx->body = b;
			ctx->body_cap = cap > MAX_BODY + 1 ? MAX_BODY + 1 : cap;
		}
		memcpy(ctx->body + ctx->body_len, upload_data, n);
		ctx->body_len += n;
		return MHD_YES;
	}
	ctx->req.body = ctx->body;
	ctx->req.body_len = ctx->body_len;
	if (ctx->too_large) { /* a chunked body over the limit: read and dropped */
		http_problem(&res, &ctx->req, 413, "payload-too-large", "the body is over %d bytes",
			     MAX_BODY);
		finalize(&ctx->req, &res);
		return send_response(ctx, &res);
	}
	evaluate(ctx, &res);
	if (maybe_park(ctx, &res))
		return MHD_YES;
	return send_response(ctx, &res);
}

/* Called when the request line is in, before anything is decoded: keeps the target as sent. */
static void *
uri_log(void *cls, const char *uri, struct MHD_Connection *conn)
{
	struct reqctx *ctx = calloc(1, sizeof(*ctx));

	(void)cls;
	if (ctx == NULL)
		return NULL;
	ctx->conn = conn;
	clock_gettime(CLOCK_MONOTONIC, &ctx->start);
	if ((ctx->uri = strdup(uri)) == NULL) {
		free(ctx);
		return NULL;
	}
	return ctx;
}

static void
request_done(void *cls, struct MHD_Connection *conn, void **con_cls,
	     enum MHD_RequestTerminationCode toe)
{
	struct reqctx *ctx = *con_cls;

	(void)cls;
	if (ctx == NULL)
		return;
	/* Answered before the body was read: by us, or by libmicrohttpd itself (a malformed
	 * header) when we never saw the request. Linger on a duplicate of the socket so that
	 * closing it does not reset the connection under the answer. */
	if ((ctx->linger || !ctx->started) && toe == MHD_REQUEST_TERMINATED_COMPLETED_OK) {
		const union MHD_ConnectionInfo *ci =
		    MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CONNECTION_FD);
		if (ci != NULL)
			linger_add(fcntl(ci->connect_fd, F_DUPFD_CLOEXEC, 0));
	}
	http_response_clear(&ctx->res);
	store_keys_clear(&ctx->deps);
	http_target_free(&ctx->target);
	free(ctx->uri);
	free(ctx->body);
	free(ctx);
	*con_cls = NULL;
}

/*
 * Re-evaluates a queued request (without s.lock): resumes it when its answer changed (or the
 * server is stopping, or its deadline passed), else watches its keys again.
 */
static void
reevaluate(struct reqctx *ctx)
{
	struct http_response res = {0};
	bool changed = false;

	metrics_wakeup();
	if (!__atomic_load_n(&s.stopping, __ATOMIC_ACQUIRE)) {
		evaluate(ctx, &res);
		changed = ctx->parked_feed
			      ? !res.nothing_yet
			      : !(res.status == 304 && strcmp(res.etag, ctx->parked_etag) == 0);
	}
	pthread_mutex_lock(&s.lock);
	if (changed) {
		http_response_clear(&ctx->res);
		ctx->res = res;
		memset(&res, 0, sizeof(res));
		finish(ctx);
	} else if (s.stopping) {
		answer_stopping(ctx);
		finish(ctx);
	} else if (clock_wall_ms() >= ctx->deadline_ms) {
		finish(ctx); /* ctx->res is the 304 or the empty feed page computed at park time */
	} else {
		watch_or_requeue(ctx);
	}
	pthread_mutex_unlock(&s.lock);
	http_response_clear(&res);
}

static void *
worker_main(void *arg)
{
	(void)arg;
	pthread_mutex_lock(&s.lock);
	for (;;) {
		struct reqctx *ctx = s.queue;
		if (ctx == NULL) {
			if (s.stopping)
				break;
			pthread_cond_wait(&s.work_cond, &s.lock);
			continue;
		}
		if ((s.queue = ctx->next_queued) == NULL)
			s.queue_end = NULL;
		pthread_mutex_unlock(&s.lock);
		reevaluate(ctx);
		pthread_mutex_lock(&s.lock);
	}
	pthread_mutex_unlock(&s.lock);
	store_thread_done();
	return NULL;
}

/* Answers the watching requests whose deadline passed; returns the next deadline (at most a
 * second away). Called with s.lock. */
static int64_t
expire(int64_t now)
{
	int64_t next = now + 1000;

	for (struct reqctx *ctx = s.parked, *nx; ctx != NULL; ctx = nx) {
		nx = ctx->next_parked;
		if (ctx->park != PARK_WATCHING)
			continue; /* a worker has it */
		if (s.stopping || now >= ctx->deadline_ms) {
			watch_del(ctx, NULL);
			if (s.stopping)
				answer_stopping(ctx);
			finish(ctx);
		} else if (ctx->deadline_ms < next) {
			next = ctx->deadline_ms;
		}
	}
	return next;
}

static void *
timer_main(void *arg)
{
	int64_t last_sweep = 0;

	(void)arg;
	pthread_mutex_lock(&s.lock);
	for (;;) {
		int64_t now = clock_wall_ms();
		s.timer_due_ms = expire(now);
		if (s.stopping)
			break;
		if (now - last_sweep >= 1000 && s.agent_timeout_ms > 0) {
			last_sweep = now;
			pthread_mutex_unlock(&s.lock);
			node_sweep_liveness(now, s.agent_timeout_ms);
			pthread_mutex_lock(&s.lock);
			continue;
		}
		struct timespec ts = {.tv_sec = s.timer_due_ms / 1000,
				      .tv_nsec = (s.timer_due_ms % 1000) * 1000000};
		pthread_cond_timedwait(&s.timer_cond, &s.lock, &ts);
	}
	pthread_mutex_unlock(&s.lock);
	store_thread_done();
	return NULL;
}

/* The store calls this after each durable commit: queues every parked request that watches a
 * touched key. */
void
server_notify(int64_t rev, const struct store_keys *touched)
{
	(void)rev;
	pthread_mutex_lock(&s.lock);
	if (touched->all) /* it could not list everything it touched: wake everyone */
		for (struct reqctx *ctx = s.parked; ctx != NULL; ctx = ctx->next_parked)
			if (ctx->park == PARK_WATCHING) {
				watch_del(ctx, NULL);
				enqueue(ctx);
			}
	for (size_t i = 0; i < touched->n; i++) {
		union hmap_val old;
		if (hmap_del(&s.watch, touched->key[i], &old) != 0)
			continue;
		struct watchers *w = old.p;
		for (size_t j = 0; w != NULL && j < w->n; j++) {
			struct reqctx *ctx = w->v[j];
			if (ctx->park != PARK_WATCHING)
				continue;
			watch_del(ctx, touched->key[i]);
			enqueue(ctx);
		}
		watchers_free(&old);
	}
	pthread_mutex_unlock(&s.lock);
}

static void
mhd_log(void *cls, const char *fmt, va_list ap)
{
	(void)cls;
	fprintf(stderr, "vigild: http: ");
	vfprintf(stderr, fmt, ap);
}

int
server_start(const struct server_config *cfg, char *err, size_t errlen)
{
	unsigned flags =
	    MHD_USE_EPOLL_INTERNAL_THREAD | MHD_ALLOW_SUSPEND_RESUME | MHD_USE_ERROR_LOG;
	struct MHD_OptionItem opts[16];
	int n = 0;

	s.agent_timeout_ms = cfg->agent_timeout_ms;
	s.n_workers = cfg->longpoll_workers > 0 ? (int)cfg->longpoll_workers : 2;
	if (s.n_workers > MAX_WORKERS)
		s.n_workers = MAX_WORKERS;
	/* leave a quarter of the connections for requests that answer at once */
	s.max_parked =
	    cfg->max_parked ? cfg->max_parked : cfg->connection_limit - cfg->connection_limit / 4;
	if (cfg->addr.ss_family == AF_INET6)
		flags |= MHD_USE_IPv6;
	if (cfg->tls_cert_pem != NULL)
		flags |= MHD_USE_TLS;
	opts[n++] = (struct MHD_OptionItem){MHD_OPTION_EXTERNAL_LOGGER, (intptr_t)mhd_log, NULL};
	opts[n++] = (struct MHD_OptionItem){MHD_OPTION_LISTEN_SOCKET, cfg->listen_fd, NULL};
	opts[n++] = (struct MHD_OptionItem){MHD_OPTION_THREAD_POOL_SIZE, cfg->threads, NULL};
	opts[n++] =
	    (struct MHD_OptionItem){MHD_OPTION_CONNECTION_LIMIT, cfg->connection_limit, NULL};
	/* idle connections, and requests that stall half sent, are closed after this; parked
	 * long-polls are suspended, which takes them off libmicrohttpd's timeout lists */
	opts[n++] = (struct MHD_OptionItem){MHD_OPTION_CONNECTION_TIMEOUT,
					    cfg->idle_timeout_s ? cfg->idle_timeout_s : 15, NULL};
	opts[n++] = (struct MHD_OptionItem){MHD_OPTION_URI_LOG_CALLBACK, (intptr_t)uri_log, NULL};
	opts[n++] = (struct MHD_OptionItem){MHD_OPTION_CONNECTION_MEMORY_LIMIT, 16 * 1024, NULL};
	opts[n++] =
	    (struct MHD_OptionItem){MHD_OPTION_NOTIFY_COMPLETED, (intptr_t)request_done, NULL};
	if (cfg->tls_cert_pem != NULL) {
		opts[n++] = (struct MHD_OptionItem){MHD_OPTION_HTTPS_MEM_CERT, 0,
						    (void *)cfg->tls_cert_pem};
		opts[n++] =
		    (struct MHD_OptionItem){MHD_OPTION_HTTPS_MEM_KEY, 0, (void *)cfg->tls_key_pem};
	}
	opts[n++] = (struct MHD_OptionItem){MHD_OPTION_END, 0, NULL};
	if (linger_start() != 0) {
		snprintf(err, errlen, "cannot start the lingering-close thread");
		return -1;
	}
	s.daemon = MHD_start_daemon(flags, 0, NULL, NULL, access_handler, NULL, MHD_OPTION_ARRAY,
				    opts, MHD_OPTION_END);
	if (s.daemon == NULL) {
		linger_stop();
		snprintf(err, errlen, "cannot start the HTTP server (bad TLS files?)");
		return -1;
	}
	for (int i = 0; i < s.n_workers; i++)
		if (pthread_create(&s.workers[i], NULL, worker_main, NULL) != 0) {
			s.n_workers = i;
			goto fail;
		}
	if (pthread_create(&s.timer, NULL, timer_main, NULL) != 0)
		goto fail;
	return 0;
fail:
	pthread_mutex_lock(&s.lock);
	s.stopping = true;
	pthread_cond_broadcast(&s.work_cond);
	pthread_mutex_unlock(&s.lock);
	for (int i = 0; i < s.n_workers; i++)
		pthread_join(s.workers[i], NULL);
	MHD_stop_daemon(s.daemon);
	linger_stop();
	snprintf(err, errlen, "cannot start the long-poll threads");
	return -1;
}

void
server_stop(void)
{
	pthread_mutex_lock(&s.lock);
	__atomic_store_n(&s.stopping, true, __ATOMIC_RELEASE);
	pthread_cond_signal(&s.timer_cond);
	pthread_cond_broadcast(&s.work_cond);
	pthread_mutex_unlock(&s.lock);
	/* the timer answers every watching request, the workers every queued one */
	pthread_join(s.timer, NULL);
	for (int i = 0; i < s.n_workers; i++)
		pthread_join(s.workers[i], NULL);
	MHD_stop_daemon(s.daemon);
	linger_stop();
	hmap_free(&s.watch, watchers_free);
}
