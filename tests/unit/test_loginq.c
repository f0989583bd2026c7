/* lib/loginq: the login rush queue on every backend, with concurrent
 * workers each holding their own connection. */
#include "t.h"

#include <inttypes.h>
#include <pthread.h>

#include "db.h"
#include "loginq.h"
#include "util.h"

#define USERS 30
#define DATE "2025-11-25"

static int64_t count(at_db *db, const char *sql)
{
	at_err e = {0, ""};
	char *v = at_db_query_value(db, sql, 0, NULL, &e);
	int64_t n = -1;

	if (v)
		at_util_parse_i64(v, &n);
	free(v);
	return n;
}

struct worker {
	const char *url;
	char name[16];
	int done;
	char err[AT_ERR_MSG];
};

static void *work(void *arg)
{
	struct worker *w = arg;
	at_err e = {0, ""};
	at_db *db = at_db_open(w->url, 0, &e);
	struct at_loginq_job job;
	int64_t wait;

	if (db == NULL || at_db_act_as_platform(db, &e) != 0)
		goto out;
	for (;;) {
		int rc =
		    at_loginq_claim(db, DATE, w->name, 60000, &job, &wait, &e);
		if (rc < 0)
			goto out;
		if (rc == 0) {
			if (wait < 0)
				break;
			continue;
		}
		if (at_loginq_finish(db, &job, w->name, "ok", NULL, NULL, 0,
				     &e) != 0)
			goto out;
		w->done++;
	}
out:
	snprintf(w->err, sizeof(w->err), "%s", e.msg);
	at_db_close(db);
	return NULL;
}

static void seed(at_db *db)
{
	at_err e = {0, ""};
	char id[37], email[64], issued[24];
	const char *p[2] = {id, email}, *q[2] = {id, issued};
	int64_t flush = at_util_ist_time_ms(1764041040000LL, 450);

	for (int i = 0; i < USERS + 2; i++) {
		at_util_uuid4(id);
		snprintf(email, sizeof(email), "u%d@x.test", i);
		/* users 0-1 hold a fresh token, 2 an old one; USERS is
		 * disabled, USERS+1 has no credentials */
		snprintf(issued, sizeof(issued), "%" PRId64,
			 i < 2 ? flush + 60000 : flush - 86400000);
		if (at_db_exec(db,
			       i == USERS ? "INSERT INTO users (id, email, "
					    "status, created_ms, updated_ms) "
					    "VALUES ($1, $2, 'disabled', 0, 0)"
					  : "INSERT INTO users (id, email, "
					    "created_ms, updated_ms) VALUES "
					    "($1, $2, 0, 0)",
			       2, p, &e) != 1)
			break;
		if (i == USERS + 1)
			continue;
		if (at_db_exec(db,
			       "INSERT INTO broker_credentials (user_id, "
			       "api_key, api_secret_encrypted, "
			       "totp_secret_encrypted, broker_user_id, "
			       "password_encrypted, access_token_encrypted, "
			       "token_issued_ms, updated_ms) VALUES ($1, 'k', "
			       "'x', 'x', 'AB1234', 'x', 'tok', $2, 0)",
			       2, q, &e) != 1)
			break;
	}
	T_OK(e.code == 0, "seed tenants (%s)", e.msg);
}

