/* The store: vigild's only door to its data, SQLite (store_sqlite.c) or etcd v3 (store_etcd*.c). A
 * revisioned document store of (kind, name) -> spec and
 * status JSON, with references (a deleted target is refused while referenced), unique keys, API
 * tokens and the change feed. Narrow on purpose, so that an etcd v3 backend can keep its semantics.
 * Each thread gets its own connection (opened on first use); writes are serialised. */
#ifndef VIGIL_STORE_H
#define VIGIL_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <jansson.h>

enum store_rc {
	STORE_OK = 0,
	STORE_NOTFOUND = -1,
	STORE_EXISTS = -2,     /* create of a name that is taken */
	STORE_UNIQUE = -3,     /* a unique key is held by another object */
	STORE_REFERENCED = -4, /* delete of an object that others reference */
	STORE_DANGLING = -5,   /* a reference to an object that does not exist */
	STORE_BUSY = -6,       /* the database is locked or unavailable: 503 */
	STORE_ERROR = -7,      /* anything else: 500 */
	STORE_GONE = -8,       /* events older than the oldest kept */
	STORE_CONFLICT = -9,   /* commit: another replica wrote first; run the write again */
	STORE_FENCED = -10,    /* commit of a fenced write (store_tx_fence) by an ex-leader: nothing
				* written, never retried */
};

#define STORE_KIND_MAX 16
#define STORE_NAME_MAX 64

/* One stored object. spec and status are owned by the struct: free with store_obj_clear(). */
struct store_obj {
	char kind[STORE_KIND_MAX];
	char name[STORE_NAME_MAX];
	json_t *spec;
	json_t *status; /* may be NULL when never written */
	int64_t create_rev;
	int64_t mod_rev;     /* last revision that changed spec or status */
	int64_t modified_ms; /* wall clock of mod_rev, for Last-Modified */
};

/* What an object points at and which unique keys it holds; given to store_put. */
struct store_ref {
	const char *kind;
	const char *name;
};
#define STORE_MAX_REFS 40
#define STORE_MAX_UNIQUES 4
#define STORE_MAX_TAGS 2
struct store_links {
	struct store_ref refs[STORE_MAX_REFS];
	int n_refs;
	const char *uniques[STORE_MAX_UNIQUES]; /* strings such as "vrid:eth0:4:51" */
	int n_uniques;
	/* Tags: what the object can be listed under that is not an object, so nothing to refer
	 * to (a VIP's sync group: {"group", "web"}). Listed by store_list_tagged; keyed like refs.
	 */
	struct store_ref tags[STORE_MAX_TAGS];
	int n_tags;
};

/*
 * Who caused a change. Every change of a write transaction records the actor given to
 * store_write_begin: a token (with its role and description as they were, and for an agent token
 * its node), or a part of vigild itself ("liveness-sweep", "bootstrap"). Never a secret.
 */
enum store_actor_type {
	STORE_ACTOR_NONE = 0, /* unknown: changes stored before schema 3 */
	STORE_ACTOR_TOKEN,
	STORE_ACTOR_SYSTEM,
};
struct store_actor {
	enum store_actor_type type;
	char id[STORE_NAME_MAX];   /* TOKEN: the token's id; SYSTEM: the system actor's name */
	char role[16];		   /* TOKEN: its role */
	char node[STORE_NAME_MAX]; /* TOKEN: the node an agent token is bound to, else "" */
	char description[256];	   /* TOKEN: its description */
};

/* Which changes store_changes answers: all, or those of one actor. value: the token id, the
 * node, or the system actor's name (NULL with STORE_MATCH_SYSTEM: any system actor). */
enum store_match_type {
	STORE_MATCH_ALL = 0,
	STORE_MATCH_TOKEN,  /* by one token */
	STORE_MATCH_NODE,   /* by any agent token of one node */
	STORE_MATCH_SYSTEM, /* by vigild itself */
};
struct store_match {
	enum store_match_type type;
	const char *value;
};

/* A change-feed entry. */
struct store_change {
	int64_t rev;
	char op[8]; /* created | updated | deleted */
	char kind[STORE_KIND_MAX];
	char name[STORE_NAME_MAX];
	int64_t ts_ms;
	struct store_actor actor;
};

/* An API token as stored (the secret itself is never stored, only its SHA-256). */
struct store_token {
	char id[STORE_NAME_MAX];
	char role[16];
	char node[STORE_NAME_MAX]; /* "" unless role is agent */
	char description[256];
	int64_t created_ms;
};

