#!/bin/sh
# The pre-push hook: every ref of the push, only the commits the remote lacks, each once.
. "$(dirname "$0")/lib.sh"

# a GitHub token the scanner finds (split so that this file holds none)
SECRET="ghp_8Rk2vQz7LmN4pX1sT9w""Yc3bH6dJ0fA5eGuKi"

# the last pre-push event of the journal of repository $1: FIELD=VALUE words
last_push () {
	tail -n 1 "$1/.git/meshpush/journal.jsonl" >last.json &&
	python3 -c '
import json, sys
e = json.load(open("last.json"))
assert e["event"] == "pre-push", e
print("commits=%d findings=%d verdict=%s refs=%s" % (e["commits"], e["findings"], e["verdict"], ",".join(e["refs"])))
'
}

# secret_commit DIR FILE CONTENT MESSAGE: commit past the pre-commit hook
secret_commit () {
	mkdir -p "$1/$(dirname "$2")" &&
	printf '%s\n' "$3" >"$1/$2" &&
	git -C "$1" add -- "$2" &&
	git -C "$1" commit -q --no-verify -m "$4"
}

test_expect_success 'setup: a central bare repository and a clone with the hooks' '
	test_mesh_repo mesh &&
	git -C mesh meshpush hooks install >/dev/null &&
	test_commit -C mesh base shared/voltagent/a.js "let a = 1" &&
	git -C mesh push -q origin main
'

test_expect_success 'a new branch with a secret in its second commit is refused' '
	git -C mesh checkout -q -b feat &&
	test_commit -C mesh feat1 shared/voltagent/f1.js "let f = 1" &&
	secret_commit mesh shared/voltagent/f2.js "const token = \"$SECRET\"" feat2 &&
	test_commit -C mesh feat3 shared/voltagent/f3.js "let g = 3" &&
	test_expect_code 1 git -C mesh push origin feat 2>err &&
	short=$(git -C mesh rev-parse --short=7 feat~1) &&
	test_grep "^error: the push is refused: 1 secret found in the commits it would publish$" err &&
	test_grep "^    refs/heads/feat $short shared/voltagent/f2.js:1:[0-9]* github-pat ghp_" err &&
	test_grep "git rebase -i $short^" err &&
	test_grep "meshpush:allow" err &&
	test_grep -v "$SECRET" err &&
	test_must_fail git -C mesh.git rev-parse -q --verify refs/heads/feat &&
	last_push mesh >out &&
	echo "commits=3 findings=1 verdict=refused refs=refs/heads/feat" >expect &&
	test_cmp expect out &&
	test_grep -v "$SECRET" mesh/.git/meshpush/journal.jsonl
'

test_expect_success 'a new branch whose history the remote has except one clean commit: one commit scanned' '
	git -C mesh checkout -q -b clean main &&
	test_commit -C mesh clean1 shared/voltagent/c.js "let c = 1" &&
	git -C mesh push -q origin clean &&
	last_push mesh >out &&
	echo "commits=1 findings=0 verdict=ok refs=refs/heads/clean" >expect &&
	test_cmp expect out &&
	git -C mesh.git rev-parse -q --verify refs/heads/clean
'

test_expect_success 'an existing branch: only remote..local' '
	test_commit -C mesh clean2 shared/voltagent/c2.js "let c = 2" &&
	test_commit -C mesh clean3 shared/voltagent/c3.js "let c = 3" &&
	git -C mesh push -q origin clean &&
	last_push mesh >out &&
	echo "commits=2 findings=0 verdict=ok refs=refs/heads/clean" >expect &&
	test_cmp expect out
'

test_expect_success 'several refs in one push, the secret only in the second: refused, naming that ref' '
	git -C mesh checkout -q -b one main &&
	test_commit -C mesh one1 one.txt "fine" &&
	git -C mesh checkout -q -b two main &&
	secret_commit mesh two.txt "password: $SECRET" two1 &&
	git -C mesh checkout -q main &&
	test_expect_code 1 git -C mesh push origin one two 2>err &&
	test_grep "^    refs/heads/two $(git -C mesh rev-parse --short=7 two) two.txt:1:" err &&
	test_grep -v "refs/heads/one " err &&
	last_push mesh >out &&
	echo "commits=2 findings=1 verdict=refused refs=refs/heads/one,refs/heads/two" >expect &&
	test_cmp expect out &&
	test_must_fail git -C mesh.git rev-parse -q --verify refs/heads/one
'

test_expect_success 'commits shared by several refs are scanned once' '
	git -C mesh checkout -q -b s1 main &&
	test_commit -C mesh s1a s.txt "a" &&
	test_commit -C mesh s1b s.txt "b" &&
	git -C mesh branch s2 &&
	test_commit -C mesh s1c s.txt "c" &&
	git -C mesh checkout -q main &&
	git -C mesh push -q origin s1 s2 &&
	last_push mesh >out &&
	echo "commits=3 findings=0 verdict=ok refs=refs/heads/s1,refs/heads/s2" >expect &&
	test_cmp expect out
