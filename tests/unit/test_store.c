// links: server/store.c server/store_conn.c server/store_token.c server/store_keys.c server/hmap.c server/embedded.c build/gen/embedded.c common/clock.c
/* The SQLite store (server/store.c) on a real temporary database: migrations, put/get, list paging
 * forwards and backwards and by reference, refs (no delete while referenced, no dangling target),
 * unique keys, status writes that change nothing, the change feed and its trimming (STORE_GONE),
 * who caused each change and the feed of one actor, tokens, the revision across close and reopen,
 * and the commit notification. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sqlite3.h>
#include <cmocka.h>

#include "store.h"
#include "unit_json.h"
#include "unit_store.h"

static int notified;
static int64_t notified_rev;

static void
on_commit(int64_t rev, const struct store_keys *touched)
{
	assert_true(touched->n > 0);
	notified++;
	notified_rev = rev;
}

static int64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void
open_store(int64_t keep)
{
	unit_store_open(keep, on_commit);
}

static int
setup(void **state)
{
	(void)state;
	if (unit_store_mkdir() != 0)
		return -1;
	notified = 0;
	notified_rev = 0;
	open_store(1000);
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	unit_store_remove();
	return 0;
}

/* The names of out[0..n) joined with ',' into buf. */
static const char *
names(const struct store_obj *out, int n, char *buf, size_t len)
{
	size_t o = 0;

	buf[0] = '\0';
	for (int i = 0; i < n; i++)
		o += (size_t)snprintf(buf + o, len - o, "%s%s", i ? "," : "", out[i].name);
	return buf;
}

/* Lists and returns the names (into buf) of one page; *n gets the count, *total the total. */
static const char *
list(const char *kind, const char *rk, const char *rn, const char *after, const char *before,
     int limit, int *total, char *buf, size_t len)
{
	struct store_obj out[16];
	int n;

	assert_true(limit <= 16);
	n = store_list(kind, rk, rn, after, before, limit, out, total);
	assert_true(n >= 0);
	names(out, n, buf, len);
	for (int i = 0; i < n; i++) {
		assert_string_equal(out[i].kind, kind);
		assert_non_null(out[i].spec);
		store_obj_clear(&out[i]);
	}
	return buf;
}

/* The change feed after since as "rev op kind name; ..." into buf; returns the count or rc. */
static int
feed(int64_t since, int limit, char *buf, size_t len)
{
	struct store_change ch[32];
	size_t o = 0;
	int n = store_changes(since, limit, NULL, ch);

	buf[0] = '\0';
	for (int i = 0; i < n; i++) {
		o += (size_t)snprintf(buf + o, len - o, "%s%lld %s %s %s", i ? "; " : "",
				      (long long)ch[i].rev, ch[i].op, ch[i].kind, ch[i].name);
		assert_true(ch[i].ts_ms >= 1700000000000LL);
	}
	return n;
}

/* ------------------------------------------------------------------ open */

