/*
 * db: SQLite and PostgreSQL behind one interface.  See db.h.
 */
#include "db.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <libpq-fe.h>
#include <sqlite3.h>

#include "buf.h"
#include "log.h"
#include "schema.h"
#include "util.h"

struct at_db {
	enum at_db_kind kind;
	char *url; /* redacted */
	sqlite3 *lite;
	PGconn *pg;
	int in_tx;
	char user_id[40];
	int acting; /* 0 none, 1 user, 2 platform */
};

struct at_db_res {
	enum at_db_kind kind;
	PGresult *pg;
	int rows, cols;
	char **names; /* sqlite: cols */
	char **cells; /* sqlite: rows*cols, NULL = SQL NULL */
};

struct at_db_batch {
	at_db *db;
	int ncols;
	enum at_db_type *types;
	sqlite3_stmt *stmt;
	int pg_insert; /* RLS table: prepared INSERT instead of COPY */
	at_buf copy;
	char *table;
};

/* -- URLs ----------------------------------------------------------------- */

char *at_db_resolve_url(const char *flag)
{
	const char *env = getenv("AT_DB");
	const char *home, *h;
	at_buf b = AT_BUF_INIT;

	if (flag != NULL && *flag != '\0')
		return at_xstrdup(flag);
	if (env != NULL && *env != '\0')
		return at_xstrdup(env);
	home = getenv("AT_HOME");
	if (home != NULL && *home != '\0') {
		at_buf_printf(&b, "sqlite:%s/at.db", home);
	} else {
		h = getenv("HOME");
		at_buf_printf(&b, "sqlite:%s/.local/state/at/at.db",
			      h && *h ? h : ".");
	}
	return at_buf_detach(&b, NULL);
}

/* Replace the password of a URL (scheme://user:pass@host) with ***. */
static char *redact_url(const char *url)
{
	const char *s = strstr(url, "://"), *at, *colon;
	at_buf b = AT_BUF_INIT;

	if (s == NULL)
		return at_xstrdup(url);
	s += 3;
	at = strchr(s, '@');
	colon = strchr(s, ':');
	if (at == NULL || colon == NULL || colon > at) {
		at_buf_puts(&b, url);
	} else {
		at_buf_add(&b, url, (size_t)(colon - url) + 1);
		at_buf_puts(&b, "***");
		at_buf_puts(&b, at);
	}
	/* password=... in the query string too */
	char *p = strstr(b.data, "password=");
	if (p != NULL) {
		char *end = p + 9;
		while (*end && *end != '&')
			end++;
		at_buf r = AT_BUF_INIT;
		at_buf_add(&r, b.data, (size_t)(p - b.data) + 9);
		at_buf_puts(&r, "***");
		at_buf_puts(&r, end);
		at_buf_release(&b);
		return at_buf_detach(&r, NULL);
	}
	return at_buf_detach(&b, NULL);
}

/* -- opening -------------------------------------------------------------- */

static int lite_open(at_db *db, const char *path, int create, at_err *e)
{
	struct stat st;
	int rc, fd;
	char *dir, *slash;

	if (*path == '\0')
		return at_err_set(e, EX_USAGE,
				  "malformed ledger url: empty path");
	if (stat(path, &st) != 0) {
		if (errno != ENOENT || !create)
			return at_err_set(e, EX_NOINPUT,
					  "ledger %s: %s (run `at-db init`)",
					  path, strerror(errno));
		/* the default location's directories are ours to create */
		dir = at_xstrdup(path);
		slash = strrchr(dir, '/');
		if (slash != NULL && slash != dir) {
			*slash = '\0';
			if (stat(dir, &st) != 0 &&
			    at_util_mkdirs(dir, 0700, e) != 0) {
				free(dir);
				return at_err_prefix(e, "ledger %s", path);
			}
		}
		free(dir);
		fd = open(path, O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, 0600);
		if (fd < 0 && errno != EEXIST)
			return at_err_set(e, EX_CANTCREAT, "ledger %s: %s",
					  path, strerror(errno));
		if (fd >= 0)
			close(fd);
	} else if (!S_ISREG(st.st_mode)) {
		return at_err_set(e, EX_DATAERR,
				  "ledger %s: not a regular file", path);
	}
	rc = sqlite3_open_v2(path, &db->lite,
			     SQLITE_OPEN_READWRITE | SQLITE_OPEN_FULLMUTEX,
			     NULL);
	if (rc != SQLITE_OK)
		return at_err_set(e, EX_IOERR, "ledger %s: %s", path,
				  db->lite ? sqlite3_errmsg(db->lite)
					   : sqlite3_errstr(rc));
	sqlite3_busy_timeout(db->lite, 10000);
	sqlite3_extended_result_codes(db->lite, 0);
	/* WAL for concurrent readers; NORMAL sync is durable in WAL mode
	 * except for the last transactions on power loss. */
	if (sqlite3_exec(db->lite,
			 "PRAGMA foreign_keys=ON; PRAGMA journal_mode=WAL;"
			 " PRAGMA synchronous=NORMAL;",
			 NULL, NULL, NULL) != SQLITE_OK) {
		rc = sqlite3_errcode(db->lite);
		return at_err_set(
		    e,
		    rc == SQLITE_NOTADB || rc == SQLITE_CORRUPT ? EX_DATAERR
		    : rc == SQLITE_READONLY			? EX_CANTCREAT
								: EX_IOERR,
		    "ledger %s: %s", path, sqlite3_errmsg(db->lite));
	}
	if (sqlite3_db_readonly(db->lite, "main") == 1 && create)
		return at_err_set(e, EX_CANTCREAT, "ledger %s: read-only",
				  path);
	return 0;
}

