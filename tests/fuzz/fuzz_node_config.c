// links: tests/unit/stub_kernel.c agent/inst_table.c agent/instance.c agent/sync_group.c agent/inst_group.c agent/node_config.c agent/track.c agent/garp.c agent/vrrp_unicast.c agent/realtime.c agent/caps.c agent/vrrp.c agent/vrrp_packet.c agent/vrrp_drops.c agent/checks.c agent/check_net.c agent/check_script.c agent/script.c agent/text.c agent/curl_loop.c agent/loop.c agent/haproxy.c common/addr.c common/errmsg.c common/clock.c
/* Fuzzes the agent's reading of its node config (GET /nodes/{name}/config, which it also reads
 * back from its cache on disk): the typed reading (agent/node_config.c), the VRRP instances
 * (agent/inst_table.c, agent/instance.c, with the state machine of agent/vrrp.c), the checks
 * (agent/checks.c) and the HAProxy servers (agent/haproxy.c, without a socket), with the kernel
 * replaced by tests/unit/stub_kernel.c. Input: one JSON text, applied as agent.c applies a config,
 * then again (updates), with a link going down and checks changing in between, then an empty config
 * (removals). The agent is node lb1. Oracles: the sanitizers, and at most INST_MAX instances. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "checks.h"
#include "haproxy.h"
#include "inst_table.h"
#include "node_config.h"

static struct loop *loop;

static void
apply(struct inst_table *t, struct checks *cs, struct haproxy *h, json_t *cfg)
{
	bool fault = false;
	char buf[512] = "", err[200];
	struct node_config nc;

	checks_apply(cs, cfg, "lb1");
	int adjust = checks_priority_adjust(cs, "web", &fault);
	if (fault)
		checks_node_failures(cs, "web", buf, sizeof(buf));
	(void)adjust;
	inst_table_checks(t);
	if (node_config_parse(cfg, "lb1", &nc, err, sizeof(err)) == 0)
		inst_table_apply(t, &nc);
	node_config_free(&nc);
	if (inst_table_count(t) > INST_MAX)
		abort();
	json_t *health = checks_backend_health(cs);
	haproxy_apply(h, NULL, json_object_get(cfg, "backends"), health);
	json_decref(health);
	json_t *report = checks_report(cs), *vrrp = json_object(), *held = json_array();
	inst_table_report(t, vrrp, held);
	checks_node_failures(cs, NULL, buf, sizeof(buf));
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
	struct inst_io io = {.loop = loop, .nl = NULL, .sock4 = 100, .sock6 = 100, .arp_fd = -1};
	const struct inst_table_hooks hooks = {0};
	struct inst_table *t;
	json_t *cfg, *empty, *moves;
	struct checks *cs;
	struct haproxy *h;

	if (size > 64 * 1024)
		return 0;
	cfg = json_loadb((const char *)data, size, 0, NULL);
	if (cfg == NULL)
		return 0;
	empty = json_object();
	moves = json_pack("{s:i}", "web", 1);
	t = inst_table_new(&io, "lb1", moves, &hooks);
	cs = checks_new(loop, "/nonexistent", "nobody", NULL, NULL);
	h = haproxy_new(loop);
	if (t == NULL || cs == NULL || h == NULL)
		abort();

	apply(t, cs, h, cfg);
	inst_table_link(t, "eth0", 2, false, false); /* eth0 goes down, and up again */
	inst_table_link(t, "eth0", 2, true, false);
	inst_table_checks(t);
	apply(t, cs, h, cfg);
	apply(t, cs, h, empty);
	inst_table_free(t);

	haproxy_free(h);
	checks_free(cs);
	json_decref(moves);
	json_decref(empty);
	json_decref(cfg);
	return 0;
}
