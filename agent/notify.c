/* Notify scripts per VIP (notify.h): a queue per VIP (notify_queue.c), at most one run per VIP,
 * started from a zero-delay timer so that callers (the VRRP instances, mid-transition) never see
 * a callback; results kept as the JSON the status report carries. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "clock.h"
#include "notify.h"
#include "text.h"
#include "notify_queue.h"
#include "script.h"

struct notifier {
	char name[64];
	char **argv;	/* the VIP's notify argv, owned; NULL: none */
	char group[64]; /* the VIP's sync group, "" none */
	bool in_config; /* still in the node config */
	struct notify_queue q;
	struct script_run *run; /* running, or NULL */
	struct notify_event running;
	json_t *last; /* the last finished run, as reported; owned */
	struct notify_set *set;
	struct notifier *next;
};

struct notify_set {
	struct loop *loop;
	struct script_runner *runner;
	int timeout_ms;
	void (*changed)(void *arg);
	void *arg;
	struct notifier *list;
	struct loop_timer kick;
};

/* RFC 3339 with milliseconds, UTC, as vigild writes them. */
static json_t *
timestamp(int64_t ms)
{
	char buf[CLOCK_RFC3339_LEN];

	return json_string(clock_rfc3339(ms, buf, sizeof(buf)));
}

static void
free_argv(char **argv)
{
	for (size_t i = 0; argv != NULL && argv[i] != NULL; i++)
		free(argv[i]);
	free(argv);
}

/* A copy of argv[0..n) with a NULL after it (caller frees), or NULL when n is 0 or out of
 * memory. */
static char **
copy_argv(char *const *argv, unsigned n)
{
	char **out;

	if (n == 0 || (out = calloc(n + 1, sizeof(*out))) == NULL)
		return NULL;
	for (unsigned i = 0; i < n; i++)
		if ((out[i] = strdup(argv[i])) == NULL) {
			free_argv(out);
			return NULL;
		}
	return out;
}

static struct notifier *
find(const struct notify_set *s, const char *name)
{
	for (struct notifier *n = s->list; n != NULL; n = n->next)
		if (strcmp(n->name, name) == 0)
			return n;
	return NULL;
}

static void
unlink_free(struct notifier *n)
{
	for (struct notifier **pp = &n->set->list; *pp != NULL; pp = &(*pp)->next)
		if (*pp == n) {
			*pp = n->next;
			break;
		}
	script_cancel(n->run);
	free_argv(n->argv);
	json_decref(n->last);
	free(n);
}

/* A VIP gone from the config goes once its last run is over. */
static void
collect(struct notifier *n)
{
	if (!n->in_config && n->run == NULL && n->q.n == 0)
		unlink_free(n);
}

static void
arm(struct notify_set *s)
{
	loop_timer_at(s->loop, &s->kick, loop_now_ms());
}

/* The report entry of a run of ev that ended with r. */
static void
record(struct notifier *n, const struct notify_event *ev, const struct script_result *r)
{
	char end[SCRIPT_OUTPUT_MAX + 64];
	static const char *const results[] = {"exit", "signal", "timeout", "refused"};

	json_decref(n->last);
	n->last = json_pack(
	    "{s:s, s:i, s:s, s:o, s:o, s:s, s:o, s:o, s:I, s:I}", "state",
	    notify_state_str(ev->state), "priority", ev->priority, "result", results[r->end],
	    "exit_status", r->end == SCRIPT_EXITED ? json_integer(r->code) : json_null(), "signal",
	    r->end == SCRIPT_SIGNALED || r->end == SCRIPT_TIMED_OUT ? json_integer(r->code)
								    : json_null(),
	    "output", r->output, "transition_at", timestamp(ev->at_ms), "at",
	    timestamp(clock_wall_ms()), "duration_ms", (json_int_t)r->duration_ms, "coalesced",
	    (json_int_t)n->q.coalesced);
	if (ev->group[0])
		json_object_set_new(n->last, "group", json_string(ev->group));
	fprintf(stderr, "vigil-agent: %s: notify %s%s%s%s: %s\n", n->name,
		ev->group[0] ? "GROUP " : "", ev->group, ev->group[0] ? " " : "",
		notify_state_str(ev->state), script_end_str(r, end, sizeof(end)));
}

static void
on_done(const struct script_result *r, void *arg)
{
	struct notifier *n = arg;
	struct notify_set *s = n->set;

	n->run = NULL;
	record(n, &n->running, r);
	arm(s); /* the next one, if any */
	collect(n);
	if (s->changed)
		s->changed(s->arg);
}

/* Starts the next pending run of n unless one runs. Returns true when a result was recorded at
 * once (refused). */
