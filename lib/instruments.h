/*
 * instruments: the broker's instrument master and the look-ups the
 * strategy engine and the feed need.
 *
 * Kite publishes the master daily as CSV (GET /instruments):
 *
 *   instrument_token,exchange_token,tradingsymbol,name,last_price,expiry,
 *   strike,tick_size,lot_size,instrument_type,segment,exchange
 *
 * The parser treats those bytes as untrusted: the header must match
 * exactly, every field is checked (integers in range, decimals, dates
 * YYYY-MM-DD that exist, printable ASCII, bounded lengths), and the first
 * problem is one line naming the input, line and column:
 *
 *   instruments.csv:12:40: field "strike": expected a decimal number
 *
 * Nothing is half-loaded: a parse error returns NULL, and
 * at_instruments_store() replaces the ledger's master in one transaction.
 *
 * An at_instruments is an in-memory index (hash by token, hash by
 * tradingsymbol) for hot paths; build it from CSV or from the ledger.  It
 * is immutable once built (at_instruments_set_freeze aside) and may be
 * shared read-only between threads.
 *
 * Dates are int32 YYYYMMDD ("ymd", e.g. 20240530); 0 means none.  "As of"
 * dates are the Indian trading day (IST, UTC+05:30).
 *
 * Freeze quantities (the largest quantity NSE accepts in one order) are not
 * in Kite's CSV.  The ledger keeps them in freeze_limits (seeded NIFTY 1800,
 * BANKNIFTY 900, FINNIFTY 1800); an index built from CSV starts with the
 * same built-in values.
 */
#ifndef AT_INSTRUMENTS_H
#define AT_INSTRUMENTS_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "db.h"
#include "err.h"

#define AT_INSTRUMENTS_MUST_CHECK __attribute__((warn_unused_result))

struct at_instrument {
	uint32_t instrument_token;
	uint32_t exchange_token;
	char tradingsymbol[48];
	char name[64];
	double last_price;
	int32_t expiry; /* YYYYMMDD, 0 none */
	double strike;
	double tick_size;
	int32_t lot_size;
	char instrument_type[8]; /* EQ, FUT, CE, PE, ... */
	char segment[16];	 /* NSE, NFO-OPT, NFO-FUT, INDICES, ... */
	char exchange[8];	 /* NSE, NFO, BSE, ... */
};

typedef struct at_instruments at_instruments;

/* Which expiry of an underlying's options (see at_instruments_expiry). */
enum at_instruments_expiry_kind {
	AT_INSTRUMENTS_WEEKLY = 0, /* nearest expiry on or after the date */
	AT_INSTRUMENTS_NEXT_WEEKLY = 1,	 /* the one after it */
	AT_INSTRUMENTS_MONTHLY = 2,	 /* nearest monthly expiry */
	AT_INSTRUMENTS_NEXT_MONTHLY = 3, /* the monthly after it */
};

/*
 * Parse Kite's CSV (data need not be NUL-terminated).  where names the
 * input in errors.  Duplicate instrument tokens are an error.  An empty
 * master (header only) is an error.  Returns NULL with e (EX_DATAERR).
 */
at_instruments *at_instruments_parse_csv(const char *data, size_t len,
					 const char *where,
					 at_err *e) AT_INSTRUMENTS_MUST_CHECK;

/* Build the index from the ledger's instruments and freeze_limits (any
 * scope may read them).  An empty master is EX_UNAVAILABLE ("run at-feed
 * --refresh-instruments"). */
at_instruments *at_instruments_load(at_db *db,
				    at_err *e) AT_INSTRUMENTS_MUST_CHECK;

/*
 * Replace the ledger's master with in's rows, atomically: rows are batched
 * into instruments_load under a fresh load id, then one transaction swaps
 * them into instruments and records platform_state
 * 'instruments_refreshed_ms'.  Needs platform scope.  On failure the old
 * master is untouched.
 */
int at_instruments_store(at_db *db, const at_instruments *in,
			 at_err *e) AT_INSTRUMENTS_MUST_CHECK;

