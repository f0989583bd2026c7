/*
 * test_market: the simulated exchange behind at-sim.
 *
 * Key lists below are carried from zerodha/kiteconnect-mocks (c7a8123):
 * orders.json (less account_id, terminal_id, auction_number, which only
 * some accounts and auctions carry), order_info.json, trades.json,
 * positions.json, postback.json, margins.json, quote.json, ohlc.json,
 * ltp.json.  Expiry calendars for 2024-05-03 match the NSE option chain
 * exported that day (09/16/23/30 May, 27 Jun, 25 Jul 2024).
 *
 * Lot sizes follow NSE's dated revisions by contract (the LOTS table in
 * lib/market.c): on 2024-05-03 every listed NIFTY contract has lot 25 (from
 * the weekly of 2024-05-02 and the May 2024 series), BANKNIFTY 15, FINNIFTY
 * 40 for May and June and 25 from its July 2024 series; freeze quantities
 * 1800 / 900 / 1800.  NIFTY orders below are in lots of 25 (75 = 3 lots).
 * test_lots and test_freeze at the end cover the other revisions and Kite's
 * freeze-quantity message.
 */
#include <math.h>

#include "json.h"
#include "market.h"
#include "t.h"
#include "util.h"

static const char *const ORDER_KEYS[] = {"placed_by",
					 "order_id",
					 "exchange_order_id",
					 "parent_order_id",
					 "status",
					 "status_message",
					 "status_message_raw",
					 "order_timestamp",
					 "exchange_update_timestamp",
					 "exchange_timestamp",
					 "variety",
					 "modified",
					 "exchange",
					 "tradingsymbol",
					 "instrument_token",
					 "order_type",
					 "transaction_type",
					 "validity",
					 "product",
					 "quantity",
					 "disclosed_quantity",
					 "price",
					 "trigger_price",
					 "average_price",
					 "filled_quantity",
					 "pending_quantity",
					 "cancelled_quantity",
					 "market_protection",
					 "meta",
					 "tag",
					 "guid",
					 "validity_ttl",
					 "tags",
					 NULL};
static const char *const ORDER_INFO_KEYS[] = {"average_price",
					      "cancelled_quantity",
					      "disclosed_quantity",
					      "exchange",
					      "exchange_order_id",
					      "exchange_timestamp",
					      "filled_quantity",
					      "instrument_token",
					      "order_id",
					      "order_timestamp",
					      "order_type",
					      "parent_order_id",
					      "pending_quantity",
					      "placed_by",
					      "price",
					      "product",
					      "quantity",
					      "status",
					      "status_message",
					      "tag",
					      "tradingsymbol",
					      "transaction_type",
					      "trigger_price",
					      "validity",
					      "variety",
					      "modified",
					      NULL};
static const char *const TRADE_KEYS[] = {
    "trade_id",		  "order_id",
    "exchange",		  "tradingsymbol",
    "instrument_token",	  "product",
    "average_price",	  "quantity",
    "exchange_order_id",  "transaction_type",
    "fill_timestamp",	  "order_timestamp",
    "exchange_timestamp", NULL};
static const char *const POSITION_KEYS[] = {"tradingsymbol",
					    "exchange",
					    "instrument_token",
					    "product",
					    "quantity",
					    "overnight_quantity",
					    "multiplier",
					    "average_price",
					    "close_price",
					    "last_price",
					    "value",
					    "pnl",
					    "m2m",
					    "unrealised",
					    "realised",
					    "buy_quantity",
					    "buy_price",
					    "buy_value",
					    "buy_m2m",
					    "sell_quantity",
					    "sell_price",
					    "sell_value",
					    "sell_m2m",
					    "day_buy_quantity",
					    "day_buy_price",
					    "day_buy_value",
					    "day_sell_quantity",
					    "day_sell_price",
					    "day_sell_value",
					    NULL};
static const char *const POSTBACK_KEYS[] = {"user_id",
					    "unfilled_quantity",
					    "app_id",
					    "checksum",
					    "placed_by",
					    "order_id",
					    "exchange_order_id",
					    "parent_order_id",
					    "status",
					    "status_message",
					    "status_message_raw",
					    "order_timestamp",
					    "exchange_update_timestamp",
					    "exchange_timestamp",
					    "variety",
					    "exchange",
					    "tradingsymbol",
					    "instrument_token",
					    "order_type",
					    "transaction_type",
					    "validity",
					    "product",
					    "quantity",
					    "disclosed_quantity",
					    "price",
					    "trigger_price",
					    "average_price",
					    "filled_quantity",
					    "pending_quantity",
					    "cancelled_quantity",
					    "market_protection",
					    "meta",
					    "tag",
					    "guid",
					    NULL};
static const char *const MARGIN_KEYS[] = {"enabled", "net", "available",
					  "utilised", NULL};
static const char *const MARGIN_AVAILABLE_KEYS[] = {
    "adhoc_margin",   "cash", "opening_balance", "live_balance", "collateral",
    "intraday_payin", NULL};
static const char *const MARGIN_UTILISED_KEYS[] = {"debits",
						   "exposure",
						   "m2m_realised",
						   "m2m_unrealised",
						   "option_premium",
						   "payout",
						   "span",
						   "holding_sales",
						   "turnover",
						   "liquid_collateral",
						   "stock_collateral",
						   "delivery",
						   NULL};
static const char *const QUOTE_KEYS[] = {"instrument_token",
					 "timestamp",
					 "last_trade_time",
					 "last_price",
					 "last_quantity",
					 "buy_quantity",
					 "sell_quantity",
					 "volume",
					 "average_price",
					 "oi",
					 "oi_day_high",
					 "oi_day_low",
					 "net_change",
					 "lower_circuit_limit",
					 "upper_circuit_limit",
					 "ohlc",
					 "depth",
					 NULL};
static const char *const OHLC_KEYS[] = {"instrument_token", "last_price",
					"ohlc", NULL};
static const char *const LTP_KEYS[] = {"instrument_token", "last_price", NULL};

#define MAY3 1714710600000LL  /* 2024-05-03 10:00:00 IST (a Friday) */
#define NOV25 1795581000000LL /* 2026-11-25 10:00:00 IST (a Wednesday) */

static at_market *mk(uint64_t seed, int64_t start, double step_vol)
{
	struct at_market_config c;
	at_err e = {0};
	at_market *m;

	memset(&c, 0, sizeof(c));
	c.seed = seed;
	c.start_ms = start;
	c.step_vol = step_vol;
	m = at_market_new(&c, &e);
	if (!m)
		printf("# at_market_new: %s\n", e.msg);
	return m;
}

static jv parse(const at_buf *b)
{
	jv v;
	at_err e = {0};

	if (at_json_parse(b->data, b->len, &v, "test", &e) != 0) {
		printf("# %s\n", e.msg);
		return jv_invalid();
	}
	return v;
}

/* 1 when obj (borrowed) has exactly the keys (or at least, when !exact) */
static int keys_match(jv obj, const char *const *keys, int exact,
		      const char *what)
{
	int ok = 1, n = 0;

	if (jv_get_kind(obj) != JV_KIND_OBJECT) {
		printf("# %s: not an object\n", what);
		return 0;
	}
	for (; *keys; keys++, n++)
		if (!jv_object_has(jv_copy(obj), jv_string(*keys))) {
			printf("# %s: missing \"%s\"\n", what, *keys);
			ok = 0;
		}
	if (exact && jv_object_length(jv_copy(obj)) != n) {
		printf("# %s: %d keys, want %d\n", what,
		       jv_object_length(jv_copy(obj)), n);
		ok = 0;
	}
	return ok;
}

static double num(jv obj, const char *k)
{
	jv v = jv_object_get(jv_copy(obj), jv_string(k));
	double d = jv_get_kind(v) == JV_KIND_NUMBER ? jv_number_value(v) : NAN;

	jv_free(v);
	return d;
}

static char sbuf[8][256];
static int sidx;

static const char *str(jv obj, const char *k)
{
	jv v = jv_object_get(jv_copy(obj), jv_string(k));
	char *o = sbuf[sidx++ % 8];

	if (jv_get_kind(v) == JV_KIND_STRING)
		snprintf(o, 256, "%s", jv_string_value(v));
	else if (jv_get_kind(v) == JV_KIND_NULL)
		snprintf(o, 256, "(null)");
	else
		snprintf(o, 256, "(kind %d)", jv_get_kind(v));
	jv_free(v);
	return o;
}

/* The order object with this id from orders_json (owned), or invalid. */
static jv order_of(at_market *m, const char *acct, const char *id)
{
	at_buf b = AT_BUF_INIT;
	jv all, r = jv_invalid();
	int i, n;

	at_market_orders_json(m, acct, &b);
	all = parse(&b);
	at_buf_release(&b);
	n = jv_is_valid(all) ? jv_array_length(jv_copy(all)) : 0;
	for (i = 0; i < n; i++) {
		jv o = jv_array_get(jv_copy(all), i);
		if (!strcmp(str(o, "order_id"), id)) {
			jv_free(r);
			r = o;
		} else {
			jv_free(o);
		}
	}
	jv_free(all);
	return r;
}