/*
 * Keys name what an answer read and what a commit touched, so that a write wakes and invalidates
 * only what depends on it. Every backend uses the same names:
 *   "KIND/NAME"       one object (spec and status), e.g. "vip/web"
 *   "KIND/"           any object of a kind (a collection, a count)
 *   "KIND/NAME<KIND2" the set of KIND2 objects that reference KIND/NAME (or carry the tag KIND
 *                     NAME), and any change to one of them (a filtered list: "node/lb1<vip" is
 *                     /vips?node=lb1, "group/web<vip" is /vips?group=web)
 *   "*"               anything (the feed, the revision)
 *   "@FILTER"         the changes of one actor, FILTER as /events?actor= spells it: "@ID" (a
 *                     token), "@node:NAME" (the agent tokens of a node), "@system" and
 *                     "@system:NAME" (vigild itself)
 * A write to an object touches its own key, its kind's, "*" and, for every object it references
 * before or after the write, that object's "<KIND" key; the same for every tag it carries. A
 * commit that changed anything touches its actor's "@" keys.
 */
#define STORE_KEY_MAX 112
struct store_keys {
	char (*key)[STORE_KEY_MAX]; /* owned; n used of cap */
	size_t n, cap;
	bool all; /* a key could not be added (out of memory): the set stands for everything */
};
/* Adds a key (once). Returns 0, or -1 when out of memory (the set then has .all set). */
int store_keys_add(struct store_keys *ks, const char *key);
/* Adds every key of from. */
void store_keys_merge(struct store_keys *ks, const struct store_keys *from);
bool store_keys_has(const struct store_keys *ks, const char *key);
/* Empties ks and frees its memory. */
void store_keys_clear(struct store_keys *ks);

/*
 * Read tracking: between store_track_begin(ks) and store_track_end() every read on this thread
 * adds the keys it depends on to ks (borrowed; the caller owns it). store_track_swap replaces the
 * current set (NULL pauses tracking) and returns the previous one.
 */
void store_track_begin(struct store_keys *ks);
void store_track_end(void);
struct store_keys *store_track_swap(struct store_keys *ks);
/* Records a dependency on anything (for answers that show the global revision). */
void store_track_any(void);

/*
 * The newest revision at which any key of ks was touched since this process started (0 when
 * none was). An answer computed from data read at revision rev0 or later is still current while
 * store_keys_rev(deps) <= rev0. Thread-safe.
 */
int64_t store_keys_rev(const struct store_keys *ks);

/* Called (from the writing thread, after the commit is durable) with the new revision and the
 * keys the transaction touched (borrowed for the call). */
typedef void (*store_notify_fn)(int64_t rev, const struct store_keys *touched);

/* A write transaction: only store_write_begin hands one out, and every store call that writes
 * takes it, so that "inside a write transaction" is checked by the compiler. */
struct store_tx;

/*
 * Opens (creating if needed) the database at path, applies the embedded migrations and sets WAL,
 * synchronous=FULL and foreign keys. events_keep bounds the change feed. Returns 0 or a store_rc,
 * with a message in err.
 */
int store_open(const char *path, int64_t events_keep, store_notify_fn notify, char *err,
	       size_t errlen);
/* The etcd backend's options (strings borrowed for the call). */
struct store_etcd_opts {
	const char *endpoints; /* "http://h1:2379,https://h2:2379" */
	const char *prefix;    /* every key is under it, e.g. "/vigil/" */
	const char *cacert, *cert, *key;
	const char *user, *password; /* etcd auth, or NULL */
	long request_timeout_ms;     /* per attempt at one endpoint (0: the client's default) */
};
/*
 * Opens the etcd backend: the store lives under o->prefix on the etcd cluster o->endpoints, shared
 * with every vigild that uses the same prefix. A watch thread wakes this process on writes made
 * through the others. Returns 0 or a store_rc (STORE_BUSY: no etcd answered), message in err.
 */
int store_open_etcd(const struct store_etcd_opts *o, int64_t events_keep, store_notify_fn notify,
		    char *err, size_t errlen);
/* Finalizes every statement and closes every thread's connection. */
void store_close(void);
/* Closes this thread's connection (threads call it before they exit). */
void store_thread_done(void);

/* Current global revision (0 for an empty store). */
int64_t store_revision(void);

/* Reads. out is filled and owned by the caller (store_obj_clear). */
int store_get(const char *kind, const char *name, struct store_obj *out);
void store_obj_clear(struct store_obj *o);

/*
 * Lists objects of kind ordered by name, optionally only those that reference (ref_kind, ref_name).
 * Page: names strictly after `after` (or before `before`, when non-NULL; then the page holds the
 * limit names just before it, still in ascending order). Returns the number of objects written
 * into out[0..limit), or a negative store_rc; *total gets the count of all matches (total may be
 * NULL: not counted). Reads only the matching objects (by reference: through the refs index).
 */
int store_list(const char *kind, const char *ref_kind, const char *ref_name, const char *after,
	       const char *before, int limit, struct store_obj *out, int *total);
/* As store_list, but those that carry the tag (tag_kind, tag) (struct store_links.tags). */
int store_list_tagged(const char *kind, const char *tag_kind, const char *tag, const char *after,
		      const char *before, int limit, struct store_obj *out, int *total);
/* Number of objects of kind. */
int store_count(const char *kind);
/* Timestamp of the latest change to any object of kind (0 if none); NULL: of any kind. */
int64_t store_kind_modified_ms(const char *kind);

