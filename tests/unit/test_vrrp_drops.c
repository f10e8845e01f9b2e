// links: agent/vrrp_drops.c agent/vrrp_packet.c common/addr.c
/* Unit tests for the per-reason drop counters and their rate-limited log: the first of a reason
 * logged at once, then at most one summary per VRRP_DROPS_LOG_MS that carries the count it
 * stands for, reasons independent, a burst's end flushed, and a flood bounded in lines. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "vrrp_drops.h"

static void
test_names(void **state)
{
	(void)state;
	assert_string_equal(vrrp_drops_name(VRRP_PKT_BAD_TTL), "bad_ttl");
	assert_string_equal(vrrp_drops_name(VRRP_PKT_INTERVAL_MISMATCH), "interval_mismatch");
	assert_string_equal(vrrp_drops_name(VRRP_DROP_UNKNOWN_VRID), "unknown_vrid");
	assert_string_equal(vrrp_drops_name(VRRP_DROP_ADDR_DIFFERS), "addr_list_differs");
	assert_string_equal(vrrp_drops_name(VRRP_DROP_INTERVAL_DIFFERS), "interval_differs");
	assert_string_equal(vrrp_drops_name(VRRP_DROP_RXQ_OVERFLOW), "rx_queue_overflow");
	assert_string_equal(vrrp_drops_name(VRRP_PKT_OK), "unknown");
	assert_string_equal(vrrp_drops_name(VRRP_DROP_MAX), "unknown");
	for (int r = VRRP_PKT_OK + 1; r < VRRP_DROP_MAX; r++)
		assert_string_not_equal(vrrp_drops_name(r), "unknown");
}

static void
test_first_at_once_then_one_summary_per_window(void **state)
{
	struct vrrp_drops d;
	char line[300];
	int64_t t = 1000;

	(void)state;
	memset(&d, 0, sizeof(d));
	assert_true(vrrp_drops_note(&d, VRRP_PKT_BAD_TTL, 1, "from 198.18.0.50, vrid 50", t, line,
				    sizeof(line)));
	assert_non_null(strstr(line, "bad_ttl"));
	assert_non_null(strstr(line, "from 198.18.0.50"));
	/* 999 more within the window: counted, not logged. */
	for (int i = 0; i < 999; i++)
		assert_false(vrrp_drops_note(&d, VRRP_PKT_BAD_TTL, 1, "from 198.18.0.51", t + i,
					     line, sizeof(line)));
	assert_int_equal(d.count[VRRP_PKT_BAD_TTL], 1000);
	/* Another reason has its own window. */
	assert_true(vrrp_drops_note(&d, VRRP_PKT_BAD_CHECKSUM, 1, NULL, t + 5, line, sizeof(line)));
	assert_false(vrrp_drops_flush(&d, t + VRRP_DROPS_LOG_MS - 1, line, sizeof(line)));
	/* The window over: the next one logs a summary with the suppressed count. */
	assert_true(vrrp_drops_note(&d, VRRP_PKT_BAD_TTL, 1, "from 198.18.0.52",
				    t + VRRP_DROPS_LOG_MS, line, sizeof(line)));
	assert_non_null(strstr(line, "1000 more"));
	assert_non_null(strstr(line, "198.18.0.52"));
	assert_non_null(strstr(line, "1001 since start"));
	assert_int_equal(d.pending[VRRP_PKT_BAD_TTL], 0);
	assert_false(vrrp_drops_note(&d, VRRP_PKT_BAD_TTL, 1, NULL, t + VRRP_DROPS_LOG_MS + 1, line,
				     sizeof(line)));
}

static void
test_flush_logs_the_end_of_a_burst_once(void **state)
{
	struct vrrp_drops d;
	char line[300];

	(void)state;
	memset(&d, 0, sizeof(d));
	assert_true(vrrp_drops_note(&d, VRRP_DROP_UNKNOWN_VRID, 1, NULL, 10, line, sizeof(line)));
	assert_false(vrrp_drops_note(&d, VRRP_DROP_UNKNOWN_VRID, 41, NULL, 20, line, sizeof(line)));
	assert_false(vrrp_drops_flush(&d, 20 + VRRP_DROPS_LOG_MS / 2, line, sizeof(line)));
	assert_true(vrrp_drops_flush(&d, 10 + VRRP_DROPS_LOG_MS, line, sizeof(line)));
	assert_non_null(strstr(line, "41 more"));
	assert_non_null(strstr(line, "unknown_vrid"));
	assert_false(vrrp_drops_flush(&d, 10 + 3 * VRRP_DROPS_LOG_MS, line, sizeof(line)));
	assert_int_equal(d.count[VRRP_DROP_UNKNOWN_VRID], 42);
	/* Nothing for reasons out of range or n = 0. */
	assert_false(vrrp_drops_note(&d, VRRP_PKT_OK, 1, NULL, 10, line, sizeof(line)));
	assert_false(vrrp_drops_note(&d, VRRP_DROP_MAX, 1, NULL, 10, line, sizeof(line)));
	assert_false(vrrp_drops_note(&d, VRRP_PKT_BAD_TYPE, 0, NULL, 10, line, sizeof(line)));
	assert_int_equal(d.count[VRRP_PKT_BAD_TYPE], 0);
}

/* 20,000 packets a second of every reason for 120 s, as a fuzzer would: the log stays at one
 * line per reason per window plus the first, whatever the rate. */
static void
test_flood_is_bounded_in_lines(void **state)
{
	struct vrrp_drops d;
	char line[300];
	unsigned lines = 0, reasons = VRRP_DROP_MAX - 1;
	uint64_t sent = 0;

	(void)state;
	memset(&d, 0, sizeof(d));
	for (int64_t ms = 1; ms <= 120000; ms++) {
		for (int k = 0; k < 20; k++, sent++)
			lines += vrrp_drops_note(&d, 1 + (int)(sent % reasons), 1, "from x", ms,
						 line, sizeof(line));
		if (ms % 1000 == 0)
			while (vrrp_drops_flush(&d, ms, line, sizeof(line)))
				lines++;
	}
	uint64_t total = 0;
	for (int r = 1; r < VRRP_DROP_MAX; r++)
		total += d.count[r];
	assert_int_equal(total, sent);
	assert_true(lines <= reasons * (1 + 120000 / VRRP_DROPS_LOG_MS));
	assert_true(lines >= reasons);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_names),
	    cmocka_unit_test(test_first_at_once_then_one_summary_per_window),
	    cmocka_unit_test(test_flush_logs_the_end_of_a_burst_once),
	    cmocka_unit_test(test_flood_is_bounded_in_lines),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
