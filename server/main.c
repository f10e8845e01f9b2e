/* vigild: flags, start-up (listener, TLS files, --user, store, bootstrap token, server), readiness
 * for the service manager and an orderly stop on SIGTERM/SIGINT. */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/resource.h>

#include "auth.h"
#include "cache.h"
#include "http.h"
#include "server.h"
#include "lease.h"
#include "listener.h"
#include "privdrop.h"
#include "res_node.h"
#include "sdnotify.h"
#include "store.h"

#define VIGIL_VERSION "0.1.0"

static void
usage(FILE *f)
{
	fprintf(
	    f,
	    "usage: vigild [options]\n"
	    "  --listen ADDR:PORT     address to serve on (default 127.0.0.1:8080; IPv6 as "
	    "[::1]:8080)\n"
	    "  --db PATH              SQLite database file (default ./vigil.db); on first start\n"
	    "                         without VIGIL_ADMIN_TOKEN an admin token is written to\n"
	    "                         PATH.admin-token (mode 0600)\n"
	    "  --etcd URL[,URL...]    keep the store in etcd v3 instead of SQLite (not with "
	    "--db):\n"
	    "                         every vigild with the same endpoints and prefix serves the\n"
	    "                         same data; the first start's admin token file is\n"
	    "                         ./vigil-etcd.admin-token\n"
	    "  --etcd-prefix PREFIX   the store's keys in etcd (default /vigil/; ends with /)\n"
	    "  --etcd-cacert PEM      CA certificates to verify the etcd members with\n"
	    "  --etcd-cert PEM        client certificate for etcd (with --etcd-key)\n"
	    "  --etcd-key PEM         private key for --etcd-cert\n"
	    "  --etcd-user NAME       etcd user (etcd auth; with --etcd-password-file)\n"
	    "  --etcd-password-file F its password, the first line of F\n"
	    "  --tls-cert PEM         serve HTTPS with this certificate (needs --tls-key)\n"
	    "  --tls-key PEM          private key for --tls-cert\n"
	    "  --cors-origin ORIGIN   allow browser pages from ORIGIN (repeatable)\n"
	    "  --agent-timeout SEC    mark a node's agent down after SEC seconds without a "
	    "status report (default 10)\n"
	    "  --require-if-match     refuse writes to existing resources without If-Match "
	    "(428)\n"
	    "  --threads N            HTTP worker threads (default 4: writers that wait for the\n  "
	    "                       disk share one sync)\n"
	    "  --events-keep N        change-feed entries kept for /events (default 10000)\n"
	    "  --max-parked N         long-polls waiting at once before 429 (default: 3/4 of "
	    "the\n                         connection limit, which follows RLIMIT_NOFILE)\n"
	    "  --idle-timeout SEC     close a connection idle, or with a request half sent, for\n"
	    "                         SEC seconds (default 15; waiting long-polls are exempt)\n"
	    "  --user NAME            after binding and reading the TLS files, run as user NAME\n"
	    "                         (started as root; the database and its directory must be\n"
	    "                         writable by NAME)\n"
	    "  --help                 this text\n"
	    "  --version              print the version\n"
	    "environment:\n"
	    "  VIGIL_ADMIN_TOKEN      an admin token with this secret exists after start\n"
	    "  NOTIFY_SOCKET          systemd readiness: READY=1 once serving, STOPPING=1 on "
	    "stop\n");
}

