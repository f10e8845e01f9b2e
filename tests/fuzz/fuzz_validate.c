// links: server/router.c server/auth.c server/cache.c server/hmap.c server/http.c server/lease.c server/metrics.c server/res_backend.c server/res_check.c server/res_config.c server/res_event.c server/res_health.c server/res_holder.c server/res_import.c server/import.c server/import_vrrp.c server/import_vrrp_addr.c server/import_vrrp_track.c server/import_vrrp_notify.c server/import_lvs.c server/kaconf.c server/store_import.c server/res_misc.c server/res_node.c server/res_token.c server/res_ui.c server/res_vip.c server/vip_fields.c server/resource.c server/store.c server/store_conn.c server/store_keys.c server/store_token.c server/validate.c server/write.c server/embedded.c build/gen/embedded.c common/addr.c common/errmsg.c common/clock.c
/* Fuzzes each resource's JSON validation (server/res_*.c validate, links, representation) against
 * the template database of tests/fuzz/fuzz_server.h, which it only reads. Input: byte 0 picks the
 * kind (bits 0-1: node lb1, vip web, backend web1, check web1-http) and the write (bits 2-3: a
 * create, a PUT replacing the stored object, a PATCH whose body is merged into the stored spec
 * first); the rest is the JSON body. Oracles: a valid spec declares at most STORE_MAX_REFS
 * references, validates again unchanged (validation is idempotent: its output is canonical), and
 * its representation never shows a write-only member (auth_pass). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_check.h"
#include "fuzz_server.h"
#include "resource.h"

static const struct {
	const struct resource_kind *k;
	const char *name;
} kinds[] = {
    {&res_node_kind, "lb1"},
    {&res_vip_kind, "web"},
    {&res_backend_kind, "web1"},
    {&res_check_kind, "web1-http"},
};

/* Validates spec (in place) as resource.c does before a write; returns true when valid. */
static bool
validate(const struct resource_kind *k, const char *name, json_t *spec, const json_t *old)
{
	struct verr e = {0};
	json_t *n = json_object_get(spec, "name");
	bool ok;

	if (n != NULL && (!json_is_string(n) || strcmp(json_string_value(n), name) != 0))
		verr_add(&e, "/name", "must equal the name in the URL");
	json_object_del(spec, "name");
	k->validate(spec, name, old, &e);
	ok = !verr_any(&e);
	if (getenv("FUZZ_TRACE") != NULL) { /* to check what the seeds reach */
		char *t = e.list ? json_dumps(e.list, 0) : NULL;
		fprintf(stderr, "%s %s: %s\n", k->kind, name, t ? t : "valid");
		free(t);
	}
	if (!ok) { /* the problem the client would get */
		struct http_request req = {.method = HTTP_PUT, .method_name = "PUT", .path = "/x"};
		struct http_response res = {0};
		http_problem_validation(&res, &req, &e);
		CHECK(res.status == 422);
		http_response_clear(&res);
	}
	verr_clear(&e);
	return ok;
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fz_server_init();
	fz_server_open();
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const struct resource_kind *k;
	const char *name;
	struct store_obj old = {0};
	json_t *spec, *again;
	unsigned mode;

	if (size < 1 || size > 16 * 1024)
		return 0;
	k = kinds[data[0] & 3].k;
	name = kinds[data[0] & 3].name;
	mode = (data[0] >> 2) & 3;
	/* the body as the server parses it (copied: its exact length plus the NUL it adds) */
	char *body = malloc(size);
	struct http_request req = {.method = HTTP_PUT, .method_name = "PUT", .path = "/x"};
	struct http_response res = {0};
	memcpy(body, data + 1, size - 1);
	body[size - 1] = '\0';
	req.body = body;
	req.body_len = size - 1;
	req.content_type = mode >= 2 ? MT_MERGE_PATCH : MT_JSON;
	spec = http_parse_body(&req, &res, mode >= 2);
	http_response_clear(&res);
	free(body);
	if (spec == NULL)
		return 0;
	if (mode != 0)
		CHECK(store_get(k->kind, name, &old) == STORE_OK);
	if (mode >= 2) { /* PATCH: the body merges into the stored spec, validated without old */
		json_t *merged = json_deep_copy(old.spec);
		json_object_del(spec, "_links");
		json_object_del(spec, "_embedded");
		json_object_del(spec, "status");
		json_object_set_new(merged, "name", json_string(name));
		json_t *patched = resource_merge_patch(merged, spec);
		json_decref(spec);
		spec = patched;
	}
	if (validate(k, name, spec, mode == 1 ? old.spec : NULL)) {
		struct store_links links;
		char scratch[2048];
		memset(&links, 0, sizeof(links));
		if (k->links)
			k->links(spec, &links, scratch, sizeof(scratch));
		CHECK(links.n_refs >= 0 && links.n_refs <= STORE_MAX_REFS);
		CHECK(links.n_uniques >= 0 && links.n_uniques <= STORE_MAX_UNIQUES);

		again = json_deep_copy(spec);
		CHECK(validate(k, name, again, NULL));
		CHECK(json_equal(again, spec));
		json_decref(again);

		struct store_obj obj = {.spec = spec, .mod_rev = 1, .create_rev = 1};
		struct principal who = {.role = ROLE_ADMIN};
		snprintf(obj.kind, sizeof(obj.kind), "%s", k->kind);
		snprintf(obj.name, sizeof(obj.name), "%s", name);
		json_t *repr = resource_represent(k, &obj, &who);
		CHECK(json_object_get(repr, "auth_pass") == NULL);
		char etag[24];
		http_etag_json(repr, etag);
		json_decref(repr);
	}
	json_decref(spec);
	store_obj_clear(&old);
	cache_clear();
	return 0;
}
