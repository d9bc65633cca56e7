/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The supervisor: one process per sandbox, started by the gateway as
 * `openshell supervise --dir D --socket S --id ID`. It starts the confined sandbox
 * (jail.c), keeps its main process's output in a replay buffer, serves attach sessions
 * on a unix socket with the frame protocol (lib/frame.h), answers the sandbox's proxy
 * listener, and records the sandbox's state in D/status ("ready", "exited N",
 * "error <reason>"), which the gateway reads.
 *
 * Egress: no network policy engine is wired in yet, so the proxy answers every request
 * with the reference's policy_denied response (the restrictive default has no network
 * policies: everything is denied).
 */
#include "supervisor.h"
#include "jail.h"
#include "lib/buf.h"
#include "lib/cgroup.h"
#include "lib/err.h"
#include "lib/frame.h"
#include "lib/fsutil.h"
#include "lib/http.h"
#include "lib/json.h"
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
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#define REPLAY_MAX (1u << 20) /* bytes of recent output frames kept for re-attach */
#define PROXY_CONNS 32
#define EXIT_LINGER_MS 2000   /* to flush the exit frame to an attached client */
#define UNCLAIMED_EXIT_MS 60000 /* output kept for a late attach after the command ended */

struct proxy_conn {
	int fd;
	struct http_parser parser;
	int64_t deadline;
};

struct sup {
	const char *dir, *id;
	struct json *spec;
	char status_path[PATH_MAX];
	int listen_fd, client_fd, stdin_fd, out_fd, err_fd, proxy_fd, sig_fd;
	pid_t init_pid;
	struct frame_decoder dec;
	struct buf replay, to_client, to_stdin;
	bool exited, stdin_eof;
	int exit_code;
	int64_t exit_ms;
	struct proxy_conn proxy[PROXY_CONNS];
	struct cgroup cg;
	bool has_cg;
};

#define SANDBOX_PIDS_MAX 2048

