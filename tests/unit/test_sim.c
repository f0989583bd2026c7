/*
 * test_sim: lib/sim's parsers, then the ticker of a real at-sim process
 * (started from $AT_REPO/bin/at-sim on port 0) over a raw WebSocket
 * client, with frames decoded by lib/ticker.
 */
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <time.h>

#include "json.h"
#include "sim.h"
#include "simclient.h"
#include "t.h"
#include "ticker.h"
#include "totp.h"
#include "util.h"

static const char *SECRET = "JBSWY3DPEHPK3PXP";

static void test_form(void)
{
	struct at_sim_form f = {0};
	at_err e = {0};
	const char *in = "a=1&b=x+y%21&&c&d=%41%42&a=2";

	T_OK(at_sim_form_parse(&f, in, strlen(in), &e) == 0, "form parses");
	T_EQ_INT((int)f.n, 5, "form: empty pairs skipped");
	T_EQ_STR(at_sim_form_get(&f, "a"), "1", "form: first value wins");
	T_EQ_STR(at_sim_form_get(&f, "b"), "x y!", "form: + and %%21");
	T_EQ_STR(at_sim_form_get(&f, "c"), "", "form: key without =");
	T_EQ_STR(at_sim_form_get(&f, "d"), "AB", "form: escapes");
	at_sim_form_free(&f);
	T_OK(at_sim_form_parse(&f, "x=%4", 4, &e) < 0 &&
		 strstr(e.msg, "offset 2") != NULL,
	     "form: truncated escape names its offset (%s)", e.msg);
	at_sim_form_free(&f);
	T_OK(at_sim_form_parse(&f, "x=%00", 5, &e) < 0, "form: NUL refused");
	at_sim_form_free(&f);
}

static void test_ws_msg(void)
{
	struct at_sim_ws_msg m;
	at_err e = {0};
	const char *s1 = "{\"a\":\"subscribe\",\"v\":[256265,738561]}";
	const char *s2 = "{\"a\":\"mode\",\"v\":[\"full\",[1]]}";

	T_OK(at_sim_ws_msg_parse(s1, strlen(s1), &m, &e) == 0 &&
		 m.action == AT_SIM_WS_SUBSCRIBE && m.n == 2 &&
		 m.tokens[1] == 738561,
	     "ws: subscribe");
	at_sim_ws_msg_free(&m);
	T_OK(at_sim_ws_msg_parse(s2, strlen(s2), &m, &e) == 0 &&
		 m.action == AT_SIM_WS_MODE && m.mode == AT_TICKER_MODE_FULL &&
		 m.n == 1,
	     "ws: mode");
	at_sim_ws_msg_free(&m);
	const char *bad[] = {"{\"a\":\"subscribe\",\"v\":[-1]}",
			     "{\"a\":\"subscribe\",\"v\":[1.5]}",
			     "{\"a\":\"mode\",\"v\":[\"fast\",[1]]}",
			     "{\"a\":\"dance\"}",
			     "[1]",
			     "{\"a\":\"subscribe\",\"v\":4294967296}",
			     "nonsense"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++)
		T_OK(at_sim_ws_msg_parse(bad[i], strlen(bad[i]), &m, &e) < 0 &&
			 m.tokens == NULL,
		     "ws: refuses %s (%s)", bad[i], e.msg);
}

static void test_faults(void)
{
	struct at_sim_faults f = {0};
	at_err e = {0};
	const char *j = "{\"latency_ms\":200,\"error_rate\":{\"*\":0.5,"
			"\"quote\":1},\"reject_orders\":true}";

	T_OK(at_sim_faults_parse(j, strlen(j), &f, &e) == 0, "faults parse");
	T_EQ_INT(f.latency_ms, 200, "faults: latency");
	T_OK(f.error_rate[AT_SIM_EP_QUOTE] == 1 &&
		 f.error_rate[AT_SIM_EP_ORDERS] == 0.5,
	     "faults: * then named endpoints");
	T_EQ_INT(f.reject_orders, 1, "faults: reject_orders");
	const char *b = "{\"error_rate\":{\"nope\":1}}";
	T_OK(at_sim_faults_parse(b, strlen(b), &f, &e) < 0 &&
		 f.latency_ms == 200,
	     "faults: unknown endpoint refused, faults unchanged (%s)", e.msg);
	b = "{\"latency\":1}";
	T_OK(at_sim_faults_parse(b, strlen(b), &f, &e) < 0,
	     "faults: unknown key refused (%s)", e.msg);
	T_OK(at_sim_faults_error_rate("orders.place=0.25", &f, &e) == 0 &&
		 f.error_rate[AT_SIM_EP_ORDERS_PLACE] == 0.25,
	     "faults: --error-rate");
}

