/* Field validators: each records a problem at a JSON Pointer instead of failing fast, so one 422
 * names every bad field at once. Defaults are written into the object, so a valid spec is complete.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "validate.h"

void
verr_add(struct verr *e, const char *pointer, const char *fmt, ...)
{
	char detail[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(detail, sizeof(detail), fmt, ap);
	va_end(ap);
	if (e->list == NULL)
		e->list = json_array();
	json_array_append_new(e->list,
			      json_pack("{s:s, s:s}", "pointer", pointer, "detail", detail));
}

bool
verr_any(const struct verr *e)
{
	return e->list != NULL && json_array_size(e->list) > 0;
}

void
verr_clear(struct verr *e)
{
	json_decref(e->list);
	e->list = NULL;
}

void
verr_nest(struct verr *e, const char *prefix, struct verr *sub)
{
	char ptr[320];
	size_t i;
	json_t *item;

	json_array_foreach(sub->list, i, item)
	{
		const char *p = json_string_value(json_object_get(item, "pointer"));
		const char *detail = json_string_value(json_object_get(item, "detail"));

		snprintf(ptr, sizeof(ptr), "%s%s", prefix, p ? p : "");
		verr_add(e, ptr, "%s", detail ? detail : "is invalid");
	}
	verr_clear(sub);
}

bool
valid_name(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > 63)
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || (c == '-' && i > 0);
		if (!ok)
			return false;
	}
	return true;
}

const char *
v_ptr(char *buf, size_t len, const char *key, int idx)
{
	size_t o = 0;

	if (len == 0)
		return buf;
	buf[o++] = '/';
	for (const char *p = key; *p != '\0' && o + 3 < len; p++) {
		if (*p == '~') {
			buf[o++] = '~';
			buf[o++] = '0';
		} else if (*p == '/') {
			buf[o++] = '~';
			buf[o++] = '1';
		} else {
			buf[o++] = *p;
		}
	}
	buf[o] = '\0';
	if (idx >= 0)
		snprintf(buf + o, len - o, "/%d", idx);
	return buf;
}

void
v_only_fields(json_t *obj, const char *const allowed[], struct verr *e)
{
	const char *key;
	json_t *val;
	void *tmp;
	char ptr[160];

	json_object_foreach_safe(obj, tmp, key, val)
	{
		if (strcmp(key, "_links") == 0 || strcmp(key, "_embedded") == 0 ||
		    strcmp(key, "status") == 0) {
			json_object_del(obj, key);
			continue;
		}
		bool ok = false;
		for (int i = 0; allowed[i] != NULL; i++)
			if (strcmp(allowed[i], key) == 0)
				ok = true;
		if (!ok)
			verr_add(e, v_ptr(ptr, sizeof(ptr), key, -1), "unknown field");
	}
}

/* Looks key up; records "required" when absent and required. Returns NULL when absent. */
static json_t *
lookup(json_t *obj, const char *key, bool required, struct verr *e)
{
	char ptr[160];
	json_t *v = json_object_get(obj, key);

	if (v == NULL && required)
		verr_add(e, v_ptr(ptr, sizeof(ptr), key, -1), "is required");
	return v;
}

bool
v_string(json_t *obj, const char *key, bool required, size_t min_len, size_t max_len,
	 const char **out, struct verr *e)
{
	char ptr[160];
	json_t *v = lookup(obj, key, required, e);

	if (v == NULL)
		return false;
	v_ptr(ptr, sizeof(ptr), key, -1);
	if (!json_is_string(v)) {
		verr_add(e, ptr, "must be a string");
		return false;
	}
	size_t n = json_string_length(v);
	if (n < min_len || n > max_len) {
		verr_add(e, ptr, "must be %zu to %zu characters long", min_len, max_len);
		return false;
	}
	*out = json_string_value(v);
	return true;
}

bool
v_int(json_t *obj, const char *key, bool required, json_int_t min, json_int_t max, json_int_t dflt,
      bool has_default, json_int_t *out, struct verr *e)
{
	char ptr[160];
	json_t *v = lookup(obj, key, required && !has_default, e);

	if (v == NULL) {
		if (!has_default)
			return false;
		json_object_set_new(obj, key, json_integer(dflt));
		*out = dflt;
		return true;
	}
	v_ptr(ptr, sizeof(ptr), key, -1);
	if (!json_is_integer(v)) {
		verr_add(e, ptr, "must be an integer");
		return false;
	}
	json_int_t n = json_integer_value(v);
	if (n < min || n > max) {
		verr_add(e, ptr, "must be between %lld and %lld", (long long)min, (long long)max);
		return false;
	}
	*out = n;
	return true;
}