/*
 * GET {api_url}/instruments with Kite's headers (X-Kite-Version: 3,
 * Authorization: token api_key:access_token) into out.  Errors name the
 * URL without credentials: EX_UNAVAILABLE for transport errors and 5xx,
 * EX_NOPERM for 403, EX_DATAERR for other statuses.  Caps the body at
 * 256 MiB.
 */
int at_instruments_fetch(const char *api_url, const char *api_key,
			 const char *access_token, at_buf *out,
			 at_err *e) AT_INSTRUMENTS_MUST_CHECK;

void at_instruments_free(at_instruments *in);

size_t at_instruments_count(const at_instruments *in);
/* Row i in input order (CSV) or token order (ledger). */
const struct at_instrument *at_instruments_at(const at_instruments *in,
					      size_t i);

/* Hash look-ups, O(1).  exchange NULL matches any exchange (the first
 * row with that tradingsymbol wins). */
const struct at_instrument *at_instruments_by_token(const at_instruments *in,
						    uint32_t token);
const struct at_instrument *at_instruments_by_symbol(const at_instruments *in,
						     const char *exchange,
						     const char *tradingsymbol);

/*
 * The index an underlying's options are written on: "NIFTY" -> "NIFTY 50",
 * "BANKNIFTY" -> "NIFTY BANK", "FINNIFTY" -> "NIFTY FIN SERVICE",
 * "MIDCPNIFTY" -> "NIFTY MID SELECT", "SENSEX", "BANKEX", "INDIA VIX"; else
 * a row of segment INDICES whose tradingsymbol or name is the underlying.
 * NULL when none.
 */
const struct at_instrument *at_instruments_index_of(const at_instruments *in,
						    const char *underlying);

/*
 * The option chain (CE and PE rows named underlying) of one expiry, sorted
 * by strike, CE before PE at equal strikes.  Fills out[0..min(n, cap)) and
 * returns n, the chain's full length (call with cap 0 to size it).
 */
size_t at_instruments_chain(const at_instruments *in, const char *underlying,
			    int32_t expiry, const struct at_instrument **out,
			    size_t cap);

/*
 * The expiry of kind (enum at_instruments_expiry_kind) of underlying's
 * options as of the date as_of (an expiry on as_of counts: it trades that
 * day).  Weekly: the distinct listed option expiries >= as_of in order.
 * Monthly: expiries that are the last listed expiry (options or futures) of
 * their calendar month.  0 when not listed.
 */
int32_t at_instruments_expiry(const at_instruments *in, const char *underlying,
			      int32_t as_of, int kind);

/* Smallest gap between adjacent strikes of the chain; 0 with < 2 strikes. */
double at_instruments_strike_step(const at_instruments *in,
				  const char *underlying, int32_t expiry);

/* The strike nearest price on a grid of step (halves round up); 0 when
 * price or step is not positive. */
double at_instruments_atm_strike(double price, double step);

/* Lot size of underlying's derivatives (the nearest expiry's); 0 unknown. */
int32_t at_instruments_lot_size(const at_instruments *in,
				const char *underlying);

/* Freeze quantity of underlying; 0 when unknown. */
int32_t at_instruments_freeze_qty(const at_instruments *in,
				  const char *underlying);
/* Set (or add) a freeze quantity. */
void at_instruments_set_freeze(at_instruments *in, const char *underlying,
			       int32_t qty);

/* Dates. */
/* Parse "YYYY-MM-DD" (a real calendar date) into *ymd; 0 or -1. */
int at_instruments_parse_date(const char *s, size_t len, int32_t *ymd);
/* "YYYY-MM-DD" of ymd into out[11]. */
void at_instruments_format_date(int32_t ymd, char out[11]);
/* The IST calendar date of epoch milliseconds. */
int32_t at_instruments_ist_date(int64_t ms);
/* Epoch milliseconds of 00:00 IST on ymd. */
int64_t at_instruments_ist_midnight_ms(int32_t ymd);

#endif
