/* The script runner (script.h): vets a bare name in --script-dir before every run, runs it as
 * --script-user in a new process group with a clean environment, reads its stdout and stderr
 * through a non-blocking pipe on the loop, sees its exit through a pidfd (or a short poll where
 * pidfd_open is missing), and on timeout kills its group; the result is given once reaped. */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "script.h"
#include "text.h"
#include "realtime.h"

#define RAW_MAX (SCRIPT_OUTPUT_MAX * 4) /* raw bytes kept before cleaning; the rest is drained */
#define REAP_POLL_MS 20			/* without pidfd_open */

struct script_runner {
	struct loop *loop;
	char dir[PATH_MAX];
	bool user_ok;
	uid_t uid;
	gid_t gid;
	char user_err[160];
	struct script_run *procs; /* running or killed and not reaped yet */
};

struct script_run {
	struct script_runner *r;
	pid_t pid;
	int pidfd, outfd;
	int timeout_ms;
	struct loop_timer timeout, reap_poll;
	char raw[RAW_MAX];
	size_t len;
	int64_t started_ms;
	bool timed_out;
	script_done_fn done; /* NULL once the run is cancelled */
	void *arg;
	struct script_run *next;
};

/* Checks one existing path component st (of path p): owned by root and, unless a sticky
 * directory, writable by nobody else. Returns 0 or -1 with the reason in why. */
static int
vet_one(const char *p, const struct stat *st, bool is_file, char *why, size_t len)
{
	if (st->st_uid != 0) {
		snprintf(why, len, "refused: %s is owned by uid %u, not root", p,
			 (unsigned)st->st_uid);
		return -1;
	}
	if (is_file) {
		if (!S_ISREG(st->st_mode)) {
			snprintf(why, len, "refused: %s is not a regular file", p);
			return -1;
		}
		if ((st->st_mode & 0111) == 0) {
			snprintf(why, len, "refused: %s is not executable", p);
			return -1;
		}
	} else if (!S_ISDIR(st->st_mode)) {
		snprintf(why, len, "refused: %s is not a directory", p);
		return -1;
	}
	if ((st->st_mode & (S_IWGRP | S_IWOTH)) && (is_file || !(st->st_mode & S_ISVTX))) {
		snprintf(why, len, "refused: %s is writable by %s", p,
			 st->st_mode & S_IWOTH ? "others" : "its group");
		return -1;
	}
	return 0;
}

/* Vets every component of the canonical absolute path real ("/", "/a", "/a/b", ...); the last
 * one is the script when last_is_file. Returns 0 or -1 with the reason in why. */
static int
vet_chain(const char *real, bool last_is_file, char *why, size_t len)
{
	char p[PATH_MAX];
	size_t n = strlen(real);
	struct stat st;

	if (n == 0 || n >= sizeof(p) || real[0] != '/') {
		snprintf(why, len, "refused: %s is not an absolute path", real);
		return -1;
	}
	if (n == 1 && last_is_file) {
		snprintf(why, len, "refused: / is not a script");
		return -1;
	}
	if (lstat("/", &st) != 0 || vet_one("/", &st, false, why, len) != 0)
		return -1;
	for (size_t i = 1; i <= n && n > 1; i++) {
		if (i < n && real[i] != '/')
			continue;
		memcpy(p, real, i);
		p[i] = '\0';
		if (lstat(p, &st) != 0) {
			snprintf(why, len, "refused: %s: %s", p, strerror(errno));
			return -1;
		}
		if (vet_one(p, &st, last_is_file && i == n, why, len) != 0)
			return -1;
	}
	return 0;
}

