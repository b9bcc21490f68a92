#!/bin/sh
# git meshpush push (git method): copy, commit with trailers, announce, git push, verify.
. "$(dirname "$0")/lib.sh"

rcount () {
	python3 "$TEST_DIR/receiver.py" --log "$TRASH/$1.log" --count
}

rmsg () {
	python3 "$TEST_DIR/receiver.py" --log "$TRASH/$1.log" --get "$2" body.message
}

trailer () {
	git -C mesh log -1 --format="%(trailers:key=$1,valueonly)" | sed "/^$/d"
}

test_expect_success 'setup: bare remote, clone, gateway, configuration' '
	start_receiver oracle --token tok-oracle-0123456789 &&
	test_mesh_repo mesh &&
	cat >mesh/.meshpush.ini <<-EOF &&
	[agent "oracle"]
	webhook = $oracle_URL
	[install "voltagent"]
	from = shared/voltagent
	to = ~/workspace/voltagent
	executable = *.sh
	verify = sh -n {}
	EOF
	git -C mesh add .meshpush.ini &&
	git -C mesh commit -q -m "mesh configuration" &&
	git -C mesh push -q origin main &&
	mkdir -p "$XDG_CONFIG_HOME/meshpush" &&
	cat >"$XDG_CONFIG_HOME/meshpush/config.ini" <<-EOF &&
	[self]
	agent = sandman
	[token]
	oracle = env:MESH_TOKEN_ORACLE
	EOF
	MESH_TOKEN_ORACLE=tok-oracle-0123456789 &&
	export MESH_TOKEN_ORACLE &&
	cat >mesh/.git/hooks/pre-push <<-EOF &&
	#!/bin/sh
	echo "\${MESHPUSH_ANNOUNCED:-unset}" >>"$TRASH/pre-push.log"
	EOF
	chmod +x mesh/.git/hooks/pre-push &&
	printf "#!/bin/sh\necho tool 1\n" >tool.sh
'

test_expect_success 'git: copy into the shared folder, commit with trailers, announce, push' '
	git -C mesh meshpush push "$TRASH/tool.sh" --to oracle --purpose "prints the tool version" >out 2>err &&
	for s in PREPARE ANNOUNCE PUSH VERIFY CONFIRM; do
		grep -q "^$s  *ok " out || { echo "no $s line"; cat out err; return 1; }
	done &&
	test_grep "^PREPARE .*committed [0-9a-f]\{12\} \"Add tool.sh: prints the tool version\"" out &&
	test_grep "^PUSH .*pushed [0-9a-f]\{12\} to origin refs/heads/main" out &&
	test_grep "^VERIFY .*origin refs/heads/main is at" out &&
	test_grep "^CONFIRM .*oracle confirms after installing" out &&
	test_cmp tool.sh mesh/shared/voltagent/tool.sh &&
	test -x mesh/shared/voltagent/tool.sh &&
	echo "Add tool.sh: prints the tool version" >expect &&
	git -C mesh log -1 --format=%s >actual &&
	test_cmp expect actual &&
	test "$(trailer Mesh-From)" = sandman &&
	test "$(trailer Mesh-To)" = oracle &&
	test "$(trailer Mesh-Purpose)" = "prints the tool version" &&
	test "$(git -C mesh rev-parse HEAD)" = "$(git --git-dir=mesh.git rev-parse main)" &&
	git --git-dir=mesh.git show main:shared/voltagent/tool.sh >pushed &&
	test_cmp tool.sh pushed
'

test_expect_success 'the announcement went out once, and the pre-push hook saw its id' '
	test "$(rcount oracle)" = 1 &&
	rmsg oracle 0 >msg &&
	cat >expect <<-\EOF &&
	📤 CODE PUSH: shared/voltagent/tool.sh
	From: sandman
	To: oracle
	Method: git
	Purpose: prints the tool version
	EOF
	head -n 5 msg >msg.head &&
	test_cmp expect msg.head &&
	id=$(trailer Mesh-Push) &&
	test -n "$id" &&
	echo "$id" >expect &&
	test_cmp expect pre-push.log &&
	test_grep "\"event\":\"push\".*\"id\":\"$id\"" mesh/.git/meshpush/journal.jsonl
'

test_expect_success 'the receiver installs the push and confirms it to the sender' '
	start_receiver sandman_gw --token tok-sandman-0123456789 &&
	MESH_TOKEN_SANDMAN=tok-sandman-0123456789 &&
	export MESH_TOKEN_SANDMAN &&
	printf "sandman = env:MESH_TOKEN_SANDMAN\n" >>"$XDG_CONFIG_HOME/meshpush/config.ini" &&
	git clone -q mesh.git oracle-clone &&
	git -C oracle-clone meshpush -c self.agent=oracle -c agent.sandman.webhook="$sandman_gw_URL" \
		install >out 2>err &&
	test_cmp tool.sh "$HOME/workspace/voltagent/tool.sh" &&
	test "$(rcount sandman_gw)" = 1 &&
	rmsg sandman_gw 0 >msg &&
	test_grep "^✅ CODE RECEIVED: .*tool.sh" msg &&
	test_grep "^Status: working$" msg
