/* SQLite behind the store interface. One connection per thread (WAL lets readers run beside the
 * writer), statements prepared once per connection, writes serialised by one mutex and made durable
 * with synchronous=FULL before they are acknowledged. Migrations come from schema/ (embedded). */
#include <pthread.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "embedded.h"
#include "store.h"

enum stmt_id {
	S_GET,
	S_LIST_ASC,
	S_LIST_DESC,
	S_LIST_TOTAL,
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
	S_FLOOR,
	S_SET_META,
	S_TRIM,
	S_TOK_ADD,
	S_TOK_FIND,
	S_TOK_GET,
	S_TOK_DEL,
	S_TOK_LIST_ASC,
	S_TOK_LIST_DESC,
	S_TOK_COUNT,
	S_TOK_OF_NODE,
	S_MAX
};

static const char *const stmt_sql[S_MAX] = {
	[S_GET] = "SELECT spec, status, create_rev, mod_rev, modified_ms FROM objects "
		  "WHERE kind = ?1 AND name = ?2",
	[S_LIST_ASC] = "SELECT name, spec, status, create_rev, mod_rev, modified_ms FROM objects o "
		       "WHERE kind = ?1 AND (?2 IS NULL OR EXISTS (SELECT 1 FROM refs r WHERE "
		       "r.kind = o.kind AND r.name = o.name AND r.to_kind = ?2 AND r.to_name = ?3)) "
		       "AND name > ?4 ORDER BY name LIMIT ?5",
	[S_LIST_DESC] = "SELECT name, spec, status, create_rev, mod_rev, modified_ms FROM objects o "
			"WHERE kind = ?1 AND (?2 IS NULL OR EXISTS (SELECT 1 FROM refs r WHERE "
			"r.kind = o.kind AND r.name = o.name AND r.to_kind = ?2 AND r.to_name = ?3)) "
			"AND name < ?4 ORDER BY name DESC LIMIT ?5",
	[S_LIST_TOTAL] = "SELECT count(*) FROM objects o WHERE kind = ?1 AND (?2 IS NULL OR "
			 "EXISTS (SELECT 1 FROM refs r WHERE r.kind = o.kind AND r.name = o.name "
			 "AND r.to_kind = ?2 AND r.to_name = ?3))",
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
	[S_ADD_CHANGE] = "INSERT INTO changes (rev, op, kind, name, ts_ms) "
			 "VALUES (?1, ?2, ?3, ?4, ?5)",
	[S_TOUCH_KIND] = "INSERT INTO kinds (kind, modified_ms) VALUES (?1, ?2) "
			 "ON CONFLICT (kind) DO UPDATE SET modified_ms = excluded.modified_ms",
	[S_CHANGES_AFTER] = "SELECT rev, op, kind, name, ts_ms FROM changes WHERE rev > ?1 "
			    "ORDER BY rev LIMIT ?2",
	[S_CHANGES_LATEST] = "SELECT rev, op, kind, name, ts_ms FROM (SELECT * FROM changes "
			     "ORDER BY rev DESC LIMIT ?1) ORDER BY rev",
	[S_FLOOR] = "SELECT value FROM meta WHERE key = ?1",
	[S_SET_META] = "UPDATE meta SET value = ?2 WHERE key = ?1",
	[S_TRIM] = "DELETE FROM changes WHERE rev <= ?1",
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
};

/* One thread's connection. Owned by the global list; freed by store_close/store_thread_done. */
struct conn {
	sqlite3 *db;
	sqlite3_stmt *stmt[S_MAX];
	struct conn *next;
};

static struct {
	char path[4096];
	int64_t events_keep;
	store_notify_fn notify;
	pthread_mutex_t list_lock;
	struct conn *conns;
	pthread_mutex_t write_lock;
	int64_t revision; /* committed; read without the lock through __atomic */
	int64_t tx_rev;   /* inside a write transaction */
	int64_t tx_start_rev;
	char tx_last_kind[STORE_KIND_MAX]; /* the object of the transaction's latest change */
	char tx_last_name[STORE_NAME_MAX];
} g = {
	.list_lock = PTHREAD_MUTEX_INITIALIZER,
	.write_lock = PTHREAD_MUTEX_INITIALIZER,
};

