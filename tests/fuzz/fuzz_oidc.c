/*
 * fuzz_oidc: arbitrary bytes as a JWK Set, as an ID token (verified
 * against a fixed public key; the corpus holds tokens it signed), as a
 * device authorization response, as a token endpoint response, and as
 * base64url.  Never a crash, a leak, or an acceptance of a token whose
 * claims are wrong.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "oidc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* the public half of a key generated once for the corpus (kid "fz") */
static const char fuzz_jwks[] =
    "{\"keys\":[{\"kty\":\"RSA\",\"alg\":\"RS256\",\"use\":\"sig\",\"kid\":"
    "\"fz\",\"n\":\"yD_838SDFUJ6W401HVwxVLXI5y7QPYPJY-"
    "O2MvoUc3gVRWURe7WUrfGxpBiykVarqx-UEMI2EnXwOfDI-_h-"
    "Q6G8Qo8YJUf4CAc0rYK9AA4lDsCUEn1ZfvVW7MJEUmj0GqCz8eStH6JN87FPDCoHnwBo2w7SSo"
    "Am6xvSuAvf1DaUq4Xmb763Zxr9-7VhM_"
    "JOkMtVJvvOKPUlzIKughunUS1A0esY1REVPKF9m3B9U2SYRuWy53bn2l2y7fbGhnnkDQAC5F6Y"
    "lh_Roe1gtC7pOLWB5ACMedD9svyO6Gq-Ea9E0IQRvN0dd3w6Jo6KBLS75ytRXqK_"
    "oUNCCPxo8RRbIQ\",\"e\":\"AQAB\"}]}";

static const at_oidc_jwks *keys(void)
{
	static at_oidc_jwks *k;
	at_err e;

	if (k == NULL) {
		k = at_oidc_jwks_parse(fuzz_jwks, strlen(fuzz_jwks), &e);
		if (k == NULL)
			abort();
	}
	return k;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *s = (const char *)data;
	struct at_oidc_expect x = {AT_OIDC_GOOGLE_ISSUER, "fuzz-client",
				   1800000000, 60};
	struct at_oidc_claims c;
	struct at_oidc_device d;
	at_oidc_jwks *k;
	unsigned char *raw = NULL;
	char *tok = NULL;
	size_t n = 0;
	at_err e;
	int r;

	k = at_oidc_jwks_parse(s, size, &e);
	if (k != NULL && at_oidc_jwks_count(k) == 0)
		abort();
	at_oidc_jwks_free(k);

	if (at_oidc_verify(keys(), s, size, &x, &c, &e) == 0) {
		/* whatever got through must satisfy every rule */
		if (c.sub == NULL || c.sub[0] == '\0' || c.email == NULL ||
		    !c.email_verified || c.exp + 60 <= x.now ||
		    c.iat > x.now + 60)
			abort();
		at_oidc_claims_release(&c);
	} else if (e.code == 0) {
		abort();
	}

	if (at_oidc_device_parse(s, size, &d, &e) == 0) {
		if (d.device_code == NULL || d.user_code == NULL ||
		    d.verification_url == NULL || d.interval < 1 ||
		    d.expires_in < 1)
			abort();
		at_oidc_device_release(&d);
	}

	r = at_oidc_token_parse(s, size, &tok, &e);
	if (r == AT_OIDC_POLL_TOKEN) {
		if (tok == NULL || tok[0] == '\0')
			abort();
		at_oidc_free_token(tok);
	} else if (tok != NULL) {
		abort();
	}

	if (at_oidc_b64url_decode(s, size, &raw, &n, &e) == 0) {
		if (raw == NULL || n > size)
			abort();
		free(raw);
	}
	return 0;
}
