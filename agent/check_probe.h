/* Inside the check runner: one probe is one attempt of one check (a TCP connect, an HTTP request,
 * a script run), started by agent/checks.c and carried out by agent/check_net.c or
 * agent/check_script.c on the event loop. Not for other modules: use checks.h. */
#ifndef VIGIL_CHECK_PROBE_H
#define VIGIL_CHECK_PROBE_H

#include <stdbool.h>
#include <sys/socket.h>

#include "loop.h"

#define PROBE_OUTPUT_MAX 512 /* bytes of output kept (script output is truncated to this) */

enum probe_verdict {
	PROBE_UP,
	PROBE_DOWN,
	PROBE_REFUSED, /* the agent would not run it (script security): the check is unknown */
};

struct probe_result {
	enum probe_verdict verdict;
	char output[PROBE_OUTPUT_MAX + 1]; /* valid UTF-8, NUL-terminated */
};

/* Called once per started probe, from the loop; r is borrowed. The probe is gone afterwards. */
typedef void (*probe_done_fn)(const struct probe_result *r, void *arg);

/* A running probe. Every kind starts with this header. */
struct probe {
	void (*cancel)(struct probe *p); /* stops it without calling done, frees it */
};

/* Stops a running probe: done will not be called. NULL is fine. */
void probe_cancel(struct probe *p);

/*
 * Every start function returns 0 with *out set when the probe runs (done comes later), or 1 when
 * the result is known at once (written to *now; done is not called and nothing is left running).
 */

/* A TCP connect to sa within timeout_ms; up when it completes. */
int probe_tcp_start(struct loop *l, const struct sockaddr *sa, socklen_t salen, int timeout_ms,
		    probe_done_fn done, void *arg, struct probe **out, struct probe_result *now);

/* The libcurl multi handle that runs every HTTP(S) probe, on loop l. NULL on failure. */
struct http_multi *http_multi_new(struct loop *l);
/* Cancels what still runs and frees m. NULL is fine. */
void http_multi_free(struct http_multi *m);

/* GET url (a fresh connection, no proxy, no redirects) within timeout_ms; up when the status is
 * expect_status. verify_tls false disables peer and host name verification. */
int probe_http_start(struct http_multi *m, const char *url, bool verify_tls, long expect_status,
		     int timeout_ms, probe_done_fn done, void *arg, struct probe **out,
		     struct probe_result *now);

struct script_runner; /* script.h */

/* A run of argv on the shared script runner (script.h): up when it exits 0; down when it exits
 * otherwise, is killed, or times out (its process group killed; the result comes once reaped);
 * refused (unknown) when the runner would not run it. */
int probe_script_start(struct script_runner *r, char *const argv[], int timeout_ms,
		       probe_done_fn done, void *arg, struct probe **out, struct probe_result *now);

/* Copies len bytes of text into out (PROBE_OUTPUT_MAX + 1 bytes): invalid UTF-8 and control
 * characters other than newline and tab become '?', NULs are dropped, trailing white space is
 * trimmed, and the result is cut at PROBE_OUTPUT_MAX bytes on a character boundary. */
void probe_clean_text(char *out, const char *text, size_t len);

/* snprintf into r->output (then cleaned) and sets the verdict. */
void probe_result_set(struct probe_result *r, enum probe_verdict v, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#endif
