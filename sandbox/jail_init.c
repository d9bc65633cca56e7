/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The sandbox's pid 1 (see jail.h): forks the main process, then serves exec and file
 * transfer requests from the supervisor on the control socket and reaps every child. It
 * is already confined when it runs, so everything it starts is too. It leaves with the
 * main process's exit status; the kernel then ends every other process of the sandbox.
 */
#include "jail.h"
#include "transfer.h"
#include "lib/err.h"
#include "lib/util.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#define EXEC_SESSIONS 64
#define ARGS_MAX 1024
#define ENVS_MAX 256

struct session {
	int32_t tag;
	pid_t pid; /* 0 = free */
};

static volatile pid_t main_pid;
static struct session sessions[EXEC_SESSIONS];

static void forward_signal(int sig)
{
	if (main_pid > 0)
		kill(main_pid, sig);
}

/* What a spawned child runs: fds become its stdin, stdout and stderr. */
struct spawn_args {
	const int *fds;
	const char *workdir;
	char **argv, **env;
	bool tty;
};

/* The child's last words before _exit: no stdio, whose state the parent shares. */
static __attribute__((noreturn)) void child_fail(int status, const char *what, const char *arg)
{
	char msg[PATH_MAX + 128];
	int n = snprintf(msg, sizeof(msg), "openshell: cannot %s '%s': %s\n", what, arg,
			 strerror(errno));

	if (n > (int)sizeof(msg) - 1)
		n = (int)sizeof(msg) - 1;
	if (n > 0 && write(2, msg, (size_t)n) < 0) {
		/* nowhere left to say it */
	}
	_exit(status);
}

/* execvp with the PATH of the command's own environment (musl's search: an entry that
 * does not hold it is skipped, EACCES is kept for the end, any other error stops). */
static void exec_path(char **argv, char **env)
{
	const char *path = "/usr/local/bin:/bin:/usr/bin", *p, *z;
	size_t k = strlen(argv[0]);
	bool eacces = false;
	int i;

	if (strchr(argv[0], '/') || !argv[0][0]) {
		execve(argv[0], argv, env);
		return;
	}
	for (i = 0; env[i]; i++)
		if (!strncmp(env[i], "PATH=", 5))
			path = env[i] + 5;
	for (p = path;; p = z + 1) {
		char b[PATH_MAX];

		z = strchrnul(p, ':');
		if ((size_t)(z - p) + k + 2 <= sizeof(b)) {
			memcpy(b, p, (size_t)(z - p));
			b[z - p] = '/';
			memcpy(b + (z - p) + (z > p), argv[0], k + 1);
			execve(b, argv, env);
			if (errno == EACCES)
				eacces = true;
			else if (errno != ENOENT && errno != ENOTDIR)
				return;
		}
		if (!*z)
			break;
	}
	errno = eacces ? EACCES : ENOENT;
}

/*
 * Runs in the child until execve, sharing the parent's memory (see spawn): only system
 * calls and stack variables here, no allocation, no stdio, no global written. Signals
 * are all blocked on entry; the handlers pid 1 installed go back to the default first.
 */
static int exec_child(void *arg)
{
	const struct spawn_args *a = arg;
	struct sigaction dfl = { .sa_handler = SIG_DFL };
	sigset_t none;
	int i;

	if (sigaction(SIGTERM, &dfl, NULL) < 0 || sigaction(SIGINT, &dfl, NULL) < 0 ||
	    sigaction(SIGHUP, &dfl, NULL) < 0)
		_exit(126);
	for (i = 0; i < 3; i++)
		if (dup2(a->fds[i], i) < 0)
			_exit(126);
	/* on a terminal: a session of its own with the terminal as controlling tty */
	if (a->tty && (setsid() < 0 || ioctl(0, TIOCSCTTY, 0) < 0))
		_exit(126);
	if (chdir(a->workdir) < 0)
		child_fail(126, "enter", a->workdir);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	exec_path(a->argv, a->env);
	child_fail(errno == ENOENT ? 127 : 126, "run", a->argv[0]);
}

/*
 * Starts a command the way posix_spawn does: clone(CLONE_VM | CLONE_VFORK) on a stack of
 * our own, so no page table is copied and we go on once the child has exec'd (or died).
 * The child is pid 1's child like a forked one: same namespaces, Landlock domain, seccomp
 * filter, credentials, cgroup. Returns its pid, or -1 with errno.
 */
