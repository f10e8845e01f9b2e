/* The commit of an etcd write transaction: every object, index key, token, kind time, the ev/
 * entry and the feed key in ONE etcd txn, under the compare that the feed key is as the
 * transaction found it (see store_etcd_tx.c). Then the touched keys are published and notified
 * here at once; the watch skips this revision when it comes back from etcd. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store.h"
#include "store_etcd.h"
#include "store_etcd_tx.h"
#include "store_track.h"

/* The operations of the txn: one per key (a later put or delete of a key replaces an earlier
 * one: etcd refuses a txn that names a key twice). keys and values are owned. */
struct opbuf {
	struct etcd_op *ops;
	char **keys, **vals;
	size_t n, cap;
	bool oom;
};

static void
op_add(struct opbuf *b, enum etcd_op_type type, const char *key, char *val)
{
	for (size_t i = 0; i < b->n; i++)
		if (b->ops[i].range_end == NULL && strcmp(b->keys[i], key) == 0) {
			free(b->vals[i]);
			b->vals[i] = val;
			b->ops[i].type = type;
			b->ops[i].value = val;
			b->ops[i].value_len = val ? strlen(val) : 0;
			return;
		}
	if (b->n == b->cap) {
		size_t cap = b->cap ? b->cap * 2 : 32;
		struct etcd_op *o = realloc(b->ops, cap * sizeof(*o));
		if (o != NULL)
			b->ops = o;
		char **k = realloc(b->keys, cap * sizeof(*k));
		if (k != NULL)
			b->keys = k;
		char **v = realloc(b->vals, cap * sizeof(*v));
		if (v != NULL)
			b->vals = v;
		if (o == NULL || k == NULL || v == NULL) {
			b->oom = true;
			free(val);
			return;
		}
		b->cap = cap;
	}
	b->keys[b->n] = strdup(key);
	b->vals[b->n] = val;
	b->ops[b->n] = (struct etcd_op){
	    .type = type, .key = b->keys[b->n], .value = val, .value_len = val ? strlen(val) : 0};
	if (b->keys[b->n] == NULL)
		b->oom = true;
	b->n++;
}

static void
op_free(struct opbuf *b)
{
	for (size_t i = 0; i < b->n; i++) {
		free(b->keys[i]);
		free(b->vals[i]);
	}
	free(b->ops);
	free(b->keys);
	free(b->vals);
}

/* Adds a put (value: NULL for "", else owned) or a delete of every index key of links l of
 * (kind, name). */
static void
index_ops(struct opbuf *b, const json_t *l, const char *kind, const char *name, bool put)
{
	static const char *const what[] = {"refs", "tags"}, *const dir[] = {"ref", "tag"};
	char k[ET_KEY_MAX], who[STORE_KIND_MAX + STORE_NAME_MAX + 2];
	const json_t *p;
	size_t i;

	for (int w = 0; w < 2; w++)
		json_array_foreach(json_object_get(l, what[w]), i, p)
		{
			et_key(k, "%s/%s/%s/%s/%s", dir[w],
			       json_string_value(json_array_get(p, 0)) ?: "",
			       json_string_value(json_array_get(p, 1)) ?: "", kind, name);
			op_add(b, put ? ETCD_OP_PUT : ETCD_OP_DELETE, k, put ? strdup("") : NULL);
		}
	snprintf(who, sizeof(who), "%s/%s", kind, name);
	json_array_foreach(json_object_get(l, "uniq"), i, p)
	{
		et_key(k, "uniq/%s", json_string_value(p) ?: "");
		op_add(b, put ? ETCD_OP_PUT : ETCD_OP_DELETE, k, put ? strdup(who) : NULL);
	}
}

