/* SPDX-License-Identifier: Apache-2.0 */
/*
 * `openshell gateway start|run|stop|destroy`: the local gateway's life cycle
 * (seeds/003, reference/cli.md §13). `start` forks the daemon (the same binary, `gateway
 * run`), waits until it listens or says why it cannot, then registers it in the client
 * registry with its client certificate bundle and makes it active.
 */
#include "cmd.h"
#include "gateway_cmd.h"
#include "gateway/daemon.h"
#include "gateway/state.h"
#include "lib/buf.h"
#include "lib/config.h"
#include "lib/fsutil.h"
#include "lib/pki.h"
#include "lib/util.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define START_TIMEOUT_MS 15000
#define STOP_TIMEOUT_MS 15000 /* the gateway gives its sandboxes' main processes 10 s */
#define NOTIFY_ENV "OPENSHELL_GATEWAY_NOTIFY_FD"


#define START_OPTS(T)                                                                              \
	{ 0, "name", OPT_STR, offsetof(T, name), "NAME", "gateway name", NULL, NULL, 0, 0,         \
	  "openshell" },                                                                           \
	{ 'p', "port", OPT_INT, offsetof(T, port), "PORT", "port to listen on", NULL,             \
	  "OPENSHELL_GATEWAY_PORT", 1, 65535, "8080" },                                                                         \
	{ 0, "bind", OPT_STR, offsetof(T, bind), "ADDR", "address to listen on", NULL, NULL, 0, 0, \
	  "127.0.0.1" },                                                                           \
	{ 0, "plaintext", OPT_FLAG, offsetof(T, plaintext), NULL,                                  \
	  "serve plain HTTP (only behind a TLS-terminating proxy)", NULL, NULL, 0, 0, NULL },      \
	{ 0, "disable-gateway-auth", OPT_FLAG, offsetof(T, no_auth), NULL,                         \
	  "keep TLS but do not require client certificates", NULL, NULL, 0, 0, NULL },             \
	{ 0, "server-san", OPT_STRLIST, offsetof(T, sans), "SAN",                                  \
	  "extra DNS name or IP for the server certificate (repeatable)", NULL, NULL, 0, 0, NULL }, \
	{ 0, "cpus", OPT_STR, offsetof(T, cpus), "N", "CPUs for all sandboxes together", NULL,     \
	  NULL, 0, 0, "4.0" },                                                                     \
	{ 0, "memory", OPT_STR, offsetof(T, memory), "SIZE", "memory for all sandboxes together",  \
	  NULL, NULL, 0, 0, "16g" },                                                               \
	{ 0, "max-sandboxes", OPT_INT, offsetof(T, max_sandboxes), "N",                            \
	  "maximum number of sandboxes", NULL, NULL, 1, 10000, "20" },                             \
	{ 'y', "yes", OPT_FLAG, offsetof(T, yes), NULL, "do not ask for confirmation", NULL, NULL, \
	  0, 0, NULL }

const struct opt gateway_start_opts[] = {
	START_OPTS(struct gateway_start_args),
	{ 0, "recreate", OPT_FLAG, offsetof(struct gateway_start_args, recreate), NULL,
	  "destroy the gateway's state and start afresh", NULL, NULL, 0, 0, NULL },
	OPT_END,
};

const struct opt gateway_run_opts[] = {
	START_OPTS(struct gateway_start_args),
	OPT_END,
};

static bool is_loopback_bind(const char *b)
{
	return !strcmp(b, "localhost") || !strcmp(b, "::1") || str_has_prefix(b, "127.");
}

static void fill_config(const struct gateway_start_args *a, struct gw_config *c)
{
	static const char *sans[17];
	size_t i;

	memset(c, 0, sizeof(*c));
	for (i = 0; i < a->sans.n && i < 16; i++)
		sans[i] = a->sans.v[i];
	sans[i] = NULL;
	c->name = a->name ? a->name : "openshell";
	c->bind = a->bind ? a->bind : "127.0.0.1";
	c->port = a->port ? (int)a->port : 8080;
	c->plaintext = a->plaintext;
	c->no_client_auth = a->no_auth;
	c->sans = sans;
	c->cpus = a->cpus;
	c->memory = a->memory;
	c->max_sandboxes = a->max_sandboxes;
	c->notify_fd = -1;
}

static int check_start_args(const struct gw_config *c, bool yes, struct err *e)
{
	if (cfg_check_name(c->name, e) < 0)
		return -1;
	if (c->plaintext && !is_loopback_bind(c->bind) && !yes)
		return err_set(e, ERR_USAGE, 0,
			       "refusing to serve plain HTTP on the non-loopback address '%s'", c->bind),
		       err_hint(e, "anyone who can reach it could run code on this host; put a "
				   "TLS-terminating proxy in front and pass --yes, or drop --plaintext");
	return 0;
}

