#!/bin/sh
# scan --all reads the packs itself (src/scan/pack.c): deltas applied in
# memory, each blob once.  It must report exactly what the libgit2 walk
# (MESHPUSH_SCAN_NO_FAST) and git's own reader (MESHPUSH_SCAN_NO_PACK)
# report, on deep delta chains, several packs holding the same blobs,
# loose and packed objects, blobs over scan.max_size, binary blobs and
# 64-bit pack offsets; a damaged pack ends in an error, never in "clean".
. "$(dirname "$0")/lib.sh"

# A file of many lines edited by COMMITS commits, with secrets planted in
# some versions and removed again (so that they live in deltas), plus a
# binary file and a file over 2000 bytes: a fast-import stream.
make_history () { # COMMITS SEED
	python3 - "$1" "$2" <<-\PY
	import random, sys
	n, seed = int(sys.argv[1]), int(sys.argv[2])
	rnd = random.Random(seed)
	alnum = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
	def token():
	    return "ghp_" + "".join(rnd.choice(alnum) for _ in range(36))
	words = "the of and to in is that for it as with was on be by this are from at or an".split()
	lines = [" ".join(rnd.choice(words) for _ in range(8)) + " %d" % i for i in range(400)]
	big = ["log line %d %s" % (i, rnd.choice(words)) for i in range(200)]
	out = sys.stdout.buffer
	def blob(path, data):
	    out.write(b"M 100644 inline %s\ndata %d\n" % (path.encode(), len(data)) + data + b"\n")
	planted = []
	for c in range(n):
	    k = rnd.randrange(len(lines))
	    lines[k] = " ".join(rnd.choice(words) for _ in range(8)) + " edit %d" % c
	    secret_line = None
	    if c % 15 == 7:
	        secret_line = rnd.randrange(len(lines))
	        t = token()
	        planted.append(t)
	        lines.insert(secret_line, 'token = "%s"' % t)
	    msg = b"commit %d" % c
	    out.write(b"commit refs/heads/main\n")
	    out.write(b"committer C O Mitter <c@example.com> %d +0000\n" % (1700000000 + c * 60))
	    out.write(b"data %d\n%s\n" % (len(msg), msg))
	    blob("src/text.txt", ("\n".join(lines) + "\n").encode())
	    if c % 10 == 0:
	        big[rnd.randrange(len(big))] = "log edit %d" % c
	        if c == 20:
	            big.insert(3, 'password = "%s"' % token())
	        blob("logs/big.log", ("\n".join(big) + "\n").encode())
	    if c == 5:
	        blob("bin/blob.bin", b"\0\1\2 token = \"" + token().encode() + b"\"\n")
	    if secret_line is not None:
	        del lines[secret_line]  # gone again in the next commit
	PY
}

# "findings" then sorted "skipped" then "stats" of a JSON report
normalize () {
	python3 -c '
import json, sys
r = json.load(open(sys.argv[1]))
for f in r["findings"]:
    print("finding", f["commit"], repr(f["path"]), f["line"], f["column"], f["rule"], f["fingerprint"])
for s in sorted((s["path"], s["reason"]) for s in r["skipped"]):
    print("skipped", repr(s[0]), s[1])
print("stats", json.dumps(r["stats"], sort_keys=True))
' "$1"
}

# compare_modes DIR [git-meshpush options]: the pack reader is used and
# reports what git's reader and the walk report (exit codes too)
compare_modes () {
	dir=$1
	shift
	(cd "$dir" &&
	 { MESHPUSH_SCAN_DEBUG=1 git meshpush "$@" scan --all --format json >../pack.json 2>../pack.err; echo $? >../pack.rc; } &&
	 { MESHPUSH_SCAN_NO_PACK=1 git meshpush "$@" scan --all --format json >../pipe.json 2>/dev/null; echo $? >../pipe.rc; } &&
	 { MESHPUSH_SCAN_NO_FAST=1 git meshpush "$@" scan --all --format json >../walk.json 2>/dev/null; echo $? >../walk.rc; }) &&
	test_grep "debug: pack pass done" pack.err &&
	{ test -n "$MESHPUSH_SCAN_REVLIST$MESHPUSH_SCAN_KEEP_MAX" || test_grep "debug: walked" pack.err; } &&
	normalize pack.json >pack.txt &&
	normalize pipe.json >pipe.txt &&
	normalize walk.json >walk.txt &&
	test_cmp walk.txt pack.txt &&
	test_cmp pipe.txt pack.txt &&
	test_cmp walk.rc pack.rc &&
	test_cmp pipe.rc pack.rc
}

