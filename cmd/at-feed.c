/*
 * at-feed: market data.  The Kite WebSocket ticker (subscriptions: every
 * running strategy's instruments plus the advisor's master set) to JSON
 * tick lines on stdout or a FIFO fan-out; recording into the ledger;
 * replay from the ledger, JSON lines or a raw capture; the daily
 * instrument master refresh.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>

#include "buf.h"
#include "capture.h"
#include "cli.h"
#include "db.h"
#include "fanout.h"
#include "feed.h"
#include "instruments.h"
#include "kws.h"
#include "log.h"
#include "ticker.h"
#include "util.h"

static const char *tool = "at-feed";

static volatile sig_atomic_t g_stop, g_hup, g_usr1;

static void on_signal(int sig)
{
	if (sig == SIGHUP)
		g_hup = 1;
	else if (sig == SIGUSR1)
		g_usr1 = 1;
	else
		g_stop = 1;
}

static void usage(FILE *f)
{
	fprintf(
	    f,
	    "usage: at-feed [--db URL] [--api-key KEY] [--token-file FILE]\n"
	    "               [--ws-url URL] [--mode ltp|quote|full]\n"
	    "               [--underlyings LIST] [--strikes N] [--as-of DATE]\n"
	    "               [--tokens LIST] [--resubscribe-every SECONDS]\n"
	    "               [--fanout DIR] [--fanout-buffer BYTES] [--record]\n"
	    "               [--capture FILE]\n"
	    "       at-feed --replay[=FILE] [--from TIME] [--to TIME]\n"
	    "               [--tokens LIST] [--speed X] [--fanout DIR] "
	    "[--record]\n"
	    "       at-feed --refresh-instruments [--instruments-file FILE]\n"
	    "               [--api-url URL] [--api-key KEY] [--token-file "
	    "FILE]\n"
	    "       at-feed --help | --version\n"
	    "\n"
	    "  --db URL                ledger (default: $AT_DB, else "
	    "$AT_HOME/at.db)\n"
	    "  --api-key KEY           master account api_key "
	    "($AT_KITE_API_KEY)\n"
	    "  --token-file FILE       access token in a 0600 file "
	    "(else $AT_KITE_ACCESS_TOKEN)\n"
	    "  --ws-url URL            ticker URL ($AT_KITE_WS_URL, "
	    "wss://ws.kite.trade)\n"
	    "  --api-url URL           REST URL ($AT_KITE_API_URL, "
	    "https://api.kite.trade)\n"
	    "  --mode MODE             ltp, quote or full (default full)\n"
	    "  --underlyings LIST      master set underlyings (default NIFTY)\n"
	    "  --strikes N             strikes each side of ATM (default 10)\n"
	    "  --as-of DATE            trading day for expiries (default "
	    "today, IST)\n"
	    "  --tokens LIST           live: extra tokens; replay: only these\n"
	    "  --resubscribe-every S   recompute subscriptions every S "
	    "seconds (60)\n"
	    "  --fanout DIR            write every line to every FIFO in DIR\n"
	    "  --fanout-buffer BYTES   backlog bound per consumer (4194304)\n"
	    "  --record                write ticks to the ledger's ticks "
	    "table\n"
	    "  --capture FILE          write the raw frames to FILE\n"
	    "  --replay[=FILE]         replay the ledger, or FILE (JSON lines "
	    "or capture; - stdin)\n"
	    "  --from TIME, --to TIME  replay range: epoch ms or "
	    "YYYY-MM-DD[THH:MM[:SS]] IST\n"
	    "  --speed X               replay at X times real time (default: "
	    "as fast as possible)\n"
	    "  --refresh-instruments   load the instrument master into the "
	    "ledger\n"
	    "  --instruments-file FILE from FILE instead of the broker\n");
}

/* ---- output ------------------------------------------------------------ */

struct out {
	int fd;
	int each; /* pipe, FIFO or tty: flush per burst */
	at_buf buf;
	at_fanout *fan;
	int broken;
	int64_t last_flush_ms;
	int cap_fd;
	at_buf cap;
};

