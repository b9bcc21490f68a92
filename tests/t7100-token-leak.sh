#!/bin/sh
# Secrets (issue 8): run every command with known tokens configured (an
# env: source, a file: source, and a signing key) and check that no token
# shows up anywhere it must not: standard output and error, the journal,
# the outbox, backups and manifests (names and contents), commits, the
# announcements' bodies, and the argument lists (and, for git, the
# environment) of every process the commands spawn.
#
# How the children are watched:
#  - a `git` wrapper first in PATH records each call's argv, its parent's
#    /proc cmdline and its environment (less the two variables the user
#    set the secrets in), then runs the real git;
#  - the verify and test commands are a script recording its argv and its
#    parent's /proc cmdline;
#  - a background loop snapshots every process's argv (ps) while the
#    commands run.
# The positive control: the gateway did receive the token as the bearer.
. "$(dirname "$0")/lib.sh"
. "$TEST_DIR/sshd.sh"

# Secrets that look like what they are; none may leak.
TOKEN=gwtok-7f3a9c1e5b2d4a6f8e0c1a2b3c4d5e6fLEAKCHECK1
TOKEN2=gwtok-0b9c8d7e6f5a4b3c2d1e0f9a8b7c6d5eLEAKCHECK2
SIGNKEY=sigkey-5e4d3c2b1a0f9e8d7c6b5a4f3e2d1c0bLEAKCHECK3
MESH_TOKEN_ORACLE=$TOKEN
MESH_SIGNING_KEY=$SIGNKEY
export MESH_TOKEN_ORACLE MESH_SIGNING_KEY
REAL_GIT=$(command -v git)
SPY="$TRASH/spy"
OUT="$TRASH/out"

test_must_be_empty () {
	test -s "$1" || return 0
	echo "test_must_be_empty: $1 is not empty:" >&2
	sed "s/^/| /" "$1" >&2
	return 1
}

# run NAME CMD...: run CMD with its stdout and stderr kept in $OUT/NAME.{out,err};
# its exit code is kept in $OUT/NAME.rc (any code is fine here: only leaks matter).
run () {
	run_name=$1
	shift
	"$@" >"$OUT/$run_name.out" 2>"$OUT/$run_name.err"
	echo $? >"$OUT/$run_name.rc"
	return 0
}

# start_ps_snapshots: every process's argv into $SPY/ps.log, until $SPY goes
start_ps_snapshots () {
	(
		while test -d "$SPY"; do
			ps -eo pid=,ppid=,args= >>"$SPY/ps.log" 2>/dev/null
			sleep 0.02
		done
	) </dev/null >/dev/null 2>&1 &
	echo $! >"$TRASH/ps.pid"
}

