/*
 * test_json: the jv getters, the hot-path encoder and the flat decoder.
 */
#include <math.h>
#include <stdint.h>
#include <time.h>

#include "json.h"
#include "t.h"

/* ---- helpers ---------------------------------------------------------- */

static jv parse_ok(const char *s)
{
	at_err e = {0, ""};
	jv v;

	if (at_json_parse(s, strlen(s), &v, "t", &e) < 0) {
		printf("# parse failed: %s\n", e.msg);
		return jv_null();
	}
	return v;
}

/*
 * Flat-parse s from an exactly sized heap copy (no NUL after it), so the
 * sanitizer catches any read past len.  *copy is freed by the caller.
 */
static int flat(const char *s, struct at_json_flat *fl, char **copy, at_err *e)
{
	size_t n = strlen(s);

	*copy = malloc(n ? n : 1);
	memcpy(*copy, s, n);
	return at_json_flat_parse(*copy, n, fl, e);
}

/* s made printable for a TAP test name (static buffer). */
static const char *shown(const char *s)
{
	static char out[256];
	size_t o = 0;

	for (; *s && o < sizeof(out) - 8; s++) {
		unsigned char c = (unsigned char)*s;

		if (c >= 0x20 && c < 0x7f)
			out[o++] = (char)c;
		else
			o += (size_t)sprintf(out + o, "\\x%02x", c);
	}
	out[o] = '\0';
	return out;
}

/* Flat-parse expecting failure with exactly msg. */
static void flat_rejects(const char *s, const char *msg)
{
	struct at_json_flat fl;
	at_err e = {0, ""};
	char *c;
	int rc = flat(s, &fl, &c, &e);

	T_OK(rc == -1 && e.code == EX_DATAERR, "flat rejects %s", shown(s));
	T_EQ_STR(e.msg, msg, "flat message for %s", shown(s));
	free(c);
}

static void flat_accepts(const char *s)
{
	struct at_json_flat fl;
	at_err e = {0, ""};
	char *c;
	int rc = flat(s, &fl, &c, &e);

	if (!T_OK(rc == 0, "flat accepts %s", shown(s)))
		printf("#   %s\n", e.msg);
	free(c);
}

static char *enc1(void (*fn)(at_buf *), at_buf *b)
{
	at_buf_reset(b);
	fn(b);
	return b->data;
}

/* ---- libjq layer ------------------------------------------------------ */

static void test_parse(void)
{
	at_err e = {0, ""};
	jv v;
	const char *s = "{\"a\":1}garbage";

	T_OK(at_json_parse(s, 7, &v, "<stdin>:1", &e) == 0,
	     "parse honours len (no NUL needed)");
	T_OK(jv_get_kind(v) == JV_KIND_OBJECT, "parsed an object");
	jv_free(v);

	T_OK(at_json_parse("{\"a\":", 5, &v, "<stdin>:12", &e) == -1,
	     "parse rejects truncated json");
	T_OK(!jv_is_valid(v), "out is invalid after failure");
	jv_free(v);
	T_EQ_INT(e.code, EX_DATAERR, "parse error code");
	T_OK(strncmp(e.msg, "<stdin>:12: invalid json: ", 26) == 0,
	     "parse error names position: %s", e.msg);
	T_OK(strstr(e.msg, "while parsing") == NULL,
	     "parse error does not quote the input");

	T_OK(at_json_parse("1 2", 3, &v, "f:3", &e) == -1, "two values");
	jv_free(v);
	T_EQ_STR(e.msg, "f:3: invalid json: Unexpected extra JSON values",
		 "two values message");
	T_OK(at_json_parse("", 0, &v, NULL, &e) == -1, "empty input");
	jv_free(v);
	T_EQ_STR(e.msg, "invalid json: Expected JSON value",
		 "empty input message without where");
	/* libjq 1.6 would leak the second string; caught before it */
	T_OK(at_json_parse("[\"a\" \"b\"]", 9, &v, "f:1", &e) == -1,
	     "missing separator in array");
	jv_free(v);
	T_EQ_STR(e.msg,
		 "f:1: invalid json: Expected separator between values at "
		 "line 1, column 6",
		 "missing separator message");
	T_OK(at_json_parse("{\"a\":1\n \"b\":2}", 14, &v, "f:2", &e) == -1,
	     "missing separator in object");
	jv_free(v);
	T_EQ_STR(e.msg,
		 "f:2: invalid json: Expected separator between values at "
		 "line 2, column 2",
		 "missing separator message, second line");
	T_OK(at_json_parse("\"a\" \"b\"", 7, &v, "f:3", &e) == -1,
	     "two top-level strings");
	jv_free(v);
	T_OK(at_json_parse("[\"a\\\"\", \"b\"]", 12, &v, "f:4", &e) == 0,
	     "escaped quote is not a string end");
	jv_free(v);
	T_OK(at_json_parse("  [1,2]\n", 8, &v, NULL, &e) == 0,
	     "array with whitespace");
	jv_free(v);
}

