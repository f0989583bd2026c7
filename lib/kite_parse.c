/*
 * kite_parse: the network-free half of lib/kite (kite.h): status names,
 * the envelope, checksum, form encoding, trace redaction and the parsers
 * of Kite's answers.  Kept apart so the fuzz target links no libcurl use.
 */
#include "kite.h"

#include <ctype.h>
#include <locale.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "json.h"
#include "util.h"

/* ---- status ------------------------------------------------------------ */

static const struct {
	const char *name, *type;
	int exit;
} status_tab[AT_KITE_STATUS_COUNT] = {
    [AT_KITE_OK] = {"ok", NULL, 0},
    [AT_KITE_TOKEN] = {"token", "TokenException", EX_NOPERM},
    [AT_KITE_INPUT] = {"input", "InputException", EX_DATAERR},
    [AT_KITE_ORDER] = {"order", "OrderException", EX_DATAERR},
    [AT_KITE_NETWORK] = {"network", "NetworkException", EX_UNAVAILABLE},
    [AT_KITE_DATA] = {"data", "DataException", EX_UNAVAILABLE},
    [AT_KITE_PERMISSION] = {"permission", "PermissionException", EX_NOPERM},
    [AT_KITE_USER] = {"user", "UserException", EX_NOPERM},
    [AT_KITE_TWOFA] = {"twofa", "TwoFAException", EX_NOPERM},
    [AT_KITE_MARGIN] = {"margin", "MarginException", EX_DATAERR},
    [AT_KITE_GENERAL] = {"general", "GeneralException", EX_UNAVAILABLE},
    [AT_KITE_RATE_LIMITED] = {"rate_limited", NULL, EX_TEMPFAIL},
    [AT_KITE_TIMEOUT] = {"timeout", NULL, EX_TEMPFAIL},
    [AT_KITE_PROTOCOL] = {"protocol", NULL, EX_PROTOCOL},
    [AT_KITE_BAD_API_KEY] = {"bad_api_key", NULL, EX_CONFIG},
    [AT_KITE_BAD_PASSWORD] = {"bad_password", NULL, EX_NOPERM},
    [AT_KITE_BAD_TOTP] = {"bad_totp", NULL, EX_NOPERM},
    [AT_KITE_BAD_API_SECRET] = {"bad_api_secret", NULL, EX_CONFIG},
    [AT_KITE_LOGIN_EXPIRED] = {"login_expired", NULL, EX_TEMPFAIL},
    [AT_KITE_INTERNAL] = {"internal", NULL, EX_SOFTWARE},
};

const char *at_kite_status_name(enum at_kite_status s)
{
	if ((unsigned)s >= AT_KITE_STATUS_COUNT)
		return "unknown";
	return status_tab[s].name;
}

const char *at_kite_status_error_type(enum at_kite_status s)
{
	if ((unsigned)s >= AT_KITE_STATUS_COUNT)
		return NULL;
	return status_tab[s].type;
}

int at_kite_status_exit(enum at_kite_status s)
{
	if ((unsigned)s >= AT_KITE_STATUS_COUNT)
		return EX_SOFTWARE;
	return status_tab[s].exit;
}

enum at_kite_status at_kite_status_from(const char *error_type, long http)
{
	if (http == 429)
		return AT_KITE_RATE_LIMITED;
	if (error_type != NULL && *error_type != '\0')
		for (int i = 0; i < AT_KITE_STATUS_COUNT; i++)
			if (status_tab[i].type != NULL &&
			    strcmp(status_tab[i].type, error_type) == 0)
				return (enum at_kite_status)i;
	if (http == 403)
		return AT_KITE_TOKEN;
	if (http >= 502 && http <= 504)
		return AT_KITE_NETWORK;
	if (http >= 500)
		return AT_KITE_GENERAL;
	if (http >= 400)
		return AT_KITE_INPUT;
	if (error_type != NULL && *error_type != '\0')
		return AT_KITE_GENERAL;
	return AT_KITE_PROTOCOL;
}

/* ---- envelope ---------------------------------------------------------- */

/* Copy s into dst (cap bytes) on one line, cut at a UTF-8 boundary. */
static void copy_line(char *dst, size_t cap, const char *s, size_t n)
{
	size_t i;

	if (n >= cap) {
		n = cap - 1;
		while (n > 0 && ((unsigned char)s[n] & 0xc0) == 0x80)
			n--;
	}
	for (i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)s[i];

		dst[i] = (ch < 0x20 || ch == 0x7f) ? ' ' : (char)ch;
	}
	dst[n] = '\0';
}

static int fail_env(struct at_kite_error *ke, at_err *e)
{
	at_buf b = AT_BUF_INIT;

	at_kite_redact(ke->message, strlen(ke->message), &b);
	copy_line(ke->message, sizeof(ke->message), b.data, b.len);
	at_buf_release(&b);
	if (ke->error_type[0] != '\0')
		return at_err_set(e, at_kite_status_exit(ke->status),
				  "%s: %s (http %ld)", ke->error_type,
				  ke->message, ke->http);
	return at_err_set(e, at_kite_status_exit(ke->status),
			  "%s: %s (http %ld)", at_kite_status_name(ke->status),
			  ke->message, ke->http);
}

