/*
 * test_kite_sim: lib/kite against a real at-sim on loopback, every
 * endpoint: the automated login and its failures, account, orders of each
 * variety, portfolio, instruments, quotes, 429 retries, the
 * timeout-then-lookup path of a placement, a freeze-quantity refusal and
 * session invalidation.  at-sim comes from $AT_REPO/bin (tests/run sets
 * it) or the nearest parent of the working directory holding bin/at-sim.
 * Its clock is manual, at 2026-01-07 10:00 IST (market open; NIFTY lot 65).
 */
#include <errno.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>

#include "kite.h"
#include "t.h"

static const char *SECRET = "JBSWY3DPEHPK3PXP";
#define START_MS "1767760200000" /* 2026-01-07 10:00 IST */

static pid_t sim_pid = -1;
static int port;
static char dir[512];

/* $AT_REPO/bin/at-sim, else the nearest parent of the cwd holding one. */
static int find_sim(char *out, size_t cap)
{
	const char *repo = getenv("AT_REPO");
	char cwd[1024];
	struct stat st;

	if (repo && *repo) {
		snprintf(out, cap, "%s/bin/at-sim", repo);
		return access(out, X_OK);
	}
	if (!getcwd(cwd, sizeof(cwd)))
		return -1;
	for (;;) {
		char *slash;
		snprintf(out, cap, "%s/bin/at-sim", cwd);
		if (stat(out, &st) == 0 && access(out, X_OK) == 0)
			return 0;
		slash = strrchr(cwd, '/');
		if (!slash || slash == cwd)
			return -1;
		*slash = '\0';
	}
}

static int start_sim(void)
{
	char acc[600], bin[1100];
	const char *tmp = getenv("AT_TEST_TMP");
	int p[2];
	FILE *f;

	snprintf(dir, sizeof(dir), "%s/at-kite-sim.XXXXXX",
		 tmp && *tmp ? tmp : "/tmp");
	if (!mkdtemp(dir) || find_sim(bin, sizeof(bin)) < 0)
		return -1;
	snprintf(acc, sizeof(acc), "%s/acc.json", dir);
	f = fopen(acc, "w");
	if (!f)
		return -1;
	fprintf(f,
		"[{\"api_key\":\"key1\",\"api_secret\":\"sec1\",\"user_id\":"
		"\"AB0001\",\"password\":\"pw1\",\"totp_secret\":\"%s\"}]\n",
		SECRET);
	if (fclose(f) != 0 || pipe(p) < 0)
		return -1;
	sim_pid = fork();
	if (sim_pid < 0)
		return -1;
	if (sim_pid == 0) {
		dup2(p[1], 1);
		close(p[0]);
		close(p[1]);
		execl(bin, "at-sim", "--listen", "127.0.0.1:0", "--accounts",
		      acc, "--seed", "7", "--clock", "manual", "--start-ms",
		      START_MS, "--strikes", "5", (char *)NULL);
		_exit(127);
	}
	close(p[1]);
	/* the first line: {"listen":"127.0.0.1:PORT"} */
	char line[128] = {0};
	size_t n = 0;
	while (n < sizeof(line) - 1 && read(p[0], line + n, 1) == 1 &&
	       line[n] != '\n')
		n++;
	close(p[0]);
	const char *c = strstr(line, "\"listen\":\"127.0.0.1:");
	port = c ? atoi(c + strlen("\"listen\":\"127.0.0.1:")) : 0;
	return port > 0 ? 0 : -1;
}

/* SIGTERM, then wait up to 20 s; the exit status, or -1. */
static int stop_sim(void)
{
	int st;

	if (sim_pid <= 0)
		return -1;
	kill(sim_pid, SIGTERM);
	for (int i = 0; i < 2000; i++) {
		pid_t w = waitpid(sim_pid, &st, WNOHANG);
		if (w == sim_pid) {
			sim_pid = -1;
			return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
		}
		if (w < 0 && errno != EINTR)
			break;
		usleep(10000);
	}
	kill(sim_pid, SIGKILL);
	waitpid(sim_pid, &st, 0);
	sim_pid = -1;
	return -1;
}

static void cleanup_dir(void)
{
	char p[700];

	snprintf(p, sizeof(p), "%s/acc.json", dir);
	unlink(p);
	rmdir(dir);
}

