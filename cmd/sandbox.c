/* SPDX-License-Identifier: Apache-2.0 */
/*
 * `openshell sandbox create|list|get|delete|exec|connect|stop|start` (reference/cli.md
 * §4.1, §7; upload and download are in cmd/transfer.c). create starts a local gateway
 * when none is configured (auto-bootstrap, cli.md §13), creates the sandbox, waits until
 * it is Ready and, unless --detach, attaches to its main process and exits with that
 * process's exit status.
 */
#include "cmd.h"
#include "gateway_cmd.h"
#include "sandbox_cmd.h"
#include "policy_cmd.h"
#include "gateway/sandboxes.h"
#include "gateway/state.h"
#include "lib/buf.h"
#include "lib/client.h"
#include "lib/frame.h"
#include "lib/fsutil.h"
#include "lib/json.h"
#include "lib/util.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#define PROVISION_TIMEOUT_S 300
#define WAIT_READY_STEP_MS 5000 /* how long one answer may wait for the phase to change */

struct create_args {
	const char *name, *policy, *output, *cpus, *memory, *from;
	struct strlist env, labels;
	bool tty, no_tty, detach, no_keep;
};

static const struct opt create_opts[] = {
	{ 0, "name", OPT_STR, offsetof(struct create_args, name), "NAME",
	  "sandbox name (a DNS label of at most 19 characters)", NULL, NULL, 0, 0, "generated" },
	{ 0, "env", OPT_STRLIST, offsetof(struct create_args, env), "K=V",
	  "environment variable for the command (repeatable)", NULL, NULL, 0, 0, NULL },
	{ 0, "from", OPT_STR, offsetof(struct create_args, from), "DIR",
	  "root filesystem: a directory on the gateway's host (no images)", NULL, NULL, 0, 0,
	  "the host's /" },
	{ 0, "policy", OPT_STR, offsetof(struct create_args, policy), "FILE",
	  "sandbox policy (YAML)", NULL, "OPENSHELL_SANDBOX_POLICY", 0, 0, NULL },
	{ 0, "cpus", OPT_STR, offsetof(struct create_args, cpus), "N", "CPU limit (4.0, 0.5, 250m)",
	  NULL, NULL, 0, 0, NULL },
	{ 0, "memory", OPT_STR, offsetof(struct create_args, memory), "SIZE",
	  "memory limit (512m, 2g, 1Gi)", NULL, NULL, 0, 0, NULL },
	{ 0, "tty", OPT_FLAG, offsetof(struct create_args, tty), NULL, "run the command on a terminal",
	  NULL, NULL, 0, 0, NULL },
	{ 0, "no-tty", OPT_FLAG, offsetof(struct create_args, no_tty), NULL,
	  "run the command without a terminal", NULL, NULL, 0, 0, NULL },
	{ 0, "detach", OPT_FLAG, offsetof(struct create_args, detach), NULL,
	  "return once the sandbox is ready, without attaching", NULL, NULL, 0, 0, NULL },
	{ 0, "no-keep", OPT_FLAG, offsetof(struct create_args, no_keep), NULL,
	  "delete the sandbox when the command ends", NULL, NULL, 0, 0, NULL },
	{ 'o', "output", OPT_ENUM, offsetof(struct create_args, output), "FORMAT",
	  "print the sandbox as json or yaml and do not attach", cmd_output_choices, NULL, 0, 0,
	  "table" },
	OPT_END,
};

/* ---- gateway resolution with auto-bootstrap ---------------------------------------------- */

/* Starts the local gateway `name` unless it runs; a lock makes racing CLIs start one. */
static int bootstrap(struct cli *cli, const char *name, struct err *e)
{
	struct gateway_start_args a = { 0 };
	char base[512], lock[600];
	int fd, r;

	if (gw_state_base(base, sizeof(base), e) < 0 || mkdir_p(base, 0700, e) < 0)
		return -1;
	snprintf(lock, sizeof(lock), "%s/.bootstrap.lock", base);
	fd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0 || flock(fd, LOCK_EX) < 0)
		return err_sys(e, ERR_RUNTIME, "cannot lock '%s'", lock);
	fprintf(stderr, "Ensuring gateway... ");
	fflush(stderr);
	a.name = name;
	if (getenv("OPENSHELL_GATEWAY_PORT"))
		parse_i64(getenv("OPENSHELL_GATEWAY_PORT"), 1, 65535, &a.port);
	r = gateway_start_quiet(cli, &a, e);
	fprintf(stderr, r == 0 ? "OK (gateway %s)\n" : "FAILED\n", name);
	close(fd);
	return r;
}

