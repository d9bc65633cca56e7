/* SPDX-License-Identifier: Apache-2.0 */
#include "unit.h"
#include "../../lib/cgroup.h"
#include "../../lib/err.h"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

TEST(cgroup_parses_quantities)
{
	struct err e = ERR_INIT;
	int64_t v;

	CHECK_INT(cg_parse_cpus("4.0", &v, &e), 0);
	CHECK_INT(v, 4000);
	CHECK_INT(cg_parse_cpus("0.5", &v, &e), 0);
	CHECK_INT(v, 500);
	CHECK_INT(cg_parse_cpus("250m", &v, &e), 0);
	CHECK_INT(v, 250);
	CHECK_INT(cg_parse_cpus("0", &v, &e), -1);
	CHECK_INT(cg_parse_cpus("-1", &v, &e), -1);
	CHECK_INT(cg_parse_cpus("abc", &v, &e), -1);
	CHECK_INT(cg_parse_cpus("m", &v, &e), -1);
	CHECK_INT(cg_parse_memory("16g", &v, &e), 0);
	CHECK_INT(v, 16LL << 30);
	CHECK_INT(cg_parse_memory("512Mi", &v, &e), 0);
	CHECK_INT(v, 512LL << 20);
	CHECK_INT(cg_parse_memory("1048576", &v, &e), 0);
	CHECK_INT(v, 1048576);
	CHECK_INT(cg_parse_memory("0", &v, &e), -1);
	CHECK_INT(cg_parse_memory("12q", &v, &e), -1);
	CHECK_INT(cg_parse_memory("1gb", &v, &e), -1);
	CHECK_INT(cg_parse_memory("99999999999t", &v, &e), -1);
	CHECK(strstr(e.msg, "invalid memory quantity '99999999999t'") != NULL);
}

TEST(cgroup_limits_and_kill_as_root)
{
	struct cg_limits lim = { 500, 64LL << 20, 16 }, got;
	struct err e = ERR_INIT;
	struct cgroup cg;
	char why[256], name[64];
	pid_t child;

	if (getuid() != 0 || cg_detect(why, sizeof(why)) == CG_NONE)
		return; /* covered by the e2e tests where cgroups are writable */
	snprintf(name, sizeof(name), "openshell-unit-%d", (int)getpid());
	CHECK_INT(cg_create(name, &lim, &cg, &e), 0);
	CHECK_INT(cg_read_limits(&cg, &got, &e), 0);
	CHECK_INT(got.cpu_millis, 500);
	CHECK_INT(got.memory, 64LL << 20);
	CHECK_INT(got.pids, 16);
	child = fork();
	if (child == 0) {
		pause();
		_exit(0);
	}
	CHECK_INT(cg_attach(&cg, child, &e), 0);
	CHECK_INT(cg_count_procs(&cg), 1);
	CHECK_INT(cg_kill_all(&cg, &e), 0);
	waitpid(child, NULL, 0);
	CHECK_INT(cg_count_procs(&cg), 0);
	CHECK_INT(cg_destroy(&cg, &e), 0);
}
