#!/bin/sh
# The built-in demo mesh.  In a temporary directory: a central bare
# repository and two agents, "sandman" (who pushes) and "oracle" (who
# receives), each with its own HOME and its own agent gateway: a real HTTP
# receiver on 127.0.0.1 (tests/receiver.py) that records what it is sent.
# It shows a secret blocked, a push announced, a pull installed with a
# backup, verified and confirmed, a rollback, and the central repository
# refusing a secret pushed with --no-verify.  Only loopback is used;
# everything is removed at the end (KEEP_DEMO=1 keeps it).
set -eu
src=$(cd "$(dirname "$0")/.." && pwd)
demo=$(mktemp -d "${TMPDIR:-/tmp}/meshpush-demo.XXXXXX")
pids=
cleanup () {
	for p in $pids; do kill "$p" 2>/dev/null || :; done
	[ -n "${KEEP_DEMO:-}" ] || rm -rf "$demo"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

mkdir -p "$demo/bin"
ln -s "$src/git-meshpush" "$demo/bin/git-meshpush"
export PATH="$demo/bin:$PATH" GIT_CONFIG_NOSYSTEM=1 NO_COLOR=1
unset GIT_DIR GIT_WORK_TREE
for v in $(env | sed -n 's/^\(MESHPUSH_[A-Z_]*\)=.*/\1/p'); do unset "$v"; done

if [ -t 1 ]; then B=$(printf '\033[1m'); D=$(printf '\033[2m'); R=$(printf '\033[0m'); else B= D= R=; fi
step () { printf '\n%s== %s%s\n' "$B" "$*" "$R"; }
note () { printf '%s# %s%s\n' "$D" "$*" "$R"; }
# as AGENT CMD...: run CMD as that agent (its own HOME, config, state, git identity)
as () {
	a=$1; shift
	printf '%s[%s]%s $ %s\n' "$B" "$a" "$R" "$*"
	HOME="$demo/$a-home" XDG_CONFIG_HOME="$demo/$a-home/.config" XDG_STATE_HOME="$demo/$a-home/.local/state" \
	XDG_CACHE_HOME="$demo/$a-home/.cache" GIT_AUTHOR_NAME=$a GIT_AUTHOR_EMAIL=$a@mesh.invalid \
	GIT_COMMITTER_NAME=$a GIT_COMMITTER_EMAIL=$a@mesh.invalid "$@"
}
# expect_fail AGENT CMD...: CMD must be refused (exit 1..127)
expect_fail () {
	if as "$@"; then echo "demo: expected '$*' to be refused" >&2; exit 1; fi
}
# gateway NAME: start a recording agent gateway on loopback
gateway () {
	python3 "$src/tests/receiver.py" --port-file "$demo/$1.port" --log "$demo/$1.log" \
		--token "demo-token-for-$1" --dedupe >"$demo/$1.out" 2>&1 &
	pids="$pids $!"
	i=0; while [ ! -s "$demo/$1.port" ]; do i=$((i+1)); [ $i -lt 200 ] || { cat "$demo/$1.out"; exit 1; }; sleep 0.05; done
}
# heard NAME: what NAME's gateway received, message by message
heard () {
	python3 - "$demo/$1.log" "$1" <<'PY'
import json, sys
for line in open(sys.argv[1]):
    r = json.loads(line)
    if r.get("method") != "POST" or r.get("replay"): continue
    print("  --- %s's gateway received (HTTP %s, Idempotency-Key %s):" % (sys.argv[2], r["status"], r["headers"].get("idempotency-key")))
    for l in (r.get("body") or {}).get("message", "").splitlines(): print("  | " + l)
PY
}

verify=$(command -v node >/dev/null 2>&1 && echo 'node {} --help' || echo 'sh {} --help')
ext=$(command -v node >/dev/null 2>&1 && echo js || echo sh)
script () { # script VERSION: a small mesh tool that answers --help
	if [ "$ext" = js ]; then
		printf '#!/usr/bin/env node\n// health.js v%s: report gateway health\nconst token = process.env.GATEWAY_TOKEN;\nif (process.argv.includes("--help")) { console.log("health.js v%s: usage: health.js [--help]"); process.exit(0); }\nconsole.log("ok", Boolean(token));\n' "$1" "$1"
	else
		printf '#!/bin/sh\n# health.sh v%s: report gateway health\n[ "${1:-}" = --help ] && { echo "health.sh v%s: usage: health.sh [--help]"; exit 0; }\necho ok\n' "$1" "$1"
	fi
}

step "the mesh: a central repository, agents sandman and oracle, a gateway each (loopback)"
gateway sandman
gateway oracle
SANDMAN_PORT=$(cat "$demo/sandman.port")
ORACLE_PORT=$(cat "$demo/oracle.port")
git init -q --bare -b main "$demo/mesh-protocols.git"
for a in sandman oracle; do
	mkdir -p "$demo/$a-home/.config/meshpush"
	other=$([ $a = sandman ] && echo oracle || echo sandman)
	printf '[self]\nagent = %s\n[token]\n%s = env:DEMO_TOKEN_%s\n' "$a" "$other" "$(echo $other | tr a-z A-Z)" \
		>"$demo/$a-home/.config/meshpush/config.ini"
done
export DEMO_TOKEN_ORACLE=demo-token-for-oracle DEMO_TOKEN_SANDMAN=demo-token-for-sandman
note "each agent's ~/.config/meshpush/config.ini names itself and where its tokens come from (env:, never the token)"

step "sandman: git meshpush init writes a commented .meshpush.ini and installs the hooks"
as sandman git clone -q "$demo/mesh-protocols.git" "$demo/sandman" 2>/dev/null
cd "$demo/sandman"
as sandman git meshpush init
cat >.meshpush.ini <<INI
; the mesh's shared configuration (committed)
[mesh]
production = main
announce_failure = queue

[agent "sandman"]
webhook = http://127.0.0.1:$SANDMAN_PORT/hooks/agent

[agent "oracle"]
webhook = http://127.0.0.1:$ORACLE_PORT/hooks/agent

[install "voltagent"]
from = shared/voltagent
to = ~/workspace/voltagent
executable = *.js *.sh
verify = $verify
INI
mkdir -p shared/voltagent protocols scripts
cp "$src/docs/protocol.md" protocols/code-push-protocol.md
as sandman git add .meshpush.ini protocols
as sandman git commit -q -m "Start mesh-protocols: configuration and the protocol"
as sandman git push -q origin main 2>&1
as sandman git meshpush agents

step "the central repository refuses secrets even from pushes that skip the hooks"
as sandman git -C "$demo/mesh-protocols.git" meshpush hooks install --server

step "oracle: clones the mesh and installs its hooks (post-merge, post-rewrite, post-checkout install on pull)"
as oracle git clone -q "$demo/mesh-protocols.git" "$demo/oracle" 2>/dev/null
as oracle git -C "$demo/oracle" meshpush hooks install

step "PREPARE: a secret in a script is blocked at commit"
script 1 >shared/voltagent/health.$ext
printf 'const GITHUB_TOKEN = "ghp_%s";\n' "R8fJd2kLq9sVt3xYb7nWm4pZc6hGe1aUi0oT" >>shared/voltagent/health.$ext
as sandman git add shared/voltagent/health.$ext
expect_fail sandman git commit -q -m "Add health.$ext"
note "refused: the token never reached a commit; the fix is to read it from the environment"
script 1 >shared/voltagent/health.$ext
as sandman git reset -q

step "PREPARE → ANNOUNCE → PUSH: git meshpush push (scan, test, verify, commit with trailers, announce, git push)"
as sandman git meshpush push shared/voltagent/health.$ext --to oracle --purpose "Report gateway health"
heard oracle

step "VERIFY → CONFIRM on oracle: git pull installs with a backup, verifies, and confirms to sandman"
mkdir -p "$demo/oracle-home/workspace/voltagent"
as oracle git -C "$demo/oracle" pull -q --ff-only 2>&1
ls -l "$demo/oracle-home/workspace/voltagent"
heard sandman
as oracle git -C "$demo/oracle" meshpush status

step "a second version: the installed one is backed up before it is replaced"
script 2 >shared/voltagent/health.$ext
as sandman git meshpush push shared/voltagent/health.$ext --to oracle --purpose "health v2"
as oracle git -C "$demo/oracle" pull -q --ff-only 2>&1
head -2 "$demo/oracle-home/workspace/voltagent/health.$ext"
as oracle git -C "$demo/oracle" meshpush rollback --list

step "ROLLBACK: oracle restores the version before the last install (itself backed up, so it can be undone)"
as oracle git -C "$demo/oracle" meshpush rollback
head -2 "$demo/oracle-home/workspace/voltagent/health.$ext"

step "the central repository rejects a secret pushed with --no-verify"
printf 'SLACK_BOT_TOKEN=xoxb-%s\n' "2048193746501-2048193746502-Qw3rTy8uIoP5aSdF6gHjKl9Z" >scripts/notify.env
as sandman git add scripts/notify.env
as sandman git commit -q --no-verify -m "Add notify settings"
expect_fail sandman git push -q --no-verify origin main 2>&1

step "the audit journal (oracle)"
as oracle git -C "$demo/oracle" meshpush log

step "done: every message above went only to 127.0.0.1; $demo is removed (KEEP_DEMO=1 keeps it)"
