/* The etcd backend's write transaction. Between store_write_begin and store_commit nothing is
 * sent to etcd but reads: every object the transaction reads or writes is kept in an overlay
 * (reads on the writing thread see its writes), and the commit is ONE etcd txn that puts or deletes
 * every object, index key (ref/, tag/, uniq/), token, kind time, the write's ev/ entry and the feed
 * key, on the condition that the feed key's mod_revision is still the one read at begin. Every
 * write changes the feed key, so that one compare proves that nothing this transaction read has
 * changed (serialisable, at the cost of running writes of different replicas one at a time); when
 * it fails, the commit is STORE_CONFLICT and the write runner runs the write again. Writes of one
 * vigild are serialised by a lock, as on SQLite. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store.h"
#include "store_etcd.h"
#include "store_track.h"

#include "store_etcd_tx.h"

static pthread_mutex_t et_write_lock = PTHREAD_MUTEX_INITIALIZER;
static struct et_tx the_tx;
static __thread struct et_tx *tl_tx;

struct et_tx *
et_tx_current(void)
{
	return tl_tx;
}

static void
obj_free(struct et_obj *o)
{
	json_decref(o->spec);
	json_decref(o->status);
	json_decref(o->old_links);
	json_decref(o->links);
	free(o);
}

void
et_tx_end(struct et_tx *tx)
{
	for (size_t i = 0; i < tx->n_objs; i++)
		obj_free(tx->objs[i]);
	tx->n_objs = 0;
	tx->n_toks = 0;
	for (size_t i = 0; i < tx->n_raws; i++) {
		free(tx->raws[i].key);
		free(tx->raws[i].value);
	}
	tx->n_raws = 0;
	tx->touched.n = 0;
	tx->touched.all = false;
	tx->fence_rev = 0;
	tl_tx = NULL;
	pthread_mutex_unlock(&et_write_lock);
}

void
et_tx_free(void)
{
	free(the_tx.objs);
	free(the_tx.toks);
	free(the_tx.raws);
	store_keys_clear(&the_tx.touched);
	memset(&the_tx, 0, sizeof(the_tx));
}

int
et_write_begin(const struct store_actor *actor, struct store_tx **out)
{
	struct et_tx *tx = &the_tx;
	int rc;

	pthread_mutex_lock(&et_write_lock);
	if ((rc = et_feed_read(&tx->feed)) != STORE_OK) {
		pthread_mutex_unlock(&et_write_lock);
		return rc;
	}
	if (actor != NULL)
		tx->actor = *actor;
	else
		memset(&tx->actor, 0, sizeof(tx->actor));
	tx->next_order = 0;
	tl_tx = tx;
	*out = (struct store_tx *)tx;
	return STORE_OK;
}

int
et_tx_raw_set(struct et_tx *tx, const char *key, const char *value)
{
	char *v = value != NULL ? strdup(value) : NULL;
	size_t i;

	if (value != NULL && v == NULL)
		return STORE_BUSY;
	for (i = 0; i < tx->n_raws && strcmp(tx->raws[i].key, key) != 0; i++)
		;
	if (i == tx->n_raws) {
		if (tx->n_raws == tx->cap_raws) {
			size_t cap = tx->cap_raws ? tx->cap_raws * 2 : 16;
			struct et_raw *n = realloc(tx->raws, cap * sizeof(*n));
			if (n == NULL) {
				free(v);
				return STORE_BUSY;
			}
			tx->raws = n;
			tx->cap_raws = cap;
		}
		if ((tx->raws[i].key = strdup(key)) == NULL) {
			free(v);
			return STORE_BUSY;
		}
		tx->raws[i].value = NULL;
		tx->n_raws++;
	}
	free(tx->raws[i].value);
	tx->raws[i].value = v;
	return STORE_OK;
}

int
et_tx_raw_find(const struct et_tx *tx, const char *key, const char **value)
{
	for (size_t i = 0; i < tx->n_raws; i++)
		if (strcmp(tx->raws[i].key, key) == 0) {
			*value = tx->raws[i].value;
			return 0;
		}
	return 1;
}

void
et_rollback(struct store_tx *t)
{
	et_tx_end((struct et_tx *)t);
}

/* The object (kind, name) as tx sees it, read from etcd on first use. NULL with *rc set when it
 * cannot be read. */
