/* A small etcd v3 client over etcd's JSON gateway (libcurl + jansson): range, txn, put, delete,
 * leases, compaction and watch, against a list of endpoints it moves between when one fails. The
 * foundation of the etcd store backend (issue 12); nothing here knows about vigil's objects. The
 * pure JSON/base64 side lives in etcd_json.c so that it is unit-tested without a cluster.
 *
 * How the store maps onto etcd (key layout, If-Match, multi-object writes, events, leases): see
 * README.md, "etcd backend (in progress)".
 *
 * Concurrency: an etcd_client is used by one thread at a time (it keeps one curl handle and its
 * connections); a watching thread uses a client of its own. */
#ifndef VIGIL_ETCD_H
#define VIGIL_ETCD_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Every function returns 0 or one of these, with a message in the caller's err buffer. */
enum etcd_rc {
	ETCD_OK = 0,
	ETCD_NOTFOUND = -1,	  /* no such key / lease */
	ETCD_COMPARE_FAILED = -2, /* a txn's compares did not hold (its failure ops ran) */
	ETCD_UNAVAILABLE = -3,	  /* no leader, every endpoint down or timed out: 503 */
	ETCD_COMPACTED = -4,	  /* the revision asked for has been compacted: 410 */
	ETCD_ERROR = -5, /* anything else: a refused request, a malformed answer, no memory */
};

/* Options of a client; strings are copied by etcd_client_new. Only endpoints is required. */
struct etcd_opts {
	const char *endpoints;	 /* "http://h1:2379,https://h2:2379" */
	long request_timeout_ms; /* per attempt at one endpoint (default 2000) */
	long connect_timeout_ms; /* per attempt, TLS handshake included (default 1000) */
	const char *cacert;	 /* --etcd-cacert: CA bundle to verify the members with */
	const char *cert;	 /* --etcd-cert / --etcd-key: client certificate and its key */
	const char *key;
	const char *user; /* etcd auth: user and password, exchanged for a token */
	const char *password;
};

struct etcd_client;

/* Creates a client (no connection is made yet). Returns 0 and *out (caller frees with
 * etcd_client_free), or ETCD_ERROR for a bad endpoint list. */
int etcd_client_new(const struct etcd_opts *opts, struct etcd_client **out, char *err,
		    size_t errlen);
void etcd_client_free(struct etcd_client *c);
/* The endpoint the next request goes to first (borrowed, valid while c lives). */
const char *etcd_client_endpoint(const struct etcd_client *c);

/* A key-value as etcd returns it. key and value are owned by the struct (NUL-terminated, so that
 * text values can be used as strings; value_len excludes the NUL). Free with etcd_kv_clear. */
struct etcd_kv {
	char *key;
	char *value;
	size_t value_len;
	int64_t create_rev;
	int64_t mod_rev;
	int64_t version;
	int64_t lease;
};
void etcd_kv_clear(struct etcd_kv *kv);

/* The answer of a range: kvs[0..n) owned (etcd_kvs_clear), count = all matches (beyond limit),
 * more = limit cut it, rev = the store revision it was read at. */
struct etcd_kvs {
	struct etcd_kv *kvs;
	size_t n;
	int64_t count;
	bool more;
	int64_t rev;
};
void etcd_kvs_clear(struct etcd_kvs *r);

/* Which keys an operation covers: one key (range_end NULL, prefix false), every key with the
 * prefix key (prefix), or [key, range_end). */
struct etcd_range_opts {
	const char *range_end;
	bool prefix;
	int64_t limit;	  /* 0: no limit */
	int64_t revision; /* 0: the newest; older than compaction: ETCD_COMPACTED */
	bool keys_only;
	bool count_only;
	bool serializable; /* answer from the member's own copy (no leader needed; may be stale) */
	bool descending;   /* by key, last first (a page before a name); else ascending */
};

/* Range. out filled (caller clears) on 0; an empty answer is 0 with n == 0. */
int etcd_range(struct etcd_client *c, const char *key, const struct etcd_range_opts *o,
	       struct etcd_kvs *out, char *err, size_t errlen);
/* One key: 0 with *out (caller clears), or ETCD_NOTFOUND. rev (may be NULL): the store revision. */
int etcd_get(struct etcd_client *c, const char *key, struct etcd_kv *out, int64_t *rev, char *err,
	     size_t errlen);
/* Puts value (value_len bytes) at key, with a lease (0: none). *rev (may be NULL) = new revision.
 */
int etcd_put(struct etcd_client *c, const char *key, const void *value, size_t value_len,
	     int64_t lease, int64_t *rev, char *err, size_t errlen);
/* Deletes key (prefix: every key under it). *deleted and *rev may be NULL. */
int etcd_delete(struct etcd_client *c, const char *key, bool prefix, int64_t *deleted, int64_t *rev,
		char *err, size_t errlen);

/* Transactions. A compare of one key's create/mod revision, version, lease or value. A key that
 * does not exist has create_revision, mod_revision and version 0. */
