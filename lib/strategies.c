#include "strategies.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit.h"
#include "json.h"
#include "util.h"

/* The columns of a strategy, in this order, for row_line(). */
#define COLS                                                                   \
	"id, name, strategy_type, status, version, config, created_ms, "       \
	"updated_ms"

enum {
	C_ID,
	C_NAME,
	C_TYPE,
	C_STATUS,
	C_VERSION,
	C_CONFIG,
	C_CREATED,
	C_UPDATED
};

int at_strategies_check_name(const char *name, at_err *e)
{
	size_t n = name ? strlen(name) : 0;

	if (n == 0)
		return at_err_set(e, EX_DATAERR, "strategy name is empty");
	if (n > AT_STRATEGIES_NAME_MAX)
		return at_err_set(e, EX_DATAERR,
				  "strategy name is longer than %d characters",
				  AT_STRATEGIES_NAME_MAX);
	if (!isalnum((unsigned char)name[0]))
		return at_err_set(e, EX_DATAERR,
				  "strategy name must start with a letter or "
				  "digit");
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)name[i];

		if (!(isalnum(c) || c == '.' || c == '_' || c == '-'))
			return at_err_set(
			    e, EX_DATAERR,
			    "strategy name may hold only letters, "
			    "digits, '.', '_' and '-'");
	}
	if (at_util_is_uuid(name))
		return at_err_set(e, EX_DATAERR,
				  "strategy name must not look like an id");
	return 0;
}

static int64_t num(const char *s)
{
	int64_t v = 0;

	if (s == NULL || at_util_parse_i64(s, &v) != 0)
		return 0;
	return v;
}

/*
 * Append the stored config text as normalised JSON (re-validated; a config
 * an older schema accepted but this one does not is shown as stored).
 */
static void enc_config(at_buf *b, const char *text)
{
	struct at_strategy_config c;
	at_err e;
	jv v;

	if (at_strategy_parse(text, strlen(text), NULL, &c, &e) == 0) {
		at_strategy_to_json(&c, b);
		return;
	}
	if (at_json_parse(text, strlen(text), &v, NULL, &e) == 0) {
		char *s = at_json_dump(v);

		at_buf_puts(b, s ? s : "null");
		free(s);
		return;
	}
	at_buf_puts(b, "null");
}

static void row_line(at_buf *b, const char *user_id, const at_db_res *r, int i)
{
	at_json_enc_begin(b);
	at_json_enc_key_str(b, "id", at_db_res_get(r, i, C_ID));
	at_json_enc_key_str(b, "user_id", user_id);
	at_json_enc_key_str(b, "name", at_db_res_get(r, i, C_NAME));
	at_json_enc_key_str(b, "strategy_type", at_db_res_get(r, i, C_TYPE));
	at_json_enc_key_str(b, "status", at_db_res_get(r, i, C_STATUS));
	at_json_enc_key_i64(b, "version", num(at_db_res_get(r, i, C_VERSION)));
	at_buf_puts(b, ",\"config\":");
	enc_config(b, at_db_res_get(r, i, C_CONFIG));
	at_json_enc_key_i64(b, "created_ms",
			    num(at_db_res_get(r, i, C_CREATED)));
	at_json_enc_key_i64(b, "updated_ms",
			    num(at_db_res_get(r, i, C_UPDATED)));
	at_json_enc_end(b);
	at_buf_putc(b, '\n');
}

static int is_pg(at_db *db)
{
	return at_db_kind(db) == AT_DB_POSTGRES;
}

/*
 * The strategy ref of user_id (one row of COLS), locked FOR UPDATE on
 * PostgreSQL when lock.  Unknown (or another tenant's) is EX_NOINPUT.
 */
