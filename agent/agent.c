/* The agent's life: start from the cached config (so VRRP runs even when vigild is down), find
 * the node's config and status by following links from the root URL, long-poll the config, report
 * status on every change and as a heartbeat, and on SIGTERM release every VIP. */
#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <unistd.h>

#include "agent.h"
#include "caps.h"
#include "checks.h"
#include "haproxy.h"
#include "client.h"
#include "inst_table.h"
#include "kernel.h"
#include "node_config.h"
#include "notify.h"
#include "realtime.h"
#include "sdnotify.h"
#include "session.h"
#include "state_dir.h"
#include "sysctl.h"
#include "vrrp_io.h"

struct agent {
	const struct agent_options *opt;
	struct loop *loop;
	struct client *client;
	struct session *session;
	struct checks *checks;
	struct haproxy *haproxy;
	struct notify_set *notify;
	struct nl_watch *watch;
	struct inst_io io;	  /* the kernel handles of the instances */
	struct inst_table *table; /* the VRRP instances */
	int sfd;
	json_t *config; /* last applied, owned */
	struct loop_timer heartbeat, give_up;
	struct rt_state rt; /* scheduling and memory locking, set at start-up */
	bool stopping;
};

static void
persist_moves(struct agent *a)
{
	char err[300];

	if (state_save_json(a->opt->state_dir, "moves.json", inst_table_moves_done(a->table), err,
			    sizeof(err)) != 0)
		fprintf(stderr, "vigil-agent: %s\n", err);
}

/* An instance changed state or carried out a move. */
static void
on_changed(void *arg)
{
	struct agent *a = arg;

	persist_moves(a);
	session_report(a->session);
}

/* ip_nonlocal_bind: true sets 1, false sets 0, absent leaves it; each status report reads the value
 * back. */
static void
apply_nonlocal(const struct node_config *c)
{
	char err[160];

	if (c->ip_nonlocal_bind >= 0 &&
	    sysctl_nonlocal_bind_set(AF_INET, c->ip_nonlocal_bind == 1, err, sizeof(err)) != 0)
		fprintf(stderr, "vigil-agent: ip_nonlocal_bind: %s\n", err);
}

/* The node checks that move VIP vip, for its instance (inst_table.h). */
static void
on_checks_for(void *arg, const char *vip, int *adjust, bool *fault, char *reason, size_t len)
{
	struct agent *a = arg;

	*adjust = checks_priority_adjust(a->checks, vip, fault);
	if (*fault && reason != NULL)
		checks_node_failures(a->checks, vip, reason, len);
}

/* Node checks move the priority or fault the VRRP instances; backend health, admin state and
 * weight go to the node's HAProxy. */
static void
apply_checks(struct agent *a)
{
	json_t *health;

	inst_table_checks(a->table);
	health = checks_backend_health(a->checks);
	haproxy_apply(a->haproxy, json_string_value(json_object_get(a->config, "haproxy_socket")),
		      json_object_get(a->config, "backends"), health);
	json_decref(health);
}

static void
on_checks(void *arg)
{
	struct agent *a = arg;

	apply_checks(a);
	session_report(a->session);
}

/* An instance changed state: its notify script runs (queued, in order). */
static void
on_transitioned(void *arg, const char *vip, enum vrrp_state to, int priority)
{
	notify_transition(((struct agent *)arg)->notify, vip, to, priority);
}

/* A sync group changed state: the group's notify run (GROUP <group> <state>, notify.h). */
static void
on_group_transitioned(void *arg, const char *group, enum vrrp_state to)
{
	notify_group(((struct agent *)arg)->notify, group, to);
}

/* A notify script finished: report it; while stopping, stop once the last one has. */
static void
on_notify(void *arg)
{
	struct agent *a = arg;

	session_report(a->session);
	if (a->stopping && !notify_busy(a->notify) && !session_busy(a->session))
		loop_stop(a->loop);
}

/* A config (from vigild or the cache, borrowed): the checks first, so that new instances
 * start with their inputs, then the notify scripts (a VIP that goes keeps its script until its
 * STOP has run), the instances, HAProxy. */
