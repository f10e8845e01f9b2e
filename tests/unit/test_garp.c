// links: agent/garp.c
/* Unit tests for the GARP schedule of a Master (agent/garp.c): the first burst on becoming
 * Master, the second after garp_delay, the refresh every garp_refresh without drift, coinciding
 * bursts merged, nothing after leaving Master, and the parameters read from a VIP entry. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <jansson.h>

#include "garp.h"
#include "unit_json.h"

/* Runs the schedule from Master at 0 to end_ms in 1 ms steps; records burst times in at[]. */
static int
bursts(struct garp_sched *s, int64_t end_ms, int64_t at[], int max)
{
	int n = 0;

	assert_int_equal(garp_sched_start(s, 0), s->p.repeat);
	at[n++] = 0;
	for (int64_t t = 1; t <= end_ms; t++)
		if (garp_sched_due(s, t) > 0) {
			assert_true(n < max);
			at[n++] = t;
		}
	return n;
}

static void
test_repeat_delay_refresh(void **state)
{
	struct garp_params p = {.repeat = 3, .delay_ms = 1000, .refresh_ms = 2000};
	struct garp_sched s;
	int64_t at[16];

	(void)state;
	garp_sched_init(&s, &p);
	assert_int_equal(garp_sched_next(&s), GARP_NEVER);
	assert_int_equal(bursts(&s, 6500, at, 16), 5);
	assert_int_equal(at[1], 1000);
	assert_int_equal(at[2], 2000);
	assert_int_equal(at[3], 4000);
	assert_int_equal(at[4], 6000);
	assert_int_equal(garp_sched_next(&s), 8000);
}

static void
test_keepalived_defaults_two_bursts(void **state)
{
	struct garp_params p = {.repeat = 5, .delay_ms = 5000, .refresh_ms = 0};
	struct garp_sched s;
	int64_t at[16];

	(void)state;
	garp_sched_init(&s, &p);
	assert_int_equal(bursts(&s, 60000, at, 16), 2);
	assert_int_equal(at[1], 5000);
	assert_int_equal(garp_sched_next(&s), GARP_NEVER);
}

/* A second burst and a refresh due at the same time are one burst. */
static void
test_coinciding_bursts_merge(void **state)
{
	struct garp_params p = {.repeat = 2, .delay_ms = 5000, .refresh_ms = 5000};
	struct garp_sched s;
	int64_t at[16];

	(void)state;
	garp_sched_init(&s, &p);
	assert_int_equal(bursts(&s, 10000, at, 16), 3);
	assert_int_equal(at[1], 5000);
	assert_int_equal(at[2], 10000);
}

/* A late wake-up does not shift the period; one late by more than a period restarts it. */
static void
test_refresh_does_not_drift(void **state)
{
	struct garp_params p = {.repeat = 1, .delay_ms = 0, .refresh_ms = 1000};
	struct garp_sched s;

	(void)state;
	garp_sched_init(&s, &p);
	garp_sched_start(&s, 0);
	assert_int_equal(garp_sched_due(&s, 999), 0);
	assert_int_equal(garp_sched_due(&s, 1030), 1);
	assert_int_equal(garp_sched_next(&s), 2000);
	assert_int_equal(garp_sched_due(&s, 5500), 1);
	assert_int_equal(garp_sched_next(&s), 6500);
}

static void
test_stop_and_set(void **state)
{
	struct garp_params p = {.repeat = 0, .delay_ms = 0, .refresh_ms = 0};
	struct garp_sched s;

	(void)state;
	garp_sched_init(&s, &p);
	assert_int_equal(garp_sched_start(&s, 100), 1); /* repeat 0 is 1 */
	assert_int_equal(garp_sched_next(&s), GARP_NEVER);
	p.refresh_ms = 3000; /* turned on while Master: counts from now */
	garp_sched_set(&s, &p, 500);
	assert_int_equal(garp_sched_next(&s), 3500);
	garp_sched_stop(&s);
	assert_int_equal(garp_sched_next(&s), GARP_NEVER);
	assert_int_equal(garp_sched_due(&s, 100000), 0);
	p.refresh_ms = 0;
	garp_sched_start(&s, 0);
	garp_sched_set(&s, &p, 10); /* turned off: at once */
	assert_int_equal(garp_sched_next(&s), GARP_NEVER);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_repeat_delay_refresh),
	    cmocka_unit_test(test_keepalived_defaults_two_bursts),
	    cmocka_unit_test(test_coinciding_bursts_merge),
	    cmocka_unit_test(test_refresh_does_not_drift),
	    cmocka_unit_test(test_stop_and_set),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
