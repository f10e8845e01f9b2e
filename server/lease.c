/* Agent leases (see lease.h): a map of node name to its lease, under one mutex. The sweep scans
 * the map once a second: a comparison per node, no store access unless a lease expired. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

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
} l = {
    .lock = PTHREAD_MUTEX_INITIALIZER,
};

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

	pthread_mutex_lock(&l.lock);
	if ((e = lease_of(node)) != NULL)
		e->renewed_ms = e->seen_ms = now_ms;
	pthread_mutex_unlock(&l.lock);
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

int
lease_list_expired(int64_t now_ms, int64_t timeout_ms, char (*out)[STORE_NAME_MAX], int max)
{
	struct scan sc = {now_ms, timeout_ms, out, 0, max};

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
