/*
 * instruments: Kite's instrument master, parsed strictly, indexed in
 * memory, stored atomically in the ledger.
 */
#include "instruments.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "log.h"
#include "util.h"

#define MAX_ROWS 4000000
#define MAX_FREEZE 64
#define MAX_BODY (256u << 20)

struct freeze {
	char underlying[32];
	int32_t qty;
};

struct at_instruments {
	struct at_instrument *rows;
	size_t n, cap;
	/* open addressing: slot = row index + 1, 0 empty */
	uint32_t *by_token, *by_symbol;
	size_t mask;
	struct freeze freeze[MAX_FREEZE];
	int nfreeze;
};

static const char *const header[] = {
    "instrument_token", "exchange_token",  "tradingsymbol", "name",
    "last_price",	"expiry",	   "strike",	    "tick_size",
    "lot_size",		"instrument_type", "segment",	    "exchange"};
#define NCOLS 12

/* ---- dates ------------------------------------------------------------ */

/* Howard Hinnant's days_from_civil / civil_from_days. */
static int64_t days_from_civil(int y, int m, int d)
{
	y -= m <= 2;
	int64_t era = (y >= 0 ? y : y - 399) / 400;
	int64_t yoe = y - era * 400;
	int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

static int32_t civil_from_days(int64_t z)
{
	z += 719468;
	int64_t era = (z >= 0 ? z : z - 146096) / 146097;
	int64_t doe = z - era * 146097;
	int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	int64_t y = yoe + era * 400;
	int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	int64_t mp = (5 * doy + 2) / 153;
	int64_t d = doy - (153 * mp + 2) / 5 + 1;
	int64_t m = mp + (mp < 10 ? 3 : -9);
	y += m <= 2;
	return (int32_t)(y * 10000 + m * 100 + d);
}

static int days_in_month(int y, int m)
{
	static const int dm[12] = {31, 28, 31, 30, 31, 30,
				   31, 31, 30, 31, 30, 31};
	if (m == 2 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0))
		return 29;
	return dm[m - 1];
}

int at_instruments_parse_date(const char *s, size_t len, int32_t *ymd)
{
	int y, m, d;

	if (len != 10 || s[4] != '-' || s[7] != '-')
		return -1;
	for (size_t i = 0; i < 10; i++)
		if (i != 4 && i != 7 && !isdigit((unsigned char)s[i]))
			return -1;
	y = (s[0] - '0') * 1000 + (s[1] - '0') * 100 + (s[2] - '0') * 10 +
	    (s[3] - '0');
	m = (s[5] - '0') * 10 + (s[6] - '0');
	d = (s[8] - '0') * 10 + (s[9] - '0');
	if (y < 1900 || m < 1 || m > 12 || d < 1 || d > days_in_month(y, m))
		return -1;
	*ymd = y * 10000 + m * 100 + d;
	return 0;
}

void at_instruments_format_date(int32_t ymd, char out[11])
{
	unsigned y = (unsigned)(ymd / 10000) % 10000u;
	unsigned m = (unsigned)(ymd / 100 % 100) % 100u;
	unsigned d = (unsigned)(ymd % 100) % 100u;

	out[0] = (char)('0' + y / 1000);
	out[1] = (char)('0' + y / 100 % 10);
	out[2] = (char)('0' + y / 10 % 10);
	out[3] = (char)('0' + y % 10);
	out[4] = '-';
	out[5] = (char)('0' + m / 10);
	out[6] = (char)('0' + m % 10);
	out[7] = '-';
	out[8] = (char)('0' + d / 10);
	out[9] = (char)('0' + d % 10);
	out[10] = '\0';
}

int32_t at_instruments_ist_date(int64_t ms)
{
	int64_t t = ms + 19800000; /* +05:30 */
	int64_t days = t >= 0 ? t / 86400000 : -((-t + 86399999) / 86400000);
	return civil_from_days(days);
}

int64_t at_instruments_ist_midnight_ms(int32_t ymd)
{
	return days_from_civil(ymd / 10000, ymd / 100 % 100, ymd % 100) *
		   86400000 -
	       19800000;
}

/* ---- index ------------------------------------------------------------ */

static uint64_t hash_bytes(const char *s)
{
	uint64_t h = 1469598103934665603ull; /* FNV-1a */
	for (; *s; s++) {
		h ^= (unsigned char)*s;
		h *= 1099511628211ull;
	}
	return h;
}

static uint64_t hash_token(uint32_t t)
{
	uint64_t h = t * 0x9E3779B97F4A7C15ull;
	return h ^ (h >> 29);
}