static void test_accounts(void)
{
	struct at_sim_account *a;
	size_t n;
	at_err e = {0};
	const char *ok = "[{\"api_key\":\"k\",\"api_secret\":\"s\",\"user_id\":"
			 "\"U1\",\"password\":\"p\",\"totp_secret\":\"JBSWY3DP"
			 "EHPK3PXP\"}]";
	T_OK(at_sim_accounts_parse(ok, strlen(ok), "f", &a, &n, &e) == 0 &&
		 n == 1 && !strcmp(a[0].user_id, "U1") && a[0].totp_keylen > 0,
	     "accounts parse");
	at_sim_accounts_free(a, n);
	const char *bad[] = {
	    "{}",
	    "[{\"api_key\":\"k\"}]",
	    "[{\"api_key\":\"k\",\"api_secret\":\"s\",\"user_id\":\"U\","
	    "\"password\":\"p\",\"totp_secret\":\"!!\"}]",
	    "[{\"api_key\":\"k\",\"api_secret\":\"s\",\"user_id\":\"U\","
	    "\"password\":\"p\",\"totp_secret\":\"JBSW\",\"x\":1}]",
	    "[{\"api_key\":\"k\",\"api_secret\":\"s\",\"user_id\":\"U\","
	    "\"password\":\"p\",\"totp_secret\":\"JBSW\"},{\"api_key\":\"k\","
	    "\"api_secret\":\"s\",\"user_id\":\"V\",\"password\":\"p\","
	    "\"totp_secret\":\"JBSW\"}]",
	    "[1,"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
		int rc = at_sim_accounts_parse(bad[i], strlen(bad[i]), "f", &a,
					       &n, &e);
		T_OK(rc < 0 && e.code == EX_DATAERR && a == NULL &&
			 !strncmp(e.msg, "f:", 2),
		     "accounts: refuses case %zu (%s)", i, e.msg);
	}
}

/* ---- a live simulator ---- */

static pid_t sim_pid;
static int port;

static int start_sim(const char *dir)
{
	char acc[512], bin[1024], pf[600];
	const char *repo = getenv("AT_REPO");
	int p[2];
	FILE *f;

	snprintf(acc, sizeof(acc), "%s/acc.json", dir);
	f = fopen(acc, "w");
	if (!f)
		return -1;
	fprintf(f,
		"[{\"api_key\":\"key1\",\"api_secret\":\"sec1\",\"user_id\":"
		"\"AB0001\",\"password\":\"pw1\",\"totp_secret\":\"%s\"}]\n",
		SECRET);
	fclose(f);
	snprintf(bin, sizeof(bin), "%s/bin/at-sim", repo ? repo : "../..");
	snprintf(pf, sizeof(pf), "%s/port", dir);
	if (pipe(p) < 0)
		return -1;
	sim_pid = fork();
	if (sim_pid == 0) {
		dup2(p[1], 1);
		close(p[0]);
		execl(bin, "at-sim", "--accounts", acc, "--seed", "3",
		      "--listen", "127.0.0.1:0", "--tick-rate", "10",
		      "--strikes", "400", "--record-sends", (char *)NULL);
		_exit(127);
	}
	close(p[1]);
	char line[128] = {0};
	size_t n = 0;
	while (n < sizeof(line) - 1 && read(p[0], line + n, 1) == 1 &&
	       line[n] != '\n')
		n++;
	close(p[0]);
	const char *c = strrchr(line, ':');
	port = c ? atoi(c + 1) : 0;
	return port > 0 ? 0 : -1;
}

static int json_str(const at_buf *b, const char *k1, const char *k2, char *out,
		    size_t cap)
{
	jv o, d, v;
	at_err e;
	int rc = -1;
	if (!b->data || at_json_parse(b->data, b->len, &o, "resp", &e) < 0)
		return -1;
	d = jv_object_get(jv_copy(o), jv_string(k1));
	v = jv_get_kind(d) == JV_KIND_OBJECT
		? jv_object_get(jv_copy(d), jv_string(k2))
		: jv_invalid();
	if (jv_get_kind(v) == JV_KIND_STRING &&
	    strlen(jv_string_value(v)) < cap) {
		strcpy(out, jv_string_value(v));
		rc = 0;
	}
	jv_free(v);
	jv_free(d);
	jv_free(o);
	return rc;
}

