/*
 * market: the simulated exchange behind at-sim.  See market.h for the
 * rules it follows and the simplifications it makes.
 */
#include "market.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bs.h"
#include "json.h"
#include "util.h"

#define IST_MS 19800000LL /* +05:30 */
#define DAY_MS 86400000LL
#define OPEN_MS ((9 * 60 + 15) * 60000LL)
#define CLOSE_MS ((15 * 60 + 30) * 60000LL)
#define YEAR_MS (365.0 * DAY_MS)
#define TRADING_SECS_PER_YEAR (252.0 * 22500.0)
#define RATE 0.065 /* risk-free rate for futures and options */
#define MAX_FINE_STEPS (3 * 86400LL)
#define NO_DAY INT64_MIN
#define FREEZE_HELP_URL                                                        \
	"https://support.zerodha.com/category/trading-and-markets/"            \
	"margin-leverage-and-product-and-order-types/articles/"                \
	"what-does-the-error-rms-rule-check-freeze-quantity-for-fo-"           \
	"including-square-off-order-mean"

enum { U_NIFTY, U_BANK, U_FIN, U_VIX, NU };
enum { K_INDEX, K_FUT, K_CE, K_PE };

static const struct {
	const char *symbol, *name;
	uint32_t token;
	double step;
	int freeze;
	double beta; /* volatility relative to NIFTY */
	double def_spot;
} UND[NU] = {
    {"NIFTY 50", "NIFTY", 256265, 50, 1800, 1.0, 22500},
    {"NIFTY BANK", "BANKNIFTY", 260105, 100, 900, 1.2, 48500},
    {"NIFTY FIN SERVICE", "FINNIFTY", 257801, 50, 1800, 1.05, 23500},
    {"INDIA VIX", "INDIA VIX", 264969, 0, 0, 0, 14.5},
};

/*
 * NSE's market lots of index derivatives by contract.  A revision never
 * changes a weekly or monthly contract already listed: it applies from a
 * first weekly expiry and a first monthly series, which NSE's circulars
 * name (quarterly and half-yearly contracts, which the market does not
 * list, are switched on a given day instead).  A contract takes the lot of
 * the last row of its underlying whose first weekly expiry (weekly
 * contracts) or first monthly series (monthly contracts and futures) is
 * not after its own; contracts older than a row's first take the row
 * before, and the first row covers every earlier date.  Sources: NSE
 * circulars as reported in the press and by brokers:
 *   2024-04-26 (NSE circular of 2024-04-02): NIFTY 50->25 from the weekly
 *     of 2024-05-02 and the May 2024 series; FINNIFTY 40->25 from the
 *     weekly of 2024-08-06 and the July 2024 series; BANKNIFTY 15 kept.
 *   2024-11-20 (circular of 2024-10-18, SEBI's Rs 15 lakh minimum):
 *     NIFTY 25->75, BANKNIFTY 15->30, FINNIFTY 25->65 for contracts
 *     listed from 2024-11-20; existing ones kept their lots to expiry:
 *     NIFTY weeklies from 2025-01-02 and the February 2025 series (the
 *     January 2025 series stayed at 25), FINNIFTY from the February 2025
 *     series, BANKNIFTY from the January 2025 series (BANKNIFTY's first
 *     monthly at 30 is the least certain date here).
 *   2025-04-25 (circular of 2025-03-28): BANKNIFTY 30->35 from the July
 *     2025 series; NIFTY 75 and FINNIFTY 65 kept.
 *   2025-10-28 (circular FAOP70616): NIFTY 75->65, BANKNIFTY 35->30,
 *     FINNIFTY 65->60 for every weekly and monthly contract expiring
 *     after 2025-12-30 (first weekly 2026-01-06, January 2026 series).
 * lib/strategy.c's instrument table holds the current row of each.
 */
static const struct {
	int u;
	int lot;
	int wy, wm, wd; /* first weekly expiry with this lot */
	int my, mm;	/* first monthly series with this lot */
} LOTS[] = {
    {U_NIFTY, 50, 0, 1, 1, 0, 1},	  {U_NIFTY, 25, 2024, 4, 26, 2024, 5},
    {U_NIFTY, 75, 2024, 12, 27, 2025, 2}, {U_NIFTY, 65, 2026, 1, 1, 2026, 1},
    {U_BANK, 15, 0, 1, 1, 0, 1},	  {U_BANK, 30, 2024, 11, 20, 2025, 1},
    {U_BANK, 35, 2025, 4, 25, 2025, 7},	  {U_BANK, 30, 2026, 1, 1, 2026, 1},
    {U_FIN, 40, 0, 1, 1, 0, 1},		  {U_FIN, 25, 2024, 7, 31, 2024, 7},
    {U_FIN, 65, 2024, 11, 20, 2025, 2},	  {U_FIN, 60, 2026, 1, 1, 2026, 1},
};

struct ins_x {
	int kind;
	int u;
	int64_t expiry_ms; /* 15:30 IST of the expiry day */
	double tick;	   /* pricing tick (indices too) */
	double vol_rate;   /* volume per second */
	double oi_base;	   /* lots */
};

/* Lazily refreshed per-instrument market state. */
struct ins_st {
	int64_t step;
	double ltp;
	int64_t day;
	double open, high, low, close;
	double close_next; /* last price seen: the next session's close */
};

struct bar {
	int64_t ts;
	double o, h, l, c;
};

struct order {
	char order_id[24], exchange_order_id[24], parent_order_id[24];
	char guid[24];
	char variety[12], tx[8], order_type[8], product[8], validity[8];
	const char *status;
	char *status_message, *status_message_raw;
	char tag[24];
	int has_tag;
	size_t ins;
	int quantity, disclosed, filled, cancelled;
	double price, trigger, avg;
	int64_t order_ts, exch_ts, exch_update_ts; /* ms, 0 = null */
	int modified;
	int validity_ttl;
	int legs, leg, leg_qty, total_qty; /* iceberg, legs 0 otherwise */
	int co_child_pending;		   /* CO main: place the SL leg */
	double co_trigger;
	int active;
	int in_act;	/* listed in m->act */
	at_buf history; /* comma-separated snapshots */
};

struct trade {
	char trade_id[16];
	struct order *o;
	int qty;
	double price;
	int64_t ts;
};

struct pos {
	size_t ins;
	char product[8];
	int buy_q, sell_q;
	double buy_v, sell_v;
};

struct acct {
	char *name;
	double cash;
	struct order **orders;
	size_t n_orders, cap_orders;
	struct trade *trades;
	size_t n_trades, cap_trades;
	struct pos *pos;
	size_t n_pos, cap_pos;
};

struct active {
	struct acct *a;
	struct order *o;
};

struct at_market {
	struct at_market_config cfg;
	struct at_market_instrument *ins;
	struct ins_x *x;
	struct ins_st *st;
	size_t n, cap;
	uint32_t *tok_tab; /* open addressing: index + 1, 0 empty */
	uint32_t *sym_tab;
	size_t tab_mask;

	uint64_t rng;
	int64_t start_ms, now_ms, step;
	int64_t step_ms; /* start_ms + step seconds: the pricing time */
	double spot[NU], vix0;
	struct {
		double open, high, low, close;
	} ohlc[NU];
	int64_t day;

	struct bar *bars;
	size_t n_bars, bar_cur;
	int64_t bar_shift;

	struct acct **acc;
	size_t n_acc, cap_acc;
	struct active *act;
	size_t n_act, cap_act;
	uint64_t order_seq, exch_seq, trade_seq;
	int reject;
	at_market_order_cb cb;
	void *cb_ctx;
	int64_t app_id;
	char *secret;
};

/* ---- small helpers ---------------------------------------------------- */

