/* SQLite behind the store interface: objects with their refs and unique keys, the write
 * transaction (one writer at a time, durable before it is acknowledged) and the change feed.
 * Connections and statements live in store_conn.c, tokens in store_token.c. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "store.h"
#include "store_backend.h"
#include "store_sql.h"
#include "store_track.h"

/* The write transaction. There is at most one at a time (the writer lock), so there is one. */
struct store_tx {
	bool open;
	int64_t rev; /* the revision of its latest change */
	int64_t start_rev;
	char last_kind[STORE_KIND_MAX]; /* the object of its latest change */
	char last_name[STORE_NAME_MAX];
	struct store_actor actor; /* who caused its changes */
	struct store_keys touched;
};

static struct {
	int64_t events_keep;
	store_notify_fn notify;
	pthread_mutex_t write_lock;
	int64_t revision;     /* committed; read without the lock through __atomic */
	int64_t events_floor; /* changes up to this revision have been dropped */
	struct store_tx tx;   /* guarded by write_lock */
} g = {
    .write_lock = PTHREAD_MUTEX_INITIALIZER,
};

/* Group commit state (see durable()). */
static struct {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	int64_t synced; /* every revision up to this one is on stable storage */
	bool syncing;
	int wal_fd;
} dur = {
    .lock = PTHREAD_MUTEX_INITIALIZER,
    .cond = PTHREAD_COND_INITIALIZER,
    .wal_fd = -1,
};
static int
sq_open(const char *path, int64_t events_keep, store_notify_fn notify, char *err, size_t errlen)
{
	int rc;

	g.events_keep = events_keep > 0 ? events_keep : 10000;
	g.notify = notify;
	if ((rc = sq_connect(path, err, errlen)) != STORE_OK)
		return rc;
	/* The revision is the newest change's (meta holds it too, written when the feed is trimmed,
	 * so that it survives a feed emptied by trimming). */
	int64_t rev = sq_meta_get("revision");
	sqlite3_stmt *s = sq_stmt(S_MAX_REV);
	if (s != NULL && sqlite3_step(s) == SQLITE_ROW && sqlite3_column_int64(s, 0) > rev)
		rev = sqlite3_column_int64(s, 0);
	if (s != NULL)
		sq_done(s);
	__atomic_store_n(&g.revision, rev, __ATOMIC_RELEASE);
	g.events_floor = sq_meta_get("events_floor");
	/* The WAL exists while any connection is open (ours stays open until store_close); an fd
	 * of our own lets durable() sync it. */
	char wal[4200];
	snprintf(wal, sizeof(wal), "%s-wal", path);
	if (dur.wal_fd >= 0)
		close(dur.wal_fd);
	dur.wal_fd = open(wal, O_RDONLY | O_CLOEXEC);
	dur.synced = rev;
	if (dur.wal_fd < 0) {
		snprintf(err, errlen, "%s: %s", wal, strerror(errno));
		return STORE_ERROR;
	}
	return STORE_OK;
}

static int64_t
sq_revision(void)
{
	return __atomic_load_n(&g.revision, __ATOMIC_ACQUIRE);
}

/* Fills o from a row whose columns start at col: spec, status, create_rev, mod_rev, modified. */
static void
obj_from_row(struct store_obj *o, sqlite3_stmt *s, int col)
{
	o->spec = sq_json_col(s, col);
	o->status = sq_json_col(s, col + 1);
	o->create_rev = sqlite3_column_int64(s, col + 2);
	o->mod_rev = sqlite3_column_int64(s, col + 3);
	o->modified_ms = sqlite3_column_int64(s, col + 4);
}

