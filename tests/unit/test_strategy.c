/*
 * test_strategy: the strategy config schema (lib/strategy).  Every
 * strategy type's valid example, every field's type and range errors,
 * unknown keys at every level, cross-field rules, normalisation.
 */
#include <string.h>

#include "json.h"
#include "strategy.h"
#include "t.h"

/* Parse s as "c.json"; on success the normalised text into out. */
static int parse(const char *s, struct at_strategy_config *c, at_err *e,
		 at_buf *out)
{
	int rc = at_strategy_parse(s, strlen(s), "c.json", c, e);

	if (rc == 0 && out != NULL) {
		at_buf_reset(out);
		at_strategy_to_json(c, out);
	}
	return rc;
}

/* s must fail with exactly msg (after "c.json: "). */
static void bad(const char *s, const char *msg)
{
	struct at_strategy_config c;
	at_err e = {0, ""};
	char want[AT_ERR_MSG];

	snprintf(want, sizeof(want), "c.json: %s", msg);
	if (T_OK(parse(s, &c, &e, NULL) == -1 && e.code == EX_DATAERR,
		 "rejected: %s", s))
		T_EQ_STR(e.msg, want, "message for %s", s);
	else
		T_OK(0, "message for %s", s);
}

/* s must be valid; its normalised form must be want (when not NULL) and
 * normalise to itself. */
static void good(const char *s, const char *want)
{
	struct at_strategy_config c, c2;
	at_err e = {0, ""};
	at_buf a = AT_BUF_INIT, b = AT_BUF_INIT;

	if (!T_OK(parse(s, &c, &e, &a) == 0, "valid: %s", s)) {
		printf("#   %s\n", e.msg);
		return;
	}
	if (want != NULL)
		T_EQ_STR(a.data, want, "normalised %s", s);
	T_OK(parse(a.data, &c2, &e, &b) == 0 && strcmp(a.data, b.data) == 0,
	     "normalising is idempotent for %s", s);
	at_buf_release(&a);
	at_buf_release(&b);
}

#define BASE "\"strategy_type\":\"short_straddle\""
#define EXIT_DEFAULTS                                                          \
	"\"exit_conditions\":{\"profit_target_mtm\":null,\"stop_loss_mtm\":"   \
	"null,\"stop_loss_pct\":null,\"trailing_stop\":null,\"time_exit\":"    \
	"\"15:15\",\"max_reentries\":0}"

