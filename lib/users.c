#include "users.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "audit.h"
#include "json.h"
#include "totp.h"
#include "util.h"

#define CREDS_MAX AT_USERS_SECRET_MAX

static int lookup(at_db *db, const char *name, char out[37], char st[16],
		  at_err *e)
{
	const char *p[1] = {name};
	at_db_res *r;
	int n;

	if (name == NULL || *name == '\0')
		return at_err_set(e, EX_USAGE, "no user named");
	r = at_db_query(db,
			at_util_is_uuid(name)
			    ? "SELECT id, status FROM users WHERE id = $1"
			    : "SELECT id, status FROM users WHERE "
			      "lower(email) = lower($1)",
			1, p, e);
	if (r == NULL)
		return -1;
	n = at_db_res_rows(r);
	if (n == 1) {
		snprintf(out, 37, "%s", at_db_res_get(r, 0, 0));
		if (st != NULL)
			snprintf(st, 16, "%s", at_db_res_get(r, 0, 1));
	}
	at_db_res_free(r);
	if (n != 1)
		return at_err_set(e, EX_NOUSER, "unknown user \"%.100s\"",
				  name);
	return 0;
}

int at_users_resolve(at_db *db, const char *name, char out[37], at_err *e)
{
	return lookup(db, name, out, NULL, e);
}

int at_users_act_as(at_db *db, const char *name, char out[37],
		    char status_out[16], at_err *e)
{
	if (at_db_act_as_platform(db, e) != 0 ||
	    lookup(db, name, out, status_out, e) != 0)
		return -1;
	return at_db_act_as_user(db, out, e);
}

/* ---- checks ---------------------------------------------------------------
 */

int at_users_check_email(const char *email, at_err *e)
{
	const char *at, *p;
	size_t n;

	if (email == NULL || *email == '\0')
		return at_err_set(e, EX_DATAERR, "email: must not be empty");
	n = strlen(email);
	if (n > 254)
		return at_err_set(e, EX_DATAERR,
				  "email: longer than 254 bytes");
	for (p = email; *p; p++)
		if (*p <= ' ' || *p >= 0x7f)
			return at_err_set(e, EX_DATAERR,
					  "email \"%.100s\": blank or "
					  "non-ascii character",
					  email);
	at = strchr(email, '@');
	if (at == NULL || at == email || strchr(at + 1, '@') != NULL ||
	    at[1] == '\0' || strchr(at + 1, '.') == NULL || at[1] == '.' ||
	    email[n - 1] == '.')
		return at_err_set(e, EX_DATAERR,
				  "email \"%.100s\": not an address", email);
	return 0;
}

int at_users_check_name(const char *name, at_err *e)
{
	const unsigned char *p;

	if (name == NULL)
		return 0;
	if (strlen(name) > 200)
		return at_err_set(e, EX_DATAERR, "name: longer than 200 bytes");
	for (p = (const unsigned char *)name; *p; p++)
		if (*p < ' ' || *p == 0x7f)
			return at_err_set(e, EX_DATAERR,
					  "name: control character");
	return 0;
}

int at_users_check_sub(const char *sub, at_err *e)
{
	const char *p;

	if (sub == NULL || *sub == '\0')
		return at_err_set(e, EX_DATAERR,
				  "google sub: must not be empty");
	if (strlen(sub) > 255)
		return at_err_set(e, EX_DATAERR,
				  "google sub: longer than 255 bytes");
	for (p = sub; *p; p++)
		if (*p <= ' ' || *p >= 0x7f)
			return at_err_set(e, EX_DATAERR,
					  "google sub: blank or non-ascii "
					  "character");
	return 0;
}

static void lower_copy(char *dst, size_t cap, const char *src)
{
	size_t i;

	for (i = 0; i + 1 < cap && src[i]; i++)
		dst[i] = (src[i] >= 'A' && src[i] <= 'Z') ? (char)(src[i] + 32)
							  : src[i];
	dst[i] = '\0';
}

static void now_str(char out[24])
{
	snprintf(out, 24, "%" PRId64, at_util_now_ms());
}

/* One row of users by a query taking one parameter: id, status, email,
 * google_sub.  Returns 1 found, 0 not found, -1 error. */
struct urow {
	char id[37];
	char status[16];
	char email[256];
	char sub[256];
	int has_sub;
};

static int user_row(at_db *db, const char *where_sql, const char *param,
		    struct urow *u, at_err *e)
{
	at_buf sql = AT_BUF_INIT;
	const char *p[1] = {param};
	at_db_res *r;
	int n;

