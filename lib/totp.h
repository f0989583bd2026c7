/*
 * totp: HOTP (RFC 4226) and TOTP (RFC 6238) one-time passwords via liboath,
 * with secrets in the base32 form that Kite and Google Authenticator show.
 *
 *   unsigned char *key; size_t keylen; char code[AT_TOTP_CODE_MAX];
 *   if (at_totp_parse_secret(b32, &key, &keylen, &e) < 0) ...
 *   if (at_totp_code(key, keylen, time(NULL), 6, AT_TOTP_SHA1, code, &e) < 0)
 *   ...
 *   at_totp_free_key(key, keylen);
 *
 * TOTP here always uses T0 = 0 and a 30 s step (what every authenticator
 * app uses).  Keys are secrets: free them with at_totp_free_key(), which
 * wipes them; messages never contain a secret.
 */
#ifndef AT_TOTP_H
#define AT_TOTP_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "err.h"

#define AT_TOTP_STEP 30
/* Room for the longest code (8 digits) and its NUL, with a spare byte. */
#define AT_TOTP_CODE_MAX 10

enum at_totp_algo { AT_TOTP_SHA1 = 0, AT_TOTP_SHA256 = 1, AT_TOTP_SHA512 = 2 };

/*
 * Decode a base32 (RFC 4648) secret.  Blanks (spaces, tabs, newlines),
 * dashes and lower case are tolerated and '=' padding is optional (when
 * present it must complete the last 8-symbol group).  On success *key is a
 * malloc'd buffer of *keylen >= 1 bytes.  Anything else: EX_DATAERR
 * "totp secret is not valid base32".
 */
int at_totp_parse_secret(const char *b32, unsigned char **key, size_t *keylen,
			 at_err *e) __attribute__((warn_unused_result));

/* Wipe and free a key from at_totp_parse_secret() (NULL is fine). */
void at_totp_free_key(unsigned char *key, size_t keylen);

/* The HOTP code for counter: digits 6, 7 or 8 (SHA1, as RFC 4226). */
int at_totp_hotp(const unsigned char *key, size_t keylen, uint64_t counter,
		 unsigned digits, char out[AT_TOTP_CODE_MAX], at_err *e)
    __attribute__((warn_unused_result));

/*
 * The TOTP code at Unix time now (>= 0): digits 6, 7 or 8; algo one of
 * enum at_totp_algo.  Errors: EX_USAGE for bad digits/algo/time,
 * EX_SOFTWARE when liboath fails.
 */
int at_totp_code(const unsigned char *key, size_t keylen, time_t now,
		 unsigned digits, int algo, char out[AT_TOTP_CODE_MAX],
		 at_err *e) __attribute__((warn_unused_result));

/*
 * 1 when code (6 to 8 ASCII digits; its length gives the digit count) is
 * the SHA1 TOTP code of a step within window steps of now (window 1
 * accepts the previous, current and next code), else 0.  The comparison is
 * constant-time.
 */
int at_totp_check(const unsigned char *key, size_t keylen, time_t now,
		  const char *code, int window);

/* at_totp_check() for another algorithm. */
int at_totp_check_algo(const unsigned char *key, size_t keylen, time_t now,
		       const char *code, int window, int algo);

#endif
