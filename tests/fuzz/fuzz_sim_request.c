/*
 * fuzz_sim_request: the untrusted bytes at-sim parses — form bodies and
 * query strings, WebSocket client messages, the fault-injection JSON and
 * the accounts file — all from one input (its first byte picks the
 * parser).  Checks invariants and aborts on a violation:
 *  - a parsed form never holds more than AT_SIM_FORM_MAX_FIELDS pairs and
 *    its values contain no NUL byte before their end;
 *  - a parsed WebSocket message has tokens only when it has an action,
 *    and a failed parse leaves no tokens behind;
 *  - a failed faults parse leaves the faults unchanged;
 *  - every error is EX_DATAERR with a non-empty one-line message.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(c)                                                               \
	do {                                                                   \
		if (!(c)) {                                                    \
			fprintf(                                               \
			    stderr,                                            \
			    "fuzz_sim_request: check failed: %s (%s:%d)\n",    \
			    #c, __FILE__, __LINE__);                           \
			abort();                                               \
		}                                                              \
	} while (0)

static void check_err(const at_err *e)
{
	CHECK(e->code == EX_DATAERR);
	CHECK(e->msg[0] != '\0');
	CHECK(strchr(e->msg, '\n') == NULL);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	at_err e = {0};
	const char *s;
	size_t n;

	if (size == 0)
		return 0;
	s = (const char *)data + 1;
	n = size - 1;
	switch (data[0] % 4) {
	case 0: {
		struct at_sim_form f = {0};
		if (at_sim_form_parse(&f, s, n, &e) == 0) {
			CHECK(f.n <= AT_SIM_FORM_MAX_FIELDS);
			for (size_t i = 0; i < f.n; i++) {
				CHECK(strlen(f.kv[i].key) <= n);
				CHECK(strlen(f.kv[i].val) <= n);
			}
			if (f.n)
				(void)at_sim_form_get(&f, f.kv[0].key);
		} else
			check_err(&e);
		at_sim_form_free(&f);
		break;
	}
	case 1: {
		struct at_sim_ws_msg m;
		if (at_sim_ws_msg_parse(s, n, &m, &e) == 0) {
			CHECK(m.action >= AT_SIM_WS_SUBSCRIBE &&
			      m.action <= AT_SIM_WS_MODE);
			CHECK(m.n <= AT_SIM_WS_MAX_TOKENS);
			CHECK((m.n == 0) || m.tokens != NULL);
			at_sim_ws_msg_free(&m);
		} else {
			check_err(&e);
			CHECK(m.tokens == NULL && m.n == 0);
		}
		break;
	}
	case 2: {
		struct at_sim_faults f = {0}, before;
		f.latency_ms = 7;
		before = f;
		if (at_sim_faults_parse(s, n, &f, &e) < 0) {
			check_err(&e);
			CHECK(!memcmp(&f, &before, sizeof(f)));
		} else {
			for (int i = 0; i < AT_SIM_EP_COUNT; i++)
				CHECK(f.error_rate[i] >= 0 &&
				      f.error_rate[i] <= 1);
		}
		break;
	}
	default: {
		struct at_sim_account *a;
		size_t cnt;
		if (at_sim_accounts_parse(s, n, "acc", &a, &cnt, &e) == 0) {
			for (size_t i = 0; i < cnt; i++)
				CHECK(a[i].api_key[0] && a[i].totp_keylen > 0);
			at_sim_accounts_free(a, cnt);
		} else {
			check_err(&e);
			CHECK(a == NULL);
		}
		break;
	}
	}
	return 0;
}