static void pg_notice(void *arg, const char *msg)
{
	char line[512];
	size_t n;

	(void)arg;
	snprintf(line, sizeof(line), "%s", msg);
	n = strlen(line);
	while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == ' '))
		line[--n] = '\0';
	at_log(AT_LOG_DEBUG, "postgres notice", "notice", line, NULL);
}

/* First line of libpq's message, without the trailing newline. */
static const char *pg_msg(const char *m, char *buf, size_t n)
{
	size_t i = 0;

	if (m == NULL)
		m = "unknown error";
	while (m[i] && m[i] != '\n' && i + 1 < n) {
		buf[i] = m[i];
		i++;
	}
	buf[i] = '\0';
	return buf;
}

static int pg_open(at_db *db, const char *url, at_err *e)
{
	char m[400];
	PGresult *r;

	db->pg = PQconnectdb(url);
	if (db->pg == NULL)
		return at_err_set(e, EX_OSERR, "ledger %s: out of memory",
				  db->url);
	if (PQstatus(db->pg) != CONNECTION_OK) {
		const char *pm = PQerrorMessage(db->pg);
		int code = strstr(pm, "invalid") || strstr(pm, "missing")
			       ? EX_USAGE
			       : EX_UNAVAILABLE;
		return at_err_set(e, code, "ledger %s: %s", db->url,
				  pg_msg(pm, m, sizeof(m)));
	}
	PQsetNoticeProcessor(db->pg, pg_notice, NULL);
	r = PQexec(db->pg, "SET client_min_messages = warning;"
			   " SET application_name = 'at';"
			   " SET TIME ZONE 'UTC'");
	if (PQresultStatus(r) != PGRES_COMMAND_OK) {
		at_err_set(e, EX_UNAVAILABLE, "ledger %s: %s", db->url,
			   pg_msg(PQresultErrorMessage(r), m, sizeof(m)));
		PQclear(r);
		return -1;
	}
	PQclear(r);
	return 0;
}

at_db *at_db_open(const char *url, int create, at_err *e)
{
	at_db *db;
	const char *path;
	int rc;

	if (url == NULL || *url == '\0') {
		at_err_set(e, EX_USAGE, "malformed ledger url: empty");
		return NULL;
	}
	db = at_xcalloc(1, sizeof(*db));
	db->url = redact_url(url);
	if (strncmp(url, "postgres://", 11) == 0 ||
	    strncmp(url, "postgresql://", 13) == 0) {
		db->kind = AT_DB_POSTGRES;
		rc = pg_open(db, url, e);
	} else {
		db->kind = AT_DB_SQLITE;
		path = url;
		if (strncmp(url, "sqlite://", 9) == 0)
			path = url + 9;
		else if (strncmp(url, "sqlite:", 7) == 0)
			path = url + 7;
		else if (strstr(url, "://") != NULL ||
			 strchr(url, ':') == url) {
			at_err_set(e, EX_USAGE,
				   "malformed ledger url \"%s\": expected "
				   "sqlite:PATH, PATH or postgres://",
				   db->url);
			at_db_close(db);
			return NULL;
		}
		rc = lite_open(db, path, create, e);
	}
	if (rc != 0) {
		at_db_close(db);
		return NULL;
	}
	return db;
}

void at_db_close(at_db *db)
{
	if (db == NULL)
		return;
	if (db->lite)
		sqlite3_close_v2(db->lite);
	if (db->pg)
		PQfinish(db->pg);
	free(db->url);
	free(db);
}

enum at_db_kind at_db_kind(const at_db *db)
{
	return db->kind;
}

const char *at_db_kind_name(const at_db *db)
{
	return db->kind == AT_DB_POSTGRES ? "postgres" : "sqlite";
}