static int
sq_get(const char *kind, const char *name, struct store_obj *out)
{
	sqlite3_stmt *s = sq_stmt(S_GET);
	int rc;

	memset(out, 0, sizeof(*out));
	if (s == NULL)
		return STORE_BUSY;
	sq_bind_text(s, 1, kind);
	sq_bind_text(s, 2, name);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		snprintf(out->kind, sizeof(out->kind), "%s", kind);
		snprintf(out->name, sizeof(out->name), "%s", name);
		obj_from_row(out, s, 0);
		rc = out->spec ? STORE_OK : STORE_ERROR;
	} else {
		rc = rc == SQLITE_DONE ? STORE_NOTFOUND : sq_rc(rc);
	}
	sq_done(s);
	return rc;
}

/* Lists objects of kind: all (by 0), those referencing (k2, n2) (by 'r') or carrying the tag
 * (k2, n2) (by 't'). See store_list. */
static int
sq_list(const char *kind, char by, const char *k2, const char *n2, const char *after,
	const char *before, int limit, struct store_obj *out, int *total)
{
	bool desc = before != NULL;
	enum stmt_id id = by == 'r'   ? (desc ? S_LIST_REF_DESC : S_LIST_REF_ASC)
			  : by == 't' ? (desc ? S_LIST_TAG_DESC : S_LIST_TAG_ASC)
				      : (desc ? S_LIST_DESC : S_LIST_ASC);
	sqlite3_stmt *s = sq_stmt(id);
	int n = 0, rc;

	if (s == NULL)
		return STORE_BUSY;
	sq_bind_text(s, 1, kind);
	sq_bind_text(s, 2, desc ? before : (after ? after : ""));
	sqlite3_bind_int(s, 3, limit);
	if (by != 0) {
		sq_bind_text(s, 4, k2);
		sq_bind_text(s, 5, n2);
	}
	while (n < limit && (rc = sqlite3_step(s)) == SQLITE_ROW) {
		struct store_obj *o = &out[n++];
		memset(o, 0, sizeof(*o));
		snprintf(o->kind, sizeof(o->kind), "%s", kind);
		sq_copy_col(o->name, sizeof(o->name), s, 0);
		obj_from_row(o, s, 1);
	}
	sq_done(s);
	if (total == NULL)
		return n;
	*total = by == 'r'   ? sq_count(S_LIST_REF_TOTAL, kind, k2, n2)
		 : by == 't' ? sq_count(S_LIST_TAG_TOTAL, kind, k2, n2)
			     : sq_count(S_COUNT, kind, NULL, NULL);
	if (*total < 0) {
		for (int i = 0; i < n; i++)
			store_obj_clear(&out[i]);
		return *total;
	}
	return n;
}

static int
sq_count_kind(const char *kind)
{
	return sq_count(S_COUNT, kind, NULL, NULL);
}

static int64_t
sq_kind_modified_ms(const char *kind)
{
	sqlite3_stmt *s = sq_stmt(S_KIND_MOD);
	int64_t v = 0;

	if (s == NULL)
		return 0;
	sq_bind_text(s, 1, kind);
	if (sqlite3_step(s) == SQLITE_ROW)
		v = sqlite3_column_int64(s, 0);
	sq_done(s);
	return v;
}

static int
sq_write_begin(const struct store_actor *actor, struct store_tx **tx)
{
	pthread_mutex_lock(&g.write_lock);
	int rc = sq_raw("BEGIN IMMEDIATE");
	if (rc != STORE_OK) {
		pthread_mutex_unlock(&g.write_lock);
		return rc;
	}
	g.tx.open = true;
	g.tx.start_rev = g.tx.rev = g.revision; /* we hold the write lock */
	g.tx.last_kind[0] = g.tx.last_name[0] = '\0';
	if (actor != NULL)
		g.tx.actor = *actor;
	else
		memset(&g.tx.actor, 0, sizeof(g.tx.actor));
	g.tx.touched.n = 0; /* its memory is kept for the next transaction */
	g.tx.touched.all = false;
	*tx = &g.tx;
	return STORE_OK;
}

void
sq_tx_free(void)
{
	store_keys_clear(&g.tx.touched);
}

