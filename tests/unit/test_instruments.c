/*
 * test_instruments: Kite's instrument master: strict CSV parsing, look-ups,
 * expiries, ATM, freeze quantities, and the atomic ledger refresh on both
 * backends.  The reference dumps are read from ../shared/reference/kite
 * beside the repository (absent: said clearly; a failure under CI=true).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db.h"
#include "instruments.h"
#include "t.h"
#include "util.h"

static const char *repo(void)
{
	const char *r = getenv("AT_REPO");
	return r && *r ? r : ".";
}

/* The shared reference tree: $AT_SHARED, else ../shared beside the repo. */
static const char *shared(void)
{
	static char buf[4096];
	const char *s = getenv("AT_SHARED");

	if (s && *s)
		return s;
	snprintf(buf, sizeof(buf), "%s/../shared", repo());
	return buf;
}

static at_instruments *load_file(const char *path, at_err *e)
{
	size_t len;
	char *data = at_util_read_file(path, 0, &len, e);
	at_instruments *in;

	if (data == NULL)
		return NULL;
	in = at_instruments_parse_csv(data, len, path, e);
	free(data);
	return in;
}

static void expect_err(const char *csv, const char *want, const char *name)
{
	at_err e = {0, ""};
	at_instruments *in =
	    at_instruments_parse_csv(csv, strlen(csv), "x.csv", &e);

	T_OK(in == NULL && e.code == EX_DATAERR, "bad csv refused: %s", name);
	T_EQ_STR(e.msg, want, "bad csv message: %s", name);
	at_instruments_free(in);
}

#define HDR                                                                    \
	"instrument_token,exchange_token,tradingsymbol,name,last_price,"       \
	"expiry,strike,tick_size,lot_size,instrument_type,segment,exchange\n"

