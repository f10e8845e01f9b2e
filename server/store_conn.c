/* The store's connections: one per thread (WAL lets readers run beside the writer), each with
 * its statements prepared once, references enforced (foreign_keys), and the embedded migrations
 * applied by user_version. Durability: SQLite itself does not sync at commit
 * (synchronous=NORMAL); store.c syncs the WAL before any write is acknowledged, one fdatasync
 * shared by the writers that committed meanwhile (group commit). */
#include <pthread.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "embedded.h"
#include "store.h"
#include "store_sql.h"
#include "store_track.h"

/* The columns of a change, as read_changes (store.c) takes them. */
#define CHANGE_COLS                                                                                \
	"rev, op, kind, name, ts_ms, actor_type, actor_id, actor_role, actor_node, "               \
	"actor_description"

static const char *const stmt_sql[S_MAX] = {
    [S_GET] = "SELECT spec, status, create_rev, mod_rev, modified_ms FROM objects "
	      "WHERE kind = ?1 AND name = ?2",
    [S_LIST_ASC] = "SELECT name, spec, status, create_rev, mod_rev, modified_ms FROM objects "
		   "WHERE kind = ?1 AND name > ?2 ORDER BY name LIMIT ?3",
    [S_LIST_DESC] = "SELECT name, spec, status, create_rev, mod_rev, modified_ms FROM objects "
		    "WHERE kind = ?1 AND name < ?2 ORDER BY name DESC LIMIT ?3",
    /* By reference: the refs_by_target index gives the referrers of a target in name order. */
    [S_LIST_REF_ASC] = "SELECT o.name, o.spec, o.status, o.create_rev, o.mod_rev, o.modified_ms "
		       "FROM refs r JOIN objects o ON o.kind = r.kind AND o.name = r.name "
		       "WHERE r.to_kind = ?4 AND r.to_name = ?5 AND r.kind = ?1 AND r.name > ?2 "
		       "ORDER BY r.name LIMIT ?3",
    [S_LIST_REF_DESC] = "SELECT o.name, o.spec, o.status, o.create_rev, o.mod_rev, o.modified_ms "
			"FROM refs r JOIN objects o ON o.kind = r.kind AND o.name = r.name "
			"WHERE r.to_kind = ?4 AND r.to_name = ?5 AND r.kind = ?1 AND r.name < ?2 "
			"ORDER BY r.name DESC LIMIT ?3",
    [S_LIST_REF_TOTAL] = "SELECT count(*) FROM refs WHERE kind = ?1 AND to_kind = ?2 AND "
			 "to_name = ?3",
    /* By tag (schema 4): the tags primary key gives the carriers of a tag in name order. */
    [S_LIST_TAG_ASC] = "SELECT o.name, o.spec, o.status, o.create_rev, o.mod_rev, o.modified_ms "
		       "FROM tags t JOIN objects o ON o.kind = t.kind AND o.name = t.name "
		       "WHERE t.tag_kind = ?4 AND t.tag = ?5 AND t.kind = ?1 AND t.name > ?2 "
		       "ORDER BY t.name LIMIT ?3",
    [S_LIST_TAG_DESC] = "SELECT o.name, o.spec, o.status, o.create_rev, o.mod_rev, o.modified_ms "
			"FROM tags t JOIN objects o ON o.kind = t.kind AND o.name = t.name "
			"WHERE t.tag_kind = ?4 AND t.tag = ?5 AND t.kind = ?1 AND t.name < ?2 "
			"ORDER BY t.name DESC LIMIT ?3",
    [S_LIST_TAG_TOTAL] = "SELECT count(*) FROM tags WHERE kind = ?1 AND tag_kind = ?2 AND "
			 "tag = ?3",
    [S_DEL_TAGS] = "DELETE FROM tags WHERE kind = ?1 AND name = ?2",
    [S_ADD_TAG] = "INSERT OR IGNORE INTO tags (tag_kind, tag, kind, name) VALUES (?3, ?4, ?1, ?2)",
    [S_TAGS_OF] = "SELECT tag_kind, tag FROM tags WHERE kind = ?1 AND name = ?2 "
		  "ORDER BY tag_kind, tag",
    [S_COUNT] = "SELECT count(*) FROM objects WHERE kind = ?1",
    [S_KIND_MOD] = "SELECT max(modified_ms) FROM kinds WHERE ?1 IS NULL OR kind = ?1",
    [S_EXISTS] = "SELECT 1 FROM objects WHERE kind = ?1 AND name = ?2",
    [S_INSERT] = "INSERT INTO objects (kind, name, spec, status, create_rev, mod_rev, "
		 "modified_ms) VALUES (?1, ?2, ?3, ?4, ?5, ?5, ?6)",
    [S_UPDATE_SPEC] = "UPDATE objects SET spec = ?3, mod_rev = ?4, modified_ms = ?5 "
		      "WHERE kind = ?1 AND name = ?2",
    [S_GET_STATUS] = "SELECT status FROM objects WHERE kind = ?1 AND name = ?2",
    [S_UPDATE_STATUS] = "UPDATE objects SET status = ?3, mod_rev = ?4, modified_ms = ?5 "
			"WHERE kind = ?1 AND name = ?2",
    [S_DELETE] = "DELETE FROM objects WHERE kind = ?1 AND name = ?2",
    [S_DEL_REFS] = "DELETE FROM refs WHERE kind = ?1 AND name = ?2",
    [S_ADD_REF] = "INSERT OR IGNORE INTO refs (kind, name, to_kind, to_name) "
		  "VALUES (?1, ?2, ?3, ?4)",
    [S_REFERRER] = "SELECT kind, name FROM refs WHERE to_kind = ?1 AND to_name = ?2 "
		   "ORDER BY kind, name LIMIT 1",
    [S_DEL_UNIQUES] = "DELETE FROM uniques WHERE kind = ?1 AND name = ?2",
    [S_ADD_UNIQUE] = "INSERT INTO uniques (key, kind, name) VALUES (?1, ?2, ?3)",
    [S_UNIQUE_OWNER] = "SELECT kind, name FROM uniques WHERE key = ?1",
    [S_ADD_CHANGE] = "INSERT INTO changes (rev, op, kind, name, ts_ms, actor_type, actor_id, "
		     "actor_role, actor_node, actor_description) "
		     "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
    [S_TOUCH_KIND] = "INSERT INTO kinds (kind, modified_ms) VALUES (?1, ?2) "
		     "ON CONFLICT (kind) DO UPDATE SET modified_ms = excluded.modified_ms",
    /* The feed, whole or one actor's (schema 003's indexes): ?1 since (-1: from the start),
     * ?2 limit, then the actor's type and id (?3, ?4) or its node (?3). */
    [S_CHANGES_AFTER] = "SELECT " CHANGE_COLS " FROM changes WHERE rev > ?1 "
			"ORDER BY rev LIMIT ?2",
    [S_CHANGES_LATEST] = "SELECT " CHANGE_COLS " FROM (SELECT * FROM changes "
			 "ORDER BY rev DESC LIMIT ?2) ORDER BY rev",
    [S_CHANGES_ACTOR_AFTER] = "SELECT " CHANGE_COLS " FROM changes WHERE actor_type = ?3 AND "
			      "actor_id = ?4 AND rev > ?1 ORDER BY rev LIMIT ?2",
    [S_CHANGES_ACTOR_LATEST] = "SELECT " CHANGE_COLS " FROM (SELECT * FROM changes WHERE "
			       "actor_type = ?3 AND actor_id = ?4 AND rev > ?1 "
			       "ORDER BY rev DESC LIMIT ?2) ORDER BY rev",
    [S_CHANGES_SYSTEM_AFTER] = "SELECT " CHANGE_COLS " FROM changes WHERE actor_type = 'system' "
			       "AND rev > ?1 ORDER BY rev LIMIT ?2",
    [S_CHANGES_SYSTEM_LATEST] = "SELECT " CHANGE_COLS " FROM (SELECT * FROM changes WHERE "
				"actor_type = 'system' AND rev > ?1 ORDER BY rev DESC LIMIT ?2) "
				"ORDER BY rev",
    [S_CHANGES_NODE_AFTER] = "SELECT " CHANGE_COLS " FROM changes WHERE actor_node = ?3 AND "
			     "rev > ?1 ORDER BY rev LIMIT ?2",
    [S_CHANGES_NODE_LATEST] = "SELECT " CHANGE_COLS " FROM (SELECT * FROM changes WHERE "
			      "actor_node = ?3 AND rev > ?1 ORDER BY rev DESC LIMIT ?2) "
			      "ORDER BY rev",
    [S_FLOOR] = "SELECT value FROM meta WHERE key = ?1",
    [S_SET_META] = "UPDATE meta SET value = ?2 WHERE key = ?1",
    [S_TRIM] = "DELETE FROM changes WHERE rev <= ?1",
    [S_MAX_REV] = "SELECT max(rev) FROM changes",
    [S_REFS_OF] = "SELECT to_kind, to_name FROM refs WHERE kind = ?1 AND name = ?2 "
		  "ORDER BY to_kind, to_name",
    [S_UNIQUES_OF] = "SELECT key FROM uniques WHERE kind = ?1 AND name = ?2 ORDER BY key",
    [S_TOK_ADD] = "INSERT INTO tokens (id, prefix, digest, role, node_kind, node, description, "
		  "created_ms) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
    [S_TOK_FIND] = "SELECT id, role, node, description, created_ms, digest FROM tokens "
		   "WHERE prefix = ?1",
    [S_TOK_GET] = "SELECT id, role, node, description, created_ms FROM tokens WHERE id = ?1",
    [S_TOK_DEL] = "DELETE FROM tokens WHERE id = ?1",
    [S_TOK_LIST_ASC] = "SELECT id, role, node, description, created_ms FROM tokens "
		       "WHERE id > ?1 ORDER BY id LIMIT ?2",
    [S_TOK_LIST_DESC] = "SELECT id, role, node, description, created_ms FROM tokens "
			"WHERE id < ?1 ORDER BY id DESC LIMIT ?2",
    [S_TOK_COUNT] = "SELECT count(*) FROM tokens",
    [S_TOK_OF_NODE] = "SELECT id FROM tokens WHERE node = ?1",
    [S_IMP_ADD] = "INSERT INTO imports (node, created_ms, report) VALUES (?1, ?2, ?3) RETURNING id",
    [S_IMP_GET] = "SELECT node, created_ms, report FROM imports WHERE id = ?1",
    /* The latest import that wrote VIP ?1, and the line of the file it came from. */
    [S_IMP_OF_VIP] = "SELECT i.node, json_extract(r.value, '$.line') FROM imports i, "
		     "json_each(i.report, '$.resources') r WHERE json_extract(r.value, '$.kind') = "
		     "'vip' AND json_extract(r.value, '$.name') = ?1 ORDER BY i.id DESC LIMIT 1",
    [S_IMP_OWN] = "INSERT OR IGNORE INTO import_owned (kind, name, node) VALUES (?1, ?2, ?3)",
    [S_IMP_DISOWN] = "DELETE FROM import_owned WHERE kind = ?1 AND name = ?2 AND node = ?3",
    [S_IMP_OWNERS] = "SELECT count(*) FROM import_owned WHERE kind = ?1 AND name = ?2",
    [S_IMP_OWNED_BY] = "SELECT kind, name FROM import_owned WHERE node = ?1 ORDER BY kind, name",
};

