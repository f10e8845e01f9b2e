// links: agent/caps.c common/errmsg.c
/* Unit tests for the agent's capability sets: which capabilities it keeps with and without
 * script checks, their names, and (as root, in a forked child) the drop itself as the kernel then
 * shows it in /proc/self/status. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include "caps.h"

#define NET_ADMIN (1ULL << 12)
#define NET_RAW (1ULL << 13)
#define KILL (1ULL << 5)
#define SETGID (1ULL << 6)
#define SETUID (1ULL << 7)

static void
test_needed_sets(void **state)
{
	(void)state;
	assert_int_equal(caps_needed(false), NET_ADMIN | NET_RAW);
	assert_int_equal(caps_needed(true), NET_ADMIN | NET_RAW | KILL | SETGID | SETUID);
	assert_int_equal(caps_needed(false), 0x3000);
	assert_int_equal(caps_needed(true), 0x30e0);
}

static void
test_names_and_format(void **state)
{
	char buf[200];

	(void)state;
	assert_string_equal(caps_name(12), "cap_net_admin");
	assert_string_equal(caps_name(13), "cap_net_raw");
	assert_string_equal(caps_name(0), "cap_chown");
	assert_null(caps_name(-1));
	assert_null(caps_name(63));
	assert_string_equal(caps_format(0, buf, sizeof(buf)), "");
	assert_string_equal(caps_format(caps_needed(false), buf, sizeof(buf)),
			    "cap_net_admin,cap_net_raw");
	assert_string_equal(caps_format(caps_needed(true), buf, sizeof(buf)),
			    "cap_kill,cap_setgid,cap_setuid,cap_net_admin,cap_net_raw");
	assert_string_equal(caps_format(1ULL << 62 | 1, buf, sizeof(buf)), "cap_chown,cap_62");
	/* Too small: whole names only. */
	assert_string_equal(caps_format(caps_needed(false), buf, 20), "cap_net_admin");
}

/* The hex value of field ("CapEff:") in /proc/self/status, or ~0 when absent. */
static unsigned long long
status_field(const char *field)
{
	char line[256];
	unsigned long long v = ~0ULL;
	FILE *f = fopen("/proc/self/status", "r");

	if (f == NULL)
		return v;
	while (fgets(line, sizeof(line), f) != NULL)
		if (strncmp(line, field, strlen(field)) == 0)
			v = strtoull(line + strlen(field), NULL, strcmp(field, "NoNewPrivs:") ? 16 : 10);
	fclose(f);
	return v;
}

/* In a child (the drop is for good): the sets the kernel shows after caps_drop. Exit status 0
 * when they are exactly keep, with nothing inheritable or ambient and no_new_privs as asked. */
static int
drop_in_child(caps_mask keep, bool nnp)
{
	pid_t pid = fork();
	int st;

	if (pid == 0) {
		char err[200];
		caps_mask eff = 0, prm = 0;
		int bad = 0;

		if (caps_drop(keep, nnp, err, sizeof(err)) != 0) {
			fprintf(stderr, "caps_drop: %s\n", err);
			_exit(10);
		}
		bad |= caps_get(&eff, &prm) != 0 || eff != keep || prm != keep;
		bad |= (status_field("CapEff:") != keep) << 1;
		bad |= (status_field("CapPrm:") != keep) << 2;
		bad |= (status_field("CapBnd:") != keep) << 3;
		bad |= (status_field("CapInh:") != 0) << 4;
		bad |= (status_field("CapAmb:") != 0) << 5;
		bad |= (status_field("NoNewPrivs:") != (nnp ? 1 : 0)) << 6;
		_exit(bad);
	}
	assert_true(pid > 0);
	assert_int_equal(waitpid(pid, &st, 0), pid);
	return WIFEXITED(st) ? WEXITSTATUS(st) : 100;
}

static void
test_drop_as_root(void **state)
{
	caps_mask eff = 0;

	(void)state;
	assert_int_equal(caps_get(&eff, NULL), 0);
	if (geteuid() != 0 || (eff & caps_needed(true)) != caps_needed(true) || !(eff & 1ULL << 8)) {
		printf("skipped: needs root with CAP_SETPCAP\n");
		return;
	}
	assert_int_equal(drop_in_child(caps_needed(false), true), 0);
	assert_int_equal(drop_in_child(caps_needed(true), false), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_needed_sets),
	    cmocka_unit_test(test_names_and_format),
	    cmocka_unit_test(test_drop_as_root),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