struct run_argv {
	char *v[48];
	char port[16], max[24];
};

/* argv for `openshell gateway run ...` equivalent to the parsed start options. */
static int build_run_argv(const struct gateway_start_args *a, const struct gw_config *c,
			  struct run_argv *r, struct err *e)
{
	size_t n = 0, i;

#define ARG(x) (r->v[n++] = (char *)(x))
	if (a->sans.n > 16)
		return err_set(e, ERR_USAGE, 0, "at most 16 --server-san values");
	ARG("openshell"), ARG("gateway"), ARG("run"), ARG("--name"), ARG(c->name);
	ARG("--bind"), ARG(c->bind);
	snprintf(r->port, sizeof(r->port), "%d", c->port);
	ARG("--port"), ARG(r->port);
	if (c->plaintext)
		ARG("--plaintext");
	if (c->no_client_auth)
		ARG("--disable-gateway-auth");
	if (a->yes)
		ARG("--yes");
	for (i = 0; i < a->sans.n; i++)
		ARG("--server-san"), ARG(a->sans.v[i]);
	if (c->cpus)
		ARG("--cpus"), ARG(c->cpus);
	if (c->memory)
		ARG("--memory"), ARG(c->memory);
	if (c->max_sandboxes) {
		snprintf(r->max, sizeof(r->max), "%lld", (long long)c->max_sandboxes);
		ARG("--max-sandboxes"), ARG(r->max);
	}
	r->v[n] = NULL;
#undef ARG
	return 0;
}

/* Forks the daemon (double fork + setsid) with a pipe it reports readiness on.
 * Returns the read end of the pipe. */
static int spawn_daemon(const struct gw_paths *p, struct run_argv *r, struct err *e)
{
	int pfd[2], logfd;
	pid_t pid;
	char fdnum[16];

	if (pipe2(pfd, O_CLOEXEC) < 0)
		return err_sys(e, ERR_RUNTIME, "cannot create a pipe");
	pid = fork();
	if (pid < 0) {
		close(pfd[0]);
		close(pfd[1]);
		return err_sys(e, ERR_RUNTIME, "cannot start the gateway process");
	}
	if (pid == 0) {
		/* child: a new session, then a grandchild that is the daemon */
		if (setsid() < 0 || fork() != 0)
			_exit(0);
		logfd = open("/dev/null", O_RDWR | O_CLOEXEC);
		if (logfd < 0 || dup2(logfd, 0) < 0 || dup2(logfd, 1) < 0 || dup2(logfd, 2) < 0)
			_exit(127);
		if (fcntl(pfd[1], F_SETFD, 0) < 0 || chdir("/") < 0)
			_exit(127);
		snprintf(fdnum, sizeof(fdnum), "%d", pfd[1]);
		setenv(NOTIFY_ENV, fdnum, 1);
		execv("/proc/self/exe", r->v);
		_exit(127);
	}
	close(pfd[1]);
	waitpid(pid, NULL, 0);
	(void)p;
	return pfd[0];
}

/* Reads the daemon's report: "ok\n", or an error message (and "\nhint: ..."). */
static int wait_ready(int fd, const char *name, struct err *e)
{
	struct buf msg = BUF_INIT;
	int64_t deadline = now_mono_ms() + START_TIMEOUT_MS;
	char chunk[512], *hint;
	int ret = -1;

	for (;;) {
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		int64_t left = deadline - now_mono_ms();
		ssize_t r;

		if (left <= 0 || poll(&pfd, 1, (int)left) == 0) {
			err_set(e, ERR_TIMEOUT, 0, "gateway '%s' did not start within %d s", name,
				START_TIMEOUT_MS / 1000);
			err_hint(e, "see its log: openshell doctor logs --name %s", name);
			goto out;
		}
		r = read(fd, chunk, sizeof(chunk));
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		buf_add(&msg, chunk, (size_t)r);
	}
	if (!strcmp(msg.p, "ok\n")) {
		ret = 0;
		goto out;
	}
	if (!msg.len) {
		err_set(e, ERR_RUNTIME, 0, "gateway '%s' exited during start-up", name);
		err_hint(e, "see its log: openshell doctor logs --name %s", name);
		goto out;
	}
	hint = strstr(msg.p, "\nhint: ");
	if (hint)
		*hint = '\0';
	err_set(e, ERR_RUNTIME, 0, "%s", str_trim(msg.p));
	if (hint)
		err_hint(e, "%s", str_trim(hint + 7));
out:
	close(fd);
	buf_release(&msg);
	return ret;
}