/* One thread's connection. Owned by the global list; freed by store_close/store_thread_done. */
struct conn {
	sqlite3 *db;
	sqlite3_stmt *stmt[S_MAX];
	struct conn *next;
};
static struct {
	char path[4096];
	pthread_mutex_t list_lock;
	struct conn *conns;
} c_g = {
    .list_lock = PTHREAD_MUTEX_INITIALIZER,
};

static __thread struct conn *tl_conn;

int64_t
sq_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int
sq_rc(int sqlite_rc)
{
	if (sqlite_rc == SQLITE_BUSY || sqlite_rc == SQLITE_LOCKED || sqlite_rc == SQLITE_IOERR ||
	    sqlite_rc == SQLITE_FULL || sqlite_rc == SQLITE_CANTOPEN)
		return STORE_BUSY;
	return STORE_ERROR;
}

static void
conn_free(struct conn *c)
{
	for (int i = 0; i < S_MAX; i++)
		sqlite3_finalize(c->stmt[i]);
	sqlite3_close(c->db);
	free(c);
}

/* Opens a connection with the per-connection pragmas. Returns NULL on failure (msg in err). */
static struct conn *
conn_open(char *err, size_t errlen)
{
	struct conn *c = calloc(1, sizeof(*c));

	if (c == NULL)
		return NULL;
	if (sqlite3_open_v2(c_g.path, &c->db,
			    SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
			    NULL) != SQLITE_OK) {
		snprintf(err, errlen, "%.200s: %.200s", c_g.path, sqlite3_errmsg(c->db));
		conn_free(c);
		return NULL;
	}
	sqlite3_busy_timeout(c->db, 5000);
	if (sqlite3_exec(c->db, "PRAGMA foreign_keys = ON; PRAGMA synchronous = NORMAL;", NULL,
			 NULL, NULL) != SQLITE_OK) {
		snprintf(err, errlen, "%.200s: %.200s", c_g.path, sqlite3_errmsg(c->db));
		conn_free(c);
		return NULL;
	}
	return c;
}

