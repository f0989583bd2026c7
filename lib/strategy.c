#include "strategy.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"

/*
 * NSE lots: circular FAOP70616 (2025-10-28): NIFTY 65, BANKNIFTY 30,
 * FINNIFTY 60, MIDCPNIFTY 120 for contracts expiring from January 2026 (the
 * 2025 lots were 75, 35, 65, 140).  lib/market's LOTS table holds the same
 * values with their history; change both together.  BSE's SENSEX 20 and
 * BANKEX 30 are from BSE's November 2024 revision.
 */
const struct at_strategy_instrument at_strategy_instruments[] = {
    {"NIFTY", "NFO", "NSE:NIFTY 50", 65, 50, 1, 2},
    {"BANKNIFTY", "NFO", "NSE:NIFTY BANK", 30, 100, 0, 2},
    {"FINNIFTY", "NFO", "NSE:NIFTY FIN SERVICE", 60, 50, 0, 2},
    {"MIDCPNIFTY", "NFO", "NSE:NIFTY MID SELECT", 120, 25, 0, 2},
    {"SENSEX", "BFO", "BSE:SENSEX", 20, 100, 1, 4},
    {"BANKEX", "BFO", "BSE:BANKEX", 30, 100, 0, 4},
    {NULL, NULL, NULL, 0, 0, 0, 0},
};

static const char *const type_names[] = {
    "short_straddle",  "short_strangle",   "iron_fly",	  "iron_condor",
    "bull_put_spread", "bear_call_spread", "directional", NULL};
static const char *const expiry_names[] = {"current_week", "next_week",
					   "current_month", "next_month", NULL};
static const char *const legsel_names[] = {"atm", "otm_points", "otm_premium",
					   NULL};
/* indexed by enum at_strategy_direction; "none" is never accepted */
static const char *const direction_names[] = {"none", "long", "short", "both",
					      NULL};
static const char *const signal_names[] = {"none", "ema_crossover",
					   "supertrend", NULL};

static const char *const top_keys[] = {"strategy_type",
				       "instrument",
				       "expiry",
				       "leg_selection",
				       "otm_points",
				       "target_premium",
				       "hedge_distance",
				       "lots",
				       "entry_time",
				       "direction",
				       "signal",
				       "exit_conditions",
				       NULL};
static const char *const exit_keys[] = {"profit_target_mtm",
					"stop_loss_mtm",
					"stop_loss_pct",
					"trailing_stop",
					"time_exit",
					"max_reentries",
					NULL};
static const char *const trailing_keys[] = {"activate_mtm", "trail_mtm", NULL};
static const char *const ema_keys[] = {"kind", "timeframe_minutes",
				       "fast_period", "slow_period", NULL};
static const char *const supertrend_keys[] = {"kind", "timeframe_minutes",
					      "period", "multiplier", NULL};
static const int timeframes[] = {1, 3, 5, 10, 15, 30, 60};

#define MTM_MAX 1e9

const struct at_strategy_instrument *
at_strategy_instrument_find(const char *name)
{
	for (const struct at_strategy_instrument *i = at_strategy_instruments;
	     i->name != NULL; i++)
		if (name != NULL && strcmp(i->name, name) == 0)
			return i;
	return NULL;
}

static const char *name_of(const char *const *names, int n, int i)
{
	return i >= 0 && i < n ? names[i] : "?";
}

const char *at_strategy_type_name(enum at_strategy_type t)
{
	return name_of(type_names, AT_STRATEGY_NTYPES, (int)t);
}

const char *at_strategy_expiry_name(enum at_strategy_expiry x)
{
	return name_of(expiry_names, 4, (int)x);
}

const char *at_strategy_legsel_name(enum at_strategy_legsel l)
{
	return name_of(legsel_names, 3, (int)l);
}

const char *at_strategy_direction_name(enum at_strategy_direction d)
{
	return name_of(direction_names, 4, (int)d);
}

const char *at_strategy_signal_name(enum at_strategy_signal s)
{
	return name_of(signal_names, 3, (int)s);
}

/* ---- validation helpers ------------------------------------------------ */

/* Where we are: the input's name and the path of the enclosing object. */
struct ctx {
	const char *where;
	const char *prefix; /* "" or "exit_conditions." */
	at_err *e;
};