static void
test_open_migrates(void **state)
{
	sqlite3 *h;
	sqlite3_stmt *s;
	struct store_obj o;
	char buf[256];

	(void)state;
	assert_int_equal(store_revision(), 0);
	assert_int_equal(store_count("node"), 0);
	assert_int_equal(store_kind_modified_ms("node"), 0);
	assert_int_equal(store_kind_modified_ms(NULL), 0);
	assert_int_equal(store_get("node", "a", &o), STORE_NOTFOUND);
	assert_null(o.spec);
	assert_int_equal(feed(0, 10, buf, sizeof(buf)), 0);
	assert_int_equal(store_token_count(), 0);

	/* the schema version and the journal mode, read by a separate connection */
	assert_int_equal(sqlite3_open(unit_db, &h), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(h, "PRAGMA user_version", -1, &s, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(s), SQLITE_ROW);
	assert_int_equal(sqlite3_column_int(s, 0), 5); /* 005: imports */
	sqlite3_finalize(s);
	/* 004: the tags table (a VIP's sync group) */
	assert_int_equal(
	    sqlite3_prepare_v2(h,
			       "SELECT count(*) FROM sqlite_master WHERE type = 'table' "
			       "AND name = 'tags'",
			       -1, &s, NULL),
	    SQLITE_OK);
	assert_int_equal(sqlite3_step(s), SQLITE_ROW);
	assert_int_equal(sqlite3_column_int(s, 0), 1);
	sqlite3_finalize(s);
	/* 002: refs are indexed by target (filtered lists read only their matches) */
	assert_int_equal(
	    sqlite3_prepare_v2(h,
			       "SELECT count(*) FROM sqlite_master WHERE type = 'index' "
			       "AND name IN ('refs_by_target', 'refs_to')",
			       -1, &s, NULL),
	    SQLITE_OK);
	assert_int_equal(sqlite3_step(s), SQLITE_ROW);
	assert_int_equal(sqlite3_column_int(s, 0), 1);
	sqlite3_finalize(s);
	/* 003: every change records its actor, indexed for the feed of one actor */
	assert_int_equal(
	    sqlite3_prepare_v2(h,
			       "SELECT count(*) FROM sqlite_master WHERE type = 'index' "
			       "AND name IN ('changes_by_actor', 'changes_by_actor_node')",
			       -1, &s, NULL),
	    SQLITE_OK);
	assert_int_equal(sqlite3_step(s), SQLITE_ROW);
	assert_int_equal(sqlite3_column_int(s, 0), 2);
	sqlite3_finalize(s);
	assert_int_equal(sqlite3_prepare_v2(h,
					    "SELECT actor_type, actor_id, actor_role, actor_node, "
					    "actor_description FROM changes",
					    -1, &s, NULL),
			 SQLITE_OK);
	sqlite3_finalize(s);
	assert_int_equal(sqlite3_prepare_v2(h, "PRAGMA journal_mode", -1, &s, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(s), SQLITE_ROW);
	assert_string_equal((const char *)sqlite3_column_text(s, 0), "wal");
	sqlite3_finalize(s);
	sqlite3_close(h);

	/* opening again does not apply the migration twice */
	store_close();
	open_store(1000);
	assert_int_equal(store_revision(), 0);
}

static void
test_open_fails(void **state)
{
	char err[256] = "";

	(void)state;
	store_close();
	assert_int_not_equal(store_open("/nonexistent-dir/x/vigil.db", 10, NULL, err, sizeof(err)),
			     STORE_OK);
	assert_string_not_equal(err, "");
	store_close();
	open_store(1000); /* for teardown */
}

/* ------------------------------------------------------------------ put and get */

static void
test_put_get(void **state)
{
	struct store_obj o;
	bool created = false;
	char detail[256];
	int64_t before = now_ms(), after;

	(void)state;
	assert_int_equal(put_full("node", "a", "{'address':'10.0.0.1','labels':{'z':'1','a':'2'}}",
				  NULL, NULL, true, &created, detail, sizeof(detail)),
			 STORE_OK);
	after = now_ms();
	assert_true(created);
	assert_string_equal(detail, "");
	assert_int_equal(store_revision(), 1);
	assert_int_equal(store_get("node", "a", &o), STORE_OK);
	assert_string_equal(o.kind, "node");
	assert_string_equal(o.name, "a");
	assert_json(o.spec, "{'address':'10.0.0.1','labels':{'a':'2','z':'1'}}");
	assert_null(o.status);
	assert_int_equal(o.create_rev, 1);
	assert_int_equal(o.mod_rev, 1);
	assert_in_range(o.modified_ms, before, after);
	assert_in_range(store_kind_modified_ms("node"), before, after);
	store_obj_clear(&o);
	assert_null(o.spec);

	/* a create of a taken name: STORE_EXISTS, nothing written */
	assert_int_equal(
	    put_full("node", "a", "{}", NULL, NULL, true, &created, detail, sizeof(detail)),
	    STORE_EXISTS);
	assert_string_equal(detail, "node a already exists");
	assert_int_equal(store_revision(), 1);

	/* replace */
	assert_int_equal(put_full("node", "a", "{'address':'10.0.0.2'}", NULL, NULL, false,
				  &created, detail, sizeof(detail)),
			 STORE_OK);
	assert_false(created);
	assert_int_equal(store_revision(), 2);
	assert_int_equal(store_get("node", "a", &o), STORE_OK);
	assert_json(o.spec, "{'address':'10.0.0.2'}");
	assert_int_equal(o.create_rev, 1);
	assert_int_equal(o.mod_rev, 2);
	store_obj_clear(&o);

	/* the same name in another kind is another object */
	before = now_ms();
	put("vip", "a", "{'vrid':1}");
	after = now_ms();
	/* NULL: the latest change of any kind */
	assert_in_range(store_kind_modified_ms("vip"), before, after);
	assert_in_range(store_kind_modified_ms(NULL), before, after);
	assert_true(store_kind_modified_ms("node") <= store_kind_modified_ms(NULL));
	assert_int_equal(store_kind_modified_ms("backend"), 0);
	assert_int_equal(store_count("node"), 1);
	assert_int_equal(store_count("vip"), 1);
	assert_int_equal(store_get("vip", "a", &o), STORE_OK);
	assert_json(o.spec, "{'vrid':1}");
	assert_int_equal(o.create_rev, 3);
	store_obj_clear(&o);
	assert_int_equal(store_get("backend", "a", &o), STORE_NOTFOUND);
}

static void
test_transactions(void **state)
{
	struct store_obj o;
	bool created;
	char detail[256], buf[256];
	struct store_tx *tx;
	json_t *spec = J("{}");

	(void)state;
	/* rolled back: nothing stays, the revision does not move, nobody is told */
	assert_int_equal(store_write_begin(NULL, &tx), STORE_OK);
	assert_int_equal(
	    store_put(tx, "node", "a", spec, NULL, false, &created, detail, sizeof(detail)),
	    STORE_OK);
	store_rollback(tx);
	assert_int_equal(store_get("node", "a", &o), STORE_NOTFOUND);
	assert_int_equal(store_revision(), 0);
	assert_int_equal(feed(0, 10, buf, sizeof(buf)), 0);
	assert_int_equal(notified, 0);

	/* a commit without writes changes nothing */
	assert_int_equal(store_write_begin(NULL, &tx), STORE_OK);
	assert_int_equal(store_commit(tx), STORE_OK);
	assert_int_equal(store_revision(), 0);
	assert_int_equal(notified, 0);

	/* two objects in one transaction: two revisions, one notification with the last */
	assert_int_equal(store_write_begin(NULL, &tx), STORE_OK);
	assert_int_equal(
	    store_put(tx, "node", "a", spec, NULL, false, &created, detail, sizeof(detail)),
	    STORE_OK);
	assert_int_equal(
	    store_put(tx, "node", "b", spec, NULL, false, &created, detail, sizeof(detail)),
	    STORE_OK);
	assert_int_equal(store_revision(), 0); /* not before the commit */
	assert_int_equal(store_commit(tx), STORE_OK);
	assert_int_equal(store_revision(), 2);
	assert_int_equal(notified, 1);
	assert_int_equal(notified_rev, 2);
	assert_int_equal(feed(0, 10, buf, sizeof(buf)), 2);
	assert_string_equal(buf, "1 created node a; 2 created node b");
	json_decref(spec);
}

/* ------------------------------------------------------------------ list */

static void
test_list_paging(void **state)
{
	char buf[256];
	int total = -1;

	(void)state;
	put("node", "e", "{}");
	put("node", "a", "{}");
	put("node", "c", "{}");
	put("node", "b-1", "{}");
	put("node", "b", "{}");
	put("vip", "aa", "{}"); /* another kind: never listed with nodes */
	assert_string_equal(list("node", NULL, NULL, NULL, NULL, 16, &total, buf, sizeof(buf)),
			    "a,b,b-1,c,e");
	assert_int_equal(total, 5);
	/* forwards */
	assert_string_equal(list("node", NULL, NULL, NULL, NULL, 2, &total, buf, sizeof(buf)),
			    "a,b");
	assert_int_equal(total, 5);
	assert_string_equal(list("node", NULL, NULL, "b", NULL, 2, &total, buf, sizeof(buf)),
			    "b-1,c");
	assert_string_equal(list("node", NULL, NULL, "c", NULL, 2, &total, buf, sizeof(buf)), "e");
	assert_string_equal(list("node", NULL, NULL, "e", NULL, 2, &total, buf, sizeof(buf)), "");
	assert_int_equal(total, 5);
	/* "after" need not be an existing name */
	assert_string_equal(list("node", NULL, NULL, "bz", NULL, 2, &total, buf, sizeof(buf)),
			    "c,e");
	/* backwards: the names just before, still in ascending order */
	assert_string_equal(list("node", NULL, NULL, NULL, "c", 2, &total, buf, sizeof(buf)),
			    "b,b-1");
	assert_string_equal(list("node", NULL, NULL, NULL, "b-1", 2, &total, buf, sizeof(buf)),
			    "a,b");
	assert_string_equal(list("node", NULL, NULL, NULL, "b", 2, &total, buf, sizeof(buf)), "a");
	assert_string_equal(list("node", NULL, NULL, NULL, "a", 2, &total, buf, sizeof(buf)), "");
	assert_string_equal(list("node", NULL, NULL, NULL, "z", 3, &total, buf, sizeof(buf)),
			    "b-1,c,e");
	assert_int_equal(total, 5);
	/* an empty kind */
	assert_string_equal(list("check", NULL, NULL, NULL, NULL, 5, &total, buf, sizeof(buf)), "");
	assert_int_equal(total, 0);
}

static void
test_list_by_ref(void **state)
{
	static const char *const to_a[] = {"node/a", NULL};
	static const char *const to_b[] = {"node/b", NULL};
	static const char *const to_ab[] = {"node/a", "node/b", "node/a", NULL};
	bool created;
	char detail[256], buf[256];
	int total = -1;

	(void)state;
	put("node", "a", "{}");
	put("node", "b", "{}");
	assert_int_equal(
	    put_full("vip", "v1", "{}", to_a, NULL, true, &created, detail, sizeof(detail)),
	    STORE_OK);
	assert_int_equal(
	    put_full("vip", "v2", "{}", to_b, NULL, true, &created, detail, sizeof(detail)),
	    STORE_OK);
	/* the same target twice is one reference */
	assert_int_equal(
	    put_full("vip", "v3", "{}", to_ab, NULL, true, &created, detail, sizeof(detail)),
	    STORE_OK);
	assert_int_equal(
	    put_full("vip", "v4", "{}", NULL, NULL, true, &created, detail, sizeof(detail)),
	    STORE_OK);
	assert_string_equal(list("vip", "node", "a", NULL, NULL, 10, &total, buf, sizeof(buf)),
			    "v1,v3");
	assert_int_equal(total, 2);
	assert_string_equal(list("vip", "node", "b", NULL, NULL, 10, &total, buf, sizeof(buf)),
			    "v2,v3");
	assert_string_equal(list("vip", "node", "b", "v2", NULL, 10, &total, buf, sizeof(buf)),
			    "v3");
	assert_int_equal(total, 2);
	assert_string_equal(list("vip", "node", "b", NULL, "v3", 10, &total, buf, sizeof(buf)),
			    "v2");
	assert_string_equal(list("vip", "node", "zz", NULL, NULL, 10, &total, buf, sizeof(buf)),
			    "");
	assert_int_equal(total, 0);
	/* a replace rewrites the refs: v3 no longer refers to b */
	assert_int_equal(
	    put_full("vip", "v3", "{}", to_a, NULL, false, &created, detail, sizeof(detail)),
	    STORE_OK);
	assert_string_equal(list("vip", "node", "b", NULL, NULL, 10, &total, buf, sizeof(buf)),
			    "v2");
	assert_int_equal(total, 1);
}

/* ------------------------------------------------------------------ refs and uniques */

static void
test_refs(void **state)
{
	static const char *const to_n1[] = {"node/n1", NULL};
	static const char *const to_n2[] = {"node/n2", NULL};
	static const char *const to_ghost[] = {"node/n1", "node/ghost", NULL};
	struct store_obj o;
	bool created;
	char detail[256];

	(void)state;
	put("node", "n1", "{}");
	put("node", "n2", "{}");
	assert_int_equal(
	    put_full("vip", "v1", "{}", to_n1, NULL, true, &created, detail, sizeof(detail)),
	    STORE_OK);
	assert_int_equal(
	    put_full("vip", "v2", "{}", to_n1, NULL, true, &created, detail, sizeof(detail)),
	    STORE_OK);
	assert_int_equal(store_revision(), 4);

	/* no delete while referenced; the detail names the first referrer */
	assert_int_equal(del("node", "n1", detail, sizeof(detail)), STORE_REFERENCED);
	assert_string_equal(detail, "node n1 is used by vip v1");
	assert_int_equal(store_revision(), 4);
	assert_int_equal(store_get("node", "n1", &o), STORE_OK);
	store_obj_clear(&o);

	/* a reference to a missing object */
	assert_int_equal(
	    put_full("vip", "v3", "{}", to_ghost, NULL, true, &created, detail, sizeof(detail)),
	    STORE_DANGLING);
	assert_string_equal(detail, "node ghost does not exist");
	assert_int_equal(store_get("vip", "v3", &o), STORE_NOTFOUND);
	assert_int_equal(store_revision(), 4);

	/* deleting a referrer releases its refs; moving one releases the old target */
	assert_int_equal(del("vip", "v1", detail, sizeof(detail)), STORE_OK);
	assert_string_equal(detail, "");
	assert_int_equal(del("node", "n1", detail, sizeof(detail)), STORE_REFERENCED);
	assert_string_equal(detail, "node n1 is used by vip v2");
	assert_int_equal(
	    put_full("vip", "v2", "{}", to_n2, NULL, false, &created, detail, sizeof(detail)),
	    STORE_OK);
	assert_int_equal(del("node", "n1", detail, sizeof(detail)), STORE_OK);
	assert_int_equal(store_get("node", "n1", &o), STORE_NOTFOUND);
	assert_int_equal(del("node", "n1", detail, sizeof(detail)), STORE_NOTFOUND);
	assert_int_equal(del("node", "n2", detail, sizeof(detail)), STORE_REFERENCED);
	assert_string_equal(detail, "node n2 is used by vip v2");
	assert_int_equal(store_revision(), 7);
}

static void
test_uniques(void **state)
{
	static const char *const k51[] = {"vrid:eth0:4:51", NULL};
	static const char *const k52[] = {"vrid:eth0:4:52", NULL};
	static const char *const both[] = {"vrid:eth0:4:53", "vrid:eth0:4:52", NULL};
	struct store_obj o;
	bool created;
	char detail[256];

	(void)state;
	assert_int_equal(
	    put_full("vip", "v1", "{'vrid':51}", NULL, k51, true, &created, detail, sizeof(detail)),
	    STORE_OK);
	assert_int_equal(store_revision(), 1);
	assert_int_equal(
	    put_full("vip", "v2", "{'vrid':51}", NULL, k51, true, &created, detail, sizeof(detail)),
	    STORE_UNIQUE);
	assert_string_equal(detail, "vrid:eth0:4:51 is already held by vip v1");
	assert_int_equal(store_get("vip", "v2", &o), STORE_NOTFOUND);
	assert_int_equal(store_revision(), 1);
	/* the holder may keep its key on a replace */
	assert_int_equal(put_full("vip", "v1", "{'vrid':51}", NULL, k51, false, &created, detail,
				  sizeof(detail)),
			 STORE_OK);
	/* a second key that clashes: refused as a whole */
	assert_int_equal(
	    put_full("vip", "v2", "{}", NULL, k52, true, &created, detail, sizeof(detail)),
	    STORE_OK);
	assert_int_equal(
	    put_full("vip", "v3", "{}", NULL, both, true, &created, detail, sizeof(detail)),
	    STORE_UNIQUE);
	assert_string_equal(detail, "vrid:eth0:4:52 is already held by vip v2");
	assert_int_equal(store_get("vip", "v3", &o), STORE_NOTFOUND);
	/* a replace that drops the key frees it; so does a delete */
	assert_int_equal(put_full("vip", "v1", "{'vrid':60}", NULL, NULL, false, &created, detail,
				  sizeof(detail)),
			 STORE_OK);
	assert_int_equal(
	    put_full("vip", "v4", "{}", NULL, k51, true, &created, detail, sizeof(detail)),
	    STORE_OK);
	assert_int_equal(del("vip", "v2", detail, sizeof(detail)), STORE_OK);
	assert_int_equal(
	    put_full("vip", "v3", "{}", NULL, both, true, &created, detail, sizeof(detail)),
	    STORE_OK);
}

/* ------------------------------------------------------------------ status */

static void
test_status(void **state)
{
	struct store_obj o;
	char buf[512];

	(void)state;
	put("node", "a", "{}");
	put("node", "b", "{}");
	assert_int_equal(set_status("node", "a", "{'up':true,'agent':'1.0'}"), STORE_OK);
	assert_int_equal(store_revision(), 3);
	assert_int_equal(notified, 3);
	assert_int_equal(store_get("node", "a", &o), STORE_OK);
	assert_json(o.status, "{'agent':'1.0','up':true}");
	assert_json(o.spec, "{}");
	assert_int_equal(o.create_rev, 1);
	assert_int_equal(o.mod_rev, 3);
	store_obj_clear(&o);

	/* the same status (members in another order): no change, no revision, no notification */
	assert_int_equal(set_status("node", "a", "{'agent':'1.0','up':true}"), STORE_OK);
	assert_int_equal(store_revision(), 3);
	assert_int_equal(notified, 3);
	assert_int_equal(store_get("node", "a", &o), STORE_OK);
	assert_int_equal(o.mod_rev, 3);
	store_obj_clear(&o);
	assert_int_equal(feed(2, 10, buf, sizeof(buf)), 1);
	assert_string_equal(buf, "3 updated node a");

	/* a different one moves both */
	assert_int_equal(set_status("node", "a", "{'agent':'1.0','up':false}"), STORE_OK);
	assert_int_equal(store_revision(), 4);
	assert_int_equal(notified_rev, 4);
	assert_int_equal(store_get("node", "a", &o), STORE_OK);
	assert_int_equal(o.mod_rev, 4);
	assert_json(o.status, "{'agent':'1.0','up':false}");
	store_obj_clear(&o);

	/* a missing object */
	assert_int_equal(set_status("node", "zz", "{}"), STORE_NOTFOUND);
	assert_int_equal(store_revision(), 4);

	/* a replace of the spec keeps the status */
	put("node", "a", "{'address':'10.0.0.9'}");
	assert_int_equal(store_get("node", "a", &o), STORE_OK);
	assert_json(o.status, "{'agent':'1.0','up':false}");
	assert_int_equal(o.mod_rev, 5);
	store_obj_clear(&o);
}

/* A create and its status in one transaction are one change (one event in /events). */
static void
test_status_same_transaction(void **state)
{
	struct store_obj o;
	bool created;
	char detail[256], buf[512];
	struct store_tx *tx;
	json_t *spec = J("{}"), *st = J("{'health':'unknown'}"), *st2 = J("{'health':'up'}");

	(void)state;
	put("node", "n", "{}");
	assert_int_equal(store_write_begin(NULL, &tx), STORE_OK);
	assert_int_equal(
	    store_put(tx, "backend", "b1", spec, NULL, true, &created, detail, sizeof(detail)),
	    STORE_OK);
	assert_int_equal(store_set_status(tx, "backend", "b1", st), STORE_OK);
	assert_int_equal(store_commit(tx), STORE_OK);
	assert_int_equal(store_revision(), 2);
	assert_int_equal(store_get("backend", "b1", &o), STORE_OK);
	assert_int_equal(o.create_rev, 2);
	assert_int_equal(o.mod_rev, 2);
	assert_json(o.status, "{'health':'unknown'}");
	store_obj_clear(&o);
	assert_int_equal(feed(0, 10, buf, sizeof(buf)), 2);
	assert_string_equal(buf, "1 created node n; 2 created backend b1");

	/* another object in between: the status is a change of its own */
	assert_int_equal(store_write_begin(NULL, &tx), STORE_OK);
	assert_int_equal(
	    store_put(tx, "backend", "b2", spec, NULL, true, &created, detail, sizeof(detail)),
	    STORE_OK);
	assert_int_equal(store_set_status(tx, "node", "n", st), STORE_OK);
	assert_int_equal(store_set_status(tx, "backend", "b2", st2), STORE_OK);
	assert_int_equal(store_commit(tx), STORE_OK);
	assert_int_equal(store_revision(), 5);
	assert_int_equal(feed(2, 10, buf, sizeof(buf)), 3);
	assert_string_equal(buf, "3 created backend b2; 4 updated node n; 5 updated backend b2");
	json_decref(spec);
	json_decref(st);
	json_decref(st2);
}

/* ------------------------------------------------------------------ change feed */

static void
test_changes(void **state)
{
	char buf[512], detail[256];

	(void)state;
	put("node", "a", "{}");						      /* 1 */
	put("node", "b", "{}");						      /* 2 */
	put("node", "a", "{'x':1}");					      /* 3 */
	assert_int_equal(set_status("node", "a", "{}"), STORE_OK);	      /* 4 */
	assert_int_equal(del("node", "b", detail, sizeof(detail)), STORE_OK); /* 5 */
	assert_int_equal(store_revision(), 5);
	assert_int_equal(feed(0, 10, buf, sizeof(buf)), 5);
	assert_string_equal(buf, "1 created node a; 2 created node b; 3 updated node a; "
				 "4 updated node a; 5 deleted node b");
	assert_int_equal(feed(3, 10, buf, sizeof(buf)), 2);
	assert_string_equal(buf, "4 updated node a; 5 deleted node b");
	assert_int_equal(feed(0, 2, buf, sizeof(buf)), 2);
	assert_string_equal(buf, "1 created node a; 2 created node b");
	assert_int_equal(feed(5, 10, buf, sizeof(buf)), 0);
	assert_int_equal(feed(99, 10, buf, sizeof(buf)), 0);
	/* since < 0: the latest ones, ascending */
	assert_int_equal(feed(-1, 2, buf, sizeof(buf)), 2);
	assert_string_equal(buf, "4 updated node a; 5 deleted node b");
	assert_int_equal(feed(-1, 10, buf, sizeof(buf)), 5);
}

/* Puts (kind, name) in a transaction of its own caused by actor (NULL: unknown). */
static void
put_as(const struct store_actor *actor, const char *kind, const char *name)
{
	struct store_tx *tx;
	bool created;
	char detail[256];
	json_t *spec = J("{}");

	assert_int_equal(store_write_begin(actor, &tx), STORE_OK);
	assert_int_equal(unit_store_end(tx, store_put(tx, kind, name, spec, NULL, false, &created,
						      detail, sizeof(detail))),
			 STORE_OK);
	json_decref(spec);
}

/* The revisions of the changes that m matches after since, as "1,3" into buf; returns the count. */
static int
feed_of(int64_t since, int limit, enum store_match_type type, const char *value, char *buf,
	size_t len)
{
	struct store_match m = {type, value};
	struct store_change ch[16];
	size_t o = 0;
	int n = store_changes(since, limit, &m, ch);

	buf[0] = '\0';
	for (int i = 0; i < n; i++)
		o += (size_t)snprintf(buf + o, len - o, "%s%lld", i ? "," : "",
				      (long long)ch[i].rev);
	return n;
}

/* The latest revision at which key was touched. */
static int64_t
key_rev(const char *key)
{
	char k[1][STORE_KEY_MAX];
	struct store_keys ks = {.key = k, .n = 1, .cap = 1};

	snprintf(k[0], sizeof(k[0]), "%s", key);
	return store_keys_rev(&ks);
}

static void
test_changes_by_actor(void **state)
{
	struct store_actor op = {STORE_ACTOR_TOKEN, "op1", "operator", "", "alice"},
			   ag = {STORE_ACTOR_TOKEN, "ag1", "agent", "lb1", "agent on lb1"},
			   ag2 = {STORE_ACTOR_TOKEN, "ag2", "agent", "lb1", "spare agent"},
			   sweep = {STORE_ACTOR_SYSTEM, "liveness-sweep", "", "", ""},
			   boot = {STORE_ACTOR_SYSTEM, "bootstrap", "", "", ""};
	struct store_change ch[8];
	char buf[128];

	(void)state;
	put_as(&op, "node", "lb1");    /* 1 */
	put_as(&ag, "node", "lb1");    /* 2 */
	put_as(&sweep, "node", "lb1"); /* 3 */
	put_as(NULL, "node", "lb1");   /* 4 */
	put_as(&ag2, "node", "lb1");   /* 5 */
	put_as(&boot, "node", "x");    /* 6 */
	put_as(&op, "node", "y");      /* 7 */

	/* every change carries its actor as written; NULL is unknown */
	assert_int_equal(store_changes(0, 8, NULL, ch), 7);
	assert_int_equal(ch[0].actor.type, STORE_ACTOR_TOKEN);
	assert_string_equal(ch[0].actor.id, "op1");
	assert_string_equal(ch[0].actor.role, "operator");
	assert_string_equal(ch[0].actor.node, "");
	assert_string_equal(ch[0].actor.description, "alice");
	assert_string_equal(ch[1].actor.node, "lb1");
	assert_int_equal(ch[2].actor.type, STORE_ACTOR_SYSTEM);
	assert_string_equal(ch[2].actor.id, "liveness-sweep");
	assert_string_equal(ch[2].actor.role, "");
	assert_int_equal(ch[3].actor.type, STORE_ACTOR_NONE);
	assert_string_equal(ch[3].actor.id, "");

	/* one actor's feed, after since and the latest ones, ascending */
	assert_int_equal(feed_of(0, 8, STORE_MATCH_TOKEN, "op1", buf, sizeof(buf)), 2);
	assert_string_equal(buf, "1,7");
	assert_int_equal(feed_of(1, 8, STORE_MATCH_TOKEN, "op1", buf, sizeof(buf)), 1);
	assert_string_equal(buf, "7");
	assert_int_equal(feed_of(-1, 1, STORE_MATCH_TOKEN, "op1", buf, sizeof(buf)), 1);
	assert_string_equal(buf, "7");
	assert_int_equal(feed_of(0, 8, STORE_MATCH_NODE, "lb1", buf, sizeof(buf)), 2);
	assert_string_equal(buf, "2,5");
	assert_int_equal(feed_of(-1, 1, STORE_MATCH_NODE, "lb1", buf, sizeof(buf)), 1);
	assert_string_equal(buf, "5");
	assert_int_equal(feed_of(0, 8, STORE_MATCH_SYSTEM, NULL, buf, sizeof(buf)), 2);
	assert_string_equal(buf, "3,6");
	assert_int_equal(feed_of(-1, 8, STORE_MATCH_SYSTEM, NULL, buf, sizeof(buf)), 2);
	assert_int_equal(feed_of(0, 8, STORE_MATCH_SYSTEM, "bootstrap", buf, sizeof(buf)), 1);
	assert_string_equal(buf, "6");
	/* a token's id never matches a system actor of the same name */
	assert_int_equal(feed_of(0, 8, STORE_MATCH_TOKEN, "bootstrap", buf, sizeof(buf)), 0);
	assert_int_equal(feed_of(0, 8, STORE_MATCH_TOKEN, "nobody", buf, sizeof(buf)), 0);

	/* a commit touches its actor's "@" keys, so that a filtered long-poll wakes on it alone */
	assert_int_equal(key_rev("@op1"), 7);
	assert_int_equal(key_rev("@ag1"), 2);
	assert_int_equal(key_rev("@node:lb1"), 5);
	assert_int_equal(key_rev("@system"), 6);
	assert_int_equal(key_rev("@system:liveness-sweep"), 3);
	assert_int_equal(key_rev("@system:bootstrap"), 6);
	assert_int_equal(key_rev("@nobody"), 0);

	/* reading one actor's feed depends on that key, not on every write */
	struct store_keys deps = {0};
	struct store_match m = {STORE_MATCH_NODE, "lb1"};
	store_track_begin(&deps);
	assert_int_equal(store_changes(0, 8, &m, ch), 2);
	store_track_end();
	assert_int_equal(deps.n, 1);
	assert_string_equal(deps.key[0], "@node:lb1");
	store_keys_clear(&deps);
}

static void
test_changes_trimmed(void **state)
{
	char buf[512];
	char name[8];

	(void)state;
	store_close();
	open_store(3); /* keep 3 events */
	for (int i = 1; i <= 5; i++) {
		snprintf(name, sizeof(name), "n%d", i);
		put("node", name, "{}");
	}
	assert_int_equal(store_revision(), 5);
	/* revisions 1 and 2 are gone: a client that saw 0 or 1 must re-read everything */
	assert_int_equal(feed(0, 10, buf, sizeof(buf)), STORE_GONE);
	assert_int_equal(feed(1, 10, buf, sizeof(buf)), STORE_GONE);
	assert_int_equal(feed(2, 10, buf, sizeof(buf)), 3);
	assert_string_equal(buf, "3 created node n3; 4 created node n4; 5 created node n5");
	assert_int_equal(feed(4, 10, buf, sizeof(buf)), 1);
	assert_int_equal(feed(-1, 10, buf, sizeof(buf)), 3);
	assert_string_equal(buf, "3 created node n3; 4 created node n4; 5 created node n5");
	put("node", "n6", "{}");
	assert_int_equal(feed(2, 10, buf, sizeof(buf)), STORE_GONE);
	assert_int_equal(feed(3, 10, buf, sizeof(buf)), 3);
	assert_string_equal(buf, "4 created node n4; 5 created node n5; 6 created node n6");
	/* the floor survives a reopen */
	store_close();
	open_store(3);
	assert_int_equal(feed(2, 10, buf, sizeof(buf)), STORE_GONE);
	assert_int_equal(feed(3, 10, buf, sizeof(buf)), 3);
}

/* ------------------------------------------------------------------ tokens */

static void
digest_of(unsigned char d[32], unsigned char first, unsigned char last)
{
	memset(d, 0x5a, 32);
	d[0] = first;
	d[31] = last;
}

/* Adds a token in its own transaction; returns the store_rc. */
static int
token_add(const char *id, const char *role, const char *node, const unsigned char d[32])
{
	struct store_token t;
	struct store_tx *tx;

	memset(&t, 0, sizeof(t));
	snprintf(t.id, sizeof(t.id), "%s", id);
	snprintf(t.role, sizeof(t.role), "%s", role);
	snprintf(t.node, sizeof(t.node), "%s", node);
	snprintf(t.description, sizeof(t.description), "token %s", id);
	t.created_ms = 1700000000123LL;
	assert_int_equal(store_write_begin(NULL, &tx), STORE_OK);
	return unit_store_end(tx, store_token_add(tx, &t, d));
}

static int
token_del(const char *id)
{
	struct store_tx *tx;

	assert_int_equal(store_write_begin(NULL, &tx), STORE_OK);
	return unit_store_end(tx, store_token_delete(tx, id));
}

static void
test_tokens(void **state)
{
	unsigned char d1[32], d2[32], d3[32], d4[32];
	struct store_token t, out[4];
	char buf[512], detail[256];
	int total = -1;

	(void)state;
	digest_of(d1, 1, 1);
	digest_of(d2, 2, 2);
	digest_of(d3, 1, 3); /* same first 8 bytes (the index prefix) as d1 */
	digest_of(d4, 4, 4);
	assert_int_equal(token_add("t1", "admin", "", d1), STORE_OK);
	assert_int_equal(store_revision(), 1);
	memset(&t, 0, sizeof(t));
	assert_int_equal(store_token_find(d1, &t), STORE_OK);
	assert_string_equal(t.id, "t1");
	assert_string_equal(t.role, "admin");
	assert_string_equal(t.node, "");
	assert_string_equal(t.description, "token t1");
	assert_int_equal(t.created_ms, 1700000000123LL);
	assert_int_equal(store_token_find(d2, &t), STORE_NOTFOUND);
	assert_int_equal(store_token_find(d3, &t), STORE_NOTFOUND); /* prefix alone is not enough */
	assert_int_equal(token_add("t3", "viewer", "", d3), STORE_OK);
	assert_int_equal(store_token_find(d3, &t), STORE_OK);
	assert_string_equal(t.id, "t3");
	assert_int_equal(store_token_find(d1, &t), STORE_OK);
	assert_string_equal(t.id, "t1");

	/* an id or a digest used twice */
	assert_int_equal(token_add("t1", "viewer", "", d2), STORE_EXISTS);
	assert_int_equal(token_add("t9", "viewer", "", d1), STORE_EXISTS);
	assert_int_equal(store_token_find(d2, &t), STORE_NOTFOUND);
	assert_int_equal(store_revision(), 2);

	/* agent tokens are bound to an existing node */
	put("node", "lb1", "{}"); /* 3 */
	assert_int_equal(token_add("t2", "agent", "lb1", d2), STORE_OK);
	assert_int_equal(store_token_get("t2", &t), STORE_OK);
	assert_string_equal(t.role, "agent");
	assert_string_equal(t.node, "lb1");
	/* A missing node is refused by the schema's foreign key. The store reports it as
	 * STORE_EXISTS (any constraint), not STORE_DANGLING: asserted only as "refused". */
	assert_int_not_equal(token_add("t8", "agent", "ghost", d4), STORE_OK);
	assert_int_equal(store_token_get("t8", &t), STORE_NOTFOUND);
	assert_int_equal(store_token_count(), 3);

	/* list, by id, forwards and backwards */
	assert_int_equal(store_token_list(NULL, NULL, 2, out, &total), 2);
	assert_int_equal(total, 3);
	assert_string_equal(out[0].id, "t1");
	assert_string_equal(out[1].id, "t2");
	assert_int_equal(store_token_list("t2", NULL, 2, out, &total), 1);
	assert_string_equal(out[0].id, "t3");
	assert_int_equal(store_token_list(NULL, "t3", 2, out, &total), 2);
	assert_string_equal(out[0].id, "t1");
	assert_string_equal(out[1].id, "t2");

	/* revoke: gone at once */
	assert_int_equal(token_del("t1"), STORE_OK);
	assert_int_equal(store_token_find(d1, &t), STORE_NOTFOUND);
	assert_int_equal(store_token_get("t1", &t), STORE_NOTFOUND);
	assert_int_equal(token_del("t1"), STORE_NOTFOUND);
	assert_int_equal(store_token_find(d3, &t), STORE_OK);

	/* deleting a node deletes its agent tokens first, each with its own change */
	assert_int_equal(del("node", "lb1", detail, sizeof(detail)), STORE_OK);
	assert_int_equal(store_token_get("t2", &t), STORE_NOTFOUND);
	assert_int_equal(store_token_find(d2, &t), STORE_NOTFOUND);
	assert_int_equal(store_token_count(), 1);
	assert_int_equal(feed(0, 20, buf, sizeof(buf)), 7);
	assert_string_equal(buf, "1 created token t1; 2 created token t3; 3 created node lb1; "
				 "4 created token t2; 5 deleted token t1; 6 deleted token t2; "
				 "7 deleted node lb1");
}

/* ------------------------------------------------------------------ durability */

static void
test_reopen(void **state)
{
	struct store_obj o;
	unsigned char d[32];
	struct store_token t;
	char buf[512];

	(void)state;
	put("node", "a", "{'address':'10.0.0.1'}");
	assert_int_equal(set_status("node", "a", "{'up':true}"), STORE_OK);
	put("vip", "v", "{}");
	digest_of(d, 9, 9);
	assert_int_equal(token_add("tk", "operator", "", d), STORE_OK);
	assert_int_equal(store_revision(), 4);
	store_close();

	open_store(1000);
	assert_int_equal(store_revision(), 4);
	assert_int_equal(store_get("node", "a", &o), STORE_OK);
	assert_json(o.spec, "{'address':'10.0.0.1'}");
	assert_json(o.status, "{'up':true}");
	assert_int_equal(o.mod_rev, 2);
	store_obj_clear(&o);
	assert_int_equal(store_token_find(d, &t), STORE_OK);
	assert_string_equal(t.role, "operator");
	assert_int_equal(feed(0, 10, buf, sizeof(buf)), 4);
	assert_string_equal(buf, "1 created node a; 2 updated node a; 3 created vip v; "
				 "4 created token tk");
	/* numbering continues */
	put("node", "b", "{}");
	assert_int_equal(store_revision(), 5);
	assert_int_equal(notified_rev, 5);
	assert_int_equal(store_get("node", "b", &o), STORE_OK);
	assert_int_equal(o.create_rev, 5);
	store_obj_clear(&o);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_open_migrates, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_open_fails, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_put_get, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_transactions, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_list_paging, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_list_by_ref, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_refs, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_uniques, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_status, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_status_same_transaction, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_changes, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_changes_by_actor, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_changes_trimmed, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_tokens, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_reopen, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