	at_buf_printf(&sql,
		      "SELECT id, status, email, google_sub FROM users WHERE "
		      "%s",
		      where_sql);
	r = at_db_query(db, sql.data, 1, p, e);
	at_buf_release(&sql);
	if (r == NULL)
		return -1;
	n = at_db_res_rows(r);
	if (n == 1) {
		const char *s = at_db_res_get(r, 0, 3);
		snprintf(u->id, sizeof(u->id), "%s", at_db_res_get(r, 0, 0));
		snprintf(u->status, sizeof(u->status), "%s",
			 at_db_res_get(r, 0, 1));
		snprintf(u->email, sizeof(u->email), "%s",
			 at_db_res_get(r, 0, 2));
		snprintf(u->sub, sizeof(u->sub), "%s", s ? s : "");
		u->has_sub = s != NULL;
	}
	at_db_res_free(r);
	return n == 1;
}

static int user_by_name(at_db *db, const char *name, struct urow *u, at_err *e)
{
	int f;

	if (name == NULL || *name == '\0')
		return at_err_set(e, EX_USAGE, "no user named");
	f = user_row(
	    db, at_util_is_uuid(name) ? "id = $1" : "lower(email) = lower($1)",
	    name, u, e);
	if (f == 0)
		return at_err_set(e, EX_NOUSER, "unknown user \"%.100s\"",
				  name);
	return f < 0 ? -1 : 0;
}

static int insert_user(at_db *db, const char *email, const char *name,
		       const char *sub, const char *tier, char id_out[37],
		       at_err *e)
{
	char now[24];
	at_db_res *r;
	int ok;

	now_str(now);
	{
		const char *p[6] = {email, name ? name : "", sub, tier, now,
				    now};
		r = at_db_query(db,
				"INSERT INTO users (email, name, google_sub, "
				"tier, created_ms, updated_ms) VALUES ($1, $2, "
				"$3, $4, $5, $6) RETURNING id",
				6, p, e);
	}
	if (r == NULL)
		return -1;
	ok = at_db_res_rows(r) == 1;
	if (ok)
		snprintf(id_out, 37, "%s", at_db_res_get(r, 0, 0));
	at_db_res_free(r);
	if (!ok)
		return at_err_set(e, EX_SOFTWARE, "insert user: no id");
	return 0;
}

int at_users_add(at_db *db, const char *email, const char *name,
		 const char *google_sub, const char *tier, const char *actor,
		 char id_out[37], at_err *e)
{
	char em[256];
	at_buf d = AT_BUF_INIT;
	struct urow u;
	int f;

	if (at_users_check_email(email, e) != 0 ||
	    at_users_check_name(name, e) != 0 ||
	    (google_sub != NULL && at_users_check_sub(google_sub, e) != 0))
		return -1;
	lower_copy(em, sizeof(em), email);
	if (tier == NULL)
		tier = "FREE";
	if (at_db_act_as_platform(db, e) != 0 || at_db_begin(db, e) != 0)
		return -1;
	{
		const char *p[1] = {tier};
		at_db_res *r = at_db_query(
		    db, "SELECT tier FROM subscription_tiers WHERE tier = $1",
		    1, p, e);
		if (r == NULL)
			goto fail;
		f = at_db_res_rows(r);
		at_db_res_free(r);
		if (f != 1) {
			at_err_set(e, EX_DATAERR, "unknown tier \"%.64s\"",
				   tier);
			goto fail;
		}
	}
	f = user_row(db, "lower(email) = $1", em, &u, e);
	if (f < 0)
		goto fail;
	if (f == 1) {
		at_err_set(e, EX_DATAERR, "user \"%s\" already exists", em);
		goto fail;
	}
	if (google_sub != NULL) {
		f = user_row(db, "google_sub = $1", google_sub, &u, e);
		if (f < 0)
			goto fail;
		if (f == 1) {
			at_err_set(e, EX_DATAERR,
				   "google sub already linked to user \"%s\"",
				   u.email);
			goto fail;
		}
	}
	if (insert_user(db, em, name, google_sub, tier, id_out, e) != 0)
		goto fail;
	at_json_enc_begin(&d);
	at_json_enc_key_str(&d, "email", em);
	at_json_enc_key_str(&d, "name", name ? name : "");
	at_json_enc_key_str(&d, "tier", tier);
	at_json_enc_key_bool(&d, "google_sub", google_sub != NULL);
	at_json_enc_end(&d);
	if (at_audit_append(db, id_out, actor, "user.add", d.data, e) != 0 ||
	    at_db_commit(db, e) != 0)
		goto fail;
	at_buf_release(&d);
	return 0;
fail:
	at_db_rollback(db);
	at_buf_release(&d);
	return -1;
}

