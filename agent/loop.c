/* epoll + timerfd. Timers are a short singly linked list (a handful per VIP), scanned on each
 * wake-up; the timerfd is armed at the earliest deadline. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include "loop.h"

#define MAX_FDS 1024

struct watch {
	loop_fd_fn fn;
	void *arg;
	bool used;
};

struct loop {
	int epfd;
	int tfd;
	bool stop;
	struct loop_timer *timers;
	struct watch fds[MAX_FDS];
};

int64_t
loop_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

struct loop *
loop_new(void)
{
	struct loop *l = calloc(1, sizeof(*l));
	struct epoll_event ev = {.events = EPOLLIN};

	if (l == NULL)
		return NULL;
	l->epfd = epoll_create1(EPOLL_CLOEXEC);
	l->tfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	ev.data.fd = l->tfd;
	if (l->epfd < 0 || l->tfd < 0 || epoll_ctl(l->epfd, EPOLL_CTL_ADD, l->tfd, &ev) != 0) {
		int e = errno;
		loop_free(l);
		errno = e;
		return NULL;
	}
	return l;
}

void
loop_free(struct loop *l)
{
	if (l == NULL)
		return;
	if (l->epfd >= 0)
		close(l->epfd);
	if (l->tfd >= 0)
		close(l->tfd);
	free(l);
}

int
loop_fd_add(struct loop *l, int fd, uint32_t events, loop_fd_fn fn, void *arg)
{
	struct epoll_event ev = {.events = events, .data.fd = fd};

	if (fd < 0 || fd >= MAX_FDS)
		return -EMFILE;
	if (epoll_ctl(l->epfd, EPOLL_CTL_ADD, fd, &ev) != 0)
		return -errno;
	l->fds[fd] = (struct watch){fn, arg, true};
	return 0;
}

int
loop_fd_mod(struct loop *l, int fd, uint32_t events)
{
	struct epoll_event ev = {.events = events, .data.fd = fd};

	return epoll_ctl(l->epfd, EPOLL_CTL_MOD, fd, &ev) == 0 ? 0 : -errno;
}

int
loop_fd_del(struct loop *l, int fd)
{
	if (fd < 0 || fd >= MAX_FDS)
		return -EBADF;
	l->fds[fd].used = false;
	return epoll_ctl(l->epfd, EPOLL_CTL_DEL, fd, NULL) == 0 ? 0 : -errno;
}

/* Arms the timerfd at the earliest deadline (or disarms it). */
static void
rearm(struct loop *l)
{
	int64_t first = 0;
	struct itimerspec its = {0};

	for (struct loop_timer *t = l->timers; t != NULL; t = t->next)
		if (first == 0 || t->at_ms < first)
			first = t->at_ms;
	if (first != 0) {
		its.it_value.tv_sec = first / 1000;
		its.it_value.tv_nsec = (first % 1000) * 1000000;
		if (its.it_value.tv_sec == 0 && its.it_value.tv_nsec == 0)
			its.it_value.tv_nsec = 1;
	}
	timerfd_settime(l->tfd, TFD_TIMER_ABSTIME, &its, NULL);
}

void
loop_timer_off(struct loop *l, struct loop_timer *t)
{
	for (struct loop_timer **pp = &l->timers; *pp != NULL; pp = &(*pp)->next)
		if (*pp == t) {
			*pp = t->next;
			break;
		}
	t->at_ms = 0;
	t->next = NULL;
	rearm(l);
}

void
loop_timer_at(struct loop *l, struct loop_timer *t, int64_t at_ms)
{
	if (t->at_ms != 0)
		loop_timer_off(l, t);
	t->at_ms = at_ms > 0 ? at_ms : 1;
	t->next = l->timers;
	l->timers = t;
	rearm(l);
}

/* Fires every due timer; a callback may arm or cancel any timer, so restart after each. */
static void
fire_timers(struct loop *l)
{
	uint64_t expirations;
	bool again = true;

	while (read(l->tfd, &expirations, sizeof(expirations)) > 0)
		;
	while (again) {
		int64_t now = loop_now_ms();
		again = false;
		for (struct loop_timer *t = l->timers; t != NULL; t = t->next) {
			if (t->at_ms > now)
				continue;
			loop_timer_off(l, t);
			t->fn(t->arg);
			again = true;
			break;
		}
	}
	rearm(l);
}

int
loop_run(struct loop *l)
{
	struct epoll_event evs[64];

	l->stop = false;
	while (!l->stop) {
		int n = epoll_wait(l->epfd, evs, 64, -1);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		/* Input first, then timers: when the loop wakes late (a busy host) with an advert
		 * waiting and the Master_Down timer due, the advert must re-arm the timer before it
		 * fires, or a delay becomes a false failover. */
		bool timers_due = false;
		for (int i = 0; i < n && !l->stop; i++) {
			int fd = evs[i].data.fd;
			if (fd == l->tfd)
				timers_due = true;
			else if (fd >= 0 && fd < MAX_FDS && l->fds[fd].used)
				l->fds[fd].fn(fd, evs[i].events, l->fds[fd].arg);
		}
		if (timers_due && !l->stop)
			fire_timers(l);
	}
	return 0;
}

void
loop_stop(struct loop *l)
{
	l->stop = true;
}