/* The login flow; the access token into tok. */
static int login(char tok[64])
{
	at_buf h = AT_BUF_INIT, b = AT_BUF_INIT, q = AT_BUF_INIT;
	char loc[512], rid[64], cookie[256], code[AT_TOTP_CODE_MAX], sum[65];
	unsigned char *key;
	size_t kl;
	at_err e;
	int rc = -1;
	const char *sess, *rt;
	char sess_id[64], rtok[64];

	if (sc_http(port, "GET", "/connect/login?v=3&api_key=key1", NULL, NULL,
		    &h, &b) != 302 ||
	    sc_header(&h, "location", loc, sizeof(loc)) < 0 ||
	    !(sess = strstr(loc, "sess_id=")))
		goto out;
	snprintf(sess_id, sizeof(sess_id), "%s", sess + 8);
	if (sc_http(port, "POST", "/api/login", NULL,
		    "user_id=AB0001&password=pw1", &h, &b) != 200 ||
	    json_str(&b, "data", "request_id", rid, sizeof(rid)) < 0)
		goto out;
	if (at_totp_parse_secret(SECRET, &key, &kl, &e) < 0)
		goto out;
	if (at_totp_code(key, kl, time(NULL), 6, AT_TOTP_SHA1, code, &e) < 0) {
		at_totp_free_key(key, kl);
		goto out;
	}
	at_totp_free_key(key, kl);
	at_buf_printf(&q,
		      "user_id=AB0001&request_id=%s&twofa_value=%s&"
		      "twofa_type=totp",
		      rid, code);
	if (sc_http(port, "POST", "/api/twofa", NULL, q.data, &h, &b) != 200 ||
	    sc_header(&h, "set-cookie", cookie, sizeof(cookie)) < 0)
		goto out;
	*strchr(cookie, ';') = '\0';
	at_buf_reset(&q);
	at_buf_printf(&q, "/connect/finish?v=3&api_key=key1&sess_id=%s",
		      sess_id);
	char ch[300];
	snprintf(ch, sizeof(ch), "Cookie: %s\r\n", cookie);
	if (sc_http(port, "GET", q.data, ch, NULL, &h, &b) != 302 ||
	    sc_header(&h, "location", loc, sizeof(loc)) < 0 ||
	    !(rt = strstr(loc, "request_token=")))
		goto out;
	snprintf(rtok, sizeof(rtok), "%s", rt + 14);
	at_buf_reset(&q);
	at_buf_printf(&q, "key1%ssec1", rtok);
	at_util_sha256_hex(q.data, q.len, sum);
	at_buf_reset(&q);
	at_buf_printf(&q, "api_key=key1&request_token=%s&checksum=%s", rtok,
		      sum);
	if (sc_http(port, "POST", "/session/token", NULL, q.data, &h, &b) !=
		200 ||
	    json_str(&b, "data", "access_token", tok, 64) < 0)
		goto out;
	rc = 0;
out:
	at_buf_release(&h);
	at_buf_release(&b);
	at_buf_release(&q);
	return rc;
}

struct seen {
	uint32_t token[8];
	int mode[8];
	int n, ticks, full_depth;
	uint32_t distinct[4000];
	int nd;
};

static void on_tick(const struct at_tick *t, void *ctx)
{
	struct seen *s = ctx;
	s->ticks++;
	if (t->mode == AT_TICKER_MODE_FULL && t->tradable &&
	    t->depth.buy[0].quantity > 0)
		s->full_depth++;
	for (int i = 0; i < s->n; i++)
		if (s->token[i] == t->instrument_token) {
			s->mode[i] = t->mode;
			goto distinct;
		}
	if (s->n < 8) {
		s->token[s->n] = t->instrument_token;
		s->mode[s->n++] = t->mode;
	}
distinct:
	for (int i = 0; i < s->nd; i++)
		if (s->distinct[i] == t->instrument_token)
			return;
	if (s->nd < 4000)
		s->distinct[s->nd++] = t->instrument_token;
}

static int mode_of(const struct seen *s, uint32_t tok)
{
	for (int i = 0; i < s->n; i++)
		if (s->token[i] == tok)
			return s->mode[i];
	return -1;
}

