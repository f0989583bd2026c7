/*
 * kws: libwebsockets client for Kite's ticker, up to three connections.
 */
#include "kws.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libwebsockets.h>

#include "buf.h"
#include "log.h"
#include "ticker.h"
#include "util.h"

struct msg {
	char *s;
	size_t n;
	struct msg *next;
};

struct conn {
	at_kws *k;
	int idx;
	struct lws *wsi;
	int up;
	int connecting;
	/* tokens assigned (sorted) and those subscribed on this socket */
	uint32_t *tok;
	size_t ntok;
	uint32_t *sub;
	size_t nsub;
	struct msg *q, *qtail;
	at_buf rx;
	int attempts;
	int64_t retry_at_ms;
	int64_t connected_ms;
	int ever;
	struct at_kws_stats st;
};

struct at_kws {
	struct lws_context *ctx;
	lws_sorted_usec_list_t sul;
	struct at_kws_opt o;
	char *api_key, *token;
	char *host, *path_base;
	int port, tls;
	struct conn c[AT_KWS_MAX_CONNS];
	uint64_t rng;
};

static uint64_t rnd(at_kws *k)
{
	k->rng ^= k->rng << 13;
	k->rng ^= k->rng >> 7;
	k->rng ^= k->rng << 17;
	return k->rng;
}

static void q_push(struct conn *c, at_buf *b)
{
	struct msg *m = at_xcalloc(1, sizeof(*m));

	m->n = b->len;
	m->s = at_xmalloc(LWS_PRE + b->len + 1);
	memcpy(m->s + LWS_PRE, b->data, b->len);
	if (c->qtail)
		c->qtail->next = m;
	else
		c->q = m;
	c->qtail = m;
}

static void q_clear(struct conn *c)
{
	while (c->q) {
		struct msg *m = c->q;
		c->q = m->next;
		free(m->s);
		free(m);
	}
	c->qtail = NULL;
}

static void msg_tokens(at_buf *b, const char *action, const char *mode,
		       const uint32_t *t, size_t n)
{
	at_buf_reset(b);
	if (mode)
		at_buf_printf(b, "{\"a\":\"%s\",\"v\":[\"%s\",[", action, mode);
	else
		at_buf_printf(b, "{\"a\":\"%s\",\"v\":[", action);
	for (size_t i = 0; i < n; i++)
		at_buf_printf(b, "%s%u", i ? "," : "", t[i]);
	at_buf_puts(b, mode ? "]]}" : "]}");
}

/* Queue the messages that take the socket from sub to tok. */
static void sync_subs(struct conn *c)
{
	at_buf b = AT_BUF_INIT;
	uint32_t *add = at_xcalloc(c->ntok + 1, sizeof(*add));
	uint32_t *del = at_xcalloc(c->nsub + 1, sizeof(*del));
	size_t na = 0, nd = 0, i = 0, j = 0;

	while (i < c->ntok || j < c->nsub) {
		if (j == c->nsub || (i < c->ntok && c->tok[i] < c->sub[j]))
			add[na++] = c->tok[i++];
		else if (i == c->ntok || c->sub[j] < c->tok[i])
			del[nd++] = c->sub[j++];
		else
			i++, j++;
	}
	if (nd > 0) {
		msg_tokens(&b, "unsubscribe", NULL, del, nd);
		q_push(c, &b);
	}
	if (na > 0) {
		msg_tokens(&b, "subscribe", NULL, add, na);
		q_push(c, &b);
		msg_tokens(&b, "mode", at_ticker_mode_name(c->k->o.mode), add,
			   na);
		q_push(c, &b);
	}
	free(c->sub);
	c->sub = at_xcalloc(c->ntok + 1, sizeof(*c->sub));
	memcpy(c->sub, c->tok, c->ntok * sizeof(*c->sub));
	c->nsub = c->ntok;
	if ((na || nd) && c->wsi)
		lws_callback_on_writable(c->wsi);
	free(add);
	free(del);
	at_buf_release(&b);
}

