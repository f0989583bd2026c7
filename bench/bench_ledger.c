/*
 * bench_ledger: batch-insert N ticks (default 1M) into each ledger URL given
 * and print rows/s as a table.  Goals (DESIGN.md): SQLite >= 500k rows/s,
 * PostgreSQL (COPY) >= 200k rows/s.
 *
 *   bench_ledger [-n ROWS] URL...
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "db.h"
#include "util.h"

static int run(const char *url, long n, double *rate)
{
	const char *cols[6] = {"instrument_token", "ts_ms", "last_price",
			       "volume",	   "oi",    "bid"};
	enum at_db_type ty[6] = {AT_DB_INT, AT_DB_INT, AT_DB_REAL,
				 AT_DB_INT, AT_DB_INT, AT_DB_REAL};
	int64_t t0 = 1764042300000, start, end;
	at_err e = {0, ""};
	at_db *db = at_db_open(url, 1, &e);
	at_db_batch *b;
	int applied;

	if (db == NULL || at_db_migrate(db, &applied, &e) != 0 ||
	    at_db_act_as_platform(db, &e) != 0 ||
	    at_db_ticks_prepare(db, t0, t0 + n * 10, &e) != 0) {
		fprintf(stderr, "bench_ledger: %s\n", e.msg);
		at_db_close(db);
		return -1;
	}
	start = at_util_mono_ns();
	b = at_db_batch_begin(db, "ticks", 6, cols, ty, &e);
	for (long i = 0; b && i < n; i++) {
		struct at_db_val v[6] = {
		    {0, 256265 + (i % 500) * 256, 0, NULL},
		    {0, t0 + i / 50, 0, NULL},
		    {0, 0, 22450.05 + (double)(i % 400) * 0.05, NULL},
		    {0, 1000000 + i, 0, NULL},
		    {0, 5000 + i % 100, 0, NULL},
		    {0, 0, 22450.0, NULL},
		};
		if (at_db_batch_add(b, v, &e) != 0) {
			at_db_batch_abort(b);
			b = NULL;
		}
	}
	if (b == NULL || at_db_batch_end(b, &e) != 0) {
		fprintf(stderr, "bench_ledger: %s\n", e.msg);
		at_db_close(db);
		return -1;
	}
	end = at_util_mono_ns();
	*rate = (double)n / ((double)(end - start) / 1e9);
	at_db_close(db);
	return 0;
}

int main(int argc, char **argv)
{
	long n = 1000000;
	int c;

	while ((c = getopt(argc, argv, "n:")) != -1) {
		if (c == 'n')
			n = atol(optarg);
		else
			return 64;
	}
	printf("%-10s %10s %14s\n", "backend", "rows", "rows/s");
	for (int i = optind; i < argc; i++) {
		double rate;
		const char *kind = strncmp(argv[i], "postgres", 8) == 0
				       ? "postgres"
				       : "sqlite";
		if (run(argv[i], n, &rate) != 0)
			return 1;
		printf("%-10s %10ld %14.0f\n", kind, n, rate);
		fflush(stdout);
	}
	return 0;
}
