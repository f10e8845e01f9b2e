// links: agent/haproxy.c agent/loop.c
/* Fuzzes how the agent reads HAProxy runtime-API answers (agent/haproxy.c): `show info` parsing
 * on its own, then the whole exchange against a fake admin socket on the agent's loop that answers
 * each command with the next answer from the input. Input: the node config's backends and the
 * backend health as one JSON object {"backends": [...], "health": {...}}, then the answers, each
 * after a "\n%%\n" line. The loop stops when the answers run out or nothing is sent for 5 ms (a
 * failed `show info` waits for the next second's poll). Oracles are the sanitizers: the answers
 * come from a socket, so no answer may make the agent misbehave. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "haproxy.h"

#define SEP "\n%%\n"
#define MAX_ANSWERS 16
#define IDLE_MS 5

static struct {
	struct loop *loop;
	int lfd;
	char path[108];
	const uint8_t *answer[MAX_ANSWERS];
	size_t answer_len[MAX_ANSWERS];
	int n_answers, next;
	struct loop_timer idle;
	int clients[64]; /* accepted and not yet answered */
	int n_clients;
} f;

static void
client_close(int fd)
{
	for (int i = 0; i < f.n_clients; i++)
		if (f.clients[i] == fd) {
			f.clients[i] = f.clients[--f.n_clients];
			break;
		}
	loop_fd_del(f.loop, fd);
	close(fd);
}

static void
on_idle(void *arg)
{
	(void)arg;
	loop_stop(f.loop);
}

/* A command arrived: answer it with the next answer, or stop when there is none. */
static void
on_client(int fd, uint32_t events, void *arg)
{
	char buf[512];
	ssize_t n = read(fd, buf, sizeof(buf));

	(void)events;
	(void)arg;
	if (n < 0)
		return;
	if (n > 0 && f.next < f.n_answers) {
		const uint8_t *a = f.answer[f.next];
		size_t len = f.answer_len[f.next++];
		while (len > 0) {
			ssize_t w = send(fd, a, len, MSG_NOSIGNAL);
			if (w <= 0)
				break;
			a += w;
			len -= (size_t)w;
		}
	}
	client_close(fd);
	if (f.next >= f.n_answers)
		loop_stop(f.loop);
	else
		loop_timer_at(f.loop, &f.idle, loop_now_ms() + IDLE_MS);
}

static void
on_listen(int fd, uint32_t events, void *arg)
{
	int c;

	(void)events;
	(void)arg;
	while ((c = accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC)) >= 0)
		if (f.n_clients == 64 || loop_fd_add(f.loop, c, EPOLLIN, on_client, NULL) != 0)
			close(c);
		else
			f.clients[f.n_clients++] = c;
}

/* Forgets every connection of this input, answered or not, so the next input starts clean. */
static void
clients_drop(void)
{
	int c;

	while (f.n_clients > 0)
		client_close(f.clients[0]);
	while ((c = accept4(f.lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC)) >= 0)
		close(c);
}

static void
fake_cleanup(void)
{
	unlink(f.path);
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};

	(void)argc;
	(void)argv;
	snprintf(f.path, sizeof(f.path), "/tmp/vigil-fuzz-haproxy-%d.sock", (int)getpid());
	unlink(f.path);
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", f.path);
	f.loop = loop_new();
	f.lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (f.loop == NULL || f.lfd < 0 || bind(f.lfd, (struct sockaddr *)&sa, sizeof(sa)) != 0 ||
	    listen(f.lfd, 64) != 0 || loop_fd_add(f.loop, f.lfd, EPOLLIN, on_listen, NULL) != 0) {
		perror("fuzz_haproxy: fake admin socket");
		abort();
	}
	atexit(fake_cleanup);
	f.idle.fn = on_idle;
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *p, *end = data + size, *sep;
	json_t *cfg, *backends, *health;
	struct haproxy *h;
	long pid, up;

	if (size > 64 * 1024)
		return 0;
	/* show info on the whole input, as text */
	char *text = malloc(size + 1);
	memcpy(text, data, size);
	text[size] = '\0';
	haproxy_parse_info(text, &pid, &up);
	free(text);

	sep = memmem(data, size, SEP, sizeof(SEP) - 1);
	cfg = json_loadb((const char *)data, sep ? (size_t)(sep - data) : size, 0, NULL);
	backends = json_object_get(cfg, "backends");
	health = json_object_get(cfg, "health");
	f.n_answers = f.next = 0;
	for (p = sep ? sep + sizeof(SEP) - 1 : end; p < end && f.n_answers < MAX_ANSWERS;) {
		sep = memmem(p, (size_t)(end - p), SEP, sizeof(SEP) - 1);
		f.answer[f.n_answers] = p;
		f.answer_len[f.n_answers++] = sep ? (size_t)(sep - p) : (size_t)(end - p);
		p = sep ? sep + sizeof(SEP) - 1 : end;
	}
	h = haproxy_new(f.loop);
	haproxy_apply(h, f.path, backends, health);
	if (f.n_answers > 0) {
		loop_timer_at(f.loop, &f.idle, loop_now_ms() + IDLE_MS);
		loop_run(f.loop);
		/* the same config again, then an emptied one: what was told is kept, then dropped
		 */
		haproxy_apply(h, f.path, backends, health);
		haproxy_apply(h, f.path, NULL, NULL);
	}
	loop_timer_off(f.loop, &f.idle);
	haproxy_free(h);
	clients_drop();
	json_decref(cfg);
	return 0;
}
