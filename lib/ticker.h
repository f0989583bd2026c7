/*
 * ticker: Kite Connect v3 WebSocket ticker frames, both directions.
 *
 * A binary frame is an int16 packet count, then per packet an int16 length
 * and that many bytes; every integer is big-endian.  A 1-byte frame is a
 * heartbeat.  The packet kind follows from its length, as in Kite's own
 * clients:
 *
 *   8    ltp (any instrument)       token, last_price
 *   28   index quote                token, ltp, high, low, open, close,
 *                                   price change
 *   32   index full                 the 28, then exchange timestamp
 *   44   tradable quote             token, ltp, last traded qty, average
 *                                   traded price, volume, total buy qty,
 *                                   total sell qty, open, high, low, close
 *   184  tradable full              the 44, then last trade time, oi,
 *                                   oi day high, oi day low, exchange
 *                                   timestamp, then 10 depth entries of 12
 *                                   bytes (qty int32, price int32, orders
 *                                   int16, 2 pad): 5 bids, then 5 asks
 *
 * Prices travel as integer ticks; the divisor comes from the segment
 * (token & 0xff): 3 (CDS) 10^7, 6 (BCD) 10^4, otherwise 100.  Segment 9 is
 * the indices segment (not tradable; the encoder uses the index layouts).
 *
 * Decoding allocates nothing: at_ticker_decode_frame() fills one at_tick on
 * the stack and hands it to a callback.  Text frames carry JSON messages
 * (order updates, errors, broker messages); at_ticker_classify_text() finds
 * their "type" and "data" without a JSON library.
 */
#ifndef AT_TICKER_H
#define AT_TICKER_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "err.h"

/* Exchange segments (token & 0xff). */
enum {
	AT_TICKER_SEG_NSE_CM = 1,
	AT_TICKER_SEG_NSE_FO = 2,
	AT_TICKER_SEG_NSE_CD = 3,
	AT_TICKER_SEG_BSE_CM = 4,
	AT_TICKER_SEG_BSE_FO = 5,
	AT_TICKER_SEG_BSE_CD = 6,
	AT_TICKER_SEG_MCX_FO = 7,
	AT_TICKER_SEG_MCX_SX = 8,
	AT_TICKER_SEG_INDICES = 9,
};

enum at_ticker_mode {
	AT_TICKER_MODE_LTP = 0,
	AT_TICKER_MODE_QUOTE = 1,
	AT_TICKER_MODE_FULL = 2,
};

/* Packet lengths on the wire. */
enum {
	AT_TICKER_LEN_LTP = 8,
	AT_TICKER_LEN_INDEX_QUOTE = 28,
	AT_TICKER_LEN_INDEX_FULL = 32,
	AT_TICKER_LEN_QUOTE = 44,
	AT_TICKER_LEN_FULL = 184,
};

/* Longest line at_ticker_tick_json() can write, newline included. */
#define AT_TICKER_JSON_MAX 2048

struct at_tick_depth {
	uint32_t quantity;
	double price;
	uint16_t orders;
};

/*
 * One decoded tick.  Fields a mode does not carry are zero.  Times are
 * epoch seconds (0 when the exchange sent none).
 */
struct at_tick {
	uint32_t instrument_token;
	int mode;     /* enum at_ticker_mode */
	int is_index; /* segment 9 */
	int tradable; /* !is_index */
	double last_price;
	/* tradable quote and full */
	uint32_t last_traded_quantity;
	double average_traded_price;
	uint32_t volume_traded;
	uint32_t total_buy_quantity;
	uint32_t total_sell_quantity;
	/* quote and full, tradable and index */
	struct {
		double open, high, low, close;
	} ohlc;
	/*
	 * Percent change from close, computed as Kite's clients do:
	 * (last_price - close) * 100 / close, 0 when close is 0.
	 */
	double change;
	/* index quote and full only: the packet's own price change field */
	double net_change;
	/* full */
	int64_t last_trade_time;	      /* tradable full only */
	uint32_t oi, oi_day_high, oi_day_low; /* tradable full only */
	int64_t exchange_timestamp;	      /* full, tradable and index */
	struct {
		struct at_tick_depth buy[5], sell[5];
	} depth; /* tradable full only */
};

typedef void (*at_ticker_cb)(const struct at_tick *t, void *ctx);

/* Price divisor of the token's segment: 10^7, 10^4 or 100. */
double at_ticker_divisor(uint32_t token);

/* 1 when the token's segment is the indices segment. */
int at_ticker_is_index(uint32_t token);

/* "ltp", "quote", "full", or "?" for anything else. */
const char *at_ticker_mode_name(int mode);

