/* Notify scripts per VIP (notify.h): a queue per VIP (notify_queue.c), at most one run per VIP,
 * started from a zero-delay timer so that callers (the VRRP instances, mid-transition) never see
 * a callback; results kept as the JSON the status report carries. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "notify.h"
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

static int64_t
wall_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* RFC 3339 with milliseconds, UTC, as vigild writes them. */
static json_t *
timestamp(int64_t ms)
{
	time_t t = (time_t)(ms / 1000);
	struct tm tm;
	char buf[80];

	gmtime_r(&t, &tm);
	snprintf(buf, sizeof(buf), "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
		 tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, (int)(ms % 1000));
	return json_string(buf);
}

static void
free_argv(char **argv)
{
	for (size_t i = 0; argv != NULL && argv[i] != NULL; i++)
		free(argv[i]);
	free(argv);
}

/* A NULL-terminated copy of a JSON array of strings (caller frees), or NULL for anything else. */
static char **
copy_argv(json_t *list)
{
	size_t n = json_array_size(list), i;
	char **argv;
	json_t *a;

	if (n == 0 || n > 16 || (argv = calloc(n + 1, sizeof(*argv))) == NULL)
		return NULL;
	json_array_foreach(list, i, a)
	{
		if (!json_is_string(a) || (argv[i] = strdup(json_string_value(a))) == NULL) {
			free_argv(argv);
			return NULL;
		}
	}
	return argv;
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
	    "output", r->output, "transition_at", timestamp(ev->at_ms), "at", timestamp(wall_ms()),
	    "duration_ms", (json_int_t)r->duration_ms, "coalesced", (json_int_t)n->q.coalesced);
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
notify_apply(struct notify_set *s, json_t *config)
{
	json_t *v;
	size_t i;

	for (struct notifier *n = s->list; n != NULL; n = n->next)
		n->in_config = false;
	json_array_foreach(json_object_get(config, "vips"), i, v)
	{
		const char *name = json_string_value(json_object_get(v, "name"));
		struct notifier *n;
		if (name == NULL)
			continue;
		if ((n = find(s, name)) == NULL) {
			if ((n = calloc(1, sizeof(*n))) == NULL)
				continue;
			snprintf(n->name, sizeof(n->name), "%s", name);
			n->set = s;
			n->next = s->list;
			s->list = n;
		}
		n->in_config = true;
		free_argv(n->argv);
		n->argv = copy_argv(json_object_get(v, "notify"));
		snprintf(n->group, sizeof(n->group), "%s",
			 json_is_string(json_object_get(v, "group"))
			     ? json_string_value(json_object_get(v, "group"))
			     : "");
	}
	arm(s); /* collects those that left, once idle */
}

void
notify_transition(struct notify_set *s, const char *name, enum vrrp_state to, int priority)
{
	struct notifier *n = find(s, name);
	struct notify_event ev = {notify_state_of(to), priority, wall_ms(), ""};

	if (n == NULL || n->argv == NULL)
		return;
	notify_queue_push(&n->q, &ev);
	arm(s);
}

void
notify_group(struct notify_set *s, const char *group, enum vrrp_state to)
{
	struct notifier *first = NULL;
	struct notify_event ev = {notify_state_of(to), 0, wall_ms(), ""};

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
