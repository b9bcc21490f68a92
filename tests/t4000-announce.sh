#!/bin/sh
# Announcements: the request a gateway receives, the protocol's exact
# messages, and every fault: down, 5xx, 429, slow, 401, too large.
. "$(dirname "$0")/lib.sh"

TOKEN=tok-oracle-5f2a9c1e7b3d4a60
BOTTOKEN=tok-bot-0c9d8e7f6a5b4c3d
export MESH_TOKEN_ORACLE=$TOKEN MESH_TOKEN_BOT=$BOTTOKEN

# mesh_config AGENT=URL...: the repository's .meshpush.ini with these agents (plus sandman, this one).
mesh_config () {
	{
		printf '[mesh]\nproduction = main\nretries = 2\ntimeout = 5\n'
		printf '[agent "sandman"]\nhost = 127.0.0.1\n'
		for a in "$@"; do
			printf '[agent "%s"]\nwebhook = %s\n' "${a%%=*}" "${a#*=}"
		done
	} >"$TRASH/repo/.meshpush.ini"
}

test_expect_success 'setup: a repository, this agent, tokens from the environment, a gateway' '
	git init -q repo &&
	mkdir -p "$XDG_CONFIG_HOME/meshpush" &&
	printf "[self]\nagent = sandman\n[token]\noracle = env:MESH_TOKEN_ORACLE\nbot = env:MESH_TOKEN_BOT\n" \
		>"$XDG_CONFIG_HOME/meshpush/config.ini" &&
	start_receiver oracle --token "$TOKEN" --dedupe &&
	mesh_config oracle="$oracle_URL"
'

test_expect_success 'the request: POST JSON fields and headers as the gateway API wants them' '
	git -C repo meshpush announce shared/voltagent/health.js --to oracle --purpose "checks health" >out &&
	test "$(receiver_count oracle)" = 1 &&
	test "$(receiver_get oracle -1 method)" = POST &&
	test "$(receiver_get oracle -1 path)" = /hooks/agent &&
	test "$(receiver_get oracle -1 body.name)" = meshpush &&
	test "$(receiver_get oracle -1 body.deliver)" = true &&
	test "$(receiver_get oracle -1 headers.authorization)" = "Bearer $TOKEN" &&
	test "$(receiver_get oracle -1 headers.content-type)" = application/json &&
	id=$(receiver_get oracle -1 headers.idempotency-key) &&
	echo "announced $id to oracle" >expect &&
	test_cmp expect out &&
	test_must_fail receiver_get oracle -1 body.channel 2>/dev/null &&
	test_must_fail receiver_get oracle -1 body.to 2>/dev/null &&
	test_must_fail receiver_get oracle -1 body.agentId 2>/dev/null
'

test_expect_success 'the push message is exactly the protocol form, in UTF-8' '
	receiver_get oracle -1 body.message >actual &&
	printf "\360\237\223\244 CODE PUSH: shared/voltagent/health.js\nFrom: sandman\nTo: oracle\nMethod: git\nPurpose: checks health\n" >expect &&
	test_cmp expect actual
'

test_expect_success 'several files and recipients; every agent but this one by default' '
	start_receiver bot --token "$BOTTOKEN" &&
	mesh_config oracle="$oracle_URL" bot="$bot_URL" &&
	git -C repo meshpush announce a.js b.sh --purpose "two tools" --method scp >out &&
	test_grep "to bot, oracle" out &&
	receiver_get bot -1 body.message >actual &&
	printf "\360\237\223\244 CODE PUSH: a.js, b.sh\nFrom: sandman\nTo: bot, oracle\nMethod: scp\nPurpose: two tools\n" >expect &&
	test_cmp expect actual &&
	test "$(receiver_get bot -1 headers.idempotency-key)" = "$(receiver_get oracle -1 headers.idempotency-key)"
'

