/*
 * kite: a Kite Connect v3 client over libcurl.
 *
 *   at_kite_transport *t = at_kite_transport_new(&e);    one per process
 *   at_kite *c = at_kite_new(t, api_key, &e);             one per tenant
 *   at_kite_set_access_token(c, token);
 *   at_kite_set_egress_ip(c, "203.0.113.7", &e);          optional
 *   if (at_kite_orders(c, &orders, &n, &e) < 0)
 *       ... at_kite_last_error(c)->status, ->message ...
 *   free(orders); at_kite_free(c); at_kite_transport_free(t);
 *
 * Base URLs come from AT_KITE_API_URL (default https://api.kite.trade),
 * AT_KITE_LOGIN_URL (https://kite.zerodha.com) and AT_KITE_WS_URL
 * (wss://ws.kite.trade), read when the transport is created, so the same
 * binaries talk to at-sim on loopback.
 *
 * Threads.  The transport (a CURLSH sharing connections, DNS and TLS
 * sessions, with one mutex per shared kind) is safe to use from any number
 * of threads at once, so a thousand tenants reuse a handful of TLS
 * connections.  A client (at_kite) owns one reused curl easy handle, a
 * cookie engine and its response buffer: use each client from one thread
 * at a time (at-login's workers each take their own client, or one client
 * per worker reset with at_kite_set_api_key between tenants).  Nothing here
 * touches process-global state beyond curl_global_init, done once under
 * pthread_once by at_kite_transport_new.
 *
 * Errors.  Every call returns 0, or -1 with an at_err (sysexits code from
 * at_kite_status_exit, a one-line message naming the request, e.g.
 *   kite POST /orders/regular: InputException: Invalid `quantity`. (http 400)
 * ) and the client's last error (at_kite_last_error): Kite's error_type
 * mapped to enum at_kite_status, the HTTP code, and the broker's message
 * verbatim.  Messages never contain secrets.
 *
 * Retries.  GETs are retried with exponential backoff and jitter on network
 * errors, timeouts, 429 and 5xx (3 retries by default).  Other methods are
 * never retried blindly: an order placement that ends without an answer
 * (timeout, connection lost, 5xx) is looked up by its tag in GET /orders and
 * placed again only when the broker has no order with that tag.  Every
 * placement therefore requires a tag (1 to 20 characters, unique per
 * intent).  A placement refused with 429 or before the connection was made
 * is known not to exist and is retried after a backoff.
 *
 * Secrets.  Passwords, TOTP secrets and the api_secret are borrowed for the
 * duration of a call, never stored; the form bodies and TOTP codes built
 * from them are wiped with explicit_bzero.  The access token is copied into
 * the client (wiped by at_kite_free / at_kite_set_access_token).  Response
 * bodies are wiped after each request.  At AT_LOG_LEVEL=debug every request
 * and response is traced through lib/log after at_kite_redact().
 *
 * The automated login (at_kite_login) is not part of Kite Connect's public
 * API: it drives kite.zerodha.com's web login the way the community's
 * clients do (connect/login, api/login, api/twofa, connect/finish) and may
 * break whenever Zerodha changes that flow.
 */
#ifndef AT_KITE_H
#define AT_KITE_H

#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <jv.h>

#include "buf.h"
#include "err.h"

#define AT_KITE_MUST_CHECK __attribute__((warn_unused_result))

/* ---- errors ------------------------------------------------------------ */

/*
 * What went wrong, stable across releases.  The names (at_kite_status_name)
 * are printed by tools and written to result lines: "ok", "token", "input",
 * "order", "network", "data", "permission", "user", "twofa", "margin",
 * "general", "rate_limited", "timeout", "protocol", "bad_api_key",
 * "bad_password", "bad_totp", "bad_api_secret", "login_expired",
 * "internal".
 */
