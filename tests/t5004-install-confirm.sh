#!/bin/sh
# Confirmations: CODE RECEIVED to the pusher named in Mesh-From:, else the
# mesh; Status: issues on a failed verification; queued in the outbox when
# the pusher is offline (and shown by status); rollback and emergency
# messages.  Real loopback gateways (tests/receiver.py).
. "$(dirname "$0")/lib.sh"


WS="$HOME/ws/voltagent"
rcv () { python3 "$TEST_DIR/receiver.py" "$@"; }

# publish FILE CONTENT [TRAILER]: commit in pub (with a Mesh-From: trailer when given), push
publish () {
	printf '%s\n' "$2" >"pub/shared/voltagent/$1" &&
	git -C pub add -A &&
	if test -n "$3"; then
		git -C pub commit -q -m "update $1" -m "Mesh-From: $3"
	else
		git -C pub commit -q -m "update $1"
	fi &&
	git -C pub push -q origin HEAD
}

test_expect_success 'setup: two agents with gateways, this one is sandman' '
	start_receiver oracle --token tok-oracle &&
	start_receiver lobot --token tok-lobot &&
	test_mesh_repo pub &&
	mkdir -p pub/shared/voltagent &&
	cat >pub/.meshpush.ini <<-EOF &&
	[install "voltagent"]
	to = ~/ws/voltagent
	executable = *.js
	verify = node {}
	[agent "oracle"]
	webhook = $oracle_URL
	[agent "lobot"]
	webhook = $lobot_URL
	[agent "sandman"]
	webhook = http://127.0.0.1:9/hooks/agent
	EOF
	mkdir -p "$XDG_CONFIG_HOME/meshpush" &&
	cat >"$XDG_CONFIG_HOME/meshpush/config.ini" <<-\EOF &&
	[self]
	agent = sandman
	[token]
	oracle = env:TOK_ORACLE
	lobot = env:TOK_LOBOT
	EOF
	TOK_ORACLE=tok-oracle TOK_LOBOT=tok-lobot && export TOK_ORACLE TOK_LOBOT &&
	echo "// a v1" >pub/shared/voltagent/a.js &&
	git -C pub add -A && git -C pub commit -q -m start && git -C pub push -q &&
	git clone -q "$TRASH/pub.git" agent &&
	git -C agent meshpush hooks install >/dev/null &&
	git -C agent meshpush install --no-confirm >/dev/null
'

test_expect_success 'a commit with Mesh-From: oracle: CODE RECEIVED goes to oracle only' '
	publish a.js "// a v2" oracle &&
	git -C agent pull -q --ff-only 2>err &&
	test_grep "confirmation sent to 1 agent" err &&
	test "$(rcv --log "$oracle_LOG" --count)" = 1 &&
	test "$(rcv --log "$lobot_LOG" --count)" = 0 &&
	rcv --log "$oracle_LOG" --get -1 body.message >msg &&
	cat >expect <<-EOF &&
	✅ CODE RECEIVED: a.js
	Location: $WS/a.js
	Status: working
	EOF
	test_cmp expect msg
'

test_expect_success 'no Mesh-From: the whole mesh (but not ourselves) is told' '
	publish b.js "// b" &&
	git -C agent pull -q --ff-only 2>err &&
	test "$(rcv --log "$oracle_LOG" --count)" = 2 &&
	test "$(rcv --log "$lobot_LOG" --count)" = 1 &&
	rcv --log "$lobot_LOG" --get -1 body.message >msg &&
	test_grep "^✅ CODE RECEIVED: b.js$" msg
'

test_expect_success 'a failed verification: Status: issues, with the output' '
	publish a.js "syntax error here" oracle &&
	git -C agent pull -q --ff-only 2>err &&
	rcv --log "$oracle_LOG" --get -1 body.message >msg &&
	test_grep "^✅ CODE RECEIVED: a.js$" msg &&
	test_grep "^Status: issues$" msg &&
	test_grep "SyntaxError" msg &&
	echo "// a v2" >expect && test_cmp expect "$WS/a.js"
'

test_expect_success 'the pusher offline: the confirmation waits in the outbox, status shows it' '
	kill $oracle_PID && sleep 0.2 &&
	publish c.js "// c" oracle &&
	git -C agent pull -q --ff-only 2>err &&
	test_grep "queued for 1" err &&
	git -C agent meshpush status >st &&
	test_grep "received  to oracle: ✅ CODE RECEIVED: c.js" st
'

test_expect_success 'rollback and --remove are announced to the mesh' '
	git -C agent meshpush rollback >out &&
	test "$(rcv --log "$lobot_LOG" --count)" = 2 &&
	rcv --log "$lobot_LOG" --get -1 body.message >msg &&
	test_grep "ROLLBACK: c.js" msg &&
	git -C agent meshpush rollback --remove "$WS/b.js" >out &&
	rcv --log "$lobot_LOG" --get -1 body.message >msg &&
	test_grep "EMERGENCY: b.js" msg
'

test_done
