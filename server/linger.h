/* Lingering close for connections answered before their request body was read (RFC 9112 9.6). */
#ifndef VIGIL_LINGER_H
#define VIGIL_LINGER_H

/* Starts the thread that owns lingering sockets. Returns 0 or -1. */
int linger_start(void);
/* Takes ownership of fd (a duplicate of a connection's socket whose answer has been sent): shuts
 * its sending side, reads and discards for a bounded time and size, then closes it. */
void linger_add(int fd);
/* How many sockets are lingering now. */
unsigned linger_count(void);
/* Closes every lingering socket and joins the thread. */
void linger_stop(void);

#endif
