/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The gateway's durable state in SQLite (WAL, synchronous=FULL for acknowledged writes):
 * a schema_version table with numbered migrations, and typed accessors per table.
 * Updates of mutable records are compare-and-swap on a revision number: a caller that
 * read rev N writes only if the row still has rev N (ERR_CONFLICT otherwise).
 */
#ifndef OS_STORE_H
#define OS_STORE_H

#include <stdbool.h>
#include <stdint.h>

struct err;
struct store;

/* Opens path. create=false refuses a missing file (ERR_NOTFOUND); a file that is not a
 * database, or fails the quick integrity check, is ERR_INVALID and is never modified. */
int store_open(const char *path, bool create, struct store **out, struct err *e);
void store_close(struct store *st);
/* Applies pending migrations in one transaction each. A database from a newer version is
 * refused. */
int store_migrate(struct store *st, struct err *e);
int store_schema_version(struct store *st, int *version, struct err *e);

struct gw_settings {
	char name[128];
	char cpus[32];      /* "4.0" */
	char memory[32];    /* "16g" */
	int64_t max_sandboxes;
	int64_t created_ms;
	int64_t last_health_ms;
	char last_error[512];
	int64_t rev;
};

/* The single gateway row (created by the first migration with the seed's defaults). */
int store_gateway_get(struct store *st, struct gw_settings *out, struct err *e);
/* Writes cpus, memory, max_sandboxes, last_error if the row still has in->rev; bumps rev. */
int store_gateway_update(struct store *st, const struct gw_settings *in, struct err *e);
int store_gateway_health(struct store *st, int64_t now_ms, struct err *e);

/* Generic helpers for the per-table files. */
struct sqlite3 *store_db(struct store *st);
int store_exec(struct store *st, const char *sql, struct err *e);
int store_begin(struct store *st, struct err *e);
int store_commit(struct store *st, struct err *e);
/*
 * Commits made while not durable are not flushed on their own (WAL, synchronous=NORMAL):
 * still atomic and in order, but a power loss may undo the last of them. The next durable
 * commit flushes them too. For state that is derived again from the running system.
 */
int store_set_durable(struct store *st, bool durable, struct err *e);
void store_rollback(struct store *st);

#endif