/* Ends tx and releases the writer lock. */
static void
tx_end(struct store_tx *tx)
{
	tx->open = false;
	pthread_mutex_unlock(&g.write_lock);
}

static void
sq_rollback(struct store_tx *tx)
{
	sq_raw("ROLLBACK");
	tx_end(tx);
}

/* Sets meta key to v inside the transaction. */
static int
meta_set(const char *key, int64_t v)
{
	sqlite3_stmt *s = sq_stmt(S_SET_META);

	if (s == NULL)
		return STORE_BUSY;
	sq_bind_text(s, 1, key);
	sqlite3_bind_int64(s, 2, v);
	return sq_exec(s);
}

/*
 * Group commit: returns once every revision up to rev is on stable storage. The first waiter
 * fdatasyncs the WAL for everything committed so far; writers that committed meanwhile wait for
 * that sync instead of issuing their own. Returns a store_rc (STORE_BUSY when the sync fails).
 */
static int
durable(int64_t rev)
{
	int rc = STORE_OK;

	pthread_mutex_lock(&dur.lock);
	while (dur.synced < rev && rc == STORE_OK) {
		if (dur.syncing) {
			pthread_cond_wait(&dur.cond, &dur.lock);
			continue;
		}
		dur.syncing = true;
		int64_t target = __atomic_load_n(&g.revision, __ATOMIC_ACQUIRE);
		pthread_mutex_unlock(&dur.lock);
		int ok = dur.wal_fd >= 0 && fdatasync(dur.wal_fd) == 0;
		pthread_mutex_lock(&dur.lock);
		dur.syncing = false;
		if (ok && target > dur.synced)
			dur.synced = target;
		if (!ok)
			rc = STORE_BUSY;
		pthread_cond_broadcast(&dur.cond);
	}
	pthread_mutex_unlock(&dur.lock);
	return rc;
}

static int
sq_commit(struct store_tx *tx)
{
	int64_t rev = tx->rev;
	bool changed = rev != tx->start_rev;
	int rc = STORE_OK;

	/* Trim the feed in batches (an eighth of what is kept), so that a commit usually touches
	 * only the pages of what it changed: every page is written and synced with it. */
	int64_t floor = rev - g.events_keep, batch = g.events_keep / 8 > 0 ? g.events_keep / 8 : 1;
	bool trim = changed && floor > 0 && floor >= g.events_floor + batch;
	if (trim) {
		sqlite3_stmt *s = sq_stmt(S_TRIM);
		if (s == NULL)
			rc = STORE_BUSY;
		else {
			sqlite3_bind_int64(s, 1, floor);
			rc = sq_exec(s);
		}
		if (rc == STORE_OK)
			rc = meta_set("events_floor", floor);
		if (rc == STORE_OK)
			rc = meta_set("revision", rev);
	}
	if (rc == STORE_OK)
		rc = sq_raw("COMMIT");
	if (rc != STORE_OK) {
		sq_rollback(tx);
		return rc;
	}
	if (trim)
		__atomic_store_n(&g.events_floor, floor, __ATOMIC_RELEASE);
	if (!changed) {
		tx_end(tx);
		return STORE_OK;
	}
	/* Publish the revision, then the touched keys' revisions: an answer computed from data
	 * read at an older published revision is then seen to be stale (store_keys_rev). */
	__atomic_store_n(&g.revision, rev, __ATOMIC_RELEASE);
	sk_touch_actor(&tx->touched, &tx->actor);
	sk_publish(rev, &tx->touched);
	/* The keys are needed after the lock is released: take them out of the transaction. */
	struct store_keys touched = tx->touched;
	memset(&tx->touched, 0, sizeof(tx->touched));
	tx_end(tx);
	if ((rc = durable(rev)) == STORE_OK && g.notify != NULL)
		g.notify(rev, &touched);
	store_keys_clear(&touched);
	return rc;
}