static int resolve_or_bootstrap(struct cli *cli, struct gw_target *t, struct err *e)
{
	const char *name = cli->gateway ? cli->gateway : "openshell";

	if (client_resolve(cli->gateway, cli->gateway_endpoint, t, e) == 0)
		return 0;
	if (e->code != ERR_NOTFOUND || cli->gateway_endpoint)
		return -1;
	/* nothing configured under this name: a local gateway is started, never replaced */
	if (strstr(e->msg, "no active gateway") == NULL && !cli->gateway)
		return -1;
	err_clear(e);
	if (bootstrap(cli, name, e) < 0)
		return -1;
	return client_resolve(name, NULL, t, e);
}

/* ---- create ------------------------------------------------------------------------------- */

static struct json *create_request(const struct create_args *a, struct cli *cli, int argc,
				   char **argv, bool tty, struct err *e)
{
	struct json *req = json_new_obj(), *cmd = json_new_arr(), *env = json_new_obj();
	size_t i;

	(void)argc;
	(void)argv;
	if (a->name)
		json_obj_add_str(req, "name", a->name);
	if (cli->dash_argc == 0 && !a->from) { /* with --from the gateway picks DIR's shell */
		json_arr_add(cmd, json_new_str(access("/bin/bash", X_OK) == 0 ? "/bin/bash" : "/bin/sh"));
		json_arr_add(cmd, json_new_str("-l"));
	}
	for (i = 0; i < (size_t)cli->dash_argc; i++)
		json_arr_add(cmd, json_new_str(cli->dash_argv[i]));
	if (json_len(cmd))
		json_obj_add(req, "command", cmd);
	else
		json_free(cmd);
	for (i = 0; i < a->env.n; i++) {
		const char *eq = strchr(a->env.v[i], '=');
		char key[257];

		if (!eq || eq == a->env.v[i] || (size_t)(eq - a->env.v[i]) >= sizeof(key)) {
			json_free(env);
			json_free(req);
			err_set(e, ERR_USAGE, 0, "invalid --env '%s': expected KEY=VALUE", a->env.v[i]);
			return NULL;
		}
		snprintf(key, sizeof(key), "%.*s", (int)(eq - a->env.v[i]), a->env.v[i]);
		json_obj_add_str(env, key, eq + 1);
	}
	json_obj_add(req, "env", env);
	json_obj_add_bool(req, "tty", tty);
	if (a->cpus)
		json_obj_add_str(req, "cpus", a->cpus);
	if (a->memory)
		json_obj_add_str(req, "memory", a->memory);
	return req;
}

/* Until Ready (accepted only from the gateway's fresh answer), Error or timeout. The
 * gateway holds each answer while the sandbox is Provisioning (?wait=), so this does not
 * poll; a gateway that answers at once anyway (an older one) is asked again after 5 ms. */
static int wait_ready(struct cli *cli, const struct gw_target *t, const char *name, struct err *e)
{
	int64_t start = now_mono_ms(), deadline = start + PROVISION_TIMEOUT_S * 1000LL;
	char path[160];

	snprintf(path, sizeof(path), "/v1/sandboxes/%s?wait=%d", name, WAIT_READY_STEP_MS);
	for (;;) {
		struct client_resp r;
		const char *phase;
		int done;

		if (client_call(t, "GET", path, NULL, &r, e) < 0)
			return -1;
		phase = json_get_str(r.body, "phase", "");
		done = !strcmp(phase, "Ready") || !strcmp(phase, "Exited");
		if (!strcmp(phase, "Error"))
			err_set(e, ERR_RUNTIME, 0, "sandbox entered error phase while provisioning: %s",
				json_get_str(r.body, "reason", "unknown reason"));
		client_resp_release(&r);
		if (e->code)
			return -1;
		if (done) {
			if (!cli->stdout_tty)
				fprintf(stderr, "[%.1fs] Sandbox ready\n", (now_mono_ms() - start) / 1000.0);
			return 0;
		}
		if (now_mono_ms() > deadline)
			return err_set(e, ERR_TIMEOUT, 0, "sandbox '%s' was not ready within %d s", name,
				       PROVISION_TIMEOUT_S);
		poll(NULL, 0, 5);
	}
}

/* Handles one frame from the supervisor; returns the exit status, or -1 to go on. */
static int on_frame(const struct frame *f, struct err *e)
{
	if (f->type == FRAME_STDOUT || f->type == FRAME_STDERR) {
		if (write_full(f->type == FRAME_STDOUT ? 1 : 2, f->data, f->len) < 0)
			return -1;
		return -1;
	}
	if (f->type == FRAME_EXIT)
		return frame_get_exit(f) & 0xff;
	if (f->type == FRAME_ERROR) {
		err_set(e, ERR_RUNTIME, 0, "sandbox: %.*s", (int)f->len, f->data);
		return 256;
	}
	return -1;
}

