/* Test driver for agent/checks.c (+ check_net.c, check_script.c) and agent/haproxy.c on the real
 * agent loop, used by tests/cluster/test_checks_haproxy.py, which builds it with cc.
 *
 *   checktool [--script-dir DIR] [--script-user USER] [--node NAME]
 *
 * Each line on stdin is a node config document (JSON, as GET /nodes/N/config returns): it is
 * applied to the checks and to HAProxy. Each line on stdout is a JSON object
 * {"event": "applied"|"changed", "checks": checks_report(), "adjust": int, "fault": bool,
 * "health": checks_backend_health()}, printed after every apply and every check change (HAProxy is
 * updated then too, as the agent does). End of stdin: everything is freed and it exits 0. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "checks.h"
#include "haproxy.h"
#include "loop.h"

struct tool {
	struct loop *loop;
	struct checks *checks;
	struct haproxy *haproxy;
	json_t *config;
	const char *node;
	char buf[1 << 20];
	size_t len;
};

/* Pushes health to HAProxy and prints one status line. */
static void
emit(struct tool *t, const char *event)
{
	bool fault;
	int adjust = checks_priority_adjust(t->checks, NULL, &fault);
	json_t *health = checks_backend_health(t->checks);
	json_t *line;
	char *s;

	haproxy_apply(t->haproxy, json_string_value(json_object_get(t->config, "haproxy_socket")),
		      json_object_get(t->config, "backends"), health);
	line =
	    json_pack("{s:s, s:o, s:i, s:b, s:o}", "event", event, "checks",
		      checks_report(t->checks), "adjust", adjust, "fault", fault, "health", health);
	s = json_dumps(line, JSON_COMPACT | JSON_SORT_KEYS);
	if (s != NULL) {
		printf("%s\n", s);
		fflush(stdout);
	}
	free(s);
	json_decref(line);
}

static void
on_change(void *arg)
{
	emit(arg, "changed");
}

static void
take_line(struct tool *t, const char *line)
{
	json_error_t err;
	json_t *cfg = json_loads(line, 0, &err);

	if (!json_is_object(cfg)) {
		fprintf(stderr, "checktool: bad config line: %s\n", err.text);
		json_decref(cfg);
		return;
	}
	json_decref(t->config);
	t->config = cfg;
	checks_apply(t->checks, cfg, t->node);
	emit(t, "applied");
}

static void
on_stdin(int fd, uint32_t events, void *arg)
{
	struct tool *t = arg;
	ssize_t n;
	char *nl;

	(void)events;
	while ((n = read(fd, t->buf + t->len, sizeof(t->buf) - 1 - t->len)) > 0) {
		t->len += (size_t)n;
		t->buf[t->len] = '\0';
		while ((nl = strchr(t->buf, '\n')) != NULL) {
			*nl = '\0';
			if (nl > t->buf)
				take_line(t, t->buf);
			t->len -= (size_t)(nl + 1 - t->buf);
			memmove(t->buf, nl + 1, t->len + 1);
		}
		if (t->len == sizeof(t->buf) - 1)
			t->len = 0; /* absurd line: dropped */
	}
	if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
		loop_fd_del(t->loop, fd);
		loop_stop(t->loop);
	}
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
	    {"script-dir", required_argument, NULL, 'd'},
	    {"script-user", required_argument, NULL, 'u'},
	    {"node", required_argument, NULL, 'n'},
	    {NULL, 0, NULL, 0},
	};
	static struct tool t;
	const char *dir = "/etc/vigil/scripts", *user = "nobody";
	int c;

	t.node = "lb1";
	while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (c) {
		case 'd':
			dir = optarg;
			break;
		case 'u':
			user = optarg;
			break;
		case 'n':
			t.node = optarg;
			break;
		default:
			return 2;
		}
	}
	signal(SIGPIPE, SIG_IGN);
	fcntl(0, F_SETFL, fcntl(0, F_GETFL) | O_NONBLOCK);
	if ((t.loop = loop_new()) == NULL ||
	    (t.checks = checks_new(t.loop, dir, user, on_change, &t)) == NULL ||
	    (t.haproxy = haproxy_new(t.loop)) == NULL ||
	    loop_fd_add(t.loop, 0, EPOLLIN, on_stdin, &t) != 0) {
		fprintf(stderr, "checktool: cannot start\n");
		return 1;
	}
	loop_run(t.loop);
	checks_free(t.checks);
	haproxy_free(t.haproxy);
	loop_free(t.loop);
	json_decref(t.config);
	return 0;
}
