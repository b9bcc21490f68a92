#!/bin/sh
# git meshpush scan: what is allowed (inline comments, allow_paths, the
# ignore file, baselines), user rules and disabled rules.
. "$(dirname "$0")/lib.sh"

GHP=ghp_8Rk2vQz7LmN4pX1sT9wYc3bH6dJ0fA5eGuKi
GHP2=ghp_Zq8Rk2vLmN4pX1sT9wYc3bH6dJ0fA5eGuQ7w

test_expect_success 'setup' '
	git init -q repo &&
	mkdir -p repo/src repo/docs/examples &&
	printf "const t = \"%s\";\n" "$GHP" >repo/src/app.js &&
	printf "token: %s\n" "$GHP2" >repo/docs/examples/setup.md
'

test_expect_success 'both are found without configuration' '
	(cd repo && test_expect_code 1 git meshpush scan >../out) &&
	test_grep "^docs/examples/setup.md:1:8: github-pat" out &&
	test_grep "^src/app.js:1:12: github-pat" out
'

test_expect_success 'an inline meshpush:allow or gitleaks:allow comment allows the line' '
	printf "a = \"%s\" // meshpush:allow\nb = \"%s\" # gitleaks:allow\n" "$GHP" "$GHP2" >allowed.js &&
	git meshpush scan allowed.js >out 2>err &&
	test ! -s out &&
	test_grep "2 allowed" err
'

test_expect_success 'scan.allow_paths in .meshpush.ini' '
	printf "[scan]\nallow_paths = docs/examples/**\n" >repo/.meshpush.ini &&
	(cd repo && test_expect_code 1 git meshpush scan --verbose >../out 2>../err) &&
	test_grep -v "docs/examples" out &&
	test_grep "^src/app.js:1:12: github-pat" out &&
	test_grep "skipped: docs/examples: allowed by scan.allow_paths" err
'

test_expect_success 'allow_paths and fingerprints are the same from a subdirectory' '
	(cd repo/docs && git meshpush scan examples >../../out &&
	 cd ../src && test_expect_code 1 git meshpush scan --format json . >../../sub.json) &&
	test ! -s out &&
	python3 -c "