/* Ctrl-P Ctrl-Q on a terminal detaches (reference/cli.md §4.1); returns 1 then. */
static int detach_keys(const char *p, size_t n)
{
	static bool after_ctrl_p;
	size_t i;

	for (i = 0; i < n; i++) {
		if (after_ctrl_p && p[i] == 0x11)
			return 1;
		after_ctrl_p = p[i] == 0x10;
	}
	return 0;
}

static bool raw_tty;

/* One read of stdin as frames appended to out: data, or EOF (then *open_in = false);
 * 1 when the read holds the detach keys. */
static int stdin_frames(struct buf *out, bool *open_in, struct err *e)
{
	static char chunk[16384]; /* not on the stack: see relay() */
	ssize_t n = read(0, chunk, sizeof(chunk));

	if (n > 0 && raw_tty && detach_keys(chunk, (size_t)n))
		return 1;
	if (n > 0)
		return frame_put(out, FRAME_STDIN, chunk, (size_t)n, e);
	if (n == 0 || errno != EINTR) {
		frame_put_eof(out);
		*open_in = false;
	}
	return 0;
}

static int pump_stdin(struct client_stream *s, bool *open_in, struct err *e)
{
	struct buf out = BUF_INIT;
	int r = stdin_frames(&out, open_in, e);

	if (r == 0 && out.len)
		r = client_stream_write(s, &out, e);
	buf_release(&out);
	return r;
}

/* What stdin has already (all of it for /dev/null or a short pipe) goes with the request:
 * fewer messages through the gateway while the command starts. */
static int stdin_ahead(struct buf *first, bool *open_in, struct err *e)
{
	struct pollfd p = { 0, POLLIN, 0 };

	if (poll(&p, 1, 0) == 1 && (p.revents & (POLLIN | POLLHUP)))
		return stdin_frames(first, open_in, e);
	return 0;
}

/*
 * Relays stdin to the process and its output back until it exits. path_suffix is
 * "attach" (the main process) or "exec" (first sends the request frame). timeout_ms 0 =
 * none; when it passes, the stream is closed (the supervisor then kills an exec'd
 * process) and the status is 124.
 */
static volatile sig_atomic_t winch = 1;

static void on_winch(int sig)
{
	(void)sig;
	winch = 1;
}

static int send_resize(struct client_stream *s, struct err *e)
{
	struct winsize ws;
	struct buf out = BUF_INIT;
	int r;

	winch = 0;
	if (ioctl(1, TIOCGWINSZ, &ws) < 0 && ioctl(0, TIOCGWINSZ, &ws) < 0)
		return 0;
	frame_put_resize(&out, ws.ws_row, ws.ws_col);
	r = client_stream_write(s, &out, e);
	buf_release(&out);
	return r;
}

/* The relay loop, on an attached stream s (closed here). Not inlined: its 32 KiB of
 * buffers would otherwise sit above the connection set-up's frames and push them onto
 * stack pages of their own (a page fault each, which is not cheap in a VM). */
static __attribute__((noinline)) int relay(struct client_stream *s, const char *name,
					   int64_t deadline, bool tty, bool in_open, int *status,
					   struct err *e)
{
	struct frame_decoder dec;
	struct termios saved;
	char chunk[16384];
	int ret = -1;

	frame_decoder_init(&dec);
	if (tty && isatty(0) && tcgetattr(0, &saved) == 0) { /* the remote terminal does echo */
		struct termios raw = saved;

		cfmakeraw(&raw);
		raw_tty = tcsetattr(0, TCSANOW, &raw) == 0;
		signal(SIGWINCH, on_winch);
	}
	for (*status = -1; *status < 0;) {
		int k;

		if (raw_tty && winch && send_resize(s, e) < 0)
			goto out;
		struct pollfd p[2] = { { client_stream_fd(s), POLLIN, 0 }, { in_open ? 0 : -1, POLLIN, 0 } };
		int wait = deadline ? (int)(deadline - now_mono_ms()) : -1;
		size_t off = 0, used;
		ssize_t n;

		if (deadline && wait <= 0) {
			*status = 124;
			break;
		}
		if (!client_stream_buffered(s) && poll(p, 2, wait) < 0 && errno != EINTR)
			break;
		if (in_open && (p[1].revents & (POLLIN | POLLHUP))) {
			k = pump_stdin(s, &in_open, e);
			if (k < 0)
				goto out;
			if (k == 1) { /* detached: the process goes on */
				*status = 0;
				fprintf(stderr, "\r\nDetached from sandbox %s\r\n", name);
				break;
			}
		}
		if (!client_stream_buffered(s) && !(p[0].revents & (POLLIN | POLLHUP)))
			continue;
		n = client_stream_read(s, chunk, sizeof(chunk), e);
		if (n <= 0) {
			if (n == 0)
				err_set(e, ERR_UNAVAILABLE, 0, "the connection to sandbox '%s' ended before "
							       "its command did", name);
			goto out;
		}
		while (off < (size_t)n && *status < 0) {
			struct frame f;
			int r = frame_decode(&dec, chunk + off, (size_t)n - off, &used, &f, e);

			if (r < 0)
				goto out;
			off += used;
			if (r == 0)
				break;
			*status = on_frame(&f, e);
		}
	}
	ret = *status == 256 || *status < 0 ? -1 : 0;
out:
	if (raw_tty) {
		tcsetattr(0, TCSANOW, &saved);
		raw_tty = false;
	}
	frame_decoder_release(&dec);
	client_stream_close(s);
	return ret;
}