test_expect_success 'setup: secrets, spies, a gateway, a mesh repository' '
	mkdir -p "$SPY" "$OUT" "$TRASH/spybin" "$XDG_CONFIG_HOME/meshpush/tokens" &&
	printf "%s\n" "$TOKEN" "$TOKEN2" "$SIGNKEY" >"$TRASH/secrets.pat" &&
	printf "%s\n" "$TOKEN2" >"$XDG_CONFIG_HOME/meshpush/tokens/peer" &&
	chmod 600 "$XDG_CONFIG_HOME/meshpush/tokens/peer" &&

	cat >"$TRASH/spybin/git" <<-EOF &&
	#!/bin/sh
	{
		printf "argv:"; for a in "\$@"; do printf " [%s]" "\$a"; done; echo
		printf "parent:"; tr "\\\\000" " " </proc/\$PPID/cmdline; echo
		printf "env: "; env | grep -v "^MESH_TOKEN_ORACLE=" | grep -v "^MESH_SIGNING_KEY=" | tr "\\\\n" " "; echo
	} >>"$SPY/git.log"
	exec "$REAL_GIT" "\$@"
	EOF
	chmod +x "$TRASH/spybin/git" &&
	cat >"$TRASH/spy.sh" <<-EOF &&
	#!/bin/sh
	{
		printf "argv:"; for a in "\$@"; do printf " [%s]" "\$a"; done; echo
		printf "parent:"; tr "\\\\000" " " </proc/\$PPID/cmdline; echo
	} >>"$SPY/child.log"
	exit 0
	EOF
	chmod +x "$TRASH/spy.sh" &&

	sshd_client_key &&
	if test_have_sshd && start_sshd main; then
		echo "$SSHD_KNOWN" >>"$HOME/.ssh/known_hosts" &&
		mkdir -p "$TRASH/remote" &&
		ssh_line="ssh = $SSHD_USER@127.0.0.1" && port_line="ssh_port = $SSHD_PORT"
	else
		ssh_line="ssh = root@127.0.0.1" && port_line="ssh_port = 1"
	fi &&
	start_receiver oracle &&
	start_receiver peer &&
	start_receiver strict --token not-the-configured-one &&

	test_mesh_repo mesh &&
	cat >mesh/.meshpush.ini <<-EOF &&
	[mesh]
	production = main
	test = $TRASH/spy.sh test
	[agent "oracle"]
	webhook = $oracle_URL
	$ssh_line
	$port_line
	dest = $TRASH/remote/
	[agent "peer"]
	webhook = $peer_URL
	[agent "strict"]
	webhook = $strict_URL
	[install "voltagent"]
	from = shared/voltagent
	to = ~/workspace/voltagent
	executable = *.sh
	verify = $TRASH/spy.sh verify {}
	EOF
	cat >"$XDG_CONFIG_HOME/meshpush/config.ini" <<-EOF &&
	[self]
	agent = sandman
	[token]
	oracle = env:MESH_TOKEN_ORACLE
	peer = file:~/.config/meshpush/tokens/peer
	strict = env:MESH_TOKEN_ORACLE
	[mesh]
	signing_key = env:MESH_SIGNING_KEY
	EOF
	mkdir -p mesh/shared/voltagent &&
	printf "#!/bin/sh\necho hello\n" >mesh/shared/voltagent/hello.sh &&
	git -C mesh add .meshpush.ini shared &&
	git -C mesh commit -q -m "mesh configuration and a first script" &&
	git -C mesh push -q origin main &&
	git clone -q mesh.git agent2 &&

	# from here on, every git call goes through the spy, and ps snapshots run
	PATH="$TRASH/spybin:$PATH" &&
	start_ps_snapshots
'
PATH="$TRASH/spybin:$PATH"
test_cleanup_add "kill $(cat "$TRASH/ps.pid" 2>/dev/null || echo 0)"

test_expect_success 'configuration and mesh commands' '
	cd mesh &&
	run config git meshpush config &&
	run config-origin git meshpush config --show-origin &&
	run config-keys git meshpush config --keys &&
	run agents git meshpush agents &&
	run status git meshpush status &&
	run log git meshpush log &&
	run log-json git meshpush log --json &&
	run init git meshpush init &&
	run hooks-install git meshpush hooks install &&
	run hooks-status git meshpush hooks status
'

test_expect_success 'scan, and the hooks run by hand' '
	cd mesh &&
	mkdir -p "$TRASH/secretsrc" &&
	printf "curl -H \"Authorization: Bearer %s\" %s\n" "$TOKEN" "$oracle_URL" >"$TRASH/secretsrc/deploy.sh" &&
	run scan-file git meshpush scan "$TRASH/secretsrc/deploy.sh" &&
	run scan-json git meshpush scan --format json "$TRASH/secretsrc/deploy.sh" &&
	run scan-sarif git meshpush scan --format sarif "$TRASH/secretsrc/deploy.sh" &&
	run scan-stdin git meshpush scan --stdin <"$TRASH/secretsrc/deploy.sh" &&
	run scan-all git meshpush scan --all &&
	run scan-staged git meshpush scan --staged &&
	run hook-pre-commit git meshpush hook pre-commit &&
	head=$(git rev-parse HEAD) &&
	printf "refs/heads/main %s refs/heads/main %s\n" "$head" "$(git rev-parse HEAD~1)" |
		run hook-pre-push git meshpush hook pre-push origin "$TRASH/mesh.git"