static struct at_market_order_req req(const char *sym, const char *tx,
				      const char *type, int qty, double price,
				      double trig)
{
	struct at_market_order_req r;

	memset(&r, 0, sizeof(r));
	r.variety = "regular";
	r.exchange = "NFO";
	r.tradingsymbol = sym;
	r.transaction_type = tx;
	r.order_type = type;
	r.product = "NRML";
	r.quantity = qty;
	r.price = price;
	r.trigger_price = trig;
	return r;
}

static uint32_t tok(at_market *m, const char *sym)
{
	const struct at_market_instrument *in =
	    at_market_by_symbol(m, "NFO", sym);
	return in ? in->instrument_token : 0;
}

/* ---- instrument master ------------------------------------------------ */

static void test_master_2024(void)
{
	at_market *m = mk(1, MAY3, 0);
	const struct at_market_instrument *in;
	at_buf b = AT_BUF_INIT;
	size_t i, nifty_opt = 0, bank_opt = 0, fin_opt = 0, fut = 0;
	int bad_tok = 0, dup = 0;

	if (!T_OK(m != NULL, "market created"))
		return;
	/* 4 indices, NIFTY 3 futures + 6 expiries x 81 strikes x 2, BANKNIFTY
	   and FINNIFTY 3 futures + 3 expiries x 81 x 2 */
	T_EQ_INT(at_market_count(m), 4 + 3 + 972 + 2 * (3 + 486),
		 "instrument count");
	in = at_market_by_token(m, 256265);
	T_OK(in && !strcmp(in->tradingsymbol, "NIFTY 50") &&
		 !strcmp(in->segment, "INDICES") &&
		 !strcmp(in->exchange, "NSE") && in->exchange_token == 1001,
	     "NIFTY 50 index row");
	T_OK(
	    at_market_by_symbol(m, "NSE", "NIFTY BANK") &&
		at_market_by_symbol(m, "NSE", "NIFTY BANK")->instrument_token ==
		    260105,
	    "NIFTY BANK 260105");
	T_OK(at_market_by_token(m, 257801) &&
		 !strcmp(at_market_by_token(m, 257801)->tradingsymbol,
			 "NIFTY FIN SERVICE"),
	     "NIFTY FIN SERVICE 257801");
	T_OK(at_market_by_token(m, 264969) &&
		 !strcmp(at_market_by_token(m, 264969)->tradingsymbol,
			 "INDIA VIX"),
	     "INDIA VIX 264969");
	/* Thursday expiries before September 2025 */
	in = at_market_by_symbol(m, "NFO", "NIFTY2450922500CE");
	T_OK(in && !strcmp(in->expiry, "2024-05-09") && in->strike == 22500 &&
		 in->lot_size == 25 && in->freeze_qty == 1800 &&
		 in->tick_size == 0.05 && !strcmp(in->segment, "NFO-OPT") &&
		 !strcmp(in->instrument_type, "CE") &&
		 !strcmp(in->name, "NIFTY") && in->underlying_token == 256265,
	     "weekly NIFTY2450922500CE");
	T_OK(at_market_by_symbol(m, "NFO", "NIFTY2451622500PE") &&
		 at_market_by_symbol(m, "NFO", "NIFTY2452322500PE"),
	     "weeklies 16 and 23 May");
	T_OK(!at_market_by_symbol(m, "NFO", "NIFTY2453022500CE"),
	     "the monthly expiry has no weekly symbol");
	in = at_market_by_symbol(m, "NFO", "NIFTY24MAY22500CE");
	T_OK(in && !strcmp(in->expiry, "2024-05-30"), "monthly NIFTY24MAY");
	in = at_market_by_symbol(m, "NFO", "NIFTY24JUL24500PE");
	T_OK(in && !strcmp(in->expiry, "2024-07-25"), "NIFTY24JUL24500PE");
	T_OK(!at_market_by_symbol(m, "NFO", "NIFTY24JUL24550PE") &&
		 at_market_by_symbol(m, "NFO", "NIFTY24JUL24450PE"),
	     "NIFTY strikes +-40 x 50 around 22500");
	in = at_market_by_symbol(m, "NFO", "NIFTY24JUNFUT");
	T_OK(in && !strcmp(in->expiry, "2024-06-27") &&
		 !strcmp(in->segment, "NFO-FUT") && in->strike == 0,
	     "NIFTY24JUNFUT");
	in = at_market_by_symbol(m, "NFO", "BANKNIFTY24MAY48500CE");
	T_OK(in && in->lot_size == 15 && in->freeze_qty == 900 &&
		 in->underlying_token == 260105,
	     "BANKNIFTY lot 15, freeze 900");
	T_OK(at_market_by_symbol(m, "NFO", "BANKNIFTY24MAY52500PE") &&
		 !at_market_by_symbol(m, "NFO", "BANKNIFTY24MAY48550PE") &&
		 !at_market_by_symbol(m, "NFO", "BANKNIFTY2450948500CE"),
	     "BANKNIFTY: step 100, monthly only");
	in = at_market_by_symbol(m, "NFO", "FINNIFTY24JUL23550CE");
	/* FINNIFTY's July 2024 series is the first with lot 25 (40 before) */
	T_OK(in && in->lot_size == 25 && in->freeze_qty == 1800 &&
		 !strcmp(in->expiry, "2024-07-25"),
	     "FINNIFTY July 2024 lot 25, step 50");
	for (i = 0; i < at_market_count(m); i++) {
		const struct at_market_instrument *x = at_market_at(m, i);
		if (!strcmp(x->exchange, "NFO")) {
			if ((x->instrument_token & 0xff) != 2 ||
			    x->instrument_token >> 8 != x->exchange_token ||
			    x->instrument_token >= 0x80000000u)
				bad_tok++;
			if (!strcmp(x->segment, "NFO-FUT"))
				fut++;
			else if (!strcmp(x->name, "NIFTY"))
				nifty_opt++;
			else if (!strcmp(x->name, "BANKNIFTY"))
				bank_opt++;
			else if (!strcmp(x->name, "FINNIFTY"))
				fin_opt++;
		}
		if (at_market_by_token(m, x->instrument_token) != x ||
		    at_market_by_symbol(m, x->exchange, x->tradingsymbol) != x)
			dup++;
	}
	T_EQ_INT(bad_tok, 0, "NFO tokens: exchange_token << 8 | 2, < 2^31");
	T_EQ_INT(dup, 0, "tokens and symbols unique");
	T_OK(fut == 9 && nifty_opt == 972 && bank_opt == 486 && fin_opt == 486,
	     "per-underlying counts");
	at_market_instruments_csv(m, NULL, &b);
	T_OK(!strncmp(b.data,
		      "instrument_token,exchange_token,tradingsymbol,name,"
		      "last_price,expiry,strike,tick_size,lot_size,"
		      "instrument_type,segment,exchange\n"
		      "256265,1001,NIFTY 50,NIFTY 50,0.0,,0.0,0.0,0,EQ,"
		      "INDICES,NSE\n",
		      strlen("instrument_token,exchange_token,tradingsymbol,"
			     "name,last_price,expiry,strike,tick_size,lot_size,"
			     "instrument_type,segment,exchange\n256265,1001,"
			     "NIFTY 50,NIFTY 50,0.0,,0.0,0.0,0,EQ,INDICES,"
			     "NSE\n")),
	     "csv header and first row");
	{
		char row[160];
		in = at_market_by_symbol(m, "NFO", "NIFTY2450922500CE");
		snprintf(row, sizeof(row),
			 "\n%u,%u,NIFTY2450922500CE,NIFTY,0.0,2024-05-09,"
			 "22500.0,0.05,25,CE,NFO-OPT,NFO\n",
			 in->instrument_token, in->exchange_token);
		T_OK(strstr(b.data, row) != NULL, "csv option row: %s",
		     row + 1);
	}
	{
		size_t lines = 0;
		const char *p;
		for (p = b.data; *p; p++)
			lines += *p == '\n';
		T_EQ_INT(lines, at_market_count(m) + 1, "csv: one line each");
	}
	at_buf_reset(&b);
	at_market_instruments_csv(m, "NSE", &b);
	T_OK(strstr(b.data, "INDIA VIX") && !strstr(b.data, "NFO"),
	     "csv filtered by exchange");
	at_buf_release(&b);
	at_market_free(m);
}

static void test_master_2026(void)
{
	at_market *m = mk(1, NOV25, 0);
	const struct at_market_instrument *in;

	if (!T_OK(m != NULL, "market created (2026)"))
		return;
	/* Tuesday expiries: weeklies 1, 8, 15, 22 Dec; monthly 29 Dec */
	in = at_market_by_symbol(m, "NFO", "NIFTY26D0122500CE");
	T_OK(in && !strcmp(in->expiry, "2026-12-01"), "NIFTY26D0122500CE");
	T_OK(at_market_by_symbol(m, "NFO", "NIFTY26D2222500PE") != NULL,
	     "NIFTY26D2222500PE");
	in = at_market_by_symbol(m, "NFO", "NIFTY26DEC22500CE");
	T_OK(in && !strcmp(in->expiry, "2026-12-29"), "NIFTY26DEC monthly");
	in = at_market_by_symbol(m, "NFO", "NIFTY27FEBFUT");
	T_OK(in && !strcmp(in->expiry, "2027-02-23"), "NIFTY27FEBFUT");
	in = at_market_by_symbol(m, "NFO", "BANKNIFTY27JAN48500CE");
	T_OK(in && !strcmp(in->expiry, "2027-01-26"), "BANKNIFTY27JAN");
	T_OK(!at_market_by_symbol(m, "NFO", "NIFTY26NOV22500CE"),
	     "the November expiry (24th) has passed");
	T_EQ_INT(at_market_count(m), 4 + 3 + 7 * 162 + 2 * (3 + 486),
		 "instrument count (7 NIFTY expiries)");
	at_market_free(m);
	{
		/* October weekly symbol letter */
		at_market *o = mk(1, 1791347400000LL /* 2026-10-07 10:00 */, 0);
		T_OK(o && at_market_by_symbol(o, "NFO", "NIFTY26O1322500CE"),
		     "October weekly uses O: NIFTY26O1322500CE");
		at_market_free(o);
	}
}

