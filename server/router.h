/* Maps a request to its handler: path match, authentication, roles, method rules and content
 * negotiation happen here, once, before any resource code runs. */
#ifndef VIGIL_ROUTER_H
#define VIGIL_ROUTER_H

#include "http.h"
#include "store.h"

/* Handles req completely, filling res (a problem on any failure). Adds to deps the store keys the
 * answer was computed from and sets *rev0 to the revision it was computed at (answers that read
 * nothing leave both alone): the answer stays current while store_keys_rev(deps) <= *rev0. */
void router_dispatch(struct http_request *req, struct http_response *res, struct store_keys *deps,
		     int64_t *rev0);

/* Runs the checks that need no body (method, path, authentication, roles) on a request whose
 * body has not been read yet. Returns 0 when it may go on, or -1 with res filled: the answer to
 * send at once, before the body. */
int router_precheck(struct http_request *req, struct http_response *res);

/* Handlers outside the generic resources (res_misc.c, res_token.c, res_event.c). */
int res_root(struct http_request *req, struct http_response *res);
int res_healthz(struct http_request *req, struct http_response *res);
int res_metrics(struct http_request *req, struct http_response *res);
int res_doc(struct http_request *req, struct http_response *res); /* /rels/x, /problems/x */
int res_openapi(struct http_request *req, struct http_response *res);
int res_events(struct http_request *req, struct http_response *res);
int res_tokens(struct http_request *req, struct http_response *res);
int res_token(struct http_request *req, struct http_response *res);
int res_ui(struct http_request *req, struct http_response *res); /* /ui/ and /ui/{file} */

#endif
