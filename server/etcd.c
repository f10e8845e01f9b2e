/* The etcd v3 client (see etcd.h): unary calls over the JSON gateway with failover between
 * endpoints, and the watch stream. The encoding is in etcd_json.c. */
#include <curl/curl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "errmsg.h"
#include "etcd.h"
#include "etcd_json.h"
#include "etcd_conn.h"

#define ETCD_BODY_MAX (64u << 20) /* larger answers are refused, not buffered */

/* A growing buffer of received bytes; p owned by whoever holds the struct. */
struct buf {
	char *p;
	size_t n, cap;
};

static int
buf_add(struct buf *b, const char *data, size_t n)
{
	size_t cap = b->cap != 0 ? b->cap : 4096;
	char *p;

	if (b->n + n + 1 > ETCD_BODY_MAX)
		return -1;
	while (cap < b->n + n + 1)
		cap *= 2;
	if (cap != b->cap) {
		p = realloc(b->p, cap);
		if (p == NULL)
			return -1;
		b->p = p;
		b->cap = cap;
	}
	memcpy(b->p + b->n, data, n);
	b->n += n;
	b->p[b->n] = '\0';
	return 0;
}

static size_t
buf_write(char *data, size_t size, size_t nmemb, void *arg)
{
	return buf_add(arg, data, size * nmemb) == 0 ? size * nmemb : 0;
}

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;

static void
curl_init_once(void)
{
	curl_global_init(CURL_GLOBAL_DEFAULT);
}

static char *
dup_opt(const char *s, bool *oom)
{
	char *d;

	if (s == NULL)
		return NULL;
	d = strdup(s);
	if (d == NULL)
		*oom = true;
	return d;
}

/* Splits "url,url" into c->endpoints. */
static int
split_endpoints(struct etcd_client *c, const char *list, char *err, size_t errlen)
{
	const char *p = list, *comma;
	size_t len;

	for (; *p != '\0'; p = *comma != '\0' ? comma + 1 : comma) {
		char **grown, *ep;

		comma = strchrnul(p, ',');
		len = (size_t)(comma - p);
		while (len > 0 && p[len - 1] == '/')
			len--;
		if (len == 0)
			continue;
		if (strncmp(p, "http://", 7) != 0 && strncmp(p, "https://", 8) != 0)
			return errmsg(err, errlen, ETCD_ERROR, "etcd endpoint %.*s: not http(s)://",
				      (int)len, p);
		grown = realloc(c->endpoints, (c->n_endpoints + 1) * sizeof(*grown));
		if (grown == NULL)
			return errmsg(err, errlen, ETCD_ERROR, "out of memory");
		c->endpoints = grown;
		ep = strndup(p, len);
		if (ep == NULL)
			return errmsg(err, errlen, ETCD_ERROR, "out of memory");
		c->endpoints[c->n_endpoints++] = ep;
	}
	if (c->n_endpoints == 0)
		return errmsg(err, errlen, ETCD_ERROR, "no etcd endpoint in \"%s\"", list);
	return 0;
}

int
etcd_client_new(const struct etcd_opts *opts, struct etcd_client **out, char *err, size_t errlen)
{
	struct etcd_client *c;
	bool oom = false;
	int rc;

	*out = NULL;
	pthread_once(&curl_once, curl_init_once);
	c = calloc(1, sizeof(*c));
	if (c == NULL)
		return errmsg(err, errlen, ETCD_ERROR, "out of memory");
	c->request_timeout_ms = opts->request_timeout_ms > 0 ? opts->request_timeout_ms : 2000;
	c->connect_timeout_ms = opts->connect_timeout_ms > 0 ? opts->connect_timeout_ms : 1000;
	c->cacert = dup_opt(opts->cacert, &oom);
	c->cert = dup_opt(opts->cert, &oom);
	c->key = dup_opt(opts->key, &oom);
	c->user = dup_opt(opts->user, &oom);
	c->password = dup_opt(opts->password, &oom);
	c->curl = curl_easy_init();
	if (oom || c->curl == NULL)
		rc = errmsg(err, errlen, ETCD_ERROR, "out of memory");
	else
		rc =
		    split_endpoints(c, opts->endpoints != NULL ? opts->endpoints : "", err, errlen);
	if (rc < 0) {
		etcd_client_free(c);
		return rc;
	}
	*out = c;
	return 0;
}

