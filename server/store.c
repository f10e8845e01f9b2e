/* The store's entry points (store.h): each checks nothing a backend needs to know, records what
 * the read depends on (store_track.h) and calls the backend chosen at open time (SQLite by
 * store_open, etcd by store_open_etcd), so that both backends track and wake the same way. */
#include <stddef.h>
#include <string.h>

#include "store.h"
#include "store_backend.h"
#include "store_track.h"

static const struct store_backend *be;

/* Reverses the n elements of size bytes at base: a backend reads a page before a name nearest
 * first, and the caller gets it in name order. */
static void
reverse(void *base, int n, size_t size)
{
	unsigned char *a = base, t[sizeof(struct store_obj) > sizeof(struct store_token)
				       ? sizeof(struct store_obj)
				       : sizeof(struct store_token)];

	for (int i = 0; i < n / 2; i++) {
		memcpy(t, a + (size_t)i * size, size);
		memcpy(a + (size_t)i * size, a + (size_t)(n - 1 - i) * size, size);
		memcpy(a + (size_t)(n - 1 - i) * size, t, size);
	}
}

void
store_use_backend(const struct store_backend *b)
{
	be = b;
}

void
store_close(void)
{
	if (be != NULL)
		be->close();
	be = NULL;
}

void
store_thread_done(void)
{
	if (be != NULL)
		be->thread_done();
}

int64_t
store_revision(void)
{
	return be->revision();
}

void
store_obj_clear(struct store_obj *o)
{
	json_decref(o->spec);
	json_decref(o->status);
	o->spec = o->status = NULL;
}

int
store_get(const char *kind, const char *name, struct store_obj *out)
{
	sk_track_obj(kind, name);
	return be->get(kind, name, out);
}

int
store_list(const char *kind, const char *ref_kind, const char *ref_name, const char *after,
	   const char *before, int limit, struct store_obj *out, int *total)
{
	int n;

	if (ref_kind != NULL)
		sk_track_refs(ref_kind, ref_name, kind);
	else
		sk_track_kind(kind);
	n = be->list(kind, ref_kind != NULL ? 'r' : 0, ref_kind, ref_name, after, before, limit,
		     out, total);
	if (before != NULL && n > 1)
		reverse(out, n, sizeof(*out));
	return n;
}

int
store_list_tagged(const char *kind, const char *tag_kind, const char *tag, const char *after,
		  const char *before, int limit, struct store_obj *out, int *total)
{
	int n;

	sk_track_refs(tag_kind, tag, kind);
	n = be->list(kind, 't', tag_kind, tag, after, before, limit, out, total);
	if (before != NULL && n > 1)
		reverse(out, n, sizeof(*out));
	return n;
}

int
store_count(const char *kind)
{
	sk_track_kind(kind);
	return be->count(kind);
}

int64_t
store_kind_modified_ms(const char *kind)
{
	sk_track_kind(kind);
	return be->kind_modified_ms(kind);
}

int
store_write_begin(const struct store_actor *actor, struct store_tx **tx)
{
	return be->write_begin(actor, tx);
}

int
store_commit(struct store_tx *tx)
{
	return be->commit(tx);
}

void
store_rollback(struct store_tx *tx)
{
	be->rollback(tx);
}

int
store_put(struct store_tx *tx, const char *kind, const char *name, json_t *spec,
	  const struct store_links *links, bool must_create, bool *created, char *detail,
	  size_t detail_len)
{
	return be->put(tx, kind, name, spec, links, must_create, created, detail, detail_len);
}

int
store_set_status(struct store_tx *tx, const char *kind, const char *name, json_t *status)
{
	return be->set_status(tx, kind, name, status);
}

int
store_delete(struct store_tx *tx, const char *kind, const char *name, char *detail,
	     size_t detail_len)
{
	return be->del(tx, kind, name, detail, detail_len);
}

int
store_changes(int64_t since, int limit, const struct store_match *match, struct store_change *out)
{
	if (match == NULL || match->type == STORE_MATCH_ALL)
		sk_track_kind(NULL);
	else
		sk_track_match(match);
	return be->changes(since, limit, match, out);
}

int
store_token_add(struct store_tx *tx, const struct store_token *t, const unsigned char digest[32])
{
	return be->token_add(tx, t, digest);
}

int
store_token_find(const unsigned char digest[32], struct store_token *out)
{
	return be->token_find(digest, out);
}

int
store_token_get(const char *id, struct store_token *out)
{
	sk_track_obj("token", id);
	return be->token_get(id, out);
}

int
store_token_delete(struct store_tx *tx, const char *id)
{
	return be->token_delete(tx, id);
}

int
store_token_list(const char *after, const char *before, int limit, struct store_token *out,
		 int *total)
{
	int n;

	sk_track_kind("token");
	n = be->token_list(after, before, limit, out, total);
	if (before != NULL && n > 1)
		reverse(out, n, sizeof(*out));
	return n;
}

int
store_token_count(void)
{
	sk_track_kind("token");
	return be->token_count();
}

int
store_import_add(struct store_tx *tx, const char *node, int64_t created_ms, const json_t *report,
		 int64_t *id)
{
	return be->import_add(tx, node, created_ms, report, id);
}

int
store_import_get(int64_t id, char *node, int64_t *created_ms, json_t **report)
{
	return be->import_get(id, node, created_ms, report);
}

int
store_import_of_vip(const char *name, char *node, int *line)
{
	return be->import_of_vip(name, node, line);
}

int
store_import_own(struct store_tx *tx, const char *kind, const char *name, const char *node)
{
	return be->import_own(tx, kind, name, node);
}

int
store_import_disown(struct store_tx *tx, const char *kind, const char *name, const char *node)
{
	return be->import_disown(tx, kind, name, node);
}

int
store_import_owners(const char *kind, const char *name)
{
	return be->import_owners(kind, name);
}

int
store_import_owned_by(const char *node, json_t **list)
{
	return be->import_owned_by(node, list);
}

bool
store_live_shared(void)
{
	return be->live_renew != NULL;
}

int
store_live_renew(const char *node, int64_t ttl_ms)
{
	return be->live_renew != NULL ? be->live_renew(node, ttl_ms) : STORE_OK;
}

int
store_live_alive(const char *node)
{
	return be->live_alive != NULL ? be->live_alive(node) : STORE_ERROR;
}

int
store_lead(int64_t ttl_ms, int64_t *since_ms)
{
	if (be->lead != NULL)
		return be->lead(ttl_ms, since_ms);
	*since_ms = 0;
	return 1;
}

void
store_tx_fence(struct store_tx *tx)
{
	if (be->tx_fence != NULL)
		be->tx_fence(tx);
}
