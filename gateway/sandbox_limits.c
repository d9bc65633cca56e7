/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The limits `sandbox get` shows (see sandbox_limits_json in sandboxes.h): while the
 * sandbox runs, what its cgroup holds, as the kernel reports it; otherwise what its spec
 * asks for, applied at its next start.
 */
#include "sandboxes.h"
#include "gw.h"
#include "lib/cgroup.h"
#include "lib/err.h"
#include "lib/json.h"

#include <stdio.h>
#include <string.h>

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

	snprintf(rel, sizeof(rel), "openshell-%s/sb-%.12s", gw->cfg->name, sb->id);
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
