// links: agent/checks.c agent/check_net.c agent/curl_loop.c agent/check_script.c agent/script.c agent/text.c agent/loop.c common/addr.c agent/realtime.c agent/caps.c common/errmsg.c common/clock.c
/* Unit tests for the check runner: the rise/fall counter, the script security decisions
 * (keepalived's enable_script_security, on real files in a temporary directory: owners, modes,
 * sticky directories, symlinks, names), output cleaning, and checks_apply / checks_report /
 * checks_priority_adjust / checks_backend_health with real TCP checks on loopback. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/epoll.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "check_probe.h"
#include "checks.h"

static void
test_rise_fall_starts_unknown_and_needs_rise_ups(void **state)
{
	struct check_counter c = {CHECK_UNKNOWN, 0, 0};

	(void)state;
	assert_false(checks_count(&c, true, 3, 2));
	assert_false(checks_count(&c, true, 3, 2));
	assert_int_equal(c.state, CHECK_UNKNOWN);
	assert_true(checks_count(&c, true, 3, 2));
	assert_int_equal(c.state, CHECK_UP);
	assert_false(checks_count(&c, true, 3, 2)); /* stays up, no change */
}

static void
test_rise_fall_needs_fall_consecutive_downs(void **state)
{
	struct check_counter c = {CHECK_UNKNOWN, 0, 0};

	(void)state;
	checks_count(&c, true, 1, 3);
	assert_int_equal(c.state, CHECK_UP);
	assert_false(checks_count(&c, false, 1, 3));
	assert_false(checks_count(&c, false, 1, 3));
	assert_false(checks_count(&c, true, 1, 3)); /* an up breaks the run of downs */
	assert_false(checks_count(&c, false, 1, 3));
	assert_false(checks_count(&c, false, 1, 3));
	assert_int_equal(c.state, CHECK_UP);
	assert_true(checks_count(&c, false, 1, 3));
	assert_int_equal(c.state, CHECK_DOWN);
}

static void
test_rise_fall_unknown_goes_down_after_fall(void **state)
{
	struct check_counter c = {CHECK_UNKNOWN, 0, 0};

	(void)state;
	assert_false(checks_count(&c, false, 2, 2));
	assert_int_equal(c.state, CHECK_UNKNOWN);
	assert_true(checks_count(&c, false, 2, 2));
	assert_int_equal(c.state, CHECK_DOWN);
	assert_false(checks_count(&c, true, 2, 2));
	assert_false(checks_count(&c, false, 2, 2)); /* the up run restarts */
	assert_false(checks_count(&c, true, 2, 2));
	assert_true(checks_count(&c, true, 2, 2));
	assert_int_equal(c.state, CHECK_UP);
}

static void
test_rise_fall_of_one_flips_at_once(void **state)
{
	struct check_counter c = {CHECK_UNKNOWN, 0, 0};

	(void)state;
	assert_true(checks_count(&c, false, 1, 1));
	assert_true(checks_count(&c, true, 1, 1));
	assert_true(checks_count(&c, false, 1, 1));
	assert_string_equal(checks_state_str(c.state), "down");
}

/* A root-owned temporary script directory (0755) with an executable script "ok". */
struct sdir {
	char dir[64];
	char script[128];
};

static int
sdir_setup(void **state)
{
	struct sdir *s = calloc(1, sizeof(*s));
	FILE *f;

	if (geteuid() != 0) {
		free(s);
		return 0; /* the ownership tests skip themselves */
	}
	snprintf(s->dir, sizeof(s->dir), "/tmp/vgchk-XXXXXX");
	assert_non_null(mkdtemp(s->dir));
	assert_int_equal(chmod(s->dir, 0755), 0);
	snprintf(s->script, sizeof(s->script), "%s/ok", s->dir);
	assert_non_null(f = fopen(s->script, "w"));
	fputs("#!/bin/sh\nexit 0\n", f);
	fclose(f);
	assert_int_equal(chmod(s->script, 0755), 0);
	*state = s;
	return 0;
}