static at_db_res *find(at_db *db, const char *user_id, const char *ref,
		       int lock, at_err *e)
{
	char id[37];
	const char *p[2] = {user_id, ref};
	at_db_res *r;
	at_buf sql = AT_BUF_INIT;

	if (ref == NULL || *ref == '\0') {
		at_err_set(e, EX_USAGE, "no strategy named");
		return NULL;
	}
	at_buf_puts(&sql, "SELECT " COLS " FROM strategies WHERE user_id = $1");
	if (at_util_is_uuid(ref)) {
		for (int i = 0; i < 36; i++)
			id[i] = (char)tolower((unsigned char)ref[i]);
		id[36] = '\0';
		p[1] = id;
		at_buf_puts(&sql, " AND id = $2");
	} else {
		at_buf_puts(&sql, " AND name = $2");
	}
	if (lock && is_pg(db))
		at_buf_puts(&sql, " FOR UPDATE");
	r = at_db_query(db, sql.data, 2, p, e);
	at_buf_release(&sql);
	if (r == NULL)
		return NULL;
	if (at_db_res_rows(r) != 1) {
		char q[80];

		/* the name is untrusted: keep the message one short line */
		snprintf(q, sizeof(q), "%s", ref);
		for (char *s = q; *s; s++)
			if ((unsigned char)*s < 0x20 || *s == '"')
				*s = '?';
		at_db_res_free(r);
		at_err_set(e, EX_NOINPUT, "unknown strategy \"%s\"", q);
		return NULL;
	}
	return r;
}

static int emit_one(at_db *db, const char *user_id, const char *ref,
		    at_buf *out, at_err *e)
{
	at_db_res *r = find(db, user_id, ref, 0, e);

	if (r == NULL)
		return -1;
	row_line(out, user_id, r, 0);
	at_db_res_free(r);
	return 0;
}

static int insert_version(at_db *db, const char *user_id, const char *sid,
			  int64_t version, const char *config,
			  const char *actor, const char *change, const char *ms,
			  at_err *e)
{
	char vid[37], ver[24];
	const char *p[8];

	at_util_uuid4(vid);
	snprintf(ver, sizeof(ver), "%lld", (long long)version);
	p[0] = vid;
	p[1] = sid;
	p[2] = user_id;
	p[3] = ver;
	p[4] = config;
	p[5] = actor;
	p[6] = change;
	p[7] = ms;
	return at_db_exec(db,
			  "INSERT INTO strategy_versions (id, strategy_id, "
			  "user_id, version, config, changed_by, change, "
			  "created_ms) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
			  8, p, e) < 0
		   ? -1
		   : 0;
}

/* Audit detail {"strategy_id","name","version"[,"changed"][,"from","to"]}. */
static int audit(at_db *db, const char *user_id, const char *actor,
		 const char *action, const char *sid, const char *name,
		 int64_t version, const char *changed, const char *from,
		 const char *to, at_err *e)
{
	at_buf d = AT_BUF_INIT;
	int rc;

	at_json_enc_begin(&d);
	at_json_enc_key_str(&d, "strategy_id", sid);
	at_json_enc_key_str(&d, "name", name);
	at_json_enc_key_i64(&d, "version", version);
	if (changed != NULL)
		at_json_enc_key_raw(&d, "changed", changed);
	if (from != NULL) {
		at_json_enc_key_str(&d, "from", from);
		at_json_enc_key_str(&d, "to", to);
	}
	at_json_enc_end(&d);
	rc = at_audit_append(db, user_id, actor, action, d.data, e);
	at_buf_release(&d);
	return rc;
}

int at_strategies_add(at_db *db, const char *user_id, const char *name,
		      const struct at_strategy_config *c, const char *actor,
		      at_buf *out, at_err *e)
{
	at_buf cfg = AT_BUF_INIT, changed = AT_BUF_INIT;
	char sid[37], ms[24];
	const char *p[6];
	char *taken = NULL;
	jv none = jv_object(), after = jv_invalid();
	int rc = -1;

	if (at_strategies_check_name(name, e) != 0)
		goto out;
	at_strategy_to_json(c, &cfg);
	if (at_json_parse(cfg.data, cfg.len, &after, NULL, e) != 0)
		goto out;
	at_strategy_changed_keys(none, after, &changed);
	at_util_uuid4(sid);
	snprintf(ms, sizeof(ms), "%lld", (long long)at_util_now_ms());
	if (at_db_begin(db, e) != 0)
		goto out;
	p[0] = user_id;
	p[1] = name;
	taken = at_db_query_value(db,
				  "SELECT id FROM strategies WHERE user_id = "
				  "$1 AND name = $2",
				  2, p, e);
	if (taken != NULL) {
		at_err_set(e, EX_DATAERR, "strategy \"%s\" already exists",
			   name);
		goto fail;
	}
	if (e->code != 0)
		goto fail;
	p[0] = sid;
	p[1] = user_id;
	p[2] = name;
	p[3] = at_strategy_type_name(c->type);
	p[4] = cfg.data;
	p[5] = ms;
	if (at_db_exec(db,
		       "INSERT INTO strategies (id, user_id, name, "
		       "strategy_type, config, version, status, created_ms, "
		       "updated_ms) VALUES ($1, $2, $3, $4, $5, 1, 'stopped', "
		       "$6, $6)",
		       6, p, e) < 0 ||
	    insert_version(db, user_id, sid, 1, cfg.data, actor, "add", ms,
			   e) != 0 ||
	    audit(db, user_id, actor, "strategy.add", sid, name, 1,
		  changed.data, NULL, NULL, e) != 0 ||
	    at_db_commit(db, e) != 0)
		goto fail;
	rc = emit_one(db, user_id, sid, out, e);
	goto out;
fail:
	at_db_rollback(db);
out:
	free(taken);
	jv_free(none);
	jv_free(after);
	at_buf_release(&cfg);
	at_buf_release(&changed);
	return rc;
}

