/*
 * at-user: tenants — add, list, show, disable, enable, broker credentials
 * (secrets from stdin or a 0600 file, never argv), Fernet key rotation and
 * Google sign-in (OAuth 2.0 device authorization grant).
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "cli.h"
#include "db.h"
#include "fernet.h"
#include "json.h"
#include "log.h"
#include "oidc.h"
#include "users.h"

static const char *tool = "at-user";

static void usage(FILE *f)
{
	fprintf(
	    f,
	    "usage: at-user [--db URL] [--user USER] command [args]\n"
	    "       at-user --help | --version\n"
	    "\n"
	    "  add --email E --name N [--google-sub S] [--tier T]\n"
	    "  list                      one JSON line per user\n"
	    "  show USER                 one user as a JSON line\n"
	    "  disable USER | enable USER\n"
	    "  set-credentials USER [--file F]\n"
	    "                            broker credentials as one JSON object "
	    "from\n"
	    "                            stdin or a 0600 file (never argv)\n"
	    "  rotate-key                re-encrypt every secret under the "
	    "first key\n"
	    "  signin [USER] [--client-id ID] [--client-secret-file F]\n"
	    "         [--device-url U] [--token-url U] [--jwks-url U] "
	    "[--issuer I]\n"
	    "                            Google sign-in (device flow): create "
	    "or link\n"
	    "  genkey                    print a new Fernet key\n"
	    "\n"
	    "  USER      an email or a user id\n"
	    "  --db URL  sqlite:PATH, PATH, postgres://... (default: $AT_DB, "
	    "else\n"
	    "            $AT_HOME/at.db)\n"
	    "  --user U  act in tenant U's scope: list, show and "
	    "set-credentials\n"
	    "            see only that tenant\n");
}

struct opts {
	const char *db, *user, *email, *name, *sub, *tier, *file;
	const char *client_id, *secret_file, *device_url, *token_url;
	const char *jwks_url, *issuer;
};

static int emit(at_buf *b, at_err *e)
{
	int rc = 0;

	if (b->len && fwrite(b->data, 1, b->len, stdout) != b->len)
		rc = -1;
	if (fflush(stdout) != 0)
		rc = -1;
	at_buf_reset(b);
	if (rc != 0)
		return at_err_set(e, EX_IOERR, "stdout: write failed");
	return 0;
}

/* Print the user id's JSON line as seen in the current scope. */
static int show_one(at_db *db, const char *id, const char *name, at_err *e)
{
	at_buf b = AT_BUF_INIT;
	int n = 0, rc;

	rc = at_users_list(db, id, &b, &n, e);
	if (rc == 0 && n != 1)
		rc = at_err_set(e, EX_NOUSER, "unknown user \"%.100s\"", name);
	if (rc == 0)
		rc = emit(&b, e);
	at_buf_release(&b);
	return rc;
}

/* Scope: the --user tenant when given, else the platform. */
static int scope(at_db *db, const struct opts *o, char uid[37], at_err *e)
{
	if (o->user != NULL)
		return at_users_act_as(db, o->user, uid, NULL, e);
	uid[0] = '\0';
	return at_db_act_as_platform(db, e);
}

static int cmd_add(at_db *db, const struct opts *o, at_err *e)
{
	char id[37];

	if (o->email == NULL || o->name == NULL)
		return at_err_set(e, EX_USAGE, "add needs --email and --name");
	if (at_users_add(db, o->email, o->name, o->sub, o->tier, at_cli_actor(),
			 id, e) != 0)
		return -1;
	return show_one(db, id, o->email, e);
}

static int cmd_list(at_db *db, const struct opts *o, at_err *e)
{
	at_buf b = AT_BUF_INIT;
	char uid[37];
	int n = 0, rc;

	rc = scope(db, o, uid, e);
	if (rc == 0)
		rc = at_users_list(db, NULL, &b, &n, e);
	if (rc == 0)
		rc = emit(&b, e);
	at_buf_release(&b);
	return rc;
}

static int cmd_show(at_db *db, const struct opts *o, const char *name,
		    at_err *e)
{
	char uid[37], id[37];

	if (scope(db, o, uid, e) != 0 || at_users_resolve(db, name, id, e) != 0)
		return -1;
	return show_one(db, id, name, e);
}

