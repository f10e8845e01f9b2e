/* String-keyed hash map (see hmap.h): FNV-1a, chained buckets, doubled when the load passes 1. */
#include <stdlib.h>
#include <string.h>

#include "hmap.h"

static size_t
hash(const char *s)
{
	uint64_t h = 14695981039346656037u;

	for (const unsigned char *p = (const unsigned char *)s; *p; p++)
		h = (h ^ *p) * 1099511628211u;
	return (size_t)(h ^ (h >> 29));
}

union hmap_val *
hmap_get(const struct hmap *m, const char *key)
{
	if (m->nbuckets == 0)
		return NULL;
	for (struct hmap_entry *e = m->bucket[hash(key) & (m->nbuckets - 1)]; e; e = e->next)
		if (strcmp(e->key, key) == 0)
			return &e->val;
	return NULL;
}

/* Doubles the table (or makes the first one). Returns 0, or -1 when out of memory. */
static int
grow(struct hmap *m)
{
	size_t nb = m->nbuckets ? m->nbuckets * 2 : 64;
	struct hmap_entry **b = calloc(nb, sizeof(*b));

	if (b == NULL)
		return -1;
	for (size_t i = 0; i < m->nbuckets; i++) {
		struct hmap_entry *e = m->bucket[i], *next;
		for (; e != NULL; e = next) {
			size_t j = hash(e->key) & (nb - 1);
			next = e->next;
			e->next = b[j];
			b[j] = e;
		}
	}
	free(m->bucket);
	m->bucket = b;
	m->nbuckets = nb;
	return 0;
}

union hmap_val *
hmap_put(struct hmap *m, const char *key)
{
	union hmap_val *v = hmap_get(m, key);
	struct hmap_entry *e;
	size_t i;

	if (v != NULL)
		return v;
	if (m->n >= m->nbuckets && grow(m) != 0 && m->nbuckets == 0)
		return NULL;
	if ((e = calloc(1, sizeof(*e))) == NULL || (e->key = strdup(key)) == NULL) {
		free(e);
		return NULL;
	}
	i = hash(key) & (m->nbuckets - 1);
	e->next = m->bucket[i];
	m->bucket[i] = e;
	m->n++;
	return &e->val;
}

int
hmap_del(struct hmap *m, const char *key, union hmap_val *old)
{
	if (m->nbuckets == 0)
		return -1;
	for (struct hmap_entry **pp = &m->bucket[hash(key) & (m->nbuckets - 1)]; *pp;
	     pp = &(*pp)->next) {
		struct hmap_entry *e = *pp;
		if (strcmp(e->key, key) != 0)
			continue;
		*pp = e->next;
		if (old != NULL)
			*old = e->val;
		free(e->key);
		free(e);
		m->n--;
		return 0;
	}
	return -1;
}

void
hmap_each(const struct hmap *m, void (*fn)(const char *key, union hmap_val *v, void *arg),
	  void *arg)
{
	for (size_t i = 0; i < m->nbuckets; i++)
		for (struct hmap_entry *e = m->bucket[i]; e != NULL; e = e->next)
			fn(e->key, &e->val, arg);
}

void
hmap_free(struct hmap *m, void (*free_val)(union hmap_val *v))
{
	for (size_t i = 0; i < m->nbuckets; i++) {
		struct hmap_entry *e = m->bucket[i], *next;
		for (; e != NULL; e = next) {
			next = e->next;
			if (free_val != NULL)
				free_val(&e->val);
			free(e->key);
			free(e);
		}
	}
	free(m->bucket);
	memset(m, 0, sizeof(*m));
}
