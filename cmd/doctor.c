/* SPDX-License-Identifier: Apache-2.0 */
/*
 * `openshell doctor check`: is this host able to run sandboxes? One line per
 * prerequisite and, for each failure, what to do. `doctor logs`: the gateway's log.
 * reference/cli.md §9 (check output shape), §13 (legacy doctor logs).
 */
#include "cmd.h"
#include "gateway/state.h"
#include "lib/buf.h"
#include "lib/cgroup.h"
#include "lib/fsutil.h"
#include "lib/procnet.h"
#include "lib/util.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/seccomp.h>
#include <netinet/in.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

struct check {
	const char *name;
	bool ok;
	char detail[256];
	char fix[512];
};

static void check_userns(struct check *c)
{
	pid_t pid = fork();
	int status = 0;

	c->name = "User namespaces";
	if (pid == 0)
		_exit(unshare(CLONE_NEWUSER | CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWNET) == 0 ? 0 : errno);
	if (pid < 0 || waitpid(pid, &status, 0) < 0) {
		snprintf(c->detail, sizeof(c->detail), "cannot fork a test process");
		return;
	}
	c->ok = WIFEXITED(status) && WEXITSTATUS(status) == 0;
	if (c->ok) {
		snprintf(c->detail, sizeof(c->detail), "user, mount, pid and net namespaces");
		return;
	}
	snprintf(c->detail, sizeof(c->detail), "unshare failed: %s",
		 WIFEXITED(status) ? strerror(WEXITSTATUS(status)) : "killed");
	snprintf(c->fix, sizeof(c->fix),
		 "allow unprivileged user namespaces: 'sysctl -w kernel.unprivileged_userns_clone=1' "
		 "(Debian), 'sysctl -w user.max_user_namespaces=15000', or on Ubuntu "
		 "'sysctl -w kernel.apparmor_restrict_unprivileged_userns=0'");
}

static void check_landlock(struct check *c)
{
	long abi = syscall(SYS_landlock_create_ruleset, NULL, 0, 1UL /* VERSION */);

	c->name = "Landlock";
	c->ok = abi > 0;
	if (c->ok) {
		snprintf(c->detail, sizeof(c->detail), "ABI %ld", abi);
		return;
	}
	snprintf(c->detail, sizeof(c->detail), "%s",
		 errno == EOPNOTSUPP ? "built in but disabled" : "not available in this kernel");
	snprintf(c->fix, sizeof(c->fix),
		 "use Linux 5.13 or newer with Landlock enabled (boot with lsm=landlock,... or "
		 "CONFIG_LSM including landlock); policies with landlock.compatibility: "
		 "best_effort still run without it, with less protection");
}

static void check_seccomp(struct check *c)
{
	c->name = "seccomp";
	c->ok = prctl(PR_GET_SECCOMP, 0, 0, 0, 0) >= 0 &&
		syscall(SYS_seccomp, SECCOMP_GET_ACTION_AVAIL, 0, &(unsigned){ SECCOMP_RET_ERRNO }) == 0;
	snprintf(c->detail, sizeof(c->detail), c->ok ? "filter mode" : "not available");
	if (!c->ok)
		snprintf(c->fix, sizeof(c->fix), "use a kernel built with CONFIG_SECCOMP_FILTER=y");
}

static void check_cgroups(struct check *c)
{
	char why[256] = "";
	enum cg_mode m = cg_detect(why, sizeof(why));

	c->name = "cgroups";
	c->ok = m != CG_NONE;
	if (c->ok) {
		snprintf(c->detail, sizeof(c->detail), "%s: cpu, memory, pids",
			 m == CG_V2 ? "v2" : "v1");
		return;
	}
	snprintf(c->detail, sizeof(c->detail), "%s", why);
	snprintf(c->fix, sizeof(c->fix),
		 "run as root, or delegate a cgroup v2 subtree to this user (systemd: "
		 "'systemd-run --user --scope -p Delegate=yes openshell ...'); without it --cpus "
		 "and --memory are not enforced");
}

static void check_port(struct check *c, int port)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port),
				 .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	static char name[32];
	char comm[64] = "";
	pid_t owner;

	snprintf(name, sizeof(name), "Port %d", port);
	c->name = name;
	c->ok = fd >= 0 && bind(fd, (struct sockaddr *)&a, sizeof(a)) == 0;
	if (fd >= 0)
		close(fd);
	if (c->ok) {
		snprintf(c->detail, sizeof(c->detail), "free on 127.0.0.1");
		return;
	}
	owner = procnet_inode_owner(procnet_listener_inode("/proc", (uint16_t)port), comm,
				    sizeof(comm));
	if (owner)
		snprintf(c->detail, sizeof(c->detail), "in use by %s (pid %ld)", comm, (long)owner);
	else
		snprintf(c->detail, sizeof(c->detail), "in use");
	snprintf(c->fix, sizeof(c->fix),
		 "if this is not a gateway of yours, start the gateway on another port: "
		 "openshell gateway start --port <port>");
}

struct check_args {
	int64_t port;
};

static const struct opt check_opts[] = {
	{ 0, "port", OPT_INT, offsetof(struct check_args, port), "PORT", "gateway port to check",
	  NULL, NULL, 1, 65535, "8080" },
	OPT_END,
};

