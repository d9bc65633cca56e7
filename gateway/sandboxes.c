/* SPDX-License-Identifier: Apache-2.0 */
/* Sandbox records and their life cycle on the gateway side; see sandboxes.h. */
#include "sandboxes.h"
#include "policies.h"
#include "gw.h"
#include "store.h"
#include "lib/buf.h"
#include "lib/cgroup.h"
#include "lib/err.h"
#include "lib/fsutil.h"
#include "lib/json.h"
#include "lib/log.h"
#include "lib/rootdir.h"
#include "lib/util.h"
#include "lib/xalloc.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#define CMD_ARGS_MAX 256
#define CMD_BYTES_MAX (256 * 1024)
#define ENV_MAX 128
#define SUPERVISOR_STOP_MS 5000 /* after TERM, then again after KILL */
#define STOP_FIRST_WAIT_MS 50   /* a graceful stop: most commands are gone by then */
#define STOP_ALL_WAIT_MS 11000  /* gateway stop: the supervisors' 10 s grace, and a little */

static const char *const adjectives[] = {
	"brave", "calm", "clever", "eager", "fair", "gentle", "happy", "jolly", "keen", "kind",
	"lively", "merry", "nimble", "proud", "quick", "quiet", "sharp", "steady", "swift", "witty",
};
static const char *const nouns[] = {
	"badger", "beaver", "crane", "dolphin", "falcon", "fox", "heron", "koala", "lynx", "marten",
	"otter", "owl", "panda", "puffin", "raven", "seal", "sparrow", "tiger", "walrus", "wren",
};

void sandbox_generate_name(char out[SB_NAME_MAX + 1])
{
	unsigned char r[2] = { 0, 0 };
	size_t n;

	if (getrandom(r, sizeof(r), 0) != 2)
		r[0] = (unsigned char)getpid(), r[1] = (unsigned char)now_mono_ms();
	snprintf(out, SB_NAME_MAX + 1, "%s-%s", adjectives[r[0] % ARRAY_SIZE(adjectives)],
		 nouns[r[1] % ARRAY_SIZE(nouns)]);
	n = strlen(out);
	while (n && out[n - 1] == '-')
		out[--n] = '\0';
}

int sandbox_check_name(const char *name, struct err *e)
{
	size_t n = strlen(name), i;

	if (!n || n > SB_NAME_MAX)
		return err_set(e, ERR_INVALID, 0,
			       "invalid sandbox name '%s': it must have 1 to %d characters", name,
			       SB_NAME_MAX);
	for (i = 0; i < n; i++)
		if (!((name[i] >= 'a' && name[i] <= 'z') || (name[i] >= '0' && name[i] <= '9') ||
		      name[i] == '-'))
			return err_set(e, ERR_INVALID, 0,
				       "invalid sandbox name '%s': only a-z, 0-9 and '-' are allowed",
				       name);
	if (name[0] == '-' || name[n - 1] == '-' || strstr(name, "--"))
		return err_set(e, ERR_INVALID, 0,
			       "invalid sandbox name '%s': no leading, trailing or double '-'", name);
	return 0;
}

void sandbox_release(struct sandbox *sb)
{
	json_free(sb->spec);
	sb->spec = NULL;
}

static int db_err(struct gw *gw, struct err *e, const char *what)
{
	return err_set(e, ERR_RUNTIME, 0, "%s: %s", what, sqlite3_errmsg(store_db(gw->store)));
}

int sandboxes_count(struct gw *gw, int64_t *n, struct err *e)
{
	sqlite3_stmt *q = NULL;
	int rc;

	if (sqlite3_prepare_v2(store_db(gw->store), "SELECT count(*) FROM sandboxes", -1, &q, NULL) !=
	    SQLITE_OK)
		return db_err(gw, e, "cannot count sandboxes");
	rc = sqlite3_step(q);
	*n = rc == SQLITE_ROW ? sqlite3_column_int64(q, 0) : 0;
	sqlite3_finalize(q);
	return rc == SQLITE_ROW ? 0 : db_err(gw, e, "cannot count sandboxes");
}

static void copy_text(char *dst, size_t n, sqlite3_stmt *q, int col)
{
	const unsigned char *t = sqlite3_column_text(q, col);

	snprintf(dst, n, "%s", t ? (const char *)t : "");
}

#define SB_COLUMNS "id, name, phase, spec, created_ms, updated_ms, exit_code, reason, supervisor_pid, rev"

static void row_to_sandbox(sqlite3_stmt *q, struct sandbox *sb)
{
	struct err e = ERR_INIT;
	const char *spec = (const char *)sqlite3_column_text(q, 3);

	memset(sb, 0, sizeof(*sb));
	copy_text(sb->id, sizeof(sb->id), q, 0);
	copy_text(sb->name, sizeof(sb->name), q, 1);
	copy_text(sb->phase, sizeof(sb->phase), q, 2);
	sb->spec = spec ? json_parse(spec, strlen(spec), &e) : NULL;
	sb->created_ms = sqlite3_column_int64(q, 4);
	sb->updated_ms = sqlite3_column_int64(q, 5);
	sb->has_exit = sqlite3_column_type(q, 6) != SQLITE_NULL;
	sb->exit_code = sqlite3_column_int(q, 6);
	copy_text(sb->reason, sizeof(sb->reason), q, 7);
	sb->supervisor_pid = (long)sqlite3_column_int64(q, 8);
	sb->rev = sqlite3_column_int64(q, 9);
}

static int load(struct gw *gw, const char *name, struct sandbox *out, struct err *e)
{
	sqlite3_stmt *q = NULL;
	int rc;

	memset(out, 0, sizeof(*out)); /* callers release it whether or not it was found */
	if (sqlite3_prepare_v2(store_db(gw->store), "SELECT " SB_COLUMNS " FROM sandboxes WHERE name = ?1",
			       -1, &q, NULL) != SQLITE_OK)
		return db_err(gw, e, "cannot read sandbox");
	sqlite3_bind_text(q, 1, name, -1, SQLITE_STATIC);
	rc = sqlite3_step(q);
	if (rc == SQLITE_ROW)
		row_to_sandbox(q, out);
	sqlite3_finalize(q);
	if (rc == SQLITE_DONE)
		return err_set(e, ERR_NOTFOUND, 0, "sandbox '%s' not found", name);
	return rc == SQLITE_ROW ? 0 : db_err(gw, e, "cannot read sandbox");
}