/* ---- chain coherence -------------------------------------------------- */

static void test_chain(void)
{
	at_market *m = mk(7, MAY3, 0);
	const char *exps[] = {"24MAY", "24JUN", "24JUL"};
	int e, k, bad_parity = 0, bad_mono = 0, n = 0;
	double S;

	if (!m)
		return;
	at_market_advance(m, MAY3 + 3600 * 1000);
	S = at_market_ltp(m, 256265);
	T_OK(S > 20000 && S < 25000, "NIFTY after an hour: %.2f", S);
	for (e = 0; e < 3; e++) {
		char fs[32];
		double F, pc = 1e18, pp = -1;
		snprintf(fs, sizeof(fs), "NIFTY%sFUT", exps[e]);
		F = at_market_ltp(m, tok(m, fs));
		T_OK(F > S, "%s above spot (carry): %.2f > %.2f", fs, F, S);
		for (k = -40; k <= 40; k++) {
			char cs[32], ps[32];
			double K = 22500 + 50 * k, c, p;
			snprintf(cs, sizeof(cs), "NIFTY%s%.0fCE", exps[e], K);
			snprintf(ps, sizeof(ps), "NIFTY%s%.0fPE", exps[e], K);
			c = at_market_ltp(m, tok(m, cs));
			p = at_market_ltp(m, tok(m, ps));
			n++;
			/* C - P = e^-rT (F - K) = S - K S/F: four prices
			   rounded to 0.05 (0.025 each) and the 0.05 floor */
			if (fabs(c - p - (S - K * S / F)) > 0.15) {
				bad_parity++;
				printf("# parity %s: %.2f - %.2f vs %.4f\n", cs,
				       c, p, S - K * S / F);
			}
			if (c > pc || p < pp || c < 0.05 || p < 0.05)
				bad_mono++;
			pc = c;
			pp = p;
		}
	}
	T_EQ_INT(bad_parity, 0, "put-call parity over %d strikes", n);
	T_EQ_INT(bad_mono, 0, "calls fall, puts rise with the strike");
	{
		/* smile: OTM puts richer in vol than ATM (IV from prices) */
		double c = at_market_ltp(m, tok(m, "NIFTY24MAY22500CE"));
		double p = at_market_ltp(m, tok(m, "NIFTY24MAY21500PE"));
		T_OK(c > 150 && c < 600, "ATM monthly call %.2f plausible", c);
		T_OK(p > 5 && p < 200, "5%% OTM monthly put %.2f plausible", p);
	}
	at_market_free(m);
}

/* ---- ticks and determinism ------------------------------------------- */

static void run_script(at_market *m, at_buf *out)
{
	const char *syms[] = {"NIFTY2450922500CE", "NIFTY24MAYFUT",
			      "BANKNIFTY24JUN48000PE", "FINNIFTY24MAY23500CE"};
	uint32_t idx[] = {256265, 260105, 257801, 264969};
	int s, i;
	char id[24], msg[256];

	for (s = 1; s <= 30; s++) {
		struct at_tick t;
		at_market_advance(m, MAY3 + s * 500);
		for (i = 0; i < 4; i++) {
			if (at_market_tick(m, tok(m, syms[i]), &t) == 0)
				at_ticker_tick_json(&t, out);
			if (at_market_tick(m, idx[i], &t) == 0)
				at_ticker_tick_json(&t, out);
		}
		if (s == 10) {
			struct at_market_order_req r =
			    req("NIFTY2450922500CE", "BUY", "MARKET", 75, 0, 0);
			(void)at_market_place(m, "AA0001", &r, id, msg,
					      sizeof(msg));
		}
	}
	at_market_orders_json(m, "AA0001", out);
	at_market_positions_json(m, "AA0001", out);
	at_market_trades_json(m, "AA0001", NULL, out);
}

static void test_determinism(void)
{
	at_market *a = mk(42, MAY3, 0), *b = mk(42, MAY3, 0),
		  *c = mk(43, MAY3, 0);
	at_buf x = AT_BUF_INIT, y = AT_BUF_INIT, z = AT_BUF_INIT;
	struct at_tick t;

	if (!a || !b || !c)
		return;
	run_script(a, &x);
	run_script(b, &y);
	run_script(c, &z);
	T_OK(x.len > 10000 && x.len == y.len && !memcmp(x.data, y.data, x.len),
	     "same seed, same calls: byte-identical ticks and JSON (%zu bytes)",
	     x.len);
	T_OK(x.len != z.len || memcmp(x.data, z.data, x.len),
	     "another seed moves differently");
	/* full tick shape */
	T_EQ_INT(at_market_tick(a, tok(a, "NIFTY2450922500CE"), &t), 0,
		 "tick of an option");
	T_OK(t.mode == AT_TICKER_MODE_FULL && t.tradable && !t.is_index,
	     "full tradable tick");
	T_OK(t.depth.buy[0].price < t.last_price &&
		 t.depth.sell[0].price > t.last_price &&
		 fabs(t.depth.buy[0].price - t.depth.buy[1].price - 0.05) <
		     1e-9 &&
		 fabs(t.depth.sell[1].price - t.depth.sell[0].price - 0.05) <
		     1e-9,
	     "depth: 5 levels a tick apart around the price");
	T_OK(t.depth.buy[4].quantity % 25 == 0 && t.depth.buy[4].quantity > 0 &&
		 t.depth.sell[4].orders > 0,
	     "depth quantities in lots");
	T_OK(t.volume_traded > 0 && t.volume_traded % 25 == 0 && t.oi > 0 &&
		 t.oi_day_low <= t.oi && t.oi_day_high >= t.oi,
	     "volume and oi");
	T_OK(t.ohlc.low <= t.last_price && t.ohlc.high >= t.last_price,
	     "ohlc holds the price");
	{
		uint32_t v0 = t.volume_traded, o0 = t.oi;
		at_market_advance(a, MAY3 + 600000);
		(void)at_market_tick(a, tok(a, "NIFTY2450922500CE"), &t);
		T_OK(t.volume_traded > v0 && t.oi >= o0,
		     "volume and oi grow (%u > %u)", t.volume_traded, v0);
	}
	T_EQ_INT(at_market_tick(a, 256265, &t), 0, "tick of an index");
	T_OK(t.is_index && !t.tradable && t.depth.buy[0].price == 0 &&
		 t.last_price > 0,
	     "index tick has no depth");
	T_EQ_INT(at_market_tick(a, 12345, &t), -1, "unknown token");
	{
		/* a tick encodes into a Kite full packet and back */
		uint8_t pkt[AT_TICKER_LEN_FULL];
		struct at_tick back;
		(void)at_market_tick(a, tok(a, "NIFTY24MAYFUT"), &t);
		T_EQ_INT(at_ticker_encode_packet(&t, AT_TICKER_MODE_FULL, pkt,
						 sizeof(pkt)),
			 AT_TICKER_LEN_FULL, "full packet");
		T_OK(at_ticker_decode_packet(pkt, sizeof(pkt), &back) == 0 &&
			 fabs(back.last_price - t.last_price) < 1e-9 &&
			 back.depth.sell[0].quantity ==
			     t.depth.sell[0].quantity,
		     "packet round trip");
	}
	at_buf_release(&x);
	at_buf_release(&y);
	at_buf_release(&z);
	at_market_free(a);
	at_market_free(b);
	at_market_free(c);
}

/* ---- orders ----------------------------------------------------------- */

struct cbrec {
	int n;
	int bad_keys;
	char last_status[32];
	at_buf all;
};

static void on_order(void *ctx, const char *account, const char *json,
		     size_t len)
{
	struct cbrec *r = ctx;
	at_buf b = AT_BUF_INIT;
	jv v;

	r->n++;
	at_buf_add(&b, json, len);
	v = parse(&b);
	if (!keys_match(v, POSTBACK_KEYS, 1, "postback") ||
	    strcmp(str(v, "user_id"), account))
		r->bad_keys++;
	snprintf(r->last_status, sizeof(r->last_status), "%s",
		 str(v, "status"));
	at_buf_add(&r->all, json, len);
	at_buf_putc(&r->all, '\n');
	jv_free(v);
	at_buf_release(&b);
}

static int place(at_market *m, const char *acct,
		 const struct at_market_order_req *r, char id[24])
{
	char msg[256];
	enum at_market_err k =
	    at_market_place(m, acct, r, id, msg, sizeof(msg));

	if (k != AT_MARKET_OK)
		printf("# place: %d %s\n", k, msg);
	return k;
}

