/* Counters by method and status, a latency histogram, and gauges read from the store. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "metrics.h"
#include "store.h"

static const char *const method_names[] = {"GET",   "HEAD",   "POST",	 "PUT",
					   "PATCH", "DELETE", "OPTIONS", "other"};
#define N_METHODS 8
#define N_STATUS 600
static const double buckets[] = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25,
				 0.5,	 1,	2.5,	5,     10,   30,    60,	  300};
#define N_BUCKETS (sizeof(buckets) / sizeof(buckets[0]))

static struct {
	unsigned long requests[N_METHODS][N_STATUS];
	unsigned long bucket[N_BUCKETS + 1];
	unsigned long count;
	double sum_s;
	long parked;
	unsigned long wakeups;
	unsigned long write_retries;
} m;

static int
method_index(enum http_method meth)
{
	for (int i = 0; i < 7; i++)
		if (meth == (enum http_method)(1 << i))
			return i;
	return 7;
}

void
metrics_observe(enum http_method meth, int status, double seconds)
{
	size_t b = 0;

	if (status < 100 || status >= N_STATUS)
		status = 599;
	__atomic_add_fetch(&m.requests[method_index(meth)][status], 1, __ATOMIC_RELAXED);
	while (b < N_BUCKETS && seconds > buckets[b])
		b++;
	__atomic_add_fetch(&m.bucket[b], 1, __ATOMIC_RELAXED);
	__atomic_add_fetch(&m.count, 1, __ATOMIC_RELAXED);
	/* the sum is advisory: a lost update under contention only blurs the mean */
	m.sum_s += seconds;
}

void
metrics_parked(int delta)
{
	__atomic_add_fetch(&m.parked, delta, __ATOMIC_RELAXED);
}

void
metrics_write_retry(void)
{
	__atomic_add_fetch(&m.write_retries, 1, __ATOMIC_RELAXED);
}

void
metrics_wakeup(void)
{
	__atomic_add_fetch(&m.wakeups, 1, __ATOMIC_RELAXED);
}

struct buf {
	char *s;
	size_t len, cap;
};

static void __attribute__((format(printf, 2, 3))) put(struct buf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	for (;;) {
		va_start(ap, fmt);
		n = vsnprintf(b->s + b->len, b->cap - b->len, fmt, ap);
		va_end(ap);
		if (n >= 0 && (size_t)n < b->cap - b->len)
			break;
		b->cap = b->cap * 2 + (size_t)n;
		char *grown = realloc(b->s, b->cap);
		if (grown == NULL)
			return;
		b->s = grown;
	}
	b->len += (size_t)n;
}

char *
metrics_render(void)
{
	static const char *const kinds[] = {"node", "vip", "backend", "check"};
	struct buf b = {malloc(8192), 0, 8192};
	unsigned long cum = 0;

	if (b.s == NULL)
		return NULL;
	b.s[0] = '\0';
	put(&b, "# HELP vigil_http_requests_total HTTP requests answered, by method and status.\n"
		"# TYPE vigil_http_requests_total counter\n");
	for (int i = 0; i < N_METHODS; i++)
		for (int s = 100; s < N_STATUS; s++) {
			unsigned long v = __atomic_load_n(&m.requests[i][s], __ATOMIC_RELAXED);
			if (v)
				put(&b,
				    "vigil_http_requests_total{method=\"%s\",code=\"%d\"} %lu\n",
				    method_names[i], s, v);
		}
	put(&b, "# HELP vigil_http_request_duration_seconds Time from request to response.\n"
		"# TYPE vigil_http_request_duration_seconds histogram\n");
	for (size_t i = 0; i < N_BUCKETS; i++) {
		cum += __atomic_load_n(&m.bucket[i], __ATOMIC_RELAXED);
		put(&b, "vigil_http_request_duration_seconds_bucket{le=\"%g\"} %lu\n", buckets[i],
		    cum);
	}
	cum += __atomic_load_n(&m.bucket[N_BUCKETS], __ATOMIC_RELAXED);
	put(&b, "vigil_http_request_duration_seconds_bucket{le=\"+Inf\"} %lu\n", cum);
	put(&b, "vigil_http_request_duration_seconds_sum %.6f\n", m.sum_s);
	put(&b, "vigil_http_request_duration_seconds_count %lu\n", cum);
	put(&b,
	    "# HELP vigil_resources Stored resources, by kind.\n# TYPE vigil_resources gauge\n");
	for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++)
		put(&b, "vigil_resources{kind=\"%s\"} %d\n", kinds[i], store_count(kinds[i]));
	put(&b, "vigil_resources{kind=\"token\"} %d\n", store_token_count());
	put(&b,
	    "# HELP vigil_revision The store's global revision.\n# TYPE vigil_revision gauge\n"
	    "vigil_revision %lld\n",
	    (long long)store_revision());
	put(&b,
	    "# HELP vigil_longpoll_parked Requests parked in a long-poll.\n"
	    "# TYPE vigil_longpoll_parked gauge\nvigil_longpoll_parked %ld\n",
	    __atomic_load_n(&m.parked, __ATOMIC_RELAXED));
	put(&b,
	    "# HELP vigil_longpoll_wakeups_total Re-evaluations of parked requests: a commit "
	    "touched what their answer depends on.\n"
	    "# TYPE vigil_longpoll_wakeups_total counter\nvigil_longpoll_wakeups_total %lu\n",
	    __atomic_load_n(&m.wakeups, __ATOMIC_RELAXED));
	put(&b,
	    "# HELP vigil_write_retries_total Writes run again because another vigild on the same "
	    "store committed first (etcd; always 0 on SQLite).\n"
	    "# TYPE vigil_write_retries_total counter\nvigil_write_retries_total %lu\n",
	    __atomic_load_n(&m.write_retries, __ATOMIC_RELAXED));
	return b.s;
}
