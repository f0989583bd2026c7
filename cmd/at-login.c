/*
 * at-login: the morning login rush.  Logs every active tenant (or the ones
 * named) into the broker with TOTP, under a global rate limit shared
 * through the ledger, and stores today's access tokens encrypted.
 */
#include <getopt.h>
#include <inttypes.h>
#include <math.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "audit.h"
#include "buf.h"
#include "cli.h"
#include "creds.h"
#include "db.h"
#include "fernet.h"
#include "json.h"
#include "kite.h"
#include "log.h"
#include "loginq.h"
#include "ratelimit.h"
#include "users.h"
#include "util.h"

static const char *tool = "at-login";

static void usage(FILE *f)
{
	fprintf(f,
		"usage: at-login [options] USER...\n"
		"       at-login [options] --all\n"
		"       at-login --help | --version\n"
		"\n"
		"  --all              every active tenant with credentials\n"
		"  --workers N        concurrent logins (default 8)\n"
		"  --rate R           global logins per second, shared by "
		"every host (default 5)\n"
		"  --deadline HH:MM   stop retrying at this IST time (default "
		"09:10),\n"
		"  --deadline +S      or S seconds from now\n"
		"  --flush HH:MM      tokens issued after this IST time today "
		"are fresh (default 07:30)\n"
		"  --force            log in even tenants holding a fresh "
		"token\n"
		"  --date YYYY-MM-DD  the trading date (default: today in "
		"IST)\n"
		"  --db URL           the ledger (default $AT_DB, else "
		"$AT_HOME/at.db)\n");
}

struct config {
	char *url;
	int workers;
	double rate;
	int64_t deadline_ms, flush_ms;
	char date[11];
	at_fernet_keys *keys;
	at_kite_transport *transport;
	char host[64];
};

struct shared {
	pthread_mutex_t mu;
	int ok, skipped, failed, retrying, retry_later, done, total;
	int stop;
};

static struct config cfg;
static struct shared st = {PTHREAD_MUTEX_INITIALIZER, 0, 0, 0, 0, 0, 0, 0, 0};
static volatile sig_atomic_t interrupted;
static int workers_left; /* under st.mu */

static void on_signal(int sig)
{
	(void)sig;
	interrupted = 1;
}

/* Kite failures that no retry will mend: the credentials are wrong. */
static int permanent(enum at_kite_status s)
{
	switch (s) {
	case AT_KITE_BAD_API_KEY:
	case AT_KITE_BAD_PASSWORD:
	case AT_KITE_BAD_TOTP:
	case AT_KITE_BAD_API_SECRET:
	case AT_KITE_INPUT:
	case AT_KITE_USER:
	case AT_KITE_PERMISSION:
	case AT_KITE_TWOFA:
	case AT_KITE_INTERNAL:
		return 1;
	default:
		return 0;
	}
}

static int64_t backoff_ms(int attempts)
{
	int64_t d = 1000;
	unsigned r;

	for (int i = 1; i < attempts && d < 30000; i++)
		d *= 2;
	if (d > 30000)
		d = 30000;
	r = (unsigned)rand() ^ (unsigned)at_util_mono_ns();
	return d / 2 + (int64_t)(r % (unsigned)(d / 2 + 1));
}

static void result_line(const char *user_id, const char *status, int attempts,
			const char *error_type, const char *message, int64_t ms,
			int retry)
{
	at_buf b = AT_BUF_INIT;

	at_json_enc_begin(&b);
	at_json_enc_key_str(&b, "user_id", user_id);
	at_json_enc_key_str(&b, "status", status);
	at_json_enc_key_i64(&b, "attempts", attempts);
	at_json_enc_key_str(&b, "error_type", error_type);
	at_json_enc_key_str(&b, "message", message);
	at_json_enc_key_i64(&b, "ms", ms);
	if (retry)
		at_json_enc_key_bool(&b, "retry", 1);
	at_json_enc_end(&b);
	at_buf_putc(&b, '\n');
	pthread_mutex_lock(&st.mu);
	fwrite(b.data, 1, b.len, stdout);
	fflush(stdout);
	pthread_mutex_unlock(&st.mu);
	at_buf_release(&b);
}