/* 1 when strategy_type, instrument or expiry differ. */
static int identity_changed(jv before, jv after)
{
	static const char *const keys[] = {"strategy_type", "instrument",
					   "expiry"};

	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		jv a = jv_object_get(jv_copy(before), jv_string(keys[i]));
		jv b = jv_object_get(jv_copy(after), jv_string(keys[i]));

		if (!jv_equal(a, b))
			return 1;
	}
	return 0;
}

int at_strategies_update(at_db *db, const char *user_id, const char *ref,
			 const struct at_strategy_config *c, const char *actor,
			 at_buf *out, at_err *e)
{
	at_buf cfg = AT_BUF_INIT, changed = AT_BUF_INIT;
	char sid[37], name[AT_STRATEGIES_NAME_MAX + 1], ms[24], ver[24];
	const char *p[6];
	at_db_res *r = NULL;
	jv before = jv_invalid(), after = jv_invalid();
	int64_t version;
	int rc = -1, n;

	at_strategy_to_json(c, &cfg);
	if (at_json_parse(cfg.data, cfg.len, &after, NULL, e) != 0)
		goto out;
	if (at_db_begin(db, e) != 0)
		goto out;
	r = find(db, user_id, ref, 1, e);
	if (r == NULL)
		goto fail;
	snprintf(sid, sizeof(sid), "%s", at_db_res_get(r, 0, C_ID));
	snprintf(name, sizeof(name), "%s", at_db_res_get(r, 0, C_NAME));
	version = num(at_db_res_get(r, 0, C_VERSION)) + 1;
	if (at_json_parse(at_db_res_get(r, 0, C_CONFIG),
			  strlen(at_db_res_get(r, 0, C_CONFIG)), &before,
			  "ledger", e) != 0)
		goto fail;
	n = at_strategy_changed_keys(before, after, &changed);
	if (n < 0) { /* a stored config that is not an object: all changed */
		jv none = jv_object();

		at_buf_reset(&changed);
		n = at_strategy_changed_keys(none, after, &changed);
		jv_free(none);
	}
	if (n == 0) { /* nothing to change: write nothing */
		at_db_rollback(db);
		row_line(out, user_id, r, 0);
		rc = 0;
		goto out;
	}
	if (strcmp(at_db_res_get(r, 0, C_STATUS), "stopped") != 0 &&
	    identity_changed(before, after)) {
		at_err_set(e, EX_DATAERR,
			   "strategy \"%s\" is %s: stop it before changing "
			   "strategy_type, instrument or expiry",
			   name, at_db_res_get(r, 0, C_STATUS));
		goto fail;
	}
	snprintf(ms, sizeof(ms), "%lld", (long long)at_util_now_ms());
	snprintf(ver, sizeof(ver), "%lld", (long long)version);
	p[0] = cfg.data;
	p[1] = at_strategy_type_name(c->type);
	p[2] = ver;
	p[3] = ms;
	p[4] = sid;
	p[5] = user_id;
	if (at_db_exec(db,
		       "UPDATE strategies SET config = $1, strategy_type = $2, "
		       "version = $3, updated_ms = $4 WHERE id = $5 AND "
		       "user_id = $6",
		       6, p, e) != 1) {
		if (e->code == 0)
			at_err_set(e, EX_SOFTWARE, "strategy \"%s\" vanished",
				   name);
		goto fail;
	}
	if (insert_version(db, user_id, sid, version, cfg.data, actor, "update",
			   ms, e) != 0 ||
	    audit(db, user_id, actor, "strategy.update", sid, name, version,
		  changed.data, NULL, NULL, e) != 0 ||
	    at_db_commit(db, e) != 0)
		goto fail;
	rc = emit_one(db, user_id, sid, out, e);
	goto out;
fail:
	at_db_rollback(db);
out:
	at_db_res_free(r);
	jv_free(before);
	jv_free(after);
	at_buf_release(&cfg);
	at_buf_release(&changed);
	return rc;
}

