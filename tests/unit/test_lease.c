// links: server/lease.c server/hmap.c
/* Agent leases (server/lease.c) with a fake clock: renewal and last_seen, set_up granting a lease
 * at "now" only to a node without one, expiry strictly after the timeout and only while the
 * stored state is up, the list of expired nodes (bounded by its caller's max), forget and clear.
 * A fake store stands for one that shares liveness (etcd): its leases and its leader decide. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "lease.h"

#define T 5000 /* the timeout, ms */

/* The fake store: not shared unless a test says so; nodes n0..n2, n0 and n2 stored up. */
static struct {
	bool shared;
	int lead;	  /* store_lead's answer */
	int64_t since_ms; /* its *since_ms */
	bool alive[3];
	int renewals;
} fs;

bool
store_live_shared(void)
{
	return fs.shared;
}

int
store_live_renew(const char *node, int64_t ttl_ms)
{
	assert_int_equal(ttl_ms, T);
	fs.alive[node[1] - '0'] = true;
	fs.renewals++;
	return STORE_OK;
}

int
store_live_alive(const char *node)
{
	return fs.alive[node[1] - '0'];
}

int
store_lead(int64_t ttl_ms, int64_t *since_ms)
{
	assert_int_equal(ttl_ms, T); /* above the 3 s floor */
	*since_ms = fs.since_ms;
	return fs.lead;
}

int
store_list(const char *kind, const char *ref_kind, const char *ref_name, const char *after,
	   const char *before, int limit, struct store_obj *out, int *total)
{
	(void)ref_kind, (void)ref_name, (void)before, (void)total;
	assert_string_equal(kind, "node");
	if (*after != '\0')
		return 0;
	assert_true(limit >= 3);
	for (int i = 0; i < 3; i++) {
		memset(&out[i], 0, sizeof(out[i]));
		snprintf(out[i].name, sizeof(out[i].name), "n%d", i);
		out[i].status = json_pack("{s:s}", "agent", i == 1 ? "down" : "up");
	}
	return 3;
}

void
store_obj_clear(struct store_obj *o)
{
	json_decref(o->status);
	o->status = NULL;
}

static int
teardown(void **state)
{
	(void)state;
	lease_clear();
	memset(&fs, 0, sizeof(fs));
	return 0;
}

/* The names lease_list_expired gives at now (up to max), sorted and joined with ',' into buf. */
static const char *
expired(int64_t now_ms, int max, char *buf, size_t len)
{
	char names[16][STORE_NAME_MAX], tmp[STORE_NAME_MAX];
	size_t o = 0;
	int n;

	assert_true(max <= 16);
	n = lease_list_expired(now_ms, T, names, max);
	assert_in_range(n, 0, max);
	for (int i = 1; i < n; i++)
		for (int j = i; j > 0 && strcmp(names[j - 1], names[j]) > 0; j--) {
			memcpy(tmp, names[j], sizeof(tmp));
			memcpy(names[j], names[j - 1], sizeof(tmp));
			memcpy(names[j - 1], tmp, sizeof(tmp));
		}
	buf[0] = '\0';
	for (int i = 0; i < n; i++)
		o += (size_t)snprintf(buf + o, len - o, "%s%s", i ? "," : "", names[i]);
	return buf;
}

static void
test_renew_and_last_seen(void **state)
{
	(void)state;
	assert_int_equal(lease_last_seen("lb1"), 0); /* never reported */
	lease_renew("lb1", 1000);
	assert_int_equal(lease_last_seen("lb1"), 1000);
	lease_renew("lb1", 2500);
	assert_int_equal(lease_last_seen("lb1"), 2500);
	assert_int_equal(lease_last_seen("lb2"), 0);
	/* a lease that is not up never expires, however old */
	assert_false(lease_expired("lb1", 2500 + 100 * T, T));
	assert_false(lease_expired("lb2", 2500 + 100 * T, T));
}

static void
test_expiry_after_timeout_while_up(void **state)
{
	(void)state;
	lease_renew("lb1", 1000);
	lease_set_up("lb1", true, 1200); /* a lease exists: it still runs from 1000 */
	assert_false(lease_expired("lb1", 1000 + T, T)); /* exactly the timeout: not yet */
	assert_true(lease_expired("lb1", 1000 + T + 1, T));
	/* a report renews it */
	lease_renew("lb1", 4000);
	assert_false(lease_expired("lb1", 1000 + T + 1, T));
	assert_false(lease_expired("lb1", 4000 + T, T));
	assert_true(lease_expired("lb1", 4000 + T + 1, T));
	/* down: the sweep no longer watches it */
	lease_set_up("lb1", false, 9500);
	assert_false(lease_expired("lb1", 4000 + T + 1, T));
	assert_false(lease_expired("lb1", 4000 + 100 * T, T));
	assert_int_equal(lease_last_seen("lb1"), 4000);
	/* up again after a report: from the report */
	lease_renew("lb1", 20000);
	lease_set_up("lb1", true, 20001);
	assert_false(lease_expired("lb1", 20000 + T, T));
	assert_true(lease_expired("lb1", 20000 + T + 1, T));
}

/* After a restart the stored "up" of a node whose agent has not reported yet starts a lease at
 * now: the node is marked down only if it stays silent for the whole timeout. */
