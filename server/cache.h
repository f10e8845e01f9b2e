/* Serialised GET answers kept for the store revision they were computed at: any write moves the
 * revision and so retires every entry at once. It makes repeated GETs and 304 revalidations cost a
 * lookup instead of a render. Bounded: a fixed table, newer entries replace older ones. */
#ifndef VIGIL_CACHE_H
#define VIGIL_CACHE_H

#include <stdbool.h>
#include <stdint.h>

#include "http.h"

/* On a hit for key at revision rev, fills res (status 200, text, ETag, Last-Modified, Link; all
 * copies owned by res) and returns true. */
bool cache_get(const char *key, int64_t rev, struct http_response *res);
/* Keeps a copy of res (already serialised: res->text set) under key for revision rev. */
void cache_put(const char *key, int64_t rev, const struct http_response *res);
/* Frees every entry (at shutdown). */
void cache_clear(void);

#endif