enum at_kite_status {
	AT_KITE_OK = 0,
	AT_KITE_TOKEN,	      /* TokenException: token invalid or expired */
	AT_KITE_INPUT,	      /* InputException: bad request parameters */
	AT_KITE_ORDER,	      /* OrderException */
	AT_KITE_NETWORK,      /* NetworkException, 502-504, or no connection */
	AT_KITE_DATA,	      /* DataException */
	AT_KITE_PERMISSION,   /* PermissionException */
	AT_KITE_USER,	      /* UserException */
	AT_KITE_TWOFA,	      /* TwoFAException */
	AT_KITE_MARGIN,	      /* MarginException */
	AT_KITE_GENERAL,      /* GeneralException, 500, unknown error_type */
	AT_KITE_RATE_LIMITED, /* HTTP 429 */
	AT_KITE_TIMEOUT,      /* no complete answer within the timeout */
	AT_KITE_PROTOCOL,     /* an answer that is not Kite's */
	/* login flow */
	AT_KITE_BAD_API_KEY,	/* connect/login refused the api_key */
	AT_KITE_BAD_PASSWORD,	/* api/login: invalid user id or password */
	AT_KITE_BAD_TOTP,	/* api/twofa: TOTP code refused */
	AT_KITE_BAD_API_SECRET, /* session/token: invalid checksum */
	AT_KITE_LOGIN_EXPIRED,	/* the login request expired */
	AT_KITE_INTERNAL,	/* local failure (curl setup, bad argument) */
	AT_KITE_STATUS_COUNT
};

/* "bad_password", ...; "unknown" outside the enum. */
const char *at_kite_status_name(enum at_kite_status s);
/* Kite's error_type for s ("TokenException"...), NULL when it has none. */
const char *at_kite_status_error_type(enum at_kite_status s);
/*
 * Map an error envelope to a status: 429 is always AT_KITE_RATE_LIMITED;
 * a known error_type wins; otherwise by HTTP code (400 input, 403 token,
 * 500 general, 502-504 network, other 4xx input, other 5xx general).
 */
enum at_kite_status at_kite_status_from(const char *error_type, long http);
/* sysexits(3) code for a tool exiting on s (0 for AT_KITE_OK). */
int at_kite_status_exit(enum at_kite_status s);

#define AT_KITE_MSG_MAX 512

struct at_kite_error {
	enum at_kite_status status;
	long http;		       /* 0 when no HTTP answer */
	char error_type[32];	       /* as sent by the broker, "" when none */
	char message[AT_KITE_MSG_MAX]; /* the broker's message (one line) */
};

/* ---- pure functions (no network; tested and fuzzed directly) ----------- */

/*
 * Check Kite's envelope in body[0..len) returned with HTTP code http.
 * Success (2xx, "status":"success"): returns 0, *data owns the "data"
 * member (jv_null() when absent).  Otherwise returns -1, *data is
 * jv_invalid(), ke holds status/http/error_type/message and e says
 *   InputException: Invalid `quantity`. (http 400)
 * with the status's exit code.  Non-JSON bodies (a proxy's 502 page) map
 * by HTTP code with the message "non-json response".
 */
AT_KITE_MUST_CHECK int at_kite_envelope(long http, const char *body, size_t len,
					jv *data, struct at_kite_error *ke,
					at_err *e);

/* Hex SHA-256 of api_key + request_token + api_secret into out[65]. */
void at_kite_checksum(const char *api_key, const char *request_token,
		      const char *api_secret, char out[65]);

/*
 * Append key=value to a form body, '&'-separated, both percent-encoded as
 * curl_easy_escape does (A-Z a-z 0-9 - . _ ~ kept, every other byte %XX).
 * The buffer is grown once before writing, so a secret value is never left
 * behind in a buffer freed by realloc when b had room (see
 * at_kite_form_len).
 */
void at_kite_form_add(at_buf *b, const char *key, const char *val);
/* Bytes at_kite_form_add would append to a buffer of length cur_len. */
size_t at_kite_form_len(size_t cur_len, const char *key, const char *val);

/*
 * Append s[0..len) to out with every secret replaced by "[redacted]":
 * the values of Authorization, Cookie and Set-Cookie header lines, and the
 * value following any of password, twofa_value, api_secret, checksum,
 * request_token, access_token, enctoken, refresh_token, public_token in
 * form bodies, query strings, URLs and JSON ("key=v", "key":"v", "key":v).
 */
void at_kite_redact(const char *s, size_t len, at_buf *out);

/* ---- typed results ----------------------------------------------------- */

#define AT_KITE_ID_MAX 40

struct at_kite_session {
	char user_id[32];
	char user_name[128];
	char access_token[128]; /* secret: wipe with at_kite_session_wipe */
	char public_token[128];
	char login_time[32];
};

