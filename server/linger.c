/* Lingering close (RFC 9112 9.6): after an answer sent before the request's body was read, the
 * server stops writing but keeps reading and discarding what the client still sends, for a
 * bounded time, and only then closes. Closing at once with unread data would make the kernel send
 * a TCP reset, which can reach the client before it has read the answer (it sees EPIPE or
 * ECONNRESET instead of a 413 or 401).
 *
 * One thread owns every lingering socket: a duplicate of the connection's descriptor taken
 * before libmicrohttpd closes its own, so the socket stays open until the duplicate is closed. */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "linger.h"

#define LINGER_MAX 256	       /* sockets lingering at once; more are closed at once */
#define LINGER_MS 2000	       /* how long a client may keep sending after the answer */
#define LINGER_BYTES (64 << 20) /* and how much it may send meanwhile */

struct lingering {
	int fd;
	int64_t deadline_ms;
	size_t discarded;
};

static struct {
	pthread_mutex_t lock;
	pthread_t thread;
	bool running, stopping;
	int wake; /* eventfd: a socket was added, or stop */
	struct lingering v[LINGER_MAX];
	unsigned n;
} l = {.lock = PTHREAD_MUTEX_INITIALIZER, .wake = -1};

static int64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Reads and discards what is there. Returns true when the socket is done with (EOF, error, or
 * over its budget). */
static bool
drain(struct lingering *g)
{
	char buf[16384];

	for (;;) {
		ssize_t r = recv(g->fd, buf, sizeof(buf), MSG_DONTWAIT);
		if (r > 0) {
			g->discarded += (size_t)r;
			if (g->discarded > LINGER_BYTES)
				return true;
			continue;
		}
		if (r < 0 && errno == EINTR)
			continue;
		return !(r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK));
	}
}

static void *
linger_main(void *arg)
{
	struct pollfd p[LINGER_MAX + 1];

	(void)arg;
	for (;;) {
		unsigned n;
		int64_t now = now_ms(), next = now + 1000;

		pthread_mutex_lock(&l.lock);
		if (l.stopping) {
			for (unsigned i = 0; i < l.n; i++)
				close(l.v[i].fd);
			l.n = 0;
			pthread_mutex_unlock(&l.lock);
			return NULL;
		}
		for (unsigned i = 0; i < l.n;) { /* close what is over its time */
			if (l.v[i].deadline_ms <= now) {
				close(l.v[i].fd);
				l.v[i] = l.v[--l.n];
				continue;
			}
			if (l.v[i].deadline_ms < next)
				next = l.v[i].deadline_ms;
			p[i] = (struct pollfd){.fd = l.v[i].fd, .events = POLLIN};
			i++;
		}
		n = l.n;
		pthread_mutex_unlock(&l.lock);
		p[n] = (struct pollfd){.fd = l.wake, .events = POLLIN};
		if (poll(p, n + 1, (int)(next - now)) < 0 && errno != EINTR)
			continue;
		if (p[n].revents & POLLIN) {
			uint64_t v;
			if (read(l.wake, &v, sizeof(v)) < 0) {
				/* nothing to do: the counter is reset or will be read next time */
			}
		}
		pthread_mutex_lock(&l.lock);
		/* only this thread removes entries, so the first n are the ones polled */
		for (unsigned i = n; i-- > 0;)
			if ((p[i].revents & (POLLIN | POLLHUP | POLLERR)) && drain(&l.v[i])) {
				close(l.v[i].fd);
				l.v[i] = l.v[--l.n];
			}
		pthread_mutex_unlock(&l.lock);
	}
}

int
linger_start(void)
{
	if ((l.wake = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) < 0)
		return -1;
	l.stopping = false;
	if (pthread_create(&l.thread, NULL, linger_main, NULL) != 0) {
		close(l.wake);
		l.wake = -1;
		return -1;
	}
	l.running = true;
	return 0;
}

void
linger_add(int fd)
{
	uint64_t one = 1;
	bool taken = false;

	if (fd < 0)
		return;
	/* libmicrohttpd shuts the sending side down itself (after a TLS close_notify) */
	pthread_mutex_lock(&l.lock);
	if (l.running && !l.stopping && l.n < LINGER_MAX) {
		l.v[l.n++] = (struct lingering){.fd = fd, .deadline_ms = now_ms() + LINGER_MS};
		taken = true;
	}
	pthread_mutex_unlock(&l.lock);
	if (!taken) {
		close(fd);
		return;
	}
	if (write(l.wake, &one, sizeof(one)) < 0) {
		/* the eventfd cannot overflow at one per socket; the poll timeout covers it anyway
		 */
	}
}

unsigned
linger_count(void)
{
	unsigned n;

	pthread_mutex_lock(&l.lock);
	n = l.n;
	pthread_mutex_unlock(&l.lock);
	return n;
}

void
linger_stop(void)
{
	uint64_t one = 1;

	if (!l.running)
		return;
	pthread_mutex_lock(&l.lock);
	l.stopping = true;
	pthread_mutex_unlock(&l.lock);
	if (write(l.wake, &one, sizeof(one)) < 0) {
		/* the thread notices within its poll timeout */
	}
	pthread_join(l.thread, NULL);
	close(l.wake);
	l.wake = -1;
	l.running = false;
}
