/* Internal to the etcd backend (store_etcd.c: opening and reads; store_etcd_tx.c and
 * store_etcd_commit.c: the write transaction; store_etcd_feed.c: the change feed and the watch;
 * store_etcd_token.c: tokens). Nothing outside server/store_etcd*.c includes this. Keys, all
 * under the prefix (values JSON unless said):
 *   obj/KIND/NAME          {spec, status, ms, refs: [[k, n]], tags: [[k, n]], uniq: [key]}
 *   ref/TOKIND/TONAME/KIND/NAME, tag/TAGKIND/TAG/KIND/NAME   empty: the indexes of lists
 *   uniq/KEY               "KIND/NAME" of its holder
 *   token/ID               {id, role, node, description, created_ms, digest (hex SHA-256)}
 *   tokdig/HEX             the same, found by the digest of a secret
 *   kind/KIND              the time (ms) of the latest change to an object of KIND
 *   ev/SEQ                 {changes: [...]} of one write (SEQ zero-padded; the key's
 *                          create_revision is the write's revision)
 *   feed                   {seq, floor_seq, floor_rev, touched: [keys]}: written by every write,
 *                          so that a compare on its mod_revision serialises the writers and a
 *                          watch on it alone sees every write with the keys it touched.
 *   live/NODE              on a lease of --agent-timeout that the agent's heartbeats keep alive
 *   leader                 "host pid" of the vigild that runs the background work, on its lease:
 *                          its create_revision is the term a fenced commit compares
 *                          (store_etcd_live.c). Neither is in the feed. */
#ifndef VIGIL_STORE_ETCD_H
#define VIGIL_STORE_ETCD_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "etcd.h"
#include "store.h"

#define ET_KEY_MAX 512

struct et_global {
	char prefix[256];
	int64_t events_keep;
	store_notify_fn notify;
	struct etcd_opts opts; /* strings owned (copied at open) */
	int64_t revision;      /* the newest revision seen; __atomic */
};
extern struct et_global et_g;

/* This thread's client (created on first use), or NULL when out of memory. */
struct etcd_client *et_client(void);
/* An etcd_rc as a store_rc. */
int et_rc(int etcd_rc);
/* snprintf of the prefix followed by fmt into k (ET_KEY_MAX). */
void et_key(char *k, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int64_t et_now_ms(void);
/* The first key after every key starting with p (p ends in '/'): p with its last byte + 1. */
void et_prefix_end(char *end, const char *p);
/* Raises the revision seen to rev. */
void et_saw_revision(int64_t rev);

/* Copies the string member of JSON object j into dst ("" when absent). */
void et_json_str(char *dst, size_t len, const json_t *j, const char *member);
/* Fills t (and digest, when non-NULL: its hex SHA-256) from a token/ value. Returns a store_rc. */
int et_token_parse(const char *v, size_t len, struct store_token *t, char digest[65]);
/* Sets the range of a page of the names under p (a prefix ending in '/'): after `after`
 * (ascending, from p+after: the caller skips an exact match) or before `before` (descending).
 * key and end (ET_KEY_MAX) hold the range. */
void et_page_range(struct etcd_range_opts *o, char *key, char *end, const char *p,
		   const char *after, const char *before);
/* Number of keys under p, or a store_rc. */
int et_count_prefix(const char *p);
/* Reads of a parsed object value (obj/ key) into o (kind and name set by the caller). */
int et_obj_from_kv(struct store_obj *o, const struct etcd_kv *kv, json_t **links);

/* The open write transaction of this thread, or NULL (reads inside it see its writes). */
struct et_tx;
struct et_tx *et_tx_current(void);
/* Inside tx: the object as tx sees it: 0 with *out filled (caller clears), STORE_NOTFOUND,
 * or 1 when tx has not touched it (read etcd). */
int et_tx_get(struct et_tx *tx, const char *kind, const char *name, struct store_obj *out);
/* Inside tx: does it hold written or read objects of kind? Then lists merge them (see
 * et_tx_merge_list). */
bool et_tx_has_kind(struct et_tx *tx, const char *kind);
/* Inside tx: replaces out[0..n) (every etcd object of kind matching by/k2/n2, ascending, owned)
 * by what tx sees; returns the new count (cap: out's capacity) or a store_rc. */
int et_tx_merge_list(struct et_tx *tx, const char *kind, char by, const char *k2, const char *n2,
		     struct store_obj *out, int n, int cap);
/* Inside tx: the token as tx sees it (0, STORE_NOTFOUND, or 1: untouched). */
int et_tx_token_get(struct et_tx *tx, const char *id, struct store_token *out);
/* The watch thread: started at open, stopped at close. */
int et_watch_start(int64_t from_rev, char *err, size_t errlen);
void et_watch_stop(void);
/* Remembers rev as written by this process (its keys already published). */
void et_own_rev(int64_t rev);
/* Frees what the transaction keeps between uses. */
void et_tx_free(void);

/* Backend functions defined in store_etcd_tx.c, _commit.c, _feed.c and _token.c. */
int et_write_begin(const struct store_actor *actor, struct store_tx **tx);
int et_commit(struct store_tx *tx);
void et_rollback(struct store_tx *tx);
int et_put(struct store_tx *tx, const char *kind, const char *name, json_t *spec,
	   const struct store_links *links, bool must_create, bool *created, char *detail,
	   size_t detail_len);
int et_set_status(struct store_tx *tx, const char *kind, const char *name, json_t *status);
int et_delete(struct store_tx *tx, const char *kind, const char *name, char *detail,
	      size_t detail_len);
int et_token_find(const unsigned char digest[32], struct store_token *out);
int et_token_get(const char *id, struct store_token *out);
int et_token_count(void);
int et_token_list(const char *after, const char *before, int limit, struct store_token *out,
		  int *total);
int et_token_add(struct store_tx *tx, const struct store_token *t, const unsigned char digest[32]);
int et_token_delete(struct store_tx *tx, const char *id);
/* Shared liveness and leadership (store_etcd_live.c; store.h's store_live_*, store_lead and
 * store_tx_fence). et_live_fenced: a fenced commit of term_rev found leader at leader_rev (0:
 * gone): logs it and ends the term. et_live_close hands the lead over at close. */
int et_live_renew(const char *node, int64_t ttl_ms);
int et_live_alive(const char *node);
int et_lead(int64_t ttl_ms, int64_t *since_ms);
void et_tx_fence(struct store_tx *tx);
void et_live_fenced(int64_t term_rev, int64_t leader_rev);
void et_live_close(void);
/* Import reports and ownership (store_etcd_import.c; store.h's store_import_*). */
int et_import_add(struct store_tx *tx, const char *node, int64_t created_ms, const json_t *report,
		  int64_t *id);
int et_import_get(int64_t id, char *node, int64_t *created_ms, json_t **report);
int et_import_of_vip(const char *name, char *node, int *line);
int et_import_own(struct store_tx *tx, const char *kind, const char *name, const char *node);
int et_import_disown(struct store_tx *tx, const char *kind, const char *name, const char *node);
int et_import_owners(const char *kind, const char *name);
int et_import_owned_by(const char *node, json_t **list);
int et_changes(int64_t since, int limit, const struct store_match *match, struct store_change *out);
/* The feed value's fields (0 when the store is empty). */
struct et_feed {
	int64_t mod_rev, seq, floor_seq, floor_rev;
};
int et_feed_read(struct et_feed *f);
/* The actor of a change as stored, and back. */
json_t *et_actor_json(const struct store_actor *a);
void et_actor_parse(const json_t *j, struct store_actor *a);

#endif
