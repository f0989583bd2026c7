#include "fernet.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include "buf.h"

#define VERSION 0x80
#define HDR_LEN (1 + 8 + 16) /* version, timestamp, iv */
#define MAC_LEN 32
#define MIN_TOKEN (HDR_LEN + 16 + MAC_LEN) /* one cipher block at least */
#define KEY_FILE_MAX 65536

struct at_fernet_keys {
	size_t n;
	unsigned char (*key)[32]; /* signing key [0..16), encryption [16..32) */
};

static const char b64url[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

static int b64url_val(unsigned char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '-')
		return 62;
	if (c == '_')
		return 63;
	return -1;
}

/* Padded base64url of n bytes; out holds 4 * ceil(n / 3) + 1 bytes. */
static void b64url_encode(const unsigned char *p, size_t n, char *out)
{
	size_t i, o = 0;

	for (i = 0; i + 3 <= n; i += 3) {
		unsigned long v = (unsigned long)p[i] << 16 |
				  (unsigned long)p[i + 1] << 8 | p[i + 2];
		out[o++] = b64url[v >> 18 & 63];
		out[o++] = b64url[v >> 12 & 63];
		out[o++] = b64url[v >> 6 & 63];
		out[o++] = b64url[v & 63];
	}
	if (n - i == 1) {
		unsigned long v = (unsigned long)p[i] << 16;
		out[o++] = b64url[v >> 18 & 63];
		out[o++] = b64url[v >> 12 & 63];
		out[o++] = '=';
		out[o++] = '=';
	} else if (n - i == 2) {
		unsigned long v =
		    (unsigned long)p[i] << 16 | (unsigned long)p[i + 1] << 8;
		out[o++] = b64url[v >> 18 & 63];
		out[o++] = b64url[v >> 12 & 63];
		out[o++] = b64url[v >> 6 & 63];
		out[o++] = '=';
	}
	out[o] = '\0';
}

/*
 * Strict padded base64url: the length is a multiple of 4, '=' only as the
 * last one or two characters, and the unused bits of the last symbol are
 * zero (so each byte string has exactly one accepted encoding).  out holds
 * 3 * n / 4 bytes.  Returns the decoded length or -1.
 */
static long b64url_decode(const char *s, size_t n, unsigned char *out)
{
	size_t pad = 0, o = 0;

	if (n == 0 || n % 4 != 0)
		return -1;
	if (s[n - 1] == '=')
		pad = s[n - 2] == '=' ? 2 : 1;
	for (size_t i = 0; i < n; i += 4) {
		int v[4];
		int last = i + 4 == n;

		for (int j = 0; j < 4; j++) {
			if (last && j >= 4 - (int)pad) {
				v[j] = 0;
				continue;
			}
			v[j] = b64url_val((unsigned char)s[i + j]);
			if (v[j] < 0)
				return -1;
		}
		out[o++] = (unsigned char)(v[0] << 2 | v[1] >> 4);
		if (last && pad == 2) {
			if (v[1] & 15)
				return -1;
			break;
		}
		out[o++] = (unsigned char)((v[1] & 15) << 4 | v[2] >> 2);
		if (last && pad == 1) {
			if (v[2] & 3)
				return -1;
			break;
		}
		out[o++] = (unsigned char)((v[2] & 3) << 6 | v[3]);
	}
	return (long)o;
}

static int is_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/*
 * Keys are separated by commas and/or blanks (so a key file may hold one
 * key per line); empty entries are skipped and keys are numbered from 1
 * in the order given.
 */
