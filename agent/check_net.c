/* Network probes for the check runner: a non-blocking TCP connect (keepalived's TCP_CHECK) and an
 * HTTP(S) GET through a libcurl multi handle of its own on the agent's loop (HTTP_GET, SSL_GET).
 * Outputs carry no timings, so that a check failing the same way reports the same output. */
#include <curl/curl.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "check_probe.h"
#include "curl_loop.h"

struct tcp_probe {
	struct probe p;
	struct loop *loop;
	int fd;
	struct loop_timer timeout;
	int timeout_ms;
	probe_done_fn done;
	void *arg;
};

/* Closes with a reset (SO_LINGER 0), as HAProxy's checks do: hundreds of checks a second would
 * otherwise leave a TIME_WAIT socket each on our side. */
static void
close_reset(int fd)
{
	struct linger lg = {.l_onoff = 1, .l_linger = 0};

	setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
	close(fd);
}

static void
tcp_free(struct tcp_probe *t)
{
	loop_timer_off(t->loop, &t->timeout);
	if (t->fd >= 0) {
		loop_fd_del(t->loop, t->fd);
		close_reset(t->fd);
	}
	free(t);
}

static void
tcp_cancel(struct probe *p)
{
	tcp_free((struct tcp_probe *)p);
}

static void
tcp_finish(struct tcp_probe *t, const struct probe_result *r)
{
	probe_done_fn done = t->done;
	void *arg = t->arg;

	tcp_free(t);
	done(r, arg);
}

static void
tcp_on_fd(int fd, uint32_t events, void *arg)
{
	struct tcp_probe *t = arg;
	struct probe_result r;
	int err = 0;
	socklen_t len = sizeof(err);

	(void)events;
	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0)
		err = errno;
	if (err == 0)
		probe_result_set(&r, PROBE_UP, "connected");
	else
		probe_result_set(&r, PROBE_DOWN, "connect: %s", strerror(err));
	tcp_finish(t, &r);
}

static void
tcp_on_timeout(void *arg)
{
	struct tcp_probe *t = arg;
	struct probe_result r;

	probe_result_set(&r, PROBE_DOWN, "connect: no answer within %d ms", t->timeout_ms);
	tcp_finish(t, &r);
}

int
probe_tcp_start(struct loop *l, const struct sockaddr *sa, socklen_t salen, int timeout_ms,
		probe_done_fn done, void *arg, struct probe **out, struct probe_result *now)
{
	struct tcp_probe *t = calloc(1, sizeof(*t));
	int rc;

	if (t == NULL) {
		probe_result_set(now, PROBE_REFUSED, "out of memory");
		return 1;
	}
	*t = (struct tcp_probe){{tcp_cancel}, l, -1, {0}, timeout_ms, done, arg};
	t->timeout.fn = tcp_on_timeout;
	t->timeout.arg = t;
	t->fd = socket(sa->sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (t->fd < 0) {
		probe_result_set(now, PROBE_REFUSED, "socket: %s", strerror(errno));
		goto now;
	}
	if (connect(t->fd, sa, salen) == 0) {
		probe_result_set(now, PROBE_UP, "connected");
		goto now;
	}
	if (errno != EINPROGRESS) {
		probe_result_set(now, PROBE_DOWN, "connect: %s", strerror(errno));
		goto now;
	}
	if ((rc = loop_fd_add(l, t->fd, EPOLLOUT, tcp_on_fd, t)) != 0) {
		probe_result_set(now, PROBE_REFUSED, "cannot watch a socket: %s", strerror(-rc));
		close_reset(t->fd);
		t->fd = -1;
		goto now;
	}
	loop_timer_at(l, &t->timeout, loop_now_ms() + timeout_ms);
	*out = &t->p;
	return 0;
now:
	tcp_free(t);
	return 1;
}

/* HTTP(S): one easy handle per probe on a multi handle of our own on the loop. */

struct http_multi {
	struct curl_loop cl;
	struct http_probe *probes;
};

struct http_probe {
	struct probe p;
	struct http_multi *m;
	CURL *easy;
	long expect_status;
	probe_done_fn done;
	void *arg;
	char errbuf[CURL_ERROR_SIZE];
	struct http_probe *next;
};

static void
http_unlink(struct http_probe *h)
{
	for (struct http_probe **pp = &h->m->probes; *pp != NULL; pp = &(*pp)->next)
		if (*pp == h) {
			*pp = h->next;
			break;
		}
	curl_multi_remove_handle(h->m->cl.multi, h->easy);
	curl_easy_cleanup(h->easy);
}

static void
http_cancel(struct probe *p)
{
	struct http_probe *h = (struct http_probe *)p;

	http_unlink(h);
	free(h);
}

/* The result of a finished transfer. */
static void
http_result(struct http_probe *h, CURLcode rc, struct probe_result *r)
{
	long status = 0, os_errno = 0;

	if (rc != CURLE_OK) {
		curl_easy_getinfo(h->easy, CURLINFO_OS_ERRNO, &os_errno);
		if (os_errno != 0 && rc != CURLE_OPERATION_TIMEDOUT)
			probe_result_set(r, PROBE_DOWN, "%s (%s)", curl_easy_strerror(rc),
					 strerror((int)os_errno));
		else
			probe_result_set(r, PROBE_DOWN, "%s", curl_easy_strerror(rc));
		return;
	}
	curl_easy_getinfo(h->easy, CURLINFO_RESPONSE_CODE, &status);
	if (status == h->expect_status)
		probe_result_set(r, PROBE_UP, "HTTP %ld", status);
	else
		probe_result_set(r, PROBE_DOWN, "HTTP %ld, expected %ld", status, h->expect_status);
}

static void
http_collect(void *multi)
{
	struct http_multi *m = multi;
	CURLMsg *msg;
	int left;

	while ((msg = curl_multi_info_read(m->cl.multi, &left)) != NULL) {
		struct http_probe *h = NULL;
		struct probe_result r;
		if (msg->msg != CURLMSG_DONE)
			continue;
		curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&h);
		http_result(h, msg->data.result, &r);
		http_unlink(h);
		probe_done_fn done = h->done;
		void *arg = h->arg;
		free(h);
		done(&r, arg);
	}
}