/*
 * CAS on rev: phase, exit code, reason, supervisor pid. Not flushed to disk on its own:
 * after a power loss these are derived again from the status files and the supervisors
 * (all gone then), while the row's creation and removal are durable commits.
 */
static int save_state(struct gw *gw, struct sandbox *sb, struct err *e)
{
	sqlite3_stmt *q = NULL;
	int ret = -1;

	if (store_set_durable(gw->store, false, e) < 0)
		return -1;
	if (sqlite3_prepare_v2(store_db(gw->store),
			       "UPDATE sandboxes SET phase = ?1, exit_code = ?2, reason = ?3,"
			       " supervisor_pid = ?4, updated_ms = ?5, rev = rev + 1"
			       " WHERE id = ?6 AND rev = ?7",
			       -1, &q, NULL) != SQLITE_OK) {
		db_err(gw, e, "cannot update sandbox");
		goto out;
	}
	sqlite3_bind_text(q, 1, sb->phase, -1, SQLITE_STATIC);
	if (sb->has_exit)
		sqlite3_bind_int(q, 2, sb->exit_code);
	else
		sqlite3_bind_null(q, 2);
	sqlite3_bind_text(q, 3, sb->reason, -1, SQLITE_STATIC);
	sqlite3_bind_int64(q, 4, sb->supervisor_pid);
	sqlite3_bind_int64(q, 5, now_wall_ms());
	sqlite3_bind_text(q, 6, sb->id, -1, SQLITE_STATIC);
	sqlite3_bind_int64(q, 7, sb->rev);
	if (sqlite3_step(q) != SQLITE_DONE)
		db_err(gw, e, "cannot update sandbox");
	else if (sqlite3_changes(store_db(gw->store)) != 1)
		err_set(e, ERR_CONFLICT, 0, "sandbox '%s' changed concurrently; retry", sb->name);
	else
		ret = 0, sb->rev++;
	sqlite3_finalize(q);
out:
	/* everything else commits durably; this failure is reported when nothing else was */
	if (store_set_durable(gw->store, true, ret < 0 ? &(struct err){ 0 } : e) < 0)
		ret = -1;
	return ret;
}

int sandbox_dir(struct gw *gw, const struct sandbox *sb, char *dst, size_t n)
{
	return fmt_into(dst, n, "%s/%s", gw->paths.sandboxes, sb->id);
}

int sandbox_socket_path(struct gw *gw, const struct sandbox *sb, char *dst, size_t n)
{
	/* unix socket paths are limited to 108 bytes: keep it short */
	return fmt_into(dst, n, "%s/%.12s.sock", gw->paths.run, sb->id);
}

/* The supervisor is alive when its pid still runs `internal supervise` for this sandbox. */
static bool supervisor_alive(const struct sandbox *sb)
{
	char path[64], cmdline[4096];
	ssize_t n;
	int fd;

	if (sb->supervisor_pid <= 0)
		return false;
	snprintf(path, sizeof(path), "/proc/%ld/cmdline", sb->supervisor_pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return false;
	n = read(fd, cmdline, sizeof(cmdline) - 1);
	close(fd);
	if (n <= 0)
		return false;
	for (ssize_t i = 0; i < n; i++)
		if (!cmdline[i])
			cmdline[i] = ' ';
	cmdline[n] = '\0';
	return strstr(cmdline, "supervise") && strstr(cmdline, sb->id);
}

/* Waits at most ms for the supervisor to be gone: on its pidfd when there is one (it
 * becomes readable when the process exits), else by looking every 10 ms. */
static void wait_supervisor(const struct sandbox *sb, int pidfd, int ms)
{
	int64_t deadline = now_mono_ms() + ms;
	struct pollfd p = { pidfd, POLLIN, 0 };

	while (supervisor_alive(sb) && now_mono_ms() < deadline) {
		if (pidfd < 0) {
			usleep(10000);
			continue;
		}
		if (poll(&p, 1, (int)(deadline - now_mono_ms())) < 0 && errno != EINTR)
			pidfd = -1; /* cannot wait on it: fall back to looking */
	}
}

/* TERM, up to 5 s to take the sandbox down, then KILL. A delete of hundreds of sandboxes
 * waits for each exactly as long as it takes instead of in 20 ms steps. */
static void stop_supervisor(const struct sandbox *sb)
{
	int pidfd = sb->supervisor_pid > 0 ? (int)syscall(SYS_pidfd_open, (pid_t)sb->supervisor_pid, 0)
					   : -1;

	/* checked after the pidfd is open: the pid cannot have been reused under it then */
	if (!supervisor_alive(sb))
		goto out;
	kill((pid_t)sb->supervisor_pid, SIGTERM);
	wait_supervisor(sb, pidfd, SUPERVISOR_STOP_MS);
	if (supervisor_alive(sb)) {
		kill((pid_t)sb->supervisor_pid, SIGKILL);
		wait_supervisor(sb, pidfd, SUPERVISOR_STOP_MS);
	}
out:
	if (pidfd >= 0)
		close(pidfd);
}

/* The end of a stop: no processes, files kept; reason says why when it was not asked for. */
static int mark_stopped(struct gw *gw, struct sandbox *sb, const char *reason, struct err *e)
{
	snprintf(sb->phase, sizeof(sb->phase), "Stopped");
	snprintf(sb->reason, sizeof(sb->reason), "%s", reason);
	sb->supervisor_pid = 0;
	if (save_state(gw, sb, e) < 0)
		return -1;
	log_info("sandbox", "sandbox stopped", "sandbox", sb->name, "reason", reason, NULL);
	return 0;
}

/* Derives the phase from the supervisor's status file and liveness. */
static void refresh(struct gw *gw, struct sandbox *sb)
{
	char dir[PATH_MAX], path[PATH_MAX + 16];
	struct buf st = BUF_INIT;
	struct err e = ERR_INIT;
	struct sandbox before = *sb;
	bool alive = supervisor_alive(sb);
	char *s;

	if (!strcmp(sb->phase, "Stopping") && !alive) {
		mark_stopped(gw, sb, "", &e);
		return;
	}
	if (!strcmp(sb->phase, "Deleting") || !strcmp(sb->phase, "Error") ||
	    !strcmp(sb->phase, "Exited") || !strcmp(sb->phase, "Stopped") ||
	    !strcmp(sb->phase, "Stopping"))
		return;
	sandbox_dir(gw, sb, dir, sizeof(dir));
	snprintf(path, sizeof(path), "%s/status", dir);
	read_file(path, 4096, &st, &e);
	s = str_trim(st.p);
	if (str_has_prefix(s, "exited ")) {
		snprintf(sb->phase, sizeof(sb->phase), "Exited");
		sb->has_exit = true;
		sb->exit_code = atoi(s + 7);
	} else if (str_has_prefix(s, "error ")) {
		snprintf(sb->phase, sizeof(sb->phase), "Error");
		snprintf(sb->reason, sizeof(sb->reason), "%s", s + 6);
	} else if (!alive && sb->supervisor_pid) {
		snprintf(sb->phase, sizeof(sb->phase), "Error");
		snprintf(sb->reason, sizeof(sb->reason), "the supervisor (pid %ld) exited unexpectedly",
			 sb->supervisor_pid);
	} else if (!strcmp(s, "ready")) {
		snprintf(sb->phase, sizeof(sb->phase), "Ready");
	}
	buf_release(&st);
	if (strcmp(before.phase, sb->phase) != 0 && save_state(gw, sb, &e) == 0)
		log_info("sandbox", "phase changed", "sandbox", sb->name, "phase", sb->phase,
			 "reason", sb->reason, NULL);
}

int sandboxes_get(struct gw *gw, const char *name, struct sandbox *out, struct err *e)
{
	if (load(gw, name, out, e) < 0)
		return -1;
	refresh(gw, out);
	return 0;
}

int sandboxes_list(struct gw *gw, struct sandbox **out, size_t *n, struct err *e)
{
	sqlite3_stmt *q = NULL;
	size_t cap = 0;
	int rc;

	*out = NULL;
	*n = 0;
	if (sqlite3_prepare_v2(store_db(gw->store),
			       "SELECT " SB_COLUMNS " FROM sandboxes ORDER BY created_ms, name", -1, &q,
			       NULL) != SQLITE_OK)
		return db_err(gw, e, "cannot list sandboxes");
	while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
		if (*n == cap) { /* doubling: one row at a time copied the array n times */
			cap = cap ? 2 * cap : 16;
			*out = xreallocarray(*out, cap, sizeof(**out));
		}
		row_to_sandbox(q, &(*out)[*n]);
		refresh(gw, &(*out)[(*n)++]);
	}
	sqlite3_finalize(q);
	if (rc != SQLITE_DONE) {
		sandbox_list_free(*out, *n);
		return db_err(gw, e, "cannot list sandboxes");
	}
	return 0;
}