int at_kite_envelope(long http, const char *body, size_t len, jv *data,
		     struct at_kite_error *ke, at_err *e)
{
	at_err pe;
	jv v = jv_invalid(), st = jv_invalid(), x;
	int ok2xx = http >= 200 && http < 300;
	int rc = -1;

	*data = jv_invalid();
	memset(ke, 0, sizeof(*ke));
	ke->http = http;
	if (len == 0 || at_json_parse(body, len, &v, "kite", &pe) < 0 ||
	    jv_get_kind(v) != JV_KIND_OBJECT) {
		ke->status =
		    ok2xx ? AT_KITE_PROTOCOL : at_kite_status_from(NULL, http);
		snprintf(ke->message, sizeof(ke->message), "%s",
			 len == 0 ? "empty response" : "non-json response");
		goto out;
	}
	st = jv_object_get(jv_copy(v), jv_string("status"));
	if (ok2xx && jv_get_kind(st) == JV_KIND_STRING &&
	    strcmp(jv_string_value(st), "success") == 0) {
		x = jv_object_get(jv_copy(v), jv_string("data"));
		*data = jv_is_valid(x) ? x : jv_null();
		if (!jv_is_valid(x))
			jv_free(x);
		ke->status = AT_KITE_OK;
		rc = 0;
		goto out;
	}
	x = jv_object_get(jv_copy(v), jv_string("error_type"));
	if (jv_get_kind(x) == JV_KIND_STRING)
		copy_line(ke->error_type, sizeof(ke->error_type),
			  jv_string_value(x),
			  (size_t)jv_string_length_bytes(jv_copy(x)));
	jv_free(x);
	x = jv_object_get(jv_copy(v), jv_string("message"));
	if (jv_get_kind(x) == JV_KIND_STRING)
		copy_line(ke->message, sizeof(ke->message), jv_string_value(x),
			  (size_t)jv_string_length_bytes(jv_copy(x)));
	else
		snprintf(ke->message, sizeof(ke->message), "%s",
			 ok2xx ? "response without \"status\":\"success\""
			       : "error without a message");
	jv_free(x);
	if (ok2xx && ke->error_type[0] == '\0' &&
	    !(jv_get_kind(st) == JV_KIND_STRING &&
	      strcmp(jv_string_value(st), "error") == 0))
		ke->status = AT_KITE_PROTOCOL;
	else
		ke->status = at_kite_status_from(ke->error_type, http);
out:
	jv_free(st);
	jv_free(v);
	if (rc < 0)
		return fail_env(ke, e);
	return 0;
}

/* ---- checksum, form ---------------------------------------------------- */

void at_kite_checksum(const char *api_key, const char *request_token,
		      const char *api_secret, char out[65])
{
	size_t a = strlen(api_key), r = strlen(request_token),
	       s = strlen(api_secret);
	char *buf = at_xmalloc(a + r + s + 1);

	memcpy(buf, api_key, a);
	memcpy(buf + a, request_token, r);
	memcpy(buf + a + r, api_secret, s);
	at_util_sha256_hex(buf, a + r + s, out);
	explicit_bzero(buf, a + r + s + 1);
	free(buf);
}

static int unreserved(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
	       (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_' ||
	       c == '~';
}

static size_t esc_len(const char *s)
{
	size_t n = 0;

	for (; *s; s++)
		n += unreserved((unsigned char)*s) ? 1 : 3;
	return n;
}

static void esc_put(char *o, const char *s)
{
	static const char hex[] = "0123456789ABCDEF";

	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (unreserved(c)) {
			*o++ = (char)c;
		} else {
			*o++ = '%';
			*o++ = hex[c >> 4];
			*o++ = hex[c & 15];
		}
	}
}

size_t at_kite_form_len(size_t cur_len, const char *key, const char *val)
{
	return (cur_len > 0 ? 1 : 0) + esc_len(key) + 1 + esc_len(val);
}

void at_kite_form_add(at_buf *b, const char *key, const char *val)
{
	size_t n = at_kite_form_len(b->len, key, val);
	char *o;

	at_buf_grow(b, n);
	o = b->data + b->len;
	if (b->len > 0)
		*o++ = '&';
	esc_put(o, key);
	o += esc_len(key);
	*o++ = '=';
	esc_put(o, val);
	b->len += n;
	b->data[b->len] = '\0';
}

/* ---- redaction --------------------------------------------------------- */

static const char *const secret_keys[] = {"password",	   "twofa_value",
					  "api_secret",	   "checksum",
					  "request_token", "access_token",
					  "enctoken",	   "refresh_token",
					  "public_token",  NULL};
static const char *const secret_headers[] = {
    "authorization", "proxy-authorization", "cookie", "set-cookie", NULL};

static const char REDACTED[] = "[redacted]";

static int ident(unsigned char c)
{
	return isalnum(c) || c == '_';
}

/* Length of the secret header name at s (line start), 0 if none. */
static size_t header_at(const char *s, size_t n)
{
	for (int k = 0; secret_headers[k] != NULL; k++) {
		size_t l = strlen(secret_headers[k]);

		if (n > l && strncasecmp(s, secret_headers[k], l) == 0 &&
		    s[l] == ':')
			return l;
	}
	return 0;
}

