/* Per-reason counters and the rate-limited log of the VRRP receive path (see vrrp_drops.h). */
#include <stdio.h>
#include <string.h>

#include "vrrp_drops.h"

static const char *const extra_names[] = {
    [VRRP_DROP_UNKNOWN_VRID - VRRP_PKT_ERROR_MAX] = "unknown_vrid",
    [VRRP_DROP_ADDR_DIFFERS - VRRP_PKT_ERROR_MAX] = "addr_list_differs",
    [VRRP_DROP_INTERVAL_DIFFERS - VRRP_PKT_ERROR_MAX] = "interval_differs",
    [VRRP_DROP_RXQ_OVERFLOW - VRRP_PKT_ERROR_MAX] = "rx_queue_overflow",
    [VRRP_DROP_NOT_UNICAST_PEER - VRRP_PKT_ERROR_MAX] = "not_unicast_peer",
};

const char *
vrrp_drops_name(int reason)
{
	if (reason > VRRP_PKT_OK && reason < VRRP_PKT_ERROR_MAX)
		return vrrp_pkt_error_str((enum vrrp_pkt_error)reason);
	if (reason >= VRRP_PKT_ERROR_MAX && reason < VRRP_DROP_MAX)
		return extra_names[reason - VRRP_PKT_ERROR_MAX];
	return "unknown";
}

/* Not discarded, only worth a line: adverts used despite a difference. */
static bool
is_note(int reason)
{
	return reason == VRRP_DROP_ADDR_DIFFERS || reason == VRRP_DROP_INTERVAL_DIFFERS;
}

/* The summary line of reason, then its window restarts at now_ms. */
static void
summary(struct vrrp_drops *d, int reason, int64_t now_ms, char *line, size_t len)
{
	snprintf(line, len, "VRRP: %llu more %s %s in the last %lld s%s%s (%llu since start)",
		 (unsigned long long)d->pending[reason],
		 is_note(reason) ? "adverts with" : "packets discarded:", vrrp_drops_name(reason),
		 (long long)((now_ms - d->logged_at[reason] + 500) / 1000),
		 d->latest[reason][0] ? ", latest " : "", d->latest[reason],
		 (unsigned long long)d->count[reason]);
	d->pending[reason] = 0;
	d->logged_at[reason] = now_ms;
}

bool
vrrp_drops_note(struct vrrp_drops *d, int reason, uint64_t n, const char *detail, int64_t now_ms,
		char *line, size_t len)
{
	if (reason <= VRRP_PKT_OK || reason >= VRRP_DROP_MAX || n == 0)
		return false;
	d->count[reason] += n;
	d->pending[reason] += n;
	snprintf(d->latest[reason], sizeof(d->latest[reason]), "%s", detail ? detail : "");
	if (d->logged_at[reason] == 0) {
		snprintf(
		    line, len,
		    "VRRP: %s %s%s%s; further ones are counted and logged at most every %d s",
		    is_note(reason) ? "advert with" : "packet discarded:", vrrp_drops_name(reason),
		    detail ? ", " : "", detail ? detail : "", VRRP_DROPS_LOG_MS / 1000);
		d->pending[reason] = 0;
		d->logged_at[reason] = now_ms;
		return true;
	}
	if (now_ms - d->logged_at[reason] < VRRP_DROPS_LOG_MS)
		return false;
	summary(d, reason, now_ms, line, len);
	return true;
}

bool
vrrp_drops_flush(struct vrrp_drops *d, int64_t now_ms, char *line, size_t len)
{
	for (int r = VRRP_PKT_OK + 1; r < VRRP_DROP_MAX; r++)
		if (d->pending[r] > 0 && now_ms - d->logged_at[r] >= VRRP_DROPS_LOG_MS) {
			summary(d, r, now_ms, line, len);
			return true;
		}
	return false;
}