void
etcd_client_free(struct etcd_client *c)
{
	size_t i;

	if (c == NULL)
		return;
	for (i = 0; i < c->n_endpoints; i++)
		free(c->endpoints[i]);
	free(c->endpoints);
	free(c->cacert);
	free(c->cert);
	free(c->key);
	free(c->user);
	free(c->password);
	free(c->token);
	if (c->curl != NULL)
		curl_easy_cleanup(c->curl);
	free(c);
}

const char *
etcd_client_endpoint(const struct etcd_client *c)
{
	return c->endpoints[c->cur];
}

void
etcd_next_endpoint(struct etcd_client *c)
{
	c->cur = (c->cur + 1) % c->n_endpoints;
}

/* The headers of every request (caller frees with curl_slist_free_all); NULL when out of memory.
 * Hasleader: a member that lost its leader answers 503 at once instead of waiting. Expect: none,
 * so a large body is not held back waiting for a 100 Continue. */
struct curl_slist *
etcd_request_headers(const struct etcd_client *c, bool need_leader)
{
	struct curl_slist *h = NULL, *next;
	char auth[512];
	const char *lines[4] = {"Content-Type: application/json",
				"Expect:", "Grpc-Metadata-Hasleader: true", NULL};
	int i;

	if (!need_leader)
		lines[2] = NULL; /* measured: a serializable range is refused too with it */

	if (c->token != NULL) {
		snprintf(auth, sizeof(auth), "Authorization: %s", c->token);
		lines[lines[2] != NULL ? 3 : 2] = auth;
	}
	for (i = 0; i < 4 && lines[i] != NULL; i++) {
		next = curl_slist_append(h, lines[i]);
		if (next == NULL) {
			curl_slist_free_all(h);
			return NULL;
		}
		h = next;
	}
	return h;
}

/* The options every request to endpoint ep shares: URL, body (borrowed, must outlive the
 * transfer), TLS files, timeouts (timeout_ms 0: none, for the watch stream). */
void
etcd_setup_handle(const struct etcd_client *c, CURL *h, const char *ep, const char *path,
		  const char *body, struct curl_slist *headers, long timeout_ms)
{
	char url[1024];

	snprintf(url, sizeof(url), "%s%s", ep, path);
	curl_easy_setopt(h, CURLOPT_URL, url);
	curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
	curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE, (long)strlen(body));
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, c->connect_timeout_ms);
	curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, timeout_ms);
	curl_easy_setopt(h, CURLOPT_TCP_KEEPALIVE, 1L);
	if (c->cacert != NULL)
		curl_easy_setopt(h, CURLOPT_CAINFO, c->cacert);
	if (c->cert != NULL)
		curl_easy_setopt(h, CURLOPT_SSLCERT, c->cert);
	if (c->key != NULL)
		curl_easy_setopt(h, CURLOPT_SSLKEY, c->key);
}

/* Did the request certainly not reach the server (nothing of it was sent)? Then it is safe to send
 * it elsewhere, even a write. A connect timeout is OPERATION_TIMEDOUT with nothing sent. */
static bool
not_sent(CURL *h, CURLcode res)
{
	long sent = 0;

	if (res == CURLE_COULDNT_CONNECT || res == CURLE_COULDNT_RESOLVE_HOST ||
	    res == CURLE_SSL_CONNECT_ERROR)
		return true;
	curl_easy_getinfo(h, CURLINFO_REQUEST_SIZE, &sent);
	return sent == 0;
}

/* Did TLS fail on what we were configured with (CA, certificate, key), rather than on the network?
 */
static bool
tls_config_error(CURLcode res)
{
	return res == CURLE_PEER_FAILED_VERIFICATION || res == CURLE_SSL_CERTPROBLEM ||
	       res == CURLE_SSL_CACERT_BADFILE || res == CURLE_SSL_CIPHER;
}