/* The stored actor_type of an actor (NULL: unknown), and back. */
static const char *
actor_type_name(enum store_actor_type t)
{
	return t == STORE_ACTOR_TOKEN ? "token" : t == STORE_ACTOR_SYSTEM ? "system" : NULL;
}

static enum store_actor_type
actor_type_parse(const unsigned char *s)
{
	if (s == NULL)
		return STORE_ACTOR_NONE;
	if (strcmp((const char *)s, "token") == 0)
		return STORE_ACTOR_TOKEN;
	return strcmp((const char *)s, "system") == 0 ? STORE_ACTOR_SYSTEM : STORE_ACTOR_NONE;
}

/* Binds the transaction's actor to S_ADD_CHANGE's ?6..?10 (NULL where it has none). */
static void
bind_actor(sqlite3_stmt *s, const struct store_actor *a)
{
	bool token = a->type == STORE_ACTOR_TOKEN;

	sq_bind_text(s, 6, actor_type_name(a->type));
	sq_bind_text(s, 7, a->type != STORE_ACTOR_NONE ? a->id : NULL);
	sq_bind_text(s, 8, token ? a->role : NULL);
	sq_bind_text(s, 9, token && a->node[0] ? a->node : NULL);
	sq_bind_text(s, 10, token ? a->description : NULL);
}

/* Appends a change with the next revision, caused by the transaction's actor (inside a write
 * transaction). Returns the revision through *rev. */
int
sq_add_change(struct store_tx *tx, const char *op, const char *kind, const char *name, int64_t ts,
	      int64_t *rev)
{
	sqlite3_stmt *s = sq_stmt(S_ADD_CHANGE);
	int rc;

	if (s == NULL)
		return STORE_BUSY;
	sk_touch_obj(&tx->touched, kind, name);
	/* One event per object per transaction: a status set right after the same object's
	 * create or update (initial or derived status) shares that change. */
	if (strcmp(op, "updated") == 0 && tx->rev != tx->start_rev &&
	    strcmp(kind, tx->last_kind) == 0 && strcmp(name, tx->last_name) == 0) {
		*rev = tx->rev;
		return STORE_OK;
	}
	snprintf(tx->last_kind, sizeof(tx->last_kind), "%s", kind);
	snprintf(tx->last_name, sizeof(tx->last_name), "%s", name);
	*rev = ++tx->rev;
	sqlite3_bind_int64(s, 1, *rev);
	sq_bind_text(s, 2, op);
	sq_bind_text(s, 3, kind);
	sq_bind_text(s, 4, name);
	sqlite3_bind_int64(s, 5, ts);
	bind_actor(s, &tx->actor);
	if ((rc = sq_exec(s)) != STORE_OK)
		return rc;
	if ((s = sq_stmt(S_TOUCH_KIND)) == NULL)
		return STORE_BUSY;
	sq_bind_text(s, 1, kind);
	sqlite3_bind_int64(s, 2, ts);
	return sq_exec(s);
}

static bool
exists(const char *kind, const char *name)
{
	sqlite3_stmt *s = sq_stmt(S_EXISTS);
	bool found;

	if (s == NULL)
		return false;
	sq_bind_text(s, 1, kind);
	sq_bind_text(s, 2, name);
	found = sqlite3_step(s) == SQLITE_ROW;
	sq_done(s);
	return found;
}

static int
cmp_ref(const void *a, const void *b)
{
	const struct store_ref *x = a, *y = b;
	int c = strcmp(x->kind, y->kind);

	return c ? c : strcmp(x->name, y->name);
}

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Are the stored pairs of (kind, name) that stmt (S_REFS_OF or S_TAGS_OF) reads exactly the nl
 * of want? */