/* ---- /_sim/ admin through the raw call ---------------------------------- */

static int sim_post(at_kite *c, const char *path, const char *body)
{
	jv d;
	at_err e = {0};

	if (at_kite_call(c, "POST", path, NULL, body, &d, &e) < 0) {
		printf("# POST %s: %s\n", path, e.msg);
		return -1;
	}
	jv_free(d);
	return 0;
}

/* Orders with this tag in GET /_sim/orders?api_key=key1; id of the last. */
static int sim_orders_tagged(at_kite *c, const char *tag, char *id, size_t cap)
{
	jv d;
	at_err e = {0};
	int n = 0;

	if (at_kite_call(c, "GET", "/_sim/orders", "api_key=key1", NULL, &d,
			 &e) < 0) {
		printf("# GET /_sim/orders: %s\n", e.msg);
		return -1;
	}
	if (jv_get_kind(d) != JV_KIND_ARRAY) {
		jv_free(d);
		return -1;
	}
	jv_array_foreach(d, i, o)
	{
		jv t = jv_object_get(jv_copy(o), jv_string("tag"));
		if (jv_get_kind(t) == JV_KIND_STRING &&
		    !strcmp(jv_string_value(t), tag)) {
			jv oid =
			    jv_object_get(jv_copy(o), jv_string("order_id"));
			n++;
			if (jv_get_kind(oid) == JV_KIND_STRING)
				snprintf(id, cap, "%s", jv_string_value(oid));
			jv_free(oid);
		}
		jv_free(t);
		jv_free(o);
	}
	jv_free(d);
	return n;
}

/* api_keys.key1.rate_limited from GET /_sim/stats, or -1. */
static int64_t sim_rate_limited(at_kite *c)
{
	jv d, v;
	at_err e = {0};
	int64_t n = -1;

	if (at_kite_call(c, "GET", "/_sim/stats", NULL, NULL, &d, &e) < 0)
		return -1;
	v = jv_object_get(jv_object_get(jv_object_get(d, jv_string("api_keys")),
					jv_string("key1")),
			  jv_string("rate_limited"));
	if (jv_get_kind(v) == JV_KIND_NUMBER)
		n = (int64_t)jv_number_value(v);
	jv_free(v);
	return n;
}

/* ---- the cases ----------------------------------------------------------- */

static const char *status_of(const at_kite *c)
{
	return at_kite_status_name(at_kite_last_error(c)->status);
}

static void test_login(at_kite_transport *t, at_kite *c, char *token,
		       size_t cap)
{
	struct at_kite_session s;
	at_err e = {0};
	struct at_kite_login l = {.user_id = "AB0001",
				  .password = "pw1",
				  .totp_secret = SECRET,
				  .api_secret = "sec1"};
	at_kite *bad;

	l.password = "wrong";
	T_EQ_INT(at_kite_login(c, &l, &s, &e), -1, "login: wrong password");
	T_EQ_STR(status_of(c), "bad_password", "login: bad_password (%s)",
		 e.msg);
	l.password = "pw1";

	/* a code from an hour ago is outside the +-1 step window */
	l.now = time(NULL) - 3600;
	T_EQ_INT(at_kite_login(c, &l, &s, &e), -1, "login: wrong totp");
	T_EQ_STR(status_of(c), "bad_totp", "login: bad_totp (%s)", e.msg);
	T_OK(strstr(e.msg, "api/twofa") != NULL, "login: names the step (%s)",
	     e.msg);
	l.now = 0;

	l.api_secret = "not-the-secret";
	T_EQ_INT(at_kite_login(c, &l, &s, &e), -1, "login: wrong api_secret");
	T_EQ_STR(status_of(c), "bad_api_secret", "login: bad_api_secret (%s)",
		 e.msg);
	l.api_secret = "sec1";

	bad = at_kite_new(t, "nokey", &e);
	if (T_OK(bad != NULL, "client for an unknown api_key")) {
		T_EQ_INT(at_kite_login(bad, &l, &s, &e), -1,
			 "login: unknown api_key");
		T_EQ_STR(status_of(bad), "bad_api_key",
			 "login: bad_api_key (%s)", e.msg);
		at_kite_free(bad);
	}

	memset(&s, 0, sizeof(s));
	T_EQ_INT(at_kite_login(c, &l, &s, &e), 0, "login succeeds (%s)", e.msg);
	T_EQ_STR(s.user_id, "AB0001", "login: user_id");
	T_OK(strlen(s.access_token) > 0, "login: an access token");
	snprintf(token, cap, "%s", s.access_token);
	at_kite_session_wipe(&s);
}

