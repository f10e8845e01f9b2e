/* When a Master announces its addresses again (keepalived's garp_master_repeat, _delay and
 * _refresh): a burst on becoming Master, a second one garp_delay later, and one every
 * garp_refresh while it stays Master, for switches and hosts with long ARP caches. Pure: the
 * caller passes the clock, sends the bursts (arp.c) and arms a timer at garp_sched_next(). */
#ifndef VIGIL_GARP_H
#define VIGIL_GARP_H

#include <stdbool.h>
#include <stdint.h>

#define GARP_NEVER INT64_MAX /* no burst pending */

struct garp_params {
	unsigned repeat;     /* announcements per address in each burst, >= 1 */
	uint32_t delay_ms;   /* the second burst, this long after becoming Master; 0 = none */
	uint32_t refresh_ms; /* a burst every this long while Master; 0 = off */
};

struct garp_sched {
	struct garp_params p;
	bool running;	    /* between garp_sched_start() and garp_sched_stop() */
	int64_t delay_at;   /* the pending second burst, or GARP_NEVER */
	int64_t refresh_at; /* the next refresh burst, or GARP_NEVER */
};

/* Sets s up stopped with parameters p (repeat 0 is taken as 1). */
void garp_sched_init(struct garp_sched *s, const struct garp_params *p);

/* New parameters (a config update). A pending second burst keeps its time; refresh turned off
 * stops at once, turned on (or changed) while running counts from now_ms. */
void garp_sched_set(struct garp_sched *s, const struct garp_params *p, int64_t now_ms);

/* Became Master at now_ms: returns the size of the burst to send now (repeat) and arms the
 * second burst and the refresh. */
unsigned garp_sched_start(struct garp_sched *s, int64_t now_ms);

/* Left Master: nothing more is due. */
void garp_sched_stop(struct garp_sched *s);

/* Returns the size of the burst due at now_ms (repeat), or 0 when none is due, and moves the
 * schedule on. A second burst and a refresh due together make one burst. A refresh keeps its
 * period from the start (no drift); one late by more than a period counts from now_ms. */
unsigned garp_sched_due(struct garp_sched *s, int64_t now_ms);

/* The time of the next burst, or GARP_NEVER. */
int64_t garp_sched_next(const struct garp_sched *s);

#endif