const char *at_db_url(const at_db *db)
{
	return db->url;
}

/* -- statements ----------------------------------------------------------- */

/* Rewrite $N placeholders to ?N outside quotes, for SQLite. */
static char *lite_sql(const char *sql)
{
	at_buf b = AT_BUF_INIT;
	char q = 0;

	for (const char *p = sql; *p; p++) {
		if (q) {
			if (*p == q)
				q = 0;
		} else if (*p == '\'' || *p == '"') {
			q = *p;
		} else if (*p == '$' && isdigit((unsigned char)p[1])) {
			at_buf_putc(&b, '?');
			continue;
		}
		at_buf_putc(&b, *p);
	}
	return at_buf_detach(&b, NULL);
}

static int lite_code(int rc)
{
	switch (rc) {
	case SQLITE_CONSTRAINT:
	case SQLITE_MISMATCH:
	case SQLITE_TOOBIG:
		return EX_DATAERR;
	case SQLITE_NOTADB:
	case SQLITE_CORRUPT:
		return EX_DATAERR;
	case SQLITE_READONLY:
	case SQLITE_CANTOPEN:
	case SQLITE_FULL:
	case SQLITE_IOERR:
		return EX_IOERR;
	case SQLITE_BUSY:
	case SQLITE_LOCKED:
		return EX_TEMPFAIL;
	default:
		return EX_SOFTWARE;
	}
}

static int lite_err(at_db *db, int rc, at_err *e)
{
	return at_err_set(e, lite_code(rc), "ledger: %s",
			  sqlite3_errmsg(db->lite));
}

static sqlite3_stmt *lite_prepare(at_db *db, const char *sql, int n,
				  const char *const *params, at_err *e)
{
	sqlite3_stmt *st = NULL;
	char *s = lite_sql(sql);
	int rc = sqlite3_prepare_v2(db->lite, s, -1, &st, NULL);

	free(s);
	if (rc != SQLITE_OK) {
		lite_err(db, rc, e);
		return NULL;
	}
	for (int i = 0; i < n; i++) {
		rc = params[i] ? sqlite3_bind_text(st, i + 1, params[i], -1,
						   SQLITE_STATIC)
			       : sqlite3_bind_null(st, i + 1);
		if (rc != SQLITE_OK) {
			lite_err(db, rc, e);
			sqlite3_finalize(st);
			return NULL;
		}
	}
	return st;
}

static int pg_code(PGresult *r)
{
	const char *state = PQresultErrorField(r, PG_DIAG_SQLSTATE);

	if (state == NULL)
		return EX_UNAVAILABLE;
	if (strncmp(state, "23", 2) == 0 || strncmp(state, "22", 2) == 0)
		return EX_DATAERR; /* integrity, data exception */
	if (strncmp(state, "42501", 5) == 0)
		return EX_NOPERM; /* insufficient privilege, RLS */
	if (strncmp(state, "08", 2) == 0 || strncmp(state, "57", 2) == 0)
		return EX_UNAVAILABLE;
	if (strncmp(state, "40", 2) == 0 || strncmp(state, "55P03", 5) == 0)
		return EX_TEMPFAIL; /* serialization, deadlock, lock */
	return EX_SOFTWARE;
}

static int pg_err(at_db *db, PGresult *r, at_err *e)
{
	char m[400];
	const char *pm = r ? PQresultErrorMessage(r) : PQerrorMessage(db->pg);

	if (PQstatus(db->pg) != CONNECTION_OK)
		return at_err_set(e, EX_UNAVAILABLE, "ledger: %s",
				  pg_msg(pm, m, sizeof(m)));
	return at_err_set(e, r ? pg_code(r) : EX_UNAVAILABLE, "ledger: %s",
			  pg_msg(pm, m, sizeof(m)));
}

int64_t at_db_exec(at_db *db, const char *sql, int n, const char *const *params,
		   at_err *e)
{
	if (db->kind == AT_DB_SQLITE) {
		sqlite3_stmt *st = lite_prepare(db, sql, n, params, e);
		int rc;

		if (st == NULL)
			return -1;
		while ((rc = sqlite3_step(st)) == SQLITE_ROW)
			;
		if (rc != SQLITE_DONE) {
			lite_err(db, rc, e);
			sqlite3_finalize(st);
			return -1;
		}
		sqlite3_finalize(st);
		return sqlite3_changes(db->lite);
	} else {
		PGresult *r =
		    PQexecParams(db->pg, sql, n, NULL, params, NULL, NULL, 0);
		ExecStatusType s = PQresultStatus(r);
		int64_t rows = 0;

		if (s != PGRES_COMMAND_OK && s != PGRES_TUPLES_OK) {
			pg_err(db, r, e);
			PQclear(r);
			return -1;
		}
		if (*PQcmdTuples(r))
			rows = strtoll(PQcmdTuples(r), NULL, 10);
		PQclear(r);
		return rows;
	}
}