'

test_expect_success 'status lists the push; a receiver'"'"'s confirmation marks it confirmed' '
	git -C mesh meshpush status >status 2>&1 &&
	test_grep "^pushes (1, from the journal):" status &&
	test_grep "git shared/voltagent/tool.sh -> oracle: pushed$" status &&
	start_receiver sandman &&
	git -C mesh meshpush -c agent.sandman.webhook="$sandman_URL" -c self.agent=oracle \
		announce --kind received --location "~/workspace/voltagent/tool.sh" --status working \
		--to sandman shared/voltagent/tool.sh >/dev/null 2>&1 &&
	test "$(rcount sandman)" = 1 &&
	git -C mesh meshpush status >status 2>&1 &&
	test_grep "git shared/voltagent/tool.sh -> oracle: confirmed (oracle: working)$" status
'

test_expect_success 'a second push of a changed file is an Update' '
	printf "#!/bin/sh\necho tool 2\n" >tool.sh &&
	git -C mesh meshpush push "$TRASH/tool.sh" --to oracle --purpose "version 2" >out 2>err &&
	echo "Update tool.sh: version 2" >expect &&
	git -C mesh log -1 --format=%s >actual &&
	test_cmp expect actual &&
	test "$(git -C mesh rev-parse HEAD)" = "$(git --git-dir=mesh.git rev-parse main)"
'

test_expect_success 'a file already in the work tree is committed where it is' '
	mkdir -p mesh/scripts &&
	printf "#!/bin/sh\necho local\n" >mesh/scripts/local.sh &&
	git -C mesh meshpush push scripts/local.sh --to oracle --purpose "a utility" >out 2>err &&
	git -C mesh show --stat --format=%s HEAD >show &&
	test_grep "^Add local.sh: a utility" show &&
	test_grep "scripts/local.sh" show &&
	! test -e mesh/shared/voltagent/local.sh
'

test_expect_success 'pushing what the remote already has says so' '
	test_expect_code 2 git -C mesh meshpush push "$TRASH/tool.sh" --to oracle --purpose "again" >out 2>err &&
	test_grep "nothing to push" err
'

test_expect_success 'a secret in the file stops the push before anything is committed or announced' '
	before=$(rcount oracle) &&
	head=$(git -C mesh rev-parse HEAD) &&
	printf "#!/bin/sh\nexport GITHUB_TOKEN=ghp_%s\n" 8Rk2vQz7LmN4pX1sT9wYc3bH6dJ0fA5eGuKi >leak.sh &&
	test_expect_code 1 git -C mesh meshpush push "$TRASH/leak.sh" --to oracle --purpose "leaks" >out 2>err &&
	test_grep "^PREPARE  *FAILED .*secret scan: 1 finding" out &&
	test_grep "github-pat" err &&
	test "$(rcount oracle)" = "$before" &&
	test "$(git -C mesh rev-parse HEAD)" = "$head" &&
	! test -e mesh/shared/voltagent/leak.sh &&
	test "$(git --git-dir=mesh.git rev-parse main)" = "$head"
'

test_expect_success 'a secret in an outgoing commit stops the push too' '
	before=$(rcount oracle) &&
	printf "password = \"q9Xv2%s\"\n" Lm7Rk4Tz8Wp >mesh/scripts/settings.ini &&
	git -C mesh add scripts/settings.ini &&
	git -C mesh commit -q -m "settings" &&
	head=$(git -C mesh rev-parse HEAD) &&
	printf "#!/bin/sh\necho clean\n" >clean.sh &&
	test_expect_code 1 git -C mesh meshpush push "$TRASH/clean.sh" --to oracle --purpose "clean" >out 2>err &&
	test_grep "scan: 1 finding" out &&
	test_grep "settings.ini" err &&
	test "$(rcount oracle)" = "$before" &&
	test "$(git -C mesh rev-parse HEAD)" = "$head" &&
	git -C mesh reset -q --hard HEAD~1
'

test_expect_success 'a failing test command stops the push' '
	before=$(rcount oracle) &&
	head=$(git -C mesh rev-parse HEAD) &&
	printf "#!/bin/sh\necho tool 3\n" >tool.sh &&
	test_expect_code 1 git -C mesh meshpush -c mesh.test="sh -c \"echo suite red; exit 1\"" \
		push "$TRASH/tool.sh" --to oracle --purpose "x" >out 2>err &&
	test_grep "^PREPARE  *FAILED .*test failed" out &&
	test_grep "suite red" out &&
	test "$(rcount oracle)" = "$before" &&
	test "$(git -C mesh rev-parse HEAD)" = "$head"