static int stream(const struct gw_target *t, const char *name, const char *path_suffix,
		  const struct buf *first, bool in_open, int64_t timeout_ms, bool tty, int *status,
		  struct err *e)
{
	struct client_stream *s;
	char path[128];
	int64_t deadline = timeout_ms ? now_mono_ms() + timeout_ms : 0;

	snprintf(path, sizeof(path), "/v1/sandboxes/%s/%s", name, path_suffix);
	if (client_attach(t, path, first, &s, e) < 0)
		return -1;
	return relay(s, name, deadline, tty, in_open, status, e);
}

static int attach(const struct gw_target *t, const char *name, bool tty, int *status,
		  struct err *e)
{
	return stream(t, name, "attach", NULL, true, 0, tty, status, e);
}

static void remember(const struct gw_target *t, const char *name)
{
	struct err e = ERR_INIT;
	char dir[PATH_MAX], path[PATH_MAX + 16], text[64];

	if (!t->registered || cfg_gateway_dir(t->meta.name, dir, sizeof(dir), &e) < 0)
		return;
	snprintf(path, sizeof(path), "%s/last_sandbox", dir);
	snprintf(text, sizeof(text), "default\n%s", name);
	write_file_replace(path, text, strlen(text), 0600, &e);
}

static int delete_one(struct cli *cli, const struct gw_target *t, const char *name, FILE *f,
		      struct err *e)
{
	struct client_resp r;
	char path[128];

	snprintf(path, sizeof(path), "/v1/sandboxes/%s", name);
	if (client_call(t, "DELETE", path, NULL, &r, e) < 0)
		return -1;
	client_resp_release(&r);
	fprintf(f, "%s%s Deleted sandbox %s\n", f == stdout && cli->color_out ? "\033[1;32m" : "",
		cli->color_out && f == stdout ? "✓\033[0m" : "✓", name);
	return 0;
}

static int create_run(struct cli *cli, void *args, int argc, char **argv, struct err *e)
{
	struct create_args *a = args;
	bool tty = a->tty || (!a->no_tty && cli->stdin_tty && cli->stdout_tty);
	bool structured = a->output && strcmp(a->output, "table") != 0;
	struct json *req = NULL;
	struct client_resp r = { 0, NULL };
	struct gw_target t = { 0 };
	char name[SB_NAME_MAX + 1] = "";
	struct buf policy = BUF_INIT;
	char from[PATH_MAX];
	int status = 0, ret = -1;

	if (a->name && sandbox_check_name(a->name, e) < 0)
		return -1;
	if (a->no_keep && (a->detach || structured))
		return err_set(e, ERR_USAGE, 0, "--no-keep cannot be combined with --detach or -o");
	if (a->policy && policy_read_file(a->policy, &policy, e) < 0) /* before anything exists */
		return -1;
	if (a->from && sandbox_from_arg(cli, a->from, from, sizeof(from), e) < 0)
		return -1;
	if (!(req = create_request(a, cli, argc, argv, tty, e)))
		goto out;
	if (a->from)
		json_obj_add_str(req, "from", from);
	if (a->policy)
		json_obj_add_str(req, "policy", policy.p);
	if (resolve_or_bootstrap(cli, &t, e) < 0 ||
	    client_call(&t, "POST", "/v1/sandboxes", req, &r, e) < 0)
		goto out;
	snprintf(name, sizeof(name), "%s", json_get_str(r.body, "name", ""));
	if (!a->no_keep)
		remember(&t, name);
	if (structured) {
		ret = wait_ready(cli, &t, name, e) < 0 ? -1 : 0;
		cmd_print_structured(r.body, a->output);
		goto out;
	}
	fprintf(stderr, "\nCreated sandbox: %s\n\n", name);
	if (wait_ready(cli, &t, name, e) < 0)
		goto cleanup;
	if (a->detach) {
		ret = 0;
		goto out;
	}
	if (attach(&t, name, tty, &status, e) < 0)
		goto cleanup;
	ret = status;
cleanup:
	if (a->no_keep) {
		struct err e2 = ERR_INIT;

		if (delete_one(cli, &t, name, stderr, &e2) < 0 && ret >= 0)
			*e = e2, ret = -1;
	}
out:
	if (ret < 0 && e->code == ERR_UNAVAILABLE && !e->hint[0] && t.registered)
		err_hint(e, "a configured gateway is never replaced automatically; start it with "
			    "'openshell gateway start --name %s', or check 'openshell status'", t.meta.name);
	json_free(req);
	client_resp_release(&r);
	buf_release(&policy);
	return ret;
}