test_expect_success 'the received, rollback and emergency forms' '
	git -C repo meshpush announce --kind received --to oracle --location /root/clawd/voltagent/health.js \
		--status working shared/voltagent/health.js &&
	receiver_get oracle -1 body.message >actual &&
	printf "\342\234\205 CODE RECEIVED: shared/voltagent/health.js\nLocation: /root/clawd/voltagent/health.js\nStatus: working\n" >expect &&
	test_cmp expect actual &&
	git -C repo meshpush announce --kind rollback --to oracle --details "reason: node crashed" health.js &&
	receiver_get oracle -1 body.message >actual &&
	printf "\342\217\252 CODE ROLLBACK: health.js\nFrom: sandman\nStatus: rolled back\n\nreason: node crashed\n" >expect &&
	test_cmp expect actual &&
	git -C repo meshpush announce --kind emergency --to oracle --status "removed: broken" health.js &&
	receiver_get oracle -1 body.message >actual &&
	printf "\360\237\232\250 CODE EMERGENCY: health.js\nFrom: sandman\nStatus: removed: broken\n" >expect &&
	test_cmp expect actual
'

test_expect_success 'an incomplete announcement is a usage error and sends nothing' '
	n=$(receiver_requests oracle) &&
	test_expect_code 2 git -C repo meshpush announce a.js --to oracle 2>err &&
	test_grep "needs a purpose" err &&
	test_expect_code 2 git -C repo meshpush announce --kind received --to oracle --location /x --status fine a.js 2>err &&
	test_grep "working. or .issues" err &&
	test_expect_code 2 git -C repo meshpush announce --purpose p --to oracle 2>err &&
	test_grep "at least one file" err &&
	test_expect_code 2 git -C repo meshpush announce a.js --purpose p --to nobody 2>err &&
	test_grep "unknown agent .nobody.: the configured agents are bot, oracle, sandman" err &&
	test "$(receiver_requests oracle)" = "$n"
'

test_expect_success 'JSON escaping: quotes, newlines and control characters in names and purposes' '
	name=$(printf "we\"ird\nna\\\\me\001.js") &&
	purpose=$(printf "fixes \"quoted\" things\nsecond line\ttab \001 ctrl") &&
	git -C repo meshpush announce "$name" --to oracle --purpose "$purpose" &&
	test_must_fail receiver_get oracle -1 raw 2>/dev/null &&
	receiver_get oracle -1 body.message >actual &&
	printf "\360\237\223\244 CODE PUSH: \"we\\\\\"ird\\\\nna\\\\\\\\me\\\\001.js\"\nFrom: sandman\nTo: oracle\nMethod: git\nPurpose: fixes \"quoted\" things\nsecond line\ttab \001 ctrl\n" >expect &&
	test_cmp expect actual
'

test_expect_success 'channel and to go together; agentId when configured' '
	printf "[agent \"oracle\"]\nchannel = telegram\nto = mesh-mastermind\nagent_id = main\n" >>repo/.meshpush.ini &&
	git -C repo meshpush announce x.js --to oracle --purpose p &&
	test "$(receiver_get oracle -1 body.channel)" = telegram &&
	test "$(receiver_get oracle -1 body.to)" = mesh-mastermind &&
	test "$(receiver_get oracle -1 body.agentId)" = main &&
	n=$(receiver_requests oracle) &&
	mesh_config oracle="$oracle_URL" &&
	printf "[agent \"oracle\"]\nchannel = telegram\n" >>repo/.meshpush.ini &&
	test_expect_code 2 git -C repo meshpush announce x.js --to oracle --purpose p 2>err &&
	test_grep "agent .oracle.: .channel. and .to. go together" err &&
	test "$(receiver_requests oracle)" = "$n" &&
	mesh_config oracle="$oracle_URL"
'

test_expect_success '--dry-run prints the message and sends nothing' '
	n=$(receiver_requests oracle) &&
	git -C repo meshpush announce --dry-run a.js --to oracle --purpose p >out &&
	printf "\360\237\223\244 CODE PUSH: a.js\nFrom: sandman\nTo: oracle\nMethod: git\nPurpose: p\n" >expect &&
	test_cmp expect out &&
	test "$(receiver_requests oracle)" = "$n"
'

test_expect_success '--dry-run refuses what the send would refuse: no [self] agent' '
	mkdir -p noself &&
	test_expect_code 2 env XDG_CONFIG_HOME="$PWD/noself" \
		git -C repo meshpush announce --dry-run a.js --to oracle --purpose p >out 2>err &&
	test_grep "who is announcing? set \[self\] agent" err &&
	test_must_fail test -s out
'

