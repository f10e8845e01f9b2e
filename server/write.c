/* The write runner (see write.h). */
#include <stdio.h>
#include <string.h>

#include "auth.h"
#include "metrics.h"
#include "write.h"

/* Turns rc (a store_rc other than STORE_OK, or WRITE_ANSWERED) into the problem in res. */
static int
answer_error(struct write_ctx *w, int rc)
{
	if (rc == WRITE_ANSWERED)
		return -1;
	http_response_clear(w->res);
	if (rc == STORE_DANGLING) { /* a reference to something that does not exist: 422 */
		struct verr e = {0};
		verr_add(&e, "", "%s", w->detail);
		return http_problem_validation(w->res, w->req, &e);
	}
	return http_problem_store(w->res, w->req, rc, w->detail);
}

/* How many times a write runs when its commit keeps losing to other replicas (etcd). */
#define WRITE_ATTEMPTS 8

/* One run of the write: begin, current, preconditions, apply, commit. Returns STORE_OK, a
 * store_rc or WRITE_ANSWERED; STORE_CONFLICT when the commit lost (nothing written). */
static int
write_once(struct write_ctx *w, const struct store_actor *actor, const struct write_ops *ops,
	   void *arg)
{
	bool exists = false;
	char etag[24] = "";
	int rc;

	if ((rc = store_write_begin(actor, &w->tx)) != STORE_OK)
		return rc;
	if (ops->current != NULL && (rc = ops->current(w, arg, &exists, etag)) != STORE_OK)
		goto fail;
	if (http_check_write_preconditions(w->req, w->res, exists, etag) != 0) {
		rc = WRITE_ANSWERED;
		goto fail;
	}
	if ((rc = ops->apply(w, arg)) != STORE_OK)
		goto fail;
	return store_commit(w->tx); /* on failure rolled back: nothing was written */
fail:
	store_rollback(w->tx);
	return rc;
}

int
write_run(struct http_request *req, struct http_response *res, const struct write_ops *ops,
	  void *arg)
{
	struct write_ctx w = {.req = req, .res = res};
	struct store_actor actor;
	int rc;

	auth_actor(&req->who, &actor);
	for (int i = 0; i < WRITE_ATTEMPTS; i++) {
		/* A lost commit runs the whole write again from its reads, preconditions included,
		 * so that a stale If-Match is a 412, never a lost update. */
		if ((rc = write_once(&w, &actor, ops, arg)) != STORE_CONFLICT)
			break;
		metrics_write_retry();
		http_response_clear(res);
		w.detail[0] = '\0';
	}
	return rc == STORE_OK ? 0 : answer_error(&w, rc);
}

int
write_background(const char *name, int (*fn)(struct store_tx *tx, void *arg), void *arg)
{
	struct store_actor actor = {.type = STORE_ACTOR_SYSTEM};
	struct store_tx *tx;
	int rc;

	snprintf(actor.id, sizeof(actor.id), "%s", name);
	for (int i = 0; i < WRITE_ATTEMPTS; i++) {
		if ((rc = store_write_begin(&actor, &tx)) != STORE_OK)
			return rc;
		if ((rc = fn(tx, arg)) != STORE_OK) {
			store_rollback(tx);
			return rc;
		}
		if ((rc = store_commit(tx)) != STORE_CONFLICT)
			return rc;
		metrics_write_retry();
	}
	return STORE_BUSY;
}
