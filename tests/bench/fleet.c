/* A fleet of simulated vigil-agents for `make bench-fleet` (tests/bench/fleet.sh). Each agent does
 * what agent/agent.c does once it runs: long-polls its config and PUTs its status every 2 s (and
 * after each new config), each on its own keep-alive connection, with the agent's timeouts and
 * retry backoff. Not simulated: the discovery GETs at start, VRRP, checks. A writer PATCHes VIPs
 * and times how long each change takes to reach both members' long-polls. One thread, epoll
 * (edge-triggered), non-blocking sockets, fixed-size buffers: memory is bounded by the fleet size.
 *
 *   fleet layout N     the fleet's resources for the loader, one "PATH JSON" a line
 *   fleet run ...      runs N agents against vigild; "key value" results on stdout (see usage())
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

/* As agent/agent.c: long-poll wait (its --poll-wait is 60 s by default; 30 s answers twice as
 * many 304s) and request timeout (wait + 15 s), heartbeat interval and its timeout, retry backoff
 * (250 ms doubling to 10 s). */
#define POLL_WAIT_S 30
#define POLL_TIMEOUT_MS ((POLL_WAIT_S + 15) * 1000)
#define BEAT_MS 2000
#define BEAT_TIMEOUT_MS 3000
#define BACKOFF_MAX_MS 10000

#define ADMIN_TIMEOUT_MS 10000
#define TICK_MS 20
#define GRACE_MS 15000	 /* after the window, for the last pushes to arrive */
#define OUT_MAX 1024	 /* one request: headers and a status report */
#define HDR_LINE_MAX 256 /* one header line; longer ones are cut (none we read is long) */
#define KEEP_MAX 8192	 /* body kept by the probes (GET / for the revision) */
#define SAMPLES_MAX (1 << 20)
#define PUSH_MAX 256	/* PATCHes whose pushes are awaited at once */
#define WRITERS 4	/* PATCHes in flight at once: 2/s hold while vigild answers in < 2 s */
#define NODES_MAX 30000 /* the layout's names and addresses run out beyond */

/* --- the fleet's layout, shared by `layout` and `run` ---
 * Node i (0-based) is n%05d(i + 1). VIPs 2i ("a") and 2i+1 ("b") are v%05d(i + 1){a,b}; both have
 * members node i and node (i + 1) % N, "a" with priorities 200/100, "b" with 100/200. So each node
 * is a member of four VIPs and Master of two: its own "a" and its predecessor's "b". */

static void
node_name(int i, char *buf, size_t len)
{
	snprintf(buf, len, "n%05d", i + 1);
}

static void
vip_name(int k, char *buf, size_t len)
{
	snprintf(buf, len, "v%05d%c", k / 2 + 1, k % 2 ? 'b' : 'a');
}

/* Member j (0 or 1) of VIP k in a fleet of n nodes: the node's index, and its priority. */
static int
vip_member(int k, int j, int n)
{
	return j == 0 ? k / 2 : (k / 2 + 1) % n;
}

static int
vip_priority(int k, int j)
{
	return k % 2 == j ? 200 : 100;
}

/* Prints the POST bodies that create the fleet of n nodes: nodes, then VIPs (which need their
 * nodes), then one agent token per node. Addresses are from 198.18.0.0/15 and never contacted;
 * (interface, vrid) stays unique by giving every 255 VIPs their own interface name. */
static void
layout(int n)
{
	char a[16], b[16], v[16];

	for (int i = 0; i < n; i++) {
		node_name(i, a, sizeof(a));
		printf("/nodes "
		       "{\"name\":\"%s\",\"address\":\"198.18.%d.%d\",\"interface\":\"eth0\"}\n",
		       a, i / 250, i % 250 + 1);
	}
	for (int k = 0; k < 2 * n; k++) {
		vip_name(k, v, sizeof(v));
		node_name(vip_member(k, 0, n), a, sizeof(a));
		node_name(vip_member(k, 1, n), b, sizeof(b));
		printf("/vips "
		       "{\"name\":\"%s\",\"addresses\":[\"198.19.%d.%d/32\"],\"interface\":\"e%d\","
		       "\"vrid\":%d,\"members\":[{\"node\":\"%s\",\"priority\":%d},"
		       "{\"node\":\"%s\",\"priority\":%d}]}\n",
		       v, k / 250, k % 250 + 1, k / 255, k % 255 + 1, a, vip_priority(k, 0), b,
		       vip_priority(k, 1));
	}
	for (int i = 0; i < n; i++) {
		node_name(i, a, sizeof(a));
		printf("/tokens {\"role\":\"agent\",\"node\":\"%s\"}\n", a);
	}
}

/* Node i's status report, as agent.c's status_report() builds it for the layout above: its four
 * VIPs, Master where its priority is 200. The same every time, so it reports nothing new. */
static void
status_body(int i, int n, char *buf, size_t len)
{
	int ks[4] = {2 * i, 2 * i + 1, 2 * ((i + n - 1) % n), 2 * ((i + n - 1) % n) + 1};
	char vrrp[384] = "", held[64] = "", name[16];
	size_t vl = 0, hl = 0;

	for (int x = 0; x < 4; x++) {
		int prio = vip_priority(ks[x], x < 2 ? 0 : 1);
		vip_name(ks[x], name, sizeof(name));
		vl += (size_t)snprintf(vrrp + vl, sizeof(vrrp) - vl,
				       "%s\"%s\":{\"state\":\"%s\",\"priority\":%d}", vl ? "," : "",
				       name, prio == 200 ? "MASTER" : "BACKUP", prio);
		if (prio == 200)
			hl += (size_t)snprintf(held + hl, sizeof(held) - hl, "%s\"%s\"",
					       hl ? "," : "", name);
	}
	snprintf(buf, len,
		 "{\"agent_version\":\"0.1.0\",\"vrrp\":{%s},\"vips_held\":[%s],\"moves_done\":{},"
		 "\"counters\":{},\"ip_nonlocal_bind\":true,\"checks\":{}}",
		 vrrp, held);
}

