/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The sandbox's seccomp filter (reference/supervisor.md §7.3 plus DESIGN.md §6): default
 * allow, listed calls fail with EPERM; clone3 fails with ENOSYS so libc falls back to
 * clone, whose flags can be filtered. Every comparison of an int argument is MASKED_EQ
 * over the low 32 bits, and socket domains are filtered on all 64 bits (STYLE.md §3b).
 */
#include "jail.h"
#include "lib/util.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/seccomp.h>
#include <sched.h>
#include <sys/prctl.h>
#include <seccomp.h>
#include <sys/ioctl.h>
#include <sys/socket.h>

#define DENY SCMP_ACT_ERRNO(EPERM)
#define LOW32 0xffffffffULL

static const char *const always_denied[] = {
	"memfd_create", "ptrace", "bpf", "process_vm_readv", "process_vm_writev", "pidfd_open",
	"pidfd_getfd", "pidfd_send_signal", "io_uring_setup", "io_uring_enter",
	"io_uring_register", "mount", "fsopen", "fsconfig", "fsmount", "fspick", "move_mount",
	"open_tree", "setns", "umount2", "pivot_root", "userfaultfd", "perf_event_open", "keyctl",
	"add_key", "request_key", "kexec_load", "kexec_file_load", "init_module", "finit_module",
	"delete_module", "acct", "swapon", "swapoff", "reboot", "lookup_dcookie", "quotactl",
	"name_to_handle_at", "open_by_handle_at", "kcmp",
};

static int deny_name(scmp_filter_ctx ctx, const char *name)
{
	int nr = seccomp_syscall_resolve_name(name);

	if (nr == __NR_SCMP_ERROR)
		return 0; /* not on this architecture */
	return seccomp_rule_add(ctx, DENY, nr, 0);
}

/* Only AF_UNIX (1), AF_INET (2), AF_INET6 (10) and AF_NETLINK (16) with protocol 0
 * (NETLINK_ROUTE, for getifaddrs). Anything above 16, including values with high bits
 * set, is caught by one 64-bit GT rule. */
static int socket_rules(scmp_filter_ctx ctx)
{
	static const int denied_low[] = { 0, 3, 4, 5, 6, 7, 8, 9, 11, 12, 13, 14, 15 };
	size_t i;
	int r = 0;

	for (i = 0; i < ARRAY_SIZE(denied_low) && !r; i++)
		r = seccomp_rule_add(ctx, DENY, SCMP_SYS(socket), 1,
				     SCMP_A0(SCMP_CMP_MASKED_EQ, LOW32, denied_low[i]));
	if (!r)
		r = seccomp_rule_add(ctx, DENY, SCMP_SYS(socket), 1, SCMP_A0(SCMP_CMP_GT, 16));
	if (!r)
		r = seccomp_rule_add(ctx, DENY, SCMP_SYS(socket), 2,
				     SCMP_A0(SCMP_CMP_MASKED_EQ, LOW32, AF_NETLINK),
				     SCMP_A2(SCMP_CMP_NE, 0));
	return r;
}

static int flag_rules(scmp_filter_ctx ctx)
{
	int r;

	r = seccomp_rule_add(ctx, DENY, SCMP_SYS(unshare), 1,
			     SCMP_A0(SCMP_CMP_MASKED_EQ, CLONE_NEWUSER, CLONE_NEWUSER));
	r = r ?: seccomp_rule_add(ctx, DENY, SCMP_SYS(clone), 1,
				  SCMP_A0(SCMP_CMP_MASKED_EQ, CLONE_NEWUSER, CLONE_NEWUSER));
	r = r ?: seccomp_rule_add(ctx, DENY, SCMP_SYS(execveat), 1,
				  SCMP_A4(SCMP_CMP_MASKED_EQ, AT_EMPTY_PATH, AT_EMPTY_PATH));
	r = r ?: seccomp_rule_add(ctx, DENY, SCMP_SYS(seccomp), 1,
				  SCMP_A0(SCMP_CMP_MASKED_EQ, LOW32, SECCOMP_SET_MODE_FILTER));
	r = r ?: seccomp_rule_add(ctx, DENY, SCMP_SYS(ioctl), 1,
				  SCMP_A1(SCMP_CMP_MASKED_EQ, LOW32, TIOCSTI));
	r = r ?: seccomp_rule_add(ctx, DENY, SCMP_SYS(ioctl), 1,
				  SCMP_A1(SCMP_CMP_MASKED_EQ, LOW32, TIOCLINUX));
	/* A process appears under a parent that did not run only as an orphan, and orphans all
	 * go to init: the proxy's caller identification relies on it to re-read init's children
	 * list rather than every ancestor's (ident_cache_set_init_reaps_all). */
	r = r ?: seccomp_rule_add(ctx, DENY, SCMP_SYS(clone), 1,
				  SCMP_A0(SCMP_CMP_MASKED_EQ, CLONE_PARENT, CLONE_PARENT));
	r = r ?: seccomp_rule_add(ctx, DENY, SCMP_SYS(prctl), 1,
				  SCMP_A0(SCMP_CMP_MASKED_EQ, LOW32, PR_SET_CHILD_SUBREAPER));
	/* Every thread of a process shares its fd table, the one /proc/<pid>/fd shows: no
	 * thread with a table of its own, by clone or by unshare (identification again). */
	r = r ?: seccomp_rule_add(ctx, DENY, SCMP_SYS(clone), 1,
				  SCMP_A0(SCMP_CMP_MASKED_EQ, CLONE_THREAD | CLONE_FILES,
					  CLONE_THREAD));
	r = r ?: seccomp_rule_add(ctx, DENY, SCMP_SYS(unshare), 1,
				  SCMP_A0(SCMP_CMP_MASKED_EQ, CLONE_FILES, CLONE_FILES));
	/* personality: only the default domain (0) may be (re)set */
	r = r ?: seccomp_rule_add(ctx, DENY, SCMP_SYS(personality), 1, SCMP_A0(SCMP_CMP_NE, 0));
	return r;
}

static scmp_filter_ctx build(void)
{
	scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ALLOW);
	size_t i;
	int r;

	if (!ctx)
		return NULL;
	r = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(ENOSYS), SCMP_SYS(clone3), 0);
	for (i = 0; i < ARRAY_SIZE(always_denied) && !r; i++)
		r = deny_name(ctx, always_denied[i]);
	r = r ?: socket_rules(ctx);
	r = r ?: flag_rules(ctx);
	if (r) {
		seccomp_release(ctx);
		errno = -r;
		return NULL;
	}
	return ctx;
}

int jail_seccomp_load(void)
{
	scmp_filter_ctx ctx = build();
	int r;

	if (!ctx)
		return -1;
	r = seccomp_load(ctx);
	seccomp_release(ctx);
	if (r) {
		errno = -r;
		return -1;
	}
	return 0;
}

int jail_seccomp_export_pfc(int fd)
{
	scmp_filter_ctx ctx = build();
	int r;

	if (!ctx)
		return -1;
	r = seccomp_export_pfc(ctx, fd);
	seccomp_release(ctx);
	return r ? -1 : 0;
}
