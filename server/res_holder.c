/* /vips/{name}/holder: who holds a VIP, and manual moves. The move request lives in the VIP's
 * server-owned status (requested, move_id, move_done); agents read it through their config and
 * carry each move_id out once. A move is desired state: it lasts until replaced or deleted. The
 * VIPs of a sync group move together: a request on one is made on every one. */
#include <stdio.h>
#include <string.h>

#include "http.h"
#include "res_vip.h"
#include "store.h"
#include "validate.h"
#include "write.h"

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

	if (!vip_has_member(spec, node)) {
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

/* A holder write: PUT (node set: request a move to node, a new move_id) or DELETE (node "":
 * clear the request). */
struct holder_write {
	const char *name;
	char node[STORE_NAME_MAX];
	struct store_obj vip; /* read by holder_current */
};

static int
holder_current(struct write_ctx *w, void *arg, bool *exists, char etag[24])
{
	struct holder_write *hw = arg;
	int rc;

	store_obj_clear(&hw->vip); /* from an earlier run of the write (write_run) */
	rc = store_get("vip", hw->name, &hw->vip);
	if (rc == STORE_NOTFOUND) {
		snprintf(w->detail, sizeof(w->detail), "no such VIP");
		*exists = false;
		return STORE_OK; /* If-Match on a missing VIP is 412 before 404 */
	}
	if (rc != STORE_OK)
		return rc;
	json_t *repr = holder_repr(hw->name, hw->vip.status);
	http_etag_json(repr, etag);
	json_decref(repr);
	*exists = true;
	return STORE_OK;
}

/* Records the move request to node (or, node "", clears it) in the status of VIP name, whose
 * stored status is status (borrowed, may be NULL), and recomputes its derived status. Returns a
 * store_rc. */
static int
holder_request(struct store_tx *tx, const char *name, const json_t *status, const char *node)
{
	json_t *st = status ? json_deep_copy(status) : json_object();
	int rc;

	if (node[0] != '\0') {
		json_object_set_new(st, "requested", json_string(node));
		json_object_set_new(
		    st, "move_id",
		    json_integer(json_integer_value(json_object_get(st, "move_id")) + 1));
	} else {
		json_object_set_new(st, "requested", json_null());
	}
	rc = store_set_status(tx, "vip", name, st);
	json_decref(st);
	return rc == STORE_OK ? vip_refresh_status(tx, name) : rc;
}

/* A sync group moves as one: the same request for every other VIP of the group of spec (its
 * members are the same nodes, a rule of the VIP resource). Returns a store_rc. */
static int
holder_request_group(struct store_tx *tx, const char *name, const json_t *spec, const char *node)
{
	const char *group = json_string_value(json_object_get(spec, "group"));
	struct store_obj objs[16];
	char after[STORE_NAME_MAX] = "";
	int n, rc = STORE_OK;

	if (group == NULL)
		return STORE_OK;
	do {
		n = store_list_tagged("vip", "group", group, after, NULL, 16, objs, NULL);
		if (n < 0)
			return n;
		for (int i = 0; i < n; i++) {
			if (rc == STORE_OK && strcmp(objs[i].name, name) != 0 &&
			    (node[0] == '\0' || vip_has_member(objs[i].spec, node)))
				rc = holder_request(tx, objs[i].name, objs[i].status, node);
			snprintf(after, sizeof(after), "%s", objs[i].name);
			store_obj_clear(&objs[i]);
		}
	} while (n == 16 && rc == STORE_OK);
	return rc;
}

static int
holder_apply(struct write_ctx *w, void *arg)
{
	struct holder_write *hw = arg;
	bool move = hw->node[0] != '\0';
	int rc;

	if (hw->vip.spec == NULL) {
		snprintf(w->detail, sizeof(w->detail), "no such VIP");
		return STORE_NOTFOUND;
	}
	if (move && holder_check_target(w->req, w->res, hw->vip.spec, hw->name, hw->node) != 0)
		return WRITE_ANSWERED;
	rc = holder_request(w->tx, hw->name, hw->vip.status, hw->node);
	if (rc == STORE_OK)
		rc = holder_request_group(w->tx, hw->name, hw->vip.spec, hw->node);
	if (rc != STORE_OK)
		return rc;
	w->res->no_cache_headers = true;
	if (!move) {
		w->res->status = 204;
		return STORE_OK;
	}
	store_obj_clear(&hw->vip);
	if ((rc = store_get("vip", hw->name, &hw->vip)) != STORE_OK)
		return rc;
	w->res->status = 202;
	w->res->body = holder_repr(hw->name, hw->vip.status);
	if (asprintf(&w->res->location, "/vips/%s/holder", hw->name) < 0)
		w->res->location = NULL;
	return STORE_OK;
}

static const struct write_ops holder_ops = {holder_current, holder_apply};

/* Runs a holder write for VIP name: to node, or (node NULL) clearing the request. */
static int
holder_write(struct http_request *req, struct http_response *res, const char *name,
	     const char *node)
{
	struct holder_write hw = {.name = name};
	int ret;

	snprintf(hw.node, sizeof(hw.node), "%s", node ? node : "");
	ret = write_run(req, res, &holder_ops, &hw);
	store_obj_clear(&hw.vip);
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