'

test_expect_success 'a branch other than the current one is scanned' '
	git -C mesh branch other feat &&
	git -C mesh checkout -q main &&
	test_expect_code 1 git -C mesh push origin other 2>err &&
	test_grep "^    refs/heads/other [0-9a-f]* shared/voltagent/f2.js:1:" err
'

test_expect_success 'a tag (annotated or not) is scanned like a branch' '
	git -C mesh tag -a -m "release" v1 feat &&
	test_expect_code 1 git -C mesh push origin v1 2>err &&
	test_grep "^    refs/tags/v1 [0-9a-f]* shared/voltagent/f2.js:1:" err &&
	git -C mesh tag light feat &&
	test_expect_code 1 git -C mesh push origin light 2>err &&
	test_grep "^    refs/tags/light [0-9a-f]* shared/voltagent/f2.js:1:" err &&
	git -C mesh tag -a -m ok v0 main &&
	git -C mesh push -q origin v0 &&
	last_push mesh >out &&
	echo "commits=0 findings=0 verdict=ok refs=refs/tags/v0" >expect &&
	test_cmp expect out
'

test_expect_success 'a tag of a blob holding a secret is scanned as a blob' '
	blob=$(printf "token = %s\n" "$SECRET" | git -C mesh hash-object -w --stdin) &&
	git -C mesh tag -a -m "a blob" blobtag "$blob" &&
	test_expect_code 1 git -C mesh push origin blobtag 2>err &&
	test_grep "^    refs/tags/blobtag - refs/tags/blobtag:1:[0-9]* github-pat ghp_" err
'

test_expect_success 'a remote oid not known here (someone pushed since our fetch): scanned like a new ref' '
	git clone -q mesh.git other &&
	git -C other checkout -q clean &&
	test_commit -C other theirs theirs.txt "theirs" &&
	git -C other push -q --no-verify origin clean &&
	git -C mesh checkout -q clean &&
	test_commit -C mesh mine mine.txt "mine" &&
	git -C mesh push -q -f origin clean &&
	last_push mesh >out &&
	echo "commits=1 findings=0 verdict=ok refs=refs/heads/clean" >expect &&
	test_cmp expect out &&
	git -C mesh checkout -q main
'

test_expect_success 'a push from a linked worktree: the same hooks, the journal of the common git directory' '
	git -C mesh worktree add -q ../mesh-wt -b fromwt main &&
	secret_commit mesh-wt wt.txt "key $SECRET" wt &&
	test_expect_code 1 git -C mesh-wt push origin fromwt 2>err &&
	test_grep "^    refs/heads/fromwt [0-9a-f]* wt.txt:1:" err &&
	last_push mesh >out &&
	echo "commits=1 findings=1 verdict=refused refs=refs/heads/fromwt" >expect &&
	test_cmp expect out
'

test_expect_success 'deleting a remote branch passes without scanning' '
	git -C mesh push -q --no-verify origin feat &&
	git -C mesh push -q origin --delete feat &&
	test_must_fail git -C mesh.git rev-parse -q --verify refs/heads/feat &&
	last_push mesh >out &&
	echo "commits=0 findings=0 verdict=ok refs=refs/heads/feat" >expect &&
	test_cmp expect out
'

test_expect_success 'a force push after rewriting: the rewritten commits are scanned' '
	git -C mesh checkout -q -b rw main &&
	test_commit -C mesh rw1 rw.txt "one" &&
	test_commit -C mesh rw2 rw2.txt "two" &&
	git -C mesh push -q origin rw &&
	printf "two\nkey = %s\n" "$SECRET" >mesh/rw2.txt &&
	git -C mesh commit -q --no-verify -a --amend -m rw2 &&
	test_expect_code 1 git -C mesh push -f origin rw 2>err &&
	test_grep "^    refs/heads/rw [0-9a-f]* rw2.txt:2:" err &&
	printf "two\n" >mesh/rw2.txt &&
	git -C mesh commit -q -a --amend -m rw2-fixed &&
	git -C mesh push -q -f origin rw &&
	last_push mesh >out &&
	echo "commits=1 findings=0 verdict=ok refs=refs/heads/rw" >expect &&
	test_cmp expect out
'

test_expect_success 'a commit that only deletes files scans that commit alone' '
	git -C mesh rm -q rw.txt rw2.txt &&
	git -C mesh commit -q -m "delete files" &&
	git -C mesh push -q origin rw &&
	last_push mesh >out &&
	echo "commits=1 findings=0 verdict=ok refs=refs/heads/rw" >expect &&
	test_cmp expect out
'

test_expect_success 'a false positive marked meshpush:allow passes' '
	git -C mesh checkout -q main &&
	test_commit -C mesh fixture fixture.js "const t = \"$SECRET\"; // meshpush:allow test fixture" &&
	git -C mesh push -q origin main
