/*
 * fuzz_kite: broker answers are untrusted bytes.
 *
 * The input goes through the envelope at several HTTP codes, and its data
 * (when it is one) through every typed parser; through the session parser,
 * the instruments CSV (whole dump, and the line parser with Kite's header)
 * and the trace redactor.  Checks, aborting on a violation:
 *  - the envelope answers 0 with valid data or -1 with a status other than
 *    ok and a one-line message;
 *  - a parser that fails leaves no array behind;
 *  - the redactor never drops a byte of a line without a secret key and
 *    replaces the value after "password=" when the input is exactly that.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "kite.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(c)                                                               \
	do {                                                                   \
		if (!(c)) {                                                    \
			fprintf(stderr,                                        \
				"fuzz_kite: check failed: %s (%s:%d)\n", #c,   \
				__FILE__, __LINE__);                           \
			abort();                                               \
		}                                                              \
	} while (0)

static const char HEADER[] =
    "instrument_token,exchange_token,tradingsymbol,name,last_price,expiry,"
    "strike,tick_size,lot_size,instrument_type,segment,exchange";

static void parsers(jv d)
{
	struct at_kite_order *o;
	struct at_kite_trade *t;
	struct at_kite_holding *h;
	struct at_kite_quote *q;
	struct at_kite_positions p;
	struct at_kite_margins m;
	struct at_kite_profile pr;
	char id[AT_KITE_ID_MAX];
	size_t n;
	at_err e;

	if (at_kite_parse_orders(d, &o, &n, &e) == 0) {
		for (size_t i = 0; i < n; i++)
			CHECK(o[i].order_id[0] != '\0');
		free(o);
	} else {
		CHECK(o == NULL && e.code == EX_DATAERR);
	}
	if (at_kite_parse_trades(d, &t, &n, &e) == 0)
		free(t);
	else
		CHECK(t == NULL);
	if (at_kite_parse_holdings(d, &h, &n, &e) == 0)
		free(h);
	if (at_kite_parse_quotes(d, &q, &n, &e) == 0)
		free(q);
	else
		CHECK(q == NULL);
	if (at_kite_parse_positions(d, &p, &e) == 0)
		at_kite_positions_release(&p);
	else
		CHECK(p.net == NULL && p.day == NULL);
	(void)!at_kite_parse_margins(d, NULL, &m, &e);
	(void)!at_kite_parse_margins(d, "equity", &m, &e);
	(void)!at_kite_parse_profile(d, &pr, &e);
	if (at_kite_parse_order_id(d, id, &e) == 0)
		CHECK(id[0] != '\0' && strlen(id) < AT_KITE_ID_MAX);
}

static void envelope(const char *s, size_t size)
{
	static const long codes[] = {200, 400, 403, 429, 500, 502};
	struct at_kite_error ke;
	at_err e;
	jv d;

	for (size_t i = 0; i < sizeof(codes) / sizeof(codes[0]); i++) {
		int rc = at_kite_envelope(codes[i], s, size, &d, &ke, &e);

		if (rc == 0) {
			CHECK(codes[i] == 200 && jv_is_valid(d));
			CHECK(ke.status == AT_KITE_OK);
			if (i == 0)
				parsers(d);
			jv_free(d);
			continue;
		}
		CHECK(rc == -1 && !jv_is_valid(d));
		CHECK(ke.status != AT_KITE_OK && ke.http == codes[i]);
		CHECK(codes[i] != 429 || ke.status == AT_KITE_RATE_LIMITED);
		CHECK(strchr(ke.message, '\n') == NULL);
		CHECK(strchr(e.msg, '\n') == NULL && e.code != 0);
	}
}

static void csv(const char *s, size_t size)
{
	struct at_kite_instrument *in, one;
	struct at_kite_csv_cols cols;
	size_t n;
	at_err e;

	if (at_kite_parse_instruments(s, size, &in, &n, &e) == 0)
		free(in);
	else
		CHECK(in == NULL);
	CHECK(at_kite_parse_instrument_header(HEADER, strlen(HEADER), &cols,
					      &e) == 0);
	if (at_kite_parse_instrument_line(s, size, &cols, &one, &e) == 0)
		CHECK(one.tradingsymbol[0] != '\0' && one.exchange[0] != '\0');
	if (at_kite_parse_instrument_header(s, size, &cols, &e) == 0)
		CHECK(cols.ncols >= AT_KITE_INSTR_COLS);
}

static void redact(const char *s, size_t size)
{
	at_buf b = AT_BUF_INIT;
	char *pw;

	at_kite_redact(s, size, &b);
	if (memchr(s, '=', size) == NULL && memchr(s, ':', size) == NULL)
		CHECK(b.len == size && memcmp(b.data, s, size) == 0);
	at_buf_release(&b);
	/* "password=" + a value without separators: the value is gone */
	if (size > 0 && size < 200 && memchr(s, '\0', size) == NULL) {
		size_t k;

		for (k = 0; k < size; k++)
			if (strchr("&,;}]) \t\r\n\"'<>", s[k]) != NULL)
				break;
		if (k == size) {
			pw = calloc(1, size + 10);
			memcpy(pw, "password=", 9);
			memcpy(pw + 9, s, size);
			at_kite_redact(pw, size + 9, &b);
			CHECK(strcmp(b.data, "password=[redacted]") == 0);
			at_buf_release(&b);
			free(pw);
		}
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *s = (const char *)data;
	struct at_kite_session ss;
	at_err e;

	envelope(s, size);
	if (at_kite_parse_session(s, size, &ss, &e) == 0)
		CHECK(ss.access_token[0] != '\0');
	csv(s, size);
	redact(s, size);
	return 0;
}