static int check_run(struct cli *cli, void *args, int argc, char **argv, struct err *e)
{
	struct check c[5];
	int i, failed = 0, port = ((struct check_args *)args)->port ?: 8080;

	(void)argc;
	(void)argv;
	(void)e;
	memset(c, 0, sizeof(c));
	check_userns(&c[0]);
	check_landlock(&c[1]);
	check_seccomp(&c[2]);
	check_cgroups(&c[3]);
	check_port(&c[4], port);
	printf("Checking system prerequisites...\n\n");
	for (i = 0; i < 5; i++) {
		char dots[24];
		int n = 20 - (int)strlen(c[i].name);

		memset(dots, '.', sizeof(dots));
		dots[n > 2 ? n : 2] = '\0';
		printf("  %s %s %s%s%s (%s)\n", c[i].name, dots,
		       c[i].ok ? ui_green(cli) : ui_red(cli), c[i].ok ? "ok" : "FAILED", ui_reset(cli),
		       c[i].detail);
		if (!c[i].ok) {
			printf("      fix: %s\n", c[i].fix);
			failed++;
		}
	}
	if (failed)
		printf("\n%d check%s failed.\n", failed, failed > 1 ? "s" : "");
	else
		printf("\nAll checks passed.\n");
	return failed ? 1 : 0;
}

/* ---- logs -------------------------------------------------------------------------------- */

struct logs_args {
	const char *name;
	int64_t lines;
	bool tail;
};

static const struct opt logs_opts[] = {
	{ 0, "name", OPT_STR, offsetof(struct logs_args, name), "NAME", "gateway name", NULL,
	  NULL, 0, 0, "the active gateway, else openshell" },
	{ 'l', "lines", OPT_INT, offsetof(struct logs_args, lines), "N",
	  "print only the last N lines", NULL, NULL, 1, 1000000, "all" },
	{ 0, "tail", OPT_FLAG, offsetof(struct logs_args, tail), NULL,
	  "keep printing new lines until interrupted", NULL, NULL, 0, 0, NULL },
	OPT_END,
};

static void print_last_lines(const struct buf *b, int64_t lines)
{
	size_t start = b->len;
	int64_t seen = 0;

	if (lines <= 0) {
		fwrite(b->p, 1, b->len, stdout);
		return;
	}
	if (start && b->p[start - 1] == '\n')
		start--;
	while (start > 0 && seen < lines) {
		start--;
		if (b->p[start] == '\n' && ++seen == lines) {
			start++;
			break;
		}
	}
	fwrite(b->p + start, 1, b->len - start, stdout);
}

/* Follows path like tail -F: waits for growth, starts over when the file is rotated. */
static int follow(const char *path, off_t offset, struct err *e)
{
	char chunk[8192];
	struct stat st, now;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0 || fstat(fd, &st) < 0)
		return err_sys(e, ERR_RUNTIME, "cannot follow '%s'", path);
	lseek(fd, offset, SEEK_SET);
	for (;;) {
		ssize_t r = read(fd, chunk, sizeof(chunk));

		if (r > 0) {
			fwrite(chunk, 1, (size_t)r, stdout);
			fflush(stdout);
			continue;
		}
		if (stat(path, &now) == 0 && (now.st_ino != st.st_ino || now.st_size < lseek(fd, 0, SEEK_CUR))) {
			close(fd);
			fd = open(path, O_RDONLY | O_CLOEXEC);
			if (fd < 0 || fstat(fd, &st) < 0)
				return err_sys(e, ERR_RUNTIME, "cannot follow '%s'", path);
			continue;
		}
		poll(NULL, 0, 200);
	}
}

static int logs_run(struct cli *cli, void *args, int argc, char **argv, struct err *e)
{
	struct logs_args *a = args;
	struct gw_paths p;
	struct buf text = BUF_INIT;
	const char *name = a->name ? a->name : cli->gateway ? cli->gateway : "openshell";
	int ret = -1;

	(void)argc;
	(void)argv;
	if (gw_paths_for(name, &p, e) < 0)
		return -1;
	if (read_file(p.log, (size_t)1 << 30, &text, e) < 0) {
		if (e->code == ERR_NOTFOUND)
			err_set(e, ERR_NOTFOUND, 0, "gateway '%s' has no log on this host ('%s')", name,
				p.log),
				err_hint(e, "start it with 'openshell gateway start --name %s'", name);
		goto out;
	}
	print_last_lines(&text, a->lines);
	fflush(stdout);
	if (a->tail && follow(p.log, (off_t)text.len, e) < 0)
		goto out;
	ret = 0;
out:
	buf_release(&text);
	return ret;
}

const struct cmd cmd_doctor_subs[] = {
	{ "check", NULL, "check that this host can run sandboxes", NULL, NULL, check_opts,
	  sizeof(struct check_args), 0, 0, check_run, NULL, 0 },
	{ "logs", NULL, "print the local gateway's log", NULL, NULL, logs_opts,
	  sizeof(struct logs_args), 0, 0, logs_run, NULL, 0 },
	CMD_END,
};