at_db_res *at_db_query(at_db *db, const char *sql, int n,
		       const char *const *params, at_err *e)
{
	at_db_res *res = at_xcalloc(1, sizeof(*res));

	res->kind = db->kind;
	if (db->kind == AT_DB_POSTGRES) {
		PGresult *r =
		    PQexecParams(db->pg, sql, n, NULL, params, NULL, NULL, 0);
		ExecStatusType s = PQresultStatus(r);

		if (s != PGRES_TUPLES_OK && s != PGRES_COMMAND_OK) {
			pg_err(db, r, e);
			PQclear(r);
			free(res);
			return NULL;
		}
		res->pg = r;
		res->rows = PQntuples(r);
		res->cols = PQnfields(r);
		return res;
	}

	sqlite3_stmt *st = lite_prepare(db, sql, n, params, e);
	size_t cap = 0;
	int rc;

	if (st == NULL) {
		free(res);
		return NULL;
	}
	res->cols = sqlite3_column_count(st);
	res->names = at_xcalloc((size_t)res->cols + 1, sizeof(char *));
	for (int c = 0; c < res->cols; c++)
		res->names[c] = at_xstrdup(sqlite3_column_name(st, c));
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		size_t need = (size_t)(res->rows + 1) * (size_t)res->cols;
		if (need > cap) {
			cap = cap ? cap * 2 : (size_t)res->cols * 16;
			if (cap < need)
				cap = need;
			res->cells =
			    at_xrealloc(res->cells, cap * sizeof(char *));
		}
		for (int c = 0; c < res->cols; c++) {
			const unsigned char *t = sqlite3_column_text(st, c);
			res->cells[(size_t)res->rows * (size_t)res->cols +
				   (size_t)c] =
			    t ? at_xstrndup((const char *)t,
					    (size_t)sqlite3_column_bytes(st, c))
			      : NULL;
		}
		res->rows++;
	}
	if (rc != SQLITE_DONE) {
		lite_err(db, rc, e);
		sqlite3_finalize(st);
		at_db_res_free(res);
		return NULL;
	}
	sqlite3_finalize(st);
	return res;
}

char *at_db_query_value(at_db *db, const char *sql, int n,
			const char *const *params, at_err *e)
{
	at_db_res *r = at_db_query(db, sql, n, params, e);
	char *v = NULL;

	if (r == NULL)
		return NULL;
	if (e)
		at_err_clear(e);
	if (r->rows > 0 && r->cols > 0 && at_db_res_get(r, 0, 0) != NULL)
		v = at_xstrdup(at_db_res_get(r, 0, 0));
	at_db_res_free(r);
	return v;
}

int at_db_exec_script(at_db *db, const char *sql, at_err *e)
{
	if (db->kind == AT_DB_SQLITE) {
		char *msg = NULL;
		int rc = sqlite3_exec(db->lite, sql, NULL, NULL, &msg);
		if (rc != SQLITE_OK) {
			at_err_set(e, lite_code(rc), "ledger: %s",
				   msg ? msg : sqlite3_errstr(rc));
			sqlite3_free(msg);
			return -1;
		}
		return 0;
	}
	PGresult *r = PQexec(db->pg, sql);
	ExecStatusType s = PQresultStatus(r);
	if (s != PGRES_COMMAND_OK && s != PGRES_TUPLES_OK) {
		pg_err(db, r, e);
		PQclear(r);
		return -1;
	}
	PQclear(r);
	return 0;
}

int at_db_res_rows(const at_db_res *r)
{
	return r->rows;
}

int at_db_res_cols(const at_db_res *r)
{
	return r->cols;
}

const char *at_db_res_name(const at_db_res *r, int col)
{
	if (col < 0 || col >= r->cols)
		return NULL;
	return r->pg ? PQfname(r->pg, col) : r->names[col];
}

const char *at_db_res_get(const at_db_res *r, int row, int col)
{
	if (row < 0 || row >= r->rows || col < 0 || col >= r->cols)
		return NULL;
	if (r->pg)
		return PQgetisnull(r->pg, row, col)
			   ? NULL
			   : PQgetvalue(r->pg, row, col);
	return r->cells[(size_t)row * (size_t)r->cols + (size_t)col];
}

