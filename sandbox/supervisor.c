/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The supervisor: one process per sandbox, started by the gateway as
 * `openshell supervise --dir D --socket S --id ID`. It starts the confined sandbox
 * (jail.c), keeps its main process's output in a replay buffer, serves attach sessions
 * on a unix socket with the frame protocol (lib/frame.h), answers the sandbox's proxy
 * listener, and records the sandbox's state in D/status ("ready", "exited N",
 * "error <reason>"), which the gateway reads.
 *
 * Signals: TERM or INT stop the sandbox at once (delete, a forced stop). USR1 asks for a
 * graceful stop (`sandbox stop`, `gateway stop`): the main process gets SIGTERM (and SIGHUP
 * on a terminal, which an interactive shell heeds) and STOP_GRACE_MS to exit, then SIGKILL.
 *
 * Egress: the proxy (sandbox/proxy.c) runs in a child process of its own, on the listener
 * the sandbox made; the supervisor restarts it if it dies. The sandbox's policy is D/policy.yaml
 * (the gateway replaces it on `policy set`); its filesystem part shapes the jail at start.
 */
#include "supervisor.h"
#include "jail.h"
#include "proxy.h"
#include "sandbox_policy.h"
#include "transfer.h"
#include "lib/policy.h"
#include "lib/buf.h"
#include "lib/cgroup.h"
#include "lib/err.h"
#include "lib/frame.h"
#include "lib/fsutil.h"
#include "lib/http.h"
#include "lib/json.h"
#include "lib/log.h"
#include "lib/procnet.h"
#include "lib/rootdir.h"
#include "lib/util.h"
#include "lib/xalloc.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/signalfd.h>
#include <termios.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <sys/wait.h>
#include <unistd.h>

#define REPLAY_MAX (1u << 20) /* bytes of recent output frames kept for re-attach */
#define EXIT_LINGER_MS 2000   /* to flush the exit frame to an attached client */
#define UNCLAIMED_EXIT_MS 60000 /* output kept for a late attach after the command ended */
#define STOP_GRACE_MS 10000     /* a graceful stop: SIGTERM, then SIGKILL (as `docker stop`) */

enum exec_state { EXEC_FREE, EXEC_WAIT_REQUEST, EXEC_STARTING, EXEC_RUNNING, EXEC_DONE };

/* A connection whose first frame (DATA "attach" or "exec", written by the gateway) has
 * not arrived yet. */
struct pending {
	int fd;
	struct frame_decoder dec;
};

/* One `sandbox exec`: its connection, the process's pipes, its exit. */
struct exec_sess {
	enum exec_state state;
	int fd, in_fd, out_fd, err_fd;
	int32_t tag;
	struct frame_decoder dec;
	struct buf to_client, to_stdin;
	bool stdin_eof, exited;
	int code;
	int64_t done_ms; /* when the exit frame went out: the client closes, or we do later */
};

#define PENDING_MAX 8
#define EXEC_MAX 16
#define EXEC_BUF_MAX (1u << 20) /* buffered bytes per direction of an exec session */

struct sup {
	const char *dir, *id;
	struct json *spec;
	char status_path[PATH_MAX];
	int listen_fd, client_fd, stdin_fd, out_fd, err_fd, proxy_fd, diag_fd, sig_fd;
	pid_t init_pid;
	struct frame_decoder dec;
	struct buf replay, to_client, to_stdin;
	bool exited, stdin_eof, pty;
	int exit_code;
	int64_t exit_ms;
	int64_t stop_deadline_ms; /* a graceful stop was asked for: SIGKILL then; 0: none */
	pid_t proxy_pid;
	struct pol_policy pol; /* the policy the sandbox started with (filesystem, landlock) */
	const char *writable[JAIL_MAX_PATHS + 3]; /* for the proxy's identity check */
	size_t n_writable;
	struct cgroup cg;
	bool has_cg;
	int ctl_fd; /* to the sandbox's pid 1, for exec sessions */
	struct pending pend[PENDING_MAX];
	struct exec_sess ex[EXEC_MAX];
	int32_t next_tag;
	const char *env[JAIL_MAX_ENV]; /* the main process's environment, for exec sessions */
	size_t n_env;
};

static int set_status(struct sup *s, const char *text)
{
	struct err e = ERR_INIT;

	return write_file_replace(s->status_path, text, strlen(text), 0600, &e);
}

/* ---- the jail's specification ------------------------------------------------------------ */

static void add_env(struct jail_spec *j, const char *key, const char *v)
{
	if (j->n_env < JAIL_MAX_ENV - 1)
		j->env[j->n_env++] = xasprintf("%s=%s", key, v);
}

static void fill_env(struct jail_spec *j, const struct json *spec)
{
	static const char *const proxy_vars[] = { "HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY",
						  "http_proxy", "https_proxy", "all_proxy",
						  "grpc_proxy" };
	const struct json *env = json_get(spec, "env");
	size_t i;

	add_env(j, "PATH", SANDBOX_DEFAULT_PATH);
	add_env(j, "HOME", "/sandbox");
	add_env(j, "USER", "sandbox");
	add_env(j, "LOGNAME", "sandbox");
	add_env(j, "SHELL", "/bin/bash");
	add_env(j, "LANG", "C.UTF-8");
	add_env(j, "TERM", json_bool(json_get(spec, "tty")) ? "xterm-256color" : "dumb");
	add_env(j, "OPENSHELL_SANDBOX", "1");
	for (i = 0; i < ARRAY_SIZE(proxy_vars); i++)
		add_env(j, proxy_vars[i], "http://127.0.0.1:3128");
	add_env(j, "NO_PROXY", "localhost,127.0.0.1,::1");
	add_env(j, "no_proxy", "localhost,127.0.0.1,::1");
	add_env(j, "NODE_USE_ENV_PROXY", "1");
	for (i = 0; i < json_len(env); i++)
		add_env(j, json_key_at(env, i), json_str(json_at(env, i)));
	j->env[j->n_env] = NULL;
}