import json
f = json.load(open(\"sub.json\"))[\"findings\"]
assert [x[\"path\"] for x in f] == [\"app.js\"], f
assert f[0][\"fingerprint\"].startswith(\"github-pat:src/app.js:\"), f
"
'

test_expect_success 'allow_paths applies to --staged and history too' '
	(cd repo && git add . && git commit -q -m one &&
	 test_expect_code 1 git meshpush scan --all --format json >../out.json) &&
	python3 -c "
import json,sys
f=json.load(open(\"out.json\"))[\"findings\"]
assert [x[\"path\"] for x in f]==[\"src/app.js\"], f
"
'

test_expect_success 'the ignore file (.meshpushignore) takes fingerprints' '
	(cd repo && test_expect_code 1 git meshpush scan --format json src >../out.json) &&
	fp=$(python3 -c "import json; print(json.load(open(\"out.json\"))[\"findings\"][0][\"fingerprint\"])") &&
	printf "# accepted: a revoked test token\n%s\n\n" "$fp" >repo/.meshpushignore &&
	(cd repo && git meshpush scan src >../out 2>../err) &&
	test ! -s out &&
	test_grep "1 allowed" err &&
	(cd repo && git meshpush scan --all >../out) &&
	test ! -s out
'

test_expect_success 'the fingerprint survives moving the secret to another line' '
	(cd repo && printf "// header\n\n" >src/tmp && cat src/app.js >>src/tmp && mv src/tmp src/app.js &&
	 git meshpush scan src >../out) &&
	test ! -s out
'

test_expect_success 'scan.ignore_file names another file' '
	(cd repo && mv .meshpushignore accepted.txt &&
	 test_expect_code 1 git meshpush scan src >/dev/null &&
	 git meshpush -c scan.ignore_file=accepted.txt scan src >../out) &&
	test ! -s out &&
	rm repo/accepted.txt
'

test_expect_success '--baseline: findings of an earlier report are not reported, new ones are' '
	(cd repo && test_expect_code 1 git meshpush scan --format json >../base.json &&
	 git meshpush scan --baseline ../base.json >../out &&
	 printf "x = \"%s\"\n" "$GHP2" >>src/app.js &&
	 test_expect_code 1 git meshpush scan --baseline ../base.json >../out2) &&
	test ! -s out &&
	test_grep "^src/app.js:4:6: github-pat" out2 &&
	test "$(wc -l <out2)" -eq 1
'

test_expect_success 'a baseline that is not a report is a usage error' '
	echo "[]" >bad.json &&
	(cd repo && test_expect_code 2 git meshpush scan --baseline ../bad.json 2>../err) &&
	test_grep "is not a scan report" err &&
	(cd repo && test_expect_code 2 git meshpush scan --baseline ../nope.json 2>../err) &&
	test_grep "cannot read the baseline" err
'

test_expect_success 'a user rule in .meshpush.ini' '
	git init -q ur &&
	cat >ur/.meshpush.ini <<-\EOF &&
	[rule "mesh-internal-key"]
	description = Mesh internal key
	regex = \b(MESHK-[0-9A-F]{16})\b
	keywords = meshk-
	EOF
	printf "key = MESHK-0A1B2C3D4E5F6789\n" >ur/k.txt &&
	(cd ur && test_expect_code 1 git meshpush scan k.txt >../out) &&
	echo "k.txt:1:7: mesh-internal-key: Mesh internal key: MESH…(22 chars)" >expect &&
	test_cmp expect out
'

test_expect_success 'a user rule with a bad regex is a configuration error naming it' '
	cat >ur/.meshpush.ini <<-\EOF &&
	[rule "broken"]
	description = Broken
	regex = (unclosed
	EOF
	(cd ur && test_expect_code 2 git meshpush scan k.txt 2>../err) &&
	test_grep ".meshpush.ini:3" err
'

test_expect_success 'scan.disable turns a rule off; an unknown id is warned about' '
	printf "[scan]\ndisable = github-pat no-such-rule\n" >ur/.meshpush.ini &&
	printf "t = \"%s\"\n" "$GHP" >ur/t.js &&
	(cd ur && git meshpush scan t.js >../out 2>../err) &&
	test ! -s out &&
	test_grep "no-such-rule" err
'

test_expect_success 'the compiled rules are cached, and a damaged cache is rebuilt' '
	rm -rf "$XDG_CACHE_HOME/meshpush" &&
	git meshpush scan ur/k.txt >/dev/null &&
	ls "$XDG_CACHE_HOME"/meshpush/rules-*.hsdb >caches &&
	test "$(wc -l <caches)" -eq 1 &&
	f=$(cat caches) &&
	head -c 100 "$f" >"$f.tmp" && mv "$f.tmp" "$f" &&
	printf "t = \"%s\"\n" "$GHP" >c.js &&
	test_expect_code 1 git meshpush scan c.js >out &&
	test_grep "github-pat" out &&
	test "$(wc -c <"$f")" -gt 1000
'

test_expect_success 'a user rule gets its own cache entry' '
	printf "[rule \"x\"]\ndescription = X\nregex = (XKEY-[0-9]{8})\n" >ur/.meshpush.ini &&
	(cd ur && git meshpush scan k.txt >/dev/null) &&
	test "$(ls "$XDG_CACHE_HOME"/meshpush/rules-*.hsdb | wc -l)" -eq 2
'

# Rules restricted to a path are compiled into a database of their own,
# scanned only over the files they apply to: the same rule with and
# without `path` must not share a cached database.
test_expect_success 'a rule restricted to a path applies there only, and without the path everywhere' '
	rm -rf "$XDG_CACHE_HOME/meshpush" &&
	printf "id: XKEY-12345678\n" >ur/keys.txt &&
	printf "id: XKEY-87654321\n" >ur/notes.txt &&
	printf "[rule \"x\"]\ndescription = X\nregex = (XKEY-[0-9]{8})\npath = (?:^|/)keys\\.txt$\n" >ur/.meshpush.ini &&
	(cd ur && test_expect_code 1 git meshpush scan keys.txt notes.txt >../out) &&
	test_grep "^keys.txt:1:5: x:" out &&
	test_grep -v "notes.txt" out &&
	printf "[rule \"x\"]\ndescription = X\nregex = (XKEY-[0-9]{8})\n" >ur/.meshpush.ini &&
	(cd ur && test_expect_code 1 git meshpush scan keys.txt notes.txt >../out) &&
	test_grep "^keys.txt:1:5: x:" out &&
	test_grep "^notes.txt:1:5: x:" out
'

# trigger: what Hyperscan looks for instead of the regex (docs/rules.md);
# PCRE2 then reads the whole line, so the secret is the regex's group.
test_expect_success 'a rule with a trigger: Hyperscan looks for the trigger, the secret is the regex group' '
	cat >ur/.meshpush.ini <<-\EOF &&
	[rule "x"]
	description = X
	regex = (XKEY-[0-9]{8}(?:-[A-Z]{4})?)\b
	trigger = XKEY-[0-9]{8}
	EOF
	printf "id: XKEY-12345678-ABCD\n" >ur/t1.txt &&
	(cd ur && test_expect_code 1 git meshpush scan --no-redact t1.txt >../out) &&
	test_grep "^t1.txt:1:5: x: X: XKEY-12345678-ABCD$" out &&
	sed -i "s/^trigger = .*/trigger = NOT-THERE/" ur/.meshpush.ini &&
	(cd ur && git meshpush scan t1.txt >../out) &&
	test ! -s out
'

test_expect_success 'a cache whose rule map is damaged is not used, and is rebuilt' '
	rm -rf "$XDG_CACHE_HOME/meshpush" &&
	printf "t = \"%s\"\n" "$GHP" >c.js &&
	test_expect_code 1 git meshpush scan c.js >/dev/null &&
	f=$(ls "$XDG_CACHE_HOME"/meshpush/rules-*.hsdb) &&
	python3 -c "
import struct, sys
b = bytearray(open(sys.argv[1], \"rb\").read())
nrules, npat = struct.unpack(\"<II\", b[8:16])
at = 16 + 4 * nrules
b[at:at + 4 * npat] = bytes(4 * npat)  # every pattern: rule 0
open(sys.argv[1], \"wb\").write(b)
" "$f" &&
	cp "$f" damaged &&
	test_expect_code 1 git meshpush scan c.js >out &&
	test_grep "github-pat" out &&
	! cmp -s "$f" damaged
'

test_expect_success 'without an absolute HOME, no cache in the current directory' '
	mkdir nohome &&
	printf "t = \"%s\"\n" "$GHP" >nohome/c.js &&
	(cd nohome && env -u HOME -u XDG_CACHE_HOME git-meshpush scan c.js >../out; echo $? >../rc) &&
	test "$(cat rc)" = 1 && test_grep "github-pat" out &&
	(cd nohome && env -u XDG_CACHE_HOME HOME=. git-meshpush scan c.js >../out; echo $? >../rc) &&
	test "$(cat rc)" = 1 && test_grep "github-pat" out &&
	ls -a nohome >files &&
	printf ".\n..\nc.js\n" >expect &&
	test_cmp expect files
'

test_expect_success 'the cache keeps the databases of the 8 newest configurations' '
	rm -rf "$XDG_CACHE_HOME/meshpush" &&
	mkdir -p "$XDG_CACHE_HOME/meshpush" &&
	for i in 1 2 3 4 5 6 7 8 9 10; do
		echo old >"$XDG_CACHE_HOME/meshpush/rules-old$i.hsdb" &&
		touch -d "2026-01-$((10 + i))" "$XDG_CACHE_HOME/meshpush/rules-old$i.hsdb" || return 1
	done &&
	echo partial >"$XDG_CACHE_HOME/meshpush/rules-x.hsdb.meshpush-tmp.12345" &&
	touch -d "2026-01-01" "$XDG_CACHE_HOME/meshpush/rules-x.hsdb.meshpush-tmp.12345" &&
	echo partial >"$XDG_CACHE_HOME/meshpush/rules-y.hsdb.meshpush-tmp.23456" &&
	echo notes >"$XDG_CACHE_HOME/meshpush/README" &&
	printf "t = \"%s\"\n" "$GHP" >c.js &&
	test_expect_code 1 git meshpush scan c.js >out &&
	test_grep "github-pat" out &&
	(cd "$XDG_CACHE_HOME/meshpush" && ls) >files &&
	test "$(grep -c "^rules-.*\.hsdb$" files)" = 8 &&
	test "$(grep -c "^rules-old" files)" = 7 &&
	test_grep "rules-old10.hsdb" files &&
	test_grep -v "rules-old3.hsdb" files &&
	test_grep -v "rules-x.hsdb.meshpush-tmp" files &&
	test_grep "rules-y.hsdb.meshpush-tmp" files &&
	test_grep "^README$" files &&
	test_expect_code 1 git meshpush scan c.js >out &&
	test_grep "github-pat" out
'

test_done