static pid_t spawn(const struct spawn_args *a)
{
	char stack[16384 + PATH_MAX] __attribute__((aligned(16)));
	sigset_t all, old;
	pid_t pid;
	int err;

	sigfillset(&all);
	if (sigprocmask(SIG_BLOCK, &all, &old) < 0)
		return -1;
	pid = clone(exec_child, stack + sizeof(stack), CLONE_VM | CLONE_VFORK | SIGCHLD,
		    (void *)a);
	err = errno; /* the child wrote errno too: it shares our memory */
	sigprocmask(SIG_SETMASK, &old, NULL);
	errno = err;
	return pid;
}

/* A transfer session runs our own code (transfer.c), not a program: nothing is exec'd. */
static __attribute__((noreturn)) void transfer_child(int ctl, const int fds[3], char kind,
						     const char *path)
{
	sigset_t none;
	int i;

	close(ctl);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	for (i = 0; i < 3; i++)
		if (dup2(fds[i], i) < 0)
			_exit(126);
	for (i = 0; i < 3; i++)
		if (fds[i] > 2)
			close(fds[i]);
	signal(SIGTERM, SIG_DFL);
	signal(SIGINT, SIG_DFL);
	signal(SIGHUP, SIG_DFL);
	if (chdir(TRANSFER_WORKDIR) < 0)
		_exit(126);
	_exit(transfer_run((enum transfer_kind)kind, path));
}

static void send_event(int ctl, char kind, int32_t tag, int32_t value)
{
	struct jail_event ev = { kind, tag, value };

	if (send(ctl, &ev, sizeof(ev), MSG_NOSIGNAL) < 0) {
		/* the supervisor is gone: PDEATHSIG ends us */
	}
}

/* Splits n NUL-terminated strings off *p (bounded by end) into out. */
static int take_strings(char **p, const char *end, char **out, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		char *z = memchr(*p, 0, (size_t)(end - *p));

		if (!z)
			return -1;
		out[i] = *p;
		*p = z + 1;
	}
	out[n] = NULL;
	return 0;
}

static int parse_request(char *msg, size_t len, char **workdir, char **argv, char **env)
{
	char *p = msg, *end = msg + len, *count[2];
	long argc, envc;

	if (take_strings(&p, end, workdir, 1) < 0 || take_strings(&p, end, count, 1) < 0)
		return -1;
	argc = strtol(count[0], NULL, 10);
	if (argc < 1 || argc > ARGS_MAX || take_strings(&p, end, argv, (size_t)argc) < 0 ||
	    take_strings(&p, end, count, 1) < 0)
		return -1;
	envc = strtol(count[0], NULL, 10);
	if (envc < 0 || envc > ENVS_MAX || take_strings(&p, end, env, (size_t)envc) < 0)
		return -1;
	return 0;
}

static struct session *find(int32_t tag, pid_t pid)
{
	int i;

	for (i = 0; i < EXEC_SESSIONS; i++)
		if (sessions[i].pid && (pid ? sessions[i].pid == pid : sessions[i].tag == tag))
			return &sessions[i];
	return NULL;
}

/* kind 'x': an exec request; 'u', 'U', 'd': a transfer whose body is one path. */
static void start_session(int ctl, char kind, int32_t tag, char *body, size_t len,
			  const int fds[3])
{
	static char *argv[ARGS_MAX + 1], *env[ENVS_MAX + 1];
	struct session *slot = NULL;
	char *workdir[2];
	pid_t pid;
	int i, r;

	for (i = 0; i < EXEC_SESSIONS && !slot; i++)
		if (!sessions[i].pid)
			slot = &sessions[i];
	if (kind == 'x')
		r = parse_request(body, len, workdir, argv, env);
	else
		r = take_strings(&body, body + len, workdir, 1);
	if (!slot || r < 0) {
		send_event(ctl, 'f', tag, slot ? EINVAL : EAGAIN);
		return;
	}
	if (kind == 'x') {
		struct spawn_args a = { fds, workdir[0], argv, env, isatty(fds[0]) };

		pid = spawn(&a);
	} else if ((pid = fork()) == 0) {
		transfer_child(ctl, fds, kind, workdir[0]);
	}
	if (pid < 0) {
		send_event(ctl, 'f', tag, errno);
		return;
	}
	slot->tag = tag;
	slot->pid = pid;
	send_event(ctl, 'p', tag, pid);
}

/* One message from the supervisor: 'x' + tag + request (+ 3 fds), 'u'/'U'/'d' + tag +
 * path (+ 3 fds), or 'k' + tag. */
