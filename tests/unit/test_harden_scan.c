/*
 * Regression tests for what fuzzing found in src/scan (issue 8): the
 * allow_paths glob matcher on hostile globs and paths.
 */
#include "scan/scan.h"
#include "unit.h"

static void scan_glob_match__final_bracket(void)
{
	/* read past the glob's end before the fix (ASan in 'make asan') */
	is_int(scan_glob_match("***/**/*[", "a//b"), 0, "a glob ending in '[' does not match");
	is_int(scan_glob_match("[", "["), 1, "a lone '[' matches itself");
	is_int(scan_glob_match("a[", "a["), 1, "a final '[' matches itself");
	is_int(scan_glob_match("x/[", "x/b"), 0, "a final '[' matches nothing else");
}

static void scan_glob_match__no_exponential_backtracking(void)
{
	/* fuzz/fuzz_glob.c: more than 10 s before the fix, instant now */
	const char *glob = "**/**/*********/****/***/**/*d[";
	const char *path = "aocs/ex//*[%a**/**/(*****/[*b!ab]";
	char g[256], p[1024];
	size_t n = 0;

	is_int(scan_glob_match(glob, path), 0, "the fuzzer's slow input");
	for (int i = 0; i < 30; i++)
		n += (size_t)snprintf(g + n, sizeof(g) - n, "*a");
	snprintf(g + n, sizeof(g) - n, "*b");
	memset(p, 'a', sizeof(p) - 1);
	p[sizeof(p) - 1] = '\0';
	is_int(scan_glob_match(g, p), 0, "'*a' x30 then '*b' against 1023 'a's");
	for (int i = 0; i < 40; i++)
		memcpy(p + i * 2, "x/", 2);
	is_int(scan_glob_match("**/**/**/**/**/**/**/**/*z", p), 0, "'**/' x8 against a deep path");
}

static void scan_glob_match__semantics_kept(void)
{
	is_int(scan_glob_match("docs/examples/**", "docs/examples/a/b.md"), 1, "'**' below a folder");
	is_int(scan_glob_match("docs/examples/**", "docs/other/a.md"), 0, "another folder");
	is_int(scan_glob_match("*.lock", "a/b/package.lock"), 1, "a base name at any depth");
	is_int(scan_glob_match("src/*.js", "src/a/b.js"), 0, "'*' stays in one component");
	is_int(scan_glob_match("**/test/**", "x/test/y/z"), 1, "'**' on both sides");
	is_int(scan_glob_match("src/[a-c]?/*.js", "src/b1/x.js"), 1, "classes and '?'");
	is_int(scan_glob_match("vendor", "vendor/lib/x.c"), 1, "a folder name covers what is below it");
}

int main(void)
{
	RUN(scan_glob_match__final_bracket);
	RUN(scan_glob_match__no_exponential_backtracking);
	RUN(scan_glob_match__semantics_kept);
	return unit_done();
}
