/* API tokens in the store: only the SHA-256 of each secret is kept; a lookup by the digest's
 * first 8 bytes (indexed) is followed by a constant-time comparison of the whole digest. */
#include <sqlite3.h>
#include <stdio.h>
#include <string.h>

#include "store.h"
#include "store_sql.h"
#include "store_track.h"

/* Deletes the agent tokens bound to node, each with its own change. */
int
sq_delete_node_tokens(struct store_tx *tx, const char *node)
{
	char ids[64][STORE_NAME_MAX];
	int n = 0, rc = STORE_OK;
	sqlite3_stmt *s = sq_stmt(S_TOK_OF_NODE);
	if (s == NULL)
		return STORE_BUSY;
	sq_bind_text(s, 1, node);
	while (n < 64 && sqlite3_step(s) == SQLITE_ROW)
		sq_copy_col(ids[n++], STORE_NAME_MAX, s, 0);
	sq_done(s);
	for (int i = 0; i < n && rc == STORE_OK; i++)
		rc = sq_token_delete(tx, ids[i]);
	return rc;
}

static int64_t
digest_prefix(const unsigned char d[32])
{
	uint64_t v = 0;

	for (int i = 0; i < 8; i++)
		v = v << 8 | d[i];
	return (int64_t)v;
}

int
sq_token_add(struct store_tx *tx, const struct store_token *t, const unsigned char digest[32])
{
	sqlite3_stmt *s = sq_stmt(S_TOK_ADD);
	int64_t rev;
	int rc;

	if (s == NULL)
		return STORE_BUSY;
	sq_bind_text(s, 1, t->id);
	sqlite3_bind_int64(s, 2, digest_prefix(digest));
	sqlite3_bind_blob(s, 3, digest, 32, SQLITE_TRANSIENT);
	sq_bind_text(s, 4, t->role);
	sq_bind_text(s, 5, t->node[0] ? "node" : NULL);
	sq_bind_text(s, 6, t->node[0] ? t->node : NULL);
	sq_bind_text(s, 7, t->description);
	sqlite3_bind_int64(s, 8, t->created_ms);
	if ((rc = sq_exec(s)) != STORE_OK)
		return rc == STORE_UNIQUE ? STORE_EXISTS : rc;
	return sq_add_change(tx, "created", "token", t->id, t->created_ms, &rev);
}

static void
token_from_row(struct store_token *t, sqlite3_stmt *s)
{
	sq_copy_col(t->id, sizeof(t->id), s, 0);
	sq_copy_col(t->role, sizeof(t->role), s, 1);
	sq_copy_col(t->node, sizeof(t->node), s, 2);
	sq_copy_col(t->description, sizeof(t->description), s, 3);
	t->created_ms = sqlite3_column_int64(s, 4);
}

int
sq_token_find(const unsigned char digest[32], struct store_token *out)
{
	sqlite3_stmt *s = sq_stmt(S_TOK_FIND);
	int rc = STORE_NOTFOUND;

	if (s == NULL)
		return STORE_BUSY;
	sqlite3_bind_int64(s, 1, digest_prefix(digest));
	while (sqlite3_step(s) == SQLITE_ROW) {
		const unsigned char *d = sqlite3_column_blob(s, 5);
		unsigned char diff = 0;
		if (d == NULL || sqlite3_column_bytes(s, 5) != 32)
			continue;
		for (int i = 0; i < 32; i++) /* constant time over the whole digest */
			diff |= (unsigned char)(d[i] ^ digest[i]);
		if (diff == 0) {
			token_from_row(out, s);
			rc = STORE_OK;
		}
	}
	sq_done(s);
	return rc;
}

int
sq_token_get(const char *id, struct store_token *out)
{
	sqlite3_stmt *s = sq_stmt(S_TOK_GET);
	int rc;

	if (s == NULL)
		return STORE_BUSY;
	sq_bind_text(s, 1, id);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW)
		token_from_row(out, s);
	sq_done(s);
	return rc == SQLITE_ROW ? STORE_OK : rc == SQLITE_DONE ? STORE_NOTFOUND : sq_rc(rc);
}

int
sq_token_delete(struct store_tx *tx, const char *id)
{
	sqlite3_stmt *s = sq_stmt(S_TOK_DEL);
	int64_t rev;
	int rc;

	if (s == NULL)
		return STORE_BUSY;
	sq_bind_text(s, 1, id);
	if ((rc = sq_exec(s)) != STORE_OK)
		return rc;
	if (sq_changes() == 0)
		return STORE_NOTFOUND;
	return sq_add_change(tx, "deleted", "token", id, sq_now_ms(), &rev);
}

int
sq_token_list(const char *after, const char *before, int limit, struct store_token *out, int *total)
{
	sqlite3_stmt *s = sq_stmt(before ? S_TOK_LIST_DESC : S_TOK_LIST_ASC);
	int n = 0;

	if (s == NULL)
		return STORE_BUSY;
	sq_bind_text(s, 1, before ? before : (after ? after : ""));
	sqlite3_bind_int(s, 2, limit);
	while (n < limit && sqlite3_step(s) == SQLITE_ROW)
		token_from_row(&out[n++], s);
	sq_done(s);
	*total = sq_token_count();
	return *total < 0 ? *total : n;
}

int
sq_token_count(void)
{
	return sq_count(S_TOK_COUNT, NULL, NULL, NULL);
}
