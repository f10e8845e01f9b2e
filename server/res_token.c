/* /tokens: API tokens, admin only. The secret is returned once, in the 201 of the POST that made
 * it; afterwards only its SHA-256 exists. DELETE revokes at once (every request looks it up). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth.h"
#include "resource.h"
#include "router.h"
#include "write.h"

static json_t *
token_repr(const struct store_token *t)
{
	char ts[40];
	json_t *r =
	    json_pack("{s:s, s:s, s:s, s:s}", "id", t->id, "role", t->role, "description",
		      t->description, "created", clock_rfc3339(t->created_ms, ts, sizeof(ts)));

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

/* A token write: add t (with digest, answering with secret) or, with digest NULL, revoke t->id. */
struct token_write {
	struct store_token *t;
	const unsigned char *digest;
	const char *secret;
};

static int
token_add_apply(struct write_ctx *w, void *arg)
{
	struct token_write *tw = arg;
	char loc[96];
	int rc;

	if ((rc = store_token_add(w->tx, tw->t, tw->digest)) != STORE_OK) {
		snprintf(w->detail, sizeof(w->detail), "the node was deleted meanwhile");
		return rc;
	}
	w->res->body = token_repr(tw->t);
	json_object_set_new(w->res->body, "secret", json_string(tw->secret));
	w->res->status = 201;
	snprintf(loc, sizeof(loc), "/tokens/%s", tw->t->id);
	w->res->location = strdup(loc);
	return STORE_OK;
}

static const struct write_ops token_add_ops = {NULL, token_add_apply};

/* The current token, read inside the transaction: its ETag for If-Match. */
static int
token_current(struct write_ctx *w, void *arg, bool *exists, char etag[24])
{
	struct token_write *tw = arg;
	int rc = store_token_get(tw->t->id, tw->t);

	(void)w;
	if (rc == STORE_NOTFOUND) {
		http_problem(w->res, w->req, 404, "not-found", "token %s does not exist",
			     tw->t->id);
		return WRITE_ANSWERED;
	}
	if (rc != STORE_OK)
		return rc;
	json_t *cur = token_repr(tw->t);
	http_etag_json(cur, etag);
	json_decref(cur);
	*exists = true;
	return STORE_OK;
}

static int
token_delete_apply(struct write_ctx *w, void *arg)
{
	struct token_write *tw = arg;

	w->res->status = 204;
	return store_token_delete(w->tx, tw->t->id);
}

static const struct write_ops token_delete_ops = {token_current, token_delete_apply};

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
	t.created_ms = clock_wall_ms();
	if (auth_new_id(t.id, sizeof(t.id)) != 0 || auth_new_secret(secret, sizeof(secret)) != 0 ||
	    auth_digest(secret, d) != 0)
		return http_problem(res, req, 503, "unavailable", "no randomness available");
	struct token_write tw = {.t = &t, .digest = d, .secret = secret};
	return write_run(req, res, &token_add_ops, &tw);
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
	struct token_write tw = {.t = &t};
	return write_run(req, res, &token_delete_ops, &tw);
}