static bool
pairs_unchanged(enum stmt_id stmt, const char *kind, const char *name, const struct store_ref *want,
		int nl)
{
	struct store_ref sorted[STORE_MAX_REFS];
	sqlite3_stmt *s = sq_stmt(stmt);
	int n = 0;
	bool same = s != NULL;

	if (nl > 0)
		memcpy(sorted, want, sizeof(sorted[0]) * (size_t)nl);
	qsort(sorted, (size_t)nl, sizeof(sorted[0]), cmp_ref);
	if (s == NULL)
		return false;
	sq_bind_text(s, 1, kind);
	sq_bind_text(s, 2, name);
	while (same && sqlite3_step(s) == SQLITE_ROW) {
		same = n < nl &&
		       strcmp((const char *)sqlite3_column_text(s, 0), sorted[n].kind) == 0 &&
		       strcmp((const char *)sqlite3_column_text(s, 1), sorted[n].name) == 0;
		n++;
	}
	sq_done(s);
	return same && n == nl;
}

/* Are the stored refs, tags and uniques of (kind, name) exactly l's? (Most updates change none,
 * and rewriting them would cost index pages in every commit.) */
static bool
links_unchanged(const char *kind, const char *name, const struct store_links *l)
{
	const char *uniq[STORE_MAX_UNIQUES];
	sqlite3_stmt *s;
	int n = 0, nu = l ? l->n_uniques : 0;
	bool same;

	if (!pairs_unchanged(S_REFS_OF, kind, name, l ? l->refs : NULL, l ? l->n_refs : 0) ||
	    !pairs_unchanged(S_TAGS_OF, kind, name, l ? l->tags : NULL, l ? l->n_tags : 0) ||
	    (s = sq_stmt(S_UNIQUES_OF)) == NULL)
		return false;
	if (nu > 0)
		memcpy(uniq, l->uniques, sizeof(uniq[0]) * (size_t)nu);
	qsort(uniq, (size_t)nu, sizeof(uniq[0]), cmp_str);
	same = true;
	sq_bind_text(s, 1, kind);
	sq_bind_text(s, 2, name);
	while (same && sqlite3_step(s) == SQLITE_ROW) {
		same = n < nu && strcmp((const char *)sqlite3_column_text(s, 0), uniq[n]) == 0;
		n++;
	}
	sq_done(s);
	return same && n == nu;
}

/* Touches "TO<kind" for every object (kind, name) references now, and every tag it carries
 * (inside tx). */
static int
touch_refs(struct store_tx *tx, const char *kind, const char *name)
{
	static const enum stmt_id stmts[] = {S_REFS_OF, S_TAGS_OF};
	int rc = SQLITE_DONE;

	for (size_t i = 0; i < sizeof(stmts) / sizeof(stmts[0]) && rc == SQLITE_DONE; i++) {
		sqlite3_stmt *s = sq_stmt(stmts[i]);
		if (s == NULL)
			return STORE_BUSY;
		sq_bind_text(s, 1, kind);
		sq_bind_text(s, 2, name);
		while ((rc = sqlite3_step(s)) == SQLITE_ROW)
			sk_touch_ref(&tx->touched, (const char *)sqlite3_column_text(s, 0),
				     (const char *)sqlite3_column_text(s, 1), kind);
		sq_done(s);
	}
	return rc == SQLITE_DONE ? STORE_OK : sq_rc(rc);
}

/* Deletes the rows of (kind, name) that stmt (S_DEL_*) deletes. */
static int
del_of(enum stmt_id stmt, const char *kind, const char *name)
{
	sqlite3_stmt *s = sq_stmt(stmt);

	if (s == NULL)
		return STORE_BUSY;
	sq_bind_text(s, 1, kind);
	sq_bind_text(s, 2, name);
	return sq_exec(s);
}

