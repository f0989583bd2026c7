/*
 * fuzz_creds: arbitrary bytes as an at-user set-credentials document.
 * Never a crash or a leak; an accepted document has every required field
 * non-empty and a canonical egress address; a rejected one leaves the
 * output struct wiped.
 */
#include <arpa/inet.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "users.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct at_users_creds zero;
	struct at_users_creds c;
	at_err e;

	if (at_users_creds_parse((const char *)data, size, "<fuzz>", &c, &e) ==
	    0) {
		unsigned char a[16];
		if (!c.api_key[0] || !c.api_secret[0] || !c.totp_secret[0] ||
		    !c.broker_user_id[0] || !c.password[0])
			abort();
		if (c.egress_ip[0] &&
		    inet_pton(strchr(c.egress_ip, ':') ? AF_INET6 : AF_INET,
			      c.egress_ip, a) != 1)
			abort();
	} else if (e.code != EX_DATAERR || memcmp(&c, &zero, sizeof(c)) != 0) {
		abort();
	}
	at_users_creds_wipe(&c);
	return 0;
}