static void
apply_config(struct agent *a, json_t *cfg)
{
	struct node_config nc;
	char err[200];

	if (node_config_parse(cfg, a->opt->node, &nc, err, sizeof(err)) != 0) {
		fprintf(stderr, "vigil-agent: config: %s: ignored\n", err);
		node_config_free(&nc);
		return;
	}
	apply_nonlocal(&nc);
	json_decref(a->config);
	a->config = json_incref(cfg);
	checks_apply(a->checks, cfg, a->opt->node);
	apply_checks(a);
	notify_apply(a->notify, &nc);
	inst_table_apply(a->table, &nc);
	node_config_free(&nc);
	persist_moves(a);
	session_report(a->session);
}

/* The capabilities this process holds now (effective set), as ["cap_net_admin", ...]; a new
 * reference, empty when they cannot be read. */
static json_t *
caps_report(void)
{
	json_t *list = json_array();
	caps_mask eff = 0;

	if (caps_get(&eff, NULL) == 0)
		for (int c = 0; c < 64; c++)
			if (eff & (caps_mask)1 << c) {
				char num[16];
				snprintf(num, sizeof(num), "cap_%d", c);
				json_array_append_new(
				    list, json_string(caps_name(c) ? caps_name(c) : num));
			}
	return list;
}

static json_t *
status_report(struct agent *a)
{
	json_t *vrrp = json_object(), *held = json_array(),
	       *counters = inst_table_counters(a->table);

	inst_table_report(a->table, vrrp, held);
	json_t *r = json_pack("{s:s, s:o, s:o, s:O, s:o}", "agent_version", AGENT_VERSION, "vrrp",
			      vrrp, "vips_held", held, "moves_done",
			      inst_table_moves_done(a->table), "counters", counters);
	if (inst_table_last_transition(a->table))
		json_object_set(r, "last_transition", inst_table_last_transition(a->table));
	/* read back at every report: someone else may change it */
	char err[160];
	bool on;
	if (sysctl_nonlocal_bind_get(AF_INET, &on, err, sizeof(err)) == 0)
		json_object_set_new(r, "ip_nonlocal_bind", json_boolean(on));
	json_object_set_new(r, "checks", checks_report(a->checks));
	json_object_set_new(r, "notify", notify_report(a->notify));
	json_object_set_new(r, "capabilities", caps_report());
	json_object_set_new(r, "realtime", rt_report(&a->rt));
	return r;
}

/* A new config from vigild: cached for the next start, then applied. */
static void
on_config(void *arg, json_t *doc, const char *text)
{
	struct agent *a = arg;
	char err[300];

	if (state_save(a->opt->state_dir, "config.json", text, err, sizeof(err)) != 0)
		fprintf(stderr, "vigil-agent: %s\n", err);
	apply_config(a, doc);
}

static json_t *
on_report(void *arg)
{
	return status_report(arg);
}

/* Stopping, and the last report is answered: stop once the notify scripts are done too. */
static void
on_drained(void *arg)
{
	struct agent *a = arg;

	if (!notify_busy(a->notify))
		loop_stop(a->loop);
}

static void
on_heartbeat(void *arg)
{
	struct agent *a = arg;

	inst_table_drops_flush(a->table);
	session_report(a->session);
	loop_timer_at(a->loop, &a->heartbeat, loop_now_ms() + a->opt->heartbeat_ms);
}

static void
on_give_up(void *arg)
{
	loop_stop(((struct agent *)arg)->loop);
}

/* SIGTERM/SIGINT: release every VIP (priority 0), report once more, let the notify scripts of
 * that release (STOP) run, bounded by twice their timeout (one running, then STOP), report their
 * results, then stop. */
