/*
 * kite: the libcurl half of lib/kite (see kite.h): transport, client,
 * requests with retries, the login flow and the typed API calls.
 */
#include "kite.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <curl/curl.h>

#include "json.h"
#include "log.h"
#include "totp.h"
#include "util.h"

#define DEFAULT_API_URL "https://api.kite.trade"
#define DEFAULT_LOGIN_URL "https://kite.zerodha.com"
#define DEFAULT_WS_URL "wss://ws.kite.trade"
#define DEFAULT_TIMEOUT_MS 7000L
#define DEFAULT_RETRIES 3
#define DEFAULT_BACKOFF_MS 250L
#define MAX_BACKOFF_MS 4000L
#define MAX_BODY (256u << 20)
#define MAX_TRACE (64u << 10)

struct at_kite_transport {
	CURLSH *share;
	pthread_mutex_t locks[CURL_LOCK_DATA_LAST];
	char *api_url, *login_url, *ws_url;
};

struct at_kite {
	at_kite_transport *t;
	CURL *h;
	char *api_key;
	char *access_token;
	char *iface; /* "host!IP" or NULL */
	long timeout_ms, order_timeout_ms, backoff_ms;
	int retries;
	unsigned rng;
	int cookies; /* cookie engine enabled on h */
	at_buf body;
	at_buf trace;
	int trace_type;
	char errbuf[CURL_ERROR_SIZE];
	struct at_kite_error last;
	jv last_data;
};

/* ---- transport ---------------------------------------------------------- */

static pthread_once_t global_once = PTHREAD_ONCE_INIT;
static CURLcode global_rc = CURLE_FAILED_INIT;

static void global_init(void)
{
	global_rc = curl_global_init(CURL_GLOBAL_DEFAULT);
}

static void share_lock(CURL *h, curl_lock_data d, curl_lock_access a, void *u)
{
	at_kite_transport *t = u;

	(void)h;
	(void)a;
	if ((unsigned)d < CURL_LOCK_DATA_LAST)
		pthread_mutex_lock(&t->locks[d]);
}

static void share_unlock(CURL *h, curl_lock_data d, void *u)
{
	at_kite_transport *t = u;

	(void)h;
	if ((unsigned)d < CURL_LOCK_DATA_LAST)
		pthread_mutex_unlock(&t->locks[d]);
}

static char *url_from_env(const char *var, const char *def)
{
	const char *v = getenv(var);
	char *s = at_xstrdup(v != NULL && *v != '\0' ? v : def);
	size_t n = strlen(s);

	while (n > 0 && s[n - 1] == '/')
		s[--n] = '\0';
	return s;
}

at_kite_transport *at_kite_transport_new(at_err *e)
{
	at_kite_transport *t;

	pthread_once(&global_once, global_init);
	if (global_rc != CURLE_OK) {
		at_err_set(e, EX_SOFTWARE, "kite: curl_global_init: %s",
			   curl_easy_strerror(global_rc));
		return NULL;
	}
	t = at_xcalloc(1, sizeof(*t));
	for (int i = 0; i < CURL_LOCK_DATA_LAST; i++)
		pthread_mutex_init(&t->locks[i], NULL);
	t->share = curl_share_init();
	if (t->share == NULL ||
	    curl_share_setopt(t->share, CURLSHOPT_LOCKFUNC, share_lock) ||
	    curl_share_setopt(t->share, CURLSHOPT_UNLOCKFUNC, share_unlock) ||
	    curl_share_setopt(t->share, CURLSHOPT_USERDATA, t) ||
	    curl_share_setopt(t->share, CURLSHOPT_SHARE,
			      CURL_LOCK_DATA_CONNECT) ||
	    curl_share_setopt(t->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_DNS) ||
	    curl_share_setopt(t->share, CURLSHOPT_SHARE,
			      CURL_LOCK_DATA_SSL_SESSION)) {
		at_err_set(e, EX_SOFTWARE, "kite: cannot set up a curl share");
		at_kite_transport_free(t);
		return NULL;
	}
	t->api_url = url_from_env("AT_KITE_API_URL", DEFAULT_API_URL);
	t->login_url = url_from_env("AT_KITE_LOGIN_URL", DEFAULT_LOGIN_URL);
	t->ws_url = url_from_env("AT_KITE_WS_URL", DEFAULT_WS_URL);
	return t;
}

void at_kite_transport_free(at_kite_transport *t)
{
	if (t == NULL)
		return;
	if (t->share != NULL)
		curl_share_cleanup(t->share);
	for (int i = 0; i < CURL_LOCK_DATA_LAST; i++)
		pthread_mutex_destroy(&t->locks[i]);
	free(t->api_url);
	free(t->login_url);
	free(t->ws_url);
	free(t);
}

static void set_url(char **dst, const char *v)
{
	size_t n;

	if (v == NULL)
		return;
	free(*dst);
	*dst = at_xstrdup(v);
	n = strlen(*dst);
	while (n > 0 && (*dst)[n - 1] == '/')
		(*dst)[--n] = '\0';
}

void at_kite_transport_set_urls(at_kite_transport *t, const char *api_url,
				const char *login_url, const char *ws_url)
{
	set_url(&t->api_url, api_url);
	set_url(&t->login_url, login_url);
	set_url(&t->ws_url, ws_url);
}

const char *at_kite_transport_api_url(const at_kite_transport *t)
{
	return t->api_url;
}

const char *at_kite_transport_login_url(const at_kite_transport *t)
{
	return t->login_url;
}

const char *at_kite_transport_ws_url(const at_kite_transport *t)
{
	return t->ws_url;
}

/* ---- client ------------------------------------------------------------- */

static size_t on_body(char *p, size_t size, size_t n, void *u)
{
	at_kite *c = u;
	size_t len = size * n;

	if (c->body.len + len > MAX_BODY)
		return 0;
	at_buf_add(&c->body, p, len);
	return len;
}

static int on_debug(CURL *h, curl_infotype type, char *p, size_t n, void *u)
{
	static const char *const mark[] = {"* ", "< ", "> ", "<< ", ">> "};
	at_kite *c = u;

	(void)h;
	if (type > CURLINFO_DATA_OUT || c->trace.len >= MAX_TRACE)
		return 0;
	if ((int)type != c->trace_type || type == CURLINFO_TEXT) {
		if (c->trace.len > 0 && c->trace.data[c->trace.len - 1] != '\n')
			at_buf_putc(&c->trace, '\n');
		at_buf_puts(&c->trace, mark[type]);
		c->trace_type = (int)type;
	}
	if (c->trace.len + n > MAX_TRACE) {
		at_buf_add(&c->trace, p, MAX_TRACE - c->trace.len);
		at_buf_puts(&c->trace, "\n* trace truncated");
	} else {
		at_buf_add(&c->trace, p, n);
	}
	return 0;
}

