/* SPDX-License-Identifier: Apache-2.0 */
/* SQLite state: open/refuse, migrations, the gateway row. See store.h. */
#include "store.h"
#include "lib/err.h"
#include "lib/util.h"
#include "lib/xalloc.h"

#include <errno.h>
#include <sqlite3.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

struct store {
	sqlite3 *db;
	char path[4096];
};

/* Numbered migrations; never edit one that has shipped, append a new one. */
static const char *const migrations[] = {
	/* 1: the gateway row with the seed's default limits (seeds/000: 4.0 CPUs, 16g, 20) */
	"CREATE TABLE gateway ("
	" id INTEGER PRIMARY KEY CHECK (id = 1),"
	" name TEXT NOT NULL DEFAULT '',"
	" cpus TEXT NOT NULL DEFAULT '4.0',"
	" memory TEXT NOT NULL DEFAULT '16g',"
	" max_sandboxes INTEGER NOT NULL DEFAULT 20,"
	" created_ms INTEGER NOT NULL DEFAULT 0,"
	" last_health_ms INTEGER NOT NULL DEFAULT 0,"
	" last_error TEXT NOT NULL DEFAULT '',"
	" rev INTEGER NOT NULL DEFAULT 1);"
	"INSERT INTO gateway (id, created_ms) VALUES (1, CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER));",
	/* 2: settings key/value */
	"CREATE TABLE settings (key TEXT PRIMARY KEY, value TEXT NOT NULL);",
	/* 3: sandboxes; spec is the create request as JSON */
	"CREATE TABLE sandboxes ("
	" id TEXT PRIMARY KEY,"
	" name TEXT NOT NULL UNIQUE,"
	" phase TEXT NOT NULL,"
	" spec TEXT NOT NULL,"
	" created_ms INTEGER NOT NULL,"
	" updated_ms INTEGER NOT NULL,"
	" exit_code INTEGER,"
	" reason TEXT NOT NULL DEFAULT '',"
	" supervisor_pid INTEGER NOT NULL DEFAULT 0,"
	" rev INTEGER NOT NULL DEFAULT 1);",
	/* 4: policy revisions per sandbox (reference/policy.md §8.1); file_sha is the sha256 of
	 * the YAML text as written to the sandbox, which its proxy reports back */
	"CREATE TABLE policy_revisions ("
	" sandbox_id TEXT NOT NULL,"
	" version INTEGER NOT NULL,"
	" hash TEXT NOT NULL,"
	" file_sha TEXT NOT NULL,"
	" policy TEXT NOT NULL,"
	" status TEXT NOT NULL,"
	" load_error TEXT NOT NULL DEFAULT '',"
	" created_ms INTEGER NOT NULL,"
	" loaded_ms INTEGER NOT NULL DEFAULT 0,"
	" PRIMARY KEY (sandbox_id, version));",
};

static int db_error(struct store *st, struct err *e, const char *what)
{
	return err_set(e, ERR_RUNTIME, 0, "%s in '%s': %s", what, st->path, sqlite3_errmsg(st->db));
}

int store_exec(struct store *st, const char *sql, struct err *e)
{
	char *msg = NULL;

	if (sqlite3_exec(st->db, sql, NULL, NULL, &msg) != SQLITE_OK) {
		err_set(e, ERR_RUNTIME, 0, "database error in '%s': %s", st->path,
			msg ? msg : sqlite3_errmsg(st->db));
		sqlite3_free(msg);
		return -1;
	}
	return 0;
}

int store_begin(struct store *st, struct err *e)
{
	return store_exec(st, "BEGIN IMMEDIATE", e);
}

int store_commit(struct store *st, struct err *e)
{
	return store_exec(st, "COMMIT", e);
}

int store_set_durable(struct store *st, bool durable, struct err *e)
{
	return store_exec(st, durable ? "PRAGMA synchronous=FULL" : "PRAGMA synchronous=NORMAL", e);
}

void store_rollback(struct store *st)
{
	sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
}

struct sqlite3 *store_db(struct store *st)
{
	return st->db;
}

static int check_integrity(struct store *st, struct err *e)
{
	sqlite3_stmt *q = NULL;
	int ret = -1;

	if (sqlite3_prepare_v2(st->db, "PRAGMA quick_check", -1, &q, NULL) != SQLITE_OK ||
	    sqlite3_step(q) != SQLITE_ROW) {
		err_set(e, ERR_INVALID, 0, "'%s' is not a usable database: %s", st->path,
			sqlite3_errmsg(st->db));
		goto out;
	}
	if (strcmp((const char *)sqlite3_column_text(q, 0), "ok") != 0) {
		err_set(e, ERR_INVALID, 0, "'%s' is corrupt: %s", st->path,
			(const char *)sqlite3_column_text(q, 0));
		goto out;
	}
	ret = 0;
out:
	sqlite3_finalize(q);
	return ret;
}

int store_open(const char *path, bool create, struct store **out, struct err *e)
{
	struct store *st = xcalloc(1, sizeof(*st));
	int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX | (create ? SQLITE_OPEN_CREATE : 0);
	struct stat sb;

	*out = NULL;
	snprintf(st->path, sizeof(st->path), "%s", path);
	if (!create && stat(path, &sb) < 0) {
		err_sys(e, errno == ENOENT ? ERR_NOTFOUND : ERR_RUNTIME, "cannot open database '%s'",
			path);
		goto fail;
	}
	if (sqlite3_initialize() != SQLITE_OK ||
	    sqlite3_open_v2(path, &st->db, flags, NULL) != SQLITE_OK) {
		err_set(e, ERR_RUNTIME, 0, "cannot open database '%s': %s", path,
			st->db ? sqlite3_errmsg(st->db) : "out of memory");
		goto fail;
	}
	sqlite3_busy_timeout(st->db, 5000);
	if (check_integrity(st, e) < 0)
		goto fail;
	if (store_exec(st, "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON",
		       e) < 0)
		goto fail;
	chmod(path, 0600);
	*out = st;
	return 0;
fail:
	store_close(st);
	return -1;
}