static void schedule_retry(struct conn *c, const char *why)
{
	at_kws *k = c->k;
	int64_t cap = k->o.backoff_cap_ms, d = 1000;
	char conn[8], delay[24];

	for (int i = 0; i < c->attempts && d < cap; i++)
		d *= 2;
	if (d > cap)
		d = cap;
	d = d / 2 + (int64_t)(rnd(k) % (uint64_t)(d / 2 + 1));
	c->attempts++;
	c->retry_at_ms = at_util_now_ms() + d;
	snprintf(conn, sizeof(conn), "%d", c->idx);
	snprintf(delay, sizeof(delay), "%lld", (long long)d);
	at_log(AT_LOG_WARN, "ticker connection lost", "conn", conn, "reason",
	       why, "retry_in_ms", delay, NULL);
}

static void lost(struct conn *c, const char *why)
{
	c->wsi = NULL;
	c->up = 0;
	c->connecting = 0;
	q_clear(c);
	free(c->sub);
	c->sub = NULL;
	c->nsub = 0;
	at_buf_reset(&c->rx);
	/* a connection that lived a while starts the backoff afresh */
	if (c->connected_ms && at_util_now_ms() - c->connected_ms > 30000)
		c->attempts = 0;
	c->connected_ms = 0;
	if (c->ntok > 0)
		schedule_retry(c, why);
}

static int callback(struct lws *wsi, enum lws_callback_reasons reason,
		    void *user, void *in, size_t len)
{
	struct conn *c = lws_get_opaque_user_data(wsi);
	char conn[8];

	(void)user;
	if (c == NULL)
		return lws_callback_http_dummy(wsi, reason, user, in, len);
	snprintf(conn, sizeof(conn), "%d", c->idx);
	switch (reason) {
	case LWS_CALLBACK_CLIENT_CONNECTION_ERROR: {
		char why[160];
		snprintf(why, sizeof(why), "connect failed: %s",
			 in ? (const char *)in : "unknown");
		if (c->wsi == wsi || c->connecting)
			lost(c, why);
		return 0;
	}
	case LWS_CALLBACK_CLIENT_ESTABLISHED:
		c->up = 1;
		c->connecting = 0;
		c->st.up = 1;
		c->connected_ms = at_util_now_ms();
		c->st.last_rx_ms = c->connected_ms;
		at_log(AT_LOG_INFO, "ticker connected", "conn", conn, NULL);
		free(c->sub);
		c->sub = NULL;
		c->nsub = 0;
		q_clear(c);
		sync_subs(c);
		lws_callback_on_writable(wsi);
		return 0;
	case LWS_CALLBACK_CLIENT_RECEIVE:
		c->st.last_rx_ms = at_util_now_ms();
		at_buf_add(&c->rx, in, len);
		if (!lws_is_final_fragment(wsi) ||
		    lws_remaining_packet_payload(wsi) > 0)
			return 0;
		c->st.frames++;
		c->st.bytes += c->rx.len;
		if (c->k->o.on_message)
			c->k->o.on_message(c->idx, (const uint8_t *)c->rx.data,
					   c->rx.len, !lws_frame_is_binary(wsi),
					   c->k->o.ctx);
		at_buf_reset(&c->rx);
		return 0;
	case LWS_CALLBACK_CLIENT_WRITEABLE:
		if (c->q) {
			struct msg *m = c->q;
			int w = lws_write(wsi, (unsigned char *)m->s + LWS_PRE,
					  m->n, LWS_WRITE_TEXT);
			c->q = m->next;
			if (c->q == NULL)
				c->qtail = NULL;
			free(m->s);
			free(m);
			if (w < 0)
				return -1;
			if (c->q)
				lws_callback_on_writable(wsi);
		}
		return 0;
	case LWS_CALLBACK_CLIENT_CLOSED:
		if (c->wsi == wsi)
			lost(c, "closed");
		return 0;
	case LWS_CALLBACK_WSI_DESTROY:
		if (c->wsi == wsi) {
			c->st.up = 0;
			lost(c, "gone");
		}
		return 0;
	default:
		break;
	}
	return 0;
}