/* Length of the secret key at s[i] (on an identifier boundary), or 0. */
static size_t key_at(const char *s, size_t n, size_t i)
{
	if (i > 0 && ident((unsigned char)s[i - 1]))
		return 0;
	for (int k = 0; secret_keys[k] != NULL; k++) {
		size_t l = strlen(secret_keys[k]);

		if (n - i >= l && strncasecmp(s + i, secret_keys[k], l) == 0 &&
		    (i + l == n || !ident((unsigned char)s[i + l])))
			return l;
	}
	return 0;
}

static int value_end(unsigned char c)
{
	return c == '&' || c == ' ' || c == ',' || c == '}' || c == ';' ||
	       c == '"' || c == '\'' || c == '\r' || c == '\n' || c == '\t' ||
	       c == ']' || c == ')' || c == '<' || c == '>';
}

/*
 * After a key at s[i..i+kl): when a separator and a value follow, append
 * the key, separator and REDACTED and return the index after the value;
 * else return 0.
 */
static size_t redact_value(const char *s, size_t n, size_t i, size_t kl,
			   at_buf *out)
{
	size_t j = i + kl;

	if (j < n && s[j] == '"')
		j++;
	while (j < n && s[j] == ' ')
		j++;
	if (j >= n || (s[j] != '=' && s[j] != ':'))
		return 0;
	j++;
	while (j < n && s[j] == ' ')
		j++;
	at_buf_add(out, s + i, j - i);
	if (j < n && s[j] == '"') {
		j++;
		while (j < n && s[j] != '"') {
			if (s[j] == '\\' && j + 1 < n)
				j++;
			j++;
		}
		at_buf_putc(out, '"');
		at_buf_puts(out, REDACTED);
		if (j < n) {
			at_buf_putc(out, '"');
			j++;
		}
		return j;
	}
	while (j < n && !value_end((unsigned char)s[j]))
		j++;
	at_buf_puts(out, REDACTED);
	return j;
}

void at_kite_redact(const char *s, size_t len, at_buf *out)
{
	size_t i = 0;

	at_buf_grow(out, len + 1);
	while (i < len) {
		size_t eol = i, hl, sk;

		while (eol < len && s[eol] != '\n')
			eol++;
		/* trace prefixes ("> ", "< ") may precede a header name */
		sk = 0;
		while (i + sk < eol && sk < 4 && s[i + sk] != '\0' &&
		       strchr("<>* ", s[i + sk]))
			sk++;
		hl = header_at(s + i + sk, eol - i - sk);
		if (hl > 0) {
			size_t k = eol;

			if (k > i && s[k - 1] == '\r')
				k--;
			at_buf_add(out, s + i, sk + hl + 1);
			at_buf_putc(out, ' ');
			at_buf_puts(out, REDACTED);
			i = k;
		}
		while (i < eol) {
			size_t kl = key_at(s, eol, i), j;

			if (kl > 0 && (j = redact_value(s, eol, i, kl, out))) {
				i = j;
				continue;
			}
			at_buf_putc(out, s[i]);
			i++;
		}
		if (eol < len) {
			at_buf_putc(out, '\n');
			i = eol + 1;
		}
	}
}

/* ---- typed parsers ----------------------------------------------------- */

/*
 * A string field into dst[cap]: absent or null gives "".  Too long is an
 * error unless trunc.  Numbers are accepted for identifiers (some brokers
 * send order ids as numbers).
 */
static int gstr(jv o, const char *f, char *dst, size_t cap, int trunc,
		const char *where, at_err *e)
{
	jv v;
	const char *s;
	size_t n;

	dst[0] = '\0';
	if (jv_get_kind(o) != JV_KIND_OBJECT)
		return at_err_set(e, EX_DATAERR, "%s: expected object", where);
	v = jv_object_get(jv_copy(o), jv_string(f));
	if (jv_get_kind(v) == JV_KIND_NUMBER) {
		double d = jv_number_value(v);

		jv_free(v);
		if (d >= 0 && d < 9e15 && d == (double)(int64_t)d)
			return snprintf(dst, cap, "%lld", (long long)d) <
				       (int)cap
				   ? 1
				   : at_err_set(e, EX_DATAERR,
						"%s: field \"%s\": too long",
						where, f);
		return at_err_set(e, EX_DATAERR,
				  "%s: field \"%s\": expected string, got "
				  "number",
				  where, f);
	}
	if (jv_get_kind(v) != JV_KIND_STRING) {
		int absent = !jv_is_valid(v) || jv_get_kind(v) == JV_KIND_NULL;

		jv_free(v);
		if (absent)
			return 0;
		return at_err_set(e, EX_DATAERR,
				  "%s: field \"%s\": expected string", where,
				  f);
	}
	s = jv_string_value(v);
	n = (size_t)jv_string_length_bytes(jv_copy(v));
	if (memchr(s, '\0', n) != NULL || (n >= cap && !trunc)) {
		jv_free(v);
		return at_err_set(
		    e, EX_DATAERR, "%s: field \"%s\": %s (%zu bytes)", where, f,
		    n >= cap ? "too long" : "contains nul byte", n);
	}
	copy_line(dst, cap, s, n);
	jv_free(v);
	return 1;
}

