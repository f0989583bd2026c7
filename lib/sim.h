/*
 * sim: the Kite Connect v3 broker simulator behind at-sim.
 *
 * One single-threaded libwebsockets event loop on a loopback port serves
 * the three Kite "hosts" (login, api, ticker WebSocket) and an admin API
 * under /_sim/, over the exchange model of lib/market.  The wire contract is
 * Kite Connect v3 as documented in man/at-sim.1 and man/at.7 (BROKER).
 *
 *   at_sim *s = at_sim_new(&cfg, accounts, n, &e);   // takes the accounts
 *   printf("%d\n", at_sim_port(s));
 *   at_sim_run(s, &e);      // until at_sim_stop() (signal-safe)
 *   at_sim_free(s);
 *
 * The parsers of untrusted bytes it uses are public so they can be fuzzed:
 * the accounts file, x-www-form-urlencoded bodies, WebSocket client
 * messages and the fault-injection JSON.  None of them ever crashes on bad
 * input; errors are one line naming the field or position.
 */
#ifndef AT_SIM_H
#define AT_SIM_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "market.h"

/* Endpoints, as named in /_sim/stats and the error_rate fault. */
enum at_sim_ep {
	AT_SIM_EP_SESSION_TOKEN = 0,
	AT_SIM_EP_LOGIN,
	AT_SIM_EP_TWOFA,
	AT_SIM_EP_CONNECT_LOGIN,
	AT_SIM_EP_CONNECT_FINISH,
	AT_SIM_EP_USER_PROFILE,
	AT_SIM_EP_USER_MARGINS,
	AT_SIM_EP_ORDERS_PLACE,
	AT_SIM_EP_ORDERS_MODIFY,
	AT_SIM_EP_ORDERS_CANCEL,
	AT_SIM_EP_ORDERS,
	AT_SIM_EP_ORDERS_HISTORY,
	AT_SIM_EP_TRADES,
	AT_SIM_EP_POSITIONS,
	AT_SIM_EP_HOLDINGS,
	AT_SIM_EP_INSTRUMENTS,
	AT_SIM_EP_QUOTE,
	AT_SIM_EP_QUOTE_LTP,
	AT_SIM_EP_QUOTE_OHLC,
	AT_SIM_EP_WS,
	AT_SIM_EP_COUNT
};

/* "session.token", ... ; NULL when out of range. */
const char *at_sim_ep_name(int ep);
/* The endpoint named name, or -1. */
int at_sim_ep_by_name(const char *name, size_t len);

/* ---- accounts file ---------------------------------------------------- */

/*
 * One broker account.  Every string is malloc'd; api_secret, password and
 * totp_key are secrets (wiped by at_sim_accounts_free).
 */
struct at_sim_account {
	char *api_key;
	char *api_secret;
	char *user_id;
	char *password;
	unsigned char *totp_key; /* decoded base32 TOTP secret */
	size_t totp_keylen;
	char *user_name; /* optional "user_name", else the user_id */
	char *email;	 /* optional "email", else USERID@example.com */
};

/*
 * Parse the accounts file text: a JSON array of objects with string fields
 * api_key, api_secret, user_id, password, totp_secret (base32) and the
 * optional user_name and email.  Unknown fields, empty or overlong
 * strings, bad base32 and duplicate api_key or user_id are errors, e.g.
 *
 *   accounts.json: account 3: field "totp_secret": not valid base32
 *
 * (where names the file; positions are 1-based).  EX_DATAERR.  On success
 * *out holds *n accounts (n may be 0).
 */
int at_sim_accounts_parse(const char *text, size_t len, const char *where,
			  struct at_sim_account **out, size_t *n, at_err *e)
    __attribute__((warn_unused_result));
void at_sim_accounts_free(struct at_sim_account *a, size_t n);

/* ---- x-www-form-urlencoded -------------------------------------------- */

struct at_sim_kv {
	char *key;
	char *val;
};

struct at_sim_form {
	struct at_sim_kv *kv;
	size_t n, cap;
};

#define AT_SIM_FORM_MAX_FIELDS 256

/*
 * Append the pairs of s[0..len) ("a=1&b=x+y%21"; '+' is a space; a pair
 * without '=' has an empty value; empty pairs are skipped).  Bad percent
 * escapes, NUL bytes and more than AT_SIM_FORM_MAX_FIELDS pairs are
 * errors: "form offset 7: bad percent escape" (EX_DATAERR).
 */
int at_sim_form_parse(struct at_sim_form *f, const char *s, size_t len,
		      at_err *e) __attribute__((warn_unused_result));
/* Append one already-decoded pair. */
void at_sim_form_add(struct at_sim_form *f, const char *k, size_t klen,
		     const char *v, size_t vlen);
