#!/bin/sh
# The outbox: what waits, flushing it (once, even with two runs at once or
# after a crash), dropping from it.
. "$(dirname "$0")/lib.sh"

TOKEN=tok-outbox-9a8b7c6d5e4f3a2b
export MESH_TOKEN_ORACLE=$TOKEN
OUTBOX="$XDG_STATE_HOME/meshpush/outbox"

# queue_for_down N: queue N announcements for "oracle" while its gateway is down.
queue_for_down () {
	for i in $(seq "$1"); do
		test_expect_code 3 git -C repo meshpush announce "f$i.js" --to oracle --purpose "p$i" 2>/dev/null || return 1
	done
}

test_expect_success 'setup: oracle on a port nothing listens on yet' '
	git init -q repo &&
	mkdir -p "$XDG_CONFIG_HOME/meshpush" &&
	printf "[self]\nagent = sandman\n[token]\noracle = env:MESH_TOKEN_ORACLE\n" >"$XDG_CONFIG_HOME/meshpush/config.ini" &&
	port=$(test_free_port) &&
	echo "$port" >port &&
	printf "[mesh]\nretries = 0\n[agent \"oracle\"]\nwebhook = http://127.0.0.1:%s/hooks/agent\n" "$port" >repo/.meshpush.ini
'

test_expect_success 'an empty outbox' '
	git -C repo meshpush outbox >out &&
	echo "the outbox is empty" >expect &&
	test_cmp expect out &&
	git -C repo meshpush outbox list --json >out &&
	test_must_fail test -s out &&
	git -C repo meshpush outbox flush >out &&
	echo "nothing to deliver" >expect &&
	test_cmp expect out
'