at_fernet_keys *at_fernet_keys_parse(const char *csv, at_err *e)
{
	at_fernet_keys *k;
	const char *p = csv;
	size_t cap = 0;

	k = at_xcalloc(1, sizeof(*k));
	for (;;) {
		unsigned char raw[36];
		size_t len = 0;
		long n;

		while (*p == ',' || is_blank(*p))
			p++;
		if (*p == '\0')
			break;
		while (p[len] && p[len] != ',' && !is_blank(p[len]))
			len++;
		n = len == AT_FERNET_KEY_LEN ? b64url_decode(p, len, raw) : -1;
		if (n != 32) {
			explicit_bzero(raw, sizeof(raw));
			at_err_set(e, EX_CONFIG,
				   "key %zu is not 32 bytes of urlsafe base64",
				   k->n + 1);
			at_fernet_keys_free(k);
			return NULL;
		}
		if (k->n == cap) {
			unsigned char(*nk)[32];

			/* grow by hand so old key material is wiped */
			cap = cap ? 2 * cap : 4;
			nk = at_xcalloc(cap, sizeof(*nk));
			if (k->n) {
				memcpy(nk, k->key, k->n * sizeof(*nk));
				explicit_bzero(k->key, k->n * sizeof(*nk));
				free(k->key);
			}
			k->key = nk;
		}
		memcpy(k->key[k->n++], raw, 32);
		explicit_bzero(raw, sizeof(raw));
		p += len;
	}
	if (k->n == 0) {
		at_fernet_keys_free(k);
		at_err_set(e, EX_CONFIG, "no fernet key given");
		return NULL;
	}
	return k;
}

/* Read at most KEY_FILE_MAX bytes of fd into a wiped-on-free buffer. */
static char *read_secret_fd(int fd, const char *path, at_err *e)
{
	char *buf = at_xmalloc(KEY_FILE_MAX + 1);
	size_t len = 0;

	for (;;) {
		ssize_t r = read(fd, buf + len, KEY_FILE_MAX + 1 - len);

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			at_err_set(e, EX_IOERR, "fernet key file %s: %s", path,
				   strerror(errno));
			goto fail;
		}
		if (r == 0)
			break;
		len += (size_t)r;
		if (len > KEY_FILE_MAX) {
			at_err_set(e, EX_CONFIG,
				   "fernet key file %s: larger than %d bytes",
				   path, KEY_FILE_MAX);
			goto fail;
		}
	}
	buf[len] = '\0';
	if (strlen(buf) != len) {
		at_err_set(e, EX_CONFIG,
			   "fernet key file %s: contains a NUL byte", path);
		goto fail;
	}
	return buf;
fail:
	explicit_bzero(buf, KEY_FILE_MAX + 1);
	free(buf);
	return NULL;
}

at_fernet_keys *at_fernet_keys_from_file(const char *path, at_err *e)
{
	at_fernet_keys *k = NULL;
	struct stat st;
	char *text = NULL;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0) {
		at_err_set(e, errno == ENOENT ? EX_CONFIG : EX_NOPERM,
			   "fernet key file %s: %s", path, strerror(errno));
		return NULL;
	}
	/* fstat the open file, not the path: no window for a swap */
	if (fstat(fd, &st) != 0) {
		at_err_set(e, EX_IOERR, "fernet key file %s: %s", path,
			   strerror(errno));
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		at_err_set(e, EX_CONFIG,
			   "fernet key file %s: not a regular file", path);
		goto out;
	}
	if (st.st_mode & (S_IRGRP | S_IWGRP | S_IROTH | S_IWOTH)) {
		at_err_set(e, EX_CONFIG,
			   "fernet key file %s: permissions %04o, must not be "
			   "%s by group or others",
			   path, (unsigned)(st.st_mode & 07777),
			   st.st_mode & (S_IRGRP | S_IROTH) ? "readable"
							    : "writable");
		goto out;
	}
	text = read_secret_fd(fd, path, e);
	if (text == NULL)
		goto out;
	k = at_fernet_keys_parse(text, e);
	if (k == NULL)
		at_err_prefix(e, "fernet key file %s", path);
out:
	if (text) {
		explicit_bzero(text, strlen(text));
		free(text);
	}
	close(fd);
	return k;
}

at_fernet_keys *at_fernet_keys_from_env(at_err *e)
{
	const char *key = getenv("AT_FERNET_KEY");
	const char *file = getenv("AT_FERNET_KEY_FILE");
	at_fernet_keys *k;

	if (key && *key == '\0')
		key = NULL;
	if (file && *file == '\0')
		file = NULL;
	if (key && file) {
		at_err_set(e, EX_CONFIG,
			   "both AT_FERNET_KEY and AT_FERNET_KEY_FILE are set, "
			   "use one");
		return NULL;
	}
	if (file)
		return at_fernet_keys_from_file(file, e);
	if (key == NULL) {
		at_err_set(e, EX_CONFIG,
			   "no fernet key: set AT_FERNET_KEY or "
			   "AT_FERNET_KEY_FILE");
		return NULL;
	}
	k = at_fernet_keys_parse(key, e);
	if (k == NULL)
		at_err_prefix(e, "AT_FERNET_KEY");
	return k;
}

