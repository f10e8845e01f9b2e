/* The etcd watch (see etcd.h): one long-lived POST /v3/watch whose answer is a chunked stream of
 * newline-delimited JSON messages ({"result": WatchResponse} or {"error": {...}}), read line by
 * line in curl's write callback, resumed from the next unreported revision on another endpoint
 * when it breaks. */
#include <curl/curl.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "errmsg.h"
#include "etcd.h"
#include "etcd_conn.h"
#include "etcd_json.h"

#define WATCH_LINE_MAX (64u << 20)

/* The state of one stream; line.p owned, freed by etcd_watch. */
struct watch_ctx {
	struct etcd_watch *w;
	etcd_watch_fn fn;
	void *arg;
	char *line;
	size_t n, cap;
	bool created;  /* etcd accepted this stream's create request */
	bool finished; /* fn asked to stop */
	int rc;	       /* an error that ends this stream: compacted, refused, unavailable */
	char *err;
	size_t errlen;
};

/* Reports the events of one WatchResponse (borrowed) to fn, then moves next_rev past them. */
static int
deliver(struct watch_ctx *x, const json_t *events, int64_t rev)
{
	size_t i, n = json_array_size(events);
	struct etcd_event *ev = calloc(n, sizeof(*ev));
	int rc = 0, stop;

	if (ev == NULL)
		return errmsg(x->err, x->errlen, ETCD_ERROR, "out of memory");
	for (i = 0; i < n && rc == 0; i++) {
		const json_t *e = json_array_get(events, i);
		const char *type = json_string_value(json_object_get(e, "type"));

		/* PUT is 0, which the gateway omits */
		ev[i].type =
		    type != NULL && strcmp(type, "DELETE") == 0 ? ETCD_EV_DELETE : ETCD_EV_PUT;
		if (etcd_json_kv(json_object_get(e, "kv"), &ev[i].kv) < 0)
			rc = errmsg(x->err, x->errlen, ETCD_ERROR, "etcd watch: malformed event");
	}
	if (rc == 0) {
		stop = x->fn(x->arg, ev, n, rev);
		if (n > 0)
			x->w->next_rev = ev[n - 1].kv.mod_rev + 1;
		if (stop)
			x->finished = true;
	}
	for (i = 0; i < n; i++)
		etcd_kv_clear(&ev[i].kv);
	free(ev);
	return rc;
}

/* Handles one message of the stream. Returns 0 to go on reading, or non-zero to end the stream
 * (x->rc or x->finished say why). */
static int
handle_line(struct watch_ctx *x, const char *line, size_t len)
{
	json_t *j = json_loadb(line, len, 0, NULL), *res;
	const json_t *events;
	int64_t rev = 0, compact = 0;
	int end = 0;

	if (j == NULL) {
		x->rc = errmsg(x->err, x->errlen, ETCD_UNAVAILABLE, "etcd watch: not JSON");
		return 1;
	}
	res = json_object_get(j, "result");
	if (res == NULL) {
		x->rc = etcd_json_error(0, j, x->err, x->errlen);
		json_decref(j);
		return 1;
	}
	etcd_json_int64(json_object_get(res, "header"), "revision", &rev);
	events = json_object_get(res, "events");
	if (json_is_true(json_object_get(res, "created")))
		x->created = true;
	if (json_is_true(json_object_get(res, "canceled"))) {
		etcd_json_int64(res, "compact_revision", &compact);
		x->w->compact_rev = compact;
		x->rc = compact > 0
			    ? errmsg(x->err, x->errlen, ETCD_COMPACTED,
				     "compacted: revision %lld is older than %lld",
				     (long long)x->w->next_rev, (long long)compact)
			    : errmsg(x->err, x->errlen, ETCD_ERROR, "etcd watch canceled: %s",
				     json_string_value(json_object_get(res, "cancel_reason")));
		end = 1;
	} else if (json_array_size(events) > 0) {
		x->rc = deliver(x, events, rev);
		end = x->rc != 0 || x->finished;
	} else if (!json_is_true(json_object_get(res, "created")) && rev >= x->w->next_rev) {
		x->w->next_rev = rev + 1; /* a progress notification: nothing up to rev is left */
	}
	json_decref(j);
	return end;
}