static void examples(void)
{
	/* the seed's examples */
	good("{\"strategy_type\":\"short_straddle\",\"instrument\":\"NIFTY\","
	     "\"expiry\":\"current_week\",\"leg_selection\":\"atm\",\"lots\":1,"
	     "\"entry_time\":\"09:20\",\"exit_conditions\":{\"profit_target_"
	     "mtm\":5000,\"stop_loss_mtm\":-3000,\"time_exit\":\"15:15\"}}",
	     "{\"strategy_type\":\"short_straddle\",\"instrument\":\"NIFTY\","
	     "\"expiry\":\"current_week\",\"leg_selection\":\"atm\","
	     "\"hedge_distance\":null,\"lots\":1,\"entry_time\":\"09:20\","
	     "\"exit_conditions\":{\"profit_target_mtm\":5000,\"stop_loss_"
	     "mtm\":-3000,\"stop_loss_pct\":null,\"trailing_stop\":null,"
	     "\"time_exit\":\"15:15\",\"max_reentries\":0}}");
	good(
	    "{\"strategy_type\":\"iron_fly\",\"leg_selection\":\"atm\","
	    "\"hedge_distance\":200,\"exit_conditions\":{\"profit_target_mtm\":"
	    "4000,\"stop_loss_mtm\":-2500,\"stop_loss_pct\":30,"
	    "\"trailing_stop\":{\"activate_mtm\":2000,\"trail_mtm\":500},"
	    "\"time_exit\":\"15:10\",\"max_reentries\":1}}",
	    "{\"strategy_type\":\"iron_fly\",\"instrument\":\"NIFTY\","
	    "\"expiry\":\"current_week\",\"leg_selection\":\"atm\","
	    "\"hedge_distance\":200,\"lots\":1,\"entry_time\":\"09:20\","
	    "\"exit_conditions\":{\"profit_target_mtm\":4000,\"stop_loss_"
	    "mtm\":-2500,\"stop_loss_pct\":30,\"trailing_stop\":{\"activate_"
	    "mtm\":2000,\"trail_mtm\":500},\"time_exit\":\"15:10\","
	    "\"max_reentries\":1}}");
	/* defaults only */
	good("{" BASE "}",
	     "{\"strategy_type\":\"short_straddle\",\"instrument\":\"NIFTY\","
	     "\"expiry\":\"current_week\",\"leg_selection\":\"atm\","
	     "\"hedge_distance\":null,\"lots\":1,\"entry_time\":\"09:"
	     "20\"," EXIT_DEFAULTS "}");
	/* every other type */
	good("{\"strategy_type\":\"short_strangle\",\"instrument\":"
	     "\"BANKNIFTY\",\"leg_selection\":\"otm_points\",\"otm_points\":"
	     "500,\"hedge_distance\":1000}",
	     "{\"strategy_type\":\"short_strangle\",\"instrument\":"
	     "\"BANKNIFTY\",\"expiry\":\"current_month\",\"leg_selection\":"
	     "\"otm_points\",\"otm_points\":500,\"hedge_distance\":1000,"
	     "\"lots\":1,\"entry_time\":\"09:20\"," EXIT_DEFAULTS "}");
	good("{\"strategy_type\":\"short_strangle\",\"leg_selection\":"
	     "\"otm_premium\",\"target_premium\":42.5}",
	     NULL);
	good("{\"strategy_type\":\"iron_condor\",\"instrument\":\"SENSEX\","
	     "\"expiry\":\"next_week\",\"leg_selection\":\"otm_points\","
	     "\"otm_points\":500,\"hedge_distance\":500,\"lots\":2,"
	     "\"entry_time\":\"09:45\"}",
	     NULL);
	good("{\"strategy_type\":\"bull_put_spread\",\"instrument\":"
	     "\"FINNIFTY\",\"expiry\":\"next_month\",\"hedge_distance\":100}",
	     "{\"strategy_type\":\"bull_put_spread\",\"instrument\":"
	     "\"FINNIFTY\",\"expiry\":\"next_month\",\"leg_selection\":\"atm\","
	     "\"hedge_distance\":100,\"lots\":1,\"entry_time\":\"09:"
	     "20\"," EXIT_DEFAULTS "}");
	good("{\"strategy_type\":\"bear_call_spread\",\"instrument\":"
	     "\"MIDCPNIFTY\",\"leg_selection\":\"otm_points\",\"otm_points\":"
	     "75,\"hedge_distance\":50}",
	     NULL);
	good("{\"strategy_type\":\"directional\",\"direction\":\"both\","
	     "\"signal\":{\"kind\":\"ema_crossover\"}}",
	     "{\"strategy_type\":\"directional\",\"instrument\":\"NIFTY\","
	     "\"expiry\":\"current_week\",\"leg_selection\":\"atm\",\"lots\":1,"
	     "\"entry_time\":\"09:20\",\"direction\":\"both\",\"signal\":{"
	     "\"kind\":\"ema_crossover\",\"timeframe_minutes\":5,\"fast_"
	     "period\":9,\"slow_period\":21}," EXIT_DEFAULTS "}");
	good("{\"strategy_type\":\"directional\",\"instrument\":\"BANKEX\","
	     "\"direction\":\"short\",\"signal\":{\"kind\":\"supertrend\","
	     "\"timeframe_minutes\":15,\"period\":7,\"multiplier\":2.5},"
	     "\"exit_conditions\":{\"stop_loss_pct\":40}}",
	     NULL);
	/* boundaries that are accepted */
	good("{" BASE ",\"entry_time\":\"09:15\",\"exit_conditions\":{"
	     "\"time_exit\":\"15:30\",\"max_reentries\":10}}",
	     NULL);
	good("{" BASE ",\"lots\":100,\"exit_conditions\":{\"stop_loss_mtm\":-1,"
	     "\"profit_target_mtm\":1}}",
	     NULL);
	good("{" BASE ",\"lots\":2.0,\"exit_conditions\":null}", NULL);
}

