/* /vips/{name}/holder: who holds a VIP, and manual moves. The move request lives in the VIP's
 * server-owned status (requested, move_id, move_done); agents read it through their config and
 * carry each move_id out once. A move is desired state: it lasts until replaced or deleted. */
#include <stdio.h>
#include <string.h>

#include "http.h"
#include "res_vip.h"
#include "store.h"
#include "validate.h"

#define HOLDER_METHODS (HTTP_GET | HTTP_HEAD | HTTP_PUT | HTTP_DELETE | HTTP_OPTIONS)

/*
 * The holder representation of VIP name from its status (borrowed, may be NULL):
 * {node, requested, state, move_id, _links}. Caller owns the result.
 */
static json_t *
holder_repr(const char *name, const json_t *status)
{
	json_t *holder = json_object_get(status, "holder");
	json_t *requested = json_object_get(status, "requested");
	json_int_t move_id = json_integer_value(json_object_get(status, "move_id"));
	json_int_t move_done = json_integer_value(json_object_get(status, "move_done"));
	const char *state;
	json_t *repr;

	if (json_is_string(requested) && move_done < move_id)
		state = "moving";
	else if (json_is_string(holder))
		state = "settled";
	else
		state = "unheld";
	repr =
	    json_pack("{s:O, s:O, s:s, s:I}", "node", json_is_string(holder) ? holder : json_null(),
		      "requested", json_is_string(requested) ? requested : json_null(), "state",
		      state, "move_id", move_id);
	hal_link(repr, "self", "/vips/%s/holder", name);
	hal_link(repr, "vg:vip", "/vips/%s", name);
	hal_add_curies(repr);
	return repr;
}

static int
holder_get(struct http_request *req, struct http_response *res, const char *name)
{
	struct store_obj vip = {0};
	int rc;

	if ((rc = store_get("vip", name, &vip)) != STORE_OK)
		return http_problem_store(res, req, rc, "no such VIP");
	res->status = 200;
	res->body = holder_repr(name, vip.status);
	http_etag_json(res->body, res->etag);
	res->last_modified_ms = vip.modified_ms;
	store_obj_clear(&vip);
	return 0;
}

/* Is node a member of the VIP spec (borrowed)? */
static bool
holder_is_member(const json_t *spec, const char *node)
{
	json_t *m;
	size_t i;

	json_array_foreach(json_object_get(spec, "members"), i, m)
	{
		const char *n = json_string_value(json_object_get(m, "node"));
		if (n != NULL && strcmp(n, node) == 0)
			return true;
	}
	return false;
}

/*
 * Validates the target of a move inside the write transaction: a member (else 422 /node) whose
 * agent is not down (else 409). Returns 0 or -1 with res filled.
 */
static int
holder_check_target(struct http_request *req, struct http_response *res, const json_t *spec,
		    const char *name, const char *node)
{
	struct store_obj n = {0};
	struct verr e = {0};
	const char *agent;
	int rc;

	if (!holder_is_member(spec, node)) {
		verr_add(&e, "/node", "%s is not a member of VIP %s", node, name);
		return http_problem_validation(res, req, &e);
	}
	if ((rc = store_get("node", node, &n)) != STORE_OK)
		return http_problem_store(res, req, rc, "cannot read the target node");
	agent = json_string_value(json_object_get(n.status, "agent"));
	rc = agent != NULL && strcmp(agent, "down") == 0;
	store_obj_clear(&n);
	if (rc)
		return http_problem(res, req, 409, "conflict",
				    "the agent of node %s is down: it cannot take VIP %s", node,
				    name);
	return 0;
}

/*
 * PUT (node != NULL: request a move to node, a new move_id) or DELETE (node == NULL: clear the
 * request) in one write transaction, after the preconditions against the holder representation.
 * Returns 0 with res filled (202 or 204) or -1 with a problem.
 */
