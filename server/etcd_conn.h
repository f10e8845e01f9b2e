/* Internal to the etcd client: the client's fields, the unary call (etcd.c) that etcd_lease.c
 * uses too, and the request set-up the watch stream (etcd_watch.c) shares. Nothing outside
 * server/etcd*.c includes this. */
#ifndef VIGIL_ETCD_CONN_H
#define VIGIL_ETCD_CONN_H

#include <curl/curl.h>
#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct etcd_client {
	char **endpoints; /* owned, n_endpoints of them, without a trailing '/' */
	size_t n_endpoints;
	size_t cur; /* where the next request goes first */
	long request_timeout_ms;
	long connect_timeout_ms;
	char *cacert, *cert, *key; /* owned copies, or NULL */
	char *user, *password;
	char *token; /* owned: the etcd auth token, NULL until authenticated */
	CURL *curl;  /* owned: unary calls (keeps their connections) */
};

/* What a call is, which says whether it needs a leader and whether it may be repeated on another
 * endpoint after it may have reached one. */
enum etcd_call_kind {
	ETCD_CALL_READ,	      /* a read, a keepalive: any failure moves on to the next endpoint */
	ETCD_CALL_LOCAL_READ, /* a serializable read: as a read, and a member without a leader
				 answers */
	ETCD_CALL_WRITE, /* only moves on when it certainly was not applied (not sent, no leader) */
};

/*
 * POSTs req (borrowed) to path, trying each endpoint once from c->cur, moving on after a failure
 * that kind allows. Returns 0 with *resp (a new reference, caller decrefs), or an etcd_rc with a
 * message: ETCD_UNAVAILABLE when every endpoint failed or a write's outcome is unknown.
 */
int etcd_call(struct etcd_client *c, const char *path, json_t *req, enum etcd_call_kind kind,
	      json_t **resp, char *err, size_t errlen);
/* The store revision in an answer's header (0 when absent). */
int64_t etcd_header_rev(const json_t *resp);
/* Moves c to its next endpoint (after a failure at the current one). */
void etcd_next_endpoint(struct etcd_client *c);
/* The headers of a request (caller frees with curl_slist_free_all); NULL when out of memory.
 * need_leader: a member without a leader answers 503 at once (Grpc-Metadata-Hasleader). */
struct curl_slist *etcd_request_headers(const struct etcd_client *c, bool need_leader);
/* Sets the options every POST of body (borrowed, must outlive the transfer) to path at endpoint ep
 * shares on h: URL, headers (borrowed), TLS files, timeouts (timeout_ms 0: none, a stream). */
void etcd_setup_handle(const struct etcd_client *c, CURL *h, const char *ep, const char *path,
		       const char *body, struct curl_slist *headers, long timeout_ms);

#endif