/* Advance second by second until pred holds (at most n seconds). */
static int64_t run_until(at_market *m, const char *acct, const char *id,
			 const char *status, int n)
{
	int i;

	for (i = 0; i < n; i++) {
		const char *s = at_market_order_status(m, acct, id);
		if (s && !strcmp(s, status))
			return at_market_now(m);
		at_market_advance(m, at_market_now(m) + 1000);
	}
	return -1;
}

static void history_is(at_market *m, const char *acct, const char *id,
		       const char *const *want, const char *what)
{
	at_buf b = AT_BUF_INIT;
	jv h;
	int i, n, ok = 1;
	char got[512] = "";

	if (at_market_order_history_json(m, acct, id, &b) != 0) {
		T_OK(0, "%s: history", what);
		return;
	}
	h = parse(&b);
	n = jv_array_length(jv_copy(h));
	for (i = 0; i < n; i++) {
		jv o = jv_array_get(jv_copy(h), i);
		const char *s = str(o, "status");
		if (!keys_match(o, ORDER_INFO_KEYS, 0, "order history"))
			ok = 0;
		strncat(got, s, sizeof(got) - strlen(got) - 2);
		strcat(got, "|");
		if (!want[i] || strcmp(want[i], s))
			ok = 0;
		jv_free(o);
	}
	if (want[n])
		ok = 0;
	if (!T_OK(ok, "%s: history", what))
		printf("#   got %s\n", got);
	jv_free(h);
	at_buf_release(&b);
}

static void test_market_and_limit(void)
{
	at_market *m = mk(3, MAY3, 0.0005);
	struct cbrec cb = {0, 0, "", AT_BUF_INIT};
	struct at_market_order_req r;
	struct at_tick t;
	char id[24], id2[24];
	jv o;
	const char *sym = "NIFTY24MAY22500CE";
	static const char *const h_market[] = {"PUT ORDER REQ RECEIVED",
					       "VALIDATION PENDING",
					       "OPEN PENDING",
					       "OPEN",
					       "COMPLETE",
					       NULL};
	static const char *const h_cancel[] = {"PUT ORDER REQ RECEIVED",
					       "VALIDATION PENDING",
					       "OPEN PENDING",
					       "OPEN",
					       "CANCEL PENDING",
					       "CANCELLED",
					       NULL};
	static const char *const h_modify[] = {"PUT ORDER REQ RECEIVED",
					       "VALIDATION PENDING",
					       "OPEN PENDING",
					       "OPEN",
					       "MODIFY VALIDATION PENDING",
					       "MODIFY PENDING",
					       "MODIFIED",
					       "OPEN",
					       "COMPLETE",
					       NULL};

	if (!m)
		return;
	at_market_on_order(m, on_order, &cb);
	at_market_set_app(m, 1234, "s3cret");
	at_market_advance(m, MAY3 + 1000);
	(void)at_market_tick(m, tok(m, sym), &t);

	/* market buy at the best ask */
	r = req(sym, "BUY", "MARKET", 75, 0, 0);
	r.tag = "t1";
	T_EQ_INT(place(m, "AB1234", &r, id), AT_MARKET_OK, "market buy placed");
	T_OK(strlen(id) == 15 && !strncmp(id, "240503", 6),
	     "order_id like Kite's: %s", id);
	o = order_of(m, "AB1234", id);
	T_EQ_STR(str(o, "status"), "COMPLETE", "market order complete");
	T_NEAR(num(o, "average_price"), t.depth.sell[0].price, 1e-9,
	       "market buy fills at the best ask");
	T_EQ_STR(str(o, "tag"), "t1", "tag echoed");
	T_OK(strlen(str(o, "exchange_order_id")) == 16,
	     "exchange_order_id set");
	T_EQ_STR(str(o, "order_timestamp"), "2024-05-03 10:00:01",
		 "order_timestamp in IST");
	T_OK(keys_match(o, ORDER_KEYS, 1, "order"), "orders.json keys");
	jv_free(o);
	history_is(m, "AB1234", id, h_market, "market order");
	T_EQ_INT(cb.n, 5, "callback on every status change");
	T_EQ_INT(cb.bad_keys, 0, "postbacks have postback.json's keys");
	{
		/* checksum = sha256(order_id + order_timestamp + secret) */
		char cs[65], in[128];
		snprintf(in, sizeof(in), "%s2024-05-03 10:00:01s3cret", id);
		at_util_sha256_hex(in, strlen(in), cs);
		T_OK(strstr(cb.all.data, cs) != NULL, "postback checksum");
		T_OK(strstr(cb.all.data, "\"app_id\":1234") != NULL,
		     "postback app_id");
	}

	/* market sell at the best bid */
	(void)at_market_tick(m, tok(m, sym), &t);
	r = req(sym, "SELL", "MARKET", 75, 0, 0);
	T_EQ_INT(place(m, "AB1234", &r, id), AT_MARKET_OK, "market sell");
	o = order_of(m, "AB1234", id);
	T_NEAR(num(o, "average_price"), t.depth.buy[0].price, 1e-9,
	       "market sell fills at the best bid");
	jv_free(o);

	/* marketable limit: at the touch, not at the limit */
	(void)at_market_tick(m, tok(m, sym), &t);
	r = req(sym, "BUY", "LIMIT", 75, t.last_price + 50, 0);
	T_EQ_INT(place(m, "AB1234", &r, id), AT_MARKET_OK, "marketable limit");
	o = order_of(m, "AB1234", id);
	T_OK(!strcmp(str(o, "status"), "COMPLETE") &&
		 fabs(num(o, "average_price") - t.depth.sell[0].price) < 1e-9,
	     "marketable limit fills at the ask %.2f", t.depth.sell[0].price);
	jv_free(o);

	/* resting limits fill at their price when the market comes to them:
	   a buy below and a sell above, one of them crosses first */
	(void)at_market_tick(m, tok(m, sym), &t);
	{
		double blim = t.depth.sell[0].price - 2;
		double slim = t.depth.buy[0].price + 2;
		const char *st_b, *st_s;
		int i;
		r = req(sym, "BUY", "LIMIT", 150, blim, 0);
		T_EQ_INT(place(m, "AB1234", &r, id), AT_MARKET_OK,
			 "resting buy limit");
		r = req(sym, "SELL", "LIMIT", 150, slim, 0);
		T_EQ_INT(place(m, "AB1234", &r, id2), AT_MARKET_OK,
			 "resting sell limit");
		T_EQ_STR(at_market_order_status(m, "AB1234", id), "OPEN",
			 "limit below the ask rests");
		T_EQ_STR(at_market_order_status(m, "AB1234", id2), "OPEN",
			 "limit above the bid rests");
		for (i = 0; i < 3000; i++) {
			st_b = at_market_order_status(m, "AB1234", id);
			st_s = at_market_order_status(m, "AB1234", id2);
			if (strcmp(st_b, "OPEN") || strcmp(st_s, "OPEN"))
				break;
			at_market_advance(m, at_market_now(m) + 1000);
		}
		T_OK(!strcmp(st_b, "COMPLETE") || !strcmp(st_s, "COMPLETE"),
		     "a resting limit filled later (buy %s, sell %s)", st_b,
		     st_s);
		o = order_of(m, "AB1234", !strcmp(st_b, "COMPLETE") ? id : id2);
		T_NEAR(num(o, "average_price"),
		       !strcmp(st_b, "COMPLETE") ? blim : slim, 1e-9,
		       "at its limit price");
		T_EQ_INT(num(o, "filled_quantity"), 150, "filled quantity");
		T_EQ_INT(num(o, "pending_quantity"), 0, "nothing pending");
		jv_free(o);
		(void)at_market_cancel(
		    m, "AB1234", !strcmp(st_b, "COMPLETE") ? id2 : id, NULL, 0);
	}

	/* cancel */
	(void)at_market_tick(m, tok(m, sym), &t);
	r = req(sym, "SELL", "LIMIT", 75, t.last_price + 200, 0);
	T_EQ_INT(place(m, "AB1234", &r, id), AT_MARKET_OK, "far sell limit");
	T_EQ_INT(at_market_cancel(m, "AB1234", id, NULL, 0), AT_MARKET_OK,
		 "cancelled");
	o = order_of(m, "AB1234", id);
	T_OK(!strcmp(str(o, "status"), "CANCELLED") &&
		 num(o, "cancelled_quantity") == 75,
	     "CANCELLED with cancelled_quantity");
	jv_free(o);
	history_is(m, "AB1234", id, h_cancel, "cancelled order");
	{
		char msg[256];
		T_EQ_INT(at_market_cancel(m, "AB1234", id, msg, sizeof(msg)),
			 AT_MARKET_ORDER, "cancel twice: OrderException");
		T_EQ_STR(msg, "Order cannot be cancelled as it is CANCELLED.",
			 "message");
		T_EQ_INT(at_market_cancel(m, "AB1234", "1", msg, sizeof(msg)),
			 AT_MARKET_INPUT, "cancel unknown");
		T_EQ_INT(at_market_cancel(m, "ZZ9999", id, msg, sizeof(msg)),
			 AT_MARKET_INPUT, "another account's order is unknown");
	}

	/* modify into a marketable price */
	(void)at_market_tick(m, tok(m, sym), &t);
	r = req(sym, "BUY", "LIMIT", 75, t.last_price - 100, 0);
	T_EQ_INT(place(m, "AB1234", &r, id2), AT_MARKET_OK, "low buy limit");
	memset(&r, 0, sizeof(r));
	r.price = t.last_price + 100;
	T_EQ_INT(at_market_modify(m, "AB1234", id2, &r, NULL, 0), AT_MARKET_OK,
		 "modified");
	o = order_of(m, "AB1234", id2);
	T_OK(!strcmp(str(o, "status"), "COMPLETE") &&
		 jv_get_kind(jv_object_get(
		     jv_copy(o), jv_string("modified"))) == JV_KIND_TRUE,
	     "modified order fills, modified true");
	jv_free(o);
	history_is(m, "AB1234", id2, h_modify, "modified order");
	at_buf_release(&cb.all);
	at_market_free(m);
}

