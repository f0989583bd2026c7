/*
 * fuzz_strategy: strategy configs from traders (untrusted JSON).
 *
 * Feeds the bytes to at_strategy_parse and checks, aborting on a
 * violation:
 *  - a rejection is EX_DATAERR with a one-line message naming the input;
 *  - an accepted config normalises to valid JSON that is accepted again
 *    and normalises to the same text (idempotence);
 *  - accepted values are within the schema's ranges and cross-field rules.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "strategy.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(c)                                                               \
	do {                                                                   \
		if (!(c)) {                                                    \
			fprintf(stderr,                                        \
				"fuzz_strategy: check failed: %s (%s:%d)\n",   \
				#c, __FILE__, __LINE__);                       \
			abort();                                               \
		}                                                              \
	} while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct at_strategy_config c, c2;
	at_buf a = AT_BUF_INIT, b = AT_BUF_INIT;
	at_err e = {0, ""};

	if (at_strategy_parse((const char *)data, size, "fuzz", &c, &e) != 0) {
		CHECK(e.code == EX_DATAERR);
		CHECK(strncmp(e.msg, "fuzz: ", 6) == 0);
		CHECK(strchr(e.msg, '\n') == NULL);
		return 0;
	}
	CHECK(c.instrument != NULL);
	CHECK(c.lots >= 1 && c.lots <= 100);
	CHECK(c.entry_minute >= AT_STRATEGY_MARKET_OPEN);
	CHECK(c.entry_minute < c.exit.exit_minute);
	CHECK(c.exit.exit_minute <= AT_STRATEGY_MARKET_CLOSE);
	CHECK(!c.exit.has_stop_loss || c.exit.stop_loss_mtm <= -1);
	CHECK(!c.exit.has_profit_target || c.exit.profit_target_mtm >= 1);
	CHECK(c.hedge_distance % c.instrument->strike_step == 0);
	CHECK(c.otm_points % c.instrument->strike_step == 0);
	CHECK(c.instrument->weekly || c.expiry == AT_STRATEGY_CURRENT_MONTH ||
	      c.expiry == AT_STRATEGY_NEXT_MONTH);
	CHECK((c.type == AT_STRATEGY_DIRECTIONAL) ==
	      (c.direction != AT_STRATEGY_DIR_NONE));
	at_strategy_to_json(&c, &a);
	CHECK(at_strategy_parse(a.data, a.len, "again", &c2, &e) == 0);
	at_strategy_to_json(&c2, &b);
	CHECK(a.len == b.len && memcmp(a.data, b.data, a.len) == 0);
	at_buf_release(&a);
	at_buf_release(&b);
	return 0;
}