static void types_and_ranges(void)
{
	bad("[]", "config: expected object, got array");
	bad("{}", "field \"strategy_type\": is required");
	bad("{\"strategy_type\":1}",
	    "field \"strategy_type\": expected string, got number");
	bad("{\"strategy_type\":\"butterfly\"}",
	    "field \"strategy_type\": unknown value \"butterfly\"; expected "
	    "one "
	    "of short_straddle, short_strangle, iron_fly, iron_condor, "
	    "bull_put_spread, bear_call_spread, directional");
	bad("{" BASE ",\"instrument\":\"nifty\"}",
	    "field \"instrument\": unknown value \"nifty\"; expected one of "
	    "NIFTY, BANKNIFTY, FINNIFTY, MIDCPNIFTY, SENSEX, BANKEX");
	bad("{" BASE ",\"instrument\":[]}",
	    "field \"instrument\": expected string, got array");
	bad("{" BASE ",\"expiry\":\"weekly\"}",
	    "field \"expiry\": unknown value \"weekly\"; expected one of "
	    "current_week, next_week, current_month, next_month");
	bad("{" BASE ",\"leg_selection\":true}",
	    "field \"leg_selection\": expected string, got boolean");
	bad("{" BASE ",\"lots\":\"1\"}",
	    "field \"lots\": expected integer, got string");
	bad("{" BASE ",\"lots\":1.5}",
	    "field \"lots\": expected integer, got 1.5");
	bad("{" BASE ",\"lots\":0}",
	    "field \"lots\": 0 is out of range [1, 100]");
	bad("{" BASE ",\"lots\":101}",
	    "field \"lots\": 101 is out of range [1, 100]");
	bad("{" BASE ",\"hedge_distance\":0}",
	    "field \"hedge_distance\": 0 is out of range [1, 10000]");
	bad("{" BASE ",\"hedge_distance\":125}",
	    "field \"hedge_distance\": 125 is not a multiple of NIFTY's strike "
	    "step 50");
	bad("{" BASE ",\"entry_time\":920}",
	    "field \"entry_time\": expected string, got number");
	bad("{" BASE ",\"entry_time\":\"9:20\"}",
	    "field \"entry_time\": expected a time \"HH:MM\", got \"9:20\"");
	bad("{" BASE ",\"entry_time\":\"09:61\"}",
	    "field \"entry_time\": \"09:61\" is not a time of day");
	bad("{" BASE ",\"entry_time\":\"09:14\"}",
	    "field \"entry_time\": 09:14 is outside market hours (09:15 to "
	    "before 15:30 IST)");
	bad("{" BASE ",\"entry_time\":\"15:30\"}",
	    "field \"entry_time\": 15:30 is outside market hours (09:15 to "
	    "before 15:30 IST)");
	bad("{" BASE ",\"exit_conditions\":[]}",
	    "field \"exit_conditions\": expected object, got array");
	bad("{" BASE ",\"exit_conditions\":{\"stop_loss_mtm\":\"-3000\"}}",
	    "field \"exit_conditions.stop_loss_mtm\": expected number, got "
	    "string");
	bad("{" BASE ",\"exit_conditions\":{\"stop_loss_mtm\":3000}}",
	    "field \"exit_conditions.stop_loss_mtm\": must be a loss written "
	    "as "
	    "a negative number of at most -1 (e.g. -3000), got 3000");
	bad("{" BASE ",\"exit_conditions\":{\"stop_loss_mtm\":-2e9}}",
	    "field \"exit_conditions.stop_loss_mtm\": -2000000000 is out of "
	    "range [-1000000000, 1000000000]");
	bad("{" BASE ",\"exit_conditions\":{\"profit_target_mtm\":0}}",
	    "field \"exit_conditions.profit_target_mtm\": 0 is out of range "
	    "[1, 1000000000]");
	bad("{" BASE ",\"exit_conditions\":{\"profit_target_mtm\":true}}",
	    "field \"exit_conditions.profit_target_mtm\": expected number, got "
	    "boolean");
	bad("{" BASE ",\"exit_conditions\":{\"stop_loss_pct\":0.5}}",
	    "field \"exit_conditions.stop_loss_pct\": 0.5 is out of range [1, "
	    "1000]");
	bad("{" BASE ",\"exit_conditions\":{\"stop_loss_pct\":1001}}",
	    "field \"exit_conditions.stop_loss_pct\": 1001 is out of range [1, "
	    "1000]");
	bad("{" BASE ",\"exit_conditions\":{\"trailing_stop\":5}}",
	    "field \"exit_conditions.trailing_stop\": expected object, got "
	    "number");
	bad("{" BASE
	    ",\"exit_conditions\":{\"trailing_stop\":{\"activate_mtm\":"
	    "\"x\",\"trail_mtm\":1}}}",
	    "field \"exit_conditions.trailing_stop.activate_mtm\": expected "
	    "number, got string");
	bad("{" BASE
	    ",\"exit_conditions\":{\"trailing_stop\":{\"trail_mtm\":1}}}",
	    "field \"exit_conditions.trailing_stop.activate_mtm\": is "
	    "required");
	bad("{" BASE
	    ",\"exit_conditions\":{\"trailing_stop\":{\"activate_mtm\":"
	    "100}}}",
	    "field \"exit_conditions.trailing_stop.trail_mtm\": is required");
	bad("{" BASE
	    ",\"exit_conditions\":{\"trailing_stop\":{\"activate_mtm\":"
	    "100,\"trail_mtm\":0}}}",
	    "field \"exit_conditions.trailing_stop.trail_mtm\": 0 is out of "
	    "range [1, 1000000000]");
	bad("{" BASE ",\"exit_conditions\":{\"time_exit\":\"3pm\"}}",
	    "field \"exit_conditions.time_exit\": expected a time \"HH:MM\", "
	    "got \"3pm\"");
	bad("{" BASE ",\"exit_conditions\":{\"time_exit\":\"15:31\"}}",
	    "field \"exit_conditions.time_exit\": 15:31 is outside market "
	    "hours "
	    "(after 09:15, by 15:30 IST)");
	bad("{" BASE ",\"exit_conditions\":{\"max_reentries\":11}}",
	    "field \"exit_conditions.max_reentries\": 11 is out of range [0, "
	    "10]");
	bad("{" BASE ",\"exit_conditions\":{\"max_reentries\":-1}}",
	    "field \"exit_conditions.max_reentries\": -1 is out of range [0, "
	    "10]");
	bad("{\"strategy_type\":\"short_strangle\",\"leg_selection\":"
	    "\"otm_points\",\"otm_points\":\"100\"}",
	    "field \"otm_points\": expected integer, got string");
	bad("{\"strategy_type\":\"short_strangle\",\"leg_selection\":"
	    "\"otm_points\",\"otm_points\":20000}",
	    "field \"otm_points\": 20000 is out of range [1, 10000]");
	bad("{\"strategy_type\":\"short_strangle\",\"leg_selection\":"
	    "\"otm_premium\",\"target_premium\":0}",
	    "field \"target_premium\": 0 is out of range [0.05, 100000]");
	bad("{\"strategy_type\":\"directional\",\"direction\":\"up\","
	    "\"signal\":{\"kind\":\"supertrend\"}}",
	    "field \"direction\": unknown value \"up\"; expected one of long, "
	    "short, both");
	bad("{\"strategy_type\":\"directional\",\"direction\":\"none\","
	    "\"signal\":{\"kind\":\"supertrend\"}}",
	    "field \"direction\": unknown value \"none\"; expected one of "
	    "long, "
	    "short, both");
	bad("{\"strategy_type\":\"directional\",\"direction\":\"long\","
	    "\"signal\":{\"kind\":\"macd\"}}",
	    "field \"signal.kind\": unknown value \"macd\"; expected one of "
	    "ema_crossover, supertrend");
	bad("{\"strategy_type\":\"directional\",\"direction\":\"long\","
	    "\"signal\":{\"kind\":\"supertrend\",\"timeframe_minutes\":7}}",
	    "field \"signal.timeframe_minutes\": 7 is not one of 1, 3, 5, 10, "
	    "15, 30, 60");
	bad("{\"strategy_type\":\"directional\",\"direction\":\"long\","
	    "\"signal\":{\"kind\":\"supertrend\",\"multiplier\":20}}",
	    "field \"signal.multiplier\": 20 is out of range [0.5, 10]");
	bad("{\"strategy_type\":\"directional\",\"direction\":\"long\","
	    "\"signal\":{\"kind\":\"ema_crossover\",\"fast_period\":1}}",
	    "field \"signal.fast_period\": 1 is out of range [2, 200]");
	bad("{\"strategy_type\":\"directional\",\"direction\":\"long\","
	    "\"signal\":\"ema\"}",
	    "field \"signal\": expected object, got string");
	bad("{" BASE ",\"lots\":1e400}",
	    "field \"lots\": number is not finite");
}