static void out_flush(struct out *o)
{
	o->last_flush_ms = at_util_now_ms();
	if (o->fan) {
		if (o->buf.len)
			at_fanout_write(o->fan, o->buf.data, o->buf.len);
		at_fanout_flush(o->fan);
	} else {
		size_t off = 0;
		while (off < o->buf.len && !o->broken) {
			ssize_t w =
			    write(o->fd, o->buf.data + off, o->buf.len - off);
			if (w < 0 && errno == EINTR)
				continue;
			if (w < 0) {
				if (errno != EPIPE)
					at_log(AT_LOG_ERROR,
					       "stdout: write failed", "error",
					       strerror(errno), NULL);
				o->broken = errno == EPIPE ? 1 : 2;
				g_stop = 1;
				break;
			}
			off += (size_t)w;
		}
	}
	at_buf_reset(&o->buf);
	if (o->cap_fd >= 0 && o->cap.len > 0) {
		size_t off = 0;
		while (off < o->cap.len) {
			ssize_t w = write(o->cap_fd, o->cap.data + off,
					  o->cap.len - off);
			if (w < 0 && errno == EINTR)
				continue;
			if (w < 0) {
				at_log(AT_LOG_ERROR, "capture: write failed",
				       "error", strerror(errno), NULL);
				close(o->cap_fd);
				o->cap_fd = -1;
				break;
			}
			off += (size_t)w;
		}
		at_buf_reset(&o->cap);
	}
}

/* After a burst of input: flush when the consumer wants it now, or the
 * buffer is big, or a second has passed. */
static void out_burst(struct out *o)
{
	if (o->each || o->fan || o->buf.len >= (256u << 10) ||
	    at_util_now_ms() - o->last_flush_ms >= 1000)
		out_flush(o);
}

/* ---- options ------------------------------------------------------------ */

/* epoch ms, or YYYY-MM-DD[THH:MM[:SS]] in IST */
static int parse_time(const char *s, int64_t *out)
{
	int32_t ymd;
	int h = 0, m = 0, sec = 0;
	size_t n = strlen(s);

	if (at_util_parse_i64(s, out) == 0)
		return 0;
	if (n < 10 || at_instruments_parse_date(s, 10, &ymd) != 0)
		return -1;
	if (n > 10) {
		char tail[16];
		if (s[10] != 'T' && s[10] != ' ')
			return -1;
		if (sscanf(s + 11, "%2d:%2d:%2d%15s", &h, &m, &sec, tail) !=
			3 &&
		    (sscanf(s + 11, "%2d:%2d%15s", &h, &m, tail) != 2 ||
		     n != 16))
			return -1;
		if (h > 23 || m > 59 || sec > 59 || h < 0 || m < 0 || sec < 0)
			return -1;
	}
	*out = at_instruments_ist_midnight_ms(ymd) +
	       ((int64_t)h * 3600 + m * 60 + sec) * 1000;
	return 0;
}

static int parse_tokens(const char *s, struct at_feed_tokens *t)
{
	const char *p = s;

	while (*p) {
		char *end;
		unsigned long v;
		if (*p < '0' || *p > '9')
			return -1;
		errno = 0;
		v = strtoul(p, &end, 10);
		if (errno || v == 0 || v > UINT32_MAX)
			return -1;
		at_feed_tokens_add(t, (uint32_t)v);
		p = end;
		if (*p == ',')
			p++;
		else if (*p != '\0')
			return -1;
	}
	at_feed_tokens_finish(t);
	return t->n > 0 ? 0 : -1;
}

/* Secrets never come from argv: a 0600 file or the environment. */
static char *read_token(const char *file, at_err *e)
{
	const char *env = getenv("AT_KITE_ACCESS_TOKEN");
	char *s;
	size_t n;

	if (file != NULL) {
		struct stat st;
		if (stat(file, &st) != 0) {
			at_err_set(e, EX_NOINPUT, "%s: %s", file,
				   strerror(errno));
			return NULL;
		}
		if (st.st_mode & 077) {
			at_err_set(e, EX_NOPERM,
				   "%s: readable by group or others; chmod 600",
				   file);
			return NULL;
		}
		s = at_util_read_file(file, 4096, &n, e);
		if (s == NULL)
			return NULL;
	} else if (env != NULL && *env) {
		s = at_xstrdup(env);
	} else {
		at_err_set(e, EX_CONFIG,
			   "no access token: set AT_KITE_ACCESS_TOKEN or use "
			   "--token-file");
		return NULL;
	}
	n = strlen(s);
	while (n > 0 && (s[n - 1] == '\n' || s[n - 1] == '\r' ||
			 s[n - 1] == ' ' || s[n - 1] == '\t'))
		s[--n] = '\0';
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] <= 0x20 || s[i] == '&' || s[i] == '#' ||
		    (unsigned char)s[i] >= 0x7f) {
			explicit_bzero(s, n);
			free(s);
			at_err_set(e, EX_CONFIG,
				   "access token: unexpected character");
			return NULL;
		}
	if (n == 0) {
		free(s);
		at_err_set(e, EX_CONFIG, "access token is empty");
		return NULL;
	}
	return s;
}