static int
sdir_teardown(void **state)
{
	struct sdir *s = *state;
	char cmd[160];

	if (s == NULL)
		return 0;
	snprintf(cmd, sizeof(cmd), "rm -rf %s", s->dir);
	assert_int_equal(system(cmd), 0);
	free(s);
	return 0;
}

/* Vets name in dir; returns the rc and leaves the message or path in msg. */
static int
vet(const char *dir, const char *name, char *msg, size_t len)
{
	return checks_script_vet(dir, name, msg, len);
}

static void
test_script_vet_accepts_root_owned_script(void **state)
{
	struct sdir *s = *state;
	char msg[512];

	if (s == NULL)
		skip();
	assert_int_equal(vet(s->dir, "ok", msg, sizeof(msg)), 0);
	assert_string_equal(msg, s->script);
}

static void
test_script_vet_refuses_names_with_slashes_and_dots(void **state)
{
	char msg[512];
	const char *bad[] = {"../ok", "/bin/true", "a/b", ".", "..", "", "ok;rm", "o k", NULL};

	(void)state;
	for (int i = 0; bad[i] != NULL; i++) {
		assert_int_equal(vet("/tmp", bad[i], msg, sizeof(msg)), -1);
		assert_non_null(strstr(msg, "not a bare file name"));
	}
	assert_int_equal(vet("/tmp", NULL, msg, sizeof(msg)), -1);
}

static void
test_script_vet_refuses_group_or_world_writable_file(void **state)
{
	struct sdir *s = *state;
	char msg[512];

	if (s == NULL)
		skip();
	assert_int_equal(chmod(s->script, 0775), 0);
	assert_int_equal(vet(s->dir, "ok", msg, sizeof(msg)), -1);
	assert_non_null(strstr(msg, "writable by its group"));
	assert_int_equal(chmod(s->script, 0757), 0);
	assert_int_equal(vet(s->dir, "ok", msg, sizeof(msg)), -1);
	assert_non_null(strstr(msg, "writable by others"));
	assert_int_equal(chmod(s->script, 01777), 0); /* sticky means nothing on a file */
	assert_int_equal(vet(s->dir, "ok", msg, sizeof(msg)), -1);
}

static void
test_script_vet_refuses_file_not_owned_by_root(void **state)
{
	struct sdir *s = *state;
	char msg[512];

	if (s == NULL)
		skip();
	assert_int_equal(chown(s->script, 65534, 0), 0);
	assert_int_equal(vet(s->dir, "ok", msg, sizeof(msg)), -1);
	assert_non_null(strstr(msg, "owned by uid 65534, not root"));
}

static void
test_script_vet_refuses_non_executable_and_missing(void **state)
{
	struct sdir *s = *state;
	char msg[512];

	if (s == NULL)
		skip();
	assert_int_equal(chmod(s->script, 0644), 0);
	assert_int_equal(vet(s->dir, "ok", msg, sizeof(msg)), -1);
	assert_non_null(strstr(msg, "not executable"));
	assert_int_equal(vet(s->dir, "missing", msg, sizeof(msg)), -1);
	assert_non_null(strstr(msg, "No such file"));
	assert_int_equal(mkdir(strcat(strcpy(msg, s->dir), "/sub"), 0755), 0);
	assert_int_equal(vet(s->dir, "sub", msg, sizeof(msg)), -1);
	assert_non_null(strstr(msg, "not a regular file"));
}

static void
test_script_vet_refuses_directory_writable_by_others(void **state)
{
	struct sdir *s = *state;
	char msg[512];

	if (s == NULL)
		skip();
	assert_int_equal(chmod(s->dir, 0777), 0);
	assert_int_equal(vet(s->dir, "ok", msg, sizeof(msg)), -1);
	assert_non_null(strstr(msg, "writable by others"));
	assert_int_equal(chmod(s->dir, 0775), 0);
	assert_int_equal(vet(s->dir, "ok", msg, sizeof(msg)), -1);
	assert_non_null(strstr(msg, "writable by its group"));
	/* sticky, like /tmp: others cannot replace root's files in it */
	assert_int_equal(chmod(s->dir, 01777), 0);
	assert_int_equal(vet(s->dir, "ok", msg, sizeof(msg)), 0);
	assert_int_equal(chown(s->dir, 65534, 65534), 0);
	assert_int_equal(vet(s->dir, "ok", msg, sizeof(msg)), -1);
	assert_non_null(strstr(msg, "owned by uid 65534"));
}

