/*
 * feed: frames to lines, the ledger thread (ticks and health), replay
 * sources, and the subscription set.
 */
#include "feed.h"

#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jv.h>

#include "capture.h"
#include "json.h"
#include "log.h"
#include "util.h"

#define MAX_CONNS 8
#define PAGE 20000
#define MAX_LINE (1u << 20)

/* ---- lines ------------------------------------------------------------ */

void at_feed_tick_line(const struct at_tick *t, int64_t ts_ms, at_buf *out)
{
	size_t before = out->len;

	at_ticker_tick_json(t, out);
	/* "...}\n" -> "...,"ts_ms":N}\n" */
	if (out->len >= before + 2 && out->data[out->len - 1] == '\n' &&
	    out->data[out->len - 2] == '}') {
		out->len -= 2;
		at_buf_printf(out, ",\"ts_ms\":%lld}\n", (long long)ts_ms);
	}
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
	return x < y ? -1 : x > y;
}

int at_feed_want_token(const struct at_feed_sink *s, uint32_t token)
{
	if (s->tokens == NULL)
		return 1;
	return bsearch(&token, s->tokens, s->ntokens, sizeof(uint32_t),
		       cmp_u32) != NULL;
}

static int want_time(const struct at_feed_sink *s, int64_t ts)
{
	return (s->from_ms == 0 || ts >= s->from_ms) &&
	       (s->to_ms == 0 || ts < s->to_ms);
}

struct frame_ctx {
	struct at_feed_sink *s;
	int64_t ts;
	size_t lines;
};

static void on_tick(const struct at_tick *t, void *arg)
{
	struct frame_ctx *c = arg;
	struct at_feed_sink *s = c->s;

	s->cnt.ticks++;
	s->last_tick_ms = c->ts;
	if (s->on_tick)
		s->on_tick(t, s->on_tick_ctx);
	if (!at_feed_want_token(s, t->instrument_token) || !want_time(s, c->ts))
		return;
	at_feed_tick_line(t, c->ts, s->out);
	c->lines++;
	if (s->rec)
		at_feed_recorder_push(s->rec, t, c->ts);
}

static size_t handle_text(struct at_feed_sink *s, const char *p, size_t n,
			  int64_t ts, const char *where, uint64_t offset)
{
	struct at_ticker_text x;
	char off[24];
	at_err e = {0, ""};
	jv data;
	char *dump;

	snprintf(off, sizeof(off), "%llu", (unsigned long long)offset);
	s->cnt.texts++;
	if (at_ticker_classify_text(p, n, &x, &e) != 0) {
		s->cnt.errors++;
		at_log(AT_LOG_WARN, "bad text message skipped", "at", where,
		       "offset", off, "error", e.msg, NULL);
		return 0;
	}
	if (x.kind != AT_TICKER_TEXT_ORDER) {
		at_buf m = AT_BUF_INIT;
		at_buf_add(&m, x.data ? x.data : "", x.data ? x.data_len : 0);
		if (m.len > 200)
			m.len = 200, m.data[200] = '\0';
		at_log(x.kind == AT_TICKER_TEXT_ERROR ? AT_LOG_WARN
						      : AT_LOG_INFO,
		       "broker text message", "at", where, "type",
		       x.kind == AT_TICKER_TEXT_ERROR	  ? "error"
		       : x.kind == AT_TICKER_TEXT_MESSAGE ? "message"
							  : "other",
		       "data", m.data ? m.data : "", NULL);
		at_buf_release(&m);
		return 0;
	}
	if (x.data == NULL ||
	    at_json_parse(x.data, x.data_len, &data, where, &e) != 0 ||
	    jv_get_kind(data) != JV_KIND_OBJECT) {
		if (x.data != NULL && e.code == 0)
			jv_free(data);
		s->cnt.errors++;
		at_log(AT_LOG_WARN, "bad order message skipped", "at", where,
		       "offset", off, "error",
		       e.code ? e.msg : "data is not an object", NULL);
		return 0;
	}
	if (!want_time(s, ts)) {
		jv_free(data);
		return 0;
	}
	dump = at_json_dump(data);
	at_json_enc_begin(s->out);
	at_json_enc_key_str(s->out, "type", "order");
	at_json_enc_key_i64(s->out, "ts_ms", ts);
	at_json_enc_key_raw(s->out, "data", dump);
	at_json_enc_end(s->out);
	at_buf_putc(s->out, '\n');
	free(dump);
	return 1;
}

