/* The agent's conversation with vigild, over client.h: find the node's config and status by
 * following links from the root URL, long-poll the config (If-None-Match), and PUT status
 * reports, one at a time, coalescing those asked for while one is in flight. Failures are
 * retried with a doubling back-off (250 ms to 10 s); a 401 or 404 on the config starts over from
 * the root. What the documents mean is the caller's: it is handed each new config and asked for
 * each report. */
#ifndef VIGIL_SESSION_H
#define VIGIL_SESSION_H

#include <jansson.h>
#include <stdbool.h>

#include "client.h"
#include "loop.h"

struct session_hooks {
	/* A new config (200): the parsed document (borrowed) and its text as received. */
	void (*config)(void *arg, json_t *doc, const char *text);
	/* The status report to send now: a new reference. */
	json_t *(*report)(void *arg);
	/* After session_stop(): every report has been answered (or the node was never found). */
	void (*drained)(void *arg);
	void *arg;
};

struct session;

/* A session of node `node` (copied) on client c (borrowed), long-polls of poll_wait_s seconds.
 * Returns NULL on allocation failure. Nothing is sent before session_start(). */
struct session *session_new(struct loop *l, struct client *c, const char *node, int poll_wait_s,
			    const struct session_hooks *hooks);
void session_free(struct session *s);

/* Starts discovery; the config poll and a first report follow once the node is found. */
void session_start(struct session *s);

/* Something a report shows changed: sends one now, or right after the one in flight. */
void session_report(struct session *s);

/* Shutting down: no more polls or retries; one last report goes out (whatever is in flight),
 * then hooks->drained once nothing is pending. */
void session_stop(struct session *s);

/* True while a report is in flight or due (the drained hook comes when this turns false). */
bool session_busy(const struct session *s);

#endif