/* Whether start may proceed: an active user, and a slot under the cap. */
static int start_allowed(at_db *db, const char *user_id, const char *from,
			 const char *name, at_err *e)
{
	const char *p[1] = {user_id};
	at_db_res *u;
	char *cap = NULL, *active = NULL;
	int rc = -1;

	/* lock the user's row: concurrent starts for one user queue here */
	u = at_db_query(db,
			is_pg(db)
			    ? "SELECT status, tier FROM users WHERE id = "
			      "$1 FOR UPDATE"
			    : "SELECT status, tier FROM users WHERE id = $1",
			1, p, e);
	if (u == NULL)
		return -1;
	if (at_db_res_rows(u) != 1) {
		at_err_set(e, EX_NOUSER, "unknown user \"%s\"", user_id);
		goto out;
	}
	if (strcmp(at_db_res_get(u, 0, 0), "active") != 0) {
		at_err_set(e, EX_NOPERM,
			   "user is %s: cannot start strategy \"%s\"",
			   at_db_res_get(u, 0, 0), name);
		goto out;
	}
	if (strcmp(from, "paused") == 0) { /* already holds its slot */
		rc = 0;
		goto out;
	}
	p[0] = at_db_res_get(u, 0, 1);
	cap = at_db_query_value(db,
				"SELECT max_running_strategies FROM "
				"subscription_tiers WHERE tier = $1",
				1, p, e);
	if (cap == NULL) {
		if (e->code == 0)
			at_err_set(e, EX_CONFIG, "unknown tier \"%s\"", p[0]);
		goto out;
	}
	p[0] = user_id;
	active = at_db_query_value(db,
				   "SELECT count(*) FROM strategies WHERE "
				   "user_id = $1 AND status IN ('running', "
				   "'paused')",
				   1, p, e);
	if (active == NULL) {
		if (e->code == 0)
			at_err_set(e, EX_SOFTWARE,
				   "count of strategies failed");
		goto out;
	}
	if (num(active) >= num(cap)) {
		at_err_set(e, EX_NOPERM,
			   "tier %s allows %lld running or paused "
			   "strateg%s and %lld %s: stop one before starting "
			   "\"%s\"",
			   at_db_res_get(u, 0, 1), (long long)num(cap),
			   num(cap) == 1 ? "y" : "ies", (long long)num(active),
			   num(active) == 1 ? "is" : "are", name);
		goto out;
	}
	rc = 0;
out:
	free(cap);
	free(active);
	at_db_res_free(u);
	return rc;
}

