#include "oidc.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <curl/curl.h>
#include <jv.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>

#include "buf.h"
#include "json.h"
#include "log.h"
#include "util.h"

#define JWKS_MAX_KEYS 64
#define HTTP_MAX_BODY (1 << 20)
#define STR_MAX 4096

/* ---- base64url --------------------------------------------------------- */

static int b64v(int c)
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

int at_oidc_b64url_decode(const char *s, size_t len, unsigned char **out,
			  size_t *outlen, at_err *e)
{
	unsigned char *o;
	uint32_t acc = 0;
	int bits = 0;
	size_t i, n = 0;

	*out = NULL;
	*outlen = 0;
	if (len % 4 == 1)
		return at_err_set(e, EX_DATAERR, "not base64url");
	o = at_xmalloc(len / 4 * 3 + 3);
	for (i = 0; i < len; i++) {
		int v = b64v((unsigned char)s[i]);
		if (v < 0)
			goto bad;
		acc = (acc << 6) | (uint32_t)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			o[n++] = (unsigned char)(acc >> bits);
			acc &= (1u << bits) - 1;
		}
	}
	if (acc != 0) /* leftover bits must be zero (canonical encoding) */
		goto bad;
	o[n] = '\0';
	*out = o;
	*outlen = n;
	return 0;
bad:
	free(o);
	return at_err_set(e, EX_DATAERR, "not base64url");
}

/* ---- JWKS -------------------------------------------------------------- */

struct jwk {
	char *kid;
	EVP_PKEY *pkey;
};

struct at_oidc_jwks {
	size_t n;
	struct jwk k[JWKS_MAX_KEYS];
};

void at_oidc_jwks_free(at_oidc_jwks *k)
{
	size_t i;

	if (k == NULL)
		return;
	for (i = 0; i < k->n; i++) {
		free(k->k[i].kid);
		EVP_PKEY_free(k->k[i].pkey);
	}
	free(k);
}

size_t at_oidc_jwks_count(const at_oidc_jwks *k)
{
	return k ? k->n : 0;
}

static BIGNUM *b64_bn(jv key, const char *field, const char *where, at_err *e)
{
	char *s = NULL;
	unsigned char *raw = NULL;
	size_t n = 0;
	BIGNUM *bn = NULL;

	if (at_json_get_str(key, field, 1, &s, where, e) < 0)
		return NULL;
	if (at_oidc_b64url_decode(s, strlen(s), &raw, &n, e) != 0 || n == 0) {
		at_err_set(e, EX_DATAERR, "%s: field \"%s\": not base64url",
			   where, field);
		goto out;
	}
	bn = BN_bin2bn(raw, (int)n, NULL);
	if (bn == NULL)
		at_err_set(e, EX_SOFTWARE, "%s: out of memory", where);
out:
	free(s);
	free(raw);
	return bn;
}

static EVP_PKEY *rsa_from_ne(const BIGNUM *n, const BIGNUM *x,
			     const char *where, at_err *e)
{
	OSSL_PARAM_BLD *bld = OSSL_PARAM_BLD_new();
	OSSL_PARAM *params = NULL;
	EVP_PKEY_CTX *ctx = NULL;
	EVP_PKEY *pkey = NULL;

	if (bld == NULL ||
	    !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, n) ||
	    !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, x) ||
	    (params = OSSL_PARAM_BLD_to_param(bld)) == NULL ||
	    (ctx = EVP_PKEY_CTX_new_from_name(NULL, "RSA", NULL)) == NULL ||
	    EVP_PKEY_fromdata_init(ctx) <= 0 ||
	    EVP_PKEY_fromdata(ctx, &pkey, EVP_PKEY_PUBLIC_KEY, params) <= 0) {
		EVP_PKEY_free(pkey);
		pkey = NULL;
		at_err_set(e, EX_DATAERR, "%s: not a usable rsa key", where);
	}
	EVP_PKEY_CTX_free(ctx);
	OSSL_PARAM_free(params);
	OSSL_PARAM_BLD_free(bld);
	return pkey;
}

