#!/bin/sh
# Faults (issue 8): a journal cut short mid-line, a full disk during an
# install, a gateway that never answers or answers garbage, a manifest cut
# short, a lock left by a killed process.  Each must end with nothing lost
# and a clear message.
. "$(dirname "$0")/lib.sh"

test_expect_success 'setup: a repository with a journal cut short mid-line' '
	git init -q repo &&
	mkdir -p repo/.git/meshpush &&
	printf "%s\n%s" \
		"{\"time\":\"2026-11-26T13:00:00Z\",\"event\":\"install\",\"id\":\"one\"}" \
		"{\"time\":\"2026-11-26T13:00:01Z\",\"event\":\"announce\",\"id\":\"tw" \
		>repo/.git/meshpush/journal.jsonl
'

test_expect_success 'log shows the whole events and says a line was damaged' '
	git -C repo meshpush log >out 2>err &&
	cat >expect <<-\EOF &&
	2026-11-26T13:00:00Z  install      id=one
	EOF
	test_cmp expect out &&
	test_grep "skipped 1 damaged line(s) of the journal" err
'

test_expect_success 'log --json shows only whole events' '
	git -C repo meshpush log --json >out 2>err &&
	echo "{\"time\":\"2026-11-26T13:00:00Z\",\"event\":\"install\",\"id\":\"one\"}" >expect &&
	test_cmp expect out
'

test_expect_success 'a line without time or event is shown with "-", never "(null)"' '
	printf "%s\n" "{\"id\":\"bare\"}" "{\"time\":5,\"event\":[1]}" >repo/.git/meshpush/journal.jsonl &&
	git -C repo meshpush log >out 2>err &&
	test_grep -v "(null)" out &&
	test_grep "^-  -  *id=bare" out
'

# --- A full disk during an install ------------------------------------------
#
# Real small file systems: a tmpfs mounted by the test (root only; skipped
# elsewhere).  The target folder's file system fills up in one case, the
# backups' in the other.  Every target file must be its old or its new
# content, never cut short; a file is never replaced without its backup; the
# message says what failed and why; once there is room, the next install
# completes.

# small_fs DIR SIZE: mount a tmpfs of SIZE on DIR (unmounted at exit)
small_fs () {
	mkdir -p "$1" &&
	mount -t tmpfs -o "size=$2,mode=0700" tmpfs "$1" 2>/dev/null &&
	test_cleanup_add "umount -l '$1'"
}

# random_text FILE BYTES: BYTES of random base64 text
random_text () {
	head -c $(($2 * 3 / 4)) /dev/urandom | base64 >"$1"
}

# publish MESSAGE: commit everything in pub and push it
publish () {
	git -C pub add -A && git -C pub commit -q -m "$1" && git -C pub push -q origin main
}

# each_old_or_new DIR OLD NEW FILE...: every FILE in DIR is the same as in OLD or in NEW
each_old_or_new () {
	eo_dir=$1 eo_old=$2 eo_new=$3
	shift 3
	for f in "$@"; do
		if test -e "$eo_dir/$f"; then
			cmp -s "$eo_dir/$f" "$eo_old/$f" || cmp -s "$eo_dir/$f" "$eo_new/$f" || {
				echo "$f is neither its old nor its new content" >&2
				return 1
			}
		else
			test -e "$eo_old/$f" && { echo "$f was lost" >&2; return 1; }
		fi
	done
	return 0
}

if test "$(id -u)" = 0 && small_fs "$TRASH/probe" 64k; then
	have_tmpfs=1
else
	have_tmpfs=
fi

test_expect_success 'setup: a mesh repository whose install targets a small file system' '
	test_mesh_repo pub &&
	mv pub.git mesh.git && git -C pub remote set-url origin "$TRASH/mesh.git" &&
	cat >pub/.meshpush.ini <<-EOF &&
	[install "voltagent"]
	from = shared/voltagent
	to = $TRASH/full-ws/voltagent
	[install "big"]
	from = shared/big
	to = ~/ws-big
	EOF
	mkdir -p pub/shared/voltagent pub/shared/big &&
	for f in a.sh m.sh z.sh; do echo "$f v1" >pub/shared/voltagent/$f || return 1; done &&
	for f in b1.txt b2.txt b3.txt; do random_text pub/shared/big/$f 60000 || return 1; done &&
	publish v1 &&
	mkdir -p v1 && cp -R pub/shared v1/ &&
	git clone -q mesh.git agent
'

