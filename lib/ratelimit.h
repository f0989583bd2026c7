/*
 * ratelimit: rate limits shared through the ledger by every worker on every
 * host (the login rush's global limit, per-user order limits).
 *
 * A limit of R per second hands out slots, in the order they are reserved,
 * spaced 1/R s plus a small margin apart; a caller waits until its slot and
 * then acts.  R + 1 consecutive slots span more than one second by
 * AT_RATELIMIT_JITTER_US, so no 1 s window ever holds more than R actions
 * as long as each action follows its slot within that much jitter.  The
 * margin per slot is the jitter budget divided by R, so it costs the same
 * fraction of throughput at any rate (0.5%).  Slots are kept in
 * microseconds.  Reserving is one short transaction on the limit's row
 * (FOR UPDATE on PostgreSQL, BEGIN IMMEDIATE on SQLite); nobody polls.
 * Hosts sharing a limit need synchronised clocks (NTP).
 */
#ifndef AT_RATELIMIT_H
#define AT_RATELIMIT_H

#include <stdint.h>

#include "db.h"
#include "err.h"

/* How late an action may follow its slot (scheduling, the send itself). */
#define AT_RATELIMIT_JITTER_US 5000

/* The spacing of slots for rate per second, in microseconds (0 for a
 * rate that is not positive). */
int64_t at_ratelimit_interval_us(double rate);

/*
 * Reserve the next slot of limit `name` at `rate` per second.  Returns 0
 * with *slot_us set (wall-clock epoch microseconds; may be now), 1 when the
 * next slot would fall after deadline_ms (0: no deadline) and nothing was
 * reserved, -1 on error.  Must not be called inside an open transaction.
 */
int at_ratelimit_reserve(at_db *db, const char *name, double rate,
			 int64_t deadline_ms, int64_t *slot_us, at_err *e)
    __attribute__((warn_unused_result));

/* Sleep until the wall clock reaches slot_us (at once if past). */
void at_ratelimit_wait_us(int64_t slot_us);

/* Wall-clock time in epoch microseconds. */
int64_t at_ratelimit_now_us(void);

#endif
