#include "totp.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <liboath/oath.h>
#include <openssl/crypto.h>

#include "buf.h"

static pthread_once_t oath_once = PTHREAD_ONCE_INIT;
static int oath_init_rc = OATH_CRYPTO_ERROR;

static void oath_setup(void)
{
	oath_init_rc = oath_init();
}

/* liboath needs oath_init() once per process before any other call. */
static int oath_ready(at_err *e)
{
	pthread_once(&oath_once, oath_setup);
	if (oath_init_rc != OATH_OK)
		return at_err_set(e, EX_SOFTWARE, "liboath: %s",
				  oath_strerror(oath_init_rc));
	return 0;
}

static int b32_val(unsigned char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a';
	if (c >= '2' && c <= '7')
		return c - '2' + 26;
	return -1;
}

/*
 * Our own decoder rather than oath_base32_decode(): it must accept what
 * people paste (grouped, lower case, unpadded) and it is fed untrusted
 * bytes by the fuzzer, so it stays small and allocation-free until the
 * input is known good.
 */
int at_totp_parse_secret(const char *b32, unsigned char **key, size_t *keylen,
			 at_err *e)
{
	size_t nsym = 0, npad = 0, o = 0;
	unsigned long acc = 0;
	int bits = 0;
	unsigned char *k;

	*key = NULL;
	*keylen = 0;
	for (const char *p = b32; *p; p++) {
		unsigned char c = (unsigned char)*p;

		if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '-')
			continue;
		if (c == '=') {
			npad++;
			continue;
		}
		if (npad || b32_val(c) < 0)
			goto bad;
		nsym++;
	}
	/* 1, 3 or 6 trailing symbols cannot end a byte string */
	switch (nsym % 8) {
	case 1:
	case 3:
	case 6:
		goto bad;
	}
	if (nsym == 0 || npad > 6 || (npad && (nsym + npad) % 8 != 0))
		goto bad;
	k = at_xmalloc(nsym * 5 / 8);
	for (const char *p = b32; *p; p++) {
		int v = b32_val((unsigned char)*p);

		if (v < 0)
			continue;
		acc = (acc << 5 | (unsigned long)v) & 0xffff;
		bits += 5;
		if (bits >= 8) {
			bits -= 8;
			k[o++] = (unsigned char)(acc >> bits);
		}
	}
	explicit_bzero(&acc, sizeof(acc));
	*key = k;
	*keylen = o;
	return 0;
bad:
	return at_err_set(e, EX_DATAERR, "totp secret is not valid base32");
}

void at_totp_free_key(unsigned char *key, size_t keylen)
{
	if (key == NULL)
		return;
	explicit_bzero(key, keylen);
	free(key);
}

static int check_digits(unsigned digits, at_err *e)
{
	if (digits < 6 || digits > 8)
		return at_err_set(e, EX_USAGE,
				  "otp digits must be 6, 7 or 8, not %u",
				  digits);
	return 0;
}

int at_totp_hotp(const unsigned char *key, size_t keylen, uint64_t counter,
		 unsigned digits, char out[AT_TOTP_CODE_MAX], at_err *e)
{
	int rc;

	out[0] = '\0';
	if (oath_ready(e) < 0 || check_digits(digits, e) < 0)
		return -1;
	rc = oath_hotp_generate((const char *)key, keylen, counter, digits,
				false, OATH_HOTP_DYNAMIC_TRUNCATION, out);
	if (rc != OATH_OK) {
		out[0] = '\0';
		return at_err_set(e, EX_SOFTWARE, "hotp: %s",
				  oath_strerror(rc));
	}
	return 0;
}

static int oath_flags(int algo)
{
	switch (algo) {
	case AT_TOTP_SHA1:
		return 0;
	case AT_TOTP_SHA256:
		return OATH_TOTP_HMAC_SHA256;
	case AT_TOTP_SHA512:
		return OATH_TOTP_HMAC_SHA512;
	}
	return -1;
}

int at_totp_code(const unsigned char *key, size_t keylen, time_t now,
		 unsigned digits, int algo, char out[AT_TOTP_CODE_MAX],
		 at_err *e)
{
	int rc, flags = oath_flags(algo);

	out[0] = '\0';
	if (oath_ready(e) < 0 || check_digits(digits, e) < 0)
		return -1;
	if (flags < 0)
		return at_err_set(e, EX_USAGE, "totp: unknown algorithm %d",
				  algo);
	if (now < 0)
		return at_err_set(e, EX_USAGE, "totp: time before 1970");
	rc = oath_totp_generate2((const char *)key, keylen, now, AT_TOTP_STEP,
				 0, digits, flags, out);
	if (rc != OATH_OK) {
		out[0] = '\0';
		return at_err_set(e, EX_SOFTWARE, "totp: %s",
				  oath_strerror(rc));
	}
	return 0;
}

/* liboath's validators compare with strcmp(); this one does not leak. */
static int ct_cmp(void *handle, const char *test_otp)
{
	const char *code = handle;
	size_t n = strlen(code);

	if (strlen(test_otp) != n)
		return 1;
	return CRYPTO_memcmp(code, test_otp, n) != 0;
}

int at_totp_check_algo(const unsigned char *key, size_t keylen, time_t now,
		       const char *code, int window, int algo)
{
	size_t n;
	int rc, flags = oath_flags(algo);

	if (code == NULL || flags < 0 || now < 0 || oath_ready(NULL) < 0)
		return 0;
	n = strlen(code);
	if (n < 6 || n > 8)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (code[i] < '0' || code[i] > '9')
			return 0;
	if (window < 0)
		window = 0;
	rc = oath_totp_validate4_callback(
	    (const char *)key, keylen, now, AT_TOTP_STEP, 0, (unsigned)n,
	    (size_t)window, NULL, NULL, flags, ct_cmp, (void *)code);
	return rc >= 0;
}

int at_totp_check(const unsigned char *key, size_t keylen, time_t now,
		  const char *code, int window)
{
	return at_totp_check_algo(key, keylen, now, code, window, AT_TOTP_SHA1);
}