size_t at_feed_handle(struct at_feed_sink *s, const uint8_t *p, size_t n,
		      int is_text, int64_t recv_ms, const char *where,
		      uint64_t offset)
{
	struct frame_ctx c = {s, recv_ms, 0};
	at_err e = {0, ""};

	s->cnt.frames++;
	s->cnt.bytes += n;
	if (is_text)
		return handle_text(s, (const char *)p, n, recv_ms, where,
				   offset);
	if (at_ticker_is_heartbeat(p, n))
		return 0;
	(void)at_ticker_decode_frame(p, n, on_tick, &c, &e);
	if (e.code != 0) {
		char off[24];
		snprintf(off, sizeof(off), "%llu", (unsigned long long)offset);
		s->cnt.errors++;
		at_log(AT_LOG_WARN, "bad frame", "at", where, "offset", off,
		       "error", e.msg, NULL);
	}
	return c.lines;
}

/* ---- recorder --------------------------------------------------------- */

struct row {
	uint32_t token;
	int8_t mode;
	int64_t ts_ms, exch_ms, seq;
	double last_price, bid, ask;
	int64_t volume, oi;
	uint8_t has_vol, has_oi, has_bid, has_ask;
};

struct health {
	int set, dirty;
	int instruments;
	int64_t last_tick_ms;
};

struct at_feed_recorder {
	char *url;
	int record;
	pthread_t th;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct row *q;
	size_t cap, head, len;
	int stop;
	int64_t seq;
	uint64_t written, dropped, failed, dropped_logged;
	struct health h[MAX_CONNS];
	char host[128];
	at_err err;
	int64_t prepared_to; /* days up to here are prepared */
};

void at_feed_recorder_push(at_feed_recorder *r, const struct at_tick *t,
			   int64_t ts_ms)
{
	struct row *w;

	if (r == NULL || !r->record)
		return;
	pthread_mutex_lock(&r->mu);
	if (r->len == r->cap) {
		r->dropped++;
		pthread_mutex_unlock(&r->mu);
		return;
	}
	w = &r->q[(r->head + r->len) % r->cap];
	r->len++;
	w->token = t->instrument_token;
	w->mode = (int8_t)t->mode;
	w->ts_ms = ts_ms;
	w->exch_ms = t->exchange_timestamp * 1000;
	w->seq = r->seq++;
	w->last_price = t->last_price;
	w->has_vol = t->tradable && t->mode != AT_TICKER_MODE_LTP;
	w->volume = t->volume_traded;
	w->has_oi = t->tradable && t->mode == AT_TICKER_MODE_FULL;
	w->oi = t->oi;
	w->has_bid = w->has_ask = w->has_oi;
	w->bid = t->depth.buy[0].price;
	w->ask = t->depth.sell[0].price;
	if (r->len >= 8192)
		pthread_cond_signal(&r->cv);
	pthread_mutex_unlock(&r->mu);
}

void at_feed_recorder_health(at_feed_recorder *r, int conn, int instruments,
			     int64_t last_tick_ms)
{
	if (r == NULL || conn < 0 || conn >= MAX_CONNS)
		return;
	pthread_mutex_lock(&r->mu);
	if (!r->h[conn].set || r->h[conn].instruments != instruments ||
	    r->h[conn].last_tick_ms != last_tick_ms)
		r->h[conn].dirty = 1;
	r->h[conn].set = 1;
	r->h[conn].instruments = instruments;
	r->h[conn].last_tick_ms = last_tick_ms;
	pthread_mutex_unlock(&r->mu);
}

void at_feed_recorder_stats(at_feed_recorder *r, uint64_t *written,
			    uint64_t *dropped, uint64_t *failed)
{
	pthread_mutex_lock(&r->mu);
	*written = r->written;
	*dropped = r->dropped;
	*failed = r->failed;
	pthread_mutex_unlock(&r->mu);
}