static void unknown_keys(void)
{
	bad("{" BASE ",\"foo\":1}", "unknown field \"foo\"");
	bad("{" BASE ",\"name\":\"x\"}", "unknown field \"name\"");
	bad("{" BASE ",\"exit_conditions\":{\"foo\":1}}",
	    "unknown field \"exit_conditions.foo\"");
	bad("{" BASE
	    ",\"exit_conditions\":{\"trailing_stop\":{\"activate_mtm\":"
	    "2,\"trail_mtm\":1,\"step\":1}}}",
	    "unknown field \"exit_conditions.trailing_stop.step\"");
	bad("{\"strategy_type\":\"directional\",\"direction\":\"long\","
	    "\"signal\":{\"kind\":\"ema_crossover\",\"length\":3}}",
	    "unknown field \"signal.length\"");
	bad("{\"strategy_type\":\"directional\",\"direction\":\"long\","
	    "\"signal\":{\"kind\":\"ema_crossover\",\"period\":3}}",
	    "unknown field \"signal.period\" (not used by kind ema_crossover)");
	bad("{\"strategy_type\":\"directional\",\"direction\":\"long\","
	    "\"signal\":{\"kind\":\"supertrend\",\"fast_period\":3}}",
	    "unknown field \"signal.fast_period\" (not used by kind "
	    "supertrend)");
	/* names are quoted safely */
	bad("{" BASE ",\"a\\n\\\"b\":1}", "unknown field \"a\\x0a\\x22b\"");
}

