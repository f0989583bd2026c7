/* lib/db on every backend under test: statements, parameters, transactions,
 * batches, scopes (RLS on PostgreSQL), migrations. */
#include "t.h"

#include <sys/stat.h>

#include "db.h"
#include "schema.h"
#include "util.h"

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

static void urls(void)
{
	char *u;

	setenv("AT_DB", "sqlite:/x/env.db", 1);
	u = at_db_resolve_url("sqlite:/x/flag.db");
	T_EQ_STR(u, "sqlite:/x/flag.db", "the flag wins over AT_DB");
	free(u);
	u = at_db_resolve_url(NULL);
	T_EQ_STR(u, "sqlite:/x/env.db", "AT_DB wins over the default");
	free(u);
	unsetenv("AT_DB");
	setenv("AT_HOME", "/x/home", 1);
	u = at_db_resolve_url(NULL);
	T_EQ_STR(u, "sqlite:/x/home/at.db", "the default is $AT_HOME/at.db");
	free(u);
	unsetenv("AT_HOME");
	setenv("HOME", "/home/u", 1);
	u = at_db_resolve_url("");
	T_EQ_STR(u, "sqlite:/home/u/.local/state/at/at.db",
		 "without AT_HOME, ~/.local/state/at/at.db");
	free(u);

	at_err e = {0, ""};
	T_OK(at_db_open("mysql://h/x", 0, &e) == NULL && e.code == EX_USAGE,
	     "unknown scheme is a usage error: %s", e.msg);
	T_OK(at_db_open("", 0, &e) == NULL && e.code == EX_USAGE,
	     "empty url is a usage error");
	T_OK(at_db_open("postgresql://u:pw@127.0.0.1:1/x?connect_timeout=2", 0,
			&e) == NULL &&
		 e.code == EX_UNAVAILABLE,
	     "unreachable postgres is unavailable");
	T_OK(strstr(e.msg, "pw@") == NULL && strstr(e.msg, "***") != NULL,
	     "its password is redacted: %s", e.msg);
}

