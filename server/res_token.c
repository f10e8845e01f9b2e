/* /tokens: API tokens, admin only. The secret is returned once, in the 201 of the POST that made
 * it; afterwards only its SHA-256 exists. DELETE revokes at once (every request looks it up). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth.h"
#include "resource.h"
#include "router.h"

static json_t *
token_repr(const struct store_token *t)
{
	char ts[40];
	json_t *r =
	    json_pack("{s:s, s:s, s:s, s:s}", "id", t->id, "role", t->role, "description",
		      t->description, "created", http_rfc3339(t->created_ms, ts, sizeof(ts)));

	json_object_set_new(r, "node", t->node[0] ? json_string(t->node) : json_null());
	hal_link(r, "self", "/tokens/%s", t->id);
	hal_link(r, "collection", "/tokens");
	if (t->node[0])
		hal_link(r, "vg:node", "/nodes/%s", t->node);
	hal_add_curies(r);
	return r;
}

static int
tokens_list(struct http_request *req, struct http_response *res)
{
	struct page p;
	struct store_token *toks;
	int n, total;

	if (page_parse(req, res, &p) != 0)
		return -1;
	if ((toks = calloc((size_t)p.limit + 1, sizeof(*toks))) == NULL)
		return http_problem(res, req, 503, "unavailable", "out of memory");
	n = store_token_list(p.after[0] ? p.after : NULL, p.before[0] ? p.before : NULL,
			     p.limit + 1, toks, &total);
	if (n < 0) {
		free(toks);
		return http_problem_store(res, req, n, NULL);
	}
	bool more = n > p.limit;
	int first = more && p.before[0] ? 1 : 0, count = more ? p.limit : n;
	json_t *items = json_array();
	for (int i = first; i < first + count; i++)
		json_array_append_new(items, token_repr(&toks[i]));
	res->body = json_pack("{s:i, s:i, s:{s:o}}", "count", count, "total", total, "_embedded",
			      "tokens", items);
	page_links(res->body, res, "/tokens", &p, count ? toks[first].id : NULL,
		   count ? toks[first + count - 1].id : NULL,
		   count && (p.before[0] ? more : p.after[0] != '\0'),
		   count && (p.before[0] ? true : more));
	hal_add_curies(res->body);
	res->status = 200;
	res->last_modified_ms = store_kind_modified_ms("token");
	if (res->last_modified_ms < http_opts.start_ms)
		res->last_modified_ms = http_opts.start_ms;
	free(toks);
	return 0;
}

static int
tokens_create(struct http_request *req, struct http_response *res)
{
	static const char *const fields[] = {"role", "node", "description", NULL};
	static const char *const roles[] = {"admin", "operator", "viewer", "agent", NULL};
	struct verr e = {0};
	struct store_token t = {0};
	struct store_obj node;
	const char *role = NULL, *nodename = NULL, *desc = "";
	char secret[AUTH_SECRET_LEN + 1];
	unsigned char d[32];
	json_t *body;
	int rc;

	if ((body = http_parse_body(req, res, false)) == NULL)
		return -1;
	v_only_fields(body, fields, &e);
	v_enum(body, "role", true, roles, NULL, &role, &e);
	v_string(body, "description", false, 0, 200, &desc, &e);
	bool agent = role != NULL && strcmp(role, "agent") == 0;
	if (v_name_ref(body, "node", agent, &nodename, &e) && !agent)
		verr_add(&e, "/node", "only agent tokens are bound to a node");
	if (!verr_any(&e) && agent) {
		if (store_get("node", nodename, &node) != STORE_OK)
			verr_add(&e, "/node", "node %s does not exist", nodename);
		store_obj_clear(&node);
	}
	if (verr_any(&e)) {
		json_decref(body);
		return http_problem_validation(res, req, &e);
	}
	snprintf(t.role, sizeof(t.role), "%s", role);
	snprintf(t.node, sizeof(t.node), "%s", agent ? nodename : "");
	snprintf(t.description, sizeof(t.description), "%s", desc);
	json_decref(body);
	t.created_ms = http_now_ms();
	if (auth_new_id(t.id, sizeof(t.id)) != 0 || auth_new_secret(secret, sizeof(secret)) != 0 ||
	    auth_digest(secret, d) != 0)
		return http_problem(res, req, 503, "unavailable", "no randomness available");
	if ((rc = store_write_begin()) != STORE_OK)
		return http_problem_store(res, req, rc, NULL);
	if ((rc = store_token_add(&t, d)) != STORE_OK) {
		store_rollback();
		return http_problem_store(res, req, rc, "the node was deleted meanwhile");
	}
	if ((rc = store_commit()) != STORE_OK)
		return http_problem_store(res, req, rc, NULL);
	res->body = token_repr(&t);
	json_object_set_new(res->body, "secret", json_string(secret));
	res->status = 201;
	char loc[96];
	snprintf(loc, sizeof(loc), "/tokens/%s", t.id);
	res->location = strdup(loc);
	return 0;
}

int
res_tokens(struct http_request *req, struct http_response *res)
{
	if (req->method == HTTP_POST)
		return tokens_create(req, res);
	return tokens_list(req, res);
}

int
res_token(struct http_request *req, struct http_response *res)
{
	const char *id = req->params[0];
	struct store_token t;
	int rc;

	if (strlen(id) >= STORE_NAME_MAX || (rc = store_token_get(id, &t)) == STORE_NOTFOUND)
		return http_problem(res, req, 404, "not-found", "token %s does not exist", id);
	if (rc != STORE_OK)
		return http_problem_store(res, req, rc, NULL);
	if (req->method != HTTP_DELETE) {
		res->body = token_repr(&t);
		res->last_modified_ms = t.created_ms;
		res->status = 200;
		return 0;
	}
	json_t *cur = token_repr(&t);
	char etag[24];
	http_etag_json(cur, etag);
	json_decref(cur);
	if (http_check_write_preconditions(req, res, true, etag) != 0)
		return -1;
	if ((rc = store_write_begin()) != STORE_OK)
		return http_problem_store(res, req, rc, NULL);
	if ((rc = store_token_delete(id)) != STORE_OK) {
		store_rollback();
		return http_problem_store(res, req, rc, NULL);
	}
	if ((rc = store_commit()) != STORE_OK)
		return http_problem_store(res, req, rc, NULL);
	res->status = 204;
	return 0;
}
