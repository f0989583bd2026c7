#include "ticker.h"

#include <endian.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/* Unaligned big-endian loads and stores: memcpy compiles to one mov+bswap. */
static inline uint32_t rd32(const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, 4);
	return be32toh(v);
}

static inline uint16_t rd16(const uint8_t *p)
{
	uint16_t v;

	memcpy(&v, p, 2);
	return be16toh(v);
}

static inline void wr32(uint8_t *p, uint32_t v)
{
	v = htobe32(v);
	memcpy(p, &v, 4);
}

static inline void wr16(uint8_t *p, uint16_t v)
{
	v = htobe16(v);
	memcpy(p, &v, 2);
}

static inline double seg_divisor(uint32_t token)
{
	uint32_t seg = token & 0xff;

	return seg == AT_TICKER_SEG_NSE_CD   ? 10000000.0
	       : seg == AT_TICKER_SEG_BSE_CD ? 10000.0
					     : 100.0;
}

/* Prices are signed int32 ticks (spreads and some futures go negative). */
static inline double price_at(const uint8_t *p, double div)
{
	return (double)(int32_t)rd32(p) / div;
}

double at_ticker_divisor(uint32_t token)
{
	return seg_divisor(token);
}

int at_ticker_is_index(uint32_t token)
{
	return (token & 0xff) == AT_TICKER_SEG_INDICES;
}

const char *at_ticker_mode_name(int mode)
{
	switch (mode) {
	case AT_TICKER_MODE_LTP:
		return "ltp";
	case AT_TICKER_MODE_QUOTE:
		return "quote";
	case AT_TICKER_MODE_FULL:
		return "full";
	}
	return "?";
}

int at_ticker_is_heartbeat(const uint8_t *buf, size_t len)
{
	(void)buf;
	return len == 1;
}

/* Percent change as Kite's JS and Python clients compute it. */
static inline double pct_change(double last, double close)
{
	return close != 0 ? (last - close) * 100 / close : 0;
}

int at_ticker_decode_packet(const uint8_t *p, size_t len, struct at_tick *t)
{
	uint32_t token;
	double div;

	memset(t, 0, sizeof(*t));
	if (len != AT_TICKER_LEN_LTP && len != AT_TICKER_LEN_INDEX_QUOTE &&
	    len != AT_TICKER_LEN_INDEX_FULL && len != AT_TICKER_LEN_QUOTE &&
	    len != AT_TICKER_LEN_FULL)
		return -1;
	token = rd32(p);
	div = seg_divisor(token);
	t->instrument_token = token;
	t->is_index = at_ticker_is_index(token);
	t->tradable = !t->is_index;
	t->last_price = price_at(p + 4, div);
	switch (len) {
	case AT_TICKER_LEN_LTP:
		t->mode = AT_TICKER_MODE_LTP;
		return 0;
	case AT_TICKER_LEN_INDEX_QUOTE:
	case AT_TICKER_LEN_INDEX_FULL:
		t->mode = len == AT_TICKER_LEN_INDEX_FULL
			      ? AT_TICKER_MODE_FULL
			      : AT_TICKER_MODE_QUOTE;
		t->ohlc.high = price_at(p + 8, div);
		t->ohlc.low = price_at(p + 12, div);
		t->ohlc.open = price_at(p + 16, div);
		t->ohlc.close = price_at(p + 20, div);
		t->net_change = price_at(p + 24, div);
		t->change = pct_change(t->last_price, t->ohlc.close);
		if (len == AT_TICKER_LEN_INDEX_FULL)
			t->exchange_timestamp = rd32(p + 28);
		return 0;
	}
	/* tradable quote (44) or full (184) */
	t->last_traded_quantity = rd32(p + 8);
	t->average_traded_price = price_at(p + 12, div);
	t->volume_traded = rd32(p + 16);
	t->total_buy_quantity = rd32(p + 20);
	t->total_sell_quantity = rd32(p + 24);
	t->ohlc.open = price_at(p + 28, div);
	t->ohlc.high = price_at(p + 32, div);
	t->ohlc.low = price_at(p + 36, div);
	t->ohlc.close = price_at(p + 40, div);
	t->change = pct_change(t->last_price, t->ohlc.close);
	if (len == AT_TICKER_LEN_QUOTE) {
		t->mode = AT_TICKER_MODE_QUOTE;
		return 0;
	}
	t->mode = AT_TICKER_MODE_FULL;
	t->last_trade_time = rd32(p + 44);
	t->oi = rd32(p + 48);
	t->oi_day_high = rd32(p + 52);
	t->oi_day_low = rd32(p + 56);
	t->exchange_timestamp = rd32(p + 60);
	for (int i = 0; i < 5; i++) {
		const uint8_t *b = p + 64 + 12 * i, *s = b + 60;

		t->depth.buy[i].quantity = rd32(b);
		t->depth.buy[i].price = price_at(b + 4, div);
		t->depth.buy[i].orders = rd16(b + 8);
		t->depth.sell[i].quantity = rd32(s);
		t->depth.sell[i].price = price_at(s + 4, div);
		t->depth.sell[i].orders = rd16(s + 8);
	}
	return 0;
}

