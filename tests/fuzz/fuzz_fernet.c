/*
 * fuzz_fernet: arbitrary bytes as a Fernet token (decrypted with a fixed
 * test key) and as a base32 TOTP secret; plus a round trip of the bytes as
 * a plaintext, which must come back unchanged.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "fernet.h"
#include "totp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_KEY "cw_0x689RpI-jtRR7oE8h_eQsKImvJapLeSbXpwF4e4="
/* 1985-10-26T01:20:01-07:00, the spec's verify time */
#define FUZZ_NOW 499162801ULL

static const at_fernet_keys *fuzz_keys(void)
{
	static at_fernet_keys *k;
	at_err e;

	if (k == NULL) {
		k = at_fernet_keys_parse(FUZZ_KEY, &e);
		if (k == NULL)
			abort();
	}
	return k;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint8_t iv[16] = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9};
	const at_fernet_keys *k = fuzz_keys();
	char *s = at_xstrndup((const char *)data, size), *tok;
	unsigned char *pt = NULL, *key = NULL;
	size_t n = 0, keylen = 0;
	at_err e;

	/* as a token: with and without a ttl, never a crash or a leak */
	if (at_fernet_decrypt(k, s, 60, FUZZ_NOW, &pt, &n, &e) == 0) {
		if (pt == NULL || pt[n] != '\0')
			abort();
		at_fernet_free_secret(pt, n);
	} else if (pt != NULL || e.code == 0) {
		abort();
	}
	if (at_fernet_decrypt(k, s, 0, FUZZ_NOW, &pt, &n, &e) == 0)
		at_fernet_free_secret(pt, n);

	/* as a totp secret */
	if (at_totp_parse_secret(s, &key, &keylen, &e) == 0) {
		char code[AT_TOTP_CODE_MAX];

		if (key == NULL || keylen == 0)
			abort();
		if (at_totp_code(key, keylen, (time_t)FUZZ_NOW, 6, AT_TOTP_SHA1,
				 code, &e) != 0 ||
		    strlen(code) != 6 ||
		    at_totp_check(key, keylen, (time_t)FUZZ_NOW, code, 0) != 1)
			abort();
		at_totp_free_key(key, keylen);
	} else if (key != NULL) {
		abort();
	}

	/* as a plaintext: encrypt, decrypt, compare */
	tok = at_fernet_encrypt_at(k, data, size, FUZZ_NOW, iv, &e);
	if (tok == NULL ||
	    at_fernet_decrypt(k, tok, 60, FUZZ_NOW, &pt, &n, &e) != 0 ||
	    n != size || (size && memcmp(pt, data, size) != 0))
		abort();
	at_fernet_free_secret(pt, n);
	free(tok);
	free(s);
	return 0;
}