static int cmd_status(at_db *db, const char *name, const char *status,
		      at_err *e)
{
	char id[37];
	int changed = 0;
	at_buf b = AT_BUF_INIT;
	int rc;

	if (at_users_set_status(db, name, status, at_cli_actor(), id, &changed,
				e) != 0)
		return -1;
	at_json_enc_begin(&b);
	at_json_enc_key_str(&b, "id", id);
	at_json_enc_key_str(&b, "status", status);
	at_json_enc_key_bool(&b, "changed", changed);
	at_json_enc_end(&b);
	at_buf_putc(&b, '\n');
	rc = emit(&b, e);
	at_buf_release(&b);
	return rc;
}

static int cmd_set_credentials(at_db *db, const struct opts *o,
			       const char *name, at_err *e)
{
	at_fernet_keys *k = NULL;
	struct at_users_creds c;
	char id[37], id2[37], *in = NULL;
	size_t len = 0;
	at_buf ch = AT_BUF_INIT, b = AT_BUF_INIT;
	int rc = -1;

	memset(&c, 0, sizeof(c));
	if (o->user != NULL) {
		/* a tenant may only set its own credentials */
		if (at_users_act_as(db, o->user, id, NULL, e) != 0 ||
		    at_users_resolve(db, name, id2, e) != 0)
			goto out;
		if (strcmp(id, id2) != 0) {
			at_err_set(e, EX_NOUSER, "unknown user \"%.100s\"",
				   name);
			goto out;
		}
	} else if (at_users_act_as(db, name, id, NULL, e) != 0) {
		goto out;
	}
	if ((k = at_fernet_keys_from_env(e)) == NULL)
		goto out;
	unsetenv("AT_FERNET_KEY");
	if (o->file == NULL && isatty(0))
		fprintf(stderr,
			"%s: reading the credentials JSON object from "
			"the terminal; end with ctrl-d\n",
			tool);
	if (at_users_secret_read("credentials file", o->file, &in, &len, e) !=
		0 ||
	    at_users_creds_parse(
		in, len, o->file && strcmp(o->file, "-") ? o->file : "<stdin>",
		&c, e) != 0 ||
	    at_users_set_credentials(db, id, &c, k, at_cli_actor(), &ch, e) !=
		0)
		goto out;
	at_json_enc_begin(&b);
	at_json_enc_key_str(&b, "id", id);
	at_json_enc_key_raw(&b, "changed", ch.data);
	at_json_enc_end(&b);
	at_buf_putc(&b, '\n');
	rc = emit(&b, e);
out:
	at_users_creds_wipe(&c);
	at_users_wipe_free(in, AT_USERS_SECRET_MAX + 1);
	at_fernet_keys_free(k);
	at_buf_release(&ch);
	at_buf_release(&b);
	return rc;
}

static int cmd_rotate(at_db *db, at_err *e)
{
	at_fernet_keys *k = at_fernet_keys_from_env(e);
	at_buf b = AT_BUF_INIT;
	int users = 0, secrets = 0, rc;

	if (k == NULL)
		return -1;
	unsetenv("AT_FERNET_KEY");
	rc = at_users_rotate_key(db, k, at_cli_actor(), &users, &secrets, e);
	if (rc == 0) {
		at_json_enc_begin(&b);
		at_json_enc_key_i64(&b, "users", users);
		at_json_enc_key_i64(&b, "secrets", secrets);
		at_json_enc_key_i64(&b, "keys",
				    (int64_t)at_fernet_keys_count(k));
		at_json_enc_end(&b);
		at_buf_putc(&b, '\n');
		rc = emit(&b, e);
	}
	at_fernet_keys_free(k);
	at_buf_release(&b);
	return rc;
}

static const char *pick(const char *flag, const char *env, const char *def)
{
	const char *v = getenv(env);

	if (flag != NULL)
		return flag;
	return v != NULL && *v != '\0' ? v : def;
}

/* The client secret: AT_OIDC_CLIENT_SECRET, else a 0600 file (flag, else
 * AT_OIDC_CLIENT_SECRET_FILE), else none.  *buf owns it. */