/* Read until a text message of kind (error/order) arrives; binary frames
 * before it are decoded into pre (may be NULL).  1 found, 0 not. */
static int until_text(int fd, int kind, struct seen *pre, at_buf *txt)
{
	at_buf m = AT_BUF_INIT;
	int found = 0;
	for (int i = 0; i < 5000 && !found; i++) {
		int op = sc_ws_recv(fd, &m, 10000);
		if (op < 0 || op == 8)
			break;
		if (op == 2 && pre && m.len > 1) {
			at_err e;
			at_ticker_decode_frame((uint8_t *)m.data, m.len,
					       on_tick, pre, &e);
		}
		if (op == 1) {
			struct at_ticker_text t;
			at_err e;
			if (at_ticker_classify_text(m.data, m.len, &t, &e) ==
				0 &&
			    t.kind == kind) {
				found = 1;
				if (txt) {
					at_buf_reset(txt);
					at_buf_add(txt, m.data, m.len);
				}
			}
		}
	}
	at_buf_release(&m);
	return found;
}

/* Decode the next n binary (non-heartbeat) frames into s. */
static int frames(int fd, int n, struct seen *s)
{
	at_buf m = AT_BUF_INIT;
	int got = 0;
	while (got < n) {
		int op = sc_ws_recv(fd, &m, 10000);
		if (op < 0 || op == 8)
			break;
		if (op != 2 || m.len <= 1)
			continue;
		at_err e;
		if (at_ticker_decode_frame((uint8_t *)m.data, m.len, on_tick, s,
					   &e) < 0 ||
		    e.code)
			break;
		got++;
	}
	at_buf_release(&m);
	return got;
}

static void send_text(int fd, const char *s)
{
	if (sc_ws_send(fd, 1, s, strlen(s)) < 0)
		t_diag("send failed");
}

