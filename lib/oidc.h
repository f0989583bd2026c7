/*
 * oidc: Google sign-in for a command line — the OAuth 2.0 device
 * authorization grant (RFC 8628) and OpenID Connect ID token verification
 * (RS256 against the provider's JWKS), over libcurl and OpenSSL 3.
 *
 *   struct at_oidc_config c = {...};
 *   struct at_oidc_device d;
 *   at_oidc_device_start(&c, &d, &e);      show d.verification_url and
 *                                          d.user_code to the person
 *   at_oidc_device_wait(&c, &d, &idtok, &e);   poll until approved
 *   at_oidc_fetch_jwks(&c, &jwks, &e);
 *   at_oidc_verify(jwks, idtok, strlen(idtok), &expect, &claims, &e);
 *
 * Endpoints must be https, or http to a loopback address (tests).  The
 * client secret, device code and tokens never appear in messages or logs.
 * The parsers take untrusted bytes and are fuzzed (tests/fuzz/fuzz_oidc.c).
 *
 * Error codes: EX_NOPERM when the provider's answer does not prove the
 * identity (bad signature, wrong issuer or audience, expired, unverified
 * email, access denied); EX_TEMPFAIL when the device code expired;
 * EX_UNAVAILABLE when an endpoint cannot be reached or answers HTTP 5xx;
 * EX_DATAERR for malformed answers; EX_CONFIG for bad configuration.
 */
#ifndef AT_OIDC_H
#define AT_OIDC_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"

#define AT_OIDC_GOOGLE_DEVICE_URL "https://oauth2.googleapis.com/device/code"
#define AT_OIDC_GOOGLE_TOKEN_URL "https://oauth2.googleapis.com/token"
#define AT_OIDC_GOOGLE_JWKS_URL "https://www.googleapis.com/oauth2/v3/certs"
#define AT_OIDC_GOOGLE_ISSUER "https://accounts.google.com"
/* Seconds of clock difference tolerated for exp, iat and nbf. */
#define AT_OIDC_SKEW 120

/* ---- base64url ---------------------------------------------------------- */

/*
 * Decode unpadded base64url (RFC 7515 section 2): only [A-Za-z0-9_-], no
 * '=' and no blanks, unused trailing bits zero.  *out is malloc'd (NUL
 * appended, not counted).  -1 (EX_DATAERR "not base64url") otherwise.
 */
int at_oidc_b64url_decode(const char *s, size_t len, unsigned char **out,
			  size_t *outlen, at_err *e)
    __attribute__((warn_unused_result));

/* ---- JWKS ------------------------------------------------------------- */

typedef struct at_oidc_jwks at_oidc_jwks;

/*
 * Parse a JWK Set ({"keys":[...]}).  RSA keys meant for signatures (no
 * "use" or "sig"; no "alg" or "RS256") with a kid and a modulus of 2048 to
 * 8192 bits become OpenSSL keys (EVP_PKEY_fromdata from n and e); other
 * keys are skipped.  A malformed RSA key, a duplicate kid, more than 64
 * keys or no usable key is EX_DATAERR naming the key ("jwks: key 2:
 * field "n": not base64url").
 */
at_oidc_jwks *at_oidc_jwks_parse(const char *json, size_t len, at_err *e)
    __attribute__((warn_unused_result));
void at_oidc_jwks_free(at_oidc_jwks *k);
size_t at_oidc_jwks_count(const at_oidc_jwks *k);

/* ---- ID tokens -------------------------------------------------------- */

struct at_oidc_expect {
	const char *issuer;    /* iss must equal this (Google's
				  "accounts.google.com" form is also
				  accepted for https://accounts.google.com) */
	const char *client_id; /* aud must be or contain this */
	int64_t now;	       /* Unix time */
	int64_t skew;	       /* seconds; AT_OIDC_SKEW when < 0 */
};

struct at_oidc_claims {
	char *iss, *sub, *email, *name; /* malloc'd; name "" when absent */
	int email_verified;
	int64_t exp, iat;
};