'

test_expect_success 'a production push through git (hooks installed): test command, announcement' '
	cd mesh &&
	printf "#!/bin/sh\necho two\n" >shared/voltagent/two.sh &&
	git add shared/voltagent/two.sh &&
	git commit -q -m "Add two.sh" &&
	run git-push git push origin main
'

test_expect_success 'git meshpush push, each method' '
	cd mesh &&
	printf "#!/bin/sh\necho three\n" >"$TRASH/three.sh" &&
	run push-git git meshpush push "$TRASH/three.sh" --to oracle --purpose "leak check" --method git &&
	run push-git-dry git meshpush push "$TRASH/three.sh" --to oracle,peer --purpose "leak check" --method git --dry-run &&
	run push-webhook git meshpush push "$TRASH/three.sh" --to oracle,peer --purpose "leak check" --method webhook &&
	run push-scp-dry git meshpush push "$TRASH/three.sh" --to oracle --purpose "leak check" --method scp --dry-run &&
	run push-scp git meshpush push "$TRASH/three.sh" --to oracle --purpose "leak check" --method scp
'

test_expect_success 'announce, queued while the gateway is down, then flushed' '
	cd mesh &&
	run announce git meshpush announce --to oracle,peer --purpose "leak check" shared/voltagent/hello.sh &&
	stop_receiver oracle &&
	run announce-down git meshpush announce --to oracle --purpose "queued" shared/voltagent/hello.sh &&
	run outbox-list git meshpush outbox list &&
	start_receiver oracle --port "$oracle_PORT" &&
	run outbox-flush git meshpush outbox flush &&
	run outbox-list-after git meshpush outbox list
'

test_expect_success 'errors about tokens name the source, never the token' '
	cd mesh &&
	run announce-401 git meshpush announce --to strict --purpose "refused" shared/voltagent/hello.sh &&
	test_grep "strict" "$OUT/announce-401.err" &&
	test_grep "env:MESH_TOKEN_ORACLE\|MESH_TOKEN_ORACLE" "$OUT/announce-401.err" &&
	run outbox-flush-401 git meshpush outbox flush &&
	cp "$XDG_CONFIG_HOME/meshpush/tokens/peer" "$TRASH/peer-open" &&
	chmod 644 "$TRASH/peer-open" &&
	run token-644 git meshpush -c "token.peer=file:$TRASH/peer-open" announce --to peer --purpose "x" shared/voltagent/hello.sh &&
	test_grep "chmod 600" "$OUT/token-644.err" &&
	rm -f "$TRASH/peer-open" &&
	# a token written in place of its source (kept under secretsrc/, which the final check skips)
	mkdir -p "$TRASH/secretsrc/cfg/meshpush" &&
	sed "s|^peer = .*|peer = $TOKEN2|" "$XDG_CONFIG_HOME/meshpush/config.ini" >"$TRASH/secretsrc/cfg/meshpush/config.ini" &&
	XDG_CONFIG_HOME="$TRASH/secretsrc/cfg" run token-literal git meshpush agents &&
	test "$(cat "$OUT/token-literal.rc")" = 2 &&
	test_grep "never the secret itself" "$OUT/token-literal.err"
'

