#include "users.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

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
		return at_err_set(e, EX_NOUSER, "unknown user \"%s\"", name);
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
