/*
 * log: one logfmt line per event on stderr.
 *
 *   ts=2026-11-25T09:00:00.123Z level=info tool=at-db msg="migrated" version=3
 *
 * The level threshold comes from AT_LOG_LEVEL (debug, info, warn, error;
 * default info).  Keys and values are passed as alternating strings ending
 * with NULL; values are quoted when they contain spaces, quotes or '='.
 * Never pass a secret as a value.
 */
#ifndef AT_LOG_H
#define AT_LOG_H

#include <stdio.h>

enum at_log_level {
	AT_LOG_DEBUG = 0,
	AT_LOG_INFO = 1,
	AT_LOG_WARN = 2,
	AT_LOG_ERROR = 3,
	AT_LOG_OFF = 4
};

/* Set the tool name and read AT_LOG_LEVEL.  Call once from main(). */
void at_log_init(const char *tool);
void at_log_set_level(enum at_log_level lvl);
int at_log_enabled(enum at_log_level lvl);
/* Redirect output (tests); NULL restores stderr. */
void at_log_set_stream(FILE *f);
const char *at_log_tool(void);

/* at_log(AT_LOG_INFO, "msg", "key", "value", ..., NULL) */
void at_log(enum at_log_level lvl, const char *msg, ...)
    __attribute__((sentinel));

/* The same with n/2 key-value pairs from an array (kv[0], kv[1], ...). */
void at_log_kv(enum at_log_level lvl, const char *msg, const char *const *kv,
	       size_t n);

/* Write the logfmt rendering of one value (quoted if needed) to f. */
void at_log_value(FILE *f, const char *v);

#endif
