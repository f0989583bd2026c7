/*
 * creds: a tenant's broker credentials, decrypted for the moment they are
 * needed (the login), and the access token stored back encrypted.
 *
 * The secrets live in broker_credentials as Fernet tokens (lib/fernet);
 * api_key, broker_user_id and egress_ip are not secret.  A loaded
 * at_creds holds plaintext: release it with at_creds_wipe() as soon as the
 * login is done.
 */
#ifndef AT_CREDS_H
#define AT_CREDS_H

#include <stdint.h>

#include "db.h"
#include "err.h"
#include "fernet.h"

struct at_creds {
	char api_key[64];
	char broker_user_id[32];
	char egress_ip[64]; /* "" when none */
	char *api_secret;   /* plaintext secrets, wiped by at_creds_wipe */
	char *totp_secret;
	char *password;
	size_t api_secret_len, totp_secret_len, password_len;
};

/*
 * Load and decrypt user_id's credentials.  EX_NOUSER when the tenant has
 * none; EX_CONFIG when no key of the ring decrypts them (naming which
 * field, never its value).
 */
int at_creds_load(at_db *db, const at_fernet_keys *keys, const char *user_id,
		  struct at_creds *out, at_err *e)
    __attribute__((warn_unused_result));
void at_creds_wipe(struct at_creds *c);

/*
 * Store a fresh access token (encrypted) with its IST trading date and the
 * time it was issued; clears the readiness until at_creds_set_ready().
 */
int at_creds_store_token(at_db *db, const at_fernet_keys *keys,
			 const char *user_id, const char *access_token,
			 const char *token_date, int64_t issued_ms, at_err *e)
    __attribute__((warn_unused_result));

/* Record the readiness check: status "ready" or "not_ready". */
int at_creds_set_ready(at_db *db, const char *user_id, const char *status,
		       const char *message, at_err *e)
    __attribute__((warn_unused_result));

#endif
