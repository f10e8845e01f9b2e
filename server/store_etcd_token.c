/* API tokens in etcd: token/ID holds a token with the hex SHA-256 of its secret, tokdig/HEX the
 * same found by that digest (what every request's authentication reads: one get). Reads here;
 * adds and deletes join the write transaction's overlay like objects (store_etcd_tx.c). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store.h"
#include "store_etcd.h"
#include "store_etcd_tx.h"
#include "store_track.h"

void
et_json_str(char *dst, size_t len, const json_t *j, const char *member)
{
	const char *v = json_string_value(json_object_get(j, member));

	snprintf(dst, len, "%s", v != NULL ? v : "");
}

int
et_token_parse(const char *v, size_t len, struct store_token *t, char digest[65])
{
	json_t *j = json_loadb(v, len, 0, NULL);

	if (j == NULL)
		return STORE_ERROR;
	memset(t, 0, sizeof(*t));
	et_json_str(t->id, sizeof(t->id), j, "id");
	et_json_str(t->role, sizeof(t->role), j, "role");
	et_json_str(t->node, sizeof(t->node), j, "node");
	et_json_str(t->description, sizeof(t->description), j, "description");
	t->created_ms = json_integer_value(json_object_get(j, "created_ms"));
	if (digest != NULL)
		et_json_str(digest, 65, j, "digest");
	json_decref(j);
	return STORE_OK;
}

/* Reads the token at key k (a token/ or tokdig/ key). */
static int
token_at(const char *k, struct store_token *out)
{
	struct etcd_client *c = et_client();
	struct etcd_kv kv;
	char err[256];
	int rc;

	if (c == NULL)
		return STORE_BUSY;
	if ((rc = etcd_get(c, k, &kv, NULL, err, sizeof(err))) != 0)
		return et_rc(rc);
	rc = et_token_parse(kv.value, kv.value_len, out, NULL);
	etcd_kv_clear(&kv);
	return rc;
}

int
et_token_find(const unsigned char digest[32], struct store_token *out)
{
	char hex[65], k[ET_KEY_MAX];

	for (int i = 0; i < 32; i++)
		snprintf(hex + 2 * i, 3, "%02x", digest[i]);
	et_key(k, "tokdig/%s", hex);
	return token_at(k, out);
}

int
et_token_get(const char *id, struct store_token *out)
{
	struct et_tx *tx = et_tx_current();
	char k[ET_KEY_MAX];
	int rc;

	if (tx != NULL && (rc = et_tx_token_get(tx, id, out)) != 1)
		return rc;
	et_key(k, "token/%s", id);
	return token_at(k, out);
}

int
et_token_count(void)
{
	char p[ET_KEY_MAX];

	et_key(p, "token/");
	return et_count_prefix(p);
}

int
et_token_list(const char *after, const char *before, int limit, struct store_token *out, int *total)
{
	struct etcd_range_opts o = {0};
	struct etcd_client *c = et_client();
	char p[ET_KEY_MAX], key[ET_KEY_MAX], end[ET_KEY_MAX], err[256];
	struct etcd_kvs r;
	int rc, n = 0;

	if (c == NULL)
		return STORE_BUSY;
	et_key(p, "token/");
	et_page_range(&o, key, end, p, after, before);
	o.limit = limit + 1;
	if ((rc = etcd_range(c, key, &o, &r, err, sizeof(err))) != 0)
		return et_rc(rc);
	for (size_t i = 0; i < r.n && n < limit; i++) {
		if (after != NULL && before == NULL && strcmp(r.kvs[i].key + strlen(p), after) == 0)
			continue;
		if (et_token_parse(r.kvs[i].value, r.kvs[i].value_len, &out[n], NULL) == STORE_OK)
			n++;
	}
	etcd_kvs_clear(&r);
	*total = et_token_count();
	return *total < 0 ? *total : n;
}

int
et_tx_token_get(struct et_tx *tx, const char *id, struct store_token *out)
{
	for (size_t i = 0; i < tx->n_toks; i++)
		if (strcmp(tx->toks[i].t.id, id) == 0) {
			if (!tx->toks[i].exists)
				return STORE_NOTFOUND;
			*out = tx->toks[i].t;
			return STORE_OK;
		}
	return 1;
}

/* The token entry of id in tx, read from etcd on first use; NULL with *rc on failure. */
static struct et_tok *
load_token(struct et_tx *tx, const char *id, int *rc)
{
	for (size_t i = 0; i < tx->n_toks; i++)
		if (strcmp(tx->toks[i].t.id, id) == 0)
			return &tx->toks[i];
	if (tx->n_toks == tx->cap_toks) {
		size_t cap = tx->cap_toks ? tx->cap_toks * 2 : 8;
		struct et_tok *n = realloc(tx->toks, cap * sizeof(*n));
		if (n == NULL) {
			*rc = STORE_BUSY;
			return NULL;
		}
		tx->toks = n;
		tx->cap_toks = cap;
	}
	struct et_tok *k = &tx->toks[tx->n_toks];
	struct etcd_client *c = et_client();
	struct etcd_kv kv;
	char key[ET_KEY_MAX], err[256];

	memset(k, 0, sizeof(*k));
	snprintf(k->t.id, sizeof(k->t.id), "%s", id);
	if (c == NULL) {
		*rc = STORE_BUSY;
		return NULL;
	}
	et_key(key, "token/%s", id);
	int e = etcd_get(c, key, &kv, NULL, err, sizeof(err));
	if (e != 0 && e != ETCD_NOTFOUND) {
		*rc = et_rc(e);
		return NULL;
	}
	if (e == 0) {
		*rc = et_token_parse(kv.value, kv.value_len, &k->t, k->digest);
		etcd_kv_clear(&kv);
		if (*rc != STORE_OK)
			return NULL;
		memcpy(k->old_digest, k->digest, sizeof(k->digest));
		k->existed = k->exists = true;
	}
	k->order = -1;
	tx->n_toks++;
	*rc = STORE_OK;
	return k;
}

int
et_token_add(struct store_tx *t, const struct store_token *tok, const unsigned char digest[32])
{
	struct et_tx *tx = (struct et_tx *)t;
	int rc;
	struct et_tok *k = load_token(tx, tok->id, &rc);

	if (k == NULL)
		return rc;
	if (k->exists)
		return STORE_EXISTS;
	if (tok->node[0] != '\0') { /* an agent token needs its node (SQLite: a foreign key) */
		struct et_obj *n = et_tx_load(tx, "node", tok->node, &rc);
		if (n == NULL)
			return rc;
		if (!n->exists)
			return STORE_EXISTS;
	}
	k->t = *tok;
	for (int i = 0; i < 32; i++)
		snprintf(k->digest + 2 * i, 3, "%02x", digest[i]);
	k->exists = k->changed = true;
	if (k->order < 0)
		k->order = tx->next_order++;
	sk_touch_obj(&tx->touched, "token", tok->id);
	return STORE_OK;
}

int
et_token_delete(struct store_tx *t, const char *id)
{
	struct et_tx *tx = (struct et_tx *)t;
	int rc;
	struct et_tok *k = load_token(tx, id, &rc);

	if (k == NULL)
		return rc;
	if (!k->exists)
		return STORE_NOTFOUND;
	k->exists = false;
	k->changed = true;
	if (k->order < 0)
		k->order = tx->next_order++;
	sk_touch_obj(&tx->touched, "token", id);
	return STORE_OK;
}