/* 1 when key k (an object) is an RS256 signing key to load, 0 to skip,
 * -1 on error. */
static int jwk_wanted(jv k, const char *where, at_err *e)
{
	char *kty = NULL, *use = NULL, *alg = NULL;
	int r = -1;

	if (at_json_get_str(k, "kty", 1, &kty, where, e) < 0 ||
	    at_json_get_str(k, "use", 0, &use, where, e) < 0 ||
	    at_json_get_str(k, "alg", 0, &alg, where, e) < 0)
		goto out;
	r = strcmp(kty, "RSA") == 0 && (use == NULL || !strcmp(use, "sig")) &&
	    (alg == NULL || !strcmp(alg, "RS256"));
out:
	free(kty);
	free(use);
	free(alg);
	return r;
}

static int jwk_load(at_oidc_jwks *ks, jv k, const char *where, at_err *e)
{
	char *kid = NULL;
	BIGNUM *n = NULL, *x = NULL;
	EVP_PKEY *pkey = NULL;
	int r, bits, rc = -1;
	size_t i;

	r = jwk_wanted(k, where, e);
	if (r <= 0)
		return r;
	r = at_json_get_str(k, "kid", 0, &kid, where, e);
	if (r <= 0)
		return r; /* a key without a kid cannot be chosen: skip */
	if (*kid == '\0' || strlen(kid) > 256) {
		at_err_set(e, EX_DATAERR, "%s: field \"kid\": bad length",
			   where);
		goto out;
	}
	for (i = 0; i < ks->n; i++)
		if (strcmp(ks->k[i].kid, kid) == 0) {
			at_err_set(e, EX_DATAERR, "%s: duplicate kid", where);
			goto out;
		}
	if ((n = b64_bn(k, "n", where, e)) == NULL ||
	    (x = b64_bn(k, "e", where, e)) == NULL)
		goto out;
	bits = BN_num_bits(n);
	if (bits < 2048 || bits > 8192) {
		at_err_set(e, EX_DATAERR,
			   "%s: field \"n\": %d bits, want 2048 to 8192", where,
			   bits);
		goto out;
	}
	if (!BN_is_odd(x) || BN_num_bits(x) < 2 || BN_num_bits(x) > 64) {
		at_err_set(e, EX_DATAERR, "%s: field \"e\": bad exponent",
			   where);
		goto out;
	}
	if ((pkey = rsa_from_ne(n, x, where, e)) == NULL)
		goto out;
	if (ks->n >= JWKS_MAX_KEYS) {
		EVP_PKEY_free(pkey);
		at_err_set(e, EX_DATAERR, "jwks: more than %d keys",
			   JWKS_MAX_KEYS);
		goto out;
	}
	ks->k[ks->n].kid = kid;
	ks->k[ks->n].pkey = pkey;
	ks->n++;
	kid = NULL;
	rc = 1;
out:
	free(kid);
	BN_free(n);
	BN_free(x);
	return rc;
}

at_oidc_jwks *at_oidc_jwks_parse(const char *json, size_t len, at_err *e)
{
	at_oidc_jwks *ks = at_xcalloc(1, sizeof(*ks));
	jv root = jv_invalid(), keys = jv_invalid();
	int i, n;
	char where[32];

	if (at_json_parse(json, len, &root, "jwks", e) != 0)
		goto fail;
	if (at_json_get_arr(root, "keys", 1, &keys, "jwks", e) < 0)
		goto fail;
	n = jv_array_length(jv_copy(keys));
	if (n > JWKS_MAX_KEYS) {
		at_err_set(e, EX_DATAERR, "jwks: more than %d keys",
			   JWKS_MAX_KEYS);
		goto fail;
	}
	for (i = 0; i < n; i++) {
		jv k = jv_array_get(jv_copy(keys), i);
		int r;
		snprintf(where, sizeof(where), "jwks: key %d", i + 1);
		if (jv_get_kind(k) != JV_KIND_OBJECT) {
			jv_free(k);
			at_err_set(e, EX_DATAERR, "%s: expected object", where);
			goto fail;
		}
		r = jwk_load(ks, k, where, e);
		jv_free(k);
		if (r < 0)
			goto fail;
	}
	if (ks->n == 0) {
		at_err_set(e, EX_DATAERR, "jwks: no usable rs256 key");
		goto fail;
	}
	jv_free(root);
	jv_free(keys);
	return ks;
fail:
	jv_free(root);
	jv_free(keys);
	at_oidc_jwks_free(ks);
	return NULL;
}

