/* The store's keys (see store.h): sets of keys, per-thread read tracking, and the in-memory table
 * of the revision at which each key was last touched. Backend-independent: SQLite's commits, etcd's
 * commits and watch events publish into the same table. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hmap.h"
#include "store.h"
#include "store_track.h"

static __thread struct store_keys *tracked;

static struct {
	pthread_rwlock_t lock;
	struct hmap rev;   /* key -> .i revision */
	int64_t all_rev;   /* a commit whose keys are not all in rev touched everything */
	int64_t published; /* the latest commit's revision */
} t = {
    .lock = PTHREAD_RWLOCK_INITIALIZER,
};

int
store_keys_add(struct store_keys *ks, const char *key)
{
	if (store_keys_has(ks, key))
		return 0;
	if (ks->n == ks->cap) {
		size_t cap = ks->cap ? ks->cap * 2 : 8;
		char(*k)[STORE_KEY_MAX] = realloc(ks->key, cap * sizeof(*k));
		if (k == NULL) {
			ks->all = true; /* depend on (or touch) everything instead: always safe */
			return -1;
		}
		ks->key = k;
		ks->cap = cap;
	}
	snprintf(ks->key[ks->n++], STORE_KEY_MAX, "%s", key);
	return 0;
}

void
store_keys_merge(struct store_keys *ks, const struct store_keys *from)
{
	ks->all = ks->all || from->all;
	for (size_t i = 0; i < from->n; i++)
		store_keys_add(ks, from->key[i]);
}

bool
store_keys_has(const struct store_keys *ks, const char *key)
{
	for (size_t i = 0; i < ks->n; i++)
		if (strcmp(ks->key[i], key) == 0)
			return true;
	return false;
}

void
store_keys_clear(struct store_keys *ks)
{
	free(ks->key);
	memset(ks, 0, sizeof(*ks));
}

void
store_track_begin(struct store_keys *ks)
{
	tracked = ks;
}

void
store_track_end(void)
{
	tracked = NULL;
}

struct store_keys *
store_track_swap(struct store_keys *ks)
{
	struct store_keys *old = tracked;

	tracked = ks;
	return old;
}

void
store_track_any(void)
{
	if (tracked != NULL)
		store_keys_add(tracked, "*");
}

void
sk_track_obj(const char *kind, const char *name)
{
	char k[STORE_KEY_MAX];

	if (tracked == NULL)
		return;
	snprintf(k, sizeof(k), "%s/%s", kind, name);
	store_keys_add(tracked, k);
}

void
sk_track_kind(const char *kind)
{
	char k[STORE_KEY_MAX];

	if (tracked == NULL)
		return;
	snprintf(k, sizeof(k), "%s/", kind ? kind : "*");
	store_keys_add(tracked, kind ? k : "*");
}

void
sk_track_refs(const char *to_kind, const char *to_name, const char *kind)
{
	char k[STORE_KEY_MAX];

	if (tracked == NULL)
		return;
	snprintf(k, sizeof(k), "%s/%s<%s", to_kind, to_name, kind);
	store_keys_add(tracked, k);
}

/* The "@" key of the changes of one actor (see store.h): the filter as /events?actor= spells it. */
static void
match_key(char k[STORE_KEY_MAX], enum store_match_type type, const char *value)
{
	switch (type) {
	case STORE_MATCH_TOKEN:
		snprintf(k, STORE_KEY_MAX, "@%s", value);
		break;
	case STORE_MATCH_NODE:
		snprintf(k, STORE_KEY_MAX, "@node:%s", value);
		break;
	case STORE_MATCH_SYSTEM:
		snprintf(k, STORE_KEY_MAX, "@system%s%s", value != NULL ? ":" : "",
			 value != NULL ? value : "");
		break;
	default:
		snprintf(k, STORE_KEY_MAX, "*");
		break;
	}
}

void
sk_track_match(const struct store_match *m)
{
	char k[STORE_KEY_MAX];

	if (tracked == NULL)
		return;
	match_key(k, m->type, m->value);
	store_keys_add(tracked, k);
}

void
sk_touch_actor(struct store_keys *ks, const struct store_actor *a)
{
	char k[STORE_KEY_MAX];

	if (a->type == STORE_ACTOR_TOKEN) {
		match_key(k, STORE_MATCH_TOKEN, a->id);
		store_keys_add(ks, k);
		if (a->node[0] != '\0') {
			match_key(k, STORE_MATCH_NODE, a->node);
			store_keys_add(ks, k);
		}
	} else if (a->type == STORE_ACTOR_SYSTEM) {
		store_keys_add(ks, "@system");
		match_key(k, STORE_MATCH_SYSTEM, a->id);
		store_keys_add(ks, k);
	}
}

void
sk_touch_obj(struct store_keys *ks, const char *kind, const char *name)
{
	char k[STORE_KEY_MAX];

	snprintf(k, sizeof(k), "%s/%s", kind, name);
	store_keys_add(ks, k);
	snprintf(k, sizeof(k), "%s/", kind);
	store_keys_add(ks, k);
	store_keys_add(ks, "*");
}

void
sk_touch_ref(struct store_keys *ks, const char *to_kind, const char *to_name, const char *kind)
{
	char k[STORE_KEY_MAX];

	snprintf(k, sizeof(k), "%s/%s<%s", to_kind, to_name, kind);
	store_keys_add(ks, k);
}

void
sk_publish(int64_t rev, const struct store_keys *touched)
{
	/* Revisions only grow: on etcd another replica's write can be published (by the watch)
	 * after a newer one of this process. */
	pthread_rwlock_wrlock(&t.lock);
	if (rev > t.published)
		t.published = rev;
	if (touched->all && rev > t.all_rev)
		t.all_rev = rev;
	for (size_t i = 0; i < touched->n; i++) {
		union hmap_val *v = hmap_put(&t.rev, touched->key[i]);
		if (v == NULL) { /* no memory for the key: retire everything instead */
			if (rev > t.all_rev)
				t.all_rev = rev;
		} else if (rev > v->i) {
			v->i = rev;
		}
	}
	pthread_rwlock_unlock(&t.lock);
}

int64_t
store_keys_rev(const struct store_keys *ks)
{
	int64_t max;

	pthread_rwlock_rdlock(&t.lock);
	max = ks->all ? t.published : t.all_rev;
	for (size_t i = 0; i < ks->n; i++) {
		const union hmap_val *v = hmap_get(&t.rev, ks->key[i]);
		if (v != NULL && v->i > max)
			max = v->i;
	}
	pthread_rwlock_unlock(&t.lock);
	return max;
}

void
sk_reset(void)
{
	pthread_rwlock_wrlock(&t.lock);
	hmap_free(&t.rev, NULL);
	t.all_rev = t.published = 0;
	pthread_rwlock_unlock(&t.lock);
}
