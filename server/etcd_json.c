/* The etcd JSON gateway's encoding (see etcd_json.h): base64, int64-as-string, KeyValues, the
 * request bodies of range and txn, and error answers. Pure: no I/O, unit-tested. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "errmsg.h"
#include "etcd_json.h"

static const char b64_alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

char *
etcd_b64_encode(const void *data, size_t len)
{
	const unsigned char *p = data;
	char *out = malloc((len + 2) / 3 * 4 + 1);
	size_t i, o = 0;

	if (out == NULL)
		return NULL;
	for (i = 0; i + 2 < len; i += 3) {
		out[o++] = b64_alphabet[p[i] >> 2];
		out[o++] = b64_alphabet[(p[i] & 3) << 4 | p[i + 1] >> 4];
		out[o++] = b64_alphabet[(p[i + 1] & 15) << 2 | p[i + 2] >> 6];
		out[o++] = b64_alphabet[p[i + 2] & 63];
	}
	if (i < len) {
		out[o++] = b64_alphabet[p[i] >> 2];
		if (i + 1 < len) {
			out[o++] = b64_alphabet[(p[i] & 3) << 4 | p[i + 1] >> 4];
			out[o++] = b64_alphabet[(p[i + 1] & 15) << 2];
		} else {
			out[o++] = b64_alphabet[(p[i] & 3) << 4];
			out[o++] = '=';
		}
		out[o++] = '=';
	}
	out[o] = '\0';
	return out;
}

static int
b64_value(char c)
{
	const char *at = c != '\0' ? strchr(b64_alphabet, c) : NULL;

	return at != NULL ? (int)(at - b64_alphabet) : -1;
}

char *
etcd_b64_decode(const char *s, size_t *len)
{
	size_t n = strlen(s), i, o = 0;
	char *out;

	if (n % 4 != 0)
		return NULL;
	out = malloc(n / 4 * 3 + 1);
	if (out == NULL)
		return NULL;
	for (i = 0; i < n; i += 4) {
		int a = b64_value(s[i]), b = b64_value(s[i + 1]);
		int c = b64_value(s[i + 2]), d = b64_value(s[i + 3]);
		bool last = i + 4 == n;

		if (a < 0 || b < 0)
			goto bad;
		if (c < 0 && !(last && s[i + 2] == '=' && s[i + 3] == '='))
			goto bad;
		if (d < 0 && !(last && s[i + 3] == '='))
			goto bad;
		out[o++] = (char)(a << 2 | b >> 4);
		if (c >= 0)
			out[o++] = (char)((b & 15) << 4 | c >> 2);
		if (c >= 0 && d >= 0)
			out[o++] = (char)((c & 3) << 6 | d);
	}
	out[o] = '\0';
	*len = o;
	return out;
bad:
	free(out);
	return NULL;
}

char *
etcd_prefix_end(const char *key, size_t *len)
{
	size_t n = strlen(key);
	char *end;

	while (n > 0 && (unsigned char)key[n - 1] == 0xff)
		n--;
	end = malloc(n > 0 ? n : 1);
	if (end == NULL)
		return NULL;
	if (n == 0) {
		end[0] = '\0';
		*len = 1;
		return end;
	}
	memcpy(end, key, n);
	end[n - 1] = (char)((unsigned char)end[n - 1] + 1);
	*len = n;
	return end;
}

int
etcd_json_int64(const json_t *obj, const char *field, int64_t *out)
{
	const json_t *v = json_object_get(obj, field);
	const char *s;
	char *end;
	long long n;

	*out = 0;
	if (v == NULL || json_is_null(v))
		return 0;
	if (json_is_integer(v)) {
		*out = json_integer_value(v);
		return 0;
	}
	if (!json_is_string(v))
		return -1;
	s = json_string_value(v);
	errno = 0;
	n = strtoll(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0')
		return -1;
	*out = n;
	return 0;
}

int
etcd_json_set_int64(json_t *obj, const char *field, int64_t v)
{
	char buf[24];

	snprintf(buf, sizeof(buf), "%lld", (long long)v);
	return json_object_set_new(obj, field, json_string(buf));
}

int
etcd_json_set_b64(json_t *obj, const char *field, const void *data, size_t len)
{
	char *s = etcd_b64_encode(data, len);
	int rc;

	if (s == NULL)
		return -1;
	rc = json_object_set_new(obj, field, json_string(s));
	free(s);
	return rc;
}

/* Decodes the base64 field of j into a new NUL-terminated buffer (*out, caller frees); an absent
 * field is the empty string. */