/*
 * Record a frame problem: the first one goes into e, later ones are only
 * counted (and summarised at the end) so one bad frame is one log line.
 */
__attribute__((format(printf, 3, 4))) static void
frame_problem(at_err *e, unsigned *nprob, const char *fmt, ...)
{
	va_list ap;

	if ((*nprob)++ == 0 && e != NULL) {
		e->code = EX_DATAERR;
		va_start(ap, fmt);
		vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
		va_end(ap);
	}
}

int at_ticker_decode_frame(const uint8_t *buf, size_t len, at_ticker_cb cb,
			   void *ctx, at_err *e)
{
	struct at_tick t;
	unsigned count, nprob = 0, i;
	size_t off = 2;
	int n = 0;

	at_err_clear(e);
	if (len == 1)
		return 0; /* heartbeat */
	if (len < 2) {
		frame_problem(e, &nprob, "frame offset 0: empty frame");
		return 0;
	}
	count = rd16(buf);
	for (i = 0; i < count; i++) {
		size_t plen;

		if (len - off < 2) {
			frame_problem(e, &nprob,
				      "frame offset %zu: frame ends before "
				      "packet %u of %u",
				      off, i + 1, count);
			break;
		}
		plen = rd16(buf + off);
		if (len - off - 2 < plen) {
			frame_problem(e, &nprob,
				      "frame offset %zu: packet length %zu "
				      "exceeds frame (%zu bytes left)",
				      off, plen, len - off - 2);
			break;
		}
		if (at_ticker_decode_packet(buf + off + 2, plen, &t) < 0) {
			frame_problem(e, &nprob,
				      "frame offset %zu: unknown packet length "
				      "%zu, packet skipped",
				      off, plen);
		} else {
			n++;
			if (cb != NULL)
				cb(&t, ctx);
		}
		off += 2 + plen;
	}
	if (i == count && off < len)
		frame_problem(e, &nprob,
			      "frame offset %zu: %zu trailing bytes after %u "
			      "packets",
			      off, len - off, count);
	if (nprob > 1 && e != NULL) {
		size_t l = strlen(e->msg);

		snprintf(e->msg + l, sizeof(e->msg) - l, " (and %u more)",
			 nprob - 1);
	}
	return n;
}

/* ---- encoder ---- */

/*
 * Round half away from zero without libm (nearbyint() is a call unless
 * SSE4.1 is enabled).  Callers check the range first.
 */
static inline int64_t round_i64(double v)
{
	return (int64_t)(v >= 0 ? v + 0.5 : v - 0.5);
}

/* Round x to the segment's ticks; -1 when it does not fit an int32. */
static int put_price(uint8_t *p, double x, double div)
{
	double v = x * div;

	if (!(v > -2147483648.5 && v < 2147483647.5))
		return -1;
	wr32(p, (uint32_t)(int32_t)round_i64(v));
	return 0;
}

static int put_time(uint8_t *p, int64_t ts)
{
	if (ts < 0 || ts > (int64_t)UINT32_MAX)
		return -1;
	wr32(p, (uint32_t)ts);
	return 0;
}