void at_db_res_free(at_db_res *r)
{
	if (r == NULL)
		return;
	if (r->pg)
		PQclear(r->pg);
	if (r->names) {
		for (int c = 0; c < r->cols; c++)
			free(r->names[c]);
		free(r->names);
	}
	if (r->cells) {
		size_t n = (size_t)r->rows * (size_t)r->cols;
		for (size_t i = 0; i < n; i++)
			free(r->cells[i]);
		free(r->cells);
	}
	free(r);
}

/* -- transactions -----------------------------------------------------------
 */

int at_db_begin(at_db *db, at_err *e)
{
	if (db->in_tx)
		return at_err_set(e, EX_SOFTWARE, "ledger: nested transaction");
	if (at_db_exec_script(
		db, db->kind == AT_DB_SQLITE ? "BEGIN IMMEDIATE" : "BEGIN",
		e) != 0)
		return -1;
	db->in_tx = 1;
	return 0;
}

int at_db_commit(at_db *db, at_err *e)
{
	if (!db->in_tx)
		return at_err_set(e, EX_SOFTWARE,
				  "ledger: commit outside a "
				  "transaction");
	if (at_db_exec_script(db, "COMMIT", e) != 0) {
		at_db_rollback(db);
		return -1;
	}
	db->in_tx = 0;
	return 0;
}

void at_db_rollback(at_db *db)
{
	if (db->kind == AT_DB_SQLITE) {
		if (!sqlite3_get_autocommit(db->lite))
			sqlite3_exec(db->lite, "ROLLBACK", NULL, NULL, NULL);
	} else {
		PQclear(PQexec(db->pg, "ROLLBACK"));
	}
	db->in_tx = 0;
}

int at_db_in_tx(const at_db *db)
{
	return db->in_tx;
}

/* -- scope ---------------------------------------------------------------- */

int at_db_act_as_user(at_db *db, const char *user_id, at_err *e)
{
	if (!at_util_is_uuid(user_id))
		return at_err_set(e, EX_DATAERR, "user id \"%s\" is not a uuid",
				  user_id ? user_id : "");
	if (db->kind == AT_DB_POSTGRES) {
		const char *p[1] = {user_id};
		if (at_db_exec_script(db, "RESET ROLE; SET ROLE at_app", e) !=
			0 ||
		    at_db_exec(db, "SELECT set_config('at.user_id', $1, false)",
			       1, p, e) < 0)
			return at_err_prefix(e, "acting for user");
	}
	snprintf(db->user_id, sizeof(db->user_id), "%s", user_id);
	db->acting = 1;
	return 0;
}

int at_db_act_as_platform(at_db *db, at_err *e)
{
	if (db->kind == AT_DB_POSTGRES &&
	    at_db_exec_script(db,
			      "RESET ROLE; SET ROLE at_platform;"
			      " SELECT set_config('at.user_id', '', false)",
			      e) != 0)
		return at_err_prefix(e, "acting for the platform");
	db->user_id[0] = '\0';
	db->acting = 2;
	return 0;
}

const char *at_db_acting_user(const at_db *db)
{
	return db->acting == 1 ? db->user_id : NULL;
}

/* -- batches --------------------------------------------------------------- */

static int valid_ident(const char *s)
{
	if (s == NULL || *s == '\0' || strlen(s) > 63)
		return 0;
	for (; *s; s++)
		if (!(isalnum((unsigned char)*s) || *s == '_'))
			return 0;
	return 1;
}