/* ---- list, get, delete --------------------------------------------------------------------- */

struct list_args {
	const char *output;
};

static const struct opt list_opts[] = {
	OPT_OUTPUT(struct list_args, output),
	OPT_END,
};

static const char *phase_color(struct cli *cli, const char *phase)
{
	if (!strcmp(phase, "Ready"))
		return ui_green(cli);
	if (!strcmp(phase, "Error"))
		return ui_red(cli);
	if (!strcmp(phase, "Provisioning"))
		return ui_yellow(cli);
	return ui_dim(cli);
}

static void print_sandbox_table(struct cli *cli, const struct json *arr)
{
	size_t i, w = 4;

	for (i = 0; i < json_len(arr); i++) {
		size_t n = strlen(json_get_str(json_at(arr, i), "name", ""));

		w = n > w ? n : w;
	}
	printf("%s%-*s  %-19s  %s%s\n", ui_bold(cli), (int)w, "NAME", "CREATED", "PHASE",
	       ui_reset(cli));
	for (i = 0; i < json_len(arr); i++) {
		const struct json *sb = json_at(arr, i);
		const char *phase = json_get_str(sb, "phase", "");
		char created[32];

		snprintf(created, sizeof(created), "%s", json_get_str(sb, "created_at", ""));
		if (strlen(created) >= 19)
			created[10] = ' ', created[19] = '\0';
		printf("%-*s  %-19s  %s%s%s\n", (int)w, json_get_str(sb, "name", ""), created,
		       phase_color(cli, phase), phase, ui_reset(cli));
	}
}

static int list_run(struct cli *cli, void *args, int argc, char **argv, struct err *e)
{
	const char *format = ((struct list_args *)args)->output;
	struct client_resp r;
	struct gw_target t;
	const struct json *arr;

	(void)argc;
	(void)argv;
	if (client_resolve(cli->gateway, cli->gateway_endpoint, &t, e) < 0 ||
	    client_call(&t, "GET", "/v1/sandboxes", NULL, &r, e) < 0)
		return -1;
	arr = json_get(r.body, "sandboxes");
	if (format && strcmp(format, "table") != 0)
		cmd_print_structured(arr, format);
	else if (!json_len(arr))
		printf("No sandboxes found.\n");
	else
		print_sandbox_table(cli, arr);
	client_resp_release(&r);
	return 0;
}

/* NAME, or the last-used sandbox of this gateway (reference/cli.md §4.1). */
int sandbox_pick_name(const struct gw_target *t, int argc, char **argv, char *dst, size_t n,
			struct err *e)
{
	char dir[PATH_MAX], path[PATH_MAX + 16];
	struct buf text = BUF_INIT;
	char *nl;

	if (argc > 0)
		return sandbox_check_name(argv[0], e) < 0 ? -1 : (snprintf(dst, n, "%s", argv[0]), 0);
	if (t->registered && cfg_gateway_dir(t->meta.name, dir, sizeof(dir), e) == 0) {
		snprintf(path, sizeof(path), "%s/last_sandbox", dir);
		if (read_file(path, 256, &text, e) == 0 && (nl = strchr(text.p, '\n')) &&
		    sandbox_check_name(str_trim(nl + 1), e) == 0) {
			snprintf(dst, n, "%s", str_trim(nl + 1));
			fprintf(stderr, "→ Using sandbox '%s' (last used)\n", dst);
			buf_release(&text);
			return 0;
		}
	}
	buf_release(&text);
	err_set(e, ERR_USAGE, 0, "no sandbox name provided and no last-used sandbox");
	return err_hint(e, "name the sandbox, or list them with 'openshell sandbox list'");
}

struct get_args {
	const char *output;
};

