/* A string-keyed hash map with chained buckets: the in-memory indexes of vigild (key revisions,
 * long-poll watchers, agent leases). Not thread-safe: each user guards its map with its own lock.
 * Keys are copied; values are a small union the user interprets. */
#ifndef VIGIL_HMAP_H
#define VIGIL_HMAP_H

#include <stddef.h>
#include <stdint.h>

union hmap_val {
	int64_t i;
	void *p;
};

struct hmap_entry {
	char *key; /* owned */
	union hmap_val val;
	struct hmap_entry *next;
};

struct hmap {
	struct hmap_entry **bucket; /* owned; nbuckets of them (a power of two), or NULL */
	size_t nbuckets, n;
};

/* The value slot of key, or NULL when absent. Valid until the next put or del. */
union hmap_val *hmap_get(const struct hmap *m, const char *key);
/* The value slot of key, created (zeroed) when absent; NULL when out of memory. */
union hmap_val *hmap_put(struct hmap *m, const char *key);
/* Removes key; its value goes to *old when old is non-NULL. Returns 0, or -1 when absent. */
int hmap_del(struct hmap *m, const char *key, union hmap_val *old);
/* Calls fn for every entry (fn must not put or del). */
void hmap_each(const struct hmap *m, void (*fn)(const char *key, union hmap_val *v, void *arg),
	       void *arg);
/* Frees every entry (free_val, when non-NULL, releases each value) and the table. */
void hmap_free(struct hmap *m, void (*free_val)(union hmap_val *v));

#endif