int at_users_set_status(at_db *db, const char *name, const char *status,
			const char *actor, char id_out[37], int *changed,
			at_err *e)
{
	char now[24];
	at_buf d = AT_BUF_INIT;
	struct urow u;

	*changed = 0;
	if (strcmp(status, "active") != 0 && strcmp(status, "disabled") != 0)
		return at_err_set(e, EX_SOFTWARE, "bad status");
	if (at_db_act_as_platform(db, e) != 0 || at_db_begin(db, e) != 0)
		return -1;
	if (user_by_name(db, name, &u, e) != 0)
		goto fail;
	snprintf(id_out, 37, "%s", u.id);
	if (strcmp(u.status, status) != 0) {
		const char *p[3] = {u.id, status, now};
		now_str(now);
		if (at_db_exec(db,
			       "UPDATE users SET status = $2, updated_ms = $3 "
			       "WHERE id = $1",
			       3, p, e) != 1) {
			if (e->code == 0)
				at_err_set(e, EX_SOFTWARE, "update user");
			goto fail;
		}
		at_json_enc_begin(&d);
		at_json_enc_key_str(&d, "status", status);
		at_json_enc_key_str(&d, "previous", u.status);
		at_json_enc_end(&d);
		if (at_audit_append(db, u.id, actor,
				    strcmp(status, "active") == 0
					? "user.enable"
					: "user.disable",
				    d.data, e) != 0)
			goto fail;
		*changed = 1;
	}
	if (at_db_commit(db, e) != 0)
		goto fail;
	at_buf_release(&d);
	return 0;
fail:
	*changed = 0;
	at_db_rollback(db);
	at_buf_release(&d);
	return -1;
}

static void enc_int_col(at_buf *b, const char *key, const char *v)
{
	int64_t n;

	if (v != NULL && at_util_parse_i64(v, &n) == 0)
		at_json_enc_key_i64(b, key, n);
	else
		at_json_enc_key_null(b, key);
}

int at_users_list(at_db *db, const char *only_id, at_buf *out, int *count,
		  at_err *e)
{
	const char *scope = at_db_acting_user(db);
	const char *p[1];
	at_db_res *r;
	int i, n;

	*count = 0;
	if (scope != NULL) {
		if (only_id != NULL && strcmp(only_id, scope) != 0)
			return 0;
		only_id = scope;
	}
	p[0] = only_id;
	r = at_db_query(
	    db,
	    "SELECT u.id, u.email, u.name, u.google_sub, u.tier, u.status, "
	    "u.created_ms, u.updated_ms, c.user_id, c.api_key, "
	    "c.broker_user_id, c.egress_ip, CASE WHEN "
	    "c.access_token_encrypted IS NULL THEN 0 ELSE 1 END, "
	    "c.token_date, c.ready_status, c.updated_ms FROM users u LEFT "
	    "JOIN broker_credentials c ON c.user_id = u.id WHERE CAST($1 AS "
	    "text) IS NULL OR CAST(u.id AS text) = CAST($1 AS text) ORDER BY "
	    "u.email",
	    1, p, e);
	if (r == NULL)
		return -1;
	n = at_db_res_rows(r);
	for (i = 0; i < n; i++) {
		at_json_enc_begin(out);
		at_json_enc_key_str(out, "id", at_db_res_get(r, i, 0));
		at_json_enc_key_str(out, "email", at_db_res_get(r, i, 1));
		at_json_enc_key_str(out, "name", at_db_res_get(r, i, 2));
		at_json_enc_key_str(out, "google_sub", at_db_res_get(r, i, 3));
		at_json_enc_key_str(out, "tier", at_db_res_get(r, i, 4));
		at_json_enc_key_str(out, "status", at_db_res_get(r, i, 5));
		enc_int_col(out, "created_ms", at_db_res_get(r, i, 6));
		enc_int_col(out, "updated_ms", at_db_res_get(r, i, 7));
		if (at_db_res_get(r, i, 8) == NULL) {
			at_json_enc_key_null(out, "credentials");
		} else {
			const char *t = at_db_res_get(r, i, 12);
			at_json_enc_key_obj(out, "credentials");
			at_json_enc_key_str(out, "api_key",
					    at_db_res_get(r, i, 9));
			at_json_enc_key_str(out, "broker_user_id",
					    at_db_res_get(r, i, 10));
			at_json_enc_key_str(out, "egress_ip",
					    at_db_res_get(r, i, 11));
			at_json_enc_key_bool(out, "has_access_token",
					     t != NULL && strcmp(t, "1") == 0);
			at_json_enc_key_str(out, "token_date",
					    at_db_res_get(r, i, 13));
			at_json_enc_key_str(out, "ready_status",
					    at_db_res_get(r, i, 14));
			enc_int_col(out, "updated_ms", at_db_res_get(r, i, 15));
			at_json_enc_end(out);
		}
		at_json_enc_end(out);
		at_buf_putc(out, '\n');
	}
	at_db_res_free(r);
	*count = n;
	return 0;
}