/* The first value of key, or NULL. */
const char *at_sim_form_get(const struct at_sim_form *f, const char *key);
/* Wipes the values (they may be passwords) and frees. */
void at_sim_form_free(struct at_sim_form *f);

/* ---- WebSocket client messages ---------------------------------------- */

enum at_sim_ws_action {
	AT_SIM_WS_SUBSCRIBE = 1,
	AT_SIM_WS_UNSUBSCRIBE,
	AT_SIM_WS_MODE,
};

#define AT_SIM_WS_MAX_TOKENS 50000

struct at_sim_ws_msg {
	int action;	  /* enum at_sim_ws_action */
	int mode;	  /* enum at_ticker_mode, for AT_SIM_WS_MODE */
	uint32_t *tokens; /* malloc'd (NULL when n == 0) */
	size_t n;
};

/*
 * Parse {"a":"subscribe","v":[tokens]}, {"a":"unsubscribe","v":[...]} or
 * {"a":"mode","v":["ltp"|"quote"|"full",[tokens]]}.  Tokens are integers
 * in [0, 2^32).  Errors name the field: "field "v": expected an array of
 * instrument tokens" (EX_DATAERR).  Free with at_sim_ws_msg_free.
 */
int at_sim_ws_msg_parse(const char *s, size_t len, struct at_sim_ws_msg *m,
			at_err *e) __attribute__((warn_unused_result));
void at_sim_ws_msg_free(struct at_sim_ws_msg *m);

/* ---- faults ----------------------------------------------------------- */

struct at_sim_faults {
	int latency_ms;			    /* delay of every API response */
	double error_rate[AT_SIM_EP_COUNT]; /* 0..1 per endpoint */
	int drop_ws_every_s;		    /* 0: never */
	int reject_orders;		    /* new orders end REJECTED */
	int token_ttl_s;		    /* 0: access tokens live until the
					       daily expiry; else at most this */
	int expire_tokens; /* one-shot: expire every token now */
};

/*
 * Apply a JSON object {"latency_ms":N, "error_rate":{"ENDPOINT"|"*":r},
 * "drop_ws_every_s":N, "reject_orders":bool, "token_ttl_s":N,
 * "expire_tokens":bool} over f (absent keys keep their value; "*" sets
 * every endpoint, then named ones override).  On error f is unchanged.
 */
int at_sim_faults_parse(const char *s, size_t len, struct at_sim_faults *f,
			at_err *e) __attribute__((warn_unused_result));
/* Parse "ENDPOINT=RATE" (or "*=RATE") into f (for --error-rate). */
int at_sim_faults_error_rate(const char *arg, struct at_sim_faults *f,
			     at_err *e) __attribute__((warn_unused_result));

/* ---- the server ------------------------------------------------------- */

typedef struct at_sim at_sim;

struct at_sim_config {
	const char *host; /* listen address: 127.0.0.1, ::1, localhost */
	int port;	  /* 0: a free port */
	int allow_remote; /* else a non-loopback host is refused (EX_USAGE) */
	uint64_t seed;
	int manual_clock;     /* the clock moves only by POST /_sim/advance */
	int64_t start_ms;     /* clock start (0: now) */
	int tick_rate;	      /* tick rounds per second (0: 1) */
	int no_rate_limit;    /* disable Kite's per-api_key limits */
	int login_rate;	      /* POST /api/login per second, at most 64
				 (0: no limit) */
	int token_expiry_min; /* daily expiry, minutes after 00:00 IST
				 (-1: default 07:30) */
	int record_sends;     /* keep the wall-clock time of the last 65536
				 ticker frames written, for GET /_sim/sends */
	struct at_market_config market;
	struct at_sim_faults faults;
};

/*
 * Take ownership of the accounts (freed by at_sim_free, also on failure),
 * create the market and the listening socket.  NULL on failure (EX_USAGE
 * for a non-loopback host without allow_remote, EX_UNAVAILABLE when the
 * port cannot be bound, EX_SOFTWARE otherwise).
 */
at_sim *at_sim_new(const struct at_sim_config *cfg,
		   struct at_sim_account *accounts, size_t naccounts, at_err *e)
    __attribute__((warn_unused_result));
/* The bound port (the actual one when cfg.port was 0). */
int at_sim_port(const at_sim *s);
/* Serve until at_sim_stop().  0, or -1 when the event loop fails. */
int at_sim_run(at_sim *s, at_err *e) __attribute__((warn_unused_result));
/* Ask at_sim_run to return; async-signal-safe. */
void at_sim_stop(at_sim *s);
/* Close every socket, free everything, wipe secrets. */
void at_sim_free(at_sim *s);

#endif
