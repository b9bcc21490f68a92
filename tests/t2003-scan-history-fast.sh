#!/bin/sh
# scan --all's fast path (git cat-file + rev-list feeding the engine) must
# report exactly what the libgit2 walk reports: reachable blobs only, each
# with its commit and its full path, whatever the file is called.
. "$(dirname "$0")/lib.sh"

GHP=ghp_8Rk2vQz7LmN4pX1sT9wYc3bH6dJ0fA5eGuKi
XOXB=xoxb-2048193746501-2048193746502-Qw3rTy8uIoP5aSdF6gHjKl9Z

json_findings () { # FILE: "commit path line rule" per finding, sorted
	python3 -c '
import json, sys
r = json.load(open(sys.argv[1]))
for f in r["findings"]:
    print(f["commit"], repr(f["path"]), f["line"], f["rule"])
' "$1" | sort
}

test_expect_success 'setup: history with secrets on branches, a tag, odd names and an unreachable blob' '
	git init -q hist &&
	(cd hist &&
	 printf "a\n" >clean.txt && git add clean.txt && git commit -q -m one &&
	 printf "token = \"%s\"\n" "$GHP" >"with space.js" && git add . && git commit -q -m two &&
	 git rm -q "with space.js" && git commit -q -m three &&
	 git checkout -q -b side &&
	 printf "SLACK=%s\n" "$XOXB" >"$(printf "new\nline.env")" && git add . && git commit -q -m side &&
	 git checkout -q main &&
	 printf "x\n" >tagged.txt && git add tagged.txt && git commit -q -m four && git tag v1 &&
	 printf "SLACK=%s\nhidden\n" "$XOXB" | git hash-object -w --stdin >../unreachable.oid)
'

test_expect_success 'the fast path and the walk report the same findings' '
	(cd hist && test_expect_code 1 git meshpush scan --all --format json >../fast.json &&
	 MESHPUSH_SCAN_NO_FAST=1 test_expect_code 1 git meshpush scan --all --format json >../walk.json) &&
	json_findings fast.json >fast.txt &&
	json_findings walk.json >walk.txt &&
	test_cmp walk.txt fast.txt &&
	test $(wc -l <fast.txt) = 2
'

test_expect_success 'a deleted secret is reported with the commit that added it and its full path' '
	added=$(git -C hist rev-parse main~2) &&
	test_grep "^$added '"'"'with space.js'"'"' 1 github-pat" fast.txt
'

test_expect_success 'a file name with a newline keeps its whole path' '
	test_grep "'"'"'new\\\\nline.env'"'"' 1 slack-bot-token" fast.txt
'

test_expect_success 'a blob no ref reaches is not reported' '
	oid=$(cat unreachable.oid) &&
	git -C hist cat-file -e "$oid" &&
	test $(grep -c slack-bot-token fast.txt) = 1
'

test_done