static int write_rows(at_feed_recorder *r, at_db *db, const struct row *rows,
		      size_t n, at_err *e)
{
	static const char *const cols[10] = {"instrument_token",
					     "ts_ms",
					     "last_price",
					     "volume",
					     "oi",
					     "bid",
					     "ask",
					     "exchange_ts_ms",
					     "mode",
					     "seq"};
	static const enum at_db_type ty[10] = {
	    AT_DB_INT,	AT_DB_INT,  AT_DB_REAL, AT_DB_INT, AT_DB_INT,
	    AT_DB_REAL, AT_DB_REAL, AT_DB_INT,	AT_DB_INT, AT_DB_INT};
	int64_t lo = rows[0].ts_ms, hi = rows[0].ts_ms;
	at_db_batch *b;

	for (size_t i = 1; i < n; i++) {
		if (rows[i].ts_ms < lo)
			lo = rows[i].ts_ms;
		if (rows[i].ts_ms > hi)
			hi = rows[i].ts_ms;
	}
	if (lo / 86400000 * 86400000 < r->prepared_to - 86400000 * 2 ||
	    hi >= r->prepared_to) {
		if (at_db_ticks_prepare(db, lo, hi, e) != 0)
			return -1;
		r->prepared_to = (hi / 86400000 + 1) * 86400000;
	}
	b = at_db_batch_begin(db, "ticks", 10, cols, ty, e);
	if (b == NULL)
		return -1;
	for (size_t i = 0; i < n; i++) {
		const struct row *w = &rows[i];
		struct at_db_val v[10];
		memset(v, 0, sizeof(v));
		v[0].i = w->token;
		v[1].i = w->ts_ms;
		v[2].d = w->last_price;
		v[3].i = w->volume;
		v[3].is_null = !w->has_vol;
		v[4].i = w->oi;
		v[4].is_null = !w->has_oi;
		v[5].d = w->bid;
		v[5].is_null = !w->has_bid;
		v[6].d = w->ask;
		v[6].is_null = !w->has_ask;
		v[7].i = w->exch_ms;
		v[7].is_null = w->exch_ms == 0;
		v[8].i = w->mode;
		v[9].i = w->seq;
		if (at_db_batch_add(b, v, e) != 0) {
			at_db_batch_abort(b);
			return -1;
		}
	}
	return at_db_batch_end(b, e);
}

static void write_health(at_feed_recorder *r, at_db *db)
{
	struct health snap[MAX_CONNS];

	pthread_mutex_lock(&r->mu);
	memcpy(snap, r->h, sizeof(snap));
	for (int i = 0; i < MAX_CONNS; i++)
		r->h[i].dirty = 0;
	pthread_mutex_unlock(&r->mu);
	for (int i = 0; i < MAX_CONNS; i++) {
		char conn[160], inst[16], last[24], now[24];
		const char *p[5] = {conn, r->host, inst, last, now};
		at_err e = {0, ""};

		if (!snap[i].dirty)
			continue;
		snprintf(conn, sizeof(conn), "%s/%d", r->host, i);
		snprintf(inst, sizeof(inst), "%d", snap[i].instruments);
		snprintf(last, sizeof(last), "%lld",
			 (long long)snap[i].last_tick_ms);
		snprintf(now, sizeof(now), "%lld", (long long)at_util_now_ms());
		if (snap[i].last_tick_ms == 0)
			p[3] = NULL;
		if (at_db_exec(db,
			       "INSERT INTO feed_health (conn, host, "
			       "instruments, last_tick_ms, updated_ms) VALUES "
			       "($1, $2, CAST($3 AS integer), CAST($4 AS "
			       "bigint), CAST($5 AS bigint)) ON CONFLICT "
			       "(conn) DO UPDATE SET host = excluded.host, "
			       "instruments = excluded.instruments, "
			       "last_tick_ms = excluded.last_tick_ms, "
			       "updated_ms = excluded.updated_ms",
			       5, p, &e) < 0)
			at_log(AT_LOG_WARN, "feed_health update failed", "conn",
			       conn, "error", e.msg, NULL);
	}
}