static int
holder_write(struct http_request *req, struct http_response *res, const char *name,
	     const char *node)
{
	struct store_obj vip = {0};
	json_t *repr = NULL, *st = NULL;
	char etag[24] = "";
	int rc, ret = -1;

	if ((rc = store_write_begin()) != STORE_OK)
		return http_problem_store(res, req, rc, "cannot write");
	rc = store_get("vip", name, &vip);
	if (rc != STORE_OK && rc != STORE_NOTFOUND) {
		http_problem_store(res, req, rc, "cannot read the VIP");
		goto fail;
	}
	if (rc == STORE_OK) {
		repr = holder_repr(name, vip.status);
		http_etag_json(repr, etag);
		json_decref(repr);
		repr = NULL;
	}
	if (http_check_write_preconditions(req, res, rc == STORE_OK, etag) != 0)
		goto fail;
	if (rc == STORE_NOTFOUND) {
		http_problem_store(res, req, rc, "no such VIP");
		goto fail;
	}
	if (node != NULL && holder_check_target(req, res, vip.spec, name, node) != 0)
		goto fail;

	st = vip.status ? json_deep_copy(vip.status) : json_object();
	if (node != NULL) {
		json_object_set_new(st, "requested", json_string(node));
		json_object_set_new(
		    st, "move_id",
		    json_integer(json_integer_value(json_object_get(st, "move_id")) + 1));
	} else {
		json_object_set_new(st, "requested", json_null());
	}
	if ((rc = store_set_status("vip", name, st)) != STORE_OK ||
	    (rc = vip_refresh_status(name)) != STORE_OK) {
		http_problem_store(res, req, rc, "cannot record the move");
		goto fail;
	}
	if (node != NULL) {
		store_obj_clear(&vip);
		if ((rc = store_get("vip", name, &vip)) != STORE_OK) {
			http_problem_store(res, req, rc, "cannot read the VIP");
			goto fail;
		}
		repr = holder_repr(name, vip.status);
	}
	if ((rc = store_commit()) != STORE_OK) {
		http_problem_store(res, req, rc, "cannot commit");
		goto out;
	}
	res->no_cache_headers = true;
	if (node != NULL) {
		res->status = 202;
		res->body = repr;
		repr = NULL;
		if (asprintf(&res->location, "/vips/%s/holder", name) < 0)
			res->location = NULL;
	} else {
		res->status = 204;
	}
	ret = 0;
	goto out;
fail:
	store_rollback();
out:
	json_decref(repr);
	json_decref(st);
	store_obj_clear(&vip);
	return ret;
}

/* PUT body: exactly {"node": NAME} (server-owned _links/_embedded/status ignored). */
static int
holder_put(struct http_request *req, struct http_response *res, const char *name)
{
	static const char *const fields[] = {"node", NULL};
	struct verr e = {0};
	const char *node = NULL;
	char target[STORE_NAME_MAX];
	json_t *body;

	if ((body = http_parse_body(req, res, false)) == NULL)
		return -1;
	v_only_fields(body, fields, &e);
	v_name_ref(body, "node", true, &node, &e);
	if (verr_any(&e)) {
		json_decref(body);
		return http_problem_validation(res, req, &e);
	}
	snprintf(target, sizeof(target), "%s", node);
	json_decref(body);
	return holder_write(req, res, name, target);
}

int
res_vip_holder(struct http_request *req, struct http_response *res)
{
	const char *name = req->n_params > 0 ? req->params[0] : NULL;

	if (name == NULL || !valid_name(name))
		return http_problem(res, req, 404, "not-found", "no such VIP");
	switch (req->method) {
	case HTTP_GET:
	case HTTP_HEAD:
		return holder_get(req, res, name);
	case HTTP_PUT:
		return holder_put(req, res, name);
	case HTTP_DELETE:
		return holder_write(req, res, name, NULL);
	case HTTP_OPTIONS:
		res->status = 204;
		http_allow_string(HOLDER_METHODS, res->allow, sizeof(res->allow));
		return 0;
	default:
		return http_problem_method(res, req, HOLDER_METHODS);
	}
}
