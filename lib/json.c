#include "json.h"

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <locale.h>
#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

/* ---- shared helpers --------------------------------------------------- */

#define TWO53 9007199254740992.0

const char *at_json_quote(const char *s, size_t n, char out[AT_JSON_QUOTE_MAX])
{
	static const char hex[] = "0123456789abcdef";
	size_t o = 0;

	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (o > 80) {
			memcpy(out + o, "...", 3);
			o += 3;
			break;
		}
		if (c >= 0x20 && c < 0x7f && c != '\\' && c != '"') {
			out[o++] = (char)c;
		} else {
			out[o++] = '\\';
			out[o++] = 'x';
			out[o++] = hex[c >> 4];
			out[o++] = hex[c & 15];
		}
	}
	out[o] = '\0';
	return out;
}

/* Length of the valid UTF-8 sequence at p (n > 0 bytes left), 0 if none. */
static size_t utf8_len(const unsigned char *p, size_t n)
{
	unsigned char c = p[0];

	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf) {
		if (n >= 2 && (p[1] & 0xc0) == 0x80)
			return 2;
		return 0;
	}
	if (c >= 0xe0 && c <= 0xef) {
		unsigned char lo = 0x80, hi = 0xbf;

		if (c == 0xe0)
			lo = 0xa0; /* overlong */
		else if (c == 0xed)
			hi = 0x9f; /* surrogates */
		if (n >= 3 && p[1] >= lo && p[1] <= hi && (p[2] & 0xc0) == 0x80)
			return 3;
		return 0;
	}
	if (c >= 0xf0 && c <= 0xf4) {
		unsigned char lo = 0x80, hi = 0xbf;

		if (c == 0xf0)
			lo = 0x90;
		else if (c == 0xf4)
			hi = 0x8f;
		if (n >= 4 && p[1] >= lo && p[1] <= hi &&
		    (p[2] & 0xc0) == 0x80 && (p[3] & 0xc0) == 0x80)
			return 4;
		return 0;
	}
	return 0;
}