/* ---- credentials ----------------------------------------------------------
 */

void at_users_wipe_free(void *p, size_t len)
{
	if (p == NULL)
		return;
	explicit_bzero(p, len);
	free(p);
}

void at_users_creds_wipe(struct at_users_creds *c)
{
	explicit_bzero(c, sizeof(*c));
}

int at_users_secret_read(const char *what, const char *path, char **buf,
			 size_t *len, at_err *e)
{
	int is_stdin = path == NULL || strcmp(path, "-") == 0;
	const char *name = is_stdin ? "<stdin>" : path;
	char *b = NULL;
	size_t n = 0;
	struct stat st;
	int fd;

	*buf = NULL;
	*len = 0;
	fd = is_stdin ? 0 : open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return at_err_set(e, errno == ENOENT ? EX_NOINPUT : EX_IOERR,
				  "%s %s: %s", what, name, strerror(errno));
	if (!is_stdin) {
		if (fstat(fd, &st) != 0) {
			at_err_set(e, EX_IOERR, "%s %s: %s", what, name,
				   strerror(errno));
			goto fail;
		}
		if (!S_ISREG(st.st_mode)) {
			at_err_set(e, EX_CONFIG, "%s %s: not a regular file",
				   what, name);
			goto fail;
		}
		if (st.st_mode & 077) {
			at_err_set(e, EX_CONFIG,
				   "%s %s: permissions %04o, must not be "
				   "readable by group or others",
				   what, name, (unsigned)(st.st_mode & 07777));
			goto fail;
		}
	}
	b = at_xmalloc(CREDS_MAX + 1);
	for (;;) {
		ssize_t r = read(fd, b + n, CREDS_MAX + 1 - n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			at_err_set(e, EX_IOERR, "%s: %s", name,
				   strerror(errno));
			goto fail;
		}
		if (r == 0)
			break;
		n += (size_t)r;
		if (n > CREDS_MAX) {
			at_err_set(e, EX_DATAERR, "%s: larger than %d bytes",
				   name, CREDS_MAX);
			goto fail;
		}
	}
	b[n] = '\0';
	if (!is_stdin)
		close(fd);
	*buf = b;
	*len = n;
	return 0;
fail:
	at_users_wipe_free(b, CREDS_MAX + 1);
	if (!is_stdin)
		close(fd);
	return -1;
}

static const char *const creds_keys[] = {
    "api_key",	"api_secret", "totp_secret", "broker_user_id",
    "password", "egress_ip",  NULL};

/* Copy one string member into buf (cap bytes).  Returns 1 present, 0
 * absent, -1 error. */
static int creds_str(const struct at_json_flat *fl, const char *key,
		     int required, char *buf, size_t cap, const char *where,
		     at_err *e)
{
	size_t n = 0;
	int r = at_json_flat_str(fl, key, buf, cap, &n, e);

	if (r < 0)
		return at_err_prefix(e, "%s", where);
	if (r == 0) {
		if (!required)
			return 0;
		return at_err_set(e, EX_DATAERR, "%s: field \"%s\": missing",
				  where, key);
	}
	if (n == 0)
		return at_err_set(e, EX_DATAERR,
				  "%s: field \"%s\": must not be empty", where,
				  key);
	return 1;
}

static int all_chars(const char *s, int (*ok)(int))
{
	for (; *s; s++)
		if (!ok((unsigned char)*s))
			return 0;
	return 1;
}

static int api_key_char(int c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9') || c == '_' || c == '-';
}

static int graph_char(int c)
{
	return c > ' ' && c < 0x7f;
}

static int no_ctl_char(int c)
{
	return c >= ' ' && c != 0x7f;
}

static int broker_id_ok(const char *s)
{
	size_t i = 0, l, d;

	while (s[i] >= 'A' && s[i] <= 'Z')
		i++;
	l = i;
	while (s[i] >= '0' && s[i] <= '9')
		i++;
	d = i - l;
	return s[i] == '\0' && l >= 2 && l <= 4 && d >= 3 && d <= 6;
}

int at_users_creds_parse(const char *json, size_t len, const char *where,
			 struct at_users_creds *c, at_err *e)
{
	struct at_json_flat fl;
	unsigned char *key = NULL;
	size_t keylen = 0;
	int i, r;