static void
test_script_vet_follows_symlinks_and_vets_the_target(void **state)
{
	struct sdir *s = *state;
	char msg[512], link[160], bad[160], target[200];

	if (s == NULL)
		skip();
	snprintf(link, sizeof(link), "%s/true", s->dir);
	assert_int_equal(symlink("/bin/true", link), 0);
	assert_int_equal(vet(s->dir, "true", msg, sizeof(msg)), 0);
	assert_string_equal(msg, "/usr/bin/true"); /* /bin is a symlink to usr/bin on Debian 12 */
	/* a link into a directory others may write */
	snprintf(bad, sizeof(bad), "%s/open", s->dir);
	assert_int_equal(mkdir(bad, 0777), 0);
	assert_int_equal(chmod(bad, 0777), 0);
	snprintf(target, sizeof(target), "%s/x", bad);
	FILE *f = fopen(target, "w");
	assert_non_null(f);
	fclose(f);
	assert_int_equal(chmod(target, 0755), 0);
	snprintf(link, sizeof(link), "%s/sneaky", s->dir);
	assert_int_equal(symlink(target, link), 0);
	assert_int_equal(vet(s->dir, "sneaky", msg, sizeof(msg)), -1);
	assert_non_null(strstr(msg, "/open is writable by others"));
}

static void
test_script_vet_refuses_bad_script_dir(void **state)
{
	char msg[512];

	(void)state;
	assert_int_equal(vet("relative/dir", "ok", msg, sizeof(msg)), -1);
	assert_non_null(strstr(msg, "not an absolute path"));
	assert_int_equal(vet("/nonexistent-vigil-dir", "ok", msg, sizeof(msg)), -1);
	assert_non_null(strstr(msg, "No such file"));
}

static void
test_clean_text_replaces_bad_bytes_and_truncates(void **state)
{
	char out[PROBE_OUTPUT_MAX + 1], big[PROBE_OUTPUT_MAX + 10];

	(void)state;
	probe_clean_text(out, "ok\xff\x01\tx\n\n  ", 10);
	assert_string_equal(out, "ok??\tx");
	probe_clean_text(out, "a\0b", 3);
	assert_string_equal(out, "ab");
	probe_clean_text(out, "caf\xc3\xa9 \xe2\x82", 8); /* a cut sequence at the end */
	assert_string_equal(out, "caf\xc3\xa9 ??");
	probe_clean_text(out, "\xed\xa0\x80", 3); /* a UTF-16 surrogate is not UTF-8 */
	assert_string_equal(out, "???");
	memset(big, 'x', sizeof(big));
	big[PROBE_OUTPUT_MAX - 1] = '\xc3'; /* a two-byte character across the limit */
	big[PROBE_OUTPUT_MAX] = '\xa9';
	probe_clean_text(out, big, sizeof(big));
	assert_int_equal(strlen(out), PROBE_OUTPUT_MAX - 1);
}

/* A loopback port with a listener (open) and one that refuses (closed). */
struct ports {
	int lfd;
	int open_port, closed_port;
};

static int
bound_socket(int *port, bool listening)
{
	struct sockaddr_in sa = {.sin_family = AF_INET};
	socklen_t len = sizeof(sa);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);

	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_true(fd >= 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	if (listening)
		assert_int_equal(listen(fd, 16), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&sa, &len), 0);
	*port = ntohs(sa.sin_port);
	return fd;
}

struct run {
	struct loop *loop;
	struct loop_timer deadline;
	int changes;
};