/* Replaces the refs, tags and uniques of (kind, name). */
static int
set_links(const char *kind, const char *name, const struct store_links *l, char *detail,
	  size_t detail_len)
{
	sqlite3_stmt *s;
	int rc;

	if (links_unchanged(kind, name, l))
		return STORE_OK;
	if ((rc = del_of(S_DEL_REFS, kind, name)) != STORE_OK ||
	    (rc = del_of(S_DEL_TAGS, kind, name)) != STORE_OK ||
	    (rc = del_of(S_DEL_UNIQUES, kind, name)) != STORE_OK)
		return rc;
	for (int i = 0; l != NULL && i < l->n_tags; i++) {
		if ((s = sq_stmt(S_ADD_TAG)) == NULL)
			return STORE_BUSY;
		sq_bind_text(s, 1, kind);
		sq_bind_text(s, 2, name);
		sq_bind_text(s, 3, l->tags[i].kind);
		sq_bind_text(s, 4, l->tags[i].name);
		if ((rc = sq_exec(s)) != STORE_OK)
			return rc;
	}
	for (int i = 0; l != NULL && i < l->n_refs; i++) {
		if (!exists(l->refs[i].kind, l->refs[i].name)) {
			snprintf(detail, detail_len, "%s %s does not exist", l->refs[i].kind,
				 l->refs[i].name);
			return STORE_DANGLING;
		}
		if ((s = sq_stmt(S_ADD_REF)) == NULL)
			return STORE_BUSY;
		sq_bind_text(s, 1, kind);
		sq_bind_text(s, 2, name);
		sq_bind_text(s, 3, l->refs[i].kind);
		sq_bind_text(s, 4, l->refs[i].name);
		if ((rc = sq_exec(s)) != STORE_OK)
			return rc == STORE_UNIQUE ? STORE_DANGLING : rc;
	}
	for (int i = 0; l != NULL && i < l->n_uniques; i++) {
		if ((s = sq_stmt(S_ADD_UNIQUE)) == NULL)
			return STORE_BUSY;
		sq_bind_text(s, 1, l->uniques[i]);
		sq_bind_text(s, 2, kind);
		sq_bind_text(s, 3, name);
		if ((rc = sq_exec(s)) == STORE_OK)
			continue;
		if (rc == STORE_UNIQUE && (s = sq_stmt(S_UNIQUE_OWNER)) != NULL) {
			sq_bind_text(s, 1, l->uniques[i]);
			if (sqlite3_step(s) == SQLITE_ROW)
				snprintf(detail, detail_len, "%s is already held by %s %s",
					 l->uniques[i], sqlite3_column_text(s, 0),
					 sqlite3_column_text(s, 1));
			sq_done(s);
		}
		return rc;
	}
	return STORE_OK;
}

static int
sq_put(struct store_tx *tx, const char *kind, const char *name, json_t *spec,
       const struct store_links *links, bool must_create, bool *created, char *detail,
       size_t detail_len)
{
	int64_t ts = sq_now_ms(), rev;
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
	rc = sq_add_change(tx, found ? "updated" : "created", kind, name, ts, &rev);
	if (rc == STORE_OK && found)
		rc = touch_refs(tx, kind, name); /* what it referenced before */
	for (int i = 0; links != NULL && i < links->n_refs; i++)
		sk_touch_ref(&tx->touched, links->refs[i].kind, links->refs[i].name, kind);
	for (int i = 0; links != NULL && i < links->n_tags; i++)
		sk_touch_ref(&tx->touched, links->tags[i].kind, links->tags[i].name, kind);
	if (rc != STORE_OK)
		goto out;
	sqlite3_stmt *s = sq_stmt(found ? S_UPDATE_SPEC : S_INSERT);
	if (s == NULL) {
		rc = STORE_BUSY;
		goto out;
	}
	sq_bind_text(s, 1, kind);
	sq_bind_text(s, 2, name);
	sq_bind_text(s, 3, text);
	if (found) {
		sqlite3_bind_int64(s, 4, rev);
		sqlite3_bind_int64(s, 5, ts);
	} else {
		sqlite3_bind_null(s, 4);
		sqlite3_bind_int64(s, 5, rev);
		sqlite3_bind_int64(s, 6, ts);
	}
	if ((rc = sq_exec(s)) != STORE_OK)
		goto out;
	rc = set_links(kind, name, links, detail, detail_len);
out:
	free(text);
	return rc;
}

