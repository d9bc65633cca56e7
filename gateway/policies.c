// SPDX-License-Identifier: Apache-2.0
/* Policy revisions on the gateway side; see policies.h. */
#include "policies.h"
#include "api.h"
#include "gw.h"
#include "sandboxes.h"
#include "store.h"
#include "lib/buf.h"
#include "lib/err.h"
#include "lib/fsutil.h"
#include "lib/json.h"
#include "lib/log.h"
#include "lib/policy.h"
#include "lib/util.h"

#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define REV_COLUMNS "version, hash, status, load_error, created_ms, loaded_ms, policy"

static int db_err(struct gw *gw, struct err *e, const char *what)
{
	return err_set(e, ERR_RUNTIME, 0, "%s: %s", what, sqlite3_errmsg(store_db(gw->store)));
}

/* Loads text; on failure e says everything wrong (as much as fits). */
static int load_text(struct pol_policy *p, const char *yaml, size_t len, struct err *e)
{
	struct pol_report r;
	struct buf why = BUF_INIT;
	int ret = 0;

	pol_report_init(&r);
	if (pol_load(p, "policy", yaml, len, &r) < 0) {
		pol_report_join_errors(&r, &why);
		err_set(e, ERR_INVALID, 0, "policy contains unsafe content: %s", why.p);
		err_hint(e, "run 'openshell policy validate FILE' to see every problem with its line");
		ret = -1;
	}
	pol_report_release(&r);
	buf_release(&why);
	return ret;
}

/* load_text with the size limit first: what every policy from a client goes through. */
static int load_checked(struct pol_policy *p, const char *yaml, size_t len, struct err *e)
{
	if (len > POL_MAX_BYTES)
		return err_set(e, ERR_LIMIT, 0, "the policy is larger than %d KiB",
			       POL_MAX_BYTES / 1024);
	return load_text(p, yaml, len, e);
}

int policies_check_text(const char *yaml, size_t len, struct err *e)
{
	struct pol_policy p;

	if (load_checked(&p, yaml, len, e) < 0)
		return -1;
	pol_release(&p);
	return 0;
}

static int write_policy_file(struct gw *gw, const struct sandbox *sb, const char *yaml,
			     struct err *e)
{
	char dir[PATH_MAX], path[PATH_MAX + 16];

	if (sandbox_dir(gw, sb, dir, sizeof(dir)) < 0)
		return err_set(e, ERR_RUNTIME, ENAMETOOLONG, "state path too long");
	snprintf(path, sizeof(path), "%s/policy.yaml", dir);
	return write_file_atomic(path, yaml, strlen(yaml), 0600, e);
}

static int insert_rev(struct gw *gw, const struct sandbox *sb, int64_t version, const char *hash,
		      const char *yaml, struct err *e)
{
	sqlite3_stmt *q = NULL;
	char sha[65];
	int rc;

	sha256_hex(yaml, strlen(yaml), sha);
	if (sqlite3_prepare_v2(store_db(gw->store),
			       "INSERT INTO policy_revisions (sandbox_id, version, hash, file_sha,"
			       " policy, status, created_ms) VALUES (?1, ?2, ?3, ?4, ?5, 'PENDING', ?6)",
			       -1, &q, NULL) != SQLITE_OK)
		return db_err(gw, e, "cannot store the policy");
	sqlite3_bind_text(q, 1, sb->id, -1, SQLITE_STATIC);
	sqlite3_bind_int64(q, 2, version);
	sqlite3_bind_text(q, 3, hash, -1, SQLITE_STATIC);
	sqlite3_bind_text(q, 4, sha, -1, SQLITE_STATIC);
	sqlite3_bind_text(q, 5, yaml, -1, SQLITE_STATIC);
	sqlite3_bind_int64(q, 6, now_wall_ms());
	rc = sqlite3_step(q);
	sqlite3_finalize(q);
	if (rc == SQLITE_CONSTRAINT)
		return err_set(e, ERR_CONFLICT, 0, "the sandbox's policy changed concurrently; retry");
	return rc == SQLITE_DONE ? 0 : db_err(gw, e, "cannot store the policy");
}