/* Copies the gateway's client bundle into the registry and registers it as active. */
static int register_local(const struct gw_config *c, const struct gw_paths *p, struct err *e)
{
	struct buf ca = BUF_INIT, crt = BUF_INIT, key = BUF_INIT;
	struct gw_meta m = { 0 };
	int ret = -1;

	snprintf(m.name, sizeof(m.name), "%s", c->name);
	snprintf(m.endpoint, sizeof(m.endpoint), "%s://%s:%d", c->plaintext ? "http" : "https",
		 is_loopback_bind(c->bind) || !strcmp(c->bind, "0.0.0.0") ? "127.0.0.1" : c->bind,
		 c->port);
	m.port = c->port;
	snprintf(m.auth_mode, sizeof(m.auth_mode), "%s", c->plaintext ? "plaintext" : "mtls");
	if (!c->plaintext) {
		if (pki_client_bundle(p->tls, &ca, &crt, &key, e) < 0 ||
		    cfg_install_mtls(c->name, &ca, &crt, &key, e) < 0)
			goto out;
	}
	if (cfg_save(&m, e) < 0 || cfg_set_active(c->name, e) < 0)
		goto out;
	ret = 0;
out:
	buf_release(&ca);
	buf_release(&crt);
	explicit_bzero(key.p, key.len);
	buf_release(&key);
	return ret;
}

static void print_started(struct cli *cli, const struct gw_config *c, const struct gw_paths *p,
			  const char *verb)
{
	ui_success(cli, "Gateway '%s' %s", c->name, verb);
	printf("  Endpoint: %s://%s:%d\n  Auth: %s\n  State: %s\n", c->plaintext ? "http" : "https",
	       c->bind, c->port, c->plaintext ? "plaintext" : c->no_client_auth ? "tls" : "mtls",
	       p->root);
	printf("  Logs: openshell doctor logs --name %s\n", c->name);
}

static int start_gateway(struct cli *cli, struct gateway_start_args *a, bool quiet, struct err *e)
{
	struct gw_config c;
	struct gw_paths p;
	struct run_argv r;
	pid_t pid;
	int fd;

	fill_config(a, &c);
	if (check_start_args(&c, a->yes, e) < 0 || gw_paths_for(c.name, &p, e) < 0)
		return -1;
	pid = gw_running_pid(&p);
	if (pid && !a->recreate) {
		if (!quiet)
			ui_info(cli, "Gateway '%s' is already running (pid %ld)", c.name, (long)pid);
		return register_local(&c, &p, e) < 0 ? -1 : 0;
	}
	if (a->recreate) {
		if (pid && gateway_stop_pid(cli, c.name, &p, pid, e) < 0)
			return -1;
		if (path_exists(p.root))
			ui_warn(cli, "Recreating gateway '%s': its previous state (database, "
				     "certificates, sandboxes) is removed", c.name);
		if (remove_tree(p.root, e) < 0)
			return -1;
	}
	if (mkdir_p(p.root, 0700, e) < 0 || build_run_argv(a, &c, &r, e) < 0)
		return -1;
	fd = spawn_daemon(&p, &r, e);
	if (fd < 0 || wait_ready(fd, c.name, e) < 0 || register_local(&c, &p, e) < 0)
		return -1;
	if (!quiet)
		print_started(cli, &c, &p, "started");
	return 0;
}

int gateway_start_quiet(struct cli *cli, struct gateway_start_args *a, struct err *e)
{
	return start_gateway(cli, a, true, e);
}

int gateway_start_run(struct cli *cli, void *args, int argc, char **argv, struct err *e)
{
	(void)argc;
	(void)argv;
	return start_gateway(cli, args, false, e);
}

int gateway_run_run(struct cli *cli, void *args, int argc, char **argv, struct err *e)
{
	struct gateway_start_args *a = args;
	const char *nfd = getenv(NOTIFY_ENV);
	struct gw_config c;
	uint64_t fd;

	(void)cli;
	(void)argc;
	(void)argv;
	fill_config(a, &c);
	if (check_start_args(&c, a->yes, e) < 0)
		return -1;
	if (nfd && parse_u64(nfd, 3, 1 << 20, &fd) == 0 && fcntl((int)fd, F_SETFD, FD_CLOEXEC) == 0)
		c.notify_fd = (int)fd; /* close-on-exec again: supervisors must not hold it open */
	unsetenv(NOTIFY_ENV);
	c.log_stderr = c.notify_fd < 0;
	return gw_daemon_run(&c, e) < 0 ? -1 : 0;
}

/* SIGTERM, then wait for the lock to be released; SIGKILL after STOP_TIMEOUT_MS. */
int gateway_stop_pid(struct cli *cli, const char *name, const struct gw_paths *p, pid_t pid,
		     struct err *e)
{
	int64_t deadline = now_mono_ms() + STOP_TIMEOUT_MS;