	memset(c, 0, sizeof(*c));
	if (at_json_flat_parse(json, len, &fl, e) != 0) {
		at_err_prefix(e, "%s", where);
		goto fail;
	}
	for (i = 0; i < fl.n; i++) {
		const char *const *k;
		for (k = creds_keys; *k; k++)
			if (at_json_flat_find(&fl, *k) == &fl.f[i])
				break;
		if (*k == NULL) {
			at_err_set(
			    e, EX_DATAERR, "%s: unknown field \"%.*s\"", where,
			    (int)(fl.f[i].key_len > 64 ? 64 : fl.f[i].key_len),
			    fl.f[i].key);
			goto fail;
		}
	}
	if (creds_str(&fl, "api_key", 1, c->api_key, sizeof(c->api_key), where,
		      e) < 0)
		goto fail;
	if (!all_chars(c->api_key, api_key_char)) {
		at_err_set(e, EX_DATAERR,
			   "%s: field \"api_key\": only letters, digits, '_' "
			   "and '-' allowed",
			   where);
		goto fail;
	}
	if (creds_str(&fl, "api_secret", 1, c->api_secret,
		      sizeof(c->api_secret), where, e) < 0)
		goto fail;
	if (!all_chars(c->api_secret, graph_char)) {
		at_err_set(e, EX_DATAERR,
			   "%s: field \"api_secret\": blank, control or "
			   "non-ascii character",
			   where);
		goto fail;
	}
	if (creds_str(&fl, "totp_secret", 1, c->totp_secret,
		      sizeof(c->totp_secret), where, e) < 0)
		goto fail;
	if (at_totp_parse_secret(c->totp_secret, &key, &keylen, e) != 0) {
		at_err_set(e, EX_DATAERR,
			   "%s: field \"totp_secret\": not valid base32",
			   where);
		goto fail;
	}
	at_totp_free_key(key, keylen);
	key = NULL;
	if (keylen < 10) {
		at_err_set(e, EX_DATAERR,
			   "%s: field \"totp_secret\": shorter than 10 bytes "
			   "(16 base32 characters)",
			   where);
		goto fail;
	}
	if (creds_str(&fl, "broker_user_id", 1, c->broker_user_id,
		      sizeof(c->broker_user_id), where, e) < 0)
		goto fail;
	if (!broker_id_ok(c->broker_user_id)) {
		at_err_set(e, EX_DATAERR,
			   "%s: field \"broker_user_id\": expected 2-4 "
			   "capital letters then 3-6 digits (e.g. AB1234)",
			   where);
		goto fail;
	}
	if (creds_str(&fl, "password", 1, c->password, sizeof(c->password),
		      where, e) < 0)
		goto fail;
	if (!all_chars(c->password, no_ctl_char)) {
		at_err_set(e, EX_DATAERR,
			   "%s: field \"password\": control character", where);
		goto fail;
	}
	r = creds_str(&fl, "egress_ip", 0, c->egress_ip, sizeof(c->egress_ip),
		      where, e);
	if (r < 0)
		goto fail;
	if (r == 1) {
		unsigned char a[16];
		char canon[INET6_ADDRSTRLEN];
		int af = strchr(c->egress_ip, ':') ? AF_INET6 : AF_INET;
		if (inet_pton(af, c->egress_ip, a) != 1 ||
		    inet_ntop(af, a, canon, sizeof(canon)) == NULL) {
			at_err_set(e, EX_DATAERR,
				   "%s: field \"egress_ip\": not an ipv4 or "
				   "ipv6 address",
				   where);
			goto fail;
		}
		snprintf(c->egress_ip, sizeof(c->egress_ip), "%s", canon);
	}
	explicit_bzero(&fl, sizeof(fl));
	return 0;
fail:
	explicit_bzero(&fl, sizeof(fl));
	at_users_creds_wipe(c);
	return -1;
}

/* Decrypt a stored token into a malloc'd secret.  -1 with e on failure. */
static int dec(const at_fernet_keys *k, const char *tok, unsigned char **pt,
	       size_t *n, at_err *e)
{
	return at_fernet_decrypt(k, tok, 0, (uint64_t)time(NULL), pt, n, e);
}

static int same_secret(const unsigned char *a, size_t n, const char *b)
{
	size_t m = strlen(b), i;
	unsigned char d = 0;

	if (n != m)
		return 0;
	for (i = 0; i < n; i++)
		d |= (unsigned char)(a[i] ^ (unsigned char)b[i]);
	return d == 0;
}

static int opt_eq(const char *a, const char *b)
{
	if (a == NULL || *a == '\0')
		return b == NULL || *b == '\0';
	return b != NULL && strcmp(a, b) == 0;
}