/* The host uid the gateway allocated (0: none, a sandbox from before allocation). */
static int64_t spec_uid(const struct sup *s)
{
	int64_t uid = 0;

	return json_get_i64(s->spec, "host_uid", &uid) == 0 ? uid : 0;
}

static char **fill_jail(struct sup *s, struct jail_spec *j, int from_fd, char *workdir, size_t n,
			char *root)
{
	const struct json *cmd = json_get(s->spec, "command");
	char **argv = xcalloc(json_len(cmd) + 1, sizeof(char *));
	size_t i;

	memset(j, 0, sizeof(*j));
	j->from_fd = from_fd;
	sandbox_policy_paths(&s->pol, j, s->writable, ARRAY_SIZE(s->writable), &s->n_writable);
	snprintf(workdir, n, "%s/workdir", s->dir);
	snprintf(root, n, "%s/root", s->dir);
	mkdir(root, 0700);
	j->workdir = workdir;
	j->root_dir = root;
	j->hostname = json_get_str(s->spec, "name", "sandbox");
	for (i = 0; i < json_len(cmd); i++)
		argv[i] = (char *)json_str(json_at(cmd, i));
	j->argv = argv;
	fill_env(j, s->spec);
	j->host_uid = rootdir_host_uid(spec_uid(s), s->id); /* as root, its own (DESIGN.md §6) */
	j->host_gid = rootdir_host_gid(spec_uid(s), s->id);
	if (getuid() == 0) {
		/* the sandbox's own files belong to it; the gateway's state dirs above are 0711 */
		if (chown(s->dir, j->host_uid, j->host_gid) < 0 ||
		    chown(workdir, j->host_uid, j->host_gid) < 0 ||
		    chown(root, j->host_uid, j->host_gid) < 0)
			fprintf(stderr, "warning: cannot hand the sandbox its files: %s\n", strerror(errno));
	}
	return argv;
}

/* The gateway's group (its --cpus/--memory and a pids cap, for all sandboxes together) and
 * the sandbox's own below it (--cpus/--memory, pids). Without a usable hierarchy the
 * sandbox runs unlimited and the status says so. */
static void setup_cgroup(struct sup *s)
{
	const struct json *lim = json_get(s->spec, "limits");
	struct cg_limits gw = { 0, 0, cg_gateway_pids_cap() }, sb = { 0, 0, CG_SANDBOX_PIDS };
	struct err e = ERR_INIT;
	char rel[256];

	cg_parse_cpus(json_get_str(lim, "gateway_cpus", NULL), &gw.cpu_millis, &e);
	cg_parse_memory(json_get_str(lim, "gateway_memory", NULL), &gw.memory, &e);
	if (json_get_str(lim, "cpus", NULL))
		cg_parse_cpus(json_get_str(lim, "cpus", NULL), &sb.cpu_millis, &e);
	if (json_get_str(lim, "memory", NULL))
		cg_parse_memory(json_get_str(lim, "memory", NULL), &sb.memory, &e);
	err_clear(&e);
	snprintf(rel, sizeof(rel), "openshell-%s", json_get_str(lim, "gateway", "gateway"));
	if (cg_create(rel, &gw, &s->cg, &e) < 0)
		goto fail;
	snprintf(rel, sizeof(rel), "openshell-%s/sb-%.12s", json_get_str(lim, "gateway", "gateway"),
		 s->id);
	if (cg_create(rel, &sb, &s->cg, &e) < 0)
		goto fail;
	s->has_cg = true;
	return;
fail:
	fprintf(stderr, "warning: limits not enforced: %s\n", e.msg);
}