static uint64_t splitmix(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

/* A stateless hash of a few integers, for depth and volume noise. */
static uint64_t hash3(uint64_t a, uint64_t b, uint64_t c)
{
	uint64_t s = a * 0x9e3779b97f4a7c15ULL ^ (b + 0x632be59bd9b4e019ULL) ^
		     (c * 0xd6e8feb86659fd93ULL);
	return splitmix(&s);
}

static double uniform(at_market *m)
{
	return ((double)(splitmix(&m->rng) >> 11) + 0.5) *
	       (1.0 / 9007199254740992.0);
}

/* Box-Muller; one draw per call keeps the sequence simple. */
static double normal(at_market *m)
{
	double u1 = uniform(m), u2 = uniform(m);

	return sqrt(-2 * log(u1)) * cos(2 * M_PI * u2);
}

static double round_tick(double p, double tick)
{
	double inv = (double)llround(1 / tick);

	return (double)llround(p * inv) / inv;
}

static double round2(double v)
{
	return (double)llround(v * 100) / 100;
}

static int is_multiple(double p, double tick)
{
	double k = p / tick;

	return fabs(k - (double)llround(k)) < 1e-6;
}

/* Civil date from days since 1970-01-01 (Howard Hinnant's algorithm). */
static void civil(int64_t z, int *y, int *mo, int *d)
{
	int64_t era, yoe, doy, mp;
	unsigned doe;

	z += 719468;
	era = (z >= 0 ? z : z - 146096) / 146097;
	doe = (unsigned)(z - era * 146097);
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	*d = (int)(doy - (153 * mp + 2) / 5 + 1);
	*mo = (int)(mp < 10 ? mp + 3 : mp - 9);
	*y = (int)(yoe + era * 400 + (*mo <= 2));
}

static int64_t days_from_civil(int y, int mo, int d)
{
	int64_t era, yoe, doy, doe;

	y -= mo <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (mo + (mo > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

static int64_t floordiv(int64_t a, int64_t b)
{
	return a / b - (a % b != 0 && (a < 0) != (b < 0));
}

/* 0 Sunday .. 6 Saturday */
static int weekday(int64_t days)
{
	return (int)((days % 7 + 11) % 7);
}

static int64_t ist_day(int64_t ms)
{
	return floordiv(ms + IST_MS, DAY_MS);
}

/* "YYYY-MM-DD HH:MM:SS" in IST */
static void fmt_ts(int64_t ms, char out[32])
{
	int64_t d = ist_day(ms), in = ms + IST_MS - d * DAY_MS;
	int y, mo, dd;

	civil(d, &y, &mo, &dd);
	snprintf(out, 32, "%04d-%02d-%02d %02d:%02d:%02d", y % 10000, mo, dd,
		 (int)(in / 3600000), (int)(in / 60000 % 60),
		 (int)(in / 1000 % 60));
}

/* Session day: a new one starts at 09:15 IST. */
static int64_t session_day(int64_t ms)
{
	return floordiv(ms + IST_MS - OPEN_MS, DAY_MS);
}

static int64_t session_secs(int64_t ms)
{
	return (ms + IST_MS - OPEN_MS - session_day(ms) * DAY_MS) / 1000;
}

/*
 * Expiry weekday: Thursday before 2025-09-01, Tuesday since (NSE's
 * change of expiry day).
 */
static int expiry_wday(int64_t days)
{
	return days >= days_from_civil(2025, 9, 1) ? 2 : 4;
}

static int64_t monthly_expiry(int y, int mo)
{
	int64_t d = days_from_civil(mo == 12 ? y + 1 : y, mo % 12 + 1, 1) - 1;

	while (weekday(d) != expiry_wday(d))
		d--;
	return d;
}

static int is_monthly(int64_t d)
{
	int y, mo, dd;

	civil(d, &y, &mo, &dd);
	return monthly_expiry(y, mo) == d;
}

/* The market lot of u's contract expiring on day d (see LOTS). */
static int lot_size(int u, int64_t d, int weekly)
{
	int y, mo, dd, lot = 0;

	civil(d, &y, &mo, &dd);
	for (size_t i = 0; i < sizeof(LOTS) / sizeof(LOTS[0]); i++) {
		if (LOTS[i].u != u)
			continue;
		if (lot == 0 ||
		    (weekly ? d >= days_from_civil(LOTS[i].wy, LOTS[i].wm,
						   LOTS[i].wd)
			    : y * 12 + mo >= LOTS[i].my * 12 + LOTS[i].mm))
			lot = LOTS[i].lot;
	}
	return lot;
}

/* ---- hash tables ------------------------------------------------------ */

static uint64_t fnv(const char *s, const char *t)
{
	uint64_t h = 1469598103934665603ULL;

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ULL;
	h = (h ^ ':') * 1099511628211ULL;
	for (; *t; t++)
		h = (h ^ (unsigned char)*t) * 1099511628211ULL;
	return h;
}

static void index_build(at_market *m)
{
	size_t sz = 16, i;

	while (sz < m->n * 2)
		sz <<= 1;
	m->tab_mask = sz - 1;
	m->tok_tab = at_xcalloc(sz, sizeof(*m->tok_tab));
	m->sym_tab = at_xcalloc(sz, sizeof(*m->sym_tab));
	for (i = 0; i < m->n; i++) {
		size_t h =
		    hash3(m->ins[i].instrument_token, 0, 0) & m->tab_mask;
		while (m->tok_tab[h])
			h = (h + 1) & m->tab_mask;
		m->tok_tab[h] = (uint32_t)i + 1;
		h = fnv(m->ins[i].exchange, m->ins[i].tradingsymbol) &
		    m->tab_mask;
		while (m->sym_tab[h])
			h = (h + 1) & m->tab_mask;
		m->sym_tab[h] = (uint32_t)i + 1;
	}
}

static long find_token(const at_market *m, uint32_t token)
{
	size_t h = hash3(token, 0, 0) & m->tab_mask;

	while (m->tok_tab[h]) {
		uint32_t i = m->tok_tab[h] - 1;
		if (m->ins[i].instrument_token == token)
			return (long)i;
		h = (h + 1) & m->tab_mask;
	}
	return -1;
}

static long find_symbol(const at_market *m, const char *ex, const char *sym)
{
	size_t h;

	if (!ex || !sym)
		return -1;
	h = fnv(ex, sym) & m->tab_mask;
	while (m->sym_tab[h]) {
		uint32_t i = m->sym_tab[h] - 1;
		if (!strcmp(m->ins[i].tradingsymbol, sym) &&
		    !strcmp(m->ins[i].exchange, ex))
			return (long)i;
		h = (h + 1) & m->tab_mask;
	}
	return -1;
}

/* ---- replay ----------------------------------------------------------- */

static int parse_dt(const char *s, size_t n, int64_t *ms)
{
	int y, mo, d, hh, mi, ss = 0, c = 0;
	char buf[32];

	if (n >= sizeof(buf))
		return -1;
	memcpy(buf, s, n);
	buf[n] = 0;
	if (sscanf(buf, "%4d-%2d-%2d %2d:%2d:%2d%n", &y, &mo, &d, &hh, &mi, &ss,
		   &c) != 6 ||
	    (size_t)c != n || mo < 1 || mo > 12 || d < 1 || d > 31 || hh > 23 ||
	    mi > 59 || ss > 60)
		return -1;
	*ms = (days_from_civil(y, mo, d) * 86400 + hh * 3600 + mi * 60 + ss) *
		  1000 -
	      IST_MS;
	return 0;
}

static int parse_num(const char *s, size_t n, double *v)
{
	char buf[64], *end;

	if (n == 0 || n >= sizeof(buf))
		return -1;
	memcpy(buf, s, n);
	buf[n] = 0;
	errno = 0;
	*v = strtod(buf, &end);
	return *end || errno || !isfinite(*v) ? -1 : 0;
}

static int load_replay(at_market *m, const char *path, at_err *e)
{
	size_t len, cap = 0, lineno = 0;
	char *text = at_util_read_file(path, 64u << 20, &len, e), *p, *nl;
	int rc = -1;

	if (!text)
		return -1;
	for (p = text; p < text + len; p = nl + 1) {
		const char *f[5];
		size_t fl[5], k = 0;
		char *q = p, *end;
		double v[4];
		int64_t ts;

		nl = memchr(p, '\n', (size_t)(text + len - p));
		if (!nl)
			nl = text + len;
		end = nl;
		lineno++;
		if (end > p && end[-1] == '\r')
			end--;
		if (end == p)
			continue;
		while (k < 5) {
			char *c = memchr(q, ',', (size_t)(end - q));
			f[k] = q;
			fl[k] = (size_t)((c ? c : end) - q);
			k++;
			if (!c)
				break;
			q = c + 1;
		}
		if (k != 5 || f[4] + fl[4] != end) {
			at_err_set(e, EX_DATAERR,
				   "%s:%zu: expected 5 fields "
				   "(ts,open,high,low,close)",
				   path, lineno);
			goto out;
		}
		if (parse_dt(f[0], fl[0], &ts) != 0) {
			double t;
			if (parse_num(f[0], fl[0], &t) != 0 || t != floor(t) ||
			    t < 0 || t > 4102444800000.0) {
				if (lineno == 1)
					continue; /* header */
				at_err_set(e, EX_DATAERR,
					   "%s:%zu: bad timestamp", path,
					   lineno);
				goto out;
			}
			ts = (int64_t)t;
		}
		if (ts < 0 || ts > 4102444800000LL) {
			at_err_set(e, EX_DATAERR,
				   "%s:%zu: timestamp outside 1970-2100", path,
				   lineno);
			goto out;
		}
		for (k = 0; k < 4; k++)
			if (parse_num(f[k + 1], fl[k + 1], &v[k]) != 0 ||
			    v[k] <= 0 || v[k] > 1e7) {
				at_err_set(e, EX_DATAERR,
					   "%s:%zu: field %zu: expected a "
					   "number in (0, 1e7]",
					   path, lineno, k + 2);
				goto out;
			}
		if (v[2] > v[0] || v[2] > v[3] || v[1] < v[0] || v[1] < v[3]) {
			at_err_set(e, EX_DATAERR,
				   "%s:%zu: bar not within its low and high",
				   path, lineno);
			goto out;
		}
		if (m->n_bars && ts <= m->bars[m->n_bars - 1].ts) {
			at_err_set(e, EX_DATAERR,
				   "%s:%zu: timestamps must increase", path,
				   lineno);
			goto out;
		}
		if (m->n_bars == cap) {
			cap = cap ? cap * 2 : 1024;
			m->bars = at_xrealloc(m->bars, cap * sizeof(*m->bars));
		}
		m->bars[m->n_bars++] = (struct bar){ts, v[0], v[1], v[2], v[3]};
	}
	if (!m->n_bars) {
		at_err_set(e, EX_DATAERR, "%s: no bars", path);
		goto out;
	}
	rc = 0;
out:
	free(text);
	return rc;
}

/* NIFTY along the replay at t: O -> L -> H -> C (or O -> H -> L -> C). */
static double replay_price(at_market *m, int64_t t)
{
	const struct bar *b;
	int64_t dur;
	double f, pts[4];
	int seg;

	t -= m->bar_shift;
	if (t < m->bars[0].ts)
		return m->bars[0].o;
	if (m->bar_cur >= m->n_bars || m->bars[m->bar_cur].ts > t)
		m->bar_cur = 0;
	while (m->bar_cur + 1 < m->n_bars && m->bars[m->bar_cur + 1].ts <= t)
		m->bar_cur++;
	b = &m->bars[m->bar_cur];
	dur = m->bar_cur + 1 < m->n_bars ? m->bars[m->bar_cur + 1].ts - b->ts
					 : 60000;
	if (dur > 60000)
		dur = 60000;
	f = (double)(t - b->ts) / (double)dur;
	if (f >= 1)
		return b->c;
	pts[0] = b->o;
	pts[1] = b->c >= b->o ? b->l : b->h;
	pts[2] = b->c >= b->o ? b->h : b->l;
	pts[3] = b->c;
	f *= 3;
	seg = (int)f;
	f -= seg;
	return pts[seg] + (pts[seg + 1] - pts[seg]) * f;
}

/* ---- pricing ---------------------------------------------------------- */

static double years_to(const at_market *m, int64_t expiry_ms)
{
	int64_t d = expiry_ms - m->step_ms;

	return d > 0 ? (double)d / YEAR_MS : 0;
}

/*
 * The smile: ATM vol from VIX, skewed and curved in standardised
 * moneyness x = ln(K/F)/sqrt(t) (fitted by eye to the NSE chain of
 * 2024-05-03: puts 5% out of the money a month out ~ +25%).
 */
static double smile_vol(double vix, double K, double F, double t)
{
	double st = sqrt(t > 1.0 / 8760 ? t : 1.0 / 8760);
	double x = log(K / F) / st, mult;

	if (x < -2.5)
		x = -2.5;
	if (x > 2.5)
		x = 2.5;
	mult = 1 - 0.6 * x + 1.0 * x * x;
	if (mult > 4)
		mult = 4;
	return vix / 100 * mult;
}

static double raw_price(const at_market *m, size_t i)
{
	const struct ins_x *x = &m->x[i];
	double S, t, F;

	if (x->kind == K_INDEX)
		return round_tick(m->spot[x->u], x->tick);
	S = m->spot[x->u];
	t = years_to(m, x->expiry_ms);
	F = S * exp(RATE * t);
	if (x->kind == K_FUT)
		return round_tick(F, x->tick);
	{
		double K = m->ins[i].strike, p;
		int type = x->kind == K_CE ? AT_BS_CALL : AT_BS_PUT;

		p = at_bs_price(type, S, K, t, RATE, 0,
				smile_vol(m->spot[U_VIX], K, F, t));
		p = round_tick(p, x->tick);
		return p < x->tick ? x->tick : p;
	}
}

/* Current price with the day's open/high/low/close kept up to date. */
static double price_of(const at_market *m, size_t i)
{
	struct ins_st *s = &m->st[i];
	int64_t day;

	if (m->x[i].kind == K_INDEX)
		return round_tick(m->spot[m->x[i].u], m->x[i].tick);
	if (s->step == m->step)
		return s->ltp;
	s->ltp = raw_price(m, i);
	s->step = m->step;
	day = session_day(m->step_ms);
	if (day != s->day) {
		s->close = s->day == NO_DAY ? s->ltp : s->close_next;
		s->open = s->high = s->low = s->ltp;
		s->day = day;
	} else {
		if (s->ltp > s->high)
			s->high = s->ltp;
		if (s->ltp < s->low)
			s->low = s->ltp;
	}
	s->close_next = s->ltp;
	return s->ltp;
}

/* Half spread in ticks around the last price. */
static int half_spread(double ltp)
{
	return ltp < 100 ? 1 : ltp < 1000 ? 2 : 3;
}

static void touch(const at_market *m, size_t i, double *bid, double *ask)
{
	double ltp = price_of(m, i), tick = m->x[i].tick;
	int h = half_spread(ltp);

	*ask = round_tick(ltp + h * tick, tick);
	*bid = round_tick(ltp - h * tick, tick);
	if (*bid < tick)
		*bid = tick; /* the minimum price */
}

static uint32_t volume_at(const at_market *m, size_t i, int64_t secs)
{
	double u =
	    (double)(hash3(m->ins[i].instrument_token, (uint64_t)secs, 1) >>
		     11) /
	    9007199254740992.0;
	double v = m->x[i].vol_rate * ((double)secs + 0.9 * u);
	int lot = m->ins[i].lot_size;

	if (v > 4e9)
		v = 4e9;
	return (uint32_t)(floor(v / lot) * lot);
}

static uint32_t oi_at(const at_market *m, size_t i, int64_t secs)
{
	double lots =
	    m->x[i].oi_base * (1 + 0.25 * (double)secs / (secs + 7200.0));

	return (uint32_t)(floor(lots) * m->ins[i].lot_size);
}

int at_market_tick(const at_market *m, uint32_t token, struct at_tick *t)
{
	long li = find_token(m, token);
	size_t i;
	int64_t secs;

	memset(t, 0, sizeof(*t));
	if (li < 0)
		return -1;
	i = (size_t)li;
	t->instrument_token = token;
	t->mode = AT_TICKER_MODE_FULL;
	t->exchange_timestamp = floordiv(m->now_ms, 1000);
	if (m->x[i].kind == K_INDEX) {
		int u = m->x[i].u;
		t->is_index = 1;
		t->last_price = price_of(m, i);
		t->ohlc.open = round_tick(m->ohlc[u].open, m->x[i].tick);
		t->ohlc.high = round_tick(m->ohlc[u].high, m->x[i].tick);
		t->ohlc.low = round_tick(m->ohlc[u].low, m->x[i].tick);
		t->ohlc.close = round_tick(m->ohlc[u].close, m->x[i].tick);
		t->net_change = round_tick(t->last_price - t->ohlc.close, 0.01);
	} else {
		const struct ins_st *s = &m->st[i];
		double bid, ask, tick = m->x[i].tick;
		uint64_t tok = token, stp = (uint64_t)m->step;
		uint32_t tb = 0, ts = 0;
		int lot = m->ins[i].lot_size, k;

		t->tradable = 1;
		t->last_price = price_of(m, i);
		touch(m, i, &bid, &ask);
		secs = session_secs(m->step_ms);
		t->last_traded_quantity =
		    (uint32_t)(lot * (int)(1 + hash3(tok, stp, 2) % 4));
		t->average_traded_price =
		    round_tick((s->open + s->high + s->low + s->ltp) / 4, tick);
		t->volume_traded = volume_at(m, i, secs);
		t->ohlc.open = s->open;
		t->ohlc.high = s->high;
		t->ohlc.low = s->low;
		t->ohlc.close = s->close;
		t->last_trade_time = t->exchange_timestamp;
		t->oi = oi_at(m, i, secs);
		t->oi_day_high = t->oi;
		t->oi_day_low = oi_at(m, i, 0);
		for (k = 0; k < 5; k++) {
			uint64_t hb = hash3(tok, stp, 10 + (uint64_t)k);
			uint64_t ha = hash3(tok, stp, 20 + (uint64_t)k);
			double pb = round_tick(bid - k * tick, tick);
			if (bid > 0 && pb >= tick) {
				t->depth.buy[k].price = pb;
				t->depth.buy[k].quantity =
				    (uint32_t)(lot * (int)(1 + hb % 40));
				t->depth.buy[k].orders =
				    (uint16_t)(1 + (hb >> 8) % 12);
				tb += t->depth.buy[k].quantity;
			}
			t->depth.sell[k].price =
			    round_tick(ask + k * tick, tick);
			t->depth.sell[k].quantity =
			    (uint32_t)(lot * (int)(1 + ha % 40));
			t->depth.sell[k].orders =
			    (uint16_t)(1 + (ha >> 8) % 12);
			ts += t->depth.sell[k].quantity;
		}
		t->total_buy_quantity =
		    tb * (uint32_t)(6 + hash3(tok, stp, 3) % 5);
		t->total_sell_quantity =
		    ts * (uint32_t)(6 + hash3(tok, stp, 4) % 5);
	}
	if (t->ohlc.close != 0)
		t->change =
		    (t->last_price - t->ohlc.close) * 100 / t->ohlc.close;
	return 0;
}

double at_market_ltp(const at_market *m, uint32_t token)
{
	long i = find_token(m, token);

	return i < 0 ? -1 : price_of(m, (size_t)i);
}

/* ---- the walk --------------------------------------------------------- */

static void process_orders(at_market *m, int released_amo);

/* One step of dt seconds ending at m->step_ms. */
static void walk_step(at_market *m, double dt)
{
	int64_t day = session_day(m->step_ms);
	int rolled = day != m->day, u;
	double vix = m->spot[U_VIX], sig, z[4], dty, lv, old;

	if (rolled)
		for (u = 0; u < NU; u++)
			m->ohlc[u].close = m->spot[u];
	sig = m->cfg.step_vol > 0 ? m->cfg.step_vol
				  : vix / 100 / sqrt(TRADING_SECS_PER_YEAR);
	sig *= sqrt(dt);
	for (u = 0; u < 4; u++)
		z[u] = normal(m);
	old = m->spot[U_NIFTY];
	if (m->bars) {
		m->spot[U_NIFTY] = replay_price(m, m->step_ms);
		z[0] = log(m->spot[U_NIFTY] / old) / sig;
		if (z[0] > 8)
			z[0] = 8;
		if (z[0] < -8)
			z[0] = -8;
	} else {
		m->spot[U_NIFTY] = old * exp(-0.5 * sig * sig + sig * z[0]);
	}
	{
		double sb = sig * UND[U_BANK].beta, sf = sig * UND[U_FIN].beta;
		double zb = 0.85 * z[0] + 0.526782687642637 * z[1];
		double zf = 0.9 * z[0] + 0.435889894354067 * z[2];
		m->spot[U_BANK] *= exp(-0.5 * sb * sb + sb * zb);
		m->spot[U_FIN] *= exp(-0.5 * sf * sf + sf * zf);
	}
	/* India VIX: mean-reverting log walk, falling when NIFTY rises */
	dty = dt / TRADING_SECS_PER_YEAR;
	lv = log(vix);
	lv += 8 * (log(m->vix0) - lv) * dty +
	      0.8 * sqrt(dty) * (-0.5 * z[0] + 0.866025403784439 * z[3]);
	vix = exp(lv);
	m->spot[U_VIX] = vix < 5 ? 5 : vix > 90 ? 90 : vix;
	for (u = 0; u < NU; u++) {
		if (rolled) {
			m->ohlc[u].open = m->ohlc[u].high = m->ohlc[u].low =
			    m->spot[u];
		} else {
			if (m->spot[u] > m->ohlc[u].high)
				m->ohlc[u].high = m->spot[u];
			if (m->spot[u] < m->ohlc[u].low)
				m->ohlc[u].low = m->spot[u];
		}
	}
	m->day = day;
	process_orders(m, rolled);
}

void at_market_advance(at_market *m, int64_t now_ms)
{
	int64_t target;

	if (now_ms <= m->now_ms)
		return;
	target = floordiv(now_ms - m->start_ms, 1000);
	if (target - m->step > MAX_FINE_STEPS) {
		/* a long jump: one coarse step, then second by second */
		int64_t coarse = target - m->step - MAX_FINE_STEPS;
		m->step += coarse;
		m->step_ms = m->start_ms + m->step * 1000;
		m->now_ms = m->step_ms;
		walk_step(m, (double)coarse);
	}
	while (m->step < target) {
		m->step++;
		m->step_ms = m->start_ms + m->step * 1000;
		m->now_ms = m->step_ms;
		walk_step(m, 1);
	}
	m->now_ms = now_ms;
}

int64_t at_market_now(const at_market *m)
{
	return m->now_ms;
}

/* ---- instrument master ------------------------------------------------ */

static size_t add_ins(at_market *m)
{
	if (m->n == m->cap) {
		m->cap = m->cap ? m->cap * 2 : 256;
		m->ins = at_xrealloc(m->ins, m->cap * sizeof(*m->ins));
		m->x = at_xrealloc(m->x, m->cap * sizeof(*m->x));
		m->st = at_xrealloc(m->st, m->cap * sizeof(*m->st));
	}
	memset(&m->ins[m->n], 0, sizeof(m->ins[0]));
	memset(&m->x[m->n], 0, sizeof(m->x[0]));
	m->st[m->n].step = -1;
	m->st[m->n].day = NO_DAY;
	return m->n++;
}

static const char *const MON[] = {"JAN", "FEB", "MAR", "APR", "MAY", "JUN",
				  "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"};

/* Kite's expiry code: 24MAY (monthly) or 24509 / 24O15 (weekly). */
static void expiry_code(int64_t d, int weekly, char out[16])
{
	int y, mo, dd;

	civil(d, &y, &mo, &dd);
	if (weekly)
		snprintf(out, 16, "%02d%c%02d", y % 100, "123456789OND"[mo - 1],
			 dd);
	else
		snprintf(out, 16, "%02d%s", y % 100, MON[mo - 1]);
}

static void set_expiry(at_market *m, size_t i, int64_t d)
{
	int y, mo, dd;

	civil(d, &y, &mo, &dd);
	snprintf(m->ins[i].expiry, sizeof(m->ins[i].expiry), "%04u-%02u-%02u",
		 (unsigned)y % 10000, (unsigned)mo % 13, (unsigned)dd % 32);
	m->x[i].expiry_ms = d * DAY_MS + CLOSE_MS - IST_MS;
}

static void add_derivative(at_market *m, int u, int kind, int64_t d, int weekly,
			   double strike)
{
	size_t i = add_ins(m);
	struct at_market_instrument *in = &m->ins[i];
	char code[16];
	uint32_t type = kind == K_CE ? 1 : kind == K_PE ? 2 : 3;
	uint32_t sidx = (uint32_t)llround(strike / UND[u].step) & 1023;
	double S = m->spot[u], mny;

	expiry_code(d, weekly, code);
	in->exchange_token = ((uint32_t)(u + 1) << 21) | (type << 19) |
			     ((uint32_t)(d & 511) << 10) | sidx;
	in->instrument_token = in->exchange_token << 8 | AT_TICKER_SEG_NSE_FO;
	if (kind == K_FUT)
		snprintf(in->tradingsymbol, sizeof(in->tradingsymbol),
			 "%s%sFUT", UND[u].name, code);
	else
		snprintf(in->tradingsymbol, sizeof(in->tradingsymbol),
			 "%s%s%.0f%s", UND[u].name, code, strike,
			 kind == K_CE ? "CE" : "PE");
	snprintf(in->name, sizeof(in->name), "%s", UND[u].name);
	strcpy(in->exchange, "NFO");
	strcpy(in->segment, kind == K_FUT ? "NFO-FUT" : "NFO-OPT");
	strcpy(in->instrument_type, kind == K_FUT  ? "FUT"
				    : kind == K_CE ? "CE"
						   : "PE");
	set_expiry(m, i, d);
	in->strike = strike;
	in->tick_size = 0.05;
	in->lot_size = lot_size(u, d, weekly);
	in->freeze_qty = UND[u].freeze;
	in->underlying_token = UND[u].token;
	m->x[i].kind = kind;
	m->x[i].u = u;
	m->x[i].tick = 0.05;
	/* liquidity: most near the money and in near expiries */
	mny = kind == K_FUT ? 0 : fabs(log(strike / S));
	m->x[i].vol_rate =
	    in->lot_size * (kind == K_FUT ? 3.0 : 0.05 + 2.0 * exp(-40 * mny));
	m->x[i].oi_base =
	    kind == K_FUT
		? 2000
		: 50 + 5000 * exp(-25 * mny) *
			   (0.5 +
			    (double)(hash3(in->exchange_token, 5, 5) % 100) /
				100);
}

static int cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return x < y ? -1 : x > y;
}

/* Listed expiries from the creation date: weekly (NIFTY) and monthly. */
static size_t list_expiries(const at_market *m, int weekly, int count,
			    int64_t *out)
{
	int64_t today = ist_day(m->start_ms), d;
	int64_t in_day = m->start_ms + IST_MS - today * DAY_MS;
	size_t n = 0;
	int y, mo, dd;

	if (weekly) {
		for (d = today; n < (size_t)count; d++)
			if (weekday(d) == expiry_wday(d) &&
			    (d > today || in_day < CLOSE_MS))
				out[n++] = d;
		return n;
	}
	civil(today, &y, &mo, &dd);
	while (n < (size_t)count) {
		d = monthly_expiry(y, mo);
		if (d > today || (d == today && in_day < CLOSE_MS))
			out[n++] = d;
		if (++mo == 13) {
			mo = 1;
			y++;
		}
	}
	return n;
}

static void build_master(at_market *m)
{
	int64_t mon[12], wk[20], all[32];
	size_t nm, nw, na = 0, a, b;
	int u, k;

	for (u = 0; u < NU; u++) {
		size_t i = add_ins(m);
		struct at_market_instrument *in = &m->ins[i];
		in->instrument_token = UND[u].token;
		in->exchange_token = UND[u].token >> 8;
		snprintf(in->tradingsymbol, sizeof(in->tradingsymbol), "%s",
			 UND[u].symbol);
		snprintf(in->name, sizeof(in->name), "%s", UND[u].symbol);
		strcpy(in->exchange, "NSE");
		strcpy(in->segment, "INDICES");
		strcpy(in->instrument_type, "EQ");
		in->underlying_token = UND[u].token;
		m->x[i].kind = K_INDEX;
		m->x[i].u = u;
		m->x[i].tick = u == U_VIX ? 0.0025 : 0.05;
	}
	nm = list_expiries(m, 0, m->cfg.monthly_expiries, mon);
	nw = list_expiries(m, 1, m->cfg.weekly_expiries, wk);
	for (a = 0; a < nm; a++)
		all[na++] = mon[a];
	for (a = 0; a < nw; a++) {
		for (b = 0; b < nm && mon[b] != wk[a]; b++)
			;
		if (b == nm)
			all[na++] = wk[a];
	}
	qsort(all, na, sizeof(all[0]), cmp_i64);
	for (u = 0; u < U_VIX; u++) {
		const int64_t *ex = u == U_NIFTY ? all : mon;
		size_t ne = u == U_NIFTY ? na : nm;
		double step = UND[u].step;
		double atm = round(m->spot[u] / step) * step;

		for (a = 0; a < nm; a++)
			add_derivative(m, u, K_FUT, mon[a], 0, 0);
		for (a = 0; a < ne; a++) {
			int weekly = !is_monthly(ex[a]);
			for (k = -m->cfg.strikes_each_side;
			     k <= m->cfg.strikes_each_side; k++) {
				double K = atm + k * step;
				if (K <= 0)
					continue;
				add_derivative(m, u, K_CE, ex[a], weekly, K);
				add_derivative(m, u, K_PE, ex[a], weekly, K);
			}
		}
	}
}

at_market *at_market_new(const struct at_market_config *cfg, at_err *e)
{
	at_market *m = at_xcalloc(1, sizeof(*m));
	size_t i;
	int u;

	m->cfg = *cfg;
	m->cfg.replay_path = NULL;
	if (!m->cfg.weekly_expiries)
		m->cfg.weekly_expiries = 4;
	if (!m->cfg.monthly_expiries)
		m->cfg.monthly_expiries = 3;
	if (!m->cfg.strikes_each_side)
		m->cfg.strikes_each_side = 40;
	if (m->cfg.weekly_expiries < 0 || m->cfg.weekly_expiries > 20 ||
	    m->cfg.monthly_expiries < 1 || m->cfg.monthly_expiries > 12 ||
	    m->cfg.strikes_each_side < 0 || m->cfg.strikes_each_side > 500) {
		at_err_set(e, EX_USAGE,
			   "market: weekly expiries 0-20, monthly 1-12, "
			   "strikes each side 1-500");
		goto fail;
	}
	if (cfg->nifty < 0 || cfg->banknifty < 0 || cfg->finnifty < 0 ||
	    cfg->vix < 0 || cfg->step_vol < 0 || !isfinite(cfg->nifty) ||
	    !isfinite(cfg->banknifty) || !isfinite(cfg->finnifty) ||
	    !isfinite(cfg->vix) || !isfinite(cfg->step_vol) ||
	    cfg->step_vol > 0.01 || cfg->nifty > 1e6 || cfg->banknifty > 1e6 ||
	    cfg->finnifty > 1e6 || cfg->vix > 90) {
		at_err_set(e, EX_USAGE, "market: bad initial levels");
		goto fail;
	}
	m->rng = cfg->seed;
	m->start_ms = m->now_ms = m->step_ms = cfg->start_ms;
	m->spot[U_NIFTY] = cfg->nifty > 0 ? cfg->nifty : UND[U_NIFTY].def_spot;
	m->spot[U_BANK] =
	    cfg->banknifty > 0 ? cfg->banknifty : UND[U_BANK].def_spot;
	m->spot[U_FIN] =
	    cfg->finnifty > 0 ? cfg->finnifty : UND[U_FIN].def_spot;
	m->spot[U_VIX] = m->vix0 =
	    cfg->vix > 0 ? cfg->vix : UND[U_VIX].def_spot;
	if (cfg->replay_path) {
		if (load_replay(m, cfg->replay_path, e) != 0)
			goto fail;
		if (cfg->start_ms < m->bars[0].ts ||
		    cfg->start_ms > m->bars[m->n_bars - 1].ts + 60000)
			m->bar_shift = cfg->start_ms - m->bars[0].ts;
		m->spot[U_NIFTY] = replay_price(m, cfg->start_ms);
	}
	m->day = session_day(m->start_ms);
	for (u = 0; u < NU; u++)
		m->ohlc[u].open = m->ohlc[u].high = m->ohlc[u].low =
		    m->ohlc[u].close = m->spot[u];
	build_master(m);
	index_build(m);
	for (i = 0; i < m->n; i++)
		(void)price_of(m, i);
	m->order_seq = 0;
	return m;
fail:
	at_market_free(m);
	return NULL;
}

/* ---- accounts and orders ---------------------------------------------- */

static const char ST_PUT[] = "PUT ORDER REQ RECEIVED";
static const char ST_VALIDATION[] = "VALIDATION PENDING";
static const char ST_OPEN_PENDING[] = "OPEN PENDING";
static const char ST_OPEN[] = "OPEN";
static const char ST_TRIGGER[] = "TRIGGER PENDING";
static const char ST_AMO[] = "AMO REQ RECEIVED";
static const char ST_COMPLETE[] = "COMPLETE";
static const char ST_CANCELLED[] = "CANCELLED";
static const char ST_CANCEL_PENDING[] = "CANCEL PENDING";
static const char ST_REJECTED[] = "REJECTED";
static const char ST_MOD_VALIDATION[] = "MODIFY VALIDATION PENDING";
static const char ST_MOD_PENDING[] = "MODIFY PENDING";
static const char ST_MODIFIED[] = "MODIFIED";

static struct acct *acct_find(const at_market *m, const char *name)
{
	size_t i;

	if (!name)
		return NULL;
	for (i = 0; i < m->n_acc; i++)
		if (!strcmp(m->acc[i]->name, name))
			return m->acc[i];
	return NULL;
}

static struct acct *acct_get(at_market *m, const char *name)
{
	struct acct *a = acct_find(m, name);

	if (a)
		return a;
	if (m->n_acc == m->cap_acc) {
		m->cap_acc = m->cap_acc ? m->cap_acc * 2 : 16;
		m->acc = at_xrealloc(m->acc, m->cap_acc * sizeof(*m->acc));
	}
	a = at_xcalloc(1, sizeof(*a));
	a->name = at_xstrdup(name);
	a->cash = 1e7;
	m->acc[m->n_acc++] = a;
	return a;
}

static void acct_clear(struct acct *a)
{
	size_t i;

	for (i = 0; i < a->n_orders; i++) {
		free(a->orders[i]->status_message);
		free(a->orders[i]->status_message_raw);
		at_buf_release(&a->orders[i]->history);
		free(a->orders[i]);
	}
	free(a->orders);
	free(a->trades);
	free(a->pos);
	a->orders = NULL;
	a->trades = NULL;
	a->pos = NULL;
	a->n_orders = a->cap_orders = a->n_trades = a->cap_trades = 0;
	a->n_pos = a->cap_pos = 0;
}

static struct order *order_find(const struct acct *a, const char *id)
{
	size_t i;

	if (!a || !id)
		return NULL;
	for (i = 0; i < a->n_orders; i++)
		if (!strcmp(a->orders[i]->order_id, id))
			return a->orders[i];
	return NULL;
}

static void key_ts(at_buf *b, const char *key, int64_t ms)
{
	char ts[32];

	if (!ms) {
		at_json_enc_key_null(b, key);
		return;
	}
	fmt_ts(ms, ts);
	at_json_enc_key_str(b, key, ts);
}

static void key_str_or_null(at_buf *b, const char *key, const char *s)
{
	at_json_enc_key_str(b, key, s && *s ? s : NULL);
}

static int pending_qty(const struct order *o)
{
	if (o->status == ST_COMPLETE || o->status == ST_REJECTED)
		return 0;
	return o->quantity - o->filled; /* Kite keeps it on CANCELLED */
}

/* One order object: orders.json's keys, or postback.json's. */
static void order_json(const at_market *m, const struct acct *a,
		       const struct order *o, int postback, at_buf *b)
{
	const struct at_market_instrument *in = &m->ins[o->ins];

	at_json_enc_begin(b);
	if (postback) {
		char cs[65];
		at_buf t = AT_BUF_INIT;
		char ts[32];

		fmt_ts(o->order_ts, ts);
		at_buf_printf(&t, "%s%s%s", o->order_id, ts,
			      m->secret ? m->secret : "");
		at_util_sha256_hex(t.data, t.len, cs);
		at_buf_wipe_release(&t);
		at_json_enc_key_str(b, "user_id", a->name);
		at_json_enc_key_i64(b, "unfilled_quantity", pending_qty(o));
		at_json_enc_key_i64(b, "app_id", m->app_id);
		at_json_enc_key_str(b, "checksum", cs);
	}
	at_json_enc_key_str(b, "placed_by", a->name);
	at_json_enc_key_str(b, "order_id", o->order_id);
	key_str_or_null(b, "exchange_order_id", o->exchange_order_id);
	key_str_or_null(b, "parent_order_id", o->parent_order_id);
	at_json_enc_key_str(b, "status", o->status);
	at_json_enc_key_str(b, "status_message", o->status_message);
	at_json_enc_key_str(b, "status_message_raw", o->status_message_raw);
	key_ts(b, "order_timestamp", o->order_ts);
	key_ts(b, "exchange_update_timestamp", o->exch_update_ts);
	key_ts(b, "exchange_timestamp", o->exch_ts);
	at_json_enc_key_str(b, "variety", o->variety);
	if (!postback)
		at_json_enc_key_bool(b, "modified", o->modified);
	at_json_enc_key_str(b, "exchange", in->exchange);
	at_json_enc_key_str(b, "tradingsymbol", in->tradingsymbol);
	at_json_enc_key_i64(b, "instrument_token", in->instrument_token);
	at_json_enc_key_str(b, "order_type", o->order_type);
	at_json_enc_key_str(b, "transaction_type", o->tx);
	at_json_enc_key_str(b, "validity", o->validity);
	if (!postback)
		at_json_enc_key_i64(b, "validity_ttl", o->validity_ttl);
	at_json_enc_key_str(b, "product", o->product);
	at_json_enc_key_i64(b, "quantity", o->quantity);
	at_json_enc_key_i64(b, "disclosed_quantity", o->disclosed);
	at_json_enc_key_f64(b, "price", o->price);
	at_json_enc_key_f64(b, "trigger_price", o->trigger);
	at_json_enc_key_f64(b, "average_price", o->avg);
	at_json_enc_key_i64(b, "filled_quantity", o->filled);
	at_json_enc_key_i64(b, "pending_quantity", pending_qty(o));
	at_json_enc_key_i64(b, "cancelled_quantity", o->cancelled);
	at_json_enc_key_i64(b, "market_protection", 0);
	at_json_enc_key_obj(b, "meta");
	if (o->legs) {
		int rem = o->total_qty - o->leg * o->leg_qty;
		at_json_enc_key_obj(b, "iceberg");
		at_json_enc_key_i64(b, "leg", o->leg);
		at_json_enc_key_i64(b, "legs", o->legs);
		at_json_enc_key_i64(b, "leg_quantity", o->leg_qty);
		at_json_enc_key_i64(b, "total_quantity", o->total_qty);
		at_json_enc_key_i64(b, "remaining_quantity", rem > 0 ? rem : 0);
		at_json_enc_end(b);
	}
	at_json_enc_end(b);
	at_json_enc_key_str(b, "tag", o->has_tag ? o->tag : NULL);
	if (!postback) {
		if (o->has_tag) {
			at_buf_puts(b, ",\"tags\":[");
			at_json_enc_str(b, o->tag, strlen(o->tag));
			at_buf_putc(b, ']');
		} else {
			at_json_enc_key_raw(b, "tags", "[]");
		}
	}
	at_json_enc_key_str(b, "guid", o->guid);
	at_json_enc_end(b);
}

static void set_status(at_market *m, struct acct *a, struct order *o,
		       const char *status)
{
	o->status = status;
	if (o->exch_ts)
		o->exch_update_ts = m->now_ms;
	if (o->history.len)
		at_buf_putc(&o->history, ',');
	order_json(m, a, o, 0, &o->history);
	if (m->cb) {
		at_buf pb = AT_BUF_INIT;
		order_json(m, a, o, 1, &pb);
		m->cb(m->cb_ctx, a->name, pb.data, pb.len);
		at_buf_release(&pb);
	}
}

static void set_message(struct order *o, const char *msg, const char *raw)
{
	free(o->status_message);
	free(o->status_message_raw);
	o->status_message = msg ? at_xstrdup(msg) : NULL;
	o->status_message_raw = raw ? at_xstrdup(raw) : NULL;
}

static struct order *order_new(at_market *m, struct acct *a)
{
	struct order *o = at_xcalloc(1, sizeof(*o));
	int y, mo, d;
	uint64_t s;

	civil(ist_day(m->now_ms), &y, &mo, &d);
	m->order_seq++;
	snprintf(o->order_id, sizeof(o->order_id), "%02d%02d%02d%09llu",
		 y % 100, mo, d,
		 (unsigned long long)(m->order_seq % 1000000000ULL));
	s = m->order_seq ^ m->cfg.seed;
	snprintf(o->guid, sizeof(o->guid), "%llx",
		 (unsigned long long)(splitmix(&s) >> 8));
	o->order_ts = m->now_ms;
	if (a->n_orders == a->cap_orders) {
		a->cap_orders = a->cap_orders ? a->cap_orders * 2 : 16;
		a->orders =
		    at_xrealloc(a->orders, a->cap_orders * sizeof(*a->orders));
	}
	a->orders[a->n_orders++] = o;
	return o;
}

static void activate(at_market *m, struct acct *a, struct order *o)
{
	if (!o->in_act && m->n_act == m->cap_act) {
		m->cap_act = m->cap_act ? m->cap_act * 2 : 64;
		m->act = at_xrealloc(m->act, m->cap_act * sizeof(*m->act));
	}
	o->active = 1;
	if (o->in_act)
		return;
	m->act[m->n_act].a = a;
	m->act[m->n_act].o = o;
	m->n_act++;
	o->in_act = 1;
}

static struct pos *pos_get(struct acct *a, size_t ins, const char *product)
{
	size_t i;

	for (i = 0; i < a->n_pos; i++)
		if (a->pos[i].ins == ins && !strcmp(a->pos[i].product, product))
			return &a->pos[i];
	if (a->n_pos == a->cap_pos) {
		a->cap_pos = a->cap_pos ? a->cap_pos * 2 : 16;
		a->pos = at_xrealloc(a->pos, a->cap_pos * sizeof(*a->pos));
	}
	memset(&a->pos[a->n_pos], 0, sizeof(a->pos[0]));
	a->pos[a->n_pos].ins = ins;
	snprintf(a->pos[a->n_pos].product, sizeof(a->pos[0].product), "%s",
		 product);
	return &a->pos[a->n_pos++];
}

static void submit(at_market *m, struct acct *a, struct order *o);

/* The next leg of an iceberg, or the stop-loss leg of a cover order. */
static void spawn_follow_up(at_market *m, struct acct *a, struct order *o)
{
	struct order *n;
	int done;

	if (o->legs && o->leg < o->legs) {
		done = o->leg * o->leg_qty;
		if (done >= o->total_qty)
			return;
		n = order_new(m, a);
		memcpy(n->variety, o->variety, sizeof(n->variety));
		memcpy(n->tx, o->tx, sizeof(n->tx));
		memcpy(n->order_type, o->order_type, sizeof(n->order_type));
		memcpy(n->product, o->product, sizeof(n->product));
		memcpy(n->validity, o->validity, sizeof(n->validity));
		memcpy(n->tag, o->tag, sizeof(n->tag));
		n->has_tag = o->has_tag;
		n->ins = o->ins;
		n->price = o->price;
		n->trigger = o->trigger;
		n->validity_ttl = o->validity_ttl;
		n->legs = o->legs;
		n->leg = o->leg + 1;
		n->leg_qty = o->leg_qty;
		n->total_qty = o->total_qty;
		n->quantity = o->total_qty - done < o->leg_qty
				  ? o->total_qty - done
				  : o->leg_qty;
		set_status(m, a, n, ST_PUT);
		set_status(m, a, n, ST_VALIDATION);
		submit(m, a, n);
	} else if (o->co_child_pending) {
		o->co_child_pending = 0;
		n = order_new(m, a);
		strcpy(n->variety, "co");
		strcpy(n->tx, strcmp(o->tx, "BUY") ? "BUY" : "SELL");
		strcpy(n->order_type, "SL-M");
		memcpy(n->product, o->product, sizeof(n->product));
		strcpy(n->validity, "DAY");
		memcpy(n->tag, o->tag, sizeof(n->tag));
		n->has_tag = o->has_tag;
		n->ins = o->ins;
		n->trigger = o->co_trigger;
		n->quantity = o->quantity;
		memcpy(n->parent_order_id, o->order_id,
		       sizeof(n->parent_order_id));
		set_status(m, a, n, ST_PUT);
		set_status(m, a, n, ST_VALIDATION);
		submit(m, a, n);
	}
}

static void fill(at_market *m, struct acct *a, struct order *o, double price)
{
	int qty = o->quantity - o->filled;
	struct pos *p = pos_get(a, o->ins, o->product);
	struct trade *t;

	if (a->n_trades == a->cap_trades) {
		a->cap_trades = a->cap_trades ? a->cap_trades * 2 : 16;
		a->trades =
		    at_xrealloc(a->trades, a->cap_trades * sizeof(*a->trades));
	}
	t = &a->trades[a->n_trades++];
	m->trade_seq++;
	snprintf(t->trade_id, sizeof(t->trade_id), "%08llu",
		 (unsigned long long)(10000000 + m->trade_seq % 90000000));
	t->o = o;
	t->qty = qty;
	t->price = price;
	t->ts = m->now_ms;
	if (!strcmp(o->tx, "BUY")) {
		p->buy_q += qty;
		p->buy_v += qty * price;
	} else {
		p->sell_q += qty;
		p->sell_v += qty * price;
	}
	o->avg = price;
	o->filled += qty;
	o->active = 0;
	set_status(m, a, o, ST_COMPLETE);
	spawn_follow_up(m, a, o);
}

static void cancel_rest(at_market *m, struct acct *a, struct order *o,
			const char *msg)
{
	o->cancelled = o->quantity - o->filled;
	o->active = 0;
	if (msg)
		set_message(o, msg, NULL);
	set_status(m, a, o, ST_CANCELLED);
}

/* An OPEN order against the touch; resting orders fill at their limit. */
static void try_fill(at_market *m, struct acct *a, struct order *o, int resting)
{
	double bid, ask;
	int buy = !strcmp(o->tx, "BUY");
	int market =
	    !strcmp(o->order_type, "MARKET") || !strcmp(o->order_type, "SL-M");

	touch(m, o->ins, &bid, &ask);
	if (market)
		fill(m, a, o, buy ? ask : bid);
	else if (buy && ask <= o->price + 1e-9)
		fill(m, a, o, resting ? o->price : ask);
	else if (!buy && bid >= o->price - 1e-9)
		fill(m, a, o, resting ? o->price : bid);
}

static int is_sl(const struct order *o)
{
	return !strcmp(o->order_type, "SL") || !strcmp(o->order_type, "SL-M");
}

/* Evaluate an active order at the current prices. */
static void evaluate(at_market *m, struct acct *a, struct order *o, int resting)
{
	if (!o->active)
		return;
	if (!strcmp(o->validity, "TTL") && o->status != ST_AMO &&
	    m->now_ms >= o->order_ts + (int64_t)o->validity_ttl * 60000) {
		cancel_rest(m, a, o, "Order cancelled: validity (TTL) expired");
		return;
	}
	if (o->status == ST_TRIGGER) {
		double ltp = price_of(m, o->ins);
		int buy = !strcmp(o->tx, "BUY");
		if (buy ? ltp < o->trigger - 1e-9 : ltp > o->trigger + 1e-9)
			return;
		set_status(m, a, o, ST_OPEN);
		try_fill(m, a, o, 0);
		return;
	}
	if (o->status == ST_OPEN)
		try_fill(m, a, o, resting);
}

/* Send a validated order to the (simulated) exchange. */
static void submit(at_market *m, struct acct *a, struct order *o)
{
	set_status(m, a, o, ST_OPEN_PENDING);
	m->exch_seq++;
	snprintf(o->exchange_order_id, sizeof(o->exchange_order_id), "%llu",
		 (unsigned long long)(1100000000000000ULL + m->exch_seq));
	o->exch_ts = m->now_ms;
	activate(m, a, o);
	set_status(m, a, o, is_sl(o) ? ST_TRIGGER : ST_OPEN);
	if (o->status == ST_OPEN)
		try_fill(m, a, o, 0);
	if (o->active && !strcmp(o->validity, "IOC"))
		cancel_rest(m, a, o, NULL);
}

static void process_orders(at_market *m, int released_amo)
{
	size_t k, j;

	for (k = 0; k < m->n_act; k++) {
		struct active ac = m->act[k];
		if (!ac.o->active)
			continue;
		if (ac.o->status == ST_AMO) {
			if (released_amo)
				submit(m, ac.a, ac.o);
			continue;
		}
		evaluate(m, ac.a, ac.o, 1);
	}
	for (k = j = 0; k < m->n_act; k++)
		if (m->act[k].o->active)
			m->act[j++] = m->act[k];
		else
			m->act[k].o->in_act = 0;
	m->n_act = j;
}

/* ---- margins ---------------------------------------------------------- */

/*
 * SPAN-like requirement (see market.h): per instrument the worse of "all
 * pending buys fill" and "all pending sells fill" on top of the net
 * position across products.
 */
struct req {
	double span, exposure, premium;
};

struct agg {
	size_t ins;
	int q;		 /* net position */
	double long_avg; /* average buy price of a long position */
	int B, S;	 /* pending buy and sell quantities */
	double Bv;	 /* pending buy value */
};

static void req_add(const at_market *m, size_t i, int q, double long_avg,
		    struct req *r)
{
	const struct ins_x *x = &m->x[i];
	double spot = m->spot[x->u], aq = fabs((double)q);

	if (q == 0)
		return;
	if (x->kind == K_FUT) {
		double notional = aq * price_of(m, i);
		r->span += 0.09 * notional;
		r->exposure += 0.03 * notional;
	} else if (q < 0) {
		r->span += 0.09 * aq * spot + aq * price_of(m, i);
		r->exposure += 0.03 * aq * spot;
	} else {
		r->premium += aq * long_avg;
	}
}

static struct agg *agg_find(struct agg **v, size_t *n, size_t *cap, size_t ins)
{
	size_t i;

	for (i = 0; i < *n; i++)
		if ((*v)[i].ins == ins)
			return &(*v)[i];
	if (*n == *cap) {
		*cap = *cap ? *cap * 2 : 16;
		*v = at_xrealloc(*v, *cap * sizeof(**v));
	}
	memset(&(*v)[*n], 0, sizeof(**v));
	(*v)[*n].ins = ins;
	return &(*v)[(*n)++];
}

static void agg_order(const at_market *m, struct agg *g, const struct order *o)
{
	int q = o->quantity - o->filled;
	double bid, ask, px;

	if (o->legs) {
		int rest = o->total_qty - o->leg * o->leg_qty;
		if (rest > 0)
			q += rest;
	}
	touch(m, o->ins, &bid, &ask);
	if (!strcmp(o->order_type, "LIMIT") || !strcmp(o->order_type, "SL"))
		px = o->price;
	else
		px = !strcmp(o->tx, "BUY") ? ask : bid;
	if (!strcmp(o->tx, "BUY")) {
		g->B += q;
		g->Bv += q * px;
	} else {
		g->S += q;
	}
}

static double requirement(const at_market *m, const struct acct *a,
			  const struct order *extra, struct req *out)
{
	struct agg *v = NULL;
	size_t n = 0, cap = 0, i;

	memset(out, 0, sizeof(*out));
	if (a) {
		for (i = 0; i < a->n_pos; i++) {
			const struct pos *p = &a->pos[i];
			struct agg *g = agg_find(&v, &n, &cap, p->ins);
			g->q += p->buy_q - p->sell_q;
			g->long_avg += p->buy_v; /* summed, divided below */
			g->Bv += p->buy_q;	 /* scratch: buy quantity */
		}
		for (i = 0; i < n; i++) {
			v[i].long_avg =
			    v[i].Bv > 0 ? v[i].long_avg / v[i].Bv : 0;
			v[i].Bv = 0;
		}
		for (i = 0; i < a->n_orders; i++)
			if (a->orders[i]->active)
				agg_order(
				    m,
				    agg_find(&v, &n, &cap, a->orders[i]->ins),
				    a->orders[i]);
	}
	if (extra)
		agg_order(m, agg_find(&v, &n, &cap, extra->ins), extra);
	for (i = 0; i < n; i++) {
		struct agg *g = &v[i];
		struct req ra = {0, 0, 0}, rb = {0, 0, 0};
		int qa = g->q + g->B, qb = g->q - g->S;
		double avg_a = g->long_avg;

		if (g->B > 0 && qa > 0)
			avg_a = g->q > 0 ? (g->q * g->long_avg + g->Bv) / qa
					 : g->Bv / g->B;
		req_add(m, g->ins, qa, avg_a, &ra);
		req_add(m, g->ins, qb, g->long_avg, &rb);
		if (ra.span + ra.exposure + ra.premium >=
		    rb.span + rb.exposure + rb.premium) {
			out->span += ra.span;
			out->exposure += ra.exposure;
			out->premium += ra.premium;
		} else {
			out->span += rb.span;
			out->exposure += rb.exposure;
			out->premium += rb.premium;
		}
	}
	free(v);
	return out->span + out->exposure + out->premium;
}

/* Kite's position arithmetic for one position. */
struct pnl {
	int q;
	double avg, ltp, value, pnl, realised, unrealised;
};

static void pos_pnl(const at_market *m, const struct pos *p, struct pnl *r)
{
	double bavg = p->buy_q ? p->buy_v / p->buy_q : 0;
	double savg = p->sell_q ? p->sell_v / p->sell_q : 0;
	int closed = p->buy_q < p->sell_q ? p->buy_q : p->sell_q;

	r->q = p->buy_q - p->sell_q;
	r->ltp = price_of(m, p->ins);
	r->avg = r->q > 0 ? bavg : r->q < 0 ? savg : 0;
	r->value = round2(p->sell_v - p->buy_v);
	r->pnl = round2(p->sell_v - p->buy_v + r->q * r->ltp);
	r->realised = round2(closed * (savg - bavg));
	r->unrealised = round2(r->pnl - r->realised);
}

/*
 * Realised and unrealised P&L, and the loss that counts against margin:
 * the unrealised loss of a long option is not counted again, its premium
 * is already blocked in full.
 */
static void m2m(const at_market *m, const struct acct *a, double *real,
		double *unreal, double *loss)
{
	double l = 0;
	size_t i;

	*real = *unreal = 0;
	for (i = 0; a && i < a->n_pos; i++) {
		struct pnl r;
		int k = m->x[a->pos[i].ins].kind;
		pos_pnl(m, &a->pos[i], &r);
		*real += r.realised;
		*unreal += r.unrealised;
		l += r.realised;
		if (!(r.q > 0 && (k == K_CE || k == K_PE)))
			l += r.unrealised;
	}
	*loss = l < 0 ? -l : 0;
}

static double available(const at_market *m, const struct acct *a, struct req *r)
{
	double real, unreal, loss;

	requirement(m, a, NULL, r);
	m2m(m, a, &real, &unreal, &loss);
	return (a ? a->cash : 1e7) - r->span - r->exposure - r->premium - loss;
}

/* ---- place, modify, cancel -------------------------------------------- */

static enum at_market_err fail_msg(enum at_market_err k, char *msg,
				   size_t msglen, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static enum at_market_err fail_msg(enum at_market_err k, char *msg,
				   size_t msglen, const char *fmt, ...)
{
	va_list ap;

	if (msg && msglen) {
		va_start(ap, fmt);
		vsnprintf(msg, msglen, fmt, ap);
		va_end(ap);
	}
	return k;
}

static int one_of(const char *s, const char *const *set)
{
	for (; s && *set; set++)
		if (!strcmp(s, *set))
			return 1;
	return 0;
}

static int copy_field(char *dst, size_t cap, const char *src)
{
	if (!src || strlen(src) >= cap)
		return -1;
	memcpy(dst, src, strlen(src) + 1);
	return 0;
}

/*
 * Check an order's prices and quantities (after a modification too).
 * Kite refuses these at the API (InputException).
 */
static enum at_market_err check_order(const at_market *m, const struct order *o,
				      char *msg, size_t msglen)
{
	const struct at_market_instrument *in = &m->ins[o->ins];
	int buy = !strcmp(o->tx, "BUY"),
	    limit =
		!strcmp(o->order_type, "LIMIT") || !strcmp(o->order_type, "SL");
	int qty = o->legs ? o->leg_qty : o->quantity;
	double ltp = price_of(m, o->ins);

	if (o->quantity <= 0)
		return fail_msg(AT_MARKET_INPUT, msg, msglen,
				"Invalid `quantity`.");
	if (o->quantity % in->lot_size ||
	    (o->legs && o->leg_qty % in->lot_size))
		return fail_msg(AT_MARKET_INPUT, msg, msglen,
				"Quantity should be a multiple of lot size "
				"(%d).",
				in->lot_size);
	/* Kite's words (kite.trade forum, 2023), markdown link included */
	if (qty > in->freeze_qty)
		return fail_msg(
		    AT_MARKET_INPUT, msg, msglen,
		    "The order quantity %d (%d lots) is higher than the "
		    "maximum quantity of %d (%d lots) allowed by the "
		    "exchanges. Please reduce the order quantity or use "
		    "iceberg orders. [Read more.](" FREEZE_HELP_URL ")",
		    qty, qty / in->lot_size, in->freeze_qty,
		    in->freeze_qty / in->lot_size);
	if (o->disclosed < 0 || o->disclosed > o->quantity)
		return fail_msg(AT_MARKET_INPUT, msg, msglen,
				"Invalid `disclosed_quantity`.");
	if (limit && !(o->price > 0 && o->price <= 1e7))
		return fail_msg(AT_MARKET_INPUT, msg, msglen,
				"Invalid `price`.");
	if (limit && !is_multiple(o->price, in->tick_size))
		return fail_msg(AT_MARKET_INPUT, msg, msglen,
				"Tick size for this script is %.2f. Kindly "
				"enter price in the multiple of tick size for "
				"this script.",
				in->tick_size);
	if (is_sl(o) || !strcmp(o->variety, "co")) {
		double tr = is_sl(o) ? o->trigger : o->co_trigger;
		if (!(tr > 0 && tr <= 1e7))
			return fail_msg(AT_MARKET_INPUT, msg, msglen,
					"Invalid `trigger_price`.");
		if (!is_multiple(tr, in->tick_size))
			return fail_msg(AT_MARKET_INPUT, msg, msglen,
					"Tick size for this script is %.2f. "
					"Kindly enter trigger price in the "
					"multiple of tick size for this "
					"script.",
					in->tick_size);
	}
	if (is_sl(o)) {
		if (!strcmp(o->order_type, "SL") &&
		    (buy ? o->trigger > o->price : o->trigger < o->price))
			return fail_msg(AT_MARKET_INPUT, msg, msglen,
					"Trigger price for stoploss %s orders "
					"should be %s than the price.",
					buy ? "buy" : "sell",
					buy ? "lower" : "higher");
		if (buy ? o->trigger <= ltp : o->trigger >= ltp)
			return fail_msg(AT_MARKET_INPUT, msg, msglen,
					"Trigger price for stoploss %s orders "
					"should be %s than the last traded "
					"price (%.2f).",
					buy ? "buy" : "sell",
					buy ? "higher" : "lower", ltp);
	} else if (!strcmp(o->variety, "co") && !o->parent_order_id[0]) {
		if (buy ? o->co_trigger >= ltp : o->co_trigger <= ltp)
			return fail_msg(AT_MARKET_INPUT, msg, msglen,
					"Trigger price for a cover order %s "
					"should be %s than the last traded "
					"price (%.2f).",
					buy ? "buy" : "sell",
					buy ? "lower" : "higher", ltp);
	}
	return AT_MARKET_OK;
}

static int valid_tag(const char *t)
{
	size_t n = 0;

	for (; t[n]; n++)
		if (!isalnum((unsigned char)t[n]) && t[n] != '_' &&
		    t[n] != '-' && t[n] != ':' && t[n] != '.')
			return 0;
	return n >= 1 && n <= 20;
}

static void reject(at_market *m, struct acct *a, struct order *o,
		   const char *msg, const char *raw)
{
	set_message(o, msg, raw);
	o->active = 0;
	set_status(m, a, o, ST_REJECTED);
}

enum at_market_err at_market_place(at_market *m, const char *account,
				   const struct at_market_order_req *r,
				   char order_id[24], char *msg, size_t msglen)
{
	static const char *const varieties[] = {"regular", "amo", "iceberg",
						"co", NULL};
	static const char *const types[] = {"MARKET", "LIMIT", "SL", "SL-M",
					    NULL};
	static const char *const sides[] = {"BUY", "SELL", NULL};
	static const char *const products[] = {"MIS", "NRML", "CNC", "CO",
					       NULL};
	static const char *const validities[] = {"DAY", "IOC", "TTL", NULL};
	struct order c, *o;
	struct acct *a;
	enum at_market_err k;
	long li;
	const char *validity = r->validity ? r->validity : "DAY";

	if (msg && msglen)
		msg[0] = 0;
	order_id[0] = 0;
	memset(&c, 0, sizeof(c));
	if (!account || !*account)
		return fail_msg(AT_MARKET_INPUT, msg, msglen,
				"Invalid `user_id`.");
	if (!one_of(r->variety, varieties))
		return fail_msg(AT_MARKET_INPUT, msg, msglen,
				"Invalid `variety`.");
	li = find_symbol(m, r->exchange, r->tradingsymbol);
	if (li < 0 || m->x[li].kind == K_INDEX ||
	    m->step_ms >= m->x[li].expiry_ms)
		return fail_msg(AT_MARKET_INPUT, msg, msglen,
				"The instrument you are placing an order for "
				"has either expired or does not exist.");
	if (!one_of(r->transaction_type, sides))
		return fail_msg(AT_MARKET_INPUT, msg, msglen,
				"Invalid `transaction_type`.");
	if (!one_of(r->order_type, types))
		return fail_msg(AT_MARKET_INPUT, msg, msglen,
				"Invalid `order_type`.");
	if (!one_of(r->product, products))
		return fail_msg(AT_MARKET_INPUT, msg, msglen,
				"Invalid `product`.");
	if (!strcmp(r->product, "CNC"))
		return fail_msg(AT_MARKET_INPUT, msg, msglen,
				"CNC product is not allowed for F&O. Use NRML "
				"or MIS.");
	if (!strcmp(r->variety, "co") != !strcmp(r->product, "CO"))
		return fail_msg(AT_MARKET_INPUT, msg, msglen,
				"Cover orders take product CO, and product CO "
				"only cover orders.");
	if (!one_of(validity, validities))
		return fail_msg(AT_MARKET_INPUT, msg, msglen,
				"Invalid `validity`.");
	if (!strcmp(validity, "TTL") &&
	    (r->validity_ttl < 1 || r->validity_ttl > 24 * 60))
		return fail_msg(AT_MARKET_INPUT, msg, msglen,
				"Invalid `validity_ttl`.");
	if (r->tag && !valid_tag(r->tag))
		return fail_msg(AT_MARKET_INPUT, msg, msglen,
				"Invalid `tag`: at most 20 letters, digits "
				"and _ - : .");
	copy_field(c.variety, sizeof(c.variety), r->variety);
	copy_field(c.tx, sizeof(c.tx), r->transaction_type);
	copy_field(c.order_type, sizeof(c.order_type), r->order_type);
	copy_field(c.product, sizeof(c.product), r->product);
	copy_field(c.validity, sizeof(c.validity), validity);
	if (!strcmp(validity, "IOC") && is_sl(&c))
		return fail_msg(AT_MARKET_INPUT, msg, msglen,
				"IOC validity is not allowed for stoploss "
				"orders.");
	if (!strcmp(r->variety, "co") && is_sl(&c))
		return fail_msg(AT_MARKET_INPUT, msg, msglen,
				"Cover orders are MARKET or LIMIT orders.");
	c.ins = (size_t)li;
	c.quantity = r->quantity;
	c.disclosed = r->disclosed_quantity;
	c.price = strcmp(r->order_type, "LIMIT") && strcmp(r->order_type, "SL")
		      ? 0
		      : r->price;
	c.trigger = is_sl(&c) ? r->trigger_price : 0;
	if (!strcmp(r->variety, "co"))
		c.co_trigger = r->trigger_price;
	c.validity_ttl = !strcmp(validity, "TTL") ? r->validity_ttl : 0;
	if (!strcmp(r->variety, "iceberg")) {
		if (r->iceberg_legs < 2 || r->iceberg_legs > 10)
			return fail_msg(AT_MARKET_INPUT, msg, msglen,
					"Iceberg legs should be between 2 and "
					"10.");
		if (r->iceberg_quantity <= 0 ||
		    r->iceberg_quantity >= r->quantity ||
		    (int64_t)r->iceberg_quantity * r->iceberg_legs <
			r->quantity)
			return fail_msg(
			    AT_MARKET_INPUT, msg, msglen,
			    "Invalid `iceberg_quantity`: legs x "
			    "leg quantity must cover the quantity.");
		c.legs = r->iceberg_legs;
		c.leg = 1;
		c.leg_qty = r->iceberg_quantity;
		c.total_qty = r->quantity;
	}
	k = check_order(m, &c, msg, msglen);
	if (k != AT_MARKET_OK)
		return k;
	if (c.legs)
		c.quantity = c.leg_qty;

	a = acct_get(m, account);
	o = order_new(m, a);
	memcpy(o->variety, c.variety, sizeof(o->variety));
	memcpy(o->tx, c.tx, sizeof(o->tx));
	memcpy(o->order_type, c.order_type, sizeof(o->order_type));
	memcpy(o->product, c.product, sizeof(o->product));
	memcpy(o->validity, c.validity, sizeof(o->validity));
	o->ins = c.ins;
	o->quantity = c.quantity;
	o->disclosed = c.disclosed;
	o->price = c.price;
	o->trigger = c.trigger;
	o->co_trigger = c.co_trigger;
	o->co_child_pending = !strcmp(c.variety, "co");
	o->validity_ttl = c.validity_ttl;
	o->legs = c.legs;
	o->leg = c.leg;
	o->leg_qty = c.leg_qty;
	o->total_qty = c.total_qty;
	if (r->tag) {
		snprintf(o->tag, sizeof(o->tag), "%s", r->tag);
		o->has_tag = 1;
	}
	memcpy(order_id, o->order_id, 24);
	set_status(m, a, o, ST_PUT);
	set_status(m, a, o, ST_VALIDATION);
	if (m->reject) {
		reject(m, a, o,
		       "Order rejected by the simulator: new orders are "
		       "being rejected.",
		       "RMS:Blocked by the simulator (reject orders is on)");
		return AT_MARKET_OK;
	}
	{
		struct req now, with;
		double avail = available(m, a, &now);
		double need = requirement(m, a, o, &with) -
			      (now.span + now.exposure + now.premium);
		/* o is not active yet: requirement(a, o) counts it once */
		if (need > 0.005 && need > avail) {
			char sm[256], raw[256];
			snprintf(sm, sizeof(sm),
				 "Insufficient funds. Required margin is %.2f "
				 "but available margin is %.2f. Check the "
				 "orderbook for open orders.",
				 need, avail > 0 ? avail : 0);
			snprintf(raw, sizeof(raw),
				 "RMS:Margin Exceeds,Required:%.2f, "
				 "Available:%.2f for entity account-%s across "
				 "exchange across segment across product ",
				 need, avail > 0 ? avail : 0, a->name);
			reject(m, a, o, sm, raw);
			return AT_MARKET_OK;
		}
	}
	if (!strcmp(o->variety, "amo")) {
		activate(m, a, o);
		set_status(m, a, o, ST_AMO);
		return AT_MARKET_OK;
	}
	submit(m, a, o);
	return AT_MARKET_OK;
}

static int modifiable(const struct order *o)
{
	return o->active && (o->status == ST_OPEN || o->status == ST_TRIGGER ||
			     o->status == ST_AMO);
}

enum at_market_err at_market_modify(at_market *m, const char *account,
				    const char *order_id,
				    const struct at_market_order_req *r,
				    char *msg, size_t msglen)
{
	static const char *const types[] = {"MARKET", "LIMIT", "SL", "SL-M",
					    NULL};
	static const char *const validities[] = {"DAY", "IOC", "TTL", NULL};
	struct acct *a = acct_find(m, account);
	struct order *o = order_find(a, order_id), c;
	const char *back;
	enum at_market_err k;

	if (msg && msglen)
		msg[0] = 0;
	if (!o)
		return fail_msg(AT_MARKET_INPUT, msg, msglen,
				"Couldn't find that `order_id`.");
	if (!modifiable(o))
		return fail_msg(AT_MARKET_ORDER, msg, msglen,
				"Order cannot be modified as it is %s.",
				o->status);
	if (o->parent_order_id[0] && !strcmp(o->variety, "co") &&
	    r->order_type && strcmp(r->order_type, "SL-M"))
		return fail_msg(AT_MARKET_INPUT, msg, msglen,
				"The stoploss leg of a cover order stays "
				"SL-M.");
	c = *o;
	if (r->order_type) {
		if (!one_of(r->order_type, types))
			return fail_msg(AT_MARKET_INPUT, msg, msglen,
					"Invalid `order_type`.");
		copy_field(c.order_type, sizeof(c.order_type), r->order_type);
	}
	if (r->validity) {
		if (!one_of(r->validity, validities))
			return fail_msg(AT_MARKET_INPUT, msg, msglen,
					"Invalid `validity`.");
		copy_field(c.validity, sizeof(c.validity), r->validity);
	}
	if (r->quantity)
		c.quantity = r->quantity;
	if (c.legs && r->quantity)
		return fail_msg(AT_MARKET_INPUT, msg, msglen,
				"The quantity of an iceberg order cannot be "
				"modified.");
	if (r->disclosed_quantity)
		c.disclosed = r->disclosed_quantity;
	if (r->validity_ttl)
		c.validity_ttl = r->validity_ttl;
	if (r->price)
		c.price = r->price;
	if (r->trigger_price)
		c.trigger = r->trigger_price;
	if (strcmp(c.order_type, "LIMIT") && strcmp(c.order_type, "SL"))
		c.price = 0;
	if (!is_sl(&c))
		c.trigger = 0;
	if (!strcmp(c.validity, "IOC") && is_sl(&c))
		return fail_msg(AT_MARKET_INPUT, msg, msglen,
				"IOC validity is not allowed for stoploss "
				"orders.");
	if (is_sl(&c) && !is_sl(o) && o->status == ST_OPEN)
		return fail_msg(AT_MARKET_INPUT, msg, msglen,
				"An open order cannot become a stoploss "
				"order.");
	if (!strcmp(c.validity, "TTL") && c.validity_ttl < 1)
		return fail_msg(AT_MARKET_INPUT, msg, msglen,
				"Invalid `validity_ttl`.");
	k = check_order(m, &c, msg, msglen);
	if (k != AT_MARKET_OK)
		return k;
	back = o->status == ST_AMO ? ST_AMO : is_sl(&c) ? ST_TRIGGER : ST_OPEN;
	set_status(m, a, o, ST_MOD_VALIDATION);
	set_status(m, a, o, ST_MOD_PENDING);
	memcpy(o->order_type, c.order_type, sizeof(o->order_type));
	memcpy(o->validity, c.validity, sizeof(o->validity));
	o->quantity = c.quantity;
	o->disclosed = c.disclosed;
	o->price = c.price;
	o->trigger = c.trigger;
	o->modified = 1;
	set_status(m, a, o, ST_MODIFIED);
	set_status(m, a, o, back);
	if (back != ST_AMO) {
		evaluate(m, a, o, 0);
		if (o->active && !strcmp(o->validity, "IOC"))
			cancel_rest(m, a, o, NULL);
	}
	return AT_MARKET_OK;
}

enum at_market_err at_market_cancel(at_market *m, const char *account,
				    const char *order_id, char *msg,
				    size_t msglen)
{
	struct acct *a = acct_find(m, account);
	struct order *o = order_find(a, order_id);

	if (msg && msglen)
		msg[0] = 0;
	if (!o)
		return fail_msg(AT_MARKET_INPUT, msg, msglen,
				"Couldn't find that `order_id`.");
	if (!modifiable(o))
		return fail_msg(AT_MARKET_ORDER, msg, msglen,
				"Order cannot be cancelled as it is %s.",
				o->status);
	if (o->parent_order_id[0] && !strcmp(o->variety, "co")) {
		/* exiting a cover order: its stop-loss leg goes at market */
		set_status(m, a, o, ST_OPEN);
		strcpy(o->order_type, "MARKET");
		o->trigger = 0;
		try_fill(m, a, o, 0);
		return AT_MARKET_OK;
	}
	o->co_child_pending = 0;
	set_status(m, a, o, ST_CANCEL_PENDING);
	cancel_rest(m, a, o, NULL);
	return AT_MARKET_OK;
}

void at_market_set_reject_orders(at_market *m, int on)
{
	m->reject = on != 0;
}

void at_market_set_cash(at_market *m, const char *account, double cash)
{
	acct_get(m, account)->cash = cash;
}

void at_market_set_app(at_market *m, int64_t app_id, const char *api_secret)
{
	m->app_id = app_id;
	if (m->secret) {
		explicit_bzero(m->secret, strlen(m->secret));
		free(m->secret);
	}
	m->secret = api_secret ? at_xstrdup(api_secret) : NULL;
}

void at_market_on_order(at_market *m, at_market_order_cb cb, void *ctx)
{
	m->cb = cb;
	m->cb_ctx = ctx;
}

const char *at_market_order_status(const at_market *m, const char *account,
				   const char *order_id)
{
	const struct order *o = order_find(acct_find(m, account), order_id);

	return o ? o->status : NULL;
}

/* ---- JSON producers --------------------------------------------------- */

void at_market_orders_json(const at_market *m, const char *account, at_buf *out)
{
	const struct acct *a = acct_find(m, account);
	size_t i;

	at_buf_putc(out, '[');
	for (i = 0; a && i < a->n_orders; i++) {
		if (i)
			at_buf_putc(out, ',');
		order_json(m, a, a->orders[i], 0, out);
	}
	at_buf_putc(out, ']');
}

int at_market_order_history_json(const at_market *m, const char *account,
				 const char *order_id, at_buf *out)
{
	const struct order *o = order_find(acct_find(m, account), order_id);

	if (!o)
		return -1;
	at_buf_putc(out, '[');
	at_buf_add(out, o->history.data, o->history.len);
	at_buf_putc(out, ']');
	return 0;
}

void at_market_trades_json(const at_market *m, const char *account,
			   const char *order_id, at_buf *out)
{
	const struct acct *a = acct_find(m, account);
	size_t i;
	int first = 1;

	at_buf_putc(out, '[');
	for (i = 0; a && i < a->n_trades; i++) {
		const struct trade *t = &a->trades[i];
		const struct at_market_instrument *in = &m->ins[t->o->ins];
		char ts[32];

		if (order_id && strcmp(order_id, t->o->order_id))
			continue;
		if (!first)
			at_buf_putc(out, ',');
		first = 0;
		at_json_enc_begin(out);
		at_json_enc_key_str(out, "trade_id", t->trade_id);
		at_json_enc_key_str(out, "order_id", t->o->order_id);
		at_json_enc_key_str(out, "exchange", in->exchange);
		at_json_enc_key_str(out, "tradingsymbol", in->tradingsymbol);
		at_json_enc_key_i64(out, "instrument_token",
				    in->instrument_token);
		at_json_enc_key_str(out, "product", t->o->product);
		at_json_enc_key_f64(out, "average_price", t->price);
		at_json_enc_key_i64(out, "quantity", t->qty);
		at_json_enc_key_str(out, "exchange_order_id",
				    t->o->exchange_order_id);
		at_json_enc_key_str(out, "transaction_type", t->o->tx);
		key_ts(out, "fill_timestamp", t->ts);
		/* Kite sends the time of day only here */
		fmt_ts(t->o->order_ts, ts);
		at_json_enc_key_str(out, "order_timestamp", ts + 11);
		key_ts(out, "exchange_timestamp", t->ts);
		at_json_enc_end(out);
	}
	at_buf_putc(out, ']');
}

static void position_json(const at_market *m, const struct pos *p, at_buf *b)
{
	const struct at_market_instrument *in = &m->ins[p->ins];
	struct pnl r;
	double bp = p->buy_q ? p->buy_v / p->buy_q : 0;
	double sp = p->sell_q ? p->sell_v / p->sell_q : 0;

	pos_pnl(m, p, &r);
	at_json_enc_begin(b);
	at_json_enc_key_str(b, "tradingsymbol", in->tradingsymbol);
	at_json_enc_key_str(b, "exchange", in->exchange);
	at_json_enc_key_i64(b, "instrument_token", in->instrument_token);
	at_json_enc_key_str(b, "product", p->product);
	at_json_enc_key_i64(b, "quantity", r.q);
	at_json_enc_key_i64(b, "overnight_quantity", 0);
	at_json_enc_key_i64(b, "multiplier", 1);
	at_json_enc_key_f64(b, "average_price", round2(r.avg));
	at_json_enc_key_f64(b, "close_price", m->st[p->ins].close);
	at_json_enc_key_f64(b, "last_price", r.ltp);
	at_json_enc_key_f64(b, "value", r.value);
	at_json_enc_key_f64(b, "pnl", r.pnl);
	at_json_enc_key_f64(b, "m2m", r.pnl);
	at_json_enc_key_f64(b, "unrealised", r.unrealised);
	at_json_enc_key_f64(b, "realised", r.realised);
	at_json_enc_key_i64(b, "buy_quantity", p->buy_q);
	at_json_enc_key_f64(b, "buy_price", round2(bp));
	at_json_enc_key_f64(b, "buy_value", round2(p->buy_v));
	at_json_enc_key_f64(b, "buy_m2m", round2(p->buy_v));
	at_json_enc_key_i64(b, "sell_quantity", p->sell_q);
	at_json_enc_key_f64(b, "sell_price", round2(sp));
	at_json_enc_key_f64(b, "sell_value", round2(p->sell_v));
	at_json_enc_key_f64(b, "sell_m2m", round2(p->sell_v));
	at_json_enc_key_i64(b, "day_buy_quantity", p->buy_q);
	at_json_enc_key_f64(b, "day_buy_price", round2(bp));
	at_json_enc_key_f64(b, "day_buy_value", round2(p->buy_v));
	at_json_enc_key_i64(b, "day_sell_quantity", p->sell_q);
	at_json_enc_key_f64(b, "day_sell_price", round2(sp));
	at_json_enc_key_f64(b, "day_sell_value", round2(p->sell_v));
	at_json_enc_end(b);
}

void at_market_positions_json(const at_market *m, const char *account,
			      at_buf *out)
{
	const struct acct *a = acct_find(m, account);
	int pass;
	size_t i;

	at_buf_puts(out, "{\"net\":[");
	for (pass = 0; pass < 2; pass++) {
		if (pass)
			at_buf_puts(out, "],\"day\":[");
		for (i = 0; a && i < a->n_pos; i++) {
			if (i)
				at_buf_putc(out, ',');
			position_json(m, &a->pos[i], out);
		}
	}
	at_buf_puts(out, "]}");
}

void at_market_holdings_json(const at_market *m, const char *account,
			     at_buf *out)
{
	(void)m;
	(void)account;
	at_buf_puts(out, "[]"); /* F&O only: nothing is ever delivered */
}

static void segment_json(at_buf *b, const char *key, double cash,
			 const struct req *r, double real, double unreal,
			 double loss)
{
	double debits = round2(r->span + r->exposure + r->premium + loss);
	double net = round2(cash - debits);

	if (key)
		at_json_enc_key_obj(b, key);
	else
		at_json_enc_begin(b);
	at_json_enc_key_bool(b, "enabled", 1);
	at_json_enc_key_f64(b, "net", net);
	at_json_enc_key_obj(b, "available");
	at_json_enc_key_f64(b, "adhoc_margin", 0);
	at_json_enc_key_f64(b, "cash", round2(cash));
	at_json_enc_key_f64(b, "opening_balance", round2(cash));
	at_json_enc_key_f64(b, "live_balance", net);
	at_json_enc_key_f64(b, "collateral", 0);
	at_json_enc_key_f64(b, "intraday_payin", 0);
	at_json_enc_end(b);
	at_json_enc_key_obj(b, "utilised");
	at_json_enc_key_f64(b, "debits", debits);
	at_json_enc_key_f64(b, "exposure", round2(r->exposure));
	at_json_enc_key_f64(b, "m2m_realised", round2(real));
	at_json_enc_key_f64(b, "m2m_unrealised", round2(unreal));
	at_json_enc_key_f64(b, "option_premium", round2(r->premium));
	at_json_enc_key_f64(b, "payout", 0);
	at_json_enc_key_f64(b, "span", round2(r->span));
	at_json_enc_key_f64(b, "holding_sales", 0);
	at_json_enc_key_f64(b, "turnover", 0);
	at_json_enc_key_f64(b, "liquid_collateral", 0);
	at_json_enc_key_f64(b, "stock_collateral", 0);
	at_json_enc_key_f64(b, "delivery", 0);
	at_json_enc_end(b);
	at_json_enc_end(b);
}

void at_market_margins_json(const at_market *m, const char *account,
			    const char *segment, at_buf *out)
{
	const struct acct *a = acct_find(m, account);
	struct req r, zero = {0, 0, 0};
	double real, unreal, loss, cash = a ? a->cash : 1e7;

	requirement(m, a, NULL, &r);
	m2m(m, a, &real, &unreal, &loss);
	if (segment && !strcmp(segment, "equity")) {
		segment_json(out, NULL, cash, &r, real, unreal, loss);
	} else if (segment && !strcmp(segment, "commodity")) {
		segment_json(out, NULL, 0, &zero, 0, 0, 0);
	} else {
		at_json_enc_begin(out);
		segment_json(out, "equity", cash, &r, real, unreal, loss);
		segment_json(out, "commodity", 0, &zero, 0, 0, 0);
		at_json_enc_end(out);
	}
}

/* ---- instruments and quotes ------------------------------------------- */

size_t at_market_count(const at_market *m)
{
	return m->n;
}

const struct at_market_instrument *at_market_at(const at_market *m, size_t i)
{
	return i < m->n ? &m->ins[i] : NULL;
}

const struct at_market_instrument *at_market_by_token(const at_market *m,
						      uint32_t token)
{
	long i = find_token(m, token);

	return i < 0 ? NULL : &m->ins[i];
}

const struct at_market_instrument *
at_market_by_symbol(const at_market *m, const char *exchange,
		    const char *tradingsymbol)
{
	long i = find_symbol(m, exchange, tradingsymbol);

	return i < 0 ? NULL : &m->ins[i];
}

/* 22500 -> "22500.0", 0.05 -> "0.05" (the dump's Python-style floats) */
static void csv_num(at_buf *b, double v)
{
	if (v == floor(v))
		at_buf_printf(b, "%.1f", v);
	else
		at_json_enc_f64(b, v);
}

void at_market_instruments_csv(const at_market *m, const char *exchange,
			       at_buf *out)
{
	size_t i;

	at_buf_puts(out, "instrument_token,exchange_token,tradingsymbol,name,"
			 "last_price,expiry,strike,tick_size,lot_size,"
			 "instrument_type,segment,exchange\n");
	for (i = 0; i < m->n; i++) {
		const struct at_market_instrument *in = &m->ins[i];
		if (exchange && strcmp(exchange, in->exchange))
			continue;
		at_buf_printf(out, "%u,%u,%s,%s,0.0,%s,", in->instrument_token,
			      in->exchange_token, in->tradingsymbol, in->name,
			      in->expiry);
		csv_num(out, in->strike);
		at_buf_putc(out, ',');
		csv_num(out, in->tick_size);
		at_buf_printf(out, ",%d,%s,%s,%s\n", in->lot_size,
			      in->instrument_type, in->segment, in->exchange);
	}
}

static void depth_side(at_buf *b, const char *key,
		       const struct at_tick_depth *d, int first)
{
	int k;

	at_buf_printf(b, "%s\"%s\":[", first ? "" : ",", key);
	for (k = 0; k < 5; k++) {
		if (k)
			at_buf_putc(b, ',');
		at_json_enc_begin(b);
		at_json_enc_key_f64(b, "price", d[k].price);
		at_json_enc_key_i64(b, "quantity", d[k].quantity);
		at_json_enc_key_i64(b, "orders", d[k].orders);
		at_json_enc_end(b);
	}
	at_buf_putc(b, ']');
}

void at_market_quote_json(const at_market *m, const char *kind,
			  const char *const *keys, size_t n, at_buf *out)
{
	int full = !strcmp(kind, "quote"), ohlc = !strcmp(kind, "ohlc");
	size_t i;

	at_json_enc_begin(out);
	for (i = 0; i < n; i++) {
		const char *colon = keys[i] ? strchr(keys[i], ':') : NULL;
		char ex[16], ts[32];
		struct at_tick t;
		long li;

		if (!colon || colon - keys[i] >= (long)sizeof(ex))
			continue;
		memcpy(ex, keys[i], (size_t)(colon - keys[i]));
		ex[colon - keys[i]] = 0;
		li = find_symbol(m, ex, colon + 1);
		if (li < 0 ||
		    at_market_tick(m, m->ins[li].instrument_token, &t) != 0)
			continue;
		at_json_enc_key_obj(out, keys[i]);
		at_json_enc_key_i64(out, "instrument_token",
				    t.instrument_token);
		if (full) {
			fmt_ts(m->now_ms, ts);
			at_json_enc_key_str(out, "timestamp", ts);
			if (t.tradable)
				at_json_enc_key_str(out, "last_trade_time", ts);
			else
				at_json_enc_key_null(out, "last_trade_time");
		}
		at_json_enc_key_f64(out, "last_price", t.last_price);
		if (full) {
			double lo = 0, hi = 0;
			at_json_enc_key_i64(out, "last_quantity",
					    t.last_traded_quantity);
			at_json_enc_key_i64(out, "buy_quantity",
					    t.total_buy_quantity);
			at_json_enc_key_i64(out, "sell_quantity",
					    t.total_sell_quantity);
			at_json_enc_key_i64(out, "volume", t.volume_traded);
			at_json_enc_key_f64(out, "average_price",
					    t.average_traded_price);
			at_json_enc_key_i64(out, "oi", t.oi);
			at_json_enc_key_i64(out, "oi_day_high", t.oi_day_high);
			at_json_enc_key_i64(out, "oi_day_low", t.oi_day_low);
			at_json_enc_key_f64(
			    out, "net_change",
			    round2(t.last_price - t.ohlc.close));
			if (t.tradable) {
				/* futures +-10%; options 0.05 .. 3 x close
				   + 5% of the underlying */
				double c = t.ohlc.close;
				if (m->x[li].kind == K_FUT) {
					lo = round_tick(c * 0.9, 0.05);
					hi = round_tick(c * 1.1, 0.05);
				} else {
					lo = 0.05;
					hi = round_tick(
					    3 * c + 0.05 * m->spot[m->x[li].u],
					    0.05);
				}
			}
			at_json_enc_key_f64(out, "lower_circuit_limit", lo);
			at_json_enc_key_f64(out, "upper_circuit_limit", hi);
		}
		if (full || ohlc) {
			at_json_enc_key_obj(out, "ohlc");
			at_json_enc_key_f64(out, "open", t.ohlc.open);
			at_json_enc_key_f64(out, "high", t.ohlc.high);
			at_json_enc_key_f64(out, "low", t.ohlc.low);
			at_json_enc_key_f64(out, "close", t.ohlc.close);
			at_json_enc_end(out);
		}
		if (full) {
			at_buf_puts(out, ",\"depth\":{");
			depth_side(out, "buy", t.depth.buy, 1);
			depth_side(out, "sell", t.depth.sell, 0);
			at_buf_putc(out, '}');
		}
		at_json_enc_end(out);
	}
	at_json_enc_end(out);
}

/* ---- lifecycle -------------------------------------------------------- */

void at_market_reset(at_market *m)
{
	size_t i;

	for (i = 0; i < m->n_acc; i++)
		acct_clear(m->acc[i]);
	m->n_act = 0;
}

void at_market_free(at_market *m)
{
	size_t i;

	if (!m)
		return;
	for (i = 0; i < m->n_acc; i++) {
		acct_clear(m->acc[i]);
		free(m->acc[i]->name);
		free(m->acc[i]);
	}
	free(m->acc);
	free(m->act);
	free(m->ins);
	free(m->x);
	free(m->st);
	free(m->tok_tab);
	free(m->sym_tab);
	free(m->bars);
	at_market_set_app(m, 0, NULL);
	free(m);
}
