/* Unit tests for src/hooks: stubs, install/uninstall, push ranges. */
#include "error.h"
#include "hooks/hooks.h"
#include "hooks/push.h"
#include "unit.h"
#include "util/fs.h"

#include <fcntl.h>
#include <stdarg.h>
#include <sys/stat.h>
#include <unistd.h>

static char *tmp;

/* Run a shell command in `tmp`; its first line of output into `out` (may be NULL). */
static int sh(char *out, size_t len, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int sh(char *out, size_t len, const char *fmt, ...)
{
	char cmd[4096], full[4200];
	va_list ap;
	FILE *p;
	int rc;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	snprintf(full, sizeof(full), "cd '%s' && { %s; } 2>/dev/null", tmp, cmd);
	p = popen(full, "r");
	if (!p)
		return -1;
	if (out && !fgets(out, (int)len, p))
		out[0] = '\0';
	if (out)
		out[strcspn(out, "\n")] = '\0';
	while (fgetc(p) != EOF)
		;
	rc = pclose(p);
	return rc;
}

static void hooks_stub__marker_and_name(void)
{
	char *stub = hooks_stub_text("pre-push");

	ok(starts_with(stub, "#!/bin/sh\n" HOOKS_MARKER), "a shell script whose second line is the marker");
	ok(strstr(stub, "exec git-meshpush hook pre-push \"$@\"\n") != NULL, "it runs git-meshpush hook NAME with the arguments");
	ok(strstr(stub, HOOKS_STUB_ENV "=\"$0\"") != NULL, "it passes its own path");
	free(stub);
}

static void hooks_install__chain_and_restore(void)
{
	char *dir = fs_join(tmp, "h1"), *hook = fs_join(dir, "pre-push"), *chained = hooks_chained_path(hook);
	enum hook_action a = HOOK_ALREADY;
	struct hook_status st;
	struct stat before, after;

	fs_mkdir_p(dir, 0755);
	unit_write_file(hook, "#!/bin/sh\nexit 0\n", 0700);
	stat(hook, &before);
	is_int(hooks_install(&a, dir, "pre-push", 0), 0, "install over a foreign hook succeeds");
	is_int(a, HOOK_INSTALLED_CHAIN, "it says the foreign hook is chained");
	ok(fs_exists(chained), "the foreign hook is moved aside");
	hooks_status(&st, dir, "pre-push");
	is_int(st.state, HOOK_OURS, "the hook is ours now");
	ok(st.chained && st.executable && !st.symlink, "chained, executable, not a link");
	is_int(hooks_install(&a, dir, "pre-push", 0), 0, "install again succeeds");
	is_int(a, HOOK_ALREADY, "and changes nothing");
	is_int(hooks_uninstall(&a, dir, "pre-push", 0), 0, "uninstall succeeds");
	is_int(a, HOOK_RESTORED, "it says the hook is back");
	stat(hook, &after);
	ok(before.st_ino == after.st_ino && before.st_mode == after.st_mode, "the same file, same mode");
	ok(!fs_exists(chained), "nothing left aside");
	is_int(hooks_uninstall(&a, dir, "pre-push", 0), 0, "uninstall of a foreign hook succeeds");
	is_int(a, HOOK_LEFT_FOREIGN, "and leaves it alone");
	free(dir);
	free(hook);
	free(chained);
}

static void hooks_install__conflict_changes_nothing(void)
{
	char *dir = fs_join(tmp, "h2"), *hook = fs_join(dir, "pre-commit"), *chained = hooks_chained_path(hook);
	enum hook_action a = HOOK_ALREADY;

	fs_mkdir_p(dir, 0755);
	unit_write_file(hook, "#!/bin/sh\necho a\n", 0755);
	unit_write_file(chained, "#!/bin/sh\necho b\n", 0755);
	is_int(hooks_install_check(dir, "pre-commit", 0), MP_EPOLICY, "the check refuses");
	is_int(hooks_install(&a, dir, "pre-commit", 0), MP_EPOLICY, "install refuses");
	ok(strstr(mp_error_last(), "already holds a chained hook") != NULL, "and says why");
	free(dir);
	free(hook);
	free(chained);
}

static void hooks_install__edited_stub_needs_force(void)
{
	char *dir = fs_join(tmp, "h3"), *hook = fs_join(dir, "post-merge"), *stub = hooks_stub_text("post-merge");
	char *edited = xasprintf("%secho mine\n", stub);
	enum hook_action a = HOOK_ALREADY;
	struct hook_status st;

	fs_mkdir_p(dir, 0755);
	unit_write_file(hook, edited, 0755);
	hooks_status(&st, dir, "post-merge");
	is_int(st.state, HOOK_OURS_EDITED, "an edited stub is recognised");
	is_int(hooks_uninstall(&a, dir, "post-merge", 0), MP_EPOLICY, "uninstall refuses without force");
	is_int(hooks_install(&a, dir, "post-merge", HOOKS_FORCE), 0, "install --force replaces it");
	is_int(a, HOOK_UPDATED, "and says so");
	hooks_status(&st, dir, "post-merge");
	is_int(st.state, HOOK_OURS, "the stub is current again");
	free(dir);
	free(hook);
	free(stub);
	free(edited);
}

static void push_plan__parse_lines(void)
{
	struct push_plan plan = PUSH_PLAN_INIT;
	const char *in = "refs/heads/a 1111111111111111111111111111111111111111 refs/heads/a 0000000000000000000000000000000000000000\n"
			 "(delete) 0000000000000000000000000000000000000000 refs/heads/b 2222222222222222222222222222222222222222\n";

	is_int(push_plan_parse_pre_push(&plan, in, strlen(in)), 0, "two lines parse");
	is_int(plan.nr, 2, "two refs");
	ok(plan.refs[0].new_ref && !plan.refs[0].deletion, "the first is a new ref");
	ok(plan.refs[1].deletion, "the second a deletion");
	push_plan_release(&plan);
	is_int(push_plan_parse_pre_push(&plan, "refs/heads/a 123 refs/heads/a\n", 29), MP_EUSAGE, "a bad line is refused");
	ok(strstr(mp_error_last(), "line 1") != NULL, "naming the line");
	push_plan_release(&plan);
}

/* Count the commits of a pre-push plan of `input` to remote "origin". */
static long plan_commits(git_repository *repo, const char *input, long *ref0)
{
	struct push_plan plan = PUSH_PLAN_INIT;
	long n = -1;

	if (push_plan_parse_pre_push(&plan, input, strlen(input)) == 0 &&
	    push_plan_compute_pre_push(&plan, repo, "origin") == 0) {
		n = (long)plan.ncommits;
		if (ref0)
			*ref0 = plan.nr ? (long)plan.refs[0].ncommits : -1;
	}
	push_plan_release(&plan);
	return n;
}

static void push_plan__ranges(void)
{
	git_repository *repo = NULL;
	char base[64], tip[64], side[64], path[4200], in[1024];
	long r0 = 0;
	const char *z = "0000000000000000000000000000000000000000";

	sh(NULL, 0, "git init -q -b main r && cd r && git config user.name t && git config user.email t@t && "
		    "for i in 1 2 3; do echo $i >f$i && git add f$i && git commit -qm c$i; done && "
		    "git update-ref refs/remotes/origin/main HEAD && "
		    "echo 4 >f4 && git add f4 && git commit -qm c4 && echo 5 >f5 && git add f5 && git commit -qm c5 && "
		    "git checkout -q -b side main~1 && echo s >s && git add s && git commit -qm s1");
	sh(base, sizeof(base), "git -C r rev-parse refs/remotes/origin/main");
	sh(tip, sizeof(tip), "git -C r rev-parse main");
	sh(side, sizeof(side), "git -C r rev-parse side");
	snprintf(path, sizeof(path), "%s/r", tmp);
	if (git_repository_open(&repo, path) < 0) {
		ok(0, "the test repository opens");
		return;
	}
	snprintf(in, sizeof(in), "refs/heads/main %s refs/heads/main %s\n", tip, base);
	is_int(plan_commits(repo, in, NULL), 2, "an existing ref: remote..local");
	snprintf(in, sizeof(in), "refs/heads/main %s refs/heads/new %s\n", tip, z);
	is_int(plan_commits(repo, in, NULL), 2, "a new ref: what no origin/* ref reaches");
	snprintf(in, sizeof(in), "refs/heads/main %s refs/heads/main 3333333333333333333333333333333333333333\n", tip);
	is_int(plan_commits(repo, in, NULL), 2, "an unknown remote oid: like a new ref");
	snprintf(in, sizeof(in), "refs/heads/main %s refs/heads/main %s\nrefs/heads/side %s refs/heads/side %s\n", tip,
		 base, side, z);
	is_int(plan_commits(repo, in, &r0), 3, "two refs sharing a commit: each commit once");
	is_int(r0, 2, "the first ref has its own two");
	snprintf(in, sizeof(in), "(delete) %s refs/heads/gone %s\n", z, tip);
	is_int(plan_commits(repo, in, NULL), 0, "a deletion: nothing");
	sh(NULL, 0, "git -C r update-ref -d refs/remotes/origin/main");
	snprintf(in, sizeof(in), "refs/heads/main %s refs/heads/main %s\n", tip, z);
	is_int(plan_commits(repo, in, NULL), 5, "no remote-tracking ref: the whole history");
	snprintf(in, sizeof(in), "refs/heads/main %s refs/heads/new %s\nrefs/heads/side %s refs/heads/side %s\n", tip, z,
		 side, side);
	is_int(plan_commits(repo, in, &r0), 1, "the other refs' remote oids are excluded");
	git_repository_free(repo);
}

int main(void)
{
	tmp = unit_tmpdir();
	git_libgit2_init();
	RUN(hooks_stub__marker_and_name);
	RUN(hooks_install__chain_and_restore);
	RUN(hooks_install__conflict_changes_nothing);
	RUN(hooks_install__edited_stub_needs_force);
	RUN(push_plan__parse_lines);
	RUN(push_plan__ranges);
	git_libgit2_shutdown();
	sh(NULL, 0, "cd / && rm -rf '%s'", tmp);
	free(tmp);
	return unit_done();
}
