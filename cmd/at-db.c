/*
 * at-db: create and migrate the ledger, report its status, verify the
 * audit chain.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <jv.h>

#include "audit.h"
#include "cli.h"
#include "db.h"
#include "log.h"

static const char *tool = "at-db";

static void usage(FILE *f)
{
	fprintf(f, "usage: at-db [--db URL] init | migrate | status | verify\n"
		   "       at-db --help | --version\n"
		   "\n"
		   "  init     create the ledger if missing and apply every "
		   "migration\n"
		   "  migrate  apply pending migrations to an existing ledger\n"
		   "  status   print the ledger's state as one JSON line\n"
		   "  verify   walk the audit log's hash chain\n"
		   "\n"
		   "  --db URL  sqlite:PATH, PATH, postgres://... "
		   "(default: $AT_DB, else $AT_HOME/at.db)\n");
}

static int print_json(jv v)
{
	jv s = jv_dump_string(v, 0);
	int rc = printf("%s\n", jv_string_value(s)) < 0 ? -1 : 0;

	jv_free(s);
	if (fflush(stdout) != 0)
		rc = -1;
	return rc;
}

static int cmd_migrate(const char *url, int create, at_err *e)
{
	at_db *db = at_db_open(url, create, e);
	int applied = 0, version = 0, rc;

	if (db == NULL)
		return -1;
	rc = at_db_migrate(db, &applied, e);
	if (rc == 0)
		rc = at_db_schema_version(db, &version, e);
	if (rc == 0) {
		jv o = jv_object();
		o = jv_object_set(o, jv_string("backend"),
				  jv_string(at_db_kind_name(db)));
		o = jv_object_set(o, jv_string("url"),
				  jv_string(at_db_url(db)));
		o = jv_object_set(o, jv_string("applied"), jv_number(applied));
		o = jv_object_set(o, jv_string("schema_version"),
				  jv_number(version));
		if (print_json(o) != 0)
			rc = at_err_set(e, EX_IOERR, "stdout: write failed");
	}
	at_db_close(db);
	return rc;
}

static jv count_of(at_db *db, const char *sql, at_err *e, int *rc)
{
	char *v = at_db_query_value(db, sql, 0, NULL, e);

	if (v == NULL) {
		if (e->code != 0)
			*rc = -1;
		return jv_null();
	}
	jv n = jv_number(strtod(v, NULL));
	free(v);
	return n;
}

static int cmd_status(const char *url, at_err *e)
{
	at_db *db = at_db_open(url, 0, e);
	int version = 0, latest, rc = 0;
	jv o;

	if (db == NULL)
		return -1;
	if (at_db_schema_version(db, &version, e) != 0) {
		at_db_close(db);
		return -1;
	}
	latest = at_db_schema_latest(db);
	o = jv_object();
	o = jv_object_set(o, jv_string("backend"),
			  jv_string(at_db_kind_name(db)));
	o = jv_object_set(o, jv_string("url"), jv_string(at_db_url(db)));
	o = jv_object_set(o, jv_string("schema_version"), jv_number(version));
	o = jv_object_set(o, jv_string("schema_latest"), jv_number(latest));
	o = jv_object_set(o, jv_string("pending_migrations"),
			  jv_number(at_db_schema_pending(db, version)));
	o = jv_object_set(o, jv_string("compatible"),
			  jv_bool(version == latest));
	if (version > 0 && version <= latest &&
	    at_db_act_as_platform(db, e) == 0) {
		char *ks;
		o = jv_object_set(
		    o, jv_string("users"),
		    count_of(db, "SELECT count(*) FROM users", e, &rc));
		o = jv_object_set(o, jv_string("active_users"),
				  count_of(db,
					   "SELECT count(*) FROM users WHERE "
					   "status = 'active'",
					   e, &rc));
		o = jv_object_set(o, jv_string("running_strategies"),
				  count_of(db,
					   "SELECT count(*) FROM strategies "
					   "WHERE status = 'running'",
					   e, &rc));
		o = jv_object_set(
		    o, jv_string("audit_rows"),
		    count_of(db, "SELECT seq FROM audit_head WHERE id = 1", e,
			     &rc));
		ks = at_db_query_value(db,
				       "SELECT value FROM platform_state WHERE "
				       "key = 'kill_switch'",
				       0, NULL, e);
		if (ks == NULL && e->code != 0)
			rc = -1;
		o = jv_object_set(o, jv_string("kill_switch"),
				  ks ? jv_string(ks) : jv_null());
		free(ks);
	} else if (e->code != 0) {
		rc = -1;
	}
	if (rc == 0 && print_json(o) != 0)
		rc = at_err_set(e, EX_IOERR, "stdout: write failed");
	else if (rc != 0)
		jv_free(o);
	at_db_close(db);
	return rc;
}

static int cmd_verify(const char *url, at_err *e, int *broken)
{
	at_db *db = at_cli_open_ledger(url, e);
	struct at_audit_report rep;
	int rc;
	jv o;

	if (db == NULL)
		return -1;
	if (at_db_act_as_platform(db, e) != 0) {
		at_db_close(db);
		return -1;
	}
	rc = at_audit_verify(db, &rep, e);
	at_db_close(db);
	if (rc < 0)
		return -1;
	o = jv_object();
	o = jv_object_set(o, jv_string("ok"), jv_bool(rc == 0));
	o = jv_object_set(o, jv_string("rows"), jv_number((double)rep.rows));
	if (rc == 1) {
		o = jv_object_set(o, jv_string("first_bad_seq"),
				  jv_number((double)rep.bad_seq));
		if (rep.bad_id[0])
			o = jv_object_set(o, jv_string("id"),
					  jv_string(rep.bad_id));
		o = jv_object_set(o, jv_string("reason"),
				  jv_string(rep.reason));
		*broken = 1;
		at_err_set(e, EX_DATAERR,
			   "audit chain broken at seq %lld%s%s: %s",
			   (long long)rep.bad_seq, rep.bad_id[0] ? " id " : "",
			   rep.bad_id, rep.reason);
	}
	if (print_json(o) != 0)
		return at_err_set(e, EX_IOERR, "stdout: write failed");
	return rc == 1 ? -1 : 0;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"db", required_argument, NULL, 'd'},
	    {"help", no_argument, NULL, 'h'},
	    {"version", no_argument, NULL, 'V'},
	    {NULL, 0, NULL, 0},
	};
	const char *flag_db = NULL, *cmd;
	char *url;
	at_err e = {0, ""};
	int c, rc, broken = 0;

	at_cli_init(tool);
	while ((c = getopt_long(argc, argv, "d:hV", opts, NULL)) != -1) {
		switch (c) {
		case 'd':
			flag_db = optarg;
			break;
		case 'h':
			usage(stdout);
			return 0;
		case 'V':
			return at_cli_version(tool);
		default:
			usage(stderr);
			return EX_USAGE;
		}
	}
	if (optind != argc - 1) {
		if (optind >= argc)
			return at_cli_usage_error(tool, "missing command");
		return at_cli_usage_error(tool, "unexpected argument \"%s\"",
					  argv[optind + 1]);
	}
	cmd = argv[optind];
	url = at_db_resolve_url(flag_db);
	if (strcmp(cmd, "init") == 0) {
		mode_t old = umask(077);
		rc = cmd_migrate(url, 1, &e);
		umask(old);
	} else if (strcmp(cmd, "migrate") == 0) {
		rc = cmd_migrate(url, 0, &e);
	} else if (strcmp(cmd, "status") == 0) {
		rc = cmd_status(url, &e);
	} else if (strcmp(cmd, "verify") == 0) {
		rc = cmd_verify(url, &e, &broken);
	} else {
		free(url);
		return at_cli_usage_error(tool, "unknown command \"%s\"", cmd);
	}
	free(url);
	if (rc != 0)
		return at_cli_fail(tool, &e);
	return 0;
}
