// links: server/store.c server/store_sqlite.c server/store_conn.c server/store_token.c server/store_keys.c server/hmap.c server/embedded.c build/gen/embedded.c server/store_import.c
/* The store's keys (server/store_keys.c through server/store.c) on a real temporary database: the
 * keys a commit reports to the notify callback for puts, status sets and deletes (with the "<KIND"
 * keys of what the object references before and after), the keys reads record while tracking,
 * and store_keys_rev, which must move only with commits that touched a key. */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "store.h"
#include "unit_json.h"
#include "unit_store.h"

static const char *const to_lb1[] = {"node/lb1", NULL};
static const char *const to_lb2[] = {"node/lb2", NULL};

/* What the notify callback saw: how often, the last revision and the last keys. */
static int notified;
static int64_t notified_rev;
static char notified_keys[512];

/* The keys of ks, sorted and joined with ' ', into buf (the set's order is not part of its
 * contract). */
static const char *
joined(const struct store_keys *ks, char *buf, size_t len)
{
	const char *sorted[64];
	size_t n = ks->n, o = 0;

	assert_true(n <= 64);
	for (size_t i = 0; i < n; i++) {
		size_t j = i;
		for (; j > 0 && strcmp(sorted[j - 1], ks->key[i]) > 0; j--)
			sorted[j] = sorted[j - 1];
		sorted[j] = ks->key[i];
	}
	buf[0] = '\0';
	for (size_t i = 0; i < n; i++)
		o += (size_t)snprintf(buf + o, len - o, "%s%s", i ? " " : "", sorted[i]);
	return buf;
}

static void
on_commit(int64_t rev, const struct store_keys *touched)
{
	notified++;
	notified_rev = rev;
	joined(touched, notified_keys, sizeof(notified_keys));
}

static int
setup(void **state)
{
	(void)state;
	if (unit_store_mkdir() != 0)
		return -1;
	notified = 0;
	notified_rev = 0;
	notified_keys[0] = '\0';
	unit_store_open(1000, on_commit);
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	store_track_end();
	unit_store_remove();
	return 0;
}

/* Creates nodes lb1 and lb2 and VIP web with member lb1 (revisions 1 to 3). */
static void
put_web_on_lb1(void)
{
	bool created;
	char detail[256];

	put("node", "lb1", "{}");
	put("node", "lb2", "{}");
	assert_int_equal(
	    put_full("vip", "web", "{}", to_lb1, NULL, true, &created, detail, sizeof(detail)),
	    STORE_OK);
	assert_int_equal(store_revision(), 3);
}

/* store_keys_rev of the one key k. */
static int64_t
key_rev(const char *k)
{
	struct store_keys ks = {0};
	int64_t rev;

	assert_int_equal(store_keys_add(&ks, k), 0);
	rev = store_keys_rev(&ks);
	store_keys_clear(&ks);
	return rev;
}

/* ------------------------------------------------------------------ key sets */

static void
test_keys_set(void **state)
{
	struct store_keys a = {0}, b = {0};
	char buf[512], k[STORE_KEY_MAX];

	(void)state;
	assert_false(store_keys_has(&a, "*"));
	assert_int_equal(store_keys_add(&a, "vip/web"), 0);
	assert_int_equal(store_keys_add(&a, "vip/"), 0);
	assert_int_equal(store_keys_add(&a, "vip/web"), 0); /* once */
	assert_int_equal(a.n, 2);
	assert_true(store_keys_has(&a, "vip/web"));
	assert_false(store_keys_has(&a, "vip/we"));
	assert_int_equal(store_keys_add(&b, "vip/"), 0);
	assert_int_equal(store_keys_add(&b, "*"), 0);
	store_keys_merge(&a, &b);
	assert_string_equal(joined(&a, buf, sizeof(buf)), "* vip/ vip/web");
	/* growth past the first allocation */
	for (int i = 0; i < 100; i++) {
		snprintf(k, sizeof(k), "node/n%d", i);
		assert_int_equal(store_keys_add(&a, k), 0);
	}
	assert_int_equal(a.n, 103);
	assert_true(store_keys_has(&a, "node/n0"));
	assert_true(store_keys_has(&a, "node/n99"));
	store_keys_clear(&a);
	assert_int_equal(a.n, 0);
	assert_null(a.key);
	assert_false(store_keys_has(&a, "vip/web"));
	store_keys_clear(&b);
}

