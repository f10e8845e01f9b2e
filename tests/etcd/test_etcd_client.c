// links: server/etcd.c server/etcd_watch.c server/etcd_lease.c server/etcd_json.c common/errmsg.c
/* The etcd client (server/etcd*.c) against a real three-member cluster that
 * tests/etcd/test_etcd_client.py starts (ETCD_ENDPOINTS: its client URLs in member order,
 * ETCD_PIDS: the members' pids in the same order). argv[1] picks a phase, run by the Python side
 * between changes to the cluster:
 *   ops        every operation on a healthy cluster (txn compare failure, create-only, leases
 *              expiring, watch of a later put, watch from an old revision, compaction)
 *   failover   kill -9 of the member the client and a watch use: writes go on elsewhere, the
 *              watch resumes with no gap and no duplicate
 *   one_down   (the leader was killed) writes succeed again after the election; time printed
 *   no_quorum  (two of three killed) every call is ETCD_UNAVAILABLE within the bound; printed
 *   recovered  (members restarted) writes succeed again
 *   auth       (etcd auth enabled, ETCD_USER / ETCD_PASSWORD) token, renewal, refusals
 *   tls        (a one-member cluster on HTTPS, ETCD_CACERT / ETCD_CERT / ETCD_KEY) certificates
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <pthread.h>
#include <signal.h>
#include <time.h>
#include <unistd.h>

#include "etcd.h"

#define REQUEST_TIMEOUT_MS 1000

static char prefix[64]; /* "/t/<pid>/": the keys of this run */
static char err[512];

static double
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static void
sleep_ms(long ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};

	nanosleep(&ts, NULL);
}

/* A key of this run: prefix + name, in a static rotating buffer. */
static const char *
K(const char *name)
{
	static char bufs[8][128];
	static int i;
	char *b = bufs[i++ % 8];

	snprintf(b, sizeof(bufs[0]), "%s%s", prefix, name);
	return b;
}

/* A client on ETCD_ENDPOINTS, caller frees. */
static struct etcd_client *
client(void)
{
	struct etcd_opts o = {.endpoints = getenv("ETCD_ENDPOINTS"),
			      .request_timeout_ms = REQUEST_TIMEOUT_MS,
			      .connect_timeout_ms = 300};
	struct etcd_client *c = NULL;

	assert_non_null(o.endpoints);
	assert_int_equal(etcd_client_new(&o, &c, err, sizeof(err)), 0);
	return c;
}

static int64_t
put(struct etcd_client *c, const char *key, const char *value)
{
	int64_t rev = 0;
	int rc = etcd_put(c, key, value, strlen(value), 0, &rev, err, sizeof(err));

	if (rc != 0)
		fail_msg("put %s: %d %s", key, rc, err);
	return rev;
}

static void
test_bad_endpoints(void **state)
{
	struct etcd_opts o = {.endpoints = "127.0.0.1:2379"};
	struct etcd_client *c = NULL;

	(void)state;
	assert_int_equal(etcd_client_new(&o, &c, err, sizeof(err)), ETCD_ERROR);
	assert_null(c);
	o.endpoints = ",";
	assert_int_equal(etcd_client_new(&o, &c, err, sizeof(err)), ETCD_ERROR);
}

