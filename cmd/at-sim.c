/*
 * at-sim: a Kite Connect v3 compatible broker simulator on loopback.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "log.h"
#include "sim.h"
#include "util.h"

static const char *tool = "at-sim";
static at_sim *g_sim;

static void usage(FILE *f)
{
	fprintf(
	    f,
	    "usage: at-sim --accounts FILE [--listen HOST:PORT] [--seed N]\n"
	    "              [--port-file FILE] [--allow-remote]\n"
	    "              [--clock real|manual] [--start-ms MS]\n"
	    "              [--tick-rate N] [--no-rate-limit] [--login-rate N]\n"
	    "              [--token-expiry HH:MM] [--latency-ms N]\n"
	    "              [--error-rate ENDPOINT=RATE]... "
	    "[--drop-ws-every N]\n"
	    "              [--reject-orders] [--token-ttl N] "
	    "[--replay FILE]\n"
	    "              [--nifty PRICE] [--vix LEVEL] [--strikes N]\n"
	    "              [--weekly-expiries N] [--monthly-expiries N]\n"
	    "              [--record-sends]\n"
	    "       at-sim --help | --version\n");
}

static void on_signal(int sig)
{
	(void)sig;
	if (g_sim)
		at_sim_stop(g_sim);
}

static int num(const char *opt, const char *v, int64_t min, int64_t max,
	       int64_t *out)
{
	if (at_util_parse_i64(v, out) < 0 || *out < min || *out > max)
		return at_cli_usage_error(tool,
					  "%s: expected an integer from %lld "
					  "to %lld",
					  opt, (long long)min, (long long)max);
	return 0;
}

static int real(const char *opt, const char *v, double *out)
{
	char *end;
	*out = strtod(v, &end);
	if (end == v || *end || !(*out > 0) || *out > 1e7)
		return at_cli_usage_error(
		    tool, "%s: expected a positive number", opt);
	return 0;
}

/* Write "PORT\n" to path atomically (tmp + rename). */
static int write_port_file(const char *path, int port, at_err *e)
{
	char tmp[4096];
	FILE *f;
	snprintf(tmp, sizeof(tmp), "%s.tmp%ld", path, (long)getpid());
	f = fopen(tmp, "w");
	if (!f)
		return at_err_set(e, EX_CANTCREAT, "%s: %s", tmp,
				  strerror(errno));
	fprintf(f, "%d\n", port);
	if (fclose(f) != 0 || rename(tmp, path) != 0) {
		at_err_set(e, EX_IOERR, "%s: %s", path, strerror(errno));
		unlink(tmp);
		return -1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	enum {
		O_LISTEN = 256,
		O_ACCOUNTS,
		O_SEED,
		O_PORT_FILE,
		O_ALLOW_REMOTE,
		O_CLOCK,
		O_START_MS,
		O_TICK_RATE,
		O_NO_RATE_LIMIT,
		O_LOGIN_RATE,
		O_TOKEN_EXPIRY,
		O_LATENCY,
		O_ERROR_RATE,
		O_DROP_WS,
		O_REJECT,
		O_TOKEN_TTL,
		O_REPLAY,
		O_NIFTY,
		O_VIX,
		O_STRIKES,
		O_WEEKLY,
		O_MONTHLY,
		O_RECORD_SENDS,
		O_HELP,
		O_VERSION,
	};
	static const struct option opts[] = {
	    {"listen", required_argument, NULL, O_LISTEN},
	    {"accounts", required_argument, NULL, O_ACCOUNTS},
	    {"seed", required_argument, NULL, O_SEED},
	    {"port-file", required_argument, NULL, O_PORT_FILE},
	    {"allow-remote", no_argument, NULL, O_ALLOW_REMOTE},
	    {"clock", required_argument, NULL, O_CLOCK},
	    {"start-ms", required_argument, NULL, O_START_MS},
	    {"tick-rate", required_argument, NULL, O_TICK_RATE},
	    {"no-rate-limit", no_argument, NULL, O_NO_RATE_LIMIT},
	    {"login-rate", required_argument, NULL, O_LOGIN_RATE},
	    {"token-expiry", required_argument, NULL, O_TOKEN_EXPIRY},
	    {"latency-ms", required_argument, NULL, O_LATENCY},
	    {"error-rate", required_argument, NULL, O_ERROR_RATE},
	    {"drop-ws-every", required_argument, NULL, O_DROP_WS},
	    {"reject-orders", no_argument, NULL, O_REJECT},
	    {"token-ttl", required_argument, NULL, O_TOKEN_TTL},
	    {"replay", required_argument, NULL, O_REPLAY},
	    {"nifty", required_argument, NULL, O_NIFTY},
	    {"vix", required_argument, NULL, O_VIX},
	    {"strikes", required_argument, NULL, O_STRIKES},
	    {"weekly-expiries", required_argument, NULL, O_WEEKLY},
	    {"monthly-expiries", required_argument, NULL, O_MONTHLY},
	    {"record-sends", no_argument, NULL, O_RECORD_SENDS},
	    {"help", no_argument, NULL, O_HELP},
	    {"version", no_argument, NULL, O_VERSION},
	    {NULL, 0, NULL, 0},
	};
	struct at_sim_config cfg;
	const char *listen = "127.0.0.1:0", *accounts = NULL, *port_file = NULL;
	struct at_sim_account *acc = NULL;
	size_t nacc = 0, len = 0;
	char host[256], *text;
	at_err e = {0};
	int64_t v;
	int c, rc;

	at_cli_init(tool);
	at_log_init(tool);
	memset(&cfg, 0, sizeof(cfg));
	cfg.token_expiry_min = -1;
	cfg.seed = 1;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case O_LISTEN:
			listen = optarg;
			break;
		case O_ACCOUNTS:
			accounts = optarg;
			break;
		case O_SEED:
			if (num("--seed", optarg, 0, INT64_MAX, &v))
				return EX_USAGE;
			cfg.seed = (uint64_t)v;
			break;
		case O_PORT_FILE:
			port_file = optarg;
			break;
		case O_ALLOW_REMOTE:
			cfg.allow_remote = 1;
			break;
		case O_CLOCK:
			if (!strcmp(optarg, "manual"))
				cfg.manual_clock = 1;
			else if (strcmp(optarg, "real"))
				return at_cli_usage_error(
				    tool, "--clock: expected real or manual");
			break;
		case O_START_MS:
			if (num("--start-ms", optarg, 1, 4102444800000LL, &v))
				return EX_USAGE;
			cfg.start_ms = v;
			break;
		case O_TICK_RATE:
			if (num("--tick-rate", optarg, 1, 100, &v))
				return EX_USAGE;
			cfg.tick_rate = (int)v;
			break;
		case O_NO_RATE_LIMIT:
			cfg.no_rate_limit = 1;
			break;
		case O_LOGIN_RATE:
			if (num("--login-rate", optarg, 0, 64, &v))
				return EX_USAGE;
			cfg.login_rate = (int)v;
			break;
		case O_TOKEN_EXPIRY: {
			int h, m;
			char x;
			if (sscanf(optarg, "%2d:%2d%c", &h, &m, &x) != 2 ||
			    h < 0 || h > 23 || m < 0 || m > 59)
				return at_cli_usage_error(
				    tool, "--token-expiry: expected HH:MM");
			cfg.token_expiry_min = h * 60 + m;
			break;
		}
		case O_LATENCY:
			if (num("--latency-ms", optarg, 0, 600000, &v))
				return EX_USAGE;
			cfg.faults.latency_ms = (int)v;
			break;
		case O_ERROR_RATE:
			if (at_sim_faults_error_rate(optarg, &cfg.faults, &e) <
			    0)
				return at_cli_usage_error(tool, "%s", e.msg);
			break;
		case O_DROP_WS:
			if (num("--drop-ws-every", optarg, 0, 86400, &v))
				return EX_USAGE;
			cfg.faults.drop_ws_every_s = (int)v;
			break;
		case O_REJECT:
			cfg.faults.reject_orders = 1;
			break;
		case O_TOKEN_TTL:
			if (num("--token-ttl", optarg, 0, 86400 * 7, &v))
				return EX_USAGE;
			cfg.faults.token_ttl_s = (int)v;
			break;
		case O_REPLAY:
			cfg.market.replay_path = optarg;
			break;
		case O_NIFTY:
			if (real("--nifty", optarg, &cfg.market.nifty))
				return EX_USAGE;
			break;
		case O_VIX:
			if (real("--vix", optarg, &cfg.market.vix))
				return EX_USAGE;
			break;
		case O_STRIKES:
			if (num("--strikes", optarg, 1, 2000, &v))
				return EX_USAGE;
			cfg.market.strikes_each_side = (int)v;
			break;
		case O_WEEKLY:
			if (num("--weekly-expiries", optarg, 1, 12, &v))
				return EX_USAGE;
			cfg.market.weekly_expiries = (int)v;
			break;
		case O_MONTHLY:
			if (num("--monthly-expiries", optarg, 1, 12, &v))
				return EX_USAGE;
			cfg.market.monthly_expiries = (int)v;
			break;
		case O_RECORD_SENDS:
			cfg.record_sends = 1;
			break;
		case O_HELP:
			usage(stdout);
			return 0;
		case O_VERSION:
			return at_cli_version(tool);
		default:
			usage(stderr);
			return EX_USAGE;
		}
	}
	if (optind < argc)
		return at_cli_usage_error(tool, "unexpected argument \"%s\"",
					  argv[optind]);
	if (!accounts)
		return at_cli_usage_error(tool, "--accounts FILE is required");

	/* HOST:PORT, HOST may be [v6] */
	const char *colon = strrchr(listen, ':');
	if (!colon || colon == listen ||
	    (size_t)(colon - listen) >= sizeof(host) ||
	    num("--listen port", colon + 1, 0, 65535, &v))
		return at_cli_usage_error(tool, "--listen: expected HOST:PORT");
	memcpy(host, listen, (size_t)(colon - listen));
	host[colon - listen] = '\0';
	if (host[0] == '[' && host[strlen(host) - 1] == ']') {
		memmove(host, host + 1, strlen(host));
		host[strlen(host) - 1] = '\0';
	}
	cfg.host = host;
	cfg.port = (int)v;

	text = at_util_read_file(accounts, 64u << 20, &len, &e);
	if (!text)
		return at_cli_fail(tool, &e);
	rc = at_sim_accounts_parse(text, len, accounts, &acc, &nacc, &e);
	explicit_bzero(text, len);
	free(text);
	if (rc < 0)
		return at_cli_fail(tool, &e);

	g_sim = at_sim_new(&cfg, acc, nacc, &e);
	if (!g_sim)
		return at_cli_fail(tool, &e);
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);

	if (port_file && write_port_file(port_file, at_sim_port(g_sim), &e)) {
		at_sim_free(g_sim);
		return at_cli_fail(tool, &e);
	}
	printf("{\"listen\":\"%s%s%s:%d\"}\n", strchr(host, ':') ? "[" : "",
	       host, strchr(host, ':') ? "]" : "", at_sim_port(g_sim));
	fflush(stdout);
	char port_s[16], n_s[24];
	snprintf(port_s, sizeof(port_s), "%d", at_sim_port(g_sim));
	snprintf(n_s, sizeof(n_s), "%zu", nacc);
	at_log(AT_LOG_INFO, "listening", "host", host, "port", port_s,
	       "accounts", n_s, NULL);

	rc = at_sim_run(g_sim, &e);
	at_sim_free(g_sim);
	g_sim = NULL;
	if (rc < 0)
		return at_cli_fail(tool, &e);
	at_log(AT_LOG_INFO, "stopped", NULL);
	return 0;
}