/* "<where>: field "<prefix><key>": <message>" */
__attribute__((format(printf, 3, 4))) static int
ferr(const struct ctx *c, const char *key, const char *fmt, ...)
{
	char msg[300];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (c->where != NULL)
		return at_err_set(c->e, EX_DATAERR, "%s: field \"%s%s\": %s",
				  c->where, c->prefix, key, msg);
	return at_err_set(c->e, EX_DATAERR, "field \"%s%s\": %s", c->prefix,
			  key, msg);
}

static const char *num_text(double d, char out[40])
{
	snprintf(out, 40, "%.15g", d);
	return out;
}

/* Reject keys of obj (an object, borrowed) not in allowed. */
static int check_keys(const struct ctx *c, jv obj, const char *const *allowed)
{
	for (int it = jv_object_iter(obj); jv_object_iter_valid(obj, it);
	     it = jv_object_iter_next(obj, it)) {
		jv k = jv_object_iter_key(obj, it);
		const char *s = jv_string_value(k);
		size_t n = (size_t)jv_string_length_bytes(jv_copy(k));
		int ok = 0;

		for (const char *const *a = allowed; *a; a++)
			if (strlen(*a) == n && memcmp(*a, s, n) == 0)
				ok = 1;
		if (!ok) {
			char q[AT_JSON_QUOTE_MAX];

			at_json_quote(s, n, q);
			jv_free(k);
			if (c->where != NULL)
				return at_err_set(c->e, EX_DATAERR,
						  "%s: unknown field \"%s%s\"",
						  c->where, c->prefix, q);
			return at_err_set(c->e, EX_DATAERR,
					  "unknown field \"%s%s\"", c->prefix,
					  q);
		}
		jv_free(k);
	}
	return 0;
}

/* The value of key in obj (borrowed): 1 with *out owned, 0 absent/null. */
static int get(jv obj, const char *key, jv *out)
{
	jv v = jv_object_get(jv_copy(obj), jv_string(key));

	if (!jv_is_valid(v) || jv_get_kind(v) == JV_KIND_NULL) {
		jv_free(v);
		return 0;
	}
	*out = v;
	return 1;
}

/* 1 when key is present and not null. */
static int has(jv obj, const char *key)
{
	jv v;

	if (!get(obj, key, &v))
		return 0;
	jv_free(v);
	return 1;
}

static int required(const struct ctx *c, const char *key, const char *why)
{
	return ferr(c, key, "is required%s%s", why ? " " : "", why ? why : "");
}

/* A finite number in [lo, hi]: 1 set, 0 absent, -1 error. */
static int get_num(const struct ctx *c, jv obj, const char *key, double lo,
		   double hi, double *out)
{
	char a[40], b[40], t[40];
	jv v;
	double d;

	if (!get(obj, key, &v))
		return 0;
	if (jv_get_kind(v) != JV_KIND_NUMBER) {
		jv_kind k = jv_get_kind(v);

		jv_free(v);
		return ferr(c, key, "expected number, got %s",
			    at_json_kind_name(k));
	}
	d = jv_number_value(v);
	jv_free(v);
	if (!isfinite(d))
		return ferr(c, key, "number is not finite");
	if (d < lo || d > hi)
		return ferr(c, key, "%s is out of range [%s, %s]",
			    num_text(d, t), num_text(lo, a), num_text(hi, b));
	*out = d;
	return 1;
}

/* An integral number in [lo, hi]: 1 set, 0 absent, -1 error. */
static int get_int(const struct ctx *c, jv obj, const char *key, int lo, int hi,
		   int *out)
{
	char t[40];
	jv v;
	double d;

	if (!get(obj, key, &v))
		return 0;
	if (jv_get_kind(v) != JV_KIND_NUMBER) {
		jv_kind k = jv_get_kind(v);

		jv_free(v);
		return ferr(c, key, "expected integer, got %s",
			    at_json_kind_name(k));
	}
	d = jv_number_value(v);
	jv_free(v);
	if (!isfinite(d))
		return ferr(c, key, "number is not finite");
	if (d != floor(d))
		return ferr(c, key, "expected integer, got %s", num_text(d, t));
	if (d < lo || d > hi)
		return ferr(c, key, "%s is out of range [%d, %d]",
			    num_text(d, t), lo, hi);
	*out = (int)d;
	return 1;
}