if test -n "$have_tmpfs"; then
test_expect_success 'disk full in the target folder: nothing cut short, a clear message' '
	small_fs "$TRASH/full-ws" 128k &&
	git -C agent meshpush install -m voltagent >out 2>err &&
	for f in a.sh m.sh z.sh; do echo "$f v2" >pub/shared/voltagent/$f || return 1; done &&
	random_text pub/shared/voltagent/huge.txt 400000 &&
	publish v2 &&
	mkdir -p v2 && cp -R pub/shared v2/ &&
	git -C agent pull -q &&
	test_must_fail git -C agent meshpush install -m voltagent >out 2>err &&
	cat err &&
	test_grep "No space left on device" err &&
	each_old_or_new full-ws/voltagent v1/shared/voltagent v2/shared/voltagent a.sh m.sh z.sh huge.txt &&
	! ls -a full-ws/voltagent | grep meshpush-new
'

test_expect_success 'disk full in the target folder: the next install with room completes' '
	mount -o remount,size=4m "$TRASH/full-ws" &&
	git -C agent meshpush install -m voltagent >out 2>err &&
	for f in a.sh m.sh z.sh huge.txt; do
		test_cmp v2/shared/voltagent/$f full-ws/voltagent/$f || return 1
	done
'

test_expect_success 'disk full where the backups go: no file replaced without its backup' '
	small_fs "$TRASH/full-state" 160k &&
	XDG_STATE_HOME="$TRASH/full-state" git -C agent meshpush install -m big >out 2>err &&
	for f in b1.txt b2.txt b3.txt; do random_text pub/shared/big/$f 60000 || return 1; done &&
	publish v3 &&
	mkdir -p v3 && cp -R pub/shared v3/ &&
	git -C agent pull -q &&
	test_must_fail env XDG_STATE_HOME="$TRASH/full-state" git -C agent meshpush install -m big >out 2>err &&
	cat err &&
	test_grep "No space left on device" err &&
	test_grep -v "cross-device" err &&
	test_grep "run .git meshpush install. again" err &&
	XDG_STATE_HOME="$TRASH/full-state" git -C agent meshpush rollback --list >list &&
	cat list &&
	test_grep "big:b1.txt" list &&
	each_old_or_new "$HOME/ws-big" v1/shared/big v3/shared/big b1.txt b2.txt b3.txt &&
	for f in b1.txt b2.txt b3.txt; do
		cmp -s "$HOME/ws-big/$f" v3/shared/big/$f || continue
		found= &&
		for b in full-state/meshpush/backups/*/big/$f; do
			cmp -s "$b" v1/shared/big/$f && found=1
		done &&
		test -n "$found" || { echo "$f replaced without a backup" >&2; return 1; }
	done
'

test_expect_success 'disk full where the backups go: no truncated copy is left as a backup' '
	for b in full-state/meshpush/backups/*/big/*; do
		test -e "$b" || continue
		f=$(basename "$b") &&
		cmp -s "$b" v1/shared/big/$f || { echo "backup $b is not a whole copy" >&2; return 1; }
	done
'

test_expect_success 'disk full where the backups go: the next install with room completes' '
	mount -o remount,size=4m "$TRASH/full-state" &&
	XDG_STATE_HOME="$TRASH/full-state" git -C agent meshpush install -m big >out 2>err &&
	for f in b1.txt b2.txt b3.txt; do
		test_cmp v3/shared/big/$f "$HOME/ws-big/$f" || return 1
	done
'
else
	test_skip 'disk full in the target folder' 'needs root to mount a tmpfs'
	test_skip 'disk full where the backups go' 'needs root to mount a tmpfs'
fi

# --- A manifest cut short -----------------------------------------------------

test_expect_success 'setup: an installed mapping, then a manifest cut short mid-line' '
	git -C agent meshpush install -m voltagent >out 2>err &&
	manifest=$(ls "$XDG_STATE_HOME"/meshpush/manifests/voltagent-*.json) &&
	test_line_count_ge () { test $(wc -l <"$1") -ge "$2"; } &&
	test_line_count_ge "$manifest" 5 &&
	cp "$manifest" manifest.whole &&
	head -c $(($(wc -c <"$manifest") / 2)) manifest.whole >"$manifest" &&
	echo "m.sh changed here" >full-ws/voltagent/m.sh &&
	echo "a.sh v3" >pub/shared/voltagent/a.sh &&
	publish v3-voltagent &&
	git -C agent pull -q
'

test_expect_success 'status says the manifest is damaged' '
	git -C agent meshpush status >out 2>err;
	cat out err &&
	test_grep "cannot read manifest" out
'

test_expect_success 'install recovers: says so, keeps the damaged file, loses nothing' '
	git -C agent meshpush install -m voltagent >out 2>err &&
	cat out err &&
	test_grep "the manifest was damaged" out &&
	test -f "$manifest.damaged" &&
	test_cmp pub/shared/voltagent/a.sh full-ws/voltagent/a.sh &&
	test_cmp pub/shared/voltagent/m.sh full-ws/voltagent/m.sh &&
	grep -l "m.sh changed here" "$XDG_STATE_HOME"/meshpush/backups/*/voltagent/m.sh &&
	git -C agent meshpush install -m voltagent >out 2>err &&
	test_grep "up to date" out
