/*
 * at-strategy: a tenant's strategies: add and update them from JSON,
 * validate configs, list, show, start, pause, stop, and their history.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "db.h"
#include "strategies.h"
#include "strategy.h"
#include "users.h"
#include "util.h"

static const char *tool = "at-strategy";

static void usage(FILE *f)
{
	fprintf(f,
		"usage: at-strategy [--db URL] [--user EMAIL|ID] command "
		"[args]\n"
		"       at-strategy --help | --version\n"
		"\n"
		"  add NAME [FILE]          add a strategy from a JSON config "
		"(FILE or - for stdin)\n"
		"  update STRATEGY [FILE]   replace its config (a new "
		"version)\n"
		"  validate [FILE]          print the normalised config, or "
		"the error\n"
		"  list                     the user's strategies\n"
		"  show STRATEGY            one strategy\n"
		"  start STRATEGY           stopped or paused -> running\n"
		"  pause STRATEGY           running -> paused\n"
		"  stop STRATEGY            -> stopped\n"
		"  history STRATEGY         its config versions\n"
		"\n"
		"  STRATEGY is an id or a name.  Every command but validate "
		"needs the user.\n"
		"  --user EMAIL|ID  the tenant (default: $AT_USER)\n"
		"  --db URL         sqlite:PATH, PATH, postgres://... "
		"(default: $AT_DB, else $AT_HOME/at.db)\n");
}

/*
 * Data errors in a config name the input: "at-strategy: error (at
 * config.json): field ...".  Other errors go through at_cli_fail.
 */
static int fail_input(const char *where, const at_err *e)
{
	size_t n = strlen(where);

	if (strncmp(e->msg, where, n) == 0 &&
	    strncmp(e->msg + n, ": ", 2) == 0) {
		fprintf(stderr, "%s: error (at %s): %s\n", tool, where,
			e->msg + n + 2);
		return e->code ? e->code : EX_SOFTWARE;
	}
	return at_cli_fail(tool, e);
}

/* Read and validate the config in path ("-" is stdin). */
static int load_config(const char *path, const char **where,
		       struct at_strategy_config *c, at_err *e)
{
	size_t len = 0;
	char *text;
	int rc;

	*where = strcmp(path, "-") == 0 ? "<stdin>" : path;
	text = at_util_read_file(path, AT_STRATEGY_MAX_TEXT, &len, e);
	if (text == NULL)
		return -1;
	rc = at_strategy_parse(text, len, *where, c, e);
	free(text);
	return rc;
}

static int put_out(const at_buf *b, at_err *e)
{
	if ((b->len > 0 && fwrite(b->data, 1, b->len, stdout) != b->len) ||
	    fflush(stdout) != 0)
		return at_err_set(e, EX_IOERR, "stdout: write failed");
	return 0;
}

/* How many arguments each command takes after its name: min, max. */
static const struct {
	const char *name;
	int min, max;
} commands[] = {
    {"add", 1, 2},   {"update", 1, 2}, {"validate", 0, 1},
    {"list", 0, 0},  {"show", 1, 1},   {"start", 1, 1},
    {"pause", 1, 1}, {"stop", 1, 1},   {"history", 1, 1},
};

int main(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"db", required_argument, NULL, 'd'},
	    {"user", required_argument, NULL, 'u'},
	    {"help", no_argument, NULL, 'h'},
	    {"version", no_argument, NULL, 'V'},
	    {NULL, 0, NULL, 0},
	};
	const char *flag_db = NULL, *user = getenv("AT_USER"), *cmd;
	const char *where = NULL, *file = "-", *ref = NULL;
	struct at_strategy_config cfg;
	char uid[37], ustatus[16];
	at_buf out = AT_BUF_INIT;
	at_err e = {0, ""};
	at_db *db = NULL;
	int c, nargs, rc = 0, found = 0;

	at_cli_init(tool);
	while ((c = getopt_long(argc, argv, "d:u:hV", opts, NULL)) != -1) {
		switch (c) {
		case 'd':
			flag_db = optarg;
			break;
		case 'u':
			user = optarg;
			break;
		case 'h':
			usage(stdout);
			return 0;
		case 'V':
			return at_cli_version(tool);
		default:
			usage(stderr);
			return EX_USAGE;
		}
	}
	if (optind >= argc)
		return at_cli_usage_error(tool, "missing command");
	cmd = argv[optind++];
	nargs = argc - optind;
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
		if (strcmp(commands[i].name, cmd) != 0)
			continue;
		found = 1;
		if (nargs < commands[i].min)
			return at_cli_usage_error(tool, "%s: missing argument",
						  cmd);
		if (nargs > commands[i].max)
			return at_cli_usage_error(
			    tool, "%s: unexpected argument \"%s\"", cmd,
			    argv[optind + commands[i].max]);
	}
	if (!found)
		return at_cli_usage_error(tool, "unknown command \"%s\"", cmd);

	if (strcmp(cmd, "validate") == 0) {
		if (nargs == 1)
			file = argv[optind];
		if (load_config(file, &where, &cfg, &e) != 0)
			return fail_input(where, &e);
		at_strategy_to_json(&cfg, &out);
		at_buf_putc(&out, '\n');
		rc = put_out(&out, &e);
		at_buf_release(&out);
		return rc == 0 ? 0 : at_cli_fail(tool, &e);
	}

	if (user == NULL || *user == '\0')
		return at_cli_usage_error(
		    tool, "%s: no user (--user or AT_USER)", cmd);
	if (nargs >= 1)
		ref = argv[optind];
	if (strcmp(cmd, "add") == 0 || strcmp(cmd, "update") == 0) {
		if (nargs == 2)
			file = argv[optind + 1];
		if (strcmp(cmd, "add") == 0 &&
		    at_strategies_check_name(ref, &e) != 0)
			return at_cli_fail(tool, &e);
		/* bad input fails before the ledger is touched */
		if (load_config(file, &where, &cfg, &e) != 0)
			return fail_input(where, &e);
	}

	db = at_cli_open_ledger(flag_db, &e);
	if (db == NULL)
		return at_cli_fail(tool, &e);
	if (at_users_act_as(db, user, uid, ustatus, &e) != 0) {
		rc = -1;
	} else if (strcmp(cmd, "add") == 0) {
		rc = at_strategies_add(db, uid, ref, &cfg, at_cli_actor(), &out,
				       &e);
	} else if (strcmp(cmd, "update") == 0) {
		rc = at_strategies_update(db, uid, ref, &cfg, at_cli_actor(),
					  &out, &e);
	} else if (strcmp(cmd, "list") == 0) {
		rc = at_strategies_list(db, uid, &out, &e);
	} else if (strcmp(cmd, "show") == 0) {
		rc = at_strategies_show(db, uid, ref, &out, &e);
	} else if (strcmp(cmd, "history") == 0) {
		rc = at_strategies_history(db, uid, ref, &out, &e);
	} else {
		enum at_strategies_action a =
		    strcmp(cmd, "start") == 0	? AT_STRATEGIES_START
		    : strcmp(cmd, "pause") == 0 ? AT_STRATEGIES_PAUSE
						: AT_STRATEGIES_STOP;
		rc = at_strategies_set_status(db, uid, ref, a, at_cli_actor(),
					      &out, &e);
	}
	at_db_close(db);
	if (rc == 0)
		rc = put_out(&out, &e);
	at_buf_release(&out);
	return rc == 0 ? 0 : at_cli_fail(tool, &e);
}