/* --- connections and the HTTP/1.1 client --- */

enum conn_kind { CK_POLL, CK_BEAT, CK_WRITER, CK_PROBE };
enum rp_phase {
	RP_STATUS,
	RP_HEADER,
	RP_BODY,
	RP_CLOSE,
	RP_CHUNK_SIZE,
	RP_CHUNK_DATA,
	RP_CHUNK_CRLF,
	RP_TRAILER
};
enum err_kind { ERR_CONNECT, ERR_CLOSED, ERR_TIMEOUT, ERR_STATUS, ERR_PROTO, ERR_KINDS };
static const char *const err_names[ERR_KINDS] = {"connect", "closed", "timeout", "status", "proto"};
static const char *const kind_names[] = {"poll", "beat", "patch", "probe"};

/* One keep-alive connection carrying one request at a time. */
struct conn {
	int fd; /* -1 when closed; opened again by the next request */
	enum conn_kind kind;
	int owner;	   /* the agent's index, or the probe's / writer's slot */
	const char *token; /* borrowed */
	bool connecting, busy, got_bytes;
	unsigned answered; /* answers read on this fd: a reused one may have been closed */
	int64_t sent_us, deadline_ms;
	char out[OUT_MAX];
	size_t out_len, out_off;
	/* the answer being read */
	enum rp_phase phase;
	int status;
	bool chunked, close_after, line_cut;
	long long left; /* body bytes still to read (Content-Length or chunk); -1 unknown */
	char line[HDR_LINE_MAX];
	size_t line_len;
	char etag[64];
	char *keep; /* NULL, or a KEEP_MAX buffer for the body's first bytes */
	size_t keep_len;
};

struct agent {
	char token[128];
	char etag[64];
	struct conn poll, beat;
	int64_t poll_at_ms, beat_at_ms; /* next re-poll after an error; next heartbeat */
	int backoff_ms;
	bool beat_dirty; /* a report was due while one was in flight: send it when that ends */
};

/* Latency samples in ms: all of them, or a uniform sample (reservoir) once over SAMPLES_MAX. */
struct lat {
	double *v;
	size_t n;
	uint64_t seen;
	double max;
};

/* A PATCH whose change both members of the VIP must receive. */
struct push {
	int64_t sent_us, seen_us[2];
	int node[2];
	bool live;
};

enum phase { PH_WARMUP, PH_WINDOW, PH_GRACE, PH_DONE };

static struct {
	int epfd, n, port, vigild_pid;
	double patch_hz;
	struct sockaddr_in addr;
	const char *admin;
	struct agent *agents;
	struct conn writer[WRITERS], probe[2];
	char keep[2][KEEP_MAX];
	FILE *patched;
	uint64_t rng;
	enum phase phase;
	int64_t win_start_ms, win_end_ms, patch_at_ms, patches;
	int64_t win_us[2], win_unix_ms[2];
	long long cpu_vigild[2], cpu_self[2], rev[2];
	long rss_kib;
	struct lat beats, pushes;
	struct push push[PUSH_MAX];
	unsigned push_next;
	uint64_t err[4][ERR_KINDS], bad_status[4][600]; /* in the window, by conn_kind */
	uint64_t err_outside;
	uint64_t beats_sent, config_200, poll_304, patch_skipped, push_lost, retried;
} g;

static void request_done(struct conn *c, int status, int64_t now_us);