size_t at_ticker_encode_packet(const struct at_tick *t, int mode, uint8_t *out,
			       size_t cap)
{
	double div = seg_divisor(t->instrument_token);
	int index = at_ticker_is_index(t->instrument_token);
	size_t n;
	int bad = 0;

	switch (mode) {
	case AT_TICKER_MODE_LTP:
		n = AT_TICKER_LEN_LTP;
		break;
	case AT_TICKER_MODE_QUOTE:
		n = index ? AT_TICKER_LEN_INDEX_QUOTE : AT_TICKER_LEN_QUOTE;
		break;
	case AT_TICKER_MODE_FULL:
		n = index ? AT_TICKER_LEN_INDEX_FULL : AT_TICKER_LEN_FULL;
		break;
	default:
		return 0;
	}
	if (cap < n)
		return 0;
	memset(out, 0, n);
	wr32(out, t->instrument_token);
	bad |= put_price(out + 4, t->last_price, div);
	if (mode == AT_TICKER_MODE_LTP)
		return bad ? 0 : n;
	if (index) {
		bad |= put_price(out + 8, t->ohlc.high, div);
		bad |= put_price(out + 12, t->ohlc.low, div);
		bad |= put_price(out + 16, t->ohlc.open, div);
		bad |= put_price(out + 20, t->ohlc.close, div);
		bad |= put_price(out + 24, t->net_change, div);
		if (mode == AT_TICKER_MODE_FULL)
			bad |= put_time(out + 28, t->exchange_timestamp);
		return bad ? 0 : n;
	}
	wr32(out + 8, t->last_traded_quantity);
	bad |= put_price(out + 12, t->average_traded_price, div);
	wr32(out + 16, t->volume_traded);
	wr32(out + 20, t->total_buy_quantity);
	wr32(out + 24, t->total_sell_quantity);
	bad |= put_price(out + 28, t->ohlc.open, div);
	bad |= put_price(out + 32, t->ohlc.high, div);
	bad |= put_price(out + 36, t->ohlc.low, div);
	bad |= put_price(out + 40, t->ohlc.close, div);
	if (mode == AT_TICKER_MODE_QUOTE)
		return bad ? 0 : n;
	bad |= put_time(out + 44, t->last_trade_time);
	wr32(out + 48, t->oi);
	wr32(out + 52, t->oi_day_high);
	wr32(out + 56, t->oi_day_low);
	bad |= put_time(out + 60, t->exchange_timestamp);
	for (int i = 0; i < 10; i++) {
		const struct at_tick_depth *d =
		    i < 5 ? &t->depth.buy[i] : &t->depth.sell[i - 5];
		uint8_t *q = out + 64 + 12 * i;

		wr32(q, d->quantity);
		bad |= put_price(q + 4, d->price, div);
		wr16(q + 8, d->orders);
	}
	return bad ? 0 : n;
}

void at_ticker_frame_init(struct at_ticker_frame *f, uint8_t *buf, size_t cap)
{
	f->buf = buf;
	f->cap = cap;
	f->len = cap >= 2 ? 2 : 0;
	f->count = 0;
}

static int frame_room(const struct at_ticker_frame *f)
{
	return f->len >= 2 && f->count < 0xffff && f->cap - f->len >= 2;
}

int at_ticker_frame_add(struct at_ticker_frame *f, const struct at_tick *t,
			int mode)
{
	size_t n;

	if (!frame_room(f))
		return -1;
	n = at_ticker_encode_packet(t, mode, f->buf + f->len + 2,
				    f->cap - f->len - 2);
	if (n == 0)
		return -1;
	wr16(f->buf + f->len, (uint16_t)n);
	f->len += 2 + n;
	f->count++;
	return 0;
}

int at_ticker_frame_add_raw(struct at_ticker_frame *f, const void *p, size_t n)
{
	if (!frame_room(f) || n > 0xffff || f->cap - f->len - 2 < n)
		return -1;
	wr16(f->buf + f->len, (uint16_t)n);
	if (n > 0)
		memcpy(f->buf + f->len + 2, p, n);
	f->len += 2 + n;
	f->count++;
	return 0;
}

