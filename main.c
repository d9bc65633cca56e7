/* SPDX-License-Identifier: Apache-2.0 */
/* openshell: run AI agents in sandboxes. main() only hands argv to the command layer. */
#include "cmd/cmd.h"

int main(int argc, char **argv)
{
	return cmd_main(argc, argv);
}