int at_users_set_credentials(at_db *db, const char *user_id,
			     const struct at_users_creds *c,
			     const at_fernet_keys *k, const char *actor,
			     at_buf *changed, at_err *e)
{
	static const char *const names[] = {"api_key",	   "api_secret",
					    "totp_secret", "broker_user_id",
					    "password",	   "egress_ip"};
	const char *scope = at_db_acting_user(db);
	const char *plain[3] = {c->api_secret, c->totp_secret, c->password};
	char *tok[3] = {NULL, NULL, NULL}, now[24];
	int ch[6] = {0, 0, 0, 0, 0, 0}, exists, any = 0, drop = 0, i;
	at_buf d = AT_BUF_INIT;
	at_db_res *r = NULL;

	if (scope != NULL && strcmp(scope, user_id) != 0)
		return at_err_set(e, EX_NOPERM,
				  "credentials: acting for another user");
	if (at_db_begin(db, e) != 0)
		return -1;
	{
		const char *p[1] = {user_id};
		r = at_db_query(db,
				"SELECT api_key, api_secret_encrypted, "
				"totp_secret_encrypted, broker_user_id, "
				"password_encrypted, egress_ip FROM "
				"broker_credentials WHERE user_id = $1",
				1, p, e);
	}
	if (r == NULL)
		goto fail;
	exists = at_db_res_rows(r) == 1;
	if (exists) {
		static const int col[3] = {1, 2, 4}, idx[3] = {1, 2, 4};
		ch[0] = strcmp(at_db_res_get(r, 0, 0), c->api_key) != 0;
		ch[3] = strcmp(at_db_res_get(r, 0, 3), c->broker_user_id) != 0;
		ch[5] = !opt_eq(at_db_res_get(r, 0, 5), c->egress_ip);
		for (i = 0; i < 3; i++) {
			unsigned char *pt = NULL;
			size_t n = 0;
			if (dec(k, at_db_res_get(r, 0, col[i]), &pt, &n, e) !=
			    0) {
				at_err_set(e, EX_CONFIG,
					   "stored credentials of this user "
					   "cannot be decrypted with the "
					   "given fernet keys (wrong key?)");
				goto fail;
			}
			ch[idx[i]] = !same_secret(pt, n, plain[i]);
			at_fernet_free_secret(pt, n);
		}
	} else {
		for (i = 0; i < 5; i++)
			ch[i] = 1;
		ch[5] = c->egress_ip[0] != '\0';
	}
	at_db_res_free(r);
	r = NULL;
	for (i = 0; i < 6; i++)
		any |= ch[i];
	drop = exists && (ch[0] || ch[1] || ch[3] || ch[4]);
	if (changed != NULL) {
		at_buf_putc(changed, '[');
		for (i = 0; i < 6; i++) {
			if (!ch[i])
				continue;
			if (changed->data[changed->len - 1] != '[')
				at_buf_putc(changed, ',');
			at_json_enc_str(changed, names[i], strlen(names[i]));
		}
		at_buf_putc(changed, ']');
	}
	if (!any) {
		if (at_db_commit(db, e) != 0)
			goto fail;
		return 0;
	}
	for (i = 0; i < 3; i++) {
		tok[i] = at_fernet_encrypt(k, plain[i], strlen(plain[i]), e);
		if (tok[i] == NULL)
			goto fail;
	}
	now_str(now);
	{
		const char *p[8] = {user_id,
				    c->api_key,
				    tok[0],
				    tok[1],
				    c->broker_user_id,
				    tok[2],
				    c->egress_ip[0] ? c->egress_ip : NULL,
				    now};
		int64_t n;
		if (!exists)
			n = at_db_exec(
			    db,
			    "INSERT INTO broker_credentials (user_id, api_key, "
			    "api_secret_encrypted, totp_secret_encrypted, "
			    "broker_user_id, password_encrypted, egress_ip, "
			    "updated_ms) VALUES ($1, $2, $3, $4, $5, $6, $7, "
			    "$8)",
			    8, p, e);
		else if (drop)
			n = at_db_exec(
			    db,
			    "UPDATE broker_credentials SET api_key = $2, "
			    "api_secret_encrypted = $3, totp_secret_encrypted "
			    "= $4, broker_user_id = $5, password_encrypted = "
			    "$6, egress_ip = $7, updated_ms = $8, "
			    "access_token_encrypted = NULL, token_date = NULL, "
			    "token_issued_ms = NULL, ready_status = NULL, "
			    "ready_message = NULL, ready_ms = NULL WHERE "
			    "user_id = $1",
			    8, p, e);
		else
			n = at_db_exec(
			    db,
			    "UPDATE broker_credentials SET api_key = $2, "
			    "api_secret_encrypted = $3, totp_secret_encrypted "
			    "= $4, broker_user_id = $5, password_encrypted = "
			    "$6, egress_ip = $7, updated_ms = $8 WHERE user_id "
			    "= $1",
			    8, p, e);
		if (n != 1) {
			if (n >= 0)
				at_err_set(e, EX_NOUSER,
					   "credentials: user not visible in "
					   "this scope");
			goto fail;
		}
	}
	at_json_enc_begin(&d);
	at_buf_puts(&d, "\"fields\":[");
	for (i = 0; i < 6; i++) {
		if (!ch[i])
			continue;
		if (d.data[d.len - 1] != '[')
			at_buf_putc(&d, ',');
		at_json_enc_str(&d, names[i], strlen(names[i]));
	}
	at_buf_putc(&d, ']');
	at_json_enc_key_bool(&d, "created", !exists);
	at_json_enc_key_bool(&d, "access_token_dropped", drop);
	at_json_enc_end(&d);
	if (at_audit_append(db, user_id, actor, "credentials.set", d.data, e) !=
		0 ||
	    at_db_commit(db, e) != 0)
		goto fail;
	for (i = 0; i < 3; i++)
		free(tok[i]);
	at_buf_release(&d);
	return 0;
fail:
	at_db_rollback(db);
	at_db_res_free(r);
	for (i = 0; i < 3; i++)
		free(tok[i]);
	at_buf_release(&d);
	return -1;
}