static int64_t
now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* A pseudo-random number (PCG's LCG step, high bits): fixed seed, so runs pick the same VIPs. */
static uint64_t
next_rand(void)
{
	g.rng = g.rng * 6364136223846793005ULL + 1442695040888963407ULL;
	return g.rng >> 33;
}

static void
lat_add(struct lat *l, double ms)
{
	uint64_t j;

	if (ms > l->max)
		l->max = ms;
	l->seen++;
	if (l->n < SAMPLES_MAX)
		l->v[l->n++] = ms;
	else if ((j = next_rand() % l->seen) < SAMPLES_MAX)
		l->v[j] = ms; /* Vitter's algorithm R */
}

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/* Nearest-rank percentile p of l's samples; sorts them. -1 when there are none. */
static double
lat_pct(struct lat *l, double p)
{
	size_t r;

	if (l->n == 0)
		return -1;
	qsort(l->v, l->n, sizeof(double), cmp_double);
	r = (size_t)(p / 100 * (double)l->n + 0.999999);
	return l->v[r > 0 ? r - 1 : 0];
}

/* Whether time t is in the measurement window: by the clock, so that a request sent and its answer
 * are judged alike whatever the order of events within a tick. */
static bool
in_window(int64_t t_us)
{
	return t_us / 1000 >= g.win_start_ms && t_us / 1000 < g.win_end_ms;
}

/* Counts a failed request of kind k: by error, or by status for ERR_STATUS. */
static void
count_err(enum conn_kind k, enum err_kind kind, int status, int64_t now)
{
	if (!in_window(now))
		g.err_outside++;
	else if (kind == ERR_STATUS && status >= 0 && status < 600)
		g.bad_status[k][status]++;
	else
		g.err[k][kind]++;
}

static void
conn_init(struct conn *c, enum conn_kind kind, int owner, const char *token, char *keep)
{
	memset(c, 0, sizeof(*c));
	c->fd = -1;
	c->kind = kind;
	c->owner = owner;
	c->token = token;
	c->keep = keep;
}

static void
conn_close(struct conn *c)
{
	if (c->fd >= 0)
		close(c->fd); /* also leaves the epoll set */
	c->fd = -1;
	c->connecting = false;
	c->answered = 0;
}

static void conn_flush(struct conn *c, int64_t now);

/* Opens c's socket and starts connecting. 0, or -1 when the connect failed at once. */
static int
conn_open(struct conn *c)
{
	struct epoll_event ev = {.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET,
				 .data.ptr = c};
	int one = 1;

	c->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (c->fd < 0)
		return -1;
	setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (epoll_ctl(g.epfd, EPOLL_CTL_ADD, c->fd, &ev) != 0 ||
	    (connect(c->fd, (struct sockaddr *)&g.addr, sizeof(g.addr)) != 0 &&
	     errno != EINPROGRESS)) {
		conn_close(c);
		return -1;
	}
	c->connecting = true;
	return 0;
}

/* Ends c's request with an error of kind (counted). A request on a reused connection that died
 * before any answer byte is sent again once on a new one, as libcurl does. */
static void
conn_fail(struct conn *c, enum err_kind kind, int64_t now)
{
	bool retry = c->busy && kind == ERR_CLOSED && c->answered > 0 && !c->got_bytes;

	conn_close(c);
	if (!c->busy)
		return;
	if (retry) {
		g.retried++;
		c->out_off = 0;
		if (conn_open(c) == 0)
			return; /* flushed once connected */
		kind = ERR_CONNECT;
	}
	count_err(c->kind, kind, 0, now);
	c->busy = false;
	request_done(c, 0, now);
}

/* Sends c->out[0..out_len) as a new request with a deadline timeout_ms from now; the answer goes
 * to request_done(). c must not be busy. */
static void
conn_start(struct conn *c, int timeout_ms, int64_t now)
{
	c->busy = true;
	c->got_bytes = false;
	c->sent_us = now;
	c->deadline_ms = now / 1000 + timeout_ms;
	c->out_off = 0;
	c->phase = RP_STATUS;
	c->status = 0;
	c->chunked = c->close_after = c->line_cut = false;
	c->left = -1;
	c->line_len = 0;
	c->etag[0] = '\0';
	c->keep_len = 0;
	if (c->keep != NULL)
		c->keep[0] = '\0';
	if (c->fd < 0 && conn_open(c) != 0) {
		conn_fail(c, ERR_CONNECT, now);
		return;
	}
	if (!c->connecting)
		conn_flush(c, now);
}

/* Formats a request into c->out and starts it. body may be NULL. */
static void
conn_request(struct conn *c, const char *method, const char *target, const char *extra,
	     const char *ctype, const char *body, int timeout_ms, int64_t now)
{
	int len = snprintf(c->out, sizeof(c->out),
			   "%s %s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nAuthorization: Bearer %s\r\n"
			   "Accept: application/hal+json\r\n%s",
			   method, target, g.port, c->token, extra);
	if (body != NULL && len > 0 && (size_t)len < sizeof(c->out))
		len += snprintf(c->out + len, sizeof(c->out) - (size_t)len,
				"Content-Type: %s\r\nContent-Length: %zu\r\n\r\n%s", ctype,
				strlen(body), body);
	else if (len > 0 && (size_t)len < sizeof(c->out))
		len += snprintf(c->out + len, sizeof(c->out) - (size_t)len, "\r\n");
	if (len < 0 || (size_t)len >= sizeof(c->out)) {
		fprintf(stderr, "fleet: request too long for OUT_MAX: %s %s\n", method, target);
		exit(2);
	}
	c->out_len = (size_t)len;
	conn_start(c, timeout_ms, now);
}

/* Writes what is left of the request; the rest waits for EPOLLOUT. */
static void
conn_flush(struct conn *c, int64_t now)
{
	while (c->busy && c->out_off < c->out_len) {
		ssize_t w = send(c->fd, c->out + c->out_off, c->out_len - c->out_off, MSG_NOSIGNAL);
		if (w > 0)
			c->out_off += (size_t)w;
		else if (w < 0 && errno == EINTR)
			continue;
		else if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return;
		else {
			conn_fail(c, ERR_CLOSED, now);
			return;
		}
	}
}

/* Takes bytes up to the next '\n' into c->line (cut at HDR_LINE_MAX, CR dropped). Returns 1 when
 * c->line holds a whole line, 0 when p[*used..n) ended first. */
static int
line_take(struct conn *c, const char *p, size_t n, size_t *used)
{
	while (*used < n) {
		char ch = p[(*used)++];
		if (ch == '\n') {
			if (c->line_len > 0 && c->line[c->line_len - 1] == '\r')
				c->line_len--;
			c->line[c->line_len] = '\0';
			c->line_len = 0;
			return 1;
		}
		if (c->line_len < sizeof(c->line) - 1)
			c->line[c->line_len++] = ch;
		else
			c->line_cut = true;
	}
	return 0;
}

/* One header line of the answer (names case-insensitive, RFC 9110 5.1). -1 if malformed. */
static int
header_line(struct conn *c)
{
	char *v = strchr(c->line, ':'), *end;
	size_t vl;

	if (v == NULL)
		return -1;
	*v++ = '\0';
	while (*v == ' ' || *v == '\t')
		v++;
	vl = strlen(v);
	while (vl > 0 && (v[vl - 1] == ' ' || v[vl - 1] == '\t'))
		v[--vl] = '\0';
	if (strcasecmp(c->line, "Content-Length") == 0) {
		c->left = strtoll(v, &end, 10);
		return *v == '\0' || *end != '\0' || c->left < 0 ? -1 : 0;
	}
	if (strcasecmp(c->line, "Transfer-Encoding") == 0 && strcasestr(v, "chunked") != NULL)
		c->chunked = true;
	else if (strcasecmp(c->line, "Connection") == 0 && strcasestr(v, "close") != NULL)
		c->close_after = true;
	else if (strcasecmp(c->line, "ETag") == 0 && vl < sizeof(c->etag))
		memcpy(c->etag, v, vl + 1);
	return 0;
}

/* The line in c->line, by phase. Returns 1 when the answer is complete, 0 to go on, -1 if it is
 * not an HTTP/1.x answer we understand. */
static int
resp_line(struct conn *c)
{
	char *end;
	unsigned long long size;

	switch (c->phase) {
	case RP_STATUS:
		if (strncmp(c->line, "HTTP/1.", 7) != 0 || strlen(c->line) < 12)
			return -1;
		c->status = atoi(c->line + 9);
		c->close_after = c->line[7] == '0'; /* HTTP/1.0: no keep-alive, we did not ask */
		c->phase = RP_HEADER;
		return c->status < 100 || c->status > 599 ? -1 : 0;
	case RP_HEADER:
		if (c->line[0] != '\0')
			return c->line_cut ? 0 : header_line(c); /* a cut one is none we read */
		if (c->status < 200) {				 /* 1xx: the real answer follows */
			c->phase = RP_STATUS;
			c->left = -1;
			c->chunked = false;
			return 0;
		}
		if (c->status == 204 || c->status == 304)
			return 1;
		if (c->chunked)
			c->phase = RP_CHUNK_SIZE;
		else if (c->left == 0)
			return 1;
		else if (c->left > 0)
			c->phase = RP_BODY;
		else {
			c->phase = RP_CLOSE; /* neither: the body ends when the server closes */
			c->close_after = true;
		}
		return 0;
	case RP_CHUNK_SIZE:
		size = strtoull(c->line, &end, 16);
		if (end == c->line || (*end != '\0' && *end != ';' && *end != ' '))
			return -1;
		c->left = (long long)size;
		c->phase = size == 0 ? RP_TRAILER : RP_CHUNK_DATA;
		return 0;
	case RP_CHUNK_CRLF:
		c->phase = RP_CHUNK_SIZE;
		return c->line[0] == '\0' ? 0 : -1;
	case RP_TRAILER:
		return c->line[0] == '\0' ? 1 : 0;
	default:
		return -1;
	}
}

/* Feeds p[0..n) to c's answer. Sets *used to the bytes taken; returns 1 when the answer is
 * complete, 0 when it needs more, -1 when it is malformed. */
static int
resp_feed(struct conn *c, const char *p, size_t n, size_t *used)
{
	*used = 0;
	while (*used < n) {
		if (c->phase == RP_BODY || c->phase == RP_CHUNK_DATA || c->phase == RP_CLOSE) {
			size_t k = n - *used;
			if (c->phase != RP_CLOSE &&
			    (unsigned long long)k > (unsigned long long)c->left)
				k = (size_t)c->left;
			if (c->keep != NULL && c->keep_len + k < KEEP_MAX) {
				memcpy(c->keep + c->keep_len, p + *used, k);
				c->keep_len += k;
				c->keep[c->keep_len] = '\0';
			}
			*used += k;
			if (c->phase == RP_CLOSE)
				continue;
			if ((c->left -= (long long)k) > 0)
				continue;
			if (c->phase == RP_BODY)
				return 1;
			c->phase = RP_CHUNK_CRLF;
			continue;
		}
		if (line_take(c, p, n, used) == 0)
			return 0;
		int rc = resp_line(c);
		c->line_cut = false;
		if (rc != 0)
			return rc;
	}
	return 0;
}

/* A whole answer arrived on c. */
static void
conn_answered(struct conn *c, int64_t now)
{
	c->busy = false;
	c->answered++;
	if (c->close_after)
		conn_close(c);
	request_done(c, c->status, now);
}

/* Reads all the socket has (edge-triggered: until EAGAIN) into the answer parser. */
static void
conn_readable(struct conn *c, int64_t now)
{
	char buf[16384];
	size_t off, used;
	ssize_t r;
	int fd = c->fd;

	while (c->fd == fd && fd >= 0) {
		r = recv(fd, buf, sizeof(buf), 0);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return;
		if (r < 0) {
			conn_fail(c, ERR_CLOSED, now);
			return;
		}
		if (r == 0) { /* the server closed: the end of an until-close body, or a failure */
			if (c->busy && c->phase == RP_CLOSE)
				conn_answered(c, now);
			else if (c->busy)
				conn_fail(c, ERR_CLOSED, now);
			else
				conn_close(c);
			return;
		}
		for (off = 0; off < (size_t)r && c->fd == fd; off += used) {
			int rc;
			if (!c->busy) { /* bytes nobody asked for */
				count_err(c->kind, ERR_PROTO, 0, now);
				conn_close(c);
				return;
			}
			c->got_bytes = true;
			rc = resp_feed(c, buf + off, (size_t)r - off, &used);
			if (rc < 0) {
				conn_fail(c, ERR_PROTO, now);
				return;
			}
			if (rc > 0)
				conn_answered(c, now);
		}
	}
}

static void
conn_event(struct conn *c, uint32_t events, int64_t now)
{
	struct sockaddr_in peer;
	socklen_t plen = sizeof(peer);
	int err = 0;
	socklen_t elen = sizeof(err);

	if (c->fd < 0)
		return;
	if (c->connecting) {
		if (!(events & (EPOLLOUT | EPOLLERR | EPOLLHUP)))
			return;
		getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &elen);
		if (err != 0) {
			conn_fail(c, ERR_CONNECT, now);
			return;
		}
		if (getpeername(c->fd, (struct sockaddr *)&peer, &plen) != 0)
			return; /* a stale event: still connecting */
		c->connecting = false;
	}
	if (events & EPOLLOUT)
		conn_flush(c, now);
	if (c->fd >= 0 && (events & (EPOLLIN | EPOLLRDHUP | EPOLLERR | EPOLLHUP)))
		conn_readable(c, now);
}

