# Test library for git-meshpush shell tests, after git's t/test-lib.sh.
#
#   . "$(dirname "$0")/lib.sh"
#   test_expect_success 'title' '
#           cmd1 &&
#           cmd2
#   '
#   test_done
#
# Each test file runs in its own trash directory with a throwaway HOME,
# XDG directories and git configuration, and prints TAP for prove.
# Services a test starts (receivers, sshd) are registered with
# test_cleanup_add and stopped at exit, whatever happens.

TEST_NAME=$(basename "$0" .sh)
SRC_DIR=$(cd "$(dirname "$0")/.." && pwd)
TEST_DIR="$SRC_DIR/tests"
MESHPUSH_BUILD=${MESHPUSH_BUILD:-build}

TRASH=$(mktemp -d "${TMPDIR:-/tmp}/meshpush-$TEST_NAME.XXXXXX") || exit 1
test_count=0
test_failed=0
test_cleanup_cmds=

test_cleanup_add () {
	test_cleanup_cmds="$1
$test_cleanup_cmds"
}

test_at_exit () {
	eval "$test_cleanup_cmds" >/dev/null 2>&1
	cd / && { test -n "$MESHPUSH_KEEP_TRASH" || rm -rf "$TRASH"; }
}
trap test_at_exit EXIT
trap 'exit 130' INT TERM

# The binary under test, on PATH as git-meshpush (so `git meshpush` works):
# $MESHPUSH_BIN when set (make asan: the sanitizer build), else the one at
# the top of the tree; under valgrind memcheck when MESHPUSH_VALGRIND is set
# (suppressions for third-party noise only: fuzz/valgrind.supp).
MESHPUSH_BIN=${MESHPUSH_BIN:-$SRC_DIR/git-meshpush}
mkdir -p "$TRASH/bin" "$TRASH/home" || exit 1
if test -n "$MESHPUSH_VALGRIND"; then
	cat >"$TRASH/bin/git-meshpush" <<VG
#!/bin/sh
exec valgrind -q --error-exitcode=126 --leak-check=full --errors-for-leak-kinds=definite \
	--show-leak-kinds=definite --suppressions="$SRC_DIR/fuzz/valgrind.supp" \
	"$MESHPUSH_BIN" "\$@"
VG
	chmod +x "$TRASH/bin/git-meshpush"
else
	ln -s "$MESHPUSH_BIN" "$TRASH/bin/git-meshpush"
fi
PATH="$TRASH/bin:$PATH"

HOME="$TRASH/home"
XDG_CONFIG_HOME="$HOME/.config"
XDG_STATE_HOME="$HOME/.local/state"
XDG_CACHE_HOME="$HOME/.cache"
GIT_CONFIG_NOSYSTEM=1
GIT_AUTHOR_NAME='A U Thor'
GIT_AUTHOR_EMAIL='author@example.com'
GIT_COMMITTER_NAME='C O Mitter'
GIT_COMMITTER_EMAIL='committer@example.com'
GIT_DEFAULT_BRANCH=main
NO_COLOR=1
LC_ALL=C.UTF-8
export HOME XDG_CONFIG_HOME XDG_STATE_HOME XDG_CACHE_HOME GIT_CONFIG_NOSYSTEM PATH \
	GIT_AUTHOR_NAME GIT_AUTHOR_EMAIL GIT_COMMITTER_NAME GIT_COMMITTER_EMAIL NO_COLOR LC_ALL
unset GIT_DIR GIT_WORK_TREE GIT_INDEX_FILE GIT_OBJECT_DIRECTORY GIT_ALTERNATE_OBJECT_DIRECTORIES
for v in $(env | sed -n 's/^\(MESHPUSH_[A-Z_]*\)=.*/\1/p'); do
	case "$v" in MESHPUSH_BUILD|MESHPUSH_BIN|MESHPUSH_VALGRIND|MESHPUSH_KEEP_TRASH) ;; *) unset "$v" ;; esac
done
git config --global init.defaultBranch main
git config --global advice.detachedHead false
git config --global protocol.file.allow always
cd "$TRASH" || exit 1

say () { printf '# %s\n' "$*"; }

# The body runs in a function so that `|| return 1` ends the body only.
test_eval_ () {
	eval "$1"
}

test_expect_success () {
	test_count=$((test_count + 1))
	test_title=$1
	(cd "$TRASH" 2>/dev/null; true)
	test_here=$(pwd)
	test_out="$TRASH/.test-output"
	test_eval_ "$2" >"$test_out" 2>&1 </dev/null
	test_rc=$?
	cd "$test_here" || cd "$TRASH"
	if test $test_rc = 0; then
		printf 'ok %d - %s\n' "$test_count" "$test_title"
	else
		test_failed=$((test_failed + 1))
		printf 'not ok %d - %s\n' "$test_count" "$test_title"
		sed -e 's/^/#   /' "$test_out" | tail -n 60
		printf '#   (test body)\n'
		printf '%s\n' "$2" | sed -e 's/^/#   /'
	fi
}

test_skip () {
	test_count=$((test_count + 1))
	printf 'ok %d # skip %s (%s)\n' "$test_count" "$1" "$2"
}

test_skip_all () {
	printf '1..0 # SKIP %s\n' "$1"
	exit 0
}