static void *recorder_main(void *arg)
{
	at_feed_recorder *r = arg;
	at_err e = {0, ""};
	at_db *db = at_db_open(r->url, 0, &e);
	struct row *batch = at_xcalloc(r->cap, sizeof(*batch));
	int64_t last_health = 0;

	if (db != NULL && at_db_act_as_platform(db, &e) != 0) {
		at_db_close(db);
		db = NULL;
	}
	if (db == NULL)
		at_log(AT_LOG_ERROR, "ledger thread: cannot open the ledger",
		       "error", e.msg, NULL);
	for (;;) {
		size_t n = 0;
		int stop;
		uint64_t dropped;
		struct timespec ts;

		pthread_mutex_lock(&r->mu);
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_nsec += 200000000;
		if (ts.tv_nsec >= 1000000000) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000;
		}
		if (!r->stop && r->len < 8192)
			pthread_cond_timedwait(&r->cv, &r->mu, &ts);
		while (r->len > 0) {
			batch[n++] = r->q[r->head];
			r->head = (r->head + 1) % r->cap;
			r->len--;
		}
		stop = r->stop;
		dropped = r->dropped;
		pthread_mutex_unlock(&r->mu);
		if (dropped > r->dropped_logged) {
			char d[24];
			snprintf(d, sizeof(d), "%llu",
				 (unsigned long long)dropped);
			at_log(AT_LOG_WARN,
			       "record: ledger behind, ticks dropped",
			       "dropped_total", d, NULL);
			r->dropped_logged = dropped;
		}
		if (n > 0) {
			at_err be = {0, ""};
			if (db == NULL ||
			    write_rows(r, db, batch, n, &be) != 0) {
				char c[24];
				snprintf(c, sizeof(c), "%zu", n);
				at_log(AT_LOG_WARN,
				       "record: batch failed, ticks dropped",
				       "ticks", c, "error",
				       db ? be.msg : "no ledger", NULL);
				pthread_mutex_lock(&r->mu);
				r->failed += n;
				r->err = db ? be : e;
				pthread_mutex_unlock(&r->mu);
			} else {
				pthread_mutex_lock(&r->mu);
				r->written += n;
				pthread_mutex_unlock(&r->mu);
			}
		}
		if (db != NULL &&
		    (at_util_now_ms() - last_health >= 1000 || stop)) {
			write_health(r, db);
			last_health = at_util_now_ms();
		}
		if (stop)
			break;
	}
	free(batch);
	at_db_close(db);
	return NULL;
}

at_feed_recorder *at_feed_recorder_start(const char *url, int record,
					 size_t queue_cap, at_err *e)
{
	at_feed_recorder *r = at_xcalloc(1, sizeof(*r));

	r->url = at_xstrdup(url);
	r->record = record;
	r->cap = queue_cap ? queue_cap : 262144;
	r->q = at_xcalloc(r->cap, sizeof(*r->q));
	r->seq = at_util_now_ms() * 1000;
	if (gethostname(r->host, sizeof(r->host) - 1) != 0)
		snprintf(r->host, sizeof(r->host), "localhost");
	pthread_mutex_init(&r->mu, NULL);
	pthread_cond_init(&r->cv, NULL);
	if (pthread_create(&r->th, NULL, recorder_main, r) != 0) {
		at_err_set(e, EX_OSERR, "ledger thread: %s", strerror(errno));
		pthread_mutex_destroy(&r->mu);
		pthread_cond_destroy(&r->cv);
		free(r->q);
		free(r->url);
		free(r);
		return NULL;
	}
	return r;
}

int at_feed_recorder_stop(at_feed_recorder *r, at_err *e)
{
	int rc = 0;

	if (r == NULL)
		return 0;
	pthread_mutex_lock(&r->mu);
	r->stop = 1;
	pthread_cond_signal(&r->cv);
	pthread_mutex_unlock(&r->mu);
	pthread_join(r->th, NULL);
	if (r->failed > 0) {
		*e = r->err;
		at_err_prefix(e, "record: %llu ticks not written",
			      (unsigned long long)r->failed);
		rc = -1;
	}
	pthread_mutex_destroy(&r->mu);
	pthread_cond_destroy(&r->cv);
	free(r->q);
	free(r->url);
	free(r);
	return rc;
}

/* ---- replay: ledger --------------------------------------------------- */

