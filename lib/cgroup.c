/* SPDX-License-Identifier: Apache-2.0 */
/* cgroup v2 / v1 limits; see cgroup.h. */
#include "cgroup.h"
#include "buf.h"
#include "err.h"
#include "fsutil.h"
#include "util.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define V1_ROOT "/sys/fs/cgroup"
#define CPU_PERIOD_US 100000

static const char *const v1_ctl_name[CG_NCTL] = { "cpu", "memory", "pids" };

int cg_parse_cpus(const char *s, int64_t *millis, struct err *e)
{
	char *end;
	double v;

	if (!s || !*s || isspace((unsigned char)*s))
		goto bad;
	errno = 0;
	if (str_has_suffix(s, "m")) {
		uint64_t m;
		char num[32];

		if (fmt_into(num, sizeof(num), "%.*s", (int)strlen(s) - 1, s) < 0 ||
		    parse_u64(num, 1, 1000000000, &m) < 0)
			goto bad;
		*millis = (int64_t)m;
		return 0;
	}
	v = strtod(s, &end);
	if (errno || *end || !(v > 0) || v > 1e6)
		goto bad;
	*millis = (int64_t)(v * 1000 + 0.5);
	if (*millis < 1)
		goto bad;
	return 0;
bad:
	return err_set(e, ERR_INVALID, 0,
		       "invalid CPU quantity '%s': expected a positive number such as 4.0, 0.5 or 250m",
		       s ? s : "");
}

int cg_parse_memory(const char *s, int64_t *bytes, struct err *e)
{
	static const char units[] = "kmgt";
	char *end;
	unsigned long long v;
	int shift = 0;
	size_t len;
	const char *u;

	if (!s || !isdigit((unsigned char)*s))
		goto bad;
	v = strtoull(s, &end, 10);
	len = strlen(end);
	if (len > 2 || (len == 2 && end[1] != 'i'))
		goto bad;
	if (len) {
		u = strchr(units, tolower((unsigned char)end[0]));
		if (!u)
			goto bad;
		shift = 10 * (int)(u - units + 1);
	}
	if (v == 0 || v > (unsigned long long)INT64_MAX >> shift)
		goto bad;
	*bytes = (int64_t)(v << shift);
	return 0;
bad:
	return err_set(e, ERR_INVALID, 0,
		       "invalid memory quantity '%s': expected a positive size such as 16g, 512m or 1Gi",
		       s ? s : "");
}

/* This process's cgroup path in the hierarchy named key ("" for v2, "memory" for v1). */
static int self_cgroup(const char *key, char *dst, size_t n)
{
	char line[1024];
	FILE *f = fopen("/proc/self/cgroup", "re");
	int found = -1;

	if (!f)
		return -1;
	while (found < 0 && fgets(line, sizeof(line), f)) {
		char *ctl = strchr(line, ':'), *path;

		if (!ctl || !(path = strchr(ctl + 1, ':')))
			continue;
		*path++ = '\0';
		ctl++;
		path[strcspn(path, "\n")] = '\0';
		if (*key ? strstr(ctl, key) && (strlen(ctl) == strlen(key) ||
						strchr(ctl, ',')) : !*ctl) {
			snprintf(dst, n, "%s", strcmp(path, "/") ? path : "");
			found = 0;
		}
	}
	fclose(f);
	return found;
}

static const char *v2_root(void)
{
	static const char *const roots[] = { "/sys/fs/cgroup", "/sys/fs/cgroup/unified" };
	char path[PATH_MAX];
	size_t i;

	for (i = 0; i < ARRAY_SIZE(roots); i++) {
		snprintf(path, sizeof(path), "%s/cgroup.controllers", roots[i]);
		if (access(path, R_OK) == 0)
			return roots[i];
	}
	return NULL;
}

static bool v2_usable(char *base, size_t n)
{
	const char *root = v2_root();
	char self[512], path[PATH_MAX];
	struct buf ctl = BUF_INIT;
	struct err e = ERR_INIT;
	bool ok;

	if (!root || self_cgroup("", self, sizeof(self)) < 0)
		return false;
	snprintf(base, n, "%s%s", root, self);
	snprintf(path, sizeof(path), "%s/cgroup.controllers", base);
	ok = read_file(path, 4096, &ctl, &e) == 0 && strstr(ctl.p, "cpu") &&
	     strstr(ctl.p, "memory") && strstr(ctl.p, "pids") && access(base, W_OK) == 0;
	buf_release(&ctl);
	return ok;
}

static bool v1_usable(void)
{
	char path[PATH_MAX], self[512];
	size_t i;

	for (i = 0; i < CG_NCTL; i++) {
		if (self_cgroup(v1_ctl_name[i], self, sizeof(self)) < 0)
			return false;
		snprintf(path, sizeof(path), V1_ROOT "/%s%s", v1_ctl_name[i], self);
		if (access(path, W_OK) != 0)
			return false;
	}
	return true;
}

enum cg_mode cg_detect(char *why, size_t n)
{
	char base[PATH_MAX];