void sandbox_list_free(struct sandbox *v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		sandbox_release(&v[i]);
	free(v);
}

struct json *sandbox_json(const struct sandbox *sb)
{
	struct json *o = json_new_obj(), *cmd;
	char t[32];

	json_obj_add_str(o, "id", sb->id);
	json_obj_add_str(o, "name", sb->name);
	json_obj_add_str(o, "phase", sb->phase);
	fmt_rfc3339(t, sb->created_ms / 1000);
	json_obj_add_str(o, "created_at", t);
	if (sb->has_exit)
		json_obj_add_i64(o, "exit_code", sb->exit_code);
	if (sb->reason[0])
		json_obj_add_str(o, "reason", sb->reason);
	cmd = json_new_arr();
	for (size_t i = 0; i < json_len(json_get(sb->spec, "command")); i++)
		json_arr_add(cmd, json_new_str(json_str(json_at(json_get(sb->spec, "command"), i))));
	json_obj_add(o, "command", cmd);
	json_obj_add_bool(o, "tty", json_bool(json_get(sb->spec, "tty")));
	if (json_get_str(sb->spec, "from", NULL))
		json_obj_add_str(o, "from", json_get_str(sb->spec, "from", ""));
	json_obj_add_i64(o, "rev", sb->rev);
	return o;
}

