/* A libcurl multi handle driven by the agent's event loop: curl says which sockets to watch and
 * when to call it back; finished transfers go to the owner's collect callback. Shared by the API
 * client and the HTTP(S) health checks. */
#ifndef VIGIL_CURL_LOOP_H
#define VIGIL_CURL_LOOP_H

#include <curl/curl.h>

#include "loop.h"

struct curl_loop {
	struct loop *loop;
	CURLM *multi;
	struct loop_timer timer;
	void (*collect)(void *arg); /* reads curl_multi_info_read after curl made progress */
	void *arg;
};

/* Sets cl up on loop l (cl is the caller's, e.g. embedded). Returns 0 or -1. */
int curl_loop_init(struct curl_loop *cl, struct loop *l, void (*collect)(void *arg), void *arg);
/* Stops watching and frees the multi handle (remove the easy handles first). */
void curl_loop_cleanup(struct curl_loop *cl);

#endif