static __thread struct conn *tl_conn;

static int64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int
rc_of(int sqlite_rc)
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
	if (sqlite3_open_v2(g.path, &c->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE |
			    SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK) {
		snprintf(err, errlen, "%.200s: %.200s", g.path, sqlite3_errmsg(c->db));
		conn_free(c);
		return NULL;
	}
	sqlite3_busy_timeout(c->db, 5000);
	if (sqlite3_exec(c->db, "PRAGMA foreign_keys = ON; PRAGMA synchronous = FULL;", NULL, NULL,
			 NULL) != SQLITE_OK) {
		snprintf(err, errlen, "%.200s: %.200s", g.path, sqlite3_errmsg(c->db));
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
	pthread_mutex_lock(&g.list_lock);
	tl_conn->next = g.conns;
	g.conns = tl_conn;
	pthread_mutex_unlock(&g.list_lock);
	return tl_conn;
}

/* A reset, cleared statement of this thread's connection, or NULL. */
static sqlite3_stmt *
stmt(enum stmt_id id)
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

static void
done(sqlite3_stmt *s)
{
	sqlite3_reset(s);
	sqlite3_clear_bindings(s);
}

static void
bind_text(sqlite3_stmt *s, int i, const char *v)
{
	if (v == NULL)
		sqlite3_bind_null(s, i);
	else
		sqlite3_bind_text(s, i, v, -1, SQLITE_TRANSIENT);
}

static void
copy_col(char *dst, size_t len, sqlite3_stmt *s, int col)
{
	const unsigned char *t = sqlite3_column_text(s, col);

	snprintf(dst, len, "%s", t ? (const char *)t : "");
}

static json_t *
json_col(sqlite3_stmt *s, int col)
{
	const char *t = (const char *)sqlite3_column_text(s, col);

	return t ? json_loads(t, 0, NULL) : NULL;
}

/* Applies embedded schema/NNN_*.sql files whose number exceeds PRAGMA user_version. */
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

static int64_t
meta_get(const char *key)
{
	sqlite3_stmt *s = stmt(S_FLOOR);
	int64_t v = 0;

	if (s == NULL)
		return 0;
	bind_text(s, 1, key);
	if (sqlite3_step(s) == SQLITE_ROW)
		v = sqlite3_column_int64(s, 0);
	done(s);
	return v;
}

int
store_open(const char *path, int64_t events_keep, store_notify_fn notify, char *err,
	   size_t errlen)
{
	char *msg = NULL;

	snprintf(g.path, sizeof(g.path), "%s", path);
	g.events_keep = events_keep > 0 ? events_keep : 10000;
	g.notify = notify;
	struct conn *c = conn_get();
	if (c == NULL) {
		snprintf(err, errlen, "cannot open %s", path);
		return STORE_ERROR;
	}
	if (sqlite3_exec(c->db, "PRAGMA journal_mode = WAL", NULL, NULL, &msg) != SQLITE_OK) {
		snprintf(err, errlen, "%s: %s", path, msg ? msg : "journal_mode");
		sqlite3_free(msg);
		return STORE_ERROR;
	}
	int rc = migrate(c->db, err, errlen);
	if (rc != STORE_OK)
		return rc;
	__atomic_store_n(&g.revision, meta_get("revision"), __ATOMIC_RELEASE);
	return STORE_OK;
}

void
store_thread_done(void)
{
	struct conn **pp;

	if (tl_conn == NULL)
		return;
	pthread_mutex_lock(&g.list_lock);
	for (pp = &g.conns; *pp != NULL; pp = &(*pp)->next)
		if (*pp == tl_conn) {
			*pp = tl_conn->next;
			break;
		}
	pthread_mutex_unlock(&g.list_lock);
	conn_free(tl_conn);
	tl_conn = NULL;
}

void
store_close(void)
{
	pthread_mutex_lock(&g.list_lock);
	while (g.conns != NULL) {
		struct conn *c = g.conns;
		g.conns = c->next;
		conn_free(c);
	}
	pthread_mutex_unlock(&g.list_lock);
	tl_conn = NULL;
}

int64_t
store_revision(void)
{
	return __atomic_load_n(&g.revision, __ATOMIC_ACQUIRE);
}

void
store_obj_clear(struct store_obj *o)
{
	json_decref(o->spec);
	json_decref(o->status);
	o->spec = o->status = NULL;
}

/* Fills o from a row whose columns start at col: spec, status, create_rev, mod_rev, modified. */
static void
obj_from_row(struct store_obj *o, sqlite3_stmt *s, int col)
{
	o->spec = json_col(s, col);
	o->status = json_col(s, col + 1);
	o->create_rev = sqlite3_column_int64(s, col + 2);
	o->mod_rev = sqlite3_column_int64(s, col + 3);
	o->modified_ms = sqlite3_column_int64(s, col + 4);
}

int
store_get(const char *kind, const char *name, struct store_obj *out)
{
	sqlite3_stmt *s = stmt(S_GET);
	int rc;

	memset(out, 0, sizeof(*out));
	if (s == NULL)
		return STORE_BUSY;
	bind_text(s, 1, kind);
	bind_text(s, 2, name);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		snprintf(out->kind, sizeof(out->kind), "%s", kind);
		snprintf(out->name, sizeof(out->name), "%s", name);
		obj_from_row(out, s, 0);
		rc = out->spec ? STORE_OK : STORE_ERROR;
	} else {
		rc = rc == SQLITE_DONE ? STORE_NOTFOUND : rc_of(rc);
	}
	done(s);
	return rc;
}