static void test_account(at_kite *c)
{
	struct at_kite_profile p;
	struct at_kite_margins m;
	at_err e = {0};

	T_EQ_INT(at_kite_profile(c, &p, &e), 0, "profile (%s)", e.msg);
	T_EQ_STR(p.user_id, "AB0001", "profile: user_id");
	T_EQ_INT(at_kite_margins(c, NULL, &m, &e), 0, "margins (%s)", e.msg);
	T_OK(m.has_equity && m.has_commodity && m.equity.enabled,
	     "margins: both segments");
	T_OK(m.equity.net > 0, "margins: equity net %.2f", m.equity.net);
	T_EQ_INT(at_kite_margins(c, "equity", &m, &e), 0, "margins equity (%s)",
		 e.msg);
	T_OK(m.has_equity && !m.has_commodity, "margins equity: one segment");
}

/* The instruments dump; the nearest NIFTY future into fut. */
static void test_instruments(at_kite *c, struct at_kite_instrument *fut)
{
	at_buf csv = AT_BUF_INIT;
	struct at_kite_instrument *in = NULL;
	size_t n = 0, nfo = 0, nse = 0;
	at_err e = {0};

	memset(fut, 0, sizeof(*fut));
	T_EQ_INT(at_kite_instruments_csv(c, NULL, &csv, &e), 0,
		 "instruments (%s)", e.msg);
	T_EQ_INT(at_kite_parse_instruments(csv.data ? csv.data : "", csv.len,
					   &in, &n, &e),
		 0, "instruments: parsed by lib/kite (%s)", e.msg);
	for (size_t i = 0; i < n; i++) {
		if (!strcmp(in[i].exchange, "NFO"))
			nfo++;
		if (!strcmp(in[i].exchange, "NSE"))
			nse++;
		if (!strcmp(in[i].name, "NIFTY") &&
		    !strcmp(in[i].instrument_type, "FUT") &&
		    (!fut->tradingsymbol[0] ||
		     strcmp(in[i].expiry, fut->expiry) < 0))
			*fut = in[i];
	}
	T_OK(nfo > 100 && nse >= 3, "instruments: %zu NFO and %zu NSE rows",
	     nfo, nse);
	T_OK(fut->tradingsymbol[0] != '\0', "instruments: NIFTY future %s",
	     fut->tradingsymbol);
	T_EQ_INT(fut->lot_size, 65, "instruments: NIFTY lot 65 in 2026");
	free(in);
	in = NULL;
	at_buf_reset(&csv);
	T_EQ_INT(at_kite_instruments_csv(c, "NFO", &csv, &e), 0,
		 "instruments NFO (%s)", e.msg);
	T_EQ_INT(at_kite_parse_instruments(csv.data ? csv.data : "", csv.len,
					   &in, &n, &e),
		 0, "instruments NFO: parsed (%s)", e.msg);
	size_t other = 0;
	for (size_t i = 0; i < n; i++)
		other += strcmp(in[i].exchange, "NFO") != 0;
	T_OK(n == nfo && other == 0, "instruments NFO: %zu rows, all NFO", n);
	free(in);
	at_buf_release(&csv);
}