/* ---- ID tokens --------------------------------------------------------- */

void at_oidc_claims_release(struct at_oidc_claims *c)
{
	if (c == NULL)
		return;
	free(c->iss);
	free(c->sub);
	free(c->email);
	free(c->name);
	memset(c, 0, sizeof(*c));
}

static int part_json(const char *s, size_t n, const char *what, jv *out,
		     at_err *e)
{
	unsigned char *raw = NULL;
	size_t len = 0;
	int rc;

	*out = jv_invalid();
	if (at_oidc_b64url_decode(s, n, &raw, &len, e) != 0)
		return at_err_set(e, EX_DATAERR, "id token: %s: not base64url",
				  what);
	rc = at_json_parse((const char *)raw, len, out, what, e);
	free(raw);
	if (rc != 0)
		return at_err_prefix(e, "id token");
	if (jv_get_kind(*out) != JV_KIND_OBJECT) {
		jv_free(*out);
		*out = jv_invalid();
		return at_err_set(e, EX_DATAERR,
				  "id token: %s: expected object", what);
	}
	return 0;
}

static int aud_ok(jv payload, const char *client_id, at_err *e)
{
	jv aud = jv_object_get(jv_copy(payload), jv_string("aud"));
	int ok = 0, n, i;

	if (jv_get_kind(aud) == JV_KIND_STRING) {
		ok = strcmp(jv_string_value(aud), client_id) == 0;
	} else if (jv_get_kind(aud) == JV_KIND_ARRAY) {
		n = jv_array_length(jv_copy(aud));
		for (i = 0; i < n && !ok; i++) {
			jv a = jv_array_get(jv_copy(aud), i);
			ok = jv_get_kind(a) == JV_KIND_STRING &&
			     strcmp(jv_string_value(a), client_id) == 0;
			jv_free(a);
		}
		if (ok && n > 1) {
			char *azp = NULL;
			int r = at_json_get_str(payload, "azp", 0, &azp,
						"id token", e);
			if (r < 0) {
				jv_free(aud);
				return -1;
			}
			ok = r == 1 && strcmp(azp, client_id) == 0;
			free(azp);
		}
	}
	jv_free(aud);
	if (!ok)
		return at_err_set(e, EX_NOPERM,
				  "id token: audience is not this client");
	return 0;
}

static int iss_ok(const char *iss, const char *want)
{
	if (strcmp(iss, want) == 0)
		return 1;
	/* Google documents both spellings of its issuer */
	return strcmp(want, AT_OIDC_GOOGLE_ISSUER) == 0 &&
	       strcmp(iss, "accounts.google.com") == 0;
}

