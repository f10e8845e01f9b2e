/* For the store only (server/store*.c): the table of functions a backend (SQLite in
 * store_sqlite.c, etcd in store_etcd*.c) implements behind store.h. store.c checks arguments and
 * records read tracking (store_track.h) before it calls the backend, so both backends depend and
 * wake the same way; a backend adds the keys its writes touch (sk_touch_*), because only it knows
 * what an object referenced before the write. struct store_tx is each backend's own: SQLite
 * defines it, etcd casts its struct et_tx to it. */
#ifndef VIGIL_STORE_BACKEND_H
#define VIGIL_STORE_BACKEND_H

#include "store.h"

/* The same contracts as the store.h functions of the same names, without read tracking. list:
 * by 0 lists all of kind, 'r' those referencing (k2, n2), 't' those tagged (k2, n2). A page
 * before a name (list, token_list) comes nearest first: store.c puts it in name order. */
struct store_backend {
	int64_t (*revision)(void);
	int (*get)(const char *kind, const char *name, struct store_obj *out);
	int (*list)(const char *kind, char by, const char *k2, const char *n2, const char *after,
		    const char *before, int limit, struct store_obj *out, int *total);
	int (*count)(const char *kind);
	int64_t (*kind_modified_ms)(const char *kind);
	int (*write_begin)(const struct store_actor *actor, struct store_tx **tx);
	int (*commit)(struct store_tx *tx);
	void (*rollback)(struct store_tx *tx);
	int (*put)(struct store_tx *tx, const char *kind, const char *name, json_t *spec,
		   const struct store_links *links, bool must_create, bool *created, char *detail,
		   size_t detail_len);
	int (*set_status)(struct store_tx *tx, const char *kind, const char *name, json_t *status);
	int (*del)(struct store_tx *tx, const char *kind, const char *name, char *detail,
		   size_t detail_len);
	int (*changes)(int64_t since, int limit, const struct store_match *match,
		       struct store_change *out);
	int (*token_add)(struct store_tx *tx, const struct store_token *t,
			 const unsigned char digest[32]);
	int (*token_find)(const unsigned char digest[32], struct store_token *out);
	int (*token_get)(const char *id, struct store_token *out);
	int (*token_delete)(struct store_tx *tx, const char *id);
	int (*token_list)(const char *after, const char *before, int limit, struct store_token *out,
			  int *total);
	int (*token_count)(void);
	int (*import_add)(struct store_tx *tx, const char *node, int64_t created_ms,
			  const json_t *report, int64_t *id);
	int (*import_get)(int64_t id, char *node, int64_t *created_ms, json_t **report);
	int (*import_of_vip)(const char *name, char *node, int *line);
	int (*import_own)(struct store_tx *tx, const char *kind, const char *name,
			  const char *node);
	int (*import_disown)(struct store_tx *tx, const char *kind, const char *name,
			     const char *node);
	int (*import_owners)(const char *kind, const char *name);
	int (*import_owned_by)(const char *node, json_t **list);
	/* Shared liveness and leadership (store.h's store_live_*, store_lead, store_tx_fence):
	 * NULL in a backend that one vigild owns (SQLite). */
	int (*live_renew)(const char *node, int64_t ttl_ms);
	int (*live_alive)(const char *node);
	int (*lead)(int64_t ttl_ms, int64_t *since_ms);
	void (*tx_fence)(struct store_tx *tx);
	void (*thread_done)(void);
	void (*close)(void);
};

extern const struct store_backend store_sqlite;
extern const struct store_backend store_etcd;

/* Makes be the backend every store.h call goes to (its open function calls this on success). */
void store_use_backend(const struct store_backend *be);

#endif