struct at_kite_profile {
	char user_id[32];
	char user_name[128];
	char user_shortname[64];
	char email[128];
	char user_type[32];
	char broker[32];
};

struct at_kite_segment_margin {
	int enabled;
	double net;
	/* available */
	double cash, opening_balance, live_balance, collateral, intraday_payin,
	    adhoc_margin;
	/* utilised */
	double debits, exposure, span, option_premium, m2m_realised,
	    m2m_unrealised, payout, holding_sales, delivery;
};

struct at_kite_margins {
	int has_equity, has_commodity;
	struct at_kite_segment_margin equity, commodity;
};

struct at_kite_order {
	char order_id[AT_KITE_ID_MAX];
	char exchange_order_id[AT_KITE_ID_MAX];
	char parent_order_id[AT_KITE_ID_MAX];
	char status[48];
	char status_message[AT_KITE_MSG_MAX]; /* truncated to fit */
	char tag[24];
	char tradingsymbol[64];
	char exchange[16];
	char transaction_type[8];
	char order_type[8];
	char product[8];
	char variety[16];
	char validity[8];
	char order_timestamp[32];
	char exchange_timestamp[32];
	int64_t instrument_token;
	int64_t quantity, filled_quantity, pending_quantity, cancelled_quantity,
	    disclosed_quantity;
	double price, trigger_price, average_price;
};

struct at_kite_trade {
	char trade_id[AT_KITE_ID_MAX];
	char order_id[AT_KITE_ID_MAX];
	char exchange_order_id[AT_KITE_ID_MAX];
	char tradingsymbol[64];
	char exchange[16];
	char transaction_type[8];
	char product[8];
	char fill_timestamp[32];
	int64_t instrument_token, quantity;
	double average_price;
};

struct at_kite_position {
	char tradingsymbol[64];
	char exchange[16];
	char product[8];
	int64_t instrument_token;
	int64_t quantity, overnight_quantity, buy_quantity, sell_quantity;
	double multiplier, average_price, close_price, last_price, value, pnl,
	    m2m, realised, unrealised, buy_price, sell_price;
};

struct at_kite_positions {
	struct at_kite_position *net, *day; /* malloc'd arrays */
	size_t n_net, n_day;
};

struct at_kite_holding {
	char tradingsymbol[64];
	char exchange[16];
	char isin[16];
	char product[8];
	int64_t instrument_token;
	int64_t quantity, t1_quantity, used_quantity;
	double average_price, last_price, close_price, pnl;
};

struct at_kite_depth {
	double price;
	int64_t quantity, orders;
};

/* One instrument of a quote, ltp or ohlc answer (absent fields are 0). */
struct at_kite_quote {
	char key[64]; /* "NSE:INFY" or the instrument token as asked */
	int64_t instrument_token;
	double last_price;
	int has_ohlc;
	double open, high, low, close;
	char timestamp[32], last_trade_time[32];
	int64_t last_quantity, volume, buy_quantity, sell_quantity, oi;
	double average_price, net_change, lower_circuit_limit,
	    upper_circuit_limit;
	int has_depth;
	struct at_kite_depth buy[5], sell[5];
};

struct at_kite_instrument {
	int64_t instrument_token, exchange_token, lot_size;
	char tradingsymbol[64];
	char name[128];
	char expiry[16]; /* YYYY-MM-DD or "" */
	char instrument_type[16];
	char segment[16];
	char exchange[16];
	double last_price, strike, tick_size;
};

/*
 * Parsers of the "data" member (borrowed).  Arrays are malloc'd (free());
 * errors are EX_DATAERR naming the element, e.g.
 *   orders[3]: field "quantity": expected integer, got string
 * Identifiers that do not fit their field are errors; free text
 * (status_message) is truncated.
 */
AT_KITE_MUST_CHECK int at_kite_parse_orders(jv data, struct at_kite_order **out,
					    size_t *n, at_err *e);
AT_KITE_MUST_CHECK int at_kite_parse_trades(jv data, struct at_kite_trade **out,
					    size_t *n, at_err *e);
