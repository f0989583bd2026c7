/*
 * feed: what at-feed does with market data besides holding the socket:
 * frames to JSON lines, recording into the ledger, replay sources, health
 * rows, and the subscription set.  The stream shapes are documented in
 * at-streams(5).
 *
 * Lines.  A tick line is lib/ticker's line with "ts_ms" (receive time,
 * epoch ms) added as its last field.  An order update text message
 * {"type":"order","data":{...}} becomes {"type":"order","ts_ms":N,
 * "data":{...}} (data re-encoded compactly).  Other text messages are
 * logged, not written.
 *
 * Bad input (truncated frames, impossible lengths, unknown packet sizes,
 * garbage text, bad replay lines) is logged on stderr with its position
 * (frame offset, line number), counted in errors, and skipped: the stream
 * goes on.
 */
#ifndef AT_FEED_H
#define AT_FEED_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "buf.h"
#include "db.h"
#include "err.h"
#include "instruments.h"
#include "ticker.h"

#define AT_FEED_MUST_CHECK __attribute__((warn_unused_result))

typedef struct at_feed_recorder at_feed_recorder;

struct at_feed_counters {
	uint64_t ticks, frames, bytes, errors, texts;
};

/*
 * Where decoded data goes.  Lines are appended to out.  rec (optional)
 * receives every tick written.  A tick passes the filter when tokens is
 * NULL or holds its token (tokens sorted ascending), and ts_ms lies in
 * [from_ms, to_ms) (0 for an open end).
 */
struct at_feed_sink {
	at_buf *out;
	at_feed_recorder *rec;
	const uint32_t *tokens;
	size_t ntokens;
	int64_t from_ms, to_ms;
	struct at_feed_counters cnt;
	int64_t last_tick_ms; /* receive time of the last tick */
	/* optional: every decoded tick, before the filter (e.g. for the
	 * last prices the subscription set needs) */
	void (*on_tick)(const struct at_tick *t, void *ctx);
	void *on_tick_ctx;
};

/* One tick line (with ts_ms) appended to out. */
void at_feed_tick_line(const struct at_tick *t, int64_t ts_ms, at_buf *out);

/*
 * Handle one WebSocket message (binary frame or text) received at recv_ms.
 * where and offset name it in log lines ("conn 1 frame 12345", or a
 * capture file and the record's offset).  Returns the lines appended.
 */
size_t at_feed_handle(struct at_feed_sink *s, const uint8_t *p, size_t n,
		      int is_text, int64_t recv_ms, const char *where,
		      uint64_t offset);

/* 1 when token passes s's filter. */
int at_feed_want_token(const struct at_feed_sink *s, uint32_t token);

/* ---- recorder and health (a ledger thread) ---------------------------- */

/*
 * Start the ledger thread on its own connection to url (platform scope).
 * record != 0: ticks pushed are written to the ticks table in batches
 * (COPY on PostgreSQL), after at_db_ticks_prepare for their days; the
 * queue holds at most queue_cap rows and a full queue drops (and counts)
 * rather than blocks.  Health rows are written at most once a second.
 */
at_feed_recorder *at_feed_recorder_start(const char *url, int record,
					 size_t queue_cap,
					 at_err *e) AT_FEED_MUST_CHECK;
/* Queue one tick (never blocks on the ledger). */
void at_feed_recorder_push(at_feed_recorder *r, const struct at_tick *t,
			   int64_t ts_ms);
/* The newest health figures of connection conn (0..7); the thread upserts
 * feed_health (conn "HOST/N") at most once a second. */
void at_feed_recorder_health(at_feed_recorder *r, int conn, int instruments,
			     int64_t last_tick_ms);
void at_feed_recorder_stats(at_feed_recorder *r, uint64_t *written,
			    uint64_t *dropped, uint64_t *failed);
/* Write what is queued, stop the thread, close its connection.  Returns
 * -1 with e when the last batch failed. */
int at_feed_recorder_stop(at_feed_recorder *r, at_err *e);

