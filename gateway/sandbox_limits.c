/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The sandboxes' cgroups: the gateway's group and each sandbox's below it (their names,
 * see sandboxes.h), and the limits `sandbox get` shows (sandbox_limits_json): while the
 * sandbox runs, what its cgroup holds, as the kernel reports it; otherwise what its spec
 * asks for, applied at its next start.
 */
#include "sandboxes.h"
#include "gw.h"
#include "lib/cgroup.h"
#include "lib/err.h"
#include "lib/json.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>

void gw_cgroup_name(const struct gw *gw, char *dst, size_t n)
{
	uint32_t h = 2166136261u;
	const char *p;

	for (p = gw->paths.root; *p; p++)
		h = (h ^ (unsigned char)*p) * 16777619u;
	snprintf(dst, n, "openshell-%s-%08x", gw->cfg->name, (unsigned)h);
}

void sandbox_cgroup_rel(const struct gw *gw, const struct sandbox *sb, char *dst, size_t n)
{
	const char *group = json_get_str(json_get(sb->spec, "limits"), "group", NULL);

	if (group)
		snprintf(dst, n, "%s/sb-%.12s", group, sb->id);
	else /* created before groups were named per state dir */
		snprintf(dst, n, "openshell-%s/sb-%.12s", gw->cfg->name, sb->id);
}

static void add_limit(struct json *o, const char *key, int64_t v)
{
	json_obj_add(o, key, v > 0 ? json_new_i64(v) : json_new_null());
}

static void requested(const struct sandbox *sb, struct cg_limits *lim)
{
	const struct json *l = json_get(sb->spec, "limits");
	struct err e = ERR_INIT;

	memset(lim, 0, sizeof(*lim));
	lim->pids = CG_SANDBOX_PIDS;
	if (json_get_str(l, "cpus", NULL))
		cg_parse_cpus(json_get_str(l, "cpus", ""), &lim->cpu_millis, &e);
	if (json_get_str(l, "memory", NULL))
		cg_parse_memory(json_get_str(l, "memory", ""), &lim->memory, &e);
}

struct json *sandbox_limits_json(struct gw *gw, const struct sandbox *sb)
{
	struct json *o = json_new_obj();
	struct cg_limits lim;
	struct cgroup cg;
	char rel[256], why[256];
	bool running = !strcmp(sb->phase, "Ready") || !strcmp(sb->phase, "Provisioning") ||
		       !strcmp(sb->phase, "Stopping");

	sandbox_cgroup_rel(gw, sb, rel, sizeof(rel));
	if (running && cg_open(rel, &cg, &(struct err){ 0 }) == 0 &&
	    cg_read_limits(&cg, &lim, &(struct err){ 0 }) == 0) {
		json_obj_add_str(o, "enforced", cg.mode == CG_V2 ? "cgroup v2" : "cgroup v1");
	} else if (running) {
		requested(sb, &lim); /* what it would have */
		if (cg_detect(why, sizeof(why)) != CG_NONE)
			snprintf(why, sizeof(why),
				 "its cgroup could not be made (the sandbox's log says why)");
		json_obj_add_str(o, "enforced", "no");
		json_obj_add_str(o, "why", why);
	} else {
		requested(sb, &lim);
		json_obj_add_str(o, "enforced", "at the next start");
	}
	add_limit(o, "cpu_millis", lim.cpu_millis);
	add_limit(o, "memory_bytes", lim.memory);
	add_limit(o, "pids", lim.pids);
	return o;
}