struct opts {
	const char *db, *api_key, *token_file, *ws_url, *api_url;
	const char *fanout, *capture, *replay_file, *instruments_file;
	const char *underlyings;
	int mode, strikes, record, replay, refresh;
	int64_t resub_s, from, to;
	size_t fanout_buf;
	double speed;
	int32_t as_of;
	struct at_feed_tokens tokens;
};

/* ---- refresh ------------------------------------------------------------ */

static int refresh(const struct opts *o, at_err *e)
{
	at_buf body = AT_BUF_INIT;
	at_instruments *in = NULL;
	at_db *db = NULL;
	const char *where;
	char *tok = NULL;
	int rc = -1;

	if (o->instruments_file) {
		size_t n;
		char *d =
		    at_util_read_file(o->instruments_file, 512u << 20, &n, e);
		if (d == NULL)
			return -1;
		at_buf_add(&body, d, n);
		free(d);
		where = o->instruments_file;
	} else {
		const char *key = o->api_key;
		const char *api =
		    o->api_url ? o->api_url : getenv("AT_KITE_API_URL");
		if (key == NULL || *key == '\0')
			return at_err_set(e, EX_CONFIG,
					  "no api key: set AT_KITE_API_KEY or "
					  "use --api-key");
		tok = read_token(o->token_file, e);
		if (tok == NULL)
			return -1;
		curl_global_init(CURL_GLOBAL_DEFAULT);
		rc = at_instruments_fetch(api, key, tok, &body, e);
		explicit_bzero(tok, strlen(tok));
		free(tok);
		if (rc != 0)
			goto out;
		rc = -1;
		where = "instruments";
	}
	in = at_instruments_parse_csv(body.data ? body.data : "", body.len,
				      where, e);
	if (in == NULL)
		goto out;
	db = at_cli_open_ledger(o->db, e);
	if (db == NULL || at_db_act_as_platform(db, e) != 0)
		goto out;
	if (at_instruments_store(db, in, e) != 0)
		goto out;
	printf("{\"instruments\":%zu,\"source\":\"%s\"}\n",
	       at_instruments_count(in),
	       o->instruments_file ? "file" : "broker");
	if (fflush(stdout) != 0) {
		at_err_set(e, EX_IOERR, "stdout: write failed");
		goto out;
	}
	rc = 0;
out:
	at_db_close(db);
	at_instruments_free(in);
	at_buf_release(&body);
	return rc;
}

/* ---- replay ------------------------------------------------------------- */

struct pacer {
	struct out *out;
	double speed;
	int64_t first_ts, start_ns;
	int64_t last_scan_ms;
};

static int pace(int64_t ts, void *ctx)
{
	struct pacer *p = ctx;
	int64_t now = at_util_now_ms();

	if (g_stop)
		return 1;
	if (p->out->fan && now - p->last_scan_ms >= 1000) {
		at_fanout_scan(p->out->fan);
		p->last_scan_ms = now;
	}
	if (p->speed > 0 && ts > 0) {
		int64_t due_ns, now_ns;
		if (p->first_ts == 0) {
			p->first_ts = ts;
			p->start_ns = at_util_mono_ns();
		}
		due_ns = p->start_ns +
			 (int64_t)((double)(ts - p->first_ts) * 1e6 / p->speed);
		now_ns = at_util_mono_ns();
		if (due_ns > now_ns) {
			out_flush(p->out);
			while (!g_stop &&
			       (now_ns = at_util_mono_ns()) < due_ns) {
				int64_t d = due_ns - now_ns;
				struct timespec t;
				if (d > 100000000)
					d = 100000000;
				t.tv_sec = 0;
				t.tv_nsec = (long)d;
				nanosleep(&t, NULL);
			}
		}
	}
	if (p->out->buf.len >= (256u << 10))
		out_flush(p->out);
	return 0;
}

