/*
 * audit: the append-only, hash-chained audit log.
 *
 * Every row carries hash = SHA-256(prev_hash || canonical(row)) where
 * canonical is "at-audit-v1\n" seq "\n" ts_ms "\n" followed by user_id,
 * actor, action and detail, each as "<byte length>:<bytes>\n" (so no two
 * different rows share an encoding).  The chain's head (last seq and hash)
 * lives in audit_head and is updated under a row lock in the same
 * transaction as the insert, so appends serialise across processes and
 * hosts.  UPDATE and DELETE on audit_log are rejected by triggers.
 *
 * detail is a compact JSON object; it must never contain a secret.
 */
#ifndef AT_AUDIT_H
#define AT_AUDIT_H

#include <stdint.h>

#include "db.h"
#include "err.h"

/*
 * Append one row.  Inside the caller's open transaction when there is one
 * (the audit row then commits or rolls back with the change it records),
 * else in a transaction of its own.  user_id may be NULL (platform event).
 */
int at_audit_append(at_db *db, const char *user_id, const char *actor,
		    const char *action, const char *detail, at_err *e)
    __attribute__((warn_unused_result));

/* The row hash as stored (64 hex chars into out). */
void at_audit_hash(const char *prev_hash, int64_t seq, int64_t ts_ms,
		   const char *user_id, const char *actor, const char *action,
		   const char *detail, char out[65]);

struct at_audit_report {
	int64_t rows;	  /* rows checked */
	int64_t bad_seq;  /* first broken row, 0 when intact */
	char bad_id[40];  /* its id */
	char reason[160]; /* what is wrong */
};

/* Walk the whole chain (platform scope on PostgreSQL).  Returns 0 when
 * intact, 1 when broken (report filled), -1 on error. */
int at_audit_verify(at_db *db, struct at_audit_report *r, at_err *e);

#endif
