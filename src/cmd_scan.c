/*
 * git meshpush scan [PATH...] [--staged] [--range A..B] [--all] [--stdin]
 *
 * Scan files, the index, commits, the whole history or standard input for
 * secrets (src/scan/), print the findings, exit 1 when there are some.
 */
#include "cli/cmd.h"
#include "cli/opt.h"
#include "error.h"
#include "scan/scan.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void show_progress(size_t done, size_t total, void *payload)
{
	double *last = payload, now = now_ms();

	if (now - *last < 100 && done < total)
		return;
	*last = now;
	fprintf(stderr, "\rscanning history: %zu/%zu blobs (%d%%)", done, total,
		total ? (int)(100.0 * (double)done / (double)total) : 100);
	if (done >= total)
		fputs("\r\033[K", stderr);
	fflush(stderr);
}

/* Read standard input, keeping at most `max` + 1 bytes (more is drained: too large anyway). */
static int read_stdin(struct strbuf *out, size_t max)
{
	char buf[65536];

	for (;;) {
		ssize_t n = read(0, buf, sizeof(buf));

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return mp_error_set(MP_EOS, "cannot read standard input: %s", strerror(errno));
		if (n == 0)
			return 0;
		if (out->len <= max)
			strbuf_add(out, buf, (size_t)n);
	}
}

static int use_color(void)
{
	const char *term = getenv("TERM");

	return isatty(1) && !getenv("NO_COLOR") && !(term && !strcmp(term, "dumb"));
}

int cmd_scan(int argc, const char **argv, struct cmd_ctx *ctx)
{
	struct strlist paths = STRLIST_INIT;
	int staged = 0, all = 0, use_stdin = 0, redact = 1, verbose = 0, strict = 0, modes;
	const char *range = NULL, *format = "text", *baseline = NULL;
	const struct opt_spec opts[] = {
		OPT_BOOL("staged", 0, &staged, "scan what the next commit adds (the index against HEAD)"),
		OPT_STRING("range", 0, &range, "A..B", "scan the lines added by the commits of a range (A..B, A...B, REV)"),
		OPT_BOOL("all", 0, &all, "scan the whole history: every blob reachable from any ref"),
		OPT_BOOL("stdin", 0, &use_stdin, "scan standard input"),
		OPT_STRING("format", 0, &format, "FORMAT", "text, json or sarif"),
		OPT_BOOL("redact", 0, &redact, "redact secrets in the output (default; --no-redact shows them)"),
		OPT_STRING("baseline", 0, &baseline, "FILE", "do not report findings of this earlier JSON report"),
		OPT_BOOL("strict", 0, &strict, "exit 1 when something could not be scanned"),
		OPT_BOOL("verbose", 'v', &verbose, "list what was skipped and why"),
		OPT_ARGS(&paths, "PATH...", "files and directories to scan (default: the current directory)"),
		OPT_END(),
	};
	const struct opt_usage usage = { "scan", "[PATH...] [--staged] [--range A..B] [--all] [--stdin] [--format F]",
					 "scan files, the index, commits or stdin for secrets", opts };
	struct scan_report r = SCAN_REPORT_INIT;
	struct scan_engine *e = NULL;
	enum scan_format fmt;
	double t0 = now_ms(), last_progress = 0;
	int ret = 0, err;

	OPT_PARSE_OR_RETURN(&usage, argc, argv);
	if (!strcmp(format, "text"))
		fmt = SCAN_FORMAT_TEXT;
	else if (!strcmp(format, "json"))
		fmt = SCAN_FORMAT_JSON;
	else if (!strcmp(format, "sarif"))
		fmt = SCAN_FORMAT_SARIF;
	else {
		ret = error_usage("unknown format '%s' (use text, json or sarif)", format);
		goto cleanup;
	}
	modes = (paths.nr > 0) + staged + (range != NULL) + all + use_stdin;
	if (modes > 1) {
		ret = error_usage("give one of PATH..., --staged, --range, --all or --stdin");
		goto cleanup;
	}
	if ((staged || range || all) && (ret = cmd_open_repo(ctx)) != 0) {
		fprintf(stderr, "hint: --%s needs a git repository\n", staged ? "staged" : range ? "range" : "all");
		goto cleanup;
	}
	if ((err = scan_engine_new(&e, &ctx->cfg)) < 0 || (baseline && (err = scan_engine_add_baseline(e, baseline)) < 0)) {
		mp_error_print();
		ret = mp_exit_code(err);
		goto cleanup;
	}
	for (size_t i = 0; i < scan_engine_warnings(e)->nr; i++)
		warning("%s", scan_engine_warnings(e)->items[i]);

	if (staged) {
		err = scan_staged(e, &r, ctx->repo);
	} else if (range) {
		err = scan_range(e, &r, ctx->repo, range);
	} else if (all) {
		err = scan_history(e, &r, ctx->repo, isatty(2) ? show_progress : NULL, &last_progress);
	} else if (use_stdin) {
		struct strbuf in = STRBUF_INIT;

		err = read_stdin(&in, (size_t)config_get_int(&ctx->cfg, "scan", NULL, "max_size"));
		if (!err)
			err = scan_buffer(e, &r, "(stdin)", in.buf ? in.buf : "", in.len);
		strbuf_release(&in);
	} else {
		if (!paths.nr)
			strlist_push(&paths, ".");
		err = scan_paths(e, &r, &paths);
	}
	if (err < 0) {
		mp_error_print();
		ret = mp_exit_code(err);
		goto cleanup;
	}

	if (scan_report_write(&r, fmt, redact, fmt == SCAN_FORMAT_TEXT && use_color(), stdout) < 0) {
		mp_error_print();
		ret = MP_EXIT_GIT;
		goto cleanup;
	}
	fflush(stdout);
	for (size_t i = 0; i < r.skipped.nr; i++)
		if (verbose)
			fprintf(stderr, "skipped: %s\n", r.skipped.items[i]);
	if (r.unscanned)
		warning("%zu file%s could not be scanned%s", r.unscanned, r.unscanned == 1 ? "" : "s",
			verbose ? "" : " (run with --verbose to see which and why)");
	if (fmt == SCAN_FORMAT_TEXT || verbose) {
		fprintf(stderr, "scan: %zu finding%s in %zu file%s (%zu bytes", r.nr, r.nr == 1 ? "" : "s", r.files,
			r.files == 1 ? "" : "s", r.bytes);
		if (staged || range || all)
			fprintf(stderr, ", %zu commit%s", r.commits, r.commits == 1 ? "" : "s");
		fprintf(stderr, "), %zu skipped, %zu allowed, %.0f ms\n", r.skipped.nr, r.allowed, now_ms() - t0);
	}
	if (r.corrupt) {
		ret = error_exit(MP_EXIT_GIT, "%zu object%s could not be read: the repository is damaged (run 'git fsck')",
				 r.corrupt, r.corrupt == 1 ? "" : "s");
		goto cleanup;
	}
	ret = r.nr || (strict && r.unscanned) ? MP_EXIT_POLICY : MP_EXIT_OK;
cleanup:
	scan_report_release(&r);
	scan_engine_free(e);
	strlist_release(&paths);
	return ret;
}
