// links: agent/haproxy.c agent/loop.c
/* Unit tests for the HAProxy runtime-API link: the command strings and the names allowed in them,
 * `show info` parsing, and the apply logic against a fake admin socket on the loop (what is sent
 * first, only changes after that, everything again when the Pid changes, nothing when the socket
 * is gone). The real HAProxy is driven by tests/cluster/test_checks_haproxy.py. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>
#include <cmocka.h>

#include "haproxy.h"

static void
test_cmd_state_maps_admin_states(void **state)
{
	char buf[256];

	(void)state;
	assert_int_equal(haproxy_cmd_state(buf, sizeof(buf), "web", "web1", "enabled"), 0);
	assert_string_equal(buf, "set server web/web1 state ready\n");
	assert_int_equal(haproxy_cmd_state(buf, sizeof(buf), "web", "web1", "drain"), 0);
	assert_string_equal(buf, "set server web/web1 state drain\n");
	assert_int_equal(haproxy_cmd_state(buf, sizeof(buf), "web", "web1", "disabled"), 0);
	assert_string_equal(buf, "set server web/web1 state maint\n");
	assert_int_equal(haproxy_cmd_state(buf, sizeof(buf), "web", "web1", "maint"), -1);
	assert_int_equal(haproxy_cmd_state(buf, sizeof(buf), "web", "web1", NULL), -1);
}

static void
test_cmd_weight_and_health(void **state)
{
	char buf[256];

	(void)state;
	assert_int_equal(haproxy_cmd_weight(buf, sizeof(buf), "be_app", "s-1.a:b", 0), 0);
	assert_string_equal(buf, "set server be_app/s-1.a:b weight 0\n");
	assert_int_equal(haproxy_cmd_weight(buf, sizeof(buf), "web", "web1", 255), 0);
	assert_string_equal(buf, "set server web/web1 weight 255\n");
	assert_int_equal(haproxy_cmd_weight(buf, sizeof(buf), "web", "web1", -1), -1);
	assert_int_equal(haproxy_cmd_weight(buf, sizeof(buf), "web", "web1", 257), -1);
	assert_int_equal(haproxy_cmd_health(buf, sizeof(buf), "web", "web1", true), 0);
	assert_string_equal(buf, "set server web/web1 health up\n");
	assert_int_equal(haproxy_cmd_health(buf, sizeof(buf), "web", "web1", false), 0);
	assert_string_equal(buf, "set server web/web1 health down\n");
	assert_int_equal(haproxy_cmd_health(buf, 10, "web", "web1", false), -1); /* too small */
}

static void
test_names_cannot_smuggle_commands(void **state)
{
	char buf[256];
	const char *bad[] = {
	    "web;shutdown sessions server web/web1", "a b", "a\nshow info", "a/b", "", "é", NULL};

	(void)state;
	for (int i = 0; bad[i] != NULL; i++) {
		assert_false(haproxy_name_ok(bad[i]));
		assert_int_equal(haproxy_cmd_health(buf, sizeof(buf), bad[i], "s", true), -1);
		assert_int_equal(haproxy_cmd_health(buf, sizeof(buf), "b", bad[i], true), -1);
	}
	assert_false(haproxy_name_ok(NULL));
	assert_true(haproxy_name_ok("Web_1.example:80-x"));
}

static void
test_parse_info(void **state)
{
	long pid, up;

	(void)state;
	assert_int_equal(haproxy_parse_info("Name: HAProxy\nVersion: 2.6.12\nPid: 4242\nUptime: 0d "
					    "0h00m07s\nUptime_sec: 7\nMemmax_MB: 0\n",
					    &pid, &up),
			 0);
	assert_int_equal(pid, 4242);
	assert_int_equal(up, 7);
	assert_int_equal(haproxy_parse_info("Name: HAProxy\nPid: 12\n", &pid, &up), 0);
	assert_int_equal(pid, 12);
	assert_int_equal(up, -1);
	assert_int_equal(haproxy_parse_info("Unknown command\n", &pid, &up), -1);
	assert_int_equal(haproxy_parse_info("XPid: 5\n", &pid, &up), -1);
}

/* A fake admin socket: records each command, answers `show info` with its pid. */
struct fake {
	struct loop *loop;
	int lfd;
	char path[108];
	long pid;
	char log[64][128];
	int n;
	int stop_at; /* stop the loop once this many commands arrived */
	struct loop_timer deadline;
};

static void
on_client(int fd, uint32_t events, void *arg)
{
	struct fake *f = arg;
	char buf[512], answer[256];
	ssize_t n = read(fd, buf, sizeof(buf) - 1);

	(void)events;
	if (n <= 0)
		return;
	buf[n] = '\0';
	buf[strcspn(buf, "\n")] = '\0';
	if (f->n < 64)
		snprintf(f->log[f->n++], sizeof(f->log[0]), "%.127s", buf);
	if (strcmp(buf, "show info") == 0)
		snprintf(answer, sizeof(answer), "Name: HAProxy\nPid: %ld\nUptime_sec: 3\n\n",
			 f->pid);
	else if (strstr(buf, "/nosuch ") != NULL)
		snprintf(answer, sizeof(answer), "No such server.\n\n");
	else
		snprintf(answer, sizeof(answer), "\n");
	if (write(fd, answer, strlen(answer)) < 0)
		fail();
	loop_fd_del(f->loop, fd);
	close(fd);
	if (f->stop_at > 0 && f->n >= f->stop_at)
		loop_stop(f->loop);
}

static void
on_listen(int fd, uint32_t events, void *arg)
{
	struct fake *f = arg;
	int c;

	(void)events;
	while ((c = accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC)) >= 0)
		assert_int_equal(loop_fd_add(f->loop, c, EPOLLIN, on_client, f), 0);
}