static void
test_put_get_range(void **state)
{
	struct etcd_client *c = client();
	struct etcd_range_opts o = {.prefix = true, .limit = 2};
	struct etcd_kvs r;
	struct etcd_kv kv;
	int64_t rev1, rev2, rev;

	(void)state;
	rev1 = put(c, K("kv/a"), "one");
	rev2 = put(c, K("kv/a"), "two");
	put(c, K("kv/b"), "b");
	put(c, K("kv/c"), "c");
	assert_true(rev2 > rev1);
	assert_int_equal(etcd_get(c, K("kv/a"), &kv, &rev, err, sizeof(err)), 0);
	assert_string_equal(kv.value, "two");
	assert_int_equal(kv.value_len, 3);
	assert_int_equal(kv.create_rev, rev1);
	assert_int_equal(kv.mod_rev, rev2);
	assert_int_equal(kv.version, 2);
	assert_int_equal(kv.lease, 0);
	assert_true(rev >= rev2 + 2);
	etcd_kv_clear(&kv);
	assert_int_equal(etcd_get(c, K("kv/none"), &kv, NULL, err, sizeof(err)), ETCD_NOTFOUND);

	assert_int_equal(etcd_range(c, K("kv/"), &o, &r, err, sizeof(err)), 0);
	assert_int_equal(r.n, 2);
	assert_int_equal(r.count, 3);
	assert_true(r.more);
	assert_string_equal(r.kvs[0].key, K("kv/a"));
	assert_string_equal(r.kvs[1].key, K("kv/b"));
	etcd_kvs_clear(&r);

	o = (struct etcd_range_opts){.prefix = true, .limit = 2, .descending = true};
	assert_int_equal(etcd_range(c, K("kv/"), &o, &r, err, sizeof(err)), 0);
	assert_int_equal(r.n, 2);
	assert_string_equal(r.kvs[0].key, K("kv/c"));
	assert_string_equal(r.kvs[1].key, K("kv/b"));
	etcd_kvs_clear(&r);

	o = (struct etcd_range_opts){.prefix = true, .count_only = true};
	assert_int_equal(etcd_range(c, K("kv/"), &o, &r, err, sizeof(err)), 0);
	assert_int_equal(r.n, 0);
	assert_int_equal(r.count, 3);
	etcd_kvs_clear(&r);

	o = (struct etcd_range_opts){.prefix = true, .keys_only = true, .serializable = true};
	assert_int_equal(etcd_range(c, K("kv/"), &o, &r, err, sizeof(err)), 0);
	assert_int_equal(r.n, 3);
	assert_string_equal(r.kvs[2].key, K("kv/c"));
	assert_int_equal(r.kvs[2].value_len, 0);
	etcd_kvs_clear(&r);

	o = (struct etcd_range_opts){.revision = rev1}; /* as it was */
	assert_int_equal(etcd_range(c, K("kv/a"), &o, &r, err, sizeof(err)), 0);
	assert_int_equal(r.n, 1);
	assert_string_equal(r.kvs[0].value, "one");
	etcd_kvs_clear(&r);
	etcd_client_free(c);
}

static void
test_delete(void **state)
{
	struct etcd_client *c = client();
	int64_t deleted = -1, rev = 0;

	(void)state;
	put(c, K("del/a"), "");
	put(c, K("del/b"), "");
	put(c, K("del/c"), "");
	assert_int_equal(etcd_delete(c, K("del/a"), false, &deleted, &rev, err, sizeof(err)), 0);
	assert_int_equal(deleted, 1);
	assert_true(rev > 0);
	assert_int_equal(etcd_delete(c, K("del/"), true, &deleted, NULL, err, sizeof(err)), 0);
	assert_int_equal(deleted, 2);
	assert_int_equal(etcd_delete(c, K("del/"), true, &deleted, NULL, err, sizeof(err)), 0);
	assert_int_equal(deleted, 0);
	etcd_client_free(c);
}

/* If-Match: a put guarded by the mod_revision a reader saw; a stale one fails and its failure
 * branch reads the current value in the same txn. */
