/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Resource limits through cgroups: v2 where a writable hierarchy with the cpu, memory
 * and pids controllers is available, else the v1 controllers (this machine's hybrid
 * layout), else none, in which case the caller says that limits are not enforced.
 * A group is created below the calling process's own cgroup in each hierarchy, so
 * nested groups (gateway -> sandbox) share their parent's limits.
 */
#ifndef OS_CGROUP_H
#define OS_CGROUP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct err;

enum cg_mode { CG_NONE = 0, CG_V1, CG_V2 };

struct cg_limits {
	int64_t cpu_millis; /* 1000 = one CPU; 0 = unlimited */
	int64_t memory;     /* bytes; 0 = unlimited */
	int64_t pids;       /* 0 = unlimited */
};

#define CG_SANDBOX_PIDS 2048 /* each sandbox's processes (the reference's sandbox_pids_limit) */

enum cg_ctl { CG_CPU, CG_MEMORY, CG_PIDS, CG_NCTL };

struct cgroup {
	enum cg_mode mode;
	char path[CG_NCTL][512]; /* v2: all three equal */
};

/* "4.0", "0.5", "250m" (milli-CPUs) -> milli-CPUs. */
int cg_parse_cpus(const char *s, int64_t *millis, struct err *e);
/* "16g", "512m", "1Gi", "1048576" -> bytes (k/m/g/t and Ki/Mi/Gi/Ti, powers of 1024). */
int cg_parse_memory(const char *s, int64_t *bytes, struct err *e);

/* Which mode is usable here, with a reason when CG_NONE. */
enum cg_mode cg_detect(char *why, size_t n);
/* Creates (or reuses) group `rel` (e.g. "openshell-gw/sb-abc") below this process's
 * cgroups and writes the limits. */
int cg_create(const char *rel, const struct cg_limits *lim, struct cgroup *cg, struct err *e);
/* Re-opens an existing group by its relative name, without changing limits. */
int cg_open(const char *rel, struct cgroup *cg, struct err *e);
int cg_attach(const struct cgroup *cg, pid_t pid, struct err *e);
/* Kills every process in the group and waits until it is empty (bounded). */
int cg_kill_all(const struct cgroup *cg, struct err *e);
/* Removes the group (must be empty). Missing is fine. */
int cg_destroy(const struct cgroup *cg, struct err *e);
/* Number of processes in the group. */
int cg_count_procs(const struct cgroup *cg);
/* The pids limit of a gateway's group, all its sandboxes together: half of what the host
 * can have (the smaller of kernel.pid_max and kernel.threads-max), so that fork bombs in
 * every sandbox at once still leave the host the other half. */
int64_t cg_gateway_pids_cap(void);
/* Current limits as the kernel reports them (0 = unlimited). */
int cg_read_limits(const struct cgroup *cg, struct cg_limits *lim, struct err *e);

#endif