static void
on_deadline(void *arg)
{
	loop_stop(((struct fake *)arg)->loop);
}

static void
fake_start(struct fake *f)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};

	memset(f, 0, sizeof(*f));
	f->pid = 100;
	snprintf(f->path, sizeof(f->path), "/tmp/vgha-%d.sock", (int)getpid());
	unlink(f->path);
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", f->path);
	assert_non_null(f->loop = loop_new());
	f->lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	assert_int_equal(bind(f->lfd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(listen(f->lfd, 16), 0);
	assert_int_equal(loop_fd_add(f->loop, f->lfd, EPOLLIN, on_listen, f), 0);
	f->deadline.fn = on_deadline;
	f->deadline.arg = f;
}

static void
fake_stop(struct fake *f)
{
	loop_fd_del(f->loop, f->lfd);
	close(f->lfd);
	unlink(f->path);
	loop_free(f->loop);
}

/* Runs until `want` more commands arrived (or ms passed); returns how many arrived. */
static int
run_until(struct fake *f, int want, int ms)
{
	int before = f->n;

	f->stop_at = before + want;
	loop_timer_at(f->loop, &f->deadline, loop_now_ms() + ms);
	loop_run(f->loop);
	loop_timer_off(f->loop, &f->deadline);
	return f->n - before;
}

static json_t *
backends(const char *state1, int weight1)
{
	return json_pack("[{s:s, s:s, s:s, s:s, s:i}, {s:s, s:s, s:s}, {s:s, s:s, s:s, s:s}]",
			 "name", "web1", "vip", "web", "haproxy_server", "web1", "admin_state",
			 state1, "weight", weight1, "name", "web2", "vip", "web", "admin_state",
			 "drain", "name", "bad", "vip", "web", "haproxy_server", "x;shutdown",
			 "admin_state", "enabled");
}

static void
test_apply_sends_everything_then_changes_then_replays_on_restart(void **state)
{
	struct fake f;
	struct haproxy *h;
	json_t *b = backends("enabled", 5), *health = json_pack("{s:s}", "web2", "down");

	(void)state;
	fake_start(&f);
	assert_non_null(h = haproxy_new(f.loop));
	haproxy_apply(h, f.path, b, health);
	assert_int_equal(run_until(&f, 7, 3000), 7);
	assert_string_equal(f.log[0], "show info");
	assert_string_equal(f.log[1], "set server web/web1 state ready");
	assert_string_equal(f.log[2], "set server web/web1 weight 5");
	assert_string_equal(f.log[3], "set server web/web1 health up");
	assert_string_equal(f.log[4], "set server web/web2 state drain");
	assert_string_equal(f.log[5], "set server web/web2 weight 1"); /* the default */
	assert_string_equal(f.log[6], "set server web/web2 health down");
	/* the bad name never reaches the socket; then only the poll */
	assert_int_equal(run_until(&f, 1, 1500), 1);
	assert_string_equal(f.log[7], "show info");

	/* a change: only what changed, at once */
	json_decref(b);
	b = backends("disabled", 5);
	haproxy_apply(h, f.path, b, health);
	assert_int_equal(run_until(&f, 1, 500), 1);
	assert_string_equal(f.log[8], "set server web/web1 state maint");
	json_decref(health);
	health = json_object();
	haproxy_apply(h, f.path, b, health);
	assert_int_equal(run_until(&f, 1, 500), 1);
	assert_string_equal(f.log[9], "set server web/web2 health up");

	/* HAProxy restarted (new pid): everything again after the next poll */
	f.pid = 101;
	assert_int_equal(run_until(&f, 7, 2500), 7);
	assert_string_equal(f.log[10], "show info");
	assert_string_equal(f.log[11], "set server web/web1 state maint");
	assert_string_equal(f.log[16], "set server web/web2 health up");

	/* no socket: nothing is sent */
	haproxy_apply(h, NULL, b, health);
	assert_int_equal(run_until(&f, 1, 1300), 0);
	haproxy_free(h);
	fake_stop(&f);
	json_decref(b);
	json_decref(health);
}

static void
test_lost_socket_replays_when_it_comes_back(void **state)
{
	struct fake f;
	struct haproxy *h;
	json_t *b = backends("enabled", 2), *health = json_object();
	struct sockaddr_un sa = {.sun_family = AF_UNIX};

	(void)state;
	fake_start(&f);
	assert_non_null(h = haproxy_new(f.loop));
	haproxy_apply(h, f.path, b, health);
	assert_int_equal(run_until(&f, 7, 3000), 7);
	/* HAProxy goes away (same pid when it comes back: the lost socket alone forgets) */
	loop_fd_del(f.loop, f.lfd);
	close(f.lfd);
	unlink(f.path);
	assert_int_equal(run_until(&f, 1, 1500), 0);
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", f.path);
	f.lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	assert_int_equal(bind(f.lfd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(listen(f.lfd, 16), 0);
	assert_int_equal(loop_fd_add(f.loop, f.lfd, EPOLLIN, on_listen, &f), 0);
	assert_int_equal(run_until(&f, 7, 2500), 7);
	assert_string_equal(f.log[f.n - 7], "show info");
	assert_string_equal(f.log[f.n - 6], "set server web/web1 state ready");
	haproxy_free(h);
	fake_stop(&f);
	json_decref(b);
	json_decref(health);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_cmd_state_maps_admin_states),
	    cmocka_unit_test(test_cmd_weight_and_health),
	    cmocka_unit_test(test_names_cannot_smuggle_commands),
	    cmocka_unit_test(test_parse_info),
	    cmocka_unit_test(test_apply_sends_everything_then_changes_then_replays_on_restart),
	    cmocka_unit_test(test_lost_socket_replays_when_it_comes_back),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