/* ------------------------------------------------------------------ keys a commit touches */

static void
test_put_touches_object_kind_any_and_refs(void **state)
{
	bool created;
	char detail[256];

	(void)state;
	put("node", "lb1", "{}");
	assert_int_equal(notified, 1);
	assert_int_equal(notified_rev, 1);
	assert_string_equal(notified_keys, "* node/ node/lb1");

	assert_int_equal(
	    put_full("vip", "web", "{}", to_lb1, NULL, true, &created, detail, sizeof(detail)),
	    STORE_OK);
	assert_int_equal(notified, 2);
	assert_int_equal(notified_rev, 2);
	assert_string_equal(notified_keys, "* node/lb1<vip vip/ vip/web");

	/* a replace with the same refs touches the same keys */
	assert_int_equal(put_full("vip", "web", "{'x':1}", to_lb1, NULL, false, &created, detail,
				  sizeof(detail)),
			 STORE_OK);
	assert_int_equal(notified_rev, 3);
	assert_string_equal(notified_keys, "* node/lb1<vip vip/ vip/web");
}

static void
test_put_moving_refs_touches_old_and_new_targets(void **state)
{
	bool created;
	char detail[256];

	(void)state;
	put_web_on_lb1();
	assert_int_equal(
	    put_full("vip", "web", "{}", to_lb2, NULL, false, &created, detail, sizeof(detail)),
	    STORE_OK);
	assert_string_equal(notified_keys, "* node/lb1<vip node/lb2<vip vip/ vip/web");
	/* dropping every ref still touches the old target */
	assert_int_equal(
	    put_full("vip", "web", "{}", NULL, NULL, false, &created, detail, sizeof(detail)),
	    STORE_OK);
	assert_string_equal(notified_keys, "* node/lb2<vip vip/ vip/web");
}

/* Puts VIP name with the one tag group/group (NULL: none), keeping its ref to lb1. */
static void
put_tagged(const char *name, const char *group)
{
	struct store_links l;
	struct store_tx *tx;
	bool created;
	char detail[128];
	json_t *spec = json_object();

	memset(&l, 0, sizeof(l));
	l.refs[0].kind = "node";
	l.refs[0].name = "lb1";
	l.n_refs = 1;
	if (group != NULL) {
		l.tags[0].kind = "group";
		l.tags[0].name = group;
		l.n_tags = 1;
	}
	assert_int_equal(store_write_begin(NULL, &tx), STORE_OK);
	assert_int_equal(
	    store_put(tx, "vip", name, spec, &l, false, &created, detail, sizeof(detail)),
	    STORE_OK);
	assert_int_equal(store_commit(tx), STORE_OK);
	json_decref(spec);
}

/* Tags (a VIP's sync group) are keyed like refs: a write touches the old and the new tag, and a
 * tagged list depends on its tag alone. */
static void
test_tags_list_and_touch(void **state)
{
	struct store_keys ks = {0};
	struct store_obj out[4];
	char buf[512], detail[128];
	int total;

	(void)state;
	put_web_on_lb1();
	put_tagged("web", "edge");
	assert_string_equal(notified_keys, "* group/edge<vip node/lb1<vip vip/ vip/web");
	put_tagged("db", "edge");
	put_tagged("web", "core");
	assert_string_equal(notified_keys,
			    "* group/core<vip group/edge<vip node/lb1<vip vip/ vip/web");
	/* a status write touches the tag too: a group's list shows status */
	assert_int_equal(set_status("vip", "db", "{'holder':'lb1'}"), STORE_OK);
	assert_string_equal(notified_keys, "* group/edge<vip node/lb1<vip vip/ vip/db");

	store_track_begin(&ks);
	assert_int_equal(store_list_tagged("vip", "group", "edge", NULL, NULL, 4, out, &total), 1);
	assert_int_equal(total, 1);
	assert_string_equal(out[0].name, "db");
	store_obj_clear(&out[0]);
	assert_string_equal(joined(&ks, buf, sizeof(buf)), "group/edge<vip");
	store_keys_clear(&ks);
	store_track_end();
	assert_int_equal(store_list_tagged("vip", "group", "core", "web", NULL, 4, out, &total), 0);
	assert_int_equal(total, 1);
	assert_int_equal(store_list_tagged("vip", "group", "core", NULL, "web", 4, out, NULL), 0);

	/* dropping the tag touches it; deleting the object touches its tags */
	put_tagged("web", NULL);
	assert_string_equal(notified_keys, "* group/core<vip node/lb1<vip vip/ vip/web");
	assert_int_equal(store_list_tagged("vip", "group", "core", NULL, NULL, 4, out, &total), 0);
	assert_int_equal(total, 0);
	assert_int_equal(del("vip", "db", detail, sizeof(detail)), STORE_OK);
	assert_string_equal(notified_keys, "* group/edge<vip node/lb1<vip vip/ vip/db");
	assert_int_equal(store_list_tagged("vip", "group", "edge", NULL, NULL, 4, out, &total), 0);
}

