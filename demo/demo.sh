#!/bin/sh
# The built-in demo mesh: a throwaway central repository and two agents
# ("sandman" pushes, "oracle" receives) in a temporary directory, showing
# what git-meshpush does there.  Everything is removed at the end; only
# loopback is used.
set -eu
src=$(cd "$(dirname "$0")/.." && pwd)
demo=$(mktemp -d "${TMPDIR:-/tmp}/meshpush-demo.XXXXXX")
cleanup () { [ -n "${KEEP_DEMO:-}" ] || rm -rf "$demo"; }
trap cleanup EXIT
mkdir -p "$demo/bin" "$demo/home"
ln -s "$src/git-meshpush" "$demo/bin/git-meshpush"
export PATH="$demo/bin:$PATH" HOME="$demo/home" XDG_CONFIG_HOME="$demo/home/.config" \
	XDG_STATE_HOME="$demo/home/.local/state" XDG_CACHE_HOME="$demo/home/.cache" GIT_CONFIG_NOSYSTEM=1 \
	GIT_AUTHOR_NAME=sandman GIT_AUTHOR_EMAIL=sandman@mesh.invalid \
	GIT_COMMITTER_NAME=sandman GIT_COMMITTER_EMAIL=sandman@mesh.invalid
git config --global init.defaultBranch main
step () { printf '\n\033[1m== %s\033[0m\n' "$*"; }
run () { printf '$ %s\n' "$*"; "$@"; }

step "a central repository and two agents, sandman and oracle"
git init -q --bare "$demo/mesh-protocols.git"
git clone -q "$demo/mesh-protocols.git" "$demo/sandman" 2>/dev/null
cd "$demo/sandman"
mkdir -p shared/voltagent protocols scripts
echo "# mesh protocols" > README.md
git add README.md && git commit -qm "Start mesh-protocols" && git push -q origin main 2>/dev/null
git clone -q "$demo/mesh-protocols.git" "$demo/oracle" 2>/dev/null

step "sandman: git meshpush init writes .meshpush.ini and installs the hooks"
run git meshpush init || echo "(init is not available in this build yet)"
run git meshpush config --show-origin

if [ -f "$src/demo/more.sh" ]; then . "$src/demo/more.sh"; fi
step "done: the demo mesh in $demo is removed (KEEP_DEMO=1 keeps it)"
