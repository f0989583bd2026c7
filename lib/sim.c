/*
 * sim: the Kite Connect v3 simulator (see sim.h).
 *
 * Everything runs on one libwebsockets event loop: HTTP requests are parsed
 * in LWS_CALLBACK_HTTP (+ _BODY, _BODY_COMPLETION), answered into a
 * per-request buffer and written on LWS_CALLBACK_HTTP_WRITEABLE, after an
 * lws timer when a latency fault is set, so a delay never blocks the loop.
 * The ticker is the same protocol after a WebSocket upgrade; a context
 * timer runs the tick rounds, encoding each subscribed instrument once per
 * round and mode and copying the packets into every connection's frames.
 */
#include <ctype.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <arpa/inet.h>
#include <libwebsockets.h>

#include "buf.h"
#include "json.h"
#include "log.h"
#include "sim.h"
#include "ticker.h"
#include "totp.h"
#include "util.h"

/* ==== endpoints ======================================================== */

static const char *const ep_names[AT_SIM_EP_COUNT] = {
    "session.token",  "login",	       "twofa",	       "connect.login",
    "connect.finish", "user.profile",  "user.margins", "orders.place",
    "orders.modify",  "orders.cancel", "orders",       "orders.history",
    "trades",	      "positions",     "holdings",     "instruments",
    "quote",	      "quote.ltp",     "quote.ohlc",   "ws",
};

const char *at_sim_ep_name(int ep)
{
	return ep >= 0 && ep < AT_SIM_EP_COUNT ? ep_names[ep] : NULL;
}

int at_sim_ep_by_name(const char *name, size_t len)
{
	for (int i = 0; i < AT_SIM_EP_COUNT; i++)
		if (strlen(ep_names[i]) == len &&
		    !memcmp(ep_names[i], name, len))
			return i;
	return -1;
}

/* ==== accounts file ==================================================== */

static void wipe_free(char *s)
{
	if (s) {
		explicit_bzero(s, strlen(s));
		free(s);
	}
}

void at_sim_accounts_free(struct at_sim_account *a, size_t n)
{
	if (!a)
		return;
	for (size_t i = 0; i < n; i++) {
		free(a[i].api_key);
		wipe_free(a[i].api_secret);
		free(a[i].user_id);
		wipe_free(a[i].password);
		at_totp_free_key(a[i].totp_key, a[i].totp_keylen);
		free(a[i].user_name);
		free(a[i].email);
	}
	free(a);
}

/* A field for an account: required strings are 1..max bytes, printable. */
static int acct_str(jv o, const char *field, int required, size_t max,
		    char **out, const char *where, at_err *e)
{
	int rc = at_json_get_str(o, field, required, out, where, e);

	if (rc <= 0)
		return rc;
	size_t n = strlen(*out);
	if (n == 0 || n > max) {
		free(*out);
		*out = NULL;
		return at_err_set(e, EX_DATAERR,
				  "%s: field \"%s\": expected 1 to %zu bytes",
				  where, field, max);
	}
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)(*out)[i] < 0x20) {
			wipe_free(*out);
			*out = NULL;
			return at_err_set(e, EX_DATAERR,
					  "%s: field \"%s\": control character",
					  where, field);
		}
	return 1;
}

int at_sim_accounts_parse(const char *text, size_t len, const char *where,
			  struct at_sim_account **out, size_t *n, at_err *e)
{
	static const char *const keys[] = {
	    "api_key",	   "api_secret", "user_id", "password",
	    "totp_secret", "user_name",	 "email",   NULL};
	struct at_sim_account *a = NULL;
	size_t cnt = 0;
	jv root = jv_invalid();
	char pos[600];
	int rc = -1;

	*out = NULL;
	*n = 0;
	if (at_json_parse(text, len, &root, where, e) < 0)
		return -1;
	if (jv_get_kind(root) != JV_KIND_ARRAY) {
		at_err_set(e, EX_DATAERR,
			   "%s: expected a json array of accounts", where);
		goto out;
	}
	int total = jv_array_length(jv_copy(root));
	a = at_xcalloc((size_t)total + 1, sizeof(*a));
	for (int i = 0; i < total; i++) {
		jv o = jv_array_get(jv_copy(root), i);
		struct at_sim_account *x = &a[cnt];
		char *b32 = NULL;
		int bad;

		snprintf(pos, sizeof(pos), "%s: account %d", where, i + 1);
		cnt++;
		if (jv_get_kind(o) != JV_KIND_OBJECT) {
			jv_free(o);
			at_err_set(e, EX_DATAERR, "%s: expected an object",
				   pos);
			goto out;
		}
		bad =
		    at_json_check_keys(o, keys, pos, e) < 0 ||
		    acct_str(o, "api_key", 1, 64, &x->api_key, pos, e) < 0 ||
		    acct_str(o, "api_secret", 1, 128, &x->api_secret, pos, e) <
			0 ||
		    acct_str(o, "user_id", 1, 30, &x->user_id, pos, e) < 0 ||
		    acct_str(o, "password", 1, 128, &x->password, pos, e) < 0 ||
		    acct_str(o, "totp_secret", 1, 256, &b32, pos, e) < 0 ||
		    acct_str(o, "user_name", 0, 100, &x->user_name, pos, e) <
			0 ||
		    acct_str(o, "email", 0, 200, &x->email, pos, e) < 0;
		jv_free(o);
		if (bad) {
			wipe_free(b32);
			goto out;
		}
		if (at_totp_parse_secret(b32, &x->totp_key, &x->totp_keylen,
					 e) < 0) {
			wipe_free(b32);
			at_err_set(
			    e, EX_DATAERR,
			    "%s: field \"totp_secret\": not valid base32", pos);
			goto out;
		}
		wipe_free(b32);
		for (const char *c = x->api_key; *c; c++)
			if (!isalnum((unsigned char)*c) && *c != '_' &&
			    *c != '-') {
				at_err_set(
				    e, EX_DATAERR,
				    "%s: field \"api_key\": only letters, "
				    "digits, '_' and '-'",
				    pos);
				goto out;
			}
		for (size_t j = 0; j + 1 < cnt; j++) {
			if (!strcmp(a[j].api_key, x->api_key)) {
				at_err_set(
				    e, EX_DATAERR,
				    "%s: duplicate api_key (account %zu)", pos,
				    j + 1);
				goto out;
			}
			if (!strcmp(a[j].user_id, x->user_id)) {
				at_err_set(
				    e, EX_DATAERR,
				    "%s: duplicate user_id (account %zu)", pos,
				    j + 1);
				goto out;
			}
		}
		if (!x->user_name)
			x->user_name = at_xstrdup(x->user_id);
		if (!x->email) {
			at_buf b = AT_BUF_INIT;
			at_buf_printf(&b, "%s@example.com", x->user_id);
			x->email = at_buf_detach(&b, NULL);
		}
	}
	*out = a;
	*n = cnt;
	a = NULL;
	rc = 0;
out:
	at_sim_accounts_free(a, cnt);
	jv_free(root);
	return rc;
}

/* ==== forms ============================================================ */

void at_sim_form_add(struct at_sim_form *f, const char *k, size_t klen,
		     const char *v, size_t vlen)
{
	if (f->n == f->cap) {
		f->cap = f->cap ? f->cap * 2 : 16;
		f->kv = at_xrealloc(f->kv, f->cap * sizeof(*f->kv));
	}
	f->kv[f->n].key = at_xstrndup(k, klen);
	f->kv[f->n].val = at_xstrndup(v, vlen);
	f->n++;
}

static int hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Decode s[0..len) into out (len+1 bytes); -1 at a bad escape/NUL. */
static int urldecode(const char *s, size_t len, char *out, size_t *olen,
		     size_t *bad)
{
	size_t o = 0;

	for (size_t i = 0; i < len; i++) {
		int c = (unsigned char)s[i];
		if (c == '+')
			c = ' ';
		else if (c == '%') {
			int h, l;
			if (i + 2 >= len) {
				*bad = i;
				return -1;
			}
			h = hexval((unsigned char)s[i + 1]);
			l = hexval((unsigned char)s[i + 2]);
			if (h < 0 || l < 0) {
				*bad = i;
				return -1;
			}
			c = h * 16 + l;
			i += 2;
		}
		if (c == 0) {
			*bad = i;
			return -1;
		}
		out[o++] = (char)c;
	}
	out[o] = '\0';
	*olen = o;
	return 0;
}

int at_sim_form_parse(struct at_sim_form *f, const char *s, size_t len,
		      at_err *e)
{
	size_t i = 0, start = f->n;
	char *tmp = at_xmalloc(len + 1);
	int rc = -1;

	while (i < len) {
		size_t j = i, eq = (size_t)-1, kl, vl, bad = 0;
		while (j < len && s[j] != '&') {
			if (s[j] == '=' && eq == (size_t)-1)
				eq = j;
			j++;
		}
		if (j > i) {
			size_t kend = eq == (size_t)-1 ? j : eq;
			char *v;
			if (f->n - start >= AT_SIM_FORM_MAX_FIELDS) {
				at_err_set(
				    e, EX_DATAERR,
				    "form offset %zu: more than %d fields", i,
				    AT_SIM_FORM_MAX_FIELDS);
				goto out;
			}
			if (urldecode(s + i, kend - i, tmp, &kl, &bad) < 0) {
				at_err_set(
				    e, EX_DATAERR,
				    "form offset %zu: bad percent escape",
				    i + bad);
				goto out;
			}
			char *k = at_xstrndup(tmp, kl);
			v = tmp;
			vl = 0;
			tmp[0] = '\0';
			if (eq != (size_t)-1 &&
			    urldecode(s + eq + 1, j - eq - 1, tmp, &vl, &bad) <
				0) {
				free(k);
				at_err_set(
				    e, EX_DATAERR,
				    "form offset %zu: bad percent escape",
				    eq + 1 + bad);
				goto out;
			}
			at_sim_form_add(f, k, kl, v, vl);
			free(k);
		}
		i = j + 1;
	}
	rc = 0;
out:
	explicit_bzero(tmp, len + 1);
	free(tmp);
	return rc;
}

const char *at_sim_form_get(const struct at_sim_form *f, const char *key)
{
	for (size_t i = 0; i < f->n; i++)
		if (!strcmp(f->kv[i].key, key))
			return f->kv[i].val;
	return NULL;
}

void at_sim_form_free(struct at_sim_form *f)
{
	for (size_t i = 0; i < f->n; i++) {
		free(f->kv[i].key);
		wipe_free(f->kv[i].val);
	}
	free(f->kv);
	f->kv = NULL;
	f->n = f->cap = 0;
}

/* ==== WebSocket messages =============================================== */

void at_sim_ws_msg_free(struct at_sim_ws_msg *m)
{
	free(m->tokens);
	m->tokens = NULL;
	m->n = 0;
}

static int tokens_of(jv arr, struct at_sim_ws_msg *m, at_err *e)
{
	int n;

	if (jv_get_kind(arr) != JV_KIND_ARRAY)
		return at_err_set(e, EX_DATAERR,
				  "field \"v\": expected an array of "
				  "instrument tokens");
	n = jv_array_length(jv_copy(arr));
	if (n > AT_SIM_WS_MAX_TOKENS)
		return at_err_set(e, EX_DATAERR,
				  "field \"v\": more than %d tokens",
				  AT_SIM_WS_MAX_TOKENS);
	m->tokens = n ? at_xcalloc((size_t)n, sizeof(uint32_t)) : NULL;
	for (int i = 0; i < n; i++) {
		jv t = jv_array_get(jv_copy(arr), i);
		double d =
		    jv_get_kind(t) == JV_KIND_NUMBER ? jv_number_value(t) : -1;
		jv_free(t);
		if (!(d >= 0 && d <= 4294967295.0) || d != floor(d))
			return at_err_set(e, EX_DATAERR,
					  "field \"v\": element %d: expected "
					  "an instrument token",
					  i + 1);
		m->tokens[m->n++] = (uint32_t)d;
	}
	return 0;
}