static void test_bad_csv(void)
{
	expect_err("", "x.csv:1:1: empty input (no header)", "empty");
	expect_err(HDR, "x.csv:2:1: no instruments", "header only");
	expect_err("instrument_token,exchange_token\n",
		   "x.csv:1:32: expected 12 fields, got 2", "short header");
	expect_err("instrument_token,exchange_token,tradingsymbol,name,"
		   "last_price,expiry,strike,tick_size,lot_size,"
		   "instrument_type,segment,exchangeX\n",
		   "x.csv:1:120: header: expected \"exchange\"", "bad header");
	expect_err(HDR "1,1,A,B,1.0,,0.0,0.05,1,EQ,NSE\n",
		   "x.csv:2:31: expected 12 fields, got 11", "short row");
	expect_err(HDR "1,1,A,B,1.0,,0.0,0.05,1,EQ,NSE,NSE,X\n",
		   "x.csv:2:36: expected 12 fields, got 13", "long row");
	expect_err(HDR "x1,1,A,B,1.0,,0.0,0.05,1,EQ,NSE,NSE\n",
		   "x.csv:2:1: field \"instrument_token\": expected an integer "
		   "in 1..4294967295",
		   "token junk");
	expect_err(HDR "4294967296,1,A,B,1.0,,0.0,0.05,1,EQ,NSE,NSE\n",
		   "x.csv:2:1: field \"instrument_token\": expected an integer "
		   "in 1..4294967295",
		   "token overflow");
	expect_err(HDR "1,1,A,B,1.0,2024-02-30,0.0,0.05,1,EQ,NSE,NSE\n",
		   "x.csv:2:13: field \"expiry\": expected an empty field or a "
		   "date YYYY-MM-DD",
		   "impossible date");
	expect_err(HDR "1,1,A,B,1.0,,-5,0.05,1,EQ,NSE,NSE\n",
		   "x.csv:2:14: field \"strike\": expected a non-negative "
		   "decimal number",
		   "negative strike");
	expect_err(HDR "1,1,A,B,1.,,0,0.05,1,EQ,NSE,NSE\n",
		   "x.csv:2:9: field \"last_price\": expected a decimal number",
		   "number 1.");
	expect_err(HDR "1,1,A,B,nan,,0,0.05,1,EQ,NSE,NSE\n",
		   "x.csv:2:9: field \"last_price\": expected a decimal number",
		   "nan");
	expect_err(HDR "1,1,A,B,1,,0,0.05,-1,EQ,NSE,NSE\n",
		   "x.csv:2:19: field \"lot_size\": expected an integer in "
		   "0..2147483647",
		   "negative lot");
	expect_err(HDR "1,1,,B,1,,0,0.05,1,EQ,NSE,NSE\n",
		   "x.csv:2:5: field \"tradingsymbol\": expected 1 to 47 "
		   "printable ascii bytes",
		   "empty symbol");
	expect_err(HDR "1,1,A\tB,B,1,,0,0.05,1,EQ,NSE,NSE\n",
		   "x.csv:2:5: field \"tradingsymbol\": expected 1 to 47 "
		   "printable ascii bytes",
		   "control byte");
	expect_err(HDR "1,1,A,B,1,,0,0.05,1,eq,NSE,NSE\n",
		   "x.csv:2:21: field \"instrument_type\": expected 1 to 7 of "
		   "A-Z 0-9 - _",
		   "lowercase type");
	expect_err(HDR "1,1,A,\"B,1,,0,0.05,1,EQ,NSE,NSE\n",
		   "x.csv:2:7: unterminated quoted field", "open quote");
	expect_err(HDR "1,1,A,\"B\"x,1,,0,0.05,1,EQ,NSE,NSE\n",
		   "x.csv:2:10: text after a quoted field", "after quote");
	expect_err(HDR "1,1,A\"B,C,1,,0,0.05,1,EQ,NSE,NSE\n",
		   "x.csv:2:6: quote inside an unquoted field", "stray quote");
	expect_err(HDR "1,1,A,B,1,,0,0.05,1,EQ,NSE,NSE\n\n"
		       "2,1,C,D,1,,0,0.05,1,EQ,NSE,NSE\n",
		   "x.csv:3:1: empty line", "blank line");
	expect_err(HDR "7,1,A,B,1,,0,0.05,1,EQ,NSE,NSE\n"
		       "7,2,C,D,1,,0,0.05,1,EQ,NSE,NSE\n",
		   "x.csv:3:1: field \"instrument_token\": duplicate token 7",
		   "duplicate token");
}

static void test_good_csv(void)
{
	const char *csv = HDR "7,1,A,\"Quoted, \"\"name\"\"\",1.5,,0,0.05,1,"
			      "EQ,NSE,NSE\r\n8,2,B,,2e1,,0,0.0025,1,EQ,CDS,"
			      "CDS";
	at_err e = {0, ""};
	at_instruments *in =
	    at_instruments_parse_csv(csv, strlen(csv), "g.csv", &e);
	const struct at_instrument *r;

	T_OK(in != NULL, "quoted fields, CRLF, no final newline: %s", e.msg);
	if (in == NULL)
		return;
	T_EQ_INT(at_instruments_count(in), 2, "two rows");
	r = at_instruments_by_token(in, 7);
	T_EQ_STR(r ? r->name : NULL, "Quoted, \"name\"", "quoted name");
	r = at_instruments_by_token(in, 8);
	T_NEAR(r ? r->last_price : 0, 20, 1e-9, "exponent number");
	T_NEAR(r ? r->tick_size : 0, 0.0025, 1e-12, "cds tick size");
	T_OK(at_instruments_by_token(in, 9) == NULL, "unknown token");
	at_instruments_free(in);
}

