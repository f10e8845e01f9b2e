/* Notify transitions in order, bounded (notify_queue.h). */
#include <stdio.h>

#include "notify_queue.h"

enum notify_state
notify_state_of(enum vrrp_state s)
{
	switch (s) {
	case VRRP_STATE_MASTER:
		return NOTIFY_MASTER;
	case VRRP_STATE_BACKUP:
		return NOTIFY_BACKUP;
	case VRRP_STATE_FAULT:
		return NOTIFY_FAULT;
	default:
		return NOTIFY_STOP;
	}
}

const char *
notify_state_str(enum notify_state s)
{
	static const char *const names[] = {"MASTER", "BACKUP", "FAULT", "STOP"};

	return (unsigned)s < 4 ? names[s] : "unknown";
}

static struct notify_event *
at(struct notify_queue *q, unsigned i)
{
	return &q->ev[(q->head + i) % NOTIFY_QUEUE_MAX];
}

static void
drop_front(struct notify_queue *q)
{
	q->head = (q->head + 1) % NOTIFY_QUEUE_MAX;
	q->n--;
	q->coalesced++;
}

/* 0 for an instance event, 1 for a group event: each kind repeats on its own. */
static int
kind(const struct notify_event *ev)
{
	return ev->group[0] != '\0';
}

/* Drops front entries that repeat the last taken state of their kind. */
static void
drop_repeats_at_front(struct notify_queue *q)
{
	while (q->n > 0 && q->have_taken[kind(at(q, 0))] &&
	       at(q, 0)->state == q->taken[kind(at(q, 0))])
		drop_front(q);
}

void
notify_queue_push(struct notify_queue *q, const struct notify_event *ev)
{
	int k = kind(ev);

	if (q->have_last[k] && ev->state == q->last[k]) {
		for (unsigned i = q->n; i > 0; i--)
			if (kind(at(q, i - 1)) == k && at(q, i - 1)->state == ev->state) {
				at(q, i - 1)->priority = ev->priority;
				return;
			}
		q->coalesced++;
		return;
	}
	if (q->n == NOTIFY_QUEUE_MAX) {
		drop_front(q);
		drop_repeats_at_front(q);
	}
	*at(q, q->n) = *ev;
	q->n++;
	q->last[k] = ev->state;
	q->have_last[k] = true;
}

bool
notify_queue_pop(struct notify_queue *q, struct notify_event *ev)
{
	if (q->n == 0)
		return false;
	*ev = *at(q, 0);
	q->head = (q->head + 1) % NOTIFY_QUEUE_MAX;
	q->n--;
	q->taken[kind(ev)] = ev->state;
	q->have_taken[kind(ev)] = true;
	return true;
}

void
notify_queue_keep_last(struct notify_queue *q)
{
	struct notify_event keep[2];
	unsigned n = 0;

	/* The newest of each kind, in their order: a VIP's STOP and its group's. */
	for (unsigned i = 0; i < q->n; i++) {
		const struct notify_event *e = at(q, i);
		bool newest = true;
		for (unsigned j = i + 1; j < q->n && newest; j++)
			newest = kind(at(q, j)) != kind(e);
		if (newest)
			keep[n++] = *e;
	}
	q->coalesced += q->n - n;
	q->head = 0;
	q->n = n;
	for (unsigned i = 0; i < n; i++)
		q->ev[i] = keep[i];
	drop_repeats_at_front(q);
	if (q->n == 2 && q->have_taken[kind(at(q, 1))] &&
	    at(q, 1)->state == q->taken[kind(at(q, 1))]) {
		q->n = 1; /* the second repeats what its kind last ran */
		q->coalesced++;
	}
}

int
notify_build_argv(char *const base[], const char *name, const struct notify_event *ev,
		  char *prio_buf, char *out[])
{
	int n = 0;

	if (base == NULL || base[0] == NULL)
		return -1;
	while (base[n] != NULL) {
		if (n >= NOTIFY_ARGV_MAX - 5)
			return -1;
		out[n] = base[n];
		n++;
	}
	if (kind(ev)) {
		out[n++] = (char *)"GROUP";
		out[n++] = (char *)ev->group;
		out[n++] = (char *)notify_state_str(ev->state);
		out[n] = NULL;
		return n;
	}
	snprintf(prio_buf, 12, "%d", ev->priority);
	out[n++] = (char *)"INSTANCE";
	out[n++] = (char *)name;
	out[n++] = (char *)notify_state_str(ev->state);
	out[n++] = prio_buf;
	out[n] = NULL;
	return n;
}