static void
test_set_up_grants_lease_at_now(void **state)
{
	(void)state;
	lease_set_up("lb1", true, 10000);
	assert_int_equal(lease_last_seen("lb1"), 0); /* granted, not seen */
	assert_false(lease_expired("lb1", 10000 + T, T));
	assert_true(lease_expired("lb1", 10000 + T + 1, T));
	/* granting again does not move it */
	lease_set_up("lb1", true, 12000);
	assert_true(lease_expired("lb1", 10000 + T + 1, T));
	/* a report after the grant renews it */
	lease_renew("lb1", 14000);
	assert_int_equal(lease_last_seen("lb1"), 14000);
	assert_false(lease_expired("lb1", 14000 + T, T));
	/* down on a node without a lease: nothing to watch */
	lease_set_up("lb2", false, 10000);
	assert_false(lease_expired("lb2", 10000 + 100 * T, T));
	assert_int_equal(lease_last_seen("lb2"), 0);
}

static void
test_list_expired(void **state)
{
	char buf[256], name[16];

	(void)state;
	assert_string_equal(expired(0, 16, buf, sizeof(buf)), "");
	lease_renew("a", 1000);
	lease_set_up("a", true, 1000);
	lease_renew("b", 2000);
	lease_set_up("b", true, 2000);
	lease_renew("c", 1000); /* not up: never listed */
	lease_set_up("d", true, 3000);
	assert_string_equal(expired(1000 + T, 16, buf, sizeof(buf)), "");
	assert_string_equal(expired(1000 + T + 1, 16, buf, sizeof(buf)), "a");
	assert_string_equal(expired(2000 + T + 1, 16, buf, sizeof(buf)), "a,b");
	assert_string_equal(expired(3000 + T + 1, 16, buf, sizeof(buf)), "a,b,d");
	lease_renew("b", 8000);
	assert_string_equal(expired(3000 + T + 1, 16, buf, sizeof(buf)), "a,d");
	lease_set_up("a", false, 9000);
	assert_string_equal(expired(3000 + T + 1, 16, buf, sizeof(buf)), "d");
	/* no more than max names */
	for (int i = 0; i < 10; i++) {
		snprintf(name, sizeof(name), "n%d", i);
		lease_set_up(name, true, 0);
	}
	assert_int_equal(strlen(expired(T + 1, 4, buf, sizeof(buf))), 4 * 2 + 3);
	assert_int_equal(lease_list_expired(T + 1, T, NULL, 0), 0);
}

static void
test_forget_and_clear(void **state)
{
	char buf[256];

	(void)state;
	lease_renew("lb1", 1000);
	lease_set_up("lb1", true, 1000);
	lease_renew("lb2", 1000);
	lease_set_up("lb2", true, 1000);
	lease_forget("lb1");
	lease_forget("ghost"); /* absent: nothing happens */
	assert_int_equal(lease_last_seen("lb1"), 0);
	assert_false(lease_expired("lb1", 1000 + T + 1, T));
	assert_string_equal(expired(1000 + T + 1, 16, buf, sizeof(buf)), "lb2");
	/* a forgotten node granted up again starts a new lease at now */
	lease_set_up("lb1", true, 50000);
	assert_false(lease_expired("lb1", 50000 + T, T));
	assert_true(lease_expired("lb1", 50000 + T + 1, T));

	lease_clear();
	assert_int_equal(lease_last_seen("lb2"), 0);
	assert_string_equal(expired(100000, 16, buf, sizeof(buf)), "");
	lease_clear(); /* twice is fine */
	/* usable after a clear */
	lease_renew("lb3", 7);
	assert_int_equal(lease_last_seen("lb3"), 7);
}

/* Shared liveness: the store's leases decide, only the leader sweeps, and a new leader marks
 * nobody down before it has led for a whole timeout. */
static void
test_shared_leases_and_leadership(void **state)
{
	char buf[64];

	(void)state;
	fs.shared = true;
	lease_set_timeout(T);
	assert_true(lease_sweeper(0) == false); /* another process leads */
	assert_string_equal(expired(100 * T, 16, buf, sizeof(buf)), "");
	lease_renew("n0", 1000); /* goes to the store, and is this process's last_seen */
	assert_int_equal(fs.renewals, 1);
	assert_int_equal(lease_last_seen("n0"), 1000);
	fs.lead = 1;
	fs.since_ms = 10000;
	assert_true(lease_sweeper(10000));
	/* within the new leader's grace: nobody down, not even n2 whose lease is gone */
	assert_string_equal(expired(10000 + T - 1, 16, buf, sizeof(buf)), "");
	assert_false(lease_expired("n2", 10000 + T - 1, T));
	/* then: the nodes stored up whose lease is gone (n1 is down already) */
	assert_string_equal(expired(10000 + T, 16, buf, sizeof(buf)), "n2");
	assert_true(lease_expired("n2", 10000 + T, T));
	assert_false(lease_expired("n0", 10000 + T, T));
	assert_string_equal(expired(10000 + T, 0, buf, sizeof(buf)), "");
	/* leadership lost: nothing to sweep */
	fs.lead = 0;
	assert_false(lease_sweeper(10000 + T));
	assert_string_equal(expired(10000 + 2 * T, 16, buf, sizeof(buf)), "");
	lease_set_timeout(10000);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_teardown(test_renew_and_last_seen, teardown),
	    cmocka_unit_test_teardown(test_expiry_after_timeout_while_up, teardown),
	    cmocka_unit_test_teardown(test_set_up_grants_lease_at_now, teardown),
	    cmocka_unit_test_teardown(test_list_expired, teardown),
	    cmocka_unit_test_teardown(test_forget_and_clear, teardown),
	    cmocka_unit_test_teardown(test_shared_leases_and_leadership, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