static void test_fixture(void)
{
	char path[4096];
	at_err e = {0, ""};
	at_instruments *in;
	const struct at_instrument *r, *chain[64];
	size_t n;

	snprintf(path, sizeof(path), "%s/tests/fixtures/instruments_nifty.csv",
		 repo());
	in = load_file(path, &e);
	T_OK(in != NULL, "fixture parses: %s", e.msg);
	if (in == NULL)
		return;
	T_EQ_INT(at_instruments_count(in), 114, "fixture rows");
	r = at_instruments_by_token(in, 256265);
	T_EQ_STR(r ? r->tradingsymbol : NULL, "NIFTY 50", "by token");
	r = at_instruments_by_symbol(in, "NFO", "NIFTY2452322500CE");
	T_OK(r && r->strike == 22500 && r->expiry == 20240523 &&
		 strcmp(r->instrument_type, "CE") == 0,
	     "by symbol (weekly code)");
	r = at_instruments_by_symbol(in, "BSE", "INFY");
	T_EQ_INT(r ? r->instrument_token : 0, 128053508, "by symbol on BSE");
	r = at_instruments_by_symbol(in, "NSE", "INFY");
	T_EQ_INT(r ? r->instrument_token : 0, 408065, "by symbol on NSE");
	r = at_instruments_by_symbol(in, NULL, "INFY");
	T_EQ_INT(r ? r->instrument_token : 0, 408065, "any exchange: first");
	T_OK(at_instruments_by_symbol(in, "NFO", "INFY") == NULL,
	     "wrong exchange");
	r = at_instruments_index_of(in, "NIFTY");
	T_EQ_INT(r ? r->instrument_token : 0, 256265, "index of NIFTY");
	r = at_instruments_index_of(in, "BANKNIFTY");
	T_EQ_INT(r ? r->instrument_token : 0, 260105, "index of BANKNIFTY");
	r = at_instruments_index_of(in, "INDIA VIX");
	T_EQ_INT(r ? r->instrument_token : 0, 264969, "india vix");
	T_OK(at_instruments_index_of(in, "FINNIFTY") == NULL,
	     "no FINNIFTY index listed");

	n = at_instruments_chain(in, "NIFTY", 20240530, chain, 64);
	T_EQ_INT(n, 16, "chain length (8 strikes x CE/PE)");
	T_OK(n == 16 && chain[0]->strike == 22350 &&
		 strcmp(chain[0]->instrument_type, "CE") == 0 &&
		 strcmp(chain[1]->instrument_type, "PE") == 0 &&
		 chain[15]->strike == 22700,
	     "chain sorted by strike, CE first");
	T_EQ_INT(at_instruments_chain(in, "NIFTY", 20240524, chain, 64), 0,
		 "no chain on a non-expiry");
	T_NEAR(at_instruments_strike_step(in, "NIFTY", 20240523), 50, 1e-9,
	       "nifty strike step");
	T_NEAR(at_instruments_strike_step(in, "BANKNIFTY", 20240529), 100, 1e-9,
	       "banknifty strike step");

	/* as of a Monday before the weekly */
	T_EQ_INT(
	    at_instruments_expiry(in, "NIFTY", 20240520, AT_INSTRUMENTS_WEEKLY),
	    20240523, "weekly as of 2024-05-20");
	T_EQ_INT(at_instruments_expiry(in, "NIFTY", 20240520,
				       AT_INSTRUMENTS_NEXT_WEEKLY),
		 20240530, "next weekly as of 2024-05-20");
	T_EQ_INT(at_instruments_expiry(in, "NIFTY", 20240520,
				       AT_INSTRUMENTS_MONTHLY),
		 20240530, "monthly as of 2024-05-20");
	T_EQ_INT(at_instruments_expiry(in, "NIFTY", 20240520,
				       AT_INSTRUMENTS_NEXT_MONTHLY),
		 20240627, "next monthly as of 2024-05-20");
	/* on expiry day the expiring contract is current */
	T_EQ_INT(
	    at_instruments_expiry(in, "NIFTY", 20240523, AT_INSTRUMENTS_WEEKLY),
	    20240523, "weekly on its expiry day");
	T_EQ_INT(at_instruments_expiry(in, "NIFTY", 20240524,
				       AT_INSTRUMENTS_NEXT_WEEKLY),
		 20240606, "next weekly the day after");
	T_EQ_INT(
	    at_instruments_expiry(in, "NIFTY", 20240531, AT_INSTRUMENTS_WEEKLY),
	    20240606, "weekly after the monthly");
	T_EQ_INT(at_instruments_expiry(in, "NIFTY", 20240531,
				       AT_INSTRUMENTS_MONTHLY),
		 20240627, "monthly as of 2024-05-31");
	T_EQ_INT(at_instruments_expiry(in, "NIFTY", 20240531,
				       AT_INSTRUMENTS_NEXT_MONTHLY),
		 20240725, "next monthly as of 2024-05-31");
	T_EQ_INT(
	    at_instruments_expiry(in, "NIFTY", 20240726, AT_INSTRUMENTS_WEEKLY),
	    0, "nothing listed after the last expiry");
	T_EQ_INT(at_instruments_expiry(in, "BANKNIFTY", 20240501,
				       AT_INSTRUMENTS_MONTHLY),
		 20240529, "banknifty monthly (Wednesday expiry)");
	T_EQ_INT(at_instruments_expiry(in, "BANKNIFTY", 20240501,
				       AT_INSTRUMENTS_NEXT_MONTHLY),
		 0, "banknifty next monthly not listed");

	T_EQ_INT(at_instruments_lot_size(in, "NIFTY"), 25, "nifty lot");
	T_EQ_INT(at_instruments_lot_size(in, "BANKNIFTY"), 15, "banknifty lot");
	T_EQ_INT(at_instruments_lot_size(in, "INFY"), 0, "no derivatives");
	T_EQ_INT(at_instruments_freeze_qty(in, "NIFTY"), 1800, "nifty freeze");
	T_EQ_INT(at_instruments_freeze_qty(in, "BANKNIFTY"), 900,
		 "banknifty freeze");
	T_EQ_INT(at_instruments_freeze_qty(in, "FINNIFTY"), 1800,
		 "finnifty freeze");
	T_EQ_INT(at_instruments_freeze_qty(in, "INFY"), 0, "unknown freeze");
	at_instruments_free(in);
}

