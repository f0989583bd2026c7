/*
 * test_feed: the connection split, tick and order lines, a capture
 * written with lib/ticker's encoder recorded into the ledger and replayed
 * back (both backends), and the subscription set from running strategies.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "capture.h"
#include "db.h"
#include "feed.h"
#include "instruments.h"
#include "json.h"
#include "kws.h"
#include "log.h"
#include "t.h"
#include "ticker.h"
#include "util.h"

static void test_split(void)
{
	static uint32_t tok[7000], prev[7000];
	static int a[7000], pa[7000];
	size_t load[3] = {0};
	size_t n;
	int moved = 0;

	for (int i = 0; i < 7000; i++)
		tok[i] = (uint32_t)(1000 + i);
	n = at_kws_assign(tok, 7000, NULL, NULL, 0, 3, 3000, a);
	T_EQ_INT(n, 7000, "7000 instruments assigned");
	for (int i = 0; i < 7000; i++)
		if (a[i] >= 0 && a[i] < 3)
			load[a[i]]++;
	T_OK(load[0] > 0 && load[1] > 0 && load[2] > 0 && load[0] <= 3000 &&
		 load[1] <= 3000 && load[2] <= 3000,
	     "over 3 connections of at most 3000 (%zu %zu %zu)", load[0],
	     load[1], load[2]);
	n = at_kws_assign(tok, 2500, NULL, NULL, 0, 3, 3000, a);
	T_OK(n == 2500 && a[0] == 0 && a[2499] == 0, "2500 fit one connection");
	/* stable: a token keeps its connection when the set changes */
	n = at_kws_assign(tok, 7000, NULL, NULL, 0, 3, 3000, pa);
	memcpy(prev, tok, sizeof(tok));
	for (int i = 0; i < 7000; i++)
		tok[i] = (uint32_t)(1000 + i + (i >= 3500 ? 1 : 0));
	n = at_kws_assign(tok, 7000, prev, pa, 7000, 3, 3000, a);
	for (int i = 0, j = 0; i < 7000; i++) {
		while (j < 7000 && prev[j] < tok[i])
			j++;
		if (j < 7000 && prev[j] == tok[i] && pa[j] != a[i])
			moved++;
	}
	T_EQ_INT(moved, 0, "no instrument moved when one was swapped");
	n = at_kws_assign(tok, 7000, NULL, NULL, 0, 3, 2000, a);
	T_EQ_INT(n, 6000, "over the limits: 1000 left out");
	T_EQ_INT(a[6999] == -1 || a[0] == -1, 1, "left out marked -1");
}

static void test_lines(void)
{
	at_buf out = AT_BUF_INIT;
	struct at_feed_sink s;
	const char *ord = "{\"type\":\"order\",\"data\":{\"order_id\":\"1\",\n"
			  "\"status\":\"OPEN\"}}";
	const char *err = "{\"type\":\"error\",\"data\":\"bad\"}";
	size_t n;

	memset(&s, 0, sizeof(s));
	s.out = &out;
	n = at_feed_handle(&s, (const uint8_t *)ord, strlen(ord), 1, 1234, "t",
			   0);
	T_EQ_INT(n, 1, "order message: one line");
	T_EQ_STR(out.data,
		 "{\"type\":\"order\",\"ts_ms\":1234,\"data\":{\"order_id\":"
		 "\"1\",\"status\":\"OPEN\"}}\n",
		 "order line, data compact");
	at_buf_reset(&out);
	n = at_feed_handle(&s, (const uint8_t *)err, strlen(err), 1, 1, "t", 0);
	T_EQ_INT(n, 0, "error message: logged, not written");
	n = at_feed_handle(&s,
			   (const uint8_t *)"{\"type\":\"order\",\"data\":[1",
			   25, 1, 1, "t", 0);
	T_EQ_INT(n, 0, "garbage: skipped");
	T_EQ_INT(s.cnt.errors, 1, "garbage counted");
	T_EQ_INT(out.len, 0, "nothing written");
	at_buf_release(&out);
}

/* A capture of n frames, each one NIFTY index full tick and one option
 * full tick, made with lib/ticker's encoder. */
static void make_capture(at_buf *cap, int n, int64_t t0_us)
{
	uint8_t fb[1024];

	at_buf_add(cap, AT_CAPTURE_MAGIC, AT_CAPTURE_MAGIC_LEN);
	for (int i = 0; i < n; i++) {
		struct at_ticker_frame f;
		struct at_tick a, b;
		size_t len;

		memset(&a, 0, sizeof(a));
		memset(&b, 0, sizeof(b));
		a.instrument_token = 256265;
		a.last_price = 22500 + i * 0.05;
		a.ohlc.close = 22480;
		a.exchange_timestamp = t0_us / 1000000 + i / 10;
		b.instrument_token = 2560258;
		b.last_price = 100.5 + i * 0.05;
		b.volume_traded = 1000 + (uint32_t)i;
		b.oi = 5000;
		b.exchange_timestamp = a.exchange_timestamp;
		b.depth.buy[0].price = b.last_price - 0.05;
		b.depth.buy[0].quantity = 25;
		b.depth.sell[0].price = b.last_price + 0.05;
		b.depth.sell[0].quantity = 50;
		at_ticker_frame_init(&f, fb, sizeof(fb));
		(void)at_ticker_frame_add(&f, &a, AT_TICKER_MODE_FULL);
		(void)at_ticker_frame_add(&f, &b, AT_TICKER_MODE_FULL);
		len = at_ticker_frame_finish(&f);
		/* two frames in the same millisecond: order by seq */
		at_capture_append(cap, t0_us + (i / 2) * 1000,
				  AT_CAPTURE_BINARY, 0, fb, len);
	}
}

