/*
 * schema: the numbered migrations of each dialect, embedded from sql/ at
 * build time (scripts/embed-sql).  Arrays end with a {0, NULL, NULL} entry.
 */
#ifndef AT_SCHEMA_H
#define AT_SCHEMA_H

#include <stddef.h>

struct at_schema_migration {
	int version;
	const char *name;
	const char *sql;
};

extern const struct at_schema_migration at_schema_sqlite[];
extern const struct at_schema_migration at_schema_postgres[];

#endif
