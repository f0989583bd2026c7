#include "creds.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

static int decrypt(const at_fernet_keys *keys, const char *field,
		   const char *token, char **out, size_t *len, at_err *e)
{
	unsigned char *pt = NULL;

	if (token == NULL || *token == '\0')
		return at_err_set(e, EX_CONFIG, "credentials: %s is missing",
				  field);
	if (at_fernet_decrypt(keys, token, 0,
			      (uint64_t)(at_util_now_ms() / 1000), &pt, len,
			      e) != 0)
		return at_err_set(e, EX_CONFIG,
				  "credentials: %s cannot be decrypted with "
				  "any key in AT_FERNET_KEY",
				  field);
	*out = (char *)pt; /* NUL-terminated by lib/fernet */
	return 0;
}

int at_creds_load(at_db *db, const at_fernet_keys *keys, const char *user_id,
		  struct at_creds *out, at_err *e)
{
	const char *p[1] = {user_id};
	at_db_res *r;
	int rc = -1;

	memset(out, 0, sizeof(*out));
	r = at_db_query(db,
			"SELECT api_key, broker_user_id, egress_ip, "
			"api_secret_encrypted, totp_secret_encrypted, "
			"password_encrypted FROM broker_credentials WHERE "
			"user_id = $1",
			1, p, e);
	if (r == NULL)
		return -1;
	if (at_db_res_rows(r) != 1) {
		at_err_set(e, EX_NOUSER, "user %s has no broker credentials",
			   user_id);
		goto out;
	}
	snprintf(out->api_key, sizeof(out->api_key), "%s",
		 at_db_res_get(r, 0, 0));
	snprintf(out->broker_user_id, sizeof(out->broker_user_id), "%s",
		 at_db_res_get(r, 0, 1));
	if (at_db_res_get(r, 0, 2))
		snprintf(out->egress_ip, sizeof(out->egress_ip), "%s",
			 at_db_res_get(r, 0, 2));
	if (decrypt(keys, "api_secret", at_db_res_get(r, 0, 3),
		    &out->api_secret, &out->api_secret_len, e) != 0 ||
	    decrypt(keys, "totp_secret", at_db_res_get(r, 0, 4),
		    &out->totp_secret, &out->totp_secret_len, e) != 0 ||
	    decrypt(keys, "password", at_db_res_get(r, 0, 5), &out->password,
		    &out->password_len, e) != 0) {
		at_creds_wipe(out);
		goto out;
	}
	rc = 0;
out:
	at_db_res_free(r);
	return rc;
}

void at_creds_wipe(struct at_creds *c)
{
	at_fernet_free_secret(c->api_secret, c->api_secret_len);
	at_fernet_free_secret(c->totp_secret, c->totp_secret_len);
	at_fernet_free_secret(c->password, c->password_len);
	explicit_bzero(c, sizeof(*c));
}

int at_creds_store_token(at_db *db, const at_fernet_keys *keys,
			 const char *user_id, const char *access_token,
			 const char *token_date, int64_t issued_ms, at_err *e)
{
	char *tok =
	    at_fernet_encrypt(keys, access_token, strlen(access_token), e);
	char issued[24];
	const char *p[4] = {user_id, tok, token_date, issued};
	int64_t n;

	if (tok == NULL)
		return -1;
	snprintf(issued, sizeof(issued), "%" PRId64, issued_ms);
	n = at_db_exec(db,
		       at_db_kind(db) == AT_DB_POSTGRES
			   ? "UPDATE broker_credentials SET "
			     "access_token_encrypted = $2, token_date = "
			     "CAST($3 AS date), token_issued_ms = $4, "
			     "ready_status = NULL, ready_message = NULL, "
			     "ready_ms = NULL, updated_ms = $4 WHERE "
			     "user_id = $1"
			   : "UPDATE broker_credentials SET "
			     "access_token_encrypted = $2, token_date = "
			     "$3, token_issued_ms = $4, ready_status = "
			     "NULL, ready_message = NULL, ready_ms = NULL, "
			     "updated_ms = $4 WHERE user_id = $1",
		       4, p, e);
	free(tok);
	if (n < 0)
		return -1;
	if (n != 1)
		return at_err_set(e, EX_NOUSER,
				  "user %s has no broker credentials", user_id);
	return 0;
}

int at_creds_set_ready(at_db *db, const char *user_id, const char *status,
		       const char *message, at_err *e)
{
	char now[24];
	const char *p[4] = {user_id, status, message, now};

	snprintf(now, sizeof(now), "%" PRId64, at_util_now_ms());
	return at_db_exec(db,
			  "UPDATE broker_credentials SET ready_status = $2, "
			  "ready_message = $3, ready_ms = $4 WHERE user_id = "
			  "$1",
			  4, p, e) < 0
		   ? -1
		   : 0;
}
