// links: agent/loop.c
/* The agent's event loop (agent/loop.c): when input and a due timer are ready in the same wake-up,
 * the input is handled first, so an advert that re-arms the Master_Down timer prevents its
 * firing even when the timer fell due before the advert arrived. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "loop.h"

struct scene {
	struct loop *l;
	struct loop_timer down; /* stands for Master_Down: must not fire if input re-arms it */
	char order[8];
	int n;
	int fds[2];
};

static void
on_input(int fd, uint32_t events, void *arg)
{
	struct scene *s = arg;
	char c;

	(void)events;
	assert_int_equal(read(fd, &c, 1), 1);
	s->order[s->n++] = 'i';
	loop_timer_at(s->l, &s->down, loop_now_ms() + 10000); /* the advert re-arms the timer */
}

static void
on_down(void *arg)
{
	struct scene *s = arg;

	s->order[s->n++] = 'd';
	loop_stop(s->l);
}

static void
on_stop(void *arg)
{
	struct scene *s = arg;

	s->order[s->n++] = 's';
	loop_stop(s->l);
}

static void
test_input_before_a_due_timer(void **state)
{
	struct scene s = {0};
	struct loop_timer stop = {.fn = on_stop, .arg = &s};
	struct timespec late = {.tv_nsec = 30 * 1000 * 1000};

	(void)state;
	assert_non_null(s.l = loop_new());
	assert_int_equal(pipe(s.fds), 0);
	s.down.fn = on_down;
	s.down.arg = &s;
	assert_int_equal(loop_fd_add(s.l, s.fds[0], 1 /* EPOLLIN */, on_input, &s), 0);
	loop_timer_at(s.l, &s.down, loop_now_ms() + 5);
	loop_timer_at(s.l, &stop, loop_now_ms() + 200);
	/* The loop is late: the timer fell due first, then the advert arrived (so epoll lists the
	 * timer's descriptor before the socket's); both wait when the loop runs. */
	nanosleep(&late, NULL);
	assert_int_equal(write(s.fds[1], "a", 1), 1);
	assert_int_equal(loop_run(s.l), 0);
	s.order[s.n] = '\0';
	assert_string_equal(s.order, "is"); /* the input re-armed Master_Down: it never fired */
	loop_free(s.l);
	close(s.fds[0]);
	close(s.fds[1]);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_input_before_a_due_timer),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