at_db_batch *at_db_batch_begin(at_db *db, const char *table, int ncols,
			       const char *const *cols,
			       const enum at_db_type *types, at_err *e)
{
	at_db_batch *b;
	at_buf sql = AT_BUF_INIT;

	if (!valid_ident(table) || ncols <= 0) {
		at_err_set(e, EX_SOFTWARE, "batch: bad table or columns");
		return NULL;
	}
	for (int i = 0; i < ncols; i++) {
		if (!valid_ident(cols[i])) {
			at_err_set(e, EX_SOFTWARE, "batch: bad column name");
			return NULL;
		}
	}
	b = at_xcalloc(1, sizeof(*b));
	b->db = db;
	b->ncols = ncols;
	b->table = at_xstrdup(table);
	b->types = at_xcalloc((size_t)ncols, sizeof(*types));
	memcpy(b->types, types, (size_t)ncols * sizeof(*types));
	if (db->kind == AT_DB_SQLITE) {
		at_buf_printf(&sql, "INSERT INTO %s (", table);
		for (int i = 0; i < ncols; i++)
			at_buf_printf(&sql, "%s%s", i ? ", " : "", cols[i]);
		at_buf_puts(&sql, ") VALUES (");
		for (int i = 0; i < ncols; i++)
			at_buf_printf(&sql, "%s?%d", i ? ", " : "", i + 1);
		at_buf_puts(&sql, ")");
		if (at_db_begin(db, e) != 0)
			goto fail;
		if (sqlite3_prepare_v2(db->lite, sql.data, -1, &b->stmt,
				       NULL) != SQLITE_OK) {
			lite_err(db, sqlite3_errcode(db->lite), e);
			at_db_rollback(db);
			goto fail;
		}
	} else {
		PGresult *r;
		const char *tp[1] = {table};
		char *rls;

		if (at_db_begin(db, e) != 0)
			goto fail;
		/* COPY FROM refuses tables under row level security: those
		 * get one prepared INSERT per row in the same transaction */
		rls = at_db_query_value(db,
					"SELECT relrowsecurity FROM pg_class "
					"WHERE oid = to_regclass($1)",
					1, tp, e);
		if (rls == NULL && e && e->code != 0) {
			at_db_rollback(db);
			goto fail;
		}
		b->pg_insert = rls != NULL && strcmp(rls, "t") == 0;
		free(rls);
		if (b->pg_insert) {
			at_buf_printf(&sql, "INSERT INTO %s (", table);
			for (int i = 0; i < ncols; i++)
				at_buf_printf(&sql, "%s%s", i ? ", " : "",
					      cols[i]);
			at_buf_puts(&sql, ") VALUES (");
			for (int i = 0; i < ncols; i++)
				at_buf_printf(&sql, "%s$%d", i ? ", " : "",
					      i + 1);
			at_buf_puts(&sql, ")");
			r = PQprepare(db->pg, "at_batch", sql.data, ncols,
				      NULL);
			if (PQresultStatus(r) != PGRES_COMMAND_OK) {
				pg_err(db, r, e);
				PQclear(r);
				at_db_rollback(db);
				goto fail;
			}
			PQclear(r);
			at_buf_release(&sql);
			return b;
		}
		at_buf_printf(&sql, "COPY %s (", table);
		for (int i = 0; i < ncols; i++)
			at_buf_printf(&sql, "%s%s", i ? ", " : "", cols[i]);
		at_buf_puts(&sql, ") FROM STDIN");
		r = PQexec(db->pg, sql.data);
		if (PQresultStatus(r) != PGRES_COPY_IN) {
			pg_err(db, r, e);
			PQclear(r);
			at_db_rollback(db);
			goto fail;
		}
		PQclear(r);
	}
	at_buf_release(&sql);
	return b;
fail:
	at_buf_release(&sql);
	free(b->types);
	free(b->table);
	free(b);
	return NULL;
}

/* COPY text format: backslash, tab, newline and CR escaped. */
static void copy_text(at_buf *o, const char *s)
{
	for (; *s; s++) {
		switch (*s) {
		case '\\':
			at_buf_add(o, "\\\\", 2);
			break;
		case '\t':
			at_buf_add(o, "\\t", 2);
			break;
		case '\n':
			at_buf_add(o, "\\n", 2);
			break;
		case '\r':
			at_buf_add(o, "\\r", 2);
			break;
		default:
			at_buf_putc(o, *s);
		}
	}
}

static void copy_i64(at_buf *o, int64_t v)
{
	char tmp[24];
	int n = 0;
	uint64_t u = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;

	do {
		tmp[n++] = (char)('0' + u % 10);
		u /= 10;
	} while (u);
	at_buf_grow(o, (size_t)n + 1);
	if (v < 0)
		o->data[o->len++] = '-';
	while (n)
		o->data[o->len++] = tmp[--n];
	o->data[o->len] = '\0';
}

static int pg_insert_row(at_db_batch *b, const struct at_db_val *v, at_err *e)
{
	char num[64][32];
	const char *p[64];
	PGresult *r;
	int rc = 0;

	if (b->ncols > 64)
		return at_err_set(e, EX_SOFTWARE, "batch: too many columns");
	for (int i = 0; i < b->ncols; i++) {
		if (v[i].is_null) {
			p[i] = NULL;
		} else if (b->types[i] == AT_DB_INT) {
			snprintf(num[i], sizeof(num[i]), "%lld",
				 (long long)v[i].i);
			p[i] = num[i];
		} else if (b->types[i] == AT_DB_REAL) {
			snprintf(num[i], sizeof(num[i]), "%.17g", v[i].d);
			p[i] = num[i];
		} else {
			p[i] = v[i].s;
		}
	}
	r = PQexecPrepared(b->db->pg, "at_batch", b->ncols, p, NULL, NULL, 0);
	if (PQresultStatus(r) != PGRES_COMMAND_OK)
		rc = pg_err(b->db, r, e);
	PQclear(r);
	return rc;
}

static int pg_flush_copy(at_db_batch *b, at_err *e)
{
	if (b->copy.len == 0)
		return 0;
	if (PQputCopyData(b->db->pg, b->copy.data, (int)b->copy.len) != 1)
		return pg_err(b->db, NULL, e);
	at_buf_reset(&b->copy);
	return 0;
}