static void handle_control(int ctl)
{
	static char msg[JAIL_EXEC_MAX + 8];
	char cbuf[CMSG_SPACE(3 * sizeof(int))];
	struct iovec iov = { msg, sizeof(msg) };
	struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf,
			    .msg_controllen = sizeof(cbuf) };
	struct cmsghdr *cm;
	int fds[3] = { -1, -1, -1 }, i;
	int32_t tag;
	ssize_t n = recvmsg(ctl, &m, MSG_CMSG_CLOEXEC);

	if (n <= 0) {
		if (n == 0) /* the supervisor closed the channel: nothing more will come */
			_exit(main_pid > 0 ? 0 : 126);
		return;
	}
	cm = CMSG_FIRSTHDR(&m);
	if (cm && cm->cmsg_type == SCM_RIGHTS && cm->cmsg_len == CMSG_LEN(3 * sizeof(int)))
		memcpy(fds, CMSG_DATA(cm), sizeof(fds));
	if (n < 5)
		goto out;
	memcpy(&tag, msg + 1, sizeof(tag));
	if (memchr("xuUd", msg[0], 4) && fds[2] >= 0)
		start_session(ctl, msg[0], tag, msg + 5, (size_t)n - 5, fds);
	else if (msg[0] == 'k' && find(tag, 0))
		kill(find(tag, 0)->pid, SIGKILL);
out:
	for (i = 0; i < 3; i++)
		if (fds[i] >= 0)
			close(fds[i]);
}

/* Reaps every child; returns the main process's wait status once it is gone, else -1. */
static int reap(int ctl)
{
	int status, st;
	pid_t pid;

	while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
		struct session *sess = find(0, pid);

		st = WIFSIGNALED(status) ? 128 + WTERMSIG(status) : WEXITSTATUS(status);
		if (pid == main_pid)
			return st;
		if (sess) {
			send_event(ctl, 'e', sess->tag, st);
			sess->pid = 0;
		}
	}
	return -1;
}

/* The main process's terminal comes from the sandbox's own devpts, so that ttyname()
 * and /dev/pts inside agree; the master goes to the supervisor over the control socket. */
static int own_pty(int ctl, int *slave)
{
	char name[64], cbuf[CMSG_SPACE(sizeof(int))] = { 0 };
	struct jail_event ev = { 't', 0, 0 };
	struct iovec iov = { &ev, sizeof(ev) };
	struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf,
			    .msg_controllen = sizeof(cbuf) };
	struct cmsghdr *cm = CMSG_FIRSTHDR(&m);
	int master = open("/dev/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC), r = -1;

	if (master < 0 || unlockpt(master) < 0 || ptsname_r(master, name, sizeof(name)) != 0 ||
	    (*slave = open(name, O_RDWR | O_NOCTTY | O_CLOEXEC)) < 0)
		goto out;
	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_RIGHTS;
	cm->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(cm), &master, sizeof(int));
	r = sendmsg(ctl, &m, MSG_NOSIGNAL) < 0 ? -1 : 0;
out:
	if (master >= 0)
		close(master);
	return r;
}

void jail_run_init(const struct jail_spec *s, int ctl)
{
	int tty_fds[3] = { -1, -1, -1 };
	sigset_t chld;
	int sfd, i;

	proc_title_set("openshell-init"); /* not the supervisor's arguments (host paths) */
	signal(SIGTERM, forward_signal);
	signal(SIGINT, forward_signal);
	signal(SIGHUP, forward_signal);
	sigemptyset(&chld);
	sigaddset(&chld, SIGCHLD);
	/* exactly SIGCHLD blocked: the supervisor's blocked TERM, INT and USR1 must not stay
	 * blocked here, or a graceful stop's SIGTERM would never reach the main process */
	if (sigprocmask(SIG_SETMASK, &chld, NULL) < 0 ||
	    (sfd = signalfd(-1, &chld, SFD_CLOEXEC | SFD_NONBLOCK)) < 0)
		_exit(126);
	if (s->tty) {
		if (own_pty(ctl, &tty_fds[0]) < 0)
			_exit(126);
		tty_fds[1] = tty_fds[2] = tty_fds[0];
	}
	{
		struct spawn_args a = { s->tty ? tty_fds : s->stdio, "/sandbox", (char **)s->argv,
					(char **)s->env, s->tty };

		main_pid = spawn(&a);
	}
	if (main_pid < 0)
		_exit(126);
	for (i = 0; i < 3; i++)
		if (s->stdio[i] >= 0)
			close(s->stdio[i]);
	if (tty_fds[0] >= 0)
		close(tty_fds[0]);
	for (;;) {
		struct pollfd p[2] = { { sfd, POLLIN, 0 }, { ctl, POLLIN, 0 } };
		struct signalfd_siginfo si;
		int st;

		if (poll(p, 2, -1) < 0 && errno != EINTR)
			_exit(126);
		while (read(sfd, &si, sizeof(si)) == (ssize_t)sizeof(si))
			;
		st = reap(ctl);
		if (st >= 0)
			_exit(st);
		if (p[1].revents & (POLLIN | POLLHUP))
			handle_control(ctl);
	}
}