static int
count_query(enum stmt_id id, const char *a, const char *b, const char *c)
{
	sqlite3_stmt *s = stmt(id);
	int n = STORE_BUSY;

	if (s == NULL)
		return n;
	bind_text(s, 1, a);
	if (sqlite3_bind_parameter_count(s) >= 2) {
		bind_text(s, 2, b);
		bind_text(s, 3, c);
	}
	int rc = sqlite3_step(s);
	n = rc == SQLITE_ROW ? sqlite3_column_int(s, 0) : rc_of(rc);
	done(s);
	return n;
}

int
store_list(const char *kind, const char *ref_kind, const char *ref_name, const char *after,
	   const char *before, int limit, struct store_obj *out, int *total)
{
	bool desc = before != NULL;
	sqlite3_stmt *s = stmt(desc ? S_LIST_DESC : S_LIST_ASC);
	int n = 0, rc;

	if (s == NULL)
		return STORE_BUSY;
	bind_text(s, 1, kind);
	bind_text(s, 2, ref_kind);
	bind_text(s, 3, ref_name);
	bind_text(s, 4, desc ? before : (after ? after : ""));
	sqlite3_bind_int(s, 5, limit);
	while (n < limit && (rc = sqlite3_step(s)) == SQLITE_ROW) {
		struct store_obj *o = &out[n++];
		memset(o, 0, sizeof(*o));
		snprintf(o->kind, sizeof(o->kind), "%s", kind);
		copy_col(o->name, sizeof(o->name), s, 0);
		obj_from_row(o, s, 1);
	}
	done(s);
	if (desc) /* the page was read backwards: put it in name order */
		for (int i = 0; i < n / 2; i++) {
			struct store_obj t = out[i];
			out[i] = out[n - 1 - i];
			out[n - 1 - i] = t;
		}
	*total = count_query(S_LIST_TOTAL, kind, ref_kind, ref_name);
	if (*total < 0) {
		for (int i = 0; i < n; i++)
			store_obj_clear(&out[i]);
		return *total;
	}
	return n;
}

int
store_count(const char *kind)
{
	return count_query(S_COUNT, kind, NULL, NULL);
}

int64_t
store_kind_modified_ms(const char *kind)
{
	sqlite3_stmt *s = stmt(S_KIND_MOD);
	int64_t v = 0;

	if (s == NULL)
		return 0;
	bind_text(s, 1, kind);
	if (sqlite3_step(s) == SQLITE_ROW)
		v = sqlite3_column_int64(s, 0);
	done(s);
	return v;
}