static void test_math(void)
{
	char d[11];
	int32_t ymd = 0;

	T_NEAR(at_instruments_atm_strike(22474.9, 50), 22450, 1e-9, "atm down");
	T_NEAR(at_instruments_atm_strike(22475, 50), 22500, 1e-9,
	       "atm half rounds up");
	T_NEAR(at_instruments_atm_strike(48549.99, 100), 48500, 1e-9,
	       "atm banknifty");
	T_NEAR(at_instruments_atm_strike(0, 50), 0, 0, "atm no price");
	T_NEAR(at_instruments_atm_strike(100, 0), 0, 0, "atm no step");
	T_EQ_INT(at_instruments_parse_date("2024-02-29", 10, &ymd), 0,
		 "leap day");
	T_EQ_INT(ymd, 20240229, "leap day value");
	T_EQ_INT(at_instruments_parse_date("2023-02-29", 10, &ymd), -1,
		 "no leap day in 2023");
	T_EQ_INT(at_instruments_parse_date("2024-1-05", 9, &ymd), -1,
		 "short date");
	at_instruments_format_date(20240530, d);
	T_EQ_STR(d, "2024-05-30", "format date");
	T_EQ_INT(at_instruments_ist_date(1716229800000LL), 20240521,
		 "ist midnight is the new day");
	T_EQ_INT(at_instruments_ist_date(1716229799999LL), 20240520,
		 "a millisecond before");
	T_EQ_INT(at_instruments_ist_midnight_ms(20240521), 1716229800000LL,
		 "ist midnight ms");
}