int at_db_batch_add(at_db_batch *b, const struct at_db_val *v, at_err *e)
{
	if (b->stmt != NULL) {
		int rc;
		for (int i = 0; i < b->ncols; i++) {
			if (v[i].is_null ||
			    (b->types[i] == AT_DB_TEXT && v[i].s == NULL))
				rc = sqlite3_bind_null(b->stmt, i + 1);
			else if (b->types[i] == AT_DB_INT)
				rc = sqlite3_bind_int64(b->stmt, i + 1, v[i].i);
			else if (b->types[i] == AT_DB_REAL)
				rc =
				    sqlite3_bind_double(b->stmt, i + 1, v[i].d);
			else
				rc = sqlite3_bind_text(b->stmt, i + 1, v[i].s,
						       -1, SQLITE_STATIC);
			if (rc != SQLITE_OK)
				return lite_err(b->db, rc, e);
		}
		rc = sqlite3_step(b->stmt);
		sqlite3_reset(b->stmt);
		if (rc != SQLITE_DONE)
			return lite_err(b->db, rc, e);
		return 0;
	}
	if (b->pg_insert)
		return pg_insert_row(b, v, e);
	for (int i = 0; i < b->ncols; i++) {
		if (i)
			at_buf_putc(&b->copy, '\t');
		if (v[i].is_null ||
		    (b->types[i] == AT_DB_TEXT && v[i].s == NULL)) {
			at_buf_add(&b->copy, "\\N", 2);
		} else if (b->types[i] == AT_DB_INT) {
			copy_i64(&b->copy, v[i].i);
		} else if (b->types[i] == AT_DB_REAL) {
			at_buf_grow(&b->copy, 32);
			b->copy.len += (size_t)snprintf(
			    b->copy.data + b->copy.len, 32, "%.17g", v[i].d);
		} else {
			copy_text(&b->copy, v[i].s);
		}
	}
	at_buf_putc(&b->copy, '\n');
	if (b->copy.len >= 256 * 1024)
		return pg_flush_copy(b, e);
	return 0;
}

static void batch_free(at_db_batch *b)
{
	if (b->stmt)
		sqlite3_finalize(b->stmt);
	at_buf_release(&b->copy);
	free(b->types);
	free(b->table);
	free(b);
}

int at_db_batch_end(at_db_batch *b, at_err *e)
{
	at_db *db = b->db;
	int rc = 0;

	int dealloc = b->pg_insert;

	if (db->kind == AT_DB_POSTGRES && b->pg_insert) {
		/* rows went in one by one; nothing to flush */
	} else if (db->kind == AT_DB_POSTGRES) {
		PGresult *r;
		if (pg_flush_copy(b, e) != 0 ||
		    PQputCopyEnd(db->pg, NULL) != 1) {
			if (e && e->code == 0)
				pg_err(db, NULL, e);
			rc = -1;
		}
		while ((r = PQgetResult(db->pg)) != NULL) {
			if (rc == 0 && PQresultStatus(r) != PGRES_COMMAND_OK) {
				pg_err(db, r, e);
				rc = -1;
			}
			PQclear(r);
		}
	} else {
		sqlite3_finalize(b->stmt);
		b->stmt = NULL;
	}
	batch_free(b);
	if (rc != 0)
		at_db_rollback(db);
	else
		rc = at_db_commit(db, e);
	/* prepared statements outlive transactions */
	if (dealloc)
		PQclear(PQexec(db->pg, "DEALLOCATE at_batch"));
	return rc;
}

void at_db_batch_abort(at_db_batch *b)
{
	at_db *db = b->db;

	if (db->kind == AT_DB_POSTGRES && !b->pg_insert) {
		PGresult *r;
		PQputCopyEnd(db->pg, "aborted");
		while ((r = PQgetResult(db->pg)) != NULL)
			PQclear(r);
	}
	int dealloc = b->pg_insert;

	batch_free(b);
	at_db_rollback(db);
	if (dealloc)
		PQclear(PQexec(db->pg, "DEALLOCATE at_batch"));
}

int at_db_ticks_prepare(at_db *db, int64_t from_ms, int64_t to_ms, at_err *e)
{
	char a[24], z[24];
	const char *p[2] = {a, z};

	if (db->kind != AT_DB_POSTGRES)
		return 0;
	snprintf(a, sizeof(a), "%lld", (long long)from_ms);
	snprintf(z, sizeof(z), "%lld", (long long)to_ms);
	return at_db_exec(db, "SELECT at_ticks_prepare($1::bigint, $2::bigint)",
			  2, p, e) < 0
		   ? -1
		   : 0;
}

