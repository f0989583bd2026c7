/*
 * bench_sim: ticker throughput of at-sim.  Opens C connections for one
 * api_key, subscribes each to its share of the tokens (one per line in
 * TOKENS_FILE) in full mode, and counts the ticks decoded per second per
 * connection, after a warm-up, against the expected share x tick rate.
 *
 *   bench_sim PORT API_KEY ACCESS_TOKEN TOKENS_FILE CONNS SECONDS RATE
 *
 * Prints one JSON line per connection and a summary line.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../tests/unit/simclient.h"
#include "ticker.h"
#include "util.h"

#define MAXSEC 600

struct conn {
	pthread_t th;
	int fd;
	uint32_t *tok;
	size_t n;
	int seconds;
	int64_t t0;
	long per_sec[MAXSEC];
	long frames, errors;
};

static void count(const struct at_tick *t, void *ctx)
{
	(void)t;
	(*(long *)ctx)++;
}

static void *run(void *arg)
{
	struct conn *c = arg;
	at_buf m = AT_BUF_INIT;
	for (;;) {
		int op = sc_ws_recv(c->fd, &m, 5000);
		int64_t sec = (at_util_mono_ns() - c->t0) / 1000000000;
		if (op < 0 || op == 8 || sec >= c->seconds)
			break;
		if (op != 2 || m.len <= 1)
			continue;
		long k = 0;
		at_err e;
		at_ticker_decode_frame((uint8_t *)m.data, m.len, count, &k, &e);
		if (e.code)
			c->errors++;
		c->frames++;
		c->per_sec[sec] += k;
	}
	at_buf_release(&m);
	return NULL;
}

int main(int argc, char **argv)
{
	if (argc != 8) {
		fprintf(stderr, "usage: bench_sim PORT API_KEY ACCESS_TOKEN "
				"TOKENS_FILE CONNS SECONDS RATE\n");
		return 64;
	}
	int port = atoi(argv[1]), nc = atoi(argv[5]), secs = atoi(argv[6]);
	int rate = atoi(argv[7]), st;
	FILE *f = fopen(argv[4], "r");
	uint32_t *all = NULL;
	size_t n = 0, cap = 0;
	unsigned long t;
	char path[512];

	if (!f || nc < 1 || nc > 3 || secs < 4 || secs >= MAXSEC) {
		fprintf(stderr, "bench_sim: bad arguments\n");
		return 64;
	}
	while (fscanf(f, "%lu", &t) == 1) {
		if (n == cap)
			all = realloc(all, (cap = cap ? cap * 2 : 1024) * 4);
		all[n++] = (uint32_t)t;
	}
	fclose(f);
	size_t share = n / (size_t)nc > 3000 ? 3000 : n / (size_t)nc;
	struct conn *cs = calloc((size_t)nc, sizeof(*cs));
	snprintf(path, sizeof(path), "/?api_key=%s&access_token=%s", argv[2],
		 argv[3]);
	int64_t t0 = at_util_mono_ns();
	for (int i = 0; i < nc; i++) {
		struct conn *c = &cs[i];
		at_buf b = AT_BUF_INIT;
		c->fd = sc_ws_open(port, path, &st);
		if (c->fd < 0) {
			fprintf(stderr, "bench_sim: upgrade failed: %d\n", st);
			return 69;
		}
		c->tok = all + (size_t)i * share;
		c->n = share;
		c->seconds = secs;
		c->t0 = t0;
		at_buf_puts(&b, "{\"a\":\"mode\",\"v\":[\"full\",[");
		for (size_t j = 0; j < c->n; j++)
			at_buf_printf(&b, "%s%u", j ? "," : "", c->tok[j]);
		at_buf_puts(&b, "]]}");
		sc_ws_send(c->fd, 1, b.data, b.len);
		at_buf_release(&b);
		pthread_create(&c->th, NULL, run, c);
	}
	long want = (long)share * rate, total = 0, worst = -1;
	int warm = 2;
	for (int i = 0; i < nc; i++) {
		struct conn *c = &cs[i];
		long sum = 0, mn = -1;
		pthread_join(c->th, NULL);
		for (int s = warm; s < secs; s++) {
			sum += c->per_sec[s];
			if (mn < 0 || c->per_sec[s] < mn)
				mn = c->per_sec[s];
		}
		double avg = (double)sum / (secs - warm);
		printf(
		    "{\"conn\":%d,\"instruments\":%zu,\"ticks_per_s\":%.0f,"
		    "\"min_per_s\":%ld,\"expected_per_s\":%ld,\"frames\":%ld,"
		    "\"decode_errors\":%ld}\n",
		    i, c->n, avg, mn, want, c->frames, c->errors);
		total += sum;
		if (worst < 0 || mn < worst)
			worst = mn;
		close(c->fd);
	}
	printf(
	    "{\"connections\":%d,\"ticks_per_s\":%.0f,\"expected_per_s\":%ld,"
	    "\"worst_second_per_conn\":%ld,\"kept_up\":%s}\n",
	    nc, (double)total / (secs - warm), want * nc, worst,
	    worst >= want * 95 / 100 ? "true" : "false");
	free(cs);
	free(all);
	return 0;
}