static void test_reference(void)
{
	const char *names[2] = {"instruments_nse.csv", "instruments_all.csv"};
	const char *ci = getenv("CI");
	char path[8192];

	for (int i = 0; i < 2; i++) {
		at_err e = {0, ""};
		at_instruments *in;

		snprintf(path, sizeof(path), "%s/reference/kite/%s", shared(),
			 names[i]);
		if (access(path, R_OK) != 0) {
			if (ci && strcmp(ci, "true") == 0) {
				T_OK(0, "reference %s is absent (%s)", names[i],
				     path);
			} else {
				printf("# reference %s is absent (%s): "
				       "skipped\n",
				       names[i], path);
				T_OK(1, "# SKIP reference %s absent", names[i]);
			}
			continue;
		}
		in = load_file(path, &e);
		T_OK(in != NULL, "reference %s parses: %s", names[i], e.msg);
		if (in == NULL)
			continue;
		T_EQ_INT(at_instruments_count(in), 99, "%s: 99 rows", names[i]);
		if (i == 0) {
			const struct at_instrument *r =
			    at_instruments_by_symbol(in, "NSE", "CENTRALBK-BE");
			T_OK(r && r->instrument_token == 3813889 &&
				 r->exchange_token == 14898 &&
				 strcmp(r->name, "CENTRAL BANK OF INDIA") ==
				     0 &&
				 r->tick_size == 0.05 && r->lot_size == 1,
			     "nse: CENTRALBK-BE row");
		} else {
			const struct at_instrument *r =
			    at_instruments_by_token(in, 12074242);
			const struct at_instrument *c[16];
			T_OK(r &&
				 strcmp(r->tradingsymbol,
					"BANKNIFTY18JAN23500PE") == 0 &&
				 r->expiry == 20180125 && r->strike == 23500 &&
				 r->lot_size == 40 && r->last_price == 35.15 &&
				 strcmp(r->segment, "NFO-OPT") == 0,
			     "all: BANKNIFTY18JAN23500PE row");
			T_EQ_STR(r ? r->name : NULL, "BANKNIFTY",
				 "empty derivative name from tradingsymbol");
			T_EQ_INT(at_instruments_chain(in, "BANKNIFTY", 20180125,
						      c, 16),
				 8, "all: BANKNIFTY 2018-01-25 chain");
			T_EQ_INT(at_instruments_expiry(in, "BANKNIFTY",
						       20171101,
						       AT_INSTRUMENTS_WEEKLY),
				 20171130, "all: BANKNIFTY nearest expiry");
			T_EQ_INT(
			    at_instruments_expiry(in, "BANKNIFTY", 20171201,
						  AT_INSTRUMENTS_NEXT_MONTHLY),
			    20180125, "all: BANKNIFTY next monthly");
			T_NEAR(at_instruments_strike_step(in, "BANKNIFTY",
							  20180125),
			       100, 1e-9, "all: BANKNIFTY strike step");
			T_EQ_INT(at_instruments_lot_size(in, "INDIANB"), 2000,
				 "all: INDIANB lot");
		}
		at_instruments_free(in);
	}
}

/* A trigger refusing one symbol makes the staging batch fail midway. */
static int add_boom_trigger(at_db *db, at_err *e)
{
	if (at_db_kind(db) == AT_DB_SQLITE)
		return at_db_exec_script(
		    db,
		    "CREATE TRIGGER boom BEFORE INSERT ON instruments_load "
		    "WHEN NEW.tradingsymbol = 'BOOM' BEGIN SELECT "
		    "RAISE(ABORT, 'boom'); END",
		    e);
	return at_db_exec_script(
	    db,
	    "CREATE FUNCTION boom() RETURNS trigger LANGUAGE plpgsql AS $$ "
	    "BEGIN IF NEW.tradingsymbol = 'BOOM' THEN RAISE EXCEPTION "
	    "'boom'; END IF; RETURN NEW; END $$; CREATE TRIGGER boom BEFORE "
	    "INSERT ON instruments_load FOR EACH ROW EXECUTE FUNCTION boom()",
	    e);
}