test_expect_success 'receiver down: queued, then delivered by the next run exactly once' '
	port=$(test_free_port) &&
	mesh_config oracle="$oracle_URL" later="http://127.0.0.1:$port/hooks/agent" &&
	test_expect_code 3 git -C repo meshpush -c mesh.retries=0 announce late.js --to later --purpose p >out 2>err &&
	test_grep "later: connection refused or unreachable (1 attempt)" err &&
	test_grep "queued for later in the outbox" err &&
	git -C repo meshpush outbox list >list &&
	test_grep "later  .* CODE PUSH: late.js" list &&
	id=$(sed -n "s/^\([^ ]*\)  later .*/\1/p" list) &&
	start_receiver later --port "$port" --dedupe &&
	git -C repo meshpush announce --dry-run a.js --to oracle --purpose p >/dev/null 2>err &&
	test_grep "delivered 1 queued announcement from the outbox" err &&
	test "$(receiver_count later)" = 1 &&
	test "$(receiver_get later -1 headers.idempotency-key)" = "$id" &&
	git -C repo meshpush announce --dry-run a.js --to oracle --purpose p >/dev/null 2>err &&
	test_grep -v "delivered" err &&
	git -C repo meshpush outbox flush >out &&
	test_grep "nothing to deliver" out &&
	test "$(receiver_count later)" = 1 &&
	test "$(receiver_requests later)" = 1 &&
	git -C repo meshpush outbox list >list &&
	test_grep "the outbox is empty" list
'

test_expect_success '500 then 200: retried with the same id, one delivery' '
	start_receiver flaky --script 500,503,200 --dedupe &&
	mesh_config flaky="$flaky_URL" &&
	git -C repo meshpush announce a.js --to flaky --purpose p &&
	test "$(receiver_requests flaky)" = 3 &&
	test "$(receiver_count flaky)" = 1 &&
	k0=$(receiver_get flaky 0 headers.idempotency-key) &&
	test "$(receiver_get flaky 1 headers.idempotency-key)" = "$k0" &&
	test "$(receiver_get flaky 2 headers.idempotency-key)" = "$k0"
'

test_expect_success '5xx every time: retries, then queued' '
	start_receiver broken --script 500,500,500,500,500 &&
	mesh_config broken="$broken_URL" &&
	test_expect_code 3 git -C repo meshpush announce a.js --to broken --purpose p 2>err &&
	test_grep "broken: 500 internal server error (3 attempts)" err &&
	test "$(receiver_requests broken)" = 3 &&
	git -C repo meshpush outbox list >list &&
	test_grep "broken  " list
'

test_expect_success '429 with Retry-After (seconds, HTTP date) is waited for, then delivered' '
	start_receiver busy --script 429,200 --retry-after 1 &&
	mesh_config busy="$busy_URL" &&
	git -C repo meshpush announce a.js --to busy --purpose p &&
	test "$(receiver_requests busy)" = 2 &&
	test "$(receiver_count busy)" = 1 &&
	python3 -c "import json,sys; l=[json.loads(x) for x in open(sys.argv[1])]; sys.exit(0 if l[1][\"time\"]-l[0][\"time\"] >= 0.95 else 1)" "$busy_LOG" &&
	start_receiver busydate --script 503,200 --retry-after date+2 &&
	mesh_config busydate="$busydate_URL" &&
	git -C repo meshpush announce a.js --to busydate --purpose p &&
	test "$(receiver_count busydate)" = 1 &&
	python3 -c "import json,sys; l=[json.loads(x) for x in open(sys.argv[1])]; sys.exit(0 if l[1][\"time\"]-l[0][\"time\"] >= 0.9 else 1)" "$busydate_LOG"
'

test_expect_success 'a Retry-After beyond [mesh] retry_after_max queues at once and is remembered' '
	start_receiver later2 --script 429,200 --retry-after 120 &&
	mesh_config later2="$later2_URL" &&
	test_expect_code 3 git -C repo meshpush announce a.js --to later2 --purpose p 2>err &&
	test_grep "later2: 429 too many requests, retry after 120 s (1 attempt)" err &&
	test "$(receiver_requests later2)" = 1 &&
	git -C repo meshpush outbox list >list &&
	test_grep "gateway asked to wait 1[0-2][0-9] s" list &&
	git -C repo meshpush announce --dry-run a.js --to later2 --purpose p >/dev/null &&
	test "$(receiver_requests later2)" = 1
