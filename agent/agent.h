/* The agent: turns the node's config (long-polled from vigild, cached on disk) into VRRP instances,
 * carries out their actions (addresses, announcements, adverts) and reports status. */
#ifndef VIGIL_AGENT_H
#define VIGIL_AGENT_H

#include <stdbool.h>
#include <stddef.h>

#define AGENT_VERSION "0.1.0"

struct agent_options {
	const char *server;	 /* root URL of vigild */
	const char *node;	 /* our node's name */
	const char *token;	 /* bearer secret */
	const char *state_dir;	 /* where the last config and carried-out moves are kept */
	int heartbeat_ms;	 /* status PUT period */
	int poll_wait_s;	 /* long-poll wait */
	const char *script_dir;	 /* script checks run executables from here only */
	const char *script_user; /* and as this user; NULL: script checks disabled */
	int notify_timeout_ms;	 /* a notify script running longer is killed */
	bool no_realtime;	 /* --no-realtime: no SCHED_RR, no locked memory */
};

/* Runs the agent until SIGTERM or SIGINT (then releases every VIP with a priority-0 advert).
 * Returns 0, or 1 after a start-up failure (message on stderr). */
int agent_run(const struct agent_options *opt);

#endif
