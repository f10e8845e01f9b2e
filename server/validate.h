/* Field validation for request bodies: each check appends a JSON-Pointer-named error to a list that
 * the HTTP layer turns into one 422 problem. Resource files call these; they never build problems.
 */
#ifndef VIGIL_VALIDATE_H
#define VIGIL_VALIDATE_H

#include <stdbool.h>
#include <stdint.h>
#include <jansson.h>

/* A list of validation errors. Owner: whoever declared it; free with verr_clear(). */
struct verr {
	json_t *list; /* array of {"pointer", "detail"}, NULL while empty */
};

/* Appends an error at pointer (e.g. "/members/0/node"), printf-style detail. */
void verr_add(struct verr *e, const char *pointer, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
bool verr_any(const struct verr *e);
void verr_clear(struct verr *e);
/* Moves the errors of sub (cleared) into e, each pointer prefixed with prefix (e.g. "/members/2").
 */
void verr_nest(struct verr *e, const char *prefix, struct verr *sub);

/* Names of resources: [a-z0-9][a-z0-9-]{0,62}. */
bool valid_name(const char *s);

/*
 * Rejects members of obj that are not in allowed (NULL-terminated); "_links", "_embedded" and
 * "status" are removed from obj silently (server-owned, ignored on input). obj is modified.
 */
void v_only_fields(json_t *obj, const char *const allowed[], struct verr *e);

/*
 * Typed getters. Each looks up key in obj; when absent it stores the default (if has_default) or
 * records "is required" (if required) or leaves *out untouched. Wrong type or range: an error.
 * Return true when a valid value was stored in *out.
 */
bool v_string(json_t *obj, const char *key, bool required, size_t min_len, size_t max_len,
	      const char **out, struct verr *e);
bool v_int(json_t *obj, const char *key, bool required, json_int_t min, json_int_t max,
	   json_int_t dflt, bool has_default, json_int_t *out, struct verr *e);
bool v_bool(json_t *obj, const char *key, bool required, bool dflt, bool has_default, bool *out,
	    struct verr *e);
/* A string that must be one of choices (NULL-terminated). */
bool v_enum(json_t *obj, const char *key, bool required, const char *const choices[],
	    const char *dflt, const char **out, struct verr *e);
/* A resource name (valid_name) field. */
bool v_name_ref(json_t *obj, const char *key, bool required, const char **out, struct verr *e);

/* Does s (len bytes) hold a C0 control character or DEL (NUL included)? */
bool v_has_control(const char *s, size_t len);

/*
 * A script argv at obj[key] (required): an array of 1..max_args strings, each 1..V_SCRIPT_MAX_ARG
 * bytes without control characters, the first the bare name of an executable in the agent's
 * --script-dir ([A-Za-z0-9._-], not "." or ".."). Script checks and VIP notify scripts share these
 * rules; the agent enforces them again (issue 4: the API must not be remote root).
 */
#define V_SCRIPT_MAX_ARG 1024
#define V_SCRIPT_MAX_PROG 255 /* NAME_MAX: the first element is a file name */
void v_script_argv(json_t *obj, const char *key, size_t max_args, struct verr *e);

/* Rewrites obj with its members in the order of fields (NULL-terminated); others are dropped. */
void v_order_fields(json_t *obj, const char *const fields[]);

/* Builds "/key" or "/key/idx" pointers into buf (JSON Pointer escaping of ~ and /). */
const char *v_ptr(char *buf, size_t len, const char *key, int idx);

#endif
