/*
 * market: the simulated exchange behind at-sim (contract header; the market
 * helper owns lib/market.{h,c} and may ADD to this API but not change it).
 *
 * Deterministic for a given seed and the same sequence of calls and clock
 * values.  Not thread-safe: at-sim calls it from its single event loop.
 * All JSON produced is in Kite Connect v3's shapes (see
 * the JSON files in /work/shared/reference/kite) so at-sim can wrap it in the
 * {"status":"success","data":...} envelope unchanged.
 */
#ifndef AT_MARKET_H
#define AT_MARKET_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "err.h"
#include "ticker.h"

typedef struct at_market at_market;

struct at_market_config {
	uint64_t seed;
	int64_t start_ms; /* market clock at creation (epoch ms) */
	double nifty, banknifty, finnifty; /* initial spots (0: defaults
					      22500, 48500, 23500) */
	double vix;		 /* India VIX level (0: default 14.5) */
	double step_vol;	 /* per-step relative volatility of the walk
				    (0: derived from vix) */
	const char *replay_path; /* NULL: random walk; else a CSV of bars
				    "ts_ms,open,high,low,close" (or the
				    reference NIFTY 1-minute format) driving
				    NIFTY */
	int weekly_expiries;	 /* NIFTY weekly expiries to list (0: 4) */
	int monthly_expiries;	 /* monthly expiries to list (0: 3) */
	int strikes_each_side;	 /* strikes listed each side of ATM (0: 40) */
};

struct at_market_instrument {
	uint32_t instrument_token; /* exchange_token << 8 | segment */
	uint32_t exchange_token;
	char tradingsymbol[40];	 /* NIFTY24MAY22500CE, NIFTY2451622500CE */
	char name[24];		 /* NIFTY, BANKNIFTY, FINNIFTY, INDIA VIX */
	char exchange[8];	 /* NSE, NFO */
	char segment[12];	 /* INDICES, NFO-OPT, NFO-FUT */
	char instrument_type[4]; /* EQ (indices), FUT, CE, PE */
	char expiry[11];	 /* YYYY-MM-DD or "" */
	double strike;
	double tick_size;
	int lot_size;
	int freeze_qty;
	uint32_t underlying_token; /* the index an option/future is on */
};

/* Kite error types the market reports (also used by at-sim). */
enum at_market_err {
	AT_MARKET_OK = 0,
	AT_MARKET_INPUT,  /* InputException (400) */
	AT_MARKET_ORDER,  /* OrderException (400) */
	AT_MARKET_MARGIN, /* MarginException (400) */
};

at_market *at_market_new(const struct at_market_config *cfg, at_err *e)
    __attribute__((warn_unused_result));
void at_market_free(at_market *m);

/* Advance the clock to now_ms (never backwards): move the underlyings
 * (random walk steps or replay bars), reprice every option (Black-Scholes on
 * a volatility smile around VIX), fill resting orders that cross.  Order
 * updates produced are reported through the callback set below. */
void at_market_advance(at_market *m, int64_t now_ms);
int64_t at_market_now(const at_market *m);

/* Instrument master. */
size_t at_market_count(const at_market *m);
const struct at_market_instrument *at_market_at(const at_market *m, size_t i);
const struct at_market_instrument *at_market_by_token(const at_market *m,
						      uint32_t token);
const struct at_market_instrument *
at_market_by_symbol(const at_market *m, const char *exchange,
		    const char *tradingsymbol);
/* Kite's CSV dump (header line included); exchange NULL for all. */
void at_market_instruments_csv(const at_market *m, const char *exchange,
			       at_buf *out);

/* The current full tick of an instrument (depth included); -1 unknown. */
int at_market_tick(const at_market *m, uint32_t token, struct at_tick *out);

/* Quotes: append the data object for the given "EXCHANGE:SYMBOL" keys in
 * the shape of quote.json / ltp.json / ohlc.json (kind "quote", "ltp",
 * "ohlc"); unknown keys are omitted as Kite does. */
void at_market_quote_json(const at_market *m, const char *kind,
			  const char *const *keys, size_t n, at_buf *out);

/* Accounts are created on first use by name (at-sim uses the broker
 * user_id); each has cash (default 1e7), orders, trades and positions. */
struct at_market_order_req {
	const char *variety; /* regular, amo, iceberg, co */
	const char *exchange;
	const char *tradingsymbol;
	const char *transaction_type; /* BUY, SELL */
	const char *order_type;	      /* MARKET, LIMIT, SL, SL-M */
	const char *product;	      /* MIS, NRML, CNC */
	const char *validity;	      /* DAY, IOC, TTL (NULL: DAY) */
	int quantity;
	double price;
	double trigger_price;
	int disclosed_quantity;
	int iceberg_legs;
	int iceberg_quantity;
	const char *tag;  /* NULL or <= 20 chars */
	int validity_ttl; /* minutes, for validity TTL (added) */
};

/* Place: on success order_id is set (the order may still end REJECTED by
 * RMS/exchange, e.g. insufficient margin, as Kite does); on a request Kite
 * refuses outright (bad field, unknown instrument, quantity not a lot
 * multiple, above freeze quantity) returns the error kind and msg holds
 * Kite's message. */
enum at_market_err at_market_place(at_market *m, const char *account,
				   const struct at_market_order_req *r,
				   char order_id[24], char *msg, size_t msglen);
enum at_market_err at_market_modify(at_market *m, const char *account,
				    const char *order_id,
				    const struct at_market_order_req *r,
				    char *msg, size_t msglen);
enum at_market_err at_market_cancel(at_market *m, const char *account,
				    const char *order_id, char *msg,
				    size_t msglen);
/* Reject every new order of this account (fault injection) when on. */
void at_market_set_reject_orders(at_market *m, int on);

/* Kite-shaped JSON data for one account (appended to out). */
void at_market_orders_json(const at_market *m, const char *account,
			   at_buf *out); /* orders.json data */
int at_market_order_history_json(const at_market *m, const char *account,
				 const char *order_id,
				 at_buf *out); /* -1 unknown */
void at_market_trades_json(const at_market *m, const char *account,
			   const char *order_id /* NULL all */, at_buf *out);
void at_market_positions_json(const at_market *m, const char *account,
			      at_buf *out); /* {"net":[..],"day":[..]} */
void at_market_holdings_json(const at_market *m, const char *account,
			     at_buf *out);
void at_market_margins_json(const at_market *m, const char *account,
			    const char *segment /* NULL both */, at_buf *out);

/* Order update callback: the order object in Kite's postback shape
 * (postback.json), for the WebSocket "order" text messages. */
typedef void (*at_market_order_cb)(void *ctx, const char *account,
				   const char *order_json, size_t len);
void at_market_on_order(at_market *m, at_market_order_cb cb, void *ctx);

/* Forget every order, trade and position (the clock and prices stay). */
void at_market_reset(at_market *m);

/* ---- additions by the market helper ----------------------------------- */

/* Set an account's cash (opening balance); creates the account. */
void at_market_set_cash(at_market *m, const char *account, double cash);

/*
 * Postback identity: app_id and the api_secret used for the postback
 * "checksum" (SHA-256 hex of order_id + order_timestamp + api_secret, as
 * Kite computes it).  Defaults: 0 and "" (the secret is copied, wiped on
 * free).
 */
void at_market_set_app(at_market *m, int64_t app_id, const char *api_secret);

/* Last price of an instrument (rounded to its tick); -1 when unknown. */
double at_market_ltp(const at_market *m, uint32_t token);

/* An order's current status string, NULL when unknown. */
const char *at_market_order_status(const at_market *m, const char *account,
				   const char *order_id);

#endif
