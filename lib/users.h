/*
 * users: finding tenants.  Everywhere a user is named, its email or its id
 * works.
 */
#ifndef AT_USERS_H
#define AT_USERS_H

#include "db.h"
#include "err.h"

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

#endif