/* This thread's connection, opened on first use. NULL when the database cannot be opened. */
static struct conn *
conn_get(void)
{
	char err[512];

	if (tl_conn != NULL)
		return tl_conn;
	tl_conn = conn_open(err, sizeof(err));
	if (tl_conn == NULL)
		return NULL;
	pthread_mutex_lock(&c_g.list_lock);
	tl_conn->next = c_g.conns;
	c_g.conns = tl_conn;
	pthread_mutex_unlock(&c_g.list_lock);
	return tl_conn;
}

/* A reset, cleared statement of this thread's connection, or NULL. */
sqlite3_stmt *
sq_stmt(enum stmt_id id)
{
	struct conn *c = conn_get();

	if (c == NULL)
		return NULL;
	if (c->stmt[id] == NULL &&
	    sqlite3_prepare_v3(c->db, stmt_sql[id], -1, SQLITE_PREPARE_PERSISTENT, &c->stmt[id],
			       NULL) != SQLITE_OK) {
		fprintf(stderr, "vigild: store: prepare: %s\n", sqlite3_errmsg(c->db));
		return NULL;
	}
	return c->stmt[id];
}

void
sq_done(sqlite3_stmt *s)
{
	sqlite3_reset(s);
	sqlite3_clear_bindings(s);
}

