/* keepalived.conf import reports in the store (see store.h): rows of their own, beside the
 * objects an import writes. */
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>

#include "store.h"
#include "store_sql.h"

int
store_import_add(struct store_tx *tx, const char *node, int64_t created_ms, const json_t *report,
		 int64_t *id)
{
	sqlite3_stmt *s = sq_stmt(S_IMP_ADD);
	char *text = json_dumps(report, JSON_COMPACT);
	int rc;

	(void)tx; /* the handle proves a write transaction is open */
	if (s == NULL || text == NULL) {
		free(text);
		return s == NULL ? STORE_BUSY : STORE_ERROR;
	}
	sq_bind_text(s, 1, node);
	sqlite3_bind_int64(s, 2, created_ms);
	sq_bind_text(s, 3, text);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		*id = sqlite3_column_int64(s, 0);
		rc = sqlite3_step(s);
	}
	sq_done(s);
	free(text);
	return rc == SQLITE_DONE ? STORE_OK : sq_rc(rc);
}

int
store_import_get(int64_t id, char *node, int64_t *created_ms, json_t **report)
{
	sqlite3_stmt *s = sq_stmt(S_IMP_GET);
	int rc = STORE_NOTFOUND;

	if (s == NULL)
		return STORE_BUSY;
	sqlite3_bind_int64(s, 1, id);
	if (sqlite3_step(s) == SQLITE_ROW) {
		sq_copy_col(node, STORE_NAME_MAX, s, 0);
		*created_ms = sqlite3_column_int64(s, 1);
		*report = sq_json_col(s, 2);
		rc = *report != NULL ? STORE_OK : STORE_ERROR;
	}
	sq_done(s);
	return rc;
}

int
store_import_of_vip(const char *name, char *node, int *line)
{
	sqlite3_stmt *s = sq_stmt(S_IMP_OF_VIP);
	int rc = STORE_NOTFOUND;

	if (s == NULL)
		return STORE_BUSY;
	sq_bind_text(s, 1, name);
	if (sqlite3_step(s) == SQLITE_ROW) {
		sq_copy_col(node, STORE_NAME_MAX, s, 0);
		*line = sqlite3_column_int(s, 1);
		rc = STORE_OK;
	}
	sq_done(s);
	return rc;
}

/* Runs statement id with the text parameters args (n of them) to completion. */
static int
run_text(enum stmt_id id, const char *const args[], int n)
{
	sqlite3_stmt *s = sq_stmt(id);
	int rc;

	if (s == NULL)
		return STORE_BUSY;
	for (int i = 0; i < n; i++)
		sq_bind_text(s, i + 1, args[i]);
	rc = sqlite3_step(s);
	sq_done(s);
	return rc == SQLITE_DONE ? STORE_OK : sq_rc(rc);
}

int
store_import_own(struct store_tx *tx, const char *kind, const char *name, const char *node)
{
	const char *args[] = {kind, name, node};

	(void)tx;
	return run_text(S_IMP_OWN, args, 3);
}

int
store_import_disown(struct store_tx *tx, const char *kind, const char *name, const char *node)
{
	const char *args[] = {kind, name, node};

	(void)tx;
	return run_text(S_IMP_DISOWN, args, 3);
}

int
store_import_owners(const char *kind, const char *name)
{
	sqlite3_stmt *s = sq_stmt(S_IMP_OWNERS);
	int n = STORE_ERROR;

	if (s == NULL)
		return STORE_BUSY;
	sq_bind_text(s, 1, kind);
	sq_bind_text(s, 2, name);
	if (sqlite3_step(s) == SQLITE_ROW)
		n = sqlite3_column_int(s, 0);
	sq_done(s);
	return n;
}

int
store_import_owned_by(const char *node, json_t **list)
{
	sqlite3_stmt *s = sq_stmt(S_IMP_OWNED_BY);
	int rc;

	if (s == NULL)
		return STORE_BUSY;
	*list = json_array();
	sq_bind_text(s, 1, node);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW)
		json_array_append_new(*list, json_pack("[s, s]", sqlite3_column_text(s, 0),
						       sqlite3_column_text(s, 1)));
	sq_done(s);
	if (rc == SQLITE_DONE)
		return STORE_OK;
	json_decref(*list);
	*list = NULL;
	return sq_rc(rc);
}
