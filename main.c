/* SPDX-License-Identifier: Apache-2.0 */
/* openshell: run AI agents in sandboxes. main() only hands argv to the command layer. */
#include "cmd/cmd.h"
#include "lib/util.h"

int main(int argc, char **argv)
{
	proc_title_init(argc, argv);
	return cmd_main(argc, argv);
}
