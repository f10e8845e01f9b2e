/* The API client on a libcurl multi handle driven by the loop (curl_loop.c); finished transfers
 * go to their callbacks. Each request owns its buffers until its callback returns. */
#include <curl/curl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>

#include "client.h"
#include "curl_loop.h"

struct creq {
	CURL *easy;
	struct curl_slist *headers;
	char *body_in;
	char *resp;
	size_t resp_len;
	char etag[128];
	char errbuf[CURL_ERROR_SIZE];
	unsigned server; /* the index of the server it went to */
	client_done_fn fn;
	void *arg;
	struct creq *next;
};

struct client {
	struct curl_loop cl;
	char base[CLIENT_MAX_SERVERS][512];
	unsigned nbase, cur; /* the servers, and the one new requests go to */
	char auth[600];
	struct creq *reqs;
	int pending;
};

static size_t
on_data(char *ptr, size_t size, size_t nmemb, void *userdata)
{
	struct creq *r = userdata;
	size_t n = size * nmemb;
	char *grown;

	if (r->resp_len + n > 4 * 1024 * 1024)
		return 0; /* refuse absurd bodies */
	if ((grown = realloc(r->resp, r->resp_len + n + 1)) == NULL)
		return 0;
	r->resp = grown;
	memcpy(r->resp + r->resp_len, ptr, n);
	r->resp_len += n;
	r->resp[r->resp_len] = '\0';
	return n;
}

static size_t
on_header(char *buf, size_t size, size_t nitems, void *userdata)
{
	struct creq *r = userdata;
	size_t n = size * nitems, len;

	if (n > 5 && strncasecmp(buf, "ETag:", 5) == 0) {
		const char *v = buf + 5;
		while (*v == ' ')
			v++;
		len = (size_t)(buf + n - v);
		while (len > 0 && (v[len - 1] == '\r' || v[len - 1] == '\n' || v[len - 1] == ' '))
			len--;
		if (len < sizeof(r->etag)) {
			memcpy(r->etag, v, len);
			r->etag[len] = '\0';
		}
	}
	return n;
}

static void
creq_free(struct creq *r)
{
	curl_slist_free_all(r->headers);
	curl_easy_cleanup(r->easy);
	free(r->body_in);
	free(r->resp);
	free(r);
}

/* Did the server fail, rather than answer? No answer at all, or a gateway or availability
 * error: the next request goes to the next server. */
static bool
server_failed(CURLcode rc, long status)
{
	return rc != CURLE_OK || status == 502 || status == 503 || status == 504;
}

/* The request r went to a server that failed: unless an earlier failure has moved on already,
 * new requests go to the next server. */
static void
next_server(struct client *c, const struct creq *r, const char *why)
{
	if (c->nbase < 2 || r->server != c->cur)
		return;
	c->cur = (c->cur + 1) % c->nbase;
	fprintf(stderr, "vigil-agent: server %s: %s; moving to %s\n", c->base[r->server], why,
		c->base[c->cur]);
}

/* Hands finished transfers to their callbacks. */
static void
collect(void *arg)
{
	struct client *c = arg;
	CURLMsg *msg;
	int left;

	while ((msg = curl_multi_info_read(c->cl.multi, &left)) != NULL) {
		struct creq *r = NULL, **pp;
		if (msg->msg != CURLMSG_DONE)
			continue;
		curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&r);
		CURLcode rc = msg->data.result;
		curl_multi_remove_handle(c->cl.multi, r->easy);
		for (pp = &c->reqs; *pp != NULL; pp = &(*pp)->next)
			if (*pp == r) {
				*pp = r->next;
				break;
			}
		c->pending--;
		struct client_response resp = {
		    .body = r->resp ? r->resp : "", .len = r->resp_len, .etag = r->etag};
		if (rc == CURLE_OK)
			curl_easy_getinfo(r->easy, CURLINFO_RESPONSE_CODE, &resp.status);
		else
			resp.error = r->errbuf[0] ? r->errbuf : curl_easy_strerror(rc);
		if (server_failed(rc, resp.status)) {
			char why[CURL_ERROR_SIZE + 32];
			if (resp.error != NULL)
				snprintf(why, sizeof(why), "%s", resp.error);
			else
				snprintf(why, sizeof(why), "answered %ld", resp.status);
			next_server(c, r, why);
		}
		r->fn(&resp, r->arg);
		creq_free(r);
	}
}

