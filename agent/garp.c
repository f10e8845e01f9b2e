/* The schedule of gratuitous ARP / unsolicited NA bursts of a Master (see garp.h). */
#include "garp.h"

void
garp_sched_init(struct garp_sched *s, const struct garp_params *p)
{
	s->p = *p;
	if (s->p.repeat == 0)
		s->p.repeat = 1;
	garp_sched_stop(s);
}

void
garp_sched_set(struct garp_sched *s, const struct garp_params *p, int64_t now_ms)
{
	bool refresh_changed = p->refresh_ms != s->p.refresh_ms;

	s->p = *p;
	if (s->p.repeat == 0)
		s->p.repeat = 1;
	if (!s->running || !refresh_changed)
		return;
	s->refresh_at = s->p.refresh_ms > 0 ? now_ms + s->p.refresh_ms : GARP_NEVER;
}

unsigned
garp_sched_start(struct garp_sched *s, int64_t now_ms)
{
	s->running = true;
	s->delay_at = s->p.delay_ms > 0 ? now_ms + s->p.delay_ms : GARP_NEVER;
	s->refresh_at = s->p.refresh_ms > 0 ? now_ms + s->p.refresh_ms : GARP_NEVER;
	return s->p.repeat;
}

void
garp_sched_stop(struct garp_sched *s)
{
	s->running = false;
	s->delay_at = s->refresh_at = GARP_NEVER;
}

unsigned
garp_sched_due(struct garp_sched *s, int64_t now_ms)
{
	bool due = false;

	if (!s->running)
		return 0;
	if (now_ms >= s->delay_at) {
		s->delay_at = GARP_NEVER;
		due = true;
	}
	if (now_ms >= s->refresh_at) {
		s->refresh_at += s->p.refresh_ms;
		if (s->refresh_at <= now_ms)
			s->refresh_at = now_ms + s->p.refresh_ms;
		due = true;
	}
	return due ? s->p.repeat : 0;
}

int64_t
garp_sched_next(const struct garp_sched *s)
{
	if (!s->running)
		return GARP_NEVER;
	return s->delay_at < s->refresh_at ? s->delay_at : s->refresh_at;
}
