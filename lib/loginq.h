/*
 * loginq: the morning login rush's queue in the ledger (login_jobs).
 *
 * One job per tenant and IST trading date.  Job states:
 *   queued   waiting (next_attempt_ms says when it may be tried)
 *   running  claimed by a worker (claimed_by, claimed_ms); a claim older
 *            than the stale limit is taken over (its worker died)
 *   ok       logged in; skipped: already held a fresh token
 *   failed   permanent failure (bad password, TOTP secret or api_secret)
 *   retry    temporary failure past the deadline: the next run retries it
 * Workers on any host claim jobs with FOR UPDATE SKIP LOCKED on
 * PostgreSQL; on SQLite one UPDATE ... RETURNING under the database lock
 * does the same on one host.  All calls run in platform scope.
 */
#ifndef AT_LOGINQ_H
#define AT_LOGINQ_H

#include <stddef.h>
#include <stdint.h>

#include "db.h"
#include "err.h"

struct at_loginq_job {
	char id[37];
	char user_id[37];
	int attempts; /* including the one just claimed */
};

struct at_loginq_counts {
	int queued, running, ok, skipped, failed, retry;
};

/*
 * Enqueue run_date's jobs for every active tenant with broker credentials
 * (users == NULL) or for the n named user ids.  A tenant whose token was
 * issued at or after flush_ms for run_date is marked skipped unless force.
 * Existing jobs: retry is queued again; failed only with force or when
 * named; with force everything not running is queued again.
 */
int at_loginq_enqueue(at_db *db, const char *run_date, int64_t flush_ms,
		      int force, const char *const *users, size_t n, at_err *e)
    __attribute__((warn_unused_result));

/*
 * Claim the next due job.  Returns 1 (job filled), 0 when none is due now
 * (*wait_ms: how long until one may be, or -1 when nothing is queued or
 * running any more), -1 on error.
 */
int at_loginq_claim(at_db *db, const char *run_date, const char *worker,
		    int64_t stale_ms, struct at_loginq_job *job,
		    int64_t *wait_ms, at_err *e)
    __attribute__((warn_unused_result));

/*
 * Record a claimed job's outcome: status "ok", "failed", "retry", or
 * "queued" (try again at next_attempt_ms).  Returns 0, 1 when the claim
 * was lost (another worker took the job over as stale), -1 on error.
 */
int at_loginq_finish(at_db *db, const struct at_loginq_job *job,
		     const char *worker, const char *status,
		     const char *error_type, const char *message,
		     int64_t next_attempt_ms, at_err *e)
    __attribute__((warn_unused_result));

int at_loginq_counts(at_db *db, const char *run_date,
		     struct at_loginq_counts *c, at_err *e)
    __attribute__((warn_unused_result));

#endif
