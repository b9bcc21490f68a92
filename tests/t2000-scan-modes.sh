#!/bin/sh
# git meshpush scan: paths, --stdin, --staged, --range, --all and their output.
. "$(dirname "$0")/lib.sh"

GHP=ghp_8Rk2vQz7LmN4pX1sT9wYc3bH6dJ0fA5eGuKi
GHP2=ghp_Zq8Rk2vLmN4pX1sT9wYc3bH6dJ0fA5eGuQ7w
PW=q9Xv2Lm7Rk4Tz8Wp

test_expect_success 'setup: a repository with a secret in a file' '
	git init -q repo &&
	mkdir -p repo/src repo/docs &&
	printf "const a = 1;\nconst token = \"%s\";\n" "$GHP" >repo/src/app.js &&
	printf "# readme\nnothing here\n" >repo/docs/readme.md
'

test_expect_success 'scan of a directory: the finding, redacted, and exit 1' '
	(cd repo && test_expect_code 1 git meshpush scan src docs >../out 2>../err) &&
	echo "src/app.js:2:16: github-pat: GitHub personal access token (classic): ghp_…(40 chars)" >expect &&
	test_cmp expect out &&
	test_grep "scan: 1 finding in 2 files" err &&
	test_grep -v "$GHP" out
'

test_expect_success 'scan of one file, --no-redact shows the secret' '
	(cd repo && test_expect_code 1 git meshpush scan --no-redact src/app.js >../out) &&
	test_grep "$GHP" out
'

test_expect_success 'a clean file exits 0 and prints nothing on stdout' '
	(cd repo && git meshpush scan docs/readme.md >../out 2>../err) &&
	test_must_be_empty () { test ! -s "$1"; } &&
	test_must_be_empty out &&
	test_grep "scan: 0 findings in 1 file" err
'

test_expect_success 'scan with no argument scans the current directory, not .git' '
	(cd repo && git add . && git commit -q -m one &&
	 test_expect_code 1 git meshpush scan >../out) &&
	test_grep "^src/app.js:2:16:" out &&
	test_grep -v "^\.git" out
'

test_expect_success 'a path that does not exist is an error (exit 2)' '
	(cd repo && test_expect_code 2 git meshpush scan nope.txt 2>../err) &&
	test_grep "cannot scan .nope.txt." err
'

test_expect_success '--stdin' '
	printf "x = 1\ndb_password = \"%s\"\n" "$PW" | test_expect_code 1 git meshpush scan --stdin >out &&
	test_grep "^(stdin):2:16: generic-[a-z-]*: " out &&
	echo "nothing" | git meshpush scan --stdin >out &&
	test ! -s out
'

test_expect_success '--format json: shape, redaction, fingerprint' '
	(cd repo && test_expect_code 1 git meshpush scan --format json src >../out.json) &&
	python3 - out.json "$GHP" <<-\PY
	import json, sys
	r = json.load(open(sys.argv[1]))
	assert r["version"] == 1, r
	f = r["findings"]
	assert len(f) == 1, f
	f = f[0]
	assert set(f) == {"rule", "description", "path", "line", "column", "commit", "secret", "fingerprint"}, f
	assert f["rule"] == "github-pat" and f["path"] == "src/app.js" and f["line"] == 2 and f["column"] == 16, f
	assert f["commit"] is None
	assert f["secret"] == "ghp_…(40 chars)", f
	assert sys.argv[2] not in open(sys.argv[1]).read()
	assert f["fingerprint"].startswith("github-pat:src/app.js:"), f
	assert r["stats"]["files"] == 1 and r["stats"]["findings"] == 1, r["stats"]
	assert isinstance(r["skipped"], list)
	PY
'

test_expect_success '--format sarif: SARIF 2.1.0 for code scanning' '
	(cd repo && test_expect_code 1 git meshpush scan --format sarif src >../out.sarif) &&
	python3 - out.sarif <<-\PY
	import json, sys
	s = json.load(open(sys.argv[1]))
	assert s["version"] == "2.1.0" and "sarif" in s["$schema"]
	run = s["runs"][0]
	assert run["tool"]["driver"]["name"] == "git-meshpush"
	rules = run["tool"]["driver"]["rules"]
	assert [r["id"] for r in rules] == ["github-pat"], rules
	assert rules[0]["shortDescription"]["text"]
	res = run["results"][0]
	assert res["ruleId"] == "github-pat" and res["ruleIndex"] == 0 and res["level"] == "error"
	loc = res["locations"][0]["physicalLocation"]
	assert loc["artifactLocation"]["uri"] == "src/app.js"
	assert loc["region"] == {"startLine": 2, "startColumn": 16}, loc
	assert res["partialFingerprints"]
	assert "ghp_8Rk" not in json.dumps(s)
	PY
'

test_expect_success 'an unknown format is a usage error' '
	test_expect_code 2 git meshpush scan --format xml --stdin </dev/null 2>err &&
	test_grep "unknown format" err
'

test_expect_success '--staged before the first commit scans the whole index' '
	git init -q fresh &&
	printf "token = \"%s\"\n" "$GHP" >fresh/a.txt &&
	git -C fresh add a.txt &&
	(cd fresh && test_expect_code 1 git meshpush scan --staged >../out) &&
	test_grep "^a.txt:1:10: github-pat:" out
'

test_expect_success '--staged scans only the added lines, with their line numbers' '
	(cd repo && printf "line\n" >>docs/readme.md &&
	 printf "x\ny\nsecret_token = \"%s\"\n" "$PW" >>src/app.js &&
	 git add . && test_expect_code 1 git meshpush scan --staged >../out) &&
	test_line_count () { test "$(wc -l <"$2")" -eq "$1"; } &&
	test_line_count 1 out &&
	test_grep "^src/app.js:5:17: generic-[a-z-]*: .*: q9Xv…(16 chars)$" out