	if (kill(pid, SIGTERM) < 0 && errno != ESRCH)
		return err_sys(e, ERR_RUNTIME, "cannot stop gateway '%s' (pid %ld)", name, (long)pid);
	while (gw_running_pid(p) && now_mono_ms() < deadline)
		poll(NULL, 0, 50);
	if (gw_running_pid(p)) {
		ui_warn(cli, "Gateway '%s' did not stop within %d s; killing it", name,
			STOP_TIMEOUT_MS / 1000);
		kill(pid, SIGKILL);
		while (gw_running_pid(p))
			poll(NULL, 0, 50);
	}
	return 0;
}


const struct opt gateway_stop_opts[] = {
	{ 0, "name", OPT_STR, offsetof(struct gateway_name_args, name), "NAME", "gateway name or id", NULL,
	  NULL, 0, 0, "the active gateway, else openshell" },
	OPT_END,
};

const struct opt gateway_destroy_opts[] = {
	{ 0, "name", OPT_STR, offsetof(struct gateway_name_args, name), "NAME", "gateway name or id", NULL,
	  NULL, 0, 0, "the active gateway, else openshell" },
	{ 'y', "yes", OPT_FLAG, offsetof(struct gateway_name_args, yes), NULL,
	  "do not ask for confirmation", NULL, NULL, 0, 0, NULL },
	OPT_END,
};

/* NAME, numeric id, -g, the active gateway, or "openshell", in that order. */
int gateway_local_name(struct cli *cli, const char *given, char *dst, size_t n, struct err *e)
{
	uint64_t id;

	if (given && parse_u64(given, 1, 1000000, &id) == 0)
		return gw_name_by_id((long)id, dst, n, e);
	if (!given)
		given = cli->gateway;
	if (!given) {
		if (cfg_get_active(dst, n, e) < 0)
			return -1;
		if (dst[0])
			return 0;
		given = "openshell";
	}
	if (cfg_check_name(given, e) < 0)
		return -1;
	snprintf(dst, n, "%s", given);
	return 0;
}

int gateway_stop_run(struct cli *cli, void *args, int argc, char **argv, struct err *e)
{
	struct gateway_name_args *a = args;
	char name[CFG_NAME_MAX];
	struct gw_paths p;
	pid_t pid;

	if (gateway_local_name(cli, argc ? argv[0] : a->name, name, sizeof(name), e) < 0 ||
	    gw_paths_for(name, &p, e) < 0)
		return -1;
	pid = gw_running_pid(&p);
	if (!pid) {
		if (!path_exists(p.root))
			return err_set(e, ERR_NOTFOUND, 0, "no local gateway named '%s'", name),
			       err_hint(e, "start one with: openshell gateway start --name %s", name);
		ui_info(cli, "Gateway '%s' is not running", name);
		return 0;
	}
	if (gateway_stop_pid(cli, name, &p, pid, e) < 0)
		return -1;
	ui_success(cli, "Gateway '%s' stopped", name);
	return 0;
}

static bool confirm(const char *question)
{
	char line[16];

	fprintf(stderr, "%s [y/N] ", question);
	return fgets(line, sizeof(line), stdin) && (line[0] == 'y' || line[0] == 'Y');
}

int gateway_destroy_run(struct cli *cli, void *args, int argc, char **argv, struct err *e)
{
	struct gateway_name_args *a = args;
	char name[CFG_NAME_MAX], q[256], mtls[PATH_MAX];
	struct gw_paths p;
	struct gw_meta m;
	pid_t pid;

	if (gateway_local_name(cli, argc ? argv[0] : a->name, name, sizeof(name), e) < 0 ||
	    gw_paths_for(name, &p, e) < 0 || cfg_mtls_dir(name, mtls, sizeof(mtls), e) < 0)
		return -1;
	if (!path_exists(p.root) && cfg_load(name, &m, e) < 0)
		return err_set(e, ERR_NOTFOUND, 0, "no local gateway named '%s'", name);
	if (!a->yes) {
		if (!cli->stdin_tty)
			return err_set(e, ERR_USAGE, 0,
				       "destroying gateway '%s' requires confirmation", name),
			       err_hint(e, "pass --yes in non-interactive mode");
		snprintf(q, sizeof(q), "Destroy gateway '%s' and everything it holds (sandboxes, "
				       "their files, certificates)?", name);
		if (!confirm(q))
			return err_set(e, ERR_RUNTIME, 0, "aborted by user");
	}
	pid = gw_running_pid(&p);
	if (pid && gateway_stop_pid(cli, name, &p, pid, e) < 0)
		return -1;
	if (remove_tree(p.root, e) < 0)
		return -1;
	if (cfg_load(name, &m, e) == 0 && !m.system && cfg_remove(name, e) < 0)
		return -1;
	err_clear(e);
	if (remove_tree(mtls, e) < 0)
		return -1;
	*strrchr(mtls, '/') = '\0'; /* the registration dir, empty now unless the user put files there */
	rmdir(mtls);
	ui_success(cli, "Gateway '%s' destroyed", name);
	return 0;
}
