#!/bin/sh
# bench-hooks.sh: what the git-meshpush hooks add to git.
#
#   1. 'git push' of one small commit to a local bare remote, with the
#      pre-push hook and without it (--no-verify), RUNS times each
#      (default 25, alternating), medians, difference and ratio.
#      Target: the hook adds at most 15 ms.
#   2. The pre-push hook alone for a new branch of 500 new commits.
#   3. The pre-commit hook alone for a small change.
#
# Uses ./git-meshpush of the source tree; everything happens in a
# temporary directory with a throwaway HOME.  Run: sh bench/bench-hooks.sh
set -eu
src=$(cd "$(dirname "$0")/.." && pwd)
RUNS=${RUNS:-25}
NCOMMITS=${NCOMMITS:-500}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/meshpush-bench-hooks.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/bin" "$tmp/home"
ln -s "$src/git-meshpush" "$tmp/bin/git-meshpush"
PATH="$tmp/bin:$PATH" HOME="$tmp/home" XDG_CONFIG_HOME="$tmp/home/.config" XDG_CACHE_HOME="$tmp/home/.cache" \
	XDG_STATE_HOME="$tmp/home/.local/state" GIT_CONFIG_NOSYSTEM=1 GIT_AUTHOR_NAME=bench \
	GIT_AUTHOR_EMAIL=bench@example.com GIT_COMMITTER_NAME=bench GIT_COMMITTER_EMAIL=bench@example.com
export PATH HOME XDG_CONFIG_HOME XDG_CACHE_HOME XDG_STATE_HOME GIT_CONFIG_NOSYSTEM GIT_AUTHOR_NAME \
	GIT_AUTHOR_EMAIL GIT_COMMITTER_NAME GIT_COMMITTER_EMAIL
cd "$tmp"

ms () { date +%s.%N | awk '{ printf "%.3f\n", $1 * 1000 }'; }
median () { sort -n | awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else printf "%.3f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

git init -q --bare remote.git
git init -q -b main work
git -C work remote add origin "$tmp/remote.git"
mkdir -p work/shared/voltagent
i=0
while [ $i -lt 50 ]; do echo "console.log($i)" >"work/shared/voltagent/f$i.js"; i=$((i + 1)); done
git -C work add -A && git -C work commit -q -m base && git -C work push -q origin main
git -C work meshpush hooks install >/dev/null
# warm the rule cache, as a second push would
git -C work meshpush hook pre-push origin "$tmp/remote.git" </dev/null

: >with.txt
: >without.txt
i=0
while [ $i -lt "$RUNS" ]; do
	echo "console.log('w$i')" >>work/shared/voltagent/f1.js
	git -C work commit -q --no-verify -am "w$i"
	t0=$(ms); git -C work push -q origin main; t1=$(ms)
	echo "$t1 - $t0" | bc >>with.txt
	echo "console.log('n$i')" >>work/shared/voltagent/f2.js
	git -C work commit -q --no-verify -am "n$i"
	t0=$(ms); git -C work push -q --no-verify origin main; t1=$(ms)
	echo "$t1 - $t0" | bc >>without.txt
	i=$((i + 1))
done
# the clock's own cost is inside each sample, the same for both: it cancels out in the difference
w=$(median <with.txt)
n=$(median <without.txt)
echo "git push of one small commit, median of $RUNS runs each:"
echo "  with the pre-push hook:    $w ms"
echo "  without (--no-verify):     $n ms"
awk -v w="$w" -v n="$n" 'BEGIN { printf "  added by the hook:         %.1f ms (ratio %.2f; target: at most 15 ms)\n", w - n, w / n }'

# 2. a new branch of NCOMMITS commits, each adding a line (fast-import), the hook alone
git -C work checkout -q -b big
{
	i=0
	while [ $i -lt "$NCOMMITS" ]; do
		printf 'commit refs/heads/big\ncommitter bench <bench@example.com> %d +0000\ndata 4\nc%03d\n' $((1700000000 + i)) $((i % 1000))
		[ $i = 0 ] && printf 'from refs/heads/main\n'
		line="module.exports.v$i = $i; // generated line $i of the benchmark"
		printf 'M 100644 inline shared/voltagent/gen%d.js\ndata %d\n%s\n' $((i % 40)) $((${#line} + 1)) "$line"
		i=$((i + 1))
	done
} | git -C work fast-import --quiet --force
oid=$(git -C work rev-parse big)
line="refs/heads/big $oid refs/heads/big 0000000000000000000000000000000000000000"
: >big.txt
i=0
while [ $i -lt 5 ]; do
	t0=$(ms); echo "$line" | git -C work meshpush hook pre-push origin "$tmp/remote.git"; t1=$(ms)
	echo "$t1 - $t0" | bc >>big.txt
	i=$((i + 1))
done
count=$(tail -n 1 work/.git/meshpush/journal.jsonl | python3 -c 'import json,sys; print(json.load(sys.stdin)["commits"])')
echo "pre-push hook alone, new branch of $NCOMMITS new commits ($count scanned), median of 5: $(median <big.txt) ms"
t0=$(ms); git -C work push -q origin big; t1=$(ms)
echo "git push of that branch with the hook: $(echo "$t1 - $t0" | bc) ms"

# 3. the pre-commit hook alone for a small staged change
git -C work checkout -q main
echo "console.log('staged')" >>work/shared/voltagent/f3.js
git -C work add shared/voltagent/f3.js
: >pc.txt
i=0
while [ $i -lt "$RUNS" ]; do
	t0=$(ms); git -C work meshpush hook pre-commit; t1=$(ms)
	echo "$t1 - $t0" | bc >>pc.txt
	i=$((i + 1))
done
: >true.txt
i=0
while [ $i -lt "$RUNS" ]; do
	t0=$(ms); git -C work meshpush version >/dev/null; t1=$(ms)
	echo "$t1 - $t0" | bc >>true.txt
	i=$((i + 1))
done
p=$(median <pc.txt)
v=$(median <true.txt)
echo "pre-commit hook of a one-line change, median of $RUNS: $p ms ('git meshpush version': $v ms; scan part: $(echo "$p - $v" | bc) ms)"
