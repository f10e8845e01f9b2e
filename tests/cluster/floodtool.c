/* Test helper for tests/cluster/test_cluster_6_hardening.py: sends bad VRRP packets at a steady
 * rate from inside a network namespace, as a LAN fuzzer would, and says how many it really sent.
 * Built with cc by the test; no project code. Raw IPv4 with IP_HDRINCL (so TTL and every byte are
 * ours), sendmmsg in batches paced on CLOCK_MONOTONIC.
 *
 *   floodtool SRC DST VRID RATE SECONDS
 *
 * Cycles through the kinds below, each a packet the receiver must discard (RFC 5798 7.1), aimed
 * at DST (unicast to one node, or the group). Prints one JSON line: {"sent": N, "seconds": S,
 * "rate": R, "kinds": {"bad_ttl": n, ...}}. Exit 0, 1 on a socket error, 2 on bad usage. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/ip.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define BATCH 50
#define VRRP_PROTO 112

enum kind { BAD_TTL, BAD_CHECKSUM, BAD_VERSION, BAD_TYPE, BAD_LENGTH, UNKNOWN_VRID, KINDS };
static const char *const kind_names[KINDS] = {"bad_ttl",    "bad_checksum", "bad_version",
					      "bad_type",   "bad_length",   "unknown_vrid"};

struct pkt {
	uint8_t b[20 + 16];
	size_t len;
};

static uint16_t
csum(const uint8_t *p, size_t len, uint32_t sum)
{
	for (; len > 1; p += 2, len -= 2)
		sum += (uint32_t)p[0] << 8 | p[1];
	if (len)
		sum += (uint32_t)p[0] << 8;
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

/* A VRRPv3 advert (priority 254, one address, 1 s) with the flaw of kind k, IP header included. */
static void
build(struct pkt *p, enum kind k, struct in_addr src, struct in_addr dst, uint8_t vrid)
{
	uint8_t *ip = p->b, *v = p->b + 20;
	uint8_t pseudo[12];
	uint16_t ck;
	size_t vlen = 12;

	memset(p, 0, sizeof(*p));
	v[0] = k == BAD_VERSION ? 0x21 : k == BAD_TYPE ? 0x32 : 0x31;
	v[1] = k == UNKNOWN_VRID ? (uint8_t)(vrid + 100) : vrid;
	v[2] = 254;
	v[3] = k == BAD_LENGTH ? 2 : 1; /* count 2, one address present */
	v[5] = 100;			/* 100 cs */
	memcpy(v + 8, &src, 4);
	memcpy(pseudo, &src, 4);
	memcpy(pseudo + 4, &dst, 4);
	pseudo[8] = 0;
	pseudo[9] = VRRP_PROTO;
	pseudo[10] = 0;
	pseudo[11] = (uint8_t)vlen;
	ck = csum(v, vlen, 0xffff & ~csum(pseudo, sizeof(pseudo), 0));
	if (k == BAD_CHECKSUM)
		ck ^= 0x5a5a;
	v[6] = (uint8_t)(ck >> 8);
	v[7] = (uint8_t)ck;
	ip[0] = 0x45;
	ip[1] = 0xc0;
	ip[2] = 0;
	ip[3] = (uint8_t)(20 + vlen);
	ip[8] = k == BAD_TTL ? 64 : 255;
	ip[9] = VRRP_PROTO;
	memcpy(ip + 12, &src, 4);
	memcpy(ip + 16, &dst, 4);
	p->len = 20 + vlen;
}

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

int
main(int argc, char **argv)
{
	struct in_addr src, dst;
	struct sockaddr_in to = {.sin_family = AF_INET};
	struct pkt pk[KINDS];
	struct mmsghdr msgs[BATCH];
	struct iovec iov[BATCH];
	unsigned long long sent = 0, per[KINDS] = {0};
	int fd, one = 1, sndbuf = 4 << 20;
	double rate, seconds, t0, t1;

	if (argc != 6 || inet_pton(AF_INET, argv[1], &src) != 1 ||
	    inet_pton(AF_INET, argv[2], &dst) != 1 || (rate = atof(argv[4])) <= 0 ||
	    (seconds = atof(argv[5])) <= 0) {
		fprintf(stderr, "usage: floodtool SRC DST VRID RATE SECONDS\n");
		return 2;
	}
	for (int k = 0; k < KINDS; k++)
		build(&pk[k], k, src, dst, (uint8_t)atoi(argv[3]));
	fd = socket(AF_INET, SOCK_RAW, IPPROTO_RAW);
	if (fd < 0 || setsockopt(fd, IPPROTO_IP, IP_HDRINCL, &one, sizeof(one)) != 0) {
		perror("raw socket");
		return 1;
	}
	setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof(sndbuf));
	if (IN_MULTICAST(ntohl(dst.s_addr)))
		setsockopt(fd, IPPROTO_IP, IP_MULTICAST_IF, &src, sizeof(src));
	to.sin_addr = dst;
	t0 = now_s();
	for (unsigned long long due = 0;;) {
		double t = now_s() - t0;
		int n, got;

		if (t >= seconds)
			break;
		due = (unsigned long long)(t * rate);
		if (due <= sent) {
			struct timespec ns = {0, 200000}; /* 0.2 ms: 4 packets at 20,000/s */
			nanosleep(&ns, NULL);
			continue;
		}
		n = due - sent > BATCH ? BATCH : (int)(due - sent);
		memset(msgs, 0, sizeof(msgs));
		for (int i = 0; i < n; i++) {
			struct pkt *p = &pk[(sent + (unsigned)i) % KINDS];
			iov[i] = (struct iovec){p->b, p->len};
			msgs[i].msg_hdr.msg_name = &to;
			msgs[i].msg_hdr.msg_namelen = sizeof(to);
			msgs[i].msg_hdr.msg_iov = &iov[i];
			msgs[i].msg_hdr.msg_iovlen = 1;
		}
		got = sendmmsg(fd, msgs, (unsigned)n, 0);
		if (got < 0) {
			if (errno == ENOBUFS || errno == EAGAIN || errno == EINTR)
				continue;
			perror("sendmmsg");
			return 1;
		}
		for (int i = 0; i < got; i++)
			per[(sent + (unsigned)i) % KINDS]++;
		sent += (unsigned)got;
	}
	t1 = now_s() - t0;
	printf("{\"sent\": %llu, \"seconds\": %.3f, \"rate\": %.0f, \"kinds\": {", sent, t1,
	       sent / t1);
	for (int k = 0; k < KINDS; k++)
		printf("%s\"%s\": %llu", k ? ", " : "", kind_names[k], per[k]);
	printf("}}\n");
	close(fd);
	return 0;
}