/* curl's write callback: splits the stream into lines. Returning less than given aborts. */
static size_t
on_data(char *data, size_t size, size_t nmemb, void *arg)
{
	struct watch_ctx *x = arg;
	size_t len = size * nmemb, start = 0, i;

	if (x->n + len + 1 > x->cap) {
		size_t cap = x->cap != 0 ? x->cap : 4096;
		char *p;

		while (cap < x->n + len + 1)
			cap *= 2;
		if (cap > WATCH_LINE_MAX || (p = realloc(x->line, cap)) == NULL) {
			x->rc = errmsg(x->err, x->errlen, ETCD_ERROR, "etcd watch: line too long");
			return 0;
		}
		x->line = p;
		x->cap = cap;
	}
	memcpy(x->line + x->n, data, len);
	x->n += len;
	for (i = 0; i < x->n; i++) {
		if (x->line[i] != '\n')
			continue;
		if (i > start && handle_line(x, x->line + start, i - start) != 0)
			return 0;
		start = i + 1;
	}
	memmove(x->line, x->line + start, x->n - start);
	x->n -= start;
	return len;
}

/* curl's progress callback (about once a second even when idle): ends the transfer on w->stop. */
static int
on_progress(void *arg, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal, curl_off_t ulnow)
{
	struct watch_ctx *x = arg;

	(void)dltotal, (void)dlnow, (void)ultotal, (void)ulnow;
	return x->w->stop != NULL && atomic_load(x->w->stop);
}

/* The create request for w, from next_rev (caller frees). */
static char *
create_body(const struct etcd_watch *w)
{
	struct etcd_range_opts o = {.prefix = w->prefix};
	json_t *create = etcd_json_range_req(w->key, &o), *req;
	char *body = NULL;

	if (create == NULL)
		return NULL;
	if (w->next_rev > 0 && etcd_json_set_int64(create, "start_revision", w->next_rev) < 0) {
		json_decref(create);
		return NULL;
	}
	req = json_pack("{s:o}", "create_request", create);
	if (req != NULL)
		body = json_dumps(req, JSON_COMPACT);
	json_decref(req);
	return body;
}

/* Runs one stream at endpoint ep until it ends; the outcome is in x. */
static void
watch_once(struct etcd_client *c, CURL *h, const char *ep, struct watch_ctx *x)
{
	struct curl_slist *headers = etcd_request_headers(c, true);
	char *body = create_body(x->w);
	CURLcode res;

	x->created = false;
	x->finished = false;
	x->rc = 0;
	x->n = 0;
	if (headers == NULL || body == NULL) {
		x->rc = errmsg(x->err, x->errlen, ETCD_ERROR, "out of memory");
		goto out;
	}
	curl_easy_reset(h);
	etcd_setup_handle(c, h, ep, "/v3/watch", body, headers, 0);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_data);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, x);
	curl_easy_setopt(h, CURLOPT_NOPROGRESS, 0L);
	curl_easy_setopt(h, CURLOPT_XFERINFOFUNCTION, on_progress);
	curl_easy_setopt(h, CURLOPT_XFERINFODATA, x);
	res = curl_easy_perform(h);
	/* an answer without a final newline (a 503 at once) is still one message */
	if (x->rc == 0 && !x->finished && x->n > 0)
		handle_line(x, x->line, x->n);
	if (x->rc == 0 && !x->finished && res != CURLE_OK)
		x->rc = errmsg(x->err, x->errlen, ETCD_UNAVAILABLE, "etcd watch %s: %s", ep,
			       curl_easy_strerror(res));
	else if (x->rc == 0 && !x->finished)
		x->rc =
		    errmsg(x->err, x->errlen, ETCD_UNAVAILABLE, "etcd watch %s: stream ended", ep);
out:
	curl_slist_free_all(headers);
	free(body);
}

static void
sleep_ms(long ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};

	nanosleep(&ts, NULL);
}

int
etcd_watch(struct etcd_client *c, struct etcd_watch *w, etcd_watch_fn fn, void *arg, char *err,
	   size_t errlen)
{
	struct watch_ctx x = {.w = w, .fn = fn, .arg = arg, .err = err, .errlen = errlen};
	CURL *h = curl_easy_init();
	size_t failed = 0; /* endpoints in a row that did not accept the watch */
	int rc;

	if (h == NULL)
		return errmsg(err, errlen, ETCD_ERROR, "out of memory");
	for (;;) {
		watch_once(c, h, etcd_client_endpoint(c), &x);
		if (x.finished || (w->stop != NULL && atomic_load(w->stop))) {
			rc = 0;
			break;
		}
		if (x.rc != ETCD_UNAVAILABLE) {
			rc = x.rc;
			break;
		}
		/* the stream broke (member down, leader lost): resume elsewhere from next_rev */
		etcd_next_endpoint(c);
		failed = x.created ? 0 : failed + 1;
		if (failed >= c->n_endpoints) {
			rc = ETCD_UNAVAILABLE; /* err holds the last endpoint's reason */
			break;
		}
		sleep_ms(x.created ? 20 : 100);
	}
	free(x.line);
	curl_easy_cleanup(h);
	return rc;
}
