#!/bin/sh
# Announce on push: the pre-push hook announces production pushes that touch the shared folders.
. "$(dirname "$0")/lib.sh"

TOKEN=tok-push-1a2b3c4d5e6f7a8b
export MESH_TOKEN_ORACLE=$TOKEN

test_expect_success 'setup: a central repository, a clone with the hooks, a gateway' '
	test_mesh_repo mesh &&
	start_receiver oracle --token "$TOKEN" --dedupe &&
	mkdir -p "$XDG_CONFIG_HOME/meshpush" &&
	printf "[self]\nagent = sandman\n[token]\noracle = env:MESH_TOKEN_ORACLE\n" >"$XDG_CONFIG_HOME/meshpush/config.ini" &&
	printf "[mesh]\nproduction = main\nretries = 0\n[agent \"sandman\"]\nhost = 127.0.0.1\n[agent \"oracle\"]\nwebhook = %s\n" "$oracle_URL" >mesh/.meshpush.ini &&
	git -C mesh add .meshpush.ini && git -C mesh commit -qm "mesh config" &&
	git -C mesh meshpush hooks install &&
	git -C mesh push -q origin main 2>err &&
	test "$(receiver_count oracle)" = 0
'

test_expect_success 'a production push touching shared files is announced once' '
	test_commit -C mesh "Add health check" shared/voltagent/health.js "console.log(1)" &&
	test_commit -C mesh "Update docs" docs/readme.md "x" &&
	test_commit -C mesh "Tune health check" shared/voltagent/health.js "console.log(2)" &&
	git -C mesh push -q origin main 2>err &&
	cat err &&
	test "$(receiver_count oracle)" = 1 &&
	receiver_get oracle -1 body.message >actual &&
	printf "\360\237\223\244 CODE PUSH: shared/voltagent/health.js\nFrom: sandman\nTo: oracle\nMethod: git\nPurpose: Add health check; Tune health check\n" >expect &&
	test_cmp expect actual
'

test_expect_success 'Mesh-To and Mesh-Purpose trailers' '
	printf "x\n" >mesh/shared/voltagent/b.js &&
	git -C mesh add shared/voltagent/b.js &&
	git -C mesh commit -qm "Add b" -m "Mesh-To: oracle, nobody
Mesh-Purpose: does b" &&
	git -C mesh push -q origin main 2>err &&
	test_grep "Mesh-To: names .nobody." err &&
	receiver_get oracle -1 body.message >actual &&
	printf "\360\237\223\244 CODE PUSH: shared/voltagent/b.js\nFrom: sandman\nTo: oracle\nMethod: git\nPurpose: does b\n" >expect &&
	test_cmp expect actual
'

test_expect_success 'a Mesh-To name with control characters is warned about escaped' '
	printf "y\n" >mesh/shared/voltagent/e.js &&
	git -C mesh add shared/voltagent/e.js &&
	git -C mesh commit -qm "Add e" -m "Mesh-To: oracle, $(printf "evil\033[2J")" &&
	git -C mesh push -q origin main 2>err &&
	test_must_fail grep -q "$(printf "\033")" err &&
	test_grep "Mesh-To: names \"evil\\\\033\[2J\"" err
'

test_expect_success 'a non-production branch is not announced' '
	n=$(receiver_requests oracle) &&
	git -C mesh checkout -q -b topic &&
	test_commit -C mesh "topic work" shared/voltagent/c.js &&
	git -C mesh push -q origin topic 2>err &&
	test "$(receiver_requests oracle)" = "$n" &&
	git -C mesh checkout -q main
'

test_expect_success 'MESHPUSH_ANNOUNCED skips the announcement' '
	n=$(receiver_requests oracle) &&
	test_commit -C mesh "more" shared/voltagent/d.js &&
	MESHPUSH_ANNOUNCED=1 git -C mesh push -q origin main 2>err &&
	test "$(receiver_requests oracle)" = "$n"
'

test_expect_success 'receiver down, announce_failure = queue: the push goes on, queued' '
	stop_receiver oracle &&
	test_commit -C mesh "e" shared/voltagent/e.js &&
	git -C mesh push -q origin main 2>err &&
	test_grep "waits in the outbox for oracle" err &&
	test "$(git -C mesh rev-parse main)" = "$(git -C mesh.git rev-parse main)"
'

test_expect_success 'receiver down, announce_failure = block: the push is refused, nothing queued' '
	git -C mesh meshpush outbox drop "$(git -C mesh meshpush outbox list --json | python3 -c "import json,sys; print(json.loads(sys.stdin.readline())[\"id\"])")" &&
	test_commit -C mesh "f" shared/voltagent/f.js &&
	test_must_fail env MESHPUSH_MESH_ANNOUNCE_FAILURE=block git -C mesh push -q origin main 2>err &&
	test_grep "the push is refused: no agent could be told" err &&
	test "$(git -C mesh.git rev-parse main)" != "$(git -C mesh rev-parse main)" &&
	git -C mesh meshpush outbox >out &&
	test_grep "the outbox is empty" out
'

test_expect_success 'no agent configured: queue warns and pushes, block refuses' '
	git -C mesh meshpush outbox flush >/dev/null 2>&1;
	printf "[mesh]\nproduction = main\n" >mesh/.meshpush.ini &&
	git -C mesh commit -qam "no agents" &&
	test_commit -C mesh "g" shared/voltagent/g.js &&
	git -C mesh push -q origin main 2>err &&
	test_grep "warning: this push was not announced: no agent is configured" err &&
	test_grep "\"outcome\":\"not-announced\"" mesh/.git/meshpush/journal.jsonl &&
	test_commit -C mesh "h" shared/voltagent/h.js &&
	test_must_fail env MESHPUSH_MESH_ANNOUNCE_FAILURE=block git -C mesh push -q origin main 2>err &&
	test_grep "the push is refused: it cannot be announced" err
'

test_done