/*
 * A string, into buf (NUL-terminated): 1 set, 0 absent, -1 error (not a
 * string), 2 a string that cannot be any accepted value (too long or
 * holding a NUL byte; buf gets its quoted start for the message).
 */
static int get_str(const struct ctx *c, jv obj, const char *key, char *buf,
		   size_t cap)
{
	jv v;
	size_t n;

	if (!get(obj, key, &v))
		return 0;
	if (jv_get_kind(v) != JV_KIND_STRING) {
		jv_kind k = jv_get_kind(v);

		jv_free(v);
		return ferr(c, key, "expected string, got %s",
			    at_json_kind_name(k));
	}
	n = (size_t)jv_string_length_bytes(jv_copy(v));
	if (n >= cap || memchr(jv_string_value(v), '\0', n) != NULL) {
		char q[AT_JSON_QUOTE_MAX];

		at_json_quote(jv_string_value(v), n, q);
		snprintf(buf, cap, "%s", q);
		jv_free(v);
		return 2;
	}
	memcpy(buf, jv_string_value(v), n);
	buf[n] = '\0';
	jv_free(v);
	return 1;
}

/* names[first..] joined with ", " into list. */
static void join(const char *const *names, int first, char *list, size_t cap)
{
	list[0] = '\0';
	for (int i = first; names[i] != NULL; i++) {
		strncat(list, i > first ? ", " : "", cap - strlen(list) - 1);
		strncat(list, names[i], cap - strlen(list) - 1);
	}
}

/* A string naming one of names: 1 with *out its index, 0 absent, -1. */
static int get_enum(const struct ctx *c, jv obj, const char *key,
		    const char *const *names, int first, int *out)
{
	char s[100], list[300], q[100];
	int rc = get_str(c, obj, key, s, sizeof(s));

	if (rc == 1) {
		for (int i = first; names[i] != NULL; i++) {
			if (strcmp(names[i], s) == 0) {
				*out = i;
				return 1;
			}
		}
		at_json_quote(s, strlen(s), q);
	} else if (rc == 2) {
		snprintf(q, sizeof(q), "%s", s);
	} else {
		return rc;
	}
	join(names, first, list, sizeof(list));
	return ferr(c, key, "unknown value \"%s\"; expected one of %s", q,
		    list);
}

/* "HH:MM" (24-hour, two digits each) to minutes since midnight. */
static int get_hhmm(const struct ctx *c, jv obj, const char *key, int *out)
{
	char s[100], q[100];
	int rc = get_str(c, obj, key, s, 16);
	int h, m;

	if (rc == 2)
		return ferr(c, key, "expected a time \"HH:MM\", got \"%s\"", s);
	if (rc <= 0)
		return rc;
	if (strlen(s) != 5 || s[2] != ':' || s[0] < '0' || s[0] > '9' ||
	    s[1] < '0' || s[1] > '9' || s[3] < '0' || s[3] > '9' ||
	    s[4] < '0' || s[4] > '9')
		return ferr(c, key, "expected a time \"HH:MM\", got \"%s\"",
			    at_json_quote(s, strlen(s), q));
	h = (s[0] - '0') * 10 + (s[1] - '0');
	m = (s[3] - '0') * 10 + (s[4] - '0');
	if (h > 23 || m > 59)
		return ferr(c, key, "\"%s\" is not a time of day", s);
	*out = h * 60 + m;
	return 1;
}

/* An object: 1 with *out owned, 0 absent, -1 error. */
static int get_obj(const struct ctx *c, jv obj, const char *key, jv *out)
{
	jv v;

	if (!get(obj, key, &v))
		return 0;
	if (jv_get_kind(v) != JV_KIND_OBJECT) {
		jv_kind k = jv_get_kind(v);

		jv_free(v);
		return ferr(c, key, "expected object, got %s",
			    at_json_kind_name(k));
	}
	*out = v;
	return 1;
}

static void hhmm_text(int min, char out[6])
{
	unsigned h = (unsigned)(min / 60) % 24, m = (unsigned)min % 60;

	out[0] = (char)('0' + h / 10);
	out[1] = (char)('0' + h % 10);
	out[2] = ':';
	out[3] = (char)('0' + m / 10);
	out[4] = (char)('0' + m % 10);
	out[5] = '\0';
}