size_t at_fernet_keys_count(const at_fernet_keys *k)
{
	return k ? k->n : 0;
}

void at_fernet_keys_free(at_fernet_keys *k)
{
	if (k == NULL)
		return;
	if (k->key) {
		explicit_bzero(k->key, k->n * sizeof(*k->key));
		free(k->key);
	}
	explicit_bzero(k, sizeof(*k));
	free(k);
}

void at_fernet_free_secret(void *p, size_t len)
{
	if (p == NULL)
		return;
	explicit_bzero(p, len);
	free(p);
}

static int hmac256(const unsigned char *key, const unsigned char *p, size_t n,
		   unsigned char mac[MAC_LEN])
{
	unsigned int maclen = 0;

	if (HMAC(EVP_sha256(), key, 16, p, n, mac, &maclen) == NULL ||
	    maclen != MAC_LEN)
		return -1;
	return 0;
}

char *at_fernet_encrypt_at(const at_fernet_keys *k, const void *msg, size_t len,
			   uint64_t now, const uint8_t iv[16], at_err *e)
{
	EVP_CIPHER_CTX *ctx = NULL;
	unsigned char *raw = NULL;
	char *tok = NULL;
	size_t rawcap, ctlen;
	int n1 = 0, n2 = 0;

	if (k == NULL || k->n == 0) {
		at_err_set(e, EX_SOFTWARE, "fernet: no key to encrypt with");
		return NULL;
	}
	if (len > (size_t)INT32_MAX) {
		at_err_set(e, EX_DATAERR, "fernet: message too large");
		return NULL;
	}
	ctlen = (len / 16 + 1) * 16;
	rawcap = HDR_LEN + ctlen + MAC_LEN;
	raw = at_xmalloc(rawcap);
	raw[0] = VERSION;
	for (int i = 0; i < 8; i++)
		raw[1 + i] = (unsigned char)(now >> (56 - 8 * i));
	memcpy(raw + 9, iv, 16);

	ctx = EVP_CIPHER_CTX_new();
	if (ctx == NULL ||
	    EVP_EncryptInit_ex(ctx, EVP_aes_128_cbc(), NULL, k->key[0] + 16,
			       iv) != 1 ||
	    EVP_EncryptUpdate(ctx, raw + HDR_LEN, &n1,
			      len ? msg : (const void *)"", (int)len) != 1 ||
	    EVP_EncryptFinal_ex(ctx, raw + HDR_LEN + n1, &n2) != 1 ||
	    (size_t)(n1 + n2) != ctlen ||
	    hmac256(k->key[0], raw, HDR_LEN + ctlen, raw + HDR_LEN + ctlen) <
		0) {
		at_err_set(e, EX_SOFTWARE, "fernet: encryption failed");
		goto out;
	}
	tok = at_xmalloc((rawcap + 2) / 3 * 4 + 1);
	b64url_encode(raw, rawcap, tok);
out:
	EVP_CIPHER_CTX_free(ctx);
	free(raw); /* ciphertext only: nothing secret left in it */
	return tok;
}

char *at_fernet_encrypt(const at_fernet_keys *k, const void *msg, size_t len,
			at_err *e)
{
	uint8_t iv[16];
	time_t now = time(NULL);

	if (RAND_bytes(iv, sizeof(iv)) != 1) {
		at_err_set(e, EX_SOFTWARE,
			   "fernet: no random bytes for the iv");
		return NULL;
	}
	return at_fernet_encrypt_at(k, msg, len, now < 0 ? 0 : (uint64_t)now,
				    iv, e);
}

/*
 * The order follows the spec and Python: decode, version, time limits,
 * then the MAC for each key, and only under a matching MAC decrypt (so a
 * padding error is never visible for a forged token).
 */
