/* vigil-agent: flags, the token file, then agent_run. */
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent.h"

static void
usage(FILE *f)
{
	fprintf(
	    f, "usage: vigil-agent --server URL --node NAME --token-file PATH [options]\n"
	       "  --server URL[,URL]   vigild's root URL, e.g. http://198.18.0.1:8080 (the agent\n"
	       "                       finds everything else by following links); several\n"
	       "                       replicas comma-separated (up to 8): when one fails, the\n"
	       "                       agent moves to the next\n"
	       "  --node NAME          this node's name in vigild\n"
	       "  --token-file PATH    file holding this node's agent token\n"
	       "  --state-dir DIR      where the last config and carried-out moves are kept, so a\n"
	       "                       restart serves without the server (default "
	       "/var/lib/vigil-agent)\n"
	       "  --heartbeat-ms N     status report period (default 2000)\n"
	       "  --poll-wait S        config long-poll wait in seconds (default 60)\n"
	       "  --script-dir DIR     script checks name executables in DIR only; each must be\n"
	       "                       root-owned and writable by root alone (default\n"
	       "                       /etc/vigil/scripts)\n"
	       "  --script-user USER   run script checks as USER with a clean environment\n"
	       "                       (default nobody)\n"
	       "  --no-script-checks   refuse script checks (and notify scripts); the agent then\n"
	       "                       keeps only CAP_NET_ADMIN and CAP_NET_RAW and sets\n"
	       "                       no_new_privs\n"
	       "  --notify-timeout-ms N  kill a VIP's notify script after N ms (default 10000)\n"
	       "  --no-realtime        run the VRRP loop as an ordinary process: no SCHED_RR\n"
	       "                       scheduling, no locked memory\n"
	       "  --help               this text\n"
	       "  --version            print the version\n");
}

/* Reads the first line of path into buf. Returns 0 or -1. */
static int
read_token(const char *path, char *buf, size_t len)
{
	FILE *f = fopen(path, "r");
	size_t n;

	if (f == NULL)
		return -1;
	if (fgets(buf, (int)len, f) == NULL) {
		fclose(f);
		return -1;
	}
	fclose(f);
	n = strcspn(buf, "\r\n \t");
	buf[n] = '\0';
	return n > 0 ? 0 : -1;
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
	    {"server", required_argument, NULL, 's'},
	    {"node", required_argument, NULL, 'n'},
	    {"token-file", required_argument, NULL, 't'},
	    {"state-dir", required_argument, NULL, 'd'},
	    {"heartbeat-ms", required_argument, NULL, 'b'},
	    {"poll-wait", required_argument, NULL, 'w'},
	    {"script-dir", required_argument, NULL, 'S'},
	    {"script-user", required_argument, NULL, 'U'},
	    {"no-script-checks", no_argument, NULL, 'N'},
	    {"notify-timeout-ms", required_argument, NULL, 'T'},
	    {"no-realtime", no_argument, NULL, 'R'},
	    {"help", no_argument, NULL, 'h'},
	    {"version", no_argument, NULL, 'V'},
	    {NULL, 0, NULL, 0},
	};
	struct agent_options opt = {.state_dir = "/var/lib/vigil-agent",
				    .heartbeat_ms = 2000,
				    .poll_wait_s = 60,
				    .script_dir = "/etc/vigil/scripts",
				    .script_user = "nobody",
				    .notify_timeout_ms = 10000};
	const char *token_file = NULL;
	char token[600];
	bool no_scripts = false;
	int c;

	while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (c) {
		case 's':
			opt.server = optarg;
			break;
		case 'n':
			opt.node = optarg;
			break;
		case 't':
			token_file = optarg;
			break;
		case 'd':
			opt.state_dir = optarg;
			break;
		case 'b':
			opt.heartbeat_ms = atoi(optarg);
			break;
		case 'w':
			opt.poll_wait_s = atoi(optarg);
			break;
		case 'S':
			opt.script_dir = optarg;
			break;
		case 'U':
			opt.script_user = optarg;
			break;
		case 'N':
			no_scripts = true;
			break;
		case 'T':
			opt.notify_timeout_ms = atoi(optarg);
			break;
		case 'R':
			opt.no_realtime = true;
			break;
		case 'h':
			usage(stdout);
			return 0;
		case 'V':
			printf("vigil-agent %s\n", AGENT_VERSION);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind != argc || !opt.server || !opt.node || !token_file || opt.heartbeat_ms < 100 ||
	    opt.notify_timeout_ms < 100 || opt.notify_timeout_ms > 3600000 || opt.poll_wait_s < 1 ||
	    opt.poll_wait_s > 300) {
		usage(stderr);
		return 2;
	}
	if (read_token(token_file, token, sizeof(token)) != 0) {
		fprintf(stderr, "vigil-agent: cannot read a token from %s\n", token_file);
		return 2;
	}
	opt.token = token;
	if (no_scripts)
		opt.script_user = NULL;
	return agent_run(&opt);
}