/*
 * Verify a compact JWS ID token: three base64url parts; the header's alg
 * must be RS256 and its kid a key of jwks; the signature verifies
 * (EVP_DigestVerify, SHA-256, PKCS#1 v1.5); then the claims: iss, aud
 * (string, or array containing client_id with azp = client_id when it
 * holds others), exp > now - skew, iat <= now + skew, nbf (if any) <= now
 * + skew, sub non-empty, email present and email_verified true.  Claims
 * are only looked at after the signature checks out.  On success out is
 * filled (release with at_oidc_claims_release).
 */
int at_oidc_verify(const at_oidc_jwks *jwks, const char *jwt, size_t len,
		   const struct at_oidc_expect *x, struct at_oidc_claims *out,
		   at_err *e) __attribute__((warn_unused_result));
void at_oidc_claims_release(struct at_oidc_claims *c);

/* ---- device authorization grant ---------------------------------------- */

struct at_oidc_config {
	const char *device_url, *token_url, *jwks_url, *issuer;
	const char *client_id;
	const char *client_secret; /* may be NULL */
	const char *scope;	   /* NULL: "openid email profile" */
	double poll_scale;	   /* multiplies every wait (tests); 0 = 1 */
	long timeout_s;		   /* per HTTP request; 0 = 30 */
};

struct at_oidc_device {
	char *device_code; /* secret-ish: never print it */
	char *user_code;
	char *verification_url;
	char *verification_url_complete; /* NULL when not given */
	int64_t expires_in;		 /* seconds */
	int64_t interval;		 /* seconds, >= 1 */
};

/*
 * Parse a device authorization response (RFC 8628 3.2; Google's
 * "verification_url" spelling accepted as well as "verification_uri").
 * interval defaults to 5; expires_in must be 1..86400.
 */
int at_oidc_device_parse(const char *json, size_t len, struct at_oidc_device *d,
			 at_err *e) __attribute__((warn_unused_result));
void at_oidc_device_release(struct at_oidc_device *d);

enum at_oidc_poll {
	AT_OIDC_POLL_TOKEN = 0,	  /* *id_token set */
	AT_OIDC_POLL_PENDING = 1, /* authorization_pending */
	AT_OIDC_POLL_SLOW_DOWN = 2
};

/*
 * Classify a token endpoint response (any HTTP status): returns an enum
 * at_oidc_poll value, or -1 for access_denied (EX_NOPERM), expired_token
 * (EX_TEMPFAIL), any other error (EX_DATAERR naming it) or a malformed
 * body.  On AT_OIDC_POLL_TOKEN *id_token is malloc'd (wipe and free it
 * with at_oidc_free_token).
 */
int at_oidc_token_parse(const char *json, size_t len, char **id_token,
			at_err *e) __attribute__((warn_unused_result));
void at_oidc_free_token(char *tok);

/* POST the device authorization request. */
int at_oidc_device_start(const struct at_oidc_config *c,
			 struct at_oidc_device *d, at_err *e)
    __attribute__((warn_unused_result));

/*
 * Poll the token endpoint every d->interval seconds (times poll_scale)
 * until the person approves (0, *id_token malloc'd), denies, or the code
 * expires; slow_down adds 5 seconds to the interval for good (RFC 8628
 * 3.5).  Logs each change of interval at info level.
 */
int at_oidc_device_wait(const struct at_oidc_config *c,
			const struct at_oidc_device *d, char **id_token,
			at_err *e) __attribute__((warn_unused_result));

/* GET and parse the JWKS at c->jwks_url. */
int at_oidc_fetch_jwks(const struct at_oidc_config *c, at_oidc_jwks **out,
		       at_err *e) __attribute__((warn_unused_result));

/* 0 when url is https://..., or http:// to 127.0.0.1, [::1] or localhost;
 * else EX_CONFIG naming what (e.g. "token url"). */
int at_oidc_check_url(const char *what, const char *url, at_err *e)
    __attribute__((warn_unused_result));

#endif
