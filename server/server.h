/* The HTTP server (libmicrohttpd, epoll thread pool) and its long-poll waker thread. */
#ifndef VIGIL_SERVER_H
#define VIGIL_SERVER_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "store.h"

struct server_config {
	struct sockaddr_storage addr;
	int listen_fd; /* bound and listening (listener_open); the server closes it at server_stop
			*/
	unsigned threads;
	unsigned connection_limit;
	unsigned max_parked;	   /* 0: three quarters of connection_limit */
	unsigned idle_timeout_s;   /* close idle or half-sent connections after this (0: 15) */
	unsigned longpoll_workers; /* threads that re-evaluate woken long-polls (0: 2) */
	int64_t agent_timeout_ms;
	const char
	    *tls_cert_pem; /* PEM text, borrowed for the server's lifetime; NULL: plain HTTP */
	const char *tls_key_pem;
};

/* Starts listening. Returns 0 or -1 with a message in err. */
int server_start(const struct server_config *cfg, char *err, size_t errlen);
/* Answers every parked request (503) and stops. */
void server_stop(void);
/* Store commit hook: queues the parked requests that depend on a touched key. */
void server_notify(int64_t rev, const struct store_keys *touched);

#endif