static void test_sl_ioc_iceberg_amo_co(void)
{
	at_market *m = mk(5, MAY3, 0.0005);
	struct at_market_order_req r;
	struct at_tick t;
	char id[24], msg[256];
	jv o;
	const char *sym = "NIFTY24MAY22500PE";
	static const char *const h_sl[] = {"PUT ORDER REQ RECEIVED",
					   "VALIDATION PENDING",
					   "OPEN PENDING",
					   "TRIGGER PENDING",
					   "OPEN",
					   "COMPLETE",
					   NULL};

	if (!m)
		return;
	at_market_advance(m, MAY3 + 1000);
	(void)at_market_tick(m, tok(m, sym), &t);

	/* SL-M sell below the market triggers when the price falls */
	r = req(sym, "SELL", "SL-M", 75, 0, t.last_price - 3);
	T_EQ_INT(place(m, "CD1", &r, id), AT_MARKET_OK, "SL-M placed");
	T_EQ_STR(at_market_order_status(m, "CD1", id), "TRIGGER PENDING",
		 "SL-M waits for its trigger");
	T_OK(run_until(m, "CD1", id, "COMPLETE", 5000) > 0,
	     "SL-M triggered and filled");
	history_is(m, "CD1", id, h_sl, "SL-M");
	{
		double trig = r.trigger_price;
		o = order_of(m, "CD1", id);
		T_OK(num(o, "average_price") <= trig + 0.25,
		     "SL-M sold near the trigger (%.2f vs %.2f)",
		     num(o, "average_price"), trig);
		jv_free(o);
	}
	/* SL buy above the market */
	(void)at_market_tick(m, tok(m, sym), &t);
	r = req(sym, "BUY", "SL", 75, t.last_price + 6, t.last_price + 5);
	T_EQ_INT(place(m, "CD1", &r, id), AT_MARKET_OK, "SL buy placed");
	T_EQ_STR(at_market_order_status(m, "CD1", id), "TRIGGER PENDING",
		 "SL waits");
	T_OK(run_until(m, "CD1", id, "COMPLETE", 5000) > 0, "SL buy filled");
	o = order_of(m, "CD1", id);
	T_OK(num(o, "average_price") <= r.price + 1e-9,
	     "SL buy filled at or below its limit");
	jv_free(o);
	/* stop-loss validations */
	(void)at_market_tick(m, tok(m, sym), &t);
	r = req(sym, "BUY", "SL", 75, t.last_price - 4, t.last_price - 5);
	T_EQ_INT(at_market_place(m, "CD1", &r, id, msg, sizeof(msg)),
		 AT_MARKET_INPUT, "SL buy with trigger below the market");
	T_OK(strstr(msg, "higher than the last traded price") != NULL, "%s",
	     msg);
	r = req(sym, "SELL", "SL", 75, t.last_price - 4, t.last_price - 5);
	T_EQ_INT(at_market_place(m, "CD1", &r, id, msg, sizeof(msg)),
		 AT_MARKET_INPUT,
		 "SL sell with price above trigger... refused");
	T_EQ_STR(msg,
		 "Trigger price for stoploss sell orders should be higher "
		 "than the price.",
		 "message");

	/* IOC: not marketable -> cancelled at once */
	(void)at_market_tick(m, tok(m, sym), &t);
	r = req(sym, "BUY", "LIMIT", 75, t.last_price - 20, 0);
	r.validity = "IOC";
	T_EQ_INT(place(m, "CD1", &r, id), AT_MARKET_OK, "IOC placed");
	o = order_of(m, "CD1", id);
	T_OK(!strcmp(str(o, "status"), "CANCELLED") &&
		 num(o, "cancelled_quantity") == 75 &&
		 !strcmp(str(o, "validity"), "IOC"),
	     "IOC unfilled rest cancelled");
	jv_free(o);
	r = req(sym, "BUY", "MARKET", 75, 0, 0);
	r.validity = "IOC";
	T_EQ_INT(place(m, "CD1", &r, id), AT_MARKET_OK, "IOC market");
	T_EQ_STR(at_market_order_status(m, "CD1", id), "COMPLETE",
		 "IOC market fills");

	/* TTL */
	r = req(sym, "BUY", "LIMIT", 75, 0.05, 0);
	r.validity = "TTL";
	r.validity_ttl = 2;
	T_EQ_INT(place(m, "CD1", &r, id), AT_MARKET_OK, "TTL placed");
	at_market_advance(m, at_market_now(m) + 119000);
	T_EQ_STR(at_market_order_status(m, "CD1", id), "OPEN",
		 "TTL open before 2 minutes");
	at_market_advance(m, at_market_now(m) + 2000);
	T_EQ_STR(at_market_order_status(m, "CD1", id), "CANCELLED",
		 "TTL cancelled after 2 minutes");

	/* iceberg: 4 legs of 75 (3 lots of 25 each) */
	r = req(sym, "BUY", "MARKET", 300, 0, 0);
	r.variety = "iceberg";
	r.iceberg_legs = 4;
	r.iceberg_quantity = 75;
	r.tag = "ice";
	T_EQ_INT(place(m, "EF2", &r, id), AT_MARKET_OK, "iceberg placed");
	{
		at_buf b = AT_BUF_INIT;
		jv all;
		int i, n, legs_ok = 1, filled = 0;
		at_market_orders_json(m, "EF2", &b);
		all = parse(&b);
		n = jv_array_length(jv_copy(all));
		T_EQ_INT(n, 4, "iceberg: one order per leg");
		for (i = 0; i < n; i++) {
			jv x = jv_array_get(jv_copy(all), i);
			jv ice = jv_object_get(
			    jv_object_get(jv_copy(x), jv_string("meta")),
			    jv_string("iceberg"));
			if (num(ice, "leg") != i + 1 || num(ice, "legs") != 4 ||
			    num(ice, "leg_quantity") != 75 ||
			    num(ice, "total_quantity") != 300 ||
			    num(ice, "remaining_quantity") !=
				300 - 75 * (i + 1) ||
			    strcmp(str(x, "status"), "COMPLETE") ||
			    strcmp(str(x, "tag"), "ice"))
				legs_ok = 0;
			filled += (int)num(x, "filled_quantity");
			jv_free(ice);
			jv_free(x);
		}
		T_OK(legs_ok, "iceberg legs: meta and status");
		T_EQ_INT(filled, 300, "iceberg filled in full");
		jv_free(all);
		at_buf_release(&b);
	}
	/* 2000 = 80 lots in legs of 1900 = 76 lots: only the leg is held
	   to the freeze quantity (1800 = 72 lots) */
	r.quantity = 2000;
	r.iceberg_quantity = 1900;
	r.iceberg_legs = 2;
	T_EQ_INT(at_market_place(m, "EF2", &r, id, msg, sizeof(msg)),
		 AT_MARKET_INPUT, "iceberg leg above freeze refused");
	T_OK(!strncmp(msg,
		      "The order quantity 1900 (76 lots) is higher than the "
		      "maximum quantity of 1800 (72 lots) allowed by the "
		      "exchanges.",
		      strlen("The order quantity 1900 (76 lots) is higher than "
			     "the maximum quantity of 1800 (72 lots) allowed "
			     "by the exchanges.")),
	     "  the leg quantity is named: %s", msg);

	/* AMO waits for the next session open (09:15 IST) */
	r = req(sym, "BUY", "MARKET", 75, 0, 0);
	r.variety = "amo";
	T_EQ_INT(place(m, "GH3", &r, id), AT_MARKET_OK, "amo placed");
	T_EQ_STR(at_market_order_status(m, "GH3", id), "AMO REQ RECEIVED",
		 "amo received");
	at_market_advance(m, MAY3 + (23 * 3600 + 14 * 60) * 1000LL);
	T_EQ_STR(at_market_order_status(m, "GH3", id), "AMO REQ RECEIVED",
		 "amo still waiting at 09:14 next day");
	at_market_advance(m, MAY3 + (23 * 3600 + 16 * 60) * 1000LL);
	T_EQ_STR(at_market_order_status(m, "GH3", id), "COMPLETE",
		 "amo executed after 09:15");

	/* cover order: main leg plus an SL-M leg; exit at market */
	(void)at_market_tick(m, tok(m, sym), &t);
	r = req(sym, "BUY", "MARKET", 75, 0, t.last_price - 10);
	r.variety = "co";
	r.product = "CO";
	T_EQ_INT(place(m, "IJ4", &r, id), AT_MARKET_OK, "cover order");
	{
		at_buf b = AT_BUF_INIT;
		jv all, leg;
		char child[24];
		at_market_orders_json(m, "IJ4", &b);
		all = parse(&b);
		T_EQ_INT(jv_array_length(jv_copy(all)), 2, "two legs");
		leg = jv_array_get(jv_copy(all), 1);
		T_OK(!strcmp(str(leg, "parent_order_id"), id) &&
			 !strcmp(str(leg, "order_type"), "SL-M") &&
			 !strcmp(str(leg, "transaction_type"), "SELL") &&
			 !strcmp(str(leg, "status"), "TRIGGER PENDING"),
		     "stop-loss leg waits with parent_order_id");
		snprintf(child, sizeof(child), "%s", str(leg, "order_id"));
		T_EQ_INT(at_market_cancel(m, "IJ4", child, NULL, 0),
			 AT_MARKET_OK, "exit the cover order");
		T_EQ_STR(at_market_order_status(m, "IJ4", child), "COMPLETE",
			 "exit fills at market");
		jv_free(leg);
		jv_free(all);
		at_buf_release(&b);
	}
	at_market_free(m);
}

