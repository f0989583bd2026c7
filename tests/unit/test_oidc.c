/*
 * test_oidc: base64url, JWKS parsing (RSA keys rebuilt from n/e), ID token
 * verification (RS256 signature, kid, alg, iss, aud, exp, iat, nbf,
 * email_verified) with a key generated here by OpenSSL, and the device
 * and token endpoint response parsers.
 */
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/rsa.h>

#include "buf.h"
#include "oidc.h"
#include "t.h"

#define NOW 1795600000LL
#define CID "client-1.apps.example"
#define ISS "https://issuer.example"

static EVP_PKEY *key, *other;

static void b64u(at_buf *b, const unsigned char *p, size_t n)
{
	static const char a[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrs"
				"tuvwxyz0123456789-_";
	size_t i;

	for (i = 0; i + 2 < n; i += 3) {
		unsigned v =
		    (unsigned)p[i] << 16 | (unsigned)p[i + 1] << 8 | p[i + 2];
		at_buf_putc(b, a[v >> 18]);
		at_buf_putc(b, a[(v >> 12) & 63]);
		at_buf_putc(b, a[(v >> 6) & 63]);
		at_buf_putc(b, a[v & 63]);
	}
	if (n - i == 1) {
		at_buf_putc(b, a[p[i] >> 2]);
		at_buf_putc(b, a[(p[i] & 3) << 4]);
	} else if (n - i == 2) {
		unsigned v = (unsigned)p[i] << 8 | p[i + 1];
		at_buf_putc(b, a[v >> 10]);
		at_buf_putc(b, a[(v >> 4) & 63]);
		at_buf_putc(b, a[(v & 15) << 2]);
	}
}

static void b64u_s(at_buf *b, const char *s)
{
	b64u(b, (const unsigned char *)s, strlen(s));
}

static void jwk_of(at_buf *b, EVP_PKEY *k, const char *kid)
{
	BIGNUM *n = NULL, *e = NULL;
	unsigned char buf[1024];
	int len;

	EVP_PKEY_get_bn_param(k, OSSL_PKEY_PARAM_RSA_N, &n);
	EVP_PKEY_get_bn_param(k, OSSL_PKEY_PARAM_RSA_E, &e);
	at_buf_printf(b,
		      "{\"kty\":\"RSA\",\"alg\":\"RS256\",\"use\":\"sig\","
		      "\"kid\":\"%s\",\"n\":\"",
		      kid);
	len = BN_bn2bin(n, buf);
	b64u(b, buf, (size_t)len);
	at_buf_puts(b, "\",\"e\":\"");
	len = BN_bn2bin(e, buf);
	b64u(b, buf, (size_t)len);
	at_buf_puts(b, "\"}");
	BN_free(n);
	BN_free(e);
}

/* header and payload JSON -> compact JWS signed by k (RS256); pl is
 * consumed */
static char *jwt(EVP_PKEY *k, const char *hdr, char *pl)
{
	at_buf b = AT_BUF_INIT;
	EVP_MD_CTX *m = EVP_MD_CTX_new();
	unsigned char sig[1024];
	size_t sl = sizeof(sig);

	b64u_s(&b, hdr);
	at_buf_putc(&b, '.');
	b64u_s(&b, pl);
	EVP_DigestSignInit(m, NULL, EVP_sha256(), NULL, k);
	EVP_DigestSign(m, sig, &sl, (unsigned char *)b.data, b.len);
	EVP_MD_CTX_free(m);
	at_buf_putc(&b, '.');
	b64u(&b, sig, sl);
	free(pl);
	return at_buf_detach(&b, NULL);
}

static char *claims(const char *iss, const char *aud, long long iat,
		    long long exp, const char *extra)
{
	at_buf b = AT_BUF_INIT;

	at_buf_printf(&b,
		      "{\"iss\":\"%s\",\"aud\":%s,\"sub\":\"1234\",\"email\":"
		      "\"T@x.test\",\"email_verified\":true,\"name\":\"T\","
		      "\"iat\":%lld,\"exp\":%lld%s}",
		      iss, aud, iat, exp, extra ? extra : "");
	return at_buf_detach(&b, NULL);
}

#define HDR "{\"alg\":\"RS256\",\"kid\":\"k1\",\"typ\":\"JWT\"}"

/* verify a token built from (header, payload, signing key); returns the
 * rc and leaves the error in *e */
static int check(const at_oidc_jwks *ks, EVP_PKEY *k, const char *hdr, char *pl,
		 at_err *e)
{
	struct at_oidc_expect x = {ISS, CID, NOW, 60};
	struct at_oidc_claims c;
	char *t = jwt(k, hdr, pl);
	int rc = at_oidc_verify(ks, t, strlen(t), &x, &c, e);

	if (rc == 0)
		at_oidc_claims_release(&c);
	free(t);
	return rc;
}

static void test_b64(void)
{
	static const struct {
		const char *in, *out;
	} ok[] = {{"", ""},	   {"Zg", "f"},	       {"Zm8", "fo"},
		  {"Zm9v", "foo"}, {"Zm9vYg", "foob"}, {"-_8", "\xfb\xff"}};
	static const char *bad[] = {"Z",    "Zh",   "Zm9=", "Zm+v",
				    "Zm/v", "Zm v", "Zm9vY"};
	unsigned char *o;
	size_t n, i;
	at_err e;

	for (i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		int r = at_oidc_b64url_decode(ok[i].in, strlen(ok[i].in), &o,
					      &n, &e);
		T_OK(r == 0 && n == strlen(ok[i].out) &&
			 memcmp(o, ok[i].out, n) == 0,
		     "b64url \"%s\"", ok[i].in);
		free(o);
	}
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int r =
		    at_oidc_b64url_decode(bad[i], strlen(bad[i]), &o, &n, &e);
		T_OK(r == -1 && o == NULL && e.code == EX_DATAERR,
		     "b64url rejects \"%s\"", bad[i]);
	}
}