struct http_multi *
http_multi_new(struct loop *l)
{
	struct http_multi *m = calloc(1, sizeof(*m));

	if (m == NULL)
		return NULL;
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != 0) {
		free(m);
		return NULL;
	}
	if (curl_loop_init(&m->cl, l, http_collect, m) != 0) {
		curl_global_cleanup();
		free(m);
		return NULL;
	}
	return m;
}

void
http_multi_free(struct http_multi *m)
{
	if (m == NULL)
		return;
	while (m->probes != NULL)
		http_cancel(&m->probes->p);
	curl_loop_cleanup(&m->cl);
	curl_global_cleanup();
	free(m);
}

/* Discards the body: only the status counts. */
static size_t
http_discard(char *ptr, size_t size, size_t nmemb, void *userdata)
{
	(void)ptr;
	(void)userdata;
	return size * nmemb;
}

int
probe_http_start(struct http_multi *m, const char *url, bool verify_tls, long expect_status,
		 int timeout_ms, probe_done_fn done, void *arg, struct probe **out,
		 struct probe_result *now)
{
	struct http_probe *h = calloc(1, sizeof(*h));
	CURL *e;

	if (h == NULL || (e = h->easy = curl_easy_init()) == NULL) {
		free(h);
		probe_result_set(now, PROBE_REFUSED, "cannot start a request");
		return 1;
	}
	h->p.cancel = http_cancel;
	h->m = m;
	h->expect_status = expect_status;
	h->done = done;
	h->arg = arg;
	curl_easy_setopt(e, CURLOPT_URL, url);
	curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(e, CURLOPT_NOPROXY, "*");
	curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(e, CURLOPT_FRESH_CONNECT, 1L);
	curl_easy_setopt(e, CURLOPT_FORBID_REUSE, 1L);
	curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, (long)timeout_ms);
	curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, (long)timeout_ms);
	curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(e, CURLOPT_USERAGENT, "vigil-agent-check");
	curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, verify_tls ? 1L : 0L);
	curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, verify_tls ? 2L : 0L);
	curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, http_discard);
	curl_easy_setopt(e, CURLOPT_ERRORBUFFER, h->errbuf);
	curl_easy_setopt(e, CURLOPT_PRIVATE, h);
	if (curl_multi_add_handle(m->cl.multi, e) != CURLM_OK) {
		curl_easy_cleanup(e);
		free(h);
		probe_result_set(now, PROBE_REFUSED, "cannot start a request");
		return 1;
	}
	h->next = m->probes;
	m->probes = h;
	*out = &h->p;
	return 0;
}