static void test_live(void)
{
	char dir[] = "/tmp/at-test-sim.XXXXXX", tok[64] = {0}, path[256];
	at_buf h = AT_BUF_INIT, b = AT_BUF_INIT, csv = AT_BUF_INIT;
	int st, fd, fds[4];
	uint32_t idx_tok = 256265, opt = 0;
	uint32_t *toks = NULL;
	size_t ntoks = 0;

	if (!mkdtemp(dir) || start_sim(dir) < 0) {
		T_OK(0, "at-sim starts (AT_REPO=%s)", getenv("AT_REPO"));
		return;
	}
	T_OK(1, "at-sim starts on port %d", port);
	T_OK(login(tok) == 0, "login flow gives an access token");

	/* instruments: NFO tokens for the cap test */
	if (sc_http(port, "GET", "/instruments", NULL, NULL, &h, &csv) == 200) {
		toks = calloc(csv.len / 20 + 1, sizeof(*toks));
		for (char *l = strchr(csv.data, '\n'); l && l[1];
		     l = strchr(l + 1, '\n')) {
			unsigned long t = strtoul(l + 1, NULL, 10);
			if (strstr(l + 1, ",NFO") && strchr(l + 1, '\n') &&
			    strstr(l + 1, ",NFO") < strchr(l + 1, '\n'))
				toks[ntoks++] = (uint32_t)t;
		}
	}
	T_OK(ntoks > 3005, "instrument master lists %zu NFO instruments",
	     ntoks);
	if (ntoks == 0)
		goto out;
	opt = toks[0];

	snprintf(path, sizeof(path), "/?api_key=key1&access_token=bad");
	fd = sc_ws_open(port, path, &st);
	T_EQ_INT(st, 403, "ws: bad token refused with 403");
	snprintf(path, sizeof(path), "/?api_key=nokey&access_token=%s", tok);
	fd = sc_ws_open(port, path, &st);
	T_EQ_INT(st, 403, "ws: unknown api_key refused with 403");

	snprintf(path, sizeof(path), "/?api_key=key1&access_token=%s", tok);
	st = sc_http(port, "POST", "/_sim/faults", NULL,
		     "{\"error_rate\":{\"ws\":1}}", &h, &b);
	fd = sc_ws_open(port, path, &st);
	T_EQ_INT(st, 503, "ws: error_rate fault refuses the upgrade with 503");
	st = sc_http(port, "POST", "/_sim/faults", NULL,
		     "{\"error_rate\":{\"ws\":0}}", &h, &b);
	fd = sc_ws_open(port, path, &st);
	T_EQ_INT(st, 101, "ws: upgrade with a valid token");
	if (fd < 0)
		goto out;

	/* heartbeat before any subscription */
	at_buf m = AT_BUF_INIT;
	int op = sc_ws_recv(fd, &m, 10000);
	T_OK(op == 2 && at_ticker_is_heartbeat((uint8_t *)m.data, m.len),
	     "ws: 1-byte heartbeat without subscriptions");

	char sub[200];
	snprintf(sub, sizeof(sub), "{\"a\":\"subscribe\",\"v\":[%u,%u]}",
		 idx_tok, opt);
	int64_t sub_us = at_util_now_ms() * 1000;
	send_text(fd, sub);
	struct seen s1 = {0};
	T_OK(frames(fd, 3, &s1) == 3, "ws: binary frames after subscribe");
	int64_t got_us = (at_util_now_ms() + 1) * 1000;
	st = sc_http(port, "GET", "/_sim/sends", NULL, NULL, &h, &b);
	T_EQ_INT(st, 200, "--record-sends: GET /_sim/sends");
	{
		const char *p1 =
		    b.data ? strstr(b.data, "{\"1\":[{\"round\":") : NULL;
		const char *u = p1 ? strstr(p1, "\"us\":") : NULL;
		long long us = u ? strtoll(u + 5, NULL, 10) : 0;
		T_OK(p1 && strstr(p1, "\"packets\":2,"),
		     "--record-sends: connection 1, 2 packets a frame: %.80s",
		     b.data ? b.data : "");
		T_OK(us >= sub_us && us <= got_us,
		     "--record-sends: send time %lld within [%lld, %lld]", us,
		     (long long)sub_us, (long long)got_us);
	}
	T_EQ_INT(mode_of(&s1, idx_tok), AT_TICKER_MODE_QUOTE,
		 "ws: index in quote mode by default");
	T_EQ_INT(mode_of(&s1, opt), AT_TICKER_MODE_QUOTE,
		 "ws: option in quote mode by default");

	snprintf(sub, sizeof(sub), "{\"a\":\"mode\",\"v\":[\"full\",[%u,%u]]}",
		 idx_tok, opt);
	send_text(fd, sub);
	send_text(fd, "garbage{");
	T_OK(until_text(fd, AT_TICKER_TEXT_ERROR, NULL, NULL),
	     "ws: garbage gets a {\"type\":\"error\"} message");
	struct seen s2 = {0};
	frames(fd, 3, &s2);
	T_EQ_INT(mode_of(&s2, opt), AT_TICKER_MODE_FULL,
		 "ws: mode full for the option");
	T_EQ_INT(mode_of(&s2, idx_tok), AT_TICKER_MODE_FULL,
		 "ws: mode full for the index (index full packet)");
	T_OK(s2.full_depth > 0, "ws: full packets carry market depth");

	snprintf(sub, sizeof(sub), "{\"a\":\"mode\",\"v\":[\"ltp\",[%u]]}",
		 opt);
	send_text(fd, sub);
	snprintf(sub, sizeof(sub), "{\"a\":\"unsubscribe\",\"v\":[%u]}",
		 idx_tok);
	send_text(fd, sub);
	send_text(fd, "{\"a\":\"subscribe\",\"v\":\"x\"}");
	T_OK(until_text(fd, AT_TICKER_TEXT_ERROR, NULL, NULL),
	     "ws: bad subscribe gets an error message");
	struct seen s3 = {0};
	frames(fd, 3, &s3);
	T_EQ_INT(mode_of(&s3, opt), AT_TICKER_MODE_LTP, "ws: mode ltp");
	T_EQ_INT(mode_of(&s3, idx_tok), -1, "ws: unsubscribed index is gone");

	/* order update after a REST order */
	char auth[200];
	snprintf(auth, sizeof(auth), "Authorization: token key1:%s\r\n", tok);
	const char *sym_start = NULL;
	char sym[64] = {0};
	char want[32];
	snprintf(want, sizeof(want), "\n%u,", opt);
	sym_start = strstr(csv.data, want);
	if (sym_start) {
		const char *c1 = strchr(sym_start + 1, ',');
		const char *c2 = c1 ? strchr(c1 + 1, ',') : NULL;
		const char *c3 = c2 ? strchr(c2 + 1, ',') : NULL;
		if (c2 && c3 && (size_t)(c3 - c2 - 1) < sizeof(sym))
			memcpy(sym, c2 + 1, (size_t)(c3 - c2 - 1));
	}
	char body[300];
	snprintf(body, sizeof(body),
		 "tradingsymbol=%s&exchange=NFO&transaction_type=BUY&"
		 "order_type=LIMIT&price=0.05&quantity=%s&product=NRML",
		 sym, "75");
	/* the lot size is taken from the CSV's 9th column */
	{
		const char *c = sym_start;
		for (int i = 0; c && i < 8; i++)
			c = strchr(c + 1, ',');
		if (c)
			snprintf(body, sizeof(body),
				 "tradingsymbol=%s&exchange=NFO&"
				 "transaction_type=BUY&order_type=LIMIT&"
				 "price=0.05&quantity=%ld&product=NRML",
				 sym, strtol(c + 1, NULL, 10));
	}
	st = sc_http(port, "POST", "/orders/regular", auth, body, &h, &b);
	T_EQ_INT(st, 200, "REST order placed (%s)", b.data ? b.data : "");
	at_buf txt = AT_BUF_INIT;
	T_OK(until_text(fd, AT_TICKER_TEXT_ORDER, NULL, &txt) &&
		 strstr(txt.data, "\"order_id\"") != NULL,
	     "ws: order update text message after a REST order");
	at_buf_release(&txt);

	/* 3000-instrument cap */
	at_buf big = AT_BUF_INIT;
	at_buf_puts(&big, "{\"a\":\"subscribe\",\"v\":[");
	for (size_t i = 0; i < 3005 && i < ntoks; i++)
		at_buf_printf(&big, "%s%u", i ? "," : "", toks[i]);
	at_buf_puts(&big, "]}");
	send_text(fd, big.data);
	at_buf_release(&big);
	struct seen s4 = {0};
	T_OK(until_text(fd, AT_TICKER_TEXT_ERROR, NULL, &b) &&
		 strstr(b.data, "3000") != NULL,
	     "ws: subscriptions beyond 3000 get an error message");
	frames(fd, 300, &s4);
	T_EQ_INT(s4.nd, 3000, "ws: exactly 3000 instruments stream");

	/* 3 connections per api_key */
	fds[0] = fd;
	fds[1] = sc_ws_open(port, path, &st);
	fds[2] = sc_ws_open(port, path, &st);
	T_OK(fds[1] >= 0 && fds[2] >= 0, "ws: 3 connections per api_key");
	fds[3] = sc_ws_open(port, path, &st);
	T_EQ_INT(st, 429, "ws: a 4th connection is refused with 429");
	if (fds[1] >= 0)
		close(fds[1]);
	if (fds[2] >= 0)
		close(fds[2]);

	/* drop every N seconds */
	st = sc_http(port, "POST", "/_sim/faults", NULL,
		     "{\"drop_ws_every_s\":1}", &h, &b);
	T_EQ_INT(st, 200, "faults: drop_ws_every_s set");
	int closed = 0;
	for (int i = 0; i < 2000; i++) {
		op = sc_ws_recv(fd, &m, 10000);
		if (op < 0 || op == 8) {
			closed = 1;
			break;
		}
	}
	T_OK(closed, "ws: connection dropped by the fault");
	close(fd);
	st = sc_http(port, "POST", "/_sim/faults", NULL,
		     "{\"drop_ws_every_s\":0}", &h, &b);
	at_buf_release(&m);

	/* SIGTERM: clean exit 0 */
	int ws;
	kill(sim_pid, SIGTERM);
	waitpid(sim_pid, &ws, 0);
	sim_pid = 0;
	T_OK(WIFEXITED(ws) && WEXITSTATUS(ws) == 0,
	     "SIGTERM: at-sim exits 0 (status %d)", ws);
out:
	if (sim_pid > 0) {
		kill(sim_pid, SIGTERM);
		waitpid(sim_pid, NULL, 0);
	}
	free(toks);
	at_buf_release(&h);
	at_buf_release(&b);
	at_buf_release(&csv);
	char cmd[300];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	if (system(cmd) != 0)
		t_diag("rm failed");
}

int main(void)
{
	signal(SIGPIPE, SIG_IGN);
	test_form();
	test_ws_msg();
	test_faults();
	test_accounts();
	test_live();
	return t_done();
}