static int start_jail(struct sup *s, struct err *e)
{
	struct jail_spec j;
	char workdir[PATH_MAX], root[PATH_MAX];
	int in[2] = { -1, -1 }, out[2] = { -1, -1 }, errp[2] = { -1, -1 }, ret, i;
	bool tty = json_bool(json_get(s->spec, "tty"));
	const char *from = json_get_str(s->spec, "from", NULL);
	int from_fd = -1;
	char **argv;

	/* --from: checked again now (it may have changed since create), and held open */
	if (from && (from_fd = rootdir_open(from, rootdir_host_uid(spec_uid(s), s->id),
					    rootdir_host_gid(spec_uid(s), s->id), e)) < 0)
		return -1;
	if (!tty && (pipe2(in, O_CLOEXEC) < 0 || pipe2(out, O_CLOEXEC) < 0 ||
		     pipe2(errp, O_CLOEXEC) < 0)) {
		if (from_fd >= 0)
			close(from_fd);
		return err_sys(e, ERR_RUNTIME, "cannot create pipes");
	}
	argv = fill_jail(s, &j, from_fd, workdir, sizeof(workdir), root);
	j.from_dir = from;
	j.tty = tty;
	j.stdio[0] = in[0];
	j.stdio[1] = out[1];
	j.stdio[2] = errp[1];
	setup_cgroup(s);
	j.cgroup = s->has_cg ? &s->cg : NULL;
	ret = jail_spawn(&j, &s->init_pid, &s->proxy_fd, &s->diag_fd, &s->ctl_fd, e);
	if (from_fd >= 0)
		close(from_fd);
	if (ret == 0 && tty) /* on a terminal: one master for both ways */
		ret = jail_recv_pty(s->ctl_fd, &in[1], e);
	for (i = 0; i < 3; i++)
		if (j.stdio[i] >= 0)
			close(j.stdio[i]);
	s->stdin_fd = in[1];
	s->out_fd = tty ? (in[1] >= 0 ? dup(in[1]) : -1) : out[0];
	s->err_fd = errp[0];
	s->pty = tty;
	if (s->stdin_fd >= 0)
		fcntl(s->stdin_fd, F_SETFL, O_NONBLOCK);
	if (s->out_fd >= 0)
		fcntl(s->out_fd, F_SETFL, O_NONBLOCK);
	if (s->err_fd >= 0)
		fcntl(s->err_fd, F_SETFL, O_NONBLOCK);
	if (s->proxy_fd >= 0)
		fcntl(s->proxy_fd, F_SETFL, O_NONBLOCK);
	memcpy(s->env, j.env, sizeof(s->env)); /* kept: exec sessions start from it */
	s->n_env = j.n_env;
	free(argv);
	return ret;
}

/* ---- the proxy's process ---------------------------------------------------------------- */

static bool identity_relaxed(void)
{
	static const char *const off[] = { "relaxed", "disabled", "endpoint-only", "false", "0" };
	const char *v = getenv("OPENSHELL_NETWORK_BINARY_IDENTITY");
	size_t i;

	for (i = 0; v && i < ARRAY_SIZE(off); i++)
		if (!strcmp(v, off[i]))
			return true;
	return false;
}

/* The child keeps only the listener (as fd 3), the sock_diag socket (as fd 4, when there is
 * one) and its own log; it dies with the
 * supervisor. Every other descriptor goes: a copy of the main process's stdin pipe or of a
 * client's socket would keep them open after the supervisor closed them. */
static __attribute__((noreturn)) void proxy_child(struct sup *s)
{
	char policy[PATH_MAX], status[PATH_MAX], logp[PATH_MAX];
	struct proxy_cfg cfg = { .listen_fd = 3, .diag_fd = -1, .init_pid = s->init_pid,
				 .policy_path = policy, .status_path = status,
				 .writable = s->writable, .n_writable = s->n_writable,
				 .identity_relaxed = identity_relaxed() };
	struct err e = ERR_INIT;
	sigset_t none;
	int diag = -1;

	prctl(PR_SET_PDEATHSIG, SIGKILL);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	log_close();
	/* out of the way of 3 and 4 first: it may be either */
	if (s->diag_fd >= 0 && (diag = fcntl(s->diag_fd, F_DUPFD_CLOEXEC, 5)) < 0)
		_exit(1);
	if (dup2(s->proxy_fd, 3) < 0 || (diag >= 0 && dup2(diag, 4) < 0) ||
	    syscall(SYS_close_range, diag >= 0 ? 5 : 4, ~0U, 0) < 0)
		_exit(1);
	if (diag >= 0)
		cfg.diag_fd = 4;
	snprintf(policy, sizeof(policy), "%s/policy.yaml", s->dir);
	snprintf(status, sizeof(status), "%s/policy.status", s->dir);
	snprintf(logp, sizeof(logp), "%s/sandbox.log", s->dir);
	log_open(logp, false, &e);
	prctl(PR_SET_NAME, "openshell-proxy");
	proxy_run(&cfg, &e);
	log_error("proxy", "the proxy stopped", "error", e.msg, NULL);
	_exit(1);
}

static int start_proxy(struct sup *s, struct err *e)
{
	pid_t pid = fork();

	if (pid < 0)
		return err_sys(e, ERR_RUNTIME, "cannot start the proxy");
	if (pid == 0)
		proxy_child(s);
	s->proxy_pid = pid;
	return 0;
}

/* ---- attach sessions -------------------------------------------------------------------- */

static int listen_unix(struct sup *s, const char *path, struct err *e)
{
	struct sockaddr_un a = { .sun_family = AF_UNIX };

	if (strlen(path) >= sizeof(a.sun_path))
		return err_set(e, ERR_RUNTIME, ENAMETOOLONG, "socket path too long: '%s'", path);
	strcpy(a.sun_path, path);
	unlink(path);
	s->listen_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (s->listen_fd < 0 || bind(s->listen_fd, (struct sockaddr *)&a, sizeof(a)) < 0 ||
	    chmod(path, 0600) < 0 || listen(s->listen_fd, 8) < 0)
		return err_sys(e, ERR_RUNTIME, "cannot listen on '%s'", path);
	return 0;
}

static void drop_client(struct sup *s)
{
	if (s->client_fd >= 0)
		close(s->client_fd);
	s->client_fd = -1;
	buf_reset(&s->to_client);
	frame_decoder_release(&s->dec);
	frame_decoder_init(&s->dec);
}