static at_instruments *new_index(void)
{
	at_instruments *in = at_xcalloc(1, sizeof(*in));

	at_instruments_set_freeze(in, "NIFTY", 1800);
	at_instruments_set_freeze(in, "BANKNIFTY", 900);
	at_instruments_set_freeze(in, "FINNIFTY", 1800);
	return in;
}

static struct at_instrument *push_row(at_instruments *in)
{
	if (in->n == in->cap) {
		in->cap = in->cap ? in->cap * 2 : 1024;
		in->rows = at_xrealloc(in->rows, in->cap * sizeof(*in->rows));
	}
	memset(&in->rows[in->n], 0, sizeof(in->rows[0]));
	return &in->rows[in->n++];
}

/* Build both hashes; returns the index of a row whose token repeats an
 * earlier one, or -1. */
static long build_hashes(at_instruments *in)
{
	size_t size = 16;

	while (size < in->n * 2)
		size <<= 1;
	free(in->by_token);
	free(in->by_symbol);
	in->by_token = at_xcalloc(size, sizeof(uint32_t));
	in->by_symbol = at_xcalloc(size, sizeof(uint32_t));
	in->mask = size - 1;
	for (size_t i = 0; i < in->n; i++) {
		size_t s = hash_token(in->rows[i].instrument_token) & in->mask;
		while (in->by_token[s] != 0) {
			if (in->rows[in->by_token[s] - 1].instrument_token ==
			    in->rows[i].instrument_token)
				return (long)i;
			s = (s + 1) & in->mask;
		}
		in->by_token[s] = (uint32_t)i + 1;
		s = hash_bytes(in->rows[i].tradingsymbol) & in->mask;
		while (in->by_symbol[s] != 0)
			s = (s + 1) & in->mask;
		in->by_symbol[s] = (uint32_t)i + 1;
	}
	return -1;
}

void at_instruments_free(at_instruments *in)
{
	if (in == NULL)
		return;
	free(in->rows);
	free(in->by_token);
	free(in->by_symbol);
	free(in);
}

size_t at_instruments_count(const at_instruments *in)
{
	return in->n;
}

const struct at_instrument *at_instruments_at(const at_instruments *in,
					      size_t i)
{
	return i < in->n ? &in->rows[i] : NULL;
}

const struct at_instrument *at_instruments_by_token(const at_instruments *in,
						    uint32_t token)
{
	size_t s;

	if (in->by_token == NULL)
		return NULL;
	s = hash_token(token) & in->mask;
	while (in->by_token[s] != 0) {
		const struct at_instrument *r = &in->rows[in->by_token[s] - 1];
		if (r->instrument_token == token)
			return r;
		s = (s + 1) & in->mask;
	}
	return NULL;
}

const struct at_instrument *at_instruments_by_symbol(const at_instruments *in,
						     const char *exchange,
						     const char *tradingsymbol)
{
	const struct at_instrument *best = NULL;
	size_t s;

	if (in->by_symbol == NULL || tradingsymbol == NULL)
		return NULL;
	s = hash_bytes(tradingsymbol) & in->mask;
	/* rows were inserted in order, so probing meets them in order */
	while (in->by_symbol[s] != 0) {
		const struct at_instrument *r = &in->rows[in->by_symbol[s] - 1];
		if (strcmp(r->tradingsymbol, tradingsymbol) == 0 &&
		    (exchange == NULL || strcmp(r->exchange, exchange) == 0)) {
			if (best == NULL || r < best)
				best = r;
		}
		s = (s + 1) & in->mask;
	}
	return best;
}

const struct at_instrument *at_instruments_index_of(const at_instruments *in,
						    const char *underlying)
{
	static const char *const map[][2] = {
	    {"NIFTY", "NIFTY 50"},
	    {"BANKNIFTY", "NIFTY BANK"},
	    {"FINNIFTY", "NIFTY FIN SERVICE"},
	    {"MIDCPNIFTY", "NIFTY MID SELECT"},
	    {"SENSEX", "SENSEX"},
	    {"BANKEX", "BANKEX"},
	    {"INDIA VIX", "INDIA VIX"},
	    {"INDIAVIX", "INDIA VIX"},
	};
	const struct at_instrument *r;

	for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++) {
		if (strcmp(map[i][0], underlying) != 0)
			continue;
		r = at_instruments_by_symbol(in, NULL, map[i][1]);
		if (r != NULL && strcmp(r->segment, "INDICES") == 0)
			return r;
	}
	for (size_t i = 0; i < in->n; i++) {
		r = &in->rows[i];
		if (strcmp(r->segment, "INDICES") == 0 &&
		    (strcmp(r->tradingsymbol, underlying) == 0 ||
		     strcmp(r->name, underlying) == 0))
			return r;
	}
	return NULL;
}