static size_t put_utf8(char *o, uint32_t cp)
{
	if (cp < 0x80) {
		o[0] = (char)cp;
		return 1;
	}
	if (cp < 0x800) {
		o[0] = (char)(0xc0 | (cp >> 6));
		o[1] = (char)(0x80 | (cp & 0x3f));
		return 2;
	}
	if (cp < 0x10000) {
		o[0] = (char)(0xe0 | (cp >> 12));
		o[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
		o[2] = (char)(0x80 | (cp & 0x3f));
		return 3;
	}
	o[0] = (char)(0xf0 | (cp >> 18));
	o[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
	o[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
	o[3] = (char)(0x80 | (cp & 0x3f));
	return 4;
}

/*
 * strtod in the C locale whatever LC_NUMERIC the program set; newlocale is
 * done once.  Falls back to plain strtod if it fails.
 */
static locale_t c_locale;
static pthread_once_t c_locale_once = PTHREAD_ONCE_INIT;

static void c_locale_init(void)
{
	c_locale = newlocale(LC_ALL_MASK, "C", (locale_t)0);
}

static double c_strtod(const char *s, char **end)
{
	pthread_once(&c_locale_once, c_locale_init);
	if (c_locale != (locale_t)0)
		return strtod_l(s, end, c_locale);
	return strtod(s, end);
}

/* ---- libjq layer ------------------------------------------------------ */

__attribute__((format(printf, 3, 4))) static int
jerr(at_err *e, const char *where, const char *fmt, ...)
{
	char msg[AT_ERR_MSG];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (where != NULL)
		return at_err_set(e, EX_DATAERR, "%s: %s", where, msg);
	return at_err_set(e, EX_DATAERR, "%s", msg);
}

const char *at_json_kind_name(jv_kind k)
{
	switch (k) {
	case JV_KIND_NULL:
		return "null";
	case JV_KIND_TRUE:
	case JV_KIND_FALSE:
		return "boolean";
	case JV_KIND_NUMBER:
		return "number";
	case JV_KIND_STRING:
		return "string";
	case JV_KIND_ARRAY:
		return "array";
	case JV_KIND_OBJECT:
		return "object";
	default:
		return "invalid";
	}
}

static size_t fmt_f64(char *out, double v);

/* A number as short text for messages. */
static const char *numtxt(double d, char out[40])
{
	out[fmt_f64(out, d)] = '\0';
	return out;
}

/*
 * libjq 1.6 leaks the string when a string follows a complete value inside
 * an array or object with no separator (["a" "b"], {"a":1 "b":2}): its
 * value() returns the error without freeing the new token.  Such text is
 * never valid JSON, so spot it first and report it the way jq would.
 * Returns the offset of the offending '"', or -1.
 */
static long jq16_leaky(const char *s, size_t len)
{
	int depth = 0, in_str = 0, esc = 0;
	char last = '[';

	for (size_t i = 0; i < len; i++) {
		char c = s[i];

		if (in_str) {
			if (esc)
				esc = 0;
			else if (c == '\\')
				esc = 1;
			else if (c == '"')
				in_str = 0, last = '"';
			continue;
		}
		switch (c) {
		case ' ':
		case '\t':
		case '\n':
		case '\r':
			continue;
		case '"':
			if (depth > 0 && last != '[' && last != '{' &&
			    last != ':' && last != ',')
				return (long)i;
			in_str = 1;
			continue;
		case '[':
		case '{':
			depth++;
			break;
		case ']':
		case '}':
			depth--;
			break;
		}
		last = c;
	}
	return -1;
}

int at_json_parse(const char *s, size_t len, jv *out, const char *where,
		  at_err *e)
{
	char small[512], *copy = small;
	jv v, msg;
	int rc = 0;
	long bad;

	*out = jv_invalid();
	if (len > INT_MAX - 1)
		return jerr(e, where, "invalid json: input too large");
	/* jq 1.6 reads the text as a C string when it reports an error */
	if (len >= sizeof(small))
		copy = at_xmalloc(len + 1);
	memcpy(copy, s, len);
	copy[len] = '\0';
	bad = jq16_leaky(s, len);
	if (bad >= 0) {
		int line = 1;
		long col = bad;

		for (long i = 0; i < bad; i++)
			if (s[i] == '\n')
				line++, col = bad - i - 1;
		rc = jerr(e, where,
			  "invalid json: Expected separator between values at "
			  "line %d, column %ld",
			  line, col + 1);
		goto out;
	}
	v = jv_parse_sized(copy, (int)len);
	if (jv_is_valid(v)) {
		*out = v;
		goto out;
	}
	msg = jv_invalid_get_msg(v);
	if (jv_get_kind(msg) == JV_KIND_STRING) {
		char m[256];
		const char *t = jv_string_value(msg);
		const char *cut = strstr(t, " (while parsing '");
		size_t n = cut ? (size_t)(cut - t) : strlen(t);

		/* the suffix quotes the whole input: drop it */
		if (n >= sizeof(m))
			n = sizeof(m) - 1;
		for (size_t i = 0; i < n; i++)
			m[i] = (unsigned char)t[i] < 0x20 ? '?' : t[i];
		m[n] = '\0';
		rc = jerr(e, where, "invalid json: %s", m);
	} else {
		rc = jerr(e, where, "invalid json");
	}
	jv_free(msg);
out:
	if (copy != small)
		free(copy);
	return rc;
}

/*
 * Fetch field from obj (borrowed) into *val: 1 present, 0 absent/null and
 * optional, -1 error.
 */
static int lookup(jv obj, const char *field, int required, jv *val,
		  const char *where, at_err *e)
{
	jv v;

	if (jv_get_kind(obj) != JV_KIND_OBJECT)
		return jerr(e, where, "expected object, got %s",
			    at_json_kind_name(jv_get_kind(obj)));
	v = jv_object_get(jv_copy(obj), jv_string(field));
	if (!jv_is_valid(v) || jv_get_kind(v) == JV_KIND_NULL) {
		jv_free(v);
		if (required)
			return jerr(e, where, "field \"%s\" is required",
				    field);
		return 0;
	}
	*val = v;
	return 1;
}

static int wrong_type(jv v, const char *field, const char *want,
		      const char *where, at_err *e)
{
	const char *got = at_json_kind_name(jv_get_kind(v));

	jv_free(v);
	return jerr(e, where, "field \"%s\": expected %s, got %s", field, want,
		    got);
}

int at_json_get_str(jv obj, const char *field, int required, char **out,
		    const char *where, at_err *e)
{
	jv v;
	int rc = lookup(obj, field, required, &v, where, e);
	int n;
	const char *s;

	if (rc <= 0)
		return rc;
	if (jv_get_kind(v) != JV_KIND_STRING)
		return wrong_type(v, field, "string", where, e);
	s = jv_string_value(v);
	n = jv_string_length_bytes(jv_copy(v));
	if (memchr(s, '\0', (size_t)n) != NULL) {
		jv_free(v);
		return jerr(e, where, "field \"%s\": string contains nul byte",
			    field);
	}
	*out = at_xstrndup(s, (size_t)n);
	jv_free(v);
	return 1;
}

int at_json_get_i64(jv obj, const char *field, int required, int64_t min,
		    int64_t max, int64_t *out, const char *where, at_err *e)
{
	char t[40];
	jv v;
	int rc = lookup(obj, field, required, &v, where, e);
	double d;
	int64_t i;

	if (rc <= 0)
		return rc;
	if (jv_get_kind(v) != JV_KIND_NUMBER)
		return wrong_type(v, field, "integer", where, e);
	d = jv_number_value(v);
	jv_free(v);
	if (!isfinite(d) || d != floor(d))
		return jerr(e, where, "field \"%s\": expected integer, got %s",
			    field, numtxt(d, t));
	if (d >= 9223372036854775808.0 || d < -9223372036854775808.0)
		goto range;
	i = (int64_t)d;
	if (i < min || i > max)
		goto range;
	*out = i;
	return 1;
range:
	return jerr(e, where,
		    "field \"%s\": %s is out of range [%" PRId64 ", %" PRId64
		    "]",
		    field, numtxt(d, t), min, max);
}

int at_json_get_f64(jv obj, const char *field, int required, double min,
		    double max, double *out, const char *where, at_err *e)
{
	char t[40], a[40], b[40];
	jv v;
	int rc = lookup(obj, field, required, &v, where, e);
	double d;

	if (rc <= 0)
		return rc;
	if (jv_get_kind(v) != JV_KIND_NUMBER)
		return wrong_type(v, field, "number", where, e);
	d = jv_number_value(v);
	jv_free(v);
	if (!isfinite(d))
		return jerr(e, where, "field \"%s\": number is not finite",
			    field);
	if (d < min || d > max)
		return jerr(e, where,
			    "field \"%s\": %s is out of range [%s, %s]", field,
			    numtxt(d, t), numtxt(min, a), numtxt(max, b));
	*out = d;
	return 1;
}

int at_json_get_bool(jv obj, const char *field, int required, int *out,
		     const char *where, at_err *e)
{
	jv v;
	int rc = lookup(obj, field, required, &v, where, e);
	jv_kind k;

	if (rc <= 0)
		return rc;
	k = jv_get_kind(v);
	if (k != JV_KIND_TRUE && k != JV_KIND_FALSE)
		return wrong_type(v, field, "boolean", where, e);
	jv_free(v);
	*out = k == JV_KIND_TRUE;
	return 1;
}

static int get_kind(jv obj, const char *field, int required, jv *out,
		    jv_kind want, const char *where, at_err *e)
{
	jv v;
	int rc = lookup(obj, field, required, &v, where, e);

	if (rc <= 0)
		return rc;
	if (jv_get_kind(v) != want)
		return wrong_type(v, field, at_json_kind_name(want), where, e);
	*out = v;
	return 1;
}

int at_json_get_obj(jv obj, const char *field, int required, jv *out,
		    const char *where, at_err *e)
{
	return get_kind(obj, field, required, out, JV_KIND_OBJECT, where, e);
}

int at_json_get_arr(jv obj, const char *field, int required, jv *out,
		    const char *where, at_err *e)
{
	return get_kind(obj, field, required, out, JV_KIND_ARRAY, where, e);
}

int at_json_check_keys(jv obj, const char *const *allowed, const char *where,
		       at_err *e)
{
	if (jv_get_kind(obj) != JV_KIND_OBJECT)
		return jerr(e, where, "expected object, got %s",
			    at_json_kind_name(jv_get_kind(obj)));
	for (int it = jv_object_iter(obj); jv_object_iter_valid(obj, it);
	     it = jv_object_iter_next(obj, it)) {
		jv k = jv_object_iter_key(obj, it);
		const char *s = jv_string_value(k);
		size_t n = (size_t)jv_string_length_bytes(jv_copy(k));
		int ok = 0;

		for (const char *const *a = allowed; a && *a; a++) {
			if (strlen(*a) == n && memcmp(*a, s, n) == 0) {
				ok = 1;
				break;
			}
		}
		if (!ok) {
			char q[96];

			at_json_quote(s, n, q);
			jv_free(k);
			return jerr(e, where, "unknown field \"%s\"", q);
		}
		jv_free(k);
	}
	return 0;
}

char *at_json_dump(jv v)
{
	jv s;
	char *r;

	if (!jv_is_valid(v)) {
		jv_free(v);
		return NULL;
	}
	s = jv_dump_string(v, 0);
	r = at_xstrdup(jv_string_value(s));
	jv_free(s);
	return r;
}

int at_json_write_line(FILE *f, jv v)
{
	jv s;
	int n, rc = 0;

	if (!jv_is_valid(v)) {
		jv_free(v);
		errno = EINVAL;
		return -1;
	}
	s = jv_dump_string(v, 0);
	n = jv_string_length_bytes(jv_copy(s));
	if (fwrite(jv_string_value(s), 1, (size_t)n, f) != (size_t)n ||
	    putc('\n', f) == EOF)
		rc = -1;
	jv_free(s);
	return rc;
}

/* ---- hot-path encoder ------------------------------------------------- */

/* Room for n more bytes plus the NUL; returns the write position. */
static inline char *reserve(at_buf *b, size_t n)
{
	if (b->len + n + 1 > b->cap)
		at_buf_grow(b, n);
	return b->data + b->len;
}

static inline void commit(at_buf *b, char *end)
{
	b->len = (size_t)(end - b->data);
	b->data[b->len] = '\0';
}

static const char digits2[] = "00010203040506070809"
			      "10111213141516171819"
			      "20212223242526272829"
			      "30313233343536373839"
			      "40414243444546474849"
			      "50515253545556575859"
			      "60616263646566676869"
			      "70717273747576777879"
			      "80818283848586878889"
			      "90919293949596979899";

static const uint32_t pow10u32[] = {
    1, 10, 100, 1000, 10000, 100000, 1000000, 10000000, 100000000, 1000000000};

/* Exactly eight digits of v < 10^8 at o (two independent halves). */
static inline void put_8(char *o, uint32_t v)
{
	uint32_t hi = v / 10000, lo = v % 10000;

	memcpy(o, digits2 + 2 * (hi / 100), 2);
	memcpy(o + 2, digits2 + 2 * (hi % 100), 2);
	memcpy(o + 4, digits2 + 2 * (lo / 100), 2);
	memcpy(o + 6, digits2 + 2 * (lo % 100), 2);
}

/* Decimal digits of u at o, written back to front; returns the count. */
static inline size_t put_u32(char *o, uint32_t u)
{
	size_t n, i;

	n = 1;
	while (n < 10 && u >= pow10u32[n])
		n++;
	i = n;
	while (u >= 100) {
		uint32_t r = u % 100;

		u /= 100;
		i -= 2;
		memcpy(o + i, digits2 + 2 * r, 2);
	}
	if (u >= 10)
		memcpy(o, digits2 + 2 * u, 2);
	else
		o[0] = (char)('0' + u);
	return n;
}

/* Decimal digits of u at o; returns the count (at most 20). */
static inline size_t put_u64(char *o, uint64_t u)
{
	size_t n;

	if (u <= UINT32_MAX)
		return put_u32(o, (uint32_t)u);
	if (u < 10000000000000000ULL) {
		n = put_u32(o, (uint32_t)(u / 100000000));
		put_8(o + n, (uint32_t)(u % 100000000));
		return n + 8;
	}
	n = put_u32(o, (uint32_t)(u / 10000000000000000ULL));
	u %= 10000000000000000ULL;
	put_8(o + n, (uint32_t)(u / 100000000));
	put_8(o + n + 8, (uint32_t)(u % 100000000));
	return n + 16;
}

static size_t put_i64(char *o, int64_t v)
{
	if (v < 0) {
		*o = '-';
		return 1 + put_u64(o + 1, (uint64_t)0 - (uint64_t)v);
	}
	return put_u64(o, (uint64_t)v);
}

static const double pow10d[] = {1e0,  1e1,  1e2,  1e3,	1e4,  1e5,  1e6,  1e7,
				1e8,  1e9,  1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
				1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};
static const uint64_t pow10u[] = {1,	  10,	   100,	     1000,     10000,
				  100000, 1000000, 10000000, 100000000};

/* r / 10^k with k fraction digits, trailing zeros dropped, at o. */
static inline char *put_fixed(char *o, uint64_t r, int k)
{
	uint64_t ip, fp;

	/* constant divisors compile to multiplications */
	if (k == 8) {
		ip = r / 100000000;
		fp = r % 100000000;
	} else {
		ip = r / pow10u[k];
		fp = (r % pow10u[k]) * pow10u[8 - k];
	}
	o += put_u64(o, ip);
	if (fp == 0)
		return o;
	/* all eight fraction digits, then drop the trailing zeros */
	*o = '.';
	put_8(o + 1, (uint32_t)fp);
	o += 8;
	while (*o == '0')
		o--;
	return o + 1;
}

/*
 * Text of a double into out (at least 32 bytes), not NUL-terminated;
 * returns the length.  With r the nearest integer to v * 10^k: when
 * r / 10^k gives v back exactly, the decimal r * 10^-k reads back as v
 * (strtod rounds correctly), so it is printed with integer arithmetic.
 * Below 2^50 / 10^8, k = 8 alone finds the shortest such decimal: any
 * shorter q / 10^j that reads back as v is within 0.16 of v * 10^8 after
 * scaling, so r = q * 10^(8-j) and only trailing zeros differ.  Larger
 * values try k = 0..8 in turn.  Else the shortest round-tripping %g.
 */
static size_t fmt_f64(char *out, double v)
{
	char *o = out;
	char t[40];
	double s;
	uint64_t r;

	if (!isfinite(v)) {
		memcpy(out, "null", 4);
		return 4;
	}
	if (signbit(v)) {
		*o++ = '-';
		v = -v;
	}
	s = v * 1e8;
	if (s < 1125899906842624.0) { /* 2^50 */
		r = (uint64_t)s;
		if (s - (double)r >= 0.5)
			r++;
		if ((double)r / 1e8 == v)
			return (size_t)(put_fixed(o, r, 8) - out);
	} else if (v < TWO53) {
		for (int k = 0; k <= 8; k++) {
			s = v * pow10d[k];
			if (s >= TWO53)
				break;
			r = (uint64_t)s;
			if (s - (double)r >= 0.5)
				r++;
			if ((double)r / pow10d[k] == v)
				return (size_t)(put_fixed(o, r, k) - out);
		}
	}
	for (int prec = 15; prec <= 17; prec++) {
		snprintf(t, sizeof(t), "%.*g", prec, v);
		/* a locale may have printed ',' as the decimal point */
		for (char *p = t; *p; p++)
			if (*p != 'e' && *p != '-' && *p != '+' &&
			    (*p < '0' || *p > '9'))
				*p = '.';
		if (prec == 17 || c_strtod(t, NULL) == v)
			break;
	}
	memcpy(o, t, strlen(t));
	return (size_t)(o - out) + strlen(t);
}

/*
 * Byte classes for escaping: 0 copy, 1 escape, 2 start of a multi-byte
 * (or invalid) UTF-8 sequence.
 */
/* clang-format off */
static const unsigned char esc_class[256] = {
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, /* 0x00 */
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, /* 0x10 */
	0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, /* 0x20 " */
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, /* 0x30 */
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, /* 0x40 */
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, /* 0x50 \ */
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, /* 0x60 */
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, /* 0x70 */
	2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, /* 0x80 */
	2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, /* 0x90 */
	2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, /* 0xa0 */
	2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, /* 0xb0 */
	2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, /* 0xc0 */
	2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, /* 0xd0 */
	2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, /* 0xe0 */
	2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, /* 0xf0 */
};
/* clang-format on */

/* Escaped, quoted s at o (room for 6 * len + 2); returns the end. */
static char *put_str(char *o, const char *s, size_t len)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *p = (const unsigned char *)s;
	const unsigned char *end = p + len;

	*o++ = '"';
	while (p < end) {
		unsigned char c = *p;
		size_t n;

		switch (esc_class[c]) {
		case 0:
			*o++ = (char)c;
			p++;
			break;
		case 1:
			*o++ = '\\';
			switch (c) {
			case '"':
			case '\\':
				*o++ = (char)c;
				break;
			case '\b':
				*o++ = 'b';
				break;
			case '\f':
				*o++ = 'f';
				break;
			case '\n':
				*o++ = 'n';
				break;
			case '\r':
				*o++ = 'r';
				break;
			case '\t':
				*o++ = 't';
				break;
			default:
				memcpy(o, "u00", 3);
				o[3] = hex[c >> 4];
				o[4] = hex[c & 15];
				o += 5;
			}
			p++;
			break;
		default:
			n = utf8_len(p, (size_t)(end - p));
			if (n == 0) {
				memcpy(o, "\xef\xbf\xbd", 3); /* U+FFFD */
				o += 3;
				p++;
			} else {
				memcpy(o, p, n);
				o += n;
				p += n;
			}
		}
	}
	*o++ = '"';
	return o;
}

static size_t esc_room(size_t len)
{
	if (len > (SIZE_MAX - 64) / 6)
		abort(); /* cannot be allocated anyway */
	return 6 * len + 2;
}

/*
 * Comma if needed, the quoted key and ':'; reserves extra more bytes.
 * Keys are nearly always short plain ASCII: copy those in one pass
 * (no strlen), else escape in full.
 */
static char *put_key(at_buf *b, const char *key, size_t extra)
{
	const unsigned char *k = (const unsigned char *)key;
	char *o = reserve(b, 64 + 4 + extra), *lim = o + 64;
	size_t kl;

	if (b->len > 0 && o[-1] != '{')
		*o++ = ',';
	*o++ = '"';
	while (o < lim && esc_class[*k] == 0)
		*o++ = (char)*k++;
	if (*k == '\0') {
		*o++ = '"';
		*o++ = ':';
		return o;
	}
	kl = strlen(key);
	o = reserve(b, 1 + esc_room(kl) + 1 + extra);
	if (b->len > 0 && o[-1] != '{')
		*o++ = ',';
	o = put_str(o, key, kl);
	*o++ = ':';
	return o;
}

void at_json_enc_begin(at_buf *b)
{
	at_buf_putc(b, '{');
}

void at_json_enc_end(at_buf *b)
{
	at_buf_putc(b, '}');
}

void at_json_enc_key_obj(at_buf *b, const char *key)
{
	char *o = put_key(b, key, 1);

	*o++ = '{';
	commit(b, o);
}

void at_json_enc_str(at_buf *b, const char *s, size_t len)
{
	commit(b, put_str(reserve(b, esc_room(len)), s, len));
}

void at_json_enc_f64(at_buf *b, double v)
{
	char *o = reserve(b, 40);

	commit(b, o + fmt_f64(o, v));
}

void at_json_enc_key_strn(at_buf *b, const char *key, const char *val,
			  size_t len)
{
	char *o = put_key(b, key, esc_room(len));

	commit(b, put_str(o, val, len));
}

void at_json_enc_key_str(at_buf *b, const char *key, const char *val)
{
	if (val == NULL)
		at_json_enc_key_null(b, key);
	else
		at_json_enc_key_strn(b, key, val, strlen(val));
}

void at_json_enc_key_i64(at_buf *b, const char *key, int64_t val)
{
	char *o = put_key(b, key, 21);

	commit(b, o + put_i64(o, val));
}

void at_json_enc_key_f64(at_buf *b, const char *key, double val)
{
	char *o = put_key(b, key, 40);

	commit(b, o + fmt_f64(o, val));
}

void at_json_enc_key_bool(at_buf *b, const char *key, int val)
{
	char *o = put_key(b, key, 5);

	if (val) {
		memcpy(o, "true", 4);
		o += 4;
	} else {
		memcpy(o, "false", 5);
		o += 5;
	}
	commit(b, o);
}

void at_json_enc_key_null(at_buf *b, const char *key)
{
	char *o = put_key(b, key, 4);

	memcpy(o, "null", 4);
	commit(b, o + 4);
}

void at_json_enc_key_rawn(at_buf *b, const char *key, const char *raw,
			  size_t len)
{
	char *o = put_key(b, key, len);

	memcpy(o, raw, len);
	commit(b, o + len);
}

void at_json_enc_key_raw(at_buf *b, const char *key, const char *raw)
{
	at_json_enc_key_rawn(b, key, raw, strlen(raw));
}

/* ---- flat-object decoder ---------------------------------------------- */

#define FLAT_DEPTH 32

struct ps {
	const unsigned char *s;
	size_t n, i;
	at_err *e;
};

__attribute__((format(printf, 3, 4))) static int perr(struct ps *p, size_t off,
						      const char *fmt, ...)
{
	char msg[AT_ERR_MSG];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return at_err_set(p->e, EX_DATAERR, "offset %zu: %s", off, msg);
}

static inline void skip_ws(struct ps *p)
{
	while (p->i < p->n) {
		unsigned char c = p->s[p->i];

		if (c != ' ' && c != '\t' && c != '\n' && c != '\r')
			break;
		p->i++;
	}
}

static int expected(struct ps *p, const char *what)
{
	if (p->i >= p->n)
		return perr(p, p->i, "expected %s, got end of input", what);
	return perr(p, p->i, "expected %s", what);
}

static int hex4(const unsigned char *s, uint32_t *out)
{
	uint32_t v = 0;

	for (int k = 0; k < 4; k++) {
		unsigned char c = s[k];

		v <<= 4;
		if (c >= '0' && c <= '9')
			v |= (uint32_t)(c - '0');
		else if (c >= 'a' && c <= 'f')
			v |= (uint32_t)(c - 'a' + 10);
		else if (c >= 'A' && c <= 'F')
			v |= (uint32_t)(c - 'A' + 10);
		else
			return -1;
	}
	*out = v;
	return 0;
}

/* Byte classes inside strings: 0 plain, 1 '"', 2 '\\', 3 control, 4 high. */
/* clang-format off */
static const unsigned char str_class[256] = {
	3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, /* 0x00 */
	3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, /* 0x10 */
	0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, /* 0x20 */
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, /* 0x30 */
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, /* 0x40 */
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2, 0, 0, 0, /* 0x50 */
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, /* 0x60 */
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, /* 0x70 */
	4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, /* 0x80 */
	4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, /* 0x90 */
	4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, /* 0xa0 */
	4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, /* 0xb0 */
	4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, /* 0xc0 */
	4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, /* 0xd0 */
	4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, /* 0xe0 */
	4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, /* 0xf0 */
};
/* clang-format on */

/* A string starting at the '"' at p->i; *esc set when it has escapes. */
static int scan_string(struct ps *p, int *esc)
{
	const unsigned char *s = p->s;
	size_t n = p->n, i = p->i + 1, start = p->i;
	uint32_t cp, lo;
	size_t u;

	*esc = 0;
	for (;;) {
		while (i < n && str_class[s[i]] == 0)
			i++;
		if (i >= n)
			return perr(p, start, "unterminated string");
		switch (str_class[s[i]]) {
		case 1:
			p->i = i + 1;
			return 0;
		case 3:
			return perr(p, i, "control character in string");
		case 4:
			u = utf8_len(s + i, n - i);
			if (u == 0)
				return perr(p, i, "invalid utf-8 in string");
			i += u;
			continue;
		}
		/* backslash */
		*esc = 1;
		if (i + 1 >= n)
			return perr(p, start, "unterminated string");
		switch (s[i + 1]) {
		case '"':
		case '\\':
		case '/':
		case 'b':
		case 'f':
		case 'n':
		case 'r':
		case 't':
			i += 2;
			continue;
		case 'u':
			break;
		default:
			return perr(p, i, "invalid escape in string");
		}
		if (n - i < 6 || hex4(s + i + 2, &cp) < 0)
			return perr(p, i, "invalid \\u escape in string");
		if (cp >= 0xdc00 && cp <= 0xdfff)
			return perr(p, i, "lone surrogate in string");
		if (cp >= 0xd800 && cp <= 0xdbff) {
			if (n - i < 12 || s[i + 6] != '\\' || s[i + 7] != 'u' ||
			    hex4(s + i + 8, &lo) < 0 || lo < 0xdc00 ||
			    lo > 0xdfff)
				return perr(p, i, "lone surrogate in string");
			i += 6;
		}
		i += 6;
	}
}

static inline int is_digit(unsigned char c)
{
	return c >= '0' && c <= '9';
}

/* A number at p->i; *is_int set when it has no fraction or exponent. */
static int scan_number(struct ps *p, int *is_int)
{
	const unsigned char *s = p->s;
	size_t n = p->n, i = p->i, start = p->i;

	*is_int = 1;
	if (i < n && s[i] == '-')
		i++;
	if (i >= n || !is_digit(s[i]))
		return perr(p, start, "invalid number");
	if (s[i] == '0') {
		i++;
		if (i < n && is_digit(s[i]))
			return perr(p, start, "invalid number (leading zero)");
	} else {
		while (i < n && is_digit(s[i]))
			i++;
	}
	if (i < n && s[i] == '.') {
		*is_int = 0;
		i++;
		if (i >= n || !is_digit(s[i]))
			return perr(p, start, "invalid number");
		while (i < n && is_digit(s[i]))
			i++;
	}
	if (i < n && (s[i] == 'e' || s[i] == 'E')) {
		*is_int = 0;
		i++;
		if (i < n && (s[i] == '+' || s[i] == '-'))
			i++;
		if (i >= n || !is_digit(s[i]))
			return perr(p, start, "invalid number");
		while (i < n && is_digit(s[i]))
			i++;
	}
	/* "1x", "0x1f", "1true": a number must end at a delimiter */
	if (i < n &&
	    (s[i] == '.' || s[i] == 'e' || s[i] == 'E' || s[i] == '+' ||
	     s[i] == '-' || s[i] == '_' || (s[i] >= 'a' && s[i] <= 'z') ||
	     (s[i] >= 'A' && s[i] <= 'Z') || is_digit(s[i])))
		return perr(p, start, "invalid number");
	p->i = i;
	return 0;
}

static int scan_literal(struct ps *p, enum at_json_type *t)
{
	const unsigned char *s = p->s + p->i;
	size_t left = p->n - p->i;

	if (left >= 4 && memcmp(s, "true", 4) == 0) {
		*t = AT_JSON_TRUE;
		p->i += 4;
	} else if (left >= 5 && memcmp(s, "false", 5) == 0) {
		*t = AT_JSON_FALSE;
		p->i += 5;
	} else if (left >= 4 && memcmp(s, "null", 4) == 0) {
		*t = AT_JSON_NULL;
		p->i += 4;
	} else {
		return expected(p, "value");
	}
	if (p->i < p->n && ((p->s[p->i] >= 'a' && p->s[p->i] <= 'z') ||
			    (p->s[p->i] >= 'A' && p->s[p->i] <= 'Z') ||
			    is_digit(p->s[p->i]) || p->s[p->i] == '_'))
		return perr(p, p->i, "invalid literal");
	return 0;
}

static int scan_value(struct ps *p, int depth, enum at_json_type *t, int *flag);

/* A nested object or array starting at p->i, validated and skipped. */
static int scan_nested(struct ps *p, int depth)
{
	unsigned char open = p->s[p->i];
	unsigned char close = open == '{' ? '}' : ']';
	enum at_json_type t;
	int flag;

	if (depth > FLAT_DEPTH)
		return perr(p, p->i, "nesting deeper than %d", FLAT_DEPTH);
	p->i++;
	skip_ws(p);
	if (p->i < p->n && p->s[p->i] == close) {
		p->i++;
		return 0;
	}
	for (;;) {
		skip_ws(p);
		if (open == '{') {
			if (p->i >= p->n || p->s[p->i] != '"')
				return expected(p, "string key");
			if (scan_string(p, &flag) < 0)
				return -1;
			skip_ws(p);
			if (p->i >= p->n || p->s[p->i] != ':')
				return expected(p, "':'");
			p->i++;
			skip_ws(p);
		}
		if (scan_value(p, depth, &t, &flag) < 0)
			return -1;
		skip_ws(p);
		if (p->i < p->n && p->s[p->i] == ',') {
			p->i++;
			continue;
		}
		if (p->i < p->n && p->s[p->i] == close) {
			p->i++;
			return 0;
		}
		return expected(p, close == '}' ? "',' or '}'" : "',' or ']'");
	}
}

static int scan_value(struct ps *p, int depth, enum at_json_type *t, int *flag)
{
	unsigned char c;

	if (p->i >= p->n)
		return expected(p, "value");
	c = p->s[p->i];
	*flag = 0;
	if (c == '"') {
		*t = AT_JSON_STR;
		return scan_string(p, flag);
	}
	if (c == '-' || is_digit(c)) {
		*t = AT_JSON_NUM;
		return scan_number(p, flag);
	}
	if (c == '{' || c == '[') {
		*t = c == '{' ? AT_JSON_OBJ : AT_JSON_ARR;
		return scan_nested(p, depth + 1);
	}
	return scan_literal(p, t);
}

/* Iterate the unescaped bytes of a validated string body. */
struct unesc {
	const char *s;
	size_t n, i;
	char pend[4];
	int np, pi;
};

static int unesc_next(struct unesc *u)
{
	uint32_t cp, lo;
	const unsigned char *s = (const unsigned char *)u->s;

	if (u->pi < u->np)
		return (unsigned char)u->pend[u->pi++];
	if (u->i >= u->n)
		return -1;
	if (s[u->i] != '\\')
		return s[u->i++];
	switch (s[u->i + 1]) {
	case 'b':
		u->i += 2;
		return '\b';
	case 'f':
		u->i += 2;
		return '\f';
	case 'n':
		u->i += 2;
		return '\n';
	case 'r':
		u->i += 2;
		return '\r';
	case 't':
		u->i += 2;
		return '\t';
	case 'u':
		break;
	default: /* '"', '\\', '/' */
		u->i += 2;
		return s[u->i - 1];
	}
	hex4(s + u->i + 2, &cp);
	u->i += 6;
	if (cp >= 0xd800 && cp <= 0xdbff) {
		hex4(s + u->i + 2, &lo);
		u->i += 6;
		cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
	}
	u->np = (int)put_utf8(u->pend, cp);
	u->pi = 1;
	return (unsigned char)u->pend[0];
}

static void unesc_init(struct unesc *u, const char *s, size_t n)
{
	u->s = s;
	u->n = n;
	u->i = 0;
	u->np = u->pi = 0;
}

static int key_equal(const struct at_json_flat_field *f, const char *k,
		     size_t kl, int kesc)
{
	struct unesc a, b;
	int x, y;

	if (!f->key_esc && !kesc)
		return f->key_len == kl && memcmp(f->key, k, kl) == 0;
	unesc_init(&a, f->key, f->key_len);
	if (kesc) {
		unesc_init(&b, k, kl);
		do {
			x = unesc_next(&a);
			y = unesc_next(&b);
			if (x != y)
				return 0;
		} while (x >= 0);
		return 1;
	}
	for (size_t i = 0; i < kl; i++)
		if (unesc_next(&a) != (unsigned char)k[i])
			return 0;
	return unesc_next(&a) < 0;
}

int at_json_flat_parse(const char *line, size_t len, struct at_json_flat *out,
		       at_err *e)
{
	struct ps p = {(const unsigned char *)line, len, 0, e};
	struct at_json_flat_field *f;
	enum at_json_type t;
	size_t kstart;
	int esc, flag;

	out->base = line;
	out->n = 0;
	skip_ws(&p);
	if (p.i >= p.n || p.s[p.i] != '{')
		return expected(&p, "'{'");
	p.i++;
	skip_ws(&p);
	if (p.i < p.n && p.s[p.i] == '}') {
		p.i++;
		goto tail;
	}
	for (;;) {
		skip_ws(&p);
		if (p.i >= p.n || p.s[p.i] != '"')
			return expected(&p, "string key");
		kstart = p.i;
		if (out->n >= AT_JSON_FLAT_MAX)
			return perr(&p, kstart, "too many fields (max %d)",
				    AT_JSON_FLAT_MAX);
		if (scan_string(&p, &esc) < 0)
			return -1;
		f = &out->f[out->n];
		f->key = line + kstart + 1;
		f->key_len = p.i - kstart - 2;
		f->key_esc = (unsigned char)esc;
		for (int j = 0; j < out->n; j++) {
			if (key_equal(&out->f[j], f->key, f->key_len, esc)) {
				char q[96];

				return perr(
				    &p, kstart, "duplicate field \"%s\"",
				    at_json_quote(f->key, f->key_len, q));
			}
		}
		skip_ws(&p);
		if (p.i >= p.n || p.s[p.i] != ':')
			return expected(&p, "':'");
		p.i++;
		skip_ws(&p);
		f->val = line + p.i;
		if (scan_value(&p, 0, &t, &flag) < 0)
			return -1;
		f->val_len = (size_t)(line + p.i - f->val);
		f->type = t;
		f->num_int = (unsigned char)(t == AT_JSON_NUM && flag);
		out->n++;
		skip_ws(&p);
		if (p.i < p.n && p.s[p.i] == ',') {
			p.i++;
			continue;
		}
		if (p.i < p.n && p.s[p.i] == '}') {
			p.i++;
			break;
		}
		return expected(&p, "',' or '}'");
	}
tail:
	skip_ws(&p);
	if (p.i < p.n)
		return perr(&p, p.i, "trailing garbage after object");
	return 0;
}

const struct at_json_flat_field *
at_json_flat_find(const struct at_json_flat *fl, const char *key)
{
	size_t kl = strlen(key);

	for (int j = 0; j < fl->n; j++) {
		const struct at_json_flat_field *f = &fl->f[j];

		if (!f->key_esc) {
			if (f->key_len == kl && memcmp(f->key, key, kl) == 0)
				return f;
		} else if (key_equal(f, key, kl, 0)) {
			return f;
		}
	}
	return NULL;
}

static const char *type_name(enum at_json_type t)
{
	switch (t) {
	case AT_JSON_STR:
		return "string";
	case AT_JSON_NUM:
		return "number";
	case AT_JSON_TRUE:
	case AT_JSON_FALSE:
		return "boolean";
	case AT_JSON_NULL:
		return "null";
	case AT_JSON_OBJ:
		return "object";
	case AT_JSON_ARR:
		return "array";
	}
	return "invalid";
}

__attribute__((format(printf, 4, 5))) static int
ferr(const struct at_json_flat *fl, const struct at_json_flat_field *f,
     at_err *e, const char *fmt, ...)
{
	char msg[AT_ERR_MSG], q[96];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return at_err_set(e, EX_DATAERR, "offset %zu: field \"%s\": %s",
			  (size_t)(f->val - fl->base),
			  at_json_quote(f->key, f->key_len, q), msg);
}

/* Look up key: 1 with *f set, 0 when absent or null. */
static int flat_get(const struct at_json_flat *fl, const char *key,
		    const struct at_json_flat_field **f)
{
	*f = at_json_flat_find(fl, key);
	return *f != NULL && (*f)->type != AT_JSON_NULL;
}

/*
 * Number text to double.  Fast path (Clinger): at most 19 digits whose
 * value m <= 2^53 and a decimal exponent within +-22, so m and 10^|x| are
 * exact and one multiplication or division rounds correctly.  Else strtod
 * on a NUL-terminated copy.
 */
static double num_f64(const char *s, size_t n)
{
	char small[64], *copy = small;
	uint64_t m = 0;
	size_t i = 0;
	int neg = 0, nd = 0, frac = 0;
	long ex = 0;
	double d;

	if (s[0] == '-') {
		neg = 1;
		i++;
	}
	for (; i < n && is_digit((unsigned char)s[i]); i++) {
		if (m || s[i] != '0')
			nd++;
		m = m * 10 + (uint64_t)(s[i] - '0');
		if (nd > 19)
			goto slow;
	}
	if (i < n && s[i] == '.') {
		for (i++; i < n && is_digit((unsigned char)s[i]); i++) {
			if (m || s[i] != '0')
				nd++;
			if (nd > 19)
				goto slow;
			m = m * 10 + (uint64_t)(s[i] - '0');
			frac++;
		}
	}
	if (i < n && (s[i] == 'e' || s[i] == 'E')) {
		int eneg = 0;

		i++;
		if (s[i] == '+' || s[i] == '-')
			eneg = s[i++] == '-';
		for (; i < n; i++) {
			ex = ex * 10 + (s[i] - '0');
			if (ex > 100000)
				goto slow;
		}
		if (eneg)
			ex = -ex;
	}
	if (m > (uint64_t)1 << 53)
		goto slow;
	ex -= frac;
	if (ex < -22 || ex > 22)
		goto slow;
	d = (double)m;
	d = ex < 0 ? d / pow10d[-ex] : d * pow10d[ex];
	return neg ? -d : d;
slow:
	if (n >= sizeof(small))
		copy = at_xmalloc(n + 1);
	memcpy(copy, s, n);
	copy[n] = '\0';
	d = c_strtod(copy, NULL);
	if (copy != small)
		free(copy);
	return d;
}

/* Exact integer text (validated by scan_number) to int64; -1 overflow. */
static int num_i64(const char *s, size_t n, int64_t *out)
{
	uint64_t u = 0, lim = (uint64_t)INT64_MAX;
	size_t i = 0;

	if (s[0] == '-') {
		lim++;
		i++;
	}
	for (; i < n; i++) {
		unsigned d = (unsigned)(s[i] - '0');

		if (u > (lim - d) / 10)
			return -1;
		u = u * 10 + d;
	}
	if (s[0] == '-')
		*out = u == lim ? INT64_MIN : -(int64_t)u;
	else
		*out = (int64_t)u;
	return 0;
}

int at_json_flat_i64(const struct at_json_flat *fl, const char *key,
		     int64_t *out, at_err *e)
{
	const struct at_json_flat_field *f;
	char q[96];
	double d;

	if (!flat_get(fl, key, &f))
		return 0;
	if (f->type != AT_JSON_NUM)
		return ferr(fl, f, e, "expected integer, got %s",
			    type_name(f->type));
	if (f->num_int) {
		if (num_i64(f->val, f->val_len, out) < 0)
			return ferr(fl, f, e, "integer %s out of range",
				    at_json_quote(f->val, f->val_len, q));
		return 1;
	}
	d = num_f64(f->val, f->val_len);
	if (d != floor(d) || d > TWO53 || d < -TWO53)
		return ferr(fl, f, e, "expected integer, got %s",
			    at_json_quote(f->val, f->val_len, q));
	*out = (int64_t)d;
	return 1;
}

int at_json_flat_f64(const struct at_json_flat *fl, const char *key,
		     double *out, at_err *e)
{
	const struct at_json_flat_field *f;
	char q[96];
	double d;

	if (!flat_get(fl, key, &f))
		return 0;
	if (f->type != AT_JSON_NUM)
		return ferr(fl, f, e, "expected number, got %s",
			    type_name(f->type));
	d = num_f64(f->val, f->val_len);
	if (!isfinite(d))
		return ferr(fl, f, e, "number %s out of range",
			    at_json_quote(f->val, f->val_len, q));
	*out = d;
	return 1;
}

int at_json_flat_bool(const struct at_json_flat *fl, const char *key, int *out,
		      at_err *e)
{
	const struct at_json_flat_field *f;

	if (!flat_get(fl, key, &f))
		return 0;
	if (f->type != AT_JSON_TRUE && f->type != AT_JSON_FALSE)
		return ferr(fl, f, e, "expected boolean, got %s",
			    type_name(f->type));
	*out = f->type == AT_JSON_TRUE;
	return 1;
}

int at_json_flat_str(const struct at_json_flat *fl, const char *key, char *buf,
		     size_t cap, size_t *len, at_err *e)
{
	const struct at_json_flat_field *f;
	struct unesc u;
	size_t o = 0;
	int c;

	if (!flat_get(fl, key, &f))
		return 0;
	if (f->type != AT_JSON_STR)
		return ferr(fl, f, e, "expected string, got %s",
			    type_name(f->type));
	unesc_init(&u, f->val + 1, f->val_len - 2);
	while ((c = unesc_next(&u)) >= 0) {
		if (c == 0)
			return ferr(fl, f, e, "string contains nul byte");
		if (o + 1 >= cap)
			return ferr(fl, f, e, "string longer than %zu bytes",
				    cap ? cap - 1 : 0);
		buf[o++] = (char)c;
	}
	if (cap == 0)
		return ferr(fl, f, e, "string longer than 0 bytes");
	buf[o] = '\0';
	if (len != NULL)
		*len = o;
	return 1;
}