/* Connections start pending: the gateway's first frame says what they are. */
static void accept_conn(struct sup *s)
{
	int fd = accept4(s->listen_fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK), i;

	if (fd < 0)
		return;
	for (i = 0; i < PENDING_MAX && s->pend[i].fd >= 0; i++)
		;
	if (i == PENDING_MAX) {
		close(fd);
		return;
	}
	s->pend[i].fd = fd;
	frame_decoder_init(&s->pend[i].dec);
}

/* A new attach replaces the previous one; it first gets the output so far (replay). */
static void become_client(struct sup *s, int fd)
{
	drop_client(s);
	s->client_fd = fd;
	buf_add(&s->to_client, s->replay.p, s->replay.len); /* the output so far, as it came */
}

static void client_frame(struct sup *s, const struct frame *f)
{
	if (f->type == FRAME_RESIZE && s->pty && s->stdin_fd >= 0) {
		struct winsize ws = { 0 };

		frame_get_resize(f, &ws.ws_row, &ws.ws_col);
		ioctl(s->stdin_fd, TIOCSWINSZ, &ws);
	} else if (f->type == FRAME_STDIN && s->stdin_fd >= 0 && !s->stdin_eof)
		buf_add(&s->to_stdin, f->data, f->len);
	else if (f->type == FRAME_EOF && s->pty)
		; /* a terminal has no end of input: the user types exit or ^D */
	else if (f->type == FRAME_EOF)
		s->stdin_eof = true; /* stdin is closed once what was sent before is written */
}

static void feed_client(struct sup *s, const unsigned char *p, size_t n)
{
	struct err e = ERR_INIT;
	struct frame f;
	size_t off = 0, used;

	while (off < n) {
		int r = frame_decode(&s->dec, p + off, n - off, &used, &f, &e);

		if (r < 0) {
			drop_client(s);
			return;
		}
		off += used;
		if (r == 1)
			client_frame(s, &f);
		if (r == 0)
			break;
	}
}

static void read_client(struct sup *s)
{
	unsigned char chunk[16384];
	ssize_t n = read(s->client_fd, chunk, sizeof(chunk));

	if (n <= 0) {
		if (n == 0 || errno != EAGAIN)
			drop_client(s);
		return;
	}
	feed_client(s, chunk, (size_t)n);
}

/* ---- exec sessions ------------------------------------------------------------------------ */

static void exec_close(struct sup *s, struct exec_sess *x)
{
	if (x->state == EXEC_RUNNING || x->state == EXEC_STARTING)
		jail_exec_kill(s->ctl_fd, x->tag); /* the client went away: so does its process */
	if (x->fd >= 0)
		close(x->fd);
	if (x->in_fd >= 0)
		close(x->in_fd);
	if (x->out_fd >= 0)
		close(x->out_fd);
	if (x->err_fd >= 0)
		close(x->err_fd);
	frame_decoder_release(&x->dec);
	buf_release(&x->to_client);
	buf_release(&x->to_stdin);
	memset(x, 0, sizeof(*x));
	x->fd = x->in_fd = x->out_fd = x->err_fd = -1;
	x->state = EXEC_FREE;
}

static void exec_fail(struct exec_sess *x, const char *msg)
{
	frame_put_error(&x->to_client, msg);
	frame_put_exit(&x->to_client, 127);
	x->state = EXEC_DONE;
}

/* A transfer request: {"upload": DEST, "file"?: true} or {"download": PATH} (transfer.h);
 * 0 when the request is something else. */
static char transfer_kind(const struct json *req, const char **path)
{
	if ((*path = json_get_str(req, "download", NULL)))
		return TRANSFER_DOWNLOAD;
	if ((*path = json_get_str(req, "upload", NULL)))
		return json_bool(json_get(req, "file")) ? TRANSFER_UPLOAD_FILE : TRANSFER_UPLOAD;
	return 0;
}

/* The request: {"command": [..], "env"?: {K: V}, "workdir"?: "/sandbox"}, or a transfer. */
static void exec_start(struct sup *s, struct exec_sess *x, const struct frame *f)
{
	struct err e = ERR_INIT;
	struct json *req = json_parse((const char *)f->data, f->len, &e);
	const struct json *cmd = json_get(req, "command"), *env = json_get(req, "env");
	const char *envs[JAIL_MAX_ENV + 64], *path;
	char *argv[1025];
	char *extra[64];
	int in[2] = { -1, -1 }, out[2] = { -1, -1 }, errp[2] = { -1, -1 }, fds[3], r;
	char kind = transfer_kind(req, &path);
	size_t i, n = 0, k = 0;

	if (!req || (!kind && (!json_is_arr(cmd) || !json_len(cmd) || json_len(cmd) > 1024)) ||
	    json_len(env) > 64) {
		exec_fail(x, "invalid exec request");
		goto out;
	}
	for (i = 0; i < json_len(cmd); i++)
		argv[i] = (char *)json_str(json_at(cmd, i));
	argv[i] = NULL;
	for (i = 0; i < s->n_env; i++)
		envs[n++] = s->env[i];
	for (i = 0; i < json_len(env); i++)
		envs[n++] = extra[k++] = xasprintf("%s=%s", json_key_at(env, i), json_str(json_at(env, i)));
	envs[n] = NULL;
	if (pipe2(in, O_CLOEXEC) < 0 || pipe2(out, O_CLOEXEC) < 0 || pipe2(errp, O_CLOEXEC) < 0) {
		exec_fail(x, "cannot create pipes");
		goto out;
	}
	fds[0] = in[0], fds[1] = out[1], fds[2] = errp[1];
	x->tag = ++s->next_tag;
	if (kind)
		r = jail_transfer_send(s->ctl_fd, x->tag, kind, path, fds, &e);
	else
		r = jail_exec_send(s->ctl_fd, x->tag, argv, envs,
				   json_get_str(req, "workdir", "/sandbox"), fds, &e);
	if (r < 0) {
		exec_fail(x, e.msg);
		goto out;
	}
	x->in_fd = in[1], x->out_fd = out[0], x->err_fd = errp[0];
	in[1] = out[0] = errp[0] = -1;
	fcntl(x->in_fd, F_SETFL, O_NONBLOCK);
	fcntl(x->out_fd, F_SETFL, O_NONBLOCK);
	fcntl(x->err_fd, F_SETFL, O_NONBLOCK);
	x->state = EXEC_STARTING;
	if (kind)
		log_info("sandbox", kind == TRANSFER_DOWNLOAD ? "download" : "upload", "path", path,
			 NULL);
	else
		log_info("sandbox", "exec", "command", argv[0], NULL);
out:
	for (i = 0; i < 2; i++) {
		if (in[i] >= 0)
			close(in[i]);
		if (out[i] >= 0)
			close(out[i]);
		if (errp[i] >= 0)
			close(errp[i]);
	}
	for (i = 0; i < k; i++)
		free(extra[i]);
	json_free(req);
}

