/*
 * Fuzz target: the install side's JSON readers on arbitrary bytes.
 *
 * The input is up to three parts separated by NUL bytes (which JSON never
 * contains): a manifest snapshot, its change log (JSON lines), and an
 * install record (JSON lines).  They are written where the deploy module
 * keeps them, under a private $XDG_STATE_HOME, and read back by
 * manifest_load() (snapshot + log replay), record_read() and
 * deploy_records_list() (what `rollback --list` shows).
 */
#include "fuzz_tmp.h"
#include "deploy/deploy.h"
#include "deploy/internal.h"
#include "error.h"
#include "util/fs.h"
#include "util/util.h"

#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define TARGET "/nonexistent/fuzz-target"
#define RECORD_ID "20261126T135000.123Z-a1b2c3"

static char *state, *manifest, *mlog, *record;

static void put(const char *path, const uint8_t *data, size_t len)
{
	int fd;

	if (!len) {
		unlink(path);
		return;
	}
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	if (fd < 0 || write(fd, data, len) != (ssize_t)len)
		abort();
	close(fd);
}


int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	char *dir;

	state = fuzz_tmpdir("deploy");
	setenv("XDG_STATE_HOME", state, 1);
	manifest = manifest_path("fuzz", TARGET);
	mlog = xasprintf("%s.log", manifest);
	dir = fs_state_dir();
	record = xasprintf("%s/installs/%s.jsonl", dir, RECORD_ID);
	free(dir);
	*strrchr(manifest, '/') = '\0';
	fs_mkdir_p(manifest, 0700);
	manifest[strlen(manifest)] = '/';
	*strrchr(record, '/') = '\0';
	fs_mkdir_p(record, 0700);
	record[strlen(record)] = '/';
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *part[3] = { data, NULL, NULL }, *end = data + size;
	size_t len[3] = { size, 0, 0 };
	struct manifest m = MANIFEST_INIT;
	struct deploy_record *recs = NULL;
	json_t *header = NULL, *lines = NULL;
	size_t nr = 0;

	for (int i = 0; i < 2 && part[i]; i++) {
		const uint8_t *nul = memchr(part[i], '\0', len[i]);

		if (!nul)
			break;
		len[i] = (size_t)(nul - part[i]);
		part[i + 1] = nul + 1;
		len[i + 1] = (size_t)(end - part[i + 1]);
	}
	put(manifest, part[0], len[0]);
	put(mlog, part[1], len[1]);
	put(record, part[2], len[2]);

	if (manifest_load(&m, "fuzz", TARGET) == 0) {
		for (size_t i = 0; i < m.nr; i++)
			if (manifest_find(&m, m.entries[i].path) != &m.entries[i])
				abort(); /* the index must find every entry */
	}
	manifest_release(&m);
	if (record_read(&header, &lines, RECORD_ID) == 0 && !json_is_object(header))
		abort();
	json_decref(header);
	json_decref(lines);
	deploy_records_list(&recs, &nr);
	deploy_records_free(recs, nr);
	mp_error_clear();
	return 0;
}