static int set_status(struct sup *s, const char *text)
{
	struct err e = ERR_INIT;

	return write_file_atomic(s->status_path, text, strlen(text), 0600, &e);
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

	add_env(j, "PATH", "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin");
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

static uint32_t hash_id(const char *id)
{
	uint32_t h = 2166136261u;

	for (; *id; id++)
		h = (h ^ (unsigned char)*id) * 16777619u;
	return h;
}

static char **fill_jail(struct sup *s, struct jail_spec *j, char *workdir, size_t n, char *root)
{
	const struct json *cmd = json_get(s->spec, "command");
	char **argv = xcalloc(json_len(cmd) + 1, sizeof(char *));
	size_t i;

	memset(j, 0, sizeof(*j));
	jail_default_paths(j);
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
	if (getuid() == 0) { /* each sandbox gets its own unprivileged host uid (DESIGN.md §6) */
		j->host_uid = 200000 + hash_id(s->id) % 100000;
		j->host_gid = j->host_uid;
		/* the sandbox's own files belong to it; the gateway's state dirs above are 0711 */
		if (chown(s->dir, j->host_uid, j->host_gid) < 0 ||
		    chown(workdir, j->host_uid, j->host_gid) < 0 ||
		    chown(root, j->host_uid, j->host_gid) < 0)
			fprintf(stderr, "warning: cannot hand the sandbox its files: %s\n", strerror(errno));
	} else {
		j->host_uid = getuid();
		j->host_gid = getgid();
	}
	return argv;
}

/* The gateway's group (its --cpus/--memory for all sandboxes together) and the sandbox's
 * own below it (--cpus/--memory, pids). Without a usable hierarchy the sandbox runs
 * unlimited and the status says so. */
static void setup_cgroup(struct sup *s)
{
	const struct json *lim = json_get(s->spec, "limits");
	struct cg_limits gw = { 0 }, sb = { 0, 0, SANDBOX_PIDS_MAX };
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
	int in[2], out[2], errp[2], ret;
	char **argv;

	if (pipe2(in, O_CLOEXEC) < 0 || pipe2(out, O_CLOEXEC) < 0 || pipe2(errp, O_CLOEXEC) < 0)
		return err_sys(e, ERR_RUNTIME, "cannot create pipes");
	argv = fill_jail(s, &j, workdir, sizeof(workdir), root);
	j.stdio[0] = in[0];
	j.stdio[1] = out[1];
	j.stdio[2] = errp[1];
	setup_cgroup(s);
	j.cgroup = s->has_cg ? &s->cg : NULL;
	ret = jail_spawn(&j, &s->init_pid, &s->proxy_fd, e);
	close(in[0]);
	close(out[1]);
	close(errp[1]);
	s->stdin_fd = in[1];
	s->out_fd = out[0];
	s->err_fd = errp[0];
	fcntl(s->stdin_fd, F_SETFL, O_NONBLOCK);
	fcntl(s->out_fd, F_SETFL, O_NONBLOCK);
	fcntl(s->err_fd, F_SETFL, O_NONBLOCK);
	if (s->proxy_fd >= 0)
		fcntl(s->proxy_fd, F_SETFL, O_NONBLOCK);
	for (size_t i = 0; i < j.n_env; i++)
		free((char *)j.env[i]);
	free(argv);
	return ret;
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

/* A new attach replaces the previous one; it first gets the output so far (replay). */
static void accept_client(struct sup *s)
{
	int fd = accept4(s->listen_fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);

	if (fd < 0)
		return;
	drop_client(s);
	s->client_fd = fd;
	buf_add(&s->to_client, s->replay.p, s->replay.len); /* the output so far, as it came */
}

static void client_frame(struct sup *s, const struct frame *f)
{
	if (f->type == FRAME_STDIN && s->stdin_fd >= 0 && !s->stdin_eof)
		buf_add(&s->to_stdin, f->data, f->len);
	else if (f->type == FRAME_EOF)
		s->stdin_eof = true; /* stdin is closed once what was sent before is written */
}

static void read_client(struct sup *s)
{
	unsigned char chunk[16384];
	struct err e = ERR_INIT;
	struct frame f;
	ssize_t n = read(s->client_fd, chunk, sizeof(chunk));
	size_t off = 0, used;

	if (n <= 0) {
		if (n == 0 || errno != EAGAIN)
			drop_client(s);
		return;
	}
	while (off < (size_t)n) {
		int r = frame_decode(&s->dec, chunk + off, (size_t)n - off, &used, &f, &e);

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

/* ---- the proxy listener: deny everything (no network policy is loaded) ------------------- */

static void proxy_accept(struct sup *s)
{
	struct http_limits lim = HTTP_LIMITS_PROXY;
	int fd = accept4(s->proxy_fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK), i;

	if (fd < 0)
		return;
	for (i = 0; i < PROXY_CONNS && s->proxy[i].fd >= 0; i++)
		;
	if (i == PROXY_CONNS) {
		close(fd);
		return;
	}
	s->proxy[i].fd = fd;
	s->proxy[i].deadline = now_mono_ms() + 30000;
	http_parser_init(&s->proxy[i].parser, HTTP_REQUEST, &lim);
}

static void proxy_close(struct proxy_conn *c)
{
	close(c->fd);
	c->fd = -1;
	http_parser_release(&c->parser);
}

/* The reference's deny responses (reference/policy.md §4.6), keys sorted, compact. */
static void proxy_deny(struct proxy_conn *c, int status)
{
	const struct http_msg *m = &c->parser.msg;
	struct buf body = BUF_INIT, out = BUF_INIT, what = BUF_INIT;
	struct err e = ERR_INIT;
	char len[24];

	if (status == 200 && !strcmp(m->method, "CONNECT")) {
		buf_addf(&what, "CONNECT %s", m->target);
		buf_adds(&body, "{\"detail\":");
		buf_adds(&what, " not permitted by policy");
		json_quote(&body, what.p, what.len);
		buf_adds(&body, ",\"error\":\"policy_denied\",\"reason\":\"no network policy "
				"allows this destination\"}");
		status = 403;
	} else if (status == 200 && str_has_prefix(m->target, "https://")) {
		buf_adds(&body, "Use CONNECT for HTTPS URLs");
		status = 400;
	} else if (status == 200) {
		buf_addf(&what, "%s %.*s not permitted by policy", m->method,
			 (int)strcspn(m->target, "?"), m->target);
		buf_adds(&body, "{\"detail\":");
		json_quote(&body, what.p, what.len);
		buf_adds(&body, ",\"error\":\"policy_denied\"}");
		status = 403;
	}
	snprintf(len, sizeof(len), "%zu", body.len);
	http_write_status_line(&out, status, NULL, &e);
	if (body.len)
		http_write_header(&out, "Content-Type",
				  body.p[0] == '{' ? "application/json" : "text/plain", &e);
	http_write_header(&out, "Content-Length", len, &e);
	http_write_header(&out, "Connection", "close", &e);
	http_write_end(&out);
	buf_add(&out, body.p, body.len);
	if (write(c->fd, out.p, out.len) < 0) {
		/* the caller went away: nothing to tell */
	}
	buf_release(&body);
	buf_release(&out);
	buf_release(&what);
	proxy_close(c);
}

static void proxy_read(struct proxy_conn *c)
{
	char chunk[4096];
	struct err e = ERR_INIT;
	ssize_t n = read(c->fd, chunk, sizeof(chunk));
	size_t used;
	int r;

	if (n <= 0) {
		if (n == 0 || errno != EAGAIN)
			proxy_close(c);
		return;
	}
	r = http_parse_head(&c->parser, chunk, (size_t)n, &used, &e);
	if (r == HTTP_DONE)
		proxy_deny(c, 200);
	else if (r == HTTP_ERROR)
		proxy_deny(c, http_parser_status(&c->parser));
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
		} else {
			stop = true; /* TERM/INT: the sandbox goes with us */
		}
	}
	return stop;
}

static int build_pollset(struct sup *s, struct pollfd *p)
{
	int n = 0, i;

	p[n++] = (struct pollfd){ s->sig_fd, POLLIN, 0 };
	p[n++] = (struct pollfd){ s->listen_fd, POLLIN, 0 };
	p[n++] = (struct pollfd){ s->client_fd, (short)(POLLIN | (s->to_client.len ? POLLOUT : 0)), 0 };
	p[n++] = (struct pollfd){ s->out_fd, POLLIN, 0 };
	p[n++] = (struct pollfd){ s->err_fd, POLLIN, 0 };
	p[n++] = (struct pollfd){ s->to_stdin.len ? s->stdin_fd : -1, POLLOUT, 0 };
	p[n++] = (struct pollfd){ s->proxy_fd, POLLIN, 0 };
	for (i = 0; i < PROXY_CONNS; i++)
		p[n++] = (struct pollfd){ s->proxy[i].fd, POLLIN, 0 };
	return n;
}

static void dispatch(struct sup *s, struct pollfd *p)
{
	int i;

	if (p[1].revents & POLLIN)
		accept_client(s);
	if (p[2].revents & (POLLIN | POLLHUP | POLLERR))
		read_client(s);
	if (p[3].revents & (POLLIN | POLLHUP))
		read_output(s, &s->out_fd, FRAME_STDOUT);
	if (p[4].revents & (POLLIN | POLLHUP))
		read_output(s, &s->err_fd, FRAME_STDERR);
	if (p[6].revents & POLLIN)
		proxy_accept(s);
	for (i = 0; i < PROXY_CONNS; i++)
		if (s->proxy[i].fd >= 0 && (p[7 + i].revents & (POLLIN | POLLHUP)))
			proxy_read(&s->proxy[i]);
	flush_fd(&s->stdin_fd, &s->to_stdin, true);
	if (s->stdin_eof && !s->to_stdin.len && s->stdin_fd >= 0) {
		close(s->stdin_fd);
		s->stdin_fd = -1;
	}
	flush_fd(&s->client_fd, &s->to_client, true);
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
		return now_mono_ms() - s->exit_ms > UNCLAIMED_EXIT_MS;
	if (s->client_fd >= 0 && s->to_client.len && now_mono_ms() - s->exit_ms < EXIT_LINGER_MS)
		return false;
	return true;
}

static int serve(struct sup *s)
{
	struct pollfd p[7 + PROXY_CONNS];

	for (;;) {
		int n = build_pollset(s, p);

		if (poll(p, (nfds_t)n, 200) < 0 && errno != EINTR)
			return -1;
		if ((p[0].revents & POLLIN) && handle_signals(s))
			return 0;
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
	for (i = 0; i < PROXY_CONNS; i++)
		if (s->proxy[i].fd >= 0)
			proxy_close(&s->proxy[i]);
	json_free(s->spec);
	buf_release(&s->replay);
	buf_release(&s->to_client);
	buf_release(&s->to_stdin);
	frame_decoder_release(&s->dec);
}

int supervise(const char *dir, const char *socket_path, const char *id, struct err *e)
{
	struct sup s = { .dir = dir, .id = id, .listen_fd = -1, .client_fd = -1, .stdin_fd = -1,
			 .out_fd = -1, .err_fd = -1, .proxy_fd = -1, .sig_fd = -1 };
	int i, ret = -1;

	for (i = 0; i < PROXY_CONNS; i++)
		s.proxy[i].fd = -1;
	frame_decoder_init(&s.dec);
	snprintf(s.status_path, sizeof(s.status_path), "%s/status", dir);
	if (setup_signals(&s, e) < 0 || load_spec(&s, e) < 0 ||
	    listen_unix(&s, socket_path, e) < 0 || start_jail(&s, e) < 0) {
		char msg[600], text[700];

		snprintf(text, sizeof(text), "error %s\n", err_text(e, msg, sizeof(msg)));
		set_status(&s, text);
		goto out;
	}
	set_status(&s, "ready\n");
	ret = serve(&s);
	if (ret < 0)
		err_sys(e, ERR_RUNTIME, "supervisor loop failed");
out:
	cleanup(&s);
	unlink(socket_path);
	return ret;
}
