// links: server/etcd_json.c common/errmsg.c
/* The etcd gateway encoding (server/etcd_json.c), without a cluster: base64 both ways and its bad
 * inputs, prefix ends, int64 fields as strings beyond 2^53 and omitted zeros, KeyValues and range
 * answers as etcd 3.4.23 writes them, request bodies of range/txn, txn answers (a failed one has
 * no "succeeded"), and the mapping of gateway errors to etcd_rc. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <jansson.h>

#include "etcd_json.h"
#include "unit_json.h"

static void
test_b64_round_trips(void **state)
{
	static const char *const plain[] = {"", "f", "fo", "foo", "foob", "fooba", "foobar"};
	static const char *const coded[] = {"",		"Zg==",	    "Zm8=",    "Zm9v",
					    "Zm9vYg==", "Zm9vYmE=", "Zm9vYmFy"};
	size_t i, len;

	(void)state;
	for (i = 0; i < sizeof(plain) / sizeof(plain[0]); i++) {
		char *e = etcd_b64_encode(plain[i], strlen(plain[i]));
		char *d = etcd_b64_decode(coded[i], &len);

		assert_string_equal(e, coded[i]);
		assert_int_equal(len, strlen(plain[i]));
		assert_memory_equal(d, plain[i], len);
		assert_int_equal(d[len], '\0');
		free(e);
		free(d);
	}
}

static void
test_b64_binary_and_bad_input(void **state)
{
	unsigned char bin[256];
	char *e, *d;
	size_t i, len;

	(void)state;
	for (i = 0; i < sizeof(bin); i++)
		bin[i] = (unsigned char)i;
	e = etcd_b64_encode(bin, sizeof(bin));
	d = etcd_b64_decode(e, &len);
	assert_int_equal(len, sizeof(bin));
	assert_memory_equal(d, bin, len);
	free(e);
	free(d);
	assert_null(etcd_b64_decode("Zm9", &len));	/* not a multiple of 4 */
	assert_null(etcd_b64_decode("Zm=v", &len));	/* padding in the middle */
	assert_null(etcd_b64_decode("Zg==Zg==", &len)); /* padding before the end */
	assert_null(etcd_b64_decode("Z!9v", &len));
}

static void
test_prefix_end(void **state)
{
	char *end;
	size_t len;

	(void)state;
	end = etcd_prefix_end("/vigil/", &len);
	assert_int_equal(len, 7);
	assert_memory_equal(end, "/vigil0", 7);
	free(end);
	end = etcd_prefix_end("a\xff\xff", &len);
	assert_int_equal(len, 1);
	assert_memory_equal(end, "b", 1);
	free(end);
	end = etcd_prefix_end("", &len); /* every key */
	assert_int_equal(len, 1);
	assert_int_equal(end[0], '\0');
	free(end);
}

static void
test_int64_fields(void **state)
{
	json_t *j = J("{'id': '7587872632395339020', 'neg': '-5', 'n': 12, 'bad': '12x',"
		      "'f': 1.5, 'empty': ''}");
	int64_t v;

	(void)state;
	assert_int_equal(etcd_json_int64(j, "id", &v), 0);
	assert_true(v == INT64_C(7587872632395339020)); /* beyond 2^53: exact */
	assert_int_equal(etcd_json_int64(j, "neg", &v), 0);
	assert_int_equal(v, -5);
	assert_int_equal(etcd_json_int64(j, "n", &v), 0);
	assert_int_equal(v, 12);
	assert_int_equal(etcd_json_int64(j, "absent", &v), 0); /* zeros are omitted */
	assert_int_equal(v, 0);
	assert_int_equal(etcd_json_int64(j, "bad", &v), -1);
	assert_int_equal(etcd_json_int64(j, "f", &v), -1);
	assert_int_equal(etcd_json_int64(j, "empty", &v), -1);
	assert_int_equal(etcd_json_set_int64(j, "out", INT64_C(9223372036854775807)), 0);
	assert_string_equal(json_string_value(json_object_get(j, "out")), "9223372036854775807");
	json_decref(j);
}