static void exec_frame(struct sup *s, struct exec_sess *x, const struct frame *f)
{
	if (x->state == EXEC_WAIT_REQUEST && f->type == FRAME_DATA)
		exec_start(s, x, f);
	else if (f->type == FRAME_STDIN && x->in_fd >= 0 && !x->stdin_eof)
		buf_add(&x->to_stdin, f->data, f->len);
	else if (f->type == FRAME_EOF)
		x->stdin_eof = true;
}

static void feed_exec(struct sup *s, struct exec_sess *x, const unsigned char *p, size_t n)
{
	struct err e = ERR_INIT;
	struct frame f;
	size_t off = 0, used;

	while (off < n && x->state != EXEC_FREE) {
		int r = frame_decode(&x->dec, p + off, n - off, &used, &f, &e);

		if (r < 0) {
			exec_close(s, x);
			return;
		}
		off += used;
		if (r == 0)
			break;
		exec_frame(s, x, &f);
	}
}

static void read_exec(struct sup *s, struct exec_sess *x)
{
	unsigned char chunk[16384];
	ssize_t n = read(x->fd, chunk, sizeof(chunk));

	if (n == 0 || (n < 0 && errno != EAGAIN))
		exec_close(s, x);
	else if (n > 0)
		feed_exec(s, x, chunk, (size_t)n);
}

static void exec_output(struct exec_sess *x, int *fd, enum frame_type type)
{
	char chunk[16384];
	struct err e = ERR_INIT;
	ssize_t n = read(*fd, chunk, sizeof(chunk));

	if (n > 0) {
		frame_put(&x->to_client, type, chunk, (size_t)n, &e);
	} else if (n == 0 || errno != EAGAIN) {
		close(*fd);
		*fd = -1;
	}
}

/* Events of pid 1: an exec started, could not start, or exited. */
static void read_ctl(struct sup *s)
{
	struct jail_event ev;
	int i;

	while (recv(s->ctl_fd, &ev, sizeof(ev), MSG_DONTWAIT) == (ssize_t)sizeof(ev)) {
		for (i = 0; i < EXEC_MAX; i++) {
			struct exec_sess *x = &s->ex[i];

			if (x->state == EXEC_FREE || x->tag != ev.tag)
				continue;
			if (ev.kind == 'p') {
				x->state = EXEC_RUNNING;
			} else if (ev.kind == 'f') {
				exec_fail(x, strerror(ev.value));
			} else if (ev.kind == 'e') {
				x->exited = true;
				x->code = ev.value;
			}
		}
	}
}

/* After the process exited and its output is drained, the exit frame goes out. */
static void exec_progress(struct exec_sess *x)
{
	if (x->state == EXEC_RUNNING && x->exited && x->out_fd < 0 && x->err_fd < 0) {
		frame_put_exit(&x->to_client, x->code);
		x->state = EXEC_DONE;
	}
	if (x->in_fd >= 0 && x->stdin_eof && !x->to_stdin.len) {
		close(x->in_fd);
		x->in_fd = -1;
	}
}

/* The first frame of a pending connection: DATA "attach" or DATA "exec". */
static void read_pending(struct sup *s, struct pending *pc)
{
	unsigned char chunk[16384];
	struct err e = ERR_INIT;
	struct frame f;
	size_t used = 0;
	ssize_t n = read(pc->fd, chunk, sizeof(chunk));
	int r, fd = pc->fd, i;

	if (n == 0 || (n < 0 && errno != EAGAIN))
		goto drop;
	if (n < 0)
		return;
	r = frame_decode(&pc->dec, chunk, (size_t)n, &used, &f, &e);
	if (r == 0)
		return;
	if (r < 0 || f.type != FRAME_DATA)
		goto drop;
	frame_decoder_release(&pc->dec);
	pc->fd = -1;
	if (f.len == 6 && !memcmp(f.data, "attach", 6)) {
		become_client(s, fd);
		feed_client(s, chunk + used, (size_t)n - used);
		return;
	}
	for (i = 0; i < EXEC_MAX && s->ex[i].state != EXEC_FREE; i++)
		;
	if (f.len != 4 || memcmp(f.data, "exec", 4) || i == EXEC_MAX) {
		close(fd);
		return;
	}
	s->ex[i].fd = fd;
	s->ex[i].state = EXEC_WAIT_REQUEST;
	frame_decoder_init(&s->ex[i].dec);
	feed_exec(s, &s->ex[i], chunk + used, (size_t)n - used);
	return;
drop:
	close(pc->fd);
	frame_decoder_release(&pc->dec);
	pc->fd = -1;
}