/* Checks the create request (reference/cli.md §12 limits) and normalises it into spec. */
static int check_request(const struct json *req, char name[SB_NAME_MAX + 1], struct err *e)
{
	const struct json *cmd = json_get(req, "command"), *env = json_get(req, "env");
	size_t i, bytes = 0;

	if (!json_is_obj(req))
		return err_set(e, ERR_INVALID, 0, "expected a JSON object");
	if (json_get(req, "name") && !json_is_null(json_get(req, "name"))) {
		if (!json_is_str(json_get(req, "name")))
			return err_set(e, ERR_INVALID, 0, "\"name\" must be a string");
		snprintf(name, SB_NAME_MAX + 1, "%s", json_get_str(req, "name", ""));
		if (strlen(json_get_str(req, "name", "")) > SB_NAME_MAX)
			return sandbox_check_name(json_get_str(req, "name", ""), e);
		if (sandbox_check_name(name, e) < 0)
			return -1;
	} else {
		name[0] = '\0'; /* the caller picks a free generated name */
	}
	if (cmd && !json_is_null(cmd) && (!json_is_arr(cmd) || !json_len(cmd))) /* none: the default */
		return err_set(e, ERR_INVALID, 0, "\"command\" must be a non-empty array of strings");
	if (json_len(cmd) > CMD_ARGS_MAX)
		return err_set(e, ERR_INVALID, 0, "the command has more than %d arguments", CMD_ARGS_MAX);
	for (i = 0; i < json_len(cmd); i++) {
		const struct json *a = json_at(cmd, i);

		if (!json_is_str(a) || memchr(json_str(a), 0, json_str_len(a)))
			return err_set(e, ERR_INVALID, 0, "\"command\" must be an array of strings without NUL");
		bytes += json_str_len(a);
	}
	if (json_len(cmd) && !json_str_len(json_at(cmd, 0)))
		return err_set(e, ERR_INVALID, 0, "the command's first word is empty");
	if (bytes > CMD_BYTES_MAX)
		return err_set(e, ERR_INVALID, 0, "the command is larger than %d bytes", CMD_BYTES_MAX);
	{
		int64_t v;

		if (json_get(req, "cpus") && (!json_is_str(json_get(req, "cpus")) ||
					      cg_parse_cpus(json_get_str(req, "cpus", ""), &v, e) < 0))
			return json_is_str(json_get(req, "cpus")) ? -1 : err_set(e, ERR_INVALID, 0, "\"cpus\" must be a string");
		if (json_get(req, "memory") && (!json_is_str(json_get(req, "memory")) ||
						cg_parse_memory(json_get_str(req, "memory", ""), &v, e) < 0))
			return json_is_str(json_get(req, "memory")) ? -1 : err_set(e, ERR_INVALID, 0, "\"memory\" must be a string");
	}
	if (json_get(req, "tty") && !json_is_null(json_get(req, "tty")) &&
	    !json_is_bool(json_get(req, "tty")))
		return err_set(e, ERR_INVALID, 0, "\"tty\" must be true or false");
	if (env && (!json_is_obj(env) || json_len(env) > ENV_MAX))
		return err_set(e, ERR_INVALID, 0, "\"env\" must be an object of at most %d strings", ENV_MAX);
	for (i = 0; i < json_len(env); i++) {
		const char *k = json_key_at(env, i);

		if (!json_is_str(json_at(env, i)))
			return err_set(e, ERR_INVALID, 0,
				       "environment variable '%s': the value must be a string", k);
		if (!*k || strspn(k, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_") != strlen(k) ||
		    (k[0] >= '0' && k[0] <= '9'))
			return err_set(e, ERR_INVALID, 0, "invalid environment variable '%s'", k);
		if (str_has_prefix(k, "OPENSHELL_"))
			return err_set(e, ERR_INVALID, 0, "environment variable '%s': OPENSHELL_* is reserved", k);
	}
	return 0;
}

static int name_taken(struct gw *gw, const char *name, bool *taken, struct err *e)
{
	sqlite3_stmt *q = NULL;
	int rc;

	if (sqlite3_prepare_v2(store_db(gw->store), "SELECT 1 FROM sandboxes WHERE name = ?1", -1,
			       &q, NULL) != SQLITE_OK)
		return db_err(gw, e, "cannot read sandbox names");
	sqlite3_bind_text(q, 1, name, -1, SQLITE_STATIC);
	rc = sqlite3_step(q);
	sqlite3_finalize(q);
	*taken = rc == SQLITE_ROW;
	return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : db_err(gw, e, "cannot read sandbox names");
}

/* As root, a host uid that no other sandbox of this gateway has (DESIGN.md §6); the spec
 * keeps it, so stop/start and gateway restarts keep it. Otherwise the gateway's own. */
static int pick_host_uid(struct gw *gw, int64_t *uid, struct err *e)
{
	sqlite3_stmt *q = NULL;
	uid_t *used = NULL;
	size_t n = 0, cap = 0;
	int rc, ret = -1;

	*uid = getuid();
	if (getuid() != 0)
		return 0;
	if (sqlite3_prepare_v2(store_db(gw->store),
			       "SELECT id, json_extract(spec, '$.host_uid') FROM sandboxes", -1, &q,
			       NULL) != SQLITE_OK)
		return db_err(gw, e, "cannot read the sandboxes' uids");
	while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
		if (n == cap)
			used = xreallocarray(used, cap = cap ? 2 * cap : 64, sizeof(*used));
		used[n++] = rootdir_host_uid(sqlite3_column_int64(q, 1),
					     (const char *)sqlite3_column_text(q, 0));
	}
	if (rc != SQLITE_DONE) {
		db_err(gw, e, "cannot read the sandboxes' uids");
		goto out;
	}
	*uid = rootdir_pick_uid(used, n, gw->paths.root); /* two gateways of one name differ */
	if (*uid == 0) {
		err_set(e, ERR_LIMIT, 0, "no free host uid for another sandbox");
		err_hint(e, "delete sandboxes that are no longer needed");
		goto out;
	}
	ret = 0;
out:
	sqlite3_finalize(q);
	free(used);
	return ret;
}

/* The reference's fallback when petnames keep colliding: six random letters. */
static void random_letters(char out[SB_NAME_MAX + 1])
{
	unsigned char r[6];
	size_t i;

	if (getrandom(r, sizeof(r), 0) != (ssize_t)sizeof(r))
		for (i = 0; i < sizeof(r); i++)
			r[i] = (unsigned char)(now_mono_ms() >> (i * 3)) ^ (unsigned char)getpid();
	for (i = 0; i < sizeof(r); i++)
		out[i] = (char)('a' + r[i] % 26);
	out[sizeof(r)] = '\0';
}

/* A generated name no sandbox has: there are only 400 petnames, so at a few hundred
 * sandboxes most draws collide; after 16 tries, six random letters (26^6 of them). The
 * event loop is single-threaded, so nothing can take the name before the insert. */
static int pick_free_name(struct gw *gw, char name[SB_NAME_MAX + 1], struct err *e)
{
	bool taken = true;
	int tries;

	for (tries = 0; taken && tries < 64; tries++) {
		if (tries < 16)
			sandbox_generate_name(name);
		else
			random_letters(name);
		if (name_taken(gw, name, &taken, e) < 0)
			return -1;
	}
	if (taken)
		return err_set(e, ERR_RUNTIME, 0, "cannot find a free sandbox name"),
		       err_hint(e, "name the sandbox with --name");
	return 0;
}

static void new_id(char id[40])
{
	unsigned char r[16];
	int i;

	if (getrandom(r, sizeof(r), 0) != (ssize_t)sizeof(r))
		for (i = 0; i < 16; i++)
			r[i] = (unsigned char)(now_mono_ms() >> (i % 8));
	for (i = 0; i < 16; i++)
		snprintf(id + 2 * i, 3, "%02x", r[i]);
}