static void cross_field(void)
{
	bad("{\"strategy_type\":\"short_strangle\"}",
	    "field \"leg_selection\": is required (otm_points or otm_premium)");
	bad("{\"strategy_type\":\"short_strangle\",\"leg_selection\":\"atm\"}",
	    "field \"leg_selection\": a short_strangle sells otm strikes: use "
	    "otm_points or otm_premium");
	bad("{\"strategy_type\":\"iron_condor\",\"leg_selection\":\"atm\","
	    "\"hedge_distance\":100}",
	    "field \"leg_selection\": a iron_condor sells otm strikes: use "
	    "otm_points or otm_premium");
	bad("{" BASE ",\"leg_selection\":\"otm_points\",\"otm_points\":100}",
	    "field \"leg_selection\": a short_straddle sells the atm strike: "
	    "use atm (otm is a short_strangle)");
	bad("{\"strategy_type\":\"iron_fly\",\"leg_selection\":\"otm_premium\","
	    "\"target_premium\":5,\"hedge_distance\":100}",
	    "field \"leg_selection\": a iron_fly sells the atm strike: use atm "
	    "(otm is a iron_condor)");
	bad("{\"strategy_type\":\"short_strangle\",\"leg_selection\":"
	    "\"otm_points\"}",
	    "field \"otm_points\": is required with leg_selection otm_points");
	bad("{\"strategy_type\":\"short_strangle\",\"leg_selection\":"
	    "\"otm_premium\"}",
	    "field \"target_premium\": is required with leg_selection "
	    "otm_premium");
	bad("{" BASE ",\"otm_points\":100}",
	    "field \"otm_points\": only used with leg_selection otm_points");
	bad("{" BASE ",\"target_premium\":10}",
	    "field \"target_premium\": only used with leg_selection "
	    "otm_premium");
	bad("{\"strategy_type\":\"short_strangle\",\"instrument\":"
	    "\"BANKNIFTY\","
	    "\"expiry\":\"current_month\",\"leg_selection\":\"otm_points\","
	    "\"otm_points\":250}",
	    "field \"otm_points\": 250 is not a multiple of BANKNIFTY's strike "
	    "step 100");
	bad("{\"strategy_type\":\"iron_fly\"}",
	    "field \"hedge_distance\": is required (points from the sold "
	    "strikes to the wings)");
	bad("{\"strategy_type\":\"iron_condor\",\"leg_selection\":"
	    "\"otm_points\",\"otm_points\":100}",
	    "field \"hedge_distance\": is required (points from the sold "
	    "strikes to the wings)");
	bad("{\"strategy_type\":\"bull_put_spread\"}",
	    "field \"hedge_distance\": is required (the spread's width in "
	    "points)");
	bad("{\"strategy_type\":\"bear_call_spread\"}",
	    "field \"hedge_distance\": is required (the spread's width in "
	    "points)");
	bad("{\"strategy_type\":\"directional\",\"hedge_distance\":100,"
	    "\"direction\":\"long\",\"signal\":{\"kind\":\"supertrend\"}}",
	    "field \"hedge_distance\": not used by a directional");
	bad("{\"strategy_type\":\"directional\",\"signal\":{\"kind\":"
	    "\"supertrend\"}}",
	    "field \"direction\": is required for a directional strategy "
	    "(long, "
	    "short or both)");
	bad("{\"strategy_type\":\"directional\",\"direction\":\"long\"}",
	    "field \"signal\": is required for a directional strategy");
	bad("{\"strategy_type\":\"directional\",\"direction\":\"long\","
	    "\"signal\":{}}",
	    "field \"signal.kind\": is required");
	bad("{\"strategy_type\":\"directional\",\"direction\":\"long\","
	    "\"signal\":{\"kind\":\"ema_crossover\",\"fast_period\":21,"
	    "\"slow_period\":21}}",
	    "field \"signal.fast_period\": 21 must be less than slow_period "
	    "21");
	bad("{\"strategy_type\":\"directional\",\"direction\":\"long\","
	    "\"signal\":{\"kind\":\"supertrend\"},\"exit_conditions\":{"
	    "\"stop_loss_pct\":100}}",
	    "field \"exit_conditions.stop_loss_pct\": 100 is out of range [1, "
	    "99]");
	bad("{" BASE ",\"direction\":\"long\"}",
	    "field \"direction\": only used by a directional strategy");
	bad("{" BASE ",\"signal\":{\"kind\":\"supertrend\"}}",
	    "field \"signal\": only used by a directional strategy");
	good("{" BASE ",\"instrument\":\"BANKNIFTY\"}", NULL);
	bad("{" BASE
	    ",\"instrument\":\"BANKNIFTY\",\"expiry\":\"current_week\"}",
	    "field \"expiry\": BANKNIFTY has no weekly expiries; use "
	    "current_month or next_month");
	bad("{" BASE ",\"instrument\":\"FINNIFTY\",\"expiry\":\"next_week\"}",
	    "field \"expiry\": FINNIFTY has no weekly expiries; use "
	    "current_month or next_month");
	bad("{" BASE ",\"entry_time\":\"15:15\"}",
	    "field \"exit_conditions.time_exit\": 15:15 is not after "
	    "entry_time "
	    "15:15");
	bad("{" BASE ",\"entry_time\":\"10:00\",\"exit_conditions\":{"
	    "\"time_exit\":\"09:30\"}}",
	    "field \"exit_conditions.time_exit\": 09:30 is not after "
	    "entry_time "
	    "10:00");
	bad("{" BASE
	    ",\"exit_conditions\":{\"trailing_stop\":{\"activate_mtm\":"
	    "1000,\"trail_mtm\":1500}}}",
	    "field \"exit_conditions.trailing_stop.trail_mtm\": 1500 exceeds "
	    "activate_mtm 1000 (the stop would lock in a loss)");
	bad("{" BASE ",\"exit_conditions\":{\"profit_target_mtm\":1000,"
	    "\"trailing_stop\":{\"activate_mtm\":1000,\"trail_mtm\":100}}}",
	    "field \"exit_conditions.trailing_stop.activate_mtm\": 1000 is not "
	    "below profit_target_mtm 1000 (the trail would never start)");
}