/* ---- the schema --------------------------------------------------------- */

static int is_credit_spread(enum at_strategy_type t)
{
	return t == AT_STRATEGY_BULL_PUT_SPREAD ||
	       t == AT_STRATEGY_BEAR_CALL_SPREAD;
}

/* hedge_distance: 2 required, 1 optional, 0 not allowed. */
static int hedge_rule(enum at_strategy_type t)
{
	switch (t) {
	case AT_STRATEGY_IRON_FLY:
	case AT_STRATEGY_IRON_CONDOR:
	case AT_STRATEGY_BULL_PUT_SPREAD:
	case AT_STRATEGY_BEAR_CALL_SPREAD:
		return 2;
	case AT_STRATEGY_SHORT_STRADDLE:
	case AT_STRATEGY_SHORT_STRANGLE:
		return 1;
	default:
		return 0;
	}
}

static int parse_signal(const struct ctx *top, jv sig,
			struct at_strategy_config *out)
{
	struct ctx c = {top->where, "signal.", top->e};
	int kind = 0, tf = 5, rc, ok = 0;

	if (check_keys(&c, sig,
		       (const char *const[]){
			   "kind", "timeframe_minutes", "fast_period",
			   "slow_period", "period", "multiplier", NULL}) != 0)
		return -1;
	rc = get_enum(&c, sig, "kind", signal_names, 1, &kind);
	if (rc < 0)
		return -1;
	if (rc == 0)
		return required(&c, "kind", NULL);
	out->signal.kind = (enum at_strategy_signal)kind;
	if (check_keys(&c, sig,
		       kind == AT_STRATEGY_EMA_CROSSOVER
			   ? ema_keys
			   : supertrend_keys) != 0) {
		size_t n = strlen(c.e->msg);

		/* name the kind so "period" next to ema_crossover is clear */
		snprintf(c.e->msg + n, sizeof(c.e->msg) - n,
			 " (not used by kind %s)", signal_names[kind]);
		return -1;
	}
	if (get_int(&c, sig, "timeframe_minutes", 1, 60, &tf) < 0)
		return -1;
	for (size_t i = 0; i < sizeof(timeframes) / sizeof(timeframes[0]); i++)
		ok |= timeframes[i] == tf;
	if (!ok)
		return ferr(&c, "timeframe_minutes",
			    "%d is not one of 1, 3, 5, 10, 15, 30, 60", tf);
	out->signal.timeframe_minutes = tf;
	if (kind == AT_STRATEGY_EMA_CROSSOVER) {
		out->signal.fast_period = 9;
		out->signal.slow_period = 21;
		if (get_int(&c, sig, "fast_period", 2, 200,
			    &out->signal.fast_period) < 0 ||
		    get_int(&c, sig, "slow_period", 3, 400,
			    &out->signal.slow_period) < 0)
			return -1;
		if (out->signal.fast_period >= out->signal.slow_period)
			return ferr(&c, "fast_period",
				    "%d must be less than slow_period %d",
				    out->signal.fast_period,
				    out->signal.slow_period);
	} else {
		out->signal.period = 10;
		out->signal.multiplier = 3;
		if (get_int(&c, sig, "period", 2, 100, &out->signal.period) <
			0 ||
		    get_num(&c, sig, "multiplier", 0.5, 10,
			    &out->signal.multiplier) < 0)
			return -1;
	}
	return 0;
}

static int parse_trailing(const struct ctx *ex, jv tr,
			  struct at_strategy_config *out)
{
	struct ctx t = {ex->where, "exit_conditions.trailing_stop.", ex->e};
	int a, b;

	if (check_keys(&t, tr, trailing_keys) != 0)
		return -1;
	a = get_num(&t, tr, "activate_mtm", 1, MTM_MAX,
		    &out->exit.trail_activate_mtm);
	if (a < 0)
		return -1;
	if (a == 0)
		return required(&t, "activate_mtm", NULL);
	b = get_num(&t, tr, "trail_mtm", 1, MTM_MAX, &out->exit.trail_mtm);
	if (b < 0)
		return -1;
	if (b == 0)
		return required(&t, "trail_mtm", NULL);
	if (out->exit.trail_mtm > out->exit.trail_activate_mtm)
		return ferr(&t, "trail_mtm",
			    "%.15g exceeds activate_mtm %.15g (the stop would "
			    "lock in a loss)",
			    out->exit.trail_mtm, out->exit.trail_activate_mtm);
	if (out->exit.has_profit_target &&
	    out->exit.trail_activate_mtm >= out->exit.profit_target_mtm)
		return ferr(&t, "activate_mtm",
			    "%.15g is not below profit_target_mtm %.15g (the "
			    "trail would never start)",
			    out->exit.trail_activate_mtm,
			    out->exit.profit_target_mtm);
	out->exit.has_trailing = 1;
	return 0;
}