static int is_option(const struct at_instrument *r)
{
	return strcmp(r->instrument_type, "CE") == 0 ||
	       strcmp(r->instrument_type, "PE") == 0;
}

static int chain_cmp(const void *a, const void *b)
{
	const struct at_instrument *x = *(const struct at_instrument *const *)a;
	const struct at_instrument *y = *(const struct at_instrument *const *)b;

	if (x->strike != y->strike)
		return x->strike < y->strike ? -1 : 1;
	return strcmp(x->instrument_type, y->instrument_type);
}

size_t at_instruments_chain(const at_instruments *in, const char *underlying,
			    int32_t expiry, const struct at_instrument **out,
			    size_t cap)
{
	const struct at_instrument **all = NULL;
	size_t n = 0, cap_all = 0;

	for (size_t i = 0; i < in->n; i++) {
		const struct at_instrument *r = &in->rows[i];
		if (r->expiry != expiry || !is_option(r) ||
		    strcmp(r->name, underlying) != 0)
			continue;
		if (n == cap_all) {
			cap_all = cap_all ? cap_all * 2 : 64;
			all = at_xrealloc(all, cap_all * sizeof(*all));
		}
		all[n++] = r;
	}
	if (n > 0)
		qsort(all, n, sizeof(*all), chain_cmp);
	for (size_t i = 0; i < n && i < cap; i++)
		out[i] = all[i];
	free(all);
	return n;
}

static int cmp_i32(const void *a, const void *b)
{
	int32_t x = *(const int32_t *)a, y = *(const int32_t *)b;
	return x < y ? -1 : x > y;
}

/* Distinct expiries of underlying's derivatives >= as_of, sorted;
 * options_only restricts to CE/PE.  Returns the count; *out malloc'd. */
static size_t expiries(const at_instruments *in, const char *underlying,
		       int32_t as_of, int options_only, int32_t **out)
{
	int32_t *v = NULL;
	size_t n = 0, cap = 0, k = 0;

	for (size_t i = 0; i < in->n; i++) {
		const struct at_instrument *r = &in->rows[i];
		if (r->expiry == 0 || r->expiry < as_of ||
		    strcmp(r->name, underlying) != 0)
			continue;
		if (options_only ? !is_option(r)
				 : !(is_option(r) ||
				     strcmp(r->instrument_type, "FUT") == 0))
			continue;
		if (n == cap) {
			cap = cap ? cap * 2 : 64;
			v = at_xrealloc(v, cap * sizeof(*v));
		}
		v[n++] = r->expiry;
	}
	if (n > 0) {
		qsort(v, n, sizeof(*v), cmp_i32);
		for (size_t i = 0; i < n; i++)
			if (k == 0 || v[k - 1] != v[i])
				v[k++] = v[i];
	}
	*out = v;
	return k;
}

int32_t at_instruments_expiry(const at_instruments *in, const char *underlying,
			      int32_t as_of, int kind)
{
	int32_t *opt = NULL, *all = NULL, r = 0;
	size_t nopt = expiries(in, underlying, as_of, 1, &opt);
	size_t nall, seen = 0;

	if (kind == AT_INSTRUMENTS_WEEKLY ||
	    kind == AT_INSTRUMENTS_NEXT_WEEKLY) {
		size_t want = kind == AT_INSTRUMENTS_WEEKLY ? 0 : 1;
		r = want < nopt ? opt[want] : 0;
		free(opt);
		return r;
	}
	nall = expiries(in, underlying, as_of, 0, &all);
	for (size_t i = 0; i < nopt; i++) {
		int last = 1;
		for (size_t j = 0; j < nall; j++)
			if (all[j] / 100 == opt[i] / 100 && all[j] > opt[i])
				last = 0;
		if (!last)
			continue;
		if (seen == (kind == AT_INSTRUMENTS_MONTHLY ? 0u : 1u)) {
			r = opt[i];
			break;
		}
		seen++;
	}
	free(opt);
	free(all);
	return r;
}