static void test_getters(void)
{
	jv o =
	    parse_ok("{\"sym\":\"NIFTY\",\"lots\":\"3\",\"qty\":50,"
		     "\"px\":22450.05,\"live\":true,\"off\":false,"
		     "\"n\":null,\"f\":2.5,\"two\":2.0,\"big\":1e300,"
		     "\"sub\":{\"k\":1},\"arr\":[1,2],\"nul\":\"a\\u0000b\"}");
	const char *W = "<stdin>:12";
	at_err e = {0, ""};
	char *s = NULL;
	int64_t i = -7;
	double d = -7;
	int b = -7;
	jv sub;

	T_EQ_INT(at_json_get_str(o, "sym", 1, &s, W, &e), 1, "get_str");
	T_EQ_STR(s, "NIFTY", "get_str value");
	free(s);
	s = NULL;
	T_EQ_INT(at_json_get_str(o, "missing", 0, &s, W, &e), 0,
		 "optional missing str -> 0");
	T_OK(s == NULL, "optional missing leaves out untouched");
	T_EQ_INT(at_json_get_str(o, "n", 0, &s, W, &e), 0,
		 "null counts as absent");
	T_EQ_INT(at_json_get_str(o, "x", 1, &s, W, &e), -1,
		 "required missing str -> -1");
	T_EQ_STR(e.msg, "<stdin>:12: field \"x\" is required",
		 "required message");
	T_EQ_INT(e.code, EX_DATAERR, "required code");
	T_EQ_INT(at_json_get_str(o, "n", 1, &s, W, &e), -1,
		 "required null -> -1");
	T_EQ_INT(at_json_get_str(o, "qty", 1, &s, W, &e), -1,
		 "number as str -> -1");
	T_EQ_STR(e.msg,
		 "<stdin>:12: field \"qty\": expected string, got number",
		 "str wrong type message");
	T_EQ_INT(at_json_get_str(o, "nul", 1, &s, W, &e), -1,
		 "string with nul rejected");
	T_EQ_STR(e.msg, "<stdin>:12: field \"nul\": string contains nul byte",
		 "nul message");

	T_EQ_INT(at_json_get_i64(o, "qty", 1, 1, 1000, &i, W, &e), 1,
		 "get_i64");
	T_EQ_INT(i, 50, "get_i64 value");
	T_EQ_INT(at_json_get_i64(o, "two", 1, 1, 1000, &i, W, &e), 1,
		 "get_i64 accepts 2.0");
	T_EQ_INT(i, 2, "get_i64 2.0 value");
	T_EQ_INT(at_json_get_i64(o, "lots", 1, 1, 100, &i, W, &e), -1,
		 "get_i64 on string");
	T_EQ_STR(e.msg,
		 "<stdin>:12: field \"lots\": expected integer, got string",
		 "i64 wrong type message");
	T_EQ_INT(at_json_get_i64(o, "f", 1, 1, 100, &i, W, &e), -1,
		 "get_i64 on 2.5");
	T_EQ_STR(e.msg, "<stdin>:12: field \"f\": expected integer, got 2.5",
		 "i64 fraction message");
	T_EQ_INT(at_json_get_i64(o, "qty", 1, 1, 10, &i, W, &e), -1,
		 "get_i64 out of range");
	T_EQ_STR(e.msg, "<stdin>:12: field \"qty\": 50 is out of range [1, 10]",
		 "i64 range message");
	T_EQ_INT(at_json_get_i64(o, "big", 1, INT64_MIN, INT64_MAX, &i, W, &e),
		 -1, "get_i64 1e300 out of int64");
	T_OK(strstr(e.msg, "out of range") != NULL, "1e300: %s", e.msg);
	T_EQ_INT(at_json_get_i64(o, "absent", 0, 0, 1, &i, W, &e), 0,
		 "optional i64 absent");
	T_EQ_INT(i, 2, "optional absent leaves i");

	T_EQ_INT(at_json_get_f64(o, "px", 1, 0, 1e6, &d, W, &e), 1, "get_f64");
	T_NEAR(d, 22450.05, 0, "get_f64 value");
	T_EQ_INT(at_json_get_f64(o, "qty", 1, 0, 1e6, &d, W, &e), 1,
		 "get_f64 on integer");
	T_NEAR(d, 50, 0, "get_f64 int value");
	T_EQ_INT(at_json_get_f64(o, "px", 1, 0, 100.5, &d, W, &e), -1,
		 "get_f64 out of range");
	T_EQ_STR(
	    e.msg,
	    "<stdin>:12: field \"px\": 22450.05 is out of range [0, 100.5]",
	    "f64 range message");
	T_EQ_INT(at_json_get_f64(o, "live", 1, 0, 1, &d, W, &e), -1,
		 "get_f64 on bool");
	T_EQ_STR(e.msg,
		 "<stdin>:12: field \"live\": expected number, got boolean",
		 "f64 wrong type message");

	T_EQ_INT(at_json_get_bool(o, "live", 1, &b, W, &e), 1, "get_bool");
	T_EQ_INT(b, 1, "get_bool true");
	T_EQ_INT(at_json_get_bool(o, "off", 1, &b, W, &e), 1, "get_bool f");
	T_EQ_INT(b, 0, "get_bool false");
	T_EQ_INT(at_json_get_bool(o, "sym", 1, &b, W, &e), -1,
		 "get_bool on string");
	T_EQ_STR(e.msg,
		 "<stdin>:12: field \"sym\": expected boolean, got string",
		 "bool wrong type message");

	T_EQ_INT(at_json_get_obj(o, "sub", 1, &sub, W, &e), 1, "get_obj");
	T_OK(jv_get_kind(sub) == JV_KIND_OBJECT, "get_obj kind");
	T_EQ_INT(at_json_get_i64(sub, "k", 1, 0, 9, &i, "<stdin>:12 sub", &e),
		 1, "get from sub-object");
	jv_free(sub);
	T_EQ_INT(at_json_get_obj(o, "arr", 1, &sub, W, &e), -1,
		 "get_obj on array");
	T_EQ_STR(e.msg, "<stdin>:12: field \"arr\": expected object, got array",
		 "obj wrong type message");
	T_EQ_INT(at_json_get_arr(o, "arr", 1, &sub, W, &e), 1, "get_arr");
	T_EQ_INT(jv_array_length(sub), 2, "get_arr length");

	/* borrowed: o is still fully usable, freed once below */
	T_EQ_INT(jv_get_refcnt(o), 1, "getters borrow obj (refcnt 1)");

	jv arr = parse_ok("[1]");
	T_EQ_INT(at_json_get_i64(arr, "k", 1, 0, 9, &i, "x:1", &e), -1,
		 "getter on non-object");
	T_EQ_STR(e.msg, "x:1: expected object, got array", "non-object msg");
	jv_free(arr);
	T_EQ_INT(at_json_get_i64(o, "qty", 1, 0, 99, &i, NULL, &e), 1,
		 "where may be NULL");
	T_EQ_INT(at_json_get_i64(o, "x", 1, 0, 99, &i, NULL, &e), -1,
		 "where NULL error");
	T_EQ_STR(e.msg, "field \"x\" is required", "message without where");
	jv_free(o);
}

