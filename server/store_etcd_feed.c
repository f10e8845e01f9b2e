/* The etcd backend's change feed and wake-ups. Every write puts ev/SEQ (its changes; the key's
 * create_revision is the write's revision) and the feed key (its sequence number, what has been
 * trimmed, and the keys it touched). /events reads ev/ keys from a revision on
 * (min_create_revision) and never splits one write's changes between pages unless a single write
 * has more changes than a page holds. One watch thread per vigild follows the feed key from the
 * last revision seen and publishes each write's touched keys, so that writes through other replicas
 * wake long-polls and retire cached answers here as local ones do. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "store.h"
#include "store_etcd.h"
#include "store_track.h"

int
et_feed_read(struct et_feed *f)
{
	struct etcd_client *c = et_client();
	struct etcd_kv kv;
	char k[ET_KEY_MAX], err[256];
	int rc;

	memset(f, 0, sizeof(*f));
	if (c == NULL)
		return STORE_BUSY;
	et_key(k, "feed");
	rc = etcd_get(c, k, &kv, NULL, err, sizeof(err));
	if (rc == ETCD_NOTFOUND)
		return STORE_OK;
	if (rc != 0)
		return et_rc(rc);
	json_t *j = json_loadb(kv.value, kv.value_len, 0, NULL);
	f->mod_rev = kv.mod_rev;
	f->seq = json_integer_value(json_object_get(j, "seq"));
	f->floor_seq = json_integer_value(json_object_get(j, "floor_seq"));
	f->floor_rev = json_integer_value(json_object_get(j, "floor_rev"));
	json_decref(j);
	etcd_kv_clear(&kv);
	return STORE_OK;
}

json_t *
et_actor_json(const struct store_actor *a)
{
	if (a->type == STORE_ACTOR_SYSTEM)
		return json_pack("{s:s, s:s}", "type", "system", "id", a->id);
	if (a->type != STORE_ACTOR_TOKEN)
		return json_null();
	return json_pack("{s:s, s:s, s:s, s:s, s:s}", "type", "token", "id", a->id, "role", a->role,
			 "node", a->node, "description", a->description);
}

void
et_actor_parse(const json_t *j, struct store_actor *a)
{
	const char *type = json_string_value(json_object_get(j, "type"));

	memset(a, 0, sizeof(*a));
	if (type == NULL)
		return;
	a->type = strcmp(type, "token") == 0	? STORE_ACTOR_TOKEN
		  : strcmp(type, "system") == 0 ? STORE_ACTOR_SYSTEM
						: STORE_ACTOR_NONE;
	et_json_str(a->id, sizeof(a->id), j, "id");
	et_json_str(a->role, sizeof(a->role), j, "role");
	et_json_str(a->node, sizeof(a->node), j, "node");
	et_json_str(a->description, sizeof(a->description), j, "description");
}

/* Does the change's actor a match m (NULL: all)? As the SQLite backend's statements. */
static bool
matches(const struct store_match *m, const struct store_actor *a)
{
	if (m == NULL || m->type == STORE_MATCH_ALL)
		return true;
	if (m->type == STORE_MATCH_TOKEN)
		return a->type == STORE_ACTOR_TOKEN && strcmp(a->id, m->value) == 0;
	if (m->type == STORE_MATCH_NODE)
		return a->node[0] != '\0' && strcmp(a->node, m->value) == 0;
	return a->type == STORE_ACTOR_SYSTEM && (m->value == NULL || strcmp(a->id, m->value) == 0);
}

/* The changes of one ev/ value (written at kv->create_rev) that match m, in *out (caller frees).
 * Returns how many, or -1 when out of memory. */
static int
parse_changes(const struct etcd_kv *kv, const struct store_match *m, struct store_change **out)
{
	json_t *j = json_loadb(kv->value, kv->value_len, 0, NULL), *c;
	json_t *all = json_object_get(j, "changes");
	size_t i;
	int n = 0;

	*out = calloc(json_array_size(all) + 1, sizeof(**out));
	if (*out == NULL) {
		json_decref(j);
		return -1;
	}
	json_array_foreach(all, i, c)
	{
		struct store_change ch = {.rev = kv->create_rev};
		et_json_str(ch.op, sizeof(ch.op), c, "op");
		et_json_str(ch.kind, sizeof(ch.kind), c, "kind");
		et_json_str(ch.name, sizeof(ch.name), c, "name");
		ch.ts_ms = json_integer_value(json_object_get(c, "ts"));
		et_actor_parse(json_object_get(c, "actor"), &ch.actor);
		if (matches(m, &ch.actor))
			(*out)[n++] = ch;
	}
	json_decref(j);
	return n;
}

/* Reads pages of ev/ keys (ascending from since + 1, or descending from the newest) and adds
 * whole writes' matching changes to out while they fit in limit. Cost: etcd applies
 * min_create_revision and a descending sort after reading the whole ev/ range (at most
 * --events-keep keys) for every page. Returns the count, or a
 * store_rc. Descending, out is filled newest first (the caller reverses). */
