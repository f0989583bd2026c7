/*
 * test_market: lib/market's lot sizes follow NSE's dated revisions by
 * contract (weekly expiry or monthly series), and the freeze-quantity
 * refusal carries Kite's message.
 */
#include "market.h"
#include "t.h"

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

static void check(const char *day, int64_t ms, int weeklies,
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
	check("2024-05-03", 1714710600000LL, 4, may24,
	      sizeof(may24) / sizeof(*may24));
	check("2024-12-02", 1733113800000LL, 6, dec24,
	      sizeof(dec24) / sizeof(*dec24));
	check("2025-05-02", 1746160200000LL, 4, may25,
	      sizeof(may25) / sizeof(*may25));
	check("2025-11-25", 1764045000000LL, 8, nov25,
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
	test_lots();
	test_freeze();
	return t_done();
}