double at_instruments_strike_step(const at_instruments *in,
				  const char *underlying, int32_t expiry)
{
	size_t n = at_instruments_chain(in, underlying, expiry, NULL, 0);
	const struct at_instrument **c;
	double step = 0;

	if (n < 2)
		return 0;
	c = at_xcalloc(n, sizeof(*c));
	at_instruments_chain(in, underlying, expiry, c, n);
	for (size_t i = 1; i < n; i++) {
		double d = c[i]->strike - c[i - 1]->strike;
		if (d > 1e-9 && (step == 0 || d < step))
			step = d;
	}
	free(c);
	return step;
}

double at_instruments_atm_strike(double price, double step)
{
	if (!(price > 0) || !(step > 0) || !isfinite(price) || !isfinite(step))
		return 0;
	return floor(price / step + 0.5) * step;
}

int32_t at_instruments_lot_size(const at_instruments *in,
				const char *underlying)
{
	const struct at_instrument *best = NULL;

	for (size_t i = 0; i < in->n; i++) {
		const struct at_instrument *r = &in->rows[i];
		if (r->expiry == 0 || r->lot_size <= 0 ||
		    strcmp(r->name, underlying) != 0)
			continue;
		if (best == NULL || r->expiry < best->expiry)
			best = r;
	}
	return best ? best->lot_size : 0;
}

int32_t at_instruments_freeze_qty(const at_instruments *in,
				  const char *underlying)
{
	for (int i = 0; i < in->nfreeze; i++)
		if (strcmp(in->freeze[i].underlying, underlying) == 0)
			return in->freeze[i].qty;
	return 0;
}

void at_instruments_set_freeze(at_instruments *in, const char *underlying,
			       int32_t qty)
{
	int i;

	for (i = 0; i < in->nfreeze; i++)
		if (strcmp(in->freeze[i].underlying, underlying) == 0)
			break;
	if (i == in->nfreeze) {
		if (in->nfreeze == MAX_FREEZE)
			return;
		in->nfreeze++;
		snprintf(in->freeze[i].underlying,
			 sizeof(in->freeze[i].underlying), "%s", underlying);
	}
	in->freeze[i].qty = qty;
}

/* ---- CSV -------------------------------------------------------------- */

struct field {
	const char *p; /* unquoted content (may point into scratch) */
	size_t len;
	size_t col; /* 1-based byte column where the field starts */
};

static int field_err(at_err *e, const char *where, size_t line, size_t col,
		     const char *name, const char *what)
{
	return at_err_set(e, EX_DATAERR, "%s:%zu:%zu: field \"%s\": %s", where,
			  line, col, name, what);
}

static int parse_u32(const struct field *f, uint32_t *out)
{
	uint64_t v = 0;

	if (f->len == 0 || f->len > 10)
		return -1;
	for (size_t i = 0; i < f->len; i++) {
		if (!isdigit((unsigned char)f->p[i]))
			return -1;
		v = v * 10 + (uint64_t)(f->p[i] - '0');
	}
	if (v > UINT32_MAX)
		return -1;
	*out = (uint32_t)v;
	return 0;
}

/* -?digits[.digits][e[+-]digits], at most 32 bytes. */
static int parse_dec(const struct field *f, int allow_neg, double *out)
{
	char tmp[40];
	size_t i = 0;
	char *end;

	if (f->len == 0 || f->len > 32)
		return -1;
	if (f->p[0] == '-') {
		if (!allow_neg)
			return -1;
		i++;
	}
	if (i >= f->len || !isdigit((unsigned char)f->p[i]))
		return -1;
	while (i < f->len && isdigit((unsigned char)f->p[i]))
		i++;
	if (i < f->len && f->p[i] == '.') {
		i++;
		if (i >= f->len || !isdigit((unsigned char)f->p[i]))
			return -1;
		while (i < f->len && isdigit((unsigned char)f->p[i]))
			i++;
	}
	if (i < f->len && (f->p[i] == 'e' || f->p[i] == 'E')) {
		i++;
		if (i < f->len && (f->p[i] == '+' || f->p[i] == '-'))
			i++;
		if (i >= f->len || !isdigit((unsigned char)f->p[i]))
			return -1;
		while (i < f->len && isdigit((unsigned char)f->p[i]))
			i++;
	}
	if (i != f->len)
		return -1;
	memcpy(tmp, f->p, f->len);
	tmp[f->len] = '\0';
	errno = 0;
	*out = strtod(tmp, &end);
	if (errno != 0 || !isfinite(*out) || *end != '\0')
		return -1;
	if (*out == 0)
		*out = 0; /* no -0 */
	return 0;
}

