/* Agent leases (see lease.h): a map of node name to its lease, under one mutex. The sweep scans
 * the map once a second: a comparison per node, no store access unless a lease expired. Where the
 * store shares liveness, the map keeps only when this process last heard each agent (last_seen),
 * and expiry and leadership are the store's. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "hmap.h"
#include "lease.h"

struct lease {
	int64_t renewed_ms; /* the lease runs from here */
	int64_t seen_ms;    /* the agent's last report to this process, 0: none yet */
	bool up;	    /* the stored agent state is up: the sweep watches it */
};

static struct {
	pthread_mutex_t lock;
	struct hmap map; /* name -> .p struct lease (owned) */
	int64_t timeout_ms;
	int64_t lead_since_ms; /* shared: when this process's leadership began, 0: not leading */
} l = {
    .lock = PTHREAD_MUTEX_INITIALIZER,
    .timeout_ms = 10000,
};

void
lease_set_timeout(int64_t timeout_ms)
{
	l.timeout_ms = timeout_ms;
}

/* The leader renews its lease once a sweep tick (a second, more when a sweep is long or the host
 * busy): a lease of at least this outlives a late tick instead of handing the lead around. */
#define LEAD_TTL_MIN_MS 3000

bool
lease_sweeper(int64_t now_ms)
{
	int64_t since = 0;
	int rc;

	(void)now_ms;
	if (!store_live_shared())
		return true;
	rc = store_lead(l.timeout_ms > LEAD_TTL_MIN_MS ? l.timeout_ms : LEAD_TTL_MIN_MS, &since);
	pthread_mutex_lock(&l.lock);
	l.lead_since_ms = rc == 1 ? since : 0;
	pthread_mutex_unlock(&l.lock);
	return rc == 1;
}

/* Shared: has this process led for a whole timeout? Until then it marks nobody down, so that
 * agents get the timeout to reach any replica after the store was without a leader. */
static bool
shared_grace_over(int64_t now_ms)
{
	pthread_mutex_lock(&l.lock);
	bool over = l.lead_since_ms != 0 && now_ms - l.lead_since_ms >= l.timeout_ms;
	pthread_mutex_unlock(&l.lock);
	return over;
}

void
lease_test_pause(void)
{
	const char *ms = getenv("VIGIL_TEST_SWEEP_PAUSE_MS");
	long v = ms != NULL ? atol(ms) : 0;

	if (v <= 0)
		return;
	fprintf(stderr, "vigild: test: sweep paused for %ld ms before its commit\n", v);
	nanosleep(&(struct timespec){v / 1000, v % 1000 * 1000000}, NULL);
}

/* The lease of node, created when absent (NULL when out of memory). Called with the lock. */
static struct lease *
lease_of(const char *node)
{
	union hmap_val *v = hmap_put(&l.map, node);

	if (v == NULL)
		return NULL;
	if (v->p == NULL)
		v->p = calloc(1, sizeof(struct lease));
	return v->p;
}

void
lease_renew(const char *node, int64_t now_ms)
{
	struct lease *e;
	int rc;

	pthread_mutex_lock(&l.lock);
	if ((e = lease_of(node)) != NULL)
		e->renewed_ms = e->seen_ms = now_ms;
	pthread_mutex_unlock(&l.lock);
	if (store_live_shared() && (rc = store_live_renew(node, l.timeout_ms)) != STORE_OK)
		fprintf(stderr, "vigild: liveness: cannot renew the lease of %s (%d)\n", node, rc);
}

void
lease_set_up(const char *node, bool up, int64_t now_ms)
{
	struct lease *e;

	pthread_mutex_lock(&l.lock);
	if ((e = lease_of(node)) != NULL) {
		if (up && !e->up && e->renewed_ms == 0)
			e->renewed_ms = now_ms;
		e->up = up;
	}
	pthread_mutex_unlock(&l.lock);
}

int64_t
lease_last_seen(const char *node)
{
	union hmap_val *v;
	int64_t seen = 0;

	pthread_mutex_lock(&l.lock);
	if ((v = hmap_get(&l.map, node)) != NULL && v->p != NULL)
		seen = ((struct lease *)v->p)->seen_ms;
	pthread_mutex_unlock(&l.lock);
	return seen;
}

bool
lease_expired(const char *node, int64_t now_ms, int64_t timeout_ms)
{
	union hmap_val *v;
	bool expired = false;

	if (store_live_shared())
		return shared_grace_over(now_ms) && store_live_alive(node) == 0;
	pthread_mutex_lock(&l.lock);
	if ((v = hmap_get(&l.map, node)) != NULL && v->p != NULL) {
		struct lease *e = v->p;
		expired = e->up && now_ms - e->renewed_ms > timeout_ms;
	}
	pthread_mutex_unlock(&l.lock);
	return expired;
}

struct scan {
	int64_t now_ms, timeout_ms;
	char (*out)[STORE_NAME_MAX];
	int n, max;
};

static void
scan_one(const char *key, union hmap_val *v, void *arg)
{
	struct scan *sc = arg;
	struct lease *e = v->p;

	if (e != NULL && e->up && sc->now_ms - e->renewed_ms > sc->timeout_ms && sc->n < sc->max)
		snprintf(sc->out[sc->n++], STORE_NAME_MAX, "%s", key);
}

/* Shared: the nodes stored up whose lease the store has let expire. */
static int
shared_list_expired(int64_t now_ms, char (*out)[STORE_NAME_MAX], int max)
{
	struct store_obj nodes[64];
	char after[STORE_NAME_MAX] = "";
	int n, found = 0;

	if (!shared_grace_over(now_ms))
		return 0;
	do {
		if ((n = store_list("node", NULL, NULL, after, NULL, 64, nodes, NULL)) < 0)
			return 0;
		for (int i = 0; i < n; i++) {
			const char *agent =
			    json_string_value(json_object_get(nodes[i].status, "agent"));
			if (found < max && agent != NULL && strcmp(agent, "up") == 0 &&
			    store_live_alive(nodes[i].name) == 0)
				snprintf(out[found++], STORE_NAME_MAX, "%s", nodes[i].name);
			snprintf(after, sizeof(after), "%s", nodes[i].name);
			store_obj_clear(&nodes[i]);
		}
	} while (n == 64 && found < max);
	return found;
}

int
lease_list_expired(int64_t now_ms, int64_t timeout_ms, char (*out)[STORE_NAME_MAX], int max)
{
	struct scan sc = {now_ms, timeout_ms, out, 0, max};

	if (store_live_shared())
		return shared_list_expired(now_ms, out, max);
	pthread_mutex_lock(&l.lock);
	hmap_each(&l.map, scan_one, &sc);
	pthread_mutex_unlock(&l.lock);
	return sc.n;
}

static void
free_lease(union hmap_val *v)
{
	free(v->p);
}

void
lease_forget(const char *node)
{
	union hmap_val old;

	pthread_mutex_lock(&l.lock);
	if (hmap_del(&l.map, node, &old) == 0)
		free(old.p);
	pthread_mutex_unlock(&l.lock);
}

void
lease_clear(void)
{
	pthread_mutex_lock(&l.lock);
	hmap_free(&l.map, free_lease);
	pthread_mutex_unlock(&l.lock);
}