static void test_rejections(void)
{
	at_market *m = mk(9, MAY3, 0);
	struct at_market_order_req r;
	char id[24], msg[512];
	jv o;
	const char *sym = "NIFTY24MAY22500CE";

	if (!m)
		return;
#define REJ(kind, want, ...)                                                   \
	do {                                                                   \
		T_EQ_INT(at_market_place(m, "KL5", &r, id, msg, sizeof(msg)),  \
			 kind, __VA_ARGS__);                                   \
		T_EQ_STR(msg, want, "  message");                              \
		T_EQ_STR(id, "", "  no order id");                             \
	} while (0)
	/* NIFTY24MAY: lot 25, freeze 1800 = 72 lots */
	r = req(sym, "BUY", "MARKET", 30, 0, 0);
	REJ(AT_MARKET_INPUT, "Quantity should be a multiple of lot size (25).",
	    "lot multiple");
	r = req(sym, "BUY", "MARKET", 1875, 0, 0);
	REJ(AT_MARKET_INPUT,
	    "The order quantity 1875 (75 lots) is higher than the maximum "
	    "quantity of 1800 (72 lots) allowed by the exchanges. Please "
	    "reduce the order quantity or use iceberg orders. [Read more.]("
	    "https://support.zerodha.com/category/trading-and-markets/"
	    "margin-leverage-and-product-and-order-types/articles/"
	    "what-does-the-error-rms-rule-check-freeze-quantity-for-fo-"
	    "including-square-off-order-mean)",
	    "above freeze");
	r = req("NIFTY24MAY22510CE", "BUY", "MARKET", 75, 0, 0);
	REJ(AT_MARKET_INPUT,
	    "The instrument you are placing an order for has either expired "
	    "or does not exist.",
	    "unknown instrument");
	r = req("NIFTY 50", "BUY", "MARKET", 75, 0, 0);
	r.exchange = "NSE";
	REJ(AT_MARKET_INPUT,
	    "The instrument you are placing an order for has either expired "
	    "or does not exist.",
	    "indices are not tradable");
	r = req(sym, "BUY", "STOP", 75, 0, 0);
	REJ(AT_MARKET_INPUT, "Invalid `order_type`.", "bad order_type");
	r = req(sym, "HOLD", "MARKET", 75, 0, 0);
	REJ(AT_MARKET_INPUT, "Invalid `transaction_type`.", "bad side");
	r = req(sym, "BUY", "MARKET", 75, 0, 0);
	r.product = "CNC";
	REJ(AT_MARKET_INPUT,
	    "CNC product is not allowed for F&O. Use NRML or MIS.",
	    "CNC on F&O");
	r.product = "CO";
	REJ(AT_MARKET_INPUT,
	    "Cover orders take product CO, and product CO only cover orders.",
	    "CO product on a regular order");
	r = req(sym, "BUY", "LIMIT", 75, 100.03, 0);
	REJ(AT_MARKET_INPUT,
	    "Tick size for this script is 0.05. Kindly enter price in the "
	    "multiple of tick size for this script.",
	    "price off the tick");
	r = req(sym, "BUY", "LIMIT", 75, 0, 0);
	REJ(AT_MARKET_INPUT, "Invalid `price`.", "limit without price");
	r = req(sym, "BUY", "SL-M", 75, 0, 0);
	REJ(AT_MARKET_INPUT, "Invalid `trigger_price`.",
	    "SL-M without trigger");
	r = req(sym, "BUY", "MARKET", 75, 0, 0);
	r.validity = "GTC";
	REJ(AT_MARKET_INPUT, "Invalid `validity`.", "bad validity");
	r.validity = "TTL";
	REJ(AT_MARKET_INPUT, "Invalid `validity_ttl`.", "TTL without minutes");
	r = req(sym, "BUY", "MARKET", 75, 0, 0);
	r.variety = "bracket";
	REJ(AT_MARKET_INPUT, "Invalid `variety`.", "bad variety");
	r = req(sym, "BUY", "MARKET", 75, 0, 0);
	r.tag = "this tag is far too long";
	REJ(AT_MARKET_INPUT,
	    "Invalid `tag`: at most 20 letters, digits and _ - : .",
	    "long tag");
	r = req(sym, "BUY", "MARKET", 300, 0, 0);
	r.variety = "iceberg";
	r.iceberg_legs = 11;
	r.iceberg_quantity = 75;
	REJ(AT_MARKET_INPUT, "Iceberg legs should be between 2 and 10.",
	    "iceberg legs");
#undef REJ
	T_EQ_INT(at_market_count(m) > 0, 1, "nothing was placed:");
	{
		at_buf b = AT_BUF_INIT;
		at_market_orders_json(m, "KL5", &b);
		T_EQ_STR(b.data, "[]", "  no orders for refused requests");
		at_buf_release(&b);
	}

	/* insufficient margin: placed, then REJECTED by RMS */
	at_market_set_cash(m, "MN6", 50000);
	r = req(sym, "SELL", "MARKET", 75, 0, 0);
	T_EQ_INT(place(m, "MN6", &r, id), AT_MARKET_OK,
		 "short beyond margin is placed");
	o = order_of(m, "MN6", id);
	T_EQ_STR(str(o, "status"), "REJECTED", "rejected by RMS");
	T_OK(!strncmp(str(o, "status_message"),
		      "Insufficient funds. Required margin is ", 39) &&
		 strstr(str(o, "status_message"),
			"but available margin is 50000.00. Check the orderbook "
			"for open orders."),
	     "Kite's message: %s", str(o, "status_message"));
	T_OK(!strncmp(str(o, "status_message_raw"), "RMS:Margin Exceeds,", 19),
	     "raw message");
	T_EQ_STR(str(o, "exchange_order_id"), "(null)",
		 "never reached the exchange");
	T_EQ_INT(num(o, "pending_quantity"), 0, "nothing pending");
	jv_free(o);
	/* a long option costs only its premium: fits */
	r = req(sym, "BUY", "MARKET", 75, 0, 0);
	T_EQ_INT(place(m, "MN6", &r, id), AT_MARKET_OK, "long option placed");
	T_EQ_STR(at_market_order_status(m, "MN6", id), "COMPLETE",
		 "premium within cash");

	/* fault injection */
	at_market_set_cash(m, "MN6", 1e6);
	at_market_set_reject_orders(m, 1);
	T_EQ_INT(place(m, "MN6", &r, id), AT_MARKET_OK, "placed while on");
	T_EQ_STR(at_market_order_status(m, "MN6", id), "REJECTED",
		 "reject_orders rejects");
	at_market_set_reject_orders(m, 0);
	T_EQ_INT(place(m, "MN6", &r, id), AT_MARKET_OK, "placed when off");
	T_EQ_STR(at_market_order_status(m, "MN6", id), "COMPLETE",
		 "and fills again");
	at_market_free(m);
}

/* ---- positions, margins, JSON shapes ---------------------------------- */

static jv first_pos(at_market *m, const char *acct, const char *which)
{
	at_buf b = AT_BUF_INIT;
	jv all, r;

	at_market_positions_json(m, acct, &b);
	all = parse(&b);
	at_buf_release(&b);
	r = jv_array_get(jv_object_get(all, jv_string(which)), 0);
	return r;
}