/* Printable ASCII of at most cap-1 bytes, copied NUL-terminated. */
static int copy_text(const struct field *f, char *dst, size_t cap, int nonempty)
{
	if (f->len >= cap || (nonempty && f->len == 0))
		return -1;
	for (size_t i = 0; i < f->len; i++)
		if ((unsigned char)f->p[i] < 0x20 ||
		    (unsigned char)f->p[i] > 0x7e)
			return -1;
	memcpy(dst, f->p, f->len);
	dst[f->len] = '\0';
	return 0;
}

/* [A-Z0-9-_] identifiers (types, segments, exchanges). */
static int copy_code(const struct field *f, char *dst, size_t cap)
{
	if (copy_text(f, dst, cap, 1) != 0)
		return -1;
	for (size_t i = 0; i < f->len; i++)
		if (!(isupper((unsigned char)f->p[i]) ||
		      isdigit((unsigned char)f->p[i]) || f->p[i] == '-' ||
		      f->p[i] == '_'))
			return -1;
	return 0;
}

/*
 * Split one line (without its terminator) into fields, RFC 4180 quoting
 * ("" inside quotes).  Unquoted content is pointed to in place; quoted
 * content is copied into scratch.  Returns the field count, or -1 with
 * *bad_col set.
 */
static int split_line(const char *s, size_t len, struct field *f, int max,
		      at_buf *scratch, size_t *bad_col, const char **why)
{
	size_t i = 0;
	int n = 0;

	at_buf_reset(scratch);
	at_buf_grow(scratch, len + 1);
	for (;;) {
		if (n == max) {
			*bad_col = i + 1;
			*why = "too many fields";
			return -1;
		}
		f[n].col = i + 1;
		if (i < len && s[i] == '"') {
			size_t start = scratch->len;
			i++;
			for (;;) {
				if (i >= len) {
					*bad_col = f[n].col;
					*why = "unterminated quoted field";
					return -1;
				}
				if (s[i] == '"') {
					if (i + 1 < len && s[i + 1] == '"') {
						scratch->data[scratch->len++] =
						    '"';
						i += 2;
						continue;
					}
					i++;
					break;
				}
				scratch->data[scratch->len++] = s[i++];
			}
			f[n].p = scratch->data + start;
			f[n].len = scratch->len - start;
			if (i < len && s[i] != ',') {
				*bad_col = i + 1;
				*why = "text after a quoted field";
				return -1;
			}
		} else {
			size_t start = i;
			while (i < len && s[i] != ',') {
				if (s[i] == '"') {
					*bad_col = i + 1;
					*why = "quote inside an unquoted field";
					return -1;
				}
				i++;
			}
			f[n].p = s + start;
			f[n].len = i - start;
		}
		n++;
		if (i >= len)
			return n;
		i++; /* the comma */
	}
}

static int parse_row(const struct field *f, struct at_instrument *r,
		     const char *where, size_t line, at_err *e)
{
	uint32_t u;

	if (parse_u32(&f[0], &r->instrument_token) != 0 ||
	    r->instrument_token == 0)
		return field_err(e, where, line, f[0].col, header[0],
				 "expected an integer in 1..4294967295");
	if (parse_u32(&f[1], &r->exchange_token) != 0)
		return field_err(e, where, line, f[1].col, header[1],
				 "expected an integer in 0..4294967295");
	if (copy_text(&f[2], r->tradingsymbol, sizeof(r->tradingsymbol), 1) !=
	    0)
		return field_err(e, where, line, f[2].col, header[2],
				 "expected 1 to 47 printable ascii bytes");
	if (copy_text(&f[3], r->name, sizeof(r->name), 0) != 0)
		return field_err(e, where, line, f[3].col, header[3],
				 "expected at most 63 printable ascii bytes");
	if (parse_dec(&f[4], 1, &r->last_price) != 0)
		return field_err(e, where, line, f[4].col, header[4],
				 "expected a decimal number");
	if (f[5].len == 0)
		r->expiry = 0;
	else if (at_instruments_parse_date(f[5].p, f[5].len, &r->expiry) != 0)
		return field_err(e, where, line, f[5].col, header[5],
				 "expected an empty field or a date "
				 "YYYY-MM-DD");
	if (parse_dec(&f[6], 0, &r->strike) != 0)
		return field_err(e, where, line, f[6].col, header[6],
				 "expected a non-negative decimal number");
	if (parse_dec(&f[7], 0, &r->tick_size) != 0)
		return field_err(e, where, line, f[7].col, header[7],
				 "expected a non-negative decimal number");
	if (parse_u32(&f[8], &u) != 0 || u > INT32_MAX)
		return field_err(e, where, line, f[8].col, header[8],
				 "expected an integer in 0..2147483647");
	r->lot_size = (int32_t)u;
	if (copy_code(&f[9], r->instrument_type, sizeof(r->instrument_type)) !=
	    0)
		return field_err(e, where, line, f[9].col, header[9],
				 "expected 1 to 7 of A-Z 0-9 - _");
	if (copy_code(&f[10], r->segment, sizeof(r->segment)) != 0)
		return field_err(e, where, line, f[10].col, header[10],
				 "expected 1 to 15 of A-Z 0-9 - _");
	if (copy_code(&f[11], r->exchange, sizeof(r->exchange)) != 0)
		return field_err(e, where, line, f[11].col, header[11],
				 "expected 1 to 7 of A-Z 0-9 - _");
	/* old dumps leave name empty on derivatives: the underlying is the
	 * tradingsymbol up to its first digit (BANKNIFTY18JAN23500CE) */
	if (r->name[0] == '\0' &&
	    (is_option(r) || strcmp(r->instrument_type, "FUT") == 0)) {
		size_t k = strcspn(r->tradingsymbol, "0123456789");
		if (k > 0 && k < sizeof(r->name)) {
			memcpy(r->name, r->tradingsymbol, k);
			r->name[k] = '\0';
		}
	}
	return 0;
}

