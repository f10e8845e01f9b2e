/* JSON helpers shared by the unit tests (include after cmocka.h and jansson.h). */
#ifndef VIGIL_UNIT_JSON_H
#define VIGIL_UNIT_JSON_H

#include <stdlib.h>
#include <string.h>

/* Parses JSON written with ' for " (readability); fails the test on a syntax error. */
static inline json_t *
J(const char *text)
{
	char *s = strdup(text);
	json_error_t err;
	json_t *v;

	for (char *p = s; *p != '\0'; p++)
		if (*p == '\'')
			*p = '"';
	v = json_loads(s, 0, &err);
	if (v == NULL)
		fail_msg("bad test JSON %s: %s", s, err.text);
	free(s);
	return v;
}

/* Asserts that v is exactly want (in J's notation). */
static inline void
assert_json(const json_t *v, const char *want)
{
	json_t *w = J(want);

	if (!json_equal(v, w)) {
		char *got = v ? json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY) : strdup("NULL");
		fail_msg("got %s, want %s", got, want);
	}
	json_decref(w);
}

#endif