int policies_initial(struct gw *gw, const struct sandbox *sb, const char *yaml, struct err *e)
{
	struct pol_policy p;
	char hash[65];

	if (load_checked(&p, yaml, strlen(yaml), e) < 0)
		return -1;
	pol_hash(&p, hash);
	pol_release(&p);
	if (insert_rev(gw, sb, 1, hash, yaml, e) < 0)
		return -1;
	return write_policy_file(gw, sb, yaml, e);
}

/* ---- statuses reported by the sandbox's proxy ---------------------------------------------- */

/* Runs sql with ?1..?3 bound to texts and ?4 to n. */
static void exec_bound(struct gw *gw, const char *sql, const char *s1, const char *s2,
		       const char *s3, int64_t n)
{
	sqlite3_stmt *q = NULL;

	if (sqlite3_prepare_v2(store_db(gw->store), sql, -1, &q, NULL) != SQLITE_OK)
		return;
	sqlite3_bind_text(q, 1, s1, -1, SQLITE_STATIC);
	sqlite3_bind_text(q, 2, s2, -1, SQLITE_STATIC);
	sqlite3_bind_text(q, 3, s3, -1, SQLITE_STATIC);
	sqlite3_bind_int64(q, 4, n);
	sqlite3_step(q);
	sqlite3_finalize(q);
}

/* "<file sha> LOADED" or "<file sha> FAILED <reason>": the pending revision with that text
 * takes the status; a newly loaded one supersedes the older ones. */
static void refresh(struct gw *gw, const struct sandbox *sb)
{
	char dir[PATH_MAX], path[PATH_MAX + 16];
	struct buf st = BUF_INIT;
	struct err e = ERR_INIT;
	char *s, *sp;

	if (sandbox_dir(gw, sb, dir, sizeof(dir)) < 0)
		return;
	snprintf(path, sizeof(path), "%s/policy.status", dir);
	if (read_file(path, 8192, &st, &e) < 0)
		goto out;
	s = str_trim(st.p);
	sp = strchr(s, ' ');
	if (!sp || sp - s != 64)
		goto out;
	*sp++ = '\0';
	if (!strcmp(sp, "LOADED")) {
		exec_bound(gw, "UPDATE policy_revisions SET status = 'LOADED', loaded_ms = ?4"
			       " WHERE sandbox_id = ?1 AND file_sha = ?2 AND status = 'PENDING'",
			   sb->id, s, NULL, now_wall_ms());
		exec_bound(gw, "UPDATE policy_revisions SET status = 'SUPERSEDED'"
			       " WHERE sandbox_id = ?1 AND status IN ('LOADED', 'PENDING') AND version <"
			       " (SELECT max(version) FROM policy_revisions WHERE sandbox_id = ?1"
			       " AND file_sha = ?2 AND status = 'LOADED')",
			   sb->id, s, NULL, 0);
	} else if (str_has_prefix(sp, "FAILED")) {
		exec_bound(gw, "UPDATE policy_revisions SET status = 'FAILED', load_error = ?3"
			       " WHERE sandbox_id = ?1 AND file_sha = ?2 AND status = 'PENDING'",
			   sb->id, s, str_trim(sp + 6), 0);
	}
out:
	buf_release(&st);
}

/* ---- reading revisions ---------------------------------------------------------------------- */

static struct json *row_json(sqlite3_stmt *q, bool with_policy)
{
	struct json *o = json_new_obj();
	const char *t;

	json_obj_add_i64(o, "version", sqlite3_column_int64(q, 0));
	json_obj_add_str(o, "hash", (const char *)sqlite3_column_text(q, 1));
	json_obj_add_str(o, "status", (const char *)sqlite3_column_text(q, 2));
	t = (const char *)sqlite3_column_text(q, 3);
	json_obj_add_str(o, "load_error", t ? t : "");
	api_add_time(o, "created_at", sqlite3_column_int64(q, 4));
	api_add_time(o, "loaded_at", sqlite3_column_int64(q, 5));
	if (with_policy)
		json_obj_add_str(o, "policy", (const char *)sqlite3_column_text(q, 6));
	return o;
}

