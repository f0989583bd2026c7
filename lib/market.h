/*
 * market: the simulated exchange behind at-sim (contract header; the market
 * helper owns lib/market.{h,c} and may ADD to this API but not change it).
 *
 * Deterministic for a given seed and the same sequence of calls and clock
 * values.  Not thread-safe: at-sim calls it from its single event loop.
 * All JSON produced is in Kite Connect v3's shapes (see
 * the JSON files in /work/shared/reference/kite) so at-sim can wrap it in the
 * {"status":"success","data":...} envelope unchanged.
 *
 * The rules it follows
 * --------------------
 * Instruments (fixed at creation, listed in this order):
 *   indices (exchange NSE, segment INDICES, instrument_type EQ, tick_size
 *   and lot_size 0 in the dump, name = tradingsymbol):
 *     NIFTY 50 256265, NIFTY BANK 260105, NIFTY FIN SERVICE 257801,
 *     INDIA VIX 264969;
 *   then per underlying NIFTY, BANKNIFTY, FINNIFTY: monthly futures, then
 *   options by expiry, strike, CE before PE.  Strike steps 50 / 100 / 50,
 *   freeze quantities 1800 / 900 / 1800, tick 0.05; lot sizes by contract
 *   from NSE's dated revisions (the LOTS table in lib/market.c: a weekly
 *   takes the lot of its expiry, a monthly or future that of its series),
 *   e.g. 25 / 15 / 40 for May 2024 contracts, 75 / 35 / 65 for December
 *   2025, 65 / 30 / 60 from January 2026.
 *   strikes_each_side strikes either side of the ATM strike at creation.
 * Expiries: expiry day is Tuesday for dates from 2025-09-01 (NSE's change)
 *   and Thursday before; monthly = the last such weekday of the month.
 *   NIFTY lists weekly_expiries weeklies and monthly_expiries monthlies
 *   (a weekly falling on the monthly date is the monthly); BANKNIFTY and
 *   FINNIFTY list monthlies only (also before Nov 2024, a simplification).
 *   An expiry still trades on its day until 15:30 IST.  Holidays are
 *   ignored (no expiry is moved to the previous trading day).
 * Symbols exactly as Kite: NIFTY24MAY22500CE, NIFTY24MAYFUT (monthly),
 *   NIFTY2450922500CE (weekly: YY, month 1-9/O/N/D, DD).
 * Tokens: exchange_token = (underlying 1-3) << 21 | (1 CE, 2 PE, 3 FUT)
 *   << 19 | (expiry day number mod 512) << 10 | (strike/step mod 1024);
 *   instrument_token = exchange_token << 8 | 2 (NFO): stable across runs
 *   for the same listing, below 2^31, never equal to an index token
 *   (segment byte 9).
 * Prices: a geometric random walk stepping once per second of the market
 *   clock (per-step vol = VIX/100 / sqrt(252 x 22500 s), or step_vol);
 *   BANKNIFTY and FINNIFTY follow NIFTY's shock with correlation 0.85 /
 *   0.9 and 1.2x / 1.05x its vol; India VIX is a slow mean-reverting log
 *   walk that falls when NIFTY rises.  The walk runs around the clock (no
 *   closed hours; a jump of more than 3 days is taken as one coarse step
 *   and then second by second).  With replay_path, NIFTY follows the bars
 *   (within a bar O -> L -> H -> C for an up bar, O -> H -> L -> C for a
 *   down bar, a third of the bar each; before the first bar its open,
 *   after the last its close); bars are used at their own times when
 *   start_ms lies inside the file, else shifted so the first bar starts
 *   at start_ms.  Timestamps are epoch ms or "YYYY-MM-DD HH:MM:SS" IST
 *   (the reference nifty_1min_ist.csv); one header line is skipped.
 *   Futures = spot x e^(r t), r = 6.5%, t in calendar years to 15:30 IST
 *   of expiry.  Options: Black-Scholes (lib/bs.h) on spot with r = 6.5%,
 *   q = 0, vol = VIX/100 x (1 - 0.6 x + x^2), x = ln(K/F)/sqrt(t) clipped
 *   to +-2.5 (skew fitted by eye to the NSE chain of 2024-05-03).  Every
 *   price is rounded to its tick, options at least 0.05; past expiry an
 *   option is worth its intrinsic value.  Options are repriced lazily
 *   (once per step, when asked for), so the day's high and low of an
 *   option are those of the prices observed; indices track every step.
 *   A session (day open/high/low, previous close, volume) starts at 09:15
 *   IST.
 * Depth: 5 levels a tick apart each side of the last price, best bid/ask
 *   1-3 ticks away (1 below 100, 2 below 1000, else 3; the bid never below
 *   0.05); quantities 1-40 lots from a hash of token and step; total
 *   buy/sell quantity 6-10x the visible depth.  Volume grows 0.1-1.9x a
 *   per-instrument rate each second (most near the money); OI rises 25%
 *   over a session towards its asymptote (oi_day_low = session open).
 * Orders (all NFO, products MIS and NRML; CO for variety co):
 *   MARKET fills at once at the touch (buy at the best ask, sell at the
 *   best bid) for the whole quantity; a marketable LIMIT fills at once at
 *   the touch; a resting LIMIT fills at its own price once the touch
 *   crosses it (buy: ask <= price, sell: bid >= price), checked every
 *   step.  SL / SL-M wait in TRIGGER PENDING until the last price reaches
 *   the trigger (buy: >=, sell: <=) and then act as LIMIT / MARKET.  The
 *   trigger must be on the far side of the last price at placement.
 *   IOC cancels whatever does not fill at once (IOC is refused for SL).
 *   TTL orders are cancelled validity_ttl minutes after placement.
 *   iceberg: legs of iceberg_quantity placed one after another (a new
 *   order per leg with meta.iceberg), each when the previous completes;
 *   only the leg quantity is held to the freeze quantity.  amo: stays
 *   "AMO REQ RECEIVED" until the clock passes the next 09:15 IST (no
 *   check that the market is closed when it is placed).  co: the main
 *   MARKET/LIMIT order plus, once it fills, an SL-M leg on the other side
 *   at trigger_price with parent_order_id; cancelling that leg exits at
 *   market.  Fills are all or nothing (no partial fills); there are no
 *   circuit checks, no MIS square-off and DAY orders do not expire.
 *   Status flow as Kite's order history: PUT ORDER REQ RECEIVED,
 *   VALIDATION PENDING, then REJECTED, or AMO REQ RECEIVED, or OPEN
 *   PENDING, OPEN / TRIGGER PENDING, COMPLETE; CANCEL PENDING, CANCELLED;
 *   MODIFY VALIDATION PENDING, MODIFY PENDING, MODIFIED, then OPEN /
 *   TRIGGER PENDING again.  The callback gets every one of these.
 *   order_id: YYMMDD (IST) + 9-digit sequence; exchange_order_id 16
 *   digits, set when the order reaches the exchange; trade_id 8 digits.
 * Refused outright (InputException, msg = Kite-like text, no order):
 *   bad variety/transaction_type/order_type/product/validity, unknown or
 *   expired instrument or an index, CNC on F&O, quantity not a multiple of
 *   the lot size, above the freeze quantity, price or trigger not a
 *   multiple of the tick, SL trigger on the wrong side, bad tag (1-20 of
 *   letters, digits, _ - : .), bad iceberg legs (2-10) or quantity.
 *   Modify/cancel of an unknown order: InputException; of a finished one:
 *   OrderException.
 * Placed, then REJECTED: insufficient margin ("Insufficient funds.
 *   Required margin is X but available margin is Y. Check the orderbook
 *   for open orders.", status_message_raw "RMS:Margin Exceeds,...") and
 *   every order while reject_orders is on.  Margin is checked at placement
 *   only (not on modify).
 * Margins (SPAN-like, per instrument on the net position across products,
 *   the worse of "all pending buys fill" and "all pending sells fill"):
 *   futures span 9% + exposure 3% of the notional; short options span 9%
 *   of the underlying's notional plus the option's value, exposure 3%;
 *   long options the premium paid.  Pending orders block margin.
 *   debits = span + exposure + option_premium + realised losses +
 *   unrealised losses other than on long options (their premium is
 *   already blocked); net = live_balance = cash - debits.  Cash (default
 *   1e7) does not move with P&L.
 * Positions: net and day are the same list (no overnight positions,
 *   overnight_quantity 0, multiplier 1); pnl = sell_value - buy_value +
 *   quantity x last_price, m2m = pnl, realised = closed quantity x (sell
 *   average - buy average), unrealised = pnl - realised; average_price is
 *   that of the side that is open.  Holdings are always empty.
 * Quotes: quote.json's keys for every instrument (indices with zero depth
 *   and circuit limits); circuit limits: futures +-10% of close, options
 *   0.05 .. 3 x close + 5% of the underlying (shown, not enforced).
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
