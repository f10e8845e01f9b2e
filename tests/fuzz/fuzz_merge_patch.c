// links: server/resource.c server/http.c server/validate.c server/store.c server/store_conn.c server/store_keys.c server/store_token.c server/hmap.c server/write.c server/auth.c server/embedded.c build/gen/embedded.c common/clock.c
/* Fuzzes the RFC 7396 merge patch of PATCH (server/resource.c resource_merge_patch). Input: two
 * JSON texts one after the other, the target and the patch (a lone text patches null). Oracles
 * from RFC 7396 section 2: a patch that is not an object replaces the target; otherwise every
 * member the patch sets to null is absent from the result, every other non-object member is
 * copied as it is, and applying the same patch again changes nothing. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_check.h"
#include "resource.h"

/* Parses one JSON value at the start of data; *used gets the bytes it took. NULL on error. */
static json_t *
load_one(const uint8_t *data, size_t size, size_t *used)
{
	json_error_t jerr;
	json_t *v = json_loadb((const char *)data, size,
			       JSON_DECODE_ANY | JSON_DISABLE_EOF_CHECK | JSON_ALLOW_NUL, &jerr);

	*used = v != NULL ? (size_t)jerr.position : size;
	return v;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t used = 0, used2 = 0;
	json_t *target = load_one(data, size, &used), *patch, *result, *again;
	const char *key;
	json_t *val;

	if (target == NULL)
		return 0;
	patch = load_one(data + used, size - used, &used2);
	if (patch == NULL) {
		patch = target;
		target = json_null();
	}
	result = resource_merge_patch(json_deep_copy(target), patch);
	CHECK(result != NULL);
	if (!json_is_object(patch)) {
		CHECK(json_equal(result, patch));
	} else {
		CHECK(json_is_object(result));
		json_object_foreach(patch, key, val)
		{
			json_t *got = json_object_get(result, key);
			if (json_is_null(val))
				CHECK(got == NULL);
			else if (!json_is_object(val))
				CHECK(got != NULL && json_equal(got, val));
			else
				CHECK(json_is_object(got));
		}
	}
	again = resource_merge_patch(json_deep_copy(result), patch);
	CHECK(json_equal(again, result));
	json_decref(again);
	json_decref(result);
	json_decref(target);
	json_decref(patch);
	return 0;
}