#define GS(o, st, f) gstr(o, #f, (st)->f, sizeof((st)->f), 0, where, e)
#define GST(o, st, f) gstr(o, #f, (st)->f, sizeof((st)->f), 1, where, e)
#define GI(o, st, f)                                                           \
	at_json_get_i64(o, #f, 0, INT64_MIN, INT64_MAX, &(st)->f, where, e)
#define GF(o, st, f) at_json_get_f64(o, #f, 0, -1e18, 1e18, &(st)->f, where, e)

static int parse_order(jv o, void *p, const char *where, at_err *e)
{
	struct at_kite_order *x = p;

	memset(x, 0, sizeof(*x));
	if (jv_get_kind(o) != JV_KIND_OBJECT)
		return at_err_set(e, EX_DATAERR, "%s: expected object", where);
	if (gstr(o, "order_id", x->order_id, sizeof(x->order_id), 0, where,
		 e) <= 0)
		return x->order_id[0] ? -1
				      : at_err_set(e, EX_DATAERR,
						   "%s: field \"order_id\" is "
						   "required",
						   where);
	if (GS(o, x, exchange_order_id) < 0 || GS(o, x, parent_order_id) < 0 ||
	    GS(o, x, status) < 0 || GST(o, x, status_message) < 0 ||
	    GS(o, x, tag) < 0 || GS(o, x, tradingsymbol) < 0 ||
	    GS(o, x, exchange) < 0 || GS(o, x, transaction_type) < 0 ||
	    GS(o, x, order_type) < 0 || GS(o, x, product) < 0 ||
	    GS(o, x, variety) < 0 || GS(o, x, validity) < 0 ||
	    GS(o, x, order_timestamp) < 0 || GS(o, x, exchange_timestamp) < 0)
		return -1;
	if (GI(o, x, instrument_token) < 0 || GI(o, x, quantity) < 0 ||
	    GI(o, x, filled_quantity) < 0 || GI(o, x, pending_quantity) < 0 ||
	    GI(o, x, cancelled_quantity) < 0 ||
	    GI(o, x, disclosed_quantity) < 0 || GF(o, x, price) < 0 ||
	    GF(o, x, trigger_price) < 0 || GF(o, x, average_price) < 0)
		return -1;
	return 0;
}

static int parse_trade(jv o, void *p, const char *where, at_err *e)
{
	struct at_kite_trade *x = p;

	memset(x, 0, sizeof(*x));
	if (GS(o, x, trade_id) < 0 || GS(o, x, order_id) < 0 ||
	    GS(o, x, exchange_order_id) < 0 || GS(o, x, tradingsymbol) < 0 ||
	    GS(o, x, exchange) < 0 || GS(o, x, transaction_type) < 0 ||
	    GS(o, x, product) < 0 || GS(o, x, fill_timestamp) < 0 ||
	    GI(o, x, instrument_token) < 0 || GI(o, x, quantity) < 0 ||
	    GF(o, x, average_price) < 0)
		return -1;
	return 0;
}

static int parse_position(jv o, void *p, const char *where, at_err *e)
{
	struct at_kite_position *x = p;

	memset(x, 0, sizeof(*x));
	if (GS(o, x, tradingsymbol) < 0 || GS(o, x, exchange) < 0 ||
	    GS(o, x, product) < 0 || GI(o, x, instrument_token) < 0 ||
	    GI(o, x, quantity) < 0 || GI(o, x, overnight_quantity) < 0 ||
	    GI(o, x, buy_quantity) < 0 || GI(o, x, sell_quantity) < 0 ||
	    GF(o, x, multiplier) < 0 || GF(o, x, average_price) < 0 ||
	    GF(o, x, close_price) < 0 || GF(o, x, last_price) < 0 ||
	    GF(o, x, value) < 0 || GF(o, x, pnl) < 0 || GF(o, x, m2m) < 0 ||
	    GF(o, x, realised) < 0 || GF(o, x, unrealised) < 0 ||
	    GF(o, x, buy_price) < 0 || GF(o, x, sell_price) < 0)
		return -1;
	return 0;
}

static int parse_holding(jv o, void *p, const char *where, at_err *e)
{
	struct at_kite_holding *x = p;

	memset(x, 0, sizeof(*x));
	if (GS(o, x, tradingsymbol) < 0 || GS(o, x, exchange) < 0 ||
	    GS(o, x, isin) < 0 || GS(o, x, product) < 0 ||
	    GI(o, x, instrument_token) < 0 || GI(o, x, quantity) < 0 ||
	    GI(o, x, t1_quantity) < 0 || GI(o, x, used_quantity) < 0 ||
	    GF(o, x, average_price) < 0 || GF(o, x, last_price) < 0 ||
	    GF(o, x, close_price) < 0 || GF(o, x, pnl) < 0)
		return -1;
	return 0;
}

typedef int (*elem_fn)(jv o, void *x, const char *where, at_err *e);

/* Parse an array of objects with fn into a malloc'd array of size each. */
static int parse_array(jv data, const char *name, size_t size, elem_fn fn,
		       void **out, size_t *n, at_err *e)
{
	char where[64];
	int len;
	char *arr = NULL;

	*out = NULL;
	*n = 0;
	if (jv_get_kind(data) != JV_KIND_ARRAY)
		return at_err_set(e, EX_DATAERR, "%s: expected array", name);
	len = jv_array_length(jv_copy(data));
	if (len > 0)
		arr = at_xcalloc((size_t)len, size);
	for (int i = 0; i < len; i++) {
		jv o = jv_array_get(jv_copy(data), i);
		int rc;

		snprintf(where, sizeof(where), "%s[%d]", name, i);
		rc = fn(o, arr + (size_t)i * size, where, e);
		jv_free(o);
		if (rc < 0) {
			free(arr);
			return -1;
		}
	}
	*out = arr;
	*n = (size_t)len;
	return 0;
}

int at_kite_parse_orders(jv data, struct at_kite_order **out, size_t *n,
			 at_err *e)
{
	return parse_array(data, "orders", sizeof(**out), parse_order,
			   (void **)out, n, e);
}

int at_kite_parse_trades(jv data, struct at_kite_trade **out, size_t *n,
			 at_err *e)
{
	return parse_array(data, "trades", sizeof(**out), parse_trade,
			   (void **)out, n, e);
}

int at_kite_parse_holdings(jv data, struct at_kite_holding **out, size_t *n,
			   at_err *e)
{
	return parse_array(data, "holdings", sizeof(**out), parse_holding,
			   (void **)out, n, e);
}

void at_kite_positions_release(struct at_kite_positions *p)
{
	free(p->net);
	free(p->day);
	memset(p, 0, sizeof(*p));
}

int at_kite_parse_positions(jv data, struct at_kite_positions *out, at_err *e)
{
	jv net = jv_invalid(), day = jv_invalid();
	int rc = -1;

	memset(out, 0, sizeof(*out));
	if (at_json_get_arr(data, "net", 1, &net, "positions", e) < 0 ||
	    at_json_get_arr(data, "day", 1, &day, "positions", e) < 0)
		goto out;
	if (parse_array(net, "positions.net", sizeof(*out->net), parse_position,
			(void **)&out->net, &out->n_net, e) < 0 ||
	    parse_array(day, "positions.day", sizeof(*out->day), parse_position,
			(void **)&out->day, &out->n_day, e) < 0) {
		at_kite_positions_release(out);
		goto out;
	}
	rc = 0;
out:
	jv_free(net);
	jv_free(day);
	return rc;
}

static int parse_segment(jv o, struct at_kite_segment_margin *m,
			 const char *where, at_err *e)
{
	jv av = jv_invalid(), ut = jv_invalid();
	int rc = -1;

	memset(m, 0, sizeof(*m));
	if (at_json_get_bool(o, "enabled", 0, &m->enabled, where, e) < 0 ||
	    GF(o, m, net) < 0 ||
	    at_json_get_obj(o, "available", 1, &av, where, e) < 0 ||
	    at_json_get_obj(o, "utilised", 1, &ut, where, e) < 0)
		goto out;
	if (GF(av, m, cash) < 0 || GF(av, m, opening_balance) < 0 ||
	    GF(av, m, live_balance) < 0 || GF(av, m, collateral) < 0 ||
	    GF(av, m, intraday_payin) < 0 || GF(av, m, adhoc_margin) < 0 ||
	    GF(ut, m, debits) < 0 || GF(ut, m, exposure) < 0 ||
	    GF(ut, m, span) < 0 || GF(ut, m, option_premium) < 0 ||
	    GF(ut, m, m2m_realised) < 0 || GF(ut, m, m2m_unrealised) < 0 ||
	    GF(ut, m, payout) < 0 || GF(ut, m, holding_sales) < 0 ||
	    GF(ut, m, delivery) < 0)
		goto out;
	rc = 0;
out:
	jv_free(av);
	jv_free(ut);
	return rc;
}

int at_kite_parse_margins(jv data, const char *segment,
			  struct at_kite_margins *out, at_err *e)
{
	jv s;
	int rc;

	memset(out, 0, sizeof(*out));
	if (jv_get_kind(data) != JV_KIND_OBJECT)
		return at_err_set(e, EX_DATAERR, "margins: expected object");
	if (segment != NULL) {
		int eq = strcmp(segment, "equity") == 0;

		if (!eq && strcmp(segment, "commodity") != 0)
			return at_err_set(e, EX_USAGE,
					  "margins: unknown segment \"%s\"",
					  segment);
		if (parse_segment(data, eq ? &out->equity : &out->commodity,
				  eq ? "margins.equity" : "margins.commodity",
				  e) < 0)
			return -1;
		out->has_equity = eq;
		out->has_commodity = !eq;
		return 0;
	}
	rc = at_json_get_obj(data, "equity", 0, &s, "margins", e);
	if (rc < 0)
		return -1;
	if (rc == 1) {
		rc = parse_segment(s, &out->equity, "margins.equity", e);
		jv_free(s);
		if (rc < 0)
			return -1;
		out->has_equity = 1;
	}
	rc = at_json_get_obj(data, "commodity", 0, &s, "margins", e);
	if (rc < 0)
		return -1;
	if (rc == 1) {
		rc = parse_segment(s, &out->commodity, "margins.commodity", e);
		jv_free(s);
		if (rc < 0)
			return -1;
		out->has_commodity = 1;
	}
	return 0;
}

int at_kite_parse_profile(jv data, struct at_kite_profile *out, at_err *e)
{
	const char *where = "profile";

	memset(out, 0, sizeof(*out));
	if (GS(data, out, user_id) <= 0)
		return out->user_id[0]
			   ? -1
			   : at_err_set(e, EX_DATAERR,
					"profile: field \"user_id\" is "
					"required");
	if (GST(data, out, user_name) < 0 ||
	    GST(data, out, user_shortname) < 0 || GST(data, out, email) < 0 ||
	    GS(data, out, user_type) < 0 || GS(data, out, broker) < 0)
		return -1;
	return 0;
}

int at_kite_parse_order_id(jv data, char out[AT_KITE_ID_MAX], at_err *e)
{
	int rc = gstr(data, "order_id", out, AT_KITE_ID_MAX, 0, "order", e);

	if (rc < 0)
		return -1;
	if (rc == 0 || out[0] == '\0')
		return at_err_set(e, EX_DATAERR,
				  "order: field \"order_id\" is required");
	return 0;
}

static int parse_depth(jv depth, const char *side, struct at_kite_depth *d,
		       const char *where, at_err *e)
{
	jv arr;
	int rc = at_json_get_arr(depth, side, 0, &arr, where, e), len;

	if (rc <= 0)
		return rc;
	len = jv_array_length(jv_copy(arr));
	for (int i = 0; i < len && i < 5; i++) {
		jv x = jv_array_get(jv_copy(arr), i);

		rc = 0;
		if (GF(x, &d[i], price) < 0 || GI(x, &d[i], quantity) < 0 ||
		    GI(x, &d[i], orders) < 0)
			rc = -1;
		jv_free(x);
		if (rc < 0)
			break;
	}
	jv_free(arr);
	return rc < 0 ? -1 : 1;
}

static int parse_quote(jv o, struct at_kite_quote *q, const char *where,
		       at_err *e)
{
	jv sub;
	int rc;

	if (jv_get_kind(o) != JV_KIND_OBJECT)
		return at_err_set(e, EX_DATAERR, "%s: expected object", where);
	if (GI(o, q, instrument_token) < 0 || GF(o, q, last_price) < 0 ||
	    GS(o, q, timestamp) < 0 || GS(o, q, last_trade_time) < 0 ||
	    GI(o, q, last_quantity) < 0 || GI(o, q, volume) < 0 ||
	    GI(o, q, buy_quantity) < 0 || GI(o, q, sell_quantity) < 0 ||
	    GI(o, q, oi) < 0 || GF(o, q, average_price) < 0 ||
	    GF(o, q, net_change) < 0 || GF(o, q, lower_circuit_limit) < 0 ||
	    GF(o, q, upper_circuit_limit) < 0)
		return -1;
	rc = at_json_get_obj(o, "ohlc", 0, &sub, where, e);
	if (rc < 0)
		return -1;
	if (rc == 1) {
		q->has_ohlc = 1;
		rc = (GF(sub, q, open) < 0 || GF(sub, q, high) < 0 ||
		      GF(sub, q, low) < 0 || GF(sub, q, close) < 0)
			 ? -1
			 : 0;
		jv_free(sub);
		if (rc < 0)
			return -1;
	}
	rc = at_json_get_obj(o, "depth", 0, &sub, where, e);
	if (rc < 0)
		return -1;
	if (rc == 1) {
		q->has_depth = 1;
		rc = (parse_depth(sub, "buy", q->buy, where, e) < 0 ||
		      parse_depth(sub, "sell", q->sell, where, e) < 0)
			 ? -1
			 : 0;
		jv_free(sub);
		if (rc < 0)
			return -1;
	}
	return 0;
}

int at_kite_parse_quotes(jv data, struct at_kite_quote **out, size_t *n,
			 at_err *e)
{
	struct at_kite_quote *arr = NULL;
	size_t i = 0;
	int len;

	*out = NULL;
	*n = 0;
	if (jv_get_kind(data) != JV_KIND_OBJECT)
		return at_err_set(e, EX_DATAERR, "quote: expected object");
	len = jv_object_length(jv_copy(data));
	if (len > 0)
		arr = at_xcalloc((size_t)len, sizeof(*arr));
	for (int it = jv_object_iter(data); jv_object_iter_valid(data, it);
	     it = jv_object_iter_next(data, it)) {
		jv k = jv_object_iter_key(data, it);
		jv v = jv_object_iter_value(data, it);
		const char *ks = jv_string_value(k);
		size_t kl = (size_t)jv_string_length_bytes(jv_copy(k));
		char where[96];
		int rc = 0;

		snprintf(where, sizeof(where), "quote[\"%.60s\"]", ks);
		if (kl >= sizeof(arr[i].key) || memchr(ks, '\0', kl) != NULL)
			rc = at_err_set(e, EX_DATAERR,
					"quote: instrument key too long");
		else
			memcpy(arr[i].key, ks, kl + 1);
		if (rc == 0)
			rc = parse_quote(v, &arr[i], where, e);
		jv_free(k);
		jv_free(v);
		if (rc < 0) {
			free(arr);
			return -1;
		}
		i++;
	}
	*out = arr;
	*n = i;
	return 0;
}

/* ---- session (no libjq: the access token is copied only into out) ----- */

static int flat_str(const struct at_json_flat *fl, const char *key, char *dst,
		    size_t cap, int required, at_err *e)
{
	int rc = at_json_flat_str(fl, key, dst, cap, NULL, e);

	if (rc < 0)
		return at_err_prefix(e, "session: field \"%s\"", key);
	if (rc == 0) {
		dst[0] = '\0';
		if (required)
			return at_err_set(e, EX_DATAERR,
					  "session: field \"%s\" is required",
					  key);
	}
	return 0;
}

int at_kite_parse_session(const char *body, size_t len,
			  struct at_kite_session *out, at_err *e)
{
	struct at_json_flat env, d;
	const struct at_json_flat_field *f;
	char st[16];

	memset(out, 0, sizeof(*out));
	if (at_json_flat_parse(body, len, &env, e) < 0)
		return at_err_prefix(e, "session");
	if (at_json_flat_str(&env, "status", st, sizeof(st), NULL, e) != 1 ||
	    strcmp(st, "success") != 0)
		return at_err_set(e, EX_DATAERR,
				  "session: status is not \"success\"");
	f = at_json_flat_find(&env, "data");
	if (f == NULL || f->type != AT_JSON_OBJ)
		return at_err_set(e, EX_DATAERR,
				  "session: field \"data\": expected object");
	if (at_json_flat_parse(f->val, f->val_len, &d, e) < 0)
		return at_err_prefix(e, "session: data");
	if (flat_str(&d, "user_id", out->user_id, sizeof(out->user_id), 1, e) <
		0 ||
	    flat_str(&d, "access_token", out->access_token,
		     sizeof(out->access_token), 1, e) < 0 ||
	    flat_str(&d, "public_token", out->public_token,
		     sizeof(out->public_token), 0, e) < 0 ||
	    flat_str(&d, "user_name", out->user_name, sizeof(out->user_name), 0,
		     e) < 0 ||
	    flat_str(&d, "login_time", out->login_time, sizeof(out->login_time),
		     0, e) < 0) {
		at_kite_session_wipe(out);
		return -1;
	}
	if (out->access_token[0] == '\0') {
		at_kite_session_wipe(out);
		return at_err_set(e, EX_DATAERR,
				  "session: field \"access_token\" is empty");
	}
	return 0;
}

void at_kite_session_wipe(struct at_kite_session *s)
{
	explicit_bzero(s, sizeof(*s));
}

/* ---- instruments CSV --------------------------------------------------- */

static const char *const instr_cols[AT_KITE_INSTR_COLS] = {
    "instrument_token", "exchange_token",  "tradingsymbol", "name",
    "last_price",	"expiry",	   "strike",	    "tick_size",
    "lot_size",		"instrument_type", "segment",	    "exchange"};

/*
 * Next CSV field of line[*pos..len) into buf (cap bytes, NUL-terminated),
 * RFC 4180 quoting.  Returns the field length, -1 on a malformed quote,
 * -2 when it does not fit.  *more is 1 when a ',' followed (another field
 * comes, possibly empty); *pos then points after it.
 */
static long csv_field(const char *line, size_t len, size_t *pos, char *buf,
		      size_t cap, int *more)
{
	size_t i = *pos, n = 0;
	int quoted = i < len && line[i] == '"';

	*more = 0;
	if (quoted)
		i++;
	for (;;) {
		char c;

		if (i >= len) {
			if (quoted)
				return -1;
			break;
		}
		c = line[i];
		if (quoted && c == '"') {
			if (i + 1 < len && line[i + 1] == '"') {
				i++;
			} else {
				i++;
				if (i < len && line[i] != ',')
					return -1;
				break;
			}
		} else if (!quoted && c == ',') {
			break;
		} else if (!quoted && c == '"') {
			return -1;
		}
		if (n + 1 >= cap)
			return -2;
		buf[n++] = line[i];
		i++;
	}
	buf[n] = '\0';
	if (i < len) {
		*more = 1;
		i++;
	}
	*pos = i;
	return (long)n;
}

static size_t trim_eol(const char *line, size_t len)
{
	while (len > 0 && (line[len - 1] == '\r' || line[len - 1] == '\n'))
		len--;
	return len;
}

int at_kite_parse_instrument_header(const char *line, size_t len,
				    struct at_kite_csv_cols *cols, at_err *e)
{
	char buf[64];
	size_t pos = 0;
	int col = 0, more;

	len = trim_eol(line, len);
	for (int k = 0; k < AT_KITE_INSTR_COLS; k++)
		cols->idx[k] = -1;
	do {
		long n = csv_field(line, len, &pos, buf, sizeof(buf), &more);

		if (n < 0)
			return at_err_set(e, EX_DATAERR,
					  "header: column %d: malformed",
					  col + 1);
		for (int k = 0; k < AT_KITE_INSTR_COLS; k++)
			if (strcmp(buf, instr_cols[k]) == 0) {
				if (cols->idx[k] >= 0)
					return at_err_set(
					    e, EX_DATAERR,
					    "header: duplicate column \"%s\"",
					    buf);
				cols->idx[k] = col;
			}
		if (++col > 256)
			return at_err_set(e, EX_DATAERR,
					  "header: too many columns");
	} while (more);
	cols->ncols = col;
	for (int k = 0; k < AT_KITE_INSTR_COLS; k++)
		if (cols->idx[k] < 0)
			return at_err_set(e, EX_DATAERR,
					  "header: missing column \"%s\"",
					  instr_cols[k]);
	return 0;
}

static locale_t csv_locale;
static pthread_once_t csv_locale_once = PTHREAD_ONCE_INIT;

static void csv_locale_init(void)
{
	csv_locale = newlocale(LC_ALL_MASK, "C", (locale_t)0);
}

static int csv_f64(const char *s, double *out)
{
	char *end;
	double d;

	pthread_once(&csv_locale_once, csv_locale_init);
	if (*s == '\0' || isspace((unsigned char)*s))
		return -1;
	d = csv_locale != (locale_t)0 ? strtod_l(s, &end, csv_locale)
				      : strtod(s, &end);
	if (*end != '\0' || !isfinite(d))
		return -1;
	*out = d;
	return 0;
}

static int set_str(char *dst, size_t cap, const char *v, size_t n,
		   const char *col, at_err *e)
{
	if (n >= cap)
		return at_err_set(e, EX_DATAERR, "field \"%s\": too long", col);
	memcpy(dst, v, n + 1);
	return 0;
}

int at_kite_parse_instrument_line(const char *line, size_t len,
				  const struct at_kite_csv_cols *cols,
				  struct at_kite_instrument *out, at_err *e)
{
	char buf[256];
	size_t pos = 0;
	int col, seen = 0, more;

	memset(out, 0, sizeof(*out));
	len = trim_eol(line, len);
	for (col = 0, more = 1; more; col++) {
		long n;
		int k;

		if (col >= cols->ncols)
			return at_err_set(e, EX_DATAERR, "more than %d columns",
					  cols->ncols);
		n = csv_field(line, len, &pos, buf, sizeof(buf), &more);
		if (n < 0)
			return at_err_set(
			    e, EX_DATAERR, "column %d: %s", col + 1,
			    n == -1 ? "malformed quoting" : "field too long");
		for (k = 0; k < AT_KITE_INSTR_COLS; k++)
			if (cols->idx[k] == col)
				break;
		if (k == AT_KITE_INSTR_COLS)
			continue;
		seen++;
		switch (k) {
		case 0:
		case 1:
		case 8: {
			int64_t v;

			if (at_util_parse_i64(buf, &v) < 0)
				return at_err_set(e, EX_DATAERR,
						  "field \"%s\": expected "
						  "integer",
						  instr_cols[k]);
			if (k == 0)
				out->instrument_token = v;
			else if (k == 1)
				out->exchange_token = v;
			else
				out->lot_size = v;
			break;
		}
		case 4:
		case 6:
		case 7: {
			double d;

			if (csv_f64(buf, &d) < 0)
				return at_err_set(e, EX_DATAERR,
						  "field \"%s\": expected "
						  "number",
						  instr_cols[k]);
			if (k == 4)
				out->last_price = d;
			else if (k == 6)
				out->strike = d;
			else
				out->tick_size = d;
			break;
		}
		case 2:
			if (set_str(out->tradingsymbol,
				    sizeof(out->tradingsymbol), buf, (size_t)n,
				    instr_cols[k], e) < 0)
				return -1;
			break;
		case 3:
			if (set_str(out->name, sizeof(out->name), buf,
				    (size_t)n, instr_cols[k], e) < 0)
				return -1;
			break;
		case 5:
			if (set_str(out->expiry, sizeof(out->expiry), buf,
				    (size_t)n, instr_cols[k], e) < 0)
				return -1;
			break;
		case 9:
			if (set_str(out->instrument_type,
				    sizeof(out->instrument_type), buf,
				    (size_t)n, instr_cols[k], e) < 0)
				return -1;
			break;
		case 10:
			if (set_str(out->segment, sizeof(out->segment), buf,
				    (size_t)n, instr_cols[k], e) < 0)
				return -1;
			break;
		default:
			if (set_str(out->exchange, sizeof(out->exchange), buf,
				    (size_t)n, instr_cols[k], e) < 0)
				return -1;
		}
	}
	if (col != cols->ncols || seen != AT_KITE_INSTR_COLS)
		return at_err_set(e, EX_DATAERR, "expected %d columns, got %d",
				  cols->ncols, col);
	if (out->tradingsymbol[0] == '\0' || out->exchange[0] == '\0')
		return at_err_set(e, EX_DATAERR,
				  "empty tradingsymbol or exchange");
	return 0;
}

int at_kite_parse_instruments(const char *csv, size_t len,
			      struct at_kite_instrument **out, size_t *n,
			      at_err *e)
{
	struct at_kite_csv_cols cols;
	struct at_kite_instrument *arr = NULL;
	size_t cap = 0, cnt = 0, pos = 0;
	long lineno = 0;

	*out = NULL;
	*n = 0;
	while (pos < len) {
		const char *nl = memchr(csv + pos, '\n', len - pos);
		size_t ll = nl ? (size_t)(nl - (csv + pos)) : len - pos;
		const char *line = csv + pos;

		pos += ll + (nl ? 1 : 0);
		lineno++;
		if (lineno == 1) {
			if (at_kite_parse_instrument_header(line, ll, &cols,
							    e) < 0)
				goto fail;
			continue;
		}
		if (trim_eol(line, ll) == 0)
			continue;
		if (cnt == cap) {
			cap = cap ? cap * 2 : 1024;
			arr = at_xrealloc(arr, cap * sizeof(*arr));
		}
		if (at_kite_parse_instrument_line(line, ll, &cols, &arr[cnt],
						  e) < 0)
			goto fail;
		cnt++;
	}
	if (lineno == 0) {
		at_err_set(e, EX_DATAERR, "empty dump");
		goto fail;
	}
	*out = arr;
	*n = cnt;
	return 0;
fail:
	free(arr);
	return at_err_prefix(e, "instruments:%ld", lineno);
}
