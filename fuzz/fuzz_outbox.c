/*
 * Fuzz target: the outbox reader on arbitrary bytes.  Each input is one
 * entry file ($XDG_STATE_HOME/meshpush/outbox/<id>.<agent>.json, a private
 * state directory) read by outbox_list() and shown by `git meshpush
 * outbox list` and `outbox list --json` (output silenced by fuzz/run.sh's
 * -close_fd_mask).  Nothing is delivered.
 */
#include "fuzz_tmp.h"
#include "cli/cmd.h"
#include "error.h"
#include "net/outbox.h"
#include "util/fs.h"
#include "util/util.h"

#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char *state, *entry;


int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	char *dir;

	state = fuzz_tmpdir("outbox");
	setenv("XDG_STATE_HOME", state, 1);
	dir = outbox_dir();
	fs_mkdir_p(dir, 0700);
	entry = fs_join(dir, "20261126T135000Z-a1b2c3.oracle.json");
	free(dir);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *list[] = { "outbox", "list", NULL };
	static const char *list_json[] = { "outbox", "list", "--json", NULL };
	struct outbox_entry *v = NULL;
	struct strlist damaged = STRLIST_INIT;
	struct cmd_ctx ctx = { 0 };
	size_t n = 0;
	int fd = open(entry, O_WRONLY | O_CREAT | O_TRUNC, 0600);

	if (fd < 0 || write(fd, data, size) != (ssize_t)size)
		abort();
	close(fd);
	if (outbox_list(&v, &n, &damaged) == 0) {
		for (size_t i = 0; i < n; i++)
			if (!v[i].id || !v[i].agent || !v[i].message)
				abort(); /* a listed entry has what a delivery needs */
		outbox_entries_free(v, n);
	}
	strlist_release(&damaged);
	(void)outbox_has_entries();
	(void)cmd_outbox(2, list, &ctx);
	(void)cmd_outbox(3, list_json, &ctx);
	mp_error_clear();
	return 0;
}