int at_sim_ws_msg_parse(const char *s, size_t len, struct at_sim_ws_msg *m,
			at_err *e)
{
	jv o = jv_invalid(), a = jv_invalid(), v = jv_invalid();
	int rc = -1;

	memset(m, 0, sizeof(*m));
	if (at_json_parse(s, len, &o, "message", e) < 0)
		return -1;
	if (jv_get_kind(o) != JV_KIND_OBJECT) {
		at_err_set(e, EX_DATAERR, "message: expected an object");
		goto out;
	}
	a = jv_object_get(jv_copy(o), jv_string("a"));
	v = jv_object_get(jv_copy(o), jv_string("v"));
	if (jv_get_kind(a) != JV_KIND_STRING) {
		at_err_set(e, EX_DATAERR, "field \"a\": expected a string");
		goto out;
	}
	const char *act = jv_string_value(a);
	if (!strcmp(act, "subscribe") || !strcmp(act, "unsubscribe")) {
		m->action =
		    act[0] == 's' ? AT_SIM_WS_SUBSCRIBE : AT_SIM_WS_UNSUBSCRIBE;
		if (tokens_of(v, m, e) < 0)
			goto out;
	} else if (!strcmp(act, "mode")) {
		jv md, toks;
		m->action = AT_SIM_WS_MODE;
		if (jv_get_kind(v) != JV_KIND_ARRAY ||
		    jv_array_length(jv_copy(v)) != 2) {
			at_err_set(e, EX_DATAERR,
				   "field \"v\": expected [mode, [tokens]]");
			goto out;
		}
		md = jv_array_get(jv_copy(v), 0);
		if (jv_get_kind(md) != JV_KIND_STRING) {
			jv_free(md);
			at_err_set(e, EX_DATAERR,
				   "field \"v\": mode must be ltp, quote or "
				   "full");
			goto out;
		}
		const char *ms = jv_string_value(md);
		m->mode = !strcmp(ms, "ltp")	 ? AT_TICKER_MODE_LTP
			  : !strcmp(ms, "quote") ? AT_TICKER_MODE_QUOTE
			  : !strcmp(ms, "full")	 ? AT_TICKER_MODE_FULL
						 : -1;
		jv_free(md);
		if (m->mode < 0) {
			at_err_set(e, EX_DATAERR,
				   "field \"v\": mode must be ltp, quote or "
				   "full");
			goto out;
		}
		toks = jv_array_get(jv_copy(v), 1);
		int r = tokens_of(toks, m, e);
		jv_free(toks);
		if (r < 0)
			goto out;
	} else {
		at_err_set(e, EX_DATAERR,
			   "field \"a\": expected subscribe, unsubscribe or "
			   "mode");
		goto out;
	}
	rc = 0;
out:
	if (rc < 0)
		at_sim_ws_msg_free(m);
	jv_free(o);
	jv_free(a);
	jv_free(v);
	return rc;
}

/* ==== faults =========================================================== */

static int set_rate(struct at_sim_faults *f, const char *name, size_t len,
		    double r, at_err *e)
{
	if (!(r >= 0 && r <= 1))
		return at_err_set(e, EX_DATAERR,
				  "error_rate \"%.*s\": expected 0 to 1",
				  (int)(len > 40 ? 40 : len), name);
	if (len == 1 && name[0] == '*') {
		for (int i = 0; i < AT_SIM_EP_COUNT; i++)
			f->error_rate[i] = r;
		return 0;
	}
	int ep = at_sim_ep_by_name(name, len);
	if (ep < 0)
		return at_err_set(e, EX_DATAERR,
				  "error_rate: unknown endpoint \"%.*s\"",
				  (int)(len > 40 ? 40 : len), name);
	f->error_rate[ep] = r;
	return 0;
}

int at_sim_faults_error_rate(const char *arg, struct at_sim_faults *f,
			     at_err *e)
{
	const char *eq = strchr(arg, '=');
	char *end;
	double r;

	if (!eq)
		return at_err_set(e, EX_USAGE,
				  "--error-rate: expected ENDPOINT=RATE");
	r = strtod(eq + 1, &end);
	if (end == eq + 1 || *end)
		return at_err_set(e, EX_USAGE,
				  "--error-rate: expected a rate from 0 to 1");
	return set_rate(f, arg, (size_t)(eq - arg), r, e);
}

int at_sim_faults_parse(const char *s, size_t len, struct at_sim_faults *f,
			at_err *e)
{
	static const char *const keys[] = {"latency_ms",
					   "error_rate",
					   "drop_ws_every_s",
					   "reject_orders",
					   "expire_tokens",
					   "token_ttl_s",
					   NULL};
	struct at_sim_faults n = *f;
	jv o = jv_invalid(), er = jv_invalid();
	int64_t v;
	int b, rc = -1;

	if (at_json_parse(s, len, &o, "faults", e) < 0)
		return -1;
	if (jv_get_kind(o) != JV_KIND_OBJECT) {
		at_err_set(e, EX_DATAERR, "faults: expected an object");
		goto out;
	}
	if (at_json_check_keys(o, keys, "faults", e) < 0)
		goto out;
	v = n.latency_ms;
	if (at_json_get_i64(o, "latency_ms", 0, 0, 600000, &v, "faults", e) < 0)
		goto out;
	n.latency_ms = (int)v;
	v = n.drop_ws_every_s;
	if (at_json_get_i64(o, "drop_ws_every_s", 0, 0, 86400, &v, "faults",
			    e) < 0)
		goto out;
	n.drop_ws_every_s = (int)v;
	v = n.token_ttl_s;
	if (at_json_get_i64(o, "token_ttl_s", 0, 0, 86400 * 7, &v, "faults",
			    e) < 0)
		goto out;
	n.token_ttl_s = (int)v;
	b = n.reject_orders;
	if (at_json_get_bool(o, "reject_orders", 0, &b, "faults", e) < 0)
		goto out;
	n.reject_orders = b;
	b = 0;
	if (at_json_get_bool(o, "expire_tokens", 0, &b, "faults", e) < 0)
		goto out;
	n.expire_tokens = b;
	int have = at_json_get_obj(o, "error_rate", 0, &er, "faults", e);
	if (have < 0)
		goto out;
	if (have > 0) {
		jv star = jv_object_get(jv_copy(er), jv_string("*"));
		if (jv_get_kind(star) != JV_KIND_INVALID) {
			if (jv_get_kind(star) != JV_KIND_NUMBER) {
				jv_free(star);
				at_err_set(e, EX_DATAERR,
					   "faults: field \"error_rate\": "
					   "expected numbers");
				goto out;
			}
			if (set_rate(&n, "*", 1, jv_number_value(star), e) <
			    0) {
				jv_free(star);
				goto out;
			}
		}
		jv_free(star);
		int it = jv_object_iter(er);
		while (jv_object_iter_valid(er, it)) {
			jv k = jv_object_iter_key(er, it);
			jv x = jv_object_iter_value(er, it);
			const char *ks = jv_string_value(k);
			int r = 0;
			if (jv_get_kind(x) != JV_KIND_NUMBER)
				r = at_err_set(e, EX_DATAERR,
					       "faults: field \"error_rate\": "
					       "expected numbers");
			else if (strcmp(ks, "*"))
				r = set_rate(&n, ks, strlen(ks),
					     jv_number_value(x), e);
			jv_free(k);
			jv_free(x);
			if (r < 0)
				goto out;
			it = jv_object_iter_next(er, it);
		}
	}
	*f = n;
	rc = 0;
out:
	jv_free(o);
	jv_free(er);
	return rc;
}

/* ==== server state ===================================================== */

#define SIM_IST_MS (19800LL * 1000)
#define SIM_DAY_MS (86400LL * 1000)
#define SIM_TEMP_TTL_MS (5LL * 60 * 1000) /* request ids, tokens, sessions */
#define SIM_BODY_MAX (1 << 20)
#define SIM_WS_RX_MAX (4 << 20)
#define SIM_WS_PER_KEY 3
#define SIM_WS_MAX_SUBS 3000
#define SIM_FRAME_MAX 4096	  /* payload bytes of one ticker frame */
#define SIM_WS_BACKLOG (8u << 20) /* queued bytes before rounds skip */
#define SIM_CHUNK 65536
#define SIM_SENDS_MAX 65536 /* --record-sends: the last sends kept */

/* Sliding one-second window of at most cap request times (rate limit). */
struct win {
	int64_t ts[64];
	int head, n;
};

/* Request times of the last second, for the peak-per-second figure. */
struct tsq {
	int64_t *ts;
	size_t cap, head, n;
	size_t peak;
};

struct wsconn;

struct acct {
	struct at_sim_account *a;
	char access_token[33];
	char public_token[33];
	int64_t access_exp; /* sim clock ms; 0: none */
	int64_t login_ms;
	struct tok *enc; /* current enctoken */
	uint64_t requests, rate_limited;
	struct tsq recent;
	struct win rl[3];
	struct wsconn *ws[SIM_WS_PER_KEY];
	int nws;
};

enum { RL_ORDERS, RL_QUOTE, RL_OTHER };

enum { TK_SESS = 1, TK_REQID, TK_ENC, TK_REQTOK };

struct tok {
	char s[33];
	int kind;
	struct acct *ac;
	int64_t expires; /* sim clock ms */
};

/* Open-addressing string map (linear probing, backward-shift delete). */
struct smap {
	struct sent {
		const char *k;
		void *v;
	} * e;
	size_t cap, n;
};

struct msg {
	struct msg *next;
	size_t len;
	int binary;
	unsigned packets;
	uint32_t round;	     /* tick round of a ticker frame */
	unsigned char buf[]; /* LWS_PRE + len */
};

struct wsconn {
	struct wsconn *prev, *next;
	struct lws *wsi;
	uint64_t id; /* 1, 2, ... in order of connection */
	struct acct *ac;
	struct sub {
		uint32_t token;
		uint32_t idx; /* market index */
		int mode;
	} * subs;
	size_t nsubs;
	struct msg *qhead, *qtail;
	size_t queued;
	int64_t last_send_ms;
	int closing;
	at_buf rx;
	int rx_overflow;
};

struct req {
	int method;
	int ep;	   /* endpoint or -1 */
	int admin; /* /_sim/ */
	char path[256];
	at_buf body;
	int body_overflow;
	int have_body; /* waiting for the body */
	int done;      /* handled */
	struct at_sim_form q;
	char host[128];
	char auth[256];
	char cookie[512];
	/* response */
	int status;
	const char *ctype;
	char location[768];
	char set_cookie[128];
	at_buf out;
	size_t off;
	int hdr_sent;
	int ready;
};

struct pss {
	struct req *rq;
	struct wsconn *ws;
};

struct pk {
	uint32_t round;
	uint8_t have; /* bit per mode */
	uint8_t len[3];
	uint8_t buf[3][AT_TICKER_LEN_FULL];
};

/* One ticker frame written (--record-sends). */
struct sendrec {
	uint64_t conn;
	uint64_t seq; /* write order */
	uint32_t round;
	uint32_t packets;
	int64_t us; /* CLOCK_REALTIME microseconds after lws_write */
};

struct at_sim {
	struct at_sim_config cfg;
	struct lws_context *ctx;
	struct lws_vhost *vh;
	struct lws_protocols protocols[2];
	int port;
	volatile int stop;
	at_market *mkt;
	struct at_sim_account *accts;
	size_t naccts;
	struct acct *ac;
	struct smap by_key, by_user, toks;
	uint64_t rng[4];
	int64_t clock_ms;     /* manual clock */
	int64_t clock_origin; /* real clock: start_ms - wall at start */
	/* market index by token */
	uint32_t *tok_key, *tok_val;
	size_t tok_cap;
	struct pk *pk;
	uint32_t round;
	lws_sorted_usec_list_t sul_tick, sul_house;
	int64_t next_drop_ms;
	struct wsconn *ws_head;
	int nws;
	uint64_t ws_seq;
	struct sendrec *sends; /* ring of SIM_SENDS_MAX; NULL: not recorded */
	size_t sends_head, sends_n;
	uint64_t sends_seq;
	/* stats */
	uint64_t ep_count[AT_SIM_EP_COUNT];
	uint64_t logins, rate_limited, ticks_sent, ticks_skipped;
	struct tsq login_recent;
	struct win login_win;
};

/* ---- small helpers ---- */

static uint64_t rotl(uint64_t x, int k)
{
	return (x << k) | (x >> (64 - k));
}

static uint64_t rng_next(at_sim *s)
{
	uint64_t *r = s->rng, res = rotl(r[1] * 5, 7) * 9, t = r[1] << 17;
	r[2] ^= r[0];
	r[3] ^= r[1];
	r[1] ^= r[2];
	r[0] ^= r[3];
	r[2] ^= t;
	r[3] = rotl(r[3], 45);
	return res;
}

