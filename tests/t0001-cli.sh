#!/bin/sh
# The command line: dispatch, --help, --version, usage errors and exit codes.
. "$(dirname "$0")/lib.sh"

test_expect_success '--version prints the version' '
	git meshpush --version >out &&
	test_grep "^git-meshpush version $(cat "$SRC_DIR/VERSION")" out &&
	git-meshpush version >out2 &&
	test_cmp out out2
'

test_expect_success 'an unknown command exits with the usage code and names it' '
	test_expect_code 2 git meshpush frobnicate 2>err &&
	test_grep "'"'"'frobnicate'"'"' is not a git meshpush command" err
'

test_expect_success 'an unknown option exits with the usage code, never help and 0' '
	git init -q repo &&
	test_expect_code 2 git -C repo meshpush log --frobnicate >out 2>err &&
	test_grep "unknown option '"'"'--frobnicate'"'"'" err &&
	test_must_fail test -s out
'

test_expect_success 'an unknown global option is a usage error' '
	test_expect_code 2 git meshpush --frobnicate 2>err &&
	test_grep "unknown option" err
'

test_expect_success 'output cut short by its reader (| head) is not an error' '
	mkdir -p repo/.git/meshpush &&
	i=0 && while test $i -lt 3000; do
		echo "{\"time\":\"2026-11-26T10:00:00Z\",\"event\":\"install\",\"n\":$i,\"pad\":\"$(printf %060d 0)\"}"
		i=$((i + 1))
	done >repo/.git/meshpush/journal.jsonl &&
	{ git -C repo meshpush log 2>err; echo $? >code; } | head -n 1 >first &&
	test_grep "n=0 " first &&
	test_must_fail test -s err &&
	echo 0 >expect &&
	test_cmp expect code &&
	rm -r repo/.git/meshpush &&
	test_expect_code 128 git -C repo meshpush config --keys >/dev/full 2>err &&
	test_grep "cannot write the output" err
'

test_expect_success 'no command prints the usage to stderr and exits 2' '
	test_expect_code 2 git-meshpush 2>err &&
	test_grep "^usage: git meshpush" err
'

test_expect_success 'git meshpush --help opens the man page git-meshpush(1)' '
	mkdir -p man/man1 &&
	cp "$SRC_DIR/git-meshpush.1" man/man1/ &&
	MANPATH="$TRASH/man" MANPAGER=cat PAGER=cat MANWIDTH=80 git meshpush --help >out 2>&1 &&
	test_grep "GIT-MESHPUSH(1)" out
'

test_expect_success '--help lists every command; a command --help shows its options and exits 0' '
	git-meshpush --help >out &&
	for c in init hooks hook scan push announce outbox install rollback status log agents config; do
		test_grep "^    $c " out || return 1
	done &&
	git -C repo meshpush log --help >out &&
	test_grep "^usage: git meshpush log" out &&
	test_grep "max-count N" out
'

test_expect_success 'every command shows its --help outside a repository too' '
	mkdir -p outside &&
	(cd outside && GIT_CEILING_DIRECTORIES="$TRASH" git-meshpush install --help >../out) &&
	test_grep "^usage: git meshpush install" out
'

test_expect_success 'a command that needs a repository says so outside one' '
	mkdir -p norepo &&
	(cd norepo && GIT_CEILING_DIRECTORIES="$TRASH" test_expect_code 128 git-meshpush log 2>../err) &&
	test_grep "not in a git repository" err
'

test_expect_success 'the man page documents every command and exit code' '
	man -l "$SRC_DIR/git-meshpush.1" >man.txt 2>/dev/null &&
	for c in init hooks hook scan push announce outbox install rollback status log agents config; do
		grep -qE "git +meshpush +$c" man.txt || { echo "man page lacks $c"; return 1; }
	done &&
	sed -n "/^EXIT STATUS/,/^[A-Z]/p" man.txt >exit.txt &&
	for code in 0 1 2 3 128; do
		grep -qE "^ +$code( |\$)" exit.txt || { echo "man page lacks exit code $code"; return 1; }
	done
'