static void ledger_line(at_db_res *res, int i, at_buf *out)
{
	const char *tok = at_db_res_get(res, i, 0);
	const char *v;
	int64_t token = 0, mode = 1, ts = 0, x;

	(void)at_util_parse_i64(tok ? tok : "0", &token);
	at_json_enc_begin(out);
	at_json_enc_key_i64(out, "instrument_token", token);
	v = at_db_res_get(res, i, 8);
	if (v && at_util_parse_i64(v, &x) == 0)
		mode = x;
	at_json_enc_key_str(out, "mode", at_ticker_mode_name((int)mode));
	at_json_enc_key_bool(out, "tradable",
			     !at_ticker_is_index((uint32_t)token));
	v = at_db_res_get(res, i, 2);
	at_json_enc_key_f64(out, "last_price", v ? strtod(v, NULL) : 0);
	v = at_db_res_get(res, i, 7);
	if (v && at_util_parse_i64(v, &x) == 0)
		at_json_enc_key_i64(out, "exchange_ts_ms", x);
	v = at_db_res_get(res, i, 3);
	if (v && at_util_parse_i64(v, &x) == 0)
		at_json_enc_key_i64(out, "volume_traded", x);
	v = at_db_res_get(res, i, 4);
	if (v && at_util_parse_i64(v, &x) == 0)
		at_json_enc_key_i64(out, "oi", x);
	v = at_db_res_get(res, i, 5);
	if (v)
		at_json_enc_key_f64(out, "bid", strtod(v, NULL));
	v = at_db_res_get(res, i, 6);
	if (v)
		at_json_enc_key_f64(out, "ask", strtod(v, NULL));
	v = at_db_res_get(res, i, 1);
	if (v && at_util_parse_i64(v, &ts) == 0)
		at_json_enc_key_i64(out, "ts_ms", ts);
	at_json_enc_end(out);
	at_buf_putc(out, '\n');
}

int at_feed_replay_ledger(at_db *db, struct at_feed_sink *s,
			  at_feed_pace_fn pace, void *ctx, at_err *e)
{
	at_buf sql = AT_BUF_INIT;
	char from[24], to[24], lts[24], lseq[24], page[16];
	const char **p;
	size_t np = 0;
	int64_t last_ts = INT64_MIN, last_seq = INT64_MIN;
	int rc = -1;

	if (s->ntokens > 1000)
		return at_err_set(e, EX_USAGE,
				  "replay: at most 1000 --tokens from the "
				  "ledger");
	p = at_xcalloc(s->ntokens + 5, sizeof(*p));
	snprintf(from, sizeof(from), "%lld", (long long)s->from_ms);
	snprintf(to, sizeof(to), "%lld",
		 (long long)(s->to_ms ? s->to_ms : INT64_MAX));
	snprintf(page, sizeof(page), "%d", PAGE);
	at_buf_puts(&sql, "SELECT instrument_token, ts_ms, last_price, volume, "
			  "oi, bid, ask, exchange_ts_ms, mode, "
			  "coalesce(seq, 0) FROM ticks WHERE ts_ms >= CAST($1 "
			  "AS bigint) AND ts_ms < CAST($2 AS bigint) AND "
			  "(ts_ms > CAST($3 AS bigint) OR (ts_ms = CAST($3 AS "
			  "bigint) AND coalesce(seq, 0) > CAST($4 AS "
			  "bigint)))");
	p[np++] = from;
	p[np++] = to;
	p[np++] = lts;
	p[np++] = lseq;
	if (s->tokens != NULL) {
		char **toks = at_xcalloc(s->ntokens + 1, sizeof(char *));
		at_buf_puts(&sql, " AND instrument_token IN (");
		for (size_t i = 0; i < s->ntokens; i++) {
			toks[i] = at_xmalloc(16);
			snprintf(toks[i], 16, "%u", s->tokens[i]);
			at_buf_printf(&sql, "%sCAST($%zu AS bigint)",
				      i ? ", " : "", np + 1);
			p[np++] = toks[i];
		}
		at_buf_puts(&sql, ")");
		/* the strings live until the end: freed below via p */
		free(toks);
	}
	at_buf_printf(&sql, " ORDER BY ts_ms, coalesce(seq, 0) LIMIT %d", PAGE);
	for (;;) {
		at_db_res *res;
		int rows;

		snprintf(lts, sizeof(lts), "%lld", (long long)last_ts);
		snprintf(lseq, sizeof(lseq), "%lld", (long long)last_seq);
		res = at_db_query(db, sql.data, (int)np, p, e);
		if (res == NULL)
			goto out;
		rows = at_db_res_rows(res);
		for (int i = 0; i < rows; i++) {
			const char *v = at_db_res_get(res, i, 1);
			int64_t ts = 0;
			(void)at_util_parse_i64(v ? v : "0", &ts);
			if (pace && pace(ts, ctx) != 0) {
				at_db_res_free(res);
				rc = 0;
				goto out;
			}
			ledger_line(res, i, s->out);
			s->cnt.ticks++;
			s->last_tick_ms = ts;
			last_ts = ts;
			v = at_db_res_get(res, i, 9);
			(void)at_util_parse_i64(v ? v : "0", &last_seq);
		}
		at_db_res_free(res);
		if (rows < PAGE)
			break;
	}
	rc = 0;
out:
	for (size_t i = 4; i < np; i++)
		free((void *)p[i]);
	free(p);
	at_buf_release(&sql);
	return rc;
}