/* The stored value of o (caller frees). */
static char *
obj_value(const struct et_obj *o)
{
	json_t *v =
	    json_pack("{s:O, s:O?, s:I, s:O, s:O, s:O}", "spec", o->spec, "status", o->status, "ms",
		      (json_int_t)o->ms, "refs", json_object_get(o->links, "refs"), "tags",
		      json_object_get(o->links, "tags"), "uniq", json_object_get(o->links, "uniq"));
	char *s = v ? json_dumps(v, JSON_COMPACT | JSON_SORT_KEYS) : NULL;

	json_decref(v);
	return s;
}

static char *
token_value(const struct et_tok *k)
{
	json_t *v = json_pack("{s:s, s:s, s:s, s:s, s:I, s:s}", "id", k->t.id, "role", k->t.role,
			      "node", k->t.node, "description", k->t.description, "created_ms",
			      (json_int_t)k->t.created_ms, "digest", k->digest);
	char *s = v ? json_dumps(v, JSON_COMPACT) : NULL;

	json_decref(v);
	return s;
}

/* Appends a change of token t to changes. */
static void
token_change(json_t *changes, const struct et_tok *t, const char *op, int64_t ts, json_t *actor)
{
	json_array_append_new(changes,
			      json_pack("{s:s, s:s, s:s, s:I, s:O}", "op", op, "kind", "token",
					"name", t->t.id, "ts", (json_int_t)ts, "actor", actor));
}

/* Adds the ops and changes of token t: a token replaced in one transaction (deleted and added
 * again with another secret) is a delete and a create, as on SQLite. */
static void
token_ops(struct opbuf *b, const struct et_tok *t, json_t *changes, json_t *actor)
{
	char k[ET_KEY_MAX], ms[24];
	int64_t now = et_now_ms();

	if (t->existed) {
		et_key(k, "token/%s", t->t.id);
		op_add(b, ETCD_OP_DELETE, k, NULL);
		et_key(k, "tokdig/%s", t->old_digest);
		op_add(b, ETCD_OP_DELETE, k, NULL);
		token_change(changes, t, "deleted", now, actor);
	}
	if (t->exists) {
		et_key(k, "token/%s", t->t.id);
		op_add(b, ETCD_OP_PUT, k, token_value(t));
		et_key(k, "tokdig/%s", t->digest);
		op_add(b, ETCD_OP_PUT, k, token_value(t));
		token_change(changes, t, "created", t->t.created_ms, actor);
	}
	snprintf(ms, sizeof(ms), "%lld", (long long)(t->exists ? t->t.created_ms : now));
	et_key(k, "kind/token");
	op_add(b, ETCD_OP_PUT, k, strdup(ms));
}

/* Adds the ops of every changed object and token, and their changes (in the order of their
 * first change) to changes. */
static void
object_ops(struct et_tx *tx, struct opbuf *b, json_t *changes)
{
	char k[ET_KEY_MAX];
	json_t *actor = et_actor_json(&tx->actor);

	for (size_t i = 0; i < tx->n_objs; i++) { /* deletes first: a put of the same key wins */
		struct et_obj *o = tx->objs[i];
		if (o->changed && o->existed)
			index_ops(b, o->old_links, o->kind, o->name, false);
	}
	for (int order = 0; order < tx->next_order; order++) {
		for (size_t i = 0; i < tx->n_objs; i++) {
			struct et_obj *o = tx->objs[i];
			if (!o->changed || o->order != order || (!o->existed && !o->exists))
				continue;
			et_key(k, "obj/%s/%s", o->kind, o->name);
			if (o->exists) {
				op_add(b, ETCD_OP_PUT, k, obj_value(o));
				index_ops(b, o->links, o->kind, o->name, true);
			} else {
				op_add(b, ETCD_OP_DELETE, k, NULL);
			}
			char ms[24];
			snprintf(ms, sizeof(ms), "%lld", (long long)o->ms);
			et_key(k, "kind/%s", o->kind);
			op_add(b, ETCD_OP_PUT, k, strdup(ms));
			const char *op = !o->existed ? "created"
					 : o->exists ? "updated"
						     : "deleted";
			json_array_append_new(changes,
					      json_pack("{s:s, s:s, s:s, s:I, s:O}", "op", op,
							"kind", o->kind, "name", o->name, "ts",
							(json_int_t)o->ms, "actor", actor));
		}
		for (size_t i = 0; i < tx->n_toks; i++)
			if (tx->toks[i].order == order && tx->toks[i].changed)
				token_ops(b, &tx->toks[i], changes, actor);
	}
	json_decref(actor);
}