/* -- schema -----------------------------------------------------------------
 */

static const struct at_schema_migration *migrations(const at_db *db)
{
	return db->kind == AT_DB_POSTGRES ? at_schema_postgres
					  : at_schema_sqlite;
}

int at_db_schema_latest(const at_db *db)
{
	const struct at_schema_migration *m = migrations(db);
	int v = 0;

	for (; m->sql != NULL; m++)
		if (m->version > v)
			v = m->version;
	return v;
}

int at_db_schema_pending(const at_db *db, int version)
{
	const struct at_schema_migration *m = migrations(db);
	int n = 0;

	for (; m->sql != NULL; m++)
		if (m->version > version)
			n++;
	return n;
}

int at_db_schema_version(at_db *db, int *version, at_err *e)
{
	char *v;
	const char *exists =
	    db->kind == AT_DB_POSTGRES
		? "SELECT to_regclass('schema_migrations') IS NOT NULL"
		: "SELECT count(*) FROM sqlite_master WHERE type = "
		  "'table' AND name = 'schema_migrations'";

	*version = 0;
	v = at_db_query_value(db, exists, 0, NULL, e);
	if (v == NULL)
		return e && e->code ? -1 : 0;
	if (strcmp(v, "1") != 0 && strcmp(v, "t") != 0) {
		free(v);
		return 0;
	}
	free(v);
	v = at_db_query_value(db, "SELECT max(version) FROM schema_migrations",
			      0, NULL, e);
	if (v == NULL)
		return e && e->code ? -1 : 0;
	*version = atoi(v);
	free(v);
	return 0;
}

int at_db_migrate(at_db *db, int *applied, at_err *e)
{
	const struct at_schema_migration *m;
	int cur, latest = at_db_schema_latest(db);
	char ver[16], now[24];

	*applied = 0;
	if (at_db_schema_version(db, &cur, e) != 0)
		return -1;
	if (cur > latest)
		return at_err_set(e, EX_CONFIG,
				  "ledger schema version %d is newer than this "
				  "build knows (%d): upgrade at",
				  cur, latest);
	for (m = migrations(db); m->sql != NULL; m++) {
		const char *p[3] = {ver, m->name, now};

		if (m->version <= cur)
			continue;
		if (at_db_begin(db, e) != 0)
			return -1;
		/* Serialise concurrent migrators, then re-read the version:
		 * another process may have applied this one meanwhile. */
		if (db->kind == AT_DB_POSTGRES &&
		    at_db_exec_script(db, "SELECT pg_advisory_xact_lock(7411)",
				      e) != 0)
			goto fail;
		if (at_db_exec_script(db,
				      "CREATE TABLE IF NOT EXISTS "
				      "schema_migrations (version integer "
				      "PRIMARY KEY, name text NOT NULL, "
				      "applied_ms bigint NOT NULL)",
				      e) != 0)
			goto fail;
		if (at_db_schema_version(db, &cur, e) != 0)
			goto fail;
		if (m->version <= cur) {
			at_db_rollback(db);
			continue;
		}
		if (at_db_exec_script(db, m->sql, e) != 0) {
			at_err_prefix(e, "migration %s", m->name);
			goto fail;
		}
		snprintf(ver, sizeof(ver), "%d", m->version);
		snprintf(now, sizeof(now), "%lld", (long long)at_util_now_ms());
		if (at_db_exec(db,
			       "INSERT INTO schema_migrations (version, name, "
			       "applied_ms) VALUES ($1, $2, $3)",
			       3, p, e) < 0)
			goto fail;
		if (at_db_commit(db, e) != 0)
			return -1;
		cur = m->version;
		(*applied)++;
		at_log(AT_LOG_INFO, "migrated", "version", ver, "name", m->name,
		       NULL);
	}
	return 0;
fail:
	at_db_rollback(db);
	return -1;
}

int at_db_require_schema(at_db *db, at_err *e)
{
	int cur, latest = at_db_schema_latest(db);

	if (at_db_schema_version(db, &cur, e) != 0)
		return -1;
	if (cur == 0)
		return at_err_set(e, EX_CONFIG,
				  "ledger %s is not initialised: run `at-db "
				  "init`",
				  db->url);
	if (cur < latest)
		return at_err_set(e, EX_CONFIG,
				  "ledger %s is at schema %d, this build needs "
				  "%d: run `at-db migrate`",
				  db->url, cur, latest);
	if (cur > latest)
		return at_err_set(e, EX_CONFIG,
				  "ledger %s schema version %d is newer than "
				  "this build knows (%d): upgrade at",
				  db->url, cur, latest);
	return 0;
}
