/* git meshpush push: not written yet (see the issue that covers it). */
#include "cli/cmd.h"
#include "error.h"

int cmd_push(int argc, const char **argv, struct cmd_ctx *ctx)
{
	(void)argc;
	(void)argv;
	(void)ctx;
	return error_exit(MP_EXIT_GIT, "'git meshpush push' is not available in this build yet");
}