/* Trims the feed when it holds a batch more than events_keep writes: a range delete of the
 * oldest ev/ keys in the same txn. Updates *floor_seq and *floor_rev. Returns a store_rc. */
static int
trim_ops(struct opbuf *b, int64_t seq, int64_t *floor_seq, int64_t *floor_rev, char *end)
{
	int64_t keep = et_g.events_keep, batch = keep / 8 > 0 ? keep / 8 : 1;
	int64_t floor = seq - keep;
	struct etcd_client *c = et_client();
	struct etcd_kv kv;
	char k[ET_KEY_MAX], err[256];
	int rc;

	if (floor <= 0 || floor < *floor_seq + batch)
		return STORE_OK;
	if (c == NULL)
		return STORE_BUSY;
	et_key(k, "ev/%020lld", (long long)floor);
	if ((rc = etcd_get(c, k, &kv, NULL, err, sizeof(err))) != 0)
		return rc == ETCD_NOTFOUND ? STORE_OK : et_rc(rc);
	*floor_rev = kv.create_rev;
	etcd_kv_clear(&kv);
	*floor_seq = floor;
	et_key(end, "ev/%020lld", (long long)floor + 1);
	et_key(k, "ev/");
	op_add(b, ETCD_OP_DELETE, k, NULL);
	b->ops[b->n - 1].range_end = end;
	return STORE_OK;
}

/* The feed value of the write seq (caller frees). */
static char *
feed_value(const struct et_tx *tx, int64_t seq, int64_t floor_seq, int64_t floor_rev)
{
	json_t *touched = json_array();
	char *s;

	for (size_t i = 0; i < tx->touched.n; i++)
		json_array_append_new(touched, json_string(tx->touched.key[i]));
	json_t *v = json_pack("{s:I, s:I, s:I, s:o}", "seq", (json_int_t)seq, "floor_seq",
			      (json_int_t)floor_seq, "floor_rev", (json_int_t)floor_rev, "touched",
			      touched);
	if (tx->touched.all)
		json_object_del(v, "touched");
	s = v ? json_dumps(v, JSON_COMPACT) : NULL;
	json_decref(v);
	return s;
}

/* After a failed fenced txn (its failure branch read leader into r): STORE_FENCED when the
 * leader key is no longer the term tx was fenced by, else STORE_CONFLICT (the feed moved). */
static int
fence_outcome(const struct et_tx *tx, const struct etcd_txn_result *r)
{
	int64_t now = 0;

	if (r->n_ops == 1 && r->ops[0].range.n == 1)
		now = r->ops[0].range.kvs[0].create_rev;
	if (now == tx->fence_rev)
		return STORE_CONFLICT;
	et_live_fenced(tx->fence_rev, now);
	return STORE_FENCED;
}

/* Sends the txn of b under the feed compare and, for a fenced tx, the compare that the leader
 * key is still of its term. Returns a store_rc with *rev. */