/* ---- replay: files ---------------------------------------------------- */

static int replay_capture(FILE *f, const char *where, struct at_feed_sink *s,
			  at_feed_pace_fn pace, void *ctx, at_err *e)
{
	at_capture_reader *r = at_capture_open(f, where, e);
	struct at_capture_rec rec;
	int got;

	if (r == NULL)
		return -1;
	while ((got = at_capture_next(r, &rec, e)) == 1) {
		int64_t ms = rec.recv_us / 1000;
		if (pace && pace(ms, ctx) != 0)
			break;
		(void)at_feed_handle(s, rec.data, rec.len,
				     rec.kind == AT_CAPTURE_TEXT, ms, where,
				     rec.offset + AT_CAPTURE_HDR);
	}
	at_capture_close(r);
	if (got < 0) {
		s->cnt.errors++;
		return -1;
	}
	return 0;
}

/* Check one JSON line and copy it out when it passes the filters. */
static void replay_line(struct at_feed_sink *s, const char *line, size_t len,
			const char *where, size_t lineno, at_feed_pace_fn pace,
			void *ctx, int *stop)
{
	struct at_json_flat fl;
	at_err e = {0, ""};
	int64_t token = 0, ts = 0, x;
	char type[32];
	int has_tok, has_type = 0;

	while (len > 0 && (line[len - 1] == '\r' || line[len - 1] == ' ' ||
			   line[len - 1] == '\t'))
		len--;
	if (len == 0)
		return;
	if (at_json_flat_parse(line, len, &fl, &e) != 0)
		goto bad;
	has_tok = at_json_flat_i64(&fl, "instrument_token", &token, &e);
	if (has_tok < 0)
		goto bad;
	if (has_tok == 0) {
		has_type =
		    at_json_flat_str(&fl, "type", type, sizeof(type), NULL, &e);
		if (has_type < 0)
			goto bad;
		if (has_type == 0) {
			at_err_set(&e, EX_DATAERR,
				   "neither instrument_token nor type");
			goto bad;
		}
	} else if (token < 0 || token > UINT32_MAX) {
		at_err_set(&e, EX_DATAERR,
			   "field \"instrument_token\": out of range");
		goto bad;
	}
	if (at_json_flat_i64(&fl, "ts_ms", &ts, &e) < 0)
		goto bad;
	if (ts == 0) {
		x = 0;
		if (at_json_flat_i64(&fl, "exchange_ts_ms", &x, &e) < 0)
			goto bad;
		ts = x;
	}
	if (has_tok && !at_feed_want_token(s, (uint32_t)token))
		return;
	if (ts != 0 && !want_time(s, ts))
		return;
	if (pace && pace(ts, ctx) != 0) {
		*stop = 1;
		return;
	}
	at_buf_add(s->out, line, len);
	at_buf_putc(s->out, '\n');
	if (has_tok) {
		s->cnt.ticks++;
		if (ts)
			s->last_tick_ms = ts;
	}
	return;
bad : {
	char ln[24];
	snprintf(ln, sizeof(ln), "%s:%zu", where, lineno);
	s->cnt.errors++;
	at_log(AT_LOG_WARN, "bad replay line skipped", "at", ln, "error", e.msg,
	       NULL);
}
}