/* Runs a statement that returns no rows; returns a store_rc. */
static int
exec_stmt(sqlite3_stmt *s)
{
	int rc = sqlite3_step(s);

	done(s);
	if (rc == SQLITE_DONE)
		return STORE_OK;
	if ((rc & 0xff) == SQLITE_CONSTRAINT)
		return STORE_UNIQUE;
	return rc_of(rc);
}

static int
raw_exec(const char *sql)
{
	struct conn *c = conn_get();

	if (c == NULL)
		return STORE_BUSY;
	int rc = sqlite3_exec(c->db, sql, NULL, NULL, NULL);
	return rc == SQLITE_OK ? STORE_OK : rc_of(rc);
}

int
store_write_begin(void)
{
	pthread_mutex_lock(&g.write_lock);
	int rc = raw_exec("BEGIN IMMEDIATE");
	if (rc != STORE_OK) {
		pthread_mutex_unlock(&g.write_lock);
		return rc;
	}
	g.tx_start_rev = g.tx_rev = meta_get("revision");
	g.tx_last_kind[0] = g.tx_last_name[0] = '\0';
	return STORE_OK;
}

void
store_rollback(void)
{
	raw_exec("ROLLBACK");
	pthread_mutex_unlock(&g.write_lock);
}

/* Sets meta key to v inside the transaction. */
static int
meta_set(const char *key, int64_t v)
{
	sqlite3_stmt *s = stmt(S_SET_META);

	if (s == NULL)
		return STORE_BUSY;
	bind_text(s, 1, key);
	sqlite3_bind_int64(s, 2, v);
	return exec_stmt(s);
}

int
store_commit(void)
{
	int64_t rev = g.tx_rev;
	int rc = STORE_OK;

	if (rev != g.tx_start_rev) {
		rc = meta_set("revision", rev);
		int64_t floor = rev - g.events_keep;
		if (rc == STORE_OK && floor > 0 && floor > meta_get("events_floor")) {
			sqlite3_stmt *s = stmt(S_TRIM);
			if (s == NULL)
				rc = STORE_BUSY;
			else {
				sqlite3_bind_int64(s, 1, floor);
				rc = exec_stmt(s);
			}
			if (rc == STORE_OK)
				rc = meta_set("events_floor", floor);
		}
	}
	if (rc == STORE_OK)
		rc = raw_exec("COMMIT");
	if (rc != STORE_OK) {
		raw_exec("ROLLBACK");
		pthread_mutex_unlock(&g.write_lock);
		return rc;
	}
	if (rev != g.tx_start_rev)
		__atomic_store_n(&g.revision, rev, __ATOMIC_RELEASE);
	pthread_mutex_unlock(&g.write_lock);
	if (rev != g.tx_start_rev && g.notify != NULL)
		g.notify(rev);
	return STORE_OK;
}

/* Appends a change with the next revision (inside a write transaction). Returns the revision
 * through *rev. */
static int
add_change(const char *op, const char *kind, const char *name, int64_t ts, int64_t *rev)
{
	sqlite3_stmt *s = stmt(S_ADD_CHANGE);
	int rc;

	if (s == NULL)
		return STORE_BUSY;
	/* One event per object per transaction: a status set right after the same object's
	 * create or update (initial or derived status) shares that change. */
	if (strcmp(op, "updated") == 0 && g.tx_rev != g.tx_start_rev &&
	    strcmp(kind, g.tx_last_kind) == 0 && strcmp(name, g.tx_last_name) == 0) {
		*rev = g.tx_rev;
		return STORE_OK;
	}
	snprintf(g.tx_last_kind, sizeof(g.tx_last_kind), "%s", kind);
	snprintf(g.tx_last_name, sizeof(g.tx_last_name), "%s", name);
	*rev = ++g.tx_rev;
	sqlite3_bind_int64(s, 1, *rev);
	bind_text(s, 2, op);
	bind_text(s, 3, kind);
	bind_text(s, 4, name);
	sqlite3_bind_int64(s, 5, ts);
	if ((rc = exec_stmt(s)) != STORE_OK)
		return rc;
	if ((s = stmt(S_TOUCH_KIND)) == NULL)
		return STORE_BUSY;
	bind_text(s, 1, kind);
	sqlite3_bind_int64(s, 2, ts);
	return exec_stmt(s);
}