bool
v_bool(json_t *obj, const char *key, bool required, bool dflt, bool has_default, bool *out,
       struct verr *e)
{
	char ptr[160];
	json_t *v = lookup(obj, key, required && !has_default, e);

	if (v == NULL) {
		if (!has_default)
			return false;
		json_object_set_new(obj, key, json_boolean(dflt));
		*out = dflt;
		return true;
	}
	if (!json_is_boolean(v)) {
		verr_add(e, v_ptr(ptr, sizeof(ptr), key, -1), "must be true or false");
		return false;
	}
	*out = json_is_true(v);
	return true;
}

bool
v_enum(json_t *obj, const char *key, bool required, const char *const choices[], const char *dflt,
       const char **out, struct verr *e)
{
	char ptr[160], list[200] = "";
	json_t *v = lookup(obj, key, required && dflt == NULL, e);

	if (v == NULL) {
		if (dflt == NULL)
			return false;
		json_object_set_new(obj, key, json_string(dflt));
		*out = dflt;
		return true;
	}
	for (int i = 0; choices[i] != NULL; i++) {
		if (json_is_string(v) && strcmp(json_string_value(v), choices[i]) == 0) {
			*out = choices[i];
			return true;
		}
		snprintf(list + strlen(list), sizeof(list) - strlen(list), "%s%s", i ? ", " : "",
			 choices[i]);
	}
	verr_add(e, v_ptr(ptr, sizeof(ptr), key, -1), "must be one of: %s", list);
	return false;
}

bool
v_name_ref(json_t *obj, const char *key, bool required, const char **out, struct verr *e)
{
	char ptr[160];
	const char *s;

	if (!v_string(obj, key, required, 1, 63, &s, e))
		return false;
	if (!valid_name(s)) {
		verr_add(
		    e, v_ptr(ptr, sizeof(ptr), key, -1),
		    "must be a name: lowercase letters, digits and '-', not starting with '-'");
		return false;
	}
	*out = s;
	return true;
}

void
v_order_fields(json_t *obj, const char *const fields[])
{
	json_t *sorted = json_object();

	for (const char *const *f = fields; *f != NULL; f++) {
		json_t *v = json_object_get(obj, *f);
		if (v != NULL)
			json_object_set(sorted, *f, v);
	}
	json_object_clear(obj);
	json_object_update(obj, sorted);
	json_decref(sorted);
}

bool
v_has_control(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			return true;
	return false;
}

/* The program is a bare file name in the agent's --script-dir: no '/', not "." or "..". */
static bool
valid_program(const char *s)
{
	if (strcmp(s, ".") == 0 || strcmp(s, "..") == 0)
		return false;
	for (; *s != '\0'; s++) {
		char c = *s;
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '.' || c == '_' || c == '-'))
			return false;
	}
	return true;
}

void
v_script_argv(json_t *obj, const char *key, size_t max_args, struct verr *e)
{
	json_t *argv = json_object_get(obj, key), *arg;
	char ptr[160];
	size_t i;

	v_ptr(ptr, sizeof(ptr), key, -1);
	if (argv == NULL) {
		verr_add(e, ptr, "is required");
		return;
	}
	if (!json_is_array(argv) || json_array_size(argv) < 1 || json_array_size(argv) > max_args) {
		verr_add(e, ptr, "must be an array of 1 to %zu strings", max_args);
		return;
	}
	json_array_foreach(argv, i, arg)
	{
		v_ptr(ptr, sizeof(ptr), key, (int)i);
		if (!json_is_string(arg)) {
			verr_add(e, ptr, "must be a string");
			continue;
		}
		const char *s = json_string_value(arg);
		size_t len = json_string_length(arg);
		if (len < 1 || len > V_SCRIPT_MAX_ARG) {
			verr_add(e, ptr, "must be 1 to %d characters long", V_SCRIPT_MAX_ARG);
			continue;
		}
		if (v_has_control(s, len)) {
			verr_add(e, ptr, "must not contain control characters");
			continue;
		}
		if (i == 0 && (len > V_SCRIPT_MAX_PROG || !valid_program(s)))
			verr_add(e, ptr,
				 "must be the bare name of an executable in the agent's script "
				 "directory ([A-Za-z0-9._-], at most %d characters, no '/')",
				 V_SCRIPT_MAX_PROG);
	}
}