static void test_check_keys(void)
{
	static const char *const allowed[] = {"a", "b", "c", NULL};
	jv o = parse_ok("{\"a\":1,\"c\":2}");
	jv p = parse_ok("{\"a\":1,\"foo\":2}");
	jv q = parse_ok("{\"a\\nb\":1}");
	at_err e = {0, ""};

	T_EQ_INT(at_json_check_keys(o, allowed, "cfg:3", &e), 0,
		 "check_keys ok");
	T_EQ_INT(at_json_check_keys(p, allowed, "cfg:3", &e), -1,
		 "check_keys unknown");
	T_EQ_STR(e.msg, "cfg:3: unknown field \"foo\"", "unknown message");
	T_EQ_INT(at_json_check_keys(q, allowed, "cfg:4", &e), -1,
		 "check_keys weird key");
	T_EQ_STR(e.msg, "cfg:4: unknown field \"a\\x0ab\"",
		 "weird key quoted on one line");
	T_EQ_INT(jv_get_refcnt(o), 1, "check_keys borrows");
	jv_free(o);
	jv_free(p);
	jv_free(q);
}

static void test_dump(void)
{
	char *s =
	    at_json_dump(parse_ok("{ \"a\" : [1, 2.5, \"x\"], \"b\": {} }"));
	FILE *f;
	char line[128];

	T_EQ_STR(s, "{\"a\":[1,2.5,\"x\"],\"b\":{}}", "dump is compact");
	free(s);
	T_OK(at_json_dump(jv_invalid()) == NULL, "dump invalid -> NULL");
	f = tmpfile();
	T_OK(f != NULL, "tmpfile");
	if (f == NULL)
		return;
	T_EQ_INT(at_json_write_line(f, parse_ok("{\"k\": \"v\"}")), 0,
		 "write_line");
	T_EQ_INT(at_json_write_line(f, parse_ok("[true, null]")), 0,
		 "write_line 2");
	T_EQ_INT(at_json_write_line(f, jv_invalid()), -1, "write_line invalid");
	rewind(f);
	T_EQ_STR(fgets(line, sizeof(line), f), "{\"k\":\"v\"}\n", "line 1");
	T_EQ_STR(fgets(line, sizeof(line), f), "[true,null]\n", "line 2");
	fclose(f);
}

/* ---- encoder ---------------------------------------------------------- */

static void enc_tick(at_buf *b)
{
	at_json_enc_begin(b);
	at_json_enc_key_str(b, "sym", "NIFTY24NOVFUT");
	at_json_enc_key_i64(b, "ts", 1732505400123);
	at_json_enc_key_f64(b, "ltp", 22450.05);
	at_json_enc_key_f64(b, "bid", 22450);
	at_json_enc_key_f64(b, "ask", 22450.1);
	at_json_enc_key_i64(b, "vol", 1234567);
	at_json_enc_key_i64(b, "oi", -5);
	at_json_enc_key_bool(b, "live", 1);
	at_json_enc_key_bool(b, "halt", 0);
	at_json_enc_key_null(b, "note");
	at_json_enc_key_str(b, "s2", NULL);
	at_json_enc_key_raw(b, "depth", "[[1,2],[3,4]]");
	at_json_enc_key_obj(b, "sub");
	at_json_enc_key_i64(b, "a", 1);
	at_json_enc_key_obj(b, "e");
	at_json_enc_end(b);
	at_json_enc_end(b);
	at_json_enc_end(b);
}

static void enc_empty(at_buf *b)
{
	at_json_enc_begin(b);
	at_json_enc_end(b);
}

static const char *f64s(at_buf *b, double v)
{
	at_buf_reset(b);
	at_json_enc_f64(b, v);
	return b->data;
}

static uint64_t rng = 88172645463325252ULL;