/* Ends c's request when its deadline has passed. */
static void
conn_check_deadline(struct conn *c, int64_t now)
{
	if (c->busy && now / 1000 >= c->deadline_ms)
		conn_fail(c, ERR_TIMEOUT, now);
}

/* --- the agents, the writer and the probes --- */

/* GET /nodes/{name}/config?wait=30, with If-None-Match once there is an ETag (agent.c's
 * poll_config). */
static void
poll_send(int i, int64_t now)
{
	struct agent *a = &g.agents[i];
	char name[16], target[64], inm[96] = "";

	node_name(i, name, sizeof(name));
	snprintf(target, sizeof(target), "/nodes/%s/config?wait=%d", name, POLL_WAIT_S);
	if (a->etag[0] != '\0')
		snprintf(inm, sizeof(inm), "If-None-Match: %s\r\n", a->etag);
	conn_request(&a->poll, "GET", target, inm, NULL, NULL, POLL_TIMEOUT_MS, now);
}

/* PUT /nodes/{name}/status, or marks it due if one is in flight (agent.c's send_status). */
static void
status_send(int i, int64_t now)
{
	struct agent *a = &g.agents[i];
	char name[16], target[64], body[640];

	if (a->beat.busy) {
		a->beat_dirty = true;
		return;
	}
	a->beat_dirty = false;
	node_name(i, name, sizeof(name));
	snprintf(target, sizeof(target), "/nodes/%s/status", name);
	status_body(i, g.n, body, sizeof(body));
	g.beats_sent += in_window(now);
	conn_request(&a->beat, "PUT", target, "", "application/json", body, BEAT_TIMEOUT_MS, now);
}