static void test_quotes(at_kite *c, const char *fut)
{
	char key[80];
	const char *ins[2] = {"NSE:NIFTY 50", key};
	struct at_kite_quote *q = NULL;
	size_t n = 0;
	at_err e = {0};
	int64_t before = sim_rate_limited(c);

	snprintf(key, sizeof(key), "NFO:%s", fut);
	/* /quote* share 1 request/s: the 2nd and 3rd call meet 429s and
	 * are retried after their backoff */
	T_EQ_INT(at_kite_quote(c, ins, 2, &q, &n, &e), 0, "quote (%s)", e.msg);
	T_EQ_INT(n, 2, "quote: both instruments");
	for (size_t i = 0; i < n; i++)
		if (!strcmp(q[i].key, key))
			T_OK(q[i].last_price > 0 && q[i].has_depth &&
				 q[i].has_ohlc,
			     "quote: future has price, depth, ohlc");
	free(q);
	q = NULL;
	T_EQ_INT(at_kite_ltp(c, ins, 2, &q, &n, &e), 0, "ltp after a 429 (%s)",
		 e.msg);
	T_OK(n == 2 && q[0].last_price > 0 && q[1].last_price > 0,
	     "ltp: prices");
	free(q);
	q = NULL;
	T_EQ_INT(at_kite_ohlc(c, ins, 1, &q, &n, &e), 0,
		 "ohlc after a 429 (%s)", e.msg);
	T_OK(n == 1 && q[0].has_ohlc && !strcmp(q[0].key, "NSE:NIFTY 50"),
	     "ohlc: index ohlc");
	free(q);
	int64_t after = sim_rate_limited(c);
	T_OK(before >= 0 && after >= before + 2,
	     "429: the sim refused %lld quote calls, lib/kite retried them",
	     (long long)(after - before));
}

static int place(at_kite *c, const char *variety, const char *sym,
		 const char *type, int64_t qty, double price, const char *tag,
		 char id[AT_KITE_ID_MAX], int *recovered, at_err *e)
{
	struct at_kite_order_params p = AT_KITE_ORDER_INIT;

	p.variety = variety;
	p.exchange = "NFO";
	p.tradingsymbol = sym;
	p.transaction_type = "BUY";
	p.order_type = type;
	p.product = "NRML";
	p.validity = "DAY";
	p.quantity = qty;
	p.price = price;
	p.tag = tag;
	if (!strcmp(variety, "iceberg")) {
		p.iceberg_legs = 2;
		p.iceberg_quantity = qty / 2;
	}
	return at_kite_place_order(c, &p, id, recovered, e);
}

/* Status of order id in GET /orders ("" when absent). */
static void order_status(at_kite *c, const char *id, char *out, size_t cap)
{
	struct at_kite_order *o = NULL;
	size_t n = 0;
	at_err e = {0};

	out[0] = '\0';
	if (at_kite_orders(c, &o, &n, &e) < 0)
		return;
	for (size_t i = 0; i < n; i++)
		if (!strcmp(o[i].order_id, id))
			snprintf(out, cap, "%s", o[i].status);
	free(o);
}