size_t at_ticker_frame_finish(struct at_ticker_frame *f)
{
	if (f->len < 2)
		return 0;
	wr16(f->buf, (uint16_t)f->count);
	return f->len;
}

/* ---- JSON lines ---- */

static const char digits2[201] = "00010203040506070809"
				 "10111213141516171819"
				 "20212223242526272829"
				 "30313233343536373839"
				 "40414243444546474849"
				 "50515253545556575859"
				 "60616263646566676869"
				 "70717273747576777879"
				 "80818283848586878889"
				 "90919293949596979899";

static const uint64_t pow10_tab[20] = {
    1ull,
    10ull,
    100ull,
    1000ull,
    10000ull,
    100000ull,
    1000000ull,
    10000000ull,
    100000000ull,
    1000000000ull,
    10000000000ull,
    100000000000ull,
    1000000000000ull,
    10000000000000ull,
    100000000000000ull,
    1000000000000000ull,
    10000000000000000ull,
    100000000000000000ull,
    1000000000000000000ull,
    10000000000000000000ull,
};

/* Exactly n digits of v (leading zeros kept) ending just before end. */
static inline void put_digits(char *end, uint64_t v, int n)
{
	while (n >= 2) {
		end -= 2;
		memcpy(end, digits2 + 2 * (v % 100), 2);
		v /= 100;
		n -= 2;
	}
	if (n)
		end[-1] = (char)('0' + v % 10);
}

/* Unsigned decimal: count the digits, then write two per step. */
static char *put_u64(char *p, uint64_t v)
{
	int n = 1;

	while (n < 20 && v >= pow10_tab[n])
		n++;
	put_digits(p + n, v, n);
	return p + n;
}

static char *put_i64(char *p, int64_t v)
{
	if (v < 0) {
		*p++ = '-';
		return put_u64(p, (uint64_t)0 - (uint64_t)v);
	}
	return put_u64(p, (uint64_t)v);
}

/*
 * v / 10^dec as a JSON number without trailing zeros: 2245005,2 ->
 * "22450.05", 157500,2 -> "1575".
 */
static char *put_fixed(char *p, int64_t v, int dec)
{
	uint64_t a, ip, fp;

	if (v < 0) {
		*p++ = '-';
		a = (uint64_t)0 - (uint64_t)v;
	} else {
		a = (uint64_t)v;
	}
	/* constant divisors become multiplications */
	switch (dec) {
	case 2:
		ip = a / 100, fp = a % 100;
		break;
	case 4:
		ip = a / 10000, fp = a % 10000;
		break;
	case 7:
		ip = a / 10000000, fp = a % 10000000;
		break;
	default:
		ip = a / pow10_tab[dec], fp = a % pow10_tab[dec];
		break;
	}
	p = put_u64(p, ip);
	if (fp == 0)
		return p;
	while (fp % 10 == 0) {
		fp /= 10;
		dec--;
	}
	*p++ = '.';
	put_digits(p + dec, fp, dec);
	return p + dec;
}

/* Slow path for values no tick count can hold: still valid JSON. */
static char *put_double_slow(char *p, double x)
{
	if (!isfinite(x)) {
		memcpy(p, "null", 4);
		return p + 4;
	}
	return p + snprintf(p, 32, "%.17g", x);
}

/* x at a precision of 10^-dec (scale = 10^dec). */
static char *put_scaled(char *p, double x, double scale, int dec)
{
	double v = x * scale;

	if (!(v > -9e15 && v < 9e15))
		return put_double_slow(p, x);
	return put_fixed(p, round_i64(v), dec);
}

#define LIT(p, s) (memcpy((p), (s), sizeof(s) - 1), (p) += sizeof(s) - 1)