static int
sq_set_status(struct store_tx *tx, const char *kind, const char *name, json_t *status)
{
	sqlite3_stmt *s = sq_stmt(S_GET_STATUS);
	char *text = json_dumps(status, JSON_COMPACT | JSON_SORT_KEYS);
	int64_t ts = sq_now_ms(), rev;
	int rc;
	bool same = false;

	if (s == NULL || text == NULL) {
		free(text);
		return s == NULL ? STORE_BUSY : STORE_ERROR;
	}
	sq_bind_text(s, 1, kind);
	sq_bind_text(s, 2, name);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		const char *old = (const char *)sqlite3_column_text(s, 0);
		same = old != NULL && strcmp(old, text) == 0;
	}
	sq_done(s);
	if (rc != SQLITE_ROW) {
		free(text);
		return rc == SQLITE_DONE ? STORE_NOTFOUND : sq_rc(rc);
	}
	if (same) {
		free(text);
		return STORE_OK;
	}
	rc = sq_add_change(tx, "updated", kind, name, ts, &rev);
	if (rc == STORE_OK)
		rc = touch_refs(tx, kind, name);
	if (rc == STORE_OK && (s = sq_stmt(S_UPDATE_STATUS)) == NULL)
		rc = STORE_BUSY;
	if (rc == STORE_OK) {
		sq_bind_text(s, 1, kind);
		sq_bind_text(s, 2, name);
		sq_bind_text(s, 3, text);
		sqlite3_bind_int64(s, 4, rev);
		sqlite3_bind_int64(s, 5, ts);
		rc = sq_exec(s);
	}
	free(text);
	return rc;
}

static int
sq_delete(struct store_tx *tx, const char *kind, const char *name, char *detail, size_t detail_len)
{
	sqlite3_stmt *s = sq_stmt(S_REFERRER);
	int64_t ts = sq_now_ms(), rev;
	int rc;

	detail[0] = '\0';
	if (s == NULL)
		return STORE_BUSY;
	sq_bind_text(s, 1, kind);
	sq_bind_text(s, 2, name);
	if (sqlite3_step(s) == SQLITE_ROW) {
		snprintf(detail, detail_len, "%s %s is used by %s %s", kind, name,
			 sqlite3_column_text(s, 0), sqlite3_column_text(s, 1));
		sq_done(s);
		return STORE_REFERENCED;
	}
	sq_done(s);
	if (!exists(kind, name))
		return STORE_NOTFOUND;
	if (strcmp(kind, "node") == 0 && (rc = sq_delete_node_tokens(tx, name)) != STORE_OK)
		return rc;
	if ((rc = sq_add_change(tx, "deleted", kind, name, ts, &rev)) != STORE_OK)
		return rc;
	if ((rc = touch_refs(tx, kind, name)) != STORE_OK)
		return rc;
	if ((s = sq_stmt(S_DELETE)) == NULL)
		return STORE_BUSY;
	sq_bind_text(s, 1, kind);
	sq_bind_text(s, 2, name);
	rc = sq_exec(s);
	return rc == STORE_UNIQUE ? STORE_REFERENCED : rc;
}

static int
read_changes(sqlite3_stmt *s, int limit, struct store_change *out)
{
	int n = 0, rc;

	while (n < limit && (rc = sqlite3_step(s)) == SQLITE_ROW) {
		struct store_change *c = &out[n++];
		c->rev = sqlite3_column_int64(s, 0);
		sq_copy_col(c->op, sizeof(c->op), s, 1);
		sq_copy_col(c->kind, sizeof(c->kind), s, 2);
		sq_copy_col(c->name, sizeof(c->name), s, 3);
		c->ts_ms = sqlite3_column_int64(s, 4);
		memset(&c->actor, 0, sizeof(c->actor));
		c->actor.type = actor_type_parse(sqlite3_column_text(s, 5));
		sq_copy_col(c->actor.id, sizeof(c->actor.id), s, 6);
		sq_copy_col(c->actor.role, sizeof(c->actor.role), s, 7);
		sq_copy_col(c->actor.node, sizeof(c->actor.node), s, 8);
		sq_copy_col(c->actor.description, sizeof(c->actor.description), s, 9);
	}
	sq_done(s);
	return n;
}