'

test_expect_success 'a passing test command is run in the work tree' '
	git -C mesh meshpush -c mesh.test="sh -c \"test -f .meshpush.ini\"" \
		push "$TRASH/tool.sh" --to oracle --purpose "version 3" >out 2>err &&
	test_grep "test passed" out
'

test_expect_success 'uncommitted changes in the target are not overwritten' '
	printf "#!/bin/sh\necho edited here\n" >mesh/shared/voltagent/tool.sh &&
	printf "#!/bin/sh\necho tool 4\n" >tool.sh &&
	test_expect_code 2 git -C mesh meshpush push "$TRASH/tool.sh" --to oracle --purpose "x" >out 2>err &&
	test_grep "has uncommitted changes" err &&
	test_grep "edited here" mesh/shared/voltagent/tool.sh &&
	git -C mesh checkout -- shared/voltagent/tool.sh
'

test_expect_success '--dry-run: nothing copied, committed, announced, pushed or journaled' '
	before=$(rcount oracle) &&
	head=$(git -C mesh rev-parse HEAD) &&
	wc -l <mesh/.git/meshpush/journal.jsonl >journal.before &&
	printf "#!/bin/sh\necho new\n" >new.sh &&
	git -C mesh meshpush push --dry-run "$TRASH/new.sh" --to oracle --purpose "dry" >out 2>err &&
	test_grep "would copy $TRASH/new.sh to shared/voltagent/new.sh (mode 755)" out &&
	test_grep "would commit \"Add new.sh: dry\"" out &&
	test_grep "would run: git push origin HEAD:refs/heads/main" out &&
	test_grep "📤 CODE PUSH: shared/voltagent/new.sh" out &&
	! test -e mesh/shared/voltagent/new.sh &&
	test "$(git -C mesh rev-parse HEAD)" = "$head" &&
	test "$(rcount oracle)" = "$before" &&
	wc -l <mesh/.git/meshpush/journal.jsonl >journal.after &&
	test_cmp journal.before journal.after &&
	git -C mesh status --porcelain >status &&
	test_must_fail test -s status
'

test_expect_success 'with the meshpush hooks installed: scanned again, announced once' '
	git -C mesh meshpush hooks install >/dev/null &&
	before=$(rcount oracle) &&
	printf "#!/bin/sh\necho hooked\n" >hooked.sh &&
	git -C mesh meshpush push "$TRASH/hooked.sh" --to oracle --purpose "hooked" >out 2>err &&
	test_grep "^PUSH  *ok" out &&
	test "$(rcount oracle)" = $((before + 1)) &&
	test "$(git -C mesh rev-parse HEAD)" = "$(git --git-dir=mesh.git rev-parse main)" &&
	# the same hook does announce a push made by hand
	printf "#!/bin/sh\necho by hand\n" >mesh/shared/voltagent/byhand.sh &&
	git -C mesh add shared/voltagent/byhand.sh &&
	git -C mesh commit -q -m "Add byhand.sh" &&
	git -C mesh push -q origin main 2>err &&
	test "$(rcount oracle)" = $((before + 2)) &&
	git -C mesh meshpush hooks uninstall >/dev/null
'

test_expect_success 'a refused git push after the announcement is reported clearly' '
	cat >mesh.git/hooks/pre-receive <<-\EOF &&
	#!/bin/sh
	echo "central: pushes are frozen" >&2
	exit 1
	EOF
	chmod +x mesh.git/hooks/pre-receive &&
	before=$(rcount oracle) &&
	printf "#!/bin/sh\necho tool 5\n" >tool.sh &&
	test_expect_code 128 git -C mesh meshpush push "$TRASH/tool.sh" --to oracle --purpose "frozen" >out 2>err &&
	test_grep "^ANNOUNCE  *ok" out &&
	test_grep "^PUSH  *FAILED" out &&
	test_grep "pushes are frozen" err &&
	test_grep "failed (exit 1) after the announcement went out" err &&
	test_grep "hint: the commit [0-9a-f]* is still local" err &&
	test "$(rcount oracle)" = $((before + 1)) &&
	test "$(git -C mesh rev-parse HEAD)" != "$(git --git-dir=mesh.git rev-parse main)" &&
	grep "\"event\":\"push\"" mesh/.git/meshpush/journal.jsonl | tail -n 1 >last &&
	test_grep "\"outcome\":\"failed at PUSH\"" last &&
	rm mesh.git/hooks/pre-receive
'

test_done
