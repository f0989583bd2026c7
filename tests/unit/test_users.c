/*
 * test_users: input checks, the credentials document parser, secret file
 * permissions, and on every ledger backend: add, credentials (encrypted,
 * change detection), key rotation (all or nothing) and sign-in linking.
 */
#include <fcntl.h>
#include <sys/stat.h>
#include <time.h>

#include "buf.h"
#include "fernet.h"
#include "t.h"
#include "users.h"
#include "util.h"

#define KEY_A "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="
#define KEY_B "__79_Pv6-fj39vX08_Lx8O_u7ezr6uno5-bl5OPi4eA="
#define DOC                                                                    \
	"{\"api_key\":\"k1\",\"api_secret\":\"sec\",\"totp_secret\":"          \
	"\"JBSWY3DPEHPK3PXP\",\"broker_user_id\":\"AB1234\",\"password\":"     \
	"\"pw\"%s}"

static int parse(const char *extra, struct at_users_creds *c, at_err *e)
{
	char doc[1024];

	snprintf(doc, sizeof(doc), DOC, extra);
	return at_users_creds_parse(doc, strlen(doc), "<t>", c, e);
}

static void test_checks(void)
{
	static const char *good[] = {"a@x.test", "A.B+c@sub.x.test", NULL};
	static const char *bad[] = {"",	    "a",	  "@x.test",	"a@",
				    "a@b",  "a@@x.test",  "a b@x.test", "a@.x",
				    "a@x.", "a@x.test\n", NULL};
	at_err e;
	int i;

	for (i = 0; good[i]; i++)
		T_OK(at_users_check_email(good[i], &e) == 0, "email %s",
		     good[i]);
	for (i = 0; bad[i]; i++)
		T_OK(at_users_check_email(bad[i], &e) == -1 &&
			 e.code == EX_DATAERR,
		     "email refused: case %d", i);
	T_OK(at_users_check_sub("1234", &e) == 0 &&
		 at_users_check_sub("a b", &e) == -1 &&
		 at_users_check_sub("", &e) == -1,
	     "google sub checks");
}

static void test_parse(void)
{
	struct at_users_creds c, zero;
	at_err e;

	memset(&zero, 0, sizeof(zero));
	T_OK(parse("", &c, &e) == 0 && strcmp(c.api_key, "k1") == 0 &&
		 strcmp(c.password, "pw") == 0 && c.egress_ip[0] == '\0',
	     "valid document");
	T_OK(parse(",\"egress_ip\":\"2001:DB8:0::0:1\"", &c, &e) == 0 &&
		 strcmp(c.egress_ip, "2001:db8::1") == 0,
	     "ipv6 egress stored canonical");
	T_OK(parse(",\"egress_ip\":\"010.1.2.3\"", &c, &e) == -1 &&
		 memcmp(&c, &zero, sizeof(c)) == 0,
	     "leading-zero ipv4 refused and the struct wiped");
	T_OK(parse(",\"Password\":\"x\"", &c, &e) == -1 &&
		 strcmp(e.msg, "<t>: unknown field \"Password\"") == 0,
	     "unknown field named (%s)", e.msg);
	T_OK(parse(",\"egress_ip\":7", &c, &e) == -1 &&
		 strstr(e.msg, "field \"egress_ip\": expected string"),
	     "wrong type named (%s)", e.msg);
	T_OK(at_users_creds_parse("{}", 2, "<t>", &c, &e) == -1 &&
		 strcmp(e.msg, "<t>: field \"api_key\": missing") == 0,
	     "missing field named");
	T_OK(at_users_creds_parse("{\"api_key\":\"k1\"", 15, "<t>", &c, &e) ==
		     -1 &&
		 strstr(e.msg, "<t>: offset"),
	     "truncated json gives the offset");
	at_users_creds_wipe(&c);
}