/* The statement that reads the changes of match after since (or the latest), bound but for
 * since and limit; NULL when the database is unavailable. */
static sqlite3_stmt *
changes_stmt(const struct store_match *m, bool latest)
{
	static const enum stmt_id ids[][2] = {
	    [STORE_MATCH_ALL] = {S_CHANGES_AFTER, S_CHANGES_LATEST},
	    [STORE_MATCH_TOKEN] = {S_CHANGES_ACTOR_AFTER, S_CHANGES_ACTOR_LATEST},
	    [STORE_MATCH_NODE] = {S_CHANGES_NODE_AFTER, S_CHANGES_NODE_LATEST},
	    [STORE_MATCH_SYSTEM] = {S_CHANGES_SYSTEM_AFTER, S_CHANGES_SYSTEM_LATEST},
	};
	enum store_match_type t = m != NULL ? m->type : STORE_MATCH_ALL;
	sqlite3_stmt *s;

	if (t == STORE_MATCH_SYSTEM && m->value != NULL) /* one system actor: by type and id */
		s = sq_stmt(latest ? S_CHANGES_ACTOR_LATEST : S_CHANGES_ACTOR_AFTER);
	else
		s = sq_stmt(ids[t][latest]);
	if (s == NULL)
		return NULL;
	if (t == STORE_MATCH_TOKEN || (t == STORE_MATCH_SYSTEM && m->value != NULL)) {
		sq_bind_text(s, 3, t == STORE_MATCH_TOKEN ? "token" : "system");
		sq_bind_text(s, 4, m->value);
	} else if (t == STORE_MATCH_NODE) {
		sq_bind_text(s, 3, m->value);
	}
	return s;
}

static int
sq_changes_since(int64_t since, int limit, const struct store_match *match,
		 struct store_change *out)
{
	sqlite3_stmt *s;

	if (since >= 0 && since < __atomic_load_n(&g.events_floor, __ATOMIC_ACQUIRE))
		return STORE_GONE;
	if ((s = changes_stmt(match, since < 0)) == NULL)
		return STORE_BUSY;
	sqlite3_bind_int64(s, 1, since < 0 ? -1 : since);
	sqlite3_bind_int(s, 2, limit);
	return read_changes(s, limit, out);
}

const struct store_backend store_sqlite = {
    .revision = sq_revision,
    .get = sq_get,
    .list = sq_list,
    .count = sq_count_kind,
    .kind_modified_ms = sq_kind_modified_ms,
    .write_begin = sq_write_begin,
    .commit = sq_commit,
    .rollback = sq_rollback,
    .put = sq_put,
    .set_status = sq_set_status,
    .del = sq_delete,
    .changes = sq_changes_since,
    .token_add = sq_token_add,
    .token_find = sq_token_find,
    .token_get = sq_token_get,
    .token_delete = sq_token_delete,
    .token_list = sq_token_list,
    .token_count = sq_token_count,
    .import_add = sq_import_add,
    .import_get = sq_import_get,
    .import_of_vip = sq_import_of_vip,
    .import_own = sq_import_own,
    .import_disown = sq_import_disown,
    .import_owners = sq_import_owners,
    .import_owned_by = sq_import_owned_by,
    .thread_done = sq_thread_done,
    .close = sq_close,
};

int
store_open(const char *path, int64_t events_keep, store_notify_fn notify, char *err, size_t errlen)
{
	int rc = sq_open(path, events_keep, notify, err, errlen);

	if (rc == STORE_OK)
		store_use_backend(&store_sqlite);
	return rc;
}
