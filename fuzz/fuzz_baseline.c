/*
 * Fuzz target: the baseline reader (scan_engine_add_baseline), i.e. an
 * earlier `scan --format json` report given with --baseline, on arbitrary
 * bytes.  Each input is written to a file and loaded into a fresh engine
 * (the rules' database comes from a private cache after the first run),
 * which then scans a line holding a known secret.
 */
#include "fuzz_tmp.h"
#include "error.h"
#include "scan/scan.h"
#include "util/util.h"

#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char *dir, *file;

static const char sample[] = "token = ghp_4bV7kLm2Qx9TzR8sWn3Jc6Hd1Fy5Pa0Ge7Ui\n";


int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	dir = fuzz_tmpdir("baseline");
	setenv("XDG_CACHE_HOME", dir, 1);
	file = xasprintf("%s/baseline.json", dir);
	{
		/* compile the rules once, outside the time limit of a run: later engines load the cache */
		struct scan_engine *e = NULL;

		if (scan_engine_new(&e, NULL) < 0)
			abort();
		scan_engine_free(e);
	}
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct scan_engine *e = NULL;
	struct scan_report r = SCAN_REPORT_INIT;
	int fd = open(file, O_WRONLY | O_CREAT | O_TRUNC, 0600);

	if (fd < 0 || write(fd, data, size) != (ssize_t)size)
		abort();
	close(fd);
	if (scan_engine_new(&e, NULL) < 0)
		abort();
	if (scan_engine_add_baseline(e, file) == 0)
		(void)scan_buffer(e, &r, "config.py", sample, sizeof(sample) - 1);
	scan_report_release(&r);
	scan_engine_free(e);
	mp_error_clear();
	return 0;
}