static void
test_txn_if_match(void **state)
{
	struct etcd_client *c = client();
	struct etcd_txn_result r;
	int64_t seen = put(c, K("txn/obj"), "v1");
	struct etcd_cmp cmp = {.key = K("txn/obj"), .target = ETCD_CMP_MOD, .number = seen};
	struct etcd_op ok[] = {
	    {.type = ETCD_OP_PUT, .key = K("txn/obj"), .value = "v2", .value_len = 2},
	    {.type = ETCD_OP_PUT, .key = K("txn/other"), .value = "x", .value_len = 1}};
	struct etcd_op ko = {.type = ETCD_OP_RANGE, .key = K("txn/obj")};
	struct etcd_txn t = {&cmp, 1, ok, 2, &ko, 1};
	struct etcd_kv a, b;

	(void)state;
	assert_int_equal(etcd_txn(c, &t, &r, err, sizeof(err)), 0);
	assert_true(r.succeeded);
	assert_true(r.rev > seen);
	assert_int_equal(r.n_ops, 2);
	assert_int_equal(r.ops[0].type, ETCD_OP_PUT);
	/* one txn is one revision for both keys */
	assert_int_equal(etcd_get(c, K("txn/obj"), &a, NULL, err, sizeof(err)), 0);
	assert_int_equal(etcd_get(c, K("txn/other"), &b, NULL, err, sizeof(err)), 0);
	assert_int_equal(a.mod_rev, r.rev);
	assert_int_equal(b.mod_rev, r.rev);
	etcd_kv_clear(&a);
	etcd_kv_clear(&b);
	etcd_txn_result_clear(&r);

	/* the same If-Match again: stale now */
	assert_int_equal(etcd_txn(c, &t, &r, err, sizeof(err)), ETCD_COMPARE_FAILED);
	assert_false(r.succeeded);
	assert_int_equal(r.n_ops, 1);
	assert_int_equal(r.ops[0].type, ETCD_OP_RANGE);
	assert_int_equal(r.ops[0].range.n, 1);
	assert_string_equal(r.ops[0].range.kvs[0].value, "v2");
	etcd_txn_result_clear(&r);

	/* a compare on the value */
	cmp = (struct etcd_cmp){
	    .key = K("txn/obj"), .target = ETCD_CMP_VALUE, .value = "v2", .value_len = 2};
	t = (struct etcd_txn){&cmp, 1, &ko, 1, NULL, 0};
	assert_int_equal(etcd_txn(c, &t, &r, err, sizeof(err)), 0);
	etcd_txn_result_clear(&r);
	etcd_client_free(c);
}

/* Create-only: create_revision == 0; and the same compare over a prefix ("nothing refers to it"):
 * true while the prefix is empty, false once a key is under it. */
static void
test_txn_create_only(void **state)
{
	struct etcd_client *c = client();
	struct etcd_txn_result r;
	struct etcd_cmp cmp = {.key = K("new/obj"), .target = ETCD_CMP_CREATE, .number = 0};
	struct etcd_op op = {
	    .type = ETCD_OP_PUT, .key = K("new/obj"), .value = "x", .value_len = 1};
	struct etcd_txn t = {&cmp, 1, &op, 1, NULL, 0};
	struct etcd_cmp none = {.key = K("ref/obj/"), .prefix = true, .target = ETCD_CMP_CREATE};
	struct etcd_op del = {.type = ETCD_OP_DELETE, .key = K("new/obj")};
	struct etcd_txn t2 = {&none, 1, &del, 1, NULL, 0};

	(void)state;
	assert_int_equal(etcd_txn(c, &t, &r, err, sizeof(err)), 0);
	etcd_txn_result_clear(&r);
	assert_int_equal(etcd_txn(c, &t, &r, err, sizeof(err)), ETCD_COMPARE_FAILED);
	assert_int_equal(r.n_ops, 0);
	etcd_txn_result_clear(&r);

	put(c, K("ref/obj/vip/web"), "");
	assert_int_equal(etcd_txn(c, &t2, &r, err, sizeof(err)), ETCD_COMPARE_FAILED);
	etcd_txn_result_clear(&r);
	assert_int_equal(etcd_delete(c, K("ref/obj/"), true, NULL, NULL, err, sizeof(err)), 0);
	assert_int_equal(etcd_txn(c, &t2, &r, err, sizeof(err)), 0);
	assert_int_equal(r.ops[0].deleted, 1);
	etcd_txn_result_clear(&r);
	etcd_client_free(c);
}

