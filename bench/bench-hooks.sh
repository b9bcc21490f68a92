#!/bin/sh
# bench-hooks.sh: what the git-meshpush hooks add to git.
#
#   1. 'git push' of one small commit to a local bare remote, with the
#      pre-push hook and without it (--no-verify), RUNS times each
#      (default 25, alternating): medians, difference and ratio.
#      Target: the hook adds at most 15 ms.
#   2. The pre-push hook alone for a new branch of NCOMMITS (500) new commits.
#   3. The pre-commit hook alone for a one-line change.
#
# Each sample is timed twice: wall-clock, and CPU (user + system of every
# process it ran, from getrusage): on a loaded machine the wall-clock
# numbers grow with the load, the CPU numbers much less.
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

git init -q --bare remote.git
git init -q -b main work
git -C work remote add origin "$tmp/remote.git"
mkdir -p work/shared/voltagent
i=0
while [ $i -lt 50 ]; do echo "console.log($i)" >"work/shared/voltagent/f$i.js"; i=$((i + 1)); done
git -C work add -A && git -C work commit -q -m base && git -C work push -q origin main
# the timed pushes go to a branch that is not [mesh] production: no announcement (no network) in the numbers
git -C work checkout -q -b topic && git -C work push -q origin topic
git -C work meshpush hooks install >/dev/null
# a new branch of NCOMMITS commits, each adding a line (fast-import), not pushed yet
{
	i=0
	while [ $i -lt "$NCOMMITS" ]; do
		printf 'commit refs/heads/big\ncommitter bench <bench@example.com> %d +0000\ndata 4\nc%03d\n' $((1700000000 + i)) $((i % 1000))
		[ $i = 0 ] && printf 'from refs/heads/main\n'
		line="module.exports.v$i = $i; // generated line $i of the benchmark"
		printf 'M 100644 inline shared/voltagent/gen%d.js\ndata %d\n%s\n' $((i % 40)) $((${#line} + 1)) "$line"
		i=$((i + 1))
	done
} | git -C work fast-import --quiet
# warm the rule cache, as any push after the first finds it
git -C work meshpush hook pre-push origin "$tmp/remote.git" </dev/null

RUNS=$RUNS NCOMMITS=$NCOMMITS python3 - "$tmp" <<'PY'
import json, os, resource, statistics, subprocess, sys, time

tmp = sys.argv[1]
runs = int(os.environ["RUNS"])
work = os.path.join(tmp, "work")
remote = os.path.join(tmp, "remote.git")

def git(*args, **kw):
    subprocess.run(["git", "-C", work] + list(args), check=True, **kw)

def timed(argv, stdin=None):
    """wall ms, cpu ms (user+sys of the children) of one run of argv"""
    r0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    subprocess.run(argv, check=True, input=stdin, stdout=subprocess.DEVNULL)
    t1 = time.perf_counter()
    r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (r1.ru_utime - r0.ru_utime) + (r1.ru_stime - r0.ru_stime)
    return (t1 - t0) * 1000, cpu * 1000

def med(samples, k):
    return statistics.median(s[k] for s in samples)

# 1. git push of one small commit, with and without the hook, alternating
with_hook, without = [], []
path = os.path.join(work, "shared/voltagent/f1.js")
for i in range(runs):
    for hook in (True, False):
        with open(path, "a") as f:
            f.write("console.log(%d)\n" % i)
        git("commit", "-q", "--no-verify", "-am", "run %d" % i)
        argv = ["git", "-C", work, "push", "-q", "origin", "main"] + ([] if hook else ["--no-verify"])
        (with_hook if hook else without).append(timed(argv))
print("git push of one small commit to a local bare remote, median of %d runs each:" % runs)
for k, name in ((0, "wall"), (1, "CPU ")):
    w, n = med(with_hook, k), med(without, k)
    print("  %s: with the pre-push hook %6.1f ms, without (--no-verify) %6.1f ms: +%.1f ms, ratio %.2f"
          % (name, w, n, w - n, w / n))
print("  target: the hook adds at most 15 ms")

# 2. the pre-push hook alone for the new branch of NCOMMITS commits
oid = subprocess.run(["git", "-C", work, "rev-parse", "big"], check=True, capture_output=True,
                     text=True).stdout.strip()
line = ("refs/heads/big %s refs/heads/big %s\n" % (oid, "0" * 40)).encode()
big = [timed(["git", "-C", work, "meshpush", "hook", "pre-push", "origin", remote], stdin=line) for _ in range(5)]
with open(os.path.join(work, ".git/meshpush/journal.jsonl")) as f:
    last = json.loads(f.read().splitlines()[-1])
print("pre-push hook alone, a new branch of %s new commits (%d scanned), median of 5: wall %.1f ms, CPU %.1f ms"
      % (os.environ["NCOMMITS"], last["commits"], med(big, 0), med(big, 1)))

# 3. the pre-commit hook alone, for a one-line change, against the bare start of the binary
with open(os.path.join(work, "shared/voltagent/f3.js"), "a") as f:
    f.write("console.log('staged')\n")
git("add", "shared/voltagent/f3.js")
pc = [timed(["git", "-C", work, "meshpush", "hook", "pre-commit"]) for _ in range(runs)]
ver = [timed(["git", "-C", work, "meshpush", "version"]) for _ in range(runs)]
print("pre-commit hook of a one-line change, median of %d: wall %.1f ms, CPU %.1f ms "
      "('git meshpush version': wall %.1f ms, CPU %.1f ms)"
      % (runs, med(pc, 0), med(pc, 1), med(ver, 0), med(ver, 1)))
PY