static void
on_change(void *arg)
{
	((struct run *)arg)->changes++;
}

static void
on_deadline(void *arg)
{
	loop_stop(((struct run *)arg)->loop);
}

/* Runs the loop for ms milliseconds. */
static void
run_for(struct run *r, int ms)
{
	r->deadline.fn = on_deadline;
	r->deadline.arg = r;
	loop_timer_at(r->loop, &r->deadline, loop_now_ms() + ms);
	loop_run(r->loop);
}

/* Accepts and closes, so that the listener's queue never fills. */
static void
on_accept(int fd, uint32_t events, void *arg)
{
	int c;

	(void)events;
	(void)arg;
	while ((c = accept4(fd, NULL, NULL, SOCK_NONBLOCK)) >= 0)
		close(c);
}

static const char *
state_of(json_t *report, const char *name)
{
	return json_string_value(json_object_get(json_object_get(report, name), "state"));
}

static const char *
output_of(json_t *report, const char *name)
{
	return json_string_value(json_object_get(json_object_get(report, name), "output"));
}

static void
test_apply_runs_tcp_checks_and_derives_priority_and_health(void **state)
{
	struct run r = {0};
	int open_port, closed_port;
	int lfd = bound_socket(&open_port, true), cfd = bound_socket(&closed_port, false);
	char text[2048];
	json_t *cfg, *rep, *h;
	struct checks *cs;
	bool fault;

	(void)state;
	snprintf(
	    text, sizeof(text),
	    "{\"node\": \"lb1\", \"backends\": ["
	    "{\"name\": \"web1\", \"address\": \"127.0.0.1\", \"port\": %d},"
	    "{\"name\": \"web2\", \"address\": \"127.0.0.1\", \"port\": %d}],"
	    "\"checks\": ["
	    "{\"name\": \"b1\", \"type\": \"tcp\", \"backend\": \"web1\", \"interval_ms\": 100,"
	    " \"timeout_ms\": 200, \"rise\": 1, \"fall\": 1},"
	    "{\"name\": \"b2\", \"type\": \"tcp\", \"backend\": \"web2\", \"interval_ms\": 100,"
	    " \"timeout_ms\": 200, \"rise\": 1, \"fall\": 1},"
	    "{\"name\": \"b3\", \"type\": \"tcp\", \"backend\": \"gone\", \"interval_ms\": 100},"
	    "{\"name\": \"n1\", \"type\": \"tcp\", \"node\": \"lb1\", \"port\": %d,"
	    " \"interval_ms\": 100, \"rise\": 1, \"fall\": 2, \"weight\": -30},"
	    "{\"name\": \"n2\", \"type\": \"tcp\", \"node\": \"lb1\", \"port\": %d,"
	    " \"interval_ms\": 100, \"rise\": 1, \"fall\": 1, \"weight\": 10},"
	    "{\"name\": \"other\", \"type\": \"tcp\", \"node\": \"lb2\", \"port\": 1}]}",
	    open_port, closed_port, closed_port, open_port);
	assert_non_null(cfg = json_loads(text, 0, NULL));
	assert_non_null(r.loop = loop_new());
	assert_int_equal(loop_fd_add(r.loop, lfd, EPOLLIN, on_accept, NULL), 0);
	assert_non_null(cs = checks_new(r.loop, "/etc/vigil/scripts", "nobody", on_change, &r));
	checks_apply(cs, cfg, "lb1");
	rep = checks_report(cs);
	assert_int_equal(json_object_size(rep), 5); /* "other" belongs to lb2 */
	assert_string_equal(state_of(rep, "b1"), "unknown");
	assert_string_equal(state_of(rep, "b3"), "unknown");
	assert_string_equal(output_of(rep, "b3"), "backend gone is not in this node's config");
	json_decref(rep);
	assert_int_equal(checks_priority_adjust(cs, NULL, &fault), 0);
	assert_false(fault);

	run_for(&r, 1300);
	assert_true(r.changes >= 4);
	rep = checks_report(cs);
	assert_string_equal(state_of(rep, "b1"), "up");
	assert_string_equal(output_of(rep, "b1"), "connected");
	assert_string_equal(state_of(rep, "b2"), "down");
	assert_string_equal(output_of(rep, "b2"), "connect: Connection refused");
	assert_string_equal(state_of(rep, "n1"), "down");
	assert_string_equal(state_of(rep, "n2"), "up");
	assert_non_null(json_string_value(json_object_get(json_object_get(rep, "b1"), "at")));
	json_decref(rep);
	assert_int_equal(checks_priority_adjust(cs, NULL, &fault), -30);
	assert_false(fault);
	/* n1 names the VIPs it moves, one with a weight of its own (keepalived's per-instance
	 * track_script); a VIP it does not name is not moved, and the check keeps its state. */
	json_t *n1 = json_array_get(json_object_get(cfg, "checks"), 3);
	json_object_set_new(
	    n1, "vips", json_pack("[{s:s, s:i}, {s:s}]", "vip", "web", "weight", -50, "vip", "db"));
	checks_apply(cs, cfg, "lb1");
	assert_int_equal(checks_priority_adjust(cs, "web", &fault), -50);
	assert_int_equal(checks_priority_adjust(cs, "db", &fault), -30);
	assert_int_equal(checks_priority_adjust(cs, "api", &fault), 0);
	assert_int_equal(checks_node_failures(cs, "api", NULL, 0), 0);
	assert_int_equal(checks_node_failures(cs, "web", NULL, 0), 1);
	json_object_del(n1, "vips");
	checks_apply(cs, cfg, "lb1");
	assert_int_equal(checks_priority_adjust(cs, "api", &fault), -30);
	h = checks_backend_health(cs);
	assert_string_equal(json_string_value(json_object_get(h, "web1")), "up");
	assert_string_equal(json_string_value(json_object_get(h, "web2")), "down");
	assert_string_equal(json_string_value(json_object_get(h, "gone")), "unknown");
	json_decref(h);

	/* a steady state: reports stay the same, so no change is signalled */
	rep = checks_report(cs);
	r.changes = 0;
	run_for(&r, 400);
	assert_int_equal(r.changes, 0);
	json_t *again = checks_report(cs);
	assert_true(json_equal(rep, again));
	json_decref(again);
	json_decref(rep);

	/* only what changed after a version */
	uint64_t v;
	rep = checks_report_since(cs, 0, &v);
	assert_int_equal(json_object_size(rep), 5);
	json_decref(rep);
	rep = checks_report_since(cs, v, NULL);
	assert_int_equal(json_object_size(rep), 0);
	json_decref(rep);
	char why[200];
	assert_int_equal(checks_node_failures(cs, NULL, why, sizeof(why)), 1);
	assert_string_equal(why, "check n1 down (connect: Connection refused)");

	/* n1 gets weight 0 (kept state: only the weight changed) -> fault; b2's target moves to the
	 * open port: it starts over from unknown */
	json_object_set_new(json_array_get(json_object_get(cfg, "checks"), 3), "weight",
			    json_integer(0));
	json_object_set_new(json_array_get(json_object_get(cfg, "backends"), 1), "port",
			    json_integer(open_port));
	checks_apply(cs, cfg, "lb1");
	assert_int_equal(checks_priority_adjust(cs, NULL, &fault), 0);
	assert_true(fault);
	rep = checks_report(cs);
	assert_string_equal(state_of(rep, "n1"), "down");
	assert_string_equal(state_of(rep, "b2"), "unknown");
	json_decref(rep);
	rep = checks_report_since(cs, v, NULL); /* b2 started over; n1's weight is not reported */
	assert_int_equal(json_object_size(rep), 1);
	assert_string_equal(state_of(rep, "b2"), "unknown");
	json_decref(rep);
	run_for(&r, 600);
	rep = checks_report(cs);
	assert_string_equal(state_of(rep, "b2"), "up");
	json_decref(rep);

	/* removed from the config: gone from the report */
	json_array_clear(json_object_get(cfg, "checks"));
	checks_apply(cs, cfg, "lb1");
	rep = checks_report(cs);
	assert_int_equal(json_object_size(rep), 0);
	json_decref(rep);
	assert_int_equal(checks_priority_adjust(cs, NULL, &fault), 0);
	assert_false(fault);

	checks_free(cs);
	loop_fd_del(r.loop, lfd);
	loop_free(r.loop);
	json_decref(cfg);
	close(lfd);
	close(cfd);
}