static bool
exists(const char *kind, const char *name)
{
	sqlite3_stmt *s = stmt(S_EXISTS);
	bool found;

	if (s == NULL)
		return false;
	bind_text(s, 1, kind);
	bind_text(s, 2, name);
	found = sqlite3_step(s) == SQLITE_ROW;
	done(s);
	return found;
}

/* Replaces the refs and uniques of (kind, name). */
static int
set_links(const char *kind, const char *name, const struct store_links *l, char *detail,
	  size_t detail_len)
{
	sqlite3_stmt *s;
	int rc;

	if ((s = stmt(S_DEL_REFS)) == NULL)
		return STORE_BUSY;
	bind_text(s, 1, kind);
	bind_text(s, 2, name);
	if ((rc = exec_stmt(s)) != STORE_OK)
		return rc;
	if ((s = stmt(S_DEL_UNIQUES)) == NULL)
		return STORE_BUSY;
	bind_text(s, 1, kind);
	bind_text(s, 2, name);
	if ((rc = exec_stmt(s)) != STORE_OK)
		return rc;
	for (int i = 0; l != NULL && i < l->n_refs; i++) {
		if (!exists(l->refs[i].kind, l->refs[i].name)) {
			snprintf(detail, detail_len, "%s %s does not exist", l->refs[i].kind,
				 l->refs[i].name);
			return STORE_DANGLING;
		}
		if ((s = stmt(S_ADD_REF)) == NULL)
			return STORE_BUSY;
		bind_text(s, 1, kind);
		bind_text(s, 2, name);
		bind_text(s, 3, l->refs[i].kind);
		bind_text(s, 4, l->refs[i].name);
		if ((rc = exec_stmt(s)) != STORE_OK)
			return rc == STORE_UNIQUE ? STORE_DANGLING : rc;
	}
	for (int i = 0; l != NULL && i < l->n_uniques; i++) {
		if ((s = stmt(S_ADD_UNIQUE)) == NULL)
			return STORE_BUSY;
		bind_text(s, 1, l->uniques[i]);
		bind_text(s, 2, kind);
		bind_text(s, 3, name);
		if ((rc = exec_stmt(s)) == STORE_OK)
			continue;
		if (rc == STORE_UNIQUE && (s = stmt(S_UNIQUE_OWNER)) != NULL) {
			bind_text(s, 1, l->uniques[i]);
			if (sqlite3_step(s) == SQLITE_ROW)
				snprintf(detail, detail_len, "%s is already held by %s %s",
					 l->uniques[i], sqlite3_column_text(s, 0),
					 sqlite3_column_text(s, 1));
			done(s);
		}
		return rc;
	}
	return STORE_OK;
}

int
store_put(const char *kind, const char *name, json_t *spec, const struct store_links *links,
	  bool must_create, bool *created, char *detail, size_t detail_len)
{
	int64_t ts = now_ms(), rev;
	bool found = exists(kind, name);
	char *text;
	int rc;

	detail[0] = '\0';
	*created = !found;
	if (found && must_create) {
		snprintf(detail, detail_len, "%s %s already exists", kind, name);
		return STORE_EXISTS;
	}
	text = json_dumps(spec, JSON_COMPACT | JSON_SORT_KEYS);
	if (text == NULL)
		return STORE_ERROR;
	rc = add_change(found ? "updated" : "created", kind, name, ts, &rev);
	if (rc != STORE_OK)
		goto out;
	sqlite3_stmt *s = stmt(found ? S_UPDATE_SPEC : S_INSERT);
	if (s == NULL) {
		rc = STORE_BUSY;
		goto out;
	}
	bind_text(s, 1, kind);
	bind_text(s, 2, name);
	bind_text(s, 3, text);
	if (found) {
		sqlite3_bind_int64(s, 4, rev);
		sqlite3_bind_int64(s, 5, ts);
	} else {
		sqlite3_bind_null(s, 4);
		sqlite3_bind_int64(s, 5, rev);
		sqlite3_bind_int64(s, 6, ts);
	}
	if ((rc = exec_stmt(s)) != STORE_OK)
		goto out;
	rc = set_links(kind, name, links, detail, detail_len);
out:
	free(text);
	return rc;
}

