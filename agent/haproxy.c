/* HAProxy's runtime API over its AF_UNIX stats socket, non-blocking on the agent's loop. One
 * connection at a time, one command per connection (HAProxy answers and closes in non-interactive
 * mode), so each answer belongs to one command. For every server we keep what we want and what
 * the running HAProxy was last told; a restart (new Pid or start time in `show info`) or a lost
 * socket forgets the latter, so everything is sent again. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "haproxy.h"

#define POLL_MS 1000	   /* `show info` period: a restart is noticed within this */
#define IO_TIMEOUT_MS 2000 /* one command, connect to close */
#define NOT_SENT -1

enum field { F_STATE, F_WEIGHT, F_HEALTH, F_COUNT };
enum { ST_READY, ST_DRAIN, ST_MAINT };
static const char *const admin_states[] = {"enabled", "drain", "disabled"};
static const char *const haproxy_states[] = {"ready", "drain", "maint"};

struct hsrv {
	char backend[128], server[128];
	int want[F_COUNT];
	int have[F_COUNT]; /* as last sent to this HAProxy, or NOT_SENT */
};

struct haproxy {
	struct loop *loop;
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	struct hsrv *srv;
	int n;
	bool known; /* a `show info` answered since the last failure */
	long pid;
	long start_s; /* monotonic seconds at HAProxy's start, from Uptime_sec */
	bool poll_due, wait_tick, down_logged;
	struct loop_timer tick;
	/* the connection in flight */
	int fd;
	char out[400];
	size_t out_len, out_off;
	char in[16384];
	size_t in_len;
	int cur_srv, cur_field, cur_value; /* cur_srv -1: show info */
	char cur_backend[128], cur_server[128];
	char bad[1024]; /* "name;" of backends with names unfit for HAProxy, logged once */
	struct loop_timer io_timeout;
};

