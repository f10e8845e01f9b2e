/* The store on a temporary database for the unit tests, and writes that each run in their own
 * transaction (include after cmocka.h, jansson.h, store.h and unit_json.h). */
#ifndef VIGIL_UNIT_STORE_H
#define VIGIL_UNIT_STORE_H

#include <stdio.h>
#include <string.h>
#include <unistd.h>

static char unit_dir[64], unit_db[128];

/* Makes a fresh temporary directory for the database. Returns 0 or -1. */
static inline int
unit_store_mkdir(void)
{
	snprintf(unit_dir, sizeof(unit_dir), "/tmp/vigil-test-store-XXXXXX");
	if (mkdtemp(unit_dir) == NULL)
		return -1;
	snprintf(unit_db, sizeof(unit_db), "%s/vigil.db", unit_dir);
	return 0;
}

/* Opens the store on the temporary database; fails the test unless it opens. */
static inline void
unit_store_open(int64_t keep, store_notify_fn notify)
{
	char err[256] = "";

	if (store_open(unit_db, keep, notify, err, sizeof(err)) != STORE_OK)
		fail_msg("store_open %s: %s", unit_db, err);
}

/* Closes the store and removes the database, its WAL and the directory. */
static inline void
unit_store_remove(void)
{
	char p[160];

	store_close();
	unlink(unit_db);
	snprintf(p, sizeof(p), "%s-wal", unit_db);
	unlink(p);
	snprintf(p, sizeof(p), "%s-shm", unit_db);
	unlink(p);
	rmdir(unit_dir);
}

/* Commits tx when rc is STORE_OK (the commit must succeed), rolls it back otherwise. Returns rc. */
static inline int
unit_store_end(struct store_tx *tx, int rc)
{
	if (rc == STORE_OK)
		assert_int_equal(store_commit(tx), STORE_OK);
	else
		store_rollback(tx);
	return rc;
}

/*
 * Writes (kind, name) with spec text, referring to "kind/name" targets in refs (NULL-terminated,
 * may be NULL) and holding uniques (NULL-terminated, may be NULL), in its own transaction:
 * committed on success, rolled back otherwise. Returns the store_rc; detail and *created filled.
 */
static inline int
put_full(const char *kind, const char *name, const char *spec_text, const char *const refs[],
	 const char *const uniques[], bool must_create, bool *created, char *detail, size_t dlen)
{
	struct store_links l;
	char targets[STORE_MAX_REFS][2][STORE_NAME_MAX];
	struct store_tx *tx;
	json_t *spec = J(spec_text);
	int rc;

	memset(&l, 0, sizeof(l));
	for (int i = 0; refs != NULL && refs[i] != NULL; i++) {
		const char *slash = strchr(refs[i], '/');
		snprintf(targets[i][0], STORE_NAME_MAX, "%.*s", (int)(slash - refs[i]), refs[i]);
		snprintf(targets[i][1], STORE_NAME_MAX, "%s", slash + 1);
		l.refs[l.n_refs].kind = targets[i][0];
		l.refs[l.n_refs++].name = targets[i][1];
	}
	for (int i = 0; uniques != NULL && uniques[i] != NULL; i++)
		l.uniques[l.n_uniques++] = uniques[i];
	assert_int_equal(store_write_begin(NULL, &tx), STORE_OK);
	rc = store_put(tx, kind, name, spec, &l, must_create, created, detail, dlen);
	json_decref(spec);
	return unit_store_end(tx, rc);
}

/* put_full without refs or uniques, create or replace; fails the test unless it succeeds. */
static inline void
put(const char *kind, const char *name, const char *spec_text)
{
	bool created;
	char detail[256];

	assert_int_equal(
	    put_full(kind, name, spec_text, NULL, NULL, false, &created, detail, sizeof(detail)),
	    STORE_OK);
}

/* Deletes (kind, name) in its own transaction; returns the store_rc, detail filled. */
static inline int
del(const char *kind, const char *name, char *detail, size_t dlen)
{
	struct store_tx *tx;

	assert_int_equal(store_write_begin(NULL, &tx), STORE_OK);
	return unit_store_end(tx, store_delete(tx, kind, name, detail, dlen));
}

/* Sets the status of (kind, name) in its own transaction; returns the store_rc. */
static inline int
set_status(const char *kind, const char *name, const char *text)
{
	struct store_tx *tx;
	json_t *st = J(text);
	int rc;

	assert_int_equal(store_write_begin(NULL, &tx), STORE_OK);
	rc = store_set_status(tx, kind, name, st);
	json_decref(st);
	return unit_store_end(tx, rc);
}

#endif