static void on_ledger(const char *url)
{
	at_err e = {0, ""};
	int applied;
	at_db *db = at_db_open(url, 1, &e);
	int64_t flush = at_util_ist_time_ms(1764041040000LL, 450), wait;
	struct at_loginq_counts c;
	struct worker w[3];
	pthread_t th[3];
	struct at_loginq_job j1, j2;
	const char *kind;
	int total = 0;

	if (!T_OK(db && at_db_migrate(db, &applied, &e) == 0 &&
		      at_db_act_as_platform(db, &e) == 0,
		  "%s: ledger (%s)", url, e.msg))
		return;
	kind = at_db_kind_name(db);
	seed(db);
	T_OK(at_loginq_enqueue(db, DATE, flush, 0, NULL, 0, &e) == 0,
	     "%s: enqueue (%s)", kind, e.msg);
	T_OK(at_loginq_counts(db, DATE, &c, &e) == 0 && c.queued == USERS - 2 &&
		 c.skipped == 2,
	     "%s: active tenants with credentials queued, fresh tokens "
	     "skipped (queued %d skipped %d)",
	     kind, c.queued, c.skipped);

	for (int i = 0; i < 3; i++) {
		memset(&w[i], 0, sizeof(w[i]));
		w[i].url = url;
		snprintf(w[i].name, sizeof(w[i].name), "w%d", i);
		pthread_create(&th[i], NULL, work, &w[i]);
	}
	for (int i = 0; i < 3; i++) {
		pthread_join(th[i], NULL);
		T_OK(w[i].err[0] == '\0', "%s: worker %d clean (%s)", kind, i,
		     w[i].err);
		total += w[i].done;
	}
	T_EQ_INT(total, USERS - 2, "%s: every job done exactly once", kind);
	T_EQ_INT(count(db, "SELECT count(*) FROM login_jobs WHERE status = "
			   "'ok' AND attempts = 1"),
		 USERS - 2, "%s: each claimed once", kind);

	T_OK(at_loginq_enqueue(db, DATE, flush, 0, NULL, 0, &e) == 0 &&
		 at_loginq_counts(db, DATE, &c, &e) == 0 && c.queued == 0 &&
		 c.ok == USERS - 2,
	     "%s: a rerun queues nothing", kind);

	/* a temporary failure past the deadline is retried by a rerun; a
	 * permanent one only when forced or named */
	T_OK(at_db_exec(db,
			"UPDATE login_jobs SET status = 'retry' WHERE user_id "
			"= (SELECT id FROM users WHERE email = 'u5@x.test')",
			0, NULL, &e) == 1 &&
		 at_db_exec(db,
			    "UPDATE login_jobs SET status = 'failed' "
			    "WHERE user_id = (SELECT id FROM users WHERE "
			    "email = 'u6@x.test')",
			    0, NULL, &e) == 1,
	     "%s: mark one retry, one failed", kind);
	T_OK(at_loginq_enqueue(db, DATE, flush, 0, NULL, 0, &e) == 0 &&
		 at_loginq_counts(db, DATE, &c, &e) == 0 && c.queued == 1 &&
		 c.failed == 1,
	     "%s: rerun requeues the temporary failure only", kind);
	{
		char *u6 = at_db_query_value(
		    db, "SELECT id FROM users WHERE email = 'u6@x.test'", 0,
		    NULL, &e);
		const char *named[1] = {u6};
		T_OK(u6 &&
			 at_loginq_enqueue(db, DATE, flush, 0, named, 1, &e) ==
			     0 &&
			 at_loginq_counts(db, DATE, &c, &e) == 0 &&
			 c.queued == 2 && c.failed == 0,
		     "%s: naming the failed tenant requeues it", kind);
		free(u6);
	}

	/* stale claims are taken over; the old worker's finish is refused */
	struct at_loginq_job jx;
	T_EQ_INT(at_loginq_claim(db, DATE, "old", 60000, &j1, &wait, &e), 1,
		 "%s: claim", kind);
	T_EQ_INT(at_loginq_claim(db, DATE, "old2", 60000, &jx, &wait, &e), 1,
		 "%s: claim the other", kind);
	T_EQ_INT(at_loginq_claim(db, DATE, "new", 60000, &j2, &wait, &e), 0,
		 "%s: nothing left to claim", kind);
	T_OK(wait == 500, "%s: but others are busy: watch them (%lld)", kind,
	     (long long)wait);
	{
		const char *p[1] = {j1.id};
		T_OK(at_db_exec(db,
				"UPDATE login_jobs SET claimed_ms = 1 WHERE "
				"id = $1",
				1, p, &e) == 1,
		     "%s: age the first claim", kind);
	}
	T_EQ_INT(at_loginq_claim(db, DATE, "new", 60000, &j2, &wait, &e), 1,
		 "%s: a stale claim is taken over", kind);
	T_EQ_STR(j2.id, j1.id, "%s: the same job", kind);
	T_EQ_INT(j2.attempts, 2, "%s: counted as a second attempt", kind);
	T_EQ_INT(at_loginq_finish(db, &j1, "old", "ok", NULL, NULL, 0, &e), 1,
		 "%s: the old worker lost it", kind);
	T_EQ_INT(at_loginq_finish(db, &jx, "old2", "failed", "bad_password",
				  "Invalid username or password.", 0, &e),
		 0, "%s: a permanent failure", kind);
	T_EQ_INT(at_loginq_finish(db, &j2, "new", "queued", "network",
				  "timeout", at_util_now_ms() + 3600000, &e),
		 0, "%s: requeue for later", kind);
	T_EQ_INT(at_loginq_claim(db, DATE, "new", 60000, &j2, &wait, &e), 0,
		 "%s: the requeued one is not due yet", kind);
	T_OK(wait > 3500000 && wait <= 3600000, "%s: its wait reported (%lld)",
	     kind, (long long)wait);
	T_OK(at_loginq_counts(db, DATE, &c, &e) == 0 && c.failed == 1 &&
		 c.queued == 1 && c.ok == USERS - 4,
	     "%s: final counts", kind);
	at_db_close(db);
}

int main(void)
{
	const char *u[4];
	int n = t_db_urls(u, 4);

	for (int i = 0; i < n; i++)
		on_ledger(u[i]);
	return t_done();
}