/* "Limits: 0.5 CPU, 256 MiB memory, 2048 processes (cgroup v1)" */
static void print_limits(const struct json *l)
{
	int64_t cpu, mem, pids;
	const char *how = json_get_str(l, "enforced", NULL);

	if (!how)
		return; /* an older gateway */
	printf("  Limits: ");
	if (json_get_i64(l, "cpu_millis", &cpu) == 0)
		printf("%g CPU, ", (double)cpu / 1000);
	else
		printf("no CPU limit, ");
	if (json_get_i64(l, "memory_bytes", &mem) < 0)
		printf("no memory limit, ");
	else if (mem % (1 << 30) == 0)
		printf("%lld GiB memory, ", (long long)(mem >> 30));
	else
		printf("%lld MiB memory, ", (long long)(mem >> 20));
	if (json_get_i64(l, "pids", &pids) == 0)
		printf("%lld processes", (long long)pids);
	else
		printf("no process limit");
	if (!strcmp(how, "no"))
		printf(" (NOT enforced: %s)\n", json_get_str(l, "why", "no cgroups"));
	else
		printf(" (%s)\n", how);
}

static int get_run(struct cli *cli, void *args, int argc, char **argv, struct err *e)
{
	const char *format = ((struct get_args *)args)->output;
	char name[SB_NAME_MAX + 1], path[128];
	struct client_resp r;
	struct gw_target t;
	const struct json *cmd;
	int64_t code;
	size_t i;

	if (client_resolve(cli->gateway, cli->gateway_endpoint, &t, e) < 0 ||
	    sandbox_pick_name(&t, argc, argv, name, sizeof(name), e) < 0)
		return -1;
	snprintf(path, sizeof(path), "/v1/sandboxes/%s", name);
	if (client_call(&t, "GET", path, NULL, &r, e) < 0)
		return -1;
	if (format && strcmp(format, "table") != 0) {
		cmd_print_structured(r.body, format);
	} else {
		printf("%sSandbox:%s\n\n", ui_bold(cli), ui_reset(cli));
		printf("  Id: %s\n  Name: %s\n  Phase: %s\n", json_get_str(r.body, "id", ""),
		       json_get_str(r.body, "name", ""), json_get_str(r.body, "phase", ""));
		if (json_get_i64(r.body, "exit_code", &code) == 0)
			printf("  Exit code: %lld\n", (long long)code);
		if (json_get_str(r.body, "reason", NULL))
			printf("  Reason: %s\n", json_get_str(r.body, "reason", ""));
		if (json_get_str(r.body, "from", NULL))
			printf("  From: %s\n", json_get_str(r.body, "from", ""));
		print_limits(json_get(r.body, "limits"));
		printf("  Created: %s\n  Command:", json_get_str(r.body, "created_at", ""));
		cmd = json_get(r.body, "command");
		for (i = 0; i < json_len(cmd); i++) {
			struct buf q = BUF_INIT;

			buf_add_shell_quoted(&q, json_str(json_at(cmd, i)));
			printf(" %s", q.p);
			buf_release(&q);
		}
		printf("\n");
	}
	client_resp_release(&r);
	return 0;
}

struct delete_args {
	bool all;
};

static const struct opt delete_opts[] = {
	{ 0, "all", OPT_FLAG, offsetof(struct delete_args, all), NULL, "delete every sandbox",
	  NULL, NULL, 0, 0, NULL },
	OPT_END,
};

static int delete_run(struct cli *cli, void *args, int argc, char **argv, struct err *e)
{
	struct delete_args *a = args;
	struct client_resp r = { 0, NULL };
	struct gw_target t;
	const struct json *arr;
	int i, failed = 0;

	if ((a->all && argc) || (!a->all && !argc))
		return err_set(e, ERR_USAGE, 0, "name the sandboxes to delete, or pass --all (not both)");
	if (client_resolve(cli->gateway, cli->gateway_endpoint, &t, e) < 0)
		return -1;
	if (a->all) {
		if (client_call(&t, "GET", "/v1/sandboxes", NULL, &r, e) < 0)
			return -1;
		arr = json_get(r.body, "sandboxes");
		if (!json_len(arr))
			printf("No sandboxes to delete.\n");
		for (size_t k = 0; k < json_len(arr); k++)
			if (delete_one(cli, &t, json_get_str(json_at(arr, k), "name", ""), stdout, e) < 0)
				failed++;
		client_resp_release(&r);
		return failed ? -1 : 0;
	}
	for (i = 0; i < argc; i++) {
		if (delete_one(cli, &t, argv[i], stdout, e) == 0)
			continue;
		if (e->code != ERR_NOTFOUND)
			return -1;
		ui_warn(cli, "Sandbox %s not found", argv[i]);
		err_clear(e);
		failed++;
	}
	return failed ? 1 : 0;
}

struct exec_args {
	const char *name, *workdir;
	struct strlist env;
	int64_t timeout;
	bool tty;
};