static int replay(const struct opts *o, struct out *out, struct at_feed_sink *s,
		  at_err *e)
{
	struct pacer p = {out, o->speed, 0, 0, 0};
	int rc;

	if (o->replay_file) {
		FILE *f = strcmp(o->replay_file, "-") == 0
			      ? stdin
			      : fopen(o->replay_file, "rb");
		if (f == NULL)
			return at_err_set(e, EX_NOINPUT, "%s: %s",
					  o->replay_file, strerror(errno));
		rc = at_feed_replay_file(
		    f, strcmp(o->replay_file, "-") ? o->replay_file : "<stdin>",
		    s, pace, &p, e);
		if (f != stdin)
			fclose(f);
	} else {
		at_db *db = at_cli_open_ledger(o->db, e);
		if (db == NULL)
			return -1;
		rc = at_db_act_as_platform(db, e);
		if (rc == 0)
			rc = at_feed_replay_ledger(db, s, pace, &p, e);
		at_db_close(db);
	}
	out_flush(out);
	return rc;
}

/* ---- live --------------------------------------------------------------- */

#define PRICES 256

struct live {
	const struct opts *o;
	struct out *out;
	struct at_feed_sink *sink;
	struct {
		uint32_t token;
		double price;
	} px[PRICES];
	int new_price; /* an index got its first price */
	uint64_t conn_ticks[AT_KWS_MAX_CONNS];
	int64_t conn_last[AT_KWS_MAX_CONNS];
};

static int price_of(uint32_t token, double *price, void *ctx)
{
	struct live *l = ctx;
	unsigned h = (unsigned)(token * 2654435761u) % PRICES;

	for (int i = 0; i < PRICES; i++) {
		unsigned k = (h + (unsigned)i) % PRICES;
		if (l->px[k].token == 0)
			return 0;
		if (l->px[k].token == token) {
			*price = l->px[k].price;
			return 1;
		}
	}
	return 0;
}

/* Keep the last price of every index (the ATM of the chains). */
static void remember(const struct at_tick *t, void *ctx)
{
	struct live *l = ctx;
	unsigned h;

	if (!t->is_index)
		return;
	h = (unsigned)(t->instrument_token * 2654435761u) % PRICES;
	for (int i = 0; i < PRICES; i++) {
		unsigned k = (h + (unsigned)i) % PRICES;
		if (l->px[k].token == t->instrument_token) {
			l->px[k].price = t->last_price;
			return;
		}
		if (l->px[k].token == 0) {
			l->px[k].token = t->instrument_token;
			l->px[k].price = t->last_price;
			l->new_price = 1;
			return;
		}
	}
}

static void on_message(int conn, const uint8_t *p, size_t n, int is_text,
		       void *ctx)
{
	struct live *l = ctx;
	struct at_feed_sink *s = l->sink;
	uint64_t before = s->cnt.ticks;
	char where[16];
	int64_t now_us = at_util_now_ms() * 1000;

	if (l->out->cap_fd >= 0)
		at_capture_append(&l->out->cap, now_us, is_text, conn, p, n);
	snprintf(where, sizeof(where), "conn %d", conn);
	(void)at_feed_handle(s, p, n, is_text, now_us / 1000, where,
			     s->cnt.frames);
	if (s->cnt.ticks > before && conn >= 0 && conn < AT_KWS_MAX_CONNS) {
		l->conn_ticks[conn] += s->cnt.ticks - before;
		l->conn_last[conn] = now_us / 1000;
	}
}