'

test_expect_success 'hostile file names are reported as git quotes them' '
	git -C mesh checkout -q -b hostile main &&
	n=0 &&
	for f in "with space.txt" "-leading.txt" "$(printf "new\nline.txt")" "$(printf "caf\351.txt")"; do
		n=$((n + 1)) &&
		printf "file %d\nsecret = %s\n" $n "$SECRET" >"mesh/$f" || return 1
	done &&
	git -C mesh add -A &&
	git -C mesh commit -q --no-verify -m hostile &&
	test_expect_code 1 git -C mesh push origin hostile 2>err &&
	test_grep "^    refs/heads/hostile [0-9a-f]* with space.txt:2:" err &&
	test_grep "^    refs/heads/hostile [0-9a-f]* -leading.txt:2:" err &&
	test_grep "^    refs/heads/hostile [0-9a-f]* \"new\\\\nline.txt\":2:" err &&
	test_grep "^    refs/heads/hostile [0-9a-f]* \"caf\\\\351.txt\":2:" err &&
	test_grep "4 secrets found" err &&
	git -C mesh checkout -q main
'

test_expect_success 'a push to a URL (no remote-tracking refs): the whole history, less what the remote said it has' '
	git -C mesh checkout -q -b byurl main &&
	test_commit -C mesh url1 url.txt "x" &&
	git -C mesh push -q "$TRASH/mesh.git" byurl &&
	last_push mesh >out &&
	echo "commits=$(git -C mesh rev-list --count byurl) findings=0 verdict=ok refs=refs/heads/byurl" >expect &&
	test_cmp expect out &&
	test_commit -C mesh url2 url.txt "y" &&
	git -C mesh push -q "$TRASH/mesh.git" byurl &&
	last_push mesh >out &&
	echo "commits=1 findings=0 verdict=ok refs=refs/heads/byurl" >expect &&
	test_cmp expect out
'

test_expect_success '[mesh] test runs when the push touches the shared folders, and its failure refuses the push' '
	git -C mesh checkout -q -b tested main &&
	printf "#!/bin/sh\necho the tests ran in \$(pwd)\nexit \${TEST_EXIT:-0}\n" >mesh/check.sh &&
	chmod +x mesh/check.sh &&
	printf "[mesh]\ntest = ./check.sh\n" >mesh/.meshpush.ini &&
	test_commit -C mesh notshared docs.txt "docs" &&
	TEST_EXIT=3 git -C mesh push -q origin tested 2>err &&
	test_grep -v "the tests ran" err &&
	test_commit -C mesh shared1 shared/voltagent/t.js "let t = 1" &&
	TEST_EXIT=3 test_expect_code 1 git -C mesh push origin tested 2>err &&
	test_grep "^the tests ran in $TRASH/mesh$" err &&
	test_grep "test command .\./check.sh. failed (exit 3)" err &&
	last_push mesh >out &&
	echo "commits=1 findings=0 verdict=test-failed refs=refs/heads/tested" >expect &&
	test_cmp expect out &&
	git -C mesh push -q origin tested
'

test_expect_success '[mesh] test that outlives [mesh] test_timeout refuses the push' '
	printf "[mesh]\ntest = sleep 5\ntest_timeout = 1\n" >mesh/.meshpush.ini &&
	test_commit -C mesh shared2 shared/voltagent/t.js "let t = 2" &&
	test_expect_code 1 git -C mesh push origin tested 2>err &&
	test_grep "took more than 1 s" err &&
	rm mesh/.meshpush.ini
'

test_expect_success 'a chained pre-push hook runs after a clean scan, not after a refusal' '
	printf "#!/bin/sh\necho chained \"\$@\" >>\"$TRASH/chained.log\"\n" >mesh/.git/hooks/pre-push.meshpush-chained &&
	chmod +x mesh/.git/hooks/pre-push.meshpush-chained &&
	test_expect_code 1 git -C mesh push origin other 2>err &&
	test_must_fail test -e chained.log &&
	git -C mesh push -q origin tested &&
	echo "chained origin $TRASH/mesh.git" >expect &&
	test_cmp expect chained.log &&
	rm mesh/.git/hooks/pre-push.meshpush-chained
'

test_expect_success 'nothing to push: the hook exits 0 without scanning' '
	echo "(delete) 0000000000000000000000000000000000000000 refs/heads/x 1111111111111111111111111111111111111111" |
		git -C mesh meshpush hook pre-push origin "$TRASH/mesh.git" &&
	git -C mesh meshpush hook pre-push origin "$TRASH/mesh.git" </dev/null
'

test_expect_success 'garbage on the input is an error, not a pass' '
	echo "not a pre-push line" >in &&
	test_expect_code 2 git -C mesh meshpush hook pre-push origin x <in 2>err &&
	test_grep "cannot read input line 1" err
'

test_done
