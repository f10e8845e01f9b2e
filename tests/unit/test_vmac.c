// links: agent/vmac.c agent/netlink.c agent/sysctl.c common/errmsg.c common/addr.c
/* Unit tests for the pure parts of agent/vmac.c: the RFC 5798 7.3 virtual MAC of each family and
 * the macvlan names tried in order (the kernel side is the cluster test's, test_cluster_7_vmac). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <cmocka.h>

#include "vmac.h"

static void
test_virtual_mac_per_family(void **state)
{
	uint8_t mac[6];

	(void)state;
	vmac_address(AF_INET, 51, mac);
	assert_memory_equal(mac, "\x00\x00\x5e\x00\x01\x33", 6);
	vmac_address(AF_INET6, 255, mac);
	assert_memory_equal(mac, "\x00\x00\x5e\x00\x02\xff", 6);
}

static void
test_names_fit_an_interface_name(void **state)
{
	char name[NL_IFNAMSIZ];

	(void)state;
	vmac_name(51, 0, name, sizeof(name));
	assert_string_equal(name, "vrrp.51"); /* keepalived's */
	vmac_name(7, 1, name, sizeof(name));
	assert_string_equal(name, "vrrp.7.1");
	vmac_name(255, VMAC_NAMES - 1, name, sizeof(name));
	assert_string_equal(name, "vrrp.255.9");
	assert_true(strlen(name) < NL_IFNAMSIZ);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_virtual_mac_per_family),
	    cmocka_unit_test(test_names_fit_an_interface_name),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