'

test_expect_success 'a receiver slower than the timeout: queued, named as a timeout' '
	start_receiver slow --delay-ms 3000 &&
	mesh_config slow="$slow_URL" &&
	test_expect_code 3 git -C repo meshpush -c mesh.timeout=1 -c mesh.retries=0 \
		announce a.js --to slow --purpose p 2>err &&
	test_grep "slow: no answer within 1 s (1 attempt)" err &&
	git -C repo meshpush outbox list >list &&
	test_grep "slow  " list
'

test_expect_success '401: names the agent and the token source, never the token; not retried; held' '
	mesh_config oracle="$oracle_URL" &&
	n=$(receiver_requests oracle) &&
	test_expect_code 3 env MESH_TOKEN_ORACLE=wrong-token-value git -C repo meshpush announce a.js --to oracle --purpose p >out 2>err &&
	test_grep "oracle: 401 unauthorized (token from env:MESH_TOKEN_ORACLE)" err &&
	test_grep -v wrong-token-value err &&
	test_grep -v wrong-token-value out &&
	test "$(receiver_requests oracle)" = $((n + 1)) &&
	git -C repo meshpush outbox list >list &&
	test_grep "held until .outbox flush." list &&
	git -C repo meshpush announce --dry-run a.js --to oracle --purpose p >/dev/null &&
	test "$(receiver_requests oracle)" = $((n + 1)) &&
	git -C repo meshpush outbox flush --agent oracle >out &&
	test_grep "delivered 1 announcement to oracle" out &&
	test "$(receiver_requests oracle)" = $((n + 2))
'

test_expect_success 'a token that cannot be read holds the delivery without sending' '
	n=$(receiver_requests oracle) &&
	test_expect_code 3 env -u MESH_TOKEN_ORACLE git -C repo meshpush announce a.js --to oracle --purpose p 2>err &&
	test_grep "token for agent .oracle. comes from .env:MESH_TOKEN_ORACLE., but that variable is not set" err &&
	test "$(receiver_requests oracle)" = "$n" &&
	git -C repo meshpush outbox flush --agent oracle &&
	test "$(receiver_requests oracle)" = $((n + 1))
'

test_expect_success 'a body over 256 KiB is refused before sending' '
	n=$(receiver_requests oracle) &&
	big=$(python3 -c "print(\"x\" * 100000)") &&
	test_expect_code 1 git -C repo meshpush announce "a$big.js" --to oracle --purpose "$big" --details "$big" 2>err &&
	test_grep "over the gateway.s limit of 256 KiB" err &&
	test "$(receiver_requests oracle)" = "$n" &&
	git -C repo meshpush outbox list >list &&
	test_grep -v "oracle  " list
'

test_expect_success '413 from the receiver: over its limit, not retried, not queued' '
	start_receiver small --max-bytes 1000 &&
	mesh_config small="$small_URL" &&
	purpose=$(python3 -c "print(\"y\" * 2000)") &&
	test_expect_code 3 git -C repo meshpush announce a.js --to small --purpose "$purpose" 2>err &&
	test_grep "small: 413 payload too large: the request (.* bytes) is over the receiver.s limit of 256 KiB" err &&
	test "$(receiver_requests small)" = 1 &&
	git -C repo meshpush outbox list >list &&
	test_grep -v "small  " list
'

test_expect_success 'two recipients, one down: one delivered, the other queued' '
	port=$(test_free_port) &&
	mesh_config oracle="$oracle_URL" gone="http://127.0.0.1:$port/hooks/agent" &&
	n=$(receiver_count oracle) &&
	test_expect_code 3 git -C repo meshpush -c mesh.retries=1 announce a.js --to oracle,gone --purpose p >out 2>err &&
	test_grep "to oracle$" out &&
	test_grep "gone: connection refused or unreachable (2 attempts)" err &&
	test "$(receiver_count oracle)" = $((n + 1)) &&
	git -C repo meshpush outbox list >list &&
	test_grep "gone  " list &&
	test_grep -v "oracle  " list
'

