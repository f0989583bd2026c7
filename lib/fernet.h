/*
 * fernet: authenticated symmetric encryption of small secrets, exactly as
 * the Fernet spec (https://github.com/fernet/spec) and interoperable with
 * Python's cryptography.fernet.
 *
 *   token = base64url(0x80 || ts[8, big-endian] || iv[16] ||
 *                     AES-128-CBC-PKCS7(msg) || HMAC-SHA256(all before))
 *   key   = base64url(signing key[16] || encryption key[16])
 *
 * Base64 is the padded urlsafe alphabet; anything else (standard alphabet,
 * missing padding, stray bytes, whitespace) is rejected.
 *
 * A keyring holds one or more keys: the first encrypts, every key is tried
 * to decrypt, so a key is rotated by prepending the new one ("NEW,OLD").
 *
 *   at_err e;
 *   at_fernet_keys *k = at_fernet_keys_from_env(&e);
 *   char *tok = at_fernet_encrypt(k, pw, strlen(pw), &e);
 *   ...
 *   if (at_fernet_decrypt(k, tok, 0, (uint64_t)time(NULL), &pt, &n, &e) < 0)
 *   ...
 *   at_fernet_free_secret(pt, n);
 *   at_fernet_keys_free(k);
 *
 * Key material and plaintext are wiped (explicit_bzero) before their memory
 * is released.  Error messages never contain keys, tokens or plaintext.
 */
#ifndef AT_FERNET_H
#define AT_FERNET_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"

/* Length of a key string (base64url of 32 bytes, padded), without NUL. */
#define AT_FERNET_KEY_LEN 44
/* Largest clock difference by which a token may come from the future. */
#define AT_FERNET_MAX_SKEW 60

typedef struct at_fernet_keys at_fernet_keys;

/*
 * Parse a list of key strings separated by commas and/or blanks (spaces,
 * tabs, newlines: a key file may hold one key per line); empty entries are
 * skipped.  Fails with EX_CONFIG on an empty list ("no fernet key given") or
 * "key N is not 32 bytes of urlsafe base64" (N counts from 1).
 */
at_fernet_keys *at_fernet_keys_parse(const char *csv, at_err *e)
    __attribute__((warn_unused_result));

/*
 * Read the keyring from the file at path.  The file is refused (EX_CONFIG)
 * when group or others may read or write it ("fernet key file P:
 * permissions 0644, must not be readable by group or others"), or when it
 * is not a regular file.  Its contents are parsed like
 * at_fernet_keys_parse(); errors are prefixed "fernet key file P: ".
 */
at_fernet_keys *at_fernet_keys_from_file(const char *path, at_err *e)
    __attribute__((warn_unused_result));

/*
 * The keyring from AT_FERNET_KEY (the keys themselves) or AT_FERNET_KEY_FILE
 * (a file holding them).  Neither or both set: EX_CONFIG.  The environment
 * is left untouched; a tool that starts children should unsetenv()
 * AT_FERNET_KEY once the keyring is loaded.
 */
at_fernet_keys *at_fernet_keys_from_env(at_err *e)
    __attribute__((warn_unused_result));

size_t at_fernet_keys_count(const at_fernet_keys *k);

/* Wipe and free (NULL is fine). */
void at_fernet_keys_free(at_fernet_keys *k);

/*
 * Encrypt len bytes of msg with the first key, at the current time and with
 * a random IV.  Returns a malloc'd NUL-terminated token (not secret: plain
 * free() will do), or NULL with e filled (EX_SOFTWARE on a crypto failure).
 */
char *at_fernet_encrypt(const at_fernet_keys *k, const void *msg, size_t len,
			at_err *e) __attribute__((warn_unused_result));

/* Same, with the timestamp and IV given (test vectors, reproducibility). */
char *at_fernet_encrypt_at(const at_fernet_keys *k, const void *msg, size_t len,
			   uint64_t now, const uint8_t iv[16], at_err *e)
    __attribute__((warn_unused_result));

/*
 * Verify and decrypt token with any key of the ring.  ttl is the maximum age
 * in seconds (0: no limit); now is the current Unix time.  A token stamped
 * more than AT_FERNET_MAX_SKEW seconds after now is always refused.
 * On success *out is a malloc'd plaintext of *outlen bytes followed by a
 * NUL (not counted); release it with at_fernet_free_secret(*out, *outlen).
 * On failure returns -1 with EX_DATAERR and *out = NULL.
 */
int at_fernet_decrypt(const at_fernet_keys *k, const char *token, uint64_t ttl,
		      uint64_t now, unsigned char **out, size_t *outlen,
		      at_err *e) __attribute__((warn_unused_result));

/* explicit_bzero p[0..len) and free it (NULL is fine). */
void at_fernet_free_secret(void *p, size_t len);

/* A fresh random key string into out (AT_FERNET_KEY_LEN chars + NUL). */
int at_fernet_genkey(char out[AT_FERNET_KEY_LEN + 1], at_err *e)
    __attribute__((warn_unused_result));

#endif
