#!/bin/sh
# git meshpush scan on bad input: invalid UTF-8, NUL bytes, CRLF, a 200 MB
# file, a 10 MB line, damaged, shallow and empty repositories.  Never a
# crash, never a silent "clean".
. "$(dirname "$0")/lib.sh"

GHP=ghp_8Rk2vQz7LmN4pX1sT9wYc3bH6dJ0fA5eGuKi
GHP2=ghp_Zq8Rk2vLmN4pX1sT9wYc3bH6dJ0fA5eGuQ7w

test_expect_success 'invalid UTF-8 around a secret: found, and the JSON is valid' '
	printf "\377\376 caf\351 \300\200\ntoken = \"%s\" \355\240\200\n" "$GHP" >bad-utf8.txt &&
	test_expect_code 1 git meshpush scan --format json --no-redact bad-utf8.txt >out.json &&
	python3 -c "
import json
f = json.load(open(\"out.json\"))[\"findings\"]
assert len(f) == 1 and f[0][\"line\"] == 2 and f[0][\"secret\"] == \"$GHP\", f
"
'

test_expect_success 'invalid UTF-8 in a path is still reported in valid JSON' '
	mkdir -p odd && printf "t = \"%s\"\n" "$GHP" >"odd/$(printf "n\351e")" &&
	test_expect_code 1 git meshpush scan --format json odd >out.json &&
	python3 -c "import json; json.load(open(\"out.json\"))"
'

test_expect_success 'a NUL byte in the first 8 KiB: binary, skipped and said so' '
	printf "t = \"%s\"\n\000\001\002" "$GHP" >blob.bin &&
	git meshpush scan --verbose blob.bin >out 2>err &&
	test ! -s out &&
	test_grep "skipped: blob.bin: binary file" err &&
	git meshpush scan --format json blob.bin >out.json &&
	python3 -c "
import json
r = json.load(open(\"out.json\"))
assert r[\"skipped\"] == [{\"path\": \"blob.bin\", \"reason\": \"binary file\"}], r
"
'

test_expect_success 'a NUL byte after the first 8 KiB: text, scanned' '
	{ yes "just text" | head -c 9000 && printf "\000\nt = \"%s\"\n" "$GHP"; } >late-nul.txt &&
	test_expect_code 1 git meshpush scan late-nul.txt >out &&
	test_grep "^late-nul.txt:[0-9]*:6: github-pat" out
'

test_expect_success 'binary from stdin is skipped and said so' '
	printf "\000\001" | git meshpush scan --stdin --verbose >out 2>err &&
	test_grep "(stdin): binary file" err
'

test_expect_success 'CRLF: right line and column, secret without CR' '
	printf "one\r\ntwo\r\npassword = \"q9Xv2Lm7Rk4Tz8Wp\"\r\n" >crlf.txt &&
	test_expect_code 1 git meshpush scan --format json --no-redact crlf.txt >out.json &&
	python3 -c "
import json
f = json.load(open(\"out.json\"))[\"findings\"]
assert len(f) == 1 and f[0][\"line\"] == 3 and f[0][\"column\"] == 13, f
assert f[0][\"secret\"] == \"q9Xv2Lm7Rk4Tz8Wp\", f
"
'

test_expect_success 'a CRLF private key block is found whole' '
	printf -- "-----BEGIN RSA PRIVATE KEY-----\r\nMIIEpAIBAAKCAQEAx9Jq3vK1mZ7pL0sT2wYc4bH8dN6fR5eGuQiWoXyCjVkAlBnDzE\r\nRt7Ys2Pq9Lm3Nk4Jh5Gf6Dd7Ss8Aa9Zx0Cv1Bn2Mm3Qw4Er5Ty6Ui7Op8Aa9Ss0D\r\n-----END RSA PRIVATE KEY-----\r\n" >key.pem &&
	test_expect_code 1 git meshpush scan key.pem >out &&
	test_grep "^key.pem:1:1: " out &&
	test "$(wc -l <out)" -eq 1
'

test_expect_success 'one 10 MB line with a secret in the middle' '
	python3 -c "
import sys
pad = \"a1b2 \" * 1000000
sys.stdout.write(pad + \"token=\\\"$GHP\\\" \" + pad)
" >long-line.txt &&
	test_expect_code 1 git meshpush scan --format json long-line.txt >out.json &&
	python3 -c "
import json
f = json.load(open(\"out.json\"))[\"findings\"]
assert len(f) == 1 and f[0][\"line\"] == 1 and f[0][\"column\"] == 5000008, f
"
'

test_expect_success 'a 200 MB file over scan.max_size: not scanned, and said so' '
	{ yes "ordinary text, nothing to see" | head -c 200000000 && printf "t = \"%s\"\n" "$GHP"; } >big.txt &&
	git meshpush scan big.txt >out 2>err &&
	test ! -s out &&
	test_grep "warning: 1 file could not be scanned" err &&
	git meshpush scan --verbose big.txt 2>err &&
	test_grep "skipped: big.txt: larger than scan.max_size (10485760 bytes)" err &&
	test_expect_code 1 git meshpush scan --strict big.txt &&
	git meshpush scan --format json big.txt >out.json &&
	python3 -c "
import json
r = json.load(open(\"out.json\"))
assert r[\"stats\"][\"unscanned\"] == 1 and r[\"skipped\"][0][\"path\"] == \"big.txt\", r
"
'

test_expect_success 'with scan.max_size raised, the 200 MB file is scanned in bounded memory' '
	test_expect_code 1 /usr/bin/time -f "%M" -o rss git-meshpush -c scan.max_size=300000000 scan big.txt >out &&
	test_grep "^big.txt:6666667:26: github-pat" out &&
	echo "max RSS $(cat rss) KiB" &&
	test "$(tail -n 1 rss)" -lt 150000 &&
	rm -f big.txt
'

test_expect_success 'an unreadable file is listed as not scanned' '
	printf "t = \"%s\"\n" "$GHP" >secret.txt && chmod 000 secret.txt &&
	if test "$(id -u)" = 0; then
		say "running as root: permissions do not stop reads, using a dangling path instead" &&
		chmod 644 secret.txt && mkdir -p unreadable && chmod 000 unreadable &&
		git meshpush scan unreadable secret.txt >out 2>err; rc=$?
		chmod 755 unreadable
	else
		git meshpush scan secret.txt >out 2>err; rc=$?
		test_grep "warning: 1 file could not be scanned" err
	fi &&
	chmod 644 secret.txt && test $rc -le 1
'

test_expect_success 'setup: a repository with two secrets in history' '
	git init -q repo &&
	test_commit -C repo one a.txt "t = \"$GHP\"" &&
	test_commit -C repo two b.txt "u = \"$GHP2\"" &&
	test_commit -C repo three c.txt "clean"
'

test_expect_success 'a damaged repository: what can be read is reported, then exit 128' '
	git clone -q --no-local repo damaged &&
	git -C damaged repack -q -a -d &&
	git -C damaged unpack-objects </dev/null 2>/dev/null;
	blob=$(git -C damaged rev-parse HEAD~1:b.txt) &&
	pack=$(ls damaged/.git/objects/pack/*.pack) &&
	mkdir -p tmp-unpack && git init -q --bare tmp-unpack/r.git &&
	git -C tmp-unpack/r.git unpack-objects <"$pack" &&
	rm -rf damaged/.git/objects/pack/* &&
	cp -r tmp-unpack/r.git/objects/?? damaged/.git/objects/ &&
	f=damaged/.git/objects/$(echo $blob | cut -c1-2)/$(echo $blob | cut -c3-) &&
	chmod 644 "$f" && head -c 10 "$f" >"$f.cut" && mv "$f.cut" "$f" &&
	(cd damaged && test_expect_code 128 git meshpush scan --all >../out 2>../err) &&
	test_grep "a.txt:1:6: github-pat" out &&
	test_grep "could not be read: the repository is damaged" err &&
	(cd damaged && test_expect_code 128 git meshpush scan --range HEAD >../out 2>../err) &&
	test_grep "a.txt:1:6: github-pat" out &&
	test_grep "could not be read" err
'

test_expect_success 'a shallow clone: --all and --range scan what is there' '
	git clone -q --depth 1 "file://$TRASH/repo" shallow &&
	(cd shallow && test_expect_code 1 git meshpush scan --all >../out) &&
	test_grep "^a.txt:1:6: github-pat" out &&
	test_grep "^b.txt:1:6: github-pat" out &&
	(cd shallow && test_expect_code 1 git meshpush scan --range HEAD >../out) &&
	test "$(wc -l <out)" -eq 2
'

test_expect_success 'a commit whose parent is missing, not a shallow clone: an error, never clean' '
	git init -q noparent &&
	(cd noparent &&
	 printf "token = \"%s\"\n" ghp_Lq7Wm2Xr9Tz4Vb6Nc1Kd8Hf3Js5Pg0Ya2Ue7 >a.txt &&
	 git add a.txt && git commit -q -m one && git repack -q -ad &&
	 git rm -q a.txt && git commit -q -m two &&
	 echo x >b.txt && git add b.txt && git commit -q -m three &&
	 mid=$(git rev-parse HEAD~1) &&
	 rm .git/objects/$(echo $mid | cut -c1-2)/$(echo $mid | cut -c3-) &&
	 test_must_fail git rev-list --all >/dev/null 2>&1) &&
	for mode in "" MESHPUSH_SCAN_NO_PACK MESHPUSH_SCAN_NO_FAST; do
		(cd noparent && env ${mode:+$mode=1} git meshpush scan --all >../out 2>../err; echo $? >../rc) &&
		cat err && test "$(cat rc)" = 128 &&
		test_grep "damaged" err || return 1
	done &&
	(cd noparent && test_expect_code 128 git meshpush scan --range HEAD >../out 2>../err) &&
	test_grep "damaged" err
'

test_expect_success 'an empty repository: nothing to scan, exit 0' '
	git init -q empty &&
	(cd empty && git meshpush scan --all >../out 2>../err && git meshpush scan --staged >>../out && git meshpush scan >>../out) &&
	test ! -s out &&
	test_grep "0 findings" err
'

test_expect_success 'an empty repository: a range there is an error (128)' '
	(cd empty && test_expect_code 128 git meshpush scan --range HEAD 2>../err) &&
	test_grep "cannot resolve the range .HEAD." err
'

test_done