static void flush_fd(int *fd, struct buf *b, bool drop_on_error)
{
	ssize_t n;

	if (*fd < 0 || !b->len)
		return;
	n = write(*fd, b->p, b->len);
	if (n > 0) {
		memmove(b->p, b->p + n, b->len - (size_t)n);
		buf_setlen(b, b->len - (size_t)n);
	} else if (n < 0 && errno != EAGAIN && drop_on_error) {
		close(*fd);
		*fd = -1;
		buf_reset(b);
	}
}

/* Output of the main process: into the replay buffer (tail kept) and to the client. */
static void read_output(struct sup *s, int *fd, enum frame_type type)
{
	char chunk[16384];
	struct err e = ERR_INIT;
	ssize_t n = read(*fd, chunk, sizeof(chunk));

	if (n <= 0) {
		if (n == 0 || errno != EAGAIN) {
			close(*fd);
			*fd = -1;
		}
		return;
	}
	frame_put(&s->replay, type, chunk, (size_t)n, &e);
	while (s->replay.len > REPLAY_MAX) { /* drop the oldest frames */
		const unsigned char *h = (const unsigned char *)s->replay.p;
		size_t cut = FRAME_HEADER_LEN + ((size_t)h[1] << 24 | (size_t)h[2] << 16 |
						 (size_t)h[3] << 8 | h[4]);

		memmove(s->replay.p, s->replay.p + cut, s->replay.len - cut);
		buf_setlen(&s->replay, s->replay.len - cut);
	}
	if (s->client_fd >= 0)
		frame_put(&s->to_client, type, chunk, (size_t)n, &e);
}

/* ---- the loop ---------------------------------------------------------------------------- */

static void main_exited(struct sup *s, int status)
{
	char text[32];

	s->exited = true;
	s->exit_code = WIFSIGNALED(status) ? 128 + WTERMSIG(status) : WEXITSTATUS(status);
	s->exit_ms = now_mono_ms();
	snprintf(text, sizeof(text), "exited %d\n", s->exit_code);
	set_status(s, text);
	snprintf(text, sizeof(text), "%d", s->exit_code);
	log_info("sandbox", "Main process exited", "exit_code", text, NULL);
}

static void proxy_died(struct sup *s, int status)
{
	struct err e = ERR_INIT;
	char text[32];

	snprintf(text, sizeof(text), "%d", WIFSIGNALED(status) ? 128 + WTERMSIG(status) :
								 WEXITSTATUS(status));
	log_error("proxy", "the proxy died; restarting it", "status", text, NULL);
	s->proxy_pid = 0;
	if (!s->exited && start_proxy(s, &e) < 0)
		log_error("proxy", "cannot restart the proxy", "error", e.msg, NULL);
}

/* SIGUSR1: the main process (through pid 1, which passes the signals on) may end on its
 * own terms; serve() kills it when STOP_GRACE_MS have passed. */
static void stop_gracefully(struct sup *s)
{
	if (s->stop_deadline_ms || s->exited || s->init_pid <= 0)
		return;
	s->stop_deadline_ms = now_mono_ms() + STOP_GRACE_MS;
	log_info("sandbox", "Stopping: SIGTERM to the main process, SIGKILL in 10 s", NULL);
	if (s->pty)
		kill(s->init_pid, SIGHUP);
	kill(s->init_pid, SIGTERM);
}

