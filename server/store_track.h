/* For the store's backends only (store*.c): how reads record their keys and how a commit publishes
 * the keys it touched. The key names are documented in store.h; every backend uses these. */
#ifndef VIGIL_STORE_TRACK_H
#define VIGIL_STORE_TRACK_H

#include <stdint.h>

#include "store.h"

/* Reads: record a dependency on this thread's tracked set (no-op when none). */
void sk_track_obj(const char *kind, const char *name);
void sk_track_kind(const char *kind); /* NULL: anything */
void sk_track_refs(const char *to_kind, const char *to_name, const char *kind);
void sk_track_match(const struct store_match *m); /* the changes of one actor */

/* Writes: build the touched keys of a transaction. */
void sk_touch_obj(struct store_keys *ks, const char *kind, const char *name);
void sk_touch_ref(struct store_keys *ks, const char *to_kind, const char *to_name,
		  const char *kind);
/* Touches the "@" keys of every filter that actor's changes match. */
void sk_touch_actor(struct store_keys *ks, const struct store_actor *a);

/* After a commit is visible and its revision published: every key of touched now has revision
 * rev (store_keys_rev sees it). */
void sk_publish(int64_t rev, const struct store_keys *touched);
/* Frees the revision table (at store_close). */
void sk_reset(void);

#endif