static const struct lws_protocols protocols[] = {
    {"kite", callback, 0, 65536, 0, NULL, 0},
    {NULL, NULL, 0, 0, 0, NULL, 0},
};

static void connect_conn(struct conn *c)
{
	at_kws *k = c->k;
	struct lws_client_connect_info i;
	at_buf path = AT_BUF_INIT;
	char conn[8];

	memset(&i, 0, sizeof(i));
	at_buf_printf(&path, "%s?api_key=%s&access_token=%s", k->path_base,
		      k->api_key, k->token);
	i.context = k->ctx;
	i.address = k->host;
	i.port = k->port;
	i.path = path.data;
	i.host = k->host;
	i.origin = k->host;
	i.ssl_connection = k->tls ? LCCSCF_USE_SSL : 0;
	i.local_protocol_name = "kite";
	i.opaque_user_data = c;
	i.pwsi = &c->wsi;
	c->connecting = 1;
	if (c->ever)
		c->st.reconnects++;
	c->ever = 1;
	snprintf(conn, sizeof(conn), "%d", c->idx);
	at_log(AT_LOG_INFO, "ticker connecting", "conn", conn, "host", k->host,
	       NULL);
	if (lws_client_connect_via_info(&i) == NULL) {
		c->wsi = NULL;
		c->connecting = 0;
		schedule_retry(c, "connect failed");
	}
	at_buf_wipe_release(&path);
}

/* Every 100 ms: (re)connect, close silent or unneeded connections. */
static void tick(lws_sorted_usec_list_t *sul)
{
	at_kws *k = lws_container_of(sul, at_kws, sul);
	int64_t now = at_util_now_ms();

	for (int i = 0; i < AT_KWS_MAX_CONNS; i++) {
		struct conn *c = &k->c[i];
		if (c->ntok == 0 && c->wsi != NULL) {
			lws_set_timeout(c->wsi, PENDING_TIMEOUT_USER_OK,
					LWS_TO_KILL_ASYNC);
			continue;
		}
		if (c->ntok > 0 && c->wsi == NULL && !c->connecting &&
		    now >= c->retry_at_ms)
			connect_conn(c);
		if (c->up && c->wsi &&
		    now - c->st.last_rx_ms > k->o.silence_ms) {
			char conn[8];
			snprintf(conn, sizeof(conn), "%d", i);
			at_log(AT_LOG_WARN, "ticker connection silent: closing",
			       "conn", conn, NULL);
			c->up = 0;
			c->st.up = 0;
			lws_set_timeout(c->wsi, PENDING_TIMEOUT_USER_OK,
					LWS_TO_KILL_ASYNC);
		}
	}
	lws_sul_schedule(k->ctx, 0, &k->sul, tick, 100 * LWS_US_PER_MS);
}

static void lws_log_emit(int level, const char *line)
{
	char tmp[512];
	size_t n = strlen(line);

	if (n >= sizeof(tmp))
		n = sizeof(tmp) - 1;
	memcpy(tmp, line, n);
	while (n > 0 && (tmp[n - 1] == '\n' || tmp[n - 1] == '\r'))
		n--;
	tmp[n] = '\0';
	/* lws never sees the token in its logs: it is only in the path,
	 * which lws does not log at these levels */
	at_log(level == LLL_ERR ? AT_LOG_WARN : AT_LOG_DEBUG, "libwebsockets",
	       "line", tmp, NULL);
}