static int
scan(int64_t since, int limit, const struct store_match *m, struct store_change *out)
{
	struct etcd_client *c = et_client();
	char p[ET_KEY_MAX], key[ET_KEY_MAX], end[ET_KEY_MAX], err[256];
	bool desc = since < 0, done = false;
	int n = 0, rc = 0;

	if (c == NULL)
		return STORE_BUSY;
	et_key(p, "ev/");
	snprintf(key, sizeof(key), "%s", p);
	et_prefix_end(end, p);
	while (!done) {
		struct etcd_range_opts o = {.range_end = end, .limit = 64, .descending = desc};
		struct etcd_kvs r;
		if (!desc)
			o.min_create_rev = since + 1;
		if ((rc = etcd_range(c, key, &o, &r, err, sizeof(err))) != 0)
			break;
		for (size_t i = 0; i < r.n && !done; i++) {
			struct store_change *one;
			int got = parse_changes(&r.kvs[i], m, &one);
			if (got < 0) {
				rc = ETCD_ERROR;
				done = true;
			} else if (n + got > limit) { /* a page ends at a revision boundary... */
				if (n ==
				    0) /* ...unless one write alone has more changes than fit */
					for (int k = 0; k < limit; k++)
						out[k] = one[desc ? got - 1 - k : k];
				n = n == 0 ? limit : n;
				done = true;
			} else {
				for (int k = 0; k < got; k++) /* newest first when descending */
					out[n + k] = one[desc ? got - 1 - k : k];
				n += got;
				done = n == limit;
			}
			free(one);
		}
		if (!done && r.more && r.n > 0) { /* the next page of keys */
			const char *last = r.kvs[r.n - 1].key;
			if (desc)
				snprintf(end, sizeof(end), "%s", last);
			else
				snprintf(key, sizeof(key), "%s%c", last, '\x01');
		} else {
			done = true;
		}
		etcd_kvs_clear(&r);
	}
	if (rc != 0)
		return et_rc(rc);
	if (desc) /* newest first: put in revision order */
		for (int i = 0; i < n / 2; i++) {
			struct store_change t = out[i];
			out[i] = out[n - 1 - i];
			out[n - 1 - i] = t;
		}
	return n;
}

int
et_changes(int64_t since, int limit, const struct store_match *match, struct store_change *out)
{
	struct et_feed f;
	int rc;

	if (since >= 0) {
		if ((rc = et_feed_read(&f)) != STORE_OK)
			return rc;
		if (since < f.floor_rev)
			return STORE_GONE;
		if (since >= f.mod_rev) /* nothing newer (a waiting long-poll): no range at all */
			return 0;
	}
	return scan(since, limit, match, out);
}

/* The revisions this process wrote lately: the watch skips them (already published). */
#define OWN_REVS 64
static struct {
	pthread_mutex_t lock;
	int64_t revs[OWN_REVS];
	unsigned next;
	pthread_t thread;
	bool running;
	atomic_bool stop;
	int64_t from_rev;
	struct etcd_client *client;
} w = {.lock = PTHREAD_MUTEX_INITIALIZER};

void
et_own_rev(int64_t rev)
{
	pthread_mutex_lock(&w.lock);
	w.revs[w.next++ % OWN_REVS] = rev;
	pthread_mutex_unlock(&w.lock);
}

static bool
is_own(int64_t rev)
{
	bool own = false;

	pthread_mutex_lock(&w.lock);
	for (int i = 0; i < OWN_REVS && !own; i++)
		own = w.revs[i] == rev;
	pthread_mutex_unlock(&w.lock);
	return own;
}

/* Publishes one write made through another vigild: its touched keys at its revision. */
static void
publish(int64_t rev, const char *value, size_t len)
{
	struct store_keys touched = {0};
	json_t *j = json_loadb(value, len, 0, NULL), *k;
	size_t i;

	json_array_foreach(json_object_get(j, "touched"), i, k)
	    store_keys_add(&touched, json_string_value(k));
	if (j == NULL)
		touched.all = true;
	json_decref(j);
	et_saw_revision(rev);
	sk_publish(rev, &touched);
	if (et_g.notify != NULL)
		et_g.notify(rev, &touched);
	store_keys_clear(&touched);
}

static int
on_events(void *arg, const struct etcd_event *ev, size_t n, int64_t rev)
{
	(void)arg;
	(void)rev;
	for (size_t i = 0; i < n; i++)
		if (ev[i].type == ETCD_EV_PUT && !is_own(ev[i].kv.mod_rev))
			publish(ev[i].kv.mod_rev, ev[i].kv.value, ev[i].kv.value_len);
	return atomic_load(&w.stop) ? 1 : 0;
}

static void *
watch_main(void *arg)
{
	char k[ET_KEY_MAX], err[256];
	struct etcd_watch wt = {.key = k, .next_rev = w.from_rev, .stop = &w.stop};

	(void)arg;
	et_key(k, "feed");
	while (!atomic_load(&w.stop)) {
		int rc = etcd_watch(w.client, &wt, on_events, NULL, err, sizeof(err));
		if (rc == ETCD_COMPACTED) { /* history is gone: everything may have changed */
			struct store_keys all = {.all = true};
			wt.next_rev = wt.compact_rev + 1;
			et_saw_revision(wt.compact_rev);
			sk_publish(wt.compact_rev, &all);
			if (et_g.notify != NULL)
				et_g.notify(wt.compact_rev, &all);
		} else if (rc != 0 && !atomic_load(&w.stop)) {
			struct timespec ts = {0, 200 * 1000000};
			nanosleep(&ts, NULL); /* no endpoint took the watch: try again soon */
		}
	}
	return NULL;
}

int
et_watch_start(int64_t from_rev, char *err, size_t errlen)
{
	if (etcd_client_new(&et_g.opts, &w.client, err, errlen) != 0)
		return -1;
	atomic_store(&w.stop, false);
	w.from_rev = from_rev;
	if (pthread_create(&w.thread, NULL, watch_main, NULL) != 0) {
		snprintf(err, errlen, "cannot start the etcd watch thread");
		etcd_client_free(w.client);
		w.client = NULL;
		return -1;
	}
	w.running = true;
	return 0;
}

void
et_watch_stop(void)
{
	if (!w.running)
		return;
	atomic_store(&w.stop, true);
	pthread_join(w.thread, NULL);
	etcd_client_free(w.client);
	w.client = NULL;
	w.running = false;
}
