/*
 * strategy: the strategy config schema (man/at-strategy.5).
 *
 * A trader's strategy is a JSON object.  at_strategy_parse validates it
 * against the schema of its strategy_type and fills a typed
 * at_strategy_config with every default applied; at_strategy_to_json
 * writes the normalised form back (fixed key order, defaults filled, unset
 * optional limits as null).  The normalised form is what the ledger stores
 * and what at-run reads, so a later change of a default never alters a
 * strategy that is already configured.  Normalising is idempotent:
 * parse(to_json(parse(x))) == parse(x).
 *
 * Errors (EX_DATAERR) are one line naming the input and the field path:
 *
 *     config.json: field "exit_conditions.stop_loss_mtm": expected number,
 *     got string
 *     config.json: unknown field "exit_conditions.foo"
 *
 * Times are IST wall-clock minutes since midnight.  Money is rupees of
 * mark-to-market (MTM) for the whole strategy.
 */
#ifndef AT_STRATEGY_H
#define AT_STRATEGY_H

#include <stddef.h>
#include <stdint.h>

#include <jv.h>

#include "buf.h"
#include "err.h"

#define AT_STRATEGY_MUST_CHECK __attribute__((warn_unused_result))

/* Market hours, IST minutes since midnight: 09:15 and 15:30. */
#define AT_STRATEGY_MARKET_OPEN (9 * 60 + 15)
#define AT_STRATEGY_MARKET_CLOSE (15 * 60 + 30)

/* The largest config text accepted (bytes). */
#define AT_STRATEGY_MAX_TEXT (64 * 1024)

/*
 * Index derivatives a strategy can trade.  Lot sizes and expiry kinds are
 * the exchanges' contract specifications as of 2026 (NSE circulars; one
 * weekly expiry per exchange since November 2024).  They change a few
 * times a year: at-run sizes orders from the day's instruments dump and
 * treats this table as the schema's view (which expiries exist, strike
 * grid); keep it current.
 */
struct at_strategy_instrument {
	const char *name;     /* "NIFTY": the Kite instruments "name" column */
	const char *exchange; /* options segment: "NFO" or "BFO" */
	const char *spot;     /* the index's quote symbol, "NSE:NIFTY 50" */
	int lot_size;	      /* units per lot */
	int strike_step;      /* points between listed strikes */
	int weekly;	      /* 1 when weekly expiries are listed */
	int expiry_weekday;   /* 0 Sunday .. 6 Saturday; monthly = last one */
};

/* The table, ending with an entry whose name is NULL. */
extern const struct at_strategy_instrument at_strategy_instruments[];

/* The instrument named name (exact, uppercase), or NULL. */
const struct at_strategy_instrument *
at_strategy_instrument_find(const char *name);

enum at_strategy_type {
	AT_STRATEGY_SHORT_STRADDLE = 0,
	AT_STRATEGY_SHORT_STRANGLE,
	AT_STRATEGY_IRON_FLY,
	AT_STRATEGY_IRON_CONDOR,
	AT_STRATEGY_BULL_PUT_SPREAD,
	AT_STRATEGY_BEAR_CALL_SPREAD,
	AT_STRATEGY_DIRECTIONAL,
	AT_STRATEGY_NTYPES
};

enum at_strategy_expiry {
	AT_STRATEGY_CURRENT_WEEK = 0,
	AT_STRATEGY_NEXT_WEEK,
	AT_STRATEGY_CURRENT_MONTH,
	AT_STRATEGY_NEXT_MONTH
};

/* How the sold (or, for directional, bought) strikes are picked. */
enum at_strategy_legsel {
	AT_STRATEGY_ATM = 0,	 /* the strike nearest the spot */
	AT_STRATEGY_OTM_POINTS,	 /* otm_points away from ATM */
	AT_STRATEGY_OTM_PREMIUM, /* the OTM strike priced nearest target */
};

enum at_strategy_direction {
	AT_STRATEGY_DIR_NONE = 0, /* not directional */
	AT_STRATEGY_LONG,	  /* bullish signals only: buy calls */
	AT_STRATEGY_SHORT,	  /* bearish signals only: buy puts */
	AT_STRATEGY_BOTH
};

enum at_strategy_signal {
	AT_STRATEGY_SIG_NONE = 0,
	AT_STRATEGY_EMA_CROSSOVER,
	AT_STRATEGY_SUPERTREND
};

struct at_strategy_config {
	enum at_strategy_type type;
	const struct at_strategy_instrument *instrument;
	enum at_strategy_expiry expiry;
	enum at_strategy_legsel leg_selection;
	int otm_points;	       /* with AT_STRATEGY_OTM_POINTS, else 0 */
	double target_premium; /* with AT_STRATEGY_OTM_PREMIUM, else 0 */
	int hedge_distance;    /* points from sold strike to wing; 0 = none */
	int lots;
	int entry_minute; /* IST minutes since midnight */

	enum at_strategy_direction direction; /* directional only */
	struct {
		enum at_strategy_signal kind;
		int timeframe_minutes;
		int fast_period, slow_period; /* ema_crossover */
		int period;		      /* supertrend */
		double multiplier;	      /* supertrend */
	} signal;

	struct {
		int has_profit_target;
		double profit_target_mtm; /* > 0 */
		int has_stop_loss;
		double stop_loss_mtm; /* < 0 */
		int has_leg_stop;
		double stop_loss_pct; /* per leg, % of entry premium */
		int has_trailing;
		double trail_activate_mtm; /* trailing starts at this profit */
		double trail_mtm;	   /* exit when MTM falls this far
					      below its peak */
		int exit_minute;	   /* time_exit */
		int max_reentries;
	} exit;
};

/* Names as they appear in configs ("short_straddle", "current_week"...). */
const char *at_strategy_type_name(enum at_strategy_type t);
const char *at_strategy_expiry_name(enum at_strategy_expiry x);
const char *at_strategy_legsel_name(enum at_strategy_legsel l);
const char *at_strategy_direction_name(enum at_strategy_direction d);
const char *at_strategy_signal_name(enum at_strategy_signal s);

/*
 * Validate the config object obj (borrowed) and fill *out.  where names
 * the input in messages ("config.json", "<stdin>"; NULL for none).
 * Returns 0, or -1 with EX_DATAERR and *out unspecified.
 */
AT_STRATEGY_MUST_CHECK int at_strategy_from_jv(jv obj, const char *where,
					       struct at_strategy_config *out,
					       at_err *e);

/*
 * Parse JSON text s[0..len) (one value, at most AT_STRATEGY_MAX_TEXT
 * bytes) and validate it as above.
 */
AT_STRATEGY_MUST_CHECK int at_strategy_parse(const char *s, size_t len,
					     const char *where,
					     struct at_strategy_config *out,
					     at_err *e);

/* Append the normalised config as one compact JSON object (no newline). */
void at_strategy_to_json(const struct at_strategy_config *c, at_buf *b);

/*
 * The top-level keys whose values differ between two configs (JSON
 * objects, borrowed; a key missing on one side counts as changed),
 * appended to out as a JSON array of strings in sorted order.  Returns
 * the number of changed keys, or -1 when either is not an object.
 */
int at_strategy_changed_keys(jv before, jv after, at_buf *out);

#endif