static const struct opt exec_opts[] = {
	{ 'n', "name", OPT_STR, offsetof(struct exec_args, name), "NAME", "sandbox name", NULL,
	  NULL, 0, 0, "the last-used sandbox" },
	{ 0, "workdir", OPT_STR, offsetof(struct exec_args, workdir), "DIR",
	  "working directory inside the sandbox", NULL, NULL, 0, 0, "/sandbox" },
	{ 0, "env", OPT_STRLIST, offsetof(struct exec_args, env), "K=V",
	  "environment variable (repeatable)", NULL, NULL, 0, 0, NULL },
	{ 0, "timeout", OPT_INT, offsetof(struct exec_args, timeout), "SECONDS",
	  "stop the command after this long (exit status 124); 0 = no limit", NULL, NULL, 0,
	  86400 * 365, "0" },
	OPT_END,
};

/* The stream to a sandbox broke: when the sandbox is gone or no longer running, say so
 * instead of the broken connection (a delete or stop while the command ran). */
static void explain_lost_stream(struct gw_target *t, const char *name, struct err *e)
{
	struct client_resp r;
	struct err why = ERR_INIT;
	char path[64 + SB_NAME_MAX];
	const char *phase;

	snprintf(path, sizeof(path), "/v1/sandboxes/%s", name);
	if (client_call(t, "GET", path, NULL, &r, &why) < 0) {
		if (why.code == ERR_NOTFOUND)
			err_set(e, ERR_UNAVAILABLE, 0, "sandbox '%s' was deleted while the command ran",
				name);
		return;
	}
	phase = json_get_str(r.body, "phase", "");
	if (strcmp(phase, "Ready") != 0)
		err_set(e, ERR_UNAVAILABLE, 0, "sandbox '%s' is %s: the command ended with it", name,
			phase);
	client_resp_release(&r);
}

static int exec_run(struct cli *cli, void *args, int argc, char **argv, struct err *e)
{
	struct exec_args *a = args;
	struct json *req = json_new_obj(), *cmd = json_new_arr(), *env = json_new_obj();
	struct buf first = BUF_INIT, body = BUF_INIT;
	char name[SB_NAME_MAX + 1];
	struct gw_target t;
	int status = 0, ret = -1, i;
	bool in_open = true;

	(void)argc;
	(void)argv;
	json_obj_add(req, "command", cmd);
	json_obj_add(req, "env", env);
	if (!cli->dash_argc) {
		err_set(e, ERR_USAGE, 0, "missing the command to run");
		err_hint(e, "openshell sandbox exec -n NAME -- CMD...");
		goto out;
	}
	for (i = 0; i < cli->dash_argc; i++)
		json_arr_add(cmd, json_new_str(cli->dash_argv[i]));
	for (i = 0; i < (int)a->env.n; i++) {
		const char *eq = strchr(a->env.v[i], '=');
		char key[257];

		if (!eq || eq == a->env.v[i] || (size_t)(eq - a->env.v[i]) >= sizeof(key)) {
			err_set(e, ERR_USAGE, 0, "invalid --env '%s': expected KEY=VALUE", a->env.v[i]);
			goto out;
		}
		snprintf(key, sizeof(key), "%.*s", (int)(eq - a->env.v[i]), a->env.v[i]);
		json_obj_add_str(env, key, eq + 1);
	}
	if (a->workdir)
		json_obj_add_str(req, "workdir", a->workdir);
	if (client_resolve(cli->gateway, cli->gateway_endpoint, &t, e) < 0 ||
	    sandbox_pick_name(&t, a->name ? 1 : 0, (char **)&a->name, name, sizeof(name), e) < 0)
		goto out;
	json_write(req, &body, JSON_COMPACT);
	if (frame_put(&first, FRAME_DATA, body.p, body.len, e) < 0 ||
	    stdin_ahead(&first, &in_open, e) < 0 ||
	    stream(&t, name, "exec", &first, in_open, a->timeout * 1000, false, &status, e) < 0) {
		if (e->code == ERR_UNAVAILABLE)
			explain_lost_stream(&t, name, e);
		goto out;
	}
	ret = status;
out:
	json_free(req);
	buf_release(&first);
	buf_release(&body);
	return ret;
}

static int connect_run(struct cli *cli, void *args, int argc, char **argv, struct err *e)
{
	char name[SB_NAME_MAX + 1];
	struct gw_target t;
	int status = 0;

	(void)args;
	if (client_resolve(cli->gateway, cli->gateway_endpoint, &t, e) < 0 ||
	    sandbox_pick_name(&t, argc, argv, name, sizeof(name), e) < 0)
		return -1;
	remember(&t, name);
	if (attach(&t, name, cli->stdin_tty, &status, e) < 0)
		return -1;
	return status;
}

