/*
 * strategies: a tenant's strategies in the ledger (tables strategies and
 * strategy_versions), the changes at-strategy makes to them, and the lines
 * it prints.
 *
 * Every function takes the tenant's user_id and a connection already in
 * that tenant's scope (at_users_act_as); every query filters on user_id as
 * well, so on SQLite the C code is the guard and on PostgreSQL Row Level
 * Security is a second one.  A strategy is named by its id (a UUID) or by
 * its name, unique per user; another tenant's strategy is "unknown"
 * (EX_NOINPUT) exactly as a missing one is.
 *
 * Each change is one transaction holding the change, its config version
 * (add and update) and its audit row (at_audit_append; detail is
 * {"strategy_id","name","version",...}, never a secret).  A failed check
 * writes nothing.
 *
 * Status: stopped -> running (start), running -> paused (pause),
 * paused -> running (start), any -> stopped (stop; stopping a stopped
 * strategy changes nothing).  Other transitions are EX_DATAERR.  start
 * needs an active user (else EX_NOPERM) and, from stopped, a free slot
 * under the user's tier cap (subscription_tiers.max_running_strategies,
 * counting running AND paused strategies; else EX_NOPERM).  The cap check
 * is race-free: on PostgreSQL the user's row is locked FOR UPDATE first;
 * on SQLite the transaction is BEGIN IMMEDIATE.
 *
 * Output: each function appends JSON lines ('\n'-terminated) to out.  A
 * strategy line is
 *   {"id","user_id","name","strategy_type","status","version",
 *    "config":{normalised},"created_ms","updated_ms"}
 * a history line is
 *   {"strategy_id","name","version","change","changed_by","created_ms",
 *    "config":{...}}
 */
#ifndef AT_STRATEGIES_H
#define AT_STRATEGIES_H

#include "buf.h"
#include "db.h"
#include "err.h"
#include "strategy.h"

#define AT_STRATEGIES_MUST_CHECK __attribute__((warn_unused_result))

/* The longest strategy name. */
#define AT_STRATEGIES_NAME_MAX 64

enum at_strategies_action {
	AT_STRATEGIES_START = 0,
	AT_STRATEGIES_PAUSE,
	AT_STRATEGIES_STOP
};

/*
 * A valid name: 1 to 64 characters of [A-Za-z0-9._-], starting with a
 * letter or digit, and not shaped like a UUID (ids and names share one
 * argument).  Returns 0, or -1 with EX_DATAERR.
 */
AT_STRATEGIES_MUST_CHECK int at_strategies_check_name(const char *name,
						      at_err *e);

/* Add a stopped strategy, version 1.  A taken name is EX_DATAERR. */
AT_STRATEGIES_MUST_CHECK int
at_strategies_add(at_db *db, const char *user_id, const char *name,
		  const struct at_strategy_config *c, const char *actor,
		  at_buf *out, at_err *e);

/*
 * Replace the config of strategy ref, writing version n+1, when it differs
 * from the current one (an identical config writes nothing).  While the
 * strategy is running or paused its strategy_type, instrument and expiry
 * cannot change (EX_DATAERR: stop it first).
 */
AT_STRATEGIES_MUST_CHECK int
at_strategies_update(at_db *db, const char *user_id, const char *ref,
		     const struct at_strategy_config *c, const char *actor,
		     at_buf *out, at_err *e);

/* start, pause or stop strategy ref (see above). */
AT_STRATEGIES_MUST_CHECK int
at_strategies_set_status(at_db *db, const char *user_id, const char *ref,
			 enum at_strategies_action a, const char *actor,
			 at_buf *out, at_err *e);

/* Every strategy of the user, by name. */
AT_STRATEGIES_MUST_CHECK int at_strategies_list(at_db *db, const char *user_id,
						at_buf *out, at_err *e);

/* One strategy. */
AT_STRATEGIES_MUST_CHECK int at_strategies_show(at_db *db, const char *user_id,
						const char *ref, at_buf *out,
						at_err *e);

/* Its config versions, oldest first. */
AT_STRATEGIES_MUST_CHECK int at_strategies_history(at_db *db,
						   const char *user_id,
						   const char *ref, at_buf *out,
						   at_err *e);

#endif