AT_KITE_MUST_CHECK int
at_kite_parse_positions(jv data, struct at_kite_positions *out, at_err *e);
void at_kite_positions_release(struct at_kite_positions *p);
AT_KITE_MUST_CHECK int at_kite_parse_holdings(jv data,
					      struct at_kite_holding **out,
					      size_t *n, at_err *e);
/* data is {"equity":{...},"commodity":{...}} or one segment's object. */
AT_KITE_MUST_CHECK int at_kite_parse_margins(jv data, const char *segment,
					     struct at_kite_margins *out,
					     at_err *e);
AT_KITE_MUST_CHECK int
at_kite_parse_profile(jv data, struct at_kite_profile *out, at_err *e);
/* The order_id of a place/modify/cancel answer ({"order_id":"..."}). */
AT_KITE_MUST_CHECK int at_kite_parse_order_id(jv data, char out[AT_KITE_ID_MAX],
					      at_err *e);
/* quote, ltp and ohlc answers: an object keyed by instrument. */
AT_KITE_MUST_CHECK int at_kite_parse_quotes(jv data, struct at_kite_quote **out,
					    size_t *n, at_err *e);
/*
 * The session/token answer, parsed without libjq so the access token is
 * only ever copied into out (body is the whole HTTP body).  Wipe out with
 * at_kite_session_wipe.
 */
AT_KITE_MUST_CHECK int at_kite_parse_session(const char *body, size_t len,
					     struct at_kite_session *out,
					     at_err *e);
void at_kite_session_wipe(struct at_kite_session *s);

/*
 * Instruments CSV.  The header is matched by column name (all twelve of
 * Kite's columns must be present, in any order; extra columns are
 * ignored) into cols; each line is then parsed with RFC 4180 quoting.
 * Errors name the column ("field \"strike\": expected number").
 */
#define AT_KITE_INSTR_COLS 12
struct at_kite_csv_cols {
	int idx[AT_KITE_INSTR_COLS]; /* column index of each known field */
	int ncols;		     /* columns in the header */
};
AT_KITE_MUST_CHECK int
at_kite_parse_instrument_header(const char *line, size_t len,
				struct at_kite_csv_cols *cols, at_err *e);
AT_KITE_MUST_CHECK int
at_kite_parse_instrument_line(const char *line, size_t len,
			      const struct at_kite_csv_cols *cols,
			      struct at_kite_instrument *out, at_err *e);
/* A whole dump: header then rows; errors "instruments:LINE: ...". */
AT_KITE_MUST_CHECK int
at_kite_parse_instruments(const char *csv, size_t len,
			  struct at_kite_instrument **out, size_t *n,
			  at_err *e);

/* ---- transport and client ---------------------------------------------- */

typedef struct at_kite_transport at_kite_transport;
typedef struct at_kite at_kite;

/* Base URLs from the environment (see above); fails on curl setup. */
at_kite_transport *at_kite_transport_new(at_err *e)
    __attribute__((warn_unused_result));
/* Free after every client using it is freed.  NULL is fine. */
void at_kite_transport_free(at_kite_transport *t);
/* Override base URLs (NULL keeps the current one); no trailing '/'.  Set-up
 * only: call it before any client of the transport is in use. */
void at_kite_transport_set_urls(at_kite_transport *t, const char *api_url,
				const char *login_url, const char *ws_url);
const char *at_kite_transport_api_url(const at_kite_transport *t);
const char *at_kite_transport_login_url(const at_kite_transport *t);
const char *at_kite_transport_ws_url(const at_kite_transport *t);

at_kite *at_kite_new(at_kite_transport *t, const char *api_key, at_err *e)
    __attribute__((warn_unused_result));
/* Wipes the access token and response buffer.  NULL is fine. */
void at_kite_free(at_kite *c);
/*
 * Switch the client to another tenant: new api_key, no access token, no
 * egress IP, cookies cleared.  The easy handle (and so the connection
 * cache) is kept.
 */
void at_kite_set_api_key(at_kite *c, const char *api_key);
/* Copy (NULL clears); the previous token is wiped. */
void at_kite_set_access_token(at_kite *c, const char *access_token);
/*
 * Bind outgoing connections to this local address (IPv4 or IPv6 literal,
 * libcurl's CURLOPT_INTERFACE "host!IP"), for SEBI's static-IP rule; NULL
 * or "" clears.  EX_USAGE when ip is not an address literal.
 */
