#!/bin/sh
# git meshpush agents: the mesh from the configuration, gateways probed in parallel.
. "$(dirname "$0")/lib.sh"

TOKEN=tok-agents-77aa66bb55cc44dd
export MESH_TOKEN_ORACLE=$TOKEN

test_expect_success 'setup: two gateways up (one slow), one down, one without webhook' '
	git init -q repo &&
	start_receiver oracle &&
	start_receiver bot --delay-ms 1500 &&
	down=$(test_free_port) &&
	mkdir -p "$XDG_CONFIG_HOME/meshpush" &&
	printf "[self]\nagent = sandman\n[token]\noracle = env:MESH_TOKEN_ORACLE\nbot = env:MESH_TOKEN_BOT\n" \
		>"$XDG_CONFIG_HOME/meshpush/config.ini" &&
	cat >repo/.meshpush.ini <<-EOF
	[agent "oracle"]
	host = 127.0.0.1
	webhook = $oracle_URL
	ssh = root@127.0.0.1
	dest = /root/clawd/voltagent/
	[agent "bot"]
	webhook = $bot_URL
	[agent "down"]
	webhook = http://127.0.0.1:$down/hooks/agent
	[agent "sandman"]
	host = 127.0.0.1
	EOF
'

test_expect_success 'each agent: configuration, token source and whether it resolves, gateway state' '
	test_expect_code 3 git -C repo meshpush agents >out &&
	sed -e "s/in [0-9]* ms/in N ms/" -e "s/:[0-9][0-9]*\//:PORT\//" out >actual &&
	cat >expect <<-EOF &&
	bot
	    webhook  http://127.0.0.1:PORT/hooks/agent
	    token    env:MESH_TOKEN_BOT (does not resolve: token for agent '"'"'bot'"'"' comes from '"'"'env:MESH_TOKEN_BOT'"'"', but that variable is not set)
	    gateway  answers: HTTP 405 in N ms
	down
	    webhook  http://127.0.0.1:PORT/hooks/agent
	    token    none configured
	    gateway  unreachable: connection refused or unreachable
	oracle
	    host     127.0.0.1
	    webhook  http://127.0.0.1:PORT/hooks/agent
	    ssh      root@127.0.0.1
	    dest     /root/clawd/voltagent/
	    token    env:MESH_TOKEN_ORACLE (resolves)
	    gateway  answers: HTTP 405 in N ms
	sandman (this agent)
	    host     127.0.0.1
	    webhook  http://127.0.0.1:PORT/hooks/agent
	    token    none configured
	    gateway  unreachable: connection refused or unreachable
	EOF
	test_cmp expect actual &&
	test_grep -v "$TOKEN" out
'

test_expect_success 'probes go out in parallel, without the token' '
	test "$(receiver_get oracle -1 method)" = HEAD &&
	test_must_fail receiver_get oracle -1 headers.authorization 2>/dev/null &&
	python3 - "$oracle_LOG" "$bot_LOG" <<-EOF
	import json, sys
	o = json.loads(open(sys.argv[1]).readlines()[-1])["time"]
	b = json.loads(open(sys.argv[2]).readlines()[-1])["time"]
	# the bot answers 1.5 s after its request arrived: probed one after the
	# other (bot first, by name), oracle would be asked 1.5 s after the bot
	sys.exit(0 if o - b < 1.3 else 1)
	EOF
'

test_expect_success 'a gateway slower than --timeout is unreachable' '
	test_expect_code 3 git -C repo meshpush agents --timeout 1 >out &&
	grep -A3 "^bot" out >bot &&
	test_grep "unreachable: no answer within 1 s" bot
'

test_expect_success '--json and --no-probe' '
	git -C repo meshpush agents --no-probe --json >out &&
	test $(wc -l <out) = 4 &&
	python3 - out <<-EOF
	import json, sys
	rows = {r["name"]: r for r in map(json.loads, open(sys.argv[1]))}
	assert rows["oracle"]["token_resolves"] is True and rows["oracle"]["token"] == "env:MESH_TOKEN_ORACLE (resolves)"
	assert rows["sandman"]["self"] is True and rows["sandman"]["webhook"] == "http://127.0.0.1:18789/hooks/agent"
	assert "answers" not in rows["oracle"]
	EOF
'

test_expect_success 'a webhook URL with credentials is shown without them' '
	git init -q creds &&
	mkdir -p creds-config/meshpush &&
	printf "[agent \"oracle\"]\nwebhook = http://127.0.0.1:1/hooks/agent\n" >creds/.meshpush.ini &&
	printf "[agent \"oracle\"]\nwebhook = http://mesh:tok-in-url-0123456789@127.0.0.1:1/hooks/agent\n" \
		>creds-config/meshpush/config.ini &&
	XDG_CONFIG_HOME=$PWD/creds-config git -C creds meshpush agents --no-probe >out &&
	test_grep "webhook  http://127.0.0.1:1/hooks/agent" out &&
	XDG_CONFIG_HOME=$PWD/creds-config git -C creds meshpush agents --no-probe --json >out &&
	test_grep -v "tok-in-url" out &&
	git -C creds meshpush -c agent.oracle.webhook=ftp://mesh:tok-in-url-0123456789@127.0.0.1/ \
		agents --no-probe >out 2>&1 &&
	test_grep -v "tok-in-url" out
'

test_expect_success 'no agents configured: say how to add one' '
	git init -q empty &&
	test_expect_code 2 git -C empty meshpush agents 2>err &&
	test_grep "no agent is configured" err
'

test_done