static void
test_lease(void **state)
{
	struct etcd_client *c = client();
	int64_t id = 0, ttl = 0, id2 = 0;
	struct etcd_kv kv;
	double t0, gone_ms = -1;

	(void)state;
	assert_int_equal(etcd_lease_grant(c, 10, &id, &ttl, err, sizeof(err)), 0);
	assert_int_equal(ttl, 10);
	assert_true(id > (INT64_C(1) << 53)); /* kept exact: never through a double */
	assert_int_equal(etcd_put(c, K("lease/a"), "up", 2, id, NULL, err, sizeof(err)), 0);
	assert_int_equal(etcd_get(c, K("lease/a"), &kv, NULL, err, sizeof(err)), 0);
	assert_true(kv.lease == id);
	etcd_kv_clear(&kv);
	t0 = now_ms();
	assert_int_equal(etcd_lease_keepalive(c, id, &ttl, err, sizeof(err)), 0);
	print_message("lease keepalive: %.1f ms, TTL %lld\n", now_ms() - t0, (long long)ttl);
	assert_int_equal(ttl, 10);
	assert_int_equal(etcd_lease_revoke(c, id, err, sizeof(err)), 0);
	assert_int_equal(etcd_get(c, K("lease/a"), &kv, NULL, err, sizeof(err)), ETCD_NOTFOUND);
	assert_int_equal(etcd_lease_revoke(c, id, err, sizeof(err)), ETCD_NOTFOUND);
	assert_int_equal(etcd_lease_keepalive(c, id, NULL, err, sizeof(err)), ETCD_NOTFOUND);

	/* a lease left to expire takes its key with it */
	assert_int_equal(etcd_lease_grant(c, 1, &id2, &ttl, err, sizeof(err)), 0);
	assert_int_equal(etcd_put(c, K("lease/b"), "up", 2, id2, NULL, err, sizeof(err)), 0);
	t0 = now_ms();
	while (now_ms() - t0 < 5000) {
		int rc = etcd_get(c, K("lease/b"), &kv, NULL, err, sizeof(err));

		if (rc == ETCD_NOTFOUND) {
			gone_ms = now_ms() - t0;
			break;
		}
		assert_int_equal(rc, 0);
		etcd_kv_clear(&kv);
		sleep_ms(50);
	}
	print_message("lease TTL 1 s granted %lld s: key gone after %.0f ms\n", (long long)ttl,
		      gone_ms);
	assert_true(gone_ms > 0);
	assert_int_equal(etcd_lease_keepalive(c, id2, NULL, err, sizeof(err)), ETCD_NOTFOUND);
	etcd_client_free(c);
}

/* What a watch saw, filled by collect(). */
struct seen {
	struct etcd_event ev[16];
	int n;
	int want; /* stop after this many */
	int64_t last_rev;
};

static int
collect(void *arg, const struct etcd_event *ev, size_t n, int64_t rev)
{
	struct seen *s = arg;
	size_t i;

	for (i = 0; i < n && s->n < 16; i++) {
		struct etcd_event *e = &s->ev[s->n++];

		*e = ev[i];
		e->kv.key = strdup(ev[i].kv.key);
		e->kv.value = strdup(ev[i].kv.value);
	}
	s->last_rev = rev;
	return s->n >= s->want;
}

static void
seen_clear(struct seen *s)
{
	int i;

	for (i = 0; i < s->n; i++)
		etcd_kv_clear(&s->ev[i].kv);
}

/* A watch running in a thread of its own with a client of its own. */
struct watcher {
	pthread_t thread;
	struct etcd_client *c;
	struct etcd_watch w;
	struct seen seen;
	atomic_bool stop;
	int rc;
	bool once;	    /* one call of etcd_watch only */
	int unavailable;    /* times the watch gave up a round, and was called again */
	char endpoint[128]; /* where it ended */
	char err[512];
};

static void *
watch_main(void *arg)
{
	struct watcher *x = arg;

	/* as the store backend will: a round with no endpoint is retried with the same w, from
	 * where it got to (unless one round is all the caller wants) */
	for (;;) {
		x->rc = etcd_watch(x->c, &x->w, collect, &x->seen, x->err, sizeof(x->err));
		if (x->rc != ETCD_UNAVAILABLE || x->once || atomic_load(&x->stop))
			break;
		x->unavailable++;
		sleep_ms(100);
	}
	return NULL;
}

