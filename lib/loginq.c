#include "loginq.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "util.h"

static const char *date_param(at_db *db)
{
	return at_db_kind(db) == AT_DB_POSTGRES ? "CAST($1 AS date)" : "$1";
}

int at_loginq_enqueue(at_db *db, const char *run_date, int64_t flush_ms,
		      int force, const char *const *users, size_t n, at_err *e)
{
	char flush[24], now[24];
	const char *p[6];
	at_buf sql = AT_BUF_INIT;
	int rc = -1;

	snprintf(flush, sizeof(flush), "%" PRId64, flush_ms);
	snprintf(now, sizeof(now), "%" PRId64, at_util_now_ms());
	p[0] = run_date;
	p[1] = flush;
	p[2] = force ? "1" : "0";
	p[3] = now;
	p[4] = users ? "1" : "0"; /* named: failed jobs are retried */
	at_buf_printf(
	    &sql,
	    "INSERT INTO login_jobs (user_id, run_date, status, "
	    "created_ms) SELECT u.id, %s, CASE WHEN $3 = '0' AND "
	    "c.access_token_encrypted IS NOT NULL AND c.token_issued_ms "
	    ">= $2 THEN 'skipped' ELSE 'queued' END, $4 FROM users u JOIN "
	    "broker_credentials c ON c.user_id = u.id WHERE u.status = "
	    "'active'%s ON CONFLICT (user_id, run_date) DO UPDATE SET "
	    "status = excluded.status, attempts = 0, next_attempt_ms = 0, "
	    "error_type = NULL, message = NULL, claimed_by = NULL, "
	    "finished_ms = NULL WHERE login_jobs.status = 'retry' OR "
	    "(login_jobs.status = 'failed' AND ($3 = '1' OR $5 = '1')) OR "
	    "($3 = '1' AND login_jobs.status <> 'running')",
	    date_param(db), users ? " AND u.id = $6" : "");
	if (at_db_begin(db, e) != 0)
		goto out;
	if (users == NULL) {
		if (at_db_exec(db, sql.data, 5, p, e) < 0)
			goto fail;
	} else {
		for (size_t i = 0; i < n; i++) {
			p[5] = users[i];
			if (at_db_exec(db, sql.data, 6, p, e) < 0)
				goto fail;
		}
	}
	rc = at_db_commit(db, e);
	goto out;
fail:
	at_db_rollback(db);
out:
	at_buf_release(&sql);
	return rc;
}

int at_loginq_claim(at_db *db, const char *run_date, const char *worker,
		    int64_t stale_ms, struct at_loginq_job *job,
		    int64_t *wait_ms, at_err *e)
{
	char now[24], stale[24];
	int64_t t = at_util_now_ms(), next;
	const char *p[4] = {run_date, worker, now, stale};
	at_buf sql = AT_BUF_INIT;
	at_db_res *r;
	char *v;
	int pg = at_db_kind(db) == AT_DB_POSTGRES;

	snprintf(now, sizeof(now), "%" PRId64, t);
	snprintf(stale, sizeof(stale), "%" PRId64, t - stale_ms);
	at_buf_printf(&sql,
		      "UPDATE login_jobs SET status = 'running', claimed_by = "
		      "$2, claimed_ms = $3, attempts = attempts + 1 WHERE id "
		      "= (SELECT id FROM login_jobs WHERE run_date = %s AND "
		      "((status = 'queued' AND next_attempt_ms <= $3) OR "
		      "(status = 'running' AND claimed_ms < $4)) ORDER BY "
		      "next_attempt_ms, created_ms LIMIT 1%s) RETURNING id, "
		      "user_id, attempts",
		      date_param(db), pg ? " FOR UPDATE SKIP LOCKED" : "");
	r = at_db_query(db, sql.data, 4, p, e);
	at_buf_release(&sql);
	if (r == NULL)
		return -1;
	if (at_db_res_rows(r) == 1) {
		snprintf(job->id, sizeof(job->id), "%s",
			 at_db_res_get(r, 0, 0));
		snprintf(job->user_id, sizeof(job->user_id), "%s",
			 at_db_res_get(r, 0, 1));
		job->attempts = atoi(at_db_res_get(r, 0, 2));
		at_db_res_free(r);
		return 1;
	}
	at_db_res_free(r);

	/* nothing due: when is the next one, and is anyone still busy? */
	at_buf_printf(&sql,
		      "SELECT min(CASE WHEN status = 'queued' THEN "
		      "next_attempt_ms END), count(CASE WHEN status = "
		      "'running' THEN 1 END) FROM login_jobs WHERE run_date "
		      "= %s",
		      date_param(db));
	r = at_db_query(db, sql.data, 1, p, e);
	at_buf_release(&sql);
	if (r == NULL)
		return -1;
	*wait_ms = -1;
	v = (char *)at_db_res_get(r, 0, 0);
	if (v != NULL && at_util_parse_i64(v, &next) == 0)
		*wait_ms = next > t ? next - t : 0;
	else if (atoi(at_db_res_get(r, 0, 1)) > 0)
		*wait_ms = 500; /* others working: watch for stale claims */
	at_db_res_free(r);
	return 0;
}

int at_loginq_finish(at_db *db, const struct at_loginq_job *job,
		     const char *worker, const char *status,
		     const char *error_type, const char *message,
		     int64_t next_attempt_ms, at_err *e)
{
	char now[24], next[24];
	const char *p[7] = {job->id, worker, status, error_type,
			    message, next,   now};
	int64_t n;

	snprintf(now, sizeof(now), "%" PRId64, at_util_now_ms());
	snprintf(next, sizeof(next), "%" PRId64, next_attempt_ms);
	n = at_db_exec(db,
		       "UPDATE login_jobs SET status = $3, error_type = $4, "
		       "message = $5, next_attempt_ms = CAST($6 AS bigint), "
		       "finished_ms = "
		       "CASE WHEN $3 = 'queued' THEN NULL ELSE CAST($7 AS "
		       "bigint) END, "
		       "claimed_by = CASE WHEN $3 = 'queued' THEN NULL ELSE "
		       "claimed_by END WHERE id = $1 AND claimed_by = $2 AND "
		       "status = 'running'",
		       7, p, e);
	if (n < 0)
		return -1;
	return n == 1 ? 0 : 1;
}

int at_loginq_counts(at_db *db, const char *run_date,
		     struct at_loginq_counts *c, at_err *e)
{
	const char *p[1] = {run_date};
	at_buf sql = AT_BUF_INIT;
	at_db_res *r;

	memset(c, 0, sizeof(*c));
	at_buf_printf(&sql,
		      "SELECT status, count(*) FROM login_jobs WHERE "
		      "run_date = %s GROUP BY status",
		      date_param(db));
	r = at_db_query(db, sql.data, 1, p, e);
	at_buf_release(&sql);
	if (r == NULL)
		return -1;
	for (int i = 0; i < at_db_res_rows(r); i++) {
		const char *s = at_db_res_get(r, i, 0);
		int k = atoi(at_db_res_get(r, i, 1));
		if (strcmp(s, "queued") == 0)
			c->queued = k;
		else if (strcmp(s, "running") == 0)
			c->running = k;
		else if (strcmp(s, "ok") == 0)
			c->ok = k;
		else if (strcmp(s, "skipped") == 0)
			c->skipped = k;
		else if (strcmp(s, "failed") == 0)
			c->failed = k;
		else if (strcmp(s, "retry") == 0)
			c->retry = k;
	}
	at_db_res_free(r);
	return 0;
}