static void test_orders(at_kite *c, const struct at_kite_instrument *fut)
{
	char id[AT_KITE_ID_MAX], st[48], sid[64];
	struct at_kite_order *h = NULL, o;
	struct at_kite_trade *tr = NULL;
	struct at_kite_positions pos = {0};
	struct at_kite_holding *hold = NULL;
	size_t n = 0;
	int64_t lot = fut->lot_size;
	int rec = -1;
	at_err e = {0};
	const char *sym = fut->tradingsymbol;

	/* regular: a resting limit order, modified, then cancelled */
	T_EQ_INT(place(c, "regular", sym, "LIMIT", lot, 15000, "ks-reg", id,
		       &rec, &e),
		 0, "regular: placed (%s)", e.msg);
	T_EQ_INT(rec, 0, "regular: answered, not recovered");
	order_status(c, id, st, sizeof(st));
	T_EQ_STR(st, "OPEN", "regular: open in GET /orders");
	struct at_kite_order_params m = AT_KITE_ORDER_INIT;
	m.price = 15000.5;
	m.quantity = 2 * lot;
	m.order_type = "LIMIT";
	T_EQ_INT(at_kite_modify_order(c, id, &m, &e), 0,
		 "regular: modified (%s)", e.msg);
	T_EQ_INT(at_kite_order_history(c, id, &h, &n, &e), 0,
		 "order history (%s)", e.msg);
	T_OK(n >= 2 && h[n - 1].quantity == 2 * lot &&
		 h[n - 1].price == 15000.5,
	     "order history: %zu states, the last with the modification", n);
	free(h);
	h = NULL;
	T_EQ_INT(at_kite_cancel_order(c, "regular", id, &e), 0,
		 "regular: cancelled (%s)", e.msg);
	order_status(c, id, st, sizeof(st));
	T_EQ_STR(st, "CANCELLED", "regular: cancelled in GET /orders");
	T_EQ_INT(at_kite_find_order_by_tag(c, "ks-reg", &o, &e), 1,
		 "find by tag (%s)", e.msg);
	T_EQ_STR(o.order_id, id, "find by tag: the same order");

	/* amo */
	T_EQ_INT(
	    place(c, "amo", sym, "LIMIT", lot, 15000, "ks-amo", id, &rec, &e),
	    0, "amo: placed (%s)", e.msg);
	order_status(c, id, st, sizeof(st));
	T_EQ_STR(st, "AMO REQ RECEIVED", "amo: received");
	m = (struct at_kite_order_params)AT_KITE_ORDER_INIT;
	m.variety = "amo";
	m.price = 15001;
	T_EQ_INT(at_kite_modify_order(c, id, &m, &e), 0, "amo: modified (%s)",
		 e.msg);
	T_EQ_INT(at_kite_cancel_order(c, "amo", id, &e), 0,
		 "amo: cancelled (%s)", e.msg);
	order_status(c, id, st, sizeof(st));
	T_EQ_STR(st, "CANCELLED", "amo: cancelled in GET /orders");

	/* iceberg: two legs of one lot */
	T_EQ_INT(place(c, "iceberg", sym, "LIMIT", 2 * lot, 15000, "ks-ice", id,
		       &rec, &e),
		 0, "iceberg: placed (%s)", e.msg);
	order_status(c, id, st, sizeof(st));
	T_EQ_STR(st, "OPEN", "iceberg: first leg open");
	m = (struct at_kite_order_params)AT_KITE_ORDER_INIT;
	m.variety = "iceberg";
	m.price = 15002;
	T_EQ_INT(at_kite_modify_order(c, id, &m, &e), 0,
		 "iceberg: modified (%s)", e.msg);
	T_EQ_INT(at_kite_cancel_order(c, "iceberg", id, &e), 0,
		 "iceberg: cancelled (%s)", e.msg);

	/* a market order fills: trades, order trades, positions */
	T_EQ_INT(place(c, "regular", sym, "MARKET", lot, NAN, "ks-mkt", id,
		       &rec, &e),
		 0, "market: placed (%s)", e.msg);
	order_status(c, id, st, sizeof(st));
	T_EQ_STR(st, "COMPLETE", "market: complete");
	T_EQ_INT(at_kite_trades(c, NULL, &tr, &n, &e), 0, "trades (%s)", e.msg);
	T_OK(n >= 1 && !strcmp(tr[n - 1].order_id, id) &&
		 tr[n - 1].quantity == lot,
	     "trades: the fill of %s", id);
	free(tr);
	tr = NULL;
	T_EQ_INT(at_kite_trades(c, id, &tr, &n, &e), 0, "order trades (%s)",
		 e.msg);
	T_OK(n == 1 && !strcmp(tr[0].order_id, id) && tr[0].average_price > 0,
	     "order trades: one fill");
	free(tr);
	T_EQ_INT(at_kite_positions(c, &pos, &e), 0, "positions (%s)", e.msg);
	int found = 0;
	for (size_t i = 0; i < pos.n_net; i++)
		if (!strcmp(pos.net[i].tradingsymbol, sym) &&
		    pos.net[i].quantity == lot)
			found = 1;
	T_OK(found && pos.n_day >= 1, "positions: net %s x %lld", sym,
	     (long long)lot);
	at_kite_positions_release(&pos);
	T_EQ_INT(at_kite_holdings(c, &hold, &n, &e), 0, "holdings (%s)", e.msg);
	free(hold);

	/* freeze quantity: refused at placement, Kite's message kept */
	T_EQ_INT(place(c, "regular", sym, "MARKET", 28 * lot, NAN, "ks-frz", id,
		       &rec, &e),
		 -1, "freeze: 28 lots refused");
	const struct at_kite_error *ke = at_kite_last_error(c);
	T_EQ_STR(at_kite_status_name(ke->status), "input", "freeze: input");
	T_EQ_INT(ke->http, 400, "freeze: http 400");
	T_EQ_STR(ke->error_type, "InputException", "freeze: InputException");
	T_OK(!strncmp(ke->message,
		      "The order quantity 1820 (28 lots) is higher than the "
		      "maximum quantity of 1800 (27 lots) allowed by the "
		      "exchanges. Please reduce the order quantity or use "
		      "iceberg orders.",
		      150),
	     "freeze: Kite's message kept (%s)", ke->message);
	T_EQ_INT(sim_orders_tagged(c, "ks-frz", sid, sizeof(sid)), 0,
		 "freeze: no order at the broker");
}