static void audit(at_db *db, const char *user_id, const char *action,
		  int attempt, const char *error_type, const char *message,
		  int64_t ms)
{
	at_buf d = AT_BUF_INIT;
	at_err e = {0, ""};

	at_json_enc_begin(&d);
	at_json_enc_key_i64(&d, "attempt", attempt);
	at_json_enc_key_str(&d, "error_type", error_type);
	at_json_enc_key_str(&d, "message", message);
	at_json_enc_key_i64(&d, "ms", ms);
	at_json_enc_key_str(&d, "host", cfg.host);
	at_json_enc_end(&d);
	if (at_audit_append(db, user_id, "at-login", action, d.data, &e) != 0)
		at_log(AT_LOG_ERROR, "audit append failed", "user", user_id,
		       "error", e.msg, NULL);
	at_buf_release(&d);
}

struct outcome {
	const char *status; /* ok, failed, retry (temporary) */
	const char *error_type;
	char message[AT_ERR_MSG];
};

/* Hook from lib/kite right before POST /api/login: take a slot of the
 * global limit, so the broker never sees more than --rate logins in any
 * second however the connect/login round trips vary. */
struct slot_ctx {
	at_db *db;
	int past_deadline;
	at_err e;
};

static int take_slot(void *arg)
{
	struct slot_ctx *s = arg;
	int64_t slot;
	int rc = at_ratelimit_reserve(s->db, "login", cfg.rate, cfg.deadline_ms,
				      &slot, &s->e);

	if (rc == 1)
		s->past_deadline = 1;
	if (rc != 0)
		return -1;
	at_ratelimit_wait_us(slot);
	return 0;
}

/* One attempt at one tenant's login and readiness check. */
static void attempt(at_db *db, at_kite *k, const char *user_id,
		    struct outcome *o)
{
	struct at_creds cr;
	struct at_kite_session sess;
	struct at_kite_profile prof;
	struct at_kite_margins mar;
	struct at_kite_login l;
	struct slot_ctx slot;
	at_err e = {0, ""};
	const struct at_kite_error *ke;

	memset(o, 0, sizeof(*o));
	memset(&sess, 0, sizeof(sess));
	if (at_creds_load(db, cfg.keys, user_id, &cr, &e) != 0) {
		o->status = e.code == EX_UNAVAILABLE || e.code == EX_TEMPFAIL
				? "retry"
				: "failed";
		o->error_type = "credentials";
		snprintf(o->message, sizeof(o->message), "%s", e.msg);
		return;
	}
	at_kite_set_api_key(k, cr.api_key);
	if (cr.egress_ip[0] &&
	    at_kite_set_egress_ip(k, cr.egress_ip, &e) != 0) {
		at_creds_wipe(&cr);
		o->status = "failed";
		o->error_type = "credentials";
		snprintf(o->message, sizeof(o->message), "%s", e.msg);
		return;
	}
	memset(&slot, 0, sizeof(slot));
	slot.db = db;
	memset(&l, 0, sizeof(l));
	l.user_id = cr.broker_user_id;
	l.password = cr.password;
	l.totp_secret = cr.totp_secret;
	l.api_secret = cr.api_secret;
	l.before_login = take_slot;
	l.before_login_ctx = &slot;
	if (at_kite_login(k, &l, &sess, &e) != 0) {
		at_creds_wipe(&cr);
		explicit_bzero(&l, sizeof(l));
		if (slot.past_deadline) {
			o->status = "retry";
			o->error_type = "deadline";
			snprintf(o->message, sizeof(o->message),
				 "no login slot left before the deadline");
			return;
		}
		if (slot.e.code != 0) {
			o->status = "retry";
			o->error_type = "ledger";
			snprintf(o->message, sizeof(o->message), "%s",
				 slot.e.msg);
			return;
		}
		ke = at_kite_last_error(k);
		o->status = permanent(ke->status) ? "failed" : "retry";
		o->error_type = at_kite_status_name(ke->status);
		snprintf(o->message, sizeof(o->message), "%s",
			 ke->message[0] ? ke->message : e.msg);
		return;
	}
	at_creds_wipe(&cr);
	explicit_bzero(&l, sizeof(l));
	if (at_creds_store_token(db, cfg.keys, user_id, sess.access_token,
				 cfg.date, at_util_now_ms(), &e) != 0) {
		at_kite_session_wipe(&sess);
		o->status = "retry";
		o->error_type = "ledger";
		snprintf(o->message, sizeof(o->message), "%s", e.msg);
		return;
	}
	at_kite_session_wipe(&sess);
	/* readiness: the new token must work for the calls trading needs */
	if (at_kite_profile(k, &prof, &e) != 0 ||
	    at_kite_margins(k, NULL, &mar, &e) != 0) {
		ke = at_kite_last_error(k);
		if (at_creds_set_ready(db, user_id, "not_ready", e.msg, &e) !=
		    0)
			at_log(AT_LOG_ERROR, "readiness not recorded", "user",
			       user_id, NULL);
		o->status = permanent(ke->status) ? "failed" : "retry";
		o->error_type = "not_ready";
		snprintf(o->message, sizeof(o->message), "%s",
			 ke->message[0] ? ke->message : e.msg);
		at_kite_set_access_token(k, NULL);
		return;
	}
	at_kite_set_access_token(k, NULL);
	if (at_creds_set_ready(db, user_id, "ready", NULL, &e) != 0) {
		o->status = "retry";
		o->error_type = "ledger";
		snprintf(o->message, sizeof(o->message), "%s", e.msg);
		return;
	}
	o->status = "ok";
}