int at_oidc_verify(const at_oidc_jwks *jwks, const char *jwt, size_t len,
		   const struct at_oidc_expect *x, struct at_oidc_claims *out,
		   at_err *e)
{
	const char *d1, *d2;
	jv hdr = jv_invalid(), pl = jv_invalid();
	char *alg = NULL, *kid = NULL;
	unsigned char *sig = NULL;
	size_t siglen = 0, i;
	EVP_PKEY *pkey = NULL;
	EVP_MD_CTX *md = NULL;
	int64_t skew = x->skew < 0 ? AT_OIDC_SKEW : x->skew, nbf = 0;
	int r, rc = -1;

	memset(out, 0, sizeof(*out));
	d1 = memchr(jwt, '.', len);
	d2 = d1 ? memchr(d1 + 1, '.', len - (size_t)(d1 + 1 - jwt)) : NULL;
	if (d1 == NULL || d2 == NULL || d1 == jwt || d2 == d1 + 1 ||
	    d2 + 1 == jwt + len ||
	    memchr(d2 + 1, '.', len - (size_t)(d2 + 1 - jwt)) != NULL)
		return at_err_set(e, EX_DATAERR,
				  "id token: not three dot-separated parts");
	if (part_json(jwt, (size_t)(d1 - jwt), "header", &hdr, e) != 0)
		goto out;
	if (at_json_get_str(hdr, "alg", 1, &alg, "id token: header", e) < 0 ||
	    at_json_get_str(hdr, "kid", 1, &kid, "id token: header", e) < 0)
		goto out;
	if (strcmp(alg, "RS256") != 0) {
		at_err_set(e, EX_NOPERM, "id token: alg \"%.32s\" not allowed",
			   alg);
		goto out;
	}
	{
		jv crit = jv_object_get(jv_copy(hdr), jv_string("crit"));
		int has =
		    jv_is_valid(crit) && jv_get_kind(crit) != JV_KIND_NULL;
		jv_free(crit);
		if (has) {
			at_err_set(e, EX_NOPERM,
				   "id token: critical header extensions not "
				   "supported");
			goto out;
		}
	}
	for (i = 0; i < jwks->n; i++)
		if (strcmp(jwks->k[i].kid, kid) == 0)
			pkey = jwks->k[i].pkey;
	if (pkey == NULL) {
		at_err_set(e, EX_NOPERM, "id token: unknown key id \"%.64s\"",
			   kid);
		goto out;
	}
	if (at_oidc_b64url_decode(d2 + 1, len - (size_t)(d2 + 1 - jwt), &sig,
				  &siglen, e) != 0) {
		at_err_set(e, EX_DATAERR, "id token: signature: not base64url");
		goto out;
	}
	md = EVP_MD_CTX_new();
	if (md == NULL ||
	    EVP_DigestVerifyInit(md, NULL, EVP_sha256(), NULL, pkey) != 1) {
		at_err_set(e, EX_SOFTWARE, "id token: openssl verify init");
		goto out;
	}
	if (siglen != (size_t)EVP_PKEY_get_size(pkey) ||
	    EVP_DigestVerify(md, sig, siglen, (const unsigned char *)jwt,
			     (size_t)(d2 - jwt)) != 1) {
		at_err_set(e, EX_NOPERM, "id token: bad signature");
		goto out;
	}
	/* the signature holds: now the claims */
	if (part_json(d1 + 1, (size_t)(d2 - d1 - 1), "payload", &pl, e) != 0)
		goto out;
	if (at_json_get_str(pl, "iss", 1, &out->iss, "id token", e) < 0)
		goto out;
	if (!iss_ok(out->iss, x->issuer)) {
		at_err_set(e, EX_NOPERM,
			   "id token: issuer \"%.100s\" is not "
			   "the configured one",
			   out->iss);
		goto out;
	}
	if (aud_ok(pl, x->client_id, e) != 0)
		goto out;
	if (at_json_get_i64(pl, "exp", 1, 0, INT64_MAX / 4, &out->exp,
			    "id token", e) < 0 ||
	    at_json_get_i64(pl, "iat", 1, 0, INT64_MAX / 4, &out->iat,
			    "id token", e) < 0 ||
	    at_json_get_i64(pl, "nbf", 0, 0, INT64_MAX / 4, &nbf, "id token",
			    e) < 0)
		goto out;
	if (x->now >= out->exp + skew) {
		at_err_set(e, EX_NOPERM, "id token: expired");
		goto out;
	}
	if (out->iat > x->now + skew || nbf > x->now + skew) {
		at_err_set(e, EX_NOPERM, "id token: issued in the future");
		goto out;
	}
	if (at_json_get_str(pl, "sub", 1, &out->sub, "id token", e) < 0)
		goto out;
	if (out->sub[0] == '\0') {
		at_err_set(e, EX_DATAERR, "id token: field \"sub\": empty");
		goto out;
	}
	if (at_json_get_str(pl, "email", 1, &out->email, "id token", e) < 0)
		goto out;
	out->email_verified = 0;
	r = at_json_get_bool(pl, "email_verified", 0, &out->email_verified,
			     "id token", e);
	if (r < 0)
		goto out;
	if (!out->email_verified) {
		at_err_set(e, EX_NOPERM, "id token: email is not verified");
		goto out;
	}
	r = at_json_get_str(pl, "name", 0, &out->name, "id token", e);
	if (r < 0)
		goto out;
	if (r == 0)
		out->name = at_xstrdup("");
	rc = 0;
out:
	if (rc != 0)
		at_oidc_claims_release(out);
	jv_free(hdr);
	jv_free(pl);
	free(alg);
	free(kid);
	free(sig);
	EVP_MD_CTX_free(md);
	return rc;
}

