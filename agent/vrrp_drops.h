/* What the agent's VRRP receive path refused or found odd, counted per reason, and logged so
 * that nobody on the LAN can fill the log: the first of each reason at once, then at most one
 * summary line per reason per VRRP_DROPS_LOG_MS with the count it stands for. Pure: the caller
 * passes the clock and prints the lines. */
#ifndef VIGIL_VRRP_DROPS_H
#define VIGIL_VRRP_DROPS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vrrp_packet.h"

#define VRRP_DROPS_LOG_MS 30000 /* at most one line per reason per this long */

/* Reasons: every enum vrrp_pkt_error but VRRP_PKT_OK, then these. */
enum vrrp_drop_extra {
	VRRP_DROP_UNKNOWN_VRID = VRRP_PKT_ERROR_MAX, /* no instance of this VRID on the interface */
	VRRP_DROP_ADDR_DIFFERS,	    /* v3 advert used, its address list is not ours (7.1 log) */
	VRRP_DROP_INTERVAL_DIFFERS, /* v3 advert used, another Max Adver Int (learned, 6.4.2) */
	VRRP_DROP_RXQ_OVERFLOW,	    /* the kernel dropped packets: the socket's queue was full */
	VRRP_DROP_NOT_UNICAST_PEER, /* a unicast instance's advert from none of its peers */
	VRRP_DROP_MAX
};

struct vrrp_drops {
	uint64_t count[VRRP_DROP_MAX];	  /* since start */
	uint64_t pending[VRRP_DROP_MAX];  /* counted since the last line of the reason */
	int64_t logged_at[VRRP_DROP_MAX]; /* monotonic ms of that line; 0 = none yet */
	char latest[VRRP_DROP_MAX][96];	  /* detail of the latest occurrence ("from 198.18.0.50") */
};

/* The counter name of reason: vrrp_pkt_error_str() for packet errors, else "unknown_vrid",
 * "addr_list_differs", "interval_differs", "rx_queue_overflow", "not_unicast_peer"; "unknown"
 * when out of range. */
const char *vrrp_drops_name(int reason);

/* Counts n occurrences of reason at now_ms (> 0); detail (may be NULL) says where the latest came
 * from. Returns true, with a line (no newline) in line, when one is due: the first occurrence of
 * the reason, or the first after VRRP_DROPS_LOG_MS since its last line (a summary). */
bool vrrp_drops_note(struct vrrp_drops *d, int reason, uint64_t n, const char *detail,
		     int64_t now_ms, char *line, size_t len);

/* Summary lines for reasons with occurrences not logged yet whose VRRP_DROPS_LOG_MS has passed,
 * one per call: returns true with the line, false when none is due. Call it periodically (until
 * false) so that the end of a burst is logged too. */
bool vrrp_drops_flush(struct vrrp_drops *d, int64_t now_ms, char *line, size_t len);

#endif