/* The newest revision (rev 0) or revision rev; NULL with e when there is none. */
static struct json *get_rev(struct gw *gw, const struct sandbox *sb, int64_t rev, struct err *e)
{
	sqlite3_stmt *q = NULL;
	struct json *o = NULL;
	const char *sql = rev ? "SELECT " REV_COLUMNS " FROM policy_revisions"
				" WHERE sandbox_id = ?1 AND version = ?2"
			      : "SELECT " REV_COLUMNS " FROM policy_revisions"
				" WHERE sandbox_id = ?1 ORDER BY version DESC LIMIT 1";

	if (sqlite3_prepare_v2(store_db(gw->store), sql, -1, &q, NULL) != SQLITE_OK) {
		db_err(gw, e, "cannot read the policy");
		return NULL;
	}
	sqlite3_bind_text(q, 1, sb->id, -1, SQLITE_STATIC);
	if (rev)
		sqlite3_bind_int64(q, 2, rev);
	if (sqlite3_step(q) == SQLITE_ROW)
		o = row_json(q, true);
	else if (rev)
		err_set(e, ERR_NOTFOUND, 0, "sandbox '%s' has no policy revision %lld", sb->name,
			(long long)rev);
	else
		err_set(e, ERR_NOTFOUND, 0, "sandbox '%s' has no policy of its own: the restrictive "
			"default applies (no network access)", sb->name),
			err_hint(e, "set one with: openshell policy set %s --policy FILE", sb->name);
	sqlite3_finalize(q);
	return o;
}

static int open_sandbox(struct gw *gw, const char *name, struct sandbox *sb, struct err *e)
{
	if (sandboxes_get(gw, name, sb, e) < 0)
		return -1;
	refresh(gw, sb);
	return 0;
}

int policies_get(struct gw *gw, const char *name, const char *query, struct json **out,
		 struct err *e)
{
	struct sandbox sb;
	int64_t rev = 0;
	int ret = -1;

	if (api_query_int(query, "rev", 0, INT64_MAX, &rev, e) < 0 || open_sandbox(gw, name, &sb, e) < 0)
		return -1;
	*out = get_rev(gw, &sb, rev, e);
	if (*out) {
		json_obj_add_str(*out, "sandbox", sb.name);
		ret = 0;
	}
	sandbox_release(&sb);
	return ret;
}

int policies_list(struct gw *gw, const char *name, const char *query, struct json **out,
		  struct err *e)
{
	struct sandbox sb;
	sqlite3_stmt *q = NULL;
	struct json *arr;
	int64_t limit = 20;

	if (api_query_int(query, "limit", 1, 1000, &limit, e) < 0 || open_sandbox(gw, name, &sb, e) < 0)
		return -1;
	if (sqlite3_prepare_v2(store_db(gw->store),
			       "SELECT " REV_COLUMNS " FROM policy_revisions WHERE sandbox_id = ?1"
			       " ORDER BY version DESC LIMIT ?2",
			       -1, &q, NULL) != SQLITE_OK) {
		sandbox_release(&sb);
		return db_err(gw, e, "cannot list policies");
	}
	sqlite3_bind_text(q, 1, sb.id, -1, SQLITE_STATIC);
	sqlite3_bind_int64(q, 2, limit);
	arr = json_new_arr();
	while (sqlite3_step(q) == SQLITE_ROW)
		json_arr_add(arr, row_json(q, false));
	sqlite3_finalize(q);
	*out = json_new_obj();
	json_obj_add_str(*out, "sandbox", sb.name);
	json_obj_add(*out, "revisions", arr);
	sandbox_release(&sb);
	return 0;
}

/* ---- writing a revision -------------------------------------------------------------------- */

/* A sandbox that started on the built-in default: a first policy that leaves a static section
 * out keeps what the sandbox runs with, rather than "removing" it. */