/* The reply to a placement is lost (latency above the order timeout): the
 * order is found by its tag, once. */
static void test_lost_reply(at_kite *c, const char *sym, int64_t lot)
{
	char id[AT_KITE_ID_MAX] = {0}, sid[64] = {0};
	int rec = -1, rc;
	at_err e = {0};

	if (sim_post(c, "/_sim/faults", "{\"latency_ms\":800}") < 0) {
		T_OK(0, "latency fault set");
		return;
	}
	at_kite_set_order_timeout_ms(c, 200);
	rc = place(c, "regular", sym, "LIMIT", lot, 15000, "ks-lost", id, &rec,
		   &e);
	at_kite_set_order_timeout_ms(c, 7000);
	T_EQ_INT(sim_post(c, "/_sim/faults", "{\"latency_ms\":0}"), 0,
		 "latency fault cleared");
	T_EQ_INT(rc, 0, "lost reply: placement succeeds (%s)", e.msg);
	T_EQ_INT(rec, 1, "lost reply: recovered by tag");
	T_EQ_INT(sim_orders_tagged(c, "ks-lost", sid, sizeof(sid)), 1,
		 "lost reply: exactly one order at the broker");
	T_EQ_STR(id, sid, "lost reply: the broker's order id");
	T_EQ_INT(at_kite_cancel_order(c, NULL, id, &e), 0,
		 "lost reply: cancelled (%s)", e.msg);
}

static void test_invalidate(at_kite *c, const char *token)
{
	struct at_kite_profile p;
	at_err e = {0};

	T_EQ_INT(at_kite_invalidate_session(c, &e), 0, "invalidate (%s)",
		 e.msg);
	at_kite_set_access_token(c, token);
	T_EQ_INT(at_kite_profile(c, &p, &e), -1,
		 "invalidated token is refused");
	T_EQ_STR(status_of(c), "token", "invalidated: token (%s)", e.msg);
	T_EQ_INT(at_kite_last_error(c)->http, 403, "invalidated: http 403");
}

int main(void)
{
	at_kite_transport *t = NULL;
	at_kite *c = NULL;
	struct at_kite_instrument fut;
	char url[64], ws[64], token[128] = {0};
	at_err e = {0};

	signal(SIGPIPE, SIG_IGN);
	if (!T_OK(start_sim() == 0, "at-sim starts (AT_REPO=%s)",
		  getenv("AT_REPO") ? getenv("AT_REPO") : "unset")) {
		stop_sim();
		return t_done();
	}
	snprintf(url, sizeof(url), "http://127.0.0.1:%d", port);
	snprintf(ws, sizeof(ws), "ws://127.0.0.1:%d", port);
	t = at_kite_transport_new(&e);
	c = t ? at_kite_new(t, "key1", &e) : NULL;
	if (T_OK(c != NULL, "client (%s)", e.msg)) {
		at_kite_transport_set_urls(t, url, url, ws);
		/* backoff 400 ms: three retries span more than 1 s */
		at_kite_set_retries(c, 5, 400);
		test_login(t, c, token, sizeof(token));
		test_account(c);
		test_instruments(c, &fut);
		if (fut.tradingsymbol[0]) {
			test_quotes(c, fut.tradingsymbol);
			test_orders(c, &fut);
			test_lost_reply(c, fut.tradingsymbol, fut.lot_size);
		}
		test_invalidate(c, token);
	}
	explicit_bzero(token, sizeof(token));
	at_kite_free(c);
	at_kite_transport_free(t);
	T_EQ_INT(stop_sim(), 0, "at-sim exits 0 on SIGTERM");
	cleanup_dir();
	return t_done();
}