/* ---- responses ----------------------------------------------------------
 */

void at_oidc_device_release(struct at_oidc_device *d)
{
	if (d == NULL)
		return;
	if (d->device_code != NULL) {
		explicit_bzero(d->device_code, strlen(d->device_code));
		free(d->device_code);
	}
	free(d->user_code);
	free(d->verification_url);
	free(d->verification_url_complete);
	memset(d, 0, sizeof(*d));
}

void at_oidc_free_token(char *tok)
{
	if (tok == NULL)
		return;
	explicit_bzero(tok, strlen(tok));
	free(tok);
}

/* A string member into a malloc'd copy; printable ASCII only when
 * printable != 0 (it is shown on a terminal).  1, 0 absent, -1 error. */
static int flat_dup(const struct at_json_flat *fl, const char *key,
		    int printable, char **out, const char *where, at_err *e)
{
	const struct at_json_flat_field *f = at_json_flat_find(fl, key);
	char *b;
	size_t n = 0, i;
	int r;

	*out = NULL;
	if (f == NULL || f->type == AT_JSON_NULL)
		return 0;
	if (f->val_len > STR_MAX)
		return at_err_set(e, EX_DATAERR,
				  "%s: field \"%s\": longer than %d bytes",
				  where, key, STR_MAX);
	b = at_xmalloc(f->val_len + 1);
	r = at_json_flat_str(fl, key, b, f->val_len + 1, &n, e);
	if (r < 0) {
		explicit_bzero(b, f->val_len + 1);
		free(b);
		return at_err_prefix(e, "%s", where);
	}
	if (printable)
		for (i = 0; i < n; i++)
			if (b[i] <= ' ' || b[i] >= 0x7f) {
				free(b);
				return at_err_set(e, EX_DATAERR,
						  "%s: field \"%s\": not "
						  "printable ascii",
						  where, key);
			}
	*out = b;
	return 1;
}