static int client_secret(const struct opts *o, char **buf, const char **out,
			 at_err *e)
{
	const char *env = getenv("AT_OIDC_CLIENT_SECRET");
	const char *file =
	    pick(o->secret_file, "AT_OIDC_CLIENT_SECRET_FILE", NULL);
	size_t len = 0;

	*buf = NULL;
	*out = NULL;
	if (o->secret_file == NULL && env != NULL && *env != '\0') {
		*buf = at_xmalloc(AT_USERS_SECRET_MAX + 1);
		snprintf(*buf, AT_USERS_SECRET_MAX + 1, "%s", env);
		unsetenv("AT_OIDC_CLIENT_SECRET");
	} else if (file != NULL) {
		if (at_users_secret_read("client secret file", file, buf, &len,
					 e) != 0)
			return -1;
		while (len > 0 &&
		       ((*buf)[len - 1] == '\n' || (*buf)[len - 1] == '\r' ||
			(*buf)[len - 1] == ' '))
			(*buf)[--len] = '\0';
	} else {
		return 0;
	}
	*out = *buf;
	return 0;
}

static int cmd_signin(at_db *db, const struct opts *o, const char *want,
		      at_err *e)
{
	struct at_oidc_config c;
	struct at_oidc_device d;
	struct at_oidc_expect x;
	struct at_oidc_claims cl;
	at_oidc_jwks *jwks = NULL;
	char *secret = NULL, *idt = NULL, id[37];
	enum at_users_signin_action act;
	const char *scale = getenv("AT_OIDC_POLL_SCALE");
	at_buf b = AT_BUF_INIT;
	int rc = -1;

	memset(&c, 0, sizeof(c));
	memset(&d, 0, sizeof(d));
	memset(&cl, 0, sizeof(cl));
	c.device_url = pick(o->device_url, "AT_OIDC_DEVICE_URL",
			    AT_OIDC_GOOGLE_DEVICE_URL);
	c.token_url =
	    pick(o->token_url, "AT_OIDC_TOKEN_URL", AT_OIDC_GOOGLE_TOKEN_URL);
	c.jwks_url =
	    pick(o->jwks_url, "AT_OIDC_JWKS_URL", AT_OIDC_GOOGLE_JWKS_URL);
	c.issuer = pick(o->issuer, "AT_OIDC_ISSUER", AT_OIDC_GOOGLE_ISSUER);
	c.client_id = pick(o->client_id, "AT_OIDC_CLIENT_ID", NULL);
	if (scale != NULL && *scale != '\0') {
		char *end;
		c.poll_scale = strtod(scale, &end);
		if (*end != '\0' || !(c.poll_scale > 0 && c.poll_scale <= 1))
			return at_err_set(e, EX_CONFIG,
					  "AT_OIDC_POLL_SCALE: expected a "
					  "number in (0, 1]");
	}
	if (c.client_id == NULL)
		return at_err_set(e, EX_CONFIG,
				  "no oidc client id: use --client-id or "
				  "AT_OIDC_CLIENT_ID");
	if (at_oidc_check_url("device url", c.device_url, e) != 0 ||
	    at_oidc_check_url("token url", c.token_url, e) != 0 ||
	    at_oidc_check_url("jwks url", c.jwks_url, e) != 0 ||
	    client_secret(o, &secret, &c.client_secret, e) != 0)
		goto out;
	if (want != NULL) {
		char tmp[37];
		/* fail before asking anyone to sign in */
		if (at_db_act_as_platform(db, e) != 0 ||
		    at_users_resolve(db, want, tmp, e) != 0)
			goto out;
	}
	if (at_oidc_device_start(&c, &d, e) != 0)
		goto out;
	fprintf(stderr,
		"%s: to sign in, visit %s and enter the code %s\n"
		"%s: (the code expires in %lld seconds)\n",
		tool, d.verification_url, d.user_code, tool,
		(long long)d.expires_in);
	fflush(stderr);
	if (at_oidc_device_wait(&c, &d, &idt, e) != 0 ||
	    at_oidc_fetch_jwks(&c, &jwks, e) != 0)
		goto out;
	x.issuer = c.issuer;
	x.client_id = c.client_id;
	x.now = (int64_t)time(NULL);
	x.skew = AT_OIDC_SKEW;
	if (at_oidc_verify(jwks, idt, strlen(idt), &x, &cl, e) != 0 ||
	    at_users_signin(db, cl.sub, cl.email, cl.name, want, at_cli_actor(),
			    id, &act, e) != 0)
		goto out;
	at_json_enc_begin(&b);
	at_json_enc_key_str(&b, "id", id);
	for (char *p = cl.email; *p; p++)
		if (*p >= 'A' && *p <= 'Z')
			*p = (char)(*p + 32);
	at_json_enc_key_str(&b, "email", cl.email);
	at_json_enc_key_str(&b, "google_sub", cl.sub);
	at_json_enc_key_str(&b, "action", at_users_signin_action_name(act));
	at_json_enc_end(&b);
	at_buf_putc(&b, '\n');
	rc = emit(&b, e);
out:
	at_users_wipe_free(secret, AT_USERS_SECRET_MAX + 1);
	at_oidc_free_token(idt);
	at_oidc_device_release(&d);
	at_oidc_jwks_free(jwks);
	at_oidc_claims_release(&cl);
	at_buf_release(&b);
	return rc;
}