static int
b64_field(const json_t *j, const char *field, char **out, size_t *len)
{
	const char *s = json_string_value(json_object_get(j, field));
	size_t n = 0;

	*out = etcd_b64_decode(s != NULL ? s : "", &n);
	if (len != NULL)
		*len = n;
	return *out != NULL ? 0 : -1;
}

void
etcd_kv_clear(struct etcd_kv *kv)
{
	free(kv->key);
	free(kv->value);
	memset(kv, 0, sizeof(*kv));
}

void
etcd_kvs_clear(struct etcd_kvs *r)
{
	size_t i;

	for (i = 0; i < r->n; i++)
		etcd_kv_clear(&r->kvs[i]);
	free(r->kvs);
	memset(r, 0, sizeof(*r));
}

void
etcd_txn_result_clear(struct etcd_txn_result *r)
{
	size_t i;

	for (i = 0; i < r->n_ops; i++)
		etcd_kvs_clear(&r->ops[i].range);
	free(r->ops);
	memset(r, 0, sizeof(*r));
}

int
etcd_json_kv(const json_t *j, struct etcd_kv *kv)
{
	memset(kv, 0, sizeof(*kv));
	if (!json_is_object(j))
		return -1;
	if (b64_field(j, "key", &kv->key, NULL) < 0 ||
	    b64_field(j, "value", &kv->value, &kv->value_len) < 0)
		return -1;
	if (etcd_json_int64(j, "create_revision", &kv->create_rev) < 0 ||
	    etcd_json_int64(j, "mod_revision", &kv->mod_rev) < 0 ||
	    etcd_json_int64(j, "version", &kv->version) < 0 ||
	    etcd_json_int64(j, "lease", &kv->lease) < 0)
		return -1;
	return 0;
}

int
etcd_json_kvs(const json_t *j, struct etcd_kvs *out)
{
	const json_t *arr = json_object_get(j, "kvs");
	size_t i, n = json_array_size(arr);

	memset(out, 0, sizeof(*out));
	if (etcd_json_int64(json_object_get(j, "header"), "revision", &out->rev) < 0 ||
	    etcd_json_int64(j, "count", &out->count) < 0)
		return -1;
	out->more = json_is_true(json_object_get(j, "more"));
	if (n == 0)
		return 0;
	out->kvs = calloc(n, sizeof(*out->kvs));
	if (out->kvs == NULL)
		return -1;
	for (i = 0; i < n; i++) {
		out->n++;
		if (etcd_json_kv(json_array_get(arr, i), &out->kvs[i]) < 0)
			return -1;
	}
	return 0;
}

/* Sets "key" and, for a prefix or an explicit end, "range_end" on req. */
static int
set_range(json_t *req, const char *key, const char *range_end, bool prefix)
{
	char *end;
	size_t len;
	int rc;

	if (etcd_json_set_b64(req, "key", key, strlen(key)) < 0)
		return -1;
	if (range_end != NULL)
		return etcd_json_set_b64(req, "range_end", range_end, strlen(range_end));
	if (!prefix)
		return 0;
	end = etcd_prefix_end(key, &len);
	if (end == NULL)
		return -1;
	rc = etcd_json_set_b64(req, "range_end", end, len);
	free(end);
	return rc;
}