at_kws *at_kws_new(const struct at_kws_opt *opt, at_err *e)
{
	struct lws_context_creation_info info;
	at_kws *k = at_xcalloc(1, sizeof(*k));
	char *u = at_xstrdup(opt->url ? opt->url : "wss://ws.kite.trade");
	const char *prot = NULL, *ads = NULL, *path = NULL;
	int port = 0;

	k->o = *opt;
	if (k->o.max_conns <= 0 || k->o.max_conns > AT_KWS_MAX_CONNS)
		k->o.max_conns = AT_KWS_MAX_CONNS;
	if (k->o.per_conn <= 0 || k->o.per_conn > AT_KWS_MAX_PER_CONN)
		k->o.per_conn = AT_KWS_MAX_PER_CONN;
	if (k->o.silence_ms <= 0)
		k->o.silence_ms = 5000;
	if (k->o.backoff_cap_ms <= 0)
		k->o.backoff_cap_ms = 60000;
	k->rng = (uint64_t)at_util_mono_ns() | 1;
	if (lws_parse_uri(u, &prot, &ads, &port, &path) != 0 ||
	    (strcmp(prot, "ws") != 0 && strcmp(prot, "wss") != 0) ||
	    *ads == '\0') {
		at_err_set(e, EX_CONFIG,
			   "ticker url: expected ws://HOST[:PORT][/PATH] or "
			   "wss://...");
		free(u);
		free(k);
		return NULL;
	}
	k->tls = strcmp(prot, "wss") == 0;
	if (port == 0 || (k->tls && port == 80))
		port = k->tls ? 443 : 80;
	k->port = port;
	k->host = at_xstrdup(ads);
	{
		at_buf pb = AT_BUF_INIT;
		at_buf_putc(&pb, '/');
		at_buf_puts(&pb, path ? path : "");
		k->path_base = at_buf_detach(&pb, NULL);
	}
	free(u);
	k->api_key = at_xstrdup(opt->api_key ? opt->api_key : "");
	k->token = at_xstrdup(opt->access_token ? opt->access_token : "");
	k->o.api_key = k->o.access_token = NULL;
	for (int i = 0; i < AT_KWS_MAX_CONNS; i++) {
		k->c[i].k = k;
		k->c[i].idx = i;
	}
	lws_set_log_level(LLL_ERR, lws_log_emit);
	memset(&info, 0, sizeof(info));
	info.port = CONTEXT_PORT_NO_LISTEN;
	info.protocols = protocols;
	info.gid = (gid_t)-1;
	info.uid = (uid_t)-1;
	if (k->tls)
		info.options |= LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT;
	k->ctx = lws_create_context(&info);
	if (k->ctx == NULL) {
		at_err_set(e, EX_SOFTWARE, "libwebsockets: no context");
		at_kws_free(k);
		return NULL;
	}
	lws_sul_schedule(k->ctx, 0, &k->sul, tick, 1);
	return k;
}

void at_kws_free(at_kws *k)
{
	if (k == NULL)
		return;
	if (k->ctx) {
		for (int i = 0; i < AT_KWS_MAX_CONNS; i++)
			k->c[i].ntok = 0;
		lws_context_destroy(k->ctx);
	}
	for (int i = 0; i < AT_KWS_MAX_CONNS; i++) {
		q_clear(&k->c[i]);
		free(k->c[i].tok);
		free(k->c[i].sub);
		at_buf_release(&k->c[i].rx);
	}
	if (k->token) {
		explicit_bzero(k->token, strlen(k->token));
		free(k->token);
	}
	free(k->api_key);
	free(k->host);
	free(k->path_base);
	free(k);
}