static void *worker(void *arg)
{
	int id = (int)(intptr_t)arg;
	char name[128];
	at_err e = {0, ""};
	at_db *db = at_db_open(cfg.url, 0, &e);
	at_kite *k = NULL;
	struct at_loginq_job job;

	snprintf(name, sizeof(name), "%s:%d:%d", cfg.host, (int)getpid(), id);
	if (db == NULL || at_db_act_as_platform(db, &e) != 0 ||
	    (k = at_kite_new(cfg.transport, "", &e)) == NULL) {
		at_log(AT_LOG_ERROR, "worker cannot start", "worker", name,
		       "error", e.msg, NULL);
		goto out;
	}
	while (!interrupted) {
		int64_t wait, start, ms;
		struct outcome o;
		int rc = at_loginq_claim(db, cfg.date, name, 120000, &job,
					 &wait, &e);

		if (rc < 0) {
			at_log(AT_LOG_ERROR, "claim failed", "worker", name,
			       "error", e.msg, NULL);
			sleep(1);
			continue;
		}
		if (rc == 0) {
			if (wait < 0)
				break;
			if (at_util_now_ms() + (wait > 0 ? wait : 0) >
			    cfg.deadline_ms + 120000)
				break;
			at_ratelimit_wait_us(at_ratelimit_now_us() +
					     (wait > 1000 ? 1000 : wait) *
						 1000);
			continue;
		}
		start = at_util_now_ms();
		attempt(db, k, job.user_id, &o);
		ms = at_util_now_ms() - start;
		if (strcmp(o.status, "retry") == 0) {
			int64_t next =
			    at_util_now_ms() + backoff_ms(job.attempts);
			int final = next >= cfg.deadline_ms ||
				    strcmp(o.error_type, "deadline") == 0;
			rc = at_loginq_finish(
			    db, &job, name, final ? "retry" : "queued",
			    o.error_type, o.message, final ? 0 : next, &e);
			audit(db, job.user_id, "login.retry", job.attempts,
			      o.error_type, o.message, ms);
			if (rc != 0)
				continue; /* claim lost or ledger error */
			pthread_mutex_lock(&st.mu);
			if (final) {
				st.retry_later++;
				st.done++;
			} else {
				st.retrying++;
			}
			pthread_mutex_unlock(&st.mu);
			if (final)
				result_line(job.user_id, "failed", job.attempts,
					    o.error_type, o.message, ms, 1);
			continue;
		}
		rc = at_loginq_finish(db, &job, name, o.status, o.error_type,
				      o.message[0] ? o.message : NULL, 0, &e);
		audit(db, job.user_id,
		      strcmp(o.status, "ok") == 0 ? "login.ok" : "login.failed",
		      job.attempts, o.error_type, o.message, ms);
		if (rc != 0)
			continue;
		pthread_mutex_lock(&st.mu);
		if (strcmp(o.status, "ok") == 0)
			st.ok++;
		else
			st.failed++;
		if (job.attempts > 1 && st.retrying > 0)
			st.retrying--;
		st.done++;
		pthread_mutex_unlock(&st.mu);
		result_line(job.user_id, o.status, job.attempts, o.error_type,
			    o.message[0] ? o.message : NULL, ms, 0);
	}
out:
	at_kite_free(k);
	at_db_close(db);
	pthread_mutex_lock(&st.mu);
	workers_left--;
	pthread_mutex_unlock(&st.mu);
	return NULL;
}

/*
 * Lines for the selected tenants this run will not log in: a fresh token
 * (skipped, or logged in by an earlier run) or a permanent failure of an
 * earlier run that was not requeued.  Returns how many tenants remain to
 * be worked on (queued or running), or -1.
 */