static int insert(struct gw *gw, struct sandbox *sb, const char *spec, struct err *e)
{
	sqlite3_stmt *q = NULL;
	int rc;

	if (sqlite3_prepare_v2(store_db(gw->store),
			       "INSERT INTO sandboxes (id, name, phase, spec, created_ms, updated_ms)"
			       " VALUES (?1, ?2, 'Provisioning', ?3, ?4, ?4)",
			       -1, &q, NULL) != SQLITE_OK)
		return db_err(gw, e, "cannot create sandbox");
	sqlite3_bind_text(q, 1, sb->id, -1, SQLITE_STATIC);
	sqlite3_bind_text(q, 2, sb->name, -1, SQLITE_STATIC);
	sqlite3_bind_text(q, 3, spec, -1, SQLITE_STATIC);
	sqlite3_bind_int64(q, 4, sb->created_ms);
	rc = sqlite3_step(q);
	sqlite3_finalize(q);
	if (rc == SQLITE_CONSTRAINT)
		return err_set(e, ERR_EXISTS, 0, "sandbox '%s' already exists", sb->name),
		       err_hint(e, "delete it first with: openshell sandbox delete %s, or use a "
				   "different name", sb->name);
	return rc == SQLITE_DONE ? 0 : db_err(gw, e, "cannot create sandbox");
}

/* The grandchild: stdio, the usual open files limit, then the supervisor. A failure goes
 * to the gateway as -errno on the close-on-exec pipe. */
static __attribute__((noreturn)) void supervisor_exec(struct gw *gw, char **argv,
						       const char *log, int report_fd)
{
	pid_t fail;
	int fd;

	fd = open(log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
	if (fd < 0 || dup2(fd, 1) < 0 || dup2(fd, 2) < 0)
		goto fail;
	fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	if (fd < 0 || dup2(fd, 0) < 0)
		goto fail;
	/* the gateway raised its own open files limit; sandboxes get the usual one */
	if (gw->nofile_orig.rlim_cur && setrlimit(RLIMIT_NOFILE, &gw->nofile_orig) < 0)
		goto fail;
	fexecve(gw->self_exe_fd, argv, environ);
fail:
	fail = -(pid_t)errno;
	if (write(report_fd, &fail, sizeof(fail)) != (ssize_t)sizeof(fail))
		_exit(126);
	_exit(127);
}

/* Reads the pipe until every writer is gone: the middle child's record is the supervisor's
 * pid, a negative one is the supervisor's errno; end of file means it has exec'd. Until
 * then its /proc/<pid>/cmdline is still the gateway's, and a status request in between
 * would take it for dead (seen under load with hundreds of creates). */
static int wait_exec(int fd, pid_t *pid, struct err *e)
{
	pid_t rec, fail = 0;
	ssize_t n;

	*pid = 0;
	while ((n = read(fd, &rec, sizeof(rec))) == (ssize_t)sizeof(rec) || (n < 0 && errno == EINTR))
		if (n > 0 && rec > 0)
			*pid = rec;
		else if (n > 0)
			fail = -rec;
	if (fail)
		return err_set(e, ERR_RUNTIME, fail, "cannot start the supervisor");
	if (n < 0 || !*pid)
		return err_set(e, ERR_RUNTIME, n < 0 ? errno : 0, "cannot start the supervisor");
	return 0;
}

/* Double fork: the supervisor is nobody's child here and survives a gateway restart. */
static int spawn_supervisor(struct gw *gw, struct sandbox *sb, const char *dir, struct err *e)
{
	char sock[PATH_MAX], log[PATH_MAX + 32];
	int pfd[2], ret;
	pid_t pid, grand = 0;

	if (sandbox_socket_path(gw, sb, sock, sizeof(sock)) < 0)
		return err_set(e, ERR_RUNTIME, ENAMETOOLONG, "state path too long");
	snprintf(log, sizeof(log), "%s/supervisor.log", dir);
	if (pipe2(pfd, O_CLOEXEC) < 0)
		return err_sys(e, ERR_RUNTIME, "cannot start the supervisor");
	pid = fork();
	if (pid < 0) {
		close(pfd[0]);
		close(pfd[1]);
		return err_sys(e, ERR_RUNTIME, "cannot start the supervisor");
	}
	if (pid == 0) {
		char *argv[] = { "openshell", "supervise", "--dir", (char *)dir, "--socket", sock,
				 "--id", sb->id, NULL };
		sigset_t none;

		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL); /* the gateway blocks signals for signalfd */
		setsid();
		grand = fork();
		if (grand != 0) {
			if (write(pfd[1], &grand, sizeof(grand)) < 0)
				_exit(1);
			_exit(0);
		}
		supervisor_exec(gw, argv, log, pfd[1]);
	}
	close(pfd[1]);
	waitpid(pid, NULL, 0);
	ret = wait_exec(pfd[0], &grand, e);
	close(pfd[0]);
	if (ret == 0)
		sb->supervisor_pid = grand;
	return ret;
}

static int prepare_dir(struct gw *gw, struct sandbox *sb, const char *spec, char *dir, size_t n,
		       struct err *e)
{
	char path[PATH_MAX + 16];

	if (sandbox_dir(gw, sb, dir, n) < 0)
		return err_set(e, ERR_RUNTIME, ENAMETOOLONG, "state path too long");
	snprintf(path, sizeof(path), "%s/workdir", dir);
	if (mkdir_p(path, 0700, e) < 0)
		return -1;
	snprintf(path, sizeof(path), "%s/spec.json", dir);
	return write_file_atomic(path, spec, strlen(spec), 0600, e);
}

/* The sandbox's spec: the request with what the gateway decided (name, host uid, the
 * --from directory checked and made canonical, default command, limits); a policy's text
 * lives in the revisions instead. */
static int build_spec(struct gw *gw, const struct json *req, const struct gw_settings *gs,
		      const struct sandbox *sb, struct buf *spec, struct err *e)
{
	struct json *named, *lim = json_new_obj();
	char group[256];
	int64_t uid;
	int ret = -1;

	json_write(req, spec, JSON_COMPACT); /* a copy to add to */
	named = json_parse(spec->p, spec->len, e);
	buf_reset(spec);
	if (!named || pick_host_uid(gw, &uid, e) < 0)
		goto out;
	json_obj_add_i64(named, "host_uid", uid);
	if (sandbox_root_prepare(named, sb->id, e) < 0)
		goto out;
	json_obj_add_str(named, "name", sb->name);
	if (json_get(req, "policy"))
		json_obj_add(named, "policy", NULL);
	json_obj_add_str(lim, "gateway", gw->cfg->name);
	gw_cgroup_name(gw, group, sizeof(group));
	json_obj_add_str(lim, "group", group);
	json_obj_add_str(lim, "gateway_cpus", gs->cpus);
	json_obj_add_str(lim, "gateway_memory", gs->memory);
	if (json_get_str(req, "cpus", NULL))
		json_obj_add_str(lim, "cpus", json_get_str(req, "cpus", ""));
	if (json_get_str(req, "memory", NULL))
		json_obj_add_str(lim, "memory", json_get_str(req, "memory", ""));
	json_obj_add(named, "limits", lim);
	lim = NULL;
	json_write(named, spec, JSON_COMPACT);
	ret = 0;
out:
	json_free(lim);
	json_free(named);
	return ret;
}

