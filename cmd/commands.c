/* SPDX-License-Identifier: Apache-2.0 */
/* The root command table: every command group, in the order help lists them. */
#include "cmd.h"
#include "gateway_cmd.h"
#include "sandbox_cmd.h"
#include "policy_cmd.h"

static const char *const gateway_aliases[] = { "gw", "gateways", NULL };
static const char *const doctor_aliases[] = { "dr", NULL };
static const char *const sandbox_aliases[] = { "sb", NULL };
static const char *const logs_aliases[] = { "lg", NULL };
static const char *const policy_aliases[] = { "pol", NULL };

const struct cmd cmd_root_subs[] = {
	{ "sandbox", sandbox_aliases, "create, run and manage sandboxes", NULL, NULL, NULL, 0, 0, 0,
	  NULL, cmd_sandbox_subs, 0 },
	{ "gateway", gateway_aliases, "run and manage gateways: start, stop, info, register, select, list", NULL, NULL,
	  NULL, 0, 0, 0, NULL, cmd_gateway_subs, 0 },
	{ "logs", logs_aliases, "show a sandbox's log (proxy decisions, starts, exits)", "[NAME]",
	  NULL, logs_opts, sizeof(struct logs_args), 0, 1, logs_run, NULL, 0 },
	{ "policy", policy_aliases, "validate, check and set sandbox policies", NULL, NULL, NULL, 0,
	  0, 0, NULL, cmd_policy_subs, 0 },
	{ "status", NULL, "show whether the gateway answers", NULL, NULL, status_opts,
	  sizeof(struct status_args), 0, 0, status_run, NULL, 0 },
	{ "doctor", doctor_aliases, "diagnose the host and the gateway (check, logs)", NULL, NULL,
	  NULL, 0, 0, 0, NULL, cmd_doctor_subs, 0 },
	{ "supervise", NULL, "run one sandbox's supervisor (started by the gateway)", NULL, NULL,
	  supervise_opts, sizeof(struct supervise_args), 0, 0, supervise_run, NULL, CMD_HIDDEN },
	CMD_END,
};