static void
watcher_start(struct watcher *x, const char *key, int64_t from, int want, bool once)
{
	memset(x, 0, sizeof(*x));
	x->once = once;
	x->c = client();
	x->w = (struct etcd_watch){.key = key, .prefix = true, .next_rev = from, .stop = &x->stop};
	x->seen.want = want;
	assert_int_equal(pthread_create(&x->thread, NULL, watch_main, x), 0);
}

/* Waits up to ms for the watch to end by itself, then stops it. Returns its rc. */
static int
watcher_join(struct watcher *x, long ms)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += ms / 1000;
	if (pthread_timedjoin_np(x->thread, NULL, &ts) != 0) {
		atomic_store(&x->stop, true);
		pthread_join(x->thread, NULL);
		x->rc = 1;
	}
	snprintf(x->endpoint, sizeof(x->endpoint), "%s", etcd_client_endpoint(x->c));
	etcd_client_free(x->c);
	return x->rc;
}

static void
test_watch_sees_later_put(void **state)
{
	struct etcd_client *c = client();
	struct watcher x;
	int64_t rev;

	struct etcd_range_opts count = {.count_only = true};
	struct etcd_kvs now;

	(void)state;
	/* from the revision after now, rather than "from now" (0), so that a slow start of the
	 * stream cannot miss the put */
	assert_int_equal(etcd_range(c, K("w1/"), &count, &now, err, sizeof(err)), 0);
	watcher_start(&x, K("w1/"), now.rev + 1, 2, false);
	etcd_kvs_clear(&now);
	sleep_ms(300);
	rev = put(c, K("w1/a"), "hello");
	assert_int_equal(etcd_delete(c, K("w1/a"), false, NULL, NULL, err, sizeof(err)), 0);
	assert_int_equal(watcher_join(&x, 5000), 0);
	assert_int_equal(x.seen.n, 2);
	assert_int_equal(x.seen.ev[0].type, ETCD_EV_PUT);
	assert_string_equal(x.seen.ev[0].kv.key, K("w1/a"));
	assert_string_equal(x.seen.ev[0].kv.value, "hello");
	assert_int_equal(x.seen.ev[0].kv.mod_rev, rev);
	assert_int_equal(x.seen.ev[0].kv.create_rev, rev);
	assert_int_equal(x.seen.ev[0].kv.version, 1);
	assert_int_equal(x.seen.ev[1].type, ETCD_EV_DELETE);
	assert_int_equal(x.seen.ev[1].kv.mod_rev, rev + 1);
	assert_int_equal(x.w.next_rev, rev + 2);
	seen_clear(&x.seen);
	etcd_client_free(c);
}

/* A watch from an old revision replays what happened since, in order (resume after a restart). */
static void
test_watch_from_revision(void **state)
{
	struct etcd_client *c = client();
	struct watcher x;
	int64_t first, second;

	(void)state;
	first = put(c, K("w2/a"), "1");
	second = put(c, K("w2/b"), "2");
	put(c, K("w2/a"), "3");
	watcher_start(&x, K("w2/"), second, 2, false);
	assert_int_equal(watcher_join(&x, 5000), 0);
	assert_int_equal(x.seen.n, 2);
	assert_string_equal(x.seen.ev[0].kv.value, "2");
	assert_string_equal(x.seen.ev[1].kv.value, "3");
	assert_int_equal(x.seen.ev[1].kv.create_rev, first);
	assert_int_equal(x.seen.ev[1].kv.version, 2);
	seen_clear(&x.seen);
	etcd_client_free(c);
}

static void
test_watch_stop_flag(void **state)
{
	struct watcher x;
	double t0;

	(void)state;
	watcher_start(&x, K("w3/"), 0, 1, false);
	sleep_ms(200);
	t0 = now_ms();
	atomic_store(&x.stop, true);
	pthread_join(x.thread, NULL);
	print_message("watch stopped %.0f ms after its flag was set\n", now_ms() - t0);
	assert_int_equal(x.rc, 0);
	assert_true(now_ms() - t0 < 2000);
	etcd_client_free(x.c);
}