static void
test_status_touches_object_and_refs(void **state)
{
	bool created;
	char detail[256];
	static const char *const to_web[] = {"vip/web", NULL};

	(void)state;
	put_web_on_lb1();
	assert_int_equal(set_status("vip", "web", "{'holder':'lb1'}"), STORE_OK);
	assert_int_equal(notified_rev, 4);
	assert_string_equal(notified_keys, "* node/lb1<vip vip/ vip/web");
	/* a node references nothing: only its own keys */
	assert_int_equal(set_status("node", "lb1", "{'agent':'up'}"), STORE_OK);
	assert_string_equal(notified_keys, "* node/ node/lb1");
	/* a backend of web: its status touches web's "<backend" key */
	assert_int_equal(
	    put_full("backend", "b1", "{}", to_web, NULL, true, &created, detail, sizeof(detail)),
	    STORE_OK);
	assert_int_equal(set_status("backend", "b1", "{'health':'up'}"), STORE_OK);
	assert_string_equal(notified_keys, "* backend/ backend/b1 vip/web<backend");
}

static void
test_delete_touches_old_refs(void **state)
{
	char detail[256];

	(void)state;
	put_web_on_lb1();
	assert_int_equal(del("vip", "web", detail, sizeof(detail)), STORE_OK);
	assert_int_equal(notified_rev, 4);
	assert_string_equal(notified_keys, "* node/lb1<vip vip/ vip/web");
	assert_int_equal(del("node", "lb1", detail, sizeof(detail)), STORE_OK);
	assert_string_equal(notified_keys, "* node/ node/lb1");
}

/* One transaction, several objects: one notification with the union of their keys. */
static void
test_transaction_touches_union(void **state)
{
	struct store_links l = {.refs = {{"node", "lb2"}}, .n_refs = 1};
	struct store_tx *tx;
	bool created;
	char detail[256];
	json_t *spec = J("{}"), *st = J("{'agent':'up'}");

	(void)state;
	put_web_on_lb1();
	assert_int_equal(store_write_begin(NULL, &tx), STORE_OK);
	assert_int_equal(
	    store_put(tx, "vip", "api", spec, &l, true, &created, detail, sizeof(detail)),
	    STORE_OK);
	assert_int_equal(store_set_status(tx, "node", "lb1", st), STORE_OK);
	assert_int_equal(store_commit(tx), STORE_OK);
	assert_int_equal(notified, 4);
	assert_int_equal(notified_rev, 5);
	assert_string_equal(notified_keys, "* node/ node/lb1 node/lb2<vip vip/ vip/api");
	json_decref(spec);
	json_decref(st);
}

/* A token write touches the token's keys like an object's. */
static void
test_token_touches_keys(void **state)
{
	struct store_token t = {.id = "t1", .role = "admin", .created_ms = 1700000000000LL};
	unsigned char d[32];
	struct store_tx *tx;

	(void)state;
	memset(d, 7, sizeof(d));
	assert_int_equal(store_write_begin(NULL, &tx), STORE_OK);
	assert_int_equal(unit_store_end(tx, store_token_add(tx, &t, d)), STORE_OK);
	assert_string_equal(notified_keys, "* token/ token/t1");
	assert_int_equal(store_write_begin(NULL, &tx), STORE_OK);
	assert_int_equal(unit_store_end(tx, store_token_delete(tx, "t1")), STORE_OK);
	assert_int_equal(notified, 2);
	assert_string_equal(notified_keys, "* token/ token/t1");
}