test_expect_success 'entries are private files holding the message, not the token' '
	queue_for_down 2 &&
	ls "$OUTBOX"/*.oracle.json >files &&
	test $(wc -l <files) = 2 &&
	test "$(stat -c %a "$OUTBOX")" = 700 &&
	for f in $(cat files); do
		test "$(stat -c %a "$f")" = 600 || return 1
	done &&
	! grep -l "$TOKEN" "$OUTBOX"/* &&
	grep -l "CODE PUSH: f1.js" "$OUTBOX"/*.json
'

test_expect_success 'list shows each entry, oldest first; --json for scripts' '
	git -C repo meshpush outbox list >out &&
	test_grep "^[0-9T]*Z-[0-9a-f]*  oracle  .* CODE PUSH: f1.js$" out &&
	test_grep "queued .*, 1 attempt$" out &&
	test_grep "last error: oracle: connection refused or unreachable (1 attempt)" out &&
	test "$(grep -n "CODE PUSH" out | cut -d: -f1 | tr "\n" " ")" = "1 4 " &&
	git -C repo meshpush outbox list --json >json &&
	test $(wc -l <json) = 2 &&
	python3 -c "
import json, sys
for line in open(sys.argv[1]):
    e = json.loads(line)
    assert e[\"agent\"] == \"oracle\" and e[\"kind\"] == \"push\" and e[\"attempts\"] >= 1, e
    assert e[\"message\"].startswith(\"\U0001F4E4 CODE PUSH: f\"), e
" json
'

test_expect_success 'auto_flush = false: a run leaves the outbox alone' '
	start_receiver oracle --port "$(cat port)" --token "$TOKEN" --dedupe &&
	git -C repo meshpush -c mesh.auto_flush=false announce --dry-run x.js --to oracle --purpose p >/dev/null 2>err &&
	test "$(receiver_requests oracle)" = 0 &&
	test_grep -v delivered err
'

test_expect_success 'hook pre-commit and scan (the commit-time hot paths) leave the outbox alone' '
	git -C repo meshpush hook pre-commit 2>err &&
	test_grep -v delivered err &&
	echo clean >repo/clean.txt &&
	git -C repo meshpush scan clean.txt >/dev/null 2>err &&
	test_grep -v delivered err &&
	test "$(receiver_requests oracle)" = 0
'

test_expect_success 'flush delivers everything, each once, with its own id' '
	git -C repo meshpush outbox list --json | python3 -c "import json,sys; [print(json.loads(l)[\"id\"]) for l in sys.stdin]" | sort >ids &&
	git -C repo meshpush outbox flush >out &&
	echo "delivered 2 announcements to oracle" >expect &&
	test_cmp expect out &&
	test "$(receiver_count oracle)" = 2 &&
	for i in 0 1; do receiver_get oracle $i headers.idempotency-key || return 1; done | sort >sent &&
	test_cmp ids sent &&
	git -C repo meshpush outbox flush >out &&
	test "$(receiver_requests oracle)" = 2
'

test_expect_success 'a crash after the 2xx but before the removal: sent again, the gateway sees a replay' '
	start_receiver crash --token "$TOKEN" --dedupe --script 500 &&
	printf "[agent \"crash\"]\nwebhook = %s\n" "$crash_URL" >>repo/.meshpush.ini &&
	printf "[token]\ncrash = env:MESH_TOKEN_ORACLE\n" >>"$XDG_CONFIG_HOME/meshpush/config.ini" &&
	test_expect_code 3 git -C repo meshpush announce c.js --to crash --purpose p 2>err &&
	test_grep "crash: 500" err &&
	cp "$OUTBOX"/*.crash.json saved.json &&
	name=$(basename "$OUTBOX"/*.crash.json) &&
	git -C repo meshpush outbox flush &&
	test "$(receiver_count crash)" = 1 &&
	cp saved.json "$OUTBOX/$name" &&
	git -C repo meshpush outbox flush &&
	test "$(receiver_requests crash)" = 3 &&
	test "$(receiver_count crash)" = 1 &&
	test "$(receiver_get crash -1 replay)" = true &&
	git -C repo meshpush outbox >out &&
	test_grep "the outbox is empty" out
'

test_expect_success 'an entry leased by a running process is left to it; a dead one is taken over' '
	stop_receiver oracle &&
	queue_for_down 1 &&
	f=$(ls "$OUTBOX"/*.json) &&
	start_receiver oracle --port "$(cat port)" --token "$TOKEN" &&
	{ sleep 60 & } &&
	sleeper=$! &&
	test_cleanup_add "kill $sleeper" &&
	python3 -c "
import json, sys, time
e = json.load(open(sys.argv[1])); e[\"lease\"] = {\"pid\": int(sys.argv[2]), \"until\": int(time.time()) + 600}
json.dump(e, open(sys.argv[1], \"w\"))" "$f" $sleeper &&
	git -C repo meshpush outbox list >out &&
	test_grep "being sent by process $sleeper" out &&
	git -C repo meshpush outbox flush >out &&
	test "$(receiver_requests oracle)" = 0 &&
	kill $sleeper && wait $sleeper 2>/dev/null;
	git -C repo meshpush outbox flush >out &&
	test_grep "delivered 1 announcement to oracle" out &&
	test "$(receiver_count oracle)" = 1
'

test_expect_success 'an agent failing for long is not tried by every run, but by flush' '
	stop_receiver oracle &&
	queue_for_down 1 &&
	f=$(ls "$OUTBOX"/*.json) &&
	python3 -c "
import json, sys, time
e = json.load(open(sys.argv[1])); e[\"attempts\"] = 6; e[\"last_attempt\"] = int(time.time()) - 60
json.dump(e, open(sys.argv[1], \"w\"))" "$f" &&
	start_receiver oracle --port "$(cat port)" --token "$TOKEN" &&
	git -C repo meshpush announce --dry-run x.js --to oracle --purpose p >/dev/null &&
	test "$(receiver_requests oracle)" = 0 &&
	git -C repo meshpush outbox flush >out &&
	test_grep "delivered 1 announcement to oracle" out &&
	test "$(receiver_count oracle)" = 1
'

test_expect_success 'two flushes at once deliver each entry once' '
	stop_receiver oracle &&
	queue_for_down 3 &&
	start_receiver oracle --port "$(cat port)" --token "$TOKEN" --delay-ms 700 &&
	{ git -C repo meshpush outbox flush >out1 2>&1 & } &&
	flusher=$! &&
	git -C repo meshpush outbox flush >out2 2>&1 &&
	wait $flusher &&
	test "$(receiver_requests oracle)" = 3 &&
	test "$(receiver_count oracle)" = 3
'

test_expect_success 'drop gives up on an announcement' '
	stop_receiver oracle &&
	queue_for_down 1 &&
	id=$(git -C repo meshpush outbox list --json | python3 -c "import json,sys; print(json.loads(sys.stdin.readline())[\"id\"])") &&
	git -C repo meshpush outbox drop "$id" >out &&
	echo "dropped 1 queued delivery of $id" >expect &&
	test_cmp expect out &&
	git -C repo meshpush outbox >out &&
	test_grep "the outbox is empty" out &&
	test_expect_code 1 git -C repo meshpush outbox drop "$id" 2>err &&
	test_grep "nothing queued under" err &&
	test_grep "\"outcome\":\"dropped\"" repo/.git/meshpush/journal.jsonl
'

test_expect_success 'a damaged entry is reported and skipped' '
	printf "{\"id\": \"x\", " >"$OUTBOX/broken.oracle.json" &&
	git -C repo meshpush outbox list >out 2>err &&
	test_grep "broken.oracle.json. is not a readable outbox entry" err &&
	test_grep "the outbox is empty" out &&
	rm "$OUTBOX/broken.oracle.json"
'

test_expect_success 'the longest id an announcement may have is queued, listed and dropped' '
	id=$(printf "a/%.0s" $(seq 100)) &&
	test_expect_code 3 git -C repo meshpush announce long.js --to oracle --purpose p --id "$id" 2>err &&
	test_grep "queued for oracle" err &&
	git -C repo meshpush outbox list --json >out &&
	test_grep "\"id\": *\"$id\"" out &&
	git -C repo meshpush outbox drop "$id" >out &&
	test_grep "dropped 1 queued delivery" out
'

test_expect_success 'usage errors' '
	test_expect_code 2 git -C repo meshpush outbox frob 2>err &&
	test_grep "usage: git meshpush outbox" err &&
	test_expect_code 2 git -C repo meshpush outbox drop 2>err
'

test_done
