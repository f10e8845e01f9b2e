/* The agent's HTTP client: libcurl multi driven by the event loop, so that a long-poll and a
 * status PUT never block VRRP, over a list of servers it moves along when one fails. One callback
 * per request, with the status, body and ETag. */
#ifndef VIGIL_CLIENT_H
#define VIGIL_CLIENT_H

#include <stddef.h>

#include "loop.h"

struct client;

/* A finished request, borrowed by the callback. status 0 means a transport error (error says). */
struct client_response {
	long status;
	const char *body; /* NUL-terminated, "" when empty */
	size_t len;
	const char *etag; /* "" when absent */
	const char *error;
};
typedef void (*client_done_fn)(const struct client_response *r, void *arg);

#define CLIENT_MAX_SERVERS 8

/* base_url like "http://198.18.0.1:8080" (no trailing slash needed), or several such URLs
 * separated by commas: replicas of vigild serving one store. Requests go to one of them; when it
 * fails (no answer, or 502, 503, 504) the next requests go to the next one, round the list. token
 * is the bearer secret, copied. Returns 0 or -1 with err filled. */
int client_new(struct client **out, struct loop *l, const char *base_url, const char *token,
	       char *err, size_t errlen);
void client_free(struct client *c);

/*
 * Starts method on href (absolute path such as "/nodes/lb1" or a full URL). if_none_match may be
 * NULL; body (JSON, copied) may be NULL; timeout_ms bounds the whole request. fn is called once,
 * from the loop, unless client_free comes first. Returns 0 or -1.
 */
int client_request(struct client *c, const char *method, const char *href,
		   const char *if_none_match, const char *body, long timeout_ms, client_done_fn fn,
		   void *arg);

/* The root URL new requests go to. */
const char *client_server(const struct client *c);

/* Requests still running. */
int client_pending(const struct client *c);

#endif
