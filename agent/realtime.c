/* Real-time scheduling and memory locking of the agent (see realtime.h). The kernel interfaces:
 * sched_setscheduler(2) with SCHED_RESET_ON_FORK, so script checks, notify scripts and any thread
 * a library starts run as ordinary tasks; mlockall(2), with setrlimit(2) first, because a locked
 * process without CAP_IPC_LOCK (caps.c drops what is not asked for) may lock no more than
 * RLIMIT_MEMLOCK: with MCL_FUTURE every later mmap, a malloc arena included, would fail beyond it.
 * Where the limit cannot be raised (no CAP_SYS_RESOURCE) but CAP_IPC_LOCK is held, the agent keeps
 * that one capability rather than run unlocked. */
#include <errno.h>
#include <linux/capability.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>

#include "realtime.h"

#if defined(__SANITIZE_ADDRESS__)
#define RT_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define RT_ASAN 1
#endif
#endif
#ifndef RT_ASAN
#define RT_ASAN 0
#endif

#define LATE_LOG_EVERY_MS 10000
#define RT_CHILD_MEMLOCK (8u << 20) /* the kernel's default RLIMIT_MEMLOCK */

const char *
rt_policy_name(int policy)
{
	switch (policy & ~SCHED_RESET_ON_FORK) {
	case SCHED_OTHER:
		return "SCHED_OTHER";
	case SCHED_FIFO:
		return "SCHED_FIFO";
	case SCHED_RR:
		return "SCHED_RR";
	case SCHED_BATCH:
		return "SCHED_BATCH";
	case SCHED_IDLE:
		return "SCHED_IDLE";
#ifdef SCHED_DEADLINE
	case SCHED_DEADLINE:
		return "SCHED_DEADLINE";
#endif
	}
	return "unknown";
}

/* Reads back what the kernel has for this process. */
static void
read_policy(struct rt_state *st)
{
	struct sched_param p = {0};
	int pol = sched_getscheduler(0);

	st->policy = pol < 0 ? SCHED_OTHER : pol & ~SCHED_RESET_ON_FORK;
	st->priority = sched_getparam(0, &p) == 0 ? p.sched_priority : 0;
}

static void
set_policy(struct rt_state *st)
{
	struct sched_param p = {.sched_priority = RT_PRIORITY};

	if (sched_setscheduler(0, SCHED_RR | SCHED_RESET_ON_FORK, &p) != 0)
		snprintf(st->sched_why, sizeof(st->sched_why), "SCHED_RR refused: %s%s",
			 strerror(errno),
			 errno == EPERM ? " (needs CAP_SYS_NICE or RLIMIT_RTPRIO, and real-time "
					  "runtime in the cgroup)"
					: "");
}

/* Locks memory only when RLIMIT_MEMLOCK is (or can be made) unlimited: see the file comment. */
static void
lock_memory(struct rt_state *st)
{
	struct rlimit rl = {RLIM_INFINITY, RLIM_INFINITY}, cur;

	if (RT_ASAN) {
		snprintf(st->lock_why, sizeof(st->lock_why),
			 "not locked: AddressSanitizer build (its shadow memory cannot be locked)");
		return;
	}
	caps_mask eff = 0;
	bool limited = false;

	if (setrlimit(RLIMIT_MEMLOCK, &rl) != 0 && getrlimit(RLIMIT_MEMLOCK, &cur) == 0 &&
	    cur.rlim_cur != RLIM_INFINITY) {
		int e = errno;
		limited = true;
		if (caps_get(&eff, NULL) != 0 || !(eff & (caps_mask)1 << CAP_IPC_LOCK)) {
			snprintf(
			    st->lock_why, sizeof(st->lock_why),
			    "not locked: RLIMIT_MEMLOCK is %llu KiB and cannot be raised (%s), "
			    "and without CAP_IPC_LOCK later allocations would fail: set "
			    "LimitMEMLOCK=infinity",
			    (unsigned long long)cur.rlim_cur / 1024, strerror(e));
			return;
		}
	}
	if (mlockall(MCL_CURRENT | MCL_FUTURE) != 0) {
		snprintf(st->lock_why, sizeof(st->lock_why), "mlockall: %s", strerror(errno));
		return;
	}
	st->memory_locked = true;
	st->keep_ipc_lock = limited;
}

void
rt_setup(bool enable, struct rt_state *st)
{
	memset(st, 0, sizeof(*st));
	st->requested = enable;
	if (enable) {
		lock_memory(st);
		set_policy(st);
	}
	read_policy(st);
}

caps_mask
rt_caps_needed(const struct rt_state *st)
{
	return st->keep_ipc_lock ? (caps_mask)1 << CAP_IPC_LOCK : 0;
}

void
rt_child_reset(void)
{
	struct rlimit rl = {RT_CHILD_MEMLOCK, RT_CHILD_MEMLOCK}, cur;

	if (getrlimit(RLIMIT_MEMLOCK, &cur) == 0 &&
	    (cur.rlim_max == RLIM_INFINITY || cur.rlim_max > RT_CHILD_MEMLOCK))
		setrlimit(RLIMIT_MEMLOCK, &rl);
}

void
rt_describe(const struct rt_state *st, char *buf, size_t len)
{
	if (!st->requested) {
		snprintf(buf, len, "real-time off (--no-realtime): %s, memory not locked",
			 rt_policy_name(st->policy));
		return;
	}
	snprintf(buf, len, "real-time: %s priority %d%s%s; memory %s%s%s",
		 rt_policy_name(st->policy), st->priority, st->sched_why[0] ? ", " : "",
		 st->sched_why, st->memory_locked ? "locked" : "", st->lock_why,
		 st->keep_ipc_lock ? " (RLIMIT_MEMLOCK is finite: keeping CAP_IPC_LOCK)" : "");
}

json_t *
rt_report(const struct rt_state *st)
{
	json_t *r = json_pack("{s:s, s:i, s:b}", "policy", rt_policy_name(st->policy), "priority",
			      st->priority, "memory_locked", st->memory_locked);
	char why[400];

	if (r == NULL)
		return NULL;
	if (!st->requested)
		json_object_set_new(r, "reason", json_string("--no-realtime"));
	else if (st->sched_why[0] || st->lock_why[0]) {
		snprintf(why, sizeof(why), "%s%s%s", st->sched_why,
			 st->sched_why[0] && st->lock_why[0] ? "; " : "", st->lock_why);
		json_object_set_new(r, "reason", json_string(why));
	}
	return r;
}

int64_t
rt_timer_late(const char *name, int64_t late_ms, uint32_t interval_ms, int64_t now_ms)
{
	static int64_t worst, worst_unlogged, logged_at;

	if (late_ms > worst)
		worst = late_ms;
	if (late_ms * 4 < (int64_t)interval_ms)
		return worst;
	if (late_ms > worst_unlogged)
		worst_unlogged = late_ms;
	if (logged_at != 0 && now_ms - logged_at < LATE_LOG_EVERY_MS)
		return worst;
	fprintf(stderr,
		"vigil-agent: %s: VRRP timer ran %lld ms late (advert interval %u ms; worst since "
		"the last warning %lld ms): the host is too busy for these timers\n",
		name, (long long)late_ms, interval_ms, (long long)worst_unlogged);
	logged_at = now_ms;
	worst_unlogged = 0;
	return worst;
}