int sandboxes_create(struct gw *gw, const struct json *req, struct sandbox *out, struct err *e)
{
	const struct json *policy = json_get(req, "policy");
	struct gw_settings gs;
	struct buf spec = BUF_INIT;
	char dir[PATH_MAX];
	int64_t count;
	int ret = -1;

	memset(out, 0, sizeof(*out));
	if (check_request(req, out->name, e) < 0 || store_gateway_get(gw->store, &gs, e) < 0 ||
	    sandboxes_count(gw, &count, e) < 0)
		goto out;
	if (policy && !json_is_str(policy)) {
		err_set(e, ERR_INVALID, 0, "\"policy\" must be the policy's YAML text");
		goto out;
	}
	if (policy && policies_check_text(json_str(policy), json_str_len(policy), e) < 0)
		goto out;
	if (count >= gs.max_sandboxes) {
		err_set(e, ERR_LIMIT, 0, "gateway '%s' has reached its maximum of %lld sandboxes",
			gw->cfg->name, (long long)gs.max_sandboxes);
		err_hint(e, "delete a sandbox, or raise the limit: openshell gateway update --max-sandboxes N");
		goto out;
	}
	if (!out->name[0] && pick_free_name(gw, out->name, e) < 0)
		goto out;
	new_id(out->id);
	out->created_ms = now_wall_ms();
	snprintf(out->phase, sizeof(out->phase), "Provisioning");
	if (build_spec(gw, req, &gs, out, &spec, e) < 0)
		goto out;
	if (insert(gw, out, spec.p, e) < 0)
		goto out;
	out->spec = json_parse(spec.p, spec.len, e);
	out->rev = 1;
	if (prepare_dir(gw, out, spec.p, dir, sizeof(dir), e) < 0 ||
	    (policy && policies_initial(gw, out, json_str(policy), e) < 0) ||
	    spawn_supervisor(gw, out, dir, e) < 0) {
		char text[600];

		snprintf(out->phase, sizeof(out->phase), "Error");
		snprintf(out->reason, sizeof(out->reason), "%s", err_text(e, text, sizeof(text)));
		save_state(gw, out, &(struct err){ 0 });
		goto out;
	}
	if (save_state(gw, out, e) < 0)
		goto out;
	log_info("sandbox", "sandbox created", "sandbox", out->name, "id", out->id, NULL);
	ret = 0;
out:
	buf_release(&spec);
	return ret;
}

/* Processes first (supervisor TERM, then KILL), then files, then the row. */
int sandboxes_delete(struct gw *gw, const char *name, struct err *e)
{
	struct sandbox sb;
	char dir[PATH_MAX], sock[PATH_MAX];
	int ret = -1;

	if (load(gw, name, &sb, e) < 0)
		return -1;
	snprintf(sb.phase, sizeof(sb.phase), "Deleting");
	if (save_state(gw, &sb, e) < 0)
		goto out;
	stop_supervisor(&sb);
	{
		struct cgroup cg;
		char rel[256];

		sandbox_cgroup_rel(gw, &sb, rel, sizeof(rel));
		if (cg_open(rel, &cg, &(struct err){ 0 }) == 0) {
			cg_kill_all(&cg, &(struct err){ 0 });
			cg_destroy(&cg, &(struct err){ 0 });
		}
	}
	if (sandbox_dir(gw, &sb, dir, sizeof(dir)) == 0 && remove_tree(dir, e) < 0)
		goto out;
	if (sandbox_socket_path(gw, &sb, sock, sizeof(sock)) == 0)
		unlink(sock);
	if (sqlite3_exec(store_db(gw->store), "BEGIN", NULL, NULL, NULL) != SQLITE_OK)
		goto out;
	{
		sqlite3_stmt *q = NULL;

		if (sqlite3_prepare_v2(store_db(gw->store), "DELETE FROM sandboxes WHERE id = ?1", -1,
				       &q, NULL) == SQLITE_OK) {
			sqlite3_bind_text(q, 1, sb.id, -1, SQLITE_STATIC);
			sqlite3_step(q);
		}
		sqlite3_finalize(q);
	}
	policies_forget(gw, sb.id);
	if (sqlite3_exec(store_db(gw->store), "COMMIT", NULL, NULL, NULL) != SQLITE_OK) {
		db_err(gw, e, "cannot delete sandbox");
		goto out;
	}
	log_info("sandbox", "sandbox deleted", "sandbox", sb.name, NULL);
	ret = 0;
out:
	sandbox_release(&sb);
	return ret;
}

int sandboxes_connect(struct gw *gw, const char *name, bool running, struct err *e)
{
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	struct sandbox sb;
	int fd = -1;

	if (sandboxes_get(gw, name, &sb, e) < 0)
		return -1;
	if (strcmp(sb.phase, "Ready") != 0 && (running || !supervisor_alive(&sb))) {
		if (sb.has_exit)
			err_set(e, ERR_CONFLICT, 0, "sandbox '%s' has exited (exit code %d)", name,
				sb.exit_code);
		else
			err_set(e, ERR_CONFLICT, 0, "sandbox '%s' is %s%s%s", name, sb.phase,
				sb.reason[0] ? ": " : "", sb.reason);
		goto out;
	}
	if (sandbox_socket_path(gw, &sb, a.sun_path, sizeof(a.sun_path)) < 0) {
		err_set(e, ERR_RUNTIME, ENAMETOOLONG, "socket path too long");
		goto out;
	}
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof(a)) < 0) {
		err_sys(e, ERR_UNAVAILABLE, "cannot reach the supervisor of sandbox '%s'", name);
		if (fd >= 0)
			close(fd);
		fd = -1;
	}