json_t *
etcd_json_range_req(const char *key, const struct etcd_range_opts *o)
{
	static const struct etcd_range_opts none;
	json_t *req = json_object();
	int rc;

	if (req == NULL)
		return NULL;
	if (o == NULL)
		o = &none;
	rc = set_range(req, key, o->range_end, o->prefix);
	if (rc == 0 && o->limit > 0)
		rc = etcd_json_set_int64(req, "limit", o->limit);
	if (rc == 0 && o->revision > 0)
		rc = etcd_json_set_int64(req, "revision", o->revision);
	if (rc == 0 && o->keys_only)
		rc = json_object_set_new(req, "keys_only", json_true());
	if (rc == 0 && o->count_only)
		rc = json_object_set_new(req, "count_only", json_true());
	if (rc == 0 && o->serializable)
		rc = json_object_set_new(req, "serializable", json_true());
	if (rc == 0 && o->descending)
		rc = json_object_set_new(req, "sort_order", json_string("DESCEND"));
	if (rc < 0) {
		json_decref(req);
		return NULL;
	}
	return req;
}

json_t *
etcd_json_op(const struct etcd_op *op)
{
	static const char *const wrapper[] = {
	    [ETCD_OP_RANGE] = "request_range",
	    [ETCD_OP_PUT] = "request_put",
	    [ETCD_OP_DELETE] = "request_delete_range",
	};
	json_t *inner = json_object(), *outer = json_object();
	int rc = inner != NULL && outer != NULL ? 0 : -1;

	if (rc == 0)
		rc = set_range(inner, op->key, NULL, op->type != ETCD_OP_PUT && op->prefix);
	if (rc == 0 && op->type == ETCD_OP_PUT)
		rc = etcd_json_set_b64(inner, "value", op->value != NULL ? op->value : "",
				       op->value_len);
	if (rc == 0 && op->type == ETCD_OP_PUT && op->lease != 0)
		rc = etcd_json_set_int64(inner, "lease", op->lease);
	if (rc == 0)
		rc = json_object_set(outer, wrapper[op->type], inner);
	json_decref(inner);
	if (rc < 0) {
		json_decref(outer);
		return NULL;
	}
	return outer;
}

json_t *
etcd_json_cmp(const struct etcd_cmp *cmp)
{
	static const char *const target[] = {
	    [ETCD_CMP_VERSION] = "VERSION", [ETCD_CMP_CREATE] = "CREATE", [ETCD_CMP_MOD] = "MOD",
	    [ETCD_CMP_VALUE] = "VALUE",	    [ETCD_CMP_LEASE] = "LEASE",
	};
	static const char *const field[] = {
	    [ETCD_CMP_VERSION] = "version",  [ETCD_CMP_CREATE] = "create_revision",
	    [ETCD_CMP_MOD] = "mod_revision", [ETCD_CMP_VALUE] = "value",
	    [ETCD_CMP_LEASE] = "lease",
	};
	static const char *const result[] = {
	    [ETCD_CMP_EQUAL] = "EQUAL",
	    [ETCD_CMP_GREATER] = "GREATER",
	    [ETCD_CMP_LESS] = "LESS",
	    [ETCD_CMP_NOT_EQUAL] = "NOT_EQUAL",
	};
	json_t *j = json_object();
	int rc = j != NULL ? 0 : -1;

	if (rc == 0)
		rc = set_range(j, cmp->key, NULL, cmp->prefix);
	if (rc == 0)
		rc = json_object_set_new(j, "target", json_string(target[cmp->target]));
	if (rc == 0)
		rc = json_object_set_new(j, "result", json_string(result[cmp->result]));
	if (rc == 0 && cmp->target == ETCD_CMP_VALUE)
		rc = etcd_json_set_b64(j, field[cmp->target], cmp->value != NULL ? cmp->value : "",
				       cmp->value_len);
	else if (rc == 0)
		rc = etcd_json_set_int64(j, field[cmp->target], cmp->number);
	if (rc < 0) {
		json_decref(j);
		return NULL;
	}
	return j;
}

