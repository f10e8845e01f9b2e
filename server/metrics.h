/* Request counters and latency histogram for /metrics (Prometheus text format 0.0.4). Lock-free:
 * every MHD thread records with atomic adds. */
#ifndef VIGIL_METRICS_H
#define VIGIL_METRICS_H

#include <stddef.h>

#include "http.h"

void metrics_observe(enum http_method m, int status, double seconds);
void metrics_parked(int delta);
/* One re-evaluation of a parked request (a commit touched what it depends on). */
void metrics_wakeup(void);
/* One write run again after its commit lost to another replica (write.c). */
void metrics_write_retry(void);
/* Appends the exposition to a growing buffer: returns a malloc'd string (caller frees). */
char *metrics_render(void);

#endif
