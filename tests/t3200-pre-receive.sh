#!/bin/sh
# The pre-receive hook of the central repository: no secret gets in, even with --no-verify.
. "$(dirname "$0")/lib.sh"

# a GitHub token the scanner finds (split so that this file holds none)
SECRET="ghp_8Rk2vQz7LmN4pX1sT9w""Yc3bH6dJ0fA5eGuKi"

# the last event of the central repository's journal: FIELD=VALUE words
last_receive () {
	tail -n 1 mesh.git/meshpush/journal.jsonl >last.json &&
	python3 -c '
import json
e = json.load(open("last.json"))
print("%s commits=%d findings=%d verdict=%s refs=%s" % (e["event"], e["commits"], e["findings"], e["verdict"], ",".join(e["refs"])))
'
}

secret_commit () {
	mkdir -p "$1/$(dirname "$2")" &&
	printf '%s\n' "$3" >"$1/$2" &&
	git -C "$1" add -- "$2" &&
	git -C "$1" commit -q --no-verify -m "$4"
}

test_expect_success 'setup: a central repository with the server hook, a clone' '
	test_mesh_repo mesh &&
	git -C mesh.git meshpush hooks install --server >out &&
	test_grep "^pre-receive    installed$" out
'

test_expect_success 'a clean push is accepted, and only its new commits are scanned' '
	test_commit -C mesh clean1 shared/voltagent/a.js "let a = 1" &&
	test_commit -C mesh clean2 shared/voltagent/b.js "let b = 1" &&
	git -C mesh push -q origin main &&
	test "$(git -C mesh.git rev-parse main)" = "$(git -C mesh rev-parse main)" &&
	last_receive >out &&
	echo "pre-receive commits=2 findings=0 verdict=ok refs=refs/heads/main" >expect &&
	test_cmp expect out
'

test_expect_success 'a secret pushed with --no-verify is rejected, with a message git relays' '
	secret_commit mesh shared/voltagent/c.js "const token = \"$SECRET\"" leak &&
	test_commit -C mesh after after.txt "after" &&
	test_must_fail git -C mesh push --no-verify origin main 2>err &&
	test_grep "^remote: error: the push is refused: 1 secret found in the commits it brings" err &&
	test_grep "^remote:     refs/heads/main $(git -C mesh rev-parse --short=7 main~1) shared/voltagent/c.js:1:[0-9]* github-pat ghp_" err &&
	test_grep "pre-receive hook declined" err &&
	test_grep -v "$SECRET" err &&
	test "$(git -C mesh.git rev-parse main)" = "$(git -C mesh rev-parse main~2)" &&
	test_must_fail git -C mesh.git cat-file -e "$(git -C mesh rev-parse main~1)" &&
	last_receive >out &&
	echo "pre-receive commits=2 findings=1 verdict=refused refs=refs/heads/main" >expect &&
	test_cmp expect out &&
	test_grep -v "$SECRET" mesh.git/meshpush/journal.jsonl
'

test_expect_success 'a new branch bringing a secret is rejected; the commits the server has are not scanned again' '
	git -C mesh checkout -q -b topic main~2 &&
	test_commit -C mesh t1 t1.txt "fine" &&
	secret_commit mesh t2.txt "api key $SECRET" t2 &&
	test_must_fail git -C mesh push --no-verify origin topic 2>err &&
	test_grep "^remote:     refs/heads/topic [0-9a-f]* t2.txt:1:" err &&
	last_receive >out &&
	echo "pre-receive commits=2 findings=1 verdict=refused refs=refs/heads/topic" >expect &&
	test_cmp expect out
'

test_expect_success 'a tag bringing a secret is rejected' '
	git -C mesh tag -a -m bad vbad topic &&
	test_must_fail git -C mesh push --no-verify origin vbad 2>err &&
	test_grep "^remote:     refs/tags/vbad [0-9a-f]* t2.txt:1:" err &&
	test_must_fail git -C mesh.git rev-parse -q --verify refs/tags/vbad
'

test_expect_success 'several refs: one bad ref rejects the whole push (atomic for the hook)' '
	git -C mesh checkout -q -b good main~2 &&
	test_commit -C mesh g1 g1.txt "good" &&
	test_must_fail git -C mesh push --no-verify origin good topic 2>err &&
	test_grep "refs/heads/topic" err &&
	test_must_fail git -C mesh.git rev-parse -q --verify refs/heads/good
'

test_expect_success 'the server reads its configuration from HEAD:.meshpush.ini' '
	git -C mesh checkout -q main &&
	git -C mesh reset -q --hard main~2 &&
	printf "[scan]\nallow_paths = fixtures/**\n" >mesh/.meshpush.ini &&
	git -C mesh add .meshpush.ini &&
	git -C mesh commit -q -m config &&
	git -C mesh push -q origin main &&
	secret_commit mesh fixtures/token.txt "token $SECRET" fixture &&
	git -C mesh push -q --no-verify origin main &&
	last_receive >out &&
	echo "pre-receive commits=1 findings=0 verdict=ok refs=refs/heads/main" >expect &&
	test_cmp expect out
'

test_expect_success 'hostile file names are reported as git quotes them' '
	printf "x\nsecret = %s\n" "$SECRET" >"mesh/$(printf "new\nline.txt")" &&
	printf "y\nsecret = %s\n" "$SECRET" >"mesh/-dash.txt" &&
	git -C mesh add -A &&
	git -C mesh commit -q --no-verify -m hostile &&
	test_must_fail git -C mesh push --no-verify origin main 2>err &&
	test_grep "^remote:     refs/heads/main [0-9a-f]* \"new\\\\nline.txt\":2:" err &&
	test_grep "^remote:     refs/heads/main [0-9a-f]* -dash.txt:2:" err &&
	git -C mesh reset -q --hard origin/main
'

test_expect_success 'deleting a branch is accepted without scanning' '
	git -C mesh push -q origin main:refs/heads/doomed &&
	git -C mesh push -q origin --delete doomed &&
	last_receive >out &&
	echo "pre-receive commits=0 findings=0 verdict=ok refs=refs/heads/doomed" >expect &&
	test_cmp expect out
'

test_expect_success 'a chained pre-receive hook sees the same input, and can still refuse' '
	printf "#!/bin/sh\ncat >\"$TRASH/chained-in\"\nexit \${CHAIN_EXIT:-0}\n" >mesh.git/hooks/pre-receive.meshpush-chained &&
	chmod +x mesh.git/hooks/pre-receive.meshpush-chained &&
	test_commit -C mesh c3 c3.txt "fine" &&
	old=$(git -C mesh.git rev-parse main) &&
	git -C mesh push -q origin main &&
	echo "$old $(git -C mesh rev-parse main) refs/heads/main" >expect &&
	test_cmp expect chained-in &&
	printf "#!/bin/sh\necho no thanks >&2\nexit 1\n" >mesh.git/hooks/pre-receive.meshpush-chained &&
	test_commit -C mesh c4 c4.txt "fine" &&
	test_must_fail git -C mesh push origin main 2>err &&
	test_grep "^remote: no thanks" err &&
	rm mesh.git/hooks/pre-receive.meshpush-chained
'

test_done