int at_users_rotate_key(at_db *db, const at_fernet_keys *k, const char *actor,
			int *users, int *secrets, at_err *e)
{
	static const char *const field[4] = {"api_secret", "totp_secret",
					     "password", "access_token"};
	at_db_res *r = NULL;
	char *tok[4] = {NULL, NULL, NULL, NULL};
	at_buf d = AT_BUF_INIT;
	int n, i, j, nsec = 0;

	*users = *secrets = 0;
	if (at_db_act_as_platform(db, e) != 0 || at_db_begin(db, e) != 0)
		return -1;
	r = at_db_query(db,
			at_db_kind(db) == AT_DB_POSTGRES
			    ? "SELECT c.user_id, u.email, "
			      "c.api_secret_encrypted, "
			      "c.totp_secret_encrypted, c.password_encrypted, "
			      "c.access_token_encrypted FROM "
			      "broker_credentials c JOIN users u ON u.id = "
			      "c.user_id ORDER BY u.email FOR UPDATE OF c"
			    : "SELECT c.user_id, u.email, "
			      "c.api_secret_encrypted, "
			      "c.totp_secret_encrypted, c.password_encrypted, "
			      "c.access_token_encrypted FROM "
			      "broker_credentials c JOIN users u ON u.id = "
			      "c.user_id ORDER BY u.email",
			0, NULL, e);
	if (r == NULL)
		goto fail;
	n = at_db_res_rows(r);
	for (i = 0; i < n; i++) {
		const char *uid = at_db_res_get(r, i, 0);
		const char *email = at_db_res_get(r, i, 1);
		int cnt = 0;
		for (j = 0; j < 4; j++) {
			const char *old = at_db_res_get(r, i, 2 + j);
			unsigned char *pt = NULL;
			size_t len = 0;
			if (old == NULL)
				continue;
			if (dec(k, old, &pt, &len, e) != 0) {
				at_err_set(e, EX_DATAERR,
					   "user \"%s\" (%s): field \"%s\": "
					   "cannot be decrypted with any key; "
					   "nothing rotated",
					   email, uid, field[j]);
				goto fail;
			}
			tok[j] = at_fernet_encrypt(k, pt, len, e);
			at_fernet_free_secret(pt, len);
			if (tok[j] == NULL)
				goto fail;
			cnt++;
		}
		{
			const char *p[5] = {uid, tok[0], tok[1], tok[2],
					    tok[3]};
			if (at_db_exec(db,
				       "UPDATE broker_credentials SET "
				       "api_secret_encrypted = $2, "
				       "totp_secret_encrypted = $3, "
				       "password_encrypted = $4, "
				       "access_token_encrypted = $5 WHERE "
				       "user_id = $1",
				       5, p, e) != 1) {
				if (e->code == 0)
					at_err_set(e, EX_SOFTWARE,
						   "rotate: update failed");
				goto fail;
			}
		}
		at_buf_reset(&d);
		at_json_enc_begin(&d);
		at_buf_puts(&d, "\"fields\":[");
		for (j = 0; j < 4; j++) {
			if (tok[j] == NULL)
				continue;
			if (d.data[d.len - 1] != '[')
				at_buf_putc(&d, ',');
			at_json_enc_str(&d, field[j], strlen(field[j]));
		}
		at_buf_putc(&d, ']');
		at_json_enc_end(&d);
		if (at_audit_append(db, uid, actor, "credentials.rotate",
				    d.data, e) != 0)
			goto fail;
		for (j = 0; j < 4; j++) {
			free(tok[j]);
			tok[j] = NULL;
		}
		nsec += cnt;
	}
	at_buf_reset(&d);
	at_json_enc_begin(&d);
	at_json_enc_key_i64(&d, "users", n);
	at_json_enc_key_i64(&d, "secrets", nsec);
	at_json_enc_key_i64(&d, "keys", (int64_t)at_fernet_keys_count(k));
	at_json_enc_end(&d);
	if (at_audit_append(db, NULL, actor, "fernet.rotate_key", d.data, e) !=
		0 ||
	    at_db_commit(db, e) != 0)
		goto fail;
	at_db_res_free(r);
	at_buf_release(&d);
	*users = n;
	*secrets = nsec;
	return 0;
fail:
	at_db_rollback(db);
	at_db_res_free(r);
	for (j = 0; j < 4; j++)
		free(tok[j]);
	at_buf_release(&d);
	return -1;
}