/* ---- replay ------------------------------------------------------------ */

/* Called before each event (line or frame) with its time, so the caller
 * can flush output and pace; a nonzero return stops the replay. */
typedef int (*at_feed_pace_fn)(int64_t ts_ms, void *ctx);

/*
 * Ticks from the ledger in [from_ms, to_ms) (to_ms 0: no end), restricted
 * to s's tokens, in (ts_ms, seq) order, as lines with the recorded fields:
 * instrument_token, mode, tradable, last_price, exchange_ts_ms,
 * volume_traded, oi, bid, ask (each when recorded), ts_ms.  Reads in pages,
 * so a long range does not sit in memory.
 */
int at_feed_replay_ledger(at_db *db, struct at_feed_sink *s,
			  at_feed_pace_fn pace, void *ctx,
			  at_err *e) AT_FEED_MUST_CHECK;

/*
 * A capture file (see capture.h; recognised by its magic) or JSON lines
 * (tick lines and order lines as at-feed writes them) from f.  Capture
 * frames are decoded as live ones; JSON lines are checked (one object
 * with an integer instrument_token or a string type), filtered and copied
 * through.  Returns 0 at end of input, -1 on a read error or when a
 * capture's framing is lost (e names the offset).
 */
int at_feed_replay_file(FILE *f, const char *where, struct at_feed_sink *s,
			at_feed_pace_fn pace, void *ctx,
			at_err *e) AT_FEED_MUST_CHECK;

/* ---- subscriptions ----------------------------------------------------- */

/* The last known price of token (1) or none (0). */
typedef int (*at_feed_price_fn)(uint32_t token, double *price, void *ctx);

/* A growable set of tokens. */
struct at_feed_tokens {
	uint32_t *v;
	size_t n, cap;
};
void at_feed_tokens_add(struct at_feed_tokens *t, uint32_t token);
/* Sort and remove duplicates. */
void at_feed_tokens_finish(struct at_feed_tokens *t);
int at_feed_tokens_has(const struct at_feed_tokens *t, uint32_t token);
void at_feed_tokens_release(struct at_feed_tokens *t);

/*
 * Add an underlying's index and the CE and PE strikes within strikes steps
 * of ATM of the given expiry.  ATM comes from price() of the index, else
 * the master's last_price; with neither, only the index is added.
 * Returns 1 when the chain was added, 0 when only the index was (or the
 * underlying is unknown: nothing added).
 */
int at_feed_chain_around(const at_instruments *in, const char *underlying,
			 int32_t expiry, int strikes, at_feed_price_fn price,
			 void *ctx, struct at_feed_tokens *out);

/*
 * The instruments one strategy needs, from its config JSON (see
 * at-strategy(5)): "instrument" (NIFTY...), "expiry" (current_week,
 * next_week, current_month, next_month), "otm_points" and
 * "hedge_distance" (points; they widen the window); the index plus the
 * chain around ATM, at least strikes steps each side.  This is the one
 * place that maps configs to instruments: refine it here.  Returns -1 with
 * e (EX_DATAERR) when the config names no known instrument or expiry.
 */
int at_feed_strategy_instruments(const at_instruments *in, const char *config,
				 int32_t as_of, int strikes,
				 at_feed_price_fn price, void *ctx,
				 struct at_feed_tokens *out,
				 at_err *e) AT_FEED_MUST_CHECK;

/*
 * The whole subscription set: every running strategy of every tenant
 * (platform scope; a config that resolves to nothing is logged and
 * skipped), plus the advisor's master set: for each of underlyings, its
 * index and the current weekly chain within strikes steps of ATM, plus
 * India VIX.  extra tokens are added as given.  out is finished (sorted).
 */
int at_feed_subscriptions(at_db *db, const at_instruments *in,
			  const char *const *underlyings, size_t nunder,
			  int strikes, int32_t as_of, at_feed_price_fn price,
			  void *ctx, struct at_feed_tokens *out,
			  at_err *e) AT_FEED_MUST_CHECK;

#endif
