#!/bin/sh
# Configuration: layers, errors naming file and line, tokens.
. "$(dirname "$0")/lib.sh"

test_expect_success 'setup' '
	git init -q repo &&
	mkdir -p "$XDG_CONFIG_HOME/meshpush"
'

test_expect_success 'layers: defaults < .meshpush.ini < user file < MESHPUSH_* < -c' '
	printf "[mesh]\nretries = 4\ntimeout = 4\nconnect_timeout = 4\nproduction = repo\n" >repo/.meshpush.ini &&
	printf "[mesh]\ntimeout = 5\nconnect_timeout = 5\nproduction = user\n" >"$XDG_CONFIG_HOME/meshpush/config.ini" &&
	MESHPUSH_MESH_CONNECT_TIMEOUT=6 MESHPUSH_MESH_PRODUCTION=env \
		git -C repo meshpush -c mesh.production=flag config >out &&
	test_grep "^mesh.retries = 4$" out &&
	test_grep "^mesh.timeout = 5$" out &&
	test_grep "^mesh.connect_timeout = 6$" out &&
	test_grep "^mesh.production = flag$" out &&
	git -C repo meshpush config mesh.test_timeout >out &&
	echo 300 >expect &&
	test_cmp expect out
'

test_expect_success '--show-origin names file and line' '
	git -C repo meshpush config --show-origin >out &&
	test_grep "\.meshpush.ini:2 *mesh.retries = 4" out &&
	test_grep "config.ini:2 *mesh.timeout = 5" out
'

test_expect_success 'malformed INI: the error names file and line, exit 2' '
	printf "[mesh]\nproduction = main\n[agent \"oracle\"\nhost = 127.0.0.1\n" >repo/.meshpush.ini &&
	test_expect_code 2 git -C repo meshpush config 2>err &&
	test_grep "\.meshpush.ini:3: " err
'

test_expect_success 'an unknown key is reported with file and line' '
	printf "[mesh]\nproduction = main\nanounce_failure = block\n" >repo/.meshpush.ini &&
	test_expect_code 2 git -C repo meshpush config 2>err &&
	test_grep "\.meshpush.ini:3: unknown key '"'"'anounce_failure'"'"'" err
'

test_expect_success 'a token in the committed .meshpush.ini is refused' '
	printf "[token]\noracle = env:MESH_TOKEN_ORACLE\n" >repo/.meshpush.ini &&
	test_expect_code 2 git -C repo meshpush config 2>err &&
	test_grep "must not be in the committed file" err &&
	rm repo/.meshpush.ini
'

test_expect_success 'a token file readable by others is refused with how to fix it' '
	mkdir -p "$XDG_CONFIG_HOME/meshpush/tokens" &&
	printf "tok-0123456789abcdef\n" >"$XDG_CONFIG_HOME/meshpush/tokens/oracle" &&
	chmod 644 "$XDG_CONFIG_HOME/meshpush/tokens/oracle" &&
	printf "[self]\nagent = sandman\n[token]\noracle = file:~/.config/meshpush/tokens/oracle\n" \
		>"$XDG_CONFIG_HOME/meshpush/config.ini" &&
	git -C repo meshpush config >out 2>&1 &&
	test_grep "does not resolve: .*chmod 600" out &&
	test_grep -v "tok-0123456789abcdef" out &&
	chmod 600 "$XDG_CONFIG_HOME/meshpush/tokens/oracle" &&
	git -C repo meshpush config >out &&
	test_grep "token.oracle = file:~/.config/meshpush/tokens/oracle  (resolves)" out &&
	test_grep -v "tok-0123456789abcdef" out
'

test_expect_success 'a literal token in the user file is refused without echoing it' '
	printf "[token]\noracle = tok-literal-0123456789\n" >"$XDG_CONFIG_HOME/meshpush/config.ini" &&
	test_expect_code 2 git -C repo meshpush config 2>err &&
	test_grep "env:NAME or file:PATH" err &&
	test_grep -v "tok-literal" err &&
	rm "$XDG_CONFIG_HOME/meshpush/config.ini"
'

test_expect_success 'a bad -c override is a usage error' '
	test_expect_code 2 git -C repo meshpush -c nodot config 2>err &&
	test_grep "expected section.key=value" err &&
	test_expect_code 2 git -C repo meshpush -c mesh.retries=many config 2>err &&
	test_grep "whole number" err
'

