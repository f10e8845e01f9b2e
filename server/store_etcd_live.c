/* Agent liveness and the leadership of background work on etcd (store.h's store_live_*,
 * store_lead and store_tx_fence), shared by every vigild on the prefix. Two keys of store_etcd.h:
 * live/NODE on a lease of --agent-timeout that heartbeats keep alive (a keepalive is no revision),
 * gone once the agent is silent; leader on the leader's own lease, created only where absent, so
 * that its create_revision names one term of one leader. A fenced commit compares it. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "hmap.h"
#include "store.h"
#include "store_etcd.h"
#include "store_etcd_tx.h"

static struct {
	pthread_mutex_t lock;
	struct hmap leases; /* node -> .i its lease as this process last found it */
	int64_t lead_lease; /* this process's election lease, 0: none */
	int64_t term_rev;   /* create_revision of leader while this process holds it, 0: not */
	int64_t since_ms;   /* when this term started */
} lv = {.lock = PTHREAD_MUTEX_INITIALIZER};

static int64_t
ttl_s_of(int64_t ms)
{
	int64_t s = (ms + 999) / 1000;

	return s < 1 ? 1 : s;
}

static int64_t
cached_lease(const char *node)
{
	union hmap_val *v;
	int64_t id = 0;

	pthread_mutex_lock(&lv.lock);
	if ((v = hmap_get(&lv.leases, node)) != NULL)
		id = v->i;
	pthread_mutex_unlock(&lv.lock);
	return id;
}

static void
cache_lease(const char *node, int64_t id)
{
	union hmap_val *v;

	pthread_mutex_lock(&lv.lock);
	if ((v = hmap_put(&lv.leases, node)) != NULL)
		v->i = id;
	pthread_mutex_unlock(&lv.lock);
}

/* One keepalive of lease id: an etcd_rc, ETCD_NOTFOUND once it expired. */
static int
keep(struct etcd_client *c, int64_t id)
{
	char err[256];

	return etcd_lease_keepalive(c, id, NULL, err, sizeof(err));
}

/* Puts key k (value: now) on lease id if its mod_revision is still mod_rev (0: absent). */
static int
put_if_unchanged(struct etcd_client *c, const char *k, int64_t mod_rev, int64_t id, int64_t *rev)
{
	char val[24], err[256];
	struct etcd_txn_result r = {0};
	int rc;

	snprintf(val, sizeof(val), "%lld", (long long)et_now_ms());
	struct etcd_cmp cmp = {
	    .key = k, .target = ETCD_CMP_MOD, .result = ETCD_CMP_EQUAL, .number = mod_rev};
	struct etcd_op put = {
	    .type = ETCD_OP_PUT, .key = k, .value = val, .value_len = strlen(val), .lease = id};
	struct etcd_txn t = {.cmp = &cmp, .n_cmp = 1, .success = &put, .n_success = 1};

	rc = etcd_txn(c, &t, &r, err, sizeof(err));
	if (rev != NULL)
		*rev = r.rev;
	etcd_txn_result_clear(&r);
	return rc;
}

/* Starts node's lease (ttl_s) on key k, read at mod_rev: one revision, only when the agent comes
 * back. Losing a race to another replica keeps its lease. Returns a store_rc. */
static int
live_start(struct etcd_client *c, const char *node, const char *k, int64_t mod_rev, int64_t ttl_s)
{
	char err[256];
	int64_t id;
	int rc;

	if ((rc = etcd_lease_grant(c, ttl_s, &id, NULL, err, sizeof(err))) != 0)
		return et_rc(rc);
	rc = put_if_unchanged(c, k, mod_rev, id, NULL);
	if (rc == 0) {
		cache_lease(node, id);
		return STORE_OK;
	}
	etcd_lease_revoke(c, id, err, sizeof(err));
	return rc == ETCD_COMPARE_FAILED ? STORE_OK : et_rc(rc);
}

/* A heartbeat: a keepalive of the lease this process knows, else of the one live/NODE is on
 * (another replica's), else a new one. Only the last writes. */
int
et_live_renew(const char *node, int64_t ttl_ms)
{
	struct etcd_client *c = et_client();
	int64_t id = cached_lease(node), mod_rev = 0;
	struct etcd_kv kv;
	char k[ET_KEY_MAX], err[256];
	int rc;

	if (c == NULL)
		return STORE_BUSY;
	if (id != 0 && (rc = keep(c, id)) != ETCD_NOTFOUND)
		return et_rc(rc);
	et_key(k, "live/%s", node);
	if ((rc = etcd_get(c, k, &kv, NULL, err, sizeof(err))) == 0) {
		id = kv.lease;
		mod_rev = kv.mod_rev;
		etcd_kv_clear(&kv);
		if (id != 0 && (rc = keep(c, id)) != ETCD_NOTFOUND) {
			if (rc == 0)
				cache_lease(node, id);
			return et_rc(rc);
		}
	} else if (rc != ETCD_NOTFOUND) {
		return et_rc(rc);
	}
	return live_start(c, node, k, mod_rev, ttl_s_of(ttl_ms));
}