/* Node i's config long-poll answered 200 at t: every awaited push to i has arrived. The 200 may
 * be for an earlier change that arrived after this PATCH was sent; with PATCHes at 2/s on random
 * VIPs of 2N that is rare, and it can only make a push look faster. */
static void
push_seen(int i, int64_t t)
{
	for (unsigned s = 0; s < PUSH_MAX; s++) {
		struct push *p = &g.push[s];
		if (!p->live || t <= p->sent_us)
			continue;
		for (int j = 0; j < 2; j++)
			if (p->node[j] == i && p->seen_us[j] == 0)
				p->seen_us[j] = t;
		if (p->seen_us[0] != 0 && p->seen_us[1] != 0) {
			int64_t last =
			    p->seen_us[0] > p->seen_us[1] ? p->seen_us[0] : p->seen_us[1];
			lat_add(&g.pushes, (double)(last - p->sent_us) / 1000);
			p->live = false;
		}
	}
}

static void
poll_done(int i, int status, int64_t now)
{
	struct agent *a = &g.agents[i];
	const char *etag = a->poll.etag;

	if (status == 200 && etag[0] != '\0') { /* agent.c's on_config: apply, report, re-poll */
		a->backoff_ms = 0;
		snprintf(a->etag, sizeof(a->etag), "%s", etag);
		g.config_200 += in_window(now);
		push_seen(i, now);
		status_send(i, now);
		poll_send(i, now);
		return;
	}
	if (status == 304) {
		a->backoff_ms = 0;
		g.poll_304 += in_window(now);
		poll_send(i, now);
		return;
	}
	if (status == 200) /* no ETag: re-polling at once would spin */
		count_err(CK_POLL, ERR_PROTO, 0, now);
	else if (status != 0)
		count_err(CK_POLL, ERR_STATUS, status, now);
	a->backoff_ms = a->backoff_ms ? a->backoff_ms * 2 : 250;
	if (a->backoff_ms > BACKOFF_MAX_MS)
		a->backoff_ms = BACKOFF_MAX_MS;
	a->poll_at_ms = now / 1000 + a->backoff_ms;
}

static void
beat_done(int i, int status, int64_t now)
{
	struct agent *a = &g.agents[i];

	if (status >= 200 && status < 300) {
		if (in_window(a->beat.sent_us))
			lat_add(&g.beats, (double)(now - a->beat.sent_us) / 1000);
	} else if (status != 0)
		count_err(CK_BEAT, ERR_STATUS, status, now);
	if (a->beat_dirty)
		status_send(i, now);
}

/* PATCHes a random VIP with a preempt_delay_ms no earlier PATCH used, so that every PATCH is a
 * change even when an earlier one timed out, and awaits its push to both members. */
static void
patch_send(int64_t now)
{
	struct push *p = &g.push[g.push_next % PUSH_MAX];
	struct conn *w = NULL;
	char name[16], target[64], body[64];
	int k;

	for (int j = 0; j < WRITERS && w == NULL; j++)
		if (!g.writer[j].busy)
			w = &g.writer[j];
	if (w == NULL) {
		g.patch_skipped++;
		return;
	}
	k = (int)(next_rand() % (uint64_t)(2 * g.n));
	vip_name(k, name, sizeof(name));
	snprintf(target, sizeof(target), "/vips/%s", name);
	snprintf(body, sizeof(body), "{\"preempt_delay_ms\":%lld}", (long long)(1000 + g.patches));
	if (p->live)
		g.push_lost++;
	*p = (struct push){
	    .sent_us = now, .node = {vip_member(k, 0, g.n), vip_member(k, 1, g.n)}, .live = true};
	w->owner = (int)(g.push_next++ % PUSH_MAX);
	g.patches++;
	if (g.patched != NULL)
		fprintf(g.patched, "%s\n", name);
	conn_request(w, "PATCH", target, "", "application/merge-patch+json", body, ADMIN_TIMEOUT_MS,
		     now);
}