size_t at_kws_assign(const uint32_t *tokens, size_t n,
		     const uint32_t *prev_tokens, const int *prev_assign,
		     size_t n_prev, int max_conns, int per_conn, int *assign)
{
	size_t load[AT_KWS_MAX_CONNS] = {0}, done = 0, j = 0;
	size_t need = (n + (size_t)per_conn - 1) / (size_t)per_conn;

	if (max_conns > AT_KWS_MAX_CONNS)
		max_conns = AT_KWS_MAX_CONNS;
	if (need > (size_t)max_conns)
		need = (size_t)max_conns;
	/* keep tokens where they were (when that connection is still in
	 * use and has room) */
	for (size_t i = 0; i < n; i++) {
		assign[i] = -1;
		while (j < n_prev && prev_tokens[j] < tokens[i])
			j++;
		if (j < n_prev && prev_tokens[j] == tokens[i]) {
			int c = prev_assign[j];
			if (c >= 0 && (size_t)c < need &&
			    load[c] < (size_t)per_conn) {
				assign[i] = c;
				load[c]++;
				done++;
			}
		}
	}
	/* the rest to the least loaded connection with room */
	for (size_t i = 0; i < n; i++) {
		int best = -1;
		if (assign[i] >= 0)
			continue;
		for (size_t c = 0; c < need; c++)
			if (load[c] < (size_t)per_conn &&
			    (best < 0 || load[c] < load[best]))
				best = (int)c;
		if (best < 0)
			continue;
		assign[i] = best;
		load[best]++;
		done++;
	}
	return done;
}

size_t at_kws_set_tokens(at_kws *k, const uint32_t *tokens, size_t n)
{
	uint32_t *prev = NULL;
	int *prev_a = NULL, *a = at_xcalloc(n + 1, sizeof(int));
	size_t np = 0, done;

	for (int c = 0; c < AT_KWS_MAX_CONNS; c++)
		np += k->c[c].ntok;
	prev = at_xcalloc(np + 1, sizeof(*prev));
	prev_a = at_xcalloc(np + 1, sizeof(*prev_a));
	{
		/* merge the per-connection lists into one sorted list */
		size_t pos[AT_KWS_MAX_CONNS] = {0};
		for (size_t m = 0; m < np; m++) {
			int best = -1;
			for (int c = 0; c < AT_KWS_MAX_CONNS; c++)
				if (pos[c] < k->c[c].ntok &&
				    (best < 0 || k->c[c].tok[pos[c]] <
						     k->c[best].tok[pos[best]]))
					best = c;
			prev[m] = k->c[best].tok[pos[best]++];
			prev_a[m] = best;
		}
	}
	done = at_kws_assign(tokens, n, prev, prev_a, np, k->o.max_conns,
			     k->o.per_conn, a);
	for (int c = 0; c < AT_KWS_MAX_CONNS; c++) {
		free(k->c[c].tok);
		k->c[c].tok = at_xcalloc(n + 1, sizeof(uint32_t));
		k->c[c].ntok = 0;
	}
	for (size_t i = 0; i < n; i++)
		if (a[i] >= 0)
			k->c[a[i]].tok[k->c[a[i]].ntok++] = tokens[i];
	for (int c = 0; c < AT_KWS_MAX_CONNS; c++) {
		struct conn *cc = &k->c[c];
		cc->st.instruments = cc->ntok;
		if (cc->ntok > 0 && cc->wsi == NULL && !cc->connecting &&
		    cc->retry_at_ms == 0)
			cc->retry_at_ms = 1; /* connect at the next tick */
		if (cc->up)
			sync_subs(cc);
	}
	if (done < n) {
		char left[24];
		snprintf(left, sizeof(left), "%zu", n - done);
		at_log(AT_LOG_ERROR,
		       "subscriptions over the connection limits: left out",
		       "instruments", left, NULL);
	}
	free(prev);
	free(prev_a);
	free(a);
	return n - done;
}

void at_kws_service(at_kws *k)
{
	lws_service(k->ctx, 0);
}

int at_kws_nconns(const at_kws *k)
{
	int n = 0;

	for (int c = 0; c < AT_KWS_MAX_CONNS; c++)
		n += k->c[c].ntok > 0;
	return n;
}

void at_kws_stats(const at_kws *k, int conn, struct at_kws_stats *out)
{
	memset(out, 0, sizeof(*out));
	if (conn >= 0 && conn < AT_KWS_MAX_CONNS)
		*out = k->c[conn].st;
}
