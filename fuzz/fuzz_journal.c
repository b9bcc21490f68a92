/*
 * Fuzz target: the journal reader (journal_foreach) on arbitrary file
 * content, through the real path: the bytes are written to
 * <tmp>/meshpush/journal.jsonl and read back, every accepted event is
 * walked, then printed by `git meshpush log` itself (text, --json and
 * -n 2; fuzz/run.sh passes -close_fd_mask=3 to silence them).
 */
#include "fuzz_tmp.h"
#include "cli/cmd.h"
#include "journal/journal.h"
#include "error.h"
#include "util/util.h"

#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char *gitdir, *path;


static int walk(json_t *entry, void *payload)
{
	size_t *n = payload;
	const char *key;
	json_t *v;

	json_object_foreach(entry, key, v) {
		if (json_is_string(v))
			(*n) += strlen(json_string_value(v));
	}
	return 0;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	gitdir = fuzz_tmpdir("journal");
	path = journal_path(gitdir);
	*strrchr(path, '/') = '\0';
	mkdir(path, 0700);
	path[strlen(path)] = '/';
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t bad = 0, n = 0;
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);

	if (fd < 0 || write(fd, data, size) != (ssize_t)size)
		abort();
	close(fd);
	(void)journal_foreach(gitdir, walk, &n, &bad);
	{
		static const char *text[] = { "log", NULL };
		static const char *json[] = { "log", "--json", NULL };
		static const char *last[] = { "log", "-n", "2", "--event", "install", NULL };
		struct cmd_ctx ctx = { 0 };

		ctx.gitdir = gitdir;
		(void)cmd_log(1, text, &ctx);
		(void)cmd_log(2, json, &ctx);
		(void)cmd_log(5, last, &ctx);
	}
	mp_error_clear();
	return 0;
}
