/*
 * db: the ledger, one interface over two backends.
 *
 *   SQLite (embedded default): "sqlite:PATH" or a bare PATH; WAL, busy
 *   timeout, file created 0600.  With no --db and no AT_DB the file is
 *   $AT_HOME/at.db, AT_HOME defaulting to ~/.local/state/at.
 *   PostgreSQL via libpq: "postgres://..." and "postgresql://..." URLs.
 *
 * SQL is written once, in PostgreSQL's placeholder style ($1, $2, ...); the
 * SQLite backend rewrites the placeholders to ?1, ?2.  Parameters are text
 * (NULL pointer = SQL NULL); nothing is ever interpolated into SQL.
 *
 * Tenant scope: a tool acting for one tenant calls at_db_act_as_user();
 * platform-wide jobs call at_db_act_as_platform().  On PostgreSQL this sets
 * the role (at_app or at_platform) and the at.user_id setting that Row Level
 * Security policies key on; on SQLite the C code's own user_id filters are
 * the only guard, so every query on a tenant table takes user_id.
 */
#ifndef AT_DB_H
#define AT_DB_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"

typedef struct at_db at_db;
typedef struct at_db_res at_db_res;
typedef struct at_db_batch at_db_batch;

enum at_db_kind { AT_DB_SQLITE = 1, AT_DB_POSTGRES = 2 };

/* The URL to use: flag (may be NULL), else AT_DB, else the default file.
 * Returns a malloc'd string. */
char *at_db_resolve_url(const char *flag);

/* Open a ledger.  Does not migrate.  create: create a missing SQLite file. */
at_db *at_db_open(const char *url, int create, at_err *e)
    __attribute__((warn_unused_result));
void at_db_close(at_db *db);

enum at_db_kind at_db_kind(const at_db *db);
const char *at_db_kind_name(const at_db *db);
/* The URL with any password replaced by "***" (safe for messages). */
const char *at_db_url(const at_db *db);

/* Run a statement; returns rows affected (>= 0) or -1. */
int64_t at_db_exec(at_db *db, const char *sql, int n, const char *const *params,
		   at_err *e) __attribute__((warn_unused_result));
/* Run a statement returning rows; NULL on error. */
at_db_res *at_db_query(at_db *db, const char *sql, int n,
		       const char *const *params, at_err *e)
    __attribute__((warn_unused_result));
/*
 * First column of the first row, malloc'd.  Returns NULL with e->code == 0
 * when there is no row or the value is NULL, NULL with e->code != 0 on error.
 */
char *at_db_query_value(at_db *db, const char *sql, int n,
			const char *const *params, at_err *e);
/* Several statements, no parameters (migrations). */
int at_db_exec_script(at_db *db, const char *sql, at_err *e)
    __attribute__((warn_unused_result));

int at_db_res_rows(const at_db_res *r);
int at_db_res_cols(const at_db_res *r);
const char *at_db_res_name(const at_db_res *r, int col);
/* The value as text, NULL for SQL NULL. */
const char *at_db_res_get(const at_db_res *r, int row, int col);
void at_db_res_free(at_db_res *r);

/* Transactions.  begin is BEGIN IMMEDIATE on SQLite (writers queue up
 * instead of failing on lock upgrade). */
int at_db_begin(at_db *db, at_err *e) __attribute__((warn_unused_result));
int at_db_commit(at_db *db, at_err *e) __attribute__((warn_unused_result));
void at_db_rollback(at_db *db);
int at_db_in_tx(const at_db *db);

/* Scope (see above).  user_id must be a UUID. */
int at_db_act_as_user(at_db *db, const char *user_id, at_err *e)
    __attribute__((warn_unused_result));
int at_db_act_as_platform(at_db *db, at_err *e)
    __attribute__((warn_unused_result));
/* The tenant being acted for, or NULL for platform scope. */
const char *at_db_acting_user(const at_db *db);

/* Batched insert: COPY on PostgreSQL, one prepared INSERT inside one
 * transaction on SQLite.  The batch is one transaction: end commits, abort
 * rolls back; both free b. */
enum at_db_type { AT_DB_TEXT = 0, AT_DB_INT = 1, AT_DB_REAL = 2 };
struct at_db_val {
	int is_null;
	int64_t i;
	double d;
	const char *s;
};
at_db_batch *at_db_batch_begin(at_db *db, const char *table, int ncols,
			       const char *const *cols,
			       const enum at_db_type *types, at_err *e)
    __attribute__((warn_unused_result));
int at_db_batch_add(at_db_batch *b, const struct at_db_val *vals, at_err *e)
    __attribute__((warn_unused_result));
int at_db_batch_end(at_db_batch *b, at_err *e)
    __attribute__((warn_unused_result));
void at_db_batch_abort(at_db_batch *b);

/* Make sure the daily partitions of ticks cover [from_ms, to_ms]
 * (PostgreSQL without TimescaleDB; a no-op elsewhere). */
int at_db_ticks_prepare(at_db *db, int64_t from_ms, int64_t to_ms, at_err *e);

/* Schema: the current version (0 for an empty ledger), the latest this
 * binary knows, and migrate to the latest (each migration in its own
 * transaction; concurrent migrators serialise).  *applied gets the count. */
int at_db_schema_version(at_db *db, int *version, at_err *e);
int at_db_schema_latest(const at_db *db);
/* How many migrations this build knows that are newer than version. */
int at_db_schema_pending(const at_db *db, int version);
int at_db_migrate(at_db *db, int *applied, at_err *e)
    __attribute__((warn_unused_result));
/* Fail unless the ledger is at exactly the latest schema (EX_CONFIG with a
 * message telling to run `at-db migrate`, or that the binary is too old). */
int at_db_require_schema(at_db *db, at_err *e)
    __attribute__((warn_unused_result));

#endif