static void
patch_done(int slot, int status, int64_t now)
{
	if (status == 200)
		return;
	if (status != 0)
		count_err(CK_WRITER, ERR_STATUS, status, now);
	g.push[slot].live = false; /* no change to wait for */
}

/* GET / for the store's revision at a window edge (which: 0 start, 1 end). */
static void
probe_done(int which, int status, int64_t now)
{
	const char *r = strstr(g.probe[which].keep, "\"revision\":");

	if (status == 200 && r != NULL)
		g.rev[which] = strtoll(r + 11, NULL, 10);
	else if (status != 0)
		count_err(CK_PROBE, ERR_STATUS, status, now);
}

static void
request_done(struct conn *c, int status, int64_t now)
{
	switch (c->kind) {
	case CK_POLL:
		poll_done(c->owner, status, now);
		break;
	case CK_BEAT:
		beat_done(c->owner, status, now);
		break;
	case CK_WRITER:
		patch_done(c->owner, status, now);
		break;
	case CK_PROBE:
		probe_done(c->owner, status, now);
		break;
	}
}

/* --- measurement --- */

/* utime + stime of process pid, in clock ticks; -1 when it is gone or a zombie. */
static long long
proc_cpu_ticks(int pid)
{
	char path[64], buf[1024], *p, state;
	unsigned long long ut, st;
	size_t n;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	if ((f = fopen(path, "r")) == NULL)
		return -1;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	if ((p = strrchr(buf, ')')) == NULL ||
	    sscanf(p + 1, " %c %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %llu %llu", &state, &ut,
		   &st) != 3 ||
	    state == 'Z')
		return -1;
	return (long long)(ut + st);
}

/* VmRSS of process pid in KiB, or -1. */
static long
proc_rss_kib(int pid)
{
	char path[64], line[256];
	long kib = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", pid);
	if ((f = fopen(path, "r")) == NULL)
		return -1;
	while (fgets(line, sizeof(line), f) != NULL)
		if (sscanf(line, "VmRSS: %ld", &kib) == 1)
			break;
	fclose(f);
	return kib;
}

/* Opens (which 0) or closes (which 1) the measurement window. */
static void
window_edge(int which, int64_t now)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	g.win_unix_ms[which] = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
	g.win_us[which] = now;
	g.cpu_vigild[which] = proc_cpu_ticks(g.vigild_pid);
	g.cpu_self[which] = proc_cpu_ticks(getpid());
	if (which == 1)
		g.rss_kib = proc_rss_kib(g.vigild_pid);
	conn_request(&g.probe[which], "GET", "/", "", NULL, NULL, ADMIN_TIMEOUT_MS, now);
}

static bool
pushes_awaited(void)
{
	for (unsigned s = 0; s < PUSH_MAX; s++)
		if (g.push[s].live)
			return true;
	return false;
}

/* Every TICK_MS: the phases and the writer, heartbeats and re-polls that are due, deadlines. A
 * linear scan of the fleet (10,000 connections cost well under 1% of a core at 50 scans/s); a
 * timer heap would be cheaper and longer. */
static void
tick(int64_t now)
{
	int64_t ms = now / 1000;

	switch (g.phase) {
	case PH_WARMUP:
		if (ms < g.win_start_ms)
			break;
		window_edge(0, now);
		g.patch_at_ms = ms;
		g.phase = PH_WINDOW;
		break;
	case PH_WINDOW:
		if (ms >= g.win_end_ms) {
			window_edge(1, now);
			g.phase = PH_GRACE;
		} else if (g.patch_hz > 0 && ms >= g.patch_at_ms) {
			patch_send(now);
			g.patch_at_ms += (int64_t)(1000 / g.patch_hz);
		}
		break;
	case PH_GRACE:
		if ((!g.probe[1].busy && !pushes_awaited()) || ms >= g.win_end_ms + GRACE_MS)
			g.phase = PH_DONE;
		break;
	case PH_DONE:
		break;
	}
	for (int i = 0; i < g.n; i++) {
		struct agent *a = &g.agents[i];
		conn_check_deadline(&a->poll, now);
		conn_check_deadline(&a->beat, now);
		if (ms >= a->poll_at_ms && !a->poll.busy) {
			a->poll_at_ms = INT64_MAX;
			poll_send(i, now);
		}
		if (ms >= a->beat_at_ms) { /* agent.c's on_heartbeat */
			status_send(i, now);
			a->beat_at_ms = ms + BEAT_MS;
		}
	}
	for (int j = 0; j < WRITERS; j++)
		conn_check_deadline(&g.writer[j], now);
	conn_check_deadline(&g.probe[0], now);
	conn_check_deadline(&g.probe[1], now);
}