static void sqlite_file_mode(void)
{
	char path[256], url[300];
	struct stat st;
	at_err e = {0, ""};
	at_db *db;

	snprintf(path, sizeof(path), "%s/mode-%d.db",
		 getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp", (int)getpid());
	snprintf(url, sizeof(url), "sqlite:%s", path);
	unlink(path);
	umask(022);
	db = at_db_open(url, 1, &e);
	T_OK(db != NULL, "create a sqlite ledger (%s)", e.msg);
	T_OK(stat(path, &st) == 0 && (st.st_mode & 0777) == 0600,
	     "created 0600 whatever the umask");
	at_db_close(db);
	unlink(path);
	db = at_db_open(url, 0, &e);
	T_OK(db == NULL && e.code == EX_NOINPUT,
	     "a missing file is not created without create: %s", e.msg);
}

static void on_ledger(const char *url)
{
	at_err e = {0, ""};
	at_db_res *r;
	int applied = -1, v = -1;
	at_db *db = at_db_open(url, 1, &e);
	const char *kind;

	if (!T_OK(db != NULL, "%s: open (%s)", url, e.msg))
		return;
	kind = at_db_kind_name(db);
	T_OK(at_db_schema_version(db, &v, &e) == 0 && v == 0,
	     "%s: empty ledger is at version 0", kind);
	T_OK(at_db_require_schema(db, &e) != 0 && e.code == EX_CONFIG,
	     "%s: an uninitialised ledger is refused: %s", kind, e.msg);
	T_OK(at_db_migrate(db, &applied, &e) == 0, "%s: migrate (%s)", kind,
	     e.msg);
	{
		/* every migration of the dialect (numbers may have gaps) */
		const struct at_schema_migration *m =
		    at_db_kind(db) == AT_DB_SQLITE ? at_schema_sqlite
						   : at_schema_postgres;
		int nmig = 0;
		while (m[nmig].sql != NULL)
			nmig++;
		T_EQ_INT(applied, nmig, "%s: all applied", kind);
	}
	T_OK(at_db_migrate(db, &applied, &e) == 0 && applied == 0,
	     "%s: migrate again applies nothing", kind);
	T_OK(at_db_require_schema(db, &e) == 0, "%s: schema is current", kind);
	T_OK(at_db_act_as_platform(db, &e) == 0, "%s: platform scope (%s)",
	     kind, e.msg);

	/* parameters: text, NULL, quotes and a "$1" inside a literal */
	{
		const char *p[3] = {"o'brien@x.test", NULL, "1"};
		T_EQ_INT(at_db_exec(db,
				    "INSERT INTO users (email, name, "
				    "created_ms, updated_ms) VALUES ($1, "
				    "coalesce($2, 'has $1 in it'), $3, $3)",
				    3, p, &e),
			 1, "%s: insert with parameters (%s)", kind, e.msg);
		r = at_db_query(db,
				"SELECT name, email, google_sub, id FROM "
				"users WHERE email = $1",
				1, p, &e);
		T_OK(r != NULL && at_db_res_rows(r) == 1, "%s: select it back",
		     kind);
		if (r) {
			T_EQ_STR(at_db_res_get(r, 0, 0), "has $1 in it",
				 "%s: placeholders in literals are left alone",
				 kind);
			T_EQ_STR(at_db_res_get(r, 0, 1), "o'brien@x.test",
				 "%s: quotes survive", kind);
			T_OK(at_db_res_get(r, 0, 2) == NULL,
			     "%s: NULL reads back as NULL", kind);
			T_OK(at_util_is_uuid(at_db_res_get(r, 0, 3)),
			     "%s: ids are uuids: %s", kind,
			     at_db_res_get(r, 0, 3));
			T_EQ_STR(at_db_res_name(r, 1), "email",
				 "%s: column names", kind);
			T_OK(at_db_res_get(r, 5, 0) == NULL,
			     "%s: out of range is NULL", kind);
		}
		at_db_res_free(r);
		T_OK(at_db_exec(db,
				"INSERT INTO users (email, created_ms, "
				"updated_ms) VALUES ($1, 0, 0)",
				1, p, &e) < 0 &&
			 e.code == EX_DATAERR,
		     "%s: unique violation is a data error: %s", kind, e.msg);
		T_OK(at_db_exec(db, "SELEKT 1", 0, NULL, &e) < 0,
		     "%s: syntax error reported", kind);
	}

	/* transactions */
	T_OK(at_db_begin(db, &e) == 0, "%s: begin", kind);
	T_OK(at_db_begin(db, &e) != 0, "%s: no nested transaction", kind);
	T_OK(at_db_exec(db,
			"INSERT INTO users (email, created_ms, updated_ms) "
			"VALUES ('rolled@x.test', 0, 0)",
			0, NULL, &e) == 1,
	     "%s: insert in tx", kind);
	at_db_rollback(db);
	T_EQ_INT(count(db, "SELECT count(*) FROM users WHERE email = "
			   "'rolled@x.test'"),
		 0, "%s: rollback undoes it", kind);
	T_OK(at_db_begin(db, &e) == 0, "%s: begin", kind);
	T_OK(at_db_exec(db,
			"INSERT INTO users (email, created_ms, updated_ms) "
			"VALUES ('kept@x.test', 0, 0)",
			0, NULL, &e) == 1,
	     "%s: insert in tx", kind);
	T_OK(at_db_commit(db, &e) == 0, "%s: commit", kind);
	T_EQ_INT(count(db, "SELECT count(*) FROM users"), 2,
		 "%s: commit keeps it", kind);

	/* batches */
	{
		const char *cols[4] = {"instrument_token", "ts_ms",
				       "last_price", "volume"};
		enum at_db_type ty[4] = {AT_DB_INT, AT_DB_INT, AT_DB_REAL,
					 AT_DB_INT};
		int64_t t0 = 1764042300000; /* 2025-11-25 03:45 UTC */
		at_db_batch *b;
		int ok = 1;

		T_OK(at_db_ticks_prepare(db, t0, t0 + 86400000, &e) == 0,
		     "%s: tick partitions (%s)", kind, e.msg);
		b = at_db_batch_begin(db, "ticks", 4, cols, ty, &e);
		T_OK(b != NULL, "%s: batch begin (%s)", kind, e.msg);
		for (int i = 0; b && i < 10000 && ok; i++) {
			struct at_db_val v[4] = {
			    {0, 256265, 0, NULL},
			    {0, t0 + i * 10, 0, NULL},
			    {0, 0, 22450.05 + i * 0.05, NULL},
			    {i % 7 == 0, i, 0, NULL},
			};
			ok = at_db_batch_add(b, v, &e) == 0;
		}
		T_OK(ok, "%s: 10000 rows added (%s)", kind, e.msg);
		T_OK(b && at_db_batch_end(b, &e) == 0, "%s: batch end (%s)",
		     kind, e.msg);
		T_EQ_INT(count(db, "SELECT count(*) FROM ticks"), 10000,
			 "%s: every row landed", kind);
		T_EQ_INT(count(db, "SELECT count(*) FROM ticks WHERE volume "
				   "IS NULL"),
			 1429, "%s: NULLs landed as NULL", kind);
		T_EQ_INT(count(db, "SELECT count(*) FROM ticks WHERE "
				   "last_price = 22450.05"),
			 1, "%s: doubles survive exactly", kind);

		b = at_db_batch_begin(db, "ticks", 4, cols, ty, &e);
		for (int i = 0; b && i < 100; i++) {
			struct at_db_val v[4] = {{0, 1, 0, NULL},
						 {0, t0, 0, NULL},
						 {0, 0, 1.0, NULL},
						 {0, 1, 0, NULL}};
			if (at_db_batch_add(b, v, &e) != 0)
				break;
		}
		if (b)
			at_db_batch_abort(b);
		T_EQ_INT(count(db, "SELECT count(*) FROM ticks"), 10000,
			 "%s: an aborted batch writes nothing", kind);

		const char *ucols[4] = {"email", "name", "created_ms",
					"updated_ms"};
		enum at_db_type uty[4] = {AT_DB_TEXT, AT_DB_TEXT, AT_DB_INT,
					  AT_DB_INT};
		b = at_db_batch_begin(db, "users", 4, ucols, uty, &e);
		struct at_db_val uv[4] = {{0, 0, 0, "tab\there@x.test"},
					  {0, 0, 0, "back\\slash\nnewline"},
					  {0, 5, 0, NULL},
					  {0, 5, 0, NULL}};
		T_OK(b && at_db_batch_add(b, uv, &e) == 0 &&
			 at_db_batch_end(b, &e) == 0,
		     "%s: text batch (%s)", kind, e.msg);
		char *name =
		    at_db_query_value(db,
				      "SELECT name FROM users WHERE email = "
				      "'tab	here@x.test'",
				      0, NULL, &e);
		T_EQ_STR(name, "back\\slash\nnewline",
			 "%s: escapes survive the batch", kind);
		free(name);
		b = at_db_batch_begin(db, "users", 4, ucols, uty, &e);
		if (b && at_db_batch_add(b, uv, &e) != 0) {
			at_db_batch_abort(b);
			T_OK(1, "%s: a duplicate in a batch fails at once",
			     kind);
		} else {
			T_OK(b && at_db_batch_end(b, &e) != 0,
			     "%s: a duplicate in a batch fails at the end",
			     kind);
		}
		T_EQ_INT(count(db, "SELECT count(*) FROM users"), 3,
			 "%s: and writes nothing", kind);
		const char *bad[1] = {"x; drop"};
		T_OK(at_db_batch_begin(db, "users", 1, bad, uty, &e) == NULL,
		     "%s: column names are checked", kind);
	}

	/* scopes */
	{
		char a[37], bb[37];
		const char *pa[2] = {a, "a@x.test"}, *pb[2] = {bb, "b@x.test"};

		at_util_uuid4(a);
		at_util_uuid4(bb);
		T_OK(at_db_exec(db,
				"INSERT INTO users (id, email, created_ms, "
				"updated_ms) VALUES ($1, $2, 0, 0)",
				2, pa, &e) == 1,
		     "%s: add A", kind);
		T_OK(at_db_exec(db,
				"INSERT INTO users (id, email, created_ms, "
				"updated_ms) VALUES ($1, $2, 0, 0)",
				2, pb, &e) == 1,
		     "%s: add B", kind);
		T_OK(at_db_act_as_user(db, "not-a-uuid", &e) != 0,
		     "%s: acting as a non-uuid is refused", kind);
		T_OK(at_db_act_as_user(db, a, &e) == 0, "%s: act as A (%s)",
		     kind, e.msg);
		T_EQ_STR(at_db_acting_user(db), a, "%s: acting user recorded",
			 kind);
		if (at_db_kind(db) == AT_DB_POSTGRES) {
			T_EQ_INT(count(db, "SELECT count(*) FROM users"), 1,
				 "postgres: RLS shows A only its own row");
			T_EQ_INT(
			    at_db_exec(db, "DELETE FROM users", 0, NULL, &e), 1,
			    "postgres: A can delete only itself");
			T_OK(at_db_exec(db,
					"INSERT INTO login_jobs (user_id, "
					"run_date, created_ms) VALUES ($1, "
					"'2026-11-25', 0)",
					1, (const char *const *)&pb[0],
					&e) < 0 &&
				 e.code == EX_NOPERM,
			     "postgres: A cannot write B's rows: %s", e.msg);
			T_OK(at_db_act_as_platform(db, &e) == 0,
			     "back to platform scope");
			T_EQ_INT(count(db, "SELECT count(*) FROM users WHERE "
					   "email = 'b@x.test'"),
				 1, "postgres: B untouched");
		}
	}

	/* a newer schema is refused */
	T_OK(at_db_exec(db,
			"INSERT INTO schema_migrations VALUES (9999, 'x', 0)",
			0, NULL, &e) == 1 ||
		 at_db_exec_script(db,
				   "RESET ROLE; INSERT INTO "
				   "schema_migrations VALUES (9999, 'x', "
				   "0)",
				   &e) == 0,
	     "%s: pretend a newer build migrated (%s)", kind, e.msg);
	T_OK(at_db_require_schema(db, &e) != 0 && e.code == EX_CONFIG &&
		 strstr(e.msg, "newer") != NULL,
	     "%s: newer schema refused: %s", kind, e.msg);
	T_OK(at_db_migrate(db, &applied, &e) != 0 && e.code == EX_CONFIG,
	     "%s: and not migrated", kind);
	at_db_close(db);
}

int main(void)
{
	const char *u[4];
	int n = t_db_urls(u, 4);

	urls();
	sqlite_file_mode();
	for (int i = 0; i < n; i++)
		on_ledger(u[i]);
	return t_done();
}
