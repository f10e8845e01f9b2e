/* keepalived.conf import reports and what imports own, on etcd (store.h's store_import_*,
 * through store_backend.h). Keys under the prefix:
 *   impseq                       the last report id
 *   imp/<id, 20 digits>          {node, created_ms, report}: immutable once written
 *   impvip/<vip>                 {node, line}: the latest import that wrote that VIP
 *   impown/<kind>/<name>/<node>  "1": that node's imports own the object
 * They are written in the write transaction's own txn (et_tx_raw_set), so they commit or not
 * with the import's objects; an object's ownership goes with it (et_import_forget from
 * et_delete), as SQLite's foreign key cascades. Names hold no '/' (the API's Name). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store.h"
#include "store_etcd.h"
#include "store_etcd_tx.h"

/* The value of key as the current write transaction (if any) sees it: 0 with *out (caller
 * frees), STORE_NOTFOUND, or another store_rc. */
static int
raw_get(const char *key, char **out)
{
	struct et_tx *tx = et_tx_current();
	struct etcd_client *c;
	struct etcd_kv kv;
	const char *v;
	char err[256];
	int rc;

	*out = NULL;
	if (tx != NULL && et_tx_raw_find(tx, key, &v) == 0) {
		if (v == NULL)
			return STORE_NOTFOUND;
		return (*out = strdup(v)) != NULL ? STORE_OK : STORE_BUSY;
	}
	if ((c = et_client()) == NULL)
		return STORE_BUSY;
	if ((rc = etcd_get(c, key, &kv, NULL, err, sizeof(err))) != 0)
		return et_rc(rc);
	*out = strndup(kv.value, kv.value_len);
	etcd_kv_clear(&kv);
	return *out != NULL ? STORE_OK : STORE_BUSY;
}

/* The keys under prefix p as the current write transaction sees them: a JSON array of strings
 * (the part after p), sorted, into *out (caller owns). Returns a store_rc. */
static int
raw_list(const char *p, json_t **out)
{
	struct et_tx *tx = et_tx_current();
	struct etcd_range_opts o = {.prefix = true, .keys_only = true};
	struct etcd_client *c = et_client();
	struct etcd_kvs r;
	const char *v;
	char err[256];
	size_t plen = strlen(p);
	int rc;

	if (c == NULL)
		return STORE_BUSY;
	if ((rc = etcd_range(c, p, &o, &r, err, sizeof(err))) != 0)
		return et_rc(rc);
	*out = json_array();
	for (size_t i = 0; i < r.n; i++)
		if (tx == NULL || et_tx_raw_find(tx, r.kvs[i].key, &v) != 0)
			json_array_append_new(*out, json_string(r.kvs[i].key + plen));
	etcd_kvs_clear(&r);
	for (size_t i = 0; tx != NULL && i < tx->n_raws; i++)
		if (tx->raws[i].value != NULL && strncmp(tx->raws[i].key, p, plen) == 0)
			json_array_append_new(*out, json_string(tx->raws[i].key + plen));
	return STORE_OK;
}

int
et_import_add(struct store_tx *t, const char *node, int64_t created_ms, const json_t *report,
	      int64_t *id)
{
	struct et_tx *tx = (struct et_tx *)t;
	char k[ET_KEY_MAX], num[24], *seq = NULL, *text;
	json_t *rec, *r;
	size_t i;
	int rc;

	et_key(k, "impseq");
	if ((rc = raw_get(k, &seq)) != STORE_OK && rc != STORE_NOTFOUND)
		return rc;
	*id = (seq != NULL ? strtoll(seq, NULL, 10) : 0) + 1;
	free(seq);
	snprintf(num, sizeof(num), "%lld", (long long)*id);
	if ((rc = et_tx_raw_set(tx, k, num)) != STORE_OK)
		return rc;
	rec = json_pack("{s:s, s:I, s:O}", "node", node, "created_ms", (json_int_t)created_ms,
			"report", report);
	text = rec ? json_dumps(rec, JSON_COMPACT) : NULL;
	json_decref(rec);
	if (text == NULL)
		return STORE_BUSY;
	et_key(k, "imp/%020lld", (long long)*id);
	rc = et_tx_raw_set(tx, k, text);
	free(text);
	json_array_foreach(json_object_get(report, "resources"), i, r)
	{
		const char *kind = json_string_value(json_object_get(r, "kind"));
		const char *name = json_string_value(json_object_get(r, "name"));
		if (rc != STORE_OK || kind == NULL || name == NULL || strcmp(kind, "vip") != 0)
			continue;
		json_t *at = json_pack("{s:s, s:O}", "node", node, "line",
				       json_object_get(r, "line") ? json_object_get(r, "line")
								  : json_null());
		text = at ? json_dumps(at, JSON_COMPACT) : NULL;
		json_decref(at);
		et_key(k, "impvip/%s", name);
		rc = text != NULL ? et_tx_raw_set(tx, k, text) : STORE_BUSY;
		free(text);
	}
	return rc;
}