static int cmd_genkey(at_err *e)
{
	char key[AT_FERNET_KEY_LEN + 1];
	int rc = 0;

	if (at_fernet_genkey(key, e) != 0)
		return -1;
	if (printf("%s\n", key) < 0 || fflush(stdout) != 0)
		rc = at_err_set(e, EX_IOERR, "stdout: write failed");
	explicit_bzero(key, sizeof(key));
	return rc;
}

/* Which options each command takes (letters of the short codes). */
static const struct {
	const char *name;
	int args_min, args_max;
	const char *opts;
	int operator_only;
} cmds[] = {
    {"add", 0, 0, "ensT", 1},	 {"list", 0, 0, "", 0},
    {"show", 1, 1, "", 0},	 {"disable", 1, 1, "", 1},
    {"enable", 1, 1, "", 1},	 {"set-credentials", 1, 1, "f", 0},
    {"rotate-key", 0, 0, "", 1}, {"signin", 0, 1, "cSDKJI", 1},
    {"genkey", 0, 0, "", 1},
};

/*
 * getopt_long accepts abbreviations ("--client-secret" for
 * "--client-secret-file") and echoes unknown options with their values;
 * both could turn a mistyped secret into a file name in a message.  Only
 * exact option names pass, and only the name is ever printed.
 */