static int parse_exit(const struct ctx *top, jv ex,
		      struct at_strategy_config *out)
{
	struct ctx c = {top->where, "exit_conditions.", top->e};
	jv tr;
	int rc;

	if (check_keys(&c, ex, exit_keys) != 0)
		return -1;
	rc = get_num(&c, ex, "profit_target_mtm", 1, MTM_MAX,
		     &out->exit.profit_target_mtm);
	if (rc < 0)
		return -1;
	out->exit.has_profit_target = rc;
	rc = get_num(&c, ex, "stop_loss_mtm", -MTM_MAX, MTM_MAX,
		     &out->exit.stop_loss_mtm);
	if (rc < 0)
		return -1;
	if (rc == 1 && out->exit.stop_loss_mtm > -1)
		return ferr(&c, "stop_loss_mtm",
			    "must be a loss written as a negative number of "
			    "at most -1 (e.g. -3000), got %.15g",
			    out->exit.stop_loss_mtm);
	out->exit.has_stop_loss = rc;
	rc = get_num(&c, ex, "stop_loss_pct", 1,
		     out->type == AT_STRATEGY_DIRECTIONAL ? 99 : 1000,
		     &out->exit.stop_loss_pct);
	if (rc < 0)
		return -1;
	out->exit.has_leg_stop = rc;
	rc = get_obj(&c, ex, "trailing_stop", &tr);
	if (rc < 0)
		return -1;
	if (rc == 1) {
		rc = parse_trailing(&c, tr, out);
		jv_free(tr);
		if (rc < 0)
			return -1;
	}
	out->exit.exit_minute = 15 * 60 + 15;
	if (get_hhmm(&c, ex, "time_exit", &out->exit.exit_minute) < 0)
		return -1;
	if (out->exit.exit_minute <= AT_STRATEGY_MARKET_OPEN ||
	    out->exit.exit_minute > AT_STRATEGY_MARKET_CLOSE) {
		char s[6];

		hhmm_text(out->exit.exit_minute, s);
		return ferr(&c, "time_exit",
			    "%s is outside market hours (after 09:15, by "
			    "15:30 IST)",
			    s);
	}
	if (out->exit.exit_minute <= out->entry_minute) {
		char s[6], en[6];

		hhmm_text(out->exit.exit_minute, s);
		hhmm_text(out->entry_minute, en);
		return ferr(&c, "time_exit", "%s is not after entry_time %s", s,
			    en);
	}
	out->exit.max_reentries = 0;
	if (get_int(&c, ex, "max_reentries", 0, 10, &out->exit.max_reentries) <
	    0)
		return -1;
	return 0;
}

int at_strategy_from_jv(jv obj, const char *where,
			struct at_strategy_config *out, at_err *e)
{
	struct ctx c = {where, "", e};
	char inst[100], q[100];
	int v = 0, rc, hr;
	jv sub;

	memset(out, 0, sizeof(*out));
	if (jv_get_kind(obj) != JV_KIND_OBJECT) {
		if (where != NULL)
			return at_err_set(e, EX_DATAERR,
					  "%s: config: expected object, got %s",
					  where,
					  at_json_kind_name(jv_get_kind(obj)));
		return at_err_set(e, EX_DATAERR,
				  "config: expected object, got %s",
				  at_json_kind_name(jv_get_kind(obj)));
	}
	if (check_keys(&c, obj, top_keys) != 0)
		return -1;

	rc = get_enum(&c, obj, "strategy_type", type_names, 0, &v);
	if (rc < 0)
		return -1;
	if (rc == 0)
		return required(&c, "strategy_type", NULL);
	out->type = (enum at_strategy_type)v;