test_done () {
	printf '1..%d\n' "$test_count"
	test "$test_failed" = 0
	exit $?
}

# test_must_fail CMD...: CMD fails with an ordinary error (not a crash or signal).
test_must_fail () {
	"$@"
	rc=$?
	if test $rc = 0; then
		echo "test_must_fail: '$*' succeeded" >&2
		return 1
	elif test $rc -gt 128 && test $rc != 128; then
		echo "test_must_fail: '$*' died with $rc" >&2
		return 1
	fi
	return 0
}

# test_expect_code N CMD...: CMD exits with exactly N.
test_expect_code () {
	want=$1
	shift
	"$@"
	rc=$?
	test $rc = "$want" && return 0
	echo "test_expect_code: '$*' exited $rc, wanted $want" >&2
	return 1
}

# test_cmp EXPECTED ACTUAL
test_cmp () {
	diff -u "$1" "$2"
}

# test_grep [-v] PATTERN FILE: like grep, showing the file when it fails.
test_grep () {
	if test "$1" = -v; then
		shift
		! grep -e "$1" "$2" && return 0
		echo "test_grep: '$1' found in $2:" >&2
	else
		grep -e "$@" >/dev/null && return 0
		echo "test_grep: '$1' not found in $2:" >&2
	fi
	sed 's/^/| /' "$2" >&2
	return 1
}

# test_commit [-C DIR] MESSAGE [FILE [CONTENT]]: write FILE and commit it.
test_commit () {
	dir=.
	if test "$1" = -C; then dir=$2; shift 2; fi
	file=${2:-$1.t}
	mkdir -p "$dir/$(dirname "$file")" &&
	printf '%s\n' "${3:-$1}" >"$dir/$file" &&
	git -C "$dir" add -- "$file" &&
	git -C "$dir" commit -q -m "$1"
}

# A free TCP port on 127.0.0.1.
test_free_port () {
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

# A bare "central" repository and a clone of it: test_mesh_repo NAME
# makes $TRASH/NAME.git and $TRASH/NAME with one commit on main.
test_mesh_repo () {
	git init -q --bare "$TRASH/$1.git" &&
	git clone -q "$TRASH/$1.git" "$TRASH/$1" 2>/dev/null &&
	test_commit -C "$TRASH/$1" initial README.md "mesh protocols" &&
	git -C "$TRASH/$1" push -q origin main
}

# --- Loopback agent gateways (tests/receiver.py) ------------------------
#
# start_receiver NAME [receiver.py options]: start a recording gateway on
# 127.0.0.1 (stopped at exit); sets ${NAME}_PORT, ${NAME}_LOG (its JSON
# lines log, emptied at each start) and ${NAME}_URL
# (http://127.0.0.1:PORT/hooks/agent).  To simulate an agent that is down
# and comes back: port=$(test_free_port), configure that port, and later
# start_receiver NAME --port "$port".
# Options: --token T, --script "500,200", --delay-ms N, --retry-after S,
# --signing-key K, --dedupe, --max-bytes N, --port P, --tls-cert F
# --tls-key K (https; ${NAME}_URL then still says http://) (see receiver.py).
start_receiver () {
	rcv_name=$1
	shift
	rm -f "$TRASH/$rcv_name.port"
	: >"$TRASH/$rcv_name.log"
	python3 "$TEST_DIR/receiver.py" --port-file "$TRASH/$rcv_name.port" \
		--log "$TRASH/$rcv_name.log" "$@" >"$TRASH/$rcv_name.out" 2>&1 &
	rcv_pid=$!
	eval "${rcv_name}_PID=$rcv_pid"
	test_cleanup_add "kill $rcv_pid"
	rcv_i=0
	while ! test -s "$TRASH/$rcv_name.port"; do
		rcv_i=$((rcv_i + 1))
		if test $rcv_i -gt 200 || ! kill -0 $rcv_pid 2>/dev/null; then
			echo "start_receiver: $rcv_name did not start:" >&2
			cat "$TRASH/$rcv_name.out" >&2
			return 1
		fi
		sleep 0.05
	done
	rcv_port=$(cat "$TRASH/$rcv_name.port")
	eval "${rcv_name}_PORT=$rcv_port"
	eval "${rcv_name}_LOG=\"\$TRASH/$rcv_name.log\""
	eval "${rcv_name}_URL=http://127.0.0.1:$rcv_port/hooks/agent"
}

# stop_receiver NAME: stop it now (its port then refuses connections).
stop_receiver () {
	eval "rcv_pid=\$${1}_PID"
	kill "$rcv_pid" 2>/dev/null
	wait "$rcv_pid" 2>/dev/null
	return 0
}

# receiver_count NAME: deliveries it accepted (POST answered 2xx, replays not counted).
receiver_count () {
	python3 "$TEST_DIR/receiver.py" --log "$TRASH/$1.log" --count
}

# receiver_requests NAME: every request it saw (deliveries, refusals, replays, probes).
receiver_requests () {
	wc -l <"$TRASH/$1.log" | tr -d ' '
}

# receiver_get NAME INDEX KEY[.KEY...]: a field of request INDEX (0-based,
# negative from the end), e.g. receiver_get oracle -1 body.message
receiver_get () {
	python3 "$TEST_DIR/receiver.py" --log "$TRASH/$1.log" --get "$2" "$3"
}