int
script_vet(const char *dir, const char *name, char *path, size_t pathlen)
{
	static const char ok[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-";
	char rdir[PATH_MAX], cand[PATH_MAX + 256], rfile[PATH_MAX], why[PATH_MAX + 100];
	size_t n = name ? strlen(name) : 0;

	if (n == 0 || n > 255 || strspn(name, ok) != n || strcmp(name, ".") == 0 ||
	    strcmp(name, "..") == 0) {
		snprintf(path, pathlen, "refused: \"%.64s\" is not a bare file name",
			 name ? name : "");
		return -1;
	}
	if (dir == NULL || dir[0] != '/' || realpath(dir, rdir) == NULL) {
		snprintf(path, pathlen, "refused: script directory %s: %s", dir ? dir : "(none)",
			 dir && dir[0] == '/' ? strerror(errno) : "not an absolute path");
		return -1;
	}
	if (vet_chain(rdir, false, why, sizeof(why)) != 0) {
		snprintf(path, pathlen, "%s", why);
		return -1;
	}
	snprintf(cand, sizeof(cand), "%s/%s", strcmp(rdir, "/") == 0 ? "" : rdir, name);
	if (realpath(cand, rfile) == NULL) {
		snprintf(path, pathlen, "refused: %s: %s", cand, strerror(errno));
		return -1;
	}
	if (vet_chain(rfile, true, why, sizeof(why)) != 0) {
		snprintf(path, pathlen, "%s", why);
		return -1;
	}
	if ((size_t)snprintf(path, pathlen, "%s", rfile) >= pathlen)
		return -1;
	return 0;
}

struct script_runner *
script_runner_new(struct loop *l, const char *dir, const char *user)
{
	struct script_runner *r = calloc(1, sizeof(*r));
	struct passwd *pw;

	if (r == NULL)
		return NULL;
	r->loop = l;
	snprintf(r->dir, sizeof(r->dir), "%s", dir ? dir : "");
	if (user == NULL) {
		snprintf(r->user_err, sizeof(r->user_err),
			 "refused: script checks are disabled (--no-script-checks)");
	} else if ((pw = getpwnam(user)) == NULL) {
		snprintf(r->user_err, sizeof(r->user_err), "refused: script user %s does not exist",
			 user ? user : "(none)");
	} else if (geteuid() != 0 && pw->pw_uid != geteuid()) {
		snprintf(r->user_err, sizeof(r->user_err),
			 "refused: the agent is not root and cannot run scripts as %s", user);
	} else {
		r->uid = pw->pw_uid;
		r->gid = pw->pw_gid;
		r->user_ok = true;
	}
	return r;
}

static void
proc_close_fds(struct script_run *s)
{
	if (s->outfd >= 0) {
		loop_fd_del(s->r->loop, s->outfd);
		close(s->outfd);
		s->outfd = -1;
	}
	if (s->pidfd >= 0) {
		loop_fd_del(s->r->loop, s->pidfd);
		close(s->pidfd);
		s->pidfd = -1;
	}
}

static void
proc_free(struct script_run *s)
{
	for (struct script_run **pp = &s->r->procs; *pp != NULL; pp = &(*pp)->next)
		if (*pp == s) {
			*pp = s->next;
			break;
		}
	loop_timer_off(s->r->loop, &s->timeout);
	loop_timer_off(s->r->loop, &s->reap_poll);
	proc_close_fds(s);
	free(s);
}

/* SIGKILL to the script's process group (and to it, should it have left the group). */
static void
proc_kill(struct script_run *s)
{
	kill(-s->pid, SIGKILL);
	kill(s->pid, SIGKILL);
}

/* Reads what the pipe holds: keeps the first RAW_MAX bytes, drains the rest. Returns true at
 * end of file or error (the pipe is then closed). */
static bool
drain(struct script_run *s)
{
	char sink[4096];

	for (;;) {
		char *to = s->len < RAW_MAX ? s->raw + s->len : sink;
		size_t room = s->len < RAW_MAX ? RAW_MAX - s->len : sizeof(sink);
		ssize_t n = read(s->outfd, to, room);
		if (n > 0) {
			if (to != sink)
				s->len += (size_t)n;
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return false;
		loop_fd_del(s->r->loop, s->outfd);
		close(s->outfd);
		s->outfd = -1;
		return true;
	}
}

/* The script was reaped with wait status st: the result goes to done (unless cancelled). */
static void
exited(struct script_run *s, int st)
{
	struct script_result r = {.timeout_ms = s->timeout_ms};
	script_done_fn done = s->done;
	void *arg = s->arg;

	if (s->outfd >= 0)
		drain(s); /* what it wrote before exiting; a grandchild may keep the pipe open */
	if (s->timed_out) {
		r.end = SCRIPT_TIMED_OUT;
		r.code = SIGKILL;
	} else if (WIFEXITED(st)) {
		r.end = SCRIPT_EXITED;
		r.code = WEXITSTATUS(st);
	} else {
		r.end = SCRIPT_SIGNALED;
		r.code = WTERMSIG(st);
	}
	r.duration_ms = loop_now_ms() - s->started_ms;
	text_clean(r.output, sizeof(r.output), s->raw, s->len);
	proc_free(s);
	if (done != NULL)
		done(&r, arg);
}

/* Reaps the script if it has exited. */
static void
try_reap(struct script_run *s)
{
	int st;
	pid_t got = waitpid(s->pid, &st, WNOHANG);

	if (got == s->pid)
		exited(s, st);
	else if (got < 0 && errno == ECHILD)
		exited(s, 0x7f00); /* reaped elsewhere: report exit 127 */
}

static void
on_pidfd(int fd, uint32_t events, void *arg)
{
	(void)fd;
	(void)events;
	try_reap(arg);
}

static void
on_reap_poll(void *arg)
{
	struct script_run *s = arg;

	loop_timer_at(s->r->loop, &s->reap_poll, loop_now_ms() + REAP_POLL_MS);
	try_reap(s); /* may free s: last */
}

static void
on_output(int fd, uint32_t events, void *arg)
{
	(void)fd;
	(void)events;
	drain(arg);
}

static void
on_timeout(void *arg)
{
	struct script_run *s = arg;

	s->timed_out = true;
	proc_kill(s); /* the result comes once it is reaped */
}

void
script_cancel(struct script_run *s)
{
	if (s == NULL)
		return;
	s->done = NULL;
	proc_kill(s); /* reaped, then freed, by the loop */
}

void
script_runner_free(struct script_runner *r)
{
	if (r == NULL)
		return;
	while (r->procs != NULL) {
		struct script_run *s = r->procs;
		proc_kill(s);
		waitpid(s->pid, NULL, 0); /* SIGKILL: prompt */
		proc_free(s);
	}
	free(r);
}

/* In the child: resets signals, wires stdin to /dev/null and stdout/stderr to the pipe, drops
 * privileges and runs path. Only async-signal-safe calls. Never returns. */
static void
child(const struct script_runner *r, const char *path, char *const argv[], int devnull, int wfd)
{
	static char *const envp[] = {"PATH=/usr/sbin:/usr/bin:/sbin:/bin", NULL};
	struct sigaction dfl = {.sa_handler = SIG_DFL};
	sigset_t none;
	const char *what = "exec";

	setpgid(0, 0);
	for (int sig = 1; sig < NSIG; sig++)
		sigaction(sig, &dfl, NULL);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	if (dup2(devnull, 0) < 0 || dup2(wfd, 1) < 0 || dup2(wfd, 2) < 0)
		_exit(126);
	syscall(SYS_close_range, 3U, ~0U, 0U);
	if (chdir("/") != 0)
		_exit(126);
	rt_child_reset(); /* scripts run as ordinary processes with the default memory lock limit */
	if (geteuid() == 0) {
		if (setgroups(1, &r->gid) != 0)
			what = "setgroups";
		else if (setgid(r->gid) != 0)
			what = "setgid";
		else if (setuid(r->uid) != 0)
			what = "setuid";
		else if (r->uid != 0 && setuid(0) == 0)
			what = "dropping root";
	}
	if (strcmp(what, "exec") == 0)
		execve(path, argv, envp);
	const char *e = strerrorname_np(errno);
	if (write(1, what, strlen(what)) >= 0 && write(1, " failed: ", 9) >= 0 && e != NULL &&
	    write(1, e, strlen(e)) >= 0)
		_exit(127);
	_exit(127);
}

/* A refusal: *now says why. Returns 1 (script_start's "known at once"). */
static int
refuse(struct script_result *now, const char *why, const char *detail)
{
	char msg[PATH_MAX + 400];

	memset(now, 0, sizeof(*now));
	now->end = SCRIPT_REFUSED;
	snprintf(msg, sizeof(msg), "%s%s", why, detail);
	text_clean(now->output, sizeof(now->output), msg, strlen(msg));
	return 1;
}

int
script_start(struct script_runner *r, char *const argv[], int timeout_ms, script_done_fn done,
	     void *arg, struct script_run **out, struct script_result *now)
{
	char path[PATH_MAX + 300];
	char *args[SCRIPT_MAX_ARGS + 1];
	int pipefd[2] = {-1, -1}, devnull = -1;
	struct script_run *s = NULL;
	size_t n;

	if (!r->user_ok)
		return refuse(now, r->user_err, "");
	if (script_vet(r->dir, argv[0], path, sizeof(path)) != 0)
		return refuse(now, path, "");
	for (n = 0; argv[n] != NULL && n < SCRIPT_MAX_ARGS; n++)
		args[n] = argv[n];
	args[0] = path;
	args[n] = NULL;
	if ((s = calloc(1, sizeof(*s))) == NULL || pipe2(pipefd, O_CLOEXEC) != 0 ||
	    (devnull = open("/dev/null", O_RDONLY | O_CLOEXEC)) < 0) {
		refuse(now, "cannot start: ", strerror(errno));
		goto fail;
	}
	s->r = r;
	s->pidfd = -1;
	s->outfd = pipefd[0];
	s->timeout_ms = timeout_ms;
	s->started_ms = loop_now_ms();
	s->done = done;
	s->arg = arg;
	s->timeout.fn = on_timeout;
	s->timeout.arg = s;
	s->reap_poll.fn = on_reap_poll;
	s->reap_poll.arg = s;
	if ((s->pid = fork()) < 0) {
		refuse(now, "fork: ", strerror(errno));
		goto fail;
	}
	if (s->pid == 0)
		child(r, path, args, devnull, pipefd[1]);
	setpgid(s->pid, s->pid); /* also here: no race with a timeout kill */
	close(pipefd[1]);
	close(devnull);
	fcntl(s->outfd, F_SETFL, fcntl(s->outfd, F_GETFL) | O_NONBLOCK);
	s->next = r->procs;
	r->procs = s;
	if (loop_fd_add(r->loop, s->outfd, EPOLLIN, on_output, s) != 0) {
		close(s->outfd); /* the output is lost, the result is not */
		s->outfd = -1;
	}
	s->pidfd = (int)syscall(SYS_pidfd_open, s->pid, 0);
	if (s->pidfd >= 0 && loop_fd_add(r->loop, s->pidfd, EPOLLIN, on_pidfd, s) != 0) {
		close(s->pidfd);
		s->pidfd = -1;
	}
	if (s->pidfd < 0)
		loop_timer_at(r->loop, &s->reap_poll, loop_now_ms() + REAP_POLL_MS);
	loop_timer_at(r->loop, &s->timeout, loop_now_ms() + timeout_ms);
	*out = s;
	return 0;
fail:
	if (pipefd[0] >= 0)
		close(pipefd[0]);
	if (pipefd[1] >= 0)
		close(pipefd[1]);
	if (devnull >= 0)
		close(devnull);
	free(s);
	return 1;
}

const char *
script_end_str(const struct script_result *r, char *buf, size_t len)
{
	switch (r->end) {
	case SCRIPT_EXITED:
		snprintf(buf, len, "exit %d", r->code);
		break;
	case SCRIPT_SIGNALED:
		snprintf(buf, len, "killed by signal %d", r->code);
		break;
	case SCRIPT_TIMED_OUT:
		snprintf(buf, len, "timed out after %d ms, killed", r->timeout_ms);
		break;
	default:
		snprintf(buf, len, "%s", r->output);
		break;
	}
	return buf;
}