int at_fernet_decrypt(const at_fernet_keys *k, const char *token, uint64_t ttl,
		      uint64_t now, unsigned char **out, size_t *outlen,
		      at_err *e)
{
	EVP_CIPHER_CTX *ctx = NULL;
	unsigned char *raw = NULL, *pt = NULL, mac[MAC_LEN];
	size_t tlen, ctlen, i;
	uint64_t ts = 0;
	long rawlen;
	int n1 = 0, n2 = 0, rc = -1;

	*out = NULL;
	*outlen = 0;
	if (k == NULL || k->n == 0)
		return at_err_set(e, EX_SOFTWARE,
				  "fernet: no key to decrypt with");
	tlen = strlen(token);
	if (tlen < (MIN_TOKEN + 2) / 3 * 4 || tlen > (size_t)INT32_MAX)
		return at_err_set(e, EX_DATAERR, "fernet token: bad length");
	raw = at_xmalloc(tlen / 4 * 3);
	rawlen = b64url_decode(token, tlen, raw);
	if (rawlen < 0) {
		at_err_set(e, EX_DATAERR, "fernet token: not urlsafe base64");
		goto out;
	}
	if (rawlen < MIN_TOKEN || (rawlen - HDR_LEN - MAC_LEN) % 16 != 0) {
		at_err_set(e, EX_DATAERR, "fernet token: bad length");
		goto out;
	}
	if (raw[0] != VERSION) {
		at_err_set(e, EX_DATAERR,
			   "fernet token: unknown version 0x%02x", raw[0]);
		goto out;
	}
	for (i = 0; i < 8; i++)
		ts = ts << 8 | raw[1 + i];
	if (ttl != 0 && now > ts && now - ts > ttl) {
		at_err_set(e, EX_DATAERR, "fernet token: expired");
		goto out;
	}
	if (ts > now && ts - now > AT_FERNET_MAX_SKEW) {
		at_err_set(e, EX_DATAERR,
			   "fernet token: timestamp is in the future");
		goto out;
	}
	ctlen = (size_t)rawlen - HDR_LEN - MAC_LEN;
	for (i = 0; i < k->n; i++) {
		if (hmac256(k->key[i], raw, HDR_LEN + ctlen, mac) < 0) {
			at_err_set(e, EX_SOFTWARE, "fernet: hmac failed");
			goto out;
		}
		if (CRYPTO_memcmp(mac, raw + HDR_LEN + ctlen, MAC_LEN) == 0)
			break;
	}
	if (i == k->n) {
		at_err_set(e, EX_DATAERR,
			   "fernet token: signature matches no key");
		goto out;
	}
	/* EVP wants a spare block of room for the update */
	pt = at_xmalloc(ctlen + 16 + 1);
	ctx = EVP_CIPHER_CTX_new();
	if (ctx == NULL ||
	    EVP_DecryptInit_ex(ctx, EVP_aes_128_cbc(), NULL, k->key[i] + 16,
			       raw + 9) != 1 ||
	    EVP_DecryptUpdate(ctx, pt, &n1, raw + HDR_LEN, (int)ctlen) != 1) {
		at_err_set(e, EX_SOFTWARE, "fernet: decryption failed");
		goto out;
	}
	if (EVP_DecryptFinal_ex(ctx, pt + n1, &n2) != 1) {
		at_err_set(e, EX_DATAERR, "fernet token: bad padding");
		goto out;
	}
	pt[n1 + n2] = '\0';
	*out = pt;
	*outlen = (size_t)(n1 + n2);
	pt = NULL;
	rc = 0;
out:
	EVP_CIPHER_CTX_free(ctx);
	if (pt) {
		explicit_bzero(pt, ctlen + 16 + 1);
		free(pt);
	}
	explicit_bzero(mac, sizeof(mac));
	free(raw);
	return rc;
}

int at_fernet_genkey(char out[AT_FERNET_KEY_LEN + 1], at_err *e)
{
	unsigned char raw[32];

	if (RAND_bytes(raw, sizeof(raw)) != 1) {
		out[0] = '\0';
		return at_err_set(e, EX_SOFTWARE,
				  "fernet: no random bytes for a key");
	}
	b64url_encode(raw, sizeof(raw), out);
	explicit_bzero(raw, sizeof(raw));
	return 0;
}