struct et_obj *
et_tx_load(struct et_tx *tx, const char *kind, const char *name, int *rc)
{
	struct etcd_client *c = et_client();
	struct etcd_kv kv;
	char k[ET_KEY_MAX], err[256];

	for (size_t i = 0; i < tx->n_objs; i++)
		if (strcmp(tx->objs[i]->kind, kind) == 0 && strcmp(tx->objs[i]->name, name) == 0)
			return tx->objs[i];
	*rc = STORE_BUSY;
	if (c == NULL)
		return NULL;
	if (tx->n_objs == tx->cap_objs) {
		size_t cap = tx->cap_objs ? tx->cap_objs * 2 : 16;
		struct et_obj **o = realloc(tx->objs, cap * sizeof(*o));
		if (o == NULL)
			return NULL;
		tx->objs = o;
		tx->cap_objs = cap;
	}
	struct et_obj *o = calloc(1, sizeof(*o));
	if (o == NULL)
		return NULL;
	snprintf(o->kind, sizeof(o->kind), "%s", kind);
	snprintf(o->name, sizeof(o->name), "%s", name);
	et_key(k, "obj/%s/%s", kind, name);
	int e = etcd_get(c, k, &kv, NULL, err, sizeof(err));
	if (e != 0 && e != ETCD_NOTFOUND) {
		*rc = et_rc(e);
		free(o);
		return NULL;
	}
	if (e == 0) {
		struct store_obj so = {0};
		*rc = et_obj_from_kv(&so, &kv, &o->old_links);
		etcd_kv_clear(&kv);
		if (*rc != STORE_OK) {
			free(o);
			return NULL;
		}
		o->existed = o->exists = true;
		o->spec = so.spec;
		o->status = so.status;
		o->create_rev = so.create_rev;
		o->mod_rev = so.mod_rev;
		o->ms = so.modified_ms;
		o->links = json_deep_copy(o->old_links);
	}
	tx->objs[tx->n_objs++] = o;
	*rc = STORE_OK;
	return o;
}

/* Fills out from o (new references). */
static void
obj_out(const struct et_obj *o, struct store_obj *out)
{
	memset(out, 0, sizeof(*out));
	snprintf(out->kind, sizeof(out->kind), "%s", o->kind);
	snprintf(out->name, sizeof(out->name), "%s", o->name);
	out->spec = json_deep_copy(o->spec);
	out->status = o->status ? json_deep_copy(o->status) : NULL;
	out->create_rev = o->create_rev;
	out->mod_rev = o->mod_rev;
	out->modified_ms = o->ms;
}

int
et_tx_get(struct et_tx *tx, const char *kind, const char *name, struct store_obj *out)
{
	for (size_t i = 0; i < tx->n_objs; i++) {
		struct et_obj *o = tx->objs[i];
		if (strcmp(o->kind, kind) != 0 || strcmp(o->name, name) != 0)
			continue;
		if (!o->exists)
			return STORE_NOTFOUND;
		obj_out(o, out);
		return STORE_OK;
	}
	return 1;
}

bool
et_tx_has_kind(struct et_tx *tx, const char *kind)
{
	for (size_t i = 0; i < tx->n_objs; i++)
		if (tx->objs[i]->changed && strcmp(tx->objs[i]->kind, kind) == 0)
			return true;
	return false;
}

/* Does the links object l hold the pair (k, n) in its member what ("refs" or "tags")? */
static bool
links_have(const json_t *l, const char *what, const char *k, const char *n)
{
	const json_t *p;
	size_t i;

	json_array_foreach(json_object_get(l, what), i, p)
	{
		if (strcmp(json_string_value(json_array_get(p, 0)) ?: "", k) == 0 &&
		    strcmp(json_string_value(json_array_get(p, 1)) ?: "", n) == 0)
			return true;
	}
	return false;
}

