/*
 * bench_feed: at-feed's hot paths.
 *
 *   bench_feed [-n TICKS] [URL...]
 *
 * 1. decode + JSON line out: a capture of full-mode frames (tradable full
 *    packets, 20 per frame, made with lib/ticker's encoder) through
 *    at_feed_handle into a buffer that is reset per frame, as at-feed does
 *    between writes.  Goal (DESIGN.md): >= 2M ticks/s on one core.
 * 2. record: the same ticks pushed through the recorder thread into each
 *    ledger URL given (COPY on PostgreSQL), rows/s from first push to the
 *    last row committed.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "db.h"
#include "feed.h"
#include "log.h"
#include "ticker.h"
#include "util.h"

#define PER_FRAME 20

static size_t make_frame(uint8_t *buf, size_t cap, int k)
{
	struct at_ticker_frame f;

	at_ticker_frame_init(&f, buf, cap);
	for (int i = 0; i < PER_FRAME; i++) {
		struct at_tick t;
		memset(&t, 0, sizeof(t));
		t.instrument_token = (uint32_t)((10000 + i) << 8 | 2);
		t.last_price = 100 + (k % 97) * 0.05 + i;
		t.last_traded_quantity = 25;
		t.average_traded_price = t.last_price - 0.1;
		t.volume_traded = 100000 + (uint32_t)k;
		t.total_buy_quantity = 5000;
		t.total_sell_quantity = 6000;
		t.ohlc.open = 99;
		t.ohlc.high = 120;
		t.ohlc.low = 95;
		t.ohlc.close = 100;
		t.last_trade_time = 1716176700;
		t.exchange_timestamp = 1716176700;
		t.oi = 50000;
		for (int d = 0; d < 5; d++) {
			t.depth.buy[d].price = t.last_price - 0.05 * (d + 1);
			t.depth.buy[d].quantity = 25 * (uint32_t)(d + 1);
			t.depth.buy[d].orders = (uint16_t)(d + 1);
			t.depth.sell[d].price = t.last_price + 0.05 * (d + 1);
			t.depth.sell[d].quantity = 25 * (uint32_t)(d + 1);
			t.depth.sell[d].orders = (uint16_t)(d + 1);
		}
		(void)at_ticker_frame_add(&f, &t, AT_TICKER_MODE_FULL);
	}
	return at_ticker_frame_finish(&f);
}

int main(int argc, char **argv)
{
	long n = 2000000;
	int c;
	enum { NF = 64 };
	static uint8_t frames[NF][PER_FRAME * 190 + 16];
	size_t flen[NF];
	at_buf out = AT_BUF_INIT;
	struct at_feed_sink s;
	int64_t t0, t1;
	long frames_n;
	size_t bytes = 0;

	while ((c = getopt(argc, argv, "n:")) != -1) {
		if (c == 'n')
			n = atol(optarg);
		else
			return 64;
	}
	at_log_init("bench_feed");
	at_log_set_level(AT_LOG_ERROR);
	for (int i = 0; i < NF; i++)
		flen[i] = make_frame(frames[i], sizeof(frames[i]), i);
	frames_n = n / PER_FRAME;
	memset(&s, 0, sizeof(s));
	s.out = &out;
	t0 = at_util_mono_ns();
	for (long i = 0; i < frames_n; i++) {
		(void)at_feed_handle(&s, frames[i % NF], flen[i % NF], 0,
				     1716176700000 + i, "bench", 0);
		bytes += out.len;
		out.len = 0;
	}
	t1 = at_util_mono_ns();
	printf("decode+json  %ld ticks  %.0f ticks/s  %.1f MB/s of lines\n",
	       (long)s.cnt.ticks, (double)s.cnt.ticks / ((t1 - t0) / 1e9),
	       (double)bytes / ((t1 - t0) / 1e9) / 1e6);

	for (int u = optind; u < argc; u++) {
		at_err e = {0, ""};
		at_db *db = at_db_open(argv[u], 1, &e);
		at_feed_recorder *rec;
		uint64_t w = 0, d = 0, f = 0;
		int applied;
		long rn = n / 2;

		if (db == NULL || at_db_migrate(db, &applied, &e) != 0) {
			fprintf(stderr, "bench_feed: %s\n", e.msg);
			return 1;
		}
		at_db_close(db);
		rec = at_feed_recorder_start(argv[u], 1, (size_t)rn, &e);
		if (rec == NULL) {
			fprintf(stderr, "bench_feed: %s\n", e.msg);
			return 1;
		}
		memset(&s, 0, sizeof(s));
		s.out = &out;
		s.rec = rec;
		t0 = at_util_mono_ns();
		for (long i = 0; i < rn / PER_FRAME; i++) {
			(void)at_feed_handle(&s, frames[i % NF], flen[i % NF],
					     0, 1716176700000 + i / 100,
					     "bench", 0);
			out.len = 0;
		}
		at_feed_recorder_stats(rec, &w, &d, &f);
		if (at_feed_recorder_stop(rec, &e) != 0) {
			fprintf(stderr, "bench_feed: %s\n", e.msg);
			return 1;
		}
		t1 = at_util_mono_ns();
		printf("record %-8s %ld ticks  %.0f rows/s  (dropped %llu)\n",
		       strncmp(argv[u], "postgres", 8) == 0 ? "postgres"
							    : "sqlite",
		       (long)s.cnt.ticks,
		       (double)s.cnt.ticks / ((t1 - t0) / 1e9),
		       (unsigned long long)d);
	}
	at_buf_release(&out);
	return 0;
}