bool
haproxy_name_ok(const char *s)
{
	static const char ok[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.:";
	size_t n = s ? strlen(s) : 0;

	return n > 0 && n < 128 && strspn(s, ok) == n;
}

static int
fmt_cmd(char *buf, size_t len, const char *backend, const char *server, const char *what)
{
	int n;

	if (!haproxy_name_ok(backend) || !haproxy_name_ok(server))
		return -1;
	n = snprintf(buf, len, "set server %s/%s %s\n", backend, server, what);
	return n > 0 && (size_t)n < len ? 0 : -1;
}

int
haproxy_cmd_state(char *buf, size_t len, const char *backend, const char *server,
		  const char *admin_state)
{
	char what[32];

	for (int i = 0; i < 3; i++)
		if (admin_state != NULL && strcmp(admin_state, admin_states[i]) == 0) {
			snprintf(what, sizeof(what), "state %s", haproxy_states[i]);
			return fmt_cmd(buf, len, backend, server, what);
		}
	return -1;
}

int
haproxy_cmd_weight(char *buf, size_t len, const char *backend, const char *server, int weight)
{
	char what[32];

	if (weight < 0 || weight > 256)
		return -1;
	snprintf(what, sizeof(what), "weight %d", weight);
	return fmt_cmd(buf, len, backend, server, what);
}

int
haproxy_cmd_health(char *buf, size_t len, const char *backend, const char *server, bool up)
{
	return fmt_cmd(buf, len, backend, server, up ? "health up" : "health down");
}

/* The integer after "key: " at the start of a line of text, or -1. */
static long
info_field(const char *text, const char *key)
{
	size_t k = strlen(key);

	for (const char *l = text; l != NULL && *l; l = strchr(l, '\n'), l = l ? l + 1 : NULL)
		if (strncmp(l, key, k) == 0 && l[k] == ':') {
			char *end;
			long v = strtol(l + k + 1, &end, 10);
			return end != l + k + 1 && v >= 0 ? v : -1;
		}
	return -1;
}

int
haproxy_parse_info(const char *text, long *pid, long *uptime_s)
{
	*pid = info_field(text, "Pid");
	*uptime_s = info_field(text, "Uptime_sec");
	return *pid > 0 ? 0 : -1;
}

static void kick(struct haproxy *h);

static void
forget_applied(struct haproxy *h)
{
	for (int i = 0; i < h->n; i++)
		for (int f = 0; f < F_COUNT; f++)
			h->srv[i].have[f] = NOT_SENT;
}

static void
conn_close(struct haproxy *h)
{
	loop_timer_off(h->loop, &h->io_timeout);
	if (h->fd >= 0) {
		loop_fd_del(h->loop, h->fd);
		close(h->fd);
		h->fd = -1;
	}
}

/* The socket failed: forget the HAProxy (a new one may come) and wait for the next tick. */
static void
conn_failed(struct haproxy *h, const char *what, int err)
{
	conn_close(h);
	if (!h->down_logged)
		fprintf(stderr, "vigil-agent: haproxy %s: %s%s%s\n", h->path, what, err ? ": " : "",
			err ? strerror(err) : "");
	h->down_logged = true;
	h->known = false;
	h->wait_tick = true;
	forget_applied(h);
}

/* `show info` answered: notices a new HAProxy. */
static void
took_info(struct haproxy *h, const char *text)
{
	long pid, up, start;

	if (haproxy_parse_info(text, &pid, &up) != 0) {
		conn_failed(h, "unexpected answer to show info", 0);
		return;
	}
	start = up >= 0 ? (long)(loop_now_ms() / 1000) - up : 0;
	if (!h->known || pid != h->pid || (up >= 0 && labs(start - h->start_s) > 2)) {
		fprintf(stderr, "vigil-agent: haproxy %s: pid %ld%s, applying %d servers\n",
			h->path, pid, h->pid && h->pid != pid ? " (restarted)" : "", h->n);
		forget_applied(h);
	}
	h->known = true;
	h->down_logged = false;
	h->pid = pid;
	h->start_s = start;
}

/* A command's answer: HAProxy says nothing when a `set server` works. */
static void
took_answer(struct haproxy *h)
{
	char *a = h->in;
	size_t n = h->in_len;

	h->in[h->in_len] = '\0';
	if (h->cur_srv < 0) {
		took_info(h, h->in);
		return;
	}
	while (n > 0 && (a[n - 1] == '\n' || a[n - 1] == ' '))
		a[--n] = '\0';
	h->out[strcspn(h->out, "\n")] = '\0';
	for (int i = 0; i < h->n; i++) {
		struct hsrv *s = &h->srv[i]; /* by name: the list may have changed meanwhile */
		if (strcmp(s->backend, h->cur_backend) != 0 ||
		    strcmp(s->server, h->cur_server) != 0)
			continue;
		if (n > 0)
			fprintf(stderr, "vigil-agent: haproxy %s: %s: %s\n", h->path, h->out, a);
		else if (s->have[h->cur_field] != NOT_SENT) /* a change, not a replay */
			fprintf(stderr, "vigil-agent: haproxy: %s\n", h->out);
		s->have[h->cur_field] = h->cur_value;
	}
}

static void
on_io_timeout(void *arg)
{
	conn_failed(arg, "no answer", 0);
}

static void
on_conn(int fd, uint32_t events, void *arg)
{
	struct haproxy *h = arg;
	ssize_t r;

	if (h->out_off < h->out_len) {
		int err = 0;
		socklen_t len = sizeof(err);
		if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) == 0 && err != 0) {
			conn_failed(h, "connect", err);
			return;
		}
		r = send(fd, h->out + h->out_off, h->out_len - h->out_off, MSG_NOSIGNAL);
		if (r < 0 && errno != EAGAIN && errno != EINTR) {
			conn_failed(h, "send", errno);
			return;
		}
		if (r > 0)
			h->out_off += (size_t)r;
		if (h->out_off == h->out_len)
			loop_fd_mod(h->loop, fd, EPOLLIN);
		return;
	}
	(void)events;
	while ((r = read(fd, h->in + h->in_len, sizeof(h->in) - 1 - h->in_len)) > 0) {
		h->in_len += (size_t)r;
		if (h->in_len == sizeof(h->in) - 1)
			break; /* enough of any answer */
	}
	if (r < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (r < 0) {
		conn_failed(h, "read", errno);
		return;
	}
	conn_close(h);
	took_answer(h);
	kick(h);
}

