/* etcd v3 behind the store interface: opening, one client per thread, and the reads (objects,
 * lists by kind, reference and tag, counts). The key layout is in store_etcd.h; the write
 * transaction is in store_etcd_tx.c and store_etcd_commit.c, the change feed and the watch that
 * wakes this vigild on writes made through the others in store_etcd_feed.c, tokens in
 * store_etcd_token.c. */
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "store.h"
#include "store_backend.h"
#include "store_etcd.h"
#include "store_track.h"

struct et_global et_g;

/* Every thread's client, so that store_close frees those of threads that are gone. */
struct et_conn {
	struct etcd_client *c;
	struct et_conn *next;
};
static struct {
	pthread_mutex_t lock;
	struct et_conn *conns;
} cl = {.lock = PTHREAD_MUTEX_INITIALIZER};
static __thread struct et_conn *tl_conn;

struct etcd_client *
et_client(void)
{
	char err[256];

	if (tl_conn != NULL)
		return tl_conn->c;
	struct et_conn *k = calloc(1, sizeof(*k));
	if (k == NULL || etcd_client_new(&et_g.opts, &k->c, err, sizeof(err)) != 0) {
		free(k);
		return NULL;
	}
	pthread_mutex_lock(&cl.lock);
	k->next = cl.conns;
	cl.conns = k;
	pthread_mutex_unlock(&cl.lock);
	tl_conn = k;
	return k->c;
}

int
et_rc(int rc)
{
	switch (rc) {
	case ETCD_OK:
		return STORE_OK;
	case ETCD_NOTFOUND:
		return STORE_NOTFOUND;
	case ETCD_COMPARE_FAILED:
		return STORE_CONFLICT;
	case ETCD_UNAVAILABLE:
		return STORE_BUSY;
	case ETCD_COMPACTED:
		return STORE_GONE;
	default:
		return STORE_ERROR;
	}
}

void
et_key(char *k, const char *fmt, ...)
{
	va_list ap;
	int n = snprintf(k, ET_KEY_MAX, "%s", et_g.prefix);

	va_start(ap, fmt);
	vsnprintf(k + n, ET_KEY_MAX - (size_t)n, fmt, ap);
	va_end(ap);
}

int64_t
et_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void
et_prefix_end(char *end, const char *p)
{
	size_t n = strlen(p);

	memcpy(end, p, n + 1);
	end[n - 1]++;
}