static void
on_signal(int fd, uint32_t events, void *arg)
{
	struct agent *a = arg;
	struct signalfd_siginfo si;

	(void)events;
	if (read(fd, &si, sizeof(si)) != sizeof(si) || a->stopping)
		return;
	fprintf(stderr, "vigil-agent: stopping (signal %u): releasing VIPs\n", si.ssi_signo);
	sdnotify("STOPPING=1", NULL, 0);
	inst_table_shutdown(a->table);
	notify_stopping(a->notify);
	a->stopping = true;
	a->give_up.fn = on_give_up;
	a->give_up.arg = a;
	loop_timer_at(a->loop, &a->give_up,
		      loop_now_ms() + 1000 +
			  (notify_busy(a->notify) ? 2 * (int64_t)a->opt->notify_timeout_ms : 0));
	session_stop(a->session); /* the last report; on_drained once it is answered */
}

static void
on_vrrp4(int fd, uint32_t events, void *arg)
{
	struct agent *a = arg;

	(void)events;
	inst_table_receive(a->table, fd, AF_INET);
}

static void
on_vrrp6(int fd, uint32_t events, void *arg)
{
	struct agent *a = arg;

	(void)events;
	inst_table_receive(a->table, fd, AF_INET6);
}

static void
on_link_event(const struct nl_event *ev, void *arg)
{
	struct agent *a = arg;

	if (ev->kind != NL_EV_LINK)
		return;
	inst_table_link(a->table, ev->name, ev->ifindex, ev->up, ev->gone);
}

static void
on_netlink(int fd, uint32_t events, void *arg)
{
	struct agent *a = arg;
	char err[160];

	(void)fd;
	(void)events;
	if (nl_watch_process(a->watch, err, sizeof(err)) < 0)
		fprintf(stderr, "vigil-agent: netlink: %s\n", err);
}

/* Opens sockets and the netlink handles. Returns 0 or -1 (logged). */
static int
open_kernel(struct agent *a)
{
	char err[200];
	sigset_t sigs;

	sigemptyset(&sigs);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGINT);
	sigprocmask(SIG_BLOCK, &sigs, NULL);
	signal(SIGPIPE, SIG_IGN);
	if ((a->sfd = signalfd(-1, &sigs, SFD_NONBLOCK | SFD_CLOEXEC)) < 0 ||
	    loop_fd_add(a->loop, a->sfd, EPOLLIN, on_signal, a) != 0) {
		fprintf(stderr, "vigil-agent: signalfd: %s\n", strerror(errno));
		return -1;
	}
	if (nl_watch_open(&a->watch, on_link_event, a, err, sizeof(err)) != 0 ||
	    loop_fd_add(a->loop, nl_watch_fd(a->watch), EPOLLIN, on_netlink, a) != 0) {
		fprintf(stderr, "vigil-agent: netlink: %s\n", err);
		return -1;
	}
	if (kernel_open(&a->io, err, sizeof(err)) != 0) {
		fprintf(stderr, "vigil-agent: %s\n", err);
		return -1;
	}
	loop_fd_add(a->loop, a->io.sock4, EPOLLIN, on_vrrp4, a);
	if (a->io.sock6 >= 0)
		loop_fd_add(a->loop, a->io.sock6, EPOLLIN, on_vrrp6, a);
	return 0;
}

static void
close_kernel(struct agent *a)
{
	if (a->watch)
		nl_watch_close(a->watch);
	kernel_close(&a->io);
	if (a->sfd >= 0)
		close(a->sfd);
}

/* Start-up is over (sockets open, token read, script user resolved): keeps only what caps.h says
 * the running agent needs, and says what it holds. Script checks need their three capabilities
 * only when they can run (enabled, and the user exists); no_new_privs only without them, since
 * it would stop a script's set-user-ID or file-capability helpers (ping, sudo) from working.
 * extra: what else must stay (realtime.h: CAP_IPC_LOCK for locked memory under a finite limit).
 * Returns 0, or -1 when the drop failed (logged): an agent that meant to shed privileges and
 * could not does not run. */
static int
drop_privileges(const struct agent_options *opt, caps_mask extra)
{
	bool scripts = opt->script_user != NULL && getpwnam(opt->script_user) != NULL;
	char err[200], held[400];
	caps_mask eff = 0;

	if (caps_drop(caps_needed(scripts) | extra, !scripts, err, sizeof(err)) != 0) {
		fprintf(stderr, "vigil-agent: dropping capabilities: %s\n", err);
		return -1;
	}
	caps_get(&eff, NULL);
	fprintf(stderr, "vigil-agent: capabilities kept: %s%s\n",
		eff ? caps_format(eff, held, sizeof(held)) : "none",
		scripts ? "" : " (no script checks; no_new_privs set)");
	return 0;
}