static int report_existing(at_db *db, const char *const *users, size_t n,
			   int64_t t0, at_err *e)
{
	char ts[24];
	const char *p[2] = {cfg.date, ts};
	at_db_res *r;
	int pending = 0;
	const char *sql =
	    at_db_kind(db) == AT_DB_POSTGRES
		? "SELECT user_id, status, attempts, error_type, "
		  "message FROM login_jobs WHERE run_date = CAST($1 AS "
		  "date) AND (status IN ('queued', 'running') OR "
		  "status = 'skipped' OR (status IN ('ok', 'failed') "
		  "AND finished_ms < CAST($2 AS bigint)))"
		: "SELECT user_id, status, attempts, error_type, "
		  "message FROM login_jobs WHERE run_date = $1 AND "
		  "(status IN ('queued', 'running') OR status = "
		  "'skipped' OR (status IN ('ok', 'failed') AND "
		  "finished_ms < $2))";

	snprintf(ts, sizeof(ts), "%" PRId64, t0);
	r = at_db_query(db, sql, 2, p, e);
	if (r == NULL)
		return -1;
	for (int i = 0; i < at_db_res_rows(r); i++) {
		const char *u = at_db_res_get(r, i, 0);
		const char *s = at_db_res_get(r, i, 1);
		int mine = users == NULL;

		for (size_t j = 0; !mine && j < n; j++)
			mine = strcmp(users[j], u) == 0;
		if (!mine)
			continue;
		if (strcmp(s, "queued") == 0 || strcmp(s, "running") == 0) {
			pending++;
		} else if (strcmp(s, "failed") == 0) {
			result_line(u, "failed", atoi(at_db_res_get(r, i, 2)),
				    at_db_res_get(r, i, 3),
				    at_db_res_get(r, i, 4), 0, 0);
			st.failed++;
		} else {
			result_line(u, "skipped", 0, NULL,
				    "holds a token issued after the flush "
				    "time",
				    0, 0);
			st.skipped++;
		}
	}
	at_db_res_free(r);
	return pending;
}