/* One POST of body to path at endpoint ep. Fills *http and the answer into b (caller frees b->p).
 * Returns the curl result. */
static CURLcode
post_once(struct etcd_client *c, const char *ep, const char *path, const char *body,
	  enum etcd_call_kind kind, long *http, struct buf *b)
{
	struct curl_slist *headers = etcd_request_headers(c, kind != ETCD_CALL_LOCAL_READ);
	CURLcode res;

	*http = 0;
	if (headers == NULL)
		return CURLE_OUT_OF_MEMORY;
	curl_easy_reset(c->curl);
	etcd_setup_handle(c, c->curl, ep, path, body, headers, c->request_timeout_ms);
	curl_easy_setopt(c->curl, CURLOPT_WRITEFUNCTION, buf_write);
	curl_easy_setopt(c->curl, CURLOPT_WRITEDATA, b);
	res = curl_easy_perform(c->curl);
	curl_easy_getinfo(c->curl, CURLINFO_RESPONSE_CODE, http);
	curl_slist_free_all(headers);
	return res;
}

static int authenticate(struct etcd_client *c, char *err, size_t errlen);

/* Is this 503 one where the member refused before proposing anything (so a write is safe to send
 * elsewhere)? "no leader" is; "request timed out" is not: the proposal may still commit. */
static bool
refused_unapplied(const json_t *body)
{
	const char *msg = json_string_value(json_object_get(body, "message"));

	return msg != NULL && strstr(msg, "no leader") != NULL;
}

static bool
auth_expired(const json_t *body)
{
	int64_t code = 0;

	etcd_json_int64(body, "code", &code);
	return code == 16; /* gRPC Unauthenticated: "invalid auth token" */
}

/* One call in progress: what it sends, and what its attempts so far found. */
struct call_state {
	const char *path;
	const char *body;
	enum etcd_call_kind kind;
	bool reauthed;	/* the token was renewed once already */
	size_t bad_tls; /* attempts refused on our TLS configuration */
	char last[256]; /* why the latest attempt failed */
};

/* What to do after an attempt. */
enum attempt_next {
	ATTEMPT_DONE,  /* the call's answer is in *rc (and *resp on 0) */
	ATTEMPT_NEXT,  /* try the next endpoint (c->cur has moved on) */
	ATTEMPT_AGAIN, /* the same endpoint again, with a renewed token */
};

/* A transport failure of an attempt at ep: move on, unless a write may have been applied. */
static enum attempt_next
attempt_failed(struct etcd_client *c, struct call_state *st, const char *ep, CURLcode res, int *rc,
	       char *err, size_t errlen)
{
	bool unsent = not_sent(c->curl, res);

	snprintf(st->last, sizeof(st->last), "%s: %s", ep, curl_easy_strerror(res));
	st->bad_tls += tls_config_error(res);
	etcd_next_endpoint(c);
	if (st->kind != ETCD_CALL_WRITE || unsent)
		return ATTEMPT_NEXT;
	*rc = errmsg(err, errlen, ETCD_UNAVAILABLE, "%s (outcome unknown)", st->last);
	return ATTEMPT_DONE;
}

/* One POST at the current endpoint, and what follows from its answer. */
static enum attempt_next
attempt(struct etcd_client *c, struct call_state *st, json_t **resp, int *rc, char *err,
	size_t errlen)
{
	const char *ep = c->endpoints[c->cur];
	struct buf b = {0};
	long http;
	CURLcode res = post_once(c, ep, st->path, st->body, st->kind, &http, &b);
	json_t *j;

	if (res != CURLE_OK) {
		free(b.p);
		return attempt_failed(c, st, ep, res, rc, err, errlen);
	}
	j = json_loadb(b.p != NULL ? b.p : "", b.n, 0, NULL);
	free(b.p);
	if (j == NULL) {
		*rc =
		    errmsg(err, errlen, ETCD_ERROR, "%s%s: http %ld, not JSON", ep, st->path, http);
		return ATTEMPT_DONE;
	}
	if (http == 200) {
		*resp = j; /* the caller's now */
		*rc = 0;
		return ATTEMPT_DONE;
	}
	*rc = etcd_json_error(http, j, st->last, sizeof(st->last));
	if (c->user != NULL && auth_expired(j) && !st->reauthed) {
		json_decref(j);
		st->reauthed = true;
		free(c->token);
		c->token = NULL;
		*rc = authenticate(c, err, errlen);
		return *rc < 0 ? ATTEMPT_DONE : ATTEMPT_AGAIN;
	}
	if (*rc == ETCD_UNAVAILABLE && (st->kind != ETCD_CALL_WRITE || refused_unapplied(j))) {
		json_decref(j);
		etcd_next_endpoint(c);
		return ATTEMPT_NEXT;
	}
	json_decref(j);
	if (*rc == ETCD_UNAVAILABLE)
		etcd_next_endpoint(c); /* a timed-out write: the next request goes elsewhere */
	errmsg(err, errlen, *rc, "%s", st->last);
	return ATTEMPT_DONE;
}