void
sq_bind_text(sqlite3_stmt *s, int i, const char *v)
{
	if (v == NULL)
		sqlite3_bind_null(s, i);
	else
		sqlite3_bind_text(s, i, v, -1, SQLITE_TRANSIENT);
}

void
sq_copy_col(char *dst, size_t len, sqlite3_stmt *s, int col)
{
	const unsigned char *t = sqlite3_column_text(s, col);

	snprintf(dst, len, "%s", t ? (const char *)t : "");
}

json_t *
sq_json_col(sqlite3_stmt *s, int col)
{
	const char *t = (const char *)sqlite3_column_text(s, col);

	return t ? json_loads(t, 0, NULL) : NULL;
}

/* The highest schema/NNN_*.sql number compiled in. */
static int
schema_known(void)
{
	int known = 0;

	for (const struct embedded_file *f = embedded_files; f->name != NULL; f++) {
		const char *base = strrchr(f->name, '/');
		if (strncmp(f->name, "schema/", 7) == 0 && base != NULL && atoi(base + 1) > known)
			known = atoi(base + 1);
	}
	return known;
}

/* Applies embedded schema/NNN_*.sql files whose number exceeds PRAGMA user_version. Refuses a
 * database a newer vigild migrated: this one would misread it (rolling back an upgrade means
 * restoring the backup taken before it). */
static int
migrate(sqlite3 *db, char *err, size_t errlen)
{
	sqlite3_stmt *s;
	int version = 0;

	if (sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &s, NULL) != SQLITE_OK)
		goto fail;
	if (sqlite3_step(s) == SQLITE_ROW)
		version = sqlite3_column_int(s, 0);
	sqlite3_finalize(s);
	if (version > schema_known()) {
		snprintf(err, errlen,
			 "schema %d is newer than this vigild's (%d): run the newer vigild, or "
			 "restore the backup taken before upgrading",
			 version, schema_known());
		return STORE_ERROR;
	}
	for (const struct embedded_file *f = embedded_files; f->name != NULL; f++) {
		const char *base = strrchr(f->name, '/');
		int n;
		char sql[64];

		if (strncmp(f->name, "schema/", 7) != 0 || base == NULL)
			continue;
		n = atoi(base + 1);
		if (n <= version)
			continue;
		snprintf(sql, sizeof(sql), "PRAGMA user_version = %d", n);
		if (sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK ||
		    sqlite3_exec(db, (const char *)f->data, NULL, NULL, NULL) != SQLITE_OK ||
		    sqlite3_exec(db, sql, NULL, NULL, NULL) != SQLITE_OK ||
		    sqlite3_exec(db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK) {
			snprintf(err, errlen, "migration %s: %s", f->name, sqlite3_errmsg(db));
			sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
			return STORE_ERROR;
		}
		version = n;
	}
	return STORE_OK;
fail:
	snprintf(err, errlen, "%s", sqlite3_errmsg(db));
	return STORE_ERROR;
}

