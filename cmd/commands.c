/* SPDX-License-Identifier: Apache-2.0 */
/* The root command table: every command group, in the order help lists them. */
#include "cmd.h"
#include "gateway_cmd.h"

static const char *const gateway_aliases[] = { "gw", "gateways", NULL };
static const char *const doctor_aliases[] = { "dr", NULL };

const struct cmd cmd_root_subs[] = {
	{ "gateway", gateway_aliases, "manage gateways: register, select, list, remove", NULL, NULL,
	  NULL, 0, 0, 0, NULL, cmd_gateway_subs, 0 },
	{ "status", NULL, "show whether the gateway answers", NULL, NULL, status_opts,
	  sizeof(struct status_args), 0, 0, status_run, NULL, 0 },
	{ "doctor", doctor_aliases, "diagnose the host and the gateway (check, logs)", NULL, NULL,
	  NULL, 0, 0, 0, NULL, cmd_doctor_subs, 0 },
	CMD_END,
};