at_instruments *at_instruments_parse_csv(const char *data, size_t len,
					 const char *where, at_err *e)
{
	at_instruments *in = new_index();
	at_buf scratch = AT_BUF_INIT;
	struct field f[NCOLS + 1];
	size_t pos = 0, line = 0;
	long dup;

	if (where == NULL)
		where = "<instruments>";
	while (pos < len) {
		const char *s = data + pos;
		const char *nl = memchr(s, '\n', len - pos);
		size_t l = nl ? (size_t)(nl - s) : len - pos;
		size_t bad_col = 0;
		const char *why = NULL;
		int n;

		line++;
		pos += l + (nl != NULL);
		if (l > 0 && s[l - 1] == '\r')
			l--;
		if (memchr(s, '\0', l) != NULL) {
			at_err_set(
			    e, EX_DATAERR, "%s:%zu:%zu: NUL byte", where, line,
			    (size_t)((const char *)memchr(s, '\0', l) - s) + 1);
			goto fail;
		}
		if (l == 0) {
			at_err_set(e, EX_DATAERR, "%s:%zu:1: empty line", where,
				   line);
			goto fail;
		}
		n = split_line(s, l, f, NCOLS + 1, &scratch, &bad_col, &why);
		if (n < 0) {
			at_err_set(e, EX_DATAERR, "%s:%zu:%zu: %s", where, line,
				   bad_col, why);
			goto fail;
		}
		if (n != NCOLS) {
			at_err_set(e, EX_DATAERR,
				   "%s:%zu:%zu: expected %d fields, got %d",
				   where, line,
				   n > NCOLS ? f[NCOLS].col : l + 1, NCOLS, n);
			goto fail;
		}
		if (line == 1) {
			for (int i = 0; i < NCOLS; i++) {
				if (f[i].len != strlen(header[i]) ||
				    memcmp(f[i].p, header[i], f[i].len) != 0) {
					at_err_set(e, EX_DATAERR,
						   "%s:1:%zu: header: expected "
						   "\"%s\"",
						   where, f[i].col, header[i]);
					goto fail;
				}
			}
			continue;
		}
		if (in->n >= MAX_ROWS) {
			at_err_set(e, EX_DATAERR, "%s:%zu:1: more than %d rows",
				   where, line, MAX_ROWS);
			goto fail;
		}
		if (parse_row(f, push_row(in), where, line, e) != 0)
			goto fail;
	}
	if (line == 0) {
		at_err_set(e, EX_DATAERR, "%s:1:1: empty input (no header)",
			   where);
		goto fail;
	}
	if (in->n == 0) {
		at_err_set(e, EX_DATAERR, "%s:%zu:1: no instruments", where,
			   line + 1);
		goto fail;
	}
	dup = build_hashes(in);
	if (dup >= 0) {
		/* header is line 1; rows are in input order */
		at_err_set(e, EX_DATAERR,
			   "%s:%ld:1: field \"instrument_token\": duplicate "
			   "token %u",
			   where, dup + 2, in->rows[dup].instrument_token);
		goto fail;
	}
	at_buf_release(&scratch);
	return in;
fail:
	at_buf_release(&scratch);
	at_instruments_free(in);
	return NULL;
}

/* ---- ledger ----------------------------------------------------------- */