'

test_expect_success 'a manifest change log cut short mid-line is replayed up to the cut' '
	echo "a.sh v4" >pub/shared/voltagent/a.sh && publish v4 && git -C agent pull -q &&
	printf "{\"path\":\"z.sh\",\"oi" >>"$manifest.log" &&
	git -C agent meshpush install -m voltagent >out 2>err &&
	cat out err &&
	test_cmp pub/shared/voltagent/a.sh full-ws/voltagent/a.sh &&
	test_grep -v "z.sh" out
'

test_expect_success 'a line recorded after a change log cut short is not lost with it' '
	echo "a.sh v5" >pub/shared/voltagent/a.sh &&
	echo "z.sh v5" >pub/shared/voltagent/z.sh &&
	publish v5 && git -C agent pull -q &&
	printf "{\"path\":\"m.sh\",\"oi" >>"$manifest.log" &&
	# the install is killed (SIGKILL) by the verify of z.sh, after a.sh is done
	cat >killer <<-\EOF &&
	#!/bin/sh
	case "$1" in *z.sh) kill -9 $PPID;; esac
	exit 0
	EOF
	chmod +x killer &&
	! git -C agent meshpush -c "install.voltagent.verify=$TRASH/killer {}" install -m voltagent &&
	test -f "$manifest.log" &&
	grep "\"path\":\"a.sh\"" "$manifest.log" >recorded &&
	test_grep "^{\"path\":\"a.sh\"" recorded
'

# --- A lock left by a killed install ----------------------------------------

test_expect_success 'setup: an install whose verify command waits' '
	cat >slow-verify <<-EOF &&
	#!/bin/sh
	echo \$\$ >"$TRASH/verify.pid"
	exec sleep 60
	EOF
	chmod +x slow-verify &&
	cat >>pub/.meshpush.ini <<-EOF &&
	[install "slow"]
	from = shared/slow
	to = ~/ws-slow
	verify = $TRASH/slow-verify {}
	verify_timeout = 120
	EOF
	mkdir -p pub/shared/slow &&
	echo "one" >pub/shared/slow/one.sh &&
	publish slow &&
	git -C agent pull -q
'

test_expect_success 'an install killed with SIGKILL leaves its lock behind' '
	rm -f verify.pid &&
	{ git -C agent meshpush install -m slow >killed.out 2>&1 & } &&
	i=0 &&
	while ! test -s verify.pid; do
		i=$((i + 1)) && test $i -lt 600 || { cat killed.out; return 1; }
		sleep 0.05
	done &&
	lock="$XDG_STATE_HOME/meshpush/install.lock" &&
	holder=$(cut -d" " -f1 "$lock") &&
	test -n "$holder" &&
	kill -0 "$holder" &&
	kill -9 "$holder" &&
	kill "$(cat verify.pid)" &&
	while kill -0 "$holder" 2>/dev/null; do sleep 0.05; done &&
	test -s "$lock" &&
	echo "$holder" >dead.pid
'

test_expect_success 'the next install detects the stale lock, says so, and completes' '
	cat >fast-verify <<-\EOF &&
	#!/bin/sh
	exit 0
	EOF
	chmod +x fast-verify &&
	git -C agent meshpush -c "install.slow.verify=$TRASH/fast-verify {}" install -m slow --wait 0 >out 2>err &&
	cat out err &&
	test_grep "process $(cat dead.pid), which no longer runs" out &&
	test_cmp pub/shared/slow/one.sh "$HOME/ws-slow/one.sh" &&
	git -C agent meshpush log --json --event install >journal &&
	test_grep "\"lock_taken_over\": *true" journal
'

test_expect_success 'a lock held by a live install is not taken: it names the holder' '
	rm -f verify.pid &&
	echo "two" >pub/shared/slow/one.sh && publish slow2 && git -C agent pull -q &&
	{ git -C agent meshpush install -m slow >held.out 2>&1 & } &&
	i=0 &&
	while ! test -s verify.pid; do
		i=$((i + 1)) && test $i -lt 600 || { cat held.out; return 1; }
		sleep 0.05
	done &&
	holder=$(cut -d" " -f1 "$XDG_STATE_HOME/meshpush/install.lock") &&
	test_must_fail git -C agent meshpush install -m slow --wait 0 >out 2>err &&
	kill "$(cat verify.pid)" &&
	while kill -0 "$holder" 2>/dev/null; do sleep 0.05; done &&
	test_grep "another install is running (pid $holder" err
'

test_done
