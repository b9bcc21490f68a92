/* Unit tests of src/deploy/: path checks, modes, the manifest and its log, ids. */
#include "deploy/internal.h"
#include "error.h"
#include "unit.h"

#include <git2.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static void deploy_rel_is_safe__refuses_escapes(void)
{
	ok(deploy_rel_is_safe("a.js"), "a plain name");
	ok(deploy_rel_is_safe("lib/sub/a.js"), "a nested name");
	ok(deploy_rel_is_safe("-rf"), "a leading dash is a name");
	ok(deploy_rel_is_safe("with space/$(x)"), "spaces and $() are names");
	ok(deploy_rel_is_safe("..a/b..c"), "dots inside names");
	ok(!deploy_rel_is_safe(""), "empty");
	ok(!deploy_rel_is_safe("/etc/passwd"), "absolute");
	ok(!deploy_rel_is_safe("../x"), "leading ..");
	ok(!deploy_rel_is_safe("a/../../x"), ".. inside");
	ok(!deploy_rel_is_safe("a/.."), "trailing ..");
	ok(!deploy_rel_is_safe("./a"), ". component");
	ok(!deploy_rel_is_safe("a//b"), "empty component");
	ok(!deploy_rel_is_safe("a/"), "trailing slash");
	ok(!deploy_rel_is_safe(".git/hooks/x"), ".git");
	ok(!deploy_rel_is_safe("a/.GIT/x"), ".GIT in any case");
}

static void deploy_link_stays_inside__counts_levels(void)
{
	ok(deploy_link_stays_inside("link", "a.js"), "a sibling");
	ok(deploy_link_stays_inside("sub/link", "../a.js"), "up to the top");
	ok(deploy_link_stays_inside("sub/link", "./x/../../a.js"), "down and up again");
	ok(!deploy_link_stays_inside("link", "../a.js"), "above the top");
	ok(!deploy_link_stays_inside("sub/link", "../../a.js"), "two up from one down");
	ok(!deploy_link_stays_inside("link", "/etc/passwd"), "absolute");
	ok(!deploy_link_stays_inside("link", ""), "empty");
	ok(!deploy_link_stays_inside("a/link", "x/../../../etc"), "down then too far up");
}

static void deploy_file_mode__globs_and_git_mode(void)
{
	struct strlist globs = STRLIST_INIT;

	strlist_split(&globs, "*.js *.sh", NULL);
	is_int(deploy_file_mode(&globs, "lib/a.js", GIT_FILEMODE_BLOB), 0755, "*.js on the file name");
	is_int(deploy_file_mode(&globs, "a.json", GIT_FILEMODE_BLOB), 0644, "not *.js");
	is_int(deploy_file_mode(&globs, "js.d/README", GIT_FILEMODE_BLOB), 0644, "the folder does not count");
	is_int(deploy_file_mode(&globs, "tool", GIT_FILEMODE_BLOB_EXECUTABLE), 0755, "executable in git");
	is_int(deploy_file_mode(&globs, "l.js", GIT_FILEMODE_LINK), 0120000, "a link stays a link");
	strlist_release(&globs);
}

static void manifest__log_replays_over_snapshot(void)
{
	struct manifest m = MANIFEST_INIT, m2 = MANIFEST_INIT;
	git_oid a, b;
	struct mf_entry *e;
	char *log;

	git_odb_hash(&a, "a", 1, GIT_OBJECT_BLOB);
	git_odb_hash(&b, "b", 1, GIT_OBJECT_BLOB);
	ok(manifest_load(&m, "unit", "/nonexistent/target") == 0, "a missing manifest loads empty");
	is_int(m.nr, 0, "no entries");
	for (int i = 0; i < 300; i++) {
		char name[32];

		snprintf(name, sizeof(name), "f%d", i);
		manifest_set(&m, name, 1, &a, 0644, "id1", NULL, NULL);
	}
	m.tree = xstrdup("tree1");
	ok(manifest_save(&m) == 0, "snapshot written");
	ok(manifest_record(&m, "f1", 1, &b, 0755, "id2", NULL, NULL) == 0, "a change logged");
	ok(manifest_record(&m, "f2", 0, NULL, 0, "id2", NULL, NULL) == 0, "a removal logged");
	ok(manifest_record(&m, "held", 0, NULL, 0, "id2", "rollback", &b) == 0, "a hold logged");
	/* a line cut short by a kill is not applied */
	log = xasprintf("%s.log", m.file);
	{
		FILE *fp = fopen(log, "a");

		fputs("{\"path\":\"f3\",\"oid\":\"", fp);
		fclose(fp);
	}
	ok(manifest_load(&m2, "unit", "/nonexistent/target") == 0, "reloaded");
	is_int(m2.nr, 301, "300 files and the held one");
	e = manifest_find(&m2, "f1");
	ok(e && e->present && git_oid_equal(&e->oid, &b) && e->mode == 0755, "the logged change won");
	e = manifest_find(&m2, "f2");
	ok(e && !e->present, "the logged removal won");
	e = manifest_find(&m2, "f3");
	ok(e && e->present && git_oid_equal(&e->oid, &a), "the cut line was not applied");
	e = manifest_find(&m2, "held");
	ok(e && !e->present && e->has_hold && git_oid_equal(&e->hold, &b) && !strcmp(e->why, "rollback"),
	   "the hold survived");
	is_str(m2.tree, "tree1", "snapshot fields");
	ok(manifest_up_to_date("unit", "/nonexistent/target", "tree1", "-") == 0, "a log pending: not up to date");
	ok(manifest_save(&m2) == 0, "second snapshot");
	ok(access(log, F_OK) < 0, "the log is gone after a snapshot");
	m2.settings = xstrdup("s1");
	manifest_save(&m2);
	ok(manifest_up_to_date("unit", "/nonexistent/target", "tree1", "s1") == 0,
	   "no real path recorded: not up to date");
	m2.realpath = xstrdup("/r");
	manifest_save(&m2);
	ok(manifest_up_to_date("unit", "/nonexistent/target", "tree1", "s1") == 1, "same tree and settings");
	ok(manifest_up_to_date("unit", "/nonexistent/target", "tree2", "s1") == 0, "another tree");
	ok(manifest_up_to_date("unit", "/nonexistent/target", "tree1", "s2") == 0, "other settings");
	free(log);
	manifest_release(&m);
	manifest_release(&m2);
}

static void record_new_id__sorts_by_time(void)
{
	char *a = record_new_id();
	char *b;

	usleep(2000);
	b = record_new_id();
	is_int(strlen(a), strlen("20261126T135000.123Z-a1b2c3"), "the id's shape");
	ok(strcmp(a, b) < 0, "a later id sorts after");
	free(a);
	free(b);
}

int main(void)
{
	char *tmp = unit_tmpdir();

	setenv("XDG_STATE_HOME", tmp, 1); /* putenv()'s string counted as a leak under valgrind */
	git_libgit2_init();
	RUN(deploy_rel_is_safe__refuses_escapes);
	RUN(deploy_link_stays_inside__counts_levels);
	RUN(deploy_file_mode__globs_and_git_mode);
	RUN(manifest__log_replays_over_snapshot);
	RUN(record_new_id__sorts_by_time);
	git_libgit2_shutdown();
	{
		char *cmd = xasprintf("rm -rf '%s'", tmp);

		if (system(cmd) != 0)
			printf("# could not remove %s\n", tmp);
		free(cmd);
	}
	free(tmp);
	return unit_done();
}
