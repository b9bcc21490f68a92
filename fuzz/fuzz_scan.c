/*
 * Fuzz target: the rule engine on arbitrary bytes.
 *
 * One engine (the compiled-in rules, database cached in a private
 * $XDG_CACHE_HOME) scans each input with scan_buffer(); the first byte
 * picks the path it is reported under (path-specific rules, allow_paths).
 * Every report is then written in the three formats, redacted and not, and
 * the helpers that handle candidate secrets (redaction, placeholder filter,
 * entropy, fingerprint) run on every finding.
 */
#include "fuzz_tmp.h"
#include "error.h"
#include "scan/scan.h"
#include "util/util.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static struct scan_engine *engine;
static FILE *devnull;
static char *cache;

static const char *const paths[] = {
	"script.js", ".env", "config/.meshpush.ini", "docs/examples/README.md", "id_rsa",
	"deploy.sh", "settings.py", "package-lock.json", "a b/$(x)\n-name.yml", "kubeconfig",
};


int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	cache = fuzz_tmpdir("scan");
	setenv("XDG_CACHE_HOME", cache, 1);
	devnull = fopen("/dev/null", "w");
	if (!devnull || scan_engine_new(&engine, NULL) < 0) {
		fprintf(stderr, "fuzz_scan: %s\n", mp_error_last());
		abort();
	}
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct scan_report r = SCAN_REPORT_INIT;
	const char *path;
	char *buf;

	if (size < 1)
		return 0;
	path = paths[data[0] % ARRAY_SIZE(paths)];
	buf = malloc(size - 1 ? size - 1 : 1); /* exact size: ASan sees reads past the end */
	memcpy(buf, data + 1, size - 1);
	if (scan_buffer(engine, &r, path, buf, size - 1) == 0) {
		for (size_t i = 0; i < r.nr; i++) {
			const struct scan_finding *f = &r.findings[i];
			char *red = scan_redact(f->secret), *fp = scan_fingerprint(f->rule, f->path, f->secret);

			/* a redacted secret never shows the secret (when it is longer than the shown prefix) */
			if (strlen(f->secret) > 8 && strstr(red, f->secret))
				abort();
			(void)scan_is_placeholder(f->secret, strlen(f->secret));
			(void)scan_entropy(f->secret, strlen(f->secret));
			free(red);
			free(fp);
		}
		scan_report_write(&r, SCAN_FORMAT_TEXT, 1, 1, devnull);
		scan_report_write(&r, SCAN_FORMAT_JSON, 1, 0, devnull);
		scan_report_write(&r, SCAN_FORMAT_SARIF, 0, 0, devnull);
	}
	scan_report_release(&r);
	free(buf);
	mp_error_clear();
	return 0;
}
