#!/bin/sh
# Benchmark of the receiving side (git meshpush install):
#  1. install of 1,000 changed files (with backups and the manifest, no
#     verify command) against rsync -a --backup --backup-dir=... of the same
#     tree into an equivalent target; target: <= 1.5 x rsync;
#  2. a pull that changes nothing under the mapped folder: the install
#     step (the whole `git meshpush install` process minus the same start,
#     measured as `git meshpush config KEY`); target: <= 10 ms.  Most of a
#     process's start is libgit2's initialisation (with mbedTLS it parses
#     the CA bundle, ~10 ms) and the shared libraries.
# Usage: sh bench/bench-install.sh [FILES] (default 1000).  Prints the
# median of RUNS runs and the ratios; exits 1 when a target is missed.
set -e
SRC_DIR=$(cd "$(dirname "$0")/.." && pwd)
N=${1:-1000}
RUNS=${RUNS:-5}
T=$(mktemp -d "${TMPDIR:-/tmp}/meshpush-bench.XXXXXX")
trap 'rm -rf "$T"' EXIT
export HOME="$T/home" XDG_STATE_HOME="$T/home/.local/state" XDG_CONFIG_HOME="$T/home/.config"
export GIT_CONFIG_NOSYSTEM=1 GIT_AUTHOR_NAME=bench GIT_AUTHOR_EMAIL=b@example.com \
	GIT_COMMITTER_NAME=bench GIT_COMMITTER_EMAIL=b@example.com
mkdir -p "$HOME" "$T/bin"
ln -s "$SRC_DIR/git-meshpush" "$T/bin/git-meshpush"
PATH="$T/bin:$PATH"
MP="$SRC_DIR/git-meshpush"

now_us () { date +%s%6N; }
median () { sort -n | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }
minimum () { sort -n | head -n 1; }
# CPU time (user + system) of the last command run under $TIME, in microseconds
TIME=
if [ -x /usr/bin/time ]; then TIME="/usr/bin/time -f %U+%S -o $T/cpu"; fi
cpu_us () { [ -n "$TIME" ] && awk -F+ '{ printf "%d", ($1 + $2) * 1000000 }' "$T/cpu" || echo 0; }

# tree VERSION: N files of about 2 KiB in 10 folders
tree () {
	i=0
	while [ $i -lt "$N" ]; do
		d="$T/repo/shared/voltagent/d$((i % 10))"
		[ -d "$d" ] || mkdir -p "$d"
		awk -v v="$1" -v i="$i" 'BEGIN { for (l = 0; l < 40; l++) printf "// %s file %d line %d: %s\n", v, i, l, "lorem ipsum dolor sit amet" }' >"$d/f$i.js"
		i=$((i + 1))
	done
}

git init -q "$T/repo"
cat >"$T/repo/.meshpush.ini" <<INI
[install "voltagent"]
from = shared/voltagent
to = ~/ws/voltagent
executable = *.js
INI
mkdir -p "$T/repo/other"

# rsync's target beside ours (~/ws/voltagent), its backups beside our state:
# files are allocated in their folder's block group, whose state (recently
# freed inodes) dominates the cost of creating 1,000 files on ext4
RS="$HOME/ws/rsync-target" RSB="$HOME/.local/rsync-backups"

time_install () {
	s=$(now_us); $TIME "$MP" -C "$T/repo" install --no-confirm -q >/dev/null; e=$(now_us)
	ins_times="$ins_times $((e - s))"; ins_cpu="$ins_cpu $(cpu_us)"
}
time_rsync () {
	s=$(now_us); $TIME rsync -a --backup --backup-dir="$RSB/b$r" "$T/repo/shared/voltagent/" "$RS/"; e=$(now_us)
	rs_times="$rs_times $((e - s))"; rs_cpu="$rs_cpu $(cpu_us)"
}

ins_times= rs_times=
r=1
while [ $r -le "$RUNS" ]; do
	# version A installed / rsynced, untimed
	rm -rf "$HOME/ws" "$XDG_STATE_HOME" "$RS" "$RSB"
	tree "a$r"
	git -C "$T/repo" add -A && git -C "$T/repo" commit -q -m "a$r"
	"$MP" -C "$T/repo" install --no-confirm -q >/dev/null
	mkdir -p "$RS"
	rsync -a "$T/repo/shared/voltagent/" "$RS/"
	sync
	# version B: every file changed
	tree "b$r"
	git -C "$T/repo" add -A && git -C "$T/repo" commit -q -m "b$r"
	sync
	# which goes first alternates: the second one finds the file system in
	# another state (ext4's inode allocator scans past recently freed inodes)
	if [ $((r % 2)) = 1 ]; then time_install; sync; time_rsync; else time_rsync; sync; time_install; fi
	r=$((r + 1))
done
ins=$(printf '%s\n' $ins_times | median)
rs=$(printf '%s\n' $rs_times | median)

# the no-op: a commit outside the mapped folder
noop_times=
r=1
while [ $r -le $((RUNS * 2)) ]; do
	echo "$r" >"$T/repo/other/file"
	git -C "$T/repo" add -A && git -C "$T/repo" commit -q -m "other $r"
	s=$(now_us); "$MP" -C "$T/repo" install --no-confirm -q >/dev/null; e=$(now_us)
	noop_times="$noop_times $((e - s))"
	r=$((r + 1))
done
noop=$(printf '%s\n' $noop_times | median)
# the same start (repository opened, configuration loaded) without the install step
base_times=
r=1
while [ $r -le $((RUNS * 2)) ]; do
	s=$(now_us); "$MP" -C "$T/repo" config mesh.retries >/dev/null || true; e=$(now_us)
	base_times="$base_times $((e - s))"
	r=$((r + 1))
done
base=$(printf '%s\n' $base_times | median)

echo "install of $N changed files (backups + manifest): $((ins / 1000)).$(( (ins % 1000) / 100 )) ms  (runs:$ins_times us)"
echo "rsync -a --backup --backup-dir of the same tree:  $((rs / 1000)).$(( (rs % 1000) / 100 )) ms  (runs:$rs_times us)"
ratio=$(awk "BEGIN { printf \"%.2f\", $ins / $rs }")
if [ -n "$TIME" ]; then
	ic=$(printf '%s\n' $ins_cpu | median); rc=$(printf '%s\n' $rs_cpu | median)
	echo "CPU time (user+system), medians: install $((ic / 1000)) ms, rsync $((rc / 1000)) ms, ratio $(awk "BEGIN { printf \"%.2f\", $ic / ($rc > 0 ? $rc : 1) }")"
fi
echo "ratio install/rsync: $ratio (target <= 1.5)"
# the step: fastest install minus fastest start (the medians wander on a shared machine)
step=$(( $(printf '%s\n' $noop_times | minimum) - $(printf '%s\n' $base_times | minimum) )); [ $step -ge 0 ] || step=0
echo "no-op install after a pull outside the mapping: whole process $(awk "BEGIN { printf \"%.1f\", $noop / 1000 }") ms;"
echo "  the same start without the install step ('git meshpush config KEY'): $(awk "BEGIN { printf \"%.1f\", $base / 1000 }") ms;"
echo "  the install step: $(awk "BEGIN { printf \"%.1f\", $step / 1000 }") ms (target <= 10)"
ok=0
awk "BEGIN { exit !($ratio <= 1.5) }" || { echo "MISSED: install is more than 1.5 x rsync"; ok=1; }
[ "$step" -le 10000 ] || { echo "MISSED: the no-op install step takes more than 10 ms"; ok=1; }
exit $ok