static at_oidc_jwks *jwks_of(const char *json, at_err *e)
{
	return at_oidc_jwks_parse(json, strlen(json), e);
}

static void test_jwks(void)
{
	at_buf b = AT_BUF_INIT;
	at_oidc_jwks *ks;
	EVP_PKEY *small = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)1024);
	at_err e;

	at_buf_puts(&b, "{\"keys\":[{\"kty\":\"EC\",\"kid\":\"ec\",\"crv\":"
			"\"P-256\"},");
	jwk_of(&b, other, "k0");
	at_buf_putc(&b, ',');
	jwk_of(&b, key, "k1");
	at_buf_puts(&b, "]}");
	ks = jwks_of(b.data, &e);
	T_OK(ks != NULL && at_oidc_jwks_count(ks) == 2,
	     "jwks: two rsa keys, the ec key skipped");
	at_oidc_jwks_free(ks);

	at_buf_reset(&b);
	at_buf_puts(&b, "{\"keys\":[");
	jwk_of(&b, key, "k1");
	at_buf_putc(&b, ',');
	jwk_of(&b, other, "k1");
	at_buf_puts(&b, "]}");
	T_OK(jwks_of(b.data, &e) == NULL && strstr(e.msg, "duplicate kid"),
	     "jwks: duplicate kid refused (%s)", e.msg);

	at_buf_reset(&b);
	at_buf_puts(&b, "{\"keys\":[");
	jwk_of(&b, small, "s");
	at_buf_puts(&b, "]}");
	T_OK(jwks_of(b.data, &e) == NULL && strstr(e.msg, "1024 bits"),
	     "jwks: 1024-bit key refused (%s)", e.msg);
	EVP_PKEY_free(small);

	T_OK(jwks_of("{\"keys\":[{\"kty\":\"RSA\",\"kid\":\"a\",\"n\":\"@@\","
		     "\"e\":\"AQAB\"}]}",
		     &e) == NULL &&
		 strcmp(e.msg, "jwks: key 1: field \"n\": not base64url") == 0,
	     "jwks: bad n named (%s)", e.msg);
	T_OK(jwks_of("{\"keys\":[{\"kty\":\"RSA\",\"kid\":\"a\",\"n\":5}]}",
		     &e) == NULL &&
		 strstr(e.msg, "field \"n\": expected string"),
	     "jwks: n of the wrong type (%s)", e.msg);
	T_OK(jwks_of("{\"keys\":[]}", &e) == NULL &&
		 strstr(e.msg, "no usable rs256 key"),
	     "jwks: empty set refused");
	T_OK(jwks_of("{\"keys\":[{\"kty\":\"RSA\",\"use\":\"enc\",\"kid\":"
		     "\"a\",\"n\":\"AQAB\",\"e\":\"AQAB\"}]}",
		     &e) == NULL &&
		 strstr(e.msg, "no usable"),
	     "jwks: encryption keys are not used");
	T_OK(jwks_of("[]", &e) == NULL && e.code == EX_DATAERR,
	     "jwks: not an object");
	T_OK(jwks_of("{\"keys\":[1]}", &e) == NULL &&
		 strstr(e.msg, "key 1: expected object"),
	     "jwks: key not an object");
	at_buf_release(&b);
}