static int
cmp_obj(const void *a, const void *b)
{
	return strcmp(((const struct store_obj *)a)->name, ((const struct store_obj *)b)->name);
}

int
et_tx_merge_list(struct et_tx *tx, const char *kind, char by, const char *k2, const char *n2,
		 struct store_obj *out, int n, int cap)
{
	for (size_t i = 0; i < tx->n_objs; i++) {
		struct et_obj *o = tx->objs[i];
		if (!o->changed || strcmp(o->kind, kind) != 0)
			continue;
		int at = -1;
		for (int j = 0; j < n && at < 0; j++)
			if (strcmp(out[j].name, o->name) == 0)
				at = j;
		bool match = o->exists &&
			     (by == 0 || links_have(o->links, by == 'r' ? "refs" : "tags", k2, n2));
		if (at >= 0) {
			store_obj_clear(&out[at]);
			if (match) {
				obj_out(o, &out[at]);
			} else {
				out[at] = out[n - 1];
				n--;
			}
		} else if (match && n < cap) {
			obj_out(o, &out[n++]);
		}
	}
	qsort(out, (size_t)n, sizeof(*out), cmp_obj);
	return n;
}

/* {refs: [[k, n]...], tags: [...], uniq: [...]} of l (new reference). */
static json_t *
links_json(const struct store_links *l)
{
	json_t *refs = json_array(), *tags = json_array(), *uniq = json_array();

	for (int i = 0; l != NULL && i < l->n_refs; i++)
		json_array_append_new(refs, json_pack("[s, s]", l->refs[i].kind, l->refs[i].name));
	for (int i = 0; l != NULL && i < l->n_tags; i++)
		json_array_append_new(tags, json_pack("[s, s]", l->tags[i].kind, l->tags[i].name));
	for (int i = 0; l != NULL && i < l->n_uniques; i++)
		json_array_append_new(uniq, json_string(l->uniques[i]));
	return json_pack("{s:o, s:o, s:o}", "refs", refs, "tags", tags, "uniq", uniq);
}

/* Touches "K/N<kind" for every ref and tag in links l of an object of kind. */
static void
touch_links(struct et_tx *tx, const json_t *l, const char *kind)
{
	static const char *const what[] = {"refs", "tags"};
	const json_t *p;
	size_t i;

	for (int w = 0; w < 2; w++)
		json_array_foreach(json_object_get(l, what[w]), i, p)
		    sk_touch_ref(&tx->touched, json_string_value(json_array_get(p, 0)) ?: "",
				 json_string_value(json_array_get(p, 1)) ?: "", kind);
}

/* Marks o changed by this transaction (first change: its place in the feed). */
static void
mark_changed(struct et_tx *tx, struct et_obj *o)
{
	if (!o->changed)
		o->order = tx->next_order++;
	o->changed = true;
	o->ms = et_now_ms();
	sk_touch_obj(&tx->touched, o->kind, o->name);
	touch_links(tx, o->links, o->kind);
}

/* Who holds unique key u as tx sees it: 0 with holder "KIND/NAME" ("" when free), or a store_rc.
 */
