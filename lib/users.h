/*
 * users: tenants and their broker credentials.  Everywhere a user is
 * named, its email or its id works.
 *
 * Scope: the operator functions (add, status, list, rotate) run in
 * platform scope; the per-tenant ones (show, credentials) in whatever
 * scope the caller set, so a tool acting for one tenant (at_users_act_as)
 * can neither see nor change another tenant's rows — on PostgreSQL Row
 * Level Security enforces that again, on SQLite every query takes the
 * user_id.  Every change appends to the audit log in the same
 * transaction; no detail ever holds a secret.
 */
#ifndef AT_USERS_H
#define AT_USERS_H

#include <stddef.h>

#include "buf.h"
#include "db.h"
#include "err.h"
#include "fernet.h"

/*
 * Resolve an email or a UUID to the user's id (out, 37 bytes).  Needs a
 * scope that can see the user (platform, or that user).  An unknown user
 * is EX_NOUSER: `unknown user "x"`.
 */
int at_users_resolve(at_db *db, const char *name, char out[37], at_err *e)
    __attribute__((warn_unused_result));

/*
 * Open-and-scope for a tool acting for one tenant: resolve name in
 * platform scope, then switch the connection to that tenant's scope.
 * status_out (optional, 16 bytes) receives the user's status.
 */
int at_users_act_as(at_db *db, const char *name, char out[37],
		    char status_out[16], at_err *e)
    __attribute__((warn_unused_result));

/* ---- tenants ------------------------------------------------------------ */

/*
 * Syntax checks (EX_DATAERR, message naming the field):
 * email: one '@', non-empty local part and a dotted domain, printable
 * ASCII, at most 254 bytes (stored lower-cased); name: at most 200 bytes,
 * no control characters; google_sub: 1 to 255 printable ASCII characters
 * without blanks.
 */
int at_users_check_email(const char *email, at_err *e)
    __attribute__((warn_unused_result));
int at_users_check_name(const char *name, at_err *e)
    __attribute__((warn_unused_result));
int at_users_check_sub(const char *sub, at_err *e)
    __attribute__((warn_unused_result));

/*
 * Add a tenant (platform scope, one transaction with its audit row
 * "user.add").  google_sub and tier may be NULL (tier defaults to FREE).
 * A taken email or google sub is EX_DATAERR naming it ("... already
 * exists"), an unknown tier EX_DATAERR.  id_out receives the new id.
 */
int at_users_add(at_db *db, const char *email, const char *name,
		 const char *google_sub, const char *tier, const char *actor,
		 char id_out[37], at_err *e)
    __attribute__((warn_unused_result));

/*
 * Set a tenant's status to "active" or "disabled" (platform scope, audit
 * "user.enable" / "user.disable").  *changed is 0 when it already was
 * (nothing is written then).
 */
int at_users_set_status(at_db *db, const char *name, const char *status,
			const char *actor, char id_out[37], int *changed,
			at_err *e) __attribute__((warn_unused_result));

/*
 * Append one JSON line per visible user to out (ordered by email): id,
 * email, name, google_sub, tier, status, created_ms, updated_ms and
 * credentials (null, or api_key, broker_user_id, egress_ip,
 * has_access_token, token_date, ready_status, updated_ms — never a
 * secret).  only_id (may be NULL) restricts to that user; in a tenant
 * scope only the acting user is ever listed.  *count gets the number of
 * lines.
 */
int at_users_list(at_db *db, const char *only_id, at_buf *out, int *count,
		  at_err *e) __attribute__((warn_unused_result));

/* ---- broker credentials ------------------------------------------------- */

/* The plaintext credentials of one tenant; every member is wiped. */
struct at_users_creds {
	char api_key[65];
	char api_secret[257];
	char totp_secret[257];
	char broker_user_id[17];
	char password[257];
	char egress_ip[46]; /* canonical text form, "" when none */
};

