#!/bin/sh
# Benchmark of the secret scanner (issue 3, item 6).
#
# Builds a git repository with a realistic history from text already on the
# machine (bench/scan/make-repo.py), then prints, measured in this run,
# medians of BENCH_RUNS runs:
#   - scan --all against the inflate floor (git cat-file --batch-all-objects --batch)
#   - a directory scan against ripgrep searching the same files with the same patterns
#   - start-up of a scan of one small file with a warm cache
#
#   BENCH_SCAN_SIZE=small|medium|large (default medium: a few minutes)
#   BENCH_RUNS=N (default 5)   BENCH_KEEP=1 keeps bench/out/scan
set -e
SRC=$(cd "$(dirname "$0")/.." && pwd)
BIN="$SRC/git-meshpush"
OUT="$SRC/bench/out/scan"
RUNS=${BENCH_RUNS:-5}
case "${BENCH_SCAN_SIZE:-medium}" in
small) COMMITS=800 FILES=1500 ;;
medium) COMMITS=3000 FILES=6000 ;;
large) COMMITS=10000 FILES=12000 ;;
*) echo "BENCH_SCAN_SIZE must be small, medium or large" >&2; exit 2 ;;
esac
test -x "$BIN" || { echo "build first: make" >&2; exit 2; }
command -v rg >/dev/null || { echo "ripgrep (rg) is needed: make deps" >&2; exit 2; }

rm -rf "$OUT"
mkdir -p "$OUT/cache"
export XDG_CACHE_HOME="$OUT/cache" XDG_CONFIG_HOME="$OUT/config" NO_COLOR=1 GIT_CONFIG_NOSYSTEM=1
unset MESHPUSH_SCAN_NO_CACHE