test_expect_success 'the man page documents every option of every command and every configuration key' '
	man -l "$SRC_DIR/git-meshpush.1" >man.txt 2>/dev/null &&
	for c in init hooks hook scan push announce outbox install rollback status log agents config version; do
		git-meshpush $c --help >help.txt || return 1
		for o in $(grep -oE -- "--[a-z][a-z-]*" help.txt | sort -u); do
			grep -q -e "$o" man.txt || grep -q -e "--no-${o#--}" man.txt ||
				{ echo "man page lacks $c $o"; return 1; }
		done
	done &&
	git-meshpush config --keys >keys.txt &&
	test -s keys.txt &&
	for k in $(grep -v "^ " keys.txt | sed "s/ .*//"); do
		grep -q -e "$k" man.txt || { echo "man page lacks key $k"; return 1; }
	done
'

test_expect_success 'libcurl is loaded on the first network call, not at start-up' '
	ldd "$MESHPUSH_BIN" >libs &&
	test_grep -v "libcurl" libs &&
	echo hello >small.txt &&
	LD_DEBUG=files git-meshpush scan small.txt 2>ld.txt &&
	test_grep -v "file=libcurl" ld.txt
'

# src/util/lazy.h: on x86-64 the binary does not link libgit2, libcrypto
# or the Hyperscan compiler; each is loaded on its first call.
if ldd "$MESHPUSH_BIN" | grep -q libgit2; then
	skip_lazy="the binary links libgit2 (LAZY=0, or not x86-64)"
else
	skip_lazy=
fi

test_expect_success 'a scan of files with the rules cached loads no libgit2, libcrypto or Hyperscan compiler' '
	test -z "$skip_lazy" || { echo "# skipped: $skip_lazy"; return 0; } &&
	echo hello >small.txt &&
	XDG_CACHE_HOME="$PWD/lazy-cache" LD_DEBUG=files git-meshpush scan small.txt 2>first.txt &&
	test_grep "file=libhs.so" first.txt &&
	XDG_CACHE_HOME="$PWD/lazy-cache" LD_DEBUG=files git-meshpush scan small.txt 2>ld.txt &&
	test_grep "file=libinih" ld.txt &&
	test_grep -v "file=libgit2" ld.txt &&
	test_grep -v "file=libcrypto" ld.txt &&
	test_grep -v "file=libhs.so" ld.txt &&
	test_grep -v "file=libstdc++" ld.txt
'

test_expect_success 'libgit2 is loaded when a command needs git' '
	test -z "$skip_lazy" || { echo "# skipped: $skip_lazy"; return 0; } &&
	git init -q lz && echo hi >lz/a && git -C lz add a &&
	(cd lz && LD_DEBUG=files git-meshpush scan --staged) 2>ld.txt &&
	test_grep "file=libgit2" ld.txt &&
	git-meshpush -C lz version >out &&
	test_grep "libgit2 1\." out
'

test_expect_success 'libgit2 starts without parsing a CA bundle (src/util/no_ca.c)' '
	git init -q ca && echo hi >ca/a && git -C ca add a &&
	# LeakSanitizer cannot run under ptrace: off for this one run (make asan).
	ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0" \
	strace -f -e trace=open,openat -o trace.txt git-meshpush -C ca scan --staged &&
	test_grep "libgit2" trace.txt &&
	test_grep -v "ca-certificates\|/etc/ssl/certs" trace.txt
'

test_expect_success 'a library that does not load ends the run with a message naming it' '
	test -z "$skip_lazy" || { echo "# skipped: $skip_lazy"; return 0; } &&
	mkdir -p fakelib &&
	echo "int nothing_here;" >fakelib/empty.c &&
	so=$(grep -ao "libgit2\.so\.[0-9][0-9.]*" "$MESHPUSH_BIN" | head -n 1) &&
	test -n "$so" &&
	cc -shared -fPIC -o "fakelib/$so" fakelib/empty.c &&
	test_expect_code 128 env LD_LIBRARY_PATH="$PWD/fakelib" git-meshpush -C lz version >out 2>err &&
	test_grep "fatal: cannot load $so" err &&
	test_grep "undefined symbol" err &&
	test ! -s out
'

test_done