/*
 * Read a secret document (what names it in messages, e.g. "credentials
 * file"): path NULL or "-" is stdin, else a regular file that neither
 * group nor others may read or write (EX_CONFIG otherwise; a missing file
 * is EX_NOINPUT).  At most 64 KiB.  *buf is malloc'd (NUL-terminated) in a
 * buffer of AT_USERS_SECRET_MAX + 1 bytes; release it with
 * at_users_wipe_free(*buf, AT_USERS_SECRET_MAX + 1).
 */
#define AT_USERS_SECRET_MAX 65536
int at_users_secret_read(const char *what, const char *path, char **buf,
			 size_t *len, at_err *e)
    __attribute__((warn_unused_result));

/*
 * Parse and validate one JSON object with exactly the members api_key,
 * api_secret, totp_secret, broker_user_id, password and optionally
 * egress_ip, all strings.  Unknown members are rejected by name; the
 * TOTP secret must be base32 of at least 10 bytes; broker_user_id is 2-4
 * capital letters then 3-6 digits (Kite client ids, e.g. AB1234);
 * egress_ip an IPv4 or IPv6 address (stored canonical); api_key 1-64 of
 * [A-Za-z0-9_-]; api_secret 1-256 printable ASCII without blanks; password
 * 1-256 bytes without control characters.  where names the input in
 * messages ("<stdin>").  No copy of the input is left outside c and the
 * caller's buffer.
 */
int at_users_creds_parse(const char *json, size_t len, const char *where,
			 struct at_users_creds *c, at_err *e)
    __attribute__((warn_unused_result));

/* explicit_bzero every member. */
void at_users_creds_wipe(struct at_users_creds *c);
/* explicit_bzero p[0..len) and free it (NULL is fine). */
void at_users_wipe_free(void *p, size_t len);

/*
 * Store c for user_id (in the caller's scope: platform or that tenant),
 * the secrets Fernet-encrypted with the first key of k, in one
 * transaction with an audit row "credentials.set" whose detail lists the
 * changed fields.  Existing secrets are decrypted to tell what changed;
 * when k cannot decrypt them the call fails (EX_CONFIG: wrong key) and
 * nothing is written.  A change of api_key, api_secret, broker_user_id or
 * password drops the stored access token.  changed (optional) receives
 * the changed field names as a JSON array.
 */
int at_users_set_credentials(at_db *db, const char *user_id,
			     const struct at_users_creds *c,
			     const at_fernet_keys *k, const char *actor,
			     at_buf *changed, at_err *e)
    __attribute__((warn_unused_result));

/*
 * Re-encrypt every stored secret (api_secret, totp_secret, password and
 * the access token when present) of every tenant under the first key of
 * k, in one transaction (platform scope), with one audit row
 * "credentials.rotate" per tenant.  A secret no key decrypts rolls
 * everything back: EX_DATAERR naming the user and the field.  *users and
 * *secrets get the counts.
 */
int at_users_rotate_key(at_db *db, const at_fernet_keys *k, const char *actor,
			int *users, int *secrets, at_err *e)
    __attribute__((warn_unused_result));

/* ---- Google sign-in ----------------------------------------------------- */

enum at_users_signin_action {
	AT_USERS_SIGNIN_EXISTING = 0, /* sub already linked to the user */
	AT_USERS_SIGNIN_LINKED = 1,   /* existing user got the sub */
	AT_USERS_SIGNIN_CREATED = 2   /* new user */
};

/*
 * Bind a verified Google identity (sub, lower-cased email, display name)
 * to a tenant, in platform scope and one transaction:
 *   - want (may be NULL) names the user to link; the identity's sub must
 *     not belong to anyone else, want must not have another sub;
 *   - else the user with this sub, else the user with this email (linked
 *     when it has no sub, refused when it has another), else a new user
 *     (tier FREE).
 * Refusals are EX_NOPERM; a disabled user is refused too.  Audit rows
 * "user.signin_link" / "user.signin_create".
 */
int at_users_signin(at_db *db, const char *sub, const char *email,
		    const char *name, const char *want, const char *actor,
		    char id_out[37], enum at_users_signin_action *action,
		    at_err *e) __attribute__((warn_unused_result));

const char *at_users_signin_action_name(enum at_users_signin_action a);

#endif