int at_strategies_set_status(at_db *db, const char *user_id, const char *ref,
			     enum at_strategies_action a, const char *actor,
			     at_buf *out, at_err *e)
{
	static const char *const verbs[] = {"start", "pause", "stop"};
	static const char *const actions[] = {
	    "strategy.start", "strategy.pause", "strategy.stop"};
	char sid[37], name[AT_STRATEGIES_NAME_MAX + 1], from[16], ms[24];
	const char *to, *p[4];
	at_db_res *r = NULL;
	int rc = -1;

	if ((int)a < 0 || (int)a > 2)
		return at_err_set(e, EX_SOFTWARE, "bad strategy action");
	if (at_db_begin(db, e) != 0)
		return -1;
	r = find(db, user_id, ref, 1, e);
	if (r == NULL)
		goto fail;
	snprintf(sid, sizeof(sid), "%s", at_db_res_get(r, 0, C_ID));
	snprintf(name, sizeof(name), "%s", at_db_res_get(r, 0, C_NAME));
	snprintf(from, sizeof(from), "%s", at_db_res_get(r, 0, C_STATUS));
	switch (a) {
	case AT_STRATEGIES_START:
		to = "running";
		if (strcmp(from, "running") == 0) {
			at_err_set(e, EX_DATAERR,
				   "strategy \"%s\" is already running", name);
			goto fail;
		}
		if (start_allowed(db, user_id, from, name, e) != 0)
			goto fail;
		break;
	case AT_STRATEGIES_PAUSE:
		to = "paused";
		if (strcmp(from, "running") != 0) {
			at_err_set(e, EX_DATAERR,
				   "cannot pause strategy \"%s\": it is %s, "
				   "not running",
				   name, from);
			goto fail;
		}
		break;
	default:
		to = "stopped";
		if (strcmp(from, "stopped") == 0) { /* nothing to do */
			at_db_rollback(db);
			row_line(out, user_id, r, 0);
			rc = 0;
			goto out;
		}
		break;
	}
	snprintf(ms, sizeof(ms), "%lld", (long long)at_util_now_ms());
	p[0] = to;
	p[1] = ms;
	p[2] = sid;
	p[3] = user_id;
	if (at_db_exec(db,
		       "UPDATE strategies SET status = $1, updated_ms = $2 "
		       "WHERE id = $3 AND user_id = $4",
		       4, p, e) != 1) {
		if (e->code == 0)
			at_err_set(e, EX_SOFTWARE, "cannot %s \"%s\"", verbs[a],
				   name);
		goto fail;
	}
	if (audit(db, user_id, actor, actions[a], sid, name,
		  num(at_db_res_get(r, 0, C_VERSION)), NULL, from, to,
		  e) != 0 ||
	    at_db_commit(db, e) != 0)
		goto fail;
	rc = emit_one(db, user_id, sid, out, e);
	goto out;
fail:
	at_db_rollback(db);
out:
	at_db_res_free(r);
	return rc;
}

int at_strategies_list(at_db *db, const char *user_id, at_buf *out, at_err *e)
{
	const char *p[1] = {user_id};
	at_db_res *r = at_db_query(db,
				   "SELECT " COLS " FROM strategies WHERE "
				   "user_id = $1 ORDER BY name",
				   1, p, e);

	if (r == NULL)
		return -1;
	for (int i = 0; i < at_db_res_rows(r); i++)
		row_line(out, user_id, r, i);
	at_db_res_free(r);
	return 0;
}

int at_strategies_show(at_db *db, const char *user_id, const char *ref,
		       at_buf *out, at_err *e)
{
	return emit_one(db, user_id, ref, out, e);
}

int at_strategies_history(at_db *db, const char *user_id, const char *ref,
			  at_buf *out, at_err *e)
{
	at_db_res *s = find(db, user_id, ref, 0, e), *r;
	const char *p[2];

	if (s == NULL)
		return -1;
	p[0] = user_id;
	p[1] = at_db_res_get(s, 0, C_ID);
	r = at_db_query(db,
			"SELECT version, config, changed_by, change, "
			"created_ms FROM strategy_versions WHERE user_id = $1 "
			"AND strategy_id = $2 ORDER BY version",
			2, p, e);
	if (r == NULL) {
		at_db_res_free(s);
		return -1;
	}
	for (int i = 0; i < at_db_res_rows(r); i++) {
		at_json_enc_begin(out);
		at_json_enc_key_str(out, "strategy_id", p[1]);
		at_json_enc_key_str(out, "name", at_db_res_get(s, 0, C_NAME));
		at_json_enc_key_i64(out, "version",
				    num(at_db_res_get(r, i, 0)));
		at_json_enc_key_str(out, "change", at_db_res_get(r, i, 3));
		at_json_enc_key_str(out, "changed_by", at_db_res_get(r, i, 2));
		at_json_enc_key_i64(out, "created_ms",
				    num(at_db_res_get(r, i, 4)));
		at_buf_puts(out, ",\"config\":");
		enc_config(out, at_db_res_get(r, i, 1));
		at_json_enc_end(out);
		at_buf_putc(out, '\n');
	}
	at_db_res_free(r);
	at_db_res_free(s);
	return 0;
}