void at_ticker_tick_json(const struct at_tick *t, at_buf *b)
{
	uint32_t seg = t->instrument_token & 0xff;
	int dec = seg == AT_TICKER_SEG_NSE_CD	? 7
		  : seg == AT_TICKER_SEG_BSE_CD ? 4
						: 2;
	double scale = (double)pow10_tab[dec];
	int full = t->mode == AT_TICKER_MODE_FULL;
	/* layout and flag follow the token, as on the wire */
	int tradable = !at_ticker_is_index(t->instrument_token);
	char *p;

	at_buf_grow(b, AT_TICKER_JSON_MAX);
	p = b->data + b->len;
	LIT(p, "{\"instrument_token\":");
	p = put_u64(p, t->instrument_token);
	switch (t->mode) {
	case AT_TICKER_MODE_QUOTE:
		LIT(p, ",\"mode\":\"quote\"");
		break;
	case AT_TICKER_MODE_FULL:
		LIT(p, ",\"mode\":\"full\"");
		break;
	default:
		LIT(p, ",\"mode\":\"ltp\"");
		break;
	}
	if (tradable)
		LIT(p, ",\"tradable\":true,\"last_price\":");
	else
		LIT(p, ",\"tradable\":false,\"last_price\":");
	p = put_scaled(p, t->last_price, scale, dec);
	if (t->mode != AT_TICKER_MODE_QUOTE && t->mode != AT_TICKER_MODE_FULL)
		goto out;
	if (full && t->exchange_timestamp != 0) {
		LIT(p, ",\"exchange_ts_ms\":");
		p = put_i64(p, t->exchange_timestamp * 1000);
	}
	if (tradable) {
		LIT(p, ",\"last_traded_quantity\":");
		p = put_u64(p, t->last_traded_quantity);
		LIT(p, ",\"average_traded_price\":");
		p = put_scaled(p, t->average_traded_price, scale, dec);
		LIT(p, ",\"volume_traded\":");
		p = put_u64(p, t->volume_traded);
		LIT(p, ",\"total_buy_quantity\":");
		p = put_u64(p, t->total_buy_quantity);
		LIT(p, ",\"total_sell_quantity\":");
		p = put_u64(p, t->total_sell_quantity);
	}
	LIT(p, ",\"ohlc\":{\"open\":");
	p = put_scaled(p, t->ohlc.open, scale, dec);
	LIT(p, ",\"high\":");
	p = put_scaled(p, t->ohlc.high, scale, dec);
	LIT(p, ",\"low\":");
	p = put_scaled(p, t->ohlc.low, scale, dec);
	LIT(p, ",\"close\":");
	p = put_scaled(p, t->ohlc.close, scale, dec);
	LIT(p, "},\"change\":");
	p = put_scaled(p, t->change, 10000.0, 4);
	if (!full || !tradable)
		goto out;
	if (t->last_trade_time != 0) {
		LIT(p, ",\"last_trade_ts_ms\":");
		p = put_i64(p, t->last_trade_time * 1000);
	}
	LIT(p, ",\"oi\":");
	p = put_u64(p, t->oi);
	LIT(p, ",\"oi_day_high\":");
	p = put_u64(p, t->oi_day_high);
	LIT(p, ",\"oi_day_low\":");
	p = put_u64(p, t->oi_day_low);
	LIT(p, ",\"depth\":{\"buy\":[");
	for (int i = 0; i < 10; i++) {
		const struct at_tick_depth *d =
		    i < 5 ? &t->depth.buy[i] : &t->depth.sell[i - 5];

		if (i == 5)
			LIT(p, "],\"sell\":[");
		else if (i > 0)
			*p++ = ',';
		LIT(p, "{\"quantity\":");
		p = put_u64(p, d->quantity);
		LIT(p, ",\"price\":");
		p = put_scaled(p, d->price, scale, dec);
		LIT(p, ",\"orders\":");
		p = put_u64(p, d->orders);
		*p++ = '}';
	}
	LIT(p, "]}");
out:
	*p++ = '}';
	*p++ = '\n';
	*p = '\0';
	b->len = (size_t)(p - b->data);
}

/* ---- text frames ---- */

