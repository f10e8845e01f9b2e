// links: tests/unit/stub_kernel.c agent/instance.c agent/sync_group.c agent/inst_group.c agent/track.c agent/garp.c agent/vrrp_unicast.c agent/realtime.c agent/caps.c agent/vrrp.c agent/vrrp_packet.c agent/vrrp_drops.c agent/checks.c agent/check_net.c agent/check_script.c agent/script.c agent/text.c agent/curl_loop.c agent/loop.c agent/haproxy.c common/addr.c common/errmsg.c
/* Fuzzes the agent's reading of its node config (GET /nodes/{name}/config, which it also reads
 * back from its cache on disk): the VRRP instances (agent/instance.c, with the state machine of
 * agent/vrrp.c), the checks (agent/checks.c) and the HAProxy servers (agent/haproxy.c, without a
 * socket), with the kernel replaced by tests/unit/stub_kernel.c. Input: one JSON text, applied
 * as agent.c applies a config, then again (updates), with a link going down and checks changing
 * in between, then an empty config (removals). The agent is node lb1. Oracles: the sanitizers,
 * and at most INST_MAX instances. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "checks.h"
#include "haproxy.h"
#include "instance.h"

static struct loop *loop;

static void
apply(struct inst_env *env, struct checks *cs, struct haproxy *h, struct instance *tab[], int *n,
      json_t *cfg)
{
	bool fault = false;
	char buf[512];

	checks_apply(cs, cfg, env->node);
	env->check_adjust = checks_priority_adjust(cs, &fault);
	env->check_fault = fault;
	if (fault)
		checks_node_failures(cs, env->fault_reason, sizeof(env->fault_reason));
	inst_apply(env, tab, n, cfg);
	if (*n > INST_MAX)
		abort();
	inst_checks(env, tab, *n);
	json_t *health = checks_backend_health(cs);
	haproxy_apply(h, NULL, json_object_get(cfg, "backends"), health);
	json_decref(health);
	json_t *report = checks_report(cs), *vrrp = json_object(), *held = json_array();
	inst_report(tab, *n, vrrp, held);
	checks_node_failures(cs, buf, sizeof(buf));
	json_decref(report);
	json_decref(vrrp);
	json_decref(held);
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	loop = loop_new();
	if (loop == NULL)
		abort();
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct inst_env env;
	struct instance *tab[INST_MAX];
	int n = 0;
	json_t *cfg, *empty;
	struct checks *cs;
	struct haproxy *h;

	if (size > 64 * 1024)
		return 0;
	cfg = json_loadb((const char *)data, size, 0, NULL);
	if (cfg == NULL)
		return 0;
	empty = json_object();
	memset(&env, 0, sizeof(env));
	env.loop = loop;
	env.nl = NULL; /* the stubs ignore it */
	env.sock4 = env.sock6 = 100;
	env.arp_fd = -1;
	env.node = "lb1";
	env.moves_done = json_pack("{s:i}", "web", 1);
	cs = checks_new(loop, "/nonexistent", "nobody", NULL, NULL);
	h = haproxy_new(loop);
	if (cs == NULL || h == NULL)
		abort();

	apply(&env, cs, h, tab, &n, cfg);
	inst_link(&env, tab, n, 2, false); /* eth0 goes down, and up again */
	inst_link(&env, tab, n, 2, true);
	env.check_adjust = -30;
	inst_checks(&env, tab, n);
	apply(&env, cs, h, tab, &n, cfg);
	apply(&env, cs, h, tab, &n, empty);
	inst_shutdown_all(&env, tab, &n);

	haproxy_free(h);
	checks_free(cs);
	json_decref(env.moves_done);
	json_decref(env.last_transition);
	json_decref(empty);
	json_decref(cfg);
	return 0;
}