int at_feed_replay_file(FILE *f, const char *where, struct at_feed_sink *s,
			at_feed_pace_fn pace, void *ctx, at_err *e)
{
	at_buf b = AT_BUF_INIT;
	char chunk[65536];
	size_t n, lineno = 0, start = 0;
	int c, stop = 0;

	c = getc(f);
	if (c == EOF)
		return ferror(f) ? at_err_set(e, EX_IOERR, "%s: %s", where,
					      strerror(errno))
				 : 0;
	ungetc(c, f);
	if (c == AT_CAPTURE_MAGIC[0]) {
		/* 'A' cannot start a JSON line */
		return replay_capture(f, where, s, pace, ctx, e);
	}
	while (!stop && (n = fread(chunk, 1, sizeof(chunk), f)) > 0) {
		at_buf_add(&b, chunk, n);
		for (;;) {
			char *nl = memchr(b.data + start, '\n', b.len - start);
			if (nl == NULL)
				break;
			lineno++;
			replay_line(s, b.data + start,
				    (size_t)(nl - (b.data + start)), where,
				    lineno, pace, ctx, &stop);
			start = (size_t)(nl - b.data) + 1;
			if (stop)
				break;
		}
		if (b.len - start > MAX_LINE) {
			char ln[24];
			snprintf(ln, sizeof(ln), "%s:%zu", where, lineno + 1);
			at_log(AT_LOG_WARN, "bad replay line skipped", "at", ln,
			       "error", "line longer than 1 MiB", NULL);
			s->cnt.errors++;
			/* skip to the next newline */
			start = b.len;
			lineno++;
			while ((c = getc(f)) != EOF && c != '\n')
				;
		}
		memmove(b.data, b.data + start, b.len - start);
		b.len -= start;
		start = 0;
	}
	if (!stop && b.len > 0)
		replay_line(s, b.data, b.len, where, ++lineno, pace, ctx,
			    &stop);
	at_buf_release(&b);
	if (ferror(f))
		return at_err_set(e, EX_IOERR, "%s: %s", where,
				  strerror(errno));
	return 0;
}

/* ---- subscriptions ---------------------------------------------------- */

void at_feed_tokens_add(struct at_feed_tokens *t, uint32_t token)
{
	if (t->n == t->cap) {
		t->cap = t->cap ? t->cap * 2 : 256;
		t->v = at_xrealloc(t->v, t->cap * sizeof(*t->v));
	}
	t->v[t->n++] = token;
}

void at_feed_tokens_finish(struct at_feed_tokens *t)
{
	size_t k = 0;

	if (t->n == 0)
		return;
	qsort(t->v, t->n, sizeof(*t->v), cmp_u32);
	for (size_t i = 0; i < t->n; i++)
		if (k == 0 || t->v[k - 1] != t->v[i])
			t->v[k++] = t->v[i];
	t->n = k;
}

int at_feed_tokens_has(const struct at_feed_tokens *t, uint32_t token)
{
	return t->n > 0 &&
	       bsearch(&token, t->v, t->n, sizeof(uint32_t), cmp_u32) != NULL;
}

void at_feed_tokens_release(struct at_feed_tokens *t)
{
	free(t->v);
	memset(t, 0, sizeof(*t));
}

int at_feed_chain_around(const at_instruments *in, const char *underlying,
			 int32_t expiry, int strikes, at_feed_price_fn price,
			 void *ctx, struct at_feed_tokens *out)
{
	const struct at_instrument *idx =
	    at_instruments_index_of(in, underlying);
	const struct at_instrument **c;
	double spot = 0, step, atm;
	size_t n;

	if (idx == NULL)
		return 0;
	at_feed_tokens_add(out, idx->instrument_token);
	if (price == NULL || !price(idx->instrument_token, &spot, ctx) ||
	    !(spot > 0))
		spot = idx->last_price;
	if (!(spot > 0) || expiry == 0)
		return 0;
	step = at_instruments_strike_step(in, underlying, expiry);
	atm = at_instruments_atm_strike(spot, step);
	if (atm == 0)
		return 0;
	n = at_instruments_chain(in, underlying, expiry, NULL, 0);
	c = at_xcalloc(n ? n : 1, sizeof(*c));
	at_instruments_chain(in, underlying, expiry, c, n);
	for (size_t i = 0; i < n; i++)
		if (fabs(c[i]->strike - atm) <= strikes * step + step * 1e-6)
			at_feed_tokens_add(out, c[i]->instrument_token);
	free(c);
	return 1;
}