static void
report(void)
{
	double win_s = (double)(g.win_us[1] - g.win_us[0]) / 1e6,
	       tck = (double)sysconf(_SC_CLK_TCK);
	uint64_t errs = 0;

	for (unsigned s = 0; s < PUSH_MAX; s++)
		g.push_lost += g.push[s].live;
	errs = g.push_lost;
	for (int k = 0; k < 4; k++) {
		for (int e = 0; e < ERR_KINDS; e++)
			errs += g.err[k][e];
		for (int s = 0; s < 600; s++)
			errs += g.bad_status[k][s];
	}
	printf("agents %d\nvips %d\nwindow_s %.1f\n", g.n, 2 * g.n, win_s);
	printf("window_from_unix_ms %lld\nwindow_to_unix_ms %lld\n", (long long)g.win_unix_ms[0],
	       (long long)g.win_unix_ms[1]);
	if (g.cpu_vigild[0] >= 0 && g.cpu_vigild[1] >= 0)
		printf("vigild_cpu_pct %.1f\n",
		       (double)(g.cpu_vigild[1] - g.cpu_vigild[0]) / tck / win_s * 100);
	printf("vigild_rss_kib %ld\n", g.rss_kib);
	printf("sim_cpu_pct %.1f\n", (double)(g.cpu_self[1] - g.cpu_self[0]) / tck / win_s * 100);
	printf("beats_sent %llu\n", (unsigned long long)g.beats_sent);
	printf("beats %llu\nbeat_p50_ms %.2f\nbeat_p99_ms %.2f\nbeat_max_ms %.2f\n",
	       (unsigned long long)g.beats.seen, lat_pct(&g.beats, 50), lat_pct(&g.beats, 99),
	       g.beats.max);
	printf("pushes %llu\npush_p50_ms %.2f\npush_p99_ms %.2f\npush_max_ms %.2f\n",
	       (unsigned long long)g.pushes.seen, lat_pct(&g.pushes, 50), lat_pct(&g.pushes, 99),
	       g.pushes.max);
	printf("patches %lld\npatch_skipped %llu\npush_lost %llu\n", (long long)g.patches,
	       (unsigned long long)g.patch_skipped, (unsigned long long)g.push_lost);
	printf("config_200 %llu\npoll_304 %llu\nretried %llu\n", (unsigned long long)g.config_200,
	       (unsigned long long)g.poll_304, (unsigned long long)g.retried);
	if (g.rev[0] >= 0 && g.rev[1] >= 0)
		printf("rev_before %lld\nrev_after %lld\n", g.rev[0], g.rev[1]);
	printf("errors %llu\nerrors_outside %llu\n", (unsigned long long)errs,
	       (unsigned long long)g.err_outside);
	if (g.push_lost)
		printf("err_push_unseen %llu\n", (unsigned long long)g.push_lost);
	for (int k = 0; k < 4; k++) {
		for (int e = 0; e < ERR_KINDS; e++)
			if (g.err[k][e])
				printf("err_%s_%s %llu\n", kind_names[k], err_names[e],
				       (unsigned long long)g.err[k][e]);
		for (int s = 0; s < 600; s++)
			if (g.bad_status[k][s])
				printf("err_%s_%d %llu\n", kind_names[k], s,
				       (unsigned long long)g.bad_status[k][s]);
	}
}

/* Reads n "NAME SECRET" lines (node order) into the agents. 0, or -1 with a message. */
static int
read_tokens(const char *path)
{
	char name[16], want[16], secret[128];
	FILE *f = fopen(path, "r");
	int i;

	if (f == NULL) {
		fprintf(stderr, "fleet: %s: %s\n", path, strerror(errno));
		return -1;
	}
	for (i = 0; i < g.n && fscanf(f, "%15s %127s", name, secret) == 2; i++) {
		node_name(i, want, sizeof(want));
		if (strcmp(name, want) != 0)
			break;
		snprintf(g.agents[i].token, sizeof(g.agents[i].token), "%s", secret);
	}
	fclose(f);
	if (i < g.n)
		fprintf(stderr, "fleet: %s: expected a token for each of %d nodes in order\n", path,
			g.n);
	return i < g.n ? -1 : 0;
}

static void
usage(void)
{
	fprintf(stderr,
		"usage: fleet layout N\n"
		"       fleet run --agents N --port PORT --tokens FILE --vigild-pid PID\n"
		"                 [--warmup S] [--duration S] [--ramp S] [--patch-hz F] [--patched "
		"FILE]\n"
		"  VIGIL_ADMIN_TOKEN (environment) is the writer's and the probes' token.\n");
	exit(2);
}

struct opts {
	const char *tokens, *patched;
	int warmup_s, duration_s, ramp_s;
};