/* Parses "A.B.C.D:PORT" or "[V6]:PORT" into ss. Returns 0 or -1. */
static int
parse_listen(const char *s, struct sockaddr_storage *ss)
{
	char host[128];
	const char *colon;
	long port;
	char *end;

	memset(ss, 0, sizeof(*ss));
	if (s[0] == '[') {
		const char *close = strchr(s, ']');
		if (close == NULL || close[1] != ':' || (size_t)(close - s - 1) >= sizeof(host))
			return -1;
		memcpy(host, s + 1, (size_t)(close - s - 1));
		host[close - s - 1] = '\0';
		colon = close + 1;
	} else {
		colon = strrchr(s, ':');
		if (colon == NULL || (size_t)(colon - s) >= sizeof(host))
			return -1;
		memcpy(host, s, (size_t)(colon - s));
		host[colon - s] = '\0';
	}
	port = strtol(colon + 1, &end, 10);
	if (colon[1] == '\0' || *end != '\0' || port < 1 || port > 65535)
		return -1;
	struct sockaddr_in *v4 = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)ss;
	if (inet_pton(AF_INET, host, &v4->sin_addr) == 1) {
		v4->sin_family = AF_INET;
		v4->sin_port = htons((uint16_t)port);
		return 0;
	}
	if (inet_pton(AF_INET6, host, &v6->sin6_addr) == 1) {
		v6->sin6_family = AF_INET6;
		v6->sin6_port = htons((uint16_t)port);
		return 0;
	}
	return -1;
}

/* Reads a whole file into a NUL-terminated malloc'd string (caller frees), or NULL. */
static char *
slurp(const char *path)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	long n;

	if (f == NULL)
		return NULL;
	if (fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) >= 0 && n < 1 << 20 &&
	    fseek(f, 0, SEEK_SET) == 0 && (buf = malloc((size_t)n + 1)) != NULL) {
		if (fread(buf, 1, (size_t)n, f) != (size_t)n) {
			free(buf);
			buf = NULL;
		} else {
			buf[n] = '\0';
		}
	}
	fclose(f);
	return buf;
}

/* The store options: SQLite's database or etcd's connection. */
struct store_args {
	const char *db;
	bool db_given;
	struct store_etcd_opts etcd;
	const char *password_file;
};

/* Opens the store args name. Returns 0, or -1 with a message printed. The etcd password is read
 * from its file here and wiped after use. */
static int
open_store(struct store_args *a, long events_keep, char *err, size_t errlen)
{
	char *pw = NULL;
	int rc;

	if (a->etcd.endpoints == NULL)
		return store_open(a->db, events_keep, server_notify, err, errlen) == STORE_OK ? 0
											      : -1;
	if (a->password_file != NULL) {
		if ((pw = slurp(a->password_file)) == NULL) {
			snprintf(err, errlen, "cannot read %s: %s", a->password_file,
				 strerror(errno));
			return -1;
		}
		pw[strcspn(pw, "\r\n")] = '\0';
		a->etcd.password = pw;
	}
	rc = store_open_etcd(&a->etcd, events_keep, server_notify, err, errlen);
	if (pw != NULL) {
		explicit_bzero(pw, strlen(pw));
		free(pw);
	}
	a->etcd.password = NULL;
	return rc == STORE_OK ? 0 : -1;
}

/* Checks the store options: --db or --etcd, and the etcd flags only with --etcd. Returns 0 or -1
 * with a message printed. */
static int
check_store_args(const struct store_args *a)
{
	const struct store_etcd_opts *e = &a->etcd;
	bool etcd_flags = e->cacert || e->cert || e->key || e->user || a->password_file ||
			  strcmp(e->prefix, "/vigil/") != 0;

	if (e->endpoints != NULL && a->db_given) {
		fprintf(stderr,
			"vigild: --db and --etcd are exclusive: the store is either a SQLite "
			"file or an etcd cluster\n");
		return -1;
	}
	if (e->endpoints == NULL && etcd_flags) {
		fprintf(stderr, "vigild: the --etcd-* options need --etcd\n");
		return -1;
	}
	if ((e->cert == NULL) != (e->key == NULL) ||
	    (e->user == NULL) != (a->password_file == NULL)) {
		fprintf(stderr, "vigild: --etcd-cert needs --etcd-key, --etcd-user needs "
				"--etcd-password-file (and the other way round)\n");
		return -1;
	}
	return 0;
}