static void omitted_means_default(const struct pol_policy *def, struct pol_policy *next)
{
	if (!next->has_filesystem) {
		next->has_filesystem = def->has_filesystem;
		next->include_workdir = def->include_workdir;
		next->read_only = def->read_only;
		next->n_read_only = def->n_read_only;
		next->read_write = def->read_write;
		next->n_read_write = def->n_read_write;
	}
	if (!next->has_landlock) {
		next->has_landlock = def->has_landlock;
		next->landlock_compatibility = def->landlock_compatibility;
		next->landlock_hard = def->landlock_hard;
	}
}

/* The static sections may not change (§8.4): compare with the policy the sandbox started
 * with (revision 1 when it was created with one, else the restrictive default). next may
 * be filled in from the default where it leaves a section out: use it for nothing else. */
static int check_static(struct gw *gw, const struct sandbox *sb, struct pol_policy *next,
			struct err *e)
{
	struct pol_policy first;
	bool created_with_policy = json_get(sb->spec, "policy") != NULL;
	struct json *r1 = created_with_policy ? get_rev(gw, sb, 1, &(struct err){ 0 }) : NULL;
	int ret = -1;

	if (r1) {
		const char *t = json_get_str(r1, "policy", "");

		if (load_text(&first, t, strlen(t), e) < 0)
			goto out_nofirst;
	} else {
		pol_default(&first, true);
	}
	if (!r1)
		omitted_means_default(&first, next);
	ret = pol_static_compatible(&first, next, e);
	pol_release(&first);
out_nofirst:
	json_free(r1);
	return ret;
}

static int store_new_rev(struct gw *gw, const struct sandbox *sb, const char *yaml,
			 const char *hash, int64_t version, struct err *e)
{
	if (store_exec(gw->store, "BEGIN IMMEDIATE", e) < 0)
		return -1;
	exec_bound(gw, "UPDATE policy_revisions SET status = 'SUPERSEDED'"
		       " WHERE sandbox_id = ?1 AND status = 'PENDING'",
		   sb->id, NULL, NULL, 0);
	if (insert_rev(gw, sb, version, hash, yaml, e) < 0 ||
	    write_policy_file(gw, sb, yaml, e) < 0) {
		store_exec(gw->store, "ROLLBACK", &(struct err){ 0 });
		return -1;
	}
	return store_exec(gw->store, "COMMIT", e);
}

int policies_set(struct gw *gw, const char *name, const struct json *in, struct json **out,
		 struct err *e)
{
	const char *yaml = json_get_str(in, "policy", NULL);
	struct pol_policy next;
	struct sandbox sb;
	struct json *latest;
	char hash[65];
	int64_t version = 1;
	int ret = -1, r;

	if (!yaml)
		return err_set(e, ERR_INVALID, 0, "expected {\"policy\": YAML text}");
	if (load_checked(&next, yaml, strlen(yaml), e) < 0)
		return -1;
	pol_hash(&next, hash);
	if (open_sandbox(gw, name, &sb, e) < 0) {
		pol_release(&next);
		return -1;
	}
	r = check_static(gw, &sb, &next, e);
	pol_release(&next);
	if (r < 0)
		goto out;
	latest = get_rev(gw, &sb, 0, &(struct err){ 0 });
	if (latest && !strcmp(json_get_str(latest, "hash", ""), hash)) {
		json_obj_add_bool(latest, "unchanged", true);
		json_obj_add(latest, "policy", NULL);
		*out = latest;
		ret = 0;
		goto out;
	}
	if (latest && json_get_i64(latest, "version", &version) == 0)
		version++;
	json_free(latest);
	if (store_new_rev(gw, &sb, yaml, hash, version, e) < 0)
		goto out;
	log_info("policy", "policy revision stored", "sandbox", sb.name, "hash", hash, NULL);
	*out = get_rev(gw, &sb, version, e);
	if (*out) {
		json_obj_add_bool(*out, "unchanged", false);
		json_obj_add(*out, "policy", NULL);
		ret = 0;
	}
out:
	sandbox_release(&sb);
	return ret;
}

void policies_forget(struct gw *gw, const char *sandbox_id)
{
	exec_bound(gw, "DELETE FROM policy_revisions WHERE sandbox_id = ?1", sandbox_id, NULL, NULL,
		   0);
}