static void test_positions(void)
{
	at_market *m = mk(11, MAY3, 0.0003);
	struct at_market_order_req r;
	char id[24];
	jv o, p;
	double p1, p2, ltp;
	const char *sym = "NIFTY24MAYFUT";

	if (!m)
		return;
	r = req(sym, "BUY", "MARKET", 150, 0, 0);
	(void)place(m, "PQ7", &r, id);
	o = order_of(m, "PQ7", id);
	p1 = num(o, "average_price");
	jv_free(o);
	at_market_advance(m, MAY3 + 600000);
	r = req(sym, "SELL", "MARKET", 75, 0, 0);
	(void)place(m, "PQ7", &r, id);
	o = order_of(m, "PQ7", id);
	p2 = num(o, "average_price");
	jv_free(o);
	at_market_advance(m, MAY3 + 900000);
	ltp = at_market_ltp(m, tok(m, sym));
	p = first_pos(m, "PQ7", "net");
	T_OK(keys_match(p, POSITION_KEYS, 1, "position"),
	     "positions.json keys");
	T_EQ_INT(num(p, "quantity"), 75, "net quantity 150 - 75");
	T_NEAR(num(p, "average_price"), p1, 1e-9, "average of the buys");
	T_NEAR(num(p, "last_price"), ltp, 1e-9, "last price");
	T_NEAR(num(p, "buy_value"), 150 * p1, 0.005, "buy value");
	T_NEAR(num(p, "sell_value"), 75 * p2, 0.005, "sell value");
	T_NEAR(num(p, "value"), 75 * p2 - 150 * p1, 0.005,
	       "value = sell - buy");
	T_NEAR(num(p, "pnl"), 75 * p2 - 150 * p1 + 75 * ltp, 0.005,
	       "pnl = sell - buy + qty x ltp");
	T_NEAR(num(p, "realised"), 75 * (p2 - p1), 0.005,
	       "realised on the closed 75");
	T_NEAR(num(p, "unrealised"), 75 * (ltp - p1), 0.01,
	       "unrealised on the open 75");
	T_NEAR(num(p, "m2m"), num(p, "pnl"), 1e-9, "m2m = pnl (no overnight)");
	T_EQ_INT(num(p, "multiplier"), 1, "multiplier 1");
	T_EQ_STR(str(p, "product"), "NRML", "product");
	jv_free(p);
	p = first_pos(m, "PQ7", "day");
	T_EQ_INT(num(p, "day_buy_quantity"), 150, "day position too");
	jv_free(p);

	/* margins: futures 9% SPAN + 3% exposure of the notional */
	{
		at_buf b = AT_BUF_INIT;
		jv mg, u, av;
		double notional = 75 * ltp;
		at_market_margins_json(m, "PQ7", NULL, &b);
		mg = parse(&b);
		T_OK(keys_match(
			 mg, (const char *const[]){"equity", "commodity", NULL},
			 1, "margins"),
		     "margins: equity and commodity");
		mg = jv_object_get(mg, jv_string("equity"));
		u = jv_object_get(jv_copy(mg), jv_string("utilised"));
		av = jv_object_get(jv_copy(mg), jv_string("available"));
		T_OK(keys_match(mg, MARGIN_KEYS, 1, "equity") &&
			 keys_match(u, MARGIN_UTILISED_KEYS, 1, "utilised") &&
			 keys_match(av, MARGIN_AVAILABLE_KEYS, 1, "available"),
		     "margins.json keys");
		T_NEAR(num(u, "span"), 0.09 * notional, 0.01, "span 9%%");
		T_NEAR(num(u, "exposure"), 0.03 * notional, 0.01,
		       "exposure 3%%");
		T_NEAR(num(u, "m2m_realised"), 75 * (p2 - p1), 0.005,
		       "m2m realised");
		{
			double pl =
			    num(u, "m2m_realised") + num(u, "m2m_unrealised");
			T_NEAR(num(u, "debits"),
			       num(u, "span") + num(u, "exposure") +
				   (pl < 0 ? -pl : 0),
			       0.011, "debits = span + exposure + losses");
		}
		T_NEAR(num(av, "cash"), 1e7, 0, "default cash 1e7");
		T_NEAR(num(mg, "net"), 1e7 - num(u, "debits"), 0.005,
		       "net = cash - debits");
		T_NEAR(num(av, "live_balance"), num(mg, "net"), 0,
		       "live_balance = net");
		jv_free(u);
		jv_free(av);
		jv_free(mg);
		at_buf_reset(&b);
		at_market_margins_json(m, "PQ7", "equity", &b);
		mg = parse(&b);
		T_OK(keys_match(mg, MARGIN_KEYS, 1, "equity segment"),
		     "margins/equity is the segment object");
		jv_free(mg);
		at_buf_release(&b);
	}

	/* short and long options */
	{
		at_market *n = mk(12, MAY3, 0);
		at_buf b = AT_BUF_INIT;
		jv u;
		double S, c, pp;
		r = req("NIFTY24MAY23000CE", "SELL", "MARKET", 150, 0, 0);
		(void)place(n, "RS8", &r, id);
		r = req("NIFTY24MAY22000PE", "BUY", "MARKET", 75, 0, 0);
		(void)place(n, "RS8", &r, id);
		o = order_of(n, "RS8", id);
		pp = num(o, "average_price");
		jv_free(o);
		S = at_market_ltp(n, 256265);
		c = at_market_ltp(n, tok(n, "NIFTY24MAY23000CE"));
		at_market_margins_json(n, "RS8", "equity", &b);
		u = jv_object_get(parse(&b), jv_string("utilised"));
		T_NEAR(num(u, "span"), 0.09 * 150 * S + 150 * c, 0.5,
		       "short option: 9%% of the underlying + premium");
		T_NEAR(num(u, "exposure"), 0.03 * 150 * S, 0.5,
		       "short option exposure 3%%");
		T_NEAR(num(u, "option_premium"), 75 * pp, 0.005,
		       "long option: the premium paid");
		jv_free(u);
		at_buf_release(&b);
		at_market_free(n);
	}

	/* trades */
	{
		at_buf b = AT_BUF_INIT;
		jv all, t0;
		at_market_trades_json(m, "PQ7", NULL, &b);
		all = parse(&b);
		T_EQ_INT(jv_array_length(jv_copy(all)), 2, "two trades");
		t0 = jv_array_get(jv_copy(all), 0);
		T_OK(keys_match(t0, TRADE_KEYS, 1, "trade"),
		     "trades.json keys");
		T_OK(num(t0, "quantity") == 150 &&
			 fabs(num(t0, "average_price") - p1) < 1e-9 &&
			 strlen(str(t0, "order_timestamp")) == 8,
		     "trade fields (order_timestamp is a time, as Kite's)");
		jv_free(t0);
		jv_free(all);
		at_buf_reset(&b);
		at_market_trades_json(m, "PQ7", id, &b);
		all = parse(&b);
		T_EQ_INT(jv_array_length(jv_copy(all)), 1,
			 "trades of one order");
		jv_free(all);
		at_buf_reset(&b);
		at_market_holdings_json(m, "PQ7", &b);
		T_EQ_STR(b.data, "[]", "no holdings (F&O only)");
		at_buf_release(&b);
	}
	/* reset forgets orders and positions, keeps prices */
	ltp = at_market_ltp(m, tok(m, sym));
	at_market_reset(m);
	{
		at_buf b = AT_BUF_INIT;
		at_market_positions_json(m, "PQ7", &b);
		T_EQ_STR(b.data, "{\"net\":[],\"day\":[]}",
			 "reset: no positions");
		at_buf_reset(&b);
		at_market_orders_json(m, "PQ7", &b);
		T_EQ_STR(b.data, "[]", "reset: no orders");
		at_buf_release(&b);
	}
	T_NEAR(at_market_ltp(m, tok(m, sym)), ltp, 0, "reset keeps prices");
	at_market_free(m);
}

static void test_quotes(void)
{
	at_market *m = mk(13, MAY3, 0);
	const char *keys[] = {"NFO:NIFTY24MAY22500CE", "NSE:NIFTY 50",
			      "NFO:NOPE", "junk"};
	at_buf b = AT_BUF_INIT;
	jv q, one;

	if (!m)
		return;
	at_market_advance(m, MAY3 + 10000);
	at_market_quote_json(m, "quote", keys, 4, &b);
	q = parse(&b);
	T_EQ_INT(jv_object_length(jv_copy(q)), 2, "unknown keys omitted");
	one = jv_object_get(jv_copy(q), jv_string("NFO:NIFTY24MAY22500CE"));
	T_OK(keys_match(one, QUOTE_KEYS, 1, "quote"), "quote.json keys");
	T_OK(num(one, "instrument_token") == tok(m, "NIFTY24MAY22500CE") &&
		 num(one, "last_price") > 0,
	     "quote values");
	{
		jv d = jv_object_get(jv_copy(one), jv_string("depth"));
		jv buy = jv_object_get(jv_copy(d), jv_string("buy"));
		T_EQ_INT(jv_array_length(jv_copy(buy)), 5, "5 depth levels");
		jv_free(buy);
		jv_free(d);
	}
	jv_free(one);
	one = jv_object_get(q, jv_string("NSE:NIFTY 50"));
	T_OK(keys_match(one, QUOTE_KEYS, 1, "index quote"), "index quote keys");
	jv_free(one);
	at_buf_reset(&b);
	at_market_quote_json(m, "ohlc", keys, 2, &b);
	q = parse(&b);
	one = jv_object_get(q, jv_string("NSE:NIFTY 50"));
	T_OK(keys_match(one, OHLC_KEYS, 1, "ohlc"), "ohlc.json keys");
	jv_free(one);
	at_buf_reset(&b);
	at_market_quote_json(m, "ltp", keys, 2, &b);
	q = parse(&b);
	one = jv_object_get(q, jv_string("NFO:NIFTY24MAY22500CE"));
	T_OK(keys_match(one, LTP_KEYS, 1, "ltp"), "ltp.json keys");
	jv_free(one);
	at_buf_release(&b);
	at_market_free(m);
}