int at_oidc_device_parse(const char *json, size_t len, struct at_oidc_device *d,
			 at_err *e)
{
	static const char *w = "device endpoint";
	struct at_json_flat fl;
	int64_t v;
	int r;

	memset(d, 0, sizeof(*d));
	if (at_json_flat_parse(json, len, &fl, e) != 0)
		return at_err_prefix(e, "%s", w);
	if (flat_dup(&fl, "device_code", 0, &d->device_code, w, e) < 0 ||
	    flat_dup(&fl, "user_code", 1, &d->user_code, w, e) < 0 ||
	    flat_dup(&fl, "verification_uri", 1, &d->verification_url, w, e) <
		0 ||
	    flat_dup(&fl, "verification_uri_complete", 1,
		     &d->verification_url_complete, w, e) < 0)
		goto fail;
	if (d->verification_url == NULL &&
	    flat_dup(&fl, "verification_url", 1, &d->verification_url, w, e) <
		0)
		goto fail;
	if (d->device_code == NULL || d->device_code[0] == '\0' ||
	    d->user_code == NULL || d->user_code[0] == '\0' ||
	    d->verification_url == NULL) {
		at_err_set(e, EX_DATAERR,
			   "%s: missing device_code, user_code or "
			   "verification_uri",
			   w);
		goto fail;
	}
	r = at_json_flat_i64(&fl, "expires_in", &v, e);
	if (r < 0 || (r == 1 && (v < 1 || v > 86400))) {
		if (r == 1)
			at_err_set(e, EX_DATAERR,
				   "%s: field \"expires_in\": out of range", w);
		else
			at_err_prefix(e, "%s", w);
		goto fail;
	}
	if (r == 0) {
		at_err_set(e, EX_DATAERR, "%s: field \"expires_in\": missing",
			   w);
		goto fail;
	}
	d->expires_in = v;
	d->interval = 5;
	r = at_json_flat_i64(&fl, "interval", &v, e);
	if (r < 0 || (r == 1 && (v < 0 || v > 3600))) {
		if (r == 1)
			at_err_set(e, EX_DATAERR,
				   "%s: field \"interval\": out of range", w);
		else
			at_err_prefix(e, "%s", w);
		goto fail;
	}
	if (r == 1 && v >= 1)
		d->interval = v;
	return 0;
fail:
	at_oidc_device_release(d);
	return -1;
}

int at_oidc_token_parse(const char *json, size_t len, char **id_token,
			at_err *e)
{
	static const char *w = "token endpoint";
	struct at_json_flat fl;
	char *err = NULL;
	int r;

	*id_token = NULL;
	if (at_json_flat_parse(json, len, &fl, e) != 0)
		return at_err_prefix(e, "%s", w);
	r = flat_dup(&fl, "error", 1, &err, w, e);
	if (r < 0)
		return -1;
	if (r == 1) {
		if (strcmp(err, "authorization_pending") == 0)
			r = AT_OIDC_POLL_PENDING;
		else if (strcmp(err, "slow_down") == 0)
			r = AT_OIDC_POLL_SLOW_DOWN;
		else if (strcmp(err, "access_denied") == 0)
			r = at_err_set(e, EX_NOPERM, "sign-in was denied");
		else if (strcmp(err, "expired_token") == 0)
			r = at_err_set(e, EX_TEMPFAIL,
				       "the device code expired before "
				       "sign-in was approved");
		else
			r = at_err_set(e, EX_DATAERR, "%s: error \"%.64s\"", w,
				       err);
		free(err);
		return r;
	}
	r = flat_dup(&fl, "id_token", 0, id_token, w, e);
	if (r < 0)
		return -1;
	if (r == 0 || (*id_token)[0] == '\0') {
		at_oidc_free_token(*id_token);
		*id_token = NULL;
		return at_err_set(e, EX_DATAERR, "%s: no id_token in response",
				  w);
	}
	return AT_OIDC_POLL_TOKEN;
}

/* ---- HTTP ---------------------------------------------------------------
 */

int at_oidc_check_url(const char *what, const char *url, at_err *e)
{
	static const char *const loop[] = {"http://127.0.0.1", "http://[::1]",
					   "http://localhost", NULL};
	const char *const *p;
	const char *s;

	if (url == NULL || *url == '\0')
		return at_err_set(e, EX_CONFIG, "%s: not set", what);
	for (s = url; *s; s++)
		if (*s <= ' ' || *s >= 0x7f)
			return at_err_set(e, EX_CONFIG,
					  "%s: blank or non-ascii character",
					  what);
	if (strncmp(url, "https://", 8) == 0 && url[8] != '\0')
		return 0;
	for (p = loop; *p; p++) {
		size_t n = strlen(*p);
		if (strncmp(url, *p, n) == 0 &&
		    (url[n] == ':' || url[n] == '/' || url[n] == '\0'))
			return 0;
	}
	return at_err_set(e, EX_CONFIG,
			  "%s: must be https (plain http only to loopback)",
			  what);
}

