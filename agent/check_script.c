/* Script checks (keepalived's MISC_CHECK with enable_script_security): one probe is one run of
 * the shared script runner (script.h), up when the script exits 0. */
#include <stdlib.h>

#include "check_probe.h"
#include "checks.h"
#include "script.h"

struct script_probe {
	struct probe p;
	struct script_run *run;
	probe_done_fn done;
	void *arg;
};

/* A script result as a check result: the output, with what ended the run before it unless the
 * script exited 0 ("exit 1: broken", "timed out after 300 ms, killed: starting"). */
static void
to_probe(const struct script_result *sr, struct probe_result *pr)
{
	char end[SCRIPT_OUTPUT_MAX + 64];

	if (sr->end == SCRIPT_REFUSED)
		probe_result_set(pr, PROBE_REFUSED, "%s", sr->output);
	else if (sr->end == SCRIPT_EXITED && sr->code == 0)
		probe_result_set(pr, PROBE_UP, "%s", sr->output[0] ? sr->output : "exit 0");
	else
		probe_result_set(pr, PROBE_DOWN, "%s%s%s", script_end_str(sr, end, sizeof(end)),
				 sr->output[0] ? ": " : "", sr->output);
}

static void
on_done(const struct script_result *sr, void *arg)
{
	struct script_probe *s = arg;
	struct probe_result pr;
	probe_done_fn done = s->done;
	void *done_arg = s->arg;

	to_probe(sr, &pr);
	free(s);
	done(&pr, done_arg);
}

static void
cancel(struct probe *p)
{
	struct script_probe *s = (struct script_probe *)p;

	script_cancel(s->run);
	free(s);
}

int
probe_script_start(struct script_runner *r, char *const argv[], int timeout_ms, probe_done_fn done,
		   void *arg, struct probe **out, struct probe_result *now)
{
	struct script_probe *s = calloc(1, sizeof(*s));
	struct script_result sr;

	if (s == NULL) {
		probe_result_set(now, PROBE_REFUSED, "out of memory");
		return 1;
	}
	s->p.cancel = cancel;
	s->done = done;
	s->arg = arg;
	if (script_start(r, argv, timeout_ms, on_done, s, &s->run, &sr) != 0) {
		to_probe(&sr, now);
		free(s);
		return 1;
	}
	*out = &s->p;
	return 0;
}

int
checks_script_vet(const char *dir, const char *name, char *path, size_t pathlen)
{
	return script_vet(dir, name, path, pathlen);
}
