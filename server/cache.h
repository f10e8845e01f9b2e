/* Serialised GET answers, each kept with the store keys it was computed from and the revision it
 * was computed at: an entry stays good until one of its own keys is touched (store_keys_rev), so
 * a write retires only the answers that depend on what it changed. It makes repeated GETs and
 * 304 revalidations cost a lookup instead of a render. Bounded: a fixed table, newer entries
 * replace older ones. */
#ifndef VIGIL_CACHE_H
#define VIGIL_CACHE_H

#include <stdbool.h>
#include <stdint.h>

#include "http.h"
#include "store.h"

/*
 * On a hit for key whose keys are untouched since, fills res (status 200, text, ETag,
 * Last-Modified, Link; all copies owned by res), adds the entry's keys to deps and sets *rev0 to
 * the revision it was computed at, and returns true.
 */
bool cache_get(const char *key, struct http_response *res, struct store_keys *deps, int64_t *rev0);
/* Keeps a copy of res (already serialised: res->text set) under key, computed at rev0 from what
 * deps name. */
void cache_put(const char *key, const struct store_keys *deps, int64_t rev0,
	       const struct http_response *res);
/* Frees every entry (at shutdown). */
void cache_clear(void);

#endif