int64_t
sq_meta_get(const char *key)
{
	sqlite3_stmt *s = sq_stmt(S_FLOOR);
	int64_t v = 0;

	if (s == NULL)
		return 0;
	sq_bind_text(s, 1, key);
	if (sqlite3_step(s) == SQLITE_ROW)
		v = sqlite3_column_int64(s, 0);
	sq_done(s);
	return v;
}

/* Runs a statement that returns no rows; returns a store_rc. */
int
sq_exec(sqlite3_stmt *s)
{
	int rc = sqlite3_step(s);

	sq_done(s);
	if (rc == SQLITE_DONE)
		return STORE_OK;
	if ((rc & 0xff) == SQLITE_CONSTRAINT)
		return STORE_UNIQUE;
	return sq_rc(rc);
}

int
sq_raw(const char *sql)
{
	struct conn *c = conn_get();

	if (c == NULL)
		return STORE_BUSY;
	int rc = sqlite3_exec(c->db, sql, NULL, NULL, NULL);
	return rc == SQLITE_OK ? STORE_OK : sq_rc(rc);
}

int
sq_count(enum stmt_id id, const char *a, const char *b, const char *c)
{
	sqlite3_stmt *s = sq_stmt(id);
	int n = STORE_BUSY;

	if (s == NULL)
		return n;
	sq_bind_text(s, 1, a);
	if (sqlite3_bind_parameter_count(s) >= 2) {
		sq_bind_text(s, 2, b);
		sq_bind_text(s, 3, c);
	}
	int rc = sqlite3_step(s);
	n = rc == SQLITE_ROW ? sqlite3_column_int(s, 0) : sq_rc(rc);
	sq_done(s);
	return n;
}

/* Opens this thread's connection, sets WAL and applies the migrations. */
int
sq_connect(const char *path, char *err, size_t errlen)
{
	char *msg = NULL;
	struct conn *c;

	snprintf(c_g.path, sizeof(c_g.path), "%s", path);
	if ((c = conn_get()) == NULL) {
		snprintf(err, errlen, "cannot open %s", path);
		return STORE_ERROR;
	}
	if (sqlite3_exec(c->db, "PRAGMA journal_mode = WAL", NULL, NULL, &msg) != SQLITE_OK) {
		snprintf(err, errlen, "%s: %s", path, msg ? msg : "journal_mode");
		sqlite3_free(msg);
		return STORE_ERROR;
	}
	return migrate(c->db, err, errlen);
}

const char *
sq_path(void)
{
	return c_g.path;
}

int
sq_changes(void)
{
	struct conn *c = conn_get();

	return c ? sqlite3_changes(c->db) : 0;
}

void
store_thread_done(void)
{
	struct conn **pp;

	if (tl_conn == NULL)
		return;
	pthread_mutex_lock(&c_g.list_lock);
	for (pp = &c_g.conns; *pp != NULL; pp = &(*pp)->next)
		if (*pp == tl_conn) {
			*pp = tl_conn->next;
			break;
		}
	pthread_mutex_unlock(&c_g.list_lock);
	conn_free(tl_conn);
	tl_conn = NULL;
}

void
store_close(void)
{
	pthread_mutex_lock(&c_g.list_lock);
	while (c_g.conns != NULL) {
		struct conn *c = c_g.conns;
		c_g.conns = c->next;
		conn_free(c);
	}
	pthread_mutex_unlock(&c_g.list_lock);
	tl_conn = NULL;
	sq_tx_free();
	sk_reset();
}