/* Starts one command (text, newline-terminated) on a new connection. */
static void
send_cmd(struct haproxy *h, const char *text, int srv, int field, int value)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};

	snprintf(h->out, sizeof(h->out), "%s", text);
	h->out_len = strlen(h->out);
	h->out_off = 0;
	h->in_len = 0;
	h->cur_srv = srv;
	h->cur_field = field;
	h->cur_value = value;
	memcpy(sa.sun_path, h->path, sizeof(sa.sun_path));
	h->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (h->fd < 0) {
		conn_failed(h, "socket", errno);
		return;
	}
	if (connect(h->fd, (struct sockaddr *)&sa, sizeof(sa)) != 0 && errno != EINPROGRESS) {
		conn_failed(h, "connect", errno);
		return;
	}
	if (loop_fd_add(h->loop, h->fd, EPOLLOUT, on_conn, h) != 0) {
		conn_failed(h, "cannot watch the socket", 0);
		return;
	}
	loop_timer_at(h->loop, &h->io_timeout, loop_now_ms() + IO_TIMEOUT_MS);
}

/* The command that brings field f of server s where we want it, into buf. */
static int
cmd_for(const struct hsrv *s, int f, char *buf, size_t len)
{
	if (f == F_STATE)
		return haproxy_cmd_state(buf, len, s->backend, s->server, admin_states[s->want[f]]);
	if (f == F_WEIGHT)
		return haproxy_cmd_weight(buf, len, s->backend, s->server, s->want[f]);
	return haproxy_cmd_health(buf, len, s->backend, s->server, s->want[f] != 0);
}

/* Starts the next thing to do, if nothing runs: `show info` when due or unknown, else the first
 * server field that differs from what HAProxy was told. */
static void
kick(struct haproxy *h)
{
	char cmd[400];

	if (h->fd >= 0 || h->path[0] == '\0' || h->wait_tick)
		return;
	if (!h->known || h->poll_due) {
		h->poll_due = false;
		send_cmd(h, "show info\n", -1, 0, 0);
		return;
	}
	for (int i = 0; i < h->n; i++)
		for (int f = 0; f < F_COUNT; f++) {
			struct hsrv *s = &h->srv[i];
			if (s->want[f] == s->have[f])
				continue;
			if (cmd_for(s, f, cmd, sizeof(cmd)) != 0) {
				s->have[f] = s->want[f]; /* bad name: logged when applied */
				continue;
			}
			snprintf(h->cur_backend, sizeof(h->cur_backend), "%s", s->backend);
			snprintf(h->cur_server, sizeof(h->cur_server), "%s", s->server);
			send_cmd(h, cmd, i, f, s->want[f]);
			return;
		}
}

static void
on_tick(void *arg)
{
	struct haproxy *h = arg;

	h->poll_due = true;
	h->wait_tick = false;
	loop_timer_at(h->loop, &h->tick, loop_now_ms() + POLL_MS);
	kick(h);
}

struct haproxy *
haproxy_new(struct loop *l)
{
	struct haproxy *h = calloc(1, sizeof(*h));

	if (h == NULL)
		return NULL;
	h->loop = l;
	h->fd = -1;
	h->tick.fn = on_tick;
	h->tick.arg = h;
	h->io_timeout.fn = on_io_timeout;
	h->io_timeout.arg = h;
	return h;
}

void
haproxy_free(struct haproxy *h)
{
	if (h == NULL)
		return;
	conn_close(h);
	loop_timer_off(h->loop, &h->tick);
	free(h->srv);
	free(h);
}

