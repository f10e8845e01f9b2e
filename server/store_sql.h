/* Internal to the store (store.c, store_conn.c, store_token.c): the prepared statements and the
 * helpers every part of the store uses. Nothing outside server/store*.c includes this. */
#ifndef VIGIL_STORE_SQL_H
#define VIGIL_STORE_SQL_H

#include <jansson.h>
#include <sqlite3.h>
#include <stdbool.h>
#include <stdint.h>

#include "store.h"

enum stmt_id {
	S_GET,
	S_LIST_ASC,
	S_LIST_DESC,
	S_LIST_REF_ASC,
	S_LIST_REF_DESC,
	S_LIST_REF_TOTAL,
	S_LIST_TAG_ASC,
	S_LIST_TAG_DESC,
	S_LIST_TAG_TOTAL,
	S_DEL_TAGS,
	S_ADD_TAG,
	S_TAGS_OF,
	S_COUNT,
	S_KIND_MOD,
	S_EXISTS,
	S_INSERT,
	S_UPDATE_SPEC,
	S_GET_STATUS,
	S_UPDATE_STATUS,
	S_DELETE,
	S_DEL_REFS,
	S_ADD_REF,
	S_REFERRER,
	S_DEL_UNIQUES,
	S_ADD_UNIQUE,
	S_UNIQUE_OWNER,
	S_ADD_CHANGE,
	S_TOUCH_KIND,
	S_CHANGES_AFTER,
	S_CHANGES_LATEST,
	S_CHANGES_ACTOR_AFTER, /* one token's, or one system actor's */
	S_CHANGES_ACTOR_LATEST,
	S_CHANGES_SYSTEM_AFTER, /* any system actor's */
	S_CHANGES_SYSTEM_LATEST,
	S_CHANGES_NODE_AFTER, /* the agent tokens' of one node */
	S_CHANGES_NODE_LATEST,
	S_FLOOR,
	S_SET_META,
	S_TRIM,
	S_MAX_REV,
	S_REFS_OF,
	S_UNIQUES_OF,
	S_TOK_ADD,
	S_TOK_FIND,
	S_TOK_GET,
	S_TOK_DEL,
	S_TOK_LIST_ASC,
	S_TOK_LIST_DESC,
	S_TOK_COUNT,
	S_TOK_OF_NODE,
	S_IMP_ADD,
	S_IMP_GET,
	S_IMP_OF_VIP,
	S_IMP_OWN,
	S_IMP_DISOWN,
	S_IMP_OWNERS,
	S_IMP_OWNED_BY,
	S_MAX
};

/* Opens this thread's connection to path (WAL, migrations applied). Returns a store_rc. */
int sq_connect(const char *path, char *err, size_t errlen);
/* A reset statement of this thread's connection (prepared on first use), or NULL. */
sqlite3_stmt *sq_stmt(enum stmt_id id);
/* Resets s and clears its bindings after use. */
void sq_done(sqlite3_stmt *s);
void sq_bind_text(sqlite3_stmt *s, int i, const char *v); /* NULL binds SQL NULL */
void sq_copy_col(char *dst, size_t len, sqlite3_stmt *s, int col);
json_t *sq_json_col(sqlite3_stmt *s, int col); /* new reference or NULL */
/* Steps a statement that returns no rows, then resets it. Returns a store_rc (constraint
 * failures are STORE_UNIQUE). */
int sq_exec(sqlite3_stmt *s);
int sq_raw(const char *sql);
int sq_rc(int sqlite_rc);
/* count(*) of a counting statement bound with a (and b, c when it takes them). */
int sq_count(enum stmt_id id, const char *a, const char *b, const char *c);
/* Rows changed by this thread's last statement. */
int sq_changes(void);
/* The database file's path. */
const char *sq_path(void);
int64_t sq_meta_get(const char *key);
int64_t sq_now_ms(void);

/* Appends a change, bumps the revision and touches the object's keys (store.c). */
int sq_add_change(struct store_tx *tx, const char *op, const char *kind, const char *name,
		  int64_t ts, int64_t *rev);
/* Frees what the write transaction keeps between uses (store_close). */
void sq_tx_free(void);
/* Deletes the agent tokens bound to node, each with its change (store_token.c). */
int sq_delete_node_tokens(struct store_tx *tx, const char *node);

#endif