int
agent_run(const struct agent_options *opt)
{
	struct agent a = {.opt = opt, .sfd = -1};
	char err[200], rtmsg[512];
	json_t *cached, *moves;
	int status = 1;
	const struct session_hooks hooks = {
	    .config = on_config, .report = on_report, .drained = on_drained, .arg = &a};
	const struct inst_table_hooks table_hooks = {.changed = on_changed,
						     .transitioned = on_transitioned,
						     .checks_for = on_checks_for,
						     .group_transitioned = on_group_transitioned,
						     .arg = &a};

	a.io.sock4 = a.io.sock6 = a.io.arp_fd = -1;

	if (state_dir_open(opt->state_dir, err, sizeof(err)) != 0) {
		fprintf(stderr, "vigil-agent: %s\n", err);
		return 1;
	}
	if ((a.loop = a.io.loop = loop_new()) == NULL || open_kernel(&a) != 0)
		goto out;
	moves = state_load(opt->state_dir, "moves.json"); /* the moves done before a restart */
	a.table = inst_table_new(&a.io, opt->node, moves, &table_hooks);
	json_decref(moves);
	if (a.table == NULL)
		goto out;
	if (client_new(&a.client, a.loop, opt->server, opt->token, err, sizeof(err)) != 0) {
		fprintf(stderr, "vigil-agent: %s\n", err);
		status = 2;
		goto out;
	}
	if ((a.session = session_new(a.loop, a.client, opt->node, opt->poll_wait_s, &hooks)) ==
	    NULL)
		goto out;
	if ((a.checks = checks_new(a.loop, opt->script_dir, opt->script_user, on_checks, &a)) ==
		NULL ||
	    (a.haproxy = haproxy_new(a.loop)) == NULL ||
	    (a.notify = notify_new(a.loop, opt->script_dir, opt->script_user,
				   opt->notify_timeout_ms, on_notify, &a)) == NULL) {
		fprintf(stderr, "vigil-agent: cannot set up the health checks\n");
		goto out;
	}
	/* Before the drop: it needs CAP_SYS_NICE, CAP_IPC_LOCK and CAP_SYS_RESOURCE, kept by none.
	 */
	rt_setup(!opt->no_realtime, &a.rt);
	rt_describe(&a.rt, rtmsg, sizeof(rtmsg));
	fprintf(stderr, "vigil-agent: %s\n", rtmsg);
	if (drop_privileges(opt, rt_caps_needed(&a.rt)) != 0)
		goto out;
	if ((cached = state_load(opt->state_dir, "config.json")) != NULL) {
		fprintf(stderr, "vigil-agent: starting from the cached config\n");
		apply_config(&a, cached);
		json_decref(cached);
	}
	a.heartbeat.fn = on_heartbeat;
	a.heartbeat.arg = &a;
	loop_timer_at(a.loop, &a.heartbeat, loop_now_ms() + opt->heartbeat_ms);
	session_start(a.session);
	fprintf(stderr, "vigil-agent: node %s, server %s\n", opt->node, opt->server);
	/* sockets open and the cached config applied: VRRP runs without the server from here */
	if (sdnotify("READY=1", err, sizeof(err)) < 0)
		fprintf(stderr, "vigil-agent: %s\n", err);
	status = loop_run(a.loop) == 0 ? 0 : 1;
	inst_table_shutdown(a.table);
out:
	notify_free(a.notify); /* kills what the shutdown bound cut short */
	session_free(a.session);
	client_free(a.client);
	if (a.checks)
		checks_free(a.checks);
	if (a.haproxy)
		haproxy_free(a.haproxy);
	inst_table_free(a.table);
	close_kernel(&a);
	loop_free(a.loop);
	json_decref(a.config);
	return status;
}
