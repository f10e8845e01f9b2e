/* The node's HAProxy through its runtime API (the admin stats socket, issue 4): each backend's
 * admin_state (enabled/drain/disabled -> ready/drain/maint), weight and health are applied to the
 * HAProxy server haproxy_backend/haproxy_server, on change and again whenever HAProxy restarts. */
#ifndef VIGIL_HAPROXY_H
#define VIGIL_HAPROXY_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "loop.h"

struct haproxy;

/* A new link to no HAProxy yet, on loop l. NULL on allocation failure. */
struct haproxy *haproxy_new(struct loop *l);
/* Closes the connection, stops the timer, frees h. NULL is fine. */
void haproxy_free(struct haproxy *h);

/*
 * Sets what the node's HAProxy should show: socket_path is the config's haproxy_socket (NULL or ""
 * = no HAProxy: nothing is sent), backends the config's backends array, health an object
 * {backend name: "up"|"down"|"unknown"} (checks_backend_health(); only "down" takes a server down,
 * anything else or absent sets it up). All borrowed, copied here. Whatever differs from what was
 * last applied to the running HAProxy is sent at once, one command per connection, in the loop;
 * HAProxy is asked `show info` every second, and a new Pid or start time (a restart or reload)
 * replays everything. Errors are logged once per change; call again on every change.
 */
void haproxy_apply(struct haproxy *h, const char *socket_path, json_t *backends, json_t *health);

/* HAProxy proxy and server names: letters, digits, '-', '_', '.', ':' (1..127 chars). Anything
 * else is never written to the socket (it could smuggle in a second command). */
bool haproxy_name_ok(const char *s);

/* The runtime API commands, newline-terminated, into buf. Return 0, or -1 on a bad name or value
 * (admin_state must be enabled, drain or disabled; weight 0..256) or a too small buf. */
int haproxy_cmd_state(char *buf, size_t len, const char *backend, const char *server,
		      const char *admin_state);
int haproxy_cmd_weight(char *buf, size_t len, const char *backend, const char *server, int weight);
int haproxy_cmd_health(char *buf, size_t len, const char *backend, const char *server, bool up);

/* Reads Pid and Uptime_sec from a `show info` answer. Returns 0 when Pid was found (*uptime_s is
 * -1 when absent), -1 otherwise. */
int haproxy_parse_info(const char *text, long *pid, long *uptime_s);

#endif
