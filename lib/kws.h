/*
 * kws: the Kite WebSocket ticker client (libwebsockets), holding up to
 * three connections of at most 3000 instruments each for one api_key.
 *
 *   at_kws *k = at_kws_new(&opt, &e);
 *   at_kws_set_tokens(k, tokens, n);   // whenever the wanted set changes
 *   for (;;) at_kws_service(k);        // returns at least every 100 ms
 *
 * URL: AT_KITE_WS_URL style, ws://host:port[/path] or wss://...; the
 * client appends ?api_key=K&access_token=T (the token never appears in
 * logs).  Tokens are split over as few connections as the limit allows;
 * a token stays on its connection while it remains wanted, new ones go to
 * the least loaded.  Subscribing sends {"a":"subscribe","v":[...]} then
 * {"a":"mode","v":[MODE,[...]]}; dropping sends {"a":"unsubscribe",...}.
 *
 * A connection that fails, closes, or stays silent for silence_ms (no
 * data, no heartbeat) is dropped and retried with exponential backoff and
 * jitter (1 s doubling, capped at 60 s; a uniformly random delay in the
 * upper half of the window), then resubscribed with its modes.  Messages
 * are handed to on_message whole (fragments joined).
 */
#ifndef AT_KWS_H
#define AT_KWS_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"

#define AT_KWS_MAX_CONNS 3
#define AT_KWS_MAX_PER_CONN 3000

typedef struct at_kws at_kws;

struct at_kws_opt {
	const char *url;	  /* ws:// or wss:// */
	const char *api_key;	  /* copied */
	const char *access_token; /* copied; wiped on free */
	int mode;		  /* enum at_ticker_mode for every token */
	int max_conns;		  /* 0: 3 */
	int per_conn;		  /* 0: 3000 */
	int silence_ms;		  /* 0: 5000 */
	int backoff_cap_ms;	  /* 0: 60000 */
	void (*on_message)(int conn, const uint8_t *p, size_t n, int is_text,
			   void *ctx);
	void *ctx;
};

struct at_kws_stats {
	int up;		     /* connected and upgraded */
	size_t instruments;  /* tokens assigned */
	uint64_t reconnects; /* connection attempts after the first */
	uint64_t frames, bytes;
	int64_t last_rx_ms; /* last data or heartbeat; 0 never */
};

at_kws *at_kws_new(const struct at_kws_opt *opt, at_err *e)
    __attribute__((warn_unused_result));
void at_kws_free(at_kws *k);

/*
 * The wanted set (sorted ascending, no duplicates).  More than
 * max_conns x per_conn tokens: the excess (highest tokens) is left out and
 * logged; returns the number left out.
 */
size_t at_kws_set_tokens(at_kws *k, const uint32_t *tokens, size_t n);

/* One service round (waits for activity, at most about 100 ms). */
void at_kws_service(at_kws *k);

/* Connections in use (those with tokens assigned). */
int at_kws_nconns(const at_kws *k);
void at_kws_stats(const at_kws *k, int conn, struct at_kws_stats *out);

/*
 * The split itself, exposed for tests: assign[i] is the connection of
 * tokens[i] given the previous assignment (prev_tokens/prev_assign, sorted
 * tokens; n_prev may be 0).  Returns the number of tokens assigned (the
 * rest get -1).
 */
size_t at_kws_assign(const uint32_t *tokens, size_t n,
		     const uint32_t *prev_tokens, const int *prev_assign,
		     size_t n_prev, int max_conns, int per_conn, int *assign);

#endif