int
store_set_status(const char *kind, const char *name, json_t *status)
{
	sqlite3_stmt *s = stmt(S_GET_STATUS);
	char *text = json_dumps(status, JSON_COMPACT | JSON_SORT_KEYS);
	int64_t ts = now_ms(), rev;
	int rc;
	bool same = false;

	if (s == NULL || text == NULL) {
		free(text);
		return s == NULL ? STORE_BUSY : STORE_ERROR;
	}
	bind_text(s, 1, kind);
	bind_text(s, 2, name);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		const char *old = (const char *)sqlite3_column_text(s, 0);
		same = old != NULL && strcmp(old, text) == 0;
	}
	done(s);
	if (rc != SQLITE_ROW) {
		free(text);
		return rc == SQLITE_DONE ? STORE_NOTFOUND : rc_of(rc);
	}
	if (same) {
		free(text);
		return STORE_OK;
	}
	rc = add_change("updated", kind, name, ts, &rev);
	if (rc == STORE_OK && (s = stmt(S_UPDATE_STATUS)) == NULL)
		rc = STORE_BUSY;
	if (rc == STORE_OK) {
		bind_text(s, 1, kind);
		bind_text(s, 2, name);
		bind_text(s, 3, text);
		sqlite3_bind_int64(s, 4, rev);
		sqlite3_bind_int64(s, 5, ts);
		rc = exec_stmt(s);
	}
	free(text);
	return rc;
}

/* Deletes the agent tokens bound to node, each with its own change. */
static int
delete_node_tokens(const char *node, int64_t ts)
{
	char ids[64][STORE_NAME_MAX];
	int n = 0, rc = STORE_OK;
	sqlite3_stmt *s = stmt(S_TOK_OF_NODE);
	if (s == NULL)
		return STORE_BUSY;
	bind_text(s, 1, node);
	while (n < 64 && sqlite3_step(s) == SQLITE_ROW)
		copy_col(ids[n++], STORE_NAME_MAX, s, 0);
	done(s);
	(void)ts;
	for (int i = 0; i < n && rc == STORE_OK; i++)
		rc = store_token_delete(ids[i]);
	return rc;
}

int
store_delete(const char *kind, const char *name, char *detail, size_t detail_len)
{
	sqlite3_stmt *s = stmt(S_REFERRER);
	int64_t ts = now_ms(), rev;
	int rc;

	detail[0] = '\0';
	if (s == NULL)
		return STORE_BUSY;
	bind_text(s, 1, kind);
	bind_text(s, 2, name);
	if (sqlite3_step(s) == SQLITE_ROW) {
		snprintf(detail, detail_len, "%s %s is used by %s %s", kind, name,
			 sqlite3_column_text(s, 0), sqlite3_column_text(s, 1));
		done(s);
		return STORE_REFERENCED;
	}
	done(s);
	if (!exists(kind, name))
		return STORE_NOTFOUND;
	if (strcmp(kind, "node") == 0 && (rc = delete_node_tokens(name, ts)) != STORE_OK)
		return rc;
	if ((rc = add_change("deleted", kind, name, ts, &rev)) != STORE_OK)
		return rc;
	if ((s = stmt(S_DELETE)) == NULL)
		return STORE_BUSY;
	bind_text(s, 1, kind);
	bind_text(s, 2, name);
	rc = exec_stmt(s);
	return rc == STORE_UNIQUE ? STORE_REFERENCED : rc;
}

static int
read_changes(sqlite3_stmt *s, int limit, struct store_change *out)
{
	int n = 0, rc;

	while (n < limit && (rc = sqlite3_step(s)) == SQLITE_ROW) {
		struct store_change *c = &out[n++];
		c->rev = sqlite3_column_int64(s, 0);
		copy_col(c->op, sizeof(c->op), s, 1);
		copy_col(c->kind, sizeof(c->kind), s, 2);
		copy_col(c->name, sizeof(c->name), s, 3);
		c->ts_ms = sqlite3_column_int64(s, 4);
	}
	done(s);
	return n;
}

