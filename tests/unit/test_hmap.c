// links: server/hmap.c
/* The string-keyed hash map (server/hmap.c): put/get/del/each/free on a few keys, absent keys and
 * the empty map, keys copied on put, and growth across many keys (every key still found, the load
 * kept at or under one per bucket). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "hmap.h"

static void
test_empty_map(void **state)
{
	struct hmap m = {0};
	union hmap_val old = {.i = 42};

	(void)state;
	assert_null(hmap_get(&m, "a"));
	assert_int_equal(hmap_del(&m, "a", &old), -1);
	assert_int_equal(old.i, 42); /* untouched when absent */
	hmap_free(&m, NULL);
	assert_null(m.bucket);
	assert_int_equal(m.n, 0);
}

static void
test_put_get_del(void **state)
{
	struct hmap m = {0};
	union hmap_val *v, old;
	char key[8] = "lb1";

	(void)state;
	v = hmap_put(&m, key);
	assert_non_null(v);
	assert_int_equal(v->i, 0); /* a new slot is zeroed */
	v->i = 7;
	key[2] = '2'; /* the map keeps its own copy of the key */
	assert_null(hmap_get(&m, "lb2"));
	assert_non_null(v = hmap_get(&m, "lb1"));
	assert_int_equal(v->i, 7);
	assert_int_equal(m.n, 1);

	/* put of a present key gives its slot, value kept */
	v = hmap_put(&m, "lb1");
	assert_int_equal(v->i, 7);
	assert_int_equal(m.n, 1);
	hmap_put(&m, "lb2")->i = 8;
	hmap_put(&m, "")->i = 9; /* the empty string is a key like any other */
	assert_int_equal(m.n, 3);
	assert_int_equal(hmap_get(&m, "")->i, 9);
	assert_null(hmap_get(&m, "lb"));
	assert_null(hmap_get(&m, "lb11"));

	/* del hands back the value; a second del finds nothing */
	assert_int_equal(hmap_del(&m, "lb1", &old), 0);
	assert_int_equal(old.i, 7);
	assert_null(hmap_get(&m, "lb1"));
	assert_int_equal(hmap_del(&m, "lb1", &old), -1);
	assert_int_equal(hmap_del(&m, "lb2", NULL), 0);
	assert_int_equal(m.n, 1);
	assert_int_equal(hmap_get(&m, "")->i, 9);

	/* a deleted key can come back, zeroed */
	assert_int_equal(hmap_put(&m, "lb1")->i, 0);
	hmap_free(&m, NULL);
	assert_int_equal(m.n, 0);
	assert_null(hmap_get(&m, "lb1"));
}

struct seen {
	int calls;
	int64_t sum;
	char keys[64];
};

static void
visit(const char *key, union hmap_val *v, void *arg)
{
	struct seen *s = arg;

	s->calls++;
	s->sum += v->i;
	v->i *= 10; /* fn may change values */
	strncat(s->keys, key, sizeof(s->keys) - strlen(s->keys) - 1);
}

static void
test_each(void **state)
{
	struct hmap m = {0};
	struct seen s = {0};

	(void)state;
	hmap_each(&m, visit, &s); /* nothing to visit */
	assert_int_equal(s.calls, 0);
	hmap_put(&m, "a")->i = 1;
	hmap_put(&m, "b")->i = 2;
	hmap_put(&m, "c")->i = 4;
	assert_int_equal(hmap_del(&m, "b", NULL), 0);
	hmap_each(&m, visit, &s);
	assert_int_equal(s.calls, 2);
	assert_int_equal(s.sum, 5);
	assert_int_equal(strlen(s.keys), 2);
	assert_non_null(strchr(s.keys, 'a'));
	assert_non_null(strchr(s.keys, 'c'));
	assert_int_equal(hmap_get(&m, "a")->i, 10);
	assert_int_equal(hmap_get(&m, "c")->i, 40);
	hmap_free(&m, NULL);
}

static int freed;

static void
free_val(union hmap_val *v)
{
	freed++;
	free(v->p);
}

/* hmap_free releases every value through free_val (ASan reports whatever it misses). */
static void
test_free_values(void **state)
{
	struct hmap m = {0};
	char key[16];

	(void)state;
	freed = 0;
	for (int i = 0; i < 100; i++) {
		snprintf(key, sizeof(key), "k%d", i);
		hmap_put(&m, key)->p = strdup(key);
	}
	hmap_free(&m, free_val);
	assert_int_equal(freed, 100);
	assert_int_equal(m.n, 0);
	assert_int_equal(m.nbuckets, 0);
	assert_null(m.bucket);
	/* a freed map is an empty one, ready for use */
	hmap_put(&m, "again")->p = strdup("again");
	assert_string_equal(hmap_get(&m, "again")->p, "again");
	hmap_free(&m, free_val);
	assert_int_equal(freed, 101);
}

static void
test_growth(void **state)
{
	enum { N = 20000 };
	struct hmap m = {0};
	char key[32];
	size_t nb;

	(void)state;
	for (int i = 0; i < N; i++) {
		snprintf(key, sizeof(key), "node/lb%d<vip", i);
		union hmap_val *v = hmap_put(&m, key);
		assert_non_null(v);
		v->i = i;
		assert_true(m.n <= m.nbuckets); /* doubled when the load passes one */
	}
	assert_int_equal(m.n, N);
	nb = m.nbuckets;
	assert_true(nb >= N);
	assert_int_equal(nb & (nb - 1), 0); /* a power of two */
	/* every key survived the rehashes with its value */
	for (int i = 0; i < N; i++) {
		snprintf(key, sizeof(key), "node/lb%d<vip", i);
		union hmap_val *v = hmap_get(&m, key);
		assert_non_null(v);
		assert_int_equal(v->i, i);
	}
	snprintf(key, sizeof(key), "node/lb%d<vip", N);
	assert_null(hmap_get(&m, key));
	/* delete the even ones: the odd ones stay */
	for (int i = 0; i < N; i += 2) {
		snprintf(key, sizeof(key), "node/lb%d<vip", i);
		assert_int_equal(hmap_del(&m, key, NULL), 0);
	}
	assert_int_equal(m.n, N / 2);
	for (int i = 0; i < N; i++) {
		snprintf(key, sizeof(key), "node/lb%d<vip", i);
		if (i % 2 == 0)
			assert_null(hmap_get(&m, key));
		else
			assert_int_equal(hmap_get(&m, key)->i, i);
	}
	hmap_free(&m, NULL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_empty_map), cmocka_unit_test(test_put_get_del),
	    cmocka_unit_test(test_each),      cmocka_unit_test(test_free_values),
	    cmocka_unit_test(test_growth),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