static size_t skip_ws(const char *s, size_t len, size_t i)
{
	while (i < len &&
	       (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r'))
		i++;
	return i;
}

/* i at the opening quote; returns the index after the closing one, or 0. */
static size_t skip_string(const char *s, size_t len, size_t i)
{
	for (i++; i < len; i++) {
		if (s[i] == '\\')
			i++;
		else if (s[i] == '"')
			return i + 1;
	}
	return 0;
}

/*
 * Skip one JSON value starting at i (not parsed: containers are matched by
 * depth, scalars run to the next delimiter).  Returns the index after it,
 * or 0 when it is unterminated or empty.
 */
static size_t skip_value(const char *s, size_t len, size_t i)
{
	size_t depth = 0;

	if (i >= len)
		return 0;
	if (s[i] == '"')
		return skip_string(s, len, i);
	if (s[i] != '{' && s[i] != '[') {
		size_t st = i;

		while (i < len && !strchr(",}] \t\r\n", s[i]))
			i++;
		return i > st ? i : 0;
	}
	for (; i < len; i++) {
		if (s[i] == '"') {
			i = skip_string(s, len, i);
			if (i == 0)
				return 0;
			i--;
		} else if (s[i] == '{' || s[i] == '[') {
			depth++;
		} else if (s[i] == '}' || s[i] == ']') {
			if (--depth == 0)
				return i + 1;
		}
	}
	return 0;
}

static int span_is(const char *p, size_t n, const char *lit)
{
	return n == strlen(lit) && memcmp(p, lit, n) == 0;
}

int at_ticker_classify_text(const char *s, size_t len,
			    struct at_ticker_text *out, at_err *e)
{
	size_t i = skip_ws(s, len, 0);

	memset(out, 0, sizeof(*out));
	if (i >= len || s[i] != '{')
		return at_err_set(e, EX_DATAERR,
				  "text frame offset %zu: expected '{'", i);
	i = skip_ws(s, len, i + 1);
	if (i < len && s[i] == '}')
		goto done;
	for (;;) {
		size_t k, klen, v, vend;

		if (i >= len || s[i] != '"')
			return at_err_set(e, EX_DATAERR,
					  "text frame offset %zu: expected "
					  "a key",
					  i);
		k = i + 1;
		i = skip_string(s, len, i);
		if (i == 0)
			return at_err_set(e, EX_DATAERR,
					  "text frame offset %zu: "
					  "unterminated key",
					  k - 1);
		klen = i - 1 - k;
		i = skip_ws(s, len, i);
		if (i >= len || s[i] != ':')
			return at_err_set(e, EX_DATAERR,
					  "text frame offset %zu: expected "
					  "':'",
					  i);
		v = skip_ws(s, len, i + 1);
		vend = skip_value(s, len, v);
		if (vend == 0)
			return at_err_set(e, EX_DATAERR,
					  "text frame offset %zu: bad or "
					  "unterminated value",
					  v);
		if (span_is(s + k, klen, "type")) {
			if (s[v] != '"')
				return at_err_set(e, EX_DATAERR,
						  "text frame offset %zu: "
						  "\"type\" is not a string",
						  v);
			out->type = s + v + 1;
			out->type_len = vend - v - 2;
		} else if (span_is(s + k, klen, "data")) {
			out->data = s + v;
			out->data_len = vend - v;
		}
		i = skip_ws(s, len, vend);
		if (i < len && s[i] == ',') {
			i = skip_ws(s, len, i + 1);
			continue;
		}
		if (i < len && s[i] == '}')
			break;
		return at_err_set(e, EX_DATAERR,
				  "text frame offset %zu: expected ',' or '}'",
				  i);
	}
done:
	if (out->type == NULL)
		return at_err_set(e, EX_DATAERR,
				  "text frame offset 0: no \"type\" member");
	if (span_is(out->type, out->type_len, "order"))
		out->kind = AT_TICKER_TEXT_ORDER;
	else if (span_is(out->type, out->type_len, "error"))
		out->kind = AT_TICKER_TEXT_ERROR;
	else if (span_is(out->type, out->type_len, "message"))
		out->kind = AT_TICKER_TEXT_MESSAGE;
	else
		out->kind = AT_TICKER_TEXT_OTHER;
	return 0;
}