static void test_verify(void)
{
	at_buf b = AT_BUF_INIT;
	at_oidc_jwks *ks;
	struct at_oidc_expect x = {ISS, CID, NOW, 60};
	struct at_oidc_claims c;
	char *t;
	at_err e;

	at_buf_puts(&b, "{\"keys\":[");
	jwk_of(&b, other, "k0");
	at_buf_putc(&b, ',');
	jwk_of(&b, key, "k1");
	at_buf_puts(&b, "]}");
	ks = jwks_of(b.data, &e);
	T_OK(ks != NULL, "jwks for verification");
	at_buf_release(&b);

	t = jwt(key, HDR,
		claims(ISS, "\"" CID "\"", NOW - 5, NOW + 3600, NULL));
	T_OK(at_oidc_verify(ks, t, strlen(t), &x, &c, &e) == 0,
	     "valid token verifies (%s)", e.msg);
	T_EQ_STR(c.sub, "1234", "sub");
	T_EQ_STR(c.email, "T@x.test", "email");
	T_EQ_STR(c.name, "T", "name");
	T_OK(c.email_verified == 1 && c.exp == NOW + 3600, "exp, verified");
	at_oidc_claims_release(&c);

	/* tampering: payload swapped, one signature byte changed, cut */
	{
		char *t2 =
		    jwt(key, HDR,
			claims(ISS, "\"" CID "\"", NOW, NOW + 60, ",\"x\":1"));
		char *d1 = strchr(t, '.'), *d2 = strrchr(t, '.');
		char *e1 = strchr(t2, '.'), *e2 = strrchr(t2, '.');
		at_buf m = AT_BUF_INIT;
		at_buf_add(&m, t, (size_t)(d1 - t + 1));
		at_buf_add(&m, e1 + 1, (size_t)(e2 - e1 - 1));
		at_buf_puts(&m, d2);
		T_OK(at_oidc_verify(ks, m.data, m.len, &x, &c, &e) == -1 &&
			 e.code == EX_NOPERM &&
			 strcmp(e.msg, "id token: bad signature") == 0,
		     "payload swapped: bad signature");
		at_buf_reset(&m);
		at_buf_puts(&m, t);
		m.data[m.len - 3] = m.data[m.len - 3] == 'A' ? 'B' : 'A';
		T_OK(at_oidc_verify(ks, m.data, m.len, &x, &c, &e) == -1 &&
			 strstr(e.msg, "bad signature"),
		     "signature byte changed");
		T_OK(at_oidc_verify(ks, t, strlen(t) - 4, &x, &c, &e) == -1,
		     "signature cut short");
		T_OK(at_oidc_verify(ks, t, (size_t)(d2 - t), &x, &c, &e) ==
			     -1 &&
			 strstr(e.msg, "three"),
		     "two parts");
		at_buf_reset(&m);
		at_buf_puts(&m, t);
		at_buf_puts(&m, ".x");
		T_OK(at_oidc_verify(ks, m.data, m.len, &x, &c, &e) == -1 &&
			 strstr(e.msg, "three"),
		     "four parts");
		at_buf_release(&m);
		free(t2);
	}
	free(t);

	T_OK(check(ks, other, HDR,
		   claims(ISS, "\"" CID "\"", NOW, NOW + 60, NULL), &e) == -1 &&
		 strstr(e.msg, "bad signature"),
	     "signed by another key under kid k1");
	T_OK(check(ks, other, "{\"alg\":\"RS256\",\"kid\":\"k0\"}",
		   claims(ISS, "\"" CID "\"", NOW, NOW + 60, NULL), &e) == 0,
	     "the kid picks the key (k0)");
	T_OK(check(ks, key, "{\"alg\":\"RS256\",\"kid\":\"k9\"}",
		   claims(ISS, "\"" CID "\"", NOW, NOW + 60, NULL), &e) == -1 &&
		 strstr(e.msg, "unknown key id"),
	     "unknown kid");
	T_OK(check(ks, key, "{\"alg\":\"RS256\"}",
		   claims(ISS, "\"" CID "\"", NOW, NOW + 60, NULL), &e) == -1 &&
		 strstr(e.msg, "field \"kid\" is required"),
	     "no kid (%s)", e.msg);
	T_OK(check(ks, key, "{\"alg\":\"none\",\"kid\":\"k1\"}",
		   claims(ISS, "\"" CID "\"", NOW, NOW + 60, NULL), &e) == -1 &&
		 strstr(e.msg, "alg \"none\" not allowed"),
	     "alg none refused");
	T_OK(check(ks, key, "{\"alg\":\"HS256\",\"kid\":\"k1\"}",
		   claims(ISS, "\"" CID "\"", NOW, NOW + 60, NULL), &e) == -1 &&
		 strstr(e.msg, "HS256"),
	     "alg HS256 refused");
	T_OK(check(ks, key,
		   "{\"alg\":\"RS256\",\"kid\":\"k1\",\"crit\":[\"b64\"]}",
		   claims(ISS, "\"" CID "\"", NOW, NOW + 60, NULL), &e) == -1,
	     "crit header refused");
	T_OK(check(ks, key, HDR,
		   claims("https://evil.example", "\"" CID "\"", NOW, NOW + 60,
			  NULL),
		   &e) == -1 &&
		 e.code == EX_NOPERM && strstr(e.msg, "issuer"),
	     "wrong issuer");
	T_OK(check(ks, key, HDR,
		   claims(ISS, "\"other-client\"", NOW, NOW + 60, NULL),
		   &e) == -1 &&
		 strstr(e.msg, "audience"),
	     "wrong audience");
	T_OK(check(ks, key, HDR,
		   claims(ISS, "[\"" CID "\"]", NOW, NOW + 60, NULL), &e) == 0,
	     "audience array with only this client");
	T_OK(check(ks, key, HDR,
		   claims(ISS, "[\"x\",\"" CID "\"]", NOW, NOW + 60, NULL),
		   &e) == -1 &&
		 strstr(e.msg, "audience"),
	     "audience array with others and no azp");
	T_OK(check(ks, key, HDR,
		   claims(ISS, "[\"x\",\"" CID "\"]", NOW, NOW + 60,
			  ",\"azp\":\"" CID "\""),
		   &e) == 0,
	     "audience array with others and azp = client");
	T_OK(check(ks, key, HDR, claims(ISS, "5", NOW, NOW + 60, NULL), &e) ==
		 -1,
	     "audience of the wrong type");
	T_OK(check(ks, key, HDR,
		   claims(ISS, "\"" CID "\"", NOW - 7200, NOW - 61, NULL),
		   &e) == -1 &&
		 strcmp(e.msg, "id token: expired") == 0,
	     "expired beyond the skew");
	T_OK(check(ks, key, HDR,
		   claims(ISS, "\"" CID "\"", NOW - 7200, NOW - 30, NULL),
		   &e) == 0,
	     "expired within the skew is accepted");
	T_OK(check(ks, key, HDR,
		   claims(ISS, "\"" CID "\"", NOW + 61, NOW + 3600, NULL),
		   &e) == -1 &&
		 strstr(e.msg, "future"),
	     "issued in the future");
	T_OK(check(ks, key, HDR,
		   claims(ISS, "\"" CID "\"", NOW, NOW + 3600,
			  ",\"nbf\":1795609999"),
		   &e) == -1 &&
		 strstr(e.msg, "future"),
	     "not yet valid (nbf)");
	{
		char *p = strdup("{\"iss\":\"" ISS "\",\"aud\":\"" CID
				 "\",\"sub\":\"1\",\"email\":\"a@x.test\","
				 "\"iat\":1795600000,\"exp\":1795603600}");
		T_OK(check(ks, key, HDR, p, &e) == -1 &&
			 strstr(e.msg, "not verified"),
		     "email_verified absent");
		p = strdup("{\"iss\":\"" ISS "\",\"aud\":\"" CID
			   "\",\"sub\":\"1\",\"email\":\"a@x.test\","
			   "\"email_verified\":\"true\",\"iat\":1795600000,"
			   "\"exp\":1795603600}");
		T_OK(check(ks, key, HDR, p, &e) == -1 &&
			 strstr(e.msg, "email_verified\": expected boolean"),
		     "email_verified as a string (%s)", e.msg);
		p = strdup("{\"iss\":\"" ISS "\",\"aud\":\"" CID
			   "\",\"sub\":\"1\",\"email_verified\":true,"
			   "\"iat\":1795600000,\"exp\":1795603600}");
		T_OK(check(ks, key, HDR, p, &e) == -1 &&
			 strstr(e.msg, "field \"email\" is required"),
		     "no email");
		p = strdup("{\"iss\":\"" ISS "\",\"aud\":\"" CID
			   "\",\"sub\":\"\",\"email\":\"a@x.test\","
			   "\"email_verified\":true,\"iat\":1795600000,"
			   "\"exp\":1795603600}");
		T_OK(check(ks, key, HDR, p, &e) == -1 && strstr(e.msg, "sub"),
		     "empty sub");
		p = strdup("{\"iss\":\"" ISS "\",\"aud\":\"" CID
			   "\",\"sub\":\"1\",\"email\":\"a@x.test\","
			   "\"email_verified\":false,\"iat\":1795600000,"
			   "\"exp\":1795603600}");
		T_OK(check(ks, key, HDR, p, &e) == -1 && e.code == EX_NOPERM &&
			 strstr(e.msg, "not verified"),
		     "email_verified false");
		p = strdup("{\"iss\":\"" ISS "\",\"aud\":\"" CID
			   "\",\"sub\":\"1\",\"email\":\"a@x.test\","
			   "\"email_verified\":true,\"exp\":1795603600}");
		T_OK(check(ks, key, HDR, p, &e) == -1 && strstr(e.msg, "iat"),
		     "no iat");
	}
	{
		struct at_oidc_expect g = {AT_OIDC_GOOGLE_ISSUER, CID, NOW, 60};
		char *t3 = jwt(key, HDR,
			       claims("accounts.google.com", "\"" CID "\"", NOW,
				      NOW + 60, NULL));
		T_OK(at_oidc_verify(ks, t3, strlen(t3), &g, &c, &e) == 0,
		     "google's short issuer form is accepted for google");
		at_oidc_claims_release(&c);
		free(t3);
	}
	at_oidc_jwks_free(ks);
}

