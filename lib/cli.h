/*
 * cli: what every tool's main() does the same way.
 */
#ifndef AT_CLI_H
#define AT_CLI_H

#include "db.h"
#include "err.h"

/* "tool: error: message" on stderr; returns e->code (or EX_SOFTWARE). */
int at_cli_fail(const char *tool, const at_err *e);
/* "tool: usage error: message; see --help" and returns EX_USAGE. */
int at_cli_usage_error(const char *tool, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Print "tool (at) VERSION" on stdout; returns 0. */
int at_cli_version(const char *tool);
/* Ignore SIGPIPE so writes return EPIPE (handled as end of output). */
void at_cli_init(const char *tool);
/* Resolve the ledger URL (flag, AT_DB, default), open it and require the
 * latest schema. */
at_db *at_cli_open_ledger(const char *flag, at_err *e);

/*
 * Who is acting, for the audit log: $AT_ACTOR when set (e.g. a web front
 * end naming its signed-in user), else "os:<login name>".
 */
const char *at_cli_actor(void);

#endif