static int resubscribe(struct live *l, at_db *db, at_kws *k, at_err *e)
{
	const struct opts *o = l->o;
	struct at_feed_tokens t = {0};
	at_instruments *in = at_instruments_load(db, e);
	const char *under[16];
	char *list = at_xstrdup(o->underlyings), *save = NULL;
	size_t nu = 0;
	int32_t as_of =
	    o->as_of ? o->as_of : at_instruments_ist_date(at_util_now_ms());
	int rc = -1;
	char n[24], left[24];
	size_t out;

	if (in == NULL)
		goto done;
	for (char *p = strtok_r(list, ",", &save); p && nu < 16;
	     p = strtok_r(NULL, ",", &save))
		under[nu++] = p;
	if (at_feed_subscriptions(db, in, under, nu, o->strikes, as_of,
				  price_of, l, &t, e) != 0)
		goto done;
	for (size_t i = 0; i < o->tokens.n; i++)
		at_feed_tokens_add(&t, o->tokens.v[i]);
	at_feed_tokens_finish(&t);
	out = at_kws_set_tokens(k, t.v, t.n);
	snprintf(n, sizeof(n), "%zu", t.n);
	snprintf(left, sizeof(left), "%zu", out);
	at_log(AT_LOG_INFO, "subscriptions", "instruments", n, "left_out", left,
	       NULL);
	rc = 0;
done:
	at_feed_tokens_release(&t);
	at_instruments_free(in);
	free(list);
	return rc;
}

static void log_counters(struct live *l, at_kws *k, at_feed_recorder *rec)
{
	const struct at_feed_counters *c = &l->sink->cnt;
	char v[32][32];
	const char *kv[80];
	int n = 0, i = 0;
	uint64_t reconn = 0, written = 0, dropped = 0, failed = 0;
	struct at_kws_stats st;

#define KV(key, fmt, val)                                                      \
	do {                                                                   \
		snprintf(v[i], sizeof(v[i]), fmt, val);                        \
		kv[n++] = key;                                                 \
		kv[n++] = v[i++];                                              \
	} while (0)
	for (int j = 0; j < AT_KWS_MAX_CONNS; j++) {
		at_kws_stats(k, j, &st);
		reconn += st.reconnects;
	}
	if (rec)
		at_feed_recorder_stats(rec, &written, &dropped, &failed);
	KV("ticks", "%llu", (unsigned long long)c->ticks);
	KV("frames", "%llu", (unsigned long long)c->frames);
	KV("bytes", "%llu", (unsigned long long)c->bytes);
	KV("errors", "%llu", (unsigned long long)c->errors);
	KV("reconnects", "%llu", (unsigned long long)reconn);
	KV("dropped_consumers", "%llu",
	   (unsigned long long)(l->out->fan ? at_fanout_dropped(l->out->fan)
					    : 0));
	KV("recorded", "%llu", (unsigned long long)written);
	KV("record_dropped", "%llu", (unsigned long long)(dropped + failed));
	for (int j = 0; j < at_kws_nconns(k) && j < AT_KWS_MAX_CONNS; j++) {
		static const char *const names[3][5] = {
		    {"conn0_up", "conn0_instruments", "conn0_ticks",
		     "conn0_frames", "conn0_reconnects"},
		    {"conn1_up", "conn1_instruments", "conn1_ticks",
		     "conn1_frames", "conn1_reconnects"},
		    {"conn2_up", "conn2_instruments", "conn2_ticks",
		     "conn2_frames", "conn2_reconnects"}};
		at_kws_stats(k, j, &st);
		KV(names[j][0], "%d", st.up);
		KV(names[j][1], "%zu", st.instruments);
		KV(names[j][2], "%llu", (unsigned long long)l->conn_ticks[j]);
		KV(names[j][3], "%llu", (unsigned long long)st.frames);
		KV(names[j][4], "%llu", (unsigned long long)st.reconnects);
	}
#undef KV
	at_log_kv(AT_LOG_INFO, "counters", kv, (size_t)n);
}