static void
test_compaction(void **state)
{
	struct etcd_client *c = client();
	struct etcd_range_opts o = {0};
	struct etcd_kvs r;
	struct watcher x;
	int64_t old = put(c, K("cmp/a"), "old"), now = put(c, K("cmp/a"), "new");

	(void)state;
	assert_int_equal(etcd_compact(c, now, true, err, sizeof(err)), 0);
	o.revision = old;
	assert_int_equal(etcd_range(c, K("cmp/a"), &o, &r, err, sizeof(err)), ETCD_COMPACTED);
	print_message("range at a compacted revision: %s\n", err);
	assert_int_equal(etcd_compact(c, now, false, err, sizeof(err)), ETCD_COMPACTED);
	watcher_start(&x, K("cmp/"), old, 1, false);
	assert_int_equal(watcher_join(&x, 5000), ETCD_COMPACTED);
	assert_int_equal(x.w.compact_rev, now);
	print_message("watch from %lld: %s\n", (long long)old, x.err);
	/* resync: the newest state, then a watch from its revision + 1 */
	assert_int_equal(etcd_range(c, K("cmp/a"), NULL, &r, err, sizeof(err)), 0);
	assert_string_equal(r.kvs[0].value, "new");
	etcd_kvs_clear(&r);
	etcd_client_free(c);
}

/* The pid of member i (ETCD_PIDS, in endpoint order). */
static pid_t
member_pid(int i)
{
	const char *s = getenv("ETCD_PIDS");
	int k;

	assert_non_null(s);
	for (k = 0; k < i && s != NULL; k++) {
		s = strchr(s, ',');
		s = s != NULL ? s + 1 : NULL;
	}
	assert_non_null(s);
	return (pid_t)atoi(s);
}

/* Puts until one succeeds (at most 10 s); returns how long it took, in ms. */
static double
put_until_ok(struct etcd_client *c, const char *key, const char *value, int *failures)
{
	double t0 = now_ms();
	int rc;

	*failures = 0;
	while ((rc = etcd_put(c, key, value, strlen(value), 0, NULL, err, sizeof(err))) != 0) {
		assert_int_equal(rc, ETCD_UNAVAILABLE);
		(*failures)++;
		if (now_ms() - t0 > 10000)
			fail_msg("no write for 10 s: %s", err);
		sleep_ms(50);
	}
	return now_ms() - t0;
}

/* Member 0 (where a fresh client and watch start) killed -9 under them. */
static void
test_failover_member_killed(void **state)
{
	struct etcd_client *c = client();
	struct watcher x;
	int64_t from = put(c, K("fo/a"), "before");
	int failures;
	double ms;

	(void)state;
	watcher_start(&x, K("fo/"), from, 3, false);
	sleep_ms(300);
	assert_int_equal(kill(member_pid(0), SIGKILL), 0);
	sleep_ms(100);
	ms = put_until_ok(c, K("fo/b"), "after", &failures);
	print_message("member 0 killed: first write after %.0f ms (%d unavailable), via %s\n", ms,
		      failures, etcd_client_endpoint(c));
	put(c, K("fo/c"), "later");
	assert_int_equal(watcher_join(&x, 10000), 0);
	print_message("watch resumed via %s after %d unavailable rounds\n", x.endpoint,
		      x.unavailable);
	/* every revision once, in order: the one before the kill, the two after */
	assert_int_equal(x.seen.n, 3);
	assert_string_equal(x.seen.ev[0].kv.value, "before");
	assert_string_equal(x.seen.ev[1].kv.value, "after");
	assert_string_equal(x.seen.ev[2].kv.value, "later");
	assert_true(x.seen.ev[1].kv.mod_rev < x.seen.ev[2].kv.mod_rev);
	seen_clear(&x.seen);
	etcd_client_free(c);
}