/* ---- sign-in --------------------------------------------------------------
 */

const char *at_users_signin_action_name(enum at_users_signin_action a)
{
	switch (a) {
	case AT_USERS_SIGNIN_LINKED:
		return "linked";
	case AT_USERS_SIGNIN_CREATED:
		return "created";
	default:
		return "existing";
	}
}

static int link_sub(at_db *db, const struct urow *u, const char *sub,
		    const char *actor, at_err *e)
{
	char now[24];
	const char *p[3] = {u->id, sub, now};
	at_buf d = AT_BUF_INIT;
	int rc;

	now_str(now);
	if (at_db_exec(db,
		       "UPDATE users SET google_sub = $2, updated_ms = $3 "
		       "WHERE id = $1 AND google_sub IS NULL",
		       3, p, e) != 1) {
		if (e->code == 0)
			at_err_set(e, EX_TEMPFAIL,
				   "user \"%s\" changed meanwhile", u->email);
		return -1;
	}
	at_json_enc_begin(&d);
	at_json_enc_key_str(&d, "via", "google");
	at_json_enc_end(&d);
	rc = at_audit_append(db, u->id, actor, "user.signin_link", d.data, e);
	at_buf_release(&d);
	return rc;
}

int at_users_signin(at_db *db, const char *sub, const char *email,
		    const char *name, const char *want, const char *actor,
		    char id_out[37], enum at_users_signin_action *action,
		    at_err *e)
{
	char em[256];
	struct urow bysub, u;
	at_buf d = AT_BUF_INIT;
	int fs, f;

	*action = AT_USERS_SIGNIN_EXISTING;
	if (at_users_check_sub(sub, e) != 0 ||
	    at_users_check_email(email, e) != 0 ||
	    at_users_check_name(name, e) != 0)
		return at_err_prefix(e, "id token");
	lower_copy(em, sizeof(em), email);
	if (at_db_act_as_platform(db, e) != 0 || at_db_begin(db, e) != 0)
		return -1;
	fs = user_row(db, "google_sub = $1", sub, &bysub, e);
	if (fs < 0)
		goto fail;
	if (want != NULL) {
		if (user_by_name(db, want, &u, e) != 0)
			goto fail;
		if (fs == 1 && strcmp(bysub.id, u.id) != 0) {
			at_err_set(e, EX_NOPERM,
				   "this google account is already linked to "
				   "another user (\"%s\")",
				   bysub.email);
			goto fail;
		}
		if (fs == 0 && u.has_sub) {
			at_err_set(e, EX_NOPERM,
				   "user \"%s\" is linked to another google "
				   "account",
				   u.email);
			goto fail;
		}
	} else if (fs == 1) {
		u = bysub;
	} else {
		f = user_row(db, "lower(email) = $1", em, &u, e);
		if (f < 0)
			goto fail;
		if (f == 1 && u.has_sub) {
			at_err_set(e, EX_NOPERM,
				   "user \"%s\" is linked to another google "
				   "account",
				   u.email);
			goto fail;
		}
		if (f == 0) {
			if (insert_user(db, em, name, sub, "FREE", id_out, e) !=
			    0)
				goto fail;
			at_json_enc_begin(&d);
			at_json_enc_key_str(&d, "via", "google");
			at_json_enc_key_str(&d, "email", em);
			at_json_enc_end(&d);
			if (at_audit_append(db, id_out, actor,
					    "user.signin_create", d.data,
					    e) != 0)
				goto fail;
			*action = AT_USERS_SIGNIN_CREATED;
			goto commit;
		}
	}
	if (strcmp(u.status, "active") != 0) {
		at_err_set(e, EX_NOPERM, "user \"%s\" is disabled", u.email);
		goto fail;
	}
	snprintf(id_out, 37, "%s", u.id);
	if (fs == 0) {
		if (link_sub(db, &u, sub, actor, e) != 0)
			goto fail;
		*action = AT_USERS_SIGNIN_LINKED;
	}
commit:
	if (at_db_commit(db, e) != 0)
		goto fail;
	at_buf_release(&d);
	return 0;
fail:
	at_db_rollback(db);
	at_buf_release(&d);
	*action = AT_USERS_SIGNIN_EXISTING;
	return -1;
}