static void test_read(void)
{
	char path[256], *buf;
	size_t len;
	at_err e;
	int fd;

	snprintf(path, sizeof(path), "%s/creds-%d.json",
		 getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp", (int)getpid());
	fd = open(path, O_CREAT | O_TRUNC | O_WRONLY, 0600);
	T_OK(fd >= 0 && write(fd, "{}", 2) == 2, "write a secret file");
	close(fd);
	chmod(path, 0604);
	T_OK(at_users_secret_read("credentials file", path, &buf, &len, &e) ==
		     -1 &&
		 e.code == EX_CONFIG && strstr(e.msg, "permissions 0604"),
	     "world-readable file refused (%s)", e.msg);
	chmod(path, 0400);
	T_OK(at_users_secret_read("credentials file", path, &buf, &len, &e) ==
		     0 &&
		 len == 2 && strcmp(buf, "{}") == 0,
	     "0400 file read");
	at_users_wipe_free(buf, AT_USERS_SECRET_MAX + 1);
	unlink(path);
	T_OK(at_users_secret_read("credentials file", path, &buf, &len, &e) ==
		     -1 &&
		 e.code == EX_NOINPUT,
	     "missing file is EX_NOINPUT");
}

static char *col(at_db *db, const char *sql, const char *id)
{
	const char *p[1] = {id};
	at_err e;

	return at_db_query_value(db, sql, 1, p, &e);
}

static void test_ledger(const char *url)
{
	at_err e;
	at_db *db = at_db_open(url, 1, &e);
	at_fernet_keys *ka = at_fernet_keys_parse(KEY_A, &e);
	at_fernet_keys *kba = at_fernet_keys_parse(KEY_B "," KEY_A, &e);
	at_fernet_keys *kb = at_fernet_keys_parse(KEY_B, &e);
	struct at_users_creds c;
	char id[37], id2[37], em[64], em2[64], *v, *v2;
	enum at_users_signin_action act;
	at_buf ch = AT_BUF_INIT;
	int applied, users, secrets;
	unsigned char *pt;
	size_t n;

	T_OK(db != NULL && at_db_migrate(db, &applied, &e) == 0,
	     "%s: ledger ready (%s)", url, e.msg);
	snprintf(em, sizeof(em), "u%d@x.test", (int)getpid());
	snprintf(em2, sizeof(em2), "v%d@x.test", (int)getpid());
	T_OK(at_users_add(db, em, "U", NULL, NULL, "test", id, &e) == 0,
	     "add (%s)", e.msg);
	T_OK(at_users_add(db, em, "U", NULL, NULL, "test", id2, &e) == -1 &&
		 strstr(e.msg, "already exists"),
	     "duplicate add refused");
	T_OK(parse("", &c, &e) == 0, "parse");
	T_OK(at_users_set_credentials(db, id, &c, ka, "test", &ch, &e) == 0 &&
		 strcmp(ch.data, "[\"api_key\",\"api_secret\",\"totp_secret\","
				 "\"broker_user_id\",\"password\"]") == 0,
	     "set credentials (%s)", ch.data ? ch.data : e.msg);
	at_buf_reset(&ch);
	T_OK(at_users_set_credentials(db, id, &c, ka, "test", &ch, &e) == 0 &&
		 strcmp(ch.data, "[]") == 0,
	     "same credentials change nothing");
	at_buf_reset(&ch);
	T_OK(at_users_set_credentials(db, id, &c, kb, "test", &ch, &e) == -1 &&
		 e.code == EX_CONFIG,
	     "a key that cannot read the stored secrets is refused");
	v = col(db,
		"SELECT password_encrypted FROM broker_credentials WHERE "
		"user_id = $1",
		id);
	T_OK(v != NULL && strstr(v, "pw") == NULL &&
		 at_fernet_decrypt(ka, v, 0, (uint64_t)time(NULL), &pt, &n,
				   &e) == 0 &&
		 n == 2 && memcmp(pt, "pw", 2) == 0,
	     "password stored encrypted under key A");
	at_fernet_free_secret(pt, n);
	free(v);

	T_OK(at_users_rotate_key(db, kba, "test", &users, &secrets, &e) == 0 &&
		 secrets >= 3,
	     "rotate to key B (%s)", e.msg);
	v = col(db,
		"SELECT totp_secret_encrypted FROM broker_credentials WHERE "
		"user_id = $1",
		id);
	T_OK(v &&
		 at_fernet_decrypt(ka, v, 0, (uint64_t)time(NULL), &pt, &n,
				   &e) == -1 &&
		 at_fernet_decrypt(kb, v, 0, (uint64_t)time(NULL), &pt, &n,
				   &e) == 0,
	     "after rotation only key B decrypts");
	at_fernet_free_secret(pt, n);
	/* a token under key A only: rotating with B alone fails, nothing
	 * changes */
	{
		char *tok = at_fernet_encrypt(ka, "tok", 3, &e);
		const char *p[2] = {id, tok};
		T_OK(at_db_act_as_platform(db, &e) == 0 &&
			 at_db_exec(db,
				    "UPDATE broker_credentials SET "
				    "access_token_encrypted = $2 WHERE "
				    "user_id = $1",
				    2, p, &e) == 1,
		     "plant an access token under key A");
		free(tok);
	}
	T_OK(at_users_rotate_key(db, kb, "test", &users, &secrets, &e) == -1 &&
		 e.code == EX_DATAERR && strstr(e.msg, em) &&
		 strstr(e.msg, "access_token"),
	     "rotation failure names user and field (%s)", e.msg);
	v2 = col(db,
		 "SELECT totp_secret_encrypted FROM broker_credentials WHERE "
		 "user_id = $1",
		 id);
	T_OK(v2 && strcmp(v, v2) == 0, "nothing was rotated");
	free(v);
	free(v2);

	/* sign-in */
	T_OK(at_users_signin(db, "sub-u", em, "U", NULL, "test", id2, &act,
			     &e) == 0 &&
		 act == AT_USERS_SIGNIN_LINKED && strcmp(id, id2) == 0,
	     "sign-in links by email (%s)", e.msg);
	T_OK(at_users_signin(db, "sub-u", "other@x.test", "U", NULL, "test",
			     id2, &act, &e) == 0 &&
		 act == AT_USERS_SIGNIN_EXISTING && strcmp(id, id2) == 0,
	     "sign-in by sub");
	T_OK(at_users_signin(db, "sub-v", em2, "V", NULL, "test", id2, &act,
			     &e) == 0 &&
		 act == AT_USERS_SIGNIN_CREATED,
	     "sign-in creates");
	T_OK(at_users_signin(db, "sub-u", em, "U", em2, "test", id2, &act,
			     &e) == -1 &&
		 e.code == EX_NOPERM,
	     "a sub linked to another user is refused");
	T_OK(at_users_signin(db, "sub-w", em, "U", NULL, "test", id2, &act,
			     &e) == -1 &&
		 e.code == EX_NOPERM,
	     "an email linked to another sub is refused");

	/* tenant scope: acting as the first user, the second is invisible */
	{
		int cnt = 0;
		at_buf out = AT_BUF_INIT;
		T_OK(at_users_act_as(db, em, id, NULL, &e) == 0 &&
			 at_users_list(db, NULL, &out, &cnt, &e) == 0 &&
			 cnt == 1 && strstr(out.data, em2) == NULL,
		     "tenant scope lists only itself");
		T_OK(at_users_set_credentials(db, id2, &c, kb, "test", NULL,
					      &e) == -1,
		     "tenant scope cannot write another's credentials");
		at_buf_release(&out);
	}
	at_users_creds_wipe(&c);
	at_buf_release(&ch);
	at_fernet_keys_free(ka);
	at_fernet_keys_free(kb);
	at_fernet_keys_free(kba);
	at_db_close(db);
}

int main(void)
{
	const char *urls[4];
	int n = t_db_urls(urls, 4), i;

	test_checks();
	test_parse();
	test_read();
	for (i = 0; i < n; i++)
		test_ledger(urls[i]);
	return t_done();
}