static bool handle_signals(struct sup *s)
{
	struct signalfd_siginfo si;
	bool stop = false;
	int status;

	while (read(s->sig_fd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
		if (si.ssi_signo == SIGCHLD) {
			while (waitpid(s->init_pid, &status, WNOHANG) == s->init_pid)
				main_exited(s, status);
			if (s->proxy_pid > 0 && waitpid(s->proxy_pid, &status, WNOHANG) == s->proxy_pid)
				proxy_died(s, status);
		} else if (si.ssi_signo == SIGUSR1) {
			stop_gracefully(s);
		} else {
			stop = true; /* TERM/INT: the sandbox goes with us */
		}
	}
	return stop;
}

/* Fixed slots first (see dispatch), then the proxy's connections, the pending
 * connections and the exec sessions (four descriptors each). */
enum { P_SIG, P_LISTEN, P_CLIENT, P_OUT, P_ERR, P_STDIN, P_CTL, P_FIXED };
#define P_PEND P_FIXED
#define P_EXEC (P_PEND + PENDING_MAX)
#define P_TOTAL (P_EXEC + 4 * EXEC_MAX)

static int build_pollset(struct sup *s, struct pollfd *p)
{
	int i;

	p[P_SIG] = (struct pollfd){ s->sig_fd, POLLIN, 0 };
	p[P_LISTEN] = (struct pollfd){ s->listen_fd, POLLIN, 0 };
	p[P_CLIENT] = (struct pollfd){ s->client_fd, (short)(POLLIN | (s->to_client.len ? POLLOUT : 0)), 0 };
	p[P_OUT] = (struct pollfd){ s->out_fd, POLLIN, 0 };
	p[P_ERR] = (struct pollfd){ s->err_fd, POLLIN, 0 };
	p[P_STDIN] = (struct pollfd){ s->to_stdin.len ? s->stdin_fd : -1, POLLOUT, 0 };
	p[P_CTL] = (struct pollfd){ s->ctl_fd, POLLIN, 0 };
	for (i = 0; i < PENDING_MAX; i++)
		p[P_PEND + i] = (struct pollfd){ s->pend[i].fd, POLLIN, 0 };
	for (i = 0; i < EXEC_MAX; i++) {
		struct exec_sess *x = &s->ex[i];
		struct pollfd *q = &p[P_EXEC + 4 * i];

		bool in_room = x->to_stdin.len < EXEC_BUF_MAX, out_room = x->to_client.len < EXEC_BUF_MAX;

		/* what waits in a buffer stops its source: a download or upload streams */
		q[0] = (struct pollfd){ x->fd, (short)((in_room ? POLLIN : 0) |
						       (x->to_client.len ? POLLOUT : 0)), 0 };
		q[1] = (struct pollfd){ out_room ? x->out_fd : -1, POLLIN, 0 };
		q[2] = (struct pollfd){ out_room ? x->err_fd : -1, POLLIN, 0 };
		q[3] = (struct pollfd){ x->to_stdin.len ? x->in_fd : -1, POLLOUT, 0 };
	}
	return P_TOTAL;
}

static void dispatch_exec(struct sup *s, struct pollfd *p)
{
	int i;

	if (p[P_CTL].revents & POLLIN)
		read_ctl(s);
	for (i = 0; i < PENDING_MAX; i++)
		if (s->pend[i].fd >= 0 && (p[P_PEND + i].revents & (POLLIN | POLLHUP)))
			read_pending(s, &s->pend[i]);
	for (i = 0; i < EXEC_MAX; i++) {
		struct exec_sess *x = &s->ex[i];
		struct pollfd *q = &p[P_EXEC + 4 * i];

		if (x->state == EXEC_FREE)
			continue;
		if (x->out_fd >= 0 && (q[1].revents & (POLLIN | POLLHUP)))
			exec_output(x, &x->out_fd, FRAME_STDOUT);
		if (x->err_fd >= 0 && (q[2].revents & (POLLIN | POLLHUP)))
			exec_output(x, &x->err_fd, FRAME_STDERR);
		if (x->fd >= 0 && (q[0].revents & (POLLIN | POLLHUP | POLLERR)))
			read_exec(s, x);
		if (x->state == EXEC_FREE)
			continue;
		flush_fd(&x->in_fd, &x->to_stdin, true);
		exec_progress(x);
		flush_fd(&x->fd, &x->to_client, true);
		/* once all is said, the client's input is read and dropped until it closes:
		 * closing on unread input would reset the connection and lose the answer */
		if (x->state == EXEC_DONE && !x->to_client.len && !x->done_ms)
			x->done_ms = now_mono_ms();
		if (x->fd < 0 || (x->done_ms && now_mono_ms() - x->done_ms > EXIT_LINGER_MS))
			exec_close(s, x);
	}
}

static void dispatch(struct sup *s, struct pollfd *p)
{
	if (p[P_LISTEN].revents & POLLIN)
		accept_conn(s);
	if (p[P_CLIENT].revents & (POLLIN | POLLHUP | POLLERR))
		read_client(s);
	if (p[P_OUT].revents & (POLLIN | POLLHUP))
		read_output(s, &s->out_fd, FRAME_STDOUT);
	if (p[P_ERR].revents & (POLLIN | POLLHUP))
		read_output(s, &s->err_fd, FRAME_STDERR);
	flush_fd(&s->stdin_fd, &s->to_stdin, true);
	if (s->stdin_eof && !s->to_stdin.len && s->stdin_fd >= 0) {
		close(s->stdin_fd);
		s->stdin_fd = -1;
	}
	flush_fd(&s->client_fd, &s->to_client, true);
	dispatch_exec(s, p);
}

/* After the main process exited and its output is drained: tell the client, then go. */
static bool finished(struct sup *s)
{
	static bool told;

	if (!s->exited || s->out_fd >= 0 || s->err_fd >= 0)
		return false;
	if (!told && s->client_fd >= 0) {
		frame_put_exit(&s->to_client, s->exit_code);
		told = true;
	}
	if (!told) /* nobody saw the end yet: wait for an attach (create attaches after Ready) */
		return s->stop_deadline_ms || now_mono_ms() - s->exit_ms > UNCLAIMED_EXIT_MS;
	if (s->client_fd >= 0 && s->to_client.len && now_mono_ms() - s->exit_ms < EXIT_LINGER_MS)
		return false;
	return true;
}

/* The loop looks at the clock (exit lingers, unclaimed output) only while something is
 * going on; an idle sandbox sleeps until an event, so hundreds of them cost no CPU. */
static int poll_timeout(const struct sup *s)
{
	int i;

	if (s->exited || s->to_client.len || s->to_stdin.len || s->stop_deadline_ms)
		return 200;
	for (i = 0; i < PENDING_MAX; i++)
		if (s->pend[i].fd >= 0)
			return 200;
	for (i = 0; i < EXEC_MAX; i++)
		if (s->ex[i].state != EXEC_FREE)
			return 200;
	return -1;
}

static int serve(struct sup *s)
{
	struct pollfd p[P_TOTAL];

	for (;;) {
		int n = build_pollset(s, p);

		if (poll(p, (nfds_t)n, poll_timeout(s)) < 0 && errno != EINTR)
			return -1;
		if ((p[P_SIG].revents & POLLIN) && handle_signals(s))
			return 0;
		if (s->stop_deadline_ms && !s->exited && now_mono_ms() >= s->stop_deadline_ms) {
			log_warn("sandbox", "the main process did not stop within 10 s: killed", NULL);
			return 0; /* cleanup() kills pid 1, and with it the sandbox */
		}
		dispatch(s, p);
		if (finished(s)) {
			flush_fd(&s->client_fd, &s->to_client, true);
			return 0;
		}
	}
}

static int setup_signals(struct sup *s, struct err *e)
{
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGCHLD);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGUSR1);
	signal(SIGPIPE, SIG_IGN);
	if (sigprocmask(SIG_BLOCK, &set, NULL) < 0 ||
	    (s->sig_fd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC)) < 0)
		return err_sys(e, ERR_RUNTIME, "cannot set up signal handling");
	return 0;
}