test_expect_success 'a -c override holding a secret is refused without echoing it' '
	test_expect_code 2 git -C repo meshpush -c token.oracle=tok-cmdline-0123456789 config 2>err &&
	test_grep "token.oracle" err &&
	test_grep "env:NAME or file:PATH" err &&
	test_grep -v "tok-cmdline" err &&
	test_expect_code 2 git -C repo meshpush -c mesh.retries=tok-cmdline-0123456789 config 2>err &&
	test_grep "whole number" err &&
	test_expect_code 2 git -C repo meshpush -c tok-cmdline-0123456789 config 2>err &&
	test_grep "expected section.key=value" err &&
	test_grep -v "tok-cmdline" err
'

test_expect_success 'a token source continued on an indented line is refused without echoing it' '
	printf "[token]\noracle = env:MESH_TOKEN_ORACLE\n  tok-continued-0123456789\n" \
		>"$XDG_CONFIG_HOME/meshpush/config.ini" &&
	test_expect_code 2 git -C repo meshpush config 2>err &&
	test_grep "config.ini:3: " err &&
	test_grep -v "tok-continued" err &&
	rm "$XDG_CONFIG_HOME/meshpush/config.ini"
'

test_expect_success 'config masks the credentials of a URL' '
	mkdir -p url-config/meshpush &&
	printf "[agent \"oracle\"]\nwebhook = http://mesh:tok-url-0123456789@127.0.0.1:1/hooks/agent\n" \
		>url-config/meshpush/config.ini &&
	XDG_CONFIG_HOME=$PWD/url-config git -C repo meshpush config >out &&
	test_grep "^agent.oracle.webhook = http://\*\*\*@127.0.0.1:1/hooks/agent$" out &&
	XDG_CONFIG_HOME=$PWD/url-config git -C repo meshpush config agent.oracle.webhook >out &&
	test_grep -v "tok-url" out
'

test_expect_success 'a bare repository reads .meshpush.ini from HEAD' '
	git init -q src &&
	printf "[mesh]\nproduction = trunk\n" >src/.meshpush.ini &&
	git -C src add .meshpush.ini && git -C src commit -qm cfg &&
	git clone -q --bare src bare.git &&
	git -C bare.git meshpush config --show-origin >out &&
	test_grep "HEAD:.meshpush.ini:2 *mesh.production = trunk" out
'

test_expect_success 'the journal is JSON lines read by log, and survives a torn line' '
	git -C repo meshpush log >out &&
	test_must_fail test -s out &&
	mkdir -p repo/.git/meshpush &&
	printf "{\"time\":\"2026-11-26T10:00:00Z\",\"event\":\"install\",\"files\":2}\n{\"time\":\"2026-11-2" \
		>repo/.git/meshpush/journal.jsonl &&
	git -C repo meshpush log >out 2>err &&
	test_grep "^2026-11-26T10:00:00Z  install      files=2$" out &&
	test_grep "skipped 1 damaged line" err &&
	git -C repo meshpush log --json >out &&
	test_grep "^{\"time\":\"2026-11-26T10:00:00Z\",\"event\":\"install\",\"files\":2}$" out
'

test_expect_success 'log -n N shows the last N events (of --event EVENT)' '
	for i in 1 2 3 4 5; do
		ev=install && test $i = 4 && ev=announce
		echo "{\"time\":\"2026-11-26T10:00:0${i}Z\",\"event\":\"$ev\",\"n\":$i}" || return 1
	done >repo/.git/meshpush/journal.jsonl &&
	git -C repo meshpush log -n 2 >out &&
	printf "%s\n" "2026-11-26T10:00:04Z  announce     n=4" "2026-11-26T10:00:05Z  install      n=5" >expect &&
	test_cmp expect out &&
	git -C repo meshpush log -n 3 --event install >out &&
	printf "%s\n" "2026-11-26T10:00:02Z  install      n=2" "2026-11-26T10:00:03Z  install      n=3" \
		"2026-11-26T10:00:05Z  install      n=5" >expect &&
	test_cmp expect out &&
	git -C repo meshpush log -n 9 >out &&
	test $(wc -l <out) = 5
'

test_expect_success 'log shows control characters of journaled text escaped, never raw' '
	python3 -c "import json, sys; print(json.dumps({\"time\": \"2026-11-26T10:00:00Z\", \"event\": \"announce\", \"purpose\": \"a\\x1b[2Jb\\nc\"}))" \
		>repo/.git/meshpush/journal.jsonl &&
	git -C repo meshpush log >out &&
	test_must_fail grep -q "$(printf "\033")" out &&
	test $(wc -l <out) = 1 &&
	test_grep "purpose=\"a\\\\033\[2Jb\\\\nc\"$" out
'

test_done