static bool
start_next(struct notifier *n)
{
	struct notify_set *s = n->set;
	struct notify_event ev;
	struct script_result now;
	char prio[12], *argv[NOTIFY_ARGV_MAX];

	if (n->run != NULL || !notify_queue_pop(&n->q, &ev))
		return false;
	if (notify_build_argv(n->argv, n->name, &ev, prio, argv) < 0) {
		memset(&now, 0, sizeof(now));
		now.end = SCRIPT_REFUSED;
		snprintf(now.output, sizeof(now.output), "refused: no notify script");
	} else if (script_start(s->runner, argv, s->timeout_ms, on_done, n, &n->run, &now) == 0) {
		n->running = ev;
		return false;
	}
	n->run = NULL;
	record(n, &ev, &now);
	return true;
}

static void
on_kick(void *arg)
{
	struct notify_set *s = arg;
	bool changed = false;

	for (struct notifier *n = s->list, *next; n != NULL; n = next) {
		next = n->next;
		while (start_next(n)) /* refusals are known at once: on to the next */
			changed = true;
		collect(n);
	}
	if (changed && s->changed)
		s->changed(s->arg);
}

struct notify_set *
notify_new(struct loop *l, const char *script_dir, const char *script_user, int timeout_ms,
	   void (*changed)(void *arg), void *arg)
{
	struct notify_set *s = calloc(1, sizeof(*s));

	if (s == NULL)
		return NULL;
	if ((s->runner = script_runner_new(l, script_dir, script_user)) == NULL) {
		free(s);
		return NULL;
	}
	s->loop = l;
	s->timeout_ms = timeout_ms > 0 ? timeout_ms : NOTIFY_TIMEOUT_MS_DEFAULT;
	s->changed = changed;
	s->arg = arg;
	s->kick.fn = on_kick;
	s->kick.arg = s;
	return s;
}

void
notify_free(struct notify_set *s)
{
	if (s == NULL)
		return;
	loop_timer_off(s->loop, &s->kick);
	while (s->list != NULL) {
		s->list->run = NULL; /* the runner kills and reaps it below */
		unlink_free(s->list);
	}
	script_runner_free(s->runner);
	free(s);
}

void
notify_apply(struct notify_set *s, const struct node_config *c)
{
	for (struct notifier *n = s->list; n != NULL; n = n->next)
		n->in_config = false;
	for (size_t i = 0; i < c->nvips; i++) {
		const struct nc_vip *v = &c->vips[i];
		struct notifier *n;
		if (v->name[0] == '\0')
			continue;
		if ((n = find(s, v->name)) == NULL) {
			if ((n = calloc(1, sizeof(*n))) == NULL)
				continue;
			snprintf(n->name, sizeof(n->name), "%s", v->name);
			n->set = s;
			n->next = s->list;
			s->list = n;
		}
		n->in_config = true;
		free_argv(n->argv);
		n->argv = copy_argv(v->notify, v->nnotify);
		snprintf(n->group, sizeof(n->group), "%s", v->group);
	}
	arm(s); /* collects those that left, once idle */
}

void
notify_transition(struct notify_set *s, const char *name, enum vrrp_state to, int priority)
{
	struct notifier *n = find(s, name);
	struct notify_event ev = {notify_state_of(to), priority, clock_wall_ms(), ""};

	if (n == NULL || n->argv == NULL)
		return;
	notify_queue_push(&n->q, &ev);
	arm(s);
}

void
notify_group(struct notify_set *s, const char *group, enum vrrp_state to)
{
	struct notifier *first = NULL;
	struct notify_event ev = {notify_state_of(to), 0, clock_wall_ms(), ""};

	for (struct notifier *n = s->list; n != NULL; n = n->next)
		if (n->in_config && n->argv != NULL && strcmp(n->group, group) == 0 &&
		    (first == NULL || strcmp(n->name, first->name) < 0))
			first = n;
	if (first == NULL || group[0] == '\0')
		return;
	snprintf(ev.group, sizeof(ev.group), "%s", group);
	notify_queue_push(&first->q, &ev);
	arm(s);
}

void
notify_stopping(struct notify_set *s)
{
	for (struct notifier *n = s->list; n != NULL; n = n->next)
		notify_queue_keep_last(&n->q);
}

bool
notify_busy(const struct notify_set *s)
{
	for (const struct notifier *n = s->list; n != NULL; n = n->next)
		if (n->run != NULL || (n->q.n > 0 && n->argv != NULL))
			return true;
	return false;
}

json_t *
notify_report(const struct notify_set *s)
{
	json_t *r = json_object();

	for (const struct notifier *n = s->list; n != NULL; n = n->next)
		if (n->last != NULL && n->in_config)
			json_object_set(r, n->name, n->last);
	return r;
}