/*
 * Writes. store_write_begin takes the writer lock, opens a transaction and gives its handle in
 * *tx; every store_put / store_set_status / store_delete through it appends one change per object,
 * recorded as caused by actor (copied; NULL: unknown), and bumps the revision. store_commit makes
 * them durable (returns only after fsync) and notifies with the touched keys; store_rollback
 * undoes. Exactly one of commit/rollback must follow a successful begin; either ends the handle.
 * Only the write runner (write.c) calls these three. On etcd, store_commit returns STORE_CONFLICT
 * (nothing written, the handle ended) when another replica committed after the transaction
 * began: the runner then runs the whole write again, reads included.
 */
int store_write_begin(const struct store_actor *actor, struct store_tx **tx);
int store_commit(struct store_tx *tx);
void store_rollback(struct store_tx *tx);

/* Creates or replaces the spec of (kind, name) and its refs/uniques. must_create: STORE_EXISTS
 * if present. *created tells which happened. On STORE_UNIQUE/STORE_DANGLING, detail names the key
 * or the missing target. Borrowed spec. */
int store_put(struct store_tx *tx, const char *kind, const char *name, json_t *spec,
	      const struct store_links *links, bool must_create, bool *created, char *detail,
	      size_t detail_len);
/* Replaces the status of an existing object (borrowed). Records an "updated" change only when the
 * status differs from the stored one. */
int store_set_status(struct store_tx *tx, const char *kind, const char *name, json_t *status);
/* Deletes; STORE_REFERENCED (detail: who refers) while others reference it. */
int store_delete(struct store_tx *tx, const char *kind, const char *name, char *detail,
		 size_t detail_len);

/*
 * Change feed: up to limit changes with rev > since that match (NULL: all), ascending. since < 0
 * means "the latest limit". Returns the count written, STORE_GONE when changes after since have
 * been dropped. Read tracking: "*" for all changes, the match's "@" key for one actor's.
 */
int store_changes(int64_t since, int limit, const struct store_match *match,
		  struct store_change *out);

/* Tokens. digest is SHA-256 of the secret. add and delete each record a change. */
int store_token_add(struct store_tx *tx, const struct store_token *t,
		    const unsigned char digest[32]);
int store_token_find(const unsigned char digest[32], struct store_token *out);
int store_token_get(const char *id, struct store_token *out);
int store_token_delete(struct store_tx *tx, const char *id);
int store_token_list(const char *after, const char *before, int limit, struct store_token *out,
		     int *total);
int store_token_count(void);

/*
 * Agent liveness and the leadership of background work, where several vigild share the store
 * (etcd). A backend that one vigild owns (SQLite) shares neither: store_live_shared() is false,
 * liveness stays in the process (lease.c) and the process always leads.
 * - store_live_renew: a heartbeat of node's agent renews its lease of ttl_ms (no revision, no
 *   change) or, when it has none, starts one. Returns a store_rc.
 * - store_live_alive: 1 while node's lease runs, 0 once it expired (or never started), or a
 *   negative store_rc.
 * - store_lead: campaigns for, or renews, this process's leadership (a lease of ttl_ms). 1 when it
 *   leads (*since_ms: since when, by this clock), 0 when another process does, or a store_rc.
 * - store_tx_fence: tx commits only if this process still holds the leadership it was last
 *   granted by store_lead; otherwise its commit is STORE_FENCED and writes nothing. So a leader
 *   paused between its reads and its commit, and replaced meanwhile, cannot write as leader.
 */
bool store_live_shared(void);
int store_live_renew(const char *node, int64_t ttl_ms);
int store_live_alive(const char *node);
int store_lead(int64_t ttl_ms, int64_t *since_ms);
void store_tx_fence(struct store_tx *tx);

/* keepalived.conf import reports (schema 5), immutable once added; not objects, so no change of
 * their own: the objects an import writes carry its changes. add stores report (borrowed) and
 * sets *id. get fills *node (STORE_NAME_MAX), *created_ms and *report (caller owns); NOTFOUND.
 * of_vip: the node and file line of the latest import that wrote VIP name; NOTFOUND. */
int store_import_add(struct store_tx *tx, const char *node, int64_t created_ms,
		     const json_t *report, int64_t *id);
int store_import_get(int64_t id, char *node, int64_t *created_ms, json_t **report);
int store_import_of_vip(const char *name, char *node, int *line);
/* Ownership of objects by imports (schema 5, import_owned): own records that node's import owns
 * (kind, name); disown drops it; owners counts the nodes owning it (or a negative store_rc);
 * owned_by sets *list (caller owns) to [[kind, name]] of what node's imports own. */
int store_import_own(struct store_tx *tx, const char *kind, const char *name, const char *node);
int store_import_disown(struct store_tx *tx, const char *kind, const char *name, const char *node);
int store_import_owners(const char *kind, const char *name);
int store_import_owned_by(const char *node, json_t **list);

#endif
