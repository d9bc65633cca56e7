/* SPDX-License-Identifier: Apache-2.0 */
/*
 * One confined sandbox process tree. jail_spawn() clones a child into new user, mount,
 * pid, net, uts, ipc and cgroup namespaces; the child becomes the sandbox's pid 1 (our
 * init), confines itself in one ordered sequence (jail_confine in jail.c), then forks the
 * main process and reaps until it exits, with its exit status (128+signal if killed).
 */
#ifndef OS_JAIL_H
#define OS_JAIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct cgroup;
struct err;

#define JAIL_MAX_PATHS 256
#define JAIL_MAX_ENV 160

struct jail_spec {
	const char *read_only[JAIL_MAX_PATHS];  /* paths bound read-only */
	size_t n_ro;
	const char *read_write[JAIL_MAX_PATHS]; /* paths bound read-write */
	size_t n_rw;
	int from_fd;                            /* --from: the root filesystem the paths above
						 * come from (an O_PATH dir fd, checked with
						 * rootdir_open), or -1 for the host's / */
	const char *from_dir;                   /* its canonical path (reopened inside) */
	const char *workdir;                    /* host dir mounted at /sandbox (HOME) */
	const char *root_dir;                   /* an empty host dir to build the root on */
	const char *hostname;
	char *const *argv;                      /* main process */
	const char *env[JAIL_MAX_ENV];          /* KEY=VALUE, the complete environment */
	size_t n_env;
	bool hard_landlock;                     /* landlock.compatibility: hard_requirement */
	uid_t host_uid;                         /* who uid 1000 inside is outside */
	gid_t host_gid;
	int stdio[3];                           /* the main process's stdin/stdout/stderr */
	bool tty;                               /* run it on a terminal instead (stdio unused):
						 * pid 1 opens one in the sandbox's devpts and
						 * sends the master first on the control socket */
	const struct cgroup *cgroup;            /* joined by pid 1 before it runs anything */
};

/* Starts the sandbox. *init_pid is its pid 1 as seen from here; *proxy_fd receives the
 * listening socket on 127.0.0.1:3128 made inside the sandbox's network namespace
 * (DESIGN.md §7), *diag_fd a NETLINK_SOCK_DIAG socket made there too (the proxy's fast
 * socket lookup, lib/sockdiag.h), or -1 when the kernel has none. Returns after the
 * sandbox has confined itself, or -1 with the step that failed ("confine step
 * 'pivot_root' failed: ..."). */
int jail_spawn(const struct jail_spec *s, pid_t *init_pid, int *proxy_fd, int *diag_fd,
	       int *ctl_fd, struct err *e);

/*
 * Exec sessions: the sandbox's pid 1 starts further processes on request, confined as
 * the main process is (they inherit its Landlock domain, seccomp filter and identity).
 * ctl_fd (from jail_spawn) is a SOCK_SEQPACKET socket to pid 1. Requests carry the
 * command, environment and working directory, and the process's stdin/stdout/stderr as
 * SCM_RIGHTS. pid 1 answers with struct jail_event messages.
 */
#define JAIL_EXEC_MAX (64 * 1024) /* bytes of command, environment and workdir together */

struct jail_event {
	char kind;      /* 'p' started (pid), 'f' failed to start (value = errno), 'e' exited,
			 * 't' (first, with --tty): the terminal's master as SCM_RIGHTS */
	int32_t tag;    /* the request's tag */
	int32_t value;  /* exit status (128+signal) for 'e' */
};

int jail_exec_send(int ctl_fd, int32_t tag, char *const argv[], const char *const env[],
		   const char *workdir, const int stdio[3], struct err *e);
/* A file transfer session (sandbox/transfer.h): kind 'u', 'U' or 'd' (enum transfer_kind)
 * on path; pid 1's child runs our own code on stdio instead of a program. Events, tags
 * and jail_exec_kill as for exec; the exit status is 0, or 1 after an error on stderr. */
int jail_transfer_send(int ctl_fd, int32_t tag, char kind, const char *path, const int stdio[3],
		       struct err *e);
/* Receives the terminal master pid 1 sends first when the spec asked for a tty. */
int jail_recv_pty(int ctl_fd, int *master, struct err *e);
/* Kills the exec session `tag` (its process) with SIGKILL. */
int jail_exec_kill(int ctl_fd, int32_t tag);
/* pid 1 of the sandbox: runs the main process and exec sessions; exits with the main one. */
__attribute__((noreturn)) void jail_run_init(const struct jail_spec *s, int ctl_fd);

/* Internal steps, in their own files: Landlock over the new root (jail_landlock.c) and the
 * seccomp filter (jail_seccomp.c). Both run in the confined child. */
int jail_landlock(const struct jail_spec *s, struct err *e);
int jail_seccomp_load(void);
/* The filter as readable pseudo-code (golden tests, `openshell internal seccomp`). */
int jail_seccomp_export_pfc(int fd);

#endif