test_expect_success 'signed announcements: the receiver checks the HMAC' '
	printf "sign-key-4f3e2d1c\n" >"$XDG_CONFIG_HOME/meshpush/signing" &&
	chmod 600 "$XDG_CONFIG_HOME/meshpush/signing" &&
	start_receiver signed --signing-key sign-key-4f3e2d1c &&
	mesh_config signed="$signed_URL" &&
	git -C repo meshpush -c mesh.signing_key=file:$XDG_CONFIG_HOME/meshpush/signing announce a.js --to signed --purpose p &&
	test "$(receiver_get signed -1 signature)" = ok &&
	test "$(receiver_count signed)" = 1 &&
	test_expect_code 3 git -C repo meshpush announce a.js --to signed --purpose p 2>err &&
	test "$(receiver_get signed -1 signature)" = missing &&
	printf "other-key\n" >"$XDG_CONFIG_HOME/meshpush/signing" &&
	test_expect_code 3 git -C repo meshpush -c mesh.signing_key=file:$XDG_CONFIG_HOME/meshpush/signing announce a.js --to signed --purpose p 2>err &&
	test "$(receiver_get signed -1 signature)" = bad &&
	test_grep -v other-key err
'

test_expect_success 'https: the certificate is verified; [mesh] ca_file trusts a private CA' '
	openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=127.0.0.1 \
		-addext subjectAltName=IP:127.0.0.1 -keyout tls.key -out tls.crt 2>/dev/null &&
	start_receiver secure --tls-cert tls.crt --tls-key tls.key &&
	echo "secure = env:MESH_TOKEN_ORACLE" >>"$XDG_CONFIG_HOME/meshpush/config.ini" &&
	mesh_config secure="https://127.0.0.1:$secure_PORT/hooks/agent" &&
	test_expect_code 3 git -C repo meshpush announce a.js --to secure --purpose p 2>err &&
	test_grep "secure: TLS certificate verification failed .*: set \[mesh\] ca_file" err &&
	test "$(receiver_count secure)" = 0 &&
	git -C repo meshpush outbox list >list &&
	test_grep "held until" list &&
	git -C repo meshpush -c mesh.ca_file="$TRASH/tls.crt" outbox flush --agent secure >out &&
	test_grep "delivered 1 announcement to secure" out &&
	test "$(receiver_count secure)" = 1 &&
	test "$(receiver_get secure -1 headers.authorization)" = "Bearer $TOKEN" &&
	test_must_fail git -C repo meshpush -c mesh.ssl_verify=false config 2>/dev/null
'

test_expect_success 'the journal records each announcement and delivery' '
	test_grep "\"event\":\"announce\".*\"files\":\[\"shared/voltagent/health.js\"\]" repo/.git/meshpush/journal.jsonl &&
	test_grep "\"event\":\"delivery\".*\"agent\":\"oracle\",\"outcome\":\"delivered\",\"via\":\"send\",\"http\":200" repo/.git/meshpush/journal.jsonl &&
	test_grep "\"outcome\":\"queued\"" repo/.git/meshpush/journal.jsonl &&
	test_grep "\"outcome\":\"held\"" repo/.git/meshpush/journal.jsonl &&
	test_grep "\"outcome\":\"failed\"" repo/.git/meshpush/journal.jsonl
'

test_expect_success 'no token anywhere: outputs, journal, outbox files' '
	mesh_config oracle="$oracle_URL" bot="$bot_URL" &&
	{
		git -C repo meshpush announce a.js --purpose p &&
		git -C repo meshpush -c mesh.signing_key=file:$XDG_CONFIG_HOME/meshpush/signing announce a.js --purpose p
		MESH_TOKEN_ORACLE=wrong-token-value git -C repo meshpush announce a.js --purpose p
		git -C repo meshpush outbox list &&
		git -C repo meshpush outbox list --json &&
		git -C repo meshpush outbox flush
		git -C repo meshpush agents
		git -C repo meshpush config &&
		git -C repo meshpush log
	} >all.out 2>&1 &&
	test_grep "oracle: 401 unauthorized" all.out &&
	test_grep "token *env:MESH_TOKEN_ORACLE (resolves)" all.out &&
	! grep -r -l -e "$TOKEN" -e "$BOTTOKEN" -e sign-key-4f3e2d1c -e other-key -e wrong-token-value \
		all.out repo/.git/meshpush "$XDG_STATE_HOME" &&
	ls "$XDG_STATE_HOME/meshpush/outbox/"*.json >/dev/null
'

test_done