/* ---- supervisor side ------------------------------------------------------------------ */

static int put_str(char *msg, size_t *len, const char *s)
{
	size_t n = strlen(s) + 1;

	if (*len + n > JAIL_EXEC_MAX)
		return -1;
	memcpy(msg + *len, s, n);
	*len += n;
	return 0;
}

/* Sends msg (kind, tag, body) with the session's stdin/stdout/stderr. */
static int send_request(int ctl_fd, char *msg, size_t len, const int stdio[3], struct err *e)
{
	char cbuf[CMSG_SPACE(3 * sizeof(int))] = { 0 };
	struct iovec iov = { msg, len };
	struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf,
			    .msg_controllen = sizeof(cbuf) };
	struct cmsghdr *cm = CMSG_FIRSTHDR(&m);

	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_RIGHTS;
	cm->cmsg_len = CMSG_LEN(3 * sizeof(int));
	memcpy(CMSG_DATA(cm), stdio, 3 * sizeof(int));
	if (sendmsg(ctl_fd, &m, MSG_NOSIGNAL) < 0)
		return err_sys(e, ERR_UNAVAILABLE, "the sandbox's init does not answer");
	return 0;
}

int jail_transfer_send(int ctl_fd, int32_t tag, char kind, const char *path, const int stdio[3],
		       struct err *e)
{
	static char msg[JAIL_EXEC_MAX + 8];
	size_t len = 5;

	msg[0] = kind;
	memcpy(msg + 1, &tag, sizeof(tag));
	if (!memchr("uUd", kind, 3) || put_str(msg, &len, path) < 0)
		return err_set(e, ERR_INVALID, 0, "bad transfer request");
	return send_request(ctl_fd, msg, len, stdio, e);
}

int jail_exec_send(int ctl_fd, int32_t tag, char *const argv[], const char *const env[],
		   const char *workdir, const int stdio[3], struct err *e)
{
	static char msg[JAIL_EXEC_MAX + 8];
	char count[24];
	size_t len = 5, argc = 0, envc = 0, i;
	int bad = 0;

	msg[0] = 'x';
	memcpy(msg + 1, &tag, sizeof(tag));
	while (argv[argc])
		argc++;
	while (env[envc])
		envc++;
	snprintf(count, sizeof(count), "%zu", argc);
	bad |= put_str(msg, &len, workdir) | put_str(msg, &len, count);
	for (i = 0; i < argc; i++)
		bad |= put_str(msg, &len, argv[i]);
	snprintf(count, sizeof(count), "%zu", envc);
	bad |= put_str(msg, &len, count);
	for (i = 0; i < envc; i++)
		bad |= put_str(msg, &len, env[i]);
	if (bad || argc < 1 || argc > ARGS_MAX || envc > ENVS_MAX)
		return err_set(e, ERR_INVALID, 0, "the command is too large (at most %d arguments, "
						  "%d environment variables, %d bytes)",
			       ARGS_MAX, ENVS_MAX, JAIL_EXEC_MAX);
	return send_request(ctl_fd, msg, len, stdio, e);
}

int jail_exec_kill(int ctl_fd, int32_t tag)
{
	char msg[5] = { 'k' };

	memcpy(msg + 1, &tag, sizeof(tag));
	return send(ctl_fd, msg, sizeof(msg), MSG_NOSIGNAL) < 0 ? -1 : 0;
}

int jail_recv_pty(int ctl_fd, int *master, struct err *e)
{
	char cbuf[CMSG_SPACE(sizeof(int))];
	struct jail_event ev;
	struct iovec iov = { &ev, sizeof(ev) };
	struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf,
			    .msg_controllen = sizeof(cbuf) };
	struct pollfd p = { ctl_fd, POLLIN, 0 };
	struct cmsghdr *cm;

	if (poll(&p, 1, 10000) != 1 || recvmsg(ctl_fd, &m, MSG_CMSG_CLOEXEC) != (ssize_t)sizeof(ev) ||
	    ev.kind != 't' || !(cm = CMSG_FIRSTHDR(&m)) || cm->cmsg_type != SCM_RIGHTS)
		return err_set(e, ERR_RUNTIME, 0, "the sandbox could not open its terminal");
	memcpy(master, CMSG_DATA(cm), sizeof(int));
	return 0;
}