static void test_roundtrip(const char *url)
{
	char path[] = "/tmp/at-feed-cap-XXXXXX";
	at_buf cap = AT_BUF_INIT, lines = AT_BUF_INIT, back = AT_BUF_INIT;
	at_err e = {0, ""};
	struct at_feed_sink s;
	at_feed_recorder *rec;
	at_db *db = at_db_open(url, 1, &e);
	int applied, fd;
	FILE *f;
	uint64_t w, d, fl;

	T_OK(db != NULL && at_db_migrate(db, &applied, &e) == 0 &&
		 at_db_act_as_platform(db, &e) == 0,
	     "%s: ledger: %s", url, e.msg);
	if (db == NULL)
		return;
	make_capture(&cap, 400, 1716176700000000LL);
	fd = mkstemp(path);
	T_OK(fd >= 0 && write(fd, cap.data, cap.len) == (ssize_t)cap.len,
	     "capture written");
	close(fd);
	rec = at_feed_recorder_start(url, 1, 0, &e);
	T_OK(rec != NULL, "recorder started: %s", e.msg);
	memset(&s, 0, sizeof(s));
	s.out = &lines;
	s.rec = rec;
	f = fopen(path, "rb");
	T_OK(at_feed_replay_file(f, path, &s, NULL, NULL, &e) == 0,
	     "capture replayed: %s", e.msg);
	fclose(f);
	T_EQ_INT(s.cnt.ticks, 800, "800 ticks decoded");
	at_feed_recorder_stats(rec, &w, &d, &fl);
	T_OK(at_feed_recorder_stop(rec, &e) == 0, "%s: recorder: %s", url,
	     e.msg);
	memset(&s, 0, sizeof(s));
	s.out = &back;
	T_OK(at_feed_replay_ledger(db, &s, NULL, NULL, &e) == 0,
	     "%s: ledger replay: %s", url, e.msg);
	T_EQ_INT(s.cnt.ticks, 800, "%s: 800 ticks back", url);
	{
		/* compare token, price and ts_ms line by line */
		char *a = lines.data, *b = back.data;
		int same = 1, k = 0;
		while (a && b && *a && *b) {
			static struct at_json_flat fa, fb;
			char *na = strchr(a, '\n'), *nb = strchr(b, '\n');
			int64_t ta = 0, tb = 0, sa = 0, sb = 0;
			double pa = 0, pb = 0;
			at_err x = {0, ""};
			if (!na || !nb ||
			    at_json_flat_parse(a, (size_t)(na - a), &fa, &x) ||
			    at_json_flat_parse(b, (size_t)(nb - b), &fb, &x) ||
			    at_json_flat_i64(&fa, "instrument_token", &ta,
					     &x) != 1 ||
			    at_json_flat_i64(&fb, "instrument_token", &tb,
					     &x) != 1 ||
			    at_json_flat_f64(&fa, "last_price", &pa, &x) != 1 ||
			    at_json_flat_f64(&fb, "last_price", &pb, &x) != 1 ||
			    at_json_flat_i64(&fa, "ts_ms", &sa, &x) != 1 ||
			    at_json_flat_i64(&fb, "ts_ms", &sb, &x) != 1 ||
			    ta != tb || pa != pb || sa != sb) {
				same = 0;
				break;
			}
			a = na + 1;
			b = nb + 1;
			k++;
		}
		T_OK(same && k == 800, "%s: same ticks in the same order (%d)",
		     url, k);
	}
	/* time range and token filter */
	{
		uint32_t only[1] = {2560258};
		at_buf_reset(&back);
		memset(&s, 0, sizeof(s));
		s.out = &back;
		s.tokens = only;
		s.ntokens = 1;
		s.from_ms = 1716176700010;
		s.to_ms = 1716176700020;
		T_OK(at_feed_replay_ledger(db, &s, NULL, NULL, &e) == 0,
		     "filtered replay");
		T_EQ_INT(s.cnt.ticks, 20, "%s: 10 ms x 2 frames of one token",
			 url);
	}
	unlink(path);
	at_buf_release(&cap);
	at_buf_release(&lines);
	at_buf_release(&back);
	at_db_close(db);
}

static int no_price(uint32_t t, double *p, void *ctx)
{
	(void)t;
	(void)p;
	(void)ctx;
	return 0;
}

static int nifty_price(uint32_t t, double *p, void *ctx)
{
	(void)ctx;
	if (t != 256265)
		return 0;
	*p = 22460;
	return 1;
}