/* Emit the redacted trace of the last exchange, then wipe it. */
static void flush_trace(at_kite *c, const char *method, const char *path)
{
	at_buf r = AT_BUF_INIT;

	if (c->trace.len == 0)
		return;
	at_kite_redact(c->trace.data, c->trace.len, &r);
	at_log(AT_LOG_DEBUG, "kite http", "method", method, "path", path,
	       "trace", r.data, NULL);
	at_buf_wipe_release(&r);
	explicit_bzero(c->trace.data, c->trace.len);
	at_buf_reset(&c->trace);
	c->trace_type = -1;
}

at_kite *at_kite_new(at_kite_transport *t, const char *api_key, at_err *e)
{
	at_kite *c = at_xcalloc(1, sizeof(*c));

	c->t = t;
	c->h = curl_easy_init();
	if (c->h == NULL) {
		free(c);
		at_err_set(e, EX_SOFTWARE, "kite: curl_easy_init failed");
		return NULL;
	}
	c->api_key = at_xstrdup(api_key != NULL ? api_key : "");
	c->timeout_ms = DEFAULT_TIMEOUT_MS;
	c->retries = DEFAULT_RETRIES;
	c->backoff_ms = DEFAULT_BACKOFF_MS;
	c->rng = (unsigned)at_util_mono_ns() ^ (unsigned)(uintptr_t)c;
	c->trace_type = -1;
	c->last_data = jv_null();
	at_buf_grow(&c->body, 16384);
	curl_easy_setopt(c->h, CURLOPT_SHARE, t->share);
	curl_easy_setopt(c->h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c->h, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(c->h, CURLOPT_WRITEDATA, c);
	curl_easy_setopt(c->h, CURLOPT_DEBUGFUNCTION, on_debug);
	curl_easy_setopt(c->h, CURLOPT_DEBUGDATA, c);
	curl_easy_setopt(c->h, CURLOPT_ERRORBUFFER, c->errbuf);
	curl_easy_setopt(c->h, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(c->h, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(c->h, CURLOPT_USERAGENT, "at/" AT_VERSION);
	curl_easy_setopt(c->h, CURLOPT_ACCEPT_ENCODING, "");
	curl_easy_setopt(c->h, CURLOPT_TCP_KEEPALIVE, 1L);
	return c;
}

static void wipe_str(char **s)
{
	if (*s != NULL) {
		explicit_bzero(*s, strlen(*s));
		free(*s);
		*s = NULL;
	}
}

static void cookies_clear(at_kite *c)
{
	if (c->cookies)
		curl_easy_setopt(c->h, CURLOPT_COOKIELIST, "ALL");
}

void at_kite_free(at_kite *c)
{
	if (c == NULL)
		return;
	cookies_clear(c);
	curl_easy_cleanup(c->h);
	wipe_str(&c->access_token);
	free(c->api_key);
	free(c->iface);
	at_buf_wipe_release(&c->body);
	at_buf_wipe_release(&c->trace);
	jv_free(c->last_data);
	free(c);
}

void at_kite_set_api_key(at_kite *c, const char *api_key)
{
	free(c->api_key);
	c->api_key = at_xstrdup(api_key != NULL ? api_key : "");
	wipe_str(&c->access_token);
	free(c->iface);
	c->iface = NULL;
	cookies_clear(c);
	jv_free(c->last_data);
	c->last_data = jv_null();
	memset(&c->last, 0, sizeof(c->last));
}

void at_kite_set_access_token(at_kite *c, const char *access_token)
{
	wipe_str(&c->access_token);
	if (access_token != NULL && *access_token != '\0')
		c->access_token = at_xstrdup(access_token);
}

int at_kite_set_egress_ip(at_kite *c, const char *ip, at_err *e)
{
	unsigned char a[16];
	size_t n;

	free(c->iface);
	c->iface = NULL;
	if (ip == NULL || *ip == '\0')
		return 0;
	if (inet_pton(AF_INET, ip, a) != 1 && inet_pton(AF_INET6, ip, a) != 1)
		return at_err_set(e, EX_USAGE,
				  "kite: egress ip \"%.64s\" is not an ipv4 or "
				  "ipv6 address",
				  ip);
	n = strlen(ip) + 6;
	c->iface = at_xmalloc(n);
	snprintf(c->iface, n, "host!%s", ip);
	return 0;
}

void at_kite_set_timeout_ms(at_kite *c, long ms)
{
	c->timeout_ms = ms > 0 ? ms : DEFAULT_TIMEOUT_MS;
}

void at_kite_set_order_timeout_ms(at_kite *c, long ms)
{
	c->order_timeout_ms = ms > 0 ? ms : 0;
}

void at_kite_set_retries(at_kite *c, int retries, long backoff_ms)
{
	c->retries = retries >= 0 ? retries : 0;
	c->backoff_ms = backoff_ms >= 0 ? backoff_ms : DEFAULT_BACKOFF_MS;
}

const struct at_kite_error *at_kite_last_error(const at_kite *c)
{
	return &c->last;
}

jv at_kite_last_data(const at_kite *c)
{
	return jv_copy(c->last_data);
}

/* ---- one exchange ---------------------------------------------------------
 */

enum mode { M_JSON, M_RAW, M_REDIRECT };

struct req {
	const char *method; /* GET POST PUT DELETE */
	int login;	    /* login host instead of the API host */
	const char *path;   /* named in errors (never the query) */
	const char *query;  /* encoded, or NULL */
	const char *form;   /* encoded body, or NULL */
	enum mode mode;
	long timeout_ms; /* 0: the client's */
};

enum outcome {
	O_OK,	     /* the answer wanted */
	O_BROKER,    /* a definitive error answer */
	O_SAFE,	     /* not done: 429, or never sent */
	O_AMBIGUOUS, /* maybe done: timeout, connection lost, 5xx */
};

static void wipe_slist(struct curl_slist *l)
{
	for (struct curl_slist *p = l; p != NULL; p = p->next)
		explicit_bzero(p->data, strlen(p->data));
	curl_slist_free_all(l);
}

static void sleep_ms(long ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};

	while (nanosleep(&ts, &ts) < 0)
		;
}

/* Backoff before retry number attempt (0-based): [d/2, d], d doubling. */
static void backoff(at_kite *c, int attempt)
{
	long d = c->backoff_ms;

	for (int i = 0; i < attempt && d < MAX_BACKOFF_MS; i++)
		d *= 2;
	if (d > MAX_BACKOFF_MS)
		d = MAX_BACKOFF_MS;
	if (d <= 0)
		return;
	sleep_ms(d / 2 + (long)(rand_r(&c->rng) % (unsigned)(d / 2 + 1)));
}

static int fail_req(at_kite *c, const struct req *r, at_err *e)
{
	const char *what = c->last.error_type[0] != '\0'
			       ? c->last.error_type
			       : at_kite_status_name(c->last.status);

	if (c->last.http > 0)
		return at_err_set(e, at_kite_status_exit(c->last.status),
				  "kite %s %s: %s: %s (http %ld)", r->method,
				  r->path, what, c->last.message, c->last.http);
	return at_err_set(e, at_kite_status_exit(c->last.status),
			  "kite %s %s: %s: %s", r->method, r->path, what,
			  c->last.message);
}

/*
 * Perform r once.  M_JSON: *data owns the envelope's data on O_OK.
 * M_RAW: the 200 body stays in c->body (the caller wipes it).
 * M_REDIRECT: a 3xx answer; *redirect is a malloc'd copy of its target.
 */
static enum outcome exchange(at_kite *c, const struct req *r, jv *data,
			     char **redirect, at_err *e)
{
	at_kite_transport *t = c->t;
	struct curl_slist *hdr = NULL;
	at_buf url = AT_BUF_INIT, auth = AT_BUF_INIT;
	enum outcome o = O_BROKER;
	long http = 0, to = r->timeout_ms > 0 ? r->timeout_ms : c->timeout_ms;
	CURLcode cc;
	int dbg = at_log_enabled(AT_LOG_DEBUG);

	if (data != NULL)
		*data = jv_invalid();
	memset(&c->last, 0, sizeof(c->last));
	explicit_bzero(c->body.data, c->body.len);
	at_buf_reset(&c->body);
	c->errbuf[0] = '\0';

	at_buf_puts(&url, r->login ? t->login_url : t->api_url);
	at_buf_puts(&url, r->path);
	if (r->query != NULL && *r->query != '\0') {
		at_buf_putc(&url, '?');
		at_buf_puts(&url, r->query);
	}
	if (!r->login)
		hdr = curl_slist_append(hdr, "X-Kite-Version: 3");
	if (!r->login && c->access_token != NULL) {
		at_buf_printf(&auth, "Authorization: token %s:%s", c->api_key,
			      c->access_token);
		hdr = curl_slist_append(hdr, auth.data);
	}
	hdr = curl_slist_append(hdr, "Expect:");
	if (r->form != NULL)
		hdr = curl_slist_append(
		    hdr, "Content-Type: application/x-www-form-urlencoded");

	curl_easy_setopt(c->h, CURLOPT_URL, url.data);
	curl_easy_setopt(c->h, CURLOPT_HTTPGET, 1L);
	curl_easy_setopt(c->h, CURLOPT_CUSTOMREQUEST, NULL);
	if (r->form != NULL) {
		curl_easy_setopt(c->h, CURLOPT_POSTFIELDSIZE,
				 (long)strlen(r->form));
		curl_easy_setopt(c->h, CURLOPT_POSTFIELDS, r->form);
	}
	if (strcmp(r->method, "GET") != 0 && strcmp(r->method, "POST") != 0)
		curl_easy_setopt(c->h, CURLOPT_CUSTOMREQUEST, r->method);
	else if (strcmp(r->method, "POST") == 0 && r->form == NULL) {
		curl_easy_setopt(c->h, CURLOPT_POSTFIELDSIZE, 0L);
		curl_easy_setopt(c->h, CURLOPT_POSTFIELDS, "");
	}
	curl_easy_setopt(c->h, CURLOPT_HTTPHEADER, hdr);
	curl_easy_setopt(c->h, CURLOPT_TIMEOUT_MS, to);
	curl_easy_setopt(c->h, CURLOPT_CONNECTTIMEOUT_MS, to);
	curl_easy_setopt(c->h, CURLOPT_INTERFACE, c->iface);
	curl_easy_setopt(c->h, CURLOPT_VERBOSE, dbg ? 1L : 0L);
	if (r->login && !c->cookies) {
		curl_easy_setopt(c->h, CURLOPT_COOKIEFILE, "");
		c->cookies = 1;
	}

	cc = curl_easy_perform(c->h);
	curl_easy_setopt(c->h, CURLOPT_HTTPHEADER, NULL);
	curl_easy_setopt(c->h, CURLOPT_POSTFIELDS, NULL);
	wipe_slist(hdr);
	at_buf_wipe_release(&auth);
	if (dbg)
		flush_trace(c, r->method, r->path);

	if (cc != CURLE_OK) {
		const char *m =
		    c->errbuf[0] ? c->errbuf : curl_easy_strerror(cc);
		at_buf red = AT_BUF_INIT;

		at_kite_redact(m, strlen(m), &red);
		snprintf(c->last.message, sizeof(c->last.message), "%s",
			 red.data);
		at_buf_release(&red);
		switch (cc) {
		case CURLE_OPERATION_TIMEDOUT:
			c->last.status = AT_KITE_TIMEOUT;
			o = O_AMBIGUOUS;
			break;
		case CURLE_COULDNT_RESOLVE_HOST:
		case CURLE_COULDNT_RESOLVE_PROXY:
		case CURLE_COULDNT_CONNECT:
		case CURLE_INTERFACE_FAILED:
			c->last.status = AT_KITE_NETWORK;
			o = O_SAFE;
			break;
		case CURLE_WRITE_ERROR:
			c->last.status = AT_KITE_PROTOCOL;
			snprintf(c->last.message, sizeof(c->last.message),
				 "response larger than %u bytes", MAX_BODY);
			o = O_AMBIGUOUS;
			break;
		case CURLE_URL_MALFORMAT:
		case CURLE_UNSUPPORTED_PROTOCOL:
			c->last.status = AT_KITE_INTERNAL;
			o = O_BROKER;
			break;
		default:
			c->last.status = AT_KITE_NETWORK;
			o = O_AMBIGUOUS;
		}
		fail_req(c, r, e);
		goto out;
	}
	curl_easy_getinfo(c->h, CURLINFO_RESPONSE_CODE, &http);
	if (r->mode == M_RAW && http == 200) {
		c->last.http = http;
		o = O_OK;
		goto out;
	}
	if (r->mode == M_REDIRECT && http >= 300 && http < 400) {
		char *loc = NULL;

		c->last.http = http;
		curl_easy_getinfo(c->h, CURLINFO_REDIRECT_URL, &loc);
		if (loc == NULL) {
			c->last.status = AT_KITE_PROTOCOL;
			snprintf(c->last.message, sizeof(c->last.message),
				 "redirect without a location");
			fail_req(c, r, e);
			goto out;
		}
		*redirect = at_xstrdup(loc);
		o = O_OK;
		goto out;
	}
	{
		jv d;
		at_err pe;

		if (at_kite_envelope(http, c->body.data, c->body.len, &d,
				     &c->last, &pe) == 0) {
			if (r->mode != M_JSON) {
				jv_free(d);
				c->last.status = AT_KITE_PROTOCOL;
				snprintf(c->last.message,
					 sizeof(c->last.message),
					 "expected %s, got http %ld",
					 r->mode == M_RAW ? "http 200"
							  : "a redirect",
					 http);
				fail_req(c, r, e);
				goto out;
			}
			jv_free(c->last_data);
			c->last_data = jv_copy(d);
			if (data != NULL)
				*data = d;
			else
				jv_free(d);
			o = O_OK;
			goto out;
		}
		if (c->last.status == AT_KITE_RATE_LIMITED)
			o = O_SAFE;
		else if (http >= 500)
			o = O_AMBIGUOUS;
		else
			o = O_BROKER;
		fail_req(c, r, e);
	}
out:
	if (r->mode != M_RAW || o != O_OK) {
		explicit_bzero(c->body.data, c->body.len);
		at_buf_reset(&c->body);
	}
	at_buf_release(&url);
	return o;
}

/* GETs: retry on anything but a definitive answer. */
static int get_retry(at_kite *c, const struct req *r, jv *data, at_err *e)
{
	for (int attempt = 0;; attempt++) {
		enum outcome o = exchange(c, r, data, NULL, e);

		if (o == O_OK)
			return 0;
		if (o == O_BROKER || attempt >= c->retries)
			return -1;
		at_log(AT_LOG_INFO, "kite retry", "path", r->path, "error",
		       at_kite_status_name(c->last.status), NULL);
		backoff(c, attempt);
	}
}

int at_kite_call(at_kite *c, const char *method, const char *path,
		 const char *query, const char *form, jv *data, at_err *e)
{
	struct req r = {method, 0, path, query, form, M_JSON, 0};

	if (strcmp(method, "GET") == 0)
		return get_retry(c, &r, data, e);
	return exchange(c, &r, data, NULL, e) == O_OK ? 0 : -1;
}

/* ---- helpers --------------------------------------------------------------
 */

/* Fail the call as a local (argument) error. */
static int local_fail(at_kite *c, enum at_kite_status st, int code, at_err *e,
		      const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

static int local_fail(at_kite *c, enum at_kite_status st, int code, at_err *e,
		      const char *fmt, ...)
{
	va_list ap;

	memset(&c->last, 0, sizeof(c->last));
	c->last.status = st;
	va_start(ap, fmt);
	vsnprintf(c->last.message, sizeof(c->last.message), fmt, ap);
	va_end(ap);
	return at_err_set(e, code, "kite: %s", c->last.message);
}

/* A path segment we build URLs from: [A-Za-z0-9_-], 1..max-1 bytes. */
static int safe_segment(const char *s, size_t max)
{
	size_t n = 0;

	if (s == NULL)
		return 0;
	for (; s[n]; n++)
		if (!isalnum((unsigned char)s[n]) && s[n] != '_' && s[n] != '-')
			return 0;
	return n > 0 && n < max;
}

/* Parse data with a typed parser; a parse failure is a protocol error. */
static int parsed(at_kite *c, const char *what, int rc, at_err *e)
{
	if (rc == 0)
		return 0;
	c->last.status = AT_KITE_PROTOCOL;
	snprintf(c->last.message, sizeof(c->last.message), "%.*s",
		 (int)sizeof(c->last.message) - 1, e->msg);
	e->code = EX_PROTOCOL;
	return at_err_prefix(e, "kite %s", what);
}

/* ---- session --------------------------------------------------------------
 */

/* Re-map the last error of a login step and rebuild e. */
static int login_fail(at_kite *c, const char *step, enum at_kite_status st,
		      at_err *e)
{
	c->last.status = st;
	if (c->last.http > 0)
		return at_err_set(e, at_kite_status_exit(st),
				  "kite login %s: %s: %s (http %ld)", step,
				  at_kite_status_name(st), c->last.message,
				  c->last.http);
	return at_err_set(e, at_kite_status_exit(st), "kite login %s: %s: %s",
			  step, at_kite_status_name(st), c->last.message);
}

static int has_word(const char *s, const char *w)
{
	return strcasestr(s, w) != NULL;
}

int at_kite_generate_session(at_kite *c, const char *request_token,
			     const char *api_secret,
			     struct at_kite_session *out, at_err *e)
{
	struct req r = {"POST", 0, "/session/token", NULL, NULL, M_RAW, 0};
	at_buf form = AT_BUF_INIT;
	char sum[65];
	int rc = -1;

	memset(out, 0, sizeof(*out));
	if (request_token == NULL || *request_token == '\0' ||
	    api_secret == NULL || *api_secret == '\0')
		return local_fail(c, AT_KITE_INTERNAL, EX_USAGE, e,
				  "session: request_token and api_secret are "
				  "required");
	at_kite_checksum(c->api_key, request_token, api_secret, sum);
	at_buf_grow(&form,
		    at_kite_form_len(0, "api_key", c->api_key) +
			at_kite_form_len(1, "request_token", request_token) +
			at_kite_form_len(1, "checksum", sum) + 1);
	at_kite_form_add(&form, "api_key", c->api_key);
	at_kite_form_add(&form, "request_token", request_token);
	at_kite_form_add(&form, "checksum", sum);
	explicit_bzero(sum, sizeof(sum));
	r.form = form.data;
	if (exchange(c, &r, NULL, NULL, e) != O_OK) {
		if (has_word(c->last.message, "checksum"))
			login_fail(c, "session/token", AT_KITE_BAD_API_SECRET,
				   e);
		goto out;
	}
	if (at_kite_parse_session(c->body.data, c->body.len, out, e) < 0) {
		parsed(c, "POST /session/token", -1, e);
		goto out;
	}
	at_kite_set_access_token(c, out->access_token);
	rc = 0;
out:
	explicit_bzero(c->body.data, c->body.len);
	at_buf_reset(&c->body);
	at_buf_wipe_release(&form);
	return rc;
}

int at_kite_invalidate_session(at_kite *c, at_err *e)
{
	struct req r = {"DELETE", 0, "/session/token", NULL, NULL, M_JSON, 0};
	at_buf q = AT_BUF_INIT;
	jv d;
	int rc;

	if (c->access_token == NULL)
		return local_fail(c, AT_KITE_INTERNAL, EX_USAGE, e,
				  "invalidate: no access token");
	at_buf_grow(
	    &q, at_kite_form_len(0, "api_key", c->api_key) +
		    at_kite_form_len(1, "access_token", c->access_token) + 1);
	at_kite_form_add(&q, "api_key", c->api_key);
	at_kite_form_add(&q, "access_token", c->access_token);
	r.query = q.data;
	rc = exchange(c, &r, &d, NULL, e) == O_OK ? 0 : -1;
	at_buf_wipe_release(&q);
	if (rc == 0) {
		jv_free(d);
		at_kite_set_access_token(c, NULL);
	}
	return rc;
}

/* ---- login ----------------------------------------------------------------
 */

static int hexval(int ch)
{
	if (ch >= '0' && ch <= '9')
		return ch - '0';
	ch = tolower(ch);
	if (ch >= 'a' && ch <= 'f')
		return ch - 'a' + 10;
	return -1;
}

/* The decoded value of query parameter key in url, into out[cap]. */
static int query_param(const char *url, const char *key, char *out, size_t cap)
{
	const char *q = strchr(url, '?');
	size_t kl = strlen(key);

	if (q == NULL)
		return 0;
	for (const char *p = q + 1; *p;) {
		const char *end = p + strcspn(p, "&#");

		if ((size_t)(end - p) > kl && strncmp(p, key, kl) == 0 &&
		    p[kl] == '=') {
			size_t n = 0;

			for (const char *s = p + kl + 1; s < end; s++) {
				int ch = (unsigned char)*s;

				if (ch == '%' && end - s >= 3 &&
				    hexval(s[1]) >= 0 && hexval(s[2]) >= 0) {
					ch = hexval(s[1]) * 16 + hexval(s[2]);
					s += 2;
				} else if (ch == '+') {
					ch = ' ';
				}
				if (n + 1 >= cap || ch == 0)
					return 0;
				out[n++] = (char)ch;
			}
			out[n] = '\0';
			return n > 0;
		}
		if (*end != '&')
			break;
		p = end + 1;
	}
	return 0;
}

static int login_steps(at_kite *c, const struct at_kite_login *l,
		       struct at_kite_session *out, at_err *e)
{
	struct req r;
	at_buf form = AT_BUF_INIT, q = AT_BUF_INIT;
	char sess[128], request_id[128], rt[128], st[32];
	char code[AT_TOTP_CODE_MAX];
	char *loc = NULL, *s = NULL;
	unsigned char *key = NULL;
	size_t keylen = 0;
	jv d = jv_invalid();
	int rc = -1;

	/* 1: connect/login, not followed: sess_id from Location */
	at_kite_form_add(&q, "v", "3");
	at_kite_form_add(&q, "api_key", c->api_key);
	r = (struct req){"GET",	     1, "/connect/login", q.data, NULL,
			 M_REDIRECT, 0};
	if (exchange(c, &r, NULL, &loc, e) != O_OK) {
		if (c->last.status == AT_KITE_INPUT)
			login_fail(c, "connect/login", AT_KITE_BAD_API_KEY, e);
		goto out;
	}
	if (!query_param(loc, "sess_id", sess, sizeof(sess))) {
		snprintf(c->last.message, sizeof(c->last.message),
			 "redirect without sess_id");
		login_fail(c, "connect/login", AT_KITE_PROTOCOL, e);
		goto out;
	}

	/* 2: api/login with the password */
	if (l->before_login != NULL && l->before_login(l->before_login_ctx)) {
		snprintf(c->last.message, sizeof(c->last.message),
			 "login not attempted");
		c->last.http = 0;
		login_fail(c, "api/login", AT_KITE_INTERNAL, e);
		goto out;
	}
	at_buf_grow(&form, at_kite_form_len(0, "user_id", l->user_id) +
			       at_kite_form_len(1, "password", l->password) +
			       1);
	at_kite_form_add(&form, "user_id", l->user_id);
	at_kite_form_add(&form, "password", l->password);
	r = (struct req){"POST", 1, "/api/login", NULL, form.data, M_JSON, 0};
	rc = exchange(c, &r, &d, NULL, e) == O_OK ? 0 : -1;
	at_buf_wipe_release(&form);
	if (rc < 0) {
		if (c->last.status == AT_KITE_INPUT)
			login_fail(c, "api/login", AT_KITE_BAD_PASSWORD, e);
		goto out;
	}
	rc = -1;
	if (at_json_get_str(d, "request_id", 1, &s, "api/login", e) < 0 ||
	    strlen(s) >= sizeof(request_id)) {
		snprintf(c->last.message, sizeof(c->last.message),
			 "no usable request_id");
		login_fail(c, "api/login", AT_KITE_PROTOCOL, e);
		goto out;
	}
	snprintf(request_id, sizeof(request_id), "%s", s);

	/* 3: api/twofa with the TOTP code */
	if (at_totp_parse_secret(l->totp_secret, &key, &keylen, e) < 0 ||
	    at_totp_code(key, keylen, l->now ? l->now : time(NULL), 6,
			 AT_TOTP_SHA1, code, e) < 0) {
		local_fail(c, AT_KITE_BAD_TOTP, EX_CONFIG, e,
			   "login: the totp secret is not valid base32");
		goto out;
	}
	at_buf_grow(&form, at_kite_form_len(0, "user_id", l->user_id) +
			       at_kite_form_len(1, "request_id", request_id) +
			       at_kite_form_len(1, "twofa_value", code) +
			       at_kite_form_len(1, "twofa_type", "totp") + 1);
	at_kite_form_add(&form, "user_id", l->user_id);
	at_kite_form_add(&form, "request_id", request_id);
	at_kite_form_add(&form, "twofa_value", code);
	at_kite_form_add(&form, "twofa_type", "totp");
	explicit_bzero(code, sizeof(code));
	jv_free(d);
	r = (struct req){"POST", 1, "/api/twofa", NULL, form.data, M_JSON, 0};
	rc = exchange(c, &r, &d, NULL, e) == O_OK ? 0 : -1;
	at_buf_wipe_release(&form);
	if (rc < 0) {
		if (c->last.status == AT_KITE_TWOFA)
			login_fail(c, "api/twofa", AT_KITE_BAD_TOTP, e);
		else if (c->last.status == AT_KITE_INPUT)
			login_fail(c, "api/twofa",
				   has_word(c->last.message, "expire")
				       ? AT_KITE_LOGIN_EXPIRED
				       : AT_KITE_BAD_TOTP,
				   e);
		goto out;
	}
	rc = -1;

	/* 4: connect/finish, not followed: request_token from Location */
	at_buf_reset(&q);
	at_kite_form_add(&q, "v", "3");
	at_kite_form_add(&q, "api_key", c->api_key);
	at_kite_form_add(&q, "sess_id", sess);
	free(loc);
	loc = NULL;
	r = (struct req){"GET",	     1, "/connect/finish", q.data, NULL,
			 M_REDIRECT, 0};
	if (exchange(c, &r, NULL, &loc, e) != O_OK)
		goto out;
	if (!query_param(loc, "request_token", rt, sizeof(rt))) {
		snprintf(c->last.message, sizeof(c->last.message),
			 "redirect without request_token");
		login_fail(c, "connect/finish",
			   query_param(loc, "status", st, sizeof(st)) &&
				   strcmp(st, "success") != 0
			       ? AT_KITE_TOKEN
			       : AT_KITE_PROTOCOL,
			   e);
		goto out;
	}

	/* 5: the token exchange */
	rc = at_kite_generate_session(c, rt, l->api_secret, out, e);
	explicit_bzero(rt, sizeof(rt));
out:
	if (loc != NULL) {
		explicit_bzero(loc, strlen(loc));
		free(loc);
	}
	free(s);
	jv_free(d);
	at_totp_free_key(key, keylen);
	explicit_bzero(code, sizeof(code));
	at_buf_release(&q);
	return rc;
}

int at_kite_login(at_kite *c, const struct at_kite_login *l,
		  struct at_kite_session *out, at_err *e)
{
	int rc;

	memset(out, 0, sizeof(*out));
	if (l == NULL || l->user_id == NULL || *l->user_id == '\0' ||
	    l->password == NULL || l->totp_secret == NULL ||
	    l->api_secret == NULL)
		return local_fail(c, AT_KITE_INTERNAL, EX_USAGE, e,
				  "login: user_id, password, totp secret and "
				  "api_secret are required");
	at_kite_set_access_token(c, NULL);
	if (c->cookies)
		curl_easy_setopt(c->h, CURLOPT_COOKIELIST, "ALL");
	rc = login_steps(c, l, out, e);
	cookies_clear(c);
	return rc;
}

/* ---- account --------------------------------------------------------------
 */

int at_kite_profile(at_kite *c, struct at_kite_profile *out, at_err *e)
{
	struct req r = {"GET", 0, "/user/profile", NULL, NULL, M_JSON, 0};
	jv d;
	int rc;

	memset(out, 0, sizeof(*out));
	if (get_retry(c, &r, &d, e) < 0)
		return -1;
	rc =
	    parsed(c, "GET /user/profile", at_kite_parse_profile(d, out, e), e);
	jv_free(d);
	return rc;
}

int at_kite_margins(at_kite *c, const char *segment,
		    struct at_kite_margins *out, at_err *e)
{
	struct req r = {"GET", 0, "/user/margins", NULL, NULL, M_JSON, 0};
	char path[64];
	jv d;
	int rc;

	memset(out, 0, sizeof(*out));
	if (segment != NULL) {
		if (strcmp(segment, "equity") != 0 &&
		    strcmp(segment, "commodity") != 0)
			return local_fail(c, AT_KITE_INTERNAL, EX_USAGE, e,
					  "margins: unknown segment \"%.32s\"",
					  segment);
		snprintf(path, sizeof(path), "/user/margins/%s", segment);
		r.path = path;
	}
	if (get_retry(c, &r, &d, e) < 0)
		return -1;
	rc = parsed(c, "GET /user/margins",
		    at_kite_parse_margins(d, segment, out, e), e);
	jv_free(d);
	return rc;
}

/* ---- orders ---------------------------------------------------------------
 */

static void form_i64(at_buf *b, const char *k, int64_t v)
{
	char s[32];

	snprintf(s, sizeof(s), "%lld", (long long)v);
	at_kite_form_add(b, k, s);
}

static void form_f64(at_buf *b, const char *k, double v)
{
	at_buf s = AT_BUF_INIT;

	at_json_enc_f64(&s, v);
	at_kite_form_add(b, k, s.data);
	at_buf_release(&s);
}

static void form_str(at_buf *b, const char *k, const char *v)
{
	if (v != NULL && *v != '\0')
		at_kite_form_add(b, k, v);
}

static const char *variety_of(const struct at_kite_order_params *p)
{
	return p->variety != NULL && *p->variety != '\0' ? p->variety
							 : "regular";
}

int at_kite_find_order_by_tag(at_kite *c, const char *tag,
			      struct at_kite_order *out, at_err *e)
{
	struct at_kite_order *o = NULL;
	size_t n = 0;
	int found = 0;

	if (at_kite_orders(c, &o, &n, e) < 0)
		return -1;
	for (size_t i = 0; i < n; i++)
		if (strcmp(o[i].tag, tag) == 0) {
			*out = o[i];
			found = 1;
			break;
		}
	free(o);
	return found;
}

/*
 * Look for the order after an ambiguous placement: 1 found (order_id set),
 * 0 absent in two lookups a backoff apart, -1 the lookups failed.
 */
static int lookup_placed(at_kite *c, const char *tag,
			 char order_id[AT_KITE_ID_MAX])
{
	struct at_kite_order o;
	int absent = 0;
	at_err le;

	for (int attempt = 0; attempt <= c->retries + 1; attempt++) {
		int r;

		backoff(c, attempt);
		r = at_kite_find_order_by_tag(c, tag, &o, &le);
		if (r == 1) {
			memcpy(order_id, o.order_id, AT_KITE_ID_MAX);
			return 1;
		}
		if (r == 0 && ++absent >= 2)
			return 0;
		if (r < 0 && c->last.status != AT_KITE_RATE_LIMITED &&
		    c->last.status != AT_KITE_NETWORK &&
		    c->last.status != AT_KITE_TIMEOUT &&
		    c->last.status != AT_KITE_GENERAL)
			return -1;
	}
	return -1;
}

int at_kite_place_order(at_kite *c, const struct at_kite_order_params *p,
			char order_id[AT_KITE_ID_MAX], int *recovered,
			at_err *e)
{
	struct req r = {
	    "POST", 0, NULL, NULL, NULL, M_JSON, c->order_timeout_ms};
	const char *variety = variety_of(p);
	char path[64];
	at_buf form = AT_BUF_INIT;
	struct at_kite_error first;
	at_err fe;
	int rc = -1;

	order_id[0] = '\0';
	if (recovered != NULL)
		*recovered = 0;
	if (p->tag == NULL || *p->tag == '\0' || strlen(p->tag) > 20)
		return local_fail(c, AT_KITE_INTERNAL, EX_USAGE, e,
				  "place order: tag must be 1 to 20 "
				  "characters");
	if (!safe_segment(variety, 16) || p->exchange == NULL ||
	    p->tradingsymbol == NULL || p->transaction_type == NULL ||
	    p->order_type == NULL || p->product == NULL || p->quantity <= 0)
		return local_fail(
		    c, AT_KITE_INTERNAL, EX_USAGE, e,
		    "place order %s: variety, exchange, "
		    "tradingsymbol, transaction_type, order_type, "
		    "product and a positive quantity are required",
		    p->tag);
	snprintf(path, sizeof(path), "/orders/%s", variety);
	r.path = path;
	form_str(&form, "tradingsymbol", p->tradingsymbol);
	form_str(&form, "exchange", p->exchange);
	form_str(&form, "transaction_type", p->transaction_type);
	form_str(&form, "order_type", p->order_type);
	form_i64(&form, "quantity", p->quantity);
	form_str(&form, "product", p->product);
	if (!isnan(p->price))
		form_f64(&form, "price", p->price);
	if (!isnan(p->trigger_price))
		form_f64(&form, "trigger_price", p->trigger_price);
	if (p->disclosed_quantity > 0)
		form_i64(&form, "disclosed_quantity", p->disclosed_quantity);
	form_str(&form, "validity", p->validity);
	if (p->validity_ttl > 0)
		form_i64(&form, "validity_ttl", p->validity_ttl);
	if (p->iceberg_legs > 0)
		form_i64(&form, "iceberg_legs", p->iceberg_legs);
	if (p->iceberg_quantity > 0)
		form_i64(&form, "iceberg_quantity", p->iceberg_quantity);
	form_str(&form, "tag", p->tag);
	r.form = form.data;

	for (int attempt = 0;; attempt++) {
		jv d;
		enum outcome o = exchange(c, &r, &d, NULL, e);
		int found;

		if (o == O_OK) {
			rc = parsed(c, "POST /orders",
				    at_kite_parse_order_id(d, order_id, e), e);
			jv_free(d);
			break;
		}
		if (o == O_BROKER)
			break;
		if (o == O_SAFE) {
			if (attempt >= c->retries)
				break;
			backoff(c, attempt);
			continue;
		}
		/* ambiguous: the broker may have the order; ask by tag */
		first = c->last;
		fe = *e;
		at_log(AT_LOG_WARN,
		       "kite order outcome unknown, looking up tag", "tag",
		       p->tag, "error", at_kite_status_name(first.status),
		       NULL);
		found = lookup_placed(c, p->tag, order_id);
		if (found == 1) {
			memset(&c->last, 0, sizeof(c->last));
			if (recovered != NULL)
				*recovered = 1;
			at_log(AT_LOG_INFO, "kite order found by tag", "tag",
			       p->tag, "order_id", order_id, NULL);
			rc = 0;
			break;
		}
		c->last = first;
		*e = fe;
		if (found < 0) {
			at_err_prefix(e,
				      "order %s state unknown (lookup by "
				      "tag failed)",
				      p->tag);
			break;
		}
		if (attempt >= c->retries)
			break;
		at_log(AT_LOG_WARN, "kite order absent, placing again", "tag",
		       p->tag, NULL);
	}
	at_buf_release(&form);
	return rc;
}

int at_kite_modify_order(at_kite *c, const char *order_id,
			 const struct at_kite_order_params *p, at_err *e)
{
	struct req r = {"PUT", 0, NULL, NULL, NULL, M_JSON, 0};
	const char *variety = variety_of(p);
	char path[96], got[AT_KITE_ID_MAX];
	at_buf form = AT_BUF_INIT;
	jv d;
	int rc;

	if (!safe_segment(variety, 16) || !safe_segment(order_id, 40))
		return local_fail(c, AT_KITE_INTERNAL, EX_USAGE, e,
				  "modify order: bad variety or order id");
	snprintf(path, sizeof(path), "/orders/%s/%s", variety, order_id);
	r.path = path;
	if (p->quantity > 0)
		form_i64(&form, "quantity", p->quantity);
	if (!isnan(p->price))
		form_f64(&form, "price", p->price);
	form_str(&form, "order_type", p->order_type);
	if (!isnan(p->trigger_price))
		form_f64(&form, "trigger_price", p->trigger_price);
	form_str(&form, "validity", p->validity);
	if (p->disclosed_quantity > 0)
		form_i64(&form, "disclosed_quantity", p->disclosed_quantity);
	r.form = form.len > 0 ? form.data : "";
	rc = exchange(c, &r, &d, NULL, e) == O_OK ? 0 : -1;
	at_buf_release(&form);
	if (rc < 0)
		return -1;
	rc = parsed(c, "PUT /orders", at_kite_parse_order_id(d, got, e), e);
	jv_free(d);
	return rc;
}

int at_kite_cancel_order(at_kite *c, const char *variety, const char *order_id,
			 at_err *e)
{
	struct req r = {"DELETE", 0, NULL, NULL, NULL, M_JSON, 0};
	char path[96], got[AT_KITE_ID_MAX];
	jv d;
	int rc;

	if (variety == NULL || *variety == '\0')
		variety = "regular";
	if (!safe_segment(variety, 16) || !safe_segment(order_id, 40))
		return local_fail(c, AT_KITE_INTERNAL, EX_USAGE, e,
				  "cancel order: bad variety or order id");
	snprintf(path, sizeof(path), "/orders/%s/%s", variety, order_id);
	r.path = path;
	if (exchange(c, &r, &d, NULL, e) != O_OK)
		return -1;
	rc = parsed(c, "DELETE /orders", at_kite_parse_order_id(d, got, e), e);
	jv_free(d);
	return rc;
}

int at_kite_orders(at_kite *c, struct at_kite_order **out, size_t *n, at_err *e)
{
	struct req r = {"GET", 0, "/orders", NULL, NULL, M_JSON, 0};
	jv d;
	int rc;

	*out = NULL;
	*n = 0;
	if (get_retry(c, &r, &d, e) < 0)
		return -1;
	rc = parsed(c, "GET /orders", at_kite_parse_orders(d, out, n, e), e);
	jv_free(d);
	return rc;
}

int at_kite_order_history(at_kite *c, const char *order_id,
			  struct at_kite_order **out, size_t *n, at_err *e)
{
	struct req r = {"GET", 0, NULL, NULL, NULL, M_JSON, 0};
	char path[64];
	jv d;
	int rc;

	*out = NULL;
	*n = 0;
	if (!safe_segment(order_id, 40))
		return local_fail(c, AT_KITE_INTERNAL, EX_USAGE, e,
				  "order history: bad order id");
	snprintf(path, sizeof(path), "/orders/%s", order_id);
	r.path = path;
	if (get_retry(c, &r, &d, e) < 0)
		return -1;
	rc = parsed(c, "GET /orders/{id}", at_kite_parse_orders(d, out, n, e),
		    e);
	jv_free(d);
	return rc;
}

int at_kite_trades(at_kite *c, const char *order_id, struct at_kite_trade **out,
		   size_t *n, at_err *e)
{
	struct req r = {"GET", 0, "/trades", NULL, NULL, M_JSON, 0};
	char path[80];
	jv d;
	int rc;

	*out = NULL;
	*n = 0;
	if (order_id != NULL) {
		if (!safe_segment(order_id, 40))
			return local_fail(c, AT_KITE_INTERNAL, EX_USAGE, e,
					  "trades: bad order id");
		snprintf(path, sizeof(path), "/orders/%s/trades", order_id);
		r.path = path;
	}
	if (get_retry(c, &r, &d, e) < 0)
		return -1;
	rc = parsed(c, "GET trades", at_kite_parse_trades(d, out, n, e), e);
	jv_free(d);
	return rc;
}

/* ---- portfolio ------------------------------------------------------------
 */

int at_kite_positions(at_kite *c, struct at_kite_positions *out, at_err *e)
{
	struct req r = {"GET",	0, "/portfolio/positions", NULL, NULL,
			M_JSON, 0};
	jv d;
	int rc;

	memset(out, 0, sizeof(*out));
	if (get_retry(c, &r, &d, e) < 0)
		return -1;
	rc = parsed(c, "GET /portfolio/positions",
		    at_kite_parse_positions(d, out, e), e);
	jv_free(d);
	return rc;
}

int at_kite_holdings(at_kite *c, struct at_kite_holding **out, size_t *n,
		     at_err *e)
{
	struct req r = {"GET", 0, "/portfolio/holdings", NULL, NULL, M_JSON, 0};
	jv d;
	int rc;

	*out = NULL;
	*n = 0;
	if (get_retry(c, &r, &d, e) < 0)
		return -1;
	rc = parsed(c, "GET /portfolio/holdings",
		    at_kite_parse_holdings(d, out, n, e), e);
	jv_free(d);
	return rc;
}

/* ---- market data ----------------------------------------------------------
 */

int at_kite_instruments_csv(at_kite *c, const char *exchange, at_buf *csv,
			    at_err *e)
{
	struct req r = {"GET", 0, "/instruments", NULL, NULL, M_RAW, 0};
	char path[64];

	if (exchange != NULL) {
		if (!safe_segment(exchange, 16))
			return local_fail(c, AT_KITE_INTERNAL, EX_USAGE, e,
					  "instruments: bad exchange");
		snprintf(path, sizeof(path), "/instruments/%s", exchange);
		r.path = path;
	}
	if (get_retry(c, &r, NULL, e) < 0)
		return -1;
	at_buf_add(csv, c->body.data, c->body.len);
	at_buf_reset(&c->body);
	return 0;
}

static int quotes(at_kite *c, const char *path, const char *const *ins,
		  size_t n, struct at_kite_quote **out, size_t *nout, at_err *e)
{
	struct req r = {"GET", 0, path, NULL, NULL, M_JSON, 0};
	at_buf q = AT_BUF_INIT;
	jv d;
	int rc;

	*out = NULL;
	*nout = 0;
	if (n == 0)
		return local_fail(c, AT_KITE_INTERNAL, EX_USAGE, e,
				  "%s: no instruments", path);
	for (size_t i = 0; i < n; i++)
		at_kite_form_add(&q, "i", ins[i]);
	r.query = q.data;
	rc = get_retry(c, &r, &d, e);
	at_buf_release(&q);
	if (rc < 0)
		return -1;
	rc = parsed(c, path, at_kite_parse_quotes(d, out, nout, e), e);
	jv_free(d);
	return rc;
}

int at_kite_quote(at_kite *c, const char *const *instruments, size_t n,
		  struct at_kite_quote **out, size_t *nout, at_err *e)
{
	return quotes(c, "/quote", instruments, n, out, nout, e);
}

int at_kite_ltp(at_kite *c, const char *const *instruments, size_t n,
		struct at_kite_quote **out, size_t *nout, at_err *e)
{
	return quotes(c, "/quote/ltp", instruments, n, out, nout, e);
}

int at_kite_ohlc(at_kite *c, const char *const *instruments, size_t n,
		 struct at_kite_quote **out, size_t *nout, at_err *e)
{
	return quotes(c, "/quote/ohlc", instruments, n, out, nout, e);
}