	rc = get_str(&c, obj, "instrument", inst, 32);
	if (rc < 0)
		return -1;
	if (rc == 0)
		snprintf(inst, sizeof(inst), "NIFTY");
	out->instrument = rc == 2 ? NULL : at_strategy_instrument_find(inst);
	if (out->instrument == NULL) {
		const char *names[16];
		char list[200];
		int n = 0;

		for (const struct at_strategy_instrument *i =
			 at_strategy_instruments;
		     i->name && n < 15; i++)
			names[n++] = i->name;
		names[n] = NULL;
		join(names, 0, list, sizeof(list));
		if (rc == 1)
			at_json_quote(inst, strlen(inst), q);
		else
			snprintf(q, sizeof(q), "%s", inst);
		return ferr(&c, "instrument",
			    "unknown value \"%s\"; expected one of %s", q,
			    list);
	}

	v = out->instrument->weekly ? AT_STRATEGY_CURRENT_WEEK
				    : AT_STRATEGY_CURRENT_MONTH;
	if (get_enum(&c, obj, "expiry", expiry_names, 0, &v) < 0)
		return -1;
	out->expiry = (enum at_strategy_expiry)v;
	if (!out->instrument->weekly &&
	    (out->expiry == AT_STRATEGY_CURRENT_WEEK ||
	     out->expiry == AT_STRATEGY_NEXT_WEEK))
		return ferr(&c, "expiry",
			    "%s has no weekly expiries; use current_month or "
			    "next_month",
			    out->instrument->name);

	rc = get_enum(&c, obj, "leg_selection", legsel_names, 0, &v);
	if (rc < 0)
		return -1;
	if (rc == 0) {
		if (out->type == AT_STRATEGY_SHORT_STRANGLE ||
		    out->type == AT_STRATEGY_IRON_CONDOR)
			return required(&c, "leg_selection",
					"(otm_points or otm_premium)");
		v = AT_STRATEGY_ATM;
	}
	out->leg_selection = (enum at_strategy_legsel)v;
	if ((out->type == AT_STRATEGY_SHORT_STRANGLE ||
	     out->type == AT_STRATEGY_IRON_CONDOR) &&
	    out->leg_selection == AT_STRATEGY_ATM)
		return ferr(&c, "leg_selection",
			    "a %s sells otm strikes: use otm_points or "
			    "otm_premium",
			    type_names[out->type]);
	if ((out->type == AT_STRATEGY_SHORT_STRADDLE ||
	     out->type == AT_STRATEGY_IRON_FLY) &&
	    out->leg_selection != AT_STRATEGY_ATM)
		return ferr(&c, "leg_selection",
			    "a %s sells the atm strike: use atm (otm is a %s)",
			    type_names[out->type],
			    out->type == AT_STRATEGY_IRON_FLY
				? "iron_condor"
				: "short_strangle");
	if (out->leg_selection == AT_STRATEGY_OTM_POINTS) {
		rc = get_int(&c, obj, "otm_points", 1, 10000, &out->otm_points);
		if (rc < 0)
			return -1;
		if (rc == 0)
			return required(&c, "otm_points",
					"with leg_selection otm_points");
		if (out->otm_points % out->instrument->strike_step != 0)
			return ferr(&c, "otm_points",
				    "%d is not a multiple of %s's strike step "
				    "%d",
				    out->otm_points, out->instrument->name,
				    out->instrument->strike_step);
	} else if (has(obj, "otm_points")) {
		return ferr(&c, "otm_points",
			    "only used with leg_selection otm_points");
	}
	if (out->leg_selection == AT_STRATEGY_OTM_PREMIUM) {
		rc = get_num(&c, obj, "target_premium", 0.05, 100000,
			     &out->target_premium);
		if (rc < 0)
			return -1;
		if (rc == 0)
			return required(&c, "target_premium",
					"with leg_selection otm_premium");
	} else if (has(obj, "target_premium")) {
		return ferr(&c, "target_premium",
			    "only used with leg_selection otm_premium");
	}