static int
send_txn(struct et_tx *tx, struct opbuf *b, int64_t *rev)
{
	char feed[ET_KEY_MAX], leader[ET_KEY_MAX], err[256];
	struct etcd_client *c = et_client();
	struct etcd_txn_result r = {0};
	int rc;

	if (b->oom || c == NULL)
		return STORE_BUSY;
	et_key(feed, "feed");
	et_key(leader, "leader");
	struct etcd_cmp cmp[2] = {{.key = feed,
				   .target = ETCD_CMP_MOD,
				   .result = ETCD_CMP_EQUAL,
				   .number = tx->feed.mod_rev},
				  {.key = leader,
				   .target = ETCD_CMP_CREATE,
				   .result = ETCD_CMP_EQUAL,
				   .number = tx->fence_rev}};
	struct etcd_op read_leader = {.type = ETCD_OP_RANGE, .key = leader};
	bool fenced = tx->fence_rev != 0;
	struct etcd_txn t = {.cmp = cmp,
			     .n_cmp = fenced ? 2 : 1,
			     .success = b->ops,
			     .n_success = b->n,
			     .failure = fenced ? &read_leader : NULL,
			     .n_failure = fenced ? 1 : 0};
	rc = etcd_txn(c, &t, &r, err, sizeof(err));
	*rev = r.rev;
	if (rc == ETCD_COMPARE_FAILED && fenced) {
		rc = fence_outcome(tx, &r);
		etcd_txn_result_clear(&r);
		return rc;
	}
	etcd_txn_result_clear(&r);
	if (rc != 0 && rc != ETCD_COMPARE_FAILED)
		fprintf(stderr, "vigild: etcd: commit: %s\n", err);
	return et_rc(rc);
}

int
et_commit(struct store_tx *t)
{
	struct et_tx *tx = (struct et_tx *)t;
	struct opbuf b = {0};
	json_t *changes = json_array();
	int64_t seq = tx->feed.seq + 1, floor_seq = tx->feed.floor_seq,
		floor_rev = tx->feed.floor_rev, rev = 0;
	char k[ET_KEY_MAX], end[ET_KEY_MAX];
	int rc;

	object_ops(tx, &b, changes);
	for (size_t i = 0; i < tx->n_raws; i++)
		op_add(&b, tx->raws[i].value ? ETCD_OP_PUT : ETCD_OP_DELETE, tx->raws[i].key,
		       tx->raws[i].value ? strdup(tx->raws[i].value) : NULL);
	if (json_array_size(changes) == 0 && tx->n_raws > 0) {
		/* Only keys of its own (an import that changed no object): no change, no ev/ entry,
		 * but the feed key moves, so that writes stay serialised (one compare, see
		 * store_etcd_tx.c); its feed value is the last write's, touching nothing. */
		json_decref(changes);
		et_key(k, "feed");
		op_add(&b, ETCD_OP_PUT, k, feed_value(tx, tx->feed.seq, floor_seq, floor_rev));
		rc = send_txn(tx, &b, &rev);
		op_free(&b);
		if (rc == STORE_OK) {
			et_own_rev(rev);
			et_saw_revision(rev);
		}
		et_tx_end(tx);
		return rc;
	}
	if (json_array_size(changes) == 0) { /* nothing changed: no txn, no revision */
		json_decref(changes);
		op_free(&b);
		et_tx_end(tx);
		return STORE_OK;
	}
	rc = trim_ops(&b, seq, &floor_seq, &floor_rev, end);
	json_t *ev = json_pack("{s:o}", "changes", changes);
	et_key(k, "ev/%020lld", (long long)seq);
	op_add(&b, ETCD_OP_PUT, k, ev ? json_dumps(ev, JSON_COMPACT) : NULL);
	json_decref(ev);
	sk_touch_actor(&tx->touched, &tx->actor);
	et_key(k, "feed");
	op_add(&b, ETCD_OP_PUT, k, feed_value(tx, seq, floor_seq, floor_rev));
	if (rc == STORE_OK)
		rc = send_txn(tx, &b, &rev);
	op_free(&b);
	if (rc != STORE_OK) {
		et_tx_end(tx);
		return rc;
	}
	et_own_rev(rev);
	et_saw_revision(rev);
	sk_publish(rev, &tx->touched);
	struct store_keys touched = tx->touched; /* needed after the lock is released */
	memset(&tx->touched, 0, sizeof(tx->touched));
	et_tx_end(tx);
	if (et_g.notify != NULL)
		et_g.notify(rev, &touched);
	store_keys_clear(&touched);
	return STORE_OK;
}
