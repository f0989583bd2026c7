/*
 * bench_market: how fast the simulated exchange produces full ticks.
 * at-sim must stream full ticks (depth included) for ~9000 instruments at
 * 2 ticks/s, i.e. 18k ticks/s; each tick here is repriced (Black-Scholes
 * on the smile), built with depth and encoded as a Kite full packet, and
 * separately as a JSON line.
 *
 *   bench_market [-s STRIKES_EACH_SIDE] [-t SECONDS_OF_MARKET_CLOCK]
 */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "market.h"
#include "util.h"

int main(int argc, char **argv)
{
	struct at_market_config c = {0};
	at_err e = {0, ""};
	at_market *m;
	int opt, secs = 30, half;
	size_t i, n;
	int64_t t0, ns, bytes = 0;
	long ticks = 0;
	uint8_t pkt[AT_TICKER_LEN_FULL];
	at_buf b = AT_BUF_INIT;

	c.seed = 1;
	c.start_ms = 1714710600000LL;
	c.strikes_each_side = 200;
	while ((opt = getopt(argc, argv, "s:t:")) != -1) {
		if (opt == 's')
			c.strikes_each_side = atoi(optarg);
		else if (opt == 't')
			secs = atoi(optarg);
		else {
			fprintf(stderr, "usage: bench_market [-s N] [-t S]\n");
			return 64;
		}
	}
	t0 = at_util_mono_ns();
	m = at_market_new(&c, &e);
	if (!m) {
		fprintf(stderr, "bench_market: %s\n", e.msg);
		return 70;
	}
	n = at_market_count(m);
	printf("# %zu instruments, created in %.1f ms\n", n,
	       (double)(at_util_mono_ns() - t0) / 1e6);

	/* binary full packets, two rounds per market second */
	t0 = at_util_mono_ns();
	for (half = 1; half <= 2 * secs; half++) {
		at_market_advance(m, c.start_ms + half * 500LL);
		for (i = 0; i < n; i++) {
			struct at_tick t;
			const struct at_market_instrument *in =
			    at_market_at(m, i);
			if (at_market_tick(m, in->instrument_token, &t) != 0)
				return 70;
			bytes += (int64_t)at_ticker_encode_packet(
			    &t, AT_TICKER_MODE_FULL, pkt, sizeof(pkt));
			ticks++;
		}
	}
	ns = at_util_mono_ns() - t0;
	printf("full packets: %ld ticks in %.3f s = %.0f ticks/s "
	       "(%.1fx the 18k/s at-sim needs), %lld bytes\n",
	       ticks, (double)ns / 1e9, (double)ticks * 1e9 / (double)ns,
	       (double)ticks * 1e9 / (double)ns / 18000, (long long)bytes);

	/* JSON tick lines */
	ticks = 0;
	t0 = at_util_mono_ns();
	for (half = 2 * secs + 1; half <= 4 * secs; half++) {
		at_market_advance(m, c.start_ms + half * 500LL);
		for (i = 0; i < n; i++) {
			struct at_tick t;
			(void)at_market_tick(
			    m, at_market_at(m, i)->instrument_token, &t);
			at_buf_reset(&b);
			at_ticker_tick_json(&t, &b);
			ticks++;
		}
	}
	ns = at_util_mono_ns() - t0;
	printf("json lines:   %ld ticks in %.3f s = %.0f ticks/s\n", ticks,
	       (double)ns / 1e9, (double)ticks * 1e9 / (double)ns);

	/* a long jump of the clock: one trading day */
	t0 = at_util_mono_ns();
	at_market_advance(m, c.start_ms + 86400000LL);
	printf("advance one day (86400 steps): %.1f ms\n",
	       (double)(at_util_mono_ns() - t0) / 1e6);
	at_buf_release(&b);
	at_market_free(m);
	return 0;
}
