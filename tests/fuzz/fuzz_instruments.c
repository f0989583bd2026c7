/*
 * fuzz_instruments: untrusted instrument master CSV into lib/instruments.
 *
 * A parse either fails with EX_DATAERR and a one-line message naming
 * line and column, or yields an index whose every row is found again by
 * token and by symbol, and whose look-ups stay in bounds.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "instruments.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	at_err e = {0, ""};
	at_instruments *in =
	    at_instruments_parse_csv((const char *)data, size, "f", &e);
	const struct at_instrument *chain[8];

	if (in == NULL) {
		if (e.code != EX_DATAERR || strncmp(e.msg, "f:", 2) != 0 ||
		    strchr(e.msg, '\n') != NULL)
			abort();
		return 0;
	}
	for (size_t i = 0; i < at_instruments_count(in); i++) {
		const struct at_instrument *r = at_instruments_at(in, i);
		if (at_instruments_by_token(in, r->instrument_token) != r)
			abort();
		if (at_instruments_by_symbol(in, r->exchange,
					     r->tradingsymbol) == NULL)
			abort();
		if (r->expiry != 0) {
			size_t n = at_instruments_chain(in, r->name, r->expiry,
							chain, 8);
			for (size_t k = 0; k < n && k < 8; k++)
				if (chain[k]->expiry != r->expiry)
					abort();
		}
		(void)at_instruments_expiry(in, r->name, 20240101,
					    AT_INSTRUMENTS_NEXT_MONTHLY);
	}
	at_instruments_free(in);
	return 0;
}