static const char *const cols[13] = {
    "load_id",	 "instrument_token", "exchange_token",	"tradingsymbol",
    "name",	 "last_price",	     "expiry",		"strike",
    "tick_size", "lot_size",	     "instrument_type", "segment",
    "exchange"};

int at_instruments_store(at_db *db, const at_instruments *in, at_err *e)
{
	static const enum at_db_type ty[13] = {
	    AT_DB_TEXT, AT_DB_INT,  AT_DB_INT,	AT_DB_TEXT, AT_DB_TEXT,
	    AT_DB_REAL, AT_DB_TEXT, AT_DB_REAL, AT_DB_REAL, AT_DB_INT,
	    AT_DB_TEXT, AT_DB_TEXT, AT_DB_TEXT};
	char load_id[37], count[24], now[24];
	const char *p[4] = {load_id, count, now, now};
	at_db_batch *b;
	int64_t got;

	if (in->n == 0)
		return at_err_set(e, EX_DATAERR, "instruments: no rows");
	at_util_uuid4(load_id);
	b = at_db_batch_begin(db, "instruments_load", 13, cols, ty, e);
	if (b == NULL)
		return at_err_prefix(e, "instruments: store");
	for (size_t i = 0; i < in->n; i++) {
		const struct at_instrument *r = &in->rows[i];
		char exp[11];
		struct at_db_val v[13];

		memset(v, 0, sizeof(v));
		if (r->expiry)
			at_instruments_format_date(r->expiry, exp);
		v[0].s = load_id;
		v[1].i = r->instrument_token;
		v[2].i = r->exchange_token;
		v[3].s = r->tradingsymbol;
		v[4].s = r->name;
		v[5].d = r->last_price;
		v[6].s = r->expiry ? exp : NULL;
		v[6].is_null = r->expiry == 0;
		v[7].d = r->strike;
		v[8].d = r->tick_size;
		v[9].i = r->lot_size;
		v[10].s = r->instrument_type;
		v[11].s = r->segment;
		v[12].s = r->exchange;
		if (at_db_batch_add(b, v, e) != 0) {
			at_db_batch_abort(b);
			return at_err_prefix(e, "instruments: store");
		}
	}
	if (at_db_batch_end(b, e) != 0)
		return at_err_prefix(e, "instruments: store");
	snprintf(count, sizeof(count), "%zu", in->n);
	snprintf(now, sizeof(now), "%lld", (long long)at_util_now_ms());
	if (at_db_begin(db, e) != 0)
		goto cleanup;
	if (at_db_exec(db, "DELETE FROM instruments", 0, NULL, e) < 0)
		goto rollback;
	got = at_db_exec(db,
			 "INSERT INTO instruments (instrument_token, "
			 "exchange_token, tradingsymbol, name, last_price, "
			 "expiry, strike, tick_size, lot_size, "
			 "instrument_type, segment, exchange) SELECT "
			 "instrument_token, exchange_token, tradingsymbol, "
			 "name, last_price, expiry, strike, tick_size, "
			 "lot_size, instrument_type, segment, exchange FROM "
			 "instruments_load WHERE load_id = $1",
			 1, p, e);
	if (got < 0)
		goto rollback;
	if ((size_t)got != in->n) {
		at_err_set(e, EX_TEMPFAIL,
			   "instruments: store: staged %zu rows, found %lld",
			   in->n, (long long)got);
		goto rollback;
	}
	if (at_db_exec(db, "DELETE FROM instruments_load WHERE load_id = $1", 1,
		       p, e) < 0)
		goto rollback;
	if (at_db_exec(db,
		       "INSERT INTO platform_state (key, value, updated_ms, "
		       "updated_by) VALUES ('instruments_refreshed_ms', $1, "
		       "CAST($2 AS bigint), 'at-feed') ON CONFLICT (key) DO "
		       "UPDATE SET value = excluded.value, updated_ms = "
		       "excluded.updated_ms, updated_by = excluded.updated_by",
		       2, p + 2, e) < 0)
		goto rollback;
	if (at_db_commit(db, e) != 0)
		goto cleanup;
	return 0;
rollback:
	at_db_rollback(db);
cleanup:
	at_err_prefix(e, "instruments: store");
	{
		at_err e2 = {0, ""};
		if (at_db_exec(db,
			       "DELETE FROM instruments_load WHERE load_id = "
			       "$1",
			       1, p, &e2) < 0)
			at_log(AT_LOG_WARN, "instruments: staging rows left",
			       "load_id", load_id, "error", e2.msg, NULL);
	}
	return -1;
}

