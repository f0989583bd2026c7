/*
 * fuzz_replay: untrusted replay files (bars CSV) into lib/market.
 *
 * A file either loads, and then NIFTY stays positive and finite while the
 * clock runs through it, or is refused with a message naming the file.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "market.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char path[] = "/tmp/fuzz_replay.XXXXXX";
	struct at_market_config c;
	at_err e = {0, ""};
	at_market *m;
	int fd = mkstemp(path), i;

	if (fd < 0)
		return 0;
	if (write(fd, data, size) != (ssize_t)size) {
		close(fd);
		unlink(path);
		return 0;
	}
	close(fd);
	memset(&c, 0, sizeof(c));
	c.seed = 1;
	c.start_ms = 1756957500000LL;
	c.replay_path = path;
	c.weekly_expiries = 1;
	c.monthly_expiries = 1;
	c.strikes_each_side = 1;
	m = at_market_new(&c, &e);
	if (!m) {
		if (e.code == 0 || !strstr(e.msg, path)) {
			fprintf(stderr, "fuzz_replay: bad error: %s\n", e.msg);
			abort();
		}
	} else {
		for (i = 1; i <= 5; i++) {
			double p;
			at_market_advance(m, c.start_ms + i * 45000LL);
			p = at_market_ltp(m, 256265);
			if (!(p > 0) || !isfinite(p)) {
				fprintf(stderr, "fuzz_replay: NIFTY %g\n", p);
				abort();
			}
		}
		at_market_free(m);
	}
	unlink(path);
	return 0;
}