static int
unique_holder(struct et_tx *tx, const char *u, char *holder, size_t len)
{
	struct etcd_client *c = et_client();
	struct etcd_kv kv;
	char k[ET_KEY_MAX], err[256];
	const json_t *v;
	size_t j;

	holder[0] = '\0';
	for (size_t i = 0; i < tx->n_objs; i++) { /* claimed by a write of this transaction */
		struct et_obj *o = tx->objs[i];
		if (!o->changed || !o->exists)
			continue;
		json_array_foreach(json_object_get(o->links, "uniq"), j,
				   v) if (strcmp(json_string_value(v) ?: "", u) == 0)
		{
			snprintf(holder, len, "%s/%s", o->kind, o->name);
			return STORE_OK;
		}
	}
	if (c == NULL)
		return STORE_BUSY;
	et_key(k, "uniq/%s", u);
	int rc = etcd_get(c, k, &kv, NULL, err, sizeof(err));
	if (rc == ETCD_NOTFOUND)
		return STORE_OK;
	if (rc != 0)
		return et_rc(rc);
	snprintf(holder, len, "%s", kv.value);
	etcd_kv_clear(&kv);
	for (size_t i = 0; i < tx->n_objs; i++) { /* released by a write of this transaction */
		struct et_obj *o = tx->objs[i];
		char who[STORE_KIND_MAX + STORE_NAME_MAX + 2];
		snprintf(who, sizeof(who), "%s/%s", o->kind, o->name);
		if (o->changed && strcmp(who, holder) == 0) {
			bool still = false;
			json_array_foreach(json_object_get(o->links, "uniq"), j, v) still =
			    still || strcmp(json_string_value(v) ?: "", u) == 0;
			if (!o->exists || !still)
				holder[0] = '\0';
		}
	}
	return STORE_OK;
}

int
et_put(struct store_tx *t, const char *kind, const char *name, json_t *spec,
       const struct store_links *links, bool must_create, bool *created, char *detail,
       size_t detail_len)
{
	struct et_tx *tx = (struct et_tx *)t;
	int rc;
	struct et_obj *o = et_tx_load(tx, kind, name, &rc);

	detail[0] = '\0';
	if (o == NULL)
		return rc;
	*created = !o->exists;
	if (o->exists && must_create) {
		snprintf(detail, detail_len, "%s %s already exists", kind, name);
		return STORE_EXISTS;
	}
	for (int i = 0; links != NULL && i < links->n_refs; i++) {
		struct et_obj *to = et_tx_load(tx, links->refs[i].kind, links->refs[i].name, &rc);
		if (to == NULL)
			return rc;
		if (!to->exists) {
			snprintf(detail, detail_len, "%s %s does not exist", links->refs[i].kind,
				 links->refs[i].name);
			return STORE_DANGLING;
		}
	}
	for (int i = 0; links != NULL && i < links->n_uniques; i++) {
		char holder[STORE_KIND_MAX + STORE_NAME_MAX + 2], self[sizeof(holder)];
		if ((rc = unique_holder(tx, links->uniques[i], holder, sizeof(holder))) != 0)
			return rc;
		snprintf(self, sizeof(self), "%s/%s", kind, name);
		if (holder[0] != '\0' && strcmp(holder, self) != 0) {
			char *slash = strchr(holder, '/');
			if (slash != NULL)
				*slash = ' ';
			snprintf(detail, detail_len, "%s is already held by %s", links->uniques[i],
				 holder);
			return STORE_UNIQUE;
		}
	}
	if (o->exists)
		touch_links(tx, o->links, kind); /* what it referenced before */
	json_decref(o->spec);
	json_decref(o->links);
	o->spec = json_deep_copy(spec);
	o->links = links_json(links);
	o->exists = true;
	mark_changed(tx, o);
	return o->spec != NULL && o->links != NULL ? STORE_OK : STORE_ERROR;
}

int
et_set_status(struct store_tx *t, const char *kind, const char *name, json_t *status)
{
	struct et_tx *tx = (struct et_tx *)t;
	int rc;
	struct et_obj *o = et_tx_load(tx, kind, name, &rc);

	if (o == NULL)
		return rc;
	if (!o->exists)
		return STORE_NOTFOUND;
	if (o->status != NULL && json_equal(o->status, status))
		return STORE_OK;
	json_decref(o->status);
	o->status = json_deep_copy(status);
	mark_changed(tx, o);
	return STORE_OK;
}