static void misc(void)
{
	struct at_strategy_config c;
	at_err e = {0, ""};
	at_buf b = AT_BUF_INIT;
	jv x, y;
	const struct at_strategy_instrument *n =
	    at_strategy_instrument_find("NIFTY");

	T_OK(n && n->strike_step == 50 && n->weekly &&
		 !strcmp(n->exchange, "NFO"),
	     "NIFTY: weekly, strike step 50, NFO");
	n = at_strategy_instrument_find("SENSEX");
	T_OK(n && n->weekly && !strcmp(n->exchange, "BFO"),
	     "SENSEX: weekly, BFO");
	n = at_strategy_instrument_find("BANKNIFTY");
	T_OK(n && !n->weekly && n->strike_step == 100,
	     "BANKNIFTY: monthly only");
	T_OK(at_strategy_instrument_find("nifty") == NULL, "names are exact");
	T_OK(parse("{" BASE ",\"entry_time\":\"10:05\",\"exit_conditions\":{"
		   "\"time_exit\":\"14:45\",\"stop_loss_mtm\":-1500.5}}",
		   &c, &e, NULL) == 0 &&
		 c.entry_minute == 605 && c.exit.exit_minute == 885 &&
		 c.exit.has_stop_loss && c.exit.stop_loss_mtm == -1500.5 &&
		 !c.exit.has_profit_target &&
		 c.type == AT_STRATEGY_SHORT_STRADDLE,
	     "typed fields are filled");
	T_OK(at_strategy_parse("{\"strategy_type\":", 17, NULL, &c, &e) == -1 &&
		 strncmp(e.msg, "invalid json", 12) == 0,
	     "malformed json: %s", e.msg);
	T_OK(at_strategy_parse("{}", AT_STRATEGY_MAX_TEXT + 1, "big", &c, &e) ==
		     -1 &&
		 strstr(e.msg, "larger than") != NULL,
	     "oversized text is refused before parsing");

	T_OK(at_json_parse("{\"a\":1,\"b\":{\"x\":1},\"c\":2}", 25, &x, NULL,
			   &e) == 0 &&
		 at_json_parse("{\"b\":{\"x\":2},\"a\":1,\"d\":3}", 25, &y,
			       NULL, &e) == 0,
	     "parse two objects");
	T_EQ_INT(at_strategy_changed_keys(x, y, &b), 3, "three keys changed");
	T_EQ_STR(b.data, "[\"b\",\"c\",\"d\"]", "changed keys sorted");
	at_buf_reset(&b);
	T_EQ_INT(at_strategy_changed_keys(x, x, &b), 0, "nothing changed");
	T_EQ_STR(b.data, "[]", "empty list");
	jv_free(y);
	y = jv_array();
	T_EQ_INT(at_strategy_changed_keys(x, y, &b), -1, "not an object");
	jv_free(x);
	jv_free(y);
	at_buf_release(&b);
	T_EQ_STR(at_strategy_type_name(AT_STRATEGY_BEAR_CALL_SPREAD),
		 "bear_call_spread", "type names");
	T_EQ_STR(at_strategy_expiry_name(AT_STRATEGY_NEXT_MONTH), "next_month",
		 "expiry names");
}

int main(void)
{
	examples();
	types_and_ranges();
	unknown_keys();
	cross_field();
	misc();
	return t_done();
}
