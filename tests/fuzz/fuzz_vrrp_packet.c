// links: agent/vrrp_packet.c agent/vrrp.c common/addr.c
/* Fuzzes the VRRP v2/v3 decoder (agent/vrrp_packet.c) with what a raw socket hands the agent, and
 * feeds every accepted advertisement to a running state machine (agent/vrrp.c).
 * Input: byte 0 flags (bit 0 IPv6, bit 1 expect v3, bit 2 expect v2 PASS, bit 3 fix the checksum
 * so that the later checks are reached, bit 4 TTL 254, bits 5-7 our priority), bytes 1-8 the
 * expected password, the rest the VRRP message. Oracles: an accepted advertisement is consistent
 * with what was expected, re-encodes, and decodes again to the same fields. */
#include <arpa/inet.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_check.h"
#include "vrrp.h"
#include "vrrp_packet.h"

#define HDR 9

static struct addr
ip(int family, const char *s)
{
	struct addr a;

	memset(&a, 0, sizeof(a));
	a.family = family;
	inet_pton(family, s, &a.u);
	return a;
}

/* Feeds adv to a fresh instance that shares its VRID, version and family, started at time 0. */
static void
run_state_machine(const struct vrrp_advert *adv, const struct vrrp_rx_meta *m,
		  const struct vrrp_rx_expect *e, uint8_t flags)
{
	static struct vrrp_instance inst;
	struct vrrp_config cfg;
	struct vrrp_actions acts;
	char err[160];

	vrrp_config_defaults(&cfg);
	cfg.vrid = adv->vrid ? adv->vrid : 1;
	cfg.version = e->version;
	cfg.family = m->family;
	cfg.priority = (uint8_t)(1 + (flags >> 5) * 36);
	cfg.advert_int_ms = e->version == 2 ? 1000 : 100;
	cfg.preempt = flags & 0x20;
	cfg.primary = ip(m->family, m->family == AF_INET ? "198.18.0.2" : "fe80::2");
	cfg.naddr = 1;
	cfg.addrs[0] = ip(m->family, m->family == AF_INET ? "192.0.2.10" : "2001:db8::10");
	cfg.auth_type = e->auth_type;
	memcpy(cfg.auth_data, e->auth_data, VRRP_AUTH_LEN);
	if (vrrp_init(&inst, &cfg, err, sizeof(err)) != 0)
		return;
	vrrp_start(&inst, 0, &acts);
	vrrp_recv(&inst, adv, &m->src, 10, &acts);
	vrrp_timer(&inst, 5000, &acts); /* past Master_Down_Interval: Master unless preempted */
	vrrp_recv(&inst, adv, &m->src, 5010, &acts);
	vrrp_timer(&inst, 300000, &acts);
	vrrp_shutdown(&inst, 300010, &acts);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct vrrp_rx_meta m = {.ttl = 255};
	struct vrrp_rx_expect e = {0};
	struct vrrp_advert adv, again;
	uint8_t pkt[1024], out[VRRP_PKT_MAX];
	size_t len;
	uint8_t flags;

	if (size < HDR || size - HDR > sizeof(pkt))
		return 0;
	flags = data[0];
	m.family = flags & 1 ? AF_INET6 : AF_INET;
	/* the sources of the keepalived captures in tests/unit/test_vrrp_packet.c */
	m.src = ip(m.family, m.family == AF_INET ? "198.18.0.1" : "fe80::e8e8:e7ff:fe29:dfef");
	m.dst = ip(m.family, m.family == AF_INET ? VRRP_GROUP_V4 : VRRP_GROUP_V6);
	m.ttl = flags & 0x10 ? 254 : 255;
	e.version = flags & 2 ? 3 : 2;
	if (e.version == 2 && (flags & 4)) {
		e.auth_type = VRRP_AUTH_PASS;
		memcpy(e.auth_data, data + 1, VRRP_AUTH_LEN);
	}
	len = size - HDR;
	memcpy(pkt, data + HDR, len);
	if ((flags & 8) && len >= VRRP_HDR_LEN) {
		uint16_t ck;
		pkt[6] = pkt[7] = 0;
		ck = vrrp_checksum(pkt, len, pkt[0] >> 4, &m.src, &m.dst);
		pkt[6] = (uint8_t)(ck >> 8);
		pkt[7] = (uint8_t)ck;
	}
	if (vrrp_packet_decode(pkt, len, &m, &e, &adv) != VRRP_PKT_OK)
		return 0;

	CHECK(adv.version == e.version && adv.type == VRRP_TYPE_ADVERT);
	CHECK(adv.naddr >= 1 && adv.naddr <= VRRP_MAX_ADDRS);
	CHECK(len == vrrp_packet_len(adv.version, m.family, adv.naddr));
	CHECK(adv.adver_int_ms > 0 && adv.family == m.family);
	CHECK(adv.version == 3 || adv.auth_type == e.auth_type);
	if (adv.version == 2 && adv.auth_type == VRRP_AUTH_NONE)
		memset(adv.auth_data, 0, VRRP_AUTH_LEN); /* not carried: the encoder writes zeros */

	ssize_t n = vrrp_packet_encode(&adv, &m.src, &m.dst, out, sizeof(out));
	CHECK(n == (ssize_t)len);
	CHECK(vrrp_packet_decode(out, (size_t)n, &m, &e, &again) == VRRP_PKT_OK);
	if (again.version == 2 && again.auth_type == VRRP_AUTH_NONE)
		memset(again.auth_data, 0, VRRP_AUTH_LEN);
	CHECK(again.vrid == adv.vrid && again.priority == adv.priority);
	CHECK(again.adver_int_ms == adv.adver_int_ms && again.naddr == adv.naddr);
	CHECK(memcmp(again.addrs, adv.addrs, sizeof(adv.addrs)) == 0);
	CHECK(memcmp(again.auth_data, adv.auth_data, VRRP_AUTH_LEN) == 0);

	run_state_machine(&adv, &m, &e, flags);
	return 0;
}