static void
test_writes_resume(void **state)
{
	struct etcd_client *c = client();
	struct etcd_kv kv;
	int failures;
	double ms = put_until_ok(c, K("resume/a"), "x", &failures);

	(void)state;
	print_message("first write after %.0f ms (%d unavailable), via %s\n", ms, failures,
		      etcd_client_endpoint(c));
	assert_int_equal(etcd_get(c, K("resume/a"), &kv, NULL, err, sizeof(err)), 0);
	etcd_kv_clear(&kv);
	etcd_client_free(c);
}

/* Asserts rc is ETCD_UNAVAILABLE, reached within the bound of n endpoints x the timeout. */
static void
check_unavailable(const char *what, int rc, double t0)
{
	double ms = now_ms() - t0;

	print_message("no quorum: %-10s -> %d after %4.0f ms: %s\n", what, rc, ms, err);
	assert_int_equal(rc, ETCD_UNAVAILABLE);
	assert_true(ms < 3 * REQUEST_TIMEOUT_MS + 500);
}

static void
test_no_quorum_unavailable(void **state)
{
	struct etcd_client *c = client();
	struct etcd_range_opts ser = {.serializable = true};
	struct etcd_kvs r;
	struct watcher x;
	int64_t id;
	double t0;

	(void)state;
	t0 = now_ms();
	check_unavailable("put", etcd_put(c, K("nq/a"), "x", 1, 0, NULL, err, sizeof(err)), t0);
	t0 = now_ms();
	check_unavailable("range", etcd_range(c, K("nq/a"), NULL, &r, err, sizeof(err)), t0);
	t0 = now_ms();
	check_unavailable("lease", etcd_lease_grant(c, 5, &id, NULL, err, sizeof(err)), t0);
	t0 = now_ms();
	watcher_start(&x, K("nq/"), 0, 1, true);
	pthread_join(x.thread, NULL);
	snprintf(err, sizeof(err), "%s", x.err);
	check_unavailable("watch", x.rc, t0);
	etcd_client_free(x.c);
	/* a serializable read is still answered by the survivor, from its own copy */
	assert_int_equal(etcd_range(c, K("nq/"), &ser, &r, err, sizeof(err)), 0);
	etcd_kvs_clear(&r);
	etcd_client_free(c);
}

/* etcd auth on (ETCD_USER / ETCD_PASSWORD, simple tokens with a TTL of 1 s): the client gets a
 * token, and a new one when it has expired; without credentials it is refused. */
static void
test_auth(void **state)
{
	struct etcd_opts o = {.endpoints = getenv("ETCD_ENDPOINTS"),
			      .user = getenv("ETCD_USER"),
			      .password = getenv("ETCD_PASSWORD")};
	struct etcd_client *c = NULL, *anon = client();
	struct etcd_kv kv;
	int rc;

	(void)state;
	assert_non_null(o.user);
	assert_int_equal(etcd_client_new(&o, &c, err, sizeof(err)), 0);
	put(c, K("auth/a"), "1");
	sleep_ms(2500); /* the token expires */
	put(c, K("auth/a"), "2");
	assert_int_equal(etcd_get(c, K("auth/a"), &kv, NULL, err, sizeof(err)), 0);
	assert_string_equal(kv.value, "2");
	etcd_kv_clear(&kv);
	rc = etcd_get(anon, K("auth/a"), &kv, NULL, err, sizeof(err));
	print_message("without credentials: %d %s\n", rc, err);
	assert_int_equal(rc, ETCD_ERROR);
	o.password = "wrong";
	etcd_client_free(c);
	assert_int_equal(etcd_client_new(&o, &c, err, sizeof(err)), 0);
	rc = etcd_get(c, K("auth/a"), &kv, NULL, err, sizeof(err));
	print_message("wrong password: %d %s\n", rc, err);
	assert_int_equal(rc, ETCD_ERROR);
	etcd_client_free(c);
	etcd_client_free(anon);
}

/* A member serving HTTPS with client certificates (ETCD_CACERT, ETCD_CERT, ETCD_KEY): the client
 * with all three works; without its certificate, or without the CA, it is refused. The member
 * just closes the connection on a missing certificate, which the client cannot tell from an
 * outage (ETCD_UNAVAILABLE); a member it cannot verify is a configuration error (ETCD_ERROR). */