static void test_ledger(const char *url)
{
	char path[4096];
	at_err e = {0, ""};
	at_db *db = at_db_open(url, 1, &e);
	at_instruments *in = NULL, *back = NULL, *bad = NULL;
	int applied;
	const char *badcsv = HDR "1,1,OK,A,1,,0,0.05,1,EQ,NSE,NSE\n"
				 "2,1,BOOM,A,1,,0,0.05,1,EQ,NSE,NSE\n";
	char *v;

	T_OK(db != NULL && at_db_migrate(db, &applied, &e) == 0,
	     "%s: ledger ready: %s", url, e.msg);
	if (db == NULL)
		return;
	T_OK(add_boom_trigger(db, &e) == 0, "%s: trigger: %s", url, e.msg);
	T_OK(at_db_act_as_platform(db, &e) == 0, "platform scope");
	back = at_instruments_load(db, &e);
	T_OK(back == NULL && e.code == EX_UNAVAILABLE,
	     "%s: empty master refused: %s", url, e.msg);
	snprintf(path, sizeof(path), "%s/tests/fixtures/instruments_nifty.csv",
		 repo());
	in = load_file(path, &e);
	T_OK(in != NULL, "fixture");
	if (in == NULL)
		goto out;
	T_OK(at_instruments_store(db, in, &e) == 0, "%s: store: %s", url,
	     e.msg);
	/* a second store replaces, not appends */
	T_OK(at_instruments_store(db, in, &e) == 0, "%s: store again: %s", url,
	     e.msg);
	back = at_instruments_load(db, &e);
	T_OK(back != NULL, "%s: load: %s", url, e.msg);
	if (back == NULL)
		goto out;
	T_EQ_INT(at_instruments_count(back), 114, "%s: same count", url);
	{
		int same = 1;
		for (size_t i = 0; i < at_instruments_count(in); i++) {
			const struct at_instrument *a =
			    at_instruments_at(in, i);
			const struct at_instrument *b =
			    at_instruments_by_token(back, a->instrument_token);
			if (b == NULL || memcmp(a, b, sizeof(*a)) != 0)
				same = 0;
		}
		T_OK(same, "%s: every row reads back identical", url);
	}
	T_EQ_INT(at_instruments_expiry(back, "NIFTY", 20240520,
				       AT_INSTRUMENTS_NEXT_MONTHLY),
		 20240627, "%s: expiries from the ledger", url);
	T_OK(at_db_exec(db,
			"UPDATE freeze_limits SET freeze_qty = 1750 WHERE "
			"underlying = 'NIFTY'",
			0, NULL, &e) == 1,
	     "%s: freeze update", url);
	at_instruments_free(back);
	back = at_instruments_load(db, &e);
	T_EQ_INT(back ? at_instruments_freeze_qty(back, "NIFTY") : 0, 1750,
		 "%s: freeze from the ledger", url);

	bad = at_instruments_parse_csv(badcsv, strlen(badcsv), "bad", &e);
	T_OK(bad != NULL, "boom master parses");
	if (bad != NULL) {
		T_OK(at_instruments_store(db, bad, &e) == -1,
		     "%s: failing refresh refused: %s", url, e.msg);
	}
	v = at_db_query_value(db, "SELECT count(*) FROM instruments", 0, NULL,
			      &e);
	T_EQ_STR(v, "114", "%s: old master untouched", url);
	free(v);
	v = at_db_query_value(db, "SELECT count(*) FROM instruments_load", 0,
			      NULL, &e);
	T_EQ_STR(v, "0", "%s: no staging rows left", url);
	free(v);
	v = at_db_query_value(db,
			      "SELECT updated_by FROM platform_state WHERE "
			      "key = 'instruments_refreshed_ms'",
			      0, NULL, &e);
	T_EQ_STR(v, "at-feed", "%s: refresh time recorded", url);
	free(v);
out:
	at_instruments_free(in);
	at_instruments_free(back);
	at_instruments_free(bad);
	at_db_close(db);
}

int main(void)
{
	const char *urls[4];
	int n = t_db_urls(urls, 4);

	test_bad_csv();
	test_good_csv();
	test_fixture();
	test_math();
	test_reference();
	for (int i = 0; i < n; i++)
		test_ledger(urls[i]);
	return t_done();
}