static void
test_range_answer(void **state)
{
	/* as 3.4.23 answers a prefix range with limit 1 (a second key left) */
	json_t *j = J("{'header': {'cluster_id': '15249959819279613727', 'revision': '9',"
		      " 'raft_term': '2'}, 'kvs': [{'key': 'Zm9v', 'create_revision': '2',"
		      " 'mod_revision': '3', 'version': '2', 'value': 'YmF6',"
		      " 'lease': '7587872632395339020'}], 'more': true, 'count': '2'}");
	struct etcd_kvs r;

	(void)state;
	assert_int_equal(etcd_json_kvs(j, &r), 0);
	assert_int_equal(r.rev, 9);
	assert_int_equal(r.count, 2);
	assert_true(r.more);
	assert_int_equal(r.n, 1);
	assert_string_equal(r.kvs[0].key, "foo");
	assert_string_equal(r.kvs[0].value, "baz");
	assert_int_equal(r.kvs[0].value_len, 3);
	assert_int_equal(r.kvs[0].create_rev, 2);
	assert_int_equal(r.kvs[0].mod_rev, 3);
	assert_int_equal(r.kvs[0].version, 2);
	assert_true(r.kvs[0].lease == INT64_C(7587872632395339020));
	etcd_kvs_clear(&r);
	json_decref(j);

	j = J("{'header': {'revision': '9'}}"); /* nothing found: no kvs, no count */
	assert_int_equal(etcd_json_kvs(j, &r), 0);
	assert_int_equal(r.n, 0);
	assert_int_equal(r.count, 0);
	assert_false(r.more);
	etcd_kvs_clear(&r);
	json_decref(j);
}

static void
test_range_request(void **state)
{
	struct etcd_range_opts o = {.prefix = true, .limit = 10, .revision = 5, .keys_only = true};
	json_t *req = etcd_json_range_req("/v/", &o);

	(void)state;
	assert_json(req, "{'key': 'L3Yv', 'range_end': 'L3Yw', 'limit': '10', 'revision': '5',"
			 " 'keys_only': true}");
	json_decref(req);
	o = (struct etcd_range_opts){.range_end = "l", .descending = true};
	req = etcd_json_range_req("k", &o);
	assert_json(req, "{'key': 'aw==', 'range_end': 'bA==', 'sort_order': 'DESCEND'}");
	json_decref(req);
	req = etcd_json_range_req("k", NULL);
	assert_json(req, "{'key': 'aw=='}");
	json_decref(req);
}

static void
test_txn_request(void **state)
{
	struct etcd_cmp cmp[] = {
	    {.key = "k", .target = ETCD_CMP_CREATE, .result = ETCD_CMP_EQUAL, .number = 0},
	    {.key = "k",
	     .target = ETCD_CMP_VALUE,
	     .result = ETCD_CMP_NOT_EQUAL,
	     .value = "v",
	     .value_len = 1},
	    {.key = "r/",
	     .prefix = true,
	     .target = ETCD_CMP_MOD,
	     .result = ETCD_CMP_LESS,
	     .number = 8},
	};
	struct etcd_op ok[] = {{.type = ETCD_OP_PUT,
				.key = "k",
				.value = "v",
				.value_len = 1,
				.lease = INT64_C(7587872632395339020)}};
	struct etcd_op ko[] = {{.type = ETCD_OP_RANGE, .key = "k"},
			       {.type = ETCD_OP_DELETE, .key = "r/", .prefix = true}};
	struct etcd_txn t = {cmp, 3, ok, 1, ko, 2};
	json_t *req = etcd_json_txn_req(&t);

	(void)state;
	assert_json(req,
		    "{'compare': ["
		    "{'key': 'aw==', 'target': 'CREATE', 'result': 'EQUAL',"
		    " 'create_revision': '0'},"
		    "{'key': 'aw==', 'target': 'VALUE', 'result': 'NOT_EQUAL', 'value': 'dg=='},"
		    "{'key': 'ci8=', 'range_end': 'cjA=', 'target': 'MOD', 'result': 'LESS',"
		    " 'mod_revision': '8'}],"
		    " 'success': [{'request_put': {'key': 'aw==', 'value': 'dg==',"
		    " 'lease': '7587872632395339020'}}],"
		    " 'failure': [{'request_range': {'key': 'aw=='}},"
		    " {'request_delete_range': {'key': 'ci8=', 'range_end': 'cjA='}}]}");
	json_decref(req);
}