static int live(const struct opts *o, struct out *out, struct at_feed_sink *s,
		at_feed_recorder *rec, at_err *e)
{
	struct live l;
	struct at_kws_opt ko;
	at_kws *k = NULL;
	at_db *db = NULL;
	char *tok = NULL;
	const char *key = o->api_key;
	int64_t next_resub, last_sec = 0;
	int rc = -1;

	memset(&l, 0, sizeof(l));
	l.o = o;
	l.out = out;
	l.sink = s;
	s->on_tick = remember;
	s->on_tick_ctx = &l;
	if (key == NULL || *key == '\0')
		return at_err_set(e, EX_CONFIG,
				  "no api key: set AT_KITE_API_KEY or use "
				  "--api-key");
	tok = read_token(o->token_file, e);
	if (tok == NULL)
		return -1;
	db = at_cli_open_ledger(o->db, e);
	if (db == NULL || at_db_act_as_platform(db, e) != 0)
		goto out;
	memset(&ko, 0, sizeof(ko));
	ko.url = o->ws_url ? o->ws_url : getenv("AT_KITE_WS_URL");
	ko.api_key = key;
	ko.access_token = tok;
	ko.mode = o->mode;
	ko.on_message = on_message;
	ko.ctx = &l;
	k = at_kws_new(&ko, e);
	explicit_bzero(tok, strlen(tok));
	if (k == NULL)
		goto out;
	if (resubscribe(&l, db, k, e) != 0)
		goto out;
	l.new_price = 0;
	next_resub = at_util_now_ms() + o->resub_s * 1000;
	while (!g_stop) {
		int64_t now;

		at_kws_service(k);
		out_burst(out);
		now = at_util_now_ms();
		if (g_hup || now >= next_resub || l.new_price) {
			at_err re = {0, ""};
			if (g_hup)
				at_log(AT_LOG_INFO, "SIGHUP: resubscribing",
				       NULL);
			g_hup = 0;
			l.new_price = 0;
			if (resubscribe(&l, db, k, &re) != 0)
				at_log(AT_LOG_ERROR,
				       "resubscribe failed; keeping the "
				       "current set",
				       "error", re.msg, NULL);
			next_resub = now + o->resub_s * 1000;
		}
		if (now - last_sec >= 1000) {
			last_sec = now;
			if (out->fan)
				at_fanout_scan(out->fan);
			for (int c = 0; c < at_kws_nconns(k); c++) {
				struct at_kws_stats st;
				at_kws_stats(k, c, &st);
				at_feed_recorder_health(rec, c,
							(int)st.instruments,
							l.conn_last[c]);
			}
		}
		if (g_usr1) {
			g_usr1 = 0;
			log_counters(&l, k, rec);
		}
	}
	log_counters(&l, k, rec);
	rc = 0;
out:
	at_kws_free(k);
	at_db_close(db);
	if (tok) {
		explicit_bzero(tok, strlen(tok));
		free(tok);
	}
	return rc;
}

/* ---- main ------------------------------------------------------------- */