static int exact_options(int argc, char **argv, const struct option *lo)
{
	int i;

	for (i = 1; i < argc; i++) {
		const char *a = argv[i];
		const struct option *p;
		size_t n;

		if (strcmp(a, "--") == 0)
			break;
		if (a[0] != '-' || a[1] == '\0')
			continue;
		if (a[1] != '-')
			n = 0;
		else
			n = strcspn(a + 2, "=");
		for (p = lo; n && p->name; p++)
			if (strlen(p->name) == n && !strncmp(p->name, a + 2, n))
				break;
		if (a[1] == '-' && n && p->name != NULL) {
			if (p->has_arg == required_argument && a[2 + n] == '\0')
				i++; /* its value */
			continue;
		}
		if (a[1] != '-' && (a[1] == 'h' || a[1] == 'V') && !a[2])
			continue;
		fprintf(stderr,
			"%s: usage error: unknown option \"%.*s\"; "
			"see %s --help\n",
			tool, (int)(a[1] == '-' ? 2 + n : 2), a, tool);
		return EX_USAGE;
	}
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option lo[] = {
	    {"db", required_argument, NULL, 'd'},
	    {"user", required_argument, NULL, 'u'},
	    {"email", required_argument, NULL, 'e'},
	    {"name", required_argument, NULL, 'n'},
	    {"google-sub", required_argument, NULL, 's'},
	    {"tier", required_argument, NULL, 'T'},
	    {"file", required_argument, NULL, 'f'},
	    {"client-id", required_argument, NULL, 'c'},
	    {"client-secret-file", required_argument, NULL, 'S'},
	    {"device-url", required_argument, NULL, 'D'},
	    {"token-url", required_argument, NULL, 'K'},
	    {"jwks-url", required_argument, NULL, 'J'},
	    {"issuer", required_argument, NULL, 'I'},
	    {"help", no_argument, NULL, 'h'},
	    {"version", no_argument, NULL, 'V'},
	    {NULL, 0, NULL, 0},
	};
	struct opts o;
	char given[32] = "";
	const char *cmd, *arg;
	at_err e = {0, ""};
	at_db *db = NULL;
	size_t ci, ng = 0, i;
	int c, rc, nargs;

	memset(&o, 0, sizeof(o));
	at_cli_init(tool);
	if ((rc = exact_options(argc, argv, lo)) != 0)
		return rc;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "hV", lo, NULL)) != -1) {
		switch (c) {
		case 'd':
			o.db = optarg;
			break;
		case 'u':
			o.user = optarg;
			break;
		case 'e':
			o.email = optarg;
			break;
		case 'n':
			o.name = optarg;
			break;
		case 's':
			o.sub = optarg;
			break;
		case 'T':
			o.tier = optarg;
			break;
		case 'f':
			o.file = optarg;
			break;
		case 'c':
			o.client_id = optarg;
			break;
		case 'S':
			o.secret_file = optarg;
			break;
		case 'D':
			o.device_url = optarg;
			break;
		case 'K':
			o.token_url = optarg;
			break;
		case 'J':
			o.jwks_url = optarg;
			break;
		case 'I':
			o.issuer = optarg;
			break;
		case 'h':
			usage(stdout);
			return 0;
		case 'V':
			return at_cli_version(tool);
		default:
			return at_cli_usage_error(tool,
						  "option \"%s\" needs a value",
						  argv[optind - 1]);
		}
		if (c != 'd' && c != 'u' && ng + 1 < sizeof(given) &&
		    strchr(given, c) == NULL)
			given[ng++] = (char)c;
	}
	if (optind >= argc)
		return at_cli_usage_error(tool, "missing command");
	cmd = argv[optind];
	nargs = argc - optind - 1;
	arg = nargs > 0 ? argv[optind + 1] : NULL;
	for (ci = 0; ci < sizeof(cmds) / sizeof(cmds[0]); ci++)
		if (strcmp(cmds[ci].name, cmd) == 0)
			break;
	if (ci == sizeof(cmds) / sizeof(cmds[0]))
		return at_cli_usage_error(tool, "unknown command \"%s\"", cmd);
	if (nargs < cmds[ci].args_min)
		return at_cli_usage_error(tool, "%s: missing USER", cmd);
	if (nargs > cmds[ci].args_max)
		return at_cli_usage_error(tool,
					  "%s: unexpected argument \"%s\"", cmd,
					  argv[optind + 1 + cmds[ci].args_max]);
	for (i = 0; i < ng; i++)
		if (strchr(cmds[ci].opts, given[i]) == NULL) {
			const struct option *p;
			for (p = lo; p->name && p->val != given[i]; p++)
				;
			return at_cli_usage_error(tool, "%s does not take --%s",
						  cmd, p->name ? p->name : "?");
		}
	if (o.user != NULL && cmds[ci].operator_only)
		return at_cli_usage_error(
		    tool, "%s is an operator command; --user does not apply",
		    cmd);
	if (strcmp(cmd, "genkey") == 0) {
		rc = cmd_genkey(&e);
		return rc ? at_cli_fail(tool, &e) : 0;
	}
	db = at_cli_open_ledger(o.db, &e);
	if (db == NULL)
		return at_cli_fail(tool, &e);
	if (strcmp(cmd, "add") == 0)
		rc = cmd_add(db, &o, &e);
	else if (strcmp(cmd, "list") == 0)
		rc = cmd_list(db, &o, &e);
	else if (strcmp(cmd, "show") == 0)
		rc = cmd_show(db, &o, arg, &e);
	else if (strcmp(cmd, "disable") == 0)
		rc = cmd_status(db, arg, "disabled", &e);
	else if (strcmp(cmd, "enable") == 0)
		rc = cmd_status(db, arg, "active", &e);
	else if (strcmp(cmd, "set-credentials") == 0)
		rc = cmd_set_credentials(db, &o, arg, &e);
	else if (strcmp(cmd, "rotate-key") == 0)
		rc = cmd_rotate(db, &e);
	else
		rc = cmd_signin(db, &o, arg, &e);
	at_db_close(db);
	if (rc != 0)
		return at_cli_fail(tool, &e);
	return 0;
}
