/* Internal to the etcd client (etcd.c) and its unit test: the JSON gateway's encoding, pure (no
 * I/O). Keys and values are base64, int64 fields are JSON strings, zero/false fields are omitted.
 * Nothing outside server/etcd*.c includes this. */
#ifndef VIGIL_ETCD_JSON_H
#define VIGIL_ETCD_JSON_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "etcd.h"

/* Base64 (RFC 4648 section 4, padded). encode: a new NUL-terminated string (caller frees), NULL
 * when out of memory. decode: a new buffer of *len bytes plus a NUL (caller frees), NULL on bad
 * input or no memory. */
char *etcd_b64_encode(const void *data, size_t len);
char *etcd_b64_decode(const char *s, size_t *len);

/* The end of the range of every key that starts with key: key with its last byte that is not 0xff
 * incremented and what follows dropped; for "" (or all 0xff) the single byte 0, which etcd reads as
 * "every key". A new buffer of *len bytes (caller frees), NULL when out of memory. */
char *etcd_prefix_end(const char *key, size_t *len);

/* An int64 field of obj (borrowed): a JSON string of digits, or an integer. An absent field is 0
 * (the gateway omits zeros). Returns 0, or -1 when present but not an int64. Never via double. */
int etcd_json_int64(const json_t *obj, const char *field, int64_t *out);

/* Sets field of obj to the int64 v as a JSON string (as the gateway writes them). 0 or -1. */
int etcd_json_set_int64(json_t *obj, const char *field, int64_t v);
/* Sets field of obj to base64 of data. 0 or -1. */
int etcd_json_set_b64(json_t *obj, const char *field, const void *data, size_t len);

/* Fills kv from a gateway KeyValue (borrowed); kv owns what it gets (etcd_kv_clear), also on error.
 * Returns 0 or -1. */
int etcd_json_kv(const json_t *j, struct etcd_kv *kv);
/* Fills out from a RangeResponse (borrowed); out owns what it gets. 0 or -1. */
int etcd_json_kvs(const json_t *j, struct etcd_kvs *out);

/* Request bodies: new references (caller decrefs), NULL when out of memory. */
json_t *etcd_json_range_req(const char *key, const struct etcd_range_opts *o);
json_t *etcd_json_op(const struct etcd_op *op);
json_t *etcd_json_cmp(const struct etcd_cmp *cmp);
json_t *etcd_json_txn_req(const struct etcd_txn *t);
/* Fills out from a TxnResponse (borrowed); out owns what it gets. 0 or -1. */
int etcd_json_txn_result(const json_t *j, struct etcd_txn_result *out);

/*
 * Maps a gateway error to an etcd_rc: http is the status, body the parsed answer (borrowed, may be
 * NULL). Both shapes are read: {"error": "...", "code": N} from unary calls and
 * {"error": {"grpc_code": N, "message": "..."}} inside a stream. gRPC 5 (not found) is
 * ETCD_NOTFOUND, 11 with "compacted" ETCD_COMPACTED, 14 (unavailable: no leader, timed out)
 * ETCD_UNAVAILABLE, anything else ETCD_ERROR. Writes the message into err.
 */
int etcd_json_error(long http, const json_t *body, char *err, size_t errlen);

#endif