/* Appends to a new array under name in req the JSON of n items made by fn. */
static int
set_array(json_t *req, const char *name, const void *items, size_t size, size_t n,
	  json_t *(*fn)(const void *))
{
	json_t *arr = json_array();
	size_t i;

	if (arr == NULL || json_object_set_new(req, name, arr) < 0)
		return -1;
	for (i = 0; i < n; i++)
		if (json_array_append_new(arr, fn((const char *)items + i * size)) < 0)
			return -1;
	return 0;
}

static json_t *
op_json(const void *op)
{
	return etcd_json_op(op);
}

static json_t *
cmp_json(const void *cmp)
{
	return etcd_json_cmp(cmp);
}

json_t *
etcd_json_txn_req(const struct etcd_txn *t)
{
	json_t *req = json_object();

	if (req == NULL)
		return NULL;
	if (set_array(req, "compare", t->cmp, sizeof(*t->cmp), t->n_cmp, cmp_json) < 0 ||
	    set_array(req, "success", t->success, sizeof(*t->success), t->n_success, op_json) < 0 ||
	    set_array(req, "failure", t->failure, sizeof(*t->failure), t->n_failure, op_json) < 0) {
		json_decref(req);
		return NULL;
	}
	return req;
}

/* One ResponseOp (borrowed) into r. */
static int
op_result(const json_t *j, struct etcd_op_result *r)
{
	const json_t *v;

	if ((v = json_object_get(j, "response_range")) != NULL) {
		r->type = ETCD_OP_RANGE;
		return etcd_json_kvs(v, &r->range);
	}
	if ((v = json_object_get(j, "response_delete_range")) != NULL) {
		r->type = ETCD_OP_DELETE;
		return etcd_json_int64(v, "deleted", &r->deleted);
	}
	if (json_object_get(j, "response_put") != NULL) {
		r->type = ETCD_OP_PUT;
		return 0;
	}
	return -1;
}

int
etcd_json_txn_result(const json_t *j, struct etcd_txn_result *out)
{
	const json_t *arr = json_object_get(j, "responses");
	size_t i, n = json_array_size(arr);

	memset(out, 0, sizeof(*out));
	out->succeeded = json_is_true(json_object_get(j, "succeeded"));
	if (etcd_json_int64(json_object_get(j, "header"), "revision", &out->rev) < 0)
		return -1;
	if (n == 0)
		return 0;
	out->ops = calloc(n, sizeof(*out->ops));
	if (out->ops == NULL)
		return -1;
	for (i = 0; i < n; i++) {
		out->n_ops++;
		if (op_result(json_array_get(arr, i), &out->ops[i]) < 0)
			return -1;
	}
	return 0;
}

int
etcd_json_error(long http, const json_t *body, char *err, size_t errlen)
{
	const json_t *e = json_object_get(body, "error");
	const char *msg;
	int64_t code = 0;

	if (json_is_object(e)) { /* a stream's error: {"error": {"grpc_code", "message"}} */
		msg = json_string_value(json_object_get(e, "message"));
		etcd_json_int64(e, "grpc_code", &code);
	} else {
		msg = json_string_value(json_object_get(body, "message"));
		if (msg == NULL)
			msg = json_string_value(e);
		etcd_json_int64(body, "code", &code);
	}
	if (msg == NULL)
		msg = "no message";
	if (code == 5 || (code == 0 && http == 404))
		return errmsg(err, errlen, ETCD_NOTFOUND, "not found: %s", msg);
	if (code == 11 && strstr(msg, "compacted") != NULL)
		return errmsg(err, errlen, ETCD_COMPACTED, "compacted: %s", msg);
	if (code == 14 || (code == 0 && http == 503))
		return errmsg(err, errlen, ETCD_UNAVAILABLE, "unavailable: %s", msg);
	return errmsg(err, errlen, ETCD_ERROR, "etcd (http %ld, code %lld): %s", http,
		      (long long)code, msg);
}