# max_chain DIR: the longest delta chain of its packs
max_chain () {
	for i in "$1"/.git/objects/pack/*.idx; do git verify-pack -v "$i"; done |
		awk 'NF >= 7 && $6 > m { m = $6 } END { print m + 0 }'
}

test_expect_success 'setup: a file edited 150 times, secrets in old versions, packed with deep chains' '
	git init -q deep &&
	make_history 150 1 | git -C deep fast-import --quiet &&
	git -C deep -c pack.threads=1 repack -q -adf --depth=50 --window=50 &&
	test $(ls deep/.git/objects/pack/*.pack | wc -l) = 1 &&
	chain=$(max_chain deep) && say "longest delta chain: $chain" &&
	test "$chain" -ge 30
'

test_expect_success 'a chain of 119 deltas of a 1 MB file is read in bounded memory' '
	git init -q chain &&
	python3 -c "
import random, sys
rnd = random.Random(5)
lines = [\"line %d %s\" % (i, \"x\" * rnd.randrange(10, 60)) for i in range(25000)]
out = sys.stdout.buffer
for c in range(120):
    for _ in range(3):
        lines[rnd.randrange(len(lines))] = \"edit %d %d\" % (c, rnd.randrange(10**9))
    data = (\"\n\".join(lines) + \"\n\").encode()
    out.write(b\"commit refs/heads/main\ncommitter C <c@e> %d +0000\ndata 1\nc\n\" % (1700000000 + c))
    out.write(b\"M 100644 inline big.txt\ndata %d\n\" % len(data) + data + b\"\n\")
" | git -C chain fast-import --quiet &&
	git -C chain -c pack.threads=1 repack -q -adf --depth=200 --window=10 &&
	test "$(max_chain chain)" -ge 100 &&
	git meshpush scan --stdin </dev/null && # the rules compiled and cached: not what is measured
	(cd chain && MESHPUSH_SCAN_DEBUG=1 /usr/bin/time -f "%M" -o ../rss git-meshpush scan --all >../out 2>../err) &&
	test_grep "pack pass done" err &&
	test_grep "0 findings in 120 files" err &&
	echo "max RSS $(tail -n 1 rss) KiB" &&
	{ test -n "$MESHPUSH_VALGRIND" || test "$(tail -n 1 rss)" -lt 90000; }
'

test_expect_success 'secrets that only live in deltas are found' '
	c=$(git -C deep log --format=%H --reverse | sed -n 8p) &&
	blob=$(git -C deep rev-parse "$c:src/text.txt") &&
	git verify-pack -v deep/.git/objects/pack/*.idx >verify.txt &&
	grep "^$blob blob" verify.txt >line.txt &&
	test $(awk "{print NF}" line.txt) -ge 7 &&
	compare_modes deep &&
	test $(grep -c "^finding .*src/text.txt" pack.txt) = 10 &&
	grep "^finding $c .src/text.txt. " pack.txt
'

test_expect_success 'inflated by zlib instead of libdeflate: the same' '
	(MESHPUSH_SCAN_ZLIB=1 && export MESHPUSH_SCAN_ZLIB && compare_modes deep) &&
	test $(grep -c "^finding .*src/text.txt" pack.txt) = 10
'

test_expect_success 'the pack reader with rev-list (as for packs over 512 MiB): the same' '
	(MESHPUSH_SCAN_REVLIST=1 && export MESHPUSH_SCAN_REVLIST && compare_modes deep) &&
	test $(grep -c "^finding .*src/text.txt" pack.txt) = 10 &&
	test_grep "blobs and rev-list" pack.err
'

# the built-in rules restricted to a path
path_rules=$(awk '/^\[rule "/ { id = $2 } /^path = / { gsub(/[]"]/, "", id); printf "%s ", id }' \
	"$SRC_DIR/src/scan/rules.ini")

test_expect_success 'trees over the memory budget of the walk: rev-list maps the blobs, the same' '
	test -n "$path_rules" &&
	(MESHPUSH_SCAN_KEEP_MAX=10000 && export MESHPUSH_SCAN_KEEP_MAX &&
	 compare_modes deep -c "scan.disable=$path_rules") &&
	test_grep "trees and commits over 10000 bytes: rev-list maps the blobs" pack.err &&
	test $(grep -c "^finding .*src/text.txt" pack.txt) = 10
'

test_expect_success 'over the budget after a pass without the path rules: the walk, the same' '
	(MESHPUSH_SCAN_KEEP_MAX=10000 && export MESHPUSH_SCAN_KEEP_MAX &&
	 cd deep && MESHPUSH_SCAN_DEBUG=1 git meshpush scan --all --format json >../pack.json 2>../pack.err;
	 echo $? >../pack.rc) &&
	test_grep "after a pass without the path rules: no fast path" pack.err &&
	normalize pack.json >pack.txt &&
	test $(grep -c "^finding .*src/text.txt" pack.txt) = 10
'

# Path rules (`path = ...`) are left out of the pack pass and applied in
# the second one to the blobs whose path they match: the same report as
# the walk, where each blob is scanned with its path.
test_expect_success 'rules restricted to a path: found in history at their path only, the same' '
	git init -q paths &&
	(cd paths &&
	 printf "db.internal:5432:app:svc:Vb7Qz2kLw9Xr\n" >notes.txt &&
	 git add notes.txt && git commit -qm "a pgpass line outside .pgpass" &&
	 printf "db.internal:5432:app:svc:Hq4Tn8sYe3Ju\n" >.pgpass &&
	 printf "Kd83JfQ0Zp27LxVb\n" >.erlang.cookie &&
	 mkdir -p deploy && printf "Wm5Rt9Ac2Ep7Yh4N\n" >deploy/.erlang.cookie &&
	 git add . && git commit -qm "credentials" &&
	 git rm -q .pgpass .erlang.cookie && git commit -qm "removed" &&
	 git repack -qad) &&
	compare_modes paths &&
	test_grep "debug: walked" pack.err &&
	test $(grep -c "^finding .*pgpass-password" pack.txt) = 1 &&
	grep "^finding .* .\.pgpass. 1 .* pgpass-password" pack.txt &&
	test $(grep -c "^finding .*erlang-cookie" pack.txt) = 2 &&
	test_grep -v "notes.txt" pack.txt
'

test_expect_success 'a blob over scan.max_size (whole and as a delta) is not scanned, and said so' '
	compare_modes deep -c scan.max_size=2000 &&
	test_grep "^skipped .logs/big.log. larger than scan.max_size (2000 bytes" pack.txt &&
	test_grep -v "logs/big.log.*generic-password" pack.txt &&
	compare_modes deep -c scan.max_size=100000 &&
	test_grep "^finding .*logs/big.log" pack.txt
'

test_expect_success 'a binary blob is skipped as binary' '
	compare_modes deep &&
	test_grep "^skipped .bin/blob.bin. binary file" pack.txt
'

test_expect_success 'several packs holding the same blobs: each blob scanned once' '
	git clone -q --no-local deep multi &&
	make_history 40 2 | sed "s,refs/heads/main,refs/heads/other," | git -C multi fast-import --quiet &&
	git -C multi repack -q -d &&
	git -C multi repack -q -a &&
	git -C multi repack -q -a -f --depth=10 &&
	test $(ls multi/.git/objects/pack/*.pack | wc -l) -ge 3 &&
	compare_modes multi
'

test_expect_success 'bitmaps, reverse indexes, a multi-pack index and a kept pack beside the packs' '
	git clone -q --no-local multi extras &&
	git -C extras -c pack.writeReverseIndex=true repack -q -adb &&
	make_history 10 3 | sed "s,refs/heads/main,refs/heads/third," | git -C extras fast-import --quiet &&
	git -C extras multi-pack-index write &&
	touch "$(ls extras/.git/objects/pack/*.pack | head -n 1 | sed "s/\.pack$/.keep/")" &&
	ls extras/.git/objects/pack >files &&
	grep "\.bitmap$" files && grep "\.rev$" files && grep "multi-pack-index" files && grep "\.keep$" files &&
	compare_modes extras
'

test_expect_success 'loose and packed objects, and a loose copy of a packed blob' '
	git clone -q --no-local deep mixed &&
	(cd mixed &&
	 printf "token = \"ghp_Lq7Wm2Xr9Tz4Vb6Nc1Kd8Hf3Js5Pg0Ya2Ue7\"\n" >loose.txt &&
	 git add loose.txt && git commit -q -m loose &&
	 blob=$(git rev-parse HEAD~3:src/text.txt) &&
	 git cat-file blob $blob >content &&
	 python3 -c "
import os, sys, zlib
oid, data = sys.argv[1], open(sys.argv[2], \"rb\").read()
d = \".git/objects/\" + oid[:2]
os.makedirs(d, exist_ok=True)
open(d + \"/\" + oid[2:], \"wb\").write(zlib.compress(b\"blob %d\0\" % len(data) + data))
" $blob content &&
	 git count-objects -v >count && grep "^count: [1-9]" count &&
	 git cat-file -p $blob >/dev/null) &&
	compare_modes mixed &&
	test_grep "^finding .*loose.txt" pack.txt
'

test_expect_success 'a pack index with 64-bit offsets' '
	git clone -q --no-local deep big-offsets &&
	(cd big-offsets/.git/objects/pack &&
	 idx=$(ls *.idx) && pack=$(ls *.pack) &&
	 size=$(wc -c <"$idx") &&
	 chmod u+w "$idx" && rm -f "$idx" &&
	 git index-pack --index-version=2,256 -o "$idx" "$pack" >/dev/null &&
	 test $(wc -c <"$idx") -gt $size) &&
	compare_modes big-offsets
'

test_expect_success 'REF_DELTA objects (deltas naming their base by id)' '
	git clone -q --no-local deep refdelta &&
	git -C refdelta -c pack.threads=1 -c repack.useDeltaBaseOffset=false repack -q -adf --depth=50 --window=50 &&
	git verify-pack -v refdelta/.git/objects/pack/*.idx >verify.txt &&
	test $(awk "NF >= 7" verify.txt | wc -l) -gt 100 &&
	python3 -c "
import glob, struct, sys
p = open(glob.glob(\"refdelta/.git/objects/pack/*.pack\")[0], \"rb\").read()
offs = [int(l.split()[4]) for l in open(\"verify.txt\") if len(l.split()) >= 5 and l.split()[1] in (\"blob\", \"tree\", \"commit\", \"tag\")]
types = {(p[o] >> 4) & 7 for o in offs}
assert 7 in types and 6 not in types, types
" &&
	compare_modes refdelta &&
	test $(grep -c "^finding .*src/text.txt" pack.txt) = 10
'

test_expect_success 'what the pack reader does not read goes to git reader: a version 1 index, alternates' '
	git clone -q --no-local deep idx1 &&
	(cd idx1/.git/objects/pack && idx=$(ls *.idx) && pack=$(ls *.pack) &&
	 rm -f "$idx" && git index-pack --index-version=1 -o "$idx" "$pack" >/dev/null) &&
	(cd idx1 && MESHPUSH_SCAN_DEBUG=1 test_expect_code 1 git meshpush scan --all --format json >../idx1.json 2>../err) &&
	test_grep "pack reader not used: .*not a version 2 pack index" err &&
	(cd deep && test_expect_code 1 git meshpush scan --all --format json >../deep.json) &&
	normalize idx1.json >idx1.txt && normalize deep.json >deep.txt && test_cmp deep.txt idx1.txt &&
	git clone -q --shared deep shared &&
	test -f shared/.git/objects/info/alternates &&
	(cd shared && MESHPUSH_SCAN_DEBUG=1 test_expect_code 1 git meshpush scan --all --format json >../shared.json 2>../err) &&
	test_grep "pack reader not used: the repository borrows objects" err &&
	normalize shared.json >shared.txt && test_cmp deep.txt shared.txt
'

test_expect_success 'merges, branches and commit dates out of order: the commits and paths of the walk' '
	git init -q dates &&
	(cd dates &&
	 at () { GIT_COMMITTER_DATE="$1 +0000" GIT_AUTHOR_DATE="$1 +0000" && export GIT_COMMITTER_DATE GIT_AUTHOR_DATE; } &&
	 at 1700001000 && test_commit base a.txt "clean" &&
	 git checkout -q -b x && at 1700005000 &&
	 test_commit x1 s.txt "token = \"ghp_Lq7Wm2Xr9Tz4Vb6Nc1Kd8Hf3Js5Pg0Ya2Ue7\"" &&
	 git checkout -q -b y main && at 1700003000 &&
	 test_commit y1 t.txt "token = \"ghp_Lq7Wm2Xr9Tz4Vb6Nc1Kd8Hf3Js5Pg0Ya2Ue7\"" &&
	 at 1700003500 && test_commit y2 dir/v.txt "key = \"ghp_Zq8Rk2vLmN4pX1sT9wYc3bH6dJ0fA5eGuQ7w\"" &&
	 git checkout -q main && at 1700002000 && git merge -q --no-ff -m merge x y &&
	 at 1700001500 && test_commit skewed u.txt "token = \"ghp_Lq7Wm2Xr9Tz4Vb6Nc1Kd8Hf3Js5Pg0Ya2Ue7\"" &&
	 git tag -m tag v1 HEAD~1 && git branch -q -D x &&
	 git repack -q -adf) &&
	compare_modes dates &&
	test $(grep -c "^finding" pack.txt) -ge 2
'

test_expect_success 'a commit not parsed here (odd committer line): libgit2 lists the commits, the same result' '
	git clone -q --no-local dates odd &&
	(cd odd &&
	 tree=$(git rev-parse HEAD^{tree}) && parent=$(git rev-parse HEAD) &&
	 printf "tree %s\nparent %s\nauthor A <a@example.com> 1700009000 +0000\ncommitter C <c@example.com>  1700009000 +0000\n\nodd\n" \
		"$tree" "$parent" >body &&
	 c=$(git hash-object -t commit -w body) && git update-ref refs/heads/odd $c &&
	 git repack -q -adf) &&
	compare_modes odd &&
	test_grep "commits listed by libgit2" pack.err
'

test_expect_success 'an empty repository and one with no packs' '
	git init -q empty &&
	(cd empty && git meshpush scan --all >../out) &&
	git init -q onlyloose &&
	test_commit -C onlyloose one a.txt "token = \"ghp_Lq7Wm2Xr9Tz4Vb6Nc1Kd8Hf3Js5Pg0Ya2Ue7\"" &&
	compare_modes onlyloose &&
	test_grep "^finding .*a.txt" pack.txt
'

# flip_pack_byte DIR OFFSET: damage the byte at OFFSET of DIR's one pack
flip_pack_byte () {
	python3 -c "
import glob, os, sys
p = glob.glob(sys.argv[1] + \"/.git/objects/pack/*.pack\")[0]
os.chmod(p, 0o644)
b = bytearray(open(p, \"rb\").read())
b[int(sys.argv[2])] ^= 0x55
open(p, \"wb\").write(b)
" "$1" "$2"
}

# damage_blob DIR (a copy of deep): the middle of a blob stored whole
damage_blob () {
	git verify-pack -v "$1"/.git/objects/pack/*.idx |
		awk "\$2 == \"blob\" && NF == 5 && \$4 > 200 { print \$5 + int(\$4 / 2); exit }" >offset &&
	test -s offset &&
	flip_pack_byte "$1" "$(cat offset)"
}

test_expect_success 'a damaged pack: the pack reader gives up, and the scan ends in an error' '
	git clone -q --no-local deep damaged &&
	git -C damaged repack -q -adf &&
	damage_blob damaged &&
	(cd damaged && MESHPUSH_SCAN_DEBUG=1 test_expect_code 128 git meshpush scan --all >../out 2>../err) &&
	test_grep "pack reader gave up: .* is damaged" err &&
	test_grep "error: \|damaged" err
'

# libgit2 1.5 crashes (SIGSEGV in git_odb_read_header) on an index whose
# offset points past its pack: git's reader says it is damaged, and the
# scan stops there with git's verdict instead of falling back to libgit2.
test_expect_success 'an index offset past its pack: an error that says so, with every reader, no crash' '
	git clone -q --no-local deep badidx &&
	git -C badidx repack -q -adf &&
	python3 -c "
import glob, os, struct
p = glob.glob(\"badidx/.git/objects/pack/*.idx\")[0]
os.chmod(p, 0o644)
b = bytearray(open(p, \"rb\").read())
n = struct.unpack(\">I\", b[8 + 255 * 4:8 + 256 * 4])[0]
b[8 + 256 * 4 + n * 24 + 4 * 2 + 1] ^= 0x40
open(p, \"wb\").write(b)
" &&
	(cd badidx && MESHPUSH_SCAN_DEBUG=1 test_expect_code 128 git meshpush scan --all >../out 2>../err) &&
	test_grep "its index has a bad offset" err &&
	test_grep "error: git cannot list the objects of .* the repository is damaged" err &&
	(cd badidx && MESHPUSH_SCAN_NO_PACK=1 test_expect_code 128 git meshpush scan --all >../out 2>../err) &&
	test_grep "the repository is damaged" err
'

test_expect_success 'a damaged delta: the pack reader gives up, and the scan ends in an error' '
	git clone -q --no-local deep damaged-delta &&
	git -C damaged-delta -c pack.threads=1 repack -q -adf --depth=50 --window=50 &&
	git verify-pack -v damaged-delta/.git/objects/pack/*.idx |
		awk "\$2 == \"blob\" && NF == 7 && \$4 > 40 { print \$5 + int(\$4 / 2); exit }" >offset &&
	test -s offset &&
	flip_pack_byte damaged-delta "$(cat offset)" &&
	(cd damaged-delta && MESHPUSH_SCAN_DEBUG=1 test_expect_code 128 git meshpush scan --all >../out 2>../err) &&
	test_grep "pack reader gave up: .* is damaged" err
'

test_expect_success 'a truncated pack: an error, never clean' '
	git clone -q --no-local deep truncated &&
	(cd truncated/.git/objects/pack && p=$(ls *.pack) && chmod u+w "$p" &&
	 size=$(wc -c <"$p") && head -c $((size / 2)) "$p" >cut && mv cut "$p") &&
	(cd truncated && MESHPUSH_SCAN_DEBUG=1 git meshpush scan --all >../out 2>../err; echo $? >../rc) &&
	cat err && test "$(cat rc)" = 128 &&
	test_grep "error: .*the repository is damaged" err
'

test_expect_success 'a branch whose commit is damaged (its header intact): an error, never clean' '
	git clone -q --no-local deep damaged-tip &&
	git -C damaged-tip repack -q -adf &&
	tip=$(git -C damaged-tip rev-parse main) &&
	git verify-pack -v damaged-tip/.git/objects/pack/*.idx |
		awk "\$1 == \"$tip\" { print \$5 + int(\$4 / 2) }" >offset &&
	test -s offset &&
	flip_pack_byte damaged-tip "$(cat offset)" &&
	test_must_fail git -C damaged-tip cat-file -p $tip &&
	for mode in "" MESHPUSH_SCAN_NO_PACK MESHPUSH_SCAN_NO_FAST; do
		(cd damaged-tip && env ${mode:+$mode=1} git meshpush scan --all >../out 2>../err; echo $? >../rc) &&
		cat err && test "$(cat rc)" = 128 &&
		test_grep "refs/heads/main.*damaged" err || return 1
	done &&
	echo $tip >damaged-tip/.git/HEAD &&
	git -C damaged-tip for-each-ref --format="%(refname)" >refs &&
	while read r; do git -C damaged-tip update-ref --no-deref -d "$r" || return 1; done <refs &&
	git -C damaged-tip for-each-ref >refs && test ! -s refs &&
	(cd damaged-tip && git meshpush scan --all >../out 2>../err; echo $? >../rc) &&
	cat err && test "$(cat rc)" = 128 &&
	test_grep "HEAD.*damaged" err
'

test_done