int at_feed_strategy_instruments(const at_instruments *in, const char *config,
				 int32_t as_of, int strikes,
				 at_feed_price_fn price, void *ctx,
				 struct at_feed_tokens *out, at_err *e)
{
	static const struct {
		const char *name;
		int kind;
	} kinds[] = {
	    {"current_week", AT_INSTRUMENTS_WEEKLY},
	    {"next_week", AT_INSTRUMENTS_NEXT_WEEKLY},
	    {"current_month", AT_INSTRUMENTS_MONTHLY},
	    {"next_month", AT_INSTRUMENTS_NEXT_MONTHLY},
	};
	char *inst = NULL, *exp = NULL;
	int64_t otm = 0, hedge = 0;
	int kind = AT_INSTRUMENTS_WEEKLY, rc = -1, found = 0;
	double step;
	int32_t expiry;
	jv cfg;

	if (at_json_parse(config, strlen(config), &cfg, "config", e) != 0)
		return -1;
	if (at_json_get_str(cfg, "instrument", 1, &inst, "config", e) < 0 ||
	    at_json_get_str(cfg, "expiry", 0, &exp, "config", e) < 0 ||
	    at_json_get_i64(cfg, "otm_points", 0, 0, 1000000, &otm, "config",
			    e) < 0 ||
	    at_json_get_i64(cfg, "hedge_distance", 0, 0, 1000000, &hedge,
			    "config", e) < 0)
		goto out;
	if (exp != NULL) {
		for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++)
			if (strcmp(exp, kinds[i].name) == 0) {
				kind = kinds[i].kind;
				found = 1;
			}
		if (!found) {
			at_err_set(e, EX_DATAERR,
				   "config: field \"expiry\": unknown expiry "
				   "\"%s\"",
				   exp);
			goto out;
		}
	}
	if (at_instruments_index_of(in, inst) == NULL) {
		at_err_set(e, EX_DATAERR,
			   "config: field \"instrument\": no index for \"%s\" "
			   "in the instrument master",
			   inst);
		goto out;
	}
	expiry = at_instruments_expiry(in, inst, as_of, kind);
	step = expiry ? at_instruments_strike_step(in, inst, expiry) : 0;
	if (step > 0) {
		int need = (int)ceil((double)(otm + hedge) / step) + 2;
		if (need > strikes)
			strikes = need;
	}
	(void)at_feed_chain_around(in, inst, expiry, strikes, price, ctx, out);
	rc = 0;
out:
	free(inst);
	free(exp);
	jv_free(cfg);
	return rc;
}

int at_feed_subscriptions(at_db *db, const at_instruments *in,
			  const char *const *underlyings, size_t nunder,
			  int strikes, int32_t as_of, at_feed_price_fn price,
			  void *ctx, struct at_feed_tokens *out, at_err *e)
{
	const struct at_instrument *vix;
	at_db_res *r;

	for (size_t i = 0; i < nunder; i++) {
		int32_t x = at_instruments_expiry(in, underlyings[i], as_of,
						  AT_INSTRUMENTS_WEEKLY);
		if (at_instruments_index_of(in, underlyings[i]) == NULL)
			at_log(AT_LOG_WARN, "subscriptions: no index listed",
			       "underlying", underlyings[i], NULL);
		(void)at_feed_chain_around(in, underlyings[i], x, strikes,
					   price, ctx, out);
	}
	vix = at_instruments_index_of(in, "INDIA VIX");
	if (vix != NULL)
		at_feed_tokens_add(out, vix->instrument_token);
	if (db != NULL) {
		r = at_db_query(db,
				"SELECT id, user_id, config FROM strategies "
				"WHERE status = 'running' ORDER BY id",
				0, NULL, e);
		if (r == NULL)
			return -1;
		for (int i = 0; i < at_db_res_rows(r); i++) {
			at_err se = {0, ""};
			const char *cfg = at_db_res_get(r, i, 2);
			if (at_feed_strategy_instruments(in, cfg ? cfg : "",
							 as_of, strikes, price,
							 ctx, out, &se) != 0)
				at_log(AT_LOG_WARN,
				       "subscriptions: strategy skipped",
				       "strategy_id", at_db_res_get(r, i, 0),
				       "user_id", at_db_res_get(r, i, 1),
				       "error", se.msg, NULL);
		}
		at_db_res_free(r);
	}
	at_feed_tokens_finish(out);
	return 0;
}
