/* curl_multi_socket_action on epoll: the socket callback (de)registers fds with the loop, the
 * timer callback arms one loop timer, and both events feed curl and then the owner's collect. */
#include <sys/epoll.h>

#include "curl_loop.h"

static void
on_fd(int fd, uint32_t events, void *arg)
{
	struct curl_loop *cl = arg;
	int flags = 0, running;

	if (events & EPOLLIN)
		flags |= CURL_CSELECT_IN;
	if (events & EPOLLOUT)
		flags |= CURL_CSELECT_OUT;
	if (events & (EPOLLERR | EPOLLHUP))
		flags |= CURL_CSELECT_ERR;
	curl_multi_socket_action(cl->multi, fd, flags, &running);
	cl->collect(cl->arg);
}

static void
on_timer(void *arg)
{
	struct curl_loop *cl = arg;
	int running;

	curl_multi_socket_action(cl->multi, CURL_SOCKET_TIMEOUT, 0, &running);
	cl->collect(cl->arg);
}

static int
sock_cb(CURL *easy, curl_socket_t s, int what, void *userp, void *socketp)
{
	struct curl_loop *cl = userp;
	uint32_t ev = 0;

	(void)easy;
	(void)socketp;
	if (what == CURL_POLL_REMOVE) {
		loop_fd_del(cl->loop, s);
		return 0;
	}
	if (what & CURL_POLL_IN)
		ev |= EPOLLIN;
	if (what & CURL_POLL_OUT)
		ev |= EPOLLOUT;
	if (loop_fd_add(cl->loop, s, ev, on_fd, cl) != 0)
		loop_fd_mod(cl->loop, s, ev);
	return 0;
}

static int
timer_cb(CURLM *multi, long timeout_ms, void *userp)
{
	struct curl_loop *cl = userp;

	(void)multi;
	if (timeout_ms < 0)
		loop_timer_off(cl->loop, &cl->timer);
	else
		loop_timer_at(cl->loop, &cl->timer, loop_now_ms() + timeout_ms);
	return 0;
}

int
curl_loop_init(struct curl_loop *cl, struct loop *l, void (*collect)(void *arg), void *arg)
{
	cl->loop = l;
	cl->collect = collect;
	cl->arg = arg;
	cl->timer = (struct loop_timer){.fn = on_timer, .arg = cl};
	if ((cl->multi = curl_multi_init()) == NULL)
		return -1;
	curl_multi_setopt(cl->multi, CURLMOPT_SOCKETFUNCTION, sock_cb);
	curl_multi_setopt(cl->multi, CURLMOPT_SOCKETDATA, cl);
	curl_multi_setopt(cl->multi, CURLMOPT_TIMERFUNCTION, timer_cb);
	curl_multi_setopt(cl->multi, CURLMOPT_TIMERDATA, cl);
	return 0;
}

void
curl_loop_cleanup(struct curl_loop *cl)
{
	loop_timer_off(cl->loop, &cl->timer);
	curl_multi_cleanup(cl->multi);
	cl->multi = NULL;
}