static void
test_tcp_timeout_is_down(void **state)
{
	struct run r = {0};
	struct sockaddr_in sa = {.sin_family = AF_INET};
	int port, lfd = bound_socket(&port, false), fill[4];
	char text[512];
	json_t *cfg, *rep;
	struct checks *cs;

	(void)state;
	/* A listener whose accept queue is full drops new SYNs: the connect gets no answer. */
	assert_int_equal(listen(lfd, 0), 0);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	sa.sin_port = htons((uint16_t)port);
	for (int i = 0; i < 4; i++) {
		fill[i] = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
		connect(fill[i], (struct sockaddr *)&sa, sizeof(sa));
	}
	usleep(100000);
	snprintf(text, sizeof(text),
		 "{\"backends\": [{\"name\": \"b\", \"address\": \"127.0.0.1\", \"port\": %d}],"
		 " \"checks\": [{\"name\": \"c\", \"type\": \"tcp\", \"backend\": \"b\","
		 " \"interval_ms\": 1000, \"timeout_ms\": 100}]}",
		 port);
	assert_non_null(cfg = json_loads(text, 0, NULL));
	assert_non_null(r.loop = loop_new());
	assert_non_null(cs = checks_new(r.loop, "/etc/vigil/scripts", "nobody", on_change, &r));
	checks_apply(cs, cfg, "lb1");
	run_for(&r, 1300);
	rep = checks_report(cs);
	assert_string_equal(state_of(rep, "c"), "down");
	assert_string_equal(output_of(rep, "c"), "connect: no answer within 100 ms");
	json_decref(rep);
	checks_free(cs);
	loop_free(r.loop);
	json_decref(cfg);
	for (int i = 0; i < 4; i++)
		close(fill[i]);
	close(lfd);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_rise_fall_starts_unknown_and_needs_rise_ups),
	    cmocka_unit_test(test_rise_fall_needs_fall_consecutive_downs),
	    cmocka_unit_test(test_rise_fall_unknown_goes_down_after_fall),
	    cmocka_unit_test(test_rise_fall_of_one_flips_at_once),
	    cmocka_unit_test_setup_teardown(test_script_vet_accepts_root_owned_script, sdir_setup,
					    sdir_teardown),
	    cmocka_unit_test(test_script_vet_refuses_names_with_slashes_and_dots),
	    cmocka_unit_test_setup_teardown(test_script_vet_refuses_group_or_world_writable_file,
					    sdir_setup, sdir_teardown),
	    cmocka_unit_test_setup_teardown(test_script_vet_refuses_file_not_owned_by_root,
					    sdir_setup, sdir_teardown),
	    cmocka_unit_test_setup_teardown(test_script_vet_refuses_non_executable_and_missing,
					    sdir_setup, sdir_teardown),
	    cmocka_unit_test_setup_teardown(test_script_vet_refuses_directory_writable_by_others,
					    sdir_setup, sdir_teardown),
	    cmocka_unit_test_setup_teardown(test_script_vet_follows_symlinks_and_vets_the_target,
					    sdir_setup, sdir_teardown),
	    cmocka_unit_test(test_script_vet_refuses_bad_script_dir),
	    cmocka_unit_test(test_clean_text_replaces_bad_bytes_and_truncates),
	    cmocka_unit_test(test_apply_runs_tcp_checks_and_derives_priority_and_health),
	    cmocka_unit_test(test_tcp_timeout_is_down),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