/* 1 for a heartbeat frame (exactly one byte). */
int at_ticker_is_heartbeat(const uint8_t *buf, size_t len);

/*
 * Decode one packet (without its length prefix).  Returns 0, or -1 when len
 * is not one of the five packet lengths (out is then zeroed).
 */
int at_ticker_decode_packet(const uint8_t *p, size_t len, struct at_tick *out);

/*
 * Decode a binary frame, calling cb once per tick, in order.  Returns the
 * number of ticks delivered (0 for a heartbeat).  e is cleared on entry; on
 * a malformed frame e->code is EX_DATAERR and e->msg names the byte offset
 * of the first problem, e.g. "frame offset 6: packet length 300 exceeds
 * frame (20 bytes left)", with the number of further problems appended.
 * Packets of unknown length are skipped and decoding goes on; a length
 * running past the end of the frame stops it (nothing after it can be
 * trusted).  Ticks decoded before a problem have been delivered.
 */
int at_ticker_decode_frame(const uint8_t *buf, size_t len, at_ticker_cb cb,
			   void *ctx, at_err *e);

/*
 * Encode t as a packet of the given mode into out: the index layouts when
 * t->instrument_token is in segment 9, the tradable ones otherwise.  Prices
 * are rounded to the segment's ticks.  Fields the mode does not carry are
 * ignored; change is not sent (decoders recompute it).  Returns the packet
 * length, or 0 when mode is unknown, cap is too small, or a price or time
 * does not fit the wire's 32 bits.
 */
size_t at_ticker_encode_packet(const struct at_tick *t, int mode, uint8_t *out,
			       size_t cap);

/*
 * Frame builder for the simulator:
 *
 *   struct at_ticker_frame f;
 *   at_ticker_frame_init(&f, buf, sizeof(buf));
 *   at_ticker_frame_add(&f, &tick, AT_TICKER_MODE_FULL) ...;
 *   n = at_ticker_frame_finish(&f);   // send buf[0..n)
 */
struct at_ticker_frame {
	uint8_t *buf;
	size_t cap;
	size_t len;
	unsigned count;
};

void at_ticker_frame_init(struct at_ticker_frame *f, uint8_t *buf, size_t cap);
/* Append an encoded tick.  Returns 0, or -1 (frame unchanged) when full. */
int at_ticker_frame_add(struct at_ticker_frame *f, const struct at_tick *t,
			int mode);
/* Append n raw bytes as one packet (any bytes, e.g. malformed on purpose). */
int at_ticker_frame_add_raw(struct at_ticker_frame *f, const void *p, size_t n);
/* Write the packet count; returns the frame length (0 if cap < 2). */
size_t at_ticker_frame_finish(struct at_ticker_frame *f);

/*
 * Append one compact JSON line (ending in '\n') for t, with Kite's field
 * names and only the fields its mode carries:
 *
 *   instrument_token, mode, tradable, last_price, exchange_ts_ms (full
 *   modes, omitted when 0), last_traded_quantity, average_traded_price,
 *   volume_traded, total_buy_quantity, total_sell_quantity (tradable quote
 *   and full), ohlc {open, high, low, close}, change (quote and full),
 *   last_trade_ts_ms (omitted when 0), oi, oi_day_high, oi_day_low, depth
 *   {buy: [{quantity, price, orders} x5], sell: [...]} (tradable full).
 *
 * Prices are printed exactly at the segment's tick precision with integer
 * arithmetic ("22450.05", "1575"); change is rounded to 4 decimals.
 */
void at_ticker_tick_json(const struct at_tick *t, at_buf *b);

/* Kinds of text (JSON) messages on the ticker socket. */
enum at_ticker_text_kind {
	AT_TICKER_TEXT_OTHER = 0, /* a "type" we do not know */
	AT_TICKER_TEXT_ORDER,	  /* "order": data is the order object */
	AT_TICKER_TEXT_ERROR,	  /* "error": data is a string */
	AT_TICKER_TEXT_MESSAGE,	  /* "message": data is a broker message */
};

/*
 * Spans into the input: type is the raw text between the quotes of the
 * top-level "type" value; data is the raw JSON text of the top-level "data"
 * value (NULL/0 when absent), quotes included for strings.
 */
struct at_ticker_text {
	int kind; /* enum at_ticker_text_kind */
	const char *type;
	size_t type_len;
	const char *data;
	size_t data_len;
};

/*
 * Classify a text frame by scanning its top-level object; nested values
 * are skipped, not parsed.  Returns 0, or -1 with e (EX_DATAERR) naming the
 * byte offset when s is not an object with a string "type".
 */
int at_ticker_classify_text(const char *s, size_t len,
			    struct at_ticker_text *out, at_err *e);

#endif