/* Raises the open-files limit to its hard maximum: every parked long-poll holds a socket. */
static unsigned
raise_nofile(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
		return 1000;
	rl.rlim_cur = rl.rlim_max;
	setrlimit(RLIMIT_NOFILE, &rl);
	getrlimit(RLIMIT_NOFILE, &rl);
	return rl.rlim_cur > 70000 ? 65536 : (unsigned)(rl.rlim_cur > 64 ? rl.rlim_cur - 64 : 16);
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
	    {"listen", required_argument, NULL, 'l'},
	    {"db", required_argument, NULL, 'd'},
	    {"tls-cert", required_argument, NULL, 'c'},
	    {"tls-key", required_argument, NULL, 'k'},
	    {"cors-origin", required_argument, NULL, 'o'},
	    {"agent-timeout", required_argument, NULL, 'a'},
	    {"require-if-match", no_argument, NULL, 'r'},
	    {"threads", required_argument, NULL, 't'},
	    {"events-keep", required_argument, NULL, 'e'},
	    {"max-parked", required_argument, NULL, 'm'},
	    {"idle-timeout", required_argument, NULL, 'i'},
	    {"user", required_argument, NULL, 'u'},
	    {"etcd", required_argument, NULL, 1000},
	    {"etcd-prefix", required_argument, NULL, 1001},
	    {"etcd-cacert", required_argument, NULL, 1002},
	    {"etcd-cert", required_argument, NULL, 1003},
	    {"etcd-key", required_argument, NULL, 1004},
	    {"etcd-user", required_argument, NULL, 1005},
	    {"etcd-password-file", required_argument, NULL, 1006},
	    {"help", no_argument, NULL, 'h'},
	    {"version", no_argument, NULL, 'V'},
	    {NULL, 0, NULL, 0},
	};
	struct server_config cfg = {.threads = 4, .agent_timeout_ms = 10000};
	const char *listen = "127.0.0.1:8080", *cert = NULL, *key = NULL;
	struct store_args sa = {.db = "./vigil.db", .etcd = {.prefix = "/vigil/"}};
	const char *user = NULL;
	struct privdrop_user drop;
	long events_keep = 10000, idle_timeout = 15;
	char err[512], token_path[4200];
	sigset_t sigs;
	int opt, sig, status = 1;

	while ((opt = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (opt) {
		case 'l':
			listen = optarg;
			break;
		case 'd':
			sa.db = optarg;
			sa.db_given = true;
			break;
		case 1000:
			sa.etcd.endpoints = optarg;
			break;
		case 1001:
			sa.etcd.prefix = optarg;
			break;
		case 1002:
			sa.etcd.cacert = optarg;
			break;
		case 1003:
			sa.etcd.cert = optarg;
			break;
		case 1004:
			sa.etcd.key = optarg;
			break;
		case 1005:
			sa.etcd.user = optarg;
			break;
		case 1006:
			sa.password_file = optarg;
			break;
		case 'c':
			cert = optarg;
			break;
		case 'k':
			key = optarg;
			break;
		case 'o':
			if (http_opts.n_cors_origins < 16)
				http_opts.cors_origins[http_opts.n_cors_origins++] = optarg;
			break;
		case 'a':
			cfg.agent_timeout_ms = atol(optarg) * 1000;
			break;
		case 'r':
			http_opts.require_if_match = true;
			break;
		case 't':
			cfg.threads = (unsigned)atoi(optarg);
			break;
		case 'e':
			events_keep = atol(optarg);
			break;
		case 'm':
			cfg.max_parked = (unsigned)atol(optarg);
			break;
		case 'i':
			idle_timeout = atol(optarg);
			break;
		case 'u':
			user = optarg;
			break;
		case 'h':
			usage(stdout);
			return 0;
		case 'V':
			printf("vigild %s\n", VIGIL_VERSION);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind != argc || parse_listen(listen, &cfg.addr) != 0 || cfg.threads < 1 ||
	    cfg.threads > 64 || cfg.agent_timeout_ms <= 0 || events_keep < 1 || idle_timeout < 1 ||
	    idle_timeout > 3600 || (cert == NULL) != (key == NULL)) {
		fprintf(stderr, "vigild: bad arguments (see --help)\n");
		return 2;
	}
	if (check_store_args(&sa) != 0)
		return 2;
	if (user != NULL && privdrop_lookup(user, &drop, err, sizeof(err)) != 0) {
		fprintf(stderr, "vigild: --user: %s\n", err);
		return 2;
	}
	if (cert != NULL &&
	    ((cfg.tls_cert_pem = slurp(cert)) == NULL || (cfg.tls_key_pem = slurp(key)) == NULL)) {
		fprintf(stderr, "vigild: cannot read %s or %s: %s\n", cert, key, strerror(errno));
		return 1;
	}
	cfg.idle_timeout_s = (unsigned)idle_timeout;
	cfg.connection_limit = raise_nofile();
	http_opts.start_ms = clock_wall_ms();
	/* Signals are taken synchronously by sigwait below; every thread inherits the mask. */
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGINT);
	pthread_sigmask(SIG_BLOCK, &sigs, NULL);
	signal(SIGPIPE, SIG_IGN);

	/* Privileged steps first (a port below 1024, a root-only key), then --user, then every
	 * file vigild creates (database, WAL, token file) belongs to that user. */
	if ((cfg.listen_fd = listener_open(&cfg.addr, err, sizeof(err))) < 0) {
		fprintf(stderr, "vigild: %s: %s\n", listen, err);
		goto out;
	}
	if (user != NULL && privdrop_apply(&drop, err, sizeof(err)) != 0) {
		fprintf(stderr, "vigild: --user: %s\n", err);
		goto out_listen;
	}
	if (open_store(&sa, events_keep, err, sizeof(err)) != 0) {
		fprintf(stderr, "vigild: store: %s%s%s%s\n", err,
			user ? " (the database and its directory must be writable by " : "",
			user ? drop.name : "", user ? ")" : "");
		goto out_listen;
	}
	if (sa.etcd.endpoints != NULL)
		snprintf(token_path, sizeof(token_path), "./vigil-etcd.admin-token");
	else
		snprintf(token_path, sizeof(token_path), "%s.admin-token", sa.db);
	if (auth_bootstrap(getenv("VIGIL_ADMIN_TOKEN"), token_path, err, sizeof(err)) != 0) {
		fprintf(stderr, "vigild: %s\n", err);
		goto out_store;
	}
	lease_set_timeout(cfg.agent_timeout_ms);
	if (node_leases_load(clock_wall_ms()) != STORE_OK) {
		fprintf(stderr, "vigild: cannot read the nodes' agent state\n");
		goto out_store;
	}
	long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	cfg.longpoll_workers = ncpu < 2 ? 2 : (unsigned)ncpu;
	status = server_start(&cfg, err, sizeof(err));
	cfg.listen_fd = -1; /* libmicrohttpd's now, closed by it */
	if (status != 0) {
		status = 1;
		fprintf(stderr, "vigild: %s: %s\n", listen, err);
		goto out_store;
	}
	status = 1;
	fprintf(stderr, "vigild: serving %s://%s (%s %s%s)\n", cert ? "https" : "http", listen,
		sa.etcd.endpoints ? "etcd" : "database",
		sa.etcd.endpoints ? sa.etcd.endpoints : sa.db,
		sa.etcd.endpoints ? sa.etcd.prefix : "");
	if (sdnotify("READY=1", err, sizeof(err)) < 0)
		fprintf(stderr, "vigild: %s\n", err);
	sigwait(&sigs, &sig);
	fprintf(stderr, "vigild: stopping (signal %d)\n", sig);
	sdnotify("STOPPING=1", NULL, 0);
	server_stop();
	cache_clear();
	lease_clear();
	auth_clear();
	status = 0;
out_store:
	store_close();
out_listen:
	if (cfg.listen_fd >= 0)
		close(cfg.listen_fd);
out:
	free((void *)cfg.tls_cert_pem);
	free((void *)cfg.tls_key_pem);
	return status;
}
