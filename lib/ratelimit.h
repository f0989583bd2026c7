/*
 * ratelimit: rate limits shared through the ledger by every worker on every
 * host (the login rush's global limit, per-user order limits).
 *
 * A limit of R per second hands out slots spaced ceil(1000 / R) ms plus a
 * small margin apart, in the order they are reserved; a caller waits until
 * its slot and then acts.  Because consecutive slots are never closer than
 * 1000 / R ms, no 1 s window (of slots, and of actions taken at their
 * slots within the margin's tolerance) ever holds more than R of them.
 * Reserving is one short transaction on the limit's row (FOR UPDATE on
 * PostgreSQL, BEGIN IMMEDIATE on SQLite); nobody polls.  Hosts sharing a
 * limit need synchronised clocks (NTP).
 */
#ifndef AT_RATELIMIT_H
#define AT_RATELIMIT_H

#include <stdint.h>

#include "db.h"
#include "err.h"

/* Slack added to every interval so that scheduling jitter between a slot
 * and the action it allows cannot squeeze R + 1 actions into 1 s. */
#define AT_RATELIMIT_MARGIN_MS 2

/* The spacing of slots for rate per second (ms). */
int64_t at_ratelimit_interval_ms(double rate);

/*
 * Reserve the next slot of limit `name` at `rate` per second.  Returns 0
 * with *slot_ms set (wall-clock epoch ms; may be now), 1 when the next slot
 * would fall after deadline_ms (0: no deadline) and nothing was reserved,
 * -1 on error.  Must not be called inside an open transaction.
 */
int at_ratelimit_reserve(at_db *db, const char *name, double rate,
			 int64_t deadline_ms, int64_t *slot_ms, at_err *e)
    __attribute__((warn_unused_result));

/* Sleep until the wall clock reaches slot_ms (returns at once if past). */
void at_ratelimit_wait(int64_t slot_ms);

#endif