AT_KITE_MUST_CHECK int at_kite_set_egress_ip(at_kite *c, const char *ip,
					     at_err *e);
/* Whole-request timeout (default 7000 ms). */
void at_kite_set_timeout_ms(at_kite *c, long ms);
/*
 * Timeout of an order placement (default: the whole-request timeout).  A
 * placement that times out is looked up by tag with the normal timeout,
 * so a short placement timeout does not doom the lookup too.
 */
void at_kite_set_order_timeout_ms(at_kite *c, long ms);
/*
 * Retries for GETs and for placements known not to exist (default 3) and
 * the first backoff (default 250 ms, doubled each time, capped at 4 s,
 * with jitter: a random delay in [d/2, d]).  Order lookups after an
 * ambiguous placement use the same schedule.
 */
void at_kite_set_retries(at_kite *c, int retries, long backoff_ms);

/* The last call's error (status AT_KITE_OK after a success). */
const struct at_kite_error *at_kite_last_error(const at_kite *c);
/*
 * The "data" member of the last successful JSON answer (a new reference;
 * jv_null() when there is none), for fields the typed results omit.
 */
jv at_kite_last_data(const at_kite *c);

/*
 * A raw API call: method "GET", "POST", "PUT" or "DELETE"; path from the
 * API base ("/user/profile"), query (already encoded) appended after '?'
 * when not NULL, form body sent when not NULL.  On success *data owns the
 * envelope's data.  GETs are retried as described above; others are not.
 */
AT_KITE_MUST_CHECK int at_kite_call(at_kite *c, const char *method,
				    const char *path, const char *query,
				    const char *form, jv *data, at_err *e);

/* ---- session ----------------------------------------------------------- */

/*
 * POST /session/token with the checksum; on success the client uses the
 * new access token and out holds it (wipe out after use).  A rejected
 * checksum is AT_KITE_BAD_API_SECRET; an expired or used request_token
 * AT_KITE_TOKEN.
 */
AT_KITE_MUST_CHECK int at_kite_generate_session(at_kite *c,
						const char *request_token,
						const char *api_secret,
						struct at_kite_session *out,
						at_err *e);
/* DELETE /session/token for the client's access token, then forget it. */
AT_KITE_MUST_CHECK int at_kite_invalidate_session(at_kite *c, at_err *e);

struct at_kite_login {
	const char *user_id;	 /* broker user id, e.g. "AB1234" */
	const char *password;	 /* borrowed secret */
	const char *totp_secret; /* base32, borrowed secret */
	const char *api_secret;	 /* borrowed secret */
	time_t now;		 /* TOTP time; 0 means time(NULL) */
	/*
	 * Called right before POST /api/login (the request the broker
	 * counts as a login), e.g. to wait for a slot of a global rate
	 * limit; a non-zero return aborts the login with AT_KITE_INTERNAL
	 * before anything is sent.  NULL: no hook.
	 */
	int (*before_login)(void *ctx);
	void *before_login_ctx;
};

/*
 * The whole unofficial login: connect/login (no redirect followed; sess_id
 * from Location), api/login, api/twofa with the TOTP code, connect/finish
 * (request_token from Location, not followed), then
 * at_kite_generate_session.  Uses a fresh cookie engine that is cleared
 * again at the end whatever happens.  Failures: AT_KITE_BAD_API_KEY,
 * AT_KITE_BAD_PASSWORD, AT_KITE_BAD_TOTP, AT_KITE_LOGIN_EXPIRED,
 * AT_KITE_BAD_API_SECRET, AT_KITE_TOKEN, AT_KITE_NETWORK, AT_KITE_TIMEOUT,
 * AT_KITE_RATE_LIMITED, AT_KITE_PROTOCOL; e names the step
 * ("kite login api/twofa: bad_totp: Invalid TOTP").  No step is retried.
 */
AT_KITE_MUST_CHECK int at_kite_login(at_kite *c, const struct at_kite_login *l,
				     struct at_kite_session *out, at_err *e);

/* ---- account ----------------------------------------------------------- */

AT_KITE_MUST_CHECK int at_kite_profile(at_kite *c, struct at_kite_profile *out,
				       at_err *e);
/* segment NULL for both, or "equity" / "commodity". */
AT_KITE_MUST_CHECK int at_kite_margins(at_kite *c, const char *segment,
				       struct at_kite_margins *out, at_err *e);