/* ------------------------------------------------------------------ what reads record */

static void
test_reads_record_keys(void **state)
{
	struct store_keys ks = {0};
	struct store_obj o, out[4];
	struct store_change ch[4];
	struct store_token tok;
	char buf[512];
	int total;

	(void)state;
	put_web_on_lb1();

	store_track_begin(&ks);
	assert_int_equal(store_get("vip", "web", &o), STORE_OK);
	store_obj_clear(&o);
	assert_string_equal(joined(&ks, buf, sizeof(buf)), "vip/web");
	/* a miss depends on the key too: a create must retire the 404 */
	assert_int_equal(store_get("vip", "ghost", &o), STORE_NOTFOUND);
	assert_string_equal(joined(&ks, buf, sizeof(buf)), "vip/ghost vip/web");
	store_keys_clear(&ks);

	/* unfiltered list, count and the kind's modification time: the kind */
	assert_int_equal(store_list("vip", NULL, NULL, NULL, NULL, 4, out, &total), 1);
	store_obj_clear(&out[0]);
	assert_int_equal(store_count("node"), 2);
	assert_true(store_kind_modified_ms("node") > 0);
	assert_string_equal(joined(&ks, buf, sizeof(buf)), "node/ vip/");
	store_keys_clear(&ks);

	/* a filtered list: the referrers of its target */
	assert_int_equal(store_list("vip", "node", "lb1", NULL, NULL, 4, out, &total), 1);
	store_obj_clear(&out[0]);
	assert_string_equal(joined(&ks, buf, sizeof(buf)), "node/lb1<vip");
	store_keys_clear(&ks);

	/* the feed and the latest change of any kind: anything */
	assert_int_equal(store_changes(0, 4, NULL, ch), 3);
	assert_string_equal(joined(&ks, buf, sizeof(buf)), "*");
	store_keys_clear(&ks);
	assert_true(store_kind_modified_ms(NULL) > 0);
	store_track_any();
	assert_string_equal(joined(&ks, buf, sizeof(buf)), "*");
	store_keys_clear(&ks);

	/* tokens */
	assert_int_equal(store_token_get("t9", &tok), STORE_NOTFOUND);
	assert_int_equal(store_token_count(), 0);
	assert_string_equal(joined(&ks, buf, sizeof(buf)), "token/ token/t9");
	store_keys_clear(&ks);

	/* swap: NULL pauses, the previous set comes back */
	assert_ptr_equal(store_track_swap(NULL), &ks);
	assert_int_equal(store_get("vip", "web", &o), STORE_OK);
	store_obj_clear(&o);
	assert_null(store_track_swap(&ks));
	assert_int_equal(ks.n, 0);

	/* after the end, reads record nothing */
	store_track_end();
	assert_int_equal(store_get("vip", "web", &o), STORE_OK);
	store_obj_clear(&o);
	assert_int_equal(store_count("vip"), 1);
	assert_int_equal(ks.n, 0);
	assert_null(store_track_swap(NULL));
	store_keys_clear(&ks);
}

static void *
read_web(void *arg)
{
	struct store_obj o;

	(void)arg;
	if (store_get("vip", "web", &o) == STORE_OK)
		store_obj_clear(&o);
	store_thread_done();
	return NULL;
}

/* Tracking is per thread: another thread's reads do not land in this thread's set. */
static void
test_tracking_is_per_thread(void **state)
{
	struct store_keys ks = {0};
	pthread_t th;

	(void)state;
	put_web_on_lb1();
	store_track_begin(&ks);
	assert_int_equal(pthread_create(&th, NULL, read_web, NULL), 0);
	assert_int_equal(pthread_join(th, NULL), 0);
	assert_int_equal(ks.n, 0);
	store_track_end();
	store_keys_clear(&ks);
}

/* ------------------------------------------------------------------ key revisions */