/* Parses `fleet run`'s options into g and o; exits with the usage on a bad one. */
static void
parse_run(int argc, char **argv, struct opts *o)
{
	static const struct option longopts[] = {{"agents", required_argument, NULL, 'n'},
						 {"port", required_argument, NULL, 'p'},
						 {"tokens", required_argument, NULL, 't'},
						 {"vigild-pid", required_argument, NULL, 'v'},
						 {"warmup", required_argument, NULL, 'w'},
						 {"duration", required_argument, NULL, 'd'},
						 {"patch-hz", required_argument, NULL, 'z'},
						 {"patched", required_argument, NULL, 'o'},
						 {"ramp", required_argument, NULL, 'r'},
						 {NULL, 0, NULL, 0}};
	int opt;

	*o = (struct opts){.warmup_s = 10, .duration_s = 30, .ramp_s = BEAT_MS / 1000};
	g.patch_hz = 2;
	optind = 2;
	while ((opt = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (opt) {
		case 'n':
			g.n = atoi(optarg);
			break;
		case 'p':
			g.port = atoi(optarg);
			break;
		case 't':
			o->tokens = optarg;
			break;
		case 'v':
			g.vigild_pid = atoi(optarg);
			break;
		case 'w':
			o->warmup_s = atoi(optarg);
			break;
		case 'd':
			o->duration_s = atoi(optarg);
			break;
		case 'z':
			g.patch_hz = atof(optarg);
			break;
		case 'o':
			o->patched = optarg;
			break;
		case 'r':
			o->ramp_s = atoi(optarg);
			break;
		default:
			usage();
		}
	}
	g.admin = getenv("VIGIL_ADMIN_TOKEN");
	if (optind != argc || g.n < 2 || g.n > NODES_MAX || g.port <= 0 || o->tokens == NULL ||
	    g.vigild_pid <= 0 || g.admin == NULL || o->warmup_s < 3 || o->duration_s < 1 ||
	    o->ramp_s < 1 || o->ramp_s > o->warmup_s || g.patch_hz < 0 || g.patch_hz > 1000)
		usage();
}

/* Sets up the fleet: file limit, memory, tokens, connections, start times. 0, or -1 with a
 * message on stderr. */
static int
fleet_init(const struct opts *o)
{
	struct rlimit rl;
	int64_t start_ms;

	/* two sockets an agent, a few more for the writers, the probes and stdio */
	getrlimit(RLIMIT_NOFILE, &rl);
	rl.rlim_cur = rl.rlim_max;
	setrlimit(RLIMIT_NOFILE, &rl);
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY &&
	    rl.rlim_cur < (rlim_t)(2 * g.n + 32)) {
		fprintf(stderr, "fleet: RLIMIT_NOFILE is %llu, %d agents need %d\n",
			(unsigned long long)rl.rlim_cur, g.n, 2 * g.n + 32);
		return -1;
	}
	signal(SIGPIPE, SIG_IGN);
	g.addr = (struct sockaddr_in){.sin_family = AF_INET, .sin_port = htons((uint16_t)g.port)};
	inet_pton(AF_INET, "127.0.0.1", &g.addr.sin_addr);
	g.agents = calloc((size_t)g.n, sizeof(*g.agents));
	g.beats.v = malloc(SAMPLES_MAX * sizeof(double));
	g.pushes.v = malloc(SAMPLES_MAX * sizeof(double));
	if (g.agents == NULL || g.beats.v == NULL || g.pushes.v == NULL ||
	    (g.epfd = epoll_create1(EPOLL_CLOEXEC)) < 0) {
		fprintf(stderr, "fleet: out of memory\n");
		return -1;
	}
	if (read_tokens(o->tokens) != 0)
		return -1;
	if (o->patched != NULL && (g.patched = fopen(o->patched, "w")) == NULL) {
		fprintf(stderr, "fleet: %s: %s\n", o->patched, strerror(errno));
		return -1;
	}
	g.rng = 0x9e3779b97f4a7c15ULL;
	g.rev[0] = g.rev[1] = -1;
	for (int j = 0; j < WRITERS; j++)
		conn_init(&g.writer[j], CK_WRITER, 0, g.admin, NULL);
	conn_init(&g.probe[0], CK_PROBE, 0, g.admin, g.keep[0]);
	conn_init(&g.probe[1], CK_PROBE, 1, g.admin, g.keep[1]);
	/* the agents start spread evenly over the ramp (by default one heartbeat interval) */
	start_ms = now_us() / 1000;
	for (int i = 0; i < g.n; i++) {
		struct agent *a = &g.agents[i];
		conn_init(&a->poll, CK_POLL, i, a->token, NULL);
		conn_init(&a->beat, CK_BEAT, i, a->token, NULL);
		a->poll_at_ms = a->beat_at_ms = start_ms + (int64_t)i * o->ramp_s * 1000 / g.n;
	}
	g.win_start_ms = start_ms + o->warmup_s * 1000;
	g.win_end_ms = g.win_start_ms + o->duration_s * 1000;
	return 0;
}

/* The event loop, until the window and its grace are over. 0, or 3 when vigild is gone. */
static int
fleet_run(void)
{
	struct epoll_event evs[256];
	int64_t next_tick = now_us();
	unsigned ticks = 0;

	while (g.phase != PH_DONE) {
		int64_t now = now_us();
		int timeout = next_tick > now ? (int)((next_tick - now + 999) / 1000) : 0;
		int n = epoll_wait(g.epfd, evs, 256, timeout);

		if (n < 0 && errno != EINTR) {
			perror("fleet: epoll_wait");
			return 1;
		}
		now = now_us();
		for (int e = 0; e < n; e++)
			conn_event(evs[e].data.ptr, evs[e].events, now);
		if (now < next_tick)
			continue;
		tick(now);
		next_tick = now + TICK_MS * 1000;
		if (++ticks % (1000 / TICK_MS) == 0 && proc_cpu_ticks(g.vigild_pid) < 0) {
			fprintf(stderr, "fleet: vigild (pid %d) is gone\n", g.vigild_pid);
			return 3;
		}
	}
	return 0;
}

int
main(int argc, char **argv)
{
	struct opts o;
	int rc;

	if (argc == 3 && strcmp(argv[1], "layout") == 0 && atoi(argv[2]) >= 2 &&
	    atoi(argv[2]) <= NODES_MAX) {
		layout(atoi(argv[2]));
		return fflush(stdout) == 0 ? 0 : 1;
	}
	if (argc < 2 || strcmp(argv[1], "run") != 0)
		usage();
	parse_run(argc, argv, &o);
	if (fleet_init(&o) != 0)
		return 1;
	if ((rc = fleet_run()) != 0)
		return rc;
	if (g.patched != NULL && fclose(g.patched) != 0) {
		perror("fleet: patched");
		return 1;
	}
	report();
	return fflush(stdout) == 0 ? 0 : 1;
}
