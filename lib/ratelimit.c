#include "ratelimit.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "util.h"

int64_t at_ratelimit_interval_us(double rate)
{
	if (!(rate > 0) || rate > 1e6)
		return 0;
	return (int64_t)ceil(1e6 / rate) +
	       (int64_t)ceil((double)AT_RATELIMIT_JITTER_US / rate);
}

int64_t at_ratelimit_now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

int at_ratelimit_reserve(at_db *db, const char *name, double rate,
			 int64_t deadline_ms, int64_t *slot_us, at_err *e)
{
	int64_t now, next, slot, interval = at_ratelimit_interval_us(rate);
	char nows[24], nexts[24], *v;
	const char *p[3];

	if (interval <= 0)
		return at_err_set(e, EX_USAGE, "rate must be positive");
	if (at_db_begin(db, e) != 0)
		return -1;
	now = at_util_now_ms();
	snprintf(nows, sizeof(nows), "%" PRId64, now);
	p[0] = name;
	p[1] = nows;
	if (at_db_exec(db,
		       "INSERT INTO rate_buckets (name, next_us, updated_ms) "
		       "VALUES ($1, 0, $2) ON CONFLICT (name) DO NOTHING",
		       2, p, e) < 0)
		goto fail;
	v = at_db_query_value(db,
			      at_db_kind(db) == AT_DB_POSTGRES
				  ? "SELECT next_us FROM rate_buckets "
				    "WHERE name = $1 FOR UPDATE"
				  : "SELECT next_us FROM rate_buckets "
				    "WHERE name = $1",
			      1, p, e);
	if (v == NULL || at_util_parse_i64(v, &next) != 0) {
		free(v);
		if (e && e->code == 0)
			at_err_set(e, EX_SOFTWARE, "rate limit %s: bad row",
				   name);
		goto fail;
	}
	free(v);
	/* the clock is read again under the lock: time spent waiting for
	 * it must not make the slot earlier than now */
	now = at_ratelimit_now_us();
	slot = next > now ? next : now;
	if (deadline_ms > 0 && slot > deadline_ms * 1000) {
		at_db_rollback(db);
		return 1;
	}
	snprintf(nexts, sizeof(nexts), "%" PRId64, slot + interval);
	snprintf(nows, sizeof(nows), "%" PRId64, now / 1000);
	p[0] = nexts;
	p[1] = nows;
	p[2] = name;
	if (at_db_exec(db,
		       "UPDATE rate_buckets SET next_us = $1, updated_ms = $2 "
		       "WHERE name = $3",
		       3, p, e) != 1)
		goto fail;
	if (at_db_commit(db, e) != 0)
		return -1;
	*slot_us = slot;
	return 0;
fail:
	at_db_rollback(db);
	return at_err_prefix(e, "rate limit %s", name);
}

void at_ratelimit_wait_us(int64_t slot_us)
{
	for (;;) {
		int64_t d = slot_us - at_ratelimit_now_us();
		struct timespec ts;

		if (d <= 0)
			return;
		ts.tv_sec = d / 1000000;
		ts.tv_nsec = (long)(d % 1000000) * 1000L;
		if (nanosleep(&ts, NULL) == 0)
			return;
		if (errno != EINTR)
			return;
	}
}