static void test_replay(void)
{
	char path[256];
	const char *dir = getenv("AT_TEST_TMP");
	FILE *f;
	struct at_market_config c;
	at_err e = {0};
	at_market *m;

	snprintf(path, sizeof(path), "%s/replay-%d.csv", dir ? dir : "/tmp",
		 (int)getpid());
	f = fopen(path, "w");
	if (!T_OK(f != NULL, "replay file"))
		return;
	fputs("datetime_ist,open,high,low,close\n"
	      "2025-09-04 09:15:00,24970.30,24970.30,24867.05,24876.60\n"
	      "2025-09-04 09:16:00,24876.95,24892.70,24875.80,24876.95\n"
	      "2025-09-04 09:17:00,24878.55,24880.95,24862.75,24866.80\n",
	      f);
	fclose(f);
	memset(&c, 0, sizeof(c));
	c.seed = 1;
	c.start_ms = 1756957500000LL; /* 2025-09-04 09:15:00 IST */
	c.replay_path = path;
	m = at_market_new(&c, &e);
	if (!T_OK(m != NULL, "replay market: %s", e.msg))
		return;
	T_NEAR(at_market_ltp(m, 256265), 24970.30, 1e-9, "starts at the open");
	at_market_advance(m, c.start_ms + 40000);
	T_NEAR(at_market_ltp(m, 256265), 24867.05, 1e-9,
	       "down bar: open -> high (1/3) -> low (2/3) -> close");
	at_market_advance(m, c.start_ms + 60000);
	T_NEAR(at_market_ltp(m, 256265), 24876.95, 1e-9, "second bar open");
	at_market_advance(m, c.start_ms + 10 * 60000);
	T_NEAR(at_market_ltp(m, 256265), 24866.80, 1e-9,
	       "holds the last close");
	T_OK(at_market_by_symbol(m, "NFO", "NIFTY2590924900CE") != NULL,
	     "chain around the replayed level, Tuesday 2025-09-09");
	at_market_free(m);

	f = fopen(path, "w");
	fputs("1756957500000,100,99,98,97\n", f);
	fclose(f);
	m = at_market_new(&c, &e);
	T_OK(m == NULL && e.code == EX_DATAERR &&
		 strstr(e.msg, ":1: bar not within its low and high"),
	     "bad bar refused: %s", e.msg);
	at_market_free(m);
	unlink(path);
	c.replay_path = "/nonexistent/bars.csv";
	m = at_market_new(&c, &e);
	T_OK(m == NULL && e.code != 0, "missing replay file: %s", e.msg);
	at_market_free(m);
}

/* -- lot sizes by date and the freeze refusal --------------------------- */

/* The lot of name's contracts expiring on expiry (all must agree); -1 if
 * none is listed, -2 if they disagree. */
static int lot_of(const at_market *m, const char *name, const char *expiry)
{
	int lot = -1;

	for (size_t i = 0; i < at_market_count(m); i++) {
		const struct at_market_instrument *in = at_market_at(m, i);
		if (strcmp(in->name, name) || strcmp(in->expiry, expiry))
			continue;
		if (lot != -1 && lot != in->lot_size)
			return -2;
		lot = in->lot_size;
	}
	return lot;
}

static at_market *market_at(int64_t ms, int weeklies)
{
	struct at_market_config cfg = {0};
	at_err e = {0};
	at_market *m;

	cfg.seed = 1;
	cfg.start_ms = ms;
	cfg.strikes_each_side = 2;
	cfg.weekly_expiries = weeklies;
	cfg.monthly_expiries = 3;
	m = at_market_new(&cfg, &e);
	if (!m)
		printf("# at_market_new: %s\n", e.msg);
	return m;
}

struct want {
	const char *name, *expiry;
	int lot;
};

static void check_lots(const char *day, int64_t ms, int weeklies,
		       const struct want *w, size_t n)
{
	at_market *m = market_at(ms, weeklies);

	if (!T_OK(m != NULL, "%s: market created", day))
		return;
	for (size_t i = 0; i < n; i++)
		T_EQ_INT(lot_of(m, w[i].name, w[i].expiry), w[i].lot,
			 "%s: %s %s lot", day, w[i].name, w[i].expiry);
	at_market_free(m);
}

static void test_lots(void)
{
	/* 2024-05-03 10:00 IST: NIFTY already 25 (from 2024-04-26);
	 * FINNIFTY 40 until its July 2024 series; BANKNIFTY 15 */
	static const struct want may24[] = {
	    {"NIFTY", "2024-05-09", 25},     {"NIFTY", "2024-05-30", 25},
	    {"BANKNIFTY", "2024-05-30", 15}, {"BANKNIFTY", "2024-07-25", 15},
	    {"FINNIFTY", "2024-05-30", 40},  {"FINNIFTY", "2024-06-27", 40},
	    {"FINNIFTY", "2024-07-25", 25},
	};
	/* 2024-12-02: contracts listed before 2024-11-20 keep their lots */
	static const struct want dec24[] = {
	    {"NIFTY", "2024-12-05", 25},     {"NIFTY", "2024-12-26", 25},
	    {"NIFTY", "2025-01-02", 75},     {"NIFTY", "2025-01-30", 25},
	    {"NIFTY", "2025-02-27", 75},     {"BANKNIFTY", "2024-12-26", 15},
	    {"BANKNIFTY", "2025-01-30", 30}, {"FINNIFTY", "2025-01-30", 25},
	    {"FINNIFTY", "2025-02-27", 65},
	};
	/* 2025-05-02: BANKNIFTY 35 from its July 2025 series */
	static const struct want may25[] = {
	    {"NIFTY", "2025-05-29", 75},     {"BANKNIFTY", "2025-05-29", 30},
	    {"BANKNIFTY", "2025-06-26", 30}, {"BANKNIFTY", "2025-07-31", 35},
	    {"FINNIFTY", "2025-07-31", 65},
	};
	/* 2025-11-25: 65/30/60 for contracts expiring after 2025-12-30 */
	static const struct want nov25[] = {
	    {"NIFTY", "2025-12-02", 75},     {"NIFTY", "2025-12-30", 75},
	    {"NIFTY", "2026-01-06", 65},     {"NIFTY", "2026-01-27", 65},
	    {"BANKNIFTY", "2025-12-30", 35}, {"BANKNIFTY", "2026-01-27", 30},
	    {"FINNIFTY", "2025-12-30", 65},  {"FINNIFTY", "2026-01-27", 60},
	};
	check_lots("2024-05-03", 1714710600000LL, 4, may24,
		   sizeof(may24) / sizeof(*may24));
	check_lots("2024-12-02", 1733113800000LL, 6, dec24,
		   sizeof(dec24) / sizeof(*dec24));
	check_lots("2025-05-02", 1746160200000LL, 4, may25,
		   sizeof(may25) / sizeof(*may25));
	check_lots("2025-11-25", 1764045000000LL, 8, nov25,
		   sizeof(nov25) / sizeof(*nov25));
}

static void test_freeze(void)
{
	at_market *m = market_at(1764045000000LL, 8);
	const struct at_market_instrument *fut = NULL;
	struct at_market_order_req r = {0};
	char id[24], msg[512];

	if (!T_OK(m != NULL, "freeze: market created"))
		return;
	for (size_t i = 0; i < at_market_count(m) && !fut; i++) {
		const struct at_market_instrument *in = at_market_at(m, i);
		if (!strcmp(in->name, "NIFTY") &&
		    !strcmp(in->instrument_type, "FUT") &&
		    !strcmp(in->expiry, "2026-01-27"))
			fut = in;
	}
	if (!T_OK(fut != NULL, "freeze: NIFTY January 2026 future listed")) {
		at_market_free(m);
		return;
	}
	r.variety = "regular";
	r.exchange = "NFO";
	r.tradingsymbol = fut->tradingsymbol;
	r.transaction_type = "BUY";
	r.order_type = "MARKET";
	r.product = "NRML";
	r.quantity = 28 * 65;
	r.tag = "frz";
	T_EQ_INT(at_market_place(m, "U1", &r, id, msg, sizeof(msg)),
		 AT_MARKET_INPUT, "freeze: 28 lots of 65 refused");
	T_OK(!strncmp(msg,
		      "The order quantity 1820 (28 lots) is higher than the "
		      "maximum quantity of 1800 (27 lots) allowed by the "
		      "exchanges. Please reduce the order quantity or use "
		      "iceberg orders. [Read more.](https://support.zerodha."
		      "com/",
		      strlen("The order quantity 1820 (28 lots) is higher "
			     "than the maximum quantity of 1800 (27 lots) "
			     "allowed by the exchanges. Please reduce the "
			     "order quantity or use iceberg orders. [Read "
			     "more.](https://support.zerodha.com/")),
	     "freeze: Kite's message (%s)", msg);
	r.quantity = 64;
	T_EQ_INT(at_market_place(m, "U1", &r, id, msg, sizeof(msg)),
		 AT_MARKET_INPUT, "lot: 64 is not a multiple of 65");
	T_EQ_STR(msg, "Quantity should be a multiple of lot size (65).",
		 "lot: message names the lot size");
	at_market_free(m);
}

int main(void)
{
	test_master_2024();
	test_master_2026();
	test_chain();
	test_determinism();
	test_market_and_limit();
	test_sl_ioc_iceberg_amo_co();
	test_rejections();
	test_positions();
	test_quotes();
	test_replay();
	test_lots();
	test_freeze();
	return t_done();
}
