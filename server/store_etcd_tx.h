/* Internal to the etcd backend's write transaction (store_etcd_tx.c: the overlay and the writes;
 * store_etcd_commit.c: the one txn that commits them). */
#ifndef VIGIL_STORE_ETCD_TX_H
#define VIGIL_STORE_ETCD_TX_H

#include <pthread.h>

#include "store_etcd.h"

/* One object as the transaction sees it. */
struct et_obj {
	char kind[STORE_KIND_MAX];
	char name[STORE_NAME_MAX];
	bool existed; /* in etcd when read */
	bool exists;  /* after the transaction's writes so far */
	bool changed;
	int order; /* of its first change: the feed lists changes in this order */
	int64_t create_rev, mod_rev, ms;
	json_t *spec, *status; /* owned */
	json_t *old_links;     /* as stored: {refs, tags, uniq} (owned) */
	json_t *links;	       /* now (owned) */
};

/* One token the transaction added or deleted. */
struct et_tok {
	struct store_token t;
	char digest[65], old_digest[65]; /* hex; old: as stored */
	bool existed, exists, changed;
	int order;
};

/* A key of the transaction's own beside objects and tokens (import reports and ownership,
 * store_etcd_import.c): put with value, deleted with value NULL. Both owned. */
struct et_raw {
	char *key;
	char *value;
};

struct et_tx {
	struct store_actor actor;
	struct store_keys touched;
	struct et_feed feed;
	struct et_obj **objs;
	size_t n_objs, cap_objs;
	struct et_tok *toks;
	size_t n_toks, cap_toks;
	int next_order;
	struct et_raw *raws;
	size_t n_raws, cap_raws;
	int64_t fence_rev; /* store_tx_fence: the leader term the commit compares (0: none) */
};

/* Puts (value copied) or deletes (value NULL) key in tx. Returns a store_rc. */
int et_tx_raw_set(struct et_tx *tx, const char *key, const char *value);
/* Does tx write key? 0 with *value (NULL: deleted), or 1 when it does not. */
int et_tx_raw_find(const struct et_tx *tx, const char *key, const char **value);
/* The import ownership of (kind, name) goes with it (inside tx). Returns a store_rc. */
int et_import_forget(struct et_tx *tx, const char *kind, const char *name);

/* The object (kind, name) as tx sees it, read from etcd on first use. NULL with *rc set when it
 * cannot be read. */
struct et_obj *et_tx_load(struct et_tx *tx, const char *kind, const char *name, int *rc);
/* Ends tx (its overlay freed, its memory kept) and releases the writer lock. */
void et_tx_end(struct et_tx *tx);

#endif
