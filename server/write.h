/* The one write path: every handler that changes the store runs its write through write_run,
 * which owns the sequence begin -> current ETag -> preconditions -> apply -> commit or rollback,
 * and the mapping of store errors to problems. Background writers (the liveness sweep, the
 * bootstrap token) use write_background. Nothing else calls store_write_begin, so every change
 * records who caused it: the request's token, or the named part of vigild. */
#ifndef VIGIL_WRITE_H
#define VIGIL_WRITE_H

#include <stdbool.h>

#include "http.h"
#include "store.h"

/* Returned by a write_ops function that has put its own problem into the response. */
#define WRITE_ANSWERED (-100)

/* What a write's functions get: the open transaction, the request, the response to fill. */
struct write_ctx {
	struct store_tx *tx;
	struct http_request *req;
	struct http_response *res;
	char detail[256]; /* a store error's explanation, for its problem (e.g. who holds a key) */
};

struct write_ops {
	/*
	 * Reads the current state of what the request writes, inside the transaction: *exists and
	 * the ETag of its current representation ("" when it does not exist). Returns STORE_OK, a
	 * store_rc, or WRITE_ANSWERED. May be NULL: nothing exists, no preconditions apply.
	 */
	int (*current)(struct write_ctx *w, void *arg, bool *exists, char etag[24]);
	/*
	 * Writes through w->tx and fills w->res with the answer (status, body, Location). Returns
	 * STORE_OK, a store_rc (with w->detail), or WRITE_ANSWERED (a problem is in w->res).
	 */
	int (*apply)(struct write_ctx *w, void *arg);
};

/* Runs one write for req, its changes caused by req's token (req->who). Returns 0 with res holding
 * the answer, or -1 with a problem. A commit that lost to another replica (STORE_CONFLICT) runs
 * the write again, reads included, a few times before it answers 503: the ops run more than
 * once, so they must not consume what arg gives them. */
int write_run(struct http_request *req, struct http_response *res, const struct write_ops *ops,
	      void *arg);

/* Runs fn in its own transaction, committed when fn returns STORE_OK and rolled back
 * otherwise; its changes are caused by the system actor name ("liveness-sweep", "bootstrap": a
 * static string that says which part of vigild wrote). Returns a store_rc. */
int write_background(const char *name, int (*fn)(struct store_tx *tx, void *arg), void *arg);

#endif