'

test_expect_success '--staged is clean when nothing staged adds a secret' '
	(cd repo && git commit -q -m two &&
	 printf "more\n" >>docs/readme.md && git add . &&
	 git meshpush scan --staged >../out) &&
	test ! -s out
'

test_expect_success 'setup: history where a secret is added, then deleted' '
	git init -q hist &&
	test_commit -C hist first a.txt "hello" &&
	printf "hello\nkey = \"%s\"\n" "$GHP2" >hist/a.txt &&
	git -C hist commit -q -am "add a token" &&
	git -C hist rev-parse HEAD >leak_commit &&
	test_commit -C hist third b.txt "more" &&
	printf "hello\n" >hist/a.txt &&
	git -C hist commit -q -am "remove the token" &&
	test_commit -C hist fifth c.txt "clean"
'

test_expect_success 'the work tree is clean now' '
	(cd hist && git meshpush scan >../out) && test ! -s out
'

test_expect_success '--all finds the deleted secret, with its commit' '
	(cd hist && test_expect_code 1 git meshpush scan --all --format json >../out.json) &&
	python3 - out.json "$(cat leak_commit)" <<-\PY
	import json, sys
	f = json.load(open(sys.argv[1]))["findings"]
	assert len(f) == 1, f
	assert f[0]["commit"] == sys.argv[2] and f[0]["path"] == "a.txt" and f[0]["line"] == 2, f
	PY
'

test_expect_success '--all text names the commit' '
	(cd hist && test_expect_code 1 git meshpush scan --all >../out) &&
	c=$(cut -c1-12 leak_commit) &&
	test_grep "^a.txt:2:8: github-pat: .* (commit $c)$" out
'

test_expect_success '--range A..B finds it in the range that added it, not in others' '
	(cd hist &&
	 test_expect_code 1 git meshpush scan --range HEAD~4..HEAD~2 >../out &&
	 git meshpush scan --range HEAD~2..HEAD >../out2) &&
	test_grep "^a.txt:2:8: github-pat:" out &&
	test ! -s out2
'

test_expect_success '--range with a single revision scans its history' '
	(cd hist && test_expect_code 1 git meshpush scan --range HEAD >../out) &&
	test_grep "a.txt:2:8: github-pat" out
'

test_expect_success '--range A...B' '
	(cd hist && git branch side HEAD~4 && test_expect_code 1 git meshpush scan --range side...main >../out) &&
	test_grep "github-pat" out
'

test_expect_success 'a pure rename adds nothing; a rename with edits adds its edits' '
	git init -q ren &&
	printf "k = \"%s\"\nplain\n" "$GHP" >ren/a.txt &&
	for i in 1 2 3 4 5 6 7 8; do echo "line $i of a longer file" >>ren/a.txt; done &&
	git -C ren add . && git -C ren commit -q -m one &&
	git -C ren mv a.txt b.txt && git -C ren commit -q -m rename &&
	(cd ren && git meshpush scan --range HEAD~1..HEAD >../out) &&
	test ! -s out &&
	git -C ren mv b.txt c.txt && printf "p = \"%s\"\n" "$GHP2" >>ren/c.txt &&
	git -C ren add . && git -C ren commit -q -m "rename and edit" &&
	(cd ren && test_expect_code 1 git meshpush scan --range HEAD~1..HEAD >../out) &&
	test "$(wc -l <out)" -eq 1 &&
	test_grep "^c.txt:11:6: github-pat" out
'

test_expect_success 'merges: what a branch brought is reported in its own commit; an evil merge in the merge' '
	git init -q mrg &&
	test_commit -C mrg base a.txt "base" &&
	git -C mrg checkout -q -b feature &&
	printf "k = \"%s\"\n" "$GHP" >mrg/f.txt && git -C mrg add f.txt && git -C mrg commit -q -m feature &&
	git -C mrg rev-parse HEAD >feature_commit &&
	git -C mrg checkout -q main && test_commit -C mrg other b.txt "other" &&
	git -C mrg merge -q --no-ff --no-commit feature &&
	printf "e = \"%s\"\n" "$GHP2" >>mrg/b.txt && git -C mrg add b.txt &&
	git -C mrg commit -q -m "evil merge" &&
	git -C mrg rev-parse HEAD >merge_commit &&
	(cd mrg && test_expect_code 1 git meshpush scan --range main~1..main --format json >../out.json) &&
	python3 - out.json "$(cat feature_commit)" "$(cat merge_commit)" <<-\PY
	import json, sys
	f = json.load(open(sys.argv[1]))["findings"]
	got = sorted((x["path"], x["commit"]) for x in f)
	assert got == [("b.txt", sys.argv[3]), ("f.txt", sys.argv[2])], got
	PY
'

test_expect_success 'an unresolvable range exits 128 with a message' '
	(cd hist && test_expect_code 128 git meshpush scan --range nope..HEAD 2>../err) &&
	test_grep "cannot resolve the range .nope..HEAD." err
'

test_expect_success '--staged outside a repository exits 128' '
	mkdir -p norepo && (cd norepo && GIT_CEILING_DIRECTORIES="$TRASH" test_expect_code 128 git meshpush scan --staged 2>../err) &&
	test_grep "not in a git repository" err
'

test_expect_success 'two modes at once are a usage error' '
	(cd hist && test_expect_code 2 git meshpush scan --all --staged 2>../err) &&
	test_grep "give one of" err
'

test_done