enum etcd_cmp_target {
	ETCD_CMP_VERSION,
	ETCD_CMP_CREATE,
	ETCD_CMP_MOD,
	ETCD_CMP_VALUE,
	ETCD_CMP_LEASE,
};
enum etcd_cmp_result {
	ETCD_CMP_EQUAL,
	ETCD_CMP_GREATER,
	ETCD_CMP_LESS,
	ETCD_CMP_NOT_EQUAL,
};
struct etcd_cmp {
	const char *key;
	bool prefix; /* every key under key must hold (none there: compared as a missing key) */
	enum etcd_cmp_target target;
	enum etcd_cmp_result result;
	int64_t number;	   /* VERSION, CREATE, MOD, LEASE */
	const void *value; /* VALUE */
	size_t value_len;
};
enum etcd_op_type {
	ETCD_OP_RANGE,
	ETCD_OP_PUT,
	ETCD_OP_DELETE,
};
/* One operation of a txn branch. PUT: value/value_len/lease; RANGE and DELETE: prefix. */
struct etcd_op {
	enum etcd_op_type type;
	const char *key;
	const void *value;
	size_t value_len;
	int64_t lease;
	bool prefix;
};
struct etcd_txn {
	const struct etcd_cmp *cmp;
	size_t n_cmp;
	const struct etcd_op *success;
	size_t n_success;
	const struct etcd_op *failure;
	size_t n_failure;
};
/* One response per op of the branch that ran, in order: a RANGE's kvs, a DELETE's count. */
struct etcd_op_result {
	enum etcd_op_type type;
	struct etcd_kvs range;
	int64_t deleted;
};
struct etcd_txn_result {
	bool succeeded;
	int64_t rev; /* the revision after the txn (unchanged by a read-only branch) */
	struct etcd_op_result *ops;
	size_t n_ops;
};
void etcd_txn_result_clear(struct etcd_txn_result *r);
/* Runs t. Returns 0 when the compares held, ETCD_COMPARE_FAILED when they did not; in both cases
 * *out is filled (caller clears) with the responses of the branch that ran. A txn is not retried on
 * another endpoint once it may have reached the leader: a timeout is ETCD_UNAVAILABLE with the
 * outcome unknown (the caller re-reads). */
int etcd_txn(struct etcd_client *c, const struct etcd_txn *t, struct etcd_txn_result *out,
	     char *err, size_t errlen);

/* Leases. grant: *id (a 64-bit id, beyond 2^53) and *ttl_s as granted. keepalive: one renewal,
 * *ttl_s (may be NULL) the TTL it now has; ETCD_NOTFOUND for an expired or revoked lease. revoke
 * deletes the keys attached; ETCD_NOTFOUND for an unknown lease. */
int etcd_lease_grant(struct etcd_client *c, int64_t ttl_s, int64_t *id, int64_t *ttl_out, char *err,
		     size_t errlen);
int etcd_lease_keepalive(struct etcd_client *c, int64_t id, int64_t *ttl_s, char *err,
			 size_t errlen);
int etcd_lease_revoke(struct etcd_client *c, int64_t id, char *err, size_t errlen);

/* Compacts history up to rev (physical: returns once it is applied on disk). ETCD_COMPACTED when
 * rev is at or below the current compaction. */
int etcd_compact(struct etcd_client *c, int64_t rev, bool physical, char *err, size_t errlen);

/* Watch. An event as a watch reports it: the kv after the change (for a DELETE, only key and
 * mod_rev), owned by the watch for the duration of the callback. */
enum etcd_event_type {
	ETCD_EV_PUT,
	ETCD_EV_DELETE,
};
struct etcd_event {
	enum etcd_event_type type;
	struct etcd_kv kv;
};
/* Called with the events of one watch response (all of one or more revisions, ascending) and the
 * response's header revision. Returns 0 to go on watching, non-zero to stop (etcd_watch then
 * returns 0). */
typedef int (*etcd_watch_fn)(void *arg, const struct etcd_event *ev, size_t n, int64_t rev);

/* What to watch, and where it got to: next_rev is the first revision not yet reported (in: where
 * to start, 0: from now; out: where to resume). compact_rev is set on ETCD_COMPACTED: the revision
 * history was compacted at (a resync reads the current state, then watches from its revision + 1).
 * stop (may be NULL), when set by another thread, ends the watch within about a second. */
struct etcd_watch {
	const char *key;
	bool prefix;
	int64_t next_rev;
	int64_t compact_rev;
	atomic_bool *stop;
};
/* Watches w->key (or its prefix) from w->next_rev, calling fn for every response with events.
 * A broken stream (member down, leader lost) is resumed from w->next_rev on the next endpoint,
 * so fn sees every revision once, in order. Returns 0 when fn or w->stop ended it,
 * ETCD_COMPACTED when next_rev has been compacted, ETCD_UNAVAILABLE when no endpoint accepted the
 * watch in a whole round (call again with the same w to resume). */
int etcd_watch(struct etcd_client *c, struct etcd_watch *w, etcd_watch_fn fn, void *arg, char *err,
	       size_t errlen);

#endif
