#include "cli.h"

#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <pwd.h>
#include <unistd.h>

#include "log.h"

int at_cli_fail(const char *tool, const at_err *e)
{
	fprintf(stderr, "%s: error: %s\n", tool,
		e && e->msg[0] ? e->msg : "unknown error");
	return e && e->code ? e->code : EX_SOFTWARE;
}

int at_cli_usage_error(const char *tool, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: usage error: ", tool);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "; see %s --help\n", tool);
	return EX_USAGE;
}

int at_cli_version(const char *tool)
{
	printf("%s (at) %s\n", tool, AT_VERSION);
	return 0;
}

void at_cli_init(const char *tool)
{
	signal(SIGPIPE, SIG_IGN);
	at_log_init(tool);
}

at_db *at_cli_open_ledger(const char *flag, at_err *e)
{
	char *url = at_db_resolve_url(flag);
	at_db *db = at_db_open(url, 0, e);

	free(url);
	if (db == NULL)
		return NULL;
	if (at_db_require_schema(db, e) != 0) {
		at_db_close(db);
		return NULL;
	}
	return db;
}

const char *at_cli_actor(void)
{
	static char actor[128];
	const char *env = getenv("AT_ACTOR");
	struct passwd *pw;

	if (env != NULL && *env != '\0') {
		snprintf(actor, sizeof(actor), "%s", env);
		return actor;
	}
	pw = getpwuid(geteuid());
	snprintf(actor, sizeof(actor), "os:%s",
		 pw && pw->pw_name ? pw->pw_name : "unknown");
	return actor;
}
