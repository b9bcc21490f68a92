#!/bin/sh
# The whole protocol between two agents on loopback: sandman pushes with
# `git meshpush push` (CODE PUSH to oracle), oracle pulls, its post-merge
# hook installs, verifies and confirms (CODE RECEIVED to sandman, named by
# the commit's Mesh-From: trailer).  Each agent has its own configuration
# and state directories.
. "$(dirname "$0")/lib.sh"

rcv () { python3 "$TEST_DIR/receiver.py" "$@"; }

# as AGENT CMD...: run CMD with AGENT's own configuration and state
as () {
	agent=$1
	shift
	XDG_CONFIG_HOME="$TRASH/$agent/config" XDG_STATE_HOME="$TRASH/$agent/state" "$@"
}

test_expect_success 'setup: a central repository, two agents, two gateways' '
	start_receiver sandman_gw --token tok-sandman &&
	start_receiver oracle_gw --token tok-oracle &&
	test_mesh_repo mesh &&
	cat >mesh/.meshpush.ini <<-EOF &&
	[agent "sandman"]
	webhook = $sandman_gw_URL
	[agent "oracle"]
	webhook = $oracle_gw_URL
	[install "voltagent"]
	from = shared/voltagent
	to = ~/oracle-workspace/voltagent
	executable = *.js
	verify = node {} --help
	EOF
	git -C mesh add .meshpush.ini && git -C mesh commit -q -m "mesh configuration" && git -C mesh push -q &&
	mkdir -p sandman/config/meshpush oracle/config/meshpush &&
	printf "[self]\nagent = sandman\n[token]\noracle = env:TOK_ORACLE\n" >sandman/config/meshpush/config.ini &&
	printf "[self]\nagent = oracle\n[token]\nsandman = env:TOK_SANDMAN\n" >oracle/config/meshpush/config.ini &&
	TOK_ORACLE=tok-oracle TOK_SANDMAN=tok-sandman && export TOK_ORACLE TOK_SANDMAN &&
	git clone -q mesh.git oracle/clone &&
	as oracle git -C oracle/clone meshpush hooks install >/dev/null &&
	printf "if (process.argv.includes(\"--help\")) console.log(\"usage: tool\");\n" >tool.js
'

test_expect_success 'sandman pushes: oracle is told CODE PUSH' '
	as sandman git -C mesh meshpush push "$TRASH/tool.js" --to oracle --purpose "prints its usage" >out 2>&1 &&
	test "$(rcv --log "$oracle_gw_LOG" --count)" = 1 &&
	rcv --log "$oracle_gw_LOG" --get -1 body.message >msg &&
	test_grep "^📤 CODE PUSH: " msg &&
	test_grep "^From: sandman$" msg
'

test_expect_success 'oracle pulls: installed, verified, CODE RECEIVED goes to sandman' '
	as oracle git -C oracle/clone pull -q --ff-only 2>err &&
	test_grep "added     tool.js  (verified)" err &&
	test_grep "confirmation sent to 1 agent" err &&
	test_cmp tool.js "$HOME/oracle-workspace/voltagent/tool.js" &&
	test -x "$HOME/oracle-workspace/voltagent/tool.js" &&
	test "$(rcv --log "$sandman_gw_LOG" --count)" = 1 &&
	rcv --log "$sandman_gw_LOG" --get -1 body.message >msg &&
	cat >expect <<-EOF &&
	✅ CODE RECEIVED: tool.js
	Location: $HOME/oracle-workspace/voltagent/tool.js
	Status: working
	EOF
	test_cmp expect msg &&
	test "$(rcv --log "$oracle_gw_LOG" --count)" = 1 &&
	ls oracle/state/meshpush/installs/*.jsonl
'

test_expect_success 'each agent kept its own state' '
	test -e oracle/state/meshpush/manifests &&
	test_must_fail test -e sandman/state/meshpush/manifests
'

test_done