out:
	sandbox_release(&sb);
	return fd;
}

#define GATEWAY_STOPPED "stopped with the gateway"

/* Graceful gateway stop (DESIGN.md §3): running sandboxes stop as `sandbox stop` stops
 * them (the main processes get SIGTERM and the supervisors' 10 s grace), all at once, to
 * be started again with their main command by the next gateway start. A supervisor still
 * there after STOP_ALL_WAIT_MS is killed. */
static bool running(const struct sandbox *sb)
{
	return (!strcmp(sb->phase, "Ready") || !strcmp(sb->phase, "Provisioning") ||
		!strcmp(sb->phase, "Stopping")) && supervisor_alive(sb);
}

int sandboxes_stop_all(struct gw *gw, struct err *e)
{
	int64_t deadline = now_mono_ms() + STOP_ALL_WAIT_MS;
	struct sandbox *v;
	size_t n, i;
	bool waiting;

	if (sandboxes_list(gw, &v, &n, e) < 0)
		return -1;
	for (i = 0; i < n; i++)
		if (running(&v[i]))
			kill((pid_t)v[i].supervisor_pid, SIGUSR1);
	do {
		waiting = false;
		for (i = 0; i < n; i++)
			waiting |= running(&v[i]);
		if (waiting)
			usleep(20000);
	} while (waiting && now_mono_ms() < deadline);
	for (i = 0; i < n; i++) {
		if (strcmp(v[i].phase, "Ready") && strcmp(v[i].phase, "Provisioning") &&
		    strcmp(v[i].phase, "Stopping"))
			continue;
		if (supervisor_alive(&v[i]))
			kill((pid_t)v[i].supervisor_pid, SIGKILL);
		/* a sandbox the user was stopping stays stopped; the others come back */
		mark_stopped(gw, &v[i], strcmp(v[i].phase, "Stopping") ? GATEWAY_STOPPED : "", e);
		err_clear(e);
	}
	sandbox_list_free(v, n);
	return 0;
}

/* At start: sandboxes the gateway stopped come back; a supervisor that survived a killed
 * gateway is simply adopted (its row is refreshed from its status file). */
int sandboxes_resume_all(struct gw *gw, struct err *e)
{
	struct sandbox *v;
	char dir[PATH_MAX], status[PATH_MAX + 16];
	size_t n, i;

	if (sandboxes_list(gw, &v, &n, e) < 0)
		return -1;
	for (i = 0; i < n; i++) {
		if (!strcmp(v[i].phase, "Stopping") && supervisor_alive(&v[i]))
			kill((pid_t)v[i].supervisor_pid, SIGUSR1); /* the gateway may have died before */
		if (strcmp(v[i].phase, "Stopped") || strcmp(v[i].reason, GATEWAY_STOPPED))
			continue;
		if (sandbox_dir(gw, &v[i], dir, sizeof(dir)) < 0)
			continue;
		snprintf(status, sizeof(status), "%s/status", dir);
		unlink(status);
		snprintf(v[i].phase, sizeof(v[i].phase), "Provisioning");
		v[i].reason[0] = '\0';
		v[i].has_exit = false;
		if (spawn_supervisor(gw, &v[i], dir, e) < 0) {
			snprintf(v[i].phase, sizeof(v[i].phase), "Error");
			snprintf(v[i].reason, sizeof(v[i].reason), "could not restart: %.200s", e->msg);
		}
		err_clear(e);
		if (save_state(gw, &v[i], e) == 0)
			log_info("sandbox", "sandbox resumed", "sandbox", v[i].name, "phase", v[i].phase,
				 NULL);
		err_clear(e);
	}
	sandbox_list_free(v, n);
	return 0;
}

/* ---- logs ------------------------------------------------------------------------------- */

struct log_query {
	int64_t lines, since;
	int max_level; /* 0 error .. 3 debug */
	char source[64];
};

static int level_rank(const char *l)
{
	static const char *const names[] = { "error", "warn", "info", "debug" };
	int i;

	for (i = 0; i < 4; i++)
		if (!strcasecmp(l, names[i]))
			return i;
	return -1;
}

static int parse_query(const char *q, struct log_query *lq, struct err *e)
{
	char key[32], val[64];
	int n;

	lq->lines = 200;
	lq->since = 0;
	lq->max_level = 3;
	lq->source[0] = '\0';
	while (*q) {
		if (sscanf(q, "%31[^=&]=%63[^&]%n", key, val, &n) != 2)
			return err_set(e, ERR_INVALID, 0, "invalid query string");
		q += n;
		if (*q == '&')
			q++;
		if (!strcmp(key, "lines") && parse_i64(val, 1, 10000, &lq->lines) < 0)
			return err_set(e, ERR_INVALID, 0, "lines must be 1..10000");
		if (!strcmp(key, "since") && parse_i64(val, 0, INT64_MAX, &lq->since) < 0)
			return err_set(e, ERR_INVALID, 0, "since must be unix milliseconds");
		if (!strcmp(key, "level") && (lq->max_level = level_rank(val)) < 0)
			return err_set(e, ERR_INVALID, 0, "level must be error, warn, info or debug");
		if (!strcmp(key, "source")) {
			if (strcmp(val, "gateway") && strcmp(val, "sandbox") && strcmp(val, "all"))
				return err_set(e, ERR_INVALID, 0, "source must be gateway or sandbox");
			snprintf(lq->source, sizeof(lq->source), "%s", strcmp(val, "all") ? val : "");
		}
	}
	return 0;
}