int main(int argc, char **argv)
{
	enum {
		O_DB = 256,
		O_KEY,
		O_TOKFILE,
		O_WS,
		O_API,
		O_MODE,
		O_UNDER,
		O_STRIKES,
		O_ASOF,
		O_TOKENS,
		O_RESUB,
		O_FANOUT,
		O_FANBUF,
		O_RECORD,
		O_CAPTURE,
		O_REPLAY,
		O_FROM,
		O_TO,
		O_SPEED,
		O_REFRESH,
		O_INSTFILE,
		O_HELP,
		O_VERSION
	};
	static const struct option lo[] = {
	    {"db", required_argument, NULL, O_DB},
	    {"api-key", required_argument, NULL, O_KEY},
	    {"token-file", required_argument, NULL, O_TOKFILE},
	    {"ws-url", required_argument, NULL, O_WS},
	    {"api-url", required_argument, NULL, O_API},
	    {"mode", required_argument, NULL, O_MODE},
	    {"underlyings", required_argument, NULL, O_UNDER},
	    {"strikes", required_argument, NULL, O_STRIKES},
	    {"as-of", required_argument, NULL, O_ASOF},
	    {"tokens", required_argument, NULL, O_TOKENS},
	    {"resubscribe-every", required_argument, NULL, O_RESUB},
	    {"fanout", required_argument, NULL, O_FANOUT},
	    {"fanout-buffer", required_argument, NULL, O_FANBUF},
	    {"record", no_argument, NULL, O_RECORD},
	    {"capture", required_argument, NULL, O_CAPTURE},
	    {"replay", optional_argument, NULL, O_REPLAY},
	    {"from", required_argument, NULL, O_FROM},
	    {"to", required_argument, NULL, O_TO},
	    {"speed", required_argument, NULL, O_SPEED},
	    {"refresh-instruments", no_argument, NULL, O_REFRESH},
	    {"instruments-file", required_argument, NULL, O_INSTFILE},
	    {"help", no_argument, NULL, O_HELP},
	    {"version", no_argument, NULL, O_VERSION},
	    {NULL, 0, NULL, 0}};
	/* static: options parsed before a usage error stay reachable */
	static struct opts o;
	struct out out;
	struct at_feed_sink sink;
	at_feed_recorder *rec = NULL;
	at_err e = {0, ""};
	struct sigaction sa;
	struct stat st;
	int c, rc = 0;
	int64_t v;
	char *url = NULL;

	at_cli_init(tool);
	memset(&o, 0, sizeof(o));
	o.mode = AT_TICKER_MODE_FULL;
	o.strikes = 10;
	o.resub_s = 60;
	o.fanout_buf = 4u << 20;
	o.underlyings = "NIFTY";
	o.api_key = getenv("AT_KITE_API_KEY");
	while ((c = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		switch (c) {
		case O_DB:
			o.db = optarg;
			break;
		case O_KEY:
			o.api_key = optarg;
			break;
		case O_TOKFILE:
			o.token_file = optarg;
			break;
		case O_WS:
			o.ws_url = optarg;
			break;
		case O_API:
			o.api_url = optarg;
			break;
		case O_MODE:
			if (strcmp(optarg, "ltp") == 0)
				o.mode = AT_TICKER_MODE_LTP;
			else if (strcmp(optarg, "quote") == 0)
				o.mode = AT_TICKER_MODE_QUOTE;
			else if (strcmp(optarg, "full") == 0)
				o.mode = AT_TICKER_MODE_FULL;
			else
				return at_cli_usage_error(
				    tool,
				    "--mode: expected ltp, quote or full");
			break;
		case O_UNDER:
			if (*optarg == '\0')
				return at_cli_usage_error(
				    tool, "--underlyings: empty");
			o.underlyings = optarg;
			break;
		case O_STRIKES:
			if (at_util_parse_i64(optarg, &v) != 0 || v < 0 ||
			    v > 500)
				return at_cli_usage_error(
				    tool, "--strikes: expected 0..500");
			o.strikes = (int)v;
			break;
		case O_ASOF:
			if (at_instruments_parse_date(optarg, strlen(optarg),
						      &o.as_of) != 0)
				return at_cli_usage_error(
				    tool, "--as-of: expected YYYY-MM-DD");
			break;
		case O_TOKENS:
			at_feed_tokens_release(&o.tokens);
			if (parse_tokens(optarg, &o.tokens) != 0)
				return at_cli_usage_error(
				    tool,
				    "--tokens: expected a comma-separated "
				    "list of instrument tokens");
			break;
		case O_RESUB:
			if (at_util_parse_i64(optarg, &v) != 0 || v < 1 ||
			    v > 86400)
				return at_cli_usage_error(
				    tool,
				    "--resubscribe-every: expected 1..86400");
			o.resub_s = v;
			break;
		case O_FANOUT:
			o.fanout = optarg;
			break;
		case O_FANBUF:
			if (at_util_parse_i64(optarg, &v) != 0 || v < 4096 ||
			    v > (1LL << 30))
				return at_cli_usage_error(
				    tool, "--fanout-buffer: expected "
					  "4096..1073741824");
			o.fanout_buf = (size_t)v;
			break;
		case O_RECORD:
			o.record = 1;
			break;
		case O_CAPTURE:
			o.capture = optarg;
			break;
		case O_REPLAY:
			o.replay = 1;
			o.replay_file = optarg;
			break;
		case O_FROM:
			if (parse_time(optarg, &o.from) != 0)
				return at_cli_usage_error(
				    tool, "--from: expected epoch ms or "
					  "YYYY-MM-DD[THH:MM[:SS]]");
			break;
		case O_TO:
			if (parse_time(optarg, &o.to) != 0)
				return at_cli_usage_error(
				    tool, "--to: expected epoch ms or "
					  "YYYY-MM-DD[THH:MM[:SS]]");
			break;
		case O_SPEED: {
			char *end;
			o.speed = strtod(optarg, &end);
			if (*end != '\0' || !(o.speed > 0) ||
			    !isfinite(o.speed))
				return at_cli_usage_error(
				    tool,
				    "--speed: expected a positive number");
			break;
		}
		case O_REFRESH:
			o.refresh = 1;
			break;
		case O_INSTFILE:
			o.instruments_file = optarg;
			break;
		case O_HELP:
			usage(stdout);
			return 0;
		case O_VERSION:
			return at_cli_version(tool);
		default:
			usage(stderr);
			return EX_USAGE;
		}
	}
	if (optind < argc)
		return at_cli_usage_error(tool, "unexpected argument \"%s\"",
					  argv[optind]);
	if (o.refresh && (o.replay || o.record || o.fanout || o.capture))
		return at_cli_usage_error(tool, "--refresh-instruments runs "
						"alone");
	if (o.instruments_file && !o.refresh)
		return at_cli_usage_error(tool, "--instruments-file needs "
						"--refresh-instruments");
	if (!o.replay && (o.from || o.to || o.speed > 0))
		return at_cli_usage_error(tool, "--from, --to and --speed need "
						"--replay");
	if (o.replay && o.capture)
		return at_cli_usage_error(tool, "--capture is for the live "
						"feed");
	if (o.replay && o.record && o.replay_file == NULL)
		return at_cli_usage_error(tool,
					  "--record with --replay from the "
					  "ledger would copy the ledger into "
					  "itself");
	if (o.from && o.to && o.to <= o.from)
		return at_cli_usage_error(tool, "--to must be after --from");

	if (o.refresh) {
		rc = refresh(&o, &e);
		at_feed_tokens_release(&o.tokens);
		return rc == 0 ? 0 : at_cli_fail(tool, &e);
	}

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	sigaction(SIGUSR1, &sa, NULL);

	memset(&out, 0, sizeof(out));
	out.fd = STDOUT_FILENO;
	out.cap_fd = -1;
	out.each = fstat(STDOUT_FILENO, &st) != 0 || !S_ISREG(st.st_mode);
	memset(&sink, 0, sizeof(sink));
	sink.out = &out.buf;
	if (o.tokens.n > 0 && o.replay) {
		sink.tokens = o.tokens.v;
		sink.ntokens = o.tokens.n;
	}
	sink.from_ms = o.from;
	sink.to_ms = o.to;
	if (o.fanout) {
		out.fan = at_fanout_new(o.fanout, o.fanout_buf, &e);
		if (out.fan == NULL) {
			rc = at_cli_fail(tool, &e);
			goto done;
		}
		at_fanout_scan(out.fan);
	}
	if (o.capture) {
		out.cap_fd = open(
		    o.capture, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
		if (out.cap_fd < 0) {
			at_err_set(&e, EX_CANTCREAT, "%s: %s", o.capture,
				   strerror(errno));
			rc = at_cli_fail(tool, &e);
			goto done;
		}
		at_buf_add(&out.cap, AT_CAPTURE_MAGIC, AT_CAPTURE_MAGIC_LEN);
	}
	if (o.record || !o.replay) {
		at_db *db;
		url = at_db_resolve_url(o.db);
		/* check the ledger up front: the thread only logs */
		db = at_cli_open_ledger(url, &e);
		if (db == NULL) {
			rc = at_cli_fail(tool, &e);
			goto done;
		}
		at_db_close(db);
		rec = at_feed_recorder_start(url, o.record, 0, &e);
		if (rec == NULL) {
			rc = at_cli_fail(tool, &e);
			goto done;
		}
		if (o.record)
			sink.rec = rec;
	}
	if (o.replay)
		rc = replay(&o, &out, &sink, &e);
	else
		rc = live(&o, &out, &sink, rec, &e);
	out_flush(&out);
	if (rc != 0)
		rc = at_cli_fail(tool, &e);
	if (rec != NULL) {
		at_err re = {0, ""};
		if (at_feed_recorder_stop(rec, &re) != 0) {
			int r2 = at_cli_fail(tool, &re);
			if (rc == 0)
				rc = r2;
		}
		rec = NULL;
	}
	if (rc == 0 && sink.cnt.errors > 0 && o.replay) {
		char n[24];
		snprintf(n, sizeof(n), "%llu",
			 (unsigned long long)sink.cnt.errors);
		at_log(AT_LOG_WARN, "replay: bad input skipped", "count", n,
		       NULL);
	}
	if (rc == 0 && out.broken == 2)
		rc = EX_IOERR;
done:
	if (rec != NULL) {
		at_err re = {0, ""};
		(void)at_feed_recorder_stop(rec, &re);
	}
	at_fanout_free(out.fan);
	if (out.cap_fd >= 0)
		close(out.cap_fd);
	at_buf_release(&out.cap);
	at_buf_release(&out.buf);
	at_feed_tokens_release(&o.tokens);
	free(url);
	return rc;
}