	if (v2_usable(base, sizeof(base)))
		return CG_V2;
	if (v1_usable())
		return CG_V1;
	snprintf(why, n, "no writable cgroup hierarchy with the cpu, memory and pids controllers "
			 "(cgroup v2 not delegated to this user, v1 controllers not writable)");
	return CG_NONE;
}

static int resolve(const char *rel, struct cgroup *cg, struct err *e)
{
	char why[256], self[512], base[PATH_MAX];
	size_t i;

	if (strstr(rel, "..") || rel[0] == '/')
		return err_set(e, ERR_INVALID, 0, "invalid cgroup name '%s'", rel);
	memset(cg, 0, sizeof(*cg));
	cg->mode = cg_detect(why, sizeof(why));
	if (cg->mode == CG_NONE)
		return err_set(e, ERR_UNAVAILABLE, 0, "resource limits cannot be enforced: %s", why);
	for (i = 0; i < CG_NCTL; i++) {
		if (cg->mode == CG_V2) {
			v2_usable(base, sizeof(base));
		} else {
			self_cgroup(v1_ctl_name[i], self, sizeof(self));
			snprintf(base, sizeof(base), V1_ROOT "/%s%s", v1_ctl_name[i], self);
		}
		if (fmt_into(cg->path[i], sizeof(cg->path[i]), "%s/%s", base, rel) < 0)
			return err_set(e, ERR_INVALID, ENAMETOOLONG, "cgroup path too long");
	}
	return 0;
}

static int write_ctl(const char *dir, const char *file, const char *val, struct err *e)
{
	char path[PATH_MAX];
	int fd, r;

	snprintf(path, sizeof(path), "%s/%s", dir, file);
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return err_sys(e, ERR_RUNTIME, "cannot open '%s'", path);
	r = write_full(fd, val, strlen(val));
	if (r < 0)
		err_sys(e, ERR_RUNTIME, "cannot write '%s' to '%s'", val, path);
	close(fd);
	return r;
}

/* v2: the parent must delegate the controllers to its children. */
static int v2_enable_controllers(const char *path, struct err *e)
{
	char parent[PATH_MAX], *slash;

	snprintf(parent, sizeof(parent), "%s", path);
	slash = strrchr(parent, '/');
	if (!slash)
		return 0;
	*slash = '\0';
	return write_ctl(parent, "cgroup.subtree_control", "+cpu +memory +pids", e);
}

static int write_limits(const struct cgroup *cg, const struct cg_limits *lim, struct err *e)
{
	char v[64];
	bool v2 = cg->mode == CG_V2;

	if (v2 && lim->cpu_millis)
		snprintf(v, sizeof(v), "%lld %d", (long long)lim->cpu_millis * CPU_PERIOD_US / 1000,
			 CPU_PERIOD_US);
	else if (v2)
		snprintf(v, sizeof(v), "max %d", CPU_PERIOD_US);
	else
		snprintf(v, sizeof(v), "%lld",
			 lim->cpu_millis ? (long long)lim->cpu_millis * CPU_PERIOD_US / 1000 : -1LL);
	if (!v2 && write_ctl(cg->path[CG_CPU], "cpu.cfs_period_us", "100000", e) < 0)
		return -1;
	if (write_ctl(cg->path[CG_CPU], v2 ? "cpu.max" : "cpu.cfs_quota_us", v, e) < 0)
		return -1;
	if (lim->memory)
		snprintf(v, sizeof(v), "%lld", (long long)lim->memory);
	else
		snprintf(v, sizeof(v), v2 ? "max" : "-1");
	if (write_ctl(cg->path[CG_MEMORY], v2 ? "memory.max" : "memory.limit_in_bytes", v, e) < 0)
		return -1;
	if (v2 && lim->memory && write_ctl(cg->path[CG_MEMORY], "memory.swap.max", "0", e) < 0)
		err_clear(e); /* no swap accounting: the memory limit still holds */
	if (lim->pids)
		snprintf(v, sizeof(v), "%lld", (long long)lim->pids);
	else
		snprintf(v, sizeof(v), "max");
	return write_ctl(cg->path[CG_PIDS], "pids.max", v, e);
}

int cg_create(const char *rel, const struct cg_limits *lim, struct cgroup *cg, struct err *e)
{
	size_t i;

	if (resolve(rel, cg, e) < 0)
		return -1;
	for (i = 0; i < CG_NCTL; i++) {
		if (cg->mode == CG_V2 && i > 0)
			break;
		if (mkdir_p(cg->path[i], 0755, e) < 0)
			return err_wrap(e, "cannot create cgroup");
	}
	if (cg->mode == CG_V2 && v2_enable_controllers(cg->path[0], e) < 0)
		return err_wrap(e, "cannot delegate cgroup controllers");
	if (cg->mode == CG_V1)
		write_ctl(cg->path[CG_MEMORY], "memory.use_hierarchy", "1", e); /* best effort */
	err_clear(e);
	return write_limits(cg, lim, e);
}