/* See etcd_conn.h. Bounded: at most n_endpoints attempts of request_timeout_ms each (one more
 * after a renewed token). */
int
etcd_call(struct etcd_client *c, const char *path, json_t *req, enum etcd_call_kind kind,
	  json_t **resp, char *err, size_t errlen)
{
	struct call_state st = {.path = path, .kind = kind, .last = "no attempt"};
	char *body = json_dumps(req, JSON_COMPACT);
	size_t tried = 0;
	int rc = 0;

	*resp = NULL;
	if (body == NULL)
		return errmsg(err, errlen, ETCD_ERROR, "out of memory");
	st.body = body;
	if (c->user != NULL && c->token == NULL && (rc = authenticate(c, err, errlen)) < 0)
		goto out;
	while (tried < c->n_endpoints) {
		enum attempt_next next = attempt(c, &st, resp, &rc, err, errlen);

		if (next == ATTEMPT_DONE)
			goto out;
		if (next == ATTEMPT_NEXT)
			tried++;
	}
	/* every member refusing our certificates is a configuration error, not an outage */
	rc = errmsg(err, errlen, st.bad_tls == c->n_endpoints ? ETCD_ERROR : ETCD_UNAVAILABLE,
		    "all %zu etcd endpoints failed; last: %s", c->n_endpoints, st.last);
out:
	free(body);
	return rc;
}

/* Exchanges user and password for a token (c->token, owned by c). */
static int
authenticate(struct etcd_client *c, char *err, size_t errlen)
{
	json_t *req = json_pack("{s:s, s:s}", "name", c->user, "password",
				c->password != NULL ? c->password : "");
	json_t *resp = NULL;
	char *user = c->user;
	const char *token;
	int rc;

	if (req == NULL)
		return errmsg(err, errlen, ETCD_ERROR, "out of memory");
	c->user = NULL; /* no recursion through call() */
	rc = etcd_call(c, "/v3/auth/authenticate", req, ETCD_CALL_READ, &resp, err, errlen);
	c->user = user;
	json_decref(req);
	if (rc < 0)
		return rc;
	token = json_string_value(json_object_get(resp, "token"));
	if (token == NULL || (c->token = strdup(token)) == NULL)
		rc = errmsg(err, errlen, ETCD_ERROR, "etcd authenticate: no token");
	json_decref(resp);
	return rc;
}

static int
oom(char *err, size_t errlen)
{
	return errmsg(err, errlen, ETCD_ERROR, "out of memory");
}

int64_t
etcd_header_rev(const json_t *resp)
{
	int64_t rev = 0;

	etcd_json_int64(json_object_get(resp, "header"), "revision", &rev);
	return rev;
}

int
etcd_range(struct etcd_client *c, const char *key, const struct etcd_range_opts *o,
	   struct etcd_kvs *out, char *err, size_t errlen)
{
	json_t *req = etcd_json_range_req(key, o), *resp = NULL;
	int rc;