static void
test_keys_rev(void **state)
{
	struct store_keys deps = {0}, none = {0};
	struct store_obj o;
	bool created;
	char detail[256];
	int64_t rev0;

	(void)state;
	/* never touched */
	assert_int_equal(key_rev("vip/web"), 0);
	assert_int_equal(key_rev("*"), 0);
	assert_int_equal(store_keys_rev(&none), 0);

	put_web_on_lb1();
	assert_int_equal(key_rev("node/lb1"), 1);
	assert_int_equal(key_rev("node/lb2"), 2);
	assert_int_equal(key_rev("node/"), 2);
	assert_int_equal(key_rev("vip/web"), 3);
	assert_int_equal(key_rev("node/lb1<vip"), 3);
	assert_int_equal(key_rev("node/lb2<vip"), 0);
	assert_int_equal(key_rev("*"), 3);
	assert_int_equal(key_rev("vip/ghost"), 0);
	assert_int_equal(store_keys_rev(&none), 0);

	/* an answer read at rev0 stays current until a commit touches what it read */
	store_track_begin(&deps);
	rev0 = store_revision();
	assert_int_equal(store_get("vip", "web", &o), STORE_OK);
	store_obj_clear(&o);
	store_track_end();
	assert_int_equal(store_keys_rev(&deps), 3);
	put("node", "lb3", "{}"); /* 4: unrelated */
	assert_true(store_keys_rev(&deps) <= rev0);
	assert_int_equal(set_status("vip", "web", "{'holder':'lb1'}"), STORE_OK); /* 5 */
	assert_int_equal(store_keys_rev(&deps), 5);
	assert_true(store_keys_rev(&deps) > rev0);
	/* the newest of several keys */
	assert_int_equal(store_keys_add(&deps, "node/lb3"), 0);
	assert_int_equal(store_keys_rev(&deps), 5);
	assert_int_equal(store_keys_add(&deps, "*"), 0);
	assert_int_equal(store_keys_rev(&deps), 5);
	store_keys_clear(&deps);
	assert_int_equal(key_rev("node/lb3"), 4);
	assert_int_equal(key_rev("node/lb1<vip"), 5);

	/* a rolled-back transaction publishes nothing */
	assert_int_equal(put_full("vip", "api", "{}",
				  (const char *const[]){"node/lb2", "node/ghost", NULL}, NULL, true,
				  &created, detail, sizeof(detail)),
			 STORE_DANGLING);
	assert_int_equal(key_rev("vip/api"), 0);
	assert_int_equal(key_rev("vip/"), 5);
	assert_int_equal(key_rev("node/lb2<vip"), 0);
	assert_int_equal(key_rev("*"), 5);
	assert_int_equal(store_revision(), 5);
	assert_int_equal(notified, 5);
}

/* A transaction that changes nothing: no revision, no key revision, no notification. */
static void
test_unchanged_status_publishes_nothing(void **state)
{
	struct store_tx *tx;

	(void)state;
	put_web_on_lb1();
	assert_int_equal(set_status("vip", "web", "{'holder':'lb1','since':1}"), STORE_OK); /* 4 */
	assert_int_equal(notified, 4);
	/* the same status, its members in another order */
	assert_int_equal(set_status("vip", "web", "{'since':1,'holder':'lb1'}"), STORE_OK);
	assert_int_equal(notified, 4);
	assert_int_equal(store_revision(), 4);
	assert_int_equal(key_rev("vip/web"), 4);
	assert_int_equal(key_rev("*"), 4);
	/* nor does an empty transaction */
	assert_int_equal(store_write_begin(NULL, &tx), STORE_OK);
	assert_int_equal(store_commit(tx), STORE_OK);
	assert_int_equal(notified, 4);
	/* the next real change is published as usual */
	assert_int_equal(set_status("vip", "web", "{'holder':'lb2'}"), STORE_OK);
	assert_int_equal(notified, 5);
	assert_int_equal(notified_rev, 5);
	assert_int_equal(key_rev("vip/web"), 5);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_keys_set),
	    cmocka_unit_test_setup_teardown(test_put_touches_object_kind_any_and_refs, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_put_moving_refs_touches_old_and_new_targets, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_tags_list_and_touch, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_status_touches_object_and_refs, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_delete_touches_old_refs, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_transaction_touches_union, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_token_touches_keys, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_reads_record_keys, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_tracking_is_per_thread, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_keys_rev, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_unchanged_status_publishes_nothing, setup,
					    teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