/* Appends the matching lines of one JSON-lines file to arr. */
static void collect(const char *path, const char *source, const char *only_sandbox,
		    const struct log_query *lq, struct json *arr)
{
	struct buf text = BUF_INIT;
	struct err e = ERR_INIT;
	char *line, *save = NULL;

	if ((lq->source[0] && strcmp(lq->source, source)) || read_file(path, 64u << 20, &text, &e) < 0)
		goto out;
	for (line = strtok_r(text.p, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		struct json *v = json_parse(line, strlen(line), &e), *o, *fields;
		int64_t ts = 0;
		size_t i;

		if (!v || json_get_i64(v, "ts", &ts) < 0 || ts < lq->since ||
		    level_rank(json_get_str(v, "level", "info")) > lq->max_level ||
		    (only_sandbox && strcmp(json_get_str(v, "sandbox", ""), only_sandbox))) {
			json_free(v);
			continue;
		}
		o = json_new_obj();
		fields = json_new_obj();
		json_obj_add_i64(o, "ts", ts);
		json_obj_add_str(o, "source", source);
		json_obj_add_str(o, "level", json_get_str(v, "level", "info"));
		json_obj_add_str(o, "target", json_get_str(v, "src", ""));
		json_obj_add_str(o, "message", json_get_str(v, "msg", ""));
		for (i = 0; i < json_len(v); i++) {
			const char *k = json_key_at(v, i);

			if (strcmp(k, "ts") && strcmp(k, "level") && strcmp(k, "src") && strcmp(k, "msg"))
				json_obj_add_str(fields, k, json_str(json_at(v, i)));
		}
		json_obj_add(o, "fields", fields);
		json_arr_add(arr, o);
		json_free(v);
	}
out:
	buf_release(&text);
}

static int by_ts(const void *a, const void *b)
{
	int64_t x = 0, y = 0;

	json_get_i64(*(const struct json *const *)a, "ts", &x);
	json_get_i64(*(const struct json *const *)b, "ts", &y);
	return x < y ? -1 : x > y;
}

int sandboxes_logs(struct gw *gw, const char *name, const char *query, struct json **out,
		   struct err *e)
{
	struct log_query lq;
	struct sandbox sb;
	struct json *all = json_new_arr(), *tail;
	const struct json **v;
	char dir[PATH_MAX], path[PATH_MAX + 16];
	size_t n, i, from;

	if (parse_query(query, &lq, e) < 0 || load(gw, name, &sb, e) < 0) {
		json_free(all);
		return -1;
	}
	collect(gw->paths.log, "gateway", name, &lq, all);
	if (sandbox_dir(gw, &sb, dir, sizeof(dir)) == 0) {
		snprintf(path, sizeof(path), "%s/sandbox.log", dir);
		collect(path, "sandbox", NULL, &lq, all);
	}
	sandbox_release(&sb);
	n = json_len(all);
	v = xcalloc(n ? n : 1, sizeof(*v));
	for (i = 0; i < n; i++)
		v[i] = json_at(all, i);
	qsort(v, n, sizeof(*v), by_ts);
	tail = json_new_arr();
	from = n > (size_t)lq.lines ? n - (size_t)lq.lines : 0;
	for (i = from; i < n; i++) {
		struct buf b = BUF_INIT;
		struct err pe = ERR_INIT;

		json_write(v[i], &b, JSON_COMPACT); /* copy: `all` owns the nodes */
		json_arr_add(tail, json_parse(b.p, b.len, &pe));
		buf_release(&b);
	}
	free(v);
	json_free(all);
	*out = json_new_obj();
	json_obj_add(*out, "lines", tail);
	return 0;
}

/* ---- stop and start of one sandbox -------------------------------------------------------- */

/* Waits at most ms for the supervisor to be gone. */
static void wait_gone(const struct sandbox *sb, int ms)
{
	int pidfd = (int)syscall(SYS_pidfd_open, (pid_t)sb->supervisor_pid, 0);

	wait_supervisor(sb, pidfd, ms);
	if (pidfd >= 0)
		close(pidfd);
}

int sandboxes_stop(struct gw *gw, const char *name, bool force, struct sandbox *out,
		   struct err *e)
{
	bool killed;

	if (sandboxes_get(gw, name, out, e) < 0) /* a Stopping one whose supervisor is gone: Stopped */
		return -1;
	if (!strcmp(out->phase, "Stopped"))
		return 0;
	if (!strcmp(out->phase, "Ready") || !strcmp(out->phase, "Provisioning")) {
		snprintf(out->phase, sizeof(out->phase), "Stopping");
		if (save_state(gw, out, e) < 0)
			return -1;
		log_info("sandbox", "sandbox stopping", "sandbox", name, NULL);
		if (supervisor_alive(out))
			kill((pid_t)out->supervisor_pid, SIGUSR1);
		wait_gone(out, STOP_FIRST_WAIT_MS);
	} else if (strcmp(out->phase, "Stopping")) {
		return err_set(e, ERR_CONFLICT, 0, "sandbox '%s' is %s: only a running sandbox stops",
			       name, out->phase);
	}
	killed = force && supervisor_alive(out);
	if (killed)
		stop_supervisor(out);
	if (supervisor_alive(out))
		return 1;
	return mark_stopped(gw, out, killed ? "its main process did not stop in time" : "", e);
}

/* A stopped (or exited) sandbox runs its main command again, with its /sandbox kept. */
int sandboxes_start(struct gw *gw, const char *name, struct sandbox *out, struct err *e)
{
	char dir[PATH_MAX], status[PATH_MAX + 16];

	if (sandboxes_get(gw, name, out, e) < 0)
		return -1;
	if (!strcmp(out->phase, "Ready") || !strcmp(out->phase, "Provisioning"))
		return 0;
	if (!strcmp(out->phase, "Stopping"))
		return err_set(e, ERR_CONFLICT, 0, "sandbox '%s' is still stopping", name),
		       err_hint(e, "its main process has up to 10 s to exit; start it after that");
	if (strcmp(out->phase, "Stopped") && strcmp(out->phase, "Exited"))
		return err_set(e, ERR_CONFLICT, 0, "sandbox '%s' is %s%s%s", name, out->phase,
			       out->reason[0] ? ": " : "", out->reason),
		       err_hint(e, "delete it and create it again");
	if (sandbox_dir(gw, out, dir, sizeof(dir)) < 0)
		return err_set(e, ERR_RUNTIME, ENAMETOOLONG, "state path too long");
	snprintf(status, sizeof(status), "%s/status", dir);
	unlink(status);
	snprintf(out->phase, sizeof(out->phase), "Provisioning");
	out->reason[0] = '\0';
	out->has_exit = false;
	if (spawn_supervisor(gw, out, dir, e) < 0)
		return -1;
	if (save_state(gw, out, e) < 0)
		return -1;
	log_info("sandbox", "sandbox started", "sandbox", name, NULL);
	return 0;
}