int
client_new(struct client **out, struct loop *l, const char *base_url, const char *token, char *err,
	   size_t errlen)
{
	struct client *c = calloc(1, sizeof(*c));
	const char *p = base_url;

	if (c != NULL)
		for (;;) {
			size_t len = strcspn(p, ","), n = len;
			while (n > 0 && p[n - 1] == '/')
				n--;
			if (c->nbase == CLIENT_MAX_SERVERS || n == 0 || n >= sizeof(c->base[0]) ||
			    (strncmp(p, "http://", 7) != 0 && strncmp(p, "https://", 8) != 0)) {
				snprintf(
				    err, errlen,
				    "--server: up to %d http:// or https:// URLs, comma-separated",
				    CLIENT_MAX_SERVERS);
				free(c);
				return -1;
			}
			memcpy(c->base[c->nbase], p, n);
			c->base[c->nbase++][n] = '\0';
			if (p[len] == '\0')
				break;
			p += len + 1;
		}
	if (c == NULL || curl_global_init(CURL_GLOBAL_DEFAULT) != 0 ||
	    curl_loop_init(&c->cl, l, collect, c) != 0) {
		snprintf(err, errlen, "cannot start libcurl");
		free(c);
		return -1;
	}
	snprintf(c->auth, sizeof(c->auth), "Authorization: Bearer %s", token);
	*out = c;
	return 0;
}

void
client_free(struct client *c)
{
	if (c == NULL)
		return;
	while (c->reqs != NULL) {
		struct creq *r = c->reqs;
		c->reqs = r->next;
		curl_multi_remove_handle(c->cl.multi, r->easy);
		creq_free(r);
	}
	curl_loop_cleanup(&c->cl);
	curl_global_cleanup();
	free(c);
}

int
client_request(struct client *c, const char *method, const char *href, const char *if_none_match,
	       const char *body, long timeout_ms, client_done_fn fn, void *arg)
{
	struct creq *r = calloc(1, sizeof(*r));
	char url[1024], hdr[256];

	if (r == NULL || (r->easy = curl_easy_init()) == NULL) {
		free(r);
		return -1;
	}
	if (strncmp(href, "http://", 7) == 0 || strncmp(href, "https://", 8) == 0)
		snprintf(url, sizeof(url), "%s", href);
	else
		snprintf(url, sizeof(url), "%s%s", c->base[c->cur], href);
	r->server = c->cur;
	r->fn = fn;
	r->arg = arg;
	r->headers = curl_slist_append(NULL, c->auth);
	r->headers = curl_slist_append(r->headers, "Accept: application/hal+json");
	if (if_none_match != NULL && *if_none_match != '\0') {
		snprintf(hdr, sizeof(hdr), "If-None-Match: %s", if_none_match);
		r->headers = curl_slist_append(r->headers, hdr);
	}
	curl_easy_setopt(r->easy, CURLOPT_URL, url);
	curl_easy_setopt(r->easy, CURLOPT_CUSTOMREQUEST, method);
	if (body != NULL) {
		r->body_in = strdup(body);
		r->headers = curl_slist_append(r->headers, "Content-Type: application/json");
		curl_easy_setopt(r->easy, CURLOPT_POSTFIELDS, r->body_in);
		curl_easy_setopt(r->easy, CURLOPT_POSTFIELDSIZE, (long)strlen(body));
	}
	curl_easy_setopt(r->easy, CURLOPT_HTTPHEADER, r->headers);
	curl_easy_setopt(r->easy, CURLOPT_WRITEFUNCTION, on_data);
	curl_easy_setopt(r->easy, CURLOPT_WRITEDATA, r);
	curl_easy_setopt(r->easy, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(r->easy, CURLOPT_HEADERDATA, r);
	curl_easy_setopt(r->easy, CURLOPT_ERRORBUFFER, r->errbuf);
	curl_easy_setopt(r->easy, CURLOPT_PRIVATE, r);
	curl_easy_setopt(r->easy, CURLOPT_TIMEOUT_MS, timeout_ms);
	curl_easy_setopt(r->easy, CURLOPT_CONNECTTIMEOUT_MS, 3000L);
	curl_easy_setopt(r->easy, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(r->easy, CURLOPT_TCP_NODELAY, 1L);
	if (curl_multi_add_handle(c->cl.multi, r->easy) != CURLM_OK) {
		creq_free(r);
		return -1;
	}
	r->next = c->reqs;
	c->reqs = r;
	c->pending++;
	return 0;
}

const char *
client_server(const struct client *c)
{
	return c->base[c->cur];
}

int
client_pending(const struct client *c)
{
	return c->pending;
}