int
store_changes(int64_t since, int limit, struct store_change *out)
{
	sqlite3_stmt *s;

	if (since < 0) {
		if ((s = stmt(S_CHANGES_LATEST)) == NULL)
			return STORE_BUSY;
		sqlite3_bind_int(s, 1, limit);
		return read_changes(s, limit, out);
	}
	if (since < meta_get("events_floor"))
		return STORE_GONE;
	if ((s = stmt(S_CHANGES_AFTER)) == NULL)
		return STORE_BUSY;
	sqlite3_bind_int64(s, 1, since);
	sqlite3_bind_int(s, 2, limit);
	return read_changes(s, limit, out);
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
store_token_add(const struct store_token *t, const unsigned char digest[32])
{
	sqlite3_stmt *s = stmt(S_TOK_ADD);
	int64_t rev;
	int rc;

	if (s == NULL)
		return STORE_BUSY;
	bind_text(s, 1, t->id);
	sqlite3_bind_int64(s, 2, digest_prefix(digest));
	sqlite3_bind_blob(s, 3, digest, 32, SQLITE_TRANSIENT);
	bind_text(s, 4, t->role);
	bind_text(s, 5, t->node[0] ? "node" : NULL);
	bind_text(s, 6, t->node[0] ? t->node : NULL);
	bind_text(s, 7, t->description);
	sqlite3_bind_int64(s, 8, t->created_ms);
	if ((rc = exec_stmt(s)) != STORE_OK)
		return rc == STORE_UNIQUE ? STORE_EXISTS : rc;
	return add_change("created", "token", t->id, t->created_ms, &rev);
}

static void
token_from_row(struct store_token *t, sqlite3_stmt *s)
{
	copy_col(t->id, sizeof(t->id), s, 0);
	copy_col(t->role, sizeof(t->role), s, 1);
	copy_col(t->node, sizeof(t->node), s, 2);
	copy_col(t->description, sizeof(t->description), s, 3);
	t->created_ms = sqlite3_column_int64(s, 4);
}

int
store_token_find(const unsigned char digest[32], struct store_token *out)
{
	sqlite3_stmt *s = stmt(S_TOK_FIND);
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
	done(s);
	return rc;
}

int
store_token_get(const char *id, struct store_token *out)
{
	sqlite3_stmt *s = stmt(S_TOK_GET);
	int rc;

	if (s == NULL)
		return STORE_BUSY;
	bind_text(s, 1, id);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW)
		token_from_row(out, s);
	done(s);
	return rc == SQLITE_ROW ? STORE_OK : rc == SQLITE_DONE ? STORE_NOTFOUND : rc_of(rc);
}

int
store_token_delete(const char *id)
{
	sqlite3_stmt *s = stmt(S_TOK_DEL);
	struct conn *c = conn_get();
	int64_t rev;
	int rc;

	if (s == NULL || c == NULL)
		return STORE_BUSY;
	bind_text(s, 1, id);
	if ((rc = exec_stmt(s)) != STORE_OK)
		return rc;
	if (sqlite3_changes(c->db) == 0)
		return STORE_NOTFOUND;
	return add_change("deleted", "token", id, now_ms(), &rev);
}

int
store_token_list(const char *after, const char *before, int limit, struct store_token *out,
		 int *total)
{
	sqlite3_stmt *s = stmt(before ? S_TOK_LIST_DESC : S_TOK_LIST_ASC);
	int n = 0;

	if (s == NULL)
		return STORE_BUSY;
	bind_text(s, 1, before ? before : (after ? after : ""));
	sqlite3_bind_int(s, 2, limit);
	while (n < limit && sqlite3_step(s) == SQLITE_ROW)
		token_from_row(&out[n++], s);
	done(s);
	if (before)
		for (int i = 0; i < n / 2; i++) {
			struct store_token t = out[i];
			out[i] = out[n - 1 - i];
			out[n - 1 - i] = t;
		}
	*total = store_token_count();
	return *total < 0 ? *total : n;
}

int
store_token_count(void)
{
	return count_query(S_TOK_COUNT, NULL, NULL, NULL);
}