void store_close(struct store *st)
{
	if (!st)
		return;
	sqlite3_close(st->db);
	free(st);
}

int store_schema_version(struct store *st, int *version, struct err *e)
{
	sqlite3_stmt *q = NULL;
	int rc;

	*version = 0;
	if (store_exec(st, "CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)",
		       e) < 0)
		return -1;
	if (sqlite3_prepare_v2(st->db, "SELECT max(version) FROM schema_version", -1, &q, NULL) !=
	    SQLITE_OK)
		return db_error(st, e, "cannot read the schema version");
	rc = sqlite3_step(q);
	if (rc == SQLITE_ROW)
		*version = sqlite3_column_int(q, 0);
	sqlite3_finalize(q);
	return rc == SQLITE_ROW ? 0 : db_error(st, e, "cannot read the schema version");
}

int store_migrate(struct store *st, struct err *e)
{
	int have, v;
	char sql[64];

	if (store_schema_version(st, &have, e) < 0)
		return -1;
	if (have > (int)ARRAY_SIZE(migrations))
		return err_set(e, ERR_INVALID, 0,
			       "'%s' has schema version %d, newer than this openshell knows (%zu)",
			       st->path, have, ARRAY_SIZE(migrations)),
		       err_hint(e, "run the openshell version that created this gateway, or upgrade");
	for (v = have + 1; v <= (int)ARRAY_SIZE(migrations); v++) {
		snprintf(sql, sizeof(sql), "INSERT INTO schema_version VALUES (%d)", v);
		if (store_begin(st, e) < 0)
			return -1;
		if (store_exec(st, migrations[v - 1], e) < 0 || store_exec(st, sql, e) < 0) {
			store_rollback(st);
			return err_wrap(e, "migration %d failed", v);
		}
		if (store_commit(st, e) < 0)
			return -1;
	}
	return 0;
}

static void copy_col(char *dst, size_t n, sqlite3_stmt *q, int col)
{
	const unsigned char *t = sqlite3_column_text(q, col);

	snprintf(dst, n, "%s", t ? (const char *)t : "");
}

int store_gateway_get(struct store *st, struct gw_settings *out, struct err *e)
{
	sqlite3_stmt *q = NULL;
	int ret = -1;

	memset(out, 0, sizeof(*out));
	if (sqlite3_prepare_v2(st->db,
			       "SELECT name, cpus, memory, max_sandboxes, created_ms, last_health_ms,"
			       " last_error, rev FROM gateway WHERE id = 1",
			       -1, &q, NULL) != SQLITE_OK ||
	    sqlite3_step(q) != SQLITE_ROW) {
		db_error(st, e, "cannot read the gateway record");
		goto out;
	}
	copy_col(out->name, sizeof(out->name), q, 0);
	copy_col(out->cpus, sizeof(out->cpus), q, 1);
	copy_col(out->memory, sizeof(out->memory), q, 2);
	out->max_sandboxes = sqlite3_column_int64(q, 3);
	out->created_ms = sqlite3_column_int64(q, 4);
	out->last_health_ms = sqlite3_column_int64(q, 5);
	copy_col(out->last_error, sizeof(out->last_error), q, 6);
	out->rev = sqlite3_column_int64(q, 7);
	ret = 0;
out:
	sqlite3_finalize(q);
	return ret;
}

int store_gateway_update(struct store *st, const struct gw_settings *in, struct err *e)
{
	sqlite3_stmt *q = NULL;
	int ret = -1;

	if (sqlite3_prepare_v2(st->db,
			       "UPDATE gateway SET name = ?1, cpus = ?2, memory = ?3, max_sandboxes = ?4,"
			       " last_error = ?5, rev = rev + 1 WHERE id = 1 AND rev = ?6",
			       -1, &q, NULL) != SQLITE_OK) {
		db_error(st, e, "cannot update the gateway record");
		goto out;
	}
	sqlite3_bind_text(q, 1, in->name, -1, SQLITE_STATIC);
	sqlite3_bind_text(q, 2, in->cpus, -1, SQLITE_STATIC);
	sqlite3_bind_text(q, 3, in->memory, -1, SQLITE_STATIC);
	sqlite3_bind_int64(q, 4, in->max_sandboxes);
	sqlite3_bind_text(q, 5, in->last_error, -1, SQLITE_STATIC);
	sqlite3_bind_int64(q, 6, in->rev);
	if (sqlite3_step(q) != SQLITE_DONE) {
		db_error(st, e, "cannot update the gateway record");
		goto out;
	}
	if (sqlite3_changes(st->db) != 1) {
		err_set(e, ERR_CONFLICT, 0, "the gateway record changed concurrently; retry");
		goto out;
	}
	ret = 0;
out:
	sqlite3_finalize(q);
	return ret;
}

int store_gateway_health(struct store *st, int64_t now_ms, struct err *e)
{
	char sql[128];

	snprintf(sql, sizeof(sql), "UPDATE gateway SET last_health_ms = %lld WHERE id = 1",
		 (long long)now_ms);
	return store_exec(st, sql, e);
}