static uint64_t xr(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

static void test_encoder(void)
{
	at_buf b = AT_BUF_INIT;
	int bad;

	T_EQ_STR(enc1(enc_tick, &b),
		 "{\"sym\":\"NIFTY24NOVFUT\",\"ts\":1732505400123,"
		 "\"ltp\":22450.05,\"bid\":22450,\"ask\":22450.1,"
		 "\"vol\":1234567,\"oi\":-5,\"live\":true,\"halt\":false,"
		 "\"note\":null,\"s2\":null,\"depth\":[[1,2],[3,4]],"
		 "\"sub\":{\"a\":1,\"e\":{}}}",
		 "encoder tick line");
	T_EQ_STR(enc1(enc_empty, &b), "{}", "empty object");

	/* two records in one buffer: no comma after the newline */
	at_buf_reset(&b);
	at_json_enc_begin(&b);
	at_json_enc_key_i64(&b, "a", 1);
	at_json_enc_end(&b);
	at_buf_putc(&b, '\n');
	at_json_enc_begin(&b);
	at_json_enc_key_i64(&b, "b", 2);
	at_json_enc_end(&b);
	T_EQ_STR(b.data, "{\"a\":1}\n{\"b\":2}", "records back to back");

	at_buf_reset(&b);
	at_json_enc_begin(&b);
	at_json_enc_key_i64(&b, "min", INT64_MIN);
	at_json_enc_key_i64(&b, "max", INT64_MAX);
	at_json_enc_key_i64(&b, "z", 0);
	at_json_enc_end(&b);
	T_EQ_STR(b.data,
		 "{\"min\":-9223372036854775808,\"max\":9223372036854775807,"
		 "\"z\":0}",
		 "i64 extremes");

	T_EQ_STR(f64s(&b, 22450.05), "22450.05", "f64 22450.05");
	T_EQ_STR(f64s(&b, 0.1), "0.1", "f64 0.1");
	T_EQ_STR(f64s(&b, 0.3), "0.3", "f64 0.3");
	T_EQ_STR(f64s(&b, 0.1 + 0.2), "0.30000000000000004", "f64 0.1+0.2");
	T_EQ_STR(f64s(&b, 100), "100", "f64 100");
	T_EQ_STR(f64s(&b, -0.5), "-0.5", "f64 -0.5");
	T_EQ_STR(f64s(&b, 0), "0", "f64 0");
	T_EQ_STR(f64s(&b, -0.0), "-0", "f64 -0");
	T_EQ_STR(f64s(&b, 1.05), "1.05", "f64 1.05");
	T_EQ_STR(f64s(&b, 99999.99), "99999.99", "f64 99999.99");
	T_EQ_STR(f64s(&b, 0.00000001), "0.00000001", "f64 1e-8");
	T_EQ_STR(f64s(&b, 1e-9), "1e-09", "f64 1e-9");
	T_EQ_STR(f64s(&b, 1e20), "1e+20", "f64 1e20");
	T_EQ_STR(f64s(&b, 1.5e300), "1.5e+300", "f64 1.5e300");
	T_EQ_STR(f64s(&b, 9007199254740991.0), "9007199254740991",
		 "f64 2^53-1");
	T_EQ_STR(f64s(&b, 1.0 / 3), "0.3333333333333333", "f64 1/3");
	T_EQ_STR(f64s(&b, NAN), "null", "f64 NaN");
	T_EQ_STR(f64s(&b, INFINITY), "null", "f64 Inf");
	T_EQ_STR(f64s(&b, -INFINITY), "null", "f64 -Inf");
	T_EQ_STR(f64s(&b, 5e-324), "4.94065645841247e-324", "f64 denormal");

	/* prices: every paisa value up to 10^5 prints exactly */
	bad = 0;
	for (int64_t p = 0; p < 10000000; p += 7) {
		char want[32];
		double v = (double)p / 100;

		snprintf(want, sizeof(want), "%" PRId64 ".%02d", p / 100,
			 (int)(p % 100));
		/* trim "x.50" -> "x.5", "x.00" -> "x" */
		size_t n = strlen(want);
		while (want[n - 1] == '0')
			want[--n] = '\0';
		if (want[n - 1] == '.')
			want[--n] = '\0';
		if (strcmp(f64s(&b, v), want) != 0 && bad++ < 3)
			printf("# %s vs %s\n", b.data, want);
	}
	T_EQ_INT(bad, 0, "every 2-decimal price prints as written");

	/* random doubles round-trip through strtod */
	bad = 0;
	for (int k = 0; k < 200000; k++) {
		uint64_t u = xr();
		double v;

		if (k % 2) {
			memcpy(&v, &u, sizeof(v));
			if (!isfinite(v))
				continue;
		} else {
			v = (double)(int64_t)(u % 100000000000ULL) /
			    pow(10, (double)((u >> 60) % 9));
		}
		if (strtod(f64s(&b, v), NULL) != v && bad++ < 3)
			printf("# %.17g -> %s\n", v, b.data);
	}
	T_EQ_INT(bad, 0, "random doubles round-trip");

	at_buf_release(&b);
}

/* Encode s with the fast encoder, parse with libjq, compare. */
static int str_roundtrip(const char *s, size_t n, const char *want, size_t wn)
{
	at_buf b = AT_BUF_INIT;
	at_err e = {0, ""};
	jv v, got;
	int ok = 0;

	at_json_enc_begin(&b);
	at_json_enc_key_strn(&b, "k\"\n", s, n);
	at_json_enc_end(&b);
	if (at_json_parse(b.data, b.len, &v, "rt", &e) == 0) {
		got = jv_object_get(jv_copy(v), jv_string("k\"\n"));
		ok = jv_get_kind(got) == JV_KIND_STRING &&
		     (size_t)jv_string_length_bytes(jv_copy(got)) == wn &&
		     memcmp(jv_string_value(got), want, wn) == 0;
		jv_free(got);
	} else {
		printf("# %s\n", e.msg);
	}
	jv_free(v);
	at_buf_release(&b);
	return ok;
}

static void test_escape(void)
{
	at_buf b = AT_BUF_INIT;
	char all[128];
	int bad = 0;

	at_json_enc_str(&b, "a\"b\\c\n\t\r\b\f\x01\x1f/\x7f", 14);
	T_EQ_STR(b.data, "\"a\\\"b\\\\c\\n\\t\\r\\b\\f\\u0001\\u001f/\x7f\"",
		 "escapes");
	at_buf_reset(&b);
	at_json_enc_str(&b, "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80", 14);
	T_EQ_STR(b.data, "\"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80\"",
		 "valid utf-8 passes through");
	at_buf_reset(&b);
	at_json_enc_str(&b,
			"a\xff"
			"b\xc3",
			4);
	T_EQ_STR(b.data,
		 "\"a\xef\xbf\xbd"
		 "b\xef\xbf\xbd\"",
		 "invalid utf-8 becomes U+FFFD");
	at_buf_reset(&b);
	at_json_enc_str(&b, "\xed\xa0\x80\xc0\xaf", 5);
	T_EQ_STR(
	    b.data,
	    "\"\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\"",
	    "surrogates and overlongs replaced");
	at_buf_reset(&b);
	at_json_enc_str(&b, "a\0b", 3);
	T_EQ_STR(b.data, "\"a\\u0000b\"", "NUL escaped");

	for (int i = 0; i < 128; i++)
		all[i] = (char)i;
	T_OK(str_roundtrip(all, 128, all, 128),
	     "all ASCII bytes round-trip via libjq");
	T_OK(str_roundtrip("", 0, "", 0), "empty string round-trips");
	T_OK(str_roundtrip(
		 "\xe0\xa4\xa8\xe0\xa4\xbf\xe0\xa4\xab\xe0\xa5\x8d", 12,
		 "\xe0\xa4\xa8\xe0\xa4\xbf\xe0\xa4\xab\xe0\xa5\x8d", 12),
	     "devanagari round-trips");
	/* random valid UTF-8 strings */
	for (int k = 0; k < 2000; k++) {
		char s[64];
		size_t n = 0;

		while (n < 56) {
			uint32_t r = (uint32_t)xr(), cp;

			switch (r % 4) {
			case 0:
				cp = (r >> 8) % 0x80;
				break;
			case 1:
				cp = 0x80 + (r >> 8) % 0x780;
				break;
			case 2:
				cp = 0x800 + (r >> 8) % 0xf800;
				if (cp >= 0xd800 && cp <= 0xdfff)
					cp = 'x';
				break;
			default:
				cp = 0x10000 + (r >> 8) % 0x100000;
			}
			if (cp < 0x80) {
				s[n++] = (char)cp;
			} else if (cp < 0x800) {
				s[n++] = (char)(0xc0 | cp >> 6);
				s[n++] = (char)(0x80 | (cp & 63));
			} else if (cp < 0x10000) {
				s[n++] = (char)(0xe0 | cp >> 12);
				s[n++] = (char)(0x80 | ((cp >> 6) & 63));
				s[n++] = (char)(0x80 | (cp & 63));
			} else {
				s[n++] = (char)(0xf0 | cp >> 18);
				s[n++] = (char)(0x80 | ((cp >> 12) & 63));
				s[n++] = (char)(0x80 | ((cp >> 6) & 63));
				s[n++] = (char)(0x80 | (cp & 63));
			}
		}
		if (!str_roundtrip(s, n, s, n))
			bad++;
	}
	T_EQ_INT(bad, 0, "2000 random utf-8 strings round-trip via libjq");
	at_buf_release(&b);
}

static void test_speed(void)
{
	at_buf b = AT_BUF_INIT;
	struct timespec t0, t1;
	const int N = 200000;
	double ns;
	char msg[80];

	at_buf_grow(&b, 4096);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (int i = 0; i < N; i++) {
		at_buf_reset(&b);
		at_json_enc_begin(&b);
		at_json_enc_key_i64(&b, "ts", 1732505400123 + i);
		at_json_enc_key_f64(&b, "ltp", 22450.05 + i % 100);
		at_json_enc_key_f64(&b, "bid", 22450.00);
		at_json_enc_key_f64(&b, "ask", 22450.10);
		at_json_enc_key_i64(&b, "bq", 1500);
		at_json_enc_key_i64(&b, "aq", 1725);
		at_json_enc_key_i64(&b, "vol", 12345678);
		at_json_enc_key_i64(&b, "oi", 9876543);
		at_json_enc_end(&b);
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	ns = ((double)(t1.tv_sec - t0.tv_sec) * 1e9 +
	      (double)(t1.tv_nsec - t0.tv_nsec)) /
	     N;
	snprintf(msg, sizeof(msg), "encoder: %.0f ns per 8-field tick line",
		 ns);
	t_diag(msg);
	/* generous: sanitizer builds are several times slower */
	T_OK(ns < 5000, "encoder speed sane (%.0f ns)", ns);
	at_buf_release(&b);
}

/* ---- flat decoder ----------------------------------------------------- */

static void test_flat_basic(void)
{
	const char *line =
	    " {\"sym\":\"NIFTY\",\"ts\":1732505400123,\"ltp\":22450.05,"
	    "\"neg\":-3,\"e\":1.5e3,\"live\":true,\"off\":false,"
	    "\"n\":null,\"depth\":{\"buy\":[{\"p\":1,\"q\":[]}],\"s\":\"}\"},"
	    "\"arr\":[1,\"]\",[]],\"esc\":\"a\\\"\\\\\\/\\b\\f\\n\\r\\t\","
	    "\"u\":\"\\u00e9\\u20ac\\ud83d\\ude00\","
	    "\"k\\u0065y\":7,\"two\":2.0,\"huge\":123456789012345678901,"
	    "\"min\":-9223372036854775808,\"max\":9223372036854775807} \r\n";
	struct at_json_flat fl;
	const struct at_json_flat_field *f;
	at_err e = {0, ""};
	char *c, sb[64];
	int64_t i = 0;
	double d = 0;
	int b = -1;
	size_t n;

	if (!T_OK(flat(line, &fl, &c, &e) == 0, "flat tick line"))
		printf("#   %s\n", e.msg);
	T_EQ_INT(fl.n, 17, "17 fields");
	f = at_json_flat_find(&fl, "depth");
	T_OK(f && f->type == AT_JSON_OBJ, "depth kept as raw object");
	{
		static const char want[] =
		    "{\"buy\":[{\"p\":1,\"q\":[]}],\"s\":\"}\"}";

		T_OK(f && f->val_len == sizeof(want) - 1 &&
			 memcmp(f->val, want, sizeof(want) - 1) == 0,
		     "depth raw span");
	}
	f = at_json_flat_find(&fl, "arr");
	T_OK(f && f->type == AT_JSON_ARR && f->val_len == 10, "array raw span");
	f = at_json_flat_find(&fl, "sym");
	T_OK(f && f->type == AT_JSON_STR && f->val_len == 7 &&
		 memcmp(f->val, "\"NIFTY\"", 7) == 0,
	     "string span includes quotes");
	T_OK(at_json_flat_find(&fl, "nope") == NULL, "find absent");
	T_OK(at_json_flat_find(&fl, "key") != NULL, "find escaped key");
	T_OK(at_json_flat_find(&fl, "k\\u0065y") == NULL,
	     "find compares unescaped");
	T_OK(at_json_flat_find(&fl, "ke") == NULL, "find prefix of escaped");
	T_OK(at_json_flat_find(&fl, "keyy") == NULL, "find longer than key");

	T_EQ_INT(at_json_flat_i64(&fl, "ts", &i, &e), 1, "flat_i64");
	T_EQ_INT(i, 1732505400123, "flat_i64 value");
	T_EQ_INT(at_json_flat_i64(&fl, "neg", &i, &e), 1, "flat_i64 neg");
	T_EQ_INT(i, -3, "flat_i64 neg value");
	T_EQ_INT(at_json_flat_i64(&fl, "min", &i, &e), 1, "flat_i64 min");
	T_OK(i == INT64_MIN, "flat_i64 INT64_MIN");
	T_EQ_INT(at_json_flat_i64(&fl, "max", &i, &e), 1, "flat_i64 max");
	T_OK(i == INT64_MAX, "flat_i64 INT64_MAX");
	T_EQ_INT(at_json_flat_i64(&fl, "two", &i, &e), 1, "flat_i64 2.0");
	T_EQ_INT(i, 2, "flat_i64 2.0 value");
	T_EQ_INT(at_json_flat_i64(&fl, "e", &i, &e), 1, "flat_i64 1.5e3");
	T_EQ_INT(i, 1500, "flat_i64 1.5e3 value");
	T_EQ_INT(at_json_flat_i64(&fl, "key", &i, &e), 1, "flat_i64 esc key");
	T_EQ_INT(i, 7, "flat_i64 esc key value");
	T_EQ_INT(at_json_flat_i64(&fl, "ltp", &i, &e), -1,
		 "flat_i64 on fraction");
	T_EQ_STR(e.msg,
		 "offset 41: field \"ltp\": expected integer, got 22450.05",
		 "flat_i64 fraction message");
	T_EQ_INT(at_json_flat_i64(&fl, "huge", &i, &e), -1,
		 "flat_i64 overflow");
	T_OK(strstr(e.msg, "field \"huge\": integer "
			   "123456789012345678901 out of range") != NULL,
	     "overflow message: %s", e.msg);
	T_EQ_INT(at_json_flat_i64(&fl, "sym", &i, &e), -1,
		 "flat_i64 on string");
	T_EQ_STR(e.msg, "offset 8: field \"sym\": expected integer, got string",
		 "flat wrong type message");
	T_EQ_INT(at_json_flat_i64(&fl, "n", &i, &e), 0, "flat null absent");
	T_EQ_INT(at_json_flat_i64(&fl, "zz", &i, &e), 0, "flat absent");

	T_EQ_INT(at_json_flat_f64(&fl, "ltp", &d, &e), 1, "flat_f64");
	T_NEAR(d, 22450.05, 0, "flat_f64 exact");
	T_EQ_INT(at_json_flat_f64(&fl, "ts", &d, &e), 1, "flat_f64 int");
	T_NEAR(d, 1732505400123.0, 0, "flat_f64 int value");
	T_EQ_INT(at_json_flat_f64(&fl, "huge", &d, &e), 1, "flat_f64 huge");
	T_NEAR(d, 123456789012345678901.0, 0, "flat_f64 huge value");
	T_EQ_INT(at_json_flat_f64(&fl, "live", &d, &e), -1, "flat_f64 bool");
	T_OK(strstr(e.msg, "field \"live\": expected number, got boolean") !=
		 NULL,
	     "flat_f64 wrong type: %s", e.msg);

	T_EQ_INT(at_json_flat_bool(&fl, "live", &b, &e), 1, "flat_bool");
	T_EQ_INT(b, 1, "flat_bool true");
	T_EQ_INT(at_json_flat_bool(&fl, "off", &b, &e), 1, "flat_bool f");
	T_EQ_INT(b, 0, "flat_bool false");
	T_EQ_INT(at_json_flat_bool(&fl, "ts", &b, &e), -1, "flat_bool num");

	T_EQ_INT(at_json_flat_str(&fl, "sym", sb, sizeof(sb), &n, &e), 1,
		 "flat_str");
	T_EQ_STR(sb, "NIFTY", "flat_str value");
	T_EQ_INT(n, 5, "flat_str len");
	T_EQ_INT(at_json_flat_str(&fl, "esc", sb, sizeof(sb), &n, &e), 1,
		 "flat_str escapes");
	T_EQ_STR(sb, "a\"\\/\b\f\n\r\t", "flat_str escapes value");
	T_EQ_INT(at_json_flat_str(&fl, "u", sb, sizeof(sb), &n, &e), 1,
		 "flat_str \\u");
	T_EQ_STR(sb, "\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80",
		 "flat_str \\u and surrogate pair to utf-8");
	T_EQ_INT(at_json_flat_str(&fl, "sym", sb, 5, &n, &e), -1,
		 "flat_str too small");
	T_OK(strstr(e.msg, "field \"sym\": string longer than 4 bytes") != NULL,
	     "too small message: %s", e.msg);
	T_EQ_INT(at_json_flat_str(&fl, "sym", sb, 6, NULL, &e), 1,
		 "flat_str exact fit");
	T_EQ_INT(at_json_flat_str(&fl, "ts", sb, 6, NULL, &e), -1,
		 "flat_str on number");
	T_EQ_INT(at_json_flat_str(&fl, "n", sb, 6, NULL, &e), 0,
		 "flat_str null absent");
	free(c);

	T_OK(flat("{\"a\":\"x\\u0000y\"}", &fl, &c, &e) == 0, "\\u0000 ok");
	T_EQ_INT(at_json_flat_str(&fl, "a", sb, sizeof(sb), NULL, &e), -1,
		 "flat_str rejects NUL");
	free(c);
	T_OK(flat("{}", &fl, &c, &e) == 0 && fl.n == 0, "empty object");
	free(c);
	T_OK(flat("{\"a\":1e400}", &fl, &c, &e) == 0, "1e400 parses");
	T_EQ_INT(at_json_flat_f64(&fl, "a", &d, &e), -1, "1e400 overflows");
	free(c);
	T_OK(flat("{\"a\":-0.0,\"b\":1e-400,\"c\":0.1e1,\"d\":1E+2}", &fl, &c,
		  &e) == 0,
	     "number forms");
	T_OK(at_json_flat_f64(&fl, "a", &d, &e) == 1 && d == 0 && signbit(d),
	     "-0.0");
	T_OK(at_json_flat_f64(&fl, "b", &d, &e) == 1 && d == 0, "underflow");
	T_OK(at_json_flat_f64(&fl, "c", &d, &e) == 1 && d == 1, "0.1e1");
	T_OK(at_json_flat_i64(&fl, "d", &i, &e) == 1 && i == 100, "1E+2");
	free(c);
}

/* {"a": d nested arrays}: depth 32 is the limit. */
static void nest_case(int d, int reject)
{
	char s[128], msg[64];
	size_t n = 0;

	n += (size_t)sprintf(s, "{\"a\":");
	for (int k = 0; k < d; k++)
		s[n++] = '[';
	for (int k = 0; k < d; k++)
		s[n++] = ']';
	memcpy(s + n, "}", 2);
	if (!reject) {
		flat_accepts(s);
		return;
	}
	snprintf(msg, sizeof(msg), "offset %d: nesting deeper than 32", 5 + 32);
	flat_rejects(s, msg);
}

static void test_flat_reject(void)
{
	char big[64 * 12 + 16];
	size_t n = 0;

	flat_rejects("", "offset 0: expected '{', got end of input");
	flat_rejects("[1]", "offset 0: expected '{'");
	flat_rejects("{\"a\" 1}", "offset 5: expected ':'");
	flat_rejects("{\"sym\":\"NIFTY\",\"lots\" 1}",
		     "offset 22: expected ':'");
	flat_rejects("{\"a\":1",
		     "offset 6: expected ',' or '}', got end of input");
	flat_rejects("{\"a\":1,}", "offset 7: expected string key");
	flat_rejects("{a:1}", "offset 1: expected string key");
	flat_rejects("{\"a\":}", "offset 5: expected value");
	flat_rejects("{\"a\":1} x", "offset 8: trailing garbage after object");
	flat_rejects("{\"a\":1}{}", "offset 7: trailing garbage after object");
	flat_rejects("{\"a\":\"x}", "offset 5: unterminated string");
	flat_rejects("{\"a\":\"x\\", "offset 5: unterminated string");
	flat_rejects("{\"a", "offset 1: unterminated string");
	flat_rejects("{\"a\":\"\\x\"}", "offset 6: invalid escape in string");
	flat_rejects("{\"a\":\"\\u12\"}",
		     "offset 6: invalid \\u escape in string");
	flat_rejects("{\"a\":\"\\u12g4\"}",
		     "offset 6: invalid \\u escape in string");
	flat_rejects("{\"a\":\"\\ud800\"}",
		     "offset 6: lone surrogate in string");
	flat_rejects("{\"a\":\"\\ud800\\u0041\"}",
		     "offset 6: lone surrogate in string");
	flat_rejects("{\"a\":\"\\udc00\"}",
		     "offset 6: lone surrogate in string");
	flat_rejects("{\"a\":\"x\ty\"}",
		     "offset 7: control character in string");
	flat_rejects("{\"a\":\"\n\"}", "offset 6: control character in string");
	flat_rejects("{\"a\":\"\xff\"}", "offset 6: invalid utf-8 in string");
	flat_rejects("{\"a\":\"\xc3\"}", "offset 6: invalid utf-8 in string");
	flat_rejects("{\"a\":\"\xed\xa0\x80\"}",
		     "offset 6: invalid utf-8 in string");
	flat_rejects("{\"a\":01}", "offset 5: invalid number (leading zero)");
	flat_rejects("{\"a\":-01}", "offset 5: invalid number (leading zero)");
	flat_rejects("{\"a\":+1}", "offset 5: expected value");
	flat_rejects("{\"a\":.5}", "offset 5: expected value");
	flat_rejects("{\"a\":1.}", "offset 5: invalid number");
	flat_rejects("{\"a\":1.e3}", "offset 5: invalid number");
	flat_rejects("{\"a\":1e}", "offset 5: invalid number");
	flat_rejects("{\"a\":1e+}", "offset 5: invalid number");
	flat_rejects("{\"a\":-}", "offset 5: invalid number");
	flat_rejects("{\"a\":0x1f}", "offset 5: invalid number");
	flat_rejects("{\"a\":1a}", "offset 5: invalid number");
	flat_rejects("{\"a\":1.5.2}", "offset 5: invalid number");
	flat_rejects("{\"a\":NaN}", "offset 5: expected value");
	flat_rejects("{\"a\":nan}", "offset 5: expected value");
	flat_rejects("{\"a\":Infinity}", "offset 5: expected value");
	flat_rejects("{\"a\":tru}", "offset 5: expected value");
	flat_rejects("{\"a\":truex}", "offset 9: invalid literal");
	flat_rejects("{\"a\":nul", "offset 5: expected value");
	flat_rejects("{\"a\":1,\"a\":2}", "offset 7: duplicate field \"a\"");
	flat_rejects("{\"a\":1,\"\\u0061\":2}",
		     "offset 7: duplicate field \"\\x5cu0061\"");
	flat_rejects("{\"\\u0061\":1,\"a\":2}",
		     "offset 12: duplicate field \"a\"");
	flat_rejects("{\"a\":[1,2}", "offset 9: expected ',' or ']'");
	flat_rejects("{\"a\":{\"b\":1]}", "offset 11: expected ',' or '}'");
	flat_rejects("{\"a\":{1:2}}", "offset 6: expected string key");
	flat_rejects("{\"a\":[1,]}", "offset 8: expected value");
	flat_rejects("{\"a\":[01]}", "offset 6: invalid number (leading zero)");
	flat_rejects("{\"a\":{\"b\":\"\x01\"}}",
		     "offset 11: control character in string");
	nest_case(32, 0);
	nest_case(33, 1);
	flat_rejects("\xef\xbb\xbf{}", "offset 0: expected '{'");
	{
		struct at_json_flat fl;
		at_err e = {0, ""};

		T_EQ_INT(at_json_flat_parse("{\"a\":1}\0", 8, &fl, &e), -1,
			 "NUL after the object is garbage");
		T_EQ_STR(e.msg, "offset 7: trailing garbage after object",
			 "NUL garbage message");
	}
	flat_accepts("\t{ \"a\" :\n1 , \"b\":[ ] ,\"c\" : { } }\n");
	flat_accepts("{\"\":\"\"}");
	flat_accepts("{\"a\":\"\xf4\x8f\xbf\xbf\"}");

	/* exactly 64 fields ok, 65 rejected */
	big[n++] = '{';
	for (int k = 0; k < 64; k++)
		n += (size_t)sprintf(big + n, "%s\"f%02d\":%d", k ? "," : "", k,
				     k);
	memcpy(big + n, "}", 2);
	flat_accepts(big);
	memcpy(big + n, ",\"x\":1}", 8);
	{
		char msg[64];

		snprintf(msg, sizeof(msg),
			 "offset %zu: too many fields (max 64)", n + 1);
		flat_rejects(big, msg);
	}
}

/* Every prefix of a valid line fails cleanly, within len. */
static void test_flat_prefixes(void)
{
	const char *line = "{\"s\":\"a\\u00e9\\ud83d\\ude00\",\"n\":-1.5e-3,"
			   "\"t\":true,\"d\":[{\"x\":null}],\"f\":false}";
	size_t n = strlen(line);
	int bad = 0;

	for (size_t k = 0; k < n; k++) {
		struct at_json_flat fl;
		at_err e = {0, ""};
		char *c = malloc(k ? k : 1);

		memcpy(c, line, k);
		if (at_json_flat_parse(c, k, &fl, &e) != -1 ||
		    strncmp(e.msg, "offset ", 7) != 0)
			bad++;
		free(c);
	}
	T_EQ_INT(bad, 0, "every strict prefix rejected with an offset");
}

/* The value of field f as a jv, decoded by the flat layer. */
static jv flat_value(const struct at_json_flat *fl,
		     const struct at_json_flat_field *f, const char *key)
{
	at_err e = {0, ""};
	char sb[256], num[64];
	size_t n;
	double d;

	switch (f->type) {
	case AT_JSON_STR:
		if (at_json_flat_str(fl, key, sb, sizeof(sb), &n, &e) != 1)
			return jv_invalid();
		return jv_string_sized(sb, (int)n);
	case AT_JSON_NUM:
		if (at_json_flat_f64(fl, key, &d, &e) == 1)
			return jv_number(d);
		/* overflow: compare with what strtod makes of it */
		snprintf(num, sizeof(num), "%.*s", (int)f->val_len, f->val);
		return jv_number(strtod(num, NULL));
	default:
		return jv_parse_sized(f->val, (int)f->val_len);
	}
}

/* The flat decoder and libjq agree on these lines. */
static void test_flat_vs_jq(void)
{
	static const char *const lines[] = {
	    "{\"sym\":\"NIFTY\",\"ltp\":22450.05,\"vol\":12345,"
	    "\"ts\":1732505400123}",
	    "{\"a\":0,\"b\":-0,\"c\":1e10,\"d\":-2.5E-3,\"e\":123.456e2}",
	    "{\"s\":\"\\u00e9\\u20ac\\ud83d\\ude00 \\\"q\\\" \\\\ \\/\"}",
	    "{\"x\":true,\"y\":false,\"z\":null}",
	    "{\"depth\":{\"buy\":[{\"price\":1.5,\"qty\":10}],"
	    "\"sell\":[]},\"t\":\"x\"}",
	    "{\"p\":0.1,\"q\":0.2,\"r\":0.30000000000000004}",
	    "{\"big\":9007199254740993,\"small\":5e-324}",
	    "{\"long\":0.12345678901234567890123456789}",
	    "{\"k\\n\":\"v\\t\",\"\\u00e9\":\"caf\xc3\xa9\"}",
	    "  {\"ws\" : [ 1 , 2 ] }  ",
	    "{\"e\":1E400,\"f\":-1e400,\"g\":1e-400}",
	    "{\"m\":123456789.123456789,\"n\":-0.000001234}",
	};
	size_t nl = sizeof(lines) / sizeof(lines[0]);
	int bad = 0;

	for (size_t k = 0; k < nl; k++) {
		struct at_json_flat fl;
		at_err e = {0, ""};
		char *c;
		jv o;

		if (flat(lines[k], &fl, &c, &e) < 0) {
			printf("# line %zu: %s\n", k, e.msg);
			bad++;
			free(c);
			continue;
		}
		if (at_json_parse(lines[k], strlen(lines[k]), &o, "t", &e) <
		    0) {
			printf("# line %zu: %s\n", k, e.msg);
			jv_free(o);
			bad++;
			free(c);
			continue;
		}
		if (jv_object_length(jv_copy(o)) != fl.n)
			bad++;
		for (int j = 0; j < fl.n; j++) {
			const struct at_json_flat_field *f = &fl.f[j];
			/* the key, unescaped by jq from its quoted text */
			jv key =
			    jv_parse_sized(f->key - 1, (int)f->key_len + 2);
			const char *ks = jv_string_value(key);
			jv want = jv_object_get(jv_copy(o), jv_copy(key));
			jv got = flat_value(&fl, f, ks);

			if (at_json_flat_find(&fl, ks) != f)
				bad++;
			if (!jv_equal(want, got)) {
				printf("# line %zu field %d differs\n", k, j);
				bad++;
			}
			jv_free(key);
		}
		jv_free(o);
		free(c);
	}
	T_EQ_INT(bad, 0, "flat decoder agrees with libjq on %zu lines", nl);
}

int main(void)
{
	test_parse();
	test_getters();
	test_check_keys();
	test_dump();
	test_encoder();
	test_escape();
	test_speed();
	test_flat_basic();
	test_flat_reject();
	test_flat_prefixes();
	test_flat_vs_jq();
	return t_done();
}