void
et_saw_revision(int64_t rev)
{
	int64_t cur = __atomic_load_n(&et_g.revision, __ATOMIC_ACQUIRE);

	while (rev > cur && !__atomic_compare_exchange_n(&et_g.revision, &cur, rev, false,
							 __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
		;
}

static int64_t
et_revision(void)
{
	return __atomic_load_n(&et_g.revision, __ATOMIC_ACQUIRE);
}

int
et_obj_from_kv(struct store_obj *o, const struct etcd_kv *kv, json_t **links)
{
	json_t *v = json_loadb(kv->value, kv->value_len, 0, NULL);

	if (v == NULL || !json_is_object(json_object_get(v, "spec"))) {
		json_decref(v);
		return STORE_ERROR;
	}
	o->spec = json_incref(json_object_get(v, "spec"));
	json_t *st = json_object_get(v, "status");
	o->status = st != NULL && !json_is_null(st) ? json_incref(st) : NULL;
	o->create_rev = kv->create_rev;
	o->mod_rev = kv->mod_rev;
	o->modified_ms = json_integer_value(json_object_get(v, "ms"));
	if (links != NULL)
		*links = json_pack("{s:O?, s:O?, s:O?}", "refs", json_object_get(v, "refs"), "tags",
				   json_object_get(v, "tags"), "uniq", json_object_get(v, "uniq"));
	json_decref(v);
	return STORE_OK;
}

static int
et_get(const char *kind, const char *name, struct store_obj *out)
{
	struct etcd_client *c = et_client();
	struct et_tx *tx = et_tx_current();
	struct etcd_kv kv;
	char k[ET_KEY_MAX], err[256];
	int rc;

	memset(out, 0, sizeof(*out));
	if (tx != NULL && (rc = et_tx_get(tx, kind, name, out)) != 1)
		return rc;
	if (c == NULL)
		return STORE_BUSY;
	et_key(k, "obj/%s/%s", kind, name);
	if ((rc = etcd_get(c, k, &kv, NULL, err, sizeof(err))) != 0)
		return et_rc(rc);
	snprintf(out->kind, sizeof(out->kind), "%s", kind);
	snprintf(out->name, sizeof(out->name), "%s", name);
	rc = et_obj_from_kv(out, &kv, NULL);
	etcd_kv_clear(&kv);
	return rc;
}

/* Sets the range of the names under p (a prefix ending in '/') for a page: after `after`
 * (ascending, from p+after: the caller skips an exact match) or before `before` (descending). */
void
et_page_range(struct etcd_range_opts *o, char *key, char *end, const char *p, const char *after,
	      const char *before)
{
	if (before != NULL) {
		snprintf(key, ET_KEY_MAX, "%s", p);
		snprintf(end, ET_KEY_MAX, "%s%s", p, before);
		o->descending = true;
	} else {
		snprintf(key, ET_KEY_MAX, "%s%s", p, after != NULL ? after : "");
		et_prefix_end(end, p);
	}
	o->range_end = end;
}

/* Number of keys under p, or a store_rc. */
int
et_count_prefix(const char *p)
{
	struct etcd_range_opts o = {.prefix = true, .count_only = true};
	struct etcd_client *c = et_client();
	struct etcd_kvs r;
	char err[256];
	int rc;

	if (c == NULL)
		return STORE_BUSY;
	if ((rc = etcd_range(c, p, &o, &r, err, sizeof(err))) != 0)
		return et_rc(rc);
	rc = (int)r.count;
	etcd_kvs_clear(&r);
	return rc;
}

/* Fetches the objects (kind, names[i]) into out in one read-only txn, skipping those gone
 * meanwhile. Returns how many were written, or a store_rc. */
static int
fetch_objs(const char *kind, char (*names)[STORE_NAME_MAX], int n, struct store_obj *out)
{
	struct etcd_client *c = et_client();
	struct etcd_op *ops = calloc((size_t)n + 1, sizeof(*ops));
	char(*keys)[ET_KEY_MAX] = calloc((size_t)n + 1, sizeof(*keys));
	struct etcd_txn t = {.success = ops, .n_success = (size_t)n};
	struct etcd_txn_result r = {0};
	char err[256];
	int rc, got = 0;

	if (c == NULL || ops == NULL || keys == NULL) {
		free(ops);
		free(keys);
		return STORE_BUSY;
	}
	for (int i = 0; i < n; i++) {
		et_key(keys[i], "obj/%s/%s", kind, names[i]);
		ops[i] = (struct etcd_op){.type = ETCD_OP_RANGE, .key = keys[i]};
	}
	rc = n > 0 ? etcd_txn(c, &t, &r, err, sizeof(err)) : 0;
	for (size_t i = 0; rc == 0 && i < r.n_ops; i++) {
		if (r.ops[i].range.n == 0)
			continue;
		struct store_obj *o = &out[got];
		memset(o, 0, sizeof(*o));
		snprintf(o->kind, sizeof(o->kind), "%s", kind);
		snprintf(o->name, sizeof(o->name), "%s", names[i]);
		if (et_obj_from_kv(o, &r.ops[i].range.kvs[0], NULL) == STORE_OK)
			got++;
	}
	etcd_txn_result_clear(&r);
	free(ops);
	free(keys);
	return rc == 0 ? got : et_rc(rc);
}

/* The names of a page of the keys under p (after/before, limit; limit < 0: all). Returns the
 * count written into names (capacity cap), or a store_rc. */
static int
page_names(const char *p, const char *after, const char *before, int limit,
	   char (*names)[STORE_NAME_MAX], int cap)
{
	struct etcd_range_opts o = {.keys_only = true};
	struct etcd_client *c = et_client();
	char key[ET_KEY_MAX], end[ET_KEY_MAX], err[256];
	struct etcd_kvs r;
	size_t plen = strlen(p);
	int rc, n = 0;

	if (c == NULL)
		return STORE_BUSY;
	et_page_range(&o, key, end, p, after, before);
	o.limit = limit >= 0 ? limit + 1 : 0;
	if ((rc = etcd_range(c, key, &o, &r, err, sizeof(err))) != 0)
		return et_rc(rc);
	for (size_t i = 0; i < r.n && n < cap && (limit < 0 || n < limit); i++) {
		const char *name = r.kvs[i].key + plen;
		if (after != NULL && before == NULL && strcmp(name, after) == 0)
			continue;
		snprintf(names[n++], STORE_NAME_MAX, "%s", name);
	}
	etcd_kvs_clear(&r);
	return n;
}

/* The prefix of the keys a list reads: objects of kind, or the ref/tag index of (k2, n2). */
static void
list_prefix(char *p, const char *kind, char by, const char *k2, const char *n2)
{
	if (by == 0)
		et_key(p, "obj/%s/", kind);
	else
		et_key(p, "%s/%s/%s/%s/", by == 'r' ? "ref" : "tag", k2, n2, kind);
}

/* A list inside a write transaction that touched kind: every match, merged with what the
 * transaction wrote, then paged. */
static int
list_in_tx(struct et_tx *tx, const char *kind, char by, const char *k2, const char *n2,
	   const char *after, const char *before, int limit, struct store_obj *out, int *total)
{
	char p[ET_KEY_MAX];
	int cap = 4096, n, rc;
	char(*names)[STORE_NAME_MAX] = calloc((size_t)cap, sizeof(*names));
	struct store_obj *all = calloc((size_t)cap, sizeof(*all));

	if (names == NULL || all == NULL) {
		free(names);
		free(all);
		return STORE_BUSY;
	}
	list_prefix(p, kind, by, k2, n2);
	n = page_names(p, NULL, NULL, -1, names, cap);
	if (n >= 0)
		n = fetch_objs(kind, names, n, all);
	if (n >= 0)
		n = et_tx_merge_list(tx, kind, by, k2, n2, all, n, cap);
	free(names);
	if (n < 0) {
		free(all);
		return n;
	}
	int first = 0, last = n; /* the page: [first, last) */
	if (before != NULL) {
		while (last > 0 && strcmp(all[last - 1].name, before) >= 0)
			last--;
		first = last - limit > 0 ? last - limit : 0;
	} else {
		while (after != NULL && first < n && strcmp(all[first].name, after) <= 0)
			first++;
		last = first + limit < n ? first + limit : n;
	}
	rc = 0;
	for (int i = 0; i < n; i++) /* a page before a name: nearest first (store.c reverses) */
		if (i >= first && i < last)
			out[rc++] = all[before != NULL ? last - 1 - (i - first) : i];
	for (int i = 0; i < n; i++)
		if (i < first || i >= last)
			store_obj_clear(&all[i]);
	if (total != NULL)
		*total = n;
	free(all);
	return rc;
}

static int
et_list(const char *kind, char by, const char *k2, const char *n2, const char *after,
	const char *before, int limit, struct store_obj *out, int *total)
{
	struct et_tx *tx = et_tx_current();
	char p[ET_KEY_MAX];
	int n;

	if (tx != NULL && et_tx_has_kind(tx, kind))
		return list_in_tx(tx, kind, by, k2, n2, after, before, limit, out, total);
	list_prefix(p, kind, by, k2, n2);
	char(*names)[STORE_NAME_MAX] = calloc((size_t)limit + 1, sizeof(*names));
	if (names == NULL)
		return STORE_BUSY;
	n = page_names(p, after, before, limit, names, limit);
	if (n >= 0)
		n = fetch_objs(kind, names, n, out);
	free(names);
	if (n >= 0 && total != NULL && (*total = et_count_prefix(p)) < 0) {
		int rc = *total;
		for (int i = 0; i < n; i++)
			store_obj_clear(&out[i]);
		return rc;
	}
	return n;
}

static int
et_count(const char *kind)
{
	struct et_tx *tx = et_tx_current();
	char p[ET_KEY_MAX];

	if (tx != NULL && et_tx_has_kind(tx, kind)) {
		int total = 0, n = list_in_tx(tx, kind, 0, NULL, NULL, NULL, NULL, 0, NULL, &total);
		return n < 0 ? n : total;
	}
	et_key(p, "obj/%s/", kind);
	return et_count_prefix(p);
}

static int64_t
et_kind_modified_ms(const char *kind)
{
	struct etcd_range_opts o = {.prefix = kind == NULL};
	struct etcd_client *c = et_client();
	struct etcd_kvs r;
	char k[ET_KEY_MAX], err[256];
	int64_t max = 0;

	if (c == NULL)
		return 0;
	if (kind != NULL)
		et_key(k, "kind/%s", kind);
	else
		et_key(k, "kind/");
	if (etcd_range(c, k, &o, &r, err, sizeof(err)) != 0)
		return 0;
	for (size_t i = 0; i < r.n; i++) {
		int64_t v = strtoll(r.kvs[i].value, NULL, 10);
		if (v > max)
			max = v;
	}
	etcd_kvs_clear(&r);
	return max;
}

static void
et_thread_done(void)
{
	struct et_conn **pp;

	if (tl_conn == NULL)
		return;
	pthread_mutex_lock(&cl.lock);
	for (pp = &cl.conns; *pp != NULL; pp = &(*pp)->next)
		if (*pp == tl_conn) {
			*pp = tl_conn->next;
			break;
		}
	pthread_mutex_unlock(&cl.lock);
	etcd_client_free(tl_conn->c);
	free(tl_conn);
	tl_conn = NULL;
}

static void
free_opts(void)
{
	free((char *)et_g.opts.endpoints);
	free((char *)et_g.opts.cacert);
	free((char *)et_g.opts.cert);
	free((char *)et_g.opts.key);
	free((char *)et_g.opts.user);
	free((char *)et_g.opts.password);
	memset(&et_g.opts, 0, sizeof(et_g.opts));
}

static void
et_close(void)
{
	et_live_close();
	et_watch_stop();
	pthread_mutex_lock(&cl.lock);
	while (cl.conns != NULL) {
		struct et_conn *k = cl.conns;
		cl.conns = k->next;
		etcd_client_free(k->c);
		free(k);
	}
	pthread_mutex_unlock(&cl.lock);
	tl_conn = NULL;
	et_tx_free();
	free_opts();
	sk_reset();
}

const struct store_backend store_etcd = {
    .revision = et_revision,
    .get = et_get,
    .list = et_list,
    .count = et_count,
    .kind_modified_ms = et_kind_modified_ms,
    .write_begin = et_write_begin,
    .commit = et_commit,
    .rollback = et_rollback,
    .put = et_put,
    .set_status = et_set_status,
    .del = et_delete,
    .changes = et_changes,
    .token_add = et_token_add,
    .token_find = et_token_find,
    .token_get = et_token_get,
    .token_delete = et_token_delete,
    .token_list = et_token_list,
    .token_count = et_token_count,
    .import_add = et_import_add,
    .import_get = et_import_get,
    .import_of_vip = et_import_of_vip,
    .import_own = et_import_own,
    .import_disown = et_import_disown,
    .import_owners = et_import_owners,
    .import_owned_by = et_import_owned_by,
    .live_renew = et_live_renew,
    .live_alive = et_live_alive,
    .lead = et_lead,
    .tx_fence = et_tx_fence,
    .thread_done = et_thread_done,
    .close = et_close,
};

static char *
dup_or_null(const char *s)
{
	return s != NULL ? strdup(s) : NULL;
}

int
store_open_etcd(const struct store_etcd_opts *o, int64_t events_keep, store_notify_fn notify,
		char *err, size_t errlen)
{
	struct etcd_client *c;
	struct et_feed f;
	size_t plen = strlen(o->prefix);
	int rc;

	if (plen == 0 || plen >= sizeof(et_g.prefix) - 1 || o->prefix[plen - 1] != '/') {
		snprintf(err, errlen, "--etcd-prefix must end with '/' (and be under %zu bytes)",
			 sizeof(et_g.prefix) - 1);
		return STORE_ERROR;
	}
	snprintf(et_g.prefix, sizeof(et_g.prefix), "%s", o->prefix);
	et_g.events_keep = events_keep > 0 ? events_keep : 10000;
	et_g.notify = notify;
	et_g.opts = (struct etcd_opts){
	    .endpoints = strdup(o->endpoints),
	    .request_timeout_ms = o->request_timeout_ms,
	    .cacert = dup_or_null(o->cacert),
	    .cert = dup_or_null(o->cert),
	    .key = dup_or_null(o->key),
	    .user = dup_or_null(o->user),
	    .password = dup_or_null(o->password),
	};
	if ((rc = etcd_client_new(&et_g.opts, &c, err, errlen)) != 0) {
		free_opts();
		return STORE_ERROR;
	}
	etcd_client_free(c);
	if ((rc = et_feed_read(&f)) != STORE_OK) {
		snprintf(err, errlen, "etcd at %s does not answer", o->endpoints);
		et_close();
		return rc;
	}
	__atomic_store_n(&et_g.revision, f.mod_rev, __ATOMIC_RELEASE);
	if (et_watch_start(f.mod_rev + 1, err, errlen) != 0) {
		et_close();
		return STORE_ERROR;
	}
	store_use_backend(&store_etcd);
	return STORE_OK;
}