static void rng_seed(at_sim *s, uint64_t seed)
{
	for (int i = 0; i < 4; i++) {
		uint64_t z = (seed += 0x9e3779b97f4a7c15ULL);
		z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
		z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
		s->rng[i] = z ^ (z >> 31);
	}
}

static double rng_unit(at_sim *s)
{
	return (double)(rng_next(s) >> 11) / 9007199254740992.0;
}

static void rand_token(at_sim *s, char out[33])
{
	static const char al[] = "abcdefghijklmnopqrstuvwxyz"
				 "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
	for (int i = 0; i < 32; i++)
		out[i] = al[rng_next(s) % 62];
	out[32] = '\0';
}

static int64_t mono_ms(void)
{
	return at_util_mono_ns() / 1000000;
}

static int64_t sim_now(const at_sim *s)
{
	if (s->cfg.manual_clock)
		return s->clock_ms;
	return at_util_now_ms() + s->clock_origin;
}

static int ct_eq(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	unsigned char d = la != lb;
	for (size_t i = 0; i < la && i < lb; i++)
		d |= (unsigned char)(a[i] ^ b[i]);
	return d == 0;
}

static uint64_t strhash(const char *k)
{
	uint64_t h = 1469598103934665603ULL;
	for (; *k; k++)
		h = (h ^ (unsigned char)*k) * 1099511628211ULL;
	return h;
}

static void smap_put(struct smap *m, const char *k, void *v);

static void smap_grow(struct smap *m)
{
	struct smap n = {0};
	n.cap = m->cap ? m->cap * 2 : 64;
	n.e = at_xcalloc(n.cap, sizeof(*n.e));
	for (size_t i = 0; i < m->cap; i++)
		if (m->e[i].k)
			smap_put(&n, m->e[i].k, m->e[i].v);
	free(m->e);
	*m = n;
}

/* k must live as long as the entry (it points into v). */
static void smap_put(struct smap *m, const char *k, void *v)
{
	if ((m->n + 1) * 2 > m->cap)
		smap_grow(m);
	size_t i = strhash(k) & (m->cap - 1);
	while (m->e[i].k && strcmp(m->e[i].k, k))
		i = (i + 1) & (m->cap - 1);
	if (!m->e[i].k)
		m->n++;
	m->e[i].k = k;
	m->e[i].v = v;
}

static void *smap_get(const struct smap *m, const char *k)
{
	if (!m->cap)
		return NULL;
	size_t i = strhash(k) & (m->cap - 1);
	while (m->e[i].k) {
		if (!strcmp(m->e[i].k, k))
			return m->e[i].v;
		i = (i + 1) & (m->cap - 1);
	}
	return NULL;
}

static void smap_del(struct smap *m, const char *k)
{
	if (!m->cap)
		return;
	size_t mask = m->cap - 1, i = strhash(k) & mask;
	while (m->e[i].k && strcmp(m->e[i].k, k))
		i = (i + 1) & mask;
	if (!m->e[i].k)
		return;
	m->e[i].k = NULL;
	m->n--;
	for (size_t j = (i + 1) & mask; m->e[j].k; j = (j + 1) & mask) {
		size_t h = strhash(m->e[j].k) & mask;
		/* move j back to i when its home is not in (i, j] */
		if ((j > i && (h <= i || h > j)) ||
		    (j < i && h <= i && h > j)) {
			m->e[i] = m->e[j];
			m->e[j].k = NULL;
			i = j;
		}
	}
}

static int win_allow(struct win *w, int limit, int64_t now)
{
	if (limit > 64)
		limit = 64;
	if (w->n < limit) {
		w->ts[(w->head + w->n) % limit] = now;
		w->n++;
		return 1;
	}
	if (w->ts[w->head] > now - 1000)
		return 0;
	w->ts[w->head] = now;
	w->head = (w->head + 1) % limit;
	return 1;
}

static void tsq_push(struct tsq *q, int64_t now)
{
	while (q->n && q->ts[q->head] <= now - 1000) {
		q->head = (q->head + 1) % q->cap;
		q->n--;
	}
	if (q->n == q->cap) {
		size_t nc = q->cap ? q->cap * 2 : 32;
		int64_t *n = at_xmalloc(nc * sizeof(*n));
		for (size_t i = 0; i < q->n; i++)
			n[i] = q->ts[(q->head + i) % q->cap];
		free(q->ts);
		q->ts = n;
		q->cap = nc;
		q->head = 0;
	}
	q->ts[(q->head + q->n) % q->cap] = now;
	q->n++;
	if (q->n > q->peak)
		q->peak = q->n;
}

static void tsq_clear(struct tsq *q)
{
	q->head = q->n = q->peak = 0;
}

/* Market index of a token, or -1 (open addressing on uint32). */
static long tok_index(const at_sim *s, uint32_t token)
{
	size_t i = (token * 2654435761u) & (s->tok_cap - 1);
	while (s->tok_val[i]) {
		if (s->tok_key[i] == token)
			return (long)s->tok_val[i] - 1;
		i = (i + 1) & (s->tok_cap - 1);
	}
	return -1;
}

/* The daily expiry after t (sim ms): the next HH:MM IST. */
static int64_t next_expiry(const at_sim *s, int64_t t)
{
	int64_t at = (int64_t)s->cfg.token_expiry_min * 60000;
	int64_t local = t + SIM_IST_MS;
	int64_t day0 = local - ((local % SIM_DAY_MS) + SIM_DAY_MS) % SIM_DAY_MS;
	int64_t x = day0 + at;
	if (x <= local)
		x += SIM_DAY_MS;
	return x - SIM_IST_MS;
}

static void fmt_ist(int64_t ms, char out[20])
{
	time_t t = (time_t)((ms + SIM_IST_MS) / 1000);
	struct tm tm;
	gmtime_r(&t, &tm);
	strftime(out, 20, "%Y-%m-%d %H:%M:%S", &tm);
}

static void tok_free(at_sim *s, struct tok *t)
{
	smap_del(&s->toks, t->s);
	if (t->kind == TK_ENC && t->ac && t->ac->enc == t)
		t->ac->enc = NULL;
	explicit_bzero(t->s, sizeof(t->s));
	free(t);
}

static struct tok *tok_new(at_sim *s, int kind, struct acct *ac, int64_t ttl)
{
	struct tok *t = at_xcalloc(1, sizeof(*t));
	do
		rand_token(s, t->s);
	while (smap_get(&s->toks, t->s));
	t->kind = kind;
	t->ac = ac;
	t->expires = sim_now(s) + ttl;
	smap_put(&s->toks, t->s, t);
	return t;
}

/* The live token s of kind, or NULL (expired ones are dropped). */
static struct tok *tok_find(at_sim *s, const char *str, int kind)
{
	struct tok *t = str ? smap_get(&s->toks, str) : NULL;
	if (!t || t->kind != kind)
		return NULL;
	if (t->expires <= sim_now(s)) {
		tok_free(s, t);
		return NULL;
	}
	return t;
}

static void toks_sweep(at_sim *s, int all)
{
	int64_t now = sim_now(s);
	size_t n = 0;
	struct tok **dead = at_xmalloc((s->toks.n + 1) * sizeof(*dead));
	for (size_t i = 0; i < s->toks.cap; i++) {
		struct tok *t = s->toks.e[i].v;
		if (s->toks.e[i].k && (all || t->expires <= now))
			dead[n++] = t;
	}
	for (size_t i = 0; i < n; i++)
		tok_free(s, dead[i]);
	free(dead);
}

static void access_clear(struct acct *ac)
{
	explicit_bzero(ac->access_token, sizeof(ac->access_token));
	explicit_bzero(ac->public_token, sizeof(ac->public_token));
	ac->access_exp = 0;
}

/* The account whose live access token this is, or NULL. */
static struct acct *auth_check(at_sim *s, const char *key, const char *token)
{
	struct acct *ac = key ? smap_get(&s->by_key, key) : NULL;
	if (!ac || !token || !ac->access_exp)
		return NULL;
	if (!ct_eq(ac->access_token, token))
		return NULL;
	if (ac->access_exp <= sim_now(s)) {
		access_clear(ac);
		return NULL;
	}
	return ac;
}

/* ==== WebSocket output ================================================= */

static struct msg *msg_new(size_t len, int binary)
{
	struct msg *m = at_xmalloc(sizeof(*m) + LWS_PRE + len);
	m->next = NULL;
	m->len = len;
	m->binary = binary;
	m->packets = 0;
	return m;
}

static void ws_push(struct wsconn *c, struct msg *m)
{
	if (c->qtail)
		c->qtail->next = m;
	else
		c->qhead = m;
	c->qtail = m;
	c->queued += m->len;
	lws_callback_on_writable(c->wsi);
}

static void ws_text(struct wsconn *c, const char *type, const char *data,
		    size_t dlen, int raw)
{
	at_buf b = AT_BUF_INIT;
	at_buf_puts(&b, "{\"type\":");
	at_json_enc_str(&b, type, strlen(type));
	at_buf_puts(&b, ",\"data\":");
	if (raw)
		at_buf_add(&b, data, dlen);
	else
		at_json_enc_str(&b, data, dlen);
	at_buf_putc(&b, '}');
	struct msg *m = msg_new(b.len, 0);
	memcpy(m->buf + LWS_PRE, b.data, b.len);
	at_buf_release(&b);
	ws_push(c, m);
}

static void ws_error(struct wsconn *c, const char *msg)
{
	ws_text(c, "error", msg, strlen(msg), 0);
}

static void ws_close_all(at_sim *s)
{
	for (struct wsconn *c = s->ws_head; c; c = c->next) {
		c->closing = 1;
		lws_callback_on_writable(c->wsi);
	}
}

static void ws_detach(at_sim *s, struct wsconn *c)
{
	if (c->prev)
		c->prev->next = c->next;
	else if (s->ws_head == c)
		s->ws_head = c->next;
	if (c->next)
		c->next->prev = c->prev;
	s->nws--;
	if (c->ac) {
		for (int i = 0; i < c->ac->nws; i++)
			if (c->ac->ws[i] == c) {
				c->ac->ws[i] = c->ac->ws[--c->ac->nws];
				break;
			}
	}
	while (c->qhead) {
		struct msg *m = c->qhead;
		c->qhead = m->next;
		free(m);
	}
	free(c->subs);
	at_buf_release(&c->rx);
	free(c);
}

/* Market callback: an order changed; tell the account's ticker sockets. */
static void on_order(void *ctx, const char *account, const char *json,
		     size_t len)
{
	at_sim *s = ctx;
	struct acct *ac = smap_get(&s->by_user, account);
	if (!ac)
		return;
	for (int i = 0; i < ac->nws; i++)
		ws_text(ac->ws[i], "order", json, len, 1);
}

/* The packet of market index idx in mode, encoded once per round. */
static int packet(at_sim *s, uint32_t idx, int mode, const uint8_t **p)
{
	struct pk *k = &s->pk[idx];
	if (k->round != s->round) {
		k->round = s->round;
		k->have = 0;
	}
	if (!(k->have & (1u << mode))) {
		struct at_tick t;
		const struct at_market_instrument *in =
		    at_market_at(s->mkt, idx);
		k->len[mode] = 0;
		if (in && at_market_tick(s->mkt, in->instrument_token, &t) == 0)
			k->len[mode] = (uint8_t)at_ticker_encode_packet(
			    &t, mode, k->buf[mode], sizeof(k->buf[mode]));
		k->have |= (uint8_t)(1u << mode);
	}
	*p = k->buf[mode];
	return k->len[mode];
}

static void ws_round(at_sim *s, struct wsconn *c)
{
	struct msg *m = NULL;
	struct at_ticker_frame f;

	if (!c->nsubs || c->closing)
		return;
	if (c->queued > SIM_WS_BACKLOG) {
		s->ticks_skipped += c->nsubs;
		return;
	}
	for (size_t i = 0; i <= c->nsubs; i++) {
		const uint8_t *p = NULL;
		int n = i < c->nsubs
			    ? packet(s, c->subs[i].idx, c->subs[i].mode, &p)
			    : 0;
		if (i < c->nsubs && n == 0)
			continue;
		if (m && (i == c->nsubs || f.len + 2 + (size_t)n > f.cap)) {
			m->len = at_ticker_frame_finish(&f);
			m->packets = f.count;
			m->round = s->round;
			ws_push(c, m);
			m = NULL;
		}
		if (i == c->nsubs)
			break;
		if (!m) {
			m = msg_new(SIM_FRAME_MAX, 1);
			at_ticker_frame_init(&f, m->buf + LWS_PRE,
					     SIM_FRAME_MAX);
		}
		if (at_ticker_frame_add_raw(&f, p, (size_t)n) < 0)
			break; /* cannot happen: checked above */
	}
	free(m);
}

