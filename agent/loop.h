/* The agent's event loop: one epoll set, one timerfd for every timer, one thread. Callbacks run to
 * completion and never block. */
#ifndef VIGIL_LOOP_H
#define VIGIL_LOOP_H

#include <stdbool.h>
#include <stdint.h>

struct loop;
typedef void (*loop_fd_fn)(int fd, uint32_t events, void *arg);
typedef void (*loop_timer_fn)(void *arg);

/* A timer owned by its user (embed it); armed with loop_timer_at, cancelled with loop_timer_off. */
struct loop_timer {
	int64_t at_ms; /* monotonic deadline; 0 = not armed */
	loop_timer_fn fn;
	void *arg;
	struct loop_timer *next;
};

/* Returns a new loop or NULL (errno set). Free with loop_free. */
struct loop *loop_new(void);
void loop_free(struct loop *l);

/* Watches fd for events (EPOLLIN, EPOLLOUT); mod changes them; del forgets fd. 0 or -errno. */
int loop_fd_add(struct loop *l, int fd, uint32_t events, loop_fd_fn fn, void *arg);
int loop_fd_mod(struct loop *l, int fd, uint32_t events);
int loop_fd_del(struct loop *l, int fd);

/* Monotonic milliseconds. */
int64_t loop_now_ms(void);

/* Arms t to fire once at at_ms (monotonic); re-arming moves it. */
void loop_timer_at(struct loop *l, struct loop_timer *t, int64_t at_ms);
void loop_timer_off(struct loop *l, struct loop_timer *t);

/* Runs until loop_stop is called. Returns 0, or -errno if epoll fails. */
int loop_run(struct loop *l);
void loop_stop(struct loop *l);

#endif
