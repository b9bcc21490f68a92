/*
 * Fuzz target: the path globs of [scan] allow_paths (scan_glob_match):
 * the glob comes from the committed .meshpush.ini, the path from a commit,
 * so both are arbitrary.  Input: GLOB NUL PATH.  Also the placeholder
 * filter and the redaction on the same bytes.
 */
#include "scan/scan.h"
#include "util/util.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *nul = memchr(data, '\0', size);
	char *glob, *path, *red;

	if (!nul)
		return 0;
	glob = xstrndup((const char *)data, (size_t)(nul - data));
	path = xstrndup((const char *)nul + 1, size - (size_t)(nul - data) - 1);
	(void)scan_glob_match(glob, path);
	(void)scan_is_placeholder(path, strlen(path));
	red = scan_redact(path);
	if (strlen(path) > 8 && strstr(red, path))
		abort(); /* redaction never shows the whole secret */
	free(red);
	free(glob);
	free(path);
	return 0;
}