	memset(out, 0, sizeof(*out));
	if (req == NULL)
		return oom(err, errlen);
	rc = etcd_call(c, "/v3/kv/range", req,
		       o != NULL && o->serializable ? ETCD_CALL_LOCAL_READ : ETCD_CALL_READ, &resp,
		       err, errlen);
	json_decref(req);
	if (rc == 0 && etcd_json_kvs(resp, out) < 0) {
		etcd_kvs_clear(out);
		rc = errmsg(err, errlen, ETCD_ERROR, "etcd range: malformed answer");
	}
	json_decref(resp);
	return rc;
}

int
etcd_get(struct etcd_client *c, const char *key, struct etcd_kv *out, int64_t *rev, char *err,
	 size_t errlen)
{
	struct etcd_kvs r;
	int rc = etcd_range(c, key, NULL, &r, err, errlen);

	memset(out, 0, sizeof(*out));
	if (rc < 0)
		return rc;
	if (rev != NULL)
		*rev = r.rev;
	if (r.n == 0) {
		etcd_kvs_clear(&r);
		return errmsg(err, errlen, ETCD_NOTFOUND, "%s: not found", key);
	}
	*out = r.kvs[0]; /* moved: the first kv's strings now belong to out */
	memset(&r.kvs[0], 0, sizeof(r.kvs[0]));
	etcd_kvs_clear(&r);
	return 0;
}

int
etcd_put(struct etcd_client *c, const char *key, const void *value, size_t value_len, int64_t lease,
	 int64_t *rev, char *err, size_t errlen)
{
	json_t *req = json_object(), *resp = NULL;
	int rc;

	if (req == NULL || etcd_json_set_b64(req, "key", key, strlen(key)) < 0 ||
	    etcd_json_set_b64(req, "value", value, value_len) < 0 ||
	    (lease != 0 && etcd_json_set_int64(req, "lease", lease) < 0)) {
		json_decref(req);
		return oom(err, errlen);
	}
	rc = etcd_call(c, "/v3/kv/put", req, ETCD_CALL_WRITE, &resp, err, errlen);
	json_decref(req);
	if (rc == 0 && rev != NULL)
		*rev = etcd_header_rev(resp);
	json_decref(resp);
	return rc;
}

int
etcd_delete(struct etcd_client *c, const char *key, bool prefix, int64_t *deleted, int64_t *rev,
	    char *err, size_t errlen)
{
	struct etcd_range_opts o = {.prefix = prefix};
	json_t *req = etcd_json_range_req(key, &o), *resp = NULL;
	int64_t n = 0;
	int rc;

	if (req == NULL)
		return oom(err, errlen);
	rc = etcd_call(c, "/v3/kv/deleterange", req, ETCD_CALL_WRITE, &resp, err, errlen);
	json_decref(req);
	if (rc == 0) {
		etcd_json_int64(resp, "deleted", &n);
		if (rev != NULL)
			*rev = etcd_header_rev(resp);
	}
	if (deleted != NULL)
		*deleted = n;
	json_decref(resp);
	return rc;
}

int
etcd_txn(struct etcd_client *c, const struct etcd_txn *t, struct etcd_txn_result *out, char *err,
	 size_t errlen)
{
	json_t *req = etcd_json_txn_req(t), *resp = NULL;
	enum etcd_call_kind kind = ETCD_CALL_READ;
	size_t i;
	int rc;

	memset(out, 0, sizeof(*out));
	if (req == NULL)
		return oom(err, errlen);
	for (i = 0; i < t->n_success; i++)
		if (t->success[i].type != ETCD_OP_RANGE)
			kind = ETCD_CALL_WRITE;
	for (i = 0; i < t->n_failure; i++)
		if (t->failure[i].type != ETCD_OP_RANGE)
			kind = ETCD_CALL_WRITE;
	rc = etcd_call(c, "/v3/kv/txn", req, kind, &resp, err, errlen);
	json_decref(req);
	if (rc == 0 && etcd_json_txn_result(resp, out) < 0) {
		etcd_txn_result_clear(out);
		rc = errmsg(err, errlen, ETCD_ERROR, "etcd txn: malformed answer");
	}
	if (rc == 0 && !out->succeeded)
		rc = errmsg(err, errlen, ETCD_COMPARE_FAILED, "etcd txn: compare failed");
	json_decref(resp);
	return rc;
}