static int load_spec(struct sup *s, struct err *e)
{
	char path[PATH_MAX];
	struct buf text = BUF_INIT;
	int r;

	snprintf(path, sizeof(path), "%s/spec.json", s->dir);
	r = read_file(path, 1 << 20, &text, e);
	if (r == 0 && !(s->spec = json_parse(text.p, text.len, e)))
		r = err_wrap(e, "'%s'", path);
	buf_release(&text);
	return r;
}

static void cleanup(struct sup *s)
{
	int i;

	if (s->init_pid > 0 && !s->exited) {
		kill(s->init_pid, SIGKILL); /* pid 1 of the sandbox: the whole pid namespace goes */
		waitpid(s->init_pid, NULL, 0);
	}
	if (s->has_cg) {
		struct err e = ERR_INIT;

		cg_kill_all(&s->cg, &e);
		cg_destroy(&s->cg, &e);
	}
	if (s->proxy_pid > 0) {
		kill(s->proxy_pid, SIGKILL);
		waitpid(s->proxy_pid, NULL, 0);
	}
	if (s->proxy_fd >= 0)
		close(s->proxy_fd);
	if (s->diag_fd >= 0)
		close(s->diag_fd);
	pol_release(&s->pol);
	for (i = 0; i < EXEC_MAX; i++)
		if (s->ex[i].state != EXEC_FREE)
			exec_close(s, &s->ex[i]);
	for (i = 0; i < PENDING_MAX; i++)
		if (s->pend[i].fd >= 0) {
			close(s->pend[i].fd);
			frame_decoder_release(&s->pend[i].dec);
		}
	for (i = 0; i < (int)s->n_env; i++)
		free((char *)s->env[i]);
	json_free(s->spec);
	buf_release(&s->replay);
	buf_release(&s->to_client);
	buf_release(&s->to_stdin);
	frame_decoder_release(&s->dec);
}

int supervise(const char *dir, const char *socket_path, const char *id, struct err *e)
{
	struct sup s = { .dir = dir, .id = id, .listen_fd = -1, .client_fd = -1, .stdin_fd = -1,
			 .out_fd = -1, .err_fd = -1, .proxy_fd = -1, .diag_fd = -1, .sig_fd = -1 };
	int i, ret = -1;

	for (i = 0; i < PENDING_MAX; i++)
		s.pend[i].fd = -1;
	for (i = 0; i < EXEC_MAX; i++)
		s.ex[i].fd = s.ex[i].in_fd = s.ex[i].out_fd = s.ex[i].err_fd = -1;
	s.ctl_fd = -1;
	frame_decoder_init(&s.dec);
	snprintf(s.status_path, sizeof(s.status_path), "%s/status", dir);
	{
		char logp[PATH_MAX];

		snprintf(logp, sizeof(logp), "%s/sandbox.log", dir);
		if (log_open(logp, false, e) < 0)
			return -1;
		log_info("sandbox", "Starting sandbox", NULL);
	}
	sandbox_policy_load(dir, &s.pol);
	if (setup_signals(&s, e) < 0 || load_spec(&s, e) < 0 ||
	    listen_unix(&s, socket_path, e) < 0 || start_jail(&s, e) < 0 ||
	    start_proxy(&s, e) < 0) {
		char msg[600], text[700];

		snprintf(text, sizeof(text), "error %s\n", err_text(e, msg, sizeof(msg)));
		set_status(&s, text);
		log_error("sandbox", "Sandbox failed to start", "error", msg, NULL);
		goto out;
	}
	set_status(&s, "ready\n");
	log_info("sandbox", "Sandbox ready", "name", json_get_str(s.spec, "name", ""), NULL);
	ret = serve(&s);
	if (ret < 0)
		err_sys(e, ERR_RUNTIME, "supervisor loop failed");
out:
	cleanup(&s);
	unlink(socket_path);
	log_close();
	return ret;
}