int cg_open(const char *rel, struct cgroup *cg, struct err *e)
{
	size_t i;

	if (resolve(rel, cg, e) < 0)
		return -1;
	for (i = 0; i < CG_NCTL; i++) /* v1: a half-removed group still counts */
		if (is_dir(cg->path[i]))
			return 0;
	return err_set(e, ERR_NOTFOUND, 0, "cgroup '%s' does not exist", cg->path[0]);
}

int cg_attach(const struct cgroup *cg, pid_t pid, struct err *e)
{
	char v[32];
	size_t i;

	snprintf(v, sizeof(v), "%ld", (long)pid);
	for (i = 0; i < CG_NCTL; i++) {
		if (cg->mode == CG_V2 && i > 0)
			break;
		if (write_ctl(cg->path[i], "cgroup.procs", v, e) < 0)
			return -1;
	}
	return 0;
}

/* Sends sig to every pid listed in dir/cgroup.procs; returns how many were listed. */
static int signal_procs(const char *dir, int sig)
{
	char path[PATH_MAX], line[32];
	int count = 0;
	FILE *f;

	snprintf(path, sizeof(path), "%s/cgroup.procs", dir);
	f = fopen(path, "re");
	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f)) {
		long pid = strtol(line, NULL, 10);

		if (pid > 0) {
			count++;
			if (sig)
				kill((pid_t)pid, sig);
		}
	}
	fclose(f);
	return count;
}

int cg_count_procs(const struct cgroup *cg)
{
	return signal_procs(cg->path[CG_PIDS], 0);
}

/* Waits a little longer each time (1, 2, 4 ... 20 ms): dying tasks are usually gone at once. */
static void backoff(int *ms)
{
	struct timespec pause = { 0, (long)*ms * 1000 * 1000 };

	nanosleep(&pause, NULL);
	*ms = *ms * 2 > 20 ? 20 : *ms * 2;
}

int cg_kill_all(const struct cgroup *cg, struct err *e)
{
	int64_t deadline = now_mono_ms() + 5000;
	int ms = 1;

	if (cg->mode == CG_V2 && write_ctl(cg->path[0], "cgroup.kill", "1", e) < 0)
		err_clear(e); /* kernels before 5.14: fall back to signalling each process */
	/* Freezing is not needed: pids only grow by fork, and each round kills the newcomers. */
	while (signal_procs(cg->path[CG_PIDS], SIGKILL) != 0) {
		if (now_mono_ms() > deadline)
			return err_set(e, ERR_RUNTIME, 0, "processes in '%s' did not die within 5 s",
				       cg->path[CG_PIDS]);
		backoff(&ms);
	}
	return 0;
}

int cg_destroy(const struct cgroup *cg, struct err *e)
{
	size_t i;

	for (i = 0; i < CG_NCTL; i++) {
		int64_t deadline = now_mono_ms() + 1000;
		int ms = 1;

		if (cg->mode == CG_V2 && i > 0)
			break;
		/* a group is busy until its last task has been reaped by its parent */
		while (rmdir(cg->path[i]) < 0 && errno == EBUSY && now_mono_ms() < deadline)
			backoff(&ms);
		if (access(cg->path[i], F_OK) == 0)
			return err_sys(e, ERR_RUNTIME, "cannot remove cgroup '%s'", cg->path[i]);
	}
	return 0;
}

static int64_t read_num(const char *dir, const char *file)
{
	char path[PATH_MAX];
	struct buf t = BUF_INIT;
	struct err e = ERR_INIT;
	int64_t v = 0;

	snprintf(path, sizeof(path), "%s/%s", dir, file);
	if (read_file(path, 256, &t, &e) == 0)
		v = strtoll(t.p, NULL, 10); /* "max" reads as 0 = unlimited */
	buf_release(&t);
	return v;
}

int64_t cg_gateway_pids_cap(void)
{
	int64_t pid_max = read_num("/proc/sys/kernel", "pid_max");
	int64_t threads_max = read_num("/proc/sys/kernel", "threads-max");
	int64_t host = pid_max;

	if (host <= 0 || (threads_max > 0 && threads_max < host))
		host = threads_max;
	if (host <= 0)
		host = 32768; /* the kernel's default pid_max */
	return host / 2;
}

int cg_read_limits(const struct cgroup *cg, struct cg_limits *lim, struct err *e)
{
	int64_t quota;

	(void)e;
	memset(lim, 0, sizeof(*lim));
	if (cg->mode == CG_V2) {
		quota = read_num(cg->path[CG_CPU], "cpu.max");
		lim->memory = read_num(cg->path[CG_MEMORY], "memory.max");
	} else {
		quota = read_num(cg->path[CG_CPU], "cpu.cfs_quota_us");
		lim->memory = read_num(cg->path[CG_MEMORY], "memory.limit_in_bytes");
		if (lim->memory >= INT64_MAX / 2)
			lim->memory = 0; /* v1 reports "unlimited" as a huge number */
	}
	lim->cpu_millis = quota > 0 ? quota * 1000 / CPU_PERIOD_US : 0;
	lim->pids = read_num(cg->path[CG_PIDS], "pids.max");
	return 0;
}