	hr = hedge_rule(out->type);
	if (hr == 0 && has(obj, "hedge_distance"))
		return ferr(&c, "hedge_distance", "not used by a %s",
			    type_names[out->type]);
	if (hr > 0) {
		rc = get_int(&c, obj, "hedge_distance", 1, 10000,
			     &out->hedge_distance);
		if (rc < 0)
			return -1;
		if (rc == 0 && hr == 2)
			return required(&c, "hedge_distance",
					is_credit_spread(out->type)
					    ? "(the spread's width in points)"
					    : "(points from the sold strikes "
					      "to the wings)");
		if (rc == 1 &&
		    out->hedge_distance % out->instrument->strike_step != 0)
			return ferr(&c, "hedge_distance",
				    "%d is not a multiple of %s's strike step "
				    "%d",
				    out->hedge_distance, out->instrument->name,
				    out->instrument->strike_step);
	}

	out->lots = 1;
	if (get_int(&c, obj, "lots", 1, 100, &out->lots) < 0)
		return -1;
	out->entry_minute = 9 * 60 + 20;
	if (get_hhmm(&c, obj, "entry_time", &out->entry_minute) < 0)
		return -1;
	if (out->entry_minute < AT_STRATEGY_MARKET_OPEN ||
	    out->entry_minute >= AT_STRATEGY_MARKET_CLOSE) {
		char s[6];

		hhmm_text(out->entry_minute, s);
		return ferr(&c, "entry_time",
			    "%s is outside market hours (09:15 to before 15:30 "
			    "IST)",
			    s);
	}

	if (out->type == AT_STRATEGY_DIRECTIONAL) {
		rc = get_enum(&c, obj, "direction", direction_names, 1, &v);
		if (rc < 0)
			return -1;
		if (rc == 0)
			return required(&c, "direction",
					"for a directional strategy (long, "
					"short or both)");
		out->direction = (enum at_strategy_direction)v;
		rc = get_obj(&c, obj, "signal", &sub);
		if (rc < 0)
			return -1;
		if (rc == 0)
			return required(&c, "signal",
					"for a directional strategy");
		rc = parse_signal(&c, sub, out);
		jv_free(sub);
		if (rc < 0)
			return -1;
	} else {
		if (has(obj, "direction"))
			return ferr(&c, "direction",
				    "only used by a directional strategy");
		if (has(obj, "signal"))
			return ferr(&c, "signal",
				    "only used by a directional strategy");
	}

	rc = get_obj(&c, obj, "exit_conditions", &sub);
	if (rc < 0)
		return -1;
	if (rc == 0)
		sub = jv_object();
	rc = parse_exit(&c, sub, out);
	jv_free(sub);
	return rc;
}

int at_strategy_parse(const char *s, size_t len, const char *where,
		      struct at_strategy_config *out, at_err *e)
{
	jv v;
	int rc;

	if (len > AT_STRATEGY_MAX_TEXT)
		return at_err_set(e, EX_DATAERR,
				  "%s%sconfig is larger than %d bytes",
				  where ? where : "", where ? ": " : "",
				  AT_STRATEGY_MAX_TEXT);
	if (at_json_parse(s, len, &v, where, e) != 0)
		return -1;
	rc = at_strategy_from_jv(v, where, out, e);
	jv_free(v);
	return rc;
}

/* ---- normalised output -------------------------------------------------- */

static void key_opt_f64(at_buf *b, const char *key, int has_it, double v)
{
	if (has_it)
		at_json_enc_key_f64(b, key, v);
	else
		at_json_enc_key_null(b, key);
}

