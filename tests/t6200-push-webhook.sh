#!/bin/sh
# git meshpush push --method webhook: the file as a DEPLOY message to a real gateway on loopback.
. "$(dirname "$0")/lib.sh"

rcount () {
	python3 "$TEST_DIR/receiver.py" --log "$TRASH/$1.log" --count
}

rget () {
	python3 "$TEST_DIR/receiver.py" --log "$TRASH/$1.log" --get "$2" "$3"
}

test_expect_success 'setup: gateway, repository, configuration' '
	start_receiver oracle --token tok-oracle-0123456789 &&
	test_mesh_repo mesh &&
	cat >mesh/.meshpush.ini <<-EOF &&
	[agent "oracle"]
	webhook = $oracle_URL
	EOF
	mkdir -p "$XDG_CONFIG_HOME/meshpush" &&
	cat >"$XDG_CONFIG_HOME/meshpush/config.ini" <<-EOF &&
	[self]
	agent = sandman
	[token]
	oracle = env:MESH_TOKEN_ORACLE
	EOF
	MESH_TOKEN_ORACLE=tok-oracle-0123456789 &&
	export MESH_TOKEN_ORACLE &&
	printf "{\"interval\": 30, \"name\": \"mesh \\\\\"demo\\\\\"\"}\n" >config.json
'

test_expect_success 'webhook: announce, DEPLOY, verified by the 2xx, confirmed' '
	git -C mesh meshpush push "$TRASH/config.json" --to oracle --method webhook \
		--purpose "poll every 30 s" >out 2>err &&
	for s in PREPARE ANNOUNCE PUSH VERIFY CONFIRM; do
		grep -q "^$s  *ok " out || { echo "no $s line"; cat out err; return 1; }
	done &&
	test_grep "^PREPARE .*DEPLOY payload [0-9]* bytes (limit 262144)" out &&
	test_grep "^VERIFY .*1 gateway answer 2xx" out &&
	test "$(rcount oracle)" = 3 &&
	rget oracle 0 body.message >m0 &&
	test_grep "^📤 CODE PUSH: config.json$" m0 &&
	test_grep "^Method: webhook$" m0 &&
	rget oracle 1 body.message >m1 &&
	size=$(wc -c <config.json) &&
	sha=$(sha256sum config.json | cut -d" " -f1) &&
	cat >expect <<-EOF &&
	DEPLOY: config.json
	From: sandman
	Purpose: poll every 30 s
	Size: $size bytes
	SHA-256: $sha
	EOF
	head -n 5 m1 >m1.head &&
	test_cmp expect m1.head &&
	sed -n "/^$/,\$p" m1 | sed 1d | sed "\$d" >content &&
	test_cmp config.json content &&
	rget oracle 1 body.deliver >deliver &&
	echo true >expect &&
	test_cmp expect deliver &&
	rget oracle 1 headers.authorization >auth &&
	echo "Bearer tok-oracle-0123456789" >expect &&
	test_cmp expect auth &&
	rget oracle 2 body.message >m2 &&
	test_grep "^✅ CODE RECEIVED: config.json$" m2 &&
	test_grep "^Location: oracle.s gateway (runId run-" m2 &&
	test_grep "^Status: working$" m2 &&
	test_grep -v "tok-oracle-0123456789" out &&
	test_grep -v "tok-oracle-0123456789" mesh/.git/meshpush/journal.jsonl
'

test_expect_success 'a payload over 256 KiB is refused before anything is sent' '
	before=$(rcount oracle) &&
	python3 -c "print(\"x\" * 270000)" >big.txt &&
	test_expect_code 1 git -C mesh meshpush push "$TRASH/big.txt" --to oracle --method webhook \
		--purpose "big" >out 2>err &&
	test_grep "over the gateway.s limit of 256 KiB (262144 bytes): nothing was announced or sent" err &&
	test_grep "hint: the gateway takes at most 256 KiB: push .big.txt. with --method git or scp" err &&
	test "$(rcount oracle)" = "$before"
'

test_expect_success 'the limit is on the JSON body, not the file: escaping counts' '
	before=$(rcount oracle) &&
	python3 -c "import sys; sys.stdout.write(\"\\n\" * 140000)" >newlines.txt &&
	test $(wc -c <newlines.txt) -lt 262144 &&
	test_expect_code 1 git -C mesh meshpush push "$TRASH/newlines.txt" --to oracle --method webhook \
		--purpose "escapes" >out 2>err &&
	test_grep "as JSON, over the gateway.s limit" err &&
	test "$(rcount oracle)" = "$before"
'

test_expect_success 'a binary file is refused: DEPLOY carries text' '
	before=$(rcount oracle) &&
	printf "\000\001\002binary" >blob.bin &&
	test_expect_code 1 git -C mesh meshpush push "$TRASH/blob.bin" --to oracle --method webhook \
		--purpose "bin" >out 2>err &&
	test "$(rcount oracle)" = "$before"
'

test_expect_success 'a secret in the file: nothing is sent' '
	before=$(rcount oracle) &&
	printf "{\"token\": \"ghp_%s\"}\n" 8Rk2vQz7LmN4pX1sT9wYc3bH6dJ0fA5eGuKi >secret.json &&
	test_expect_code 1 git -C mesh meshpush push "$TRASH/secret.json" --to oracle --method webhook \
		--purpose "leak" >out 2>err &&
	test_grep "secrets found" err &&
	test "$(rcount oracle)" = "$before"
'

test_expect_success 'no token for the agent: refused before anything is sent' '
	before=$(rcount oracle) &&
	test_expect_code 2 env -u MESH_TOKEN_ORACLE git -C mesh meshpush push "$TRASH/config.json" --to oracle \
		--method webhook --purpose "x" >out 2>err &&
	test "$(rcount oracle)" = "$before"
'

test_expect_success '--dry-run sends nothing' '
	before=$(rcount oracle) &&
	git -C mesh meshpush push --dry-run "$TRASH/config.json" --to oracle --method webhook --purpose "dry" >out &&
	test_grep "would send DEPLOY: config.json to oracle.s gateway ([0-9]* bytes of JSON)" out &&
	test_grep "dry run: nothing was announced" out &&
	test "$(rcount oracle)" = "$before"
'

test_expect_success 'a gateway that does not answer: nothing is sent, nothing stays queued' '
	port=$(test_free_port) &&
	test_expect_code 3 git -C mesh meshpush -c agent.oracle.webhook=http://127.0.0.1:$port/hooks/agent \
		-c mesh.retries=0 push "$TRASH/config.json" --to oracle --method webhook --purpose "x" >out 2>err &&
	test_grep "^ANNOUNCE  *FAILED .*oracle did not take the announcement" out &&
	test_grep "would go to the same gateway: nothing was sent" err &&
	test_grep -v "^PUSH" out &&
	git -C mesh meshpush outbox list >outbox 2>&1 &&
	test_grep -v "config.json" outbox
'

test_expect_success 'an unknown agent is a configuration error' '
	test_expect_code 2 git -C mesh meshpush push "$TRASH/config.json" --to nobody --method webhook \
		--purpose "x" 2>err &&
	test_grep "unknown agent .nobody. (known: oracle)" err
'

test_done