static void send_record(at_sim *s, const struct wsconn *c, const struct msg *m)
{
	struct sendrec *r = &s->sends[s->sends_head];
	struct timespec ts;
	r->conn = c->id;
	r->seq = ++s->sends_seq;
	r->round = m->round;
	r->packets = m->packets;
	clock_gettime(CLOCK_REALTIME, &ts);
	r->us = (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
	s->sends_head = (s->sends_head + 1) % SIM_SENDS_MAX;
	if (s->sends_n < SIM_SENDS_MAX)
		s->sends_n++;
}

static int ws_writeable(at_sim *s, struct wsconn *c)
{
	if (c->closing) {
		lws_close_reason(c->wsi, LWS_CLOSE_STATUS_GOINGAWAY,
				 (unsigned char *)"simulated drop", 14);
		return -1;
	}
	while (c->qhead && !lws_send_pipe_choked(c->wsi)) {
		struct msg *m = c->qhead;
		int n =
		    lws_write(c->wsi, m->buf + LWS_PRE, m->len,
			      m->binary ? LWS_WRITE_BINARY : LWS_WRITE_TEXT);
		if (n < (int)m->len)
			return -1;
		c->qhead = m->next;
		if (!c->qhead)
			c->qtail = NULL;
		c->queued -= m->len;
		s->ticks_sent += m->packets;
		c->last_send_ms = mono_ms();
		if (s->sends && m->packets)
			send_record(s, c, m);
		free(m);
	}
	if (c->qhead)
		lws_callback_on_writable(c->wsi);
	return 0;
}

static int sub_cmp(const void *a, const void *b)
{
	uint32_t x = ((const struct sub *)a)->token;
	uint32_t y = ((const struct sub *)b)->token;
	return x < y ? -1 : x > y;
}

static struct sub *sub_find(struct wsconn *c, uint32_t token)
{
	struct sub key = {token, 0, 0};
	return c->nsubs
		   ? bsearch(&key, c->subs, c->nsubs, sizeof(*c->subs), sub_cmp)
		   : NULL;
}

/* Apply one client message; unknown tokens are ignored as Kite does. */
static void ws_apply(at_sim *s, struct wsconn *c, const struct at_sim_ws_msg *m)
{
	size_t over = 0;

	if (m->action == AT_SIM_WS_UNSUBSCRIBE) {
		size_t o = 0;
		for (size_t i = 0; i < c->nsubs; i++) {
			int drop = 0;
			for (size_t j = 0; j < m->n && !drop; j++)
				drop = m->tokens[j] == c->subs[i].token;
			if (!drop)
				c->subs[o++] = c->subs[i];
		}
		c->nsubs = o;
		return;
	}
	int mode = m->action == AT_SIM_WS_MODE ? m->mode : AT_TICKER_MODE_QUOTE;
	if (!c->subs)
		c->subs = at_xcalloc(SIM_WS_MAX_SUBS, sizeof(*c->subs));
	for (size_t j = 0; j < m->n; j++) {
		struct sub *x = sub_find(c, m->tokens[j]);
		long idx;
		if (x) {
			if (m->action == AT_SIM_WS_MODE)
				x->mode = mode;
			continue;
		}
		idx = tok_index(s, m->tokens[j]);
		if (idx < 0)
			continue;
		if (c->nsubs >= SIM_WS_MAX_SUBS) {
			over++;
			continue;
		}
		size_t lo = 0, hi = c->nsubs;
		while (lo < hi) {
			size_t mid = (lo + hi) / 2;
			if (c->subs[mid].token < m->tokens[j])
				lo = mid + 1;
			else
				hi = mid;
		}
		memmove(&c->subs[lo + 1], &c->subs[lo],
			(c->nsubs - lo) * sizeof(*c->subs));
		c->subs[lo].token = m->tokens[j];
		c->subs[lo].idx = (uint32_t)idx;
		c->subs[lo].mode = mode;
		c->nsubs++;
	}
	if (over) {
		char b[160];
		snprintf(b, sizeof(b),
			 "subscription limit of %d instruments per connection "
			 "reached: %zu ignored",
			 SIM_WS_MAX_SUBS, over);
		ws_error(c, b);
	}
}

/* ==== HTTP responses =================================================== */

static void reply(struct req *r, int status, const char *ctype)
{
	r->status = status;
	r->ctype = ctype;
	r->done = 1;
}

/* {"status":"success","data":<raw>} */
static void ok_raw(struct req *r, const char *raw, size_t len)
{
	at_buf_reset(&r->out);
	at_buf_puts(&r->out, "{\"status\":\"success\",\"data\":");
	at_buf_add(&r->out, raw, len);
	at_buf_putc(&r->out, '}');
	reply(r, 200, "application/json");
}

static void ok_buf(struct req *r, at_buf *data)
{
	ok_raw(r, data->data ? data->data : "null", data->data ? data->len : 4);
	at_buf_release(data);
}

static void fail(struct req *r, int status, const char *type, const char *fmt,
		 ...) __attribute__((format(printf, 4, 5)));

static void fail(struct req *r, int status, const char *type, const char *fmt,
		 ...)
{
	char m[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(m, sizeof(m), fmt, ap);
	va_end(ap);
	at_buf_reset(&r->out);
	at_json_enc_begin(&r->out);
	at_json_enc_key_str(&r->out, "status", "error");
	at_json_enc_key_str(&r->out, "message", m);
	at_json_enc_key_null(&r->out, "data");
	at_json_enc_key_str(&r->out, "error_type", type);
	at_json_enc_end(&r->out);
	reply(r, status, "application/json");
}

static void redirect(struct req *r, const char *loc)
{
	snprintf(r->location, sizeof(r->location), "%s", loc);
	at_buf_reset(&r->out);
	reply(r, 302, "text/html");
}

static const char *param(const struct req *r, const char *k)
{
	return at_sim_form_get(&r->q, k);
}

static const char *need(struct req *r, const char *k)
{
	const char *v = param(r, k);
	if (!v || !*v) {
		fail(r, 400, "InputException", "Missing `%s`.", k);
		return NULL;
	}
	return v;
}

/* ==== login flow ======================================================= */

static void h_connect_login(at_sim *s, struct req *r)
{
	const char *key = need(r, "api_key");
	struct acct *ac;
	char loc[768];

	if (!key)
		return;
	ac = smap_get(&s->by_key, key);
	if (!ac) {
		fail(r, 400, "InputException", "Invalid api_key");
		return;
	}
	struct tok *t = tok_new(s, TK_SESS, ac, SIM_TEMP_TTL_MS);
	snprintf(loc, sizeof(loc),
		 "http://%s/connect/login?api_key=%s&sess_id=%s", r->host,
		 ac->a->api_key, t->s);
	redirect(r, loc);
}

static void h_login(at_sim *s, struct req *r)
{
	const char *uid = need(r, "user_id"), *pw;
	struct acct *ac;

	if (!uid || !(pw = need(r, "password")))
		return;
	ac = smap_get(&s->by_user, uid);
	if (!ac || !ct_eq(ac->a->password, pw)) {
		fail(r, 400, "InputException", "Invalid username or password.");
		return;
	}
	struct tok *t = tok_new(s, TK_REQID, ac, SIM_TEMP_TTL_MS);
	at_buf b = AT_BUF_INIT;
	at_json_enc_begin(&b);
	at_json_enc_key_str(&b, "user_id", ac->a->user_id);
	at_json_enc_key_str(&b, "request_id", t->s);
	at_json_enc_key_str(&b, "twofa_type", "totp");
	at_json_enc_key_raw(&b, "twofa_types", "[\"totp\"]");
	at_json_enc_key_obj(&b, "profile");
	at_json_enc_key_str(&b, "user_name", ac->a->user_name);
	at_json_enc_end(&b);
	at_json_enc_end(&b);
	ok_buf(r, &b);
}

static void h_twofa(at_sim *s, struct req *r)
{
	const char *uid = need(r, "user_id"), *rid, *code, *type;
	struct acct *ac;
	struct tok *t;

	if (!uid || !(rid = need(r, "request_id")) ||
	    !(code = need(r, "twofa_value")))
		return;
	type = param(r, "twofa_type");
	if (type && strcmp(type, "totp")) {
		fail(r, 400, "InputException", "Invalid `twofa_type`.");
		return;
	}
	ac = smap_get(&s->by_user, uid);
	t = tok_find(s, rid, TK_REQID);
	if (!ac || !t || t->ac != ac) {
		fail(r, 400, "InputException",
		     "Request expired. Please login again.");
		return;
	}
	size_t n = strlen(code);
	int digits = n == 6;
	for (size_t i = 0; i < n; i++)
		digits &= isdigit((unsigned char)code[i]) != 0;
	if (!digits || !at_totp_check(ac->a->totp_key, ac->a->totp_keylen,
				      time(NULL), code, 1)) {
		fail(r, 400, "TwoFAException", "Invalid TOTP");
		return;
	}
	tok_free(s, t);
	if (ac->enc)
		tok_free(s, ac->enc);
	ac->enc = tok_new(s, TK_ENC, ac, 0);
	ac->enc->expires = next_expiry(s, sim_now(s));
	snprintf(r->set_cookie, sizeof(r->set_cookie), "enctoken=%s; path=/",
		 ac->enc->s);
	ok_raw(r, "{}", 2);
}

/* The value of cookie name in r->cookie, copied to out. */
static int cookie_get(const struct req *r, const char *name, char *out,
		      size_t cap)
{
	size_t nl = strlen(name);
	const char *p = r->cookie;
	while (*p) {
		while (*p == ' ' || *p == ';')
			p++;
		const char *e = strchr(p, ';');
		size_t l = e ? (size_t)(e - p) : strlen(p);
		if (l > nl && !strncmp(p, name, nl) && p[nl] == '=') {
			size_t vl = l - nl - 1;
			if (vl >= cap)
				return -1;
			memcpy(out, p + nl + 1, vl);
			out[vl] = '\0';
			return 0;
		}
		p += l;
	}
	return -1;
}

static void h_connect_finish(at_sim *s, struct req *r)
{
	const char *key = need(r, "api_key"), *sid;
	char enc[64], loc[512];
	struct acct *ac;
	struct tok *st, *et;

	if (!key || !(sid = need(r, "sess_id")))
		return;
	ac = smap_get(&s->by_key, key);
	if (!ac) {
		fail(r, 400, "InputException", "Invalid api_key");
		return;
	}
	st = tok_find(s, sid, TK_SESS);
	et = cookie_get(r, "enctoken", enc, sizeof(enc)) == 0
		 ? tok_find(s, enc, TK_ENC)
		 : NULL;
	if (!st || st->ac != ac || !et || et->ac != ac) {
		fail(r, 403, "TokenException",
		     "Login session is invalid or 2FA is not complete.");
		return;
	}
	tok_free(s, st);
	struct tok *rt = tok_new(s, TK_REQTOK, ac, SIM_TEMP_TTL_MS);
	snprintf(loc, sizeof(loc),
		 "http://127.0.0.1/at-callback?action=login&type=login&"
		 "status=success&request_token=%s",
		 rt->s);
	redirect(r, loc);
}

static void session_json(at_sim *s, struct acct *ac, at_buf *b)
{
	char lt[20];
	fmt_ist(ac->login_ms, lt);
	at_json_enc_begin(b);
	at_json_enc_key_str(b, "user_type", "individual");
	at_json_enc_key_str(b, "email", ac->a->email);
	at_json_enc_key_str(b, "user_name", ac->a->user_name);
	at_json_enc_key_str(b, "user_shortname", ac->a->user_name);
	at_json_enc_key_str(b, "broker", "ZERODHA");
	at_json_enc_key_raw(b, "exchanges",
			    "[\"NSE\",\"NFO\",\"BSE\",\"BFO\"]");
	at_json_enc_key_raw(b, "products",
			    "[\"CNC\",\"NRML\",\"MIS\",\"BO\",\"CO\"]");
	at_json_enc_key_raw(b, "order_types",
			    "[\"MARKET\",\"LIMIT\",\"SL\",\"SL-M\"]");
	at_json_enc_key_null(b, "avatar_url");
	at_json_enc_key_str(b, "user_id", ac->a->user_id);
	at_json_enc_key_str(b, "api_key", ac->a->api_key);
	at_json_enc_key_str(b, "access_token", ac->access_token);
	at_json_enc_key_str(b, "public_token", ac->public_token);
	at_json_enc_key_str(b, "enctoken", ac->enc ? ac->enc->s : "");
	at_json_enc_key_str(b, "refresh_token", "");
	at_json_enc_key_str(b, "silo", "");
	at_json_enc_key_str(b, "login_time", lt);
	at_json_enc_key_raw(b, "meta", "{\"demat_consent\":\"physical\"}");
	at_json_enc_end(b);
	(void)s;
}

static void h_session_token(at_sim *s, struct req *r)
{
	const char *key = need(r, "api_key"), *rtok, *sum;
	struct acct *ac;
	struct tok *t;
	char want[65];

	if (r->method == LWSHUMETH_DELETE) {
		const char *tok;
		if (!key || !(tok = need(r, "access_token")))
			return;
		ac = auth_check(s, key, tok);
		if (!ac) {
			fail(r, 403, "TokenException",
			     "Incorrect `api_key` or `access_token`.");
			return;
		}
		access_clear(ac);
		ok_raw(r, "true", 4);
		return;
	}
	if (!key || !(rtok = need(r, "request_token")) ||
	    !(sum = need(r, "checksum")))
		return;
	ac = smap_get(&s->by_key, key);
	if (!ac) {
		fail(r, 403, "TokenException", "Invalid `api_key`.");
		return;
	}
	t = tok_find(s, rtok, TK_REQTOK);
	if (!t || t->ac != ac) {
		fail(r, 403, "TokenException",
		     "Token is invalid or has expired.");
		return;
	}
	at_buf b = AT_BUF_INIT;
	at_buf_printf(&b, "%s%s%s", ac->a->api_key, rtok, ac->a->api_secret);
	at_util_sha256_hex(b.data, b.len, want);
	at_buf_wipe_release(&b);
	if (!ct_eq(want, sum)) {
		fail(r, 403, "TokenException", "Invalid checksum");
		return;
	}
	tok_free(s, t);
	int64_t now = sim_now(s);
	rand_token(s, ac->access_token);
	rand_token(s, ac->public_token);
	ac->login_ms = now;
	ac->access_exp = next_expiry(s, now);
	if (s->cfg.faults.token_ttl_s &&
	    now + s->cfg.faults.token_ttl_s * 1000LL < ac->access_exp)
		ac->access_exp = now + s->cfg.faults.token_ttl_s * 1000LL;
	session_json(s, ac, &b);
	ok_buf(r, &b);
}

/* ==== API ============================================================== */

static void h_profile(at_sim *s, struct acct *ac, struct req *r)
{
	at_buf b = AT_BUF_INIT;
	(void)s;
	at_json_enc_begin(&b);
	at_json_enc_key_str(&b, "user_id", ac->a->user_id);
	at_json_enc_key_str(&b, "user_type", "individual");
	at_json_enc_key_str(&b, "email", ac->a->email);
	at_json_enc_key_str(&b, "user_name", ac->a->user_name);
	at_json_enc_key_str(&b, "user_shortname", ac->a->user_name);
	at_json_enc_key_str(&b, "broker", "ZERODHA");
	at_json_enc_key_raw(&b, "exchanges",
			    "[\"NSE\",\"NFO\",\"BSE\",\"BFO\"]");
	at_json_enc_key_raw(&b, "products",
			    "[\"CNC\",\"NRML\",\"MIS\",\"BO\",\"CO\"]");
	at_json_enc_key_raw(&b, "order_types",
			    "[\"MARKET\",\"LIMIT\",\"SL\",\"SL-M\"]");
	at_json_enc_key_null(&b, "avatar_url");
	at_json_enc_key_raw(&b, "meta", "{\"demat_consent\":\"physical\"}");
	at_json_enc_end(&b);
	ok_buf(r, &b);
}

static int is_one_of(const char *v, const char *const *set)
{
	for (; *set; set++)
		if (!strcmp(v, *set))
			return 1;
	return 0;
}

/* Number fields: -1 and a 400 naming the field when malformed. */
static int field_int(struct req *r, const char *k, int min, int *out)
{
	const char *v = param(r, k);
	int64_t x;
	if (!v || !*v)
		return 0;
	if (at_util_parse_i64(v, &x) < 0 || x < min || x > 100000000) {
		fail(r, 400, "InputException", "Invalid `%s`.", k);
		return -1;
	}
	*out = (int)x;
	return 1;
}

static int field_num(struct req *r, const char *k, double *out)
{
	const char *v = param(r, k);
	char *end;
	double x;
	if (!v || !*v)
		return 0;
	x = strtod(v, &end);
	if (*end || end == v || !isfinite(x) || x < 0 || x > 1e9) {
		fail(r, 400, "InputException", "Invalid `%s`.", k);
		return -1;
	}
	*out = x;
	return 1;
}

static int field_enum(struct req *r, const char *k, const char *const *set,
		      int required, const char **out)
{
	const char *v = param(r, k);
	if (!v || !*v) {
		if (required) {
			fail(r, 400, "InputException", "Missing `%s`.", k);
			return -1;
		}
		return 0;
	}
	if (!is_one_of(v, set)) {
		fail(r, 400, "InputException", "Invalid `%s`.", k);
		return -1;
	}
	*out = v;
	return 1;
}

static const char *const varieties[] = {"regular", "amo", "iceberg", "co",
					NULL};
static const char *const otypes[] = {"MARKET", "LIMIT", "SL", "SL-M", NULL};
static const char *const sides[] = {"BUY", "SELL", NULL};
static const char *const products[] = {"MIS", "NRML", "CNC", NULL};
static const char *const validities[] = {"DAY", "IOC", "TTL", NULL};
static const char *const exchanges[] = {"NSE", "NFO", "BSE", "BFO",
					"CDS", "MCX", "BCD", NULL};

static void market_fail(struct req *r, enum at_market_err k, const char *msg)
{
	fail(r, 400,
	     k == AT_MARKET_ORDER    ? "OrderException"
	     : k == AT_MARKET_MARGIN ? "MarginException"
				     : "InputException",
	     "%s", msg[0] ? msg : "Order rejected.");
}

static void order_id_reply(struct req *r, const char *id)
{
	at_buf b = AT_BUF_INIT;
	at_json_enc_begin(&b);
	at_json_enc_key_str(&b, "order_id", id);
	at_json_enc_end(&b);
	ok_buf(r, &b);
}

static void h_place(at_sim *s, struct acct *ac, struct req *r,
		    const char *variety)
{
	struct at_market_order_req o = {0};
	char id[24] = {0}, msg[512] = {0};

	o.variety = variety;
	if (!(o.tradingsymbol = need(r, "tradingsymbol")) ||
	    field_enum(r, "exchange", exchanges, 1, &o.exchange) < 0 ||
	    field_enum(r, "transaction_type", sides, 1, &o.transaction_type) <
		0 ||
	    field_enum(r, "order_type", otypes, 1, &o.order_type) < 0 ||
	    field_enum(r, "product", products, 1, &o.product) < 0 ||
	    field_enum(r, "validity", validities, 0, &o.validity) < 0)
		return;
	int q = field_int(r, "quantity", 1, &o.quantity);
	if (q < 0)
		return;
	if (q == 0) {
		fail(r, 400, "InputException", "Missing `quantity`.");
		return;
	}
	if (field_num(r, "price", &o.price) < 0 ||
	    field_num(r, "trigger_price", &o.trigger_price) < 0 ||
	    field_int(r, "disclosed_quantity", 0, &o.disclosed_quantity) < 0 ||
	    field_int(r, "iceberg_legs", 0, &o.iceberg_legs) < 0 ||
	    field_int(r, "iceberg_quantity", 0, &o.iceberg_quantity) < 0)
		return;
	if ((!strcmp(o.order_type, "LIMIT") || !strcmp(o.order_type, "SL")) &&
	    !(o.price > 0)) {
		fail(r, 400, "InputException", "Missing `price`.");
		return;
	}
	if ((!strcmp(o.order_type, "SL") || !strcmp(o.order_type, "SL-M")) &&
	    !(o.trigger_price > 0)) {
		fail(r, 400, "InputException", "Missing `trigger_price`.");
		return;
	}
	o.tag = param(r, "tag");
	if (o.tag && !*o.tag)
		o.tag = NULL;
	if (o.tag && strlen(o.tag) > 20) {
		fail(r, 400, "InputException",
		     "Invalid `tag`: at most 20 characters.");
		return;
	}
	enum at_market_err k =
	    at_market_place(s->mkt, ac->a->user_id, &o, id, msg, sizeof(msg));
	if (k != AT_MARKET_OK) {
		market_fail(r, k, msg);
		return;
	}
	order_id_reply(r, id);
}

static void h_modify(at_sim *s, struct acct *ac, struct req *r,
		     const char *variety, const char *id)
{
	struct at_market_order_req o = {0};
	char msg[512] = {0};

	o.variety = variety;
	if (field_enum(r, "order_type", otypes, 0, &o.order_type) < 0 ||
	    field_enum(r, "validity", validities, 0, &o.validity) < 0 ||
	    field_int(r, "quantity", 1, &o.quantity) < 0 ||
	    field_num(r, "price", &o.price) < 0 ||
	    field_num(r, "trigger_price", &o.trigger_price) < 0 ||
	    field_int(r, "disclosed_quantity", 0, &o.disclosed_quantity) < 0)
		return;
	enum at_market_err k =
	    at_market_modify(s->mkt, ac->a->user_id, id, &o, msg, sizeof(msg));
	if (k != AT_MARKET_OK) {
		market_fail(r, k, msg);
		return;
	}
	order_id_reply(r, id);
}

static void h_cancel(at_sim *s, struct acct *ac, struct req *r, const char *id)
{
	char msg[512] = {0};
	enum at_market_err k =
	    at_market_cancel(s->mkt, ac->a->user_id, id, msg, sizeof(msg));
	if (k != AT_MARKET_OK) {
		market_fail(r, k, msg);
		return;
	}
	order_id_reply(r, id);
}

static void h_quote(at_sim *s, struct req *r, const char *kind)
{
	const char **keys = at_xcalloc(r->q.n + 1, sizeof(*keys));
	size_t n = 0;
	for (size_t i = 0; i < r->q.n; i++)
		if (!strcmp(r->q.kv[i].key, "i") && r->q.kv[i].val[0])
			keys[n++] = r->q.kv[i].val;
	if (n == 0) {
		free(keys);
		fail(r, 400, "InputException", "Missing `i`.");
		return;
	}
	if (n > 1000) {
		free(keys);
		fail(r, 400, "InputException",
		     "Too many instruments: at most 1000.");
		return;
	}
	at_buf b = AT_BUF_INIT;
	at_market_quote_json(s->mkt, kind, keys, n, &b);
	free(keys);
	ok_buf(r, &b);
}

/* Split "/a/b/c" into at most 4 segments (pointers into buf). */
static int segments(const char *path, char *buf, size_t cap, char *seg[4])
{
	int n = 0;
	snprintf(buf, cap, "%s", path);
	for (char *p = buf; *p && n < 5;) {
		while (*p == '/')
			*p++ = '\0';
		if (!*p)
			break;
		if (n == 4)
			return -1;
		seg[n++] = p;
		while (*p && *p != '/')
			p++;
	}
	return n;
}

/* Which endpoint a method and path are; -1 for none. */
static int route(int meth, const char *path)
{
	char buf[256], *g[4];
	int n = segments(path, buf, sizeof(buf), g);
	int get = meth == LWSHUMETH_GET, post = meth == LWSHUMETH_POST;

	if (n <= 0)
		return -1;
	if (!strcmp(g[0], "connect") && n == 2 && get)
		return !strcmp(g[1], "login")	 ? AT_SIM_EP_CONNECT_LOGIN
		       : !strcmp(g[1], "finish") ? AT_SIM_EP_CONNECT_FINISH
						 : -1;
	if (!strcmp(g[0], "api") && n == 2 && post)
		return !strcmp(g[1], "login")	? AT_SIM_EP_LOGIN
		       : !strcmp(g[1], "twofa") ? AT_SIM_EP_TWOFA
						: -1;
	if (!strcmp(g[0], "session") && n == 2 && !strcmp(g[1], "token") &&
	    (post || meth == LWSHUMETH_DELETE))
		return AT_SIM_EP_SESSION_TOKEN;
	if (!strcmp(g[0], "user") && get && n >= 2) {
		if (!strcmp(g[1], "profile") && n == 2)
			return AT_SIM_EP_USER_PROFILE;
		if (!strcmp(g[1], "margins") && n <= 3)
			return AT_SIM_EP_USER_MARGINS;
		return -1;
	}
	if (!strcmp(g[0], "orders")) {
		if (n == 1 && get)
			return AT_SIM_EP_ORDERS;
		if (n == 2 && post)
			return AT_SIM_EP_ORDERS_PLACE;
		if (n == 2 && get)
			return AT_SIM_EP_ORDERS_HISTORY;
		if (n == 3 && meth == LWSHUMETH_PUT)
			return AT_SIM_EP_ORDERS_MODIFY;
		if (n == 3 && meth == LWSHUMETH_DELETE)
			return AT_SIM_EP_ORDERS_CANCEL;
		if (n == 3 && get && !strcmp(g[2], "trades"))
			return AT_SIM_EP_TRADES;
		return -1;
	}
	if (!strcmp(g[0], "trades") && n == 1 && get)
		return AT_SIM_EP_TRADES;
	if (!strcmp(g[0], "portfolio") && n == 2 && get)
		return !strcmp(g[1], "positions")  ? AT_SIM_EP_POSITIONS
		       : !strcmp(g[1], "holdings") ? AT_SIM_EP_HOLDINGS
						   : -1;
	if (!strcmp(g[0], "instruments") && n <= 2 && get)
		return AT_SIM_EP_INSTRUMENTS;
	if (!strcmp(g[0], "quote") && get) {
		if (n == 1)
			return AT_SIM_EP_QUOTE;
		if (n == 2 && !strcmp(g[1], "ltp"))
			return AT_SIM_EP_QUOTE_LTP;
		if (n == 2 && !strcmp(g[1], "ohlc"))
			return AT_SIM_EP_QUOTE_OHLC;
	}
	return -1;
}

/* The api_key a request names (Authorization, form or query). */
static const char *req_api_key(struct req *r, char *buf, size_t cap,
			       const char **token)
{
	*token = NULL;
	if (!strncmp(r->auth, "token ", 6)) {
		const char *c = strchr(r->auth + 6, ':');
		if (c && (size_t)(c - (r->auth + 6)) < cap) {
			memcpy(buf, r->auth + 6, (size_t)(c - (r->auth + 6)));
			buf[c - (r->auth + 6)] = '\0';
			*token = c + 1;
			return buf;
		}
	}
	return param(r, "api_key");
}

static int ep_limit_class(int ep)
{
	switch (ep) {
	case AT_SIM_EP_ORDERS_PLACE:
	case AT_SIM_EP_ORDERS_MODIFY:
	case AT_SIM_EP_ORDERS_CANCEL:
		return RL_ORDERS;
	case AT_SIM_EP_QUOTE:
	case AT_SIM_EP_QUOTE_LTP:
	case AT_SIM_EP_QUOTE_OHLC:
		return RL_QUOTE;
	default:
		return RL_OTHER;
	}
}

static void handle_api(at_sim *s, struct req *r)
{
	char kbuf[80], buf[256], *g[4];
	const char *token, *key = req_api_key(r, kbuf, sizeof(kbuf), &token);
	struct acct *ac = key ? smap_get(&s->by_key, key) : NULL;
	int64_t now = mono_ms();
	int ep = r->ep;

	s->ep_count[ep]++;
	if (ep == AT_SIM_EP_LOGIN) {
		s->logins++;
		tsq_push(&s->login_recent, now);
		if (s->cfg.login_rate > 0 &&
		    !win_allow(&s->login_win, s->cfg.login_rate, now)) {
			s->rate_limited++;
			fail(r, 429, "NetworkException", "Too many requests");
			return;
		}
	}
	if (ac && ep != AT_SIM_EP_LOGIN && ep != AT_SIM_EP_TWOFA) {
		static const int lim[3] = {10, 1, 10};
		int cls = ep_limit_class(ep);
		ac->requests++;
		tsq_push(&ac->recent, now);
		if (!s->cfg.no_rate_limit &&
		    !win_allow(&ac->rl[cls], lim[cls], now)) {
			ac->rate_limited++;
			s->rate_limited++;
			fail(r, 429, "NetworkException", "Too many requests");
			return;
		}
	}
	if (s->cfg.faults.error_rate[ep] > 0 &&
	    rng_unit(s) < s->cfg.faults.error_rate[ep]) {
		fail(r, 503, "NetworkException",
		     "Service unavailable (simulated fault)");
		return;
	}
	switch (ep) {
	case AT_SIM_EP_CONNECT_LOGIN:
		h_connect_login(s, r);
		return;
	case AT_SIM_EP_LOGIN:
		h_login(s, r);
		return;
	case AT_SIM_EP_TWOFA:
		h_twofa(s, r);
		return;
	case AT_SIM_EP_CONNECT_FINISH:
		h_connect_finish(s, r);
		return;
	case AT_SIM_EP_SESSION_TOKEN:
		h_session_token(s, r);
		return;
	case AT_SIM_EP_INSTRUMENTS: {
		int n = segments(r->path, buf, sizeof(buf), g);
		at_buf_reset(&r->out);
		at_market_instruments_csv(s->mkt, n == 2 ? g[1] : NULL,
					  &r->out);
		reply(r, 200, "text/csv");
		return;
	}
	default:
		break;
	}
	/* everything else needs a session */
	ac = auth_check(s, key, token);
	if (!ac) {
		fail(r, 403, "TokenException",
		     "Incorrect `api_key` or `access_token`.");
		return;
	}
	at_buf b = AT_BUF_INIT;
	int n = segments(r->path, buf, sizeof(buf), g);
	const char *uid = ac->a->user_id;
	switch (ep) {
	case AT_SIM_EP_USER_PROFILE:
		h_profile(s, ac, r);
		return;
	case AT_SIM_EP_USER_MARGINS:
		if (n == 3 && strcmp(g[2], "equity") &&
		    strcmp(g[2], "commodity")) {
			fail(r, 400, "InputException", "Invalid segment.");
			return;
		}
		at_market_margins_json(s->mkt, uid, n == 3 ? g[2] : NULL, &b);
		break;
	case AT_SIM_EP_ORDERS_PLACE:
	case AT_SIM_EP_ORDERS_MODIFY:
	case AT_SIM_EP_ORDERS_CANCEL:
		if (!is_one_of(g[1], varieties)) {
			fail(r, 400, "InputException", "Invalid variety.");
			return;
		}
		if (ep == AT_SIM_EP_ORDERS_PLACE)
			h_place(s, ac, r, g[1]);
		else if (ep == AT_SIM_EP_ORDERS_MODIFY)
			h_modify(s, ac, r, g[1], g[2]);
		else
			h_cancel(s, ac, r, g[2]);
		return;
	case AT_SIM_EP_ORDERS:
		at_market_orders_json(s->mkt, uid, &b);
		break;
	case AT_SIM_EP_ORDERS_HISTORY:
		if (at_market_order_history_json(s->mkt, uid, g[1], &b) < 0) {
			at_buf_release(&b);
			fail(r, 400, "InputException",
			     "Couldn't find that `order_id`.");
			return;
		}
		break;
	case AT_SIM_EP_TRADES:
		at_market_trades_json(s->mkt, uid, n == 3 ? g[1] : NULL, &b);
		break;
	case AT_SIM_EP_POSITIONS:
		at_market_positions_json(s->mkt, uid, &b);
		break;
	case AT_SIM_EP_HOLDINGS:
		at_market_holdings_json(s->mkt, uid, &b);
		break;
	case AT_SIM_EP_QUOTE:
		h_quote(s, r, "quote");
		return;
	case AT_SIM_EP_QUOTE_LTP:
		h_quote(s, r, "ltp");
		return;
	case AT_SIM_EP_QUOTE_OHLC:
		h_quote(s, r, "ohlc");
		return;
	default:
		fail(r, 404, "GeneralException", "Route not found");
		return;
	}
	ok_buf(r, &b);
}

/* ==== admin ============================================================ */

static void faults_json(const at_sim *s, at_buf *b)
{
	const struct at_sim_faults *f = &s->cfg.faults;
	at_json_enc_begin(b);
	at_json_enc_key_i64(b, "latency_ms", f->latency_ms);
	at_json_enc_key_obj(b, "error_rate");
	for (int i = 0; i < AT_SIM_EP_COUNT; i++)
		if (f->error_rate[i] > 0)
			at_json_enc_key_f64(b, ep_names[i], f->error_rate[i]);
	at_json_enc_end(b);
	at_json_enc_key_i64(b, "drop_ws_every_s", f->drop_ws_every_s);
	at_json_enc_key_bool(b, "reject_orders", f->reject_orders);
	at_json_enc_key_i64(b, "token_ttl_s", f->token_ttl_s);
	at_json_enc_end(b);
}

static void stats_json(at_sim *s, at_buf *b)
{
	int64_t now = mono_ms();
	at_json_enc_begin(b);
	at_json_enc_key_obj(b, "requests");
	for (int i = 0; i < AT_SIM_EP_COUNT; i++)
		if (s->ep_count[i])
			at_json_enc_key_i64(b, ep_names[i],
					    (int64_t)s->ep_count[i]);
	at_json_enc_end(b);
	at_json_enc_key_obj(b, "api_keys");
	for (size_t i = 0; i < s->naccts; i++) {
		struct acct *ac = &s->ac[i];
		if (!ac->requests)
			continue;
		at_json_enc_key_obj(b, ac->a->api_key);
		at_json_enc_key_i64(b, "requests", (int64_t)ac->requests);
		at_json_enc_key_i64(b, "peak_per_s", (int64_t)ac->recent.peak);
		at_json_enc_key_i64(b, "rate_limited",
				    (int64_t)ac->rate_limited);
		at_json_enc_end(b);
	}
	at_json_enc_end(b);
	at_json_enc_key_i64(b, "logins", (int64_t)s->logins);
	at_json_enc_key_i64(b, "login_peak_per_s",
			    (int64_t)s->login_recent.peak);
	at_json_enc_key_i64(b, "rate_limited", (int64_t)s->rate_limited);
	at_json_enc_key_i64(b, "ws_connections", s->nws);
	at_json_enc_key_i64(b, "ticks_sent", (int64_t)s->ticks_sent);
	at_json_enc_key_i64(b, "ticks_skipped", (int64_t)s->ticks_skipped);
	at_json_enc_key_i64(b, "clock_ms", sim_now(s));
	at_json_enc_end(b);
	(void)now;
}

static void stats_reset(at_sim *s)
{
	memset(s->ep_count, 0, sizeof(s->ep_count));
	s->logins = s->rate_limited = s->ticks_sent = s->ticks_skipped = 0;
	tsq_clear(&s->login_recent);
	memset(&s->login_win, 0, sizeof(s->login_win));
	for (size_t i = 0; i < s->naccts; i++) {
		struct acct *ac = &s->ac[i];
		ac->requests = ac->rate_limited = 0;
		tsq_clear(&ac->recent);
		memset(ac->rl, 0, sizeof(ac->rl));
	}
}

static void expire_all(at_sim *s)
{
	for (size_t i = 0; i < s->naccts; i++)
		access_clear(&s->ac[i]);
	ws_close_all(s);
}

static void per_account(at_sim *s, struct req *r,
			void (*fn)(const at_market *, const char *, at_buf *))
{
	const char *key = param(r, "api_key");
	at_buf b = AT_BUF_INIT;
	if (key) {
		struct acct *ac = smap_get(&s->by_key, key);
		if (!ac) {
			fail(r, 400, "InputException", "Invalid api_key");
			return;
		}
		fn(s->mkt, ac->a->user_id, &b);
		ok_buf(r, &b);
		return;
	}
	at_buf_putc(&b, '{');
	for (size_t i = 0; i < s->naccts; i++) {
		if (i)
			at_buf_putc(&b, ',');
		at_json_enc_str(&b, s->ac[i].a->user_id,
				strlen(s->ac[i].a->user_id));
		at_buf_putc(&b, ':');
		fn(s->mkt, s->ac[i].a->user_id, &b);
	}
	at_buf_putc(&b, '}');
	ok_buf(r, &b);
}

static int sendrec_cmp(const void *a, const void *b)
{
	const struct sendrec *x = a, *y = b;
	return x->conn != y->conn ? (x->conn < y->conn ? -1 : 1)
				  : (x->seq > y->seq) - (x->seq < y->seq);
}

/* {"1":[{"round":R,"packets":N,"us":T},...],...}: oldest first. */
static void sends_json(const at_sim *s, at_buf *b)
{
	struct sendrec *v = at_xcalloc(s->sends_n + 1, sizeof(*v));
	size_t first =
	    (s->sends_head + SIM_SENDS_MAX - s->sends_n) % SIM_SENDS_MAX;
	char t[96];
	for (size_t i = 0; i < s->sends_n; i++)
		v[i] = s->sends[(first + i) % SIM_SENDS_MAX];
	qsort(v, s->sends_n, sizeof(*v), sendrec_cmp);
	at_buf_putc(b, '{');
	for (size_t i = 0; i < s->sends_n; i++) {
		int head = i == 0 || v[i].conn != v[i - 1].conn;
		if (head)
			snprintf(t, sizeof(t), "%s\"%llu\":[", i ? "]," : "",
				 (unsigned long long)v[i].conn);
		at_buf_puts(b, head ? t : ",");
		snprintf(t, sizeof(t),
			 "{\"round\":%lu,\"packets\":%lu,\"us\":%lld}",
			 (unsigned long)v[i].round, (unsigned long)v[i].packets,
			 (long long)v[i].us);
		at_buf_puts(b, t);
	}
	at_buf_puts(b, s->sends_n ? "]}" : "}");
	free(v);
}

static void handle_admin(at_sim *s, struct req *r)
{
	const char *p = r->path + 6; /* after "/_sim/" */
	int get = r->method == LWSHUMETH_GET,
	    post = r->method == LWSHUMETH_POST;
	at_buf b = AT_BUF_INIT;
	at_err e = {0};

	if (!strcmp(p, "stats") && get) {
		stats_json(s, &b);
	} else if (!strcmp(p, "accounts") && get) {
		int64_t now = sim_now(s);
		at_buf_putc(&b, '[');
		for (size_t i = 0; i < s->naccts; i++) {
			struct acct *ac = &s->ac[i];
			if (i)
				at_buf_putc(&b, ',');
			at_json_enc_begin(&b);
			at_json_enc_key_str(&b, "api_key", ac->a->api_key);
			at_json_enc_key_str(&b, "user_id", ac->a->user_id);
			at_json_enc_key_bool(&b, "logged_in",
					     ac->access_exp > now);
			if (ac->access_exp > now)
				at_json_enc_key_i64(&b, "token_expires_ms",
						    ac->access_exp);
			at_json_enc_key_i64(&b, "ws_connections", ac->nws);
			at_json_enc_end(&b);
		}
		at_buf_putc(&b, ']');
	} else if (!strcmp(p, "orders") && get) {
		per_account(s, r, at_market_orders_json);
		return;
	} else if (!strcmp(p, "positions") && get) {
		per_account(s, r, at_market_positions_json);
		return;
	} else if (!strcmp(p, "reset") && post) {
		at_market_reset(s->mkt);
		stats_reset(s);
		toks_sweep(s, 1);
		expire_all(s);
		at_buf_puts(&b, "true");
	} else if (!strcmp(p, "faults") && (get || post)) {
		if (post) {
			struct at_sim_faults f = s->cfg.faults;
			if (at_sim_faults_parse(r->body.data ? r->body.data
							     : "",
						r->body.len, &f, &e) < 0) {
				fail(r, 400, "InputException", "%s", e.msg);
				return;
			}
			s->cfg.faults = f;
			at_market_set_reject_orders(s->mkt, f.reject_orders);
			if (f.expire_tokens) {
				s->cfg.faults.expire_tokens = 0;
				expire_all(s);
			}
			s->next_drop_ms =
			    f.drop_ws_every_s
				? mono_ms() + f.drop_ws_every_s * 1000LL
				: 0;
		}
		faults_json(s, &b);
	} else if (!strcmp(p, "sends") && get) {
		if (!s->sends) {
			fail(r, 400, "InputException",
			     "sends are not recorded (start with "
			     "--record-sends)");
			return;
		}
		sends_json(s, &b);
	} else if (!strcmp(p, "advance") && post) {
		const char *ms = param(r, "ms");
		int64_t v;
		if (!s->cfg.manual_clock) {
			fail(r, 400, "InputException",
			     "the clock is real time (start with --clock "
			     "manual)");
			return;
		}
		if (!ms || at_util_parse_i64(ms, &v) < 0 || v < 0 ||
		    v > 366LL * 86400000) {
			fail(r, 400, "InputException", "Invalid `ms`.");
			return;
		}
		s->clock_ms += v;
		at_market_advance(s->mkt, s->clock_ms);
		at_json_enc_begin(&b);
		at_json_enc_key_i64(&b, "clock_ms", s->clock_ms);
		at_json_enc_end(&b);
	} else {
		fail(r, 404, "GeneralException", "Route not found");
		return;
	}
	ok_buf(r, &b);
}

/* ==== the lws callback ================================================= */

static void req_free(struct req *r)
{
	if (!r)
		return;
	at_buf_wipe_release(&r->body);
	at_buf_release(&r->out);
	at_sim_form_free(&r->q);
	explicit_bzero(r, sizeof(*r));
	free(r);
}

static void hdr(struct lws *wsi, enum lws_token_indexes h, char *out,
		size_t cap)
{
	out[0] = '\0';
	if (lws_hdr_total_length(wsi, h) >= (int)cap ||
	    lws_hdr_copy(wsi, out, (int)cap, h) < 0)
		out[0] = '\0';
}

static void query_args(struct lws *wsi, struct at_sim_form *q)
{
	char buf[2048];
	for (int i = 0; i < 256; i++) {
		int n = lws_hdr_copy_fragment(wsi, buf, sizeof(buf),
					      WSI_TOKEN_HTTP_URI_ARGS, i);
		if (n < 0)
			break;
		char *eq = memchr(buf, '=', (size_t)n);
		if (eq)
			at_sim_form_add(q, buf, (size_t)(eq - buf), eq + 1,
					(size_t)(n - (eq - buf) - 1));
		else if (n > 0)
			at_sim_form_add(q, buf, (size_t)n, "", 0);
	}
	explicit_bzero(buf, sizeof(buf));
}

static void dispatch(at_sim *s, struct lws *wsi, struct req *r)
{
	at_err e = {0};
	if (r->body_overflow) {
		fail(r, 400, "InputException", "Request body too large.");
	} else if (r->body.len && !r->admin &&
		   at_sim_form_parse(&r->q, r->body.data, r->body.len, &e) <
		       0) {
		fail(r, 400, "InputException", "Malformed form body: %s",
		     e.msg);
	} else if (r->admin) {
		handle_admin(s, r);
	} else if (r->ep < 0) {
		fail(r, 404, "GeneralException", "Route not found");
	} else {
		handle_api(s, r);
	}
	r->ready = 1;
	if (!r->admin && s->cfg.faults.latency_ms > 0)
		lws_set_timer_usecs(wsi, (lws_usec_t)s->cfg.faults.latency_ms *
					     1000);
	else
		lws_callback_on_writable(wsi);
}

static int http_write(struct lws *wsi, struct req *r)
{
	unsigned char hb[LWS_PRE + 2048], *start = hb + LWS_PRE, *p = start,
					  *end = hb + sizeof(hb) - 1;
	if (!r->hdr_sent) {
		if (lws_add_http_common_headers(wsi, (unsigned)r->status,
						r->ctype, r->out.len, &p, end))
			return -1;
		if (r->location[0] && lws_add_http_header_by_token(
					  wsi, WSI_TOKEN_HTTP_LOCATION,
					  (unsigned char *)r->location,
					  (int)strlen(r->location), &p, end))
			return -1;
		if (r->set_cookie[0] &&
		    lws_add_http_header_by_token(wsi, WSI_TOKEN_HTTP_SET_COOKIE,
						 (unsigned char *)r->set_cookie,
						 (int)strlen(r->set_cookie), &p,
						 end))
			return -1;
		if (lws_finalize_write_http_header(wsi, start, &p, end))
			return -1;
		r->hdr_sent = 1;
		if (r->out.len && lws_send_pipe_choked(wsi)) {
			lws_callback_on_writable(wsi);
			return 0;
		}
	}
	if (r->off < r->out.len) {
		static unsigned char cb[LWS_PRE + SIM_CHUNK];
		size_t n = r->out.len - r->off;
		if (n > SIM_CHUNK)
			n = SIM_CHUNK;
		memcpy(cb + LWS_PRE, r->out.data + r->off, n);
		int last = r->off + n == r->out.len;
		if (lws_write(wsi, cb + LWS_PRE, n,
			      last ? LWS_WRITE_HTTP_FINAL : LWS_WRITE_HTTP) !=
		    (int)n)
			return -1;
		r->off += n;
		if (!last) {
			lws_callback_on_writable(wsi);
			return 0;
		}
	}
	return 1; /* complete */
}

/* Refuse a WebSocket upgrade with an error envelope. */
static int ws_refuse(struct lws *wsi, unsigned code, const char *type,
		     const char *msg)
{
	unsigned char hb[LWS_PRE + 1024], *start = hb + LWS_PRE, *p = start,
					  *end = hb + sizeof(hb) - 1;
	at_buf b = AT_BUF_INIT;
	at_json_enc_begin(&b);
	at_json_enc_key_str(&b, "status", "error");
	at_json_enc_key_str(&b, "message", msg);
	at_json_enc_key_null(&b, "data");
	at_json_enc_key_str(&b, "error_type", type);
	at_json_enc_end(&b);
	int rc = lws_add_http_common_headers(wsi, code, "application/json",
					     b.len, &p, end) ||
		 lws_finalize_write_http_header(wsi, start, &p, end);
	if (!rc) {
		memcpy(hb + LWS_PRE, b.data, b.len);
		rc = lws_write(wsi, hb + LWS_PRE, b.len,
			       LWS_WRITE_HTTP_FINAL) != (int)b.len;
	}
	at_buf_release(&b);
	return rc ? -1 : 1;
}

static struct acct *ws_auth(at_sim *s, struct lws *wsi)
{
	char key[80], tok[80];
	const char *k =
	    lws_get_urlarg_by_name(wsi, "api_key=", key, sizeof(key));
	const char *t =
	    lws_get_urlarg_by_name(wsi, "access_token=", tok, sizeof(tok));
	struct acct *ac = k && t ? auth_check(s, k, t) : NULL;
	explicit_bzero(tok, sizeof(tok));
	return ac;
}

static int callback(struct lws *wsi, enum lws_callback_reasons reason,
		    void *user, void *in, size_t len)
{
	struct pss *ps = user;
	at_sim *s = lws_context_user(lws_get_context(wsi));
	struct req *r;

	switch (reason) {
	case LWS_CALLBACK_HTTP: {
		char *uri;
		int ulen, meth = lws_http_get_uri_and_method(wsi, &uri, &ulen);
		req_free(ps->rq);
		r = ps->rq = at_xcalloc(1, sizeof(*r));
		r->method = meth;
		snprintf(r->path, sizeof(r->path), "%s", (const char *)in);
		r->admin = !strncmp(r->path, "/_sim/", 6);
		r->ep = r->admin ? -1 : route(meth, r->path);
		hdr(wsi, WSI_TOKEN_HOST, r->host, sizeof(r->host));
		if (!r->host[0])
			snprintf(r->host, sizeof(r->host), "127.0.0.1:%d",
				 s->port);
		for (char *c = r->host; *c; c++)
			if (!isalnum((unsigned char)*c) && *c != '.' &&
			    *c != ':' && *c != '-' && *c != '[' && *c != ']')
				*c = '_';
		hdr(wsi, WSI_TOKEN_HTTP_AUTHORIZATION, r->auth,
		    sizeof(r->auth));
		hdr(wsi, WSI_TOKEN_HTTP_COOKIE, r->cookie, sizeof(r->cookie));
		query_args(wsi, &r->q);
		char cl[32];
		hdr(wsi, WSI_TOKEN_HTTP_CONTENT_LENGTH, cl, sizeof(cl));
		if ((meth == LWSHUMETH_POST || meth == LWSHUMETH_PUT ||
		     meth == LWSHUMETH_DELETE || meth == LWSHUMETH_PATCH) &&
		    atol(cl) > 0) {
			r->have_body = 1;
			return 0;
		}
		dispatch(s, wsi, r);
		return 0;
	}
	case LWS_CALLBACK_HTTP_BODY:
		r = ps->rq;
		if (!r)
			return -1;
		if (r->body.len + len > SIM_BODY_MAX)
			r->body_overflow = 1;
		else
			at_buf_add(&r->body, in, len);
		return 0;
	case LWS_CALLBACK_HTTP_BODY_COMPLETION:
		r = ps->rq;
		if (!r || r->ready)
			return r ? 0 : -1;
		dispatch(s, wsi, r);
		return 0;
	case LWS_CALLBACK_TIMER:
		if (ps && ps->rq && ps->rq->ready)
			lws_callback_on_writable(wsi);
		return 0;
	case LWS_CALLBACK_HTTP_WRITEABLE: {
		int rc;
		r = ps->rq;
		if (!r || !r->ready)
			return 0;
		rc = http_write(wsi, r);
		if (rc < 0)
			return -1;
		if (rc == 0)
			return 0;
		req_free(r);
		ps->rq = NULL;
		if (lws_http_transaction_completed(wsi))
			return -1;
		return 0;
	}
	case LWS_CALLBACK_HTTP_DROP_PROTOCOL:
	case LWS_CALLBACK_CLOSED_HTTP:
		if (ps) {
			req_free(ps->rq);
			ps->rq = NULL;
		}
		return 0;
	case LWS_CALLBACK_HTTP_CONFIRM_UPGRADE: {
		struct acct *ac;
		s->ep_count[AT_SIM_EP_WS]++;
		if (!in || strcmp(in, "websocket"))
			return ws_refuse(wsi, 400, "InputException",
					 "Unsupported upgrade");
		if (s->cfg.faults.error_rate[AT_SIM_EP_WS] > 0 &&
		    rng_unit(s) < s->cfg.faults.error_rate[AT_SIM_EP_WS])
			return ws_refuse(wsi, 503, "NetworkException",
					 "Service unavailable (simulated "
					 "fault)");
		ac = ws_auth(s, wsi);
		if (!ac)
			return ws_refuse(wsi, 403, "TokenException",
					 "Incorrect `api_key` or "
					 "`access_token`.");
		if (ac->nws >= SIM_WS_PER_KEY)
			return ws_refuse(wsi, 429, "NetworkException",
					 "Too many connections");
		return 0;
	}
	case LWS_CALLBACK_ESTABLISHED: {
		struct acct *ac = ws_auth(s, wsi);
		struct wsconn *c;
		if (!ac || ac->nws >= SIM_WS_PER_KEY)
			return -1;
		c = at_xcalloc(1, sizeof(*c));
		c->id = ++s->ws_seq;
		c->wsi = wsi;
		c->ac = ac;
		c->last_send_ms = mono_ms();
		c->next = s->ws_head;
		if (s->ws_head)
			s->ws_head->prev = c;
		s->ws_head = c;
		s->nws++;
		ac->ws[ac->nws++] = c;
		ps->ws = c;
		ps->rq = NULL;
		return 0;
	}
	case LWS_CALLBACK_RECEIVE: {
		struct wsconn *c = ps->ws;
		struct at_sim_ws_msg m;
		at_err e = {0};
		if (!c)
			return -1;
		if (c->rx.len + len > SIM_WS_RX_MAX)
			c->rx_overflow = 1;
		else
			at_buf_add(&c->rx, in, len);
		if (!lws_is_final_fragment(wsi) ||
		    lws_remaining_packet_payload(wsi))
			return 0;
		if (c->rx_overflow)
			ws_error(c, "message too large");
		else if (at_sim_ws_msg_parse(c->rx.data ? c->rx.data : "",
					     c->rx.len, &m, &e) < 0)
			ws_error(c, e.msg);
		else {
			ws_apply(s, c, &m);
			at_sim_ws_msg_free(&m);
		}
		at_buf_reset(&c->rx);
		c->rx_overflow = 0;
		return 0;
	}
	case LWS_CALLBACK_SERVER_WRITEABLE:
		return ps->ws ? ws_writeable(s, ps->ws) : 0;
	case LWS_CALLBACK_CLOSED:
		if (ps->ws) {
			ws_detach(s, ps->ws);
			ps->ws = NULL;
		}
		return 0;
	default:
		break;
	}
	return lws_callback_http_dummy(wsi, reason, user, in, len);
}

/* ==== timers =========================================================== */

static void tick_round(lws_sorted_usec_list_t *sul)
{
	at_sim *s = lws_container_of(sul, at_sim, sul_tick);
	int rate = s->cfg.tick_rate > 0 ? s->cfg.tick_rate : 1;

	lws_sul_schedule(s->ctx, 0, &s->sul_tick, tick_round,
			 (lws_usec_t)(1000000 / rate));
	if (!s->cfg.manual_clock)
		at_market_advance(s->mkt, sim_now(s));
	if (++s->round == 0)
		s->round = 1;
	for (struct wsconn *c = s->ws_head; c; c = c->next)
		ws_round(s, c);
}

static void housekeeping(lws_sorted_usec_list_t *sul)
{
	at_sim *s = lws_container_of(sul, at_sim, sul_house);
	int64_t now = mono_ms();
	static int64_t last_sweep;

	lws_sul_schedule(s->ctx, 0, &s->sul_house, housekeeping, 250000);
	if (s->cfg.faults.drop_ws_every_s > 0) {
		if (!s->next_drop_ms)
			s->next_drop_ms =
			    now + s->cfg.faults.drop_ws_every_s * 1000LL;
		else if (now >= s->next_drop_ms) {
			ws_close_all(s);
			s->next_drop_ms =
			    now + s->cfg.faults.drop_ws_every_s * 1000LL;
		}
	}
	for (struct wsconn *c = s->ws_head; c; c = c->next)
		if (!c->qhead && now - c->last_send_ms >= 1000) {
			struct msg *m = msg_new(1, 1);
			m->buf[LWS_PRE] = 0;
			ws_push(c, m);
		}
	if (now - last_sweep >= 60000) {
		last_sweep = now;
		toks_sweep(s, 0);
	}
}

/* ==== lifecycle ======================================================== */

static int is_loopback(const char *host)
{
	struct in_addr a4;
	struct in6_addr a6;
	if (!strcmp(host, "localhost"))
		return 1;
	if (inet_pton(AF_INET, host, &a4) == 1)
		return (ntohl(a4.s_addr) >> 24) == 127;
	if (inet_pton(AF_INET6, host, &a6) == 1)
		return IN6_IS_ADDR_LOOPBACK(&a6);
	return 0;
}

at_sim *at_sim_new(const struct at_sim_config *cfg,
		   struct at_sim_account *accounts, size_t naccounts, at_err *e)
{
	at_sim *s = at_xcalloc(1, sizeof(*s));
	struct lws_context_creation_info info;

	s->cfg = *cfg;
	if (cfg->record_sends)
		s->sends = at_xcalloc(SIM_SENDS_MAX, sizeof(*s->sends));
	s->accts = accounts;
	s->naccts = naccounts;
	if (s->cfg.token_expiry_min < 0)
		s->cfg.token_expiry_min = 7 * 60 + 30;
	if (!s->cfg.host)
		s->cfg.host = "127.0.0.1";
	if (!s->cfg.allow_remote && !is_loopback(s->cfg.host)) {
		at_err_set(e, EX_USAGE,
			   "listen address %s is not a loopback address "
			   "(--allow-remote to override)",
			   s->cfg.host);
		goto fail;
	}
	rng_seed(s, cfg->seed);
	int64_t wall = at_util_now_ms();
	int64_t start = cfg->start_ms ? cfg->start_ms : wall;
	s->clock_ms = start;
	s->clock_origin = start - wall;
	s->cfg.market.start_ms = start;
	if (!s->cfg.market.seed)
		s->cfg.market.seed = cfg->seed;
	s->mkt = at_market_new(&s->cfg.market, e);
	if (!s->mkt)
		goto fail;
	at_market_on_order(s->mkt, on_order, s);
	at_market_set_reject_orders(s->mkt, s->cfg.faults.reject_orders);
	size_t cnt = at_market_count(s->mkt);
	for (s->tok_cap = 16; s->tok_cap < cnt * 2; s->tok_cap *= 2)
		;
	s->tok_key = at_xcalloc(s->tok_cap, sizeof(uint32_t));
	s->tok_val = at_xcalloc(s->tok_cap, sizeof(uint32_t));
	for (size_t i = 0; i < cnt; i++) {
		uint32_t t = at_market_at(s->mkt, i)->instrument_token;
		size_t j = (t * 2654435761u) & (s->tok_cap - 1);
		while (s->tok_val[j] && s->tok_key[j] != t)
			j = (j + 1) & (s->tok_cap - 1);
		s->tok_key[j] = t;
		s->tok_val[j] = (uint32_t)i + 1;
	}
	s->pk = at_xcalloc(cnt ? cnt : 1, sizeof(*s->pk));
	s->ac = at_xcalloc(naccounts ? naccounts : 1, sizeof(*s->ac));
	for (size_t i = 0; i < naccounts; i++) {
		s->ac[i].a = &accounts[i];
		smap_put(&s->by_key, accounts[i].api_key, &s->ac[i]);
		smap_put(&s->by_user, accounts[i].user_id, &s->ac[i]);
	}

	lws_set_log_level(LLL_ERR, NULL);
	s->protocols[0].name = "kite";
	s->protocols[0].callback = callback;
	s->protocols[0].per_session_data_size = sizeof(struct pss);
	s->protocols[0].rx_buffer_size = 0;
	memset(&info, 0, sizeof(info));
	info.port = cfg->port;
	info.iface = s->cfg.host;
	info.protocols = s->protocols;
	info.user = s;
	info.options = LWS_SERVER_OPTION_VALIDATE_UTF8;
	if (strchr(s->cfg.host, ':') == NULL)
		info.options |= LWS_SERVER_OPTION_DISABLE_IPV6;
	info.max_http_header_data = 8192;
	info.keepalive_timeout = 60;
	info.timeout_secs = 30;
	s->ctx = lws_create_context(&info);
	if (!s->ctx) {
		at_err_set(e, EX_UNAVAILABLE, "cannot listen on %s:%d",
			   s->cfg.host, cfg->port);
		goto fail;
	}
	s->vh = lws_get_vhost_by_name(s->ctx, "default");
	s->port = s->vh ? lws_get_vhost_listen_port(s->vh) : cfg->port;
	if (s->port <= 0) {
		at_err_set(e, EX_UNAVAILABLE, "cannot listen on %s:%d",
			   s->cfg.host, cfg->port);
		goto fail;
	}
	lws_sul_schedule(s->ctx, 0, &s->sul_tick, tick_round, 1000);
	lws_sul_schedule(s->ctx, 0, &s->sul_house, housekeeping, 250000);
	return s;
fail:
	at_sim_free(s);
	return NULL;
}

int at_sim_port(const at_sim *s)
{
	return s->port;
}

int at_sim_run(at_sim *s, at_err *e)
{
	while (!s->stop)
		if (lws_service(s->ctx, 0) < 0) {
			if (s->stop)
				break;
			return at_err_set(e, EX_SOFTWARE,
					  "the event loop failed");
		}
	return 0;
}

void at_sim_stop(at_sim *s)
{
	s->stop = 1;
	if (s->ctx)
		lws_cancel_service(s->ctx);
}

void at_sim_free(at_sim *s)
{
	if (!s)
		return;
	if (s->ctx) {
		lws_sul_cancel(&s->sul_tick);
		lws_sul_cancel(&s->sul_house);
		lws_context_destroy(s->ctx);
	}
	while (s->ws_head)
		ws_detach(s, s->ws_head);
	toks_sweep(s, 1);
	free(s->toks.e);
	free(s->by_key.e);
	free(s->by_user.e);
	if (s->ac) {
		for (size_t i = 0; i < s->naccts; i++) {
			access_clear(&s->ac[i]);
			free(s->ac[i].recent.ts);
		}
		free(s->ac);
	}
	free(s->login_recent.ts);
	free(s->tok_key);
	free(s->tok_val);
	free(s->pk);
	free(s->sends);
	at_market_free(s->mkt);
	at_sim_accounts_free(s->accts, s->naccts);
	explicit_bzero(s, sizeof(*s));
	free(s);
}