/* Deletes the agent tokens bound to node (inside tx). */
static int
delete_node_tokens(struct et_tx *tx, const char *node)
{
	struct etcd_range_opts ro = {.prefix = true};
	struct etcd_client *c = et_client();
	struct etcd_kvs r;
	char p[ET_KEY_MAX], err[256];
	int rc;

	if (c == NULL)
		return STORE_BUSY;
	et_key(p, "token/");
	if ((rc = etcd_range(c, p, &ro, &r, err, sizeof(err))) != 0)
		return et_rc(rc);
	for (size_t i = 0; i < r.n && rc == STORE_OK; i++) {
		json_t *j = json_loadb(r.kvs[i].value, r.kvs[i].value_len, 0, NULL);
		const char *n = json_string_value(json_object_get(j, "node"));
		if (n != NULL && strcmp(n, node) == 0)
			rc = et_token_delete((struct store_tx *)tx, r.kvs[i].key + strlen(p));
		if (rc == STORE_NOTFOUND)
			rc = STORE_OK;
		json_decref(j);
	}
	etcd_kvs_clear(&r);
	for (size_t i = 0; i < tx->n_toks && rc == STORE_OK; i++)
		if (tx->toks[i].exists && strcmp(tx->toks[i].t.node, node) == 0)
			rc = et_token_delete((struct store_tx *)tx, tx->toks[i].t.id);
	return rc;
}

/* Who references (kind, name) as tx sees it: 0 with who "KIND NAME" ("" when none). */
static int
referrer(struct et_tx *tx, const char *kind, const char *name, char *who, size_t len)
{
	struct etcd_range_opts ro = {.prefix = true, .keys_only = true};
	struct etcd_client *c = et_client();
	struct etcd_kvs r;
	char p[ET_KEY_MAX], err[256];
	int rc;

	who[0] = '\0';
	for (size_t i = 0; i < tx->n_objs; i++) {
		struct et_obj *o = tx->objs[i];
		if (o->changed && o->exists && links_have(o->links, "refs", kind, name)) {
			snprintf(who, len, "%s %s", o->kind, o->name);
			return STORE_OK;
		}
	}
	if (c == NULL)
		return STORE_BUSY;
	et_key(p, "ref/%s/%s/", kind, name);
	if ((rc = etcd_range(c, p, &ro, &r, err, sizeof(err))) != 0)
		return et_rc(rc);
	for (size_t i = 0; i < r.n && who[0] == '\0'; i++) {
		char k2[STORE_KIND_MAX] = "", n2[STORE_NAME_MAX] = "";
		const char *rest = r.kvs[i].key + strlen(p), *slash = strchr(rest, '/');
		if (slash == NULL || (size_t)(slash - rest) >= sizeof(k2))
			continue;
		memcpy(k2, rest, (size_t)(slash - rest));
		snprintf(n2, sizeof(n2), "%s", slash + 1);
		bool gone = false;
		for (size_t j = 0; j < tx->n_objs; j++) {
			struct et_obj *o = tx->objs[j];
			if (o->changed && strcmp(o->kind, k2) == 0 && strcmp(o->name, n2) == 0)
				gone = true; /* a changed one that still refers was found above */
		}
		if (!gone)
			snprintf(who, len, "%s %s", k2, n2);
	}
	etcd_kvs_clear(&r);
	return STORE_OK;
}

int
et_delete(struct store_tx *t, const char *kind, const char *name, char *detail, size_t detail_len)
{
	struct et_tx *tx = (struct et_tx *)t;
	char who[STORE_KIND_MAX + STORE_NAME_MAX + 2];
	int rc;

	detail[0] = '\0';
	if ((rc = referrer(tx, kind, name, who, sizeof(who))) != STORE_OK)
		return rc;
	if (who[0] != '\0') {
		snprintf(detail, detail_len, "%s %s is used by %s", kind, name, who);
		return STORE_REFERENCED;
	}
	struct et_obj *o = et_tx_load(tx, kind, name, &rc);
	if (o == NULL)
		return rc;
	if (!o->exists)
		return STORE_NOTFOUND;
	if (strcmp(kind, "node") == 0 && (rc = delete_node_tokens(tx, name)) != STORE_OK)
		return rc;
	if ((rc = et_import_forget(tx, kind, name)) != STORE_OK)
		return rc;
	mark_changed(tx, o);
	o->exists = false;
	return STORE_OK;
}
