#include "audit.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "util.h"

static void put_field(at_buf *b, const char *s)
{
	if (s == NULL) {
		at_buf_puts(b, "-\n"); /* NULL differs from "" (0:) */
		return;
	}
	at_buf_printf(b, "%zu:", strlen(s));
	at_buf_puts(b, s);
	at_buf_putc(b, '\n');
}

void at_audit_hash(const char *prev_hash, int64_t seq, int64_t ts_ms,
		   const char *user_id, const char *actor, const char *action,
		   const char *detail, char out[65])
{
	at_buf b = AT_BUF_INIT;

	at_buf_puts(&b, prev_hash);
	at_buf_printf(&b, "at-audit-v1\n%" PRId64 "\n%" PRId64 "\n", seq,
		      ts_ms);
	put_field(&b, user_id);
	put_field(&b, actor);
	put_field(&b, action);
	put_field(&b, detail);
	at_util_sha256_hex(b.data, b.len, out);
	at_buf_release(&b);
}

int at_audit_append(at_db *db, const char *user_id, const char *actor,
		    const char *action, const char *detail, at_err *e)
{
	int own = !at_db_in_tx(db);
	at_db_res *r = NULL;
	char hash[65], prev[65], seqs[24], ts[24];
	int64_t seq, now = at_util_now_ms();
	const char *head_sql =
	    at_db_kind(db) == AT_DB_POSTGRES
		? "SELECT seq, hash FROM audit_head WHERE id = 1 FOR "
		  "UPDATE"
		: "SELECT seq, hash FROM audit_head WHERE id = 1";

	if (actor == NULL || action == NULL || detail == NULL)
		return at_err_set(e, EX_SOFTWARE, "audit: missing field");
	if (own && at_db_begin(db, e) != 0)
		return -1;
	r = at_db_query(db, head_sql, 0, NULL, e);
	if (r == NULL)
		goto fail;
	if (at_db_res_rows(r) != 1 ||
	    at_util_parse_i64(at_db_res_get(r, 0, 0), &seq) != 0 ||
	    strlen(at_db_res_get(r, 0, 1)) != 64) {
		at_err_set(e, EX_DATAERR,
			   "audit: chain head is missing or "
			   "malformed");
		goto fail;
	}
	snprintf(prev, sizeof(prev), "%s", at_db_res_get(r, 0, 1));
	at_db_res_free(r);
	r = NULL;
	seq++;
	at_audit_hash(prev, seq, now, user_id, actor, action, detail, hash);
	snprintf(seqs, sizeof(seqs), "%" PRId64, seq);
	snprintf(ts, sizeof(ts), "%" PRId64, now);
	{
		const char *p[8] = {seqs,   ts,	    user_id, actor,
				    action, detail, prev,    hash};
		if (at_db_exec(db,
			       "INSERT INTO audit_log (seq, ts_ms, user_id, "
			       "actor, action, detail, prev_hash, hash) VALUES "
			       "($1, $2, $3, $4, $5, $6, $7, $8)",
			       8, p, e) < 0)
			goto fail;
	}
	{
		const char *p[2] = {seqs, hash};
		if (at_db_exec(db,
			       "UPDATE audit_head SET seq = $1, hash = $2 "
			       "WHERE id = 1",
			       2, p, e) != 1) {
			if (e && e->code == 0)
				at_err_set(e, EX_SOFTWARE,
					   "audit: chain head not updated");
			goto fail;
		}
	}
	if (own && at_db_commit(db, e) != 0)
		return at_err_prefix(e, "audit");
	return 0;
fail:
	at_db_res_free(r);
	if (own)
		at_db_rollback(db);
	return at_err_prefix(e, "audit");
}

static int broken(struct at_audit_report *rep, int64_t seq, const char *id,
		  const char *why)
{
	rep->bad_seq = seq;
	snprintf(rep->bad_id, sizeof(rep->bad_id), "%s", id ? id : "");
	snprintf(rep->reason, sizeof(rep->reason), "%s", why);
	return 1;
}

int at_audit_verify(at_db *db, struct at_audit_report *rep, at_err *e)
{
	char prev[65], hash[65], after[24];
	int64_t expect = 1;
	int rc = 0;

	memset(rep, 0, sizeof(*rep));
	memset(prev, '0', 64);
	prev[64] = '\0';
	for (;;) {
		const char *p[1] = {after};
		at_db_res *r;
		int n;

		snprintf(after, sizeof(after), "%" PRId64, expect - 1);
		r = at_db_query(db,
				"SELECT seq, id, ts_ms, user_id, actor, "
				"action, detail, prev_hash, hash FROM "
				"audit_log WHERE seq > $1 ORDER BY seq LIMIT "
				"5000",
				1, p, e);
		if (r == NULL)
			return -1;
		n = at_db_res_rows(r);
		for (int i = 0; i < n && rc == 0; i++) {
			int64_t seq, ts;
			const char *id = at_db_res_get(r, i, 1);

			if (at_util_parse_i64(at_db_res_get(r, i, 0), &seq) ||
			    at_util_parse_i64(at_db_res_get(r, i, 2), &ts)) {
				rc = broken(rep, expect, id, "malformed row");
				break;
			}
			if (seq != expect) {
				char why[96];
				snprintf(why, sizeof(why),
					 "row missing: expected seq %" PRId64
					 ", found %" PRId64,
					 expect, seq);
				rc = broken(rep, expect, id, why);
				break;
			}
			if (strcmp(at_db_res_get(r, i, 7), prev) != 0) {
				rc = broken(rep, seq, id,
					    "prev_hash does not match the "
					    "previous row");
				break;
			}
			at_audit_hash(prev, seq, ts, at_db_res_get(r, i, 3),
				      at_db_res_get(r, i, 4),
				      at_db_res_get(r, i, 5),
				      at_db_res_get(r, i, 6), hash);
			if (strcmp(hash, at_db_res_get(r, i, 8)) != 0) {
				rc = broken(rep, seq, id,
					    "hash does not match the row's "
					    "content");
				break;
			}
			memcpy(prev, hash, sizeof(prev));
			rep->rows++;
			expect++;
		}
		at_db_res_free(r);
		if (rc != 0 || n < 5000)
			break;
	}
	if (rc != 0)
		return rc;
	/* The head must point at the last row: rows cut off the end of the
	 * chain leave it pointing past them. */
	{
		at_db_res *r = at_db_query(
		    db, "SELECT seq, hash FROM audit_head WHERE id = 1", 0,
		    NULL, e);
		int64_t hs = -1;
		if (r == NULL)
			return -1;
		if (at_db_res_rows(r) != 1 ||
		    at_util_parse_i64(at_db_res_get(r, 0, 0), &hs) != 0 ||
		    hs != expect - 1 ||
		    strcmp(at_db_res_get(r, 0, 1), prev) != 0) {
			char why[120];
			snprintf(why, sizeof(why),
				 "chain head (seq %" PRId64
				 ") does not match the last row (seq %" PRId64
				 "): rows removed from the end",
				 hs, expect - 1);
			rc = broken(rep, expect, NULL, why);
		}
		at_db_res_free(r);
	}
	return rc;
}