static void
test_txn_answer(void **state)
{
	/* a failed txn: no "succeeded"; its failure branch's range answered */
	json_t *j = J("{'header': {'revision': '4'}, 'responses': [{'response_range': {'header':"
		      " {'revision': '4'}, 'kvs': [{'key': 'aw==', 'create_revision': '2',"
		      " 'mod_revision': '4', 'version': '3', 'value': 'dg=='}], 'count': '1'}},"
		      " {'response_delete_range': {'header': {'revision': '4'}, 'deleted': '2'}},"
		      " {'response_put': {'header': {'revision': '4'}}}]}");
	struct etcd_txn_result r;

	(void)state;
	assert_int_equal(etcd_json_txn_result(j, &r), 0);
	assert_false(r.succeeded);
	assert_int_equal(r.rev, 4);
	assert_int_equal(r.n_ops, 3);
	assert_int_equal(r.ops[0].type, ETCD_OP_RANGE);
	assert_int_equal(r.ops[0].range.n, 1);
	assert_int_equal(r.ops[0].range.kvs[0].mod_rev, 4);
	assert_int_equal(r.ops[1].type, ETCD_OP_DELETE);
	assert_int_equal(r.ops[1].deleted, 2);
	assert_int_equal(r.ops[2].type, ETCD_OP_PUT);
	etcd_txn_result_clear(&r);
	json_decref(j);
}

static void
test_errors(void **state)
{
	char err[256];
	json_t *j;

	(void)state;
	j = J("{'error': 'etcdserver: mvcc: required revision has been compacted', 'message':"
	      " 'etcdserver: mvcc: required revision has been compacted', 'code': 11}");
	assert_int_equal(etcd_json_error(400, j, err, sizeof(err)), ETCD_COMPACTED);
	json_decref(j);
	j = J("{'error': 'etcdserver: mvcc: required revision is a future revision', 'code': 11}");
	assert_int_equal(etcd_json_error(400, j, err, sizeof(err)), ETCD_ERROR);
	assert_non_null(strstr(err, "future revision"));
	json_decref(j);
	j = J("{'error': 'etcdserver: no leader', 'message': 'etcdserver: no leader', 'code': 14}");
	assert_int_equal(etcd_json_error(503, j, err, sizeof(err)), ETCD_UNAVAILABLE);
	json_decref(j);
	j = J("{'error': {'grpc_code': 14, 'http_code': 503, 'message': 'etcdserver: no leader',"
	      " 'http_status': 'Service Unavailable'}}"); /* inside a stream */
	assert_int_equal(etcd_json_error(0, j, err, sizeof(err)), ETCD_UNAVAILABLE);
	assert_non_null(strstr(err, "no leader"));
	json_decref(j);
	j = J("{'error': 'etcdserver: requested lease not found', 'code': 5}");
	assert_int_equal(etcd_json_error(404, j, err, sizeof(err)), ETCD_NOTFOUND);
	json_decref(j);
	assert_int_equal(etcd_json_error(500, NULL, err, sizeof(err)), ETCD_ERROR);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_b64_round_trips), cmocka_unit_test(test_b64_binary_and_bad_input),
	    cmocka_unit_test(test_prefix_end),	    cmocka_unit_test(test_int64_fields),
	    cmocka_unit_test(test_range_answer),    cmocka_unit_test(test_range_request),
	    cmocka_unit_test(test_txn_request),	    cmocka_unit_test(test_txn_answer),
	    cmocka_unit_test(test_errors),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