/* Fills s from backend entry b (borrowed) and health. Returns 0, or -1 on names unfit for HAProxy
 * (logged when new: appended to bad, the list of this apply, checked against was). */
static int
want_of(struct hsrv *s, json_t *b, json_t *health, char *bad, size_t badlen, const char *was)
{
	const char *name = json_string_value(json_object_get(b, "name"));
	const char *hb = json_string_value(json_object_get(b, "haproxy_backend"));
	const char *hs = json_string_value(json_object_get(b, "haproxy_server"));
	const char *st = json_string_value(json_object_get(b, "admin_state"));
	const char *hl = name ? json_string_value(json_object_get(health, name)) : NULL;
	json_t *w = json_object_get(b, "weight");

	hb = hb ? hb : json_string_value(json_object_get(b, "vip"));
	hs = hs ? hs : name;
	if (!haproxy_name_ok(hb) || !haproxy_name_ok(hs)) {
		char key[80];
		snprintf(key, sizeof(key), "%.70s;", name ? name : "?");
		if (strstr(was, key) == NULL)
			fprintf(stderr,
				"vigil-agent: haproxy: backend %s: not a HAProxy name: %s/%s\n",
				name ? name : "?", hb ? hb : "", hs ? hs : "");
		if (strlen(bad) + strlen(key) < badlen)
			strcat(bad, key);
		return -1;
	}
	snprintf(s->backend, sizeof(s->backend), "%s", hb);
	snprintf(s->server, sizeof(s->server), "%s", hs);
	s->want[F_STATE] = ST_READY;
	for (int i = 0; st != NULL && i < 3; i++)
		if (strcmp(st, admin_states[i]) == 0)
			s->want[F_STATE] = i;
	s->want[F_WEIGHT] = json_is_integer(w) ? (int)json_integer_value(w) : 1;
	if (s->want[F_WEIGHT] < 0 || s->want[F_WEIGHT] > 256)
		s->want[F_WEIGHT] = 1;
	s->want[F_HEALTH] = hl == NULL || strcmp(hl, "down") != 0;
	for (int f = 0; f < F_COUNT; f++)
		s->have[f] = NOT_SENT;
	return 0;
}

void
haproxy_apply(struct haproxy *h, const char *socket_path, json_t *backends, json_t *health)
{
	size_t n = json_array_size(backends), i;
	struct hsrv *list = calloc(n ? n : 1, sizeof(*list));
	json_t *b;
	int k = 0;
	char bad[sizeof(h->bad)] = "";

	if (list == NULL)
		return;
	if (socket_path == NULL)
		socket_path = "";
	if (strlen(socket_path) >= sizeof(h->path))
		fprintf(stderr, "vigil-agent: haproxy socket path too long: %s\n", socket_path);
	if (strncmp(h->path, socket_path, sizeof(h->path)) != 0) {
		conn_close(h);
		h->known = h->wait_tick = h->down_logged = false;
		h->pid = 0;
		h->n = 0;
		snprintf(h->path, sizeof(h->path), "%s", socket_path);
		if (h->path[0] != '\0')
			loop_timer_at(h->loop, &h->tick, loop_now_ms() + POLL_MS);
		else
			loop_timer_off(h->loop, &h->tick);
	}
	json_array_foreach(backends, i, b)
	{
		if (want_of(&list[k], b, health, bad, sizeof(bad), h->bad) != 0)
			continue;
		for (int j = 0; j < h->n; j++) /* keep what this HAProxy was already told */
			if (strcmp(h->srv[j].backend, list[k].backend) == 0 &&
			    strcmp(h->srv[j].server, list[k].server) == 0)
				memcpy(list[k].have, h->srv[j].have, sizeof(list[k].have));
		k++;
	}
	free(h->srv);
	h->srv = list;
	h->n = k;
	memcpy(h->bad, bad, sizeof(bad));
	kick(h);
}
