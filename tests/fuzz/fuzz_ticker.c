/*
 * fuzz_ticker: untrusted WebSocket frames into lib/ticker.
 *
 * The input is tried three ways: as a binary frame (every tick is written
 * as a JSON line, which must be one bounded line), as a single packet
 * (decode -> encode must give back the same bytes, depth padding aside),
 * and as a text frame (the spans must lie inside the input).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ticker.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_json(const struct at_tick *t, void *ctx)
{
	at_buf *b = ctx;
	size_t before = b->len;

	at_ticker_tick_json(t, b);
	if (b->len - before >= AT_TICKER_JSON_MAX ||
	    b->data[b->len - 1] != '\n' ||
	    memchr(b->data + before, '\n', b->len - before - 1) != NULL ||
	    strstr(b->data + before, "nan") || strstr(b->data + before, "inf"))
		abort();
	b->len = 0;
}

/* A packet whose layout matches its segment must re-encode to itself. */
static void check_roundtrip(const uint8_t *data, size_t size)
{
	struct at_tick t;
	uint8_t out[AT_TICKER_LEN_FULL];
	size_t n;
	int index;

	if (at_ticker_decode_packet(data, size, &t) < 0)
		return;
	index = at_ticker_is_index(t.instrument_token);
	if (size != AT_TICKER_LEN_LTP &&
	    (index != (size == AT_TICKER_LEN_INDEX_QUOTE ||
		       size == AT_TICKER_LEN_INDEX_FULL)))
		return;
	n = at_ticker_encode_packet(&t, t.mode, out, sizeof(out));
	if (n != size)
		abort();
	for (size_t i = 0; i < n; i++) {
		/* bytes 10-11 of each 12-byte depth entry are padding */
		if (n == AT_TICKER_LEN_FULL && i >= 64 && (i - 64) % 12 >= 10)
			continue;
		if (out[i] != data[i])
			abort();
	}
}

static void check_text(const uint8_t *data, size_t size)
{
	const char *s = (const char *)data;
	struct at_ticker_text x;
	at_err e;

	if (at_ticker_classify_text(s, size, &x, &e) < 0) {
		if (e.code != EX_DATAERR || e.msg[0] == '\0')
			abort();
		return;
	}
	if (x.type < s || x.type + x.type_len > s + size)
		abort();
	if (x.data != NULL && (x.data < s || x.data + x.data_len > s + size))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	at_buf b = AT_BUF_INIT;
	at_err e;
	int n;

	n = at_ticker_decode_frame(data, size, check_json, &b, &e);
	if (n < 0 || (e.code != 0 && e.code != EX_DATAERR))
		abort();
	at_buf_release(&b);
	check_roundtrip(data, size);
	check_text(data, size);
	return 0;
}