static size_t on_body(char *p, size_t sz, size_t n, void *ud)
{
	at_buf *b = ud;

	if (b->len + sz * n > HTTP_MAX_BODY)
		return 0;
	at_buf_add(b, p, sz * n);
	return sz * n;
}

static void form_add(at_buf *f, const char *k, const char *v)
{
	static const char hex[] = "0123456789ABCDEF";
	const unsigned char *p;

	if (f->len)
		at_buf_putc(f, '&');
	at_buf_puts(f, k);
	at_buf_putc(f, '=');
	for (p = (const unsigned char *)v; *p; p++) {
		if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		    (*p >= '0' && *p <= '9') || *p == '-' || *p == '.' ||
		    *p == '_' || *p == '~') {
			at_buf_putc(f, (char)*p);
		} else {
			at_buf_putc(f, '%');
			at_buf_putc(f, hex[*p >> 4]);
			at_buf_putc(f, hex[*p & 15]);
		}
	}
}

/* GET (form NULL) or POST a form; body and HTTP status out.  Transport
 * failures are EX_UNAVAILABLE. */
static int http(const struct at_oidc_config *c, const char *what,
		const char *url, const at_buf *form, at_buf *body, long *status,
		at_err *e)
{
	CURL *h;
	CURLcode rc;
	struct curl_slist *hd = NULL;
	char errbuf[CURL_ERROR_SIZE] = "";
	int ret = 0;

	if (at_oidc_check_url(what, url, e) != 0)
		return -1;
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
		return at_err_set(e, EX_SOFTWARE, "curl init failed");
	h = curl_easy_init();
	if (h == NULL) {
		curl_global_cleanup();
		return at_err_set(e, EX_SOFTWARE, "curl init failed");
	}
	hd = curl_slist_append(hd, "Accept: application/json");
	curl_easy_setopt(h, CURLOPT_URL, url);
	curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT, 10L);
	curl_easy_setopt(h, CURLOPT_TIMEOUT,
			 c->timeout_s > 0 ? c->timeout_s : 30L);
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, hd);
	curl_easy_setopt(h, CURLOPT_USERAGENT, "at/" AT_VERSION);
	curl_easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, body);
	if (form != NULL) {
		curl_easy_setopt(h, CURLOPT_POSTFIELDS,
				 form->data ? form->data : "");
		curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE, (long)form->len);
	}
	rc = curl_easy_perform(h);
	if (rc != CURLE_OK) {
		ret = at_err_set(e, EX_UNAVAILABLE, "%s: %s", what,
				 errbuf[0] ? errbuf : curl_easy_strerror(rc));
	} else {
		curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, status);
		if (*status >= 500)
			ret = at_err_set(e, EX_UNAVAILABLE, "%s: http %ld",
					 what, *status);
	}
	curl_slist_free_all(hd);
	curl_easy_cleanup(h);
	curl_global_cleanup();
	if (body->data == NULL)
		at_buf_puts(body, "");
	return ret;
}

int at_oidc_device_start(const struct at_oidc_config *c,
			 struct at_oidc_device *d, at_err *e)
{
	at_buf form = AT_BUF_INIT, body = AT_BUF_INIT;
	long status = 0;
	int rc = -1;