# "WALL CPU": medians of the wall-clock and CPU (user + system) seconds of
# RUNS runs of a command, output discarded; a command slower than 10 s
# runs once
median () {
	python3 - "$RUNS" "$@" <<-\PY
	import os, subprocess, sys, time
	runs, cmd = int(sys.argv[1]), sys.argv[2:]
	wall, cpu = [], []
	for i in range(runs):
	    r0 = os.times()
	    s = time.perf_counter()
	    subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
	    wall.append(time.perf_counter() - s)
	    r1 = os.times()
	    cpu.append((r1.children_user - r0.children_user) + (r1.children_system - r0.children_system))
	    if wall[-1] > 10:
	        break
	wall.sort()
	cpu.sort()
	print("%.4f %.4f" % (wall[len(wall) // 2], cpu[len(cpu) // 2]))
	PY
}

echo "building the repository ($COMMITS commits, up to $FILES files)..."
git init -q "$OUT/repo"
python3 "$SRC/bench/scan/make-repo.py" "$COMMITS" "$FILES" 42 "$OUT/planted.tsv" | git -C "$OUT/repo" fast-import --quiet
git -C "$OUT/repo" repack -a -d -q
git -C "$OUT/repo" checkout -q -f main
mkdir -p "$OUT/tree" && git -C "$OUT/repo" archive main | tar -x -C "$OUT/tree"
objects=$(git -C "$OUT/repo" count-objects -v | awk '/^size-pack/ {print $2}')
blobbytes=$(git -C "$OUT/repo" cat-file --batch-all-objects --batch-check='%(objecttype) %(objectsize)' | awk '$1 == "blob" {s += $2; n++} END {print n, s}')
treebytes=$(du -sk "$OUT/tree" | cut -f1)
echo "repository: $COMMITS commits, $(echo $blobbytes | cut -d' ' -f1) blobs, $(echo $blobbytes | cut -d' ' -f2) blob bytes, pack $objects KiB; work tree $treebytes KiB; planted secrets: $(wc -l <"$OUT/planted.tsv")"

# patterns for ripgrep: the same regexes, joined from their continuation lines
awk '/^regex[ \t]*=/ {sub(/^regex[ \t]*=[ \t]*/, ""); r = $0; while ((getline l) > 0 && l ~ /^[ \t]/) {sub(/^[ \t]+/, "", l); r = r l} print r}' \
	"$SRC/src/scan/rules.ini" >"$OUT/patterns-all.txt"
: >"$OUT/patterns-rust.txt"
while IFS= read -r p; do
	if rg -q -e "$p" /dev/null 2>/dev/null || test $? = 1; then printf '%s\n' "$p" >>"$OUT/patterns-rust.txt"; fi
done <"$OUT/patterns-all.txt"
npat=$(wc -l <"$OUT/patterns-all.txt")
nrust=$(wc -l <"$OUT/patterns-rust.txt")

# warm the rules cache, check the findings
"$BIN" scan --stdin </dev/null >/dev/null 2>&1 || true
(cd "$OUT/repo" && "$BIN" scan --all --format json >"$OUT/all.json" 2>/dev/null) || true
python3 - "$OUT/all.json" "$OUT/planted.tsv" <<-\PY
import json, sys
r = json.load(open(sys.argv[1]))
planted = [l.rstrip("\n").split("\t") for l in open(sys.argv[2])]
found = {(f["commit"] is not None, f["path"]) for f in r["findings"]}
got = sum(1 for c, path, line in planted if (True, path) in found)
print("scan --all: %d findings; planted secrets in a reported file: %d of %d; %d blobs, %d bytes scanned"
      % (len(r["findings"]), got, len(planted), r["stats"]["files"], r["stats"]["bytes"]))
PY

echo "measuring (median of $RUNS runs)..."
floor=$(median git -C "$OUT/repo" cat-file --batch-all-objects --batch)
all=$(cd "$OUT/repo" && median "$BIN" scan --all)
dir=$(median "$BIN" scan "$OUT/tree")
# ripgrep in byte (ASCII) mode like the scanner, with the patterns its engine accepts
sed 's/^/(?-u)/' "$OUT/patterns-rust.txt" >"$OUT/patterns-rg.txt"
rgr=$(median rg --no-ignore --hidden --no-messages -c -f "$OUT/patterns-rg.txt" "$OUT/tree")
if test -n "$BENCH_RG_PCRE2"; then
	rgp=$(median rg --no-ignore --hidden --no-messages -P -c -f "$OUT/patterns-all.txt" "$OUT/tree")
else
	rgp="0 0"
fi
printf 'const a = 1;\n' >"$OUT/small.js"
if command -v hyperfine >/dev/null; then
	hyperfine -N --warmup 5 --runs 50 --export-json "$OUT/startup.json" "$BIN scan $OUT/small.js" >/dev/null 2>&1
	start=$(python3 -c "import json; print('%.4f' % json.load(open('$OUT/startup.json'))['results'][0]['median'])")
else
	start=$(RUNS=31 median "$BIN" scan "$OUT/small.js" | cut -d' ' -f1)
fi
echo 'int main(void) { return 0; }' >"$OUT/empty.c"
cc -o "$OUT/empty" "$OUT/empty.c" -Wl,--no-as-needed $(ldd "$BIN" | awk '/=>/ {print $3}' | grep -v 'libc.so\|ld-linux') 2>/dev/null &&
	floorstart=$(RUNS=31 median "$OUT/empty" | cut -d' ' -f1) || floorstart=

python3 - "$floor" "$all" "$dir" "$rgr" "$rgp" "$start" "$floorstart" "$nrust" "$npat" "$(uptime)" <<-\PY
import sys
floor, all_, dir_, rgr, rgp = [tuple(map(float, a.split())) for a in sys.argv[1:6]]
start = float(sys.argv[6])
fstart = float(sys.argv[7]) if sys.argv[7] else None
nrust, npat = sys.argv[8], sys.argv[9]
print("machine: %s" % sys.argv[10].strip())
def line(name, got, ref, target):
    ratio = got[0] / ref[0] if ref[0] else float("inf")
    cratio = got[1] / ref[1] if ref[1] else float("inf")
    print("%-50s wall %7.3f s vs %7.3f s = %5.2fx (target <= %.1fx: %s); cpu %6.3f s vs %6.3f s = %5.2fx"
          % (name, got[0], ref[0], ratio, target, "met" if ratio <= target else "NOT met", got[1], ref[1], cratio))
line("scan --all vs git cat-file --batch-all-objects", all_, floor, 1.2)
line("scan DIR vs rg (%s of %s patterns, ASCII)" % (nrust, npat), dir_, rgr, 1.0)
if rgp[0]:
    line("scan DIR vs rg -P (all %s patterns, PCRE2)" % npat, dir_, rgp, 1.0)
ms = start * 1000
print("%-52s %8.2f ms (target <= 5 ms: %s)" % ("warm start-up, scan of one small file", ms, "met" if ms <= 5 else "NOT met"))
if fstart is not None:
    print("%-52s %8.2f ms" % ("  floor: an empty program linked with the same libraries", fstart * 1000))
PY
test -n "$BENCH_KEEP" || rm -rf "$OUT"