int
et_import_get(int64_t id, char *node, int64_t *created_ms, json_t **report)
{
	char k[ET_KEY_MAX], *text;
	json_t *rec;
	int rc;

	et_key(k, "imp/%020lld", (long long)id);
	if ((rc = raw_get(k, &text)) != STORE_OK)
		return rc;
	rec = json_loads(text, 0, NULL);
	free(text);
	if (!json_is_object(rec)) {
		json_decref(rec);
		return STORE_ERROR;
	}
	et_json_str(node, STORE_NAME_MAX, rec, "node");
	*created_ms = json_integer_value(json_object_get(rec, "created_ms"));
	*report = json_incref(json_object_get(rec, "report"));
	json_decref(rec);
	return *report != NULL ? STORE_OK : STORE_ERROR;
}

int
et_import_of_vip(const char *name, char *node, int *line)
{
	char k[ET_KEY_MAX], *text;
	json_t *at;
	int rc;

	et_key(k, "impvip/%s", name);
	if ((rc = raw_get(k, &text)) != STORE_OK)
		return rc;
	at = json_loads(text, 0, NULL);
	free(text);
	et_json_str(node, STORE_NAME_MAX, at, "node");
	*line = (int)json_integer_value(json_object_get(at, "line"));
	json_decref(at);
	return STORE_OK;
}

int
et_import_own(struct store_tx *t, const char *kind, const char *name, const char *node)
{
	char k[ET_KEY_MAX];

	et_key(k, "impown/%s/%s/%s", kind, name, node);
	return et_tx_raw_set((struct et_tx *)t, k, "1");
}

int
et_import_disown(struct store_tx *t, const char *kind, const char *name, const char *node)
{
	char k[ET_KEY_MAX];

	et_key(k, "impown/%s/%s/%s", kind, name, node);
	return et_tx_raw_set((struct et_tx *)t, k, NULL);
}

int
et_import_owners(const char *kind, const char *name)
{
	char p[ET_KEY_MAX];
	json_t *keys;
	int rc;

	et_key(p, "impown/%s/%s/", kind, name);
	if ((rc = raw_list(p, &keys)) != STORE_OK)
		return rc;
	rc = (int)json_array_size(keys);
	json_decref(keys);
	return rc;
}

static int
cmp_key(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

int
et_import_owned_by(const char *node, json_t **list)
{
	char p[ET_KEY_MAX];
	const char **sorted;
	json_t *keys;
	size_t n;
	int rc;

	et_key(p, "impown/");
	if ((rc = raw_list(p, &keys)) != STORE_OK)
		return rc;
	/* "kind/name/node", ordered by kind, then name, as SQLite answers */
	n = json_array_size(keys);
	if ((sorted = calloc(n + 1, sizeof(*sorted))) == NULL) {
		json_decref(keys);
		return STORE_BUSY;
	}
	for (size_t i = 0; i < n; i++)
		sorted[i] = json_string_value(json_array_get(keys, i));
	qsort(sorted, n, sizeof(*sorted), cmp_key);
	*list = json_array();
	for (size_t i = 0; i < n; i++) {
		const char *s = sorted[i], *a = strchr(s, '/'), *b = a ? strchr(a + 1, '/') : NULL;
		if (b != NULL && strcmp(b + 1, node) == 0)
			json_array_append_new(
			    *list, json_pack("[s#, s#]", s, (int)(a - s), a + 1, (int)(b - a - 1)));
	}
	free(sorted);
	json_decref(keys);
	return STORE_OK;
}

int
et_import_forget(struct et_tx *tx, const char *kind, const char *name)
{
	char p[ET_KEY_MAX], k[ET_KEY_MAX];
	json_t *keys, *n;
	size_t i;
	int rc;

	et_key(p, "impown/%s/%s/", kind, name);
	if ((rc = raw_list(p, &keys)) != STORE_OK)
		return rc;
	json_array_foreach(keys, i, n)
	{
		snprintf(k, sizeof(k), "%s%s", p, json_string_value(n));
		if ((rc = et_tx_raw_set(tx, k, NULL)) != STORE_OK)
			break;
	}
	json_decref(keys);
	return rc;
}