int
et_live_alive(const char *node)
{
	struct etcd_client *c = et_client();
	struct etcd_kv kv;
	char k[ET_KEY_MAX], err[256];
	int rc;

	if (c == NULL)
		return STORE_BUSY;
	et_key(k, "live/%s", node);
	if ((rc = etcd_get(c, k, &kv, NULL, err, sizeof(err))) == ETCD_NOTFOUND)
		return 0;
	if (rc != 0)
		return et_rc(rc);
	etcd_kv_clear(&kv);
	return 1;
}

/* Ends this process's term (its lease expired, or a fenced commit found another leader). */
static void
lose_lead(const char *why)
{
	pthread_mutex_lock(&lv.lock);
	if (lv.term_rev != 0)
		fprintf(stderr, "vigild: liveness: no longer the leader (term %lld): %s\n",
			(long long)lv.term_rev, why);
	lv.term_rev = 0;
	pthread_mutex_unlock(&lv.lock);
}

/* Creates leader on lease id where absent: 1 and a new term when it did, 0 when another
 * process holds it, or a store_rc. */
static int
campaign(struct etcd_client *c, int64_t id)
{
	char k[ET_KEY_MAX], host[64] = "", val[128], err[256];
	struct etcd_txn_result r = {0};
	int rc;

	gethostname(host, sizeof(host) - 1);
	snprintf(val, sizeof(val), "%s %ld", host, (long)getpid());
	et_key(k, "leader");
	struct etcd_cmp cmp = {.key = k, .target = ETCD_CMP_CREATE, .result = ETCD_CMP_EQUAL};
	struct etcd_op put = {
	    .type = ETCD_OP_PUT, .key = k, .value = val, .value_len = strlen(val), .lease = id};
	struct etcd_txn t = {.cmp = &cmp, .n_cmp = 1, .success = &put, .n_success = 1};
	rc = etcd_txn(c, &t, &r, err, sizeof(err));
	int64_t rev = r.rev;
	etcd_txn_result_clear(&r);
	if (rc == ETCD_COMPARE_FAILED)
		return 0;
	if (rc != 0)
		return et_rc(rc);
	pthread_mutex_lock(&lv.lock);
	lv.term_rev = rev;
	lv.since_ms = et_now_ms();
	pthread_mutex_unlock(&lv.lock);
	fprintf(stderr, "vigild: liveness: leading the background work (term %lld)\n",
		(long long)rev);
	return 1;
}

int
et_lead(int64_t ttl_ms, int64_t *since_ms)
{
	struct etcd_client *c = et_client();
	char err[256];
	int rc;

	if (c == NULL)
		return STORE_BUSY;
	if (lv.lead_lease != 0 && (rc = keep(c, lv.lead_lease)) != 0) {
		if (rc != ETCD_NOTFOUND)
			return et_rc(rc);
		lose_lead("its lease expired");
		lv.lead_lease = 0;
	}
	if (lv.lead_lease == 0 && (rc = etcd_lease_grant(c, ttl_s_of(ttl_ms), &lv.lead_lease, NULL,
							 err, sizeof(err))) != 0)
		return et_rc(rc);
	pthread_mutex_lock(&lv.lock);
	int64_t term = lv.term_rev;
	*since_ms = lv.since_ms;
	pthread_mutex_unlock(&lv.lock);
	if (term != 0)
		return 1;
	if ((rc = campaign(c, lv.lead_lease)) == 1)
		*since_ms = lv.since_ms;
	return rc;
}

/* The term a fenced transaction must still hold at commit: -1 when this process holds none (no
 * leader key has that create_revision, so the commit is refused). */
void
et_tx_fence(struct store_tx *t)
{
	struct et_tx *tx = (struct et_tx *)t;

	pthread_mutex_lock(&lv.lock);
	tx->fence_rev = lv.term_rev != 0 ? lv.term_rev : -1;
	pthread_mutex_unlock(&lv.lock);
}

void
et_live_fenced(int64_t term_rev, int64_t leader_rev)
{
	char why[96];

	snprintf(why, sizeof(why), "a fenced commit found term %lld", (long long)leader_rev);
	fprintf(stderr,
		"vigild: liveness: fenced: the background write of term %lld was refused, "
		"nothing written\n",
		(long long)term_rev);
	lose_lead(why);
}

void
et_live_close(void)
{
	struct etcd_client *c = lv.lead_lease != 0 ? et_client() : NULL;
	char err[256];

	if (c != NULL) /* hands the lead over now rather than at the lease's end */
		etcd_lease_revoke(c, lv.lead_lease, err, sizeof(err));
	pthread_mutex_lock(&lv.lock);
	hmap_free(&lv.leases, NULL);
	lv.lead_lease = lv.term_rev = lv.since_ms = 0;
	pthread_mutex_unlock(&lv.lock);
}
