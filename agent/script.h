/* Running operator scripts safely (keepalived's enable_script_security and script_user): a bare
 * name resolved in --script-dir and vetted before every run, run as --script-user in its own
 * process group with a clean environment, its output captured, killed with its group on timeout.
 * Shared by script checks (check_script.c) and notify scripts (notify.c); everything happens on
 * the agent's loop and nothing blocks. */
#ifndef VIGIL_SCRIPT_H
#define VIGIL_SCRIPT_H

#include <stddef.h>
#include <stdint.h>

#include "loop.h"

#define SCRIPT_OUTPUT_MAX 512 /* bytes of cleaned output kept (text.h) */
#define SCRIPT_MAX_ARGS 32    /* argv entries passed on; more are dropped */

struct script_runner;
struct script_run;

enum script_end {
	SCRIPT_EXITED,	  /* code: its exit status */
	SCRIPT_SIGNALED,  /* code: the signal that ended it */
	SCRIPT_TIMED_OUT, /* killed (SIGKILL to its group) after timeout_ms */
	SCRIPT_REFUSED,	  /* never run: output says why (security, user, fork) */
};

struct script_result {
	enum script_end end;
	int code;
	int timeout_ms;
	int64_t duration_ms;		    /* from start to reaping (0 when refused) */
	char output[SCRIPT_OUTPUT_MAX + 1]; /* stdout + stderr, cleaned; or the refusal */
};

/* Called once per started run, from the loop, after the script was reaped (its process group
 * has been killed if it timed out); r is borrowed. The run is gone afterwards. */
typedef void (*script_done_fn)(const struct script_result *r, void *arg);

/* A runner on loop l for scripts in dir, run as user (looked up once, here); NULL user: every
 * run is refused (--no-script-checks). NULL on allocation failure. */
struct script_runner *script_runner_new(struct loop *l, const char *dir, const char *user);

/* Kills every script still running (SIGKILL to its process group), reaps them, frees r. NULL is
 * fine. No done callback is called. */
void script_runner_free(struct script_runner *r);

/* Vets argv[0] (script_vet) and runs argv as the script user with a clean environment. Returns 0
 * with *out set when it runs (done comes later), or 1 when refused (the result in *now; done is
 * not called and nothing runs). */
int script_start(struct script_runner *r, char *const argv[], int timeout_ms, script_done_fn done,
		 void *arg, struct script_run **out, struct script_result *now);

/* Stops caring about a run: done will not be called; the script is killed and reaped by the
 * loop. */
void script_cancel(struct script_run *run);

/*
 * keepalived's enable_script_security for script name in dir: name must be a bare file name
 * ([A-Za-z0-9._-]+, not "." or ".."); the file (after symlinks) must be a regular executable owned
 * by root and writable by nobody else; every directory on the way to it and to dir must be owned by
 * root and not writable by group or others unless sticky (like /tmp). On success returns 0 and
 * writes the path to run into path; otherwise -1 with the reason in path.
 */
int script_vet(const char *dir, const char *name, char *path, size_t pathlen);

/* "exit 3", "killed by signal 9", "timed out after 300 ms, killed", or the refusal, into buf. */
const char *script_end_str(const struct script_result *r, char *buf, size_t len);

#endif
