/*
 * bench_feed_latency: stamp lines on arrival.  Reads standard input (a pipe
 * from at-feed) and writes "US<TAB>LINE" for every line, US being the
 * CLOCK_REALTIME microseconds when the read() that completed the line
 * returned.  bench/bench_feed_latency.sh matches them with at-sim's
 * GET /_sim/sends.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

int main(void)
{
	static char buf[1 << 20];
	size_t have = 0;
	ssize_t n;

	while ((n = read(0, buf + have, sizeof(buf) - have)) > 0) {
		struct timespec ts;
		char *p = buf, *nl;
		long long us;

		clock_gettime(CLOCK_REALTIME, &ts);
		us = (long long)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
		have += (size_t)n;
		while ((nl = memchr(p, '\n', have - (size_t)(p - buf)))) {
			printf("%lld\t%.*s\n", us, (int)(nl - p), p);
			p = nl + 1;
		}
		have -= (size_t)(p - buf);
		memmove(buf, p, have);
		if (have == sizeof(buf))
			have = 0; /* a line over 1 MiB: not a tick, drop it */
		fflush(stdout);
	}
	return 0;
}