static int lifecycle(struct cli *cli, int argc, char **argv, bool start, struct err *e)
{
	char name[SB_NAME_MAX + 1], path[128];
	struct client_resp r;
	struct gw_target t;

	if (client_resolve(cli->gateway, cli->gateway_endpoint, &t, e) < 0 ||
	    sandbox_pick_name(&t, argc, argv, name, sizeof(name), e) < 0)
		return -1;
	snprintf(path, sizeof(path), "/v1/sandboxes/%s/%s", name, start ? "start" : "stop");
	if (client_call(&t, "POST", path, NULL, &r, e) < 0)
		return -1;
	client_resp_release(&r);
	if (start && wait_ready(cli, &t, name, e) < 0)
		return -1;
	ui_success(cli, "%s sandbox %s", start ? "Started" : "Stopped", name);
	return 0;
}

static int stop_run(struct cli *cli, void *args, int argc, char **argv, struct err *e)
{
	(void)args;
	return lifecycle(cli, argc, argv, false, e);
}

static int start_run(struct cli *cli, void *args, int argc, char **argv, struct err *e)
{
	(void)args;
	return lifecycle(cli, argc, argv, true, e);
}

static const struct opt get_opts[] = {
	OPT_OUTPUT(struct get_args, output),
	OPT_END,
};

const struct cmd cmd_sandbox_subs[] = {
	{ "create", NULL, "create a sandbox and run a command in it", "[-- CMD...]",
	  "Without a gateway, starts a local one first. Attaches to the command (default: a login\n"
	  "shell) and exits with its exit status; --detach returns once the sandbox is ready.\n"
	  "--from DIR takes the policy's paths (/usr, /etc, ...) from DIR, a directory holding a\n"
	  "root filesystem on the gateway's host, instead of from its /; links inside DIR never\n"
	  "lead out of it. DIR must belong to root or the gateway's user and be writable by nobody\n"
	  "else. Images and Dockerfiles are not supported: make DIR with 'mmdebstrap stable DIR'\n"
	  "or 'docker export $(docker create IMAGE) | tar -x -C DIR'.",
	  create_opts, sizeof(struct create_args), 0, 0, create_run, NULL, CMD_PASSTHRU },
	{ "exec", NULL, "run a command in a running sandbox", "-- CMD...",
	  "Streams stdin, stdout and stderr and exits with the command's exit status (124\n"
	  "when --timeout passes). The command runs confined like the sandbox's main process.",
	  exec_opts, sizeof(struct exec_args), 0, 0, exec_run, NULL, CMD_PASSTHRU },
	{ "connect", NULL, "attach to a sandbox's main process (Ctrl-P Ctrl-Q detaches)", "[NAME]",
	  "Shows the recent output first, then streams both ways; on a terminal the sandbox's\n"
	  "terminal follows this one's size.", NULL, 0, 0, 1, connect_run, NULL, 0 },
	{ "upload", NULL, "copy local files into a sandbox", "NAME LOCAL [DEST]",
	  "DEST defaults to the sandbox's workdir /sandbox (~); relative paths start there.\n"
	  "Like cp -r: a directory lands under its own name inside DEST; a file takes DEST's\n"
	  "name unless DEST is a directory or ends in '/'. Symbolic links stay links. Names\n"
	  "starting with '-' go after '--'.", NULL, 0, 0, 3, sandbox_upload_run, NULL,
	  CMD_PASSTHRU },
	{ "download", NULL, "copy files out of a sandbox's workdir", "NAME PATH [DEST]",
	  "PATH must lie inside the sandbox's workdir /sandbox, also once symbolic links are\n"
	  "resolved; relative paths start there. DEST defaults to '.'. Like cp -r: into DEST\n"
	  "when it is a directory, else as DEST; a directory is never replaced by a file. It\n"
	  "arrives in a temporary directory beside its target and is moved into place.", NULL,
	  0, 0, 3, sandbox_download_run, NULL, CMD_PASSTHRU },
	{ "stop", NULL, "stop a sandbox's processes (its files are kept)", "[NAME]",
	  "The main process gets SIGTERM (and SIGHUP on a terminal) and 10 s to exit, then\n"
	  "SIGKILL; the command returns once the sandbox is Stopped. It stays stopped, also\n"
	  "across gateway restarts, until 'openshell sandbox start'.",
	  NULL, 0, 0, 1, stop_run, NULL, 0 },
	{ "start", NULL, "start a stopped sandbox again (its main command, its files)", "[NAME]",
	  NULL, NULL, 0, 0, 1, start_run, NULL, 0 },
	{ "list", NULL, "list sandboxes", NULL, NULL, list_opts, sizeof(struct list_args), 0, 0,
	  list_run, NULL, 0 },
	{ "get", NULL, "show a sandbox", "[NAME]", NULL, get_opts, sizeof(struct get_args), 0, 1,
	  get_run, NULL, 0 },
	{ "delete", NULL, "delete sandboxes (processes, files and record)", "NAME... | --all", NULL,
	  delete_opts, sizeof(struct delete_args), 0, -1, delete_run, NULL, 0 },
	CMD_END,
};