static void
test_tls(void **state)
{
	struct etcd_opts o = {.endpoints = getenv("ETCD_ENDPOINTS"),
			      .cacert = getenv("ETCD_CACERT"),
			      .cert = getenv("ETCD_CERT"),
			      .key = getenv("ETCD_KEY")};
	struct etcd_client *c = NULL;
	struct etcd_kv kv;
	int rc;

	(void)state;
	assert_non_null(o.cacert);
	assert_int_equal(etcd_client_new(&o, &c, err, sizeof(err)), 0);
	put(c, K("tls/a"), "secure");
	assert_int_equal(etcd_get(c, K("tls/a"), &kv, NULL, err, sizeof(err)), 0);
	assert_string_equal(kv.value, "secure");
	etcd_kv_clear(&kv);
	etcd_client_free(c);

	o.cert = o.key = NULL;
	assert_int_equal(etcd_client_new(&o, &c, err, sizeof(err)), 0);
	rc = etcd_get(c, K("tls/a"), &kv, NULL, err, sizeof(err));
	print_message("without a client certificate: %d %s\n", rc, err);
	assert_true(rc < 0);
	etcd_client_free(c);

	o.cacert = NULL;
	o.cert = getenv("ETCD_CERT");
	o.key = getenv("ETCD_KEY");
	assert_int_equal(etcd_client_new(&o, &c, err, sizeof(err)), 0);
	rc = etcd_get(c, K("tls/a"), &kv, NULL, err, sizeof(err));
	print_message("without the CA: %d %s\n", rc, err);
	assert_int_equal(rc, ETCD_ERROR);
	etcd_client_free(c);
}

static int
setup_prefix(void **state)
{
	(void)state;
	snprintf(prefix, sizeof(prefix), "/t/%d/", (int)getpid());
	return 0;
}

int
main(int argc, char **argv)
{
	const struct CMUnitTest ops[] = {
	    cmocka_unit_test(test_bad_endpoints),
	    cmocka_unit_test(test_put_get_range),
	    cmocka_unit_test(test_delete),
	    cmocka_unit_test(test_txn_if_match),
	    cmocka_unit_test(test_txn_create_only),
	    cmocka_unit_test(test_lease),
	    cmocka_unit_test(test_watch_sees_later_put),
	    cmocka_unit_test(test_watch_from_revision),
	    cmocka_unit_test(test_watch_stop_flag),
	    cmocka_unit_test(test_compaction),
	};
	const struct CMUnitTest failover[] = {cmocka_unit_test(test_failover_member_killed)};
	const struct CMUnitTest resume[] = {cmocka_unit_test(test_writes_resume)};
	const struct CMUnitTest no_quorum[] = {cmocka_unit_test(test_no_quorum_unavailable)};
	const struct CMUnitTest auth[] = {cmocka_unit_test(test_auth)};
	const struct CMUnitTest tls[] = {cmocka_unit_test(test_tls)};
	const char *phase = argc > 1 ? argv[1] : "ops";

	if (strcmp(phase, "ops") == 0)
		return cmocka_run_group_tests_name("ops", ops, setup_prefix, NULL);
	if (strcmp(phase, "failover") == 0)
		return cmocka_run_group_tests_name("failover", failover, setup_prefix, NULL);
	if (strcmp(phase, "one_down") == 0 || strcmp(phase, "recovered") == 0)
		return cmocka_run_group_tests_name(phase, resume, setup_prefix, NULL);
	if (strcmp(phase, "no_quorum") == 0)
		return cmocka_run_group_tests_name("no_quorum", no_quorum, setup_prefix, NULL);
	if (strcmp(phase, "auth") == 0)
		return cmocka_run_group_tests_name("auth", auth, setup_prefix, NULL);
	if (strcmp(phase, "tls") == 0)
		return cmocka_run_group_tests_name("tls", tls, setup_prefix, NULL);
	fprintf(stderr, "usage: %s ops|failover|one_down|no_quorum|recovered|auth|tls\n", argv[0]);
	return 2;
}