	memset(d, 0, sizeof(*d));
	if (c->client_id == NULL || *c->client_id == '\0')
		return at_err_set(e, EX_CONFIG, "no oidc client id");
	form_add(&form, "client_id", c->client_id);
	form_add(&form, "scope", c->scope ? c->scope : "openid email profile");
	if (http(c, "device url", c->device_url, &form, &body, &status, e) != 0)
		goto out;
	if (status != 200) {
		char *tok = NULL;
		if (at_oidc_token_parse(body.data, body.len, &tok, e) >= 0) {
			at_oidc_free_token(tok);
			at_err_set(e, EX_DATAERR, "device endpoint: http %ld",
				   status);
		}
		goto out;
	}
	rc = at_oidc_device_parse(body.data, body.len, d, e);
out:
	at_buf_wipe_release(&form);
	at_buf_wipe_release(&body);
	return rc;
}

static void sleep_s(double s)
{
	struct timespec ts, rem;

	if (s <= 0)
		return;
	ts.tv_sec = (time_t)s;
	ts.tv_nsec = (long)((s - (double)ts.tv_sec) * 1e9);
	while (nanosleep(&ts, &rem) != 0 && errno == EINTR)
		ts = rem;
}

int at_oidc_device_wait(const struct at_oidc_config *c,
			const struct at_oidc_device *d, char **id_token,
			at_err *e)
{
	double scale = c->poll_scale > 0 ? c->poll_scale : 1.0;
	int64_t interval = d->interval >= 1 ? d->interval : 5;
	int64_t deadline = at_util_mono_ns() + d->expires_in * 1000000000LL;
	at_buf form = AT_BUF_INIT, body = AT_BUF_INIT;
	char iv[24];
	int rc = -1, polls = 0;

	*id_token = NULL;
	form_add(&form, "client_id", c->client_id);
	if (c->client_secret != NULL && *c->client_secret != '\0')
		form_add(&form, "client_secret", c->client_secret);
	form_add(&form, "device_code", d->device_code);
	form_add(&form, "grant_type",
		 "urn:ietf:params:oauth:grant-type:device_code");
	snprintf(iv, sizeof(iv), "%" PRId64, interval);
	at_log(AT_LOG_INFO, "waiting for sign-in", "interval", iv, NULL);
	for (;;) {
		long status = 0;
		int r;

		sleep_s((double)interval * scale);
		if (at_util_mono_ns() > deadline) {
			at_err_set(e, EX_TEMPFAIL,
				   "the device code expired before sign-in "
				   "was approved");
			goto out;
		}
		at_buf_wipe_release(&body);
		if (http(c, "token url", c->token_url, &form, &body, &status,
			 e) != 0)
			goto out;
		polls++;
		r = at_oidc_token_parse(body.data, body.len, id_token, e);
		if (r < 0)
			goto out;
		if (r == AT_OIDC_POLL_TOKEN)
			break;
		if (r == AT_OIDC_POLL_SLOW_DOWN) {
			interval += 5;
			snprintf(iv, sizeof(iv), "%" PRId64, interval);
			at_log(AT_LOG_INFO, "slow_down: polling less often",
			       "interval", iv, NULL);
		}
	}
	snprintf(iv, sizeof(iv), "%d", polls);
	at_log(AT_LOG_DEBUG, "sign-in approved", "polls", iv, NULL);
	rc = 0;
out:
	at_buf_wipe_release(&form);
	at_buf_wipe_release(&body);
	return rc;
}

int at_oidc_fetch_jwks(const struct at_oidc_config *c, at_oidc_jwks **out,
		       at_err *e)
{
	at_buf body = AT_BUF_INIT;
	long status = 0;
	int rc = -1;

	*out = NULL;
	if (http(c, "jwks url", c->jwks_url, NULL, &body, &status, e) != 0)
		goto out;
	if (status != 200) {
		at_err_set(e, EX_UNAVAILABLE, "jwks url: http %ld", status);
		goto out;
	}
	*out = at_oidc_jwks_parse(body.data, body.len, e);
	rc = *out ? 0 : -1;
out:
	at_buf_release(&body);
	return rc;
}
