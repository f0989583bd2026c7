/*
 * util: small functions used everywhere (time, ids, hashing, files).
 */
#ifndef AT_UTIL_H
#define AT_UTIL_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"

/* Wall-clock time in epoch milliseconds. */
int64_t at_util_now_ms(void);
/* Monotonic time in nanoseconds. */
int64_t at_util_mono_ns(void);

/* A random (version 4) UUID, lowercase, into out[37]. */
void at_util_uuid4(char out[37]);
/* 1 when s is a canonical lowercase or uppercase UUID. */
int at_util_is_uuid(const char *s);

/* Lowercase hex of n bytes into out (2n+1 bytes). */
void at_util_hex(const unsigned char *p, size_t n, char *out);
/* SHA-256 of p[0..n) as 64 hex chars into out[65]. */
void at_util_sha256_hex(const void *p, size_t n, char out[65]);

/*
 * Read a whole file into a NUL-terminated malloc'd buffer (max bytes; 0 for
 * no limit).  "-" reads stdin.  Returns NULL and fills e on failure.
 */
char *at_util_read_file(const char *path, size_t max, size_t *len, at_err *e);

/* mkdir -p with the given mode for each created component. */
int at_util_mkdirs(const char *path, unsigned mode, at_err *e);

/* Parse a decimal int64 in full; 0 ok, -1 on junk or overflow. */
int at_util_parse_i64(const char *s, int64_t *out);

/*
 * India Standard Time (UTC+05:30, no daylight saving): the trading day's
 * calendar.  The date of epoch ms as "YYYY-MM-DD" (out, 11 bytes); the epoch
 * ms of HH:MM IST on that day.
 */
void at_util_ist_date(int64_t ms, char out[11]);
int64_t at_util_ist_time_ms(int64_t ms, int minutes_after_midnight);
/* "HH:MM" (00:00-23:59) to minutes after midnight; -1 when malformed. */
int at_util_parse_hhmm(const char *s);

#endif