/* "HH:MM" IST today, or "+N" seconds from now */
static int parse_time_today(const char *s, int64_t *out)
{
	int m;

	if (s[0] == '+') {
		char *end;
		long v = strtol(s + 1, &end, 10);
		if (end == s + 1 || *end || v < 0 || v > 86400)
			return -1;
		*out = at_util_now_ms() + v * 1000;
		return 0;
	}
	m = at_util_parse_hhmm(s);

	if (m < 0)
		return -1;
	*out = at_util_ist_time_ms(at_util_now_ms(), m);
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"all", no_argument, NULL, 'a'},
	    {"workers", required_argument, NULL, 'w'},
	    {"rate", required_argument, NULL, 'r'},
	    {"deadline", required_argument, NULL, 'D'},
	    {"flush", required_argument, NULL, 'F'},
	    {"force", no_argument, NULL, 'f'},
	    {"date", required_argument, NULL, 't'},
	    {"db", required_argument, NULL, 'd'},
	    {"help", no_argument, NULL, 'h'},
	    {"version", no_argument, NULL, 'V'},
	    {NULL, 0, NULL, 0},
	};
	const char *flag_db = NULL, *deadline = "09:10", *flush = "07:30";
	int all = 0, force = 0, c, rc = 0, deadline_given = 0;
	char **ids = NULL;
	size_t nids = 0;
	at_err e = {0, ""};
	at_db *db = NULL;
	pthread_t *th = NULL;
	int pending;
	int64_t t0 = at_util_now_ms();
	char *end;

	at_cli_init(tool);
	cfg.workers = 8;
	cfg.rate = 5;
	at_util_ist_date(t0, cfg.date);
	while ((c = getopt_long(argc, argv, "aw:r:D:F:ft:d:hV", opts, NULL)) !=
	       -1) {
		switch (c) {
		case 'a':
			all = 1;
			break;
		case 'w':
			cfg.workers = (int)strtol(optarg, &end, 10);
			if (*end || cfg.workers < 1 || cfg.workers > 256)
				return at_cli_usage_error(
				    tool, "--workers must be 1 to 256");
			break;
		case 'r':
			cfg.rate = strtod(optarg, &end);
			if (*end || !(cfg.rate > 0) || cfg.rate > 1000)
				return at_cli_usage_error(
				    tool, "--rate must be in (0, 1000]");
			break;
		case 'D':
			deadline = optarg;
			deadline_given = 1;
			break;
		case 'F':
			flush = optarg;
			break;
		case 'f':
			force = 1;
			break;
		case 't':
			if (strlen(optarg) != 10 || optarg[4] != '-' ||
			    optarg[7] != '-')
				return at_cli_usage_error(
				    tool, "--date must be YYYY-MM-DD");
			snprintf(cfg.date, sizeof(cfg.date), "%s", optarg);
			break;
		case 'd':
			flag_db = optarg;
			break;
		case 'h':
			usage(stdout);
			return 0;
		case 'V':
			return at_cli_version(tool);
		default:
			usage(stderr);
			return EX_USAGE;
		}
	}
	if (all == (optind < argc))
		return at_cli_usage_error(tool,
					  all ? "--all and USER are exclusive"
					      : "name a USER or use --all");
	if (parse_time_today(deadline, &cfg.deadline_ms) != 0)
		return at_cli_usage_error(
		    tool, "--deadline must be HH:MM or +SECONDS");
	if (flush[0] == '+' || parse_time_today(flush, &cfg.flush_ms) != 0)
		return at_cli_usage_error(tool, "--flush must be HH:MM");
	/* before today's flush the last one was yesterday's */
	if (cfg.flush_ms > t0)
		cfg.flush_ms -= 86400000;
	/* a run started after the default deadline (a manual retry at
	 * noon) gets a quarter of an hour */
	if (!deadline_given && cfg.deadline_ms < t0 + 60000)
		cfg.deadline_ms = t0 + 15 * 60000;
	if (gethostname(cfg.host, sizeof(cfg.host)) != 0)
		snprintf(cfg.host, sizeof(cfg.host), "localhost");
	cfg.host[sizeof(cfg.host) - 1] = '\0';

	cfg.keys = at_fernet_keys_from_env(&e);
	if (cfg.keys == NULL)
		return at_cli_fail(tool, &e);
	unsetenv("AT_FERNET_KEY");
	cfg.url = at_db_resolve_url(flag_db);
	db = at_cli_open_ledger(cfg.url, &e);
	if (db == NULL || at_db_act_as_platform(db, &e) != 0) {
		rc = at_cli_fail(tool, &e);
		goto out;
	}
	if (!all) {
		nids = (size_t)(argc - optind);
		ids = at_xcalloc(nids, sizeof(char *));
		for (size_t i = 0; i < nids; i++) {
			char id[37];
			ids[i] = NULL;
			if (at_users_resolve(db, argv[optind + (int)i], id,
					     &e) != 0) {
				rc = at_cli_fail(tool, &e);
				goto out;
			}
			ids[i] = at_xstrdup(id);
		}
	}
	if (at_loginq_enqueue(db, cfg.date, cfg.flush_ms, force,
			      (const char *const *)ids, nids, &e) != 0 ||
	    (pending = report_existing(db, (const char *const *)ids, nids, t0,
				       &e)) < 0) {
		rc = at_cli_fail(tool, &e);
		goto out;
	}
	st.total = pending;
	cfg.transport = at_kite_transport_new(&e);
	if (cfg.transport == NULL) {
		rc = at_cli_fail(tool, &e);
		goto out;
	}
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	th = at_xcalloc((size_t)cfg.workers, sizeof(*th));
	workers_left = cfg.workers;
	for (int i = 0; i < cfg.workers; i++)
		pthread_create(&th[i], NULL, worker, (void *)(intptr_t)i);
	if (isatty(2)) {
		/* progress on a terminal until the workers are done */
		for (;;) {
			int done, all_done;
			pthread_mutex_lock(&st.mu);
			done = st.done;
			fprintf(stderr,
				"\r%d/%d logged in, %d failed, %d retrying ",
				st.ok, st.total, st.failed + st.retry_later,
				st.retrying);
			all_done = workers_left == 0;
			pthread_mutex_unlock(&st.mu);
			if (done >= st.total || interrupted || all_done)
				break;
			usleep(250000);
		}
		fputc('\n', stderr);
	}
	for (int i = 0; i < cfg.workers; i++)
		pthread_join(th[i], NULL);
	fprintf(stderr,
		"at-login: %s: %d ok, %d skipped, %d failed, %d to retry "
		"(%.1f s)\n",
		cfg.date, st.ok, st.skipped, st.failed, st.retry_later,
		(double)(at_util_now_ms() - t0) / 1000.0);
	if (interrupted)
		rc = EX_TEMPFAIL;
	else if (st.retry_later > 0)
		rc = EX_TEMPFAIL;
	else if (st.failed > 0)
		rc = EX_DATAERR;
out:
	free(th);
	for (size_t i = 0; ids && i < nids; i++)
		free(ids[i]);
	free(ids);
	at_kite_transport_free(cfg.transport);
	at_fernet_keys_free(cfg.keys);
	at_db_close(db);
	free(cfg.url);
	return rc;
}