/* ---- orders ------------------------------------------------------------ */

/*
 * Order parameters.  Strings NULL and numbers 0 (prices NAN) are not sent;
 * start from AT_KITE_ORDER_INIT.  variety: "regular" (default), "amo",
 * "iceberg", "co".
 */
struct at_kite_order_params {
	const char *variety;
	const char *exchange, *tradingsymbol, *transaction_type, *order_type,
	    *product, *validity;
	int64_t quantity, disclosed_quantity, validity_ttl;
	double price, trigger_price;
	int64_t iceberg_legs, iceberg_quantity;
	const char *tag; /* required for placement: 1 to 20 characters */
};
#define AT_KITE_ORDER_INIT                                                     \
	{                                                                      \
		.price = NAN, .trigger_price = NAN                             \
	}

/*
 * POST /orders/{variety}.  order_id gets the broker's id.  *recovered (when
 * not NULL) is set to 1 when the answer was lost and the order was found by
 * its tag instead, else 0.
 */
AT_KITE_MUST_CHECK int at_kite_place_order(at_kite *c,
					   const struct at_kite_order_params *p,
					   char order_id[AT_KITE_ID_MAX],
					   int *recovered, at_err *e);
/* PUT /orders/{variety}/{order_id}: quantity, price, order_type,
 * trigger_price, validity, disclosed_quantity as set in p.  Not retried. */
AT_KITE_MUST_CHECK int
at_kite_modify_order(at_kite *c, const char *order_id,
		     const struct at_kite_order_params *p, at_err *e);
/* DELETE /orders/{variety}/{order_id} (variety NULL: regular). */
AT_KITE_MUST_CHECK int at_kite_cancel_order(at_kite *c, const char *variety,
					    const char *order_id, at_err *e);
/* GET /orders. */
AT_KITE_MUST_CHECK int at_kite_orders(at_kite *c, struct at_kite_order **out,
				      size_t *n, at_err *e);
/* GET /orders/{order_id}: the order's states, oldest first. */
AT_KITE_MUST_CHECK int at_kite_order_history(at_kite *c, const char *order_id,
					     struct at_kite_order **out,
					     size_t *n, at_err *e);
/*
 * GET /orders and pick the first order whose tag is tag: 1 found (out
 * filled), 0 none, -1 error.
 */
AT_KITE_MUST_CHECK int at_kite_find_order_by_tag(at_kite *c, const char *tag,
						 struct at_kite_order *out,
						 at_err *e);
/* GET /trades, or GET /orders/{order_id}/trades when order_id != NULL. */
AT_KITE_MUST_CHECK int at_kite_trades(at_kite *c, const char *order_id,
				      struct at_kite_trade **out, size_t *n,
				      at_err *e);

/* ---- portfolio --------------------------------------------------------- */

AT_KITE_MUST_CHECK int
at_kite_positions(at_kite *c, struct at_kite_positions *out, at_err *e);
AT_KITE_MUST_CHECK int at_kite_holdings(at_kite *c,
					struct at_kite_holding **out, size_t *n,
					at_err *e);

/* ---- market data ------------------------------------------------------- */

/*
 * GET /instruments (exchange NULL) or /instruments/{exchange}: the CSV dump
 * appended to csv as is (parse it with at_kite_parse_instruments).
 */
AT_KITE_MUST_CHECK int at_kite_instruments_csv(at_kite *c, const char *exchange,
					       at_buf *csv, at_err *e);
/*
 * GET /quote, /quote/ltp, /quote/ohlc for n instruments ("NSE:INFY" or an
 * instrument token); results in the broker's order.
 */
AT_KITE_MUST_CHECK int at_kite_quote(at_kite *c, const char *const *instruments,
				     size_t n, struct at_kite_quote **out,
				     size_t *nout, at_err *e);
AT_KITE_MUST_CHECK int at_kite_ltp(at_kite *c, const char *const *instruments,
				   size_t n, struct at_kite_quote **out,
				   size_t *nout, at_err *e);
AT_KITE_MUST_CHECK int at_kite_ohlc(at_kite *c, const char *const *instruments,
				    size_t n, struct at_kite_quote **out,
				    size_t *nout, at_err *e);

#endif
