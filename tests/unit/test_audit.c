/* lib/audit: the hash chain's encoding, appends, rollback, verification. */
#include "t.h"

#include "audit.h"
#include "db.h"
#include "util.h"

static void known_answers(void)
{
	char h1[65], h2[65], zero[65];

	memset(zero, '0', 64);
	zero[64] = '\0';
	/* expected values computed independently with Python's hashlib */
	at_audit_hash(zero, 1, 1764000000000, NULL, "at-db", "init", "{}", h1);
	T_EQ_STR(h1,
		 "baa926633e529611ca79aa2c87f10fe832d945b1e564ff1aa4bffc45a0e"
		 "5eed6",
		 "hash of the first row (platform event)");
	at_audit_hash(h1, 2, 1764000000001,
		      "aaaaaaaa-0000-4000-8000-00000000000a", "operator",
		      "user.add", "{\"email\":\"a\"}", h2);
	T_EQ_STR(h2,
		 "4a371c90582841b99ae13d9629c0e57eff7409ee6379917fbba59e5214"
		 "175522",
		 "hash of the second row chains the first");
	at_audit_hash(zero, 1, 1764000000000, "", "at-db", "init", "{}", h2);
	T_OK(strcmp(h1, h2) != 0, "an empty user_id hashes unlike NULL");
	at_audit_hash(zero, 1, 1764000000000, NULL, "at-dbi", "nit", "{}", h2);
	T_OK(strcmp(h1, h2) != 0, "field boundaries are part of the hash");
}

static int64_t count(at_db *db, const char *sql)
{
	at_err e = {0, ""};
	char *v = at_db_query_value(db, sql, 0, NULL, &e);
	int64_t n = -1;

	if (v)
		at_util_parse_i64(v, &n);
	free(v);
	return n;
}

static void on_ledger(const char *url)
{
	at_err e = {0, ""};
	struct at_audit_report rep;
	int applied;
	at_db *db = at_db_open(url, 1, &e);

	if (!T_OK(db != NULL, "%s: open (%s)", url, e.msg))
		return;
	T_OK(at_db_migrate(db, &applied, &e) == 0, "migrate (%s)", e.msg);
	T_OK(at_db_act_as_platform(db, &e) == 0, "platform scope (%s)", e.msg);

	for (int i = 0; i < 25; i++)
		if (at_audit_append(db, NULL, "test", "append", "{\"i\":1}",
				    &e) != 0)
			break;
	T_EQ_INT(count(db, "SELECT count(*) FROM audit_log"), 25,
		 "25 rows appended on their own");

	T_OK(at_db_begin(db, &e) == 0, "begin");
	T_OK(at_audit_append(db, NULL, "test", "in-tx", "{}", &e) == 0,
	     "append inside the caller's transaction");
	at_db_rollback(db);
	T_EQ_INT(count(db, "SELECT count(*) FROM audit_log"), 25,
		 "a rolled-back transaction takes its audit row with it");
	T_EQ_INT(count(db, "SELECT seq FROM audit_head"), 25,
		 "and the chain head with it");

	T_OK(at_db_begin(db, &e) == 0, "begin");
	T_OK(at_audit_append(db, NULL, "test", "in-tx", "{}", &e) == 0,
	     "append inside the caller's transaction");
	T_OK(at_db_commit(db, &e) == 0, "commit");
	T_EQ_INT(count(db, "SELECT count(*) FROM audit_log"), 26,
		 "a committed one keeps it");

	T_EQ_INT(at_audit_verify(db, &rep, &e), 0, "chain verifies");
	T_EQ_INT(rep.rows, 26, "every row was checked");

	T_OK(at_db_exec(db, "UPDATE audit_log SET actor = 'x' WHERE seq = 3", 0,
			NULL, &e) < 0,
	     "update rejected by the trigger");
	/* PostgreSQL refuses it twice over: no UPDATE privilege, then the
	 * trigger */
	T_OK(strstr(e.msg, "append-only") != NULL ||
		 strstr(e.msg, "permission denied") != NULL,
	     "message says why: %s", e.msg);
	T_OK(at_db_exec(db, "DELETE FROM audit_log WHERE seq = 3", 0, NULL,
			&e) < 0,
	     "delete rejected by the trigger");

	/* tamper behind the trigger's back */
	if (at_db_kind(db) == AT_DB_POSTGRES) {
		T_OK(at_db_exec_script(
			 db,
			 "RESET ROLE; ALTER TABLE audit_log DISABLE "
			 "TRIGGER audit_log_no_update; UPDATE audit_log "
			 "SET detail = '{\"i\":2}' WHERE seq = 7; ALTER "
			 "TABLE audit_log ENABLE TRIGGER "
			 "audit_log_no_update",
			 &e) == 0,
		     "tamper (%s)", e.msg);
		T_OK(at_db_act_as_platform(db, &e) == 0, "platform scope");
	} else {
		T_OK(at_db_exec_script(db,
				       "DROP TRIGGER audit_log_no_update; "
				       "UPDATE audit_log SET detail = "
				       "'{\"i\":2}' WHERE seq = 7",
				       &e) == 0,
		     "tamper (%s)", e.msg);
	}
	T_EQ_INT(at_audit_verify(db, &rep, &e), 1, "tampering is found");
	T_EQ_INT(rep.bad_seq, 7, "at the altered row");
	T_EQ_INT(rep.rows, 6, "after six good rows");
	at_db_close(db);
}

int main(void)
{
	const char *urls[4];
	int n = t_db_urls(urls, 4);

	known_answers();
	for (int i = 0; i < n; i++)
		on_ledger(urls[i]);
	return t_done();
}
