#!/bin/sh
# A 200-file install killed with SIGKILL at many points: every file is its
# old or its new content, the manifest stays true to the disk, and the next
# run completes the install.
. "$(dirname "$0")/lib.sh"

WS="$HOME/ws/voltagent"
STATE="$XDG_STATE_HOME/meshpush"
N=200
ROUNDS=${MESHPUSH_CRASH_ROUNDS:-24}

# version R: every file f$i.txt says "R i"
version () {
	i=1
	while test $i -le $N; do
		echo "$1 $i" >"pub/shared/voltagent/f$i.txt" || return 1
		i=$((i + 1))
	done &&
	git -C pub add -A && git -C pub commit -q -m "version $1" && git -C pub push -q &&
	git -C agent pull -q --ff-only
}

# check_files OLD NEW: each file is "OLD i" or "NEW i"; prints how many are new
check_files () {
	i=1 new=0
	while test $i -le $N; do
		c=$(cat "$WS/f$i.txt" 2>/dev/null)
		if test "$c" = "$2 $i"; then
			new=$((new + 1))
		elif test "$c" != "$1 $i"; then
			echo "f$i.txt is '$c', neither '$1 $i' nor '$2 $i'" >&2
			return 1
		fi
		i=$((i + 1))
	done
	echo $new
}

test_expect_success 'setup: 200 files installed (no hooks: the test starts the installs)' '
	test_mesh_repo pub &&
	mkdir -p pub/shared/voltagent &&
	cat >pub/.meshpush.ini <<-EOF &&
	[install "voltagent"]
	to = ~/ws/voltagent
	verify = test -f {}
	EOF
	git -C pub add -A && git -C pub commit -q -m config && git -C pub push -q &&
	git clone -q "$TRASH/pub.git" agent &&
	version 0 &&
	start=$(date +%s%N) &&
	git -C agent meshpush install >out &&
	end=$(date +%s%N) &&
	echo $(( (end - start) / 1000000 )) >full-ms &&
	test "$(check_files 0 0)" = $N
'

test_expect_success "SIGKILL at $ROUNDS points of an install: old or new, then the next run completes" '
	full=$(cat full-ms) && say "a full install takes $full ms" &&
	r=1 && : >points &&
	while test $r -le $ROUNDS; do
		version $r || return 1
		ms=$(( full * (r - 1) / (ROUNDS - 2) ))
		git-meshpush -C agent install >/dev/null 2>&1 &
		pid=$!
		sleep $(awk "BEGIN { printf \"%.3f\", $ms / 1000 }")
		kill -9 $pid 2>/dev/null; wait $pid 2>/dev/null
		new=$(check_files $((r - 1)) $r) || return 1
		echo "$ms ms: $new new" >>points &&
		git -C agent meshpush install >out 2>&1 || { cat out; return 1; } &&
		test "$(check_files $((r - 1)) $r)" = $N || return 1
		git -C agent meshpush status >st &&
		! grep -e "changed locally" -e missing -e "not installed" st || return 1
		! ls -A "$WS" | grep meshpush-new || return 1
		r=$((r + 1))
	done &&
	cat points &&
	kills=$(sed -n "s/.*: \([0-9]*\) new/\1/p" points | awk "\$1 > 0 && \$1 < $N" | wc -l) &&
	say "$kills kills landed in the middle of the files" &&
	test $kills -ge 5
'

test_expect_success 'every previous version is in the backups, once per file' '
	r=$ROUNDS &&
	cat "$STATE"/backups/*/voltagent/f*.txt | grep "^$((r - 1)) " | sort -u | wc -l >count &&
	echo $N >expect && test_cmp expect count
'

test_expect_success 'a killed install leaves no lock behind' '
	version final || return 1
	git-meshpush -C agent install >/dev/null 2>&1 &
	pid=$! && sleep 0.05 && kill -9 $pid; wait $pid
	git -C agent meshpush install --wait 0 >out &&
	test "$(check_files final final)" = $N
'

test_done