static void test_subscriptions(const char *url)
{
	char path[4096];
	const char *r = getenv("AT_REPO");
	at_err e = {0, ""};
	at_db *db = at_db_open(url, 1, &e);
	at_instruments *in;
	struct at_feed_tokens t = {0};
	const char *under[1] = {"NIFTY"};
	char *data;
	size_t len;
	int applied;

	snprintf(path, sizeof(path), "%s/tests/fixtures/instruments_nifty.csv",
		 r && *r ? r : ".");
	data = at_util_read_file(path, 0, &len, &e);
	in = data ? at_instruments_parse_csv(data, len, path, &e) : NULL;
	free(data);
	T_OK(in != NULL && db != NULL && at_db_migrate(db, &applied, &e) == 0,
	     "%s: fixture and ledger: %s", url, e.msg);
	if (in == NULL || db == NULL)
		goto out;
	/* master set only, price from the master's last_price (22502.35) */
	T_OK(at_feed_subscriptions(db, in, under, 1, 2, 20240520, no_price,
				   NULL, &t, &e) == 0,
	     "%s: subscriptions: %s", url, e.msg);
	/* NIFTY 50 + INDIA VIX + 22400..22600 x CE/PE of 2024-05-23 */
	T_EQ_INT(t.n, 12, "%s: master set size", url);
	T_OK(at_feed_tokens_has(&t, 256265) && at_feed_tokens_has(&t, 264969),
	     "index and vix");
	at_feed_tokens_release(&t);
	/* a live price moves ATM: 22460 -> 22450 */
	T_OK(at_feed_subscriptions(db, in, under, 1, 0, 20240520, nifty_price,
				   NULL, &t, &e) == 0,
	     "with a live price");
	T_EQ_INT(t.n, 4, "%s: strikes 0: index, vix, ATM CE and PE", url);
	{
		const struct at_instrument *ce =
		    at_instruments_by_symbol(in, "NFO", "NIFTY2452322450CE");
		T_OK(ce && at_feed_tokens_has(&t, ce->instrument_token),
		     "ATM 22450 CE");
	}
	at_feed_tokens_release(&t);
	/* running strategies of two tenants; a stopped one and a broken one
	 * are left out */
	T_OK(at_db_exec_script(
		 db,
		 "INSERT INTO users (id, email, created_ms, updated_ms) VALUES "
		 "('11111111-1111-4111-8111-111111111111', 'a@x', 0, 0), "
		 "('22222222-2222-4222-8222-222222222222', 'b@x', 0, 0); "
		 "INSERT INTO strategies (user_id, name, strategy_type, "
		 "config, status, created_ms, updated_ms) VALUES "
		 "('11111111-1111-4111-8111-111111111111', 's1', 'iron_fly', "
		 "'{\"instrument\":\"BANKNIFTY\",\"expiry\":\"current_month\","
		 "\"hedge_distance\":200}', 'running', 0, 0), "
		 "('22222222-2222-4222-8222-222222222222', 's2', 'x', "
		 "'{\"instrument\":\"NIFTY\",\"expiry\":\"next_month\"}', "
		 "'running', 0, 0), "
		 "('22222222-2222-4222-8222-222222222222', 's3', 'x', "
		 "'{\"instrument\":\"NOSUCH\"}', 'running', 0, 0), "
		 "('22222222-2222-4222-8222-222222222222', 's4', 'x', "
		 "'{\"instrument\":\"INFY\",\"expiry\":\"current_week\"}', "
		 "'stopped', 0, 0)",
		 &e) == 0,
	     "%s: strategies inserted: %s", url, e.msg);
	T_OK(at_db_act_as_platform(db, &e) == 0, "platform scope");
	T_OK(at_feed_subscriptions(db, in, under, 1, 0, 20240520, nifty_price,
				   NULL, &t, &e) == 0,
	     "%s: with strategies: %s", url, e.msg);
	{
		const struct at_instrument *x =
		    at_instruments_by_symbol(in, "NFO", "NIFTY24JUN22450PE");
		const struct at_instrument *bn = at_instruments_by_symbol(
		    in, "NFO", "BANKNIFTY24MAY48300CE");
		T_OK(x && at_feed_tokens_has(&t, x->instrument_token),
		     "%s: next_month NIFTY chain (ATM 22450)", url);
		/* BANKNIFTY 48511.6 -> ATM 48500; hedge 200 -> 4 steps */
		T_OK(at_feed_tokens_has(&t, 260105) && bn &&
			 at_feed_tokens_has(&t, bn->instrument_token),
		     "%s: BANKNIFTY index and wings", url);
	}
	at_feed_tokens_release(&t);
out:
	at_instruments_free(in);
	at_db_close(db);
}

int main(void)
{
	const char *urls[4];
	int n = t_db_urls(urls, 4);

	at_log_init("test_feed");
	at_log_set_level(AT_LOG_OFF);
	test_split();
	test_lines();
	for (int i = 0; i < n; i++) {
		test_roundtrip(urls[i]);
		test_subscriptions(urls[i]);
	}
	return t_done();
}
