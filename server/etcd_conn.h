/* Internal to the etcd client (etcd.c, etcd_watch.c): the client's fields and the request set-up
 * both the unary calls and the watch stream use. Nothing outside server/etcd*.c includes this. */
#ifndef VIGIL_ETCD_CONN_H
#define VIGIL_ETCD_CONN_H

#include <curl/curl.h>
#include <stdbool.h>
#include <stddef.h>

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
