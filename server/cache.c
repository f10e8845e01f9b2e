/* The answer cache (see cache.h): a direct-mapped table of 1024 entries, one lock per 16 slots. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "cache.h"

#define SLOTS 1024
#define STRIPES 64

struct entry {
	char *key;
	struct store_keys deps; /* what the answer was computed from */
	int64_t rev;		/* the revision it was computed at */
	char *text;
	size_t len;
	char etag[24];
	int64_t last_modified_ms;
	const char *content_type;
	const char *csp;
	char *link;
};

static struct entry table[SLOTS];
static pthread_mutex_t locks[STRIPES];
static pthread_once_t once = PTHREAD_ONCE_INIT;

static void
init_locks(void)
{
	for (int i = 0; i < STRIPES; i++)
		pthread_mutex_init(&locks[i], NULL);
}

static unsigned
slot_of(const char *key)
{
	uint32_t h = 2166136261u;

	for (const unsigned char *p = (const unsigned char *)key; *p; p++)
		h = (h ^ *p) * 16777619u;
	return h % SLOTS;
}

static char *
dup_bytes(const char *s, size_t len)
{
	char *d = malloc(len + 1);

	if (d != NULL) {
		memcpy(d, s, len);
		d[len] = '\0';
	}
	return d;
}

static void
entry_clear(struct entry *e)
{
	free(e->key);
	free(e->text);
	free(e->link);
	store_keys_clear(&e->deps);
	memset(e, 0, sizeof(*e));
}

bool
cache_get(const char *key, struct http_response *res, struct store_keys *deps, int64_t *rev0)
{
	unsigned i = slot_of(key);
	struct entry *e = &table[i];
	bool hit = false;

	pthread_once(&once, init_locks);
	pthread_mutex_lock(&locks[i % STRIPES]);
	if (e->key != NULL && strcmp(e->key, key) == 0 && store_keys_rev(&e->deps) <= e->rev) {
		res->text = dup_bytes(e->text, e->len);
		res->link_header = e->link ? strdup(e->link) : NULL;
		hit = res->text != NULL;
		if (hit) {
			res->text_len = e->len;
			memcpy(res->etag, e->etag, sizeof(res->etag));
			res->last_modified_ms = e->last_modified_ms;
			res->content_type = e->content_type;
			res->csp = e->csp;
			res->status = 200;
			if (deps != NULL)
				store_keys_merge(deps, &e->deps);
			*rev0 = e->rev;
		}
	}
	pthread_mutex_unlock(&locks[i % STRIPES]);
	return hit;
}

void
cache_put(const char *key, const struct store_keys *deps, int64_t rev0,
	  const struct http_response *res)
{
	unsigned i = slot_of(key);
	struct entry fresh = {0}, old;

	if (res->text == NULL || res->text_len > 4 * 1024 * 1024)
		return;
	fresh.key = strdup(key);
	fresh.text = dup_bytes(res->text, res->text_len);
	fresh.link = res->link_header ? strdup(res->link_header) : NULL;
	if (fresh.key == NULL || fresh.text == NULL || (res->link_header && !fresh.link)) {
		entry_clear(&fresh);
		return;
	}
	store_keys_merge(&fresh.deps, deps);
	if (fresh.deps.n < deps->n && !store_keys_has(&fresh.deps, "*")) {
		entry_clear(&fresh); /* out of memory: an entry missing a key would never retire */
		return;
	}
	fresh.rev = rev0;
	fresh.len = res->text_len;
	memcpy(fresh.etag, res->etag, sizeof(fresh.etag));
	fresh.last_modified_ms = res->last_modified_ms;
	fresh.content_type = res->content_type;
	fresh.csp = res->csp;
	pthread_once(&once, init_locks);
	pthread_mutex_lock(&locks[i % STRIPES]);
	old = table[i];
	table[i] = fresh;
	pthread_mutex_unlock(&locks[i % STRIPES]);
	entry_clear(&old);
}

void
cache_clear(void)
{
	for (int i = 0; i < SLOTS; i++)
		entry_clear(&table[i]);
}
