/* Raw SQLite commit rate, the baseline `make bench` sets beside vigild's durable PATCHes: one
 * small UPDATE per transaction, single thread, WAL with synchronous=FULL (as server/store.c uses),
 * on a scratch file in the directory under test. Prints "commits=N seconds=S rate=R". */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sqlite3.h>

/* Returns CLOCK_MONOTONIC in seconds. */
static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Runs one SQL string on db; returns 0 or -1 after printing SQLite's message to stderr. */
static int
exec_sql(sqlite3 *db, const char *sql)
{
	char *msg = NULL;

	if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK) {
		fprintf(stderr, "sqlite_commits: %s: %s\n", sql, msg ? msg : "?");
		sqlite3_free(msg);
		return -1;
	}
	return 0;
}

/* Commits UPDATEs on path for duration_s seconds; prints the rate. Removes the file (and its
 * -wal/-shm) afterwards. Returns the process exit status. */
static int
bench(const char *path, double duration_s)
{
	sqlite3 *db = NULL;
	sqlite3_stmt *upd = NULL;
	long commits = 0;
	double t0, t;
	int status = 1;
	char side[4096];

	if (sqlite3_open(path, &db) != SQLITE_OK) {
		fprintf(stderr, "sqlite_commits: %s: %s\n", path, sqlite3_errmsg(db));
		goto out;
	}
	if (exec_sql(db, "PRAGMA journal_mode = WAL") != 0 ||
	    exec_sql(db, "PRAGMA synchronous = FULL") != 0 ||
	    exec_sql(db, "CREATE TABLE IF NOT EXISTS t (id INTEGER PRIMARY KEY, v INTEGER)") != 0 ||
	    exec_sql(db, "INSERT OR REPLACE INTO t (id, v) VALUES (1, 0)") != 0)
		goto out;
	if (sqlite3_prepare_v2(db, "UPDATE t SET v = ? WHERE id = 1", -1, &upd, NULL) != SQLITE_OK) {
		fprintf(stderr, "sqlite_commits: prepare: %s\n", sqlite3_errmsg(db));
		goto out;
	}
	t0 = now_s();
	do {
		/* Autocommit: each step is its own transaction, one WAL append and one fsync. */
		sqlite3_bind_int64(upd, 1, commits);
		if (sqlite3_step(upd) != SQLITE_DONE) {
			fprintf(stderr, "sqlite_commits: update: %s\n", sqlite3_errmsg(db));
			goto out;
		}
		sqlite3_reset(upd);
		commits++;
		t = now_s();
	} while (t - t0 < duration_s);
	printf("commits=%ld seconds=%.3f rate=%.0f\n", commits, t - t0, (double)commits / (t - t0));
	status = 0;
out:
	sqlite3_finalize(upd);
	sqlite3_close(db);
	unlink(path);
	snprintf(side, sizeof(side), "%s-wal", path);
	unlink(side);
	snprintf(side, sizeof(side), "%s-shm", path);
	unlink(side);
	return status;
}

int
main(int argc, char **argv)
{
	double duration_s = 3;

	if (argc < 2 || argc > 3) {
		fprintf(stderr, "usage: sqlite_commits PATH [SECONDS]\n");
		return 2;
	}
	if (argc == 3 && (duration_s = strtod(argv[2], NULL)) <= 0) {
		fprintf(stderr, "sqlite_commits: bad duration %s\n", argv[2]);
		return 2;
	}
	return bench(argv[1], duration_s);
}