void at_strategy_to_json(const struct at_strategy_config *c, at_buf *b)
{
	char t[6];
	int hr = hedge_rule(c->type);

	at_json_enc_begin(b);
	at_json_enc_key_str(b, "strategy_type", at_strategy_type_name(c->type));
	at_json_enc_key_str(b, "instrument",
			    c->instrument ? c->instrument->name : "NIFTY");
	at_json_enc_key_str(b, "expiry", at_strategy_expiry_name(c->expiry));
	at_json_enc_key_str(b, "leg_selection",
			    at_strategy_legsel_name(c->leg_selection));
	if (c->leg_selection == AT_STRATEGY_OTM_POINTS)
		at_json_enc_key_i64(b, "otm_points", c->otm_points);
	if (c->leg_selection == AT_STRATEGY_OTM_PREMIUM)
		at_json_enc_key_f64(b, "target_premium", c->target_premium);
	if (hr > 0) {
		if (c->hedge_distance > 0)
			at_json_enc_key_i64(b, "hedge_distance",
					    c->hedge_distance);
		else
			at_json_enc_key_null(b, "hedge_distance");
	}
	at_json_enc_key_i64(b, "lots", c->lots);
	hhmm_text(c->entry_minute, t);
	at_json_enc_key_str(b, "entry_time", t);
	if (c->type == AT_STRATEGY_DIRECTIONAL) {
		at_json_enc_key_str(b, "direction",
				    at_strategy_direction_name(c->direction));
		at_json_enc_key_obj(b, "signal");
		at_json_enc_key_str(b, "kind",
				    at_strategy_signal_name(c->signal.kind));
		at_json_enc_key_i64(b, "timeframe_minutes",
				    c->signal.timeframe_minutes);
		if (c->signal.kind == AT_STRATEGY_EMA_CROSSOVER) {
			at_json_enc_key_i64(b, "fast_period",
					    c->signal.fast_period);
			at_json_enc_key_i64(b, "slow_period",
					    c->signal.slow_period);
		} else {
			at_json_enc_key_i64(b, "period", c->signal.period);
			at_json_enc_key_f64(b, "multiplier",
					    c->signal.multiplier);
		}
		at_json_enc_end(b);
	}
	at_json_enc_key_obj(b, "exit_conditions");
	key_opt_f64(b, "profit_target_mtm", c->exit.has_profit_target,
		    c->exit.profit_target_mtm);
	key_opt_f64(b, "stop_loss_mtm", c->exit.has_stop_loss,
		    c->exit.stop_loss_mtm);
	key_opt_f64(b, "stop_loss_pct", c->exit.has_leg_stop,
		    c->exit.stop_loss_pct);
	if (c->exit.has_trailing) {
		at_json_enc_key_obj(b, "trailing_stop");
		at_json_enc_key_f64(b, "activate_mtm",
				    c->exit.trail_activate_mtm);
		at_json_enc_key_f64(b, "trail_mtm", c->exit.trail_mtm);
		at_json_enc_end(b);
	} else {
		at_json_enc_key_null(b, "trailing_stop");
	}
	hhmm_text(c->exit.exit_minute, t);
	at_json_enc_key_str(b, "time_exit", t);
	at_json_enc_key_i64(b, "max_reentries", c->exit.max_reentries);
	at_json_enc_end(b);
	at_json_enc_end(b);
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Add the keys of o not yet in keys (a jv array of strings). */
static jv union_keys(jv keys, jv o)
{
	jv ks = jv_keys(jv_copy(o));

	for (int i = 0; i < jv_array_length(jv_copy(ks)); i++) {
		jv k = jv_array_get(jv_copy(ks), i);
		int seen = 0;

		for (int j = 0; !seen && j < jv_array_length(jv_copy(keys));
		     j++) {
			jv x = jv_array_get(jv_copy(keys), j);

			seen = jv_equal(x, jv_copy(k));
		}
		if (!seen)
			keys = jv_array_append(keys, k);
		else
			jv_free(k);
	}
	jv_free(ks);
	return keys;
}

int at_strategy_changed_keys(jv before, jv after, at_buf *out)
{
	jv keys;
	int n, nchanged = 0;
	const char **names;

	if (jv_get_kind(before) != JV_KIND_OBJECT ||
	    jv_get_kind(after) != JV_KIND_OBJECT)
		return -1;
	keys = union_keys(union_keys(jv_array(), before), after);
	n = jv_array_length(jv_copy(keys));
	names = at_xcalloc((size_t)n + 1, sizeof(*names));
	for (int i = 0; i < n; i++) {
		jv k = jv_array_get(jv_copy(keys), i);
		jv a = jv_object_get(jv_copy(before), jv_copy(k));
		jv b = jv_object_get(jv_copy(after), jv_copy(k));

		if (!jv_equal(a, b))
			names[nchanged++] = jv_string_value(k);
		jv_free(k); /* keys still holds the string */
	}
	qsort(names, (size_t)nchanged, sizeof(*names), cmp_str);
	at_buf_putc(out, '[');
	for (int i = 0; i < nchanged; i++) {
		if (i > 0)
			at_buf_putc(out, ',');
		at_json_enc_str(out, names[i], strlen(names[i]));
	}
	at_buf_putc(out, ']');
	free(names);
	jv_free(keys);
	return nchanged;
}
