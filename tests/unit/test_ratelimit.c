/* lib/ratelimit: slots shared by concurrent workers on every backend. */
#include "t.h"

#include <pthread.h>

#include "db.h"
#include "ratelimit.h"
#include "util.h"

#define WORKERS 4
#define EACH 15

struct worker {
	const char *url;
	int64_t slots[EACH];
	int n;
	char err[AT_ERR_MSG];
};

static void *work(void *arg)
{
	struct worker *w = arg;
	at_err e = {0, ""};
	at_db *db = at_db_open(w->url, 0, &e);

	if (db == NULL || at_db_act_as_platform(db, &e) != 0)
		goto out;
	for (int i = 0; i < EACH; i++) {
		if (at_ratelimit_reserve(db, "test", 40, 0, &w->slots[w->n],
					 &e) != 0)
			goto out;
		w->n++;
	}
out:
	snprintf(w->err, sizeof(w->err), "%s", e.msg);
	at_db_close(db);
	return NULL;
}

static int cmp(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
	return x < y ? -1 : x > y;
}

static void on_ledger(const char *url)
{
	at_err e = {0, ""};
	int applied;
	at_db *db = at_db_open(url, 1, &e);
	struct worker w[WORKERS];
	pthread_t th[WORKERS];
	int64_t all[WORKERS * EACH], slot, gap = INT64_MAX;
	int n = 0, maxwin = 0;

	if (!T_OK(db && at_db_migrate(db, &applied, &e) == 0 &&
		      at_db_act_as_platform(db, &e) == 0,
		  "%s: ledger (%s)", url, e.msg))
		return;
	for (int i = 0; i < WORKERS; i++) {
		memset(&w[i], 0, sizeof(w[i]));
		w[i].url = url;
		pthread_create(&th[i], NULL, work, &w[i]);
	}
	for (int i = 0; i < WORKERS; i++) {
		pthread_join(th[i], NULL);
		T_EQ_INT(w[i].n, EACH, "%s: worker %d reserved all (%s)",
			 at_db_kind_name(db), i, w[i].err);
		for (int j = 0; j < w[i].n; j++)
			all[n++] = w[i].slots[j];
	}
	qsort(all, (size_t)n, sizeof(all[0]), cmp);
	for (int i = 1; i < n; i++)
		if (all[i] - all[i - 1] < gap)
			gap = all[i] - all[i - 1];
	for (int i = 0; i < n; i++) {
		int c = 0;
		for (int j = i; j < n && all[j] < all[i] + 1000000; j++)
			c++;
		if (c > maxwin)
			maxwin = c;
	}
	T_OK(gap >= at_ratelimit_interval_us(40),
	     "%s: slots at least %lld us apart (closest %lld)",
	     at_db_kind_name(db), (long long)at_ratelimit_interval_us(40),
	     (long long)gap);
	T_OK(maxwin <= 40, "%s: no 1 s window holds more than 40 (max %d)",
	     at_db_kind_name(db), maxwin);
	T_OK(all[n - 1] - all[0] < 60LL * 26000 + 1000000,
	     "%s: and they are not spread further than needed",
	     at_db_kind_name(db));

	T_EQ_INT(at_ratelimit_reserve(db, "test", 40, at_util_now_ms() - 1,
				      &slot, &e),
		 1, "%s: past the deadline nothing is reserved",
		 at_db_kind_name(db));
	T_EQ_INT(at_ratelimit_reserve(db, "test", 0, 0, &slot, &e), -1,
		 "%s: a zero rate is refused", at_db_kind_name(db));
	at_db_close(db);
}

int main(void)
{
	const char *u[4];
	int n = t_db_urls(u, 4);

	T_EQ_INT(at_ratelimit_interval_us(5), 200000 + 1000,
		 "5/s is 200 ms plus a fifth of the jitter budget");
	T_EQ_INT(at_ratelimit_interval_us(50), 20000 + 100,
		 "50/s is 20 ms plus a fiftieth of it");
	T_EQ_INT(at_ratelimit_interval_us(3), 333334 + 1667, "3/s rounds up");
	T_EQ_INT(at_ratelimit_interval_us(0), 0, "0/s has no interval");
	for (int i = 0; i < n; i++)
		on_ledger(u[i]);
	return t_done();
}