test_expect_success 'the receiving side: pull, install, status, rollback, remove' '
	cd agent2 &&
	run a2-hooks git meshpush hooks install &&
	run a2-pull git pull -q &&
	run a2-install git meshpush install &&
	run a2-status git meshpush status &&
	run a2-rollback-list git meshpush rollback --list &&
	run a2-remove git meshpush rollback --remove "$HOME/workspace/voltagent/hello.sh" &&
	run a2-rollback git meshpush rollback &&
	run a2-install-again git meshpush install --force &&
	run a2-log git meshpush log &&
	run a2-outbox git meshpush outbox list
'

test_expect_success 'a webhook pinned in the user configuration wins over a committed one' '
	start_receiver elsewhere &&
	cd mesh &&
	cp .meshpush.ini "$TRASH/ini.orig" &&
	sed "s|^webhook = $oracle_URL\$|webhook = $elsewhere_URL|" "$TRASH/ini.orig" >.meshpush.ini &&
	test_grep "$elsewhere_URL" .meshpush.ini &&
	cp "$XDG_CONFIG_HOME/meshpush/config.ini" "$TRASH/user.orig" &&
	printf "[agent \"oracle\"]\nwebhook = %s\n" "$oracle_URL" >>"$XDG_CONFIG_HOME/meshpush/config.ini" &&
	run pinned git meshpush announce --to oracle --purpose "pinned" shared/voltagent/hello.sh &&
	cp "$TRASH/ini.orig" .meshpush.ini &&
	cp "$TRASH/user.orig" "$XDG_CONFIG_HOME/meshpush/config.ini" &&
	test "$(receiver_requests elsewhere)" = 0 &&
	test_grep "pinned" "$oracle_LOG"
'

test_expect_success 'stop watching' '
	rm -rf "$SPY.done" && mv "$SPY" "$SPY.done" &&
	{ kill $(cat "$TRASH/ps.pid") 2>/dev/null; sleep 0.1; } &&
	test -s "$SPY.done/ps.log" &&
	test -s "$SPY.done/git.log"
'

test_expect_success 'the gateways did get the tokens as bearer (positive control)' '
	grep -F -e "Bearer $TOKEN" "$oracle_LOG" >/dev/null &&
	grep -F -e "Bearer $TOKEN2" "$peer_LOG" >/dev/null
'

test_expect_success 'the git spy saw git push, and the child spy saw verify and test' '
	test_grep "argv: \[push\]" "$SPY.done/git.log" ||
	test_grep "argv:.*\[push\]" "$SPY.done/git.log" &&
	test_grep "^argv: \[verify\]" "$SPY.done/child.log" &&
	test_grep "^argv: \[test\]" "$SPY.done/child.log"
'

test_expect_success 'no secret in any output, file or file name, spies and ps snapshots included' '
	find "$TRASH" | grep -F -f "$TRASH/secrets.pat" >leaked-names;
	test_must_be_empty leaked-names &&
	grep -rlF -f "$TRASH/secrets.pat" "$TRASH" |
		grep -v -x -F -e "$TRASH/secrets.pat" -e "$XDG_CONFIG_HOME/meshpush/tokens/peer" \
			-e "$oracle_LOG" -e "$peer_LOG" -e "$strict_LOG" -e "$elsewhere_LOG" |
		grep -v "^$TRASH/secretsrc/" >leaked-in || true
	test_must_be_empty leaked-in
'

test_expect_success 'no secret in what the gateways received, besides the Authorization header' '
	for log in "$oracle_LOG" "$peer_LOG" "$strict_LOG"; do
		python3 -c "
import json, sys
for line in open(sys.argv[1]):
    e = json.loads(line)
    e.get(\"headers\", {}).pop(\"authorization\", None)
    print(json.dumps(e))
" "$log" || return 1
	done >received &&
	test -s received &&
	! grep -F -f "$TRASH/secrets.pat" received
'

test_expect_success 'no secret in any commit of the repositories' '
	for r in mesh agent2 mesh.git; do
		"$REAL_GIT" -C "$r" log --all -p --format=%B || return 1
	done >history &&
	! grep -F -f "$TRASH/secrets.pat" history
'

test_done