static void test_responses(void)
{
	struct at_oidc_device d;
	char *tok;
	at_err e;
	const char *s;

	s = "{\"device_code\":\"dc\",\"user_code\":\"ABCD-EFGH\","
	    "\"verification_url\":\"https://www.google.com/device\","
	    "\"expires_in\":1800,\"interval\":5}";
	T_OK(at_oidc_device_parse(s, strlen(s), &d, &e) == 0 &&
		 strcmp(d.user_code, "ABCD-EFGH") == 0 &&
		 strcmp(d.verification_url, "https://www.google.com/device") ==
		     0 &&
		 d.expires_in == 1800 && d.interval == 5,
	     "device response (google spelling)");
	at_oidc_device_release(&d);
	s = "{\"device_code\":\"dc\",\"user_code\":\"A\",\"verification_uri\":"
	    "\"https://x\",\"expires_in\":60}";
	T_OK(at_oidc_device_parse(s, strlen(s), &d, &e) == 0 && d.interval == 5,
	     "device response (rfc spelling, default interval)");
	at_oidc_device_release(&d);
	s = "{\"device_code\":\"dc\",\"user_code\":\"A\\u001b[2J\","
	    "\"verification_uri\":\"https://x\",\"expires_in\":60}";
	T_OK(at_oidc_device_parse(s, strlen(s), &d, &e) == -1 &&
		 strstr(e.msg, "user_code\": not printable"),
	     "terminal escapes in the user code refused");
	s = "{\"device_code\":\"dc\",\"user_code\":\"A\",\"verification_uri\":"
	    "\"https://x\",\"expires_in\":0}";
	T_OK(at_oidc_device_parse(s, strlen(s), &d, &e) == -1,
	     "expires_in 0 refused");
	s = "{\"user_code\":\"A\",\"verification_uri\":\"https://x\","
	    "\"expires_in\":60}";
	T_OK(at_oidc_device_parse(s, strlen(s), &d, &e) == -1,
	     "no device_code");

	s = "{\"error\":\"authorization_pending\"}";
	T_EQ_INT(at_oidc_token_parse(s, strlen(s), &tok, &e),
		 AT_OIDC_POLL_PENDING, "authorization_pending");
	s = "{\"error\":\"slow_down\",\"error_description\":\"x\"}";
	T_EQ_INT(at_oidc_token_parse(s, strlen(s), &tok, &e),
		 AT_OIDC_POLL_SLOW_DOWN, "slow_down");
	s = "{\"error\":\"access_denied\"}";
	T_OK(at_oidc_token_parse(s, strlen(s), &tok, &e) == -1 &&
		 e.code == EX_NOPERM,
	     "access_denied");
	s = "{\"error\":\"expired_token\"}";
	T_OK(at_oidc_token_parse(s, strlen(s), &tok, &e) == -1 &&
		 e.code == EX_TEMPFAIL,
	     "expired_token");
	s = "{\"error\":\"invalid_grant\"}";
	T_OK(at_oidc_token_parse(s, strlen(s), &tok, &e) == -1 &&
		 e.code == EX_DATAERR && strstr(e.msg, "invalid_grant"),
	     "other errors named");
	s = "{\"access_token\":\"a\",\"id_token\":\"h.p.s\"}";
	T_OK(at_oidc_token_parse(s, strlen(s), &tok, &e) ==
		     AT_OIDC_POLL_TOKEN &&
		 strcmp(tok, "h.p.s") == 0,
	     "token response");
	at_oidc_free_token(tok);
	s = "{\"access_token\":\"a\"}";
	T_OK(at_oidc_token_parse(s, strlen(s), &tok, &e) == -1 &&
		 strstr(e.msg, "no id_token"),
	     "token response without id_token");
	s = "<html>";
	T_OK(at_oidc_token_parse(s, strlen(s), &tok, &e) == -1 &&
		 strstr(e.msg, "token endpoint: offset 0"),
	     "not json (%s)", e.msg);

	T_OK(at_oidc_check_url("u", "https://x.example/t", &e) == 0 &&
		 at_oidc_check_url("u", "http://127.0.0.1:8080/t", &e) == 0 &&
		 at_oidc_check_url("u", "http://[::1]/t", &e) == 0 &&
		 at_oidc_check_url("u", "http://localhost:1/t", &e) == 0,
	     "https and loopback http allowed");
	T_OK(at_oidc_check_url("u", "http://example.com/t", &e) == -1 &&
		 e.code == EX_CONFIG &&
		 at_oidc_check_url("u", "http://127.0.0.1.evil.example/", &e) ==
		     -1 &&
		 at_oidc_check_url("u", "http://localhostx/", &e) == -1 &&
		 at_oidc_check_url("u", "file:///etc/passwd", &e) == -1 &&
		 at_oidc_check_url("u", "https://", &e) == -1,
	     "plain http elsewhere and other schemes refused");
}

int main(void)
{
	key = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048);
	other = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048);
	T_OK(key != NULL && other != NULL, "generated two rsa keys");
	test_b64();
	test_jwks();
	test_verify();
	test_responses();
	EVP_PKEY_free(key);
	EVP_PKEY_free(other);
	return t_done();
}