at_instruments *at_instruments_load(at_db *db, at_err *e)
{
	at_instruments *in = new_index();
	at_db_res *r;
	long dup;

	r = at_db_query(db,
			"SELECT instrument_token, exchange_token, "
			"tradingsymbol, name, last_price, expiry, strike, "
			"tick_size, lot_size, instrument_type, segment, "
			"exchange FROM instruments ORDER BY instrument_token",
			0, NULL, e);
	if (r == NULL)
		goto fail;
	for (int i = 0; i < at_db_res_rows(r); i++) {
		struct field f[NCOLS];
		for (int c = 0; c < NCOLS; c++) {
			const char *v = at_db_res_get(r, i, c);
			f[c].p = v ? v : "";
			f[c].len = strlen(f[c].p);
			f[c].col = (size_t)c + 1;
		}
		/* SQLite prints reals as "22500.0"; PostgreSQL as "22500" */
		if (parse_row(f, push_row(in), "ledger instruments",
			      (size_t)i + 1, e) != 0) {
			at_db_res_free(r);
			goto fail;
		}
	}
	at_db_res_free(r);
	if (in->n == 0) {
		at_err_set(e, EX_UNAVAILABLE,
			   "ledger has no instruments: run at-feed "
			   "--refresh-instruments");
		goto fail;
	}
	dup = build_hashes(in);
	if (dup >= 0) {
		at_err_set(e, EX_DATAERR,
			   "ledger instruments: duplicate token");
		goto fail;
	}
	r = at_db_query(db, "SELECT underlying, freeze_qty FROM freeze_limits",
			0, NULL, e);
	if (r == NULL)
		goto fail;
	for (int i = 0; i < at_db_res_rows(r); i++) {
		int64_t q;
		const char *u = at_db_res_get(r, i, 0);
		const char *qs = at_db_res_get(r, i, 1);
		if (u != NULL && qs != NULL && at_util_parse_i64(qs, &q) == 0 &&
		    q > 0 && q <= INT32_MAX)
			at_instruments_set_freeze(in, u, (int32_t)q);
	}
	at_db_res_free(r);
	return in;
fail:
	at_instruments_free(in);
	return NULL;
}

/* ---- fetch ------------------------------------------------------------ */

struct sink {
	at_buf *b;
	int over;
};

static size_t on_body(char *p, size_t size, size_t n, void *ctx)
{
	struct sink *s = ctx;
	size_t len = size * n;

	if (s->b->len + len > MAX_BODY) {
		s->over = 1;
		return 0;
	}
	at_buf_add(s->b, p, len);
	return len;
}

int at_instruments_fetch(const char *api_url, const char *api_key,
			 const char *access_token, at_buf *out, at_err *e)
{
	at_buf url = AT_BUF_INIT, auth = AT_BUF_INIT;
	struct curl_slist *h = NULL;
	struct sink s = {out, 0};
	CURL *c;
	CURLcode cc;
	long status = 0;
	int rc = -1;

	if (api_url == NULL || *api_url == '\0')
		api_url = "https://api.kite.trade";
	at_buf_puts(&url, api_url);
	while (url.len > 0 && url.data[url.len - 1] == '/')
		url.data[--url.len] = '\0';
	at_buf_puts(&url, "/instruments");
	at_buf_printf(&auth, "Authorization: token %s:%s", api_key,
		      access_token);
	c = curl_easy_init();
	if (c == NULL) {
		at_err_set(e, EX_SOFTWARE, "instruments: curl init failed");
		goto out;
	}
	h = curl_slist_append(h, "X-Kite-Version: 3");
	h = curl_slist_append(h, auth.data);
	curl_easy_setopt(c, CURLOPT_URL, url.data);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &s);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, 10L);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, 120L);
	curl_easy_setopt(c, CURLOPT_ACCEPT_ENCODING, "");
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
	cc = curl_easy_perform(c);
	if (cc != CURLE_OK) {
		at_err_set(e, EX_UNAVAILABLE, "%s: %s", url.data,
			   s.over ? "response larger than 256 MiB"
				  : curl_easy_strerror(cc));
		goto out;
	}
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
	if (status != 200) {
		at_err_set(e,
			   status == 403		    ? EX_NOPERM
			   : status >= 500 || status == 429 ? EX_UNAVAILABLE
							    : EX_DATAERR,
			   "%s: HTTP %ld", url.data, status);
		goto out;
	}
	rc = 0;
out:
	curl_slist_free_all(h);
	if (c)
		curl_easy_cleanup(c);
	at_buf_wipe_release(&auth);
	at_buf_release(&url);
	return rc;
}
