#!/bin/sh
# git meshpush install: by hand and from the hooks (fast-forward, merge,
# pull --rebase, branch switch, fresh clone), with backups and a manifest.
. "$(dirname "$0")/lib.sh"

WS="$HOME/ws/voltagent"
STATE="$XDG_STATE_HOME/meshpush"

# publish FILE CONTENT [MESSAGE]: commit a shared file in the publisher's clone and push it
publish () {
	mkdir -p "pub/shared/voltagent/$(dirname "$1")" &&
	printf '%s\n' "$2" >"pub/shared/voltagent/$1" &&
	git -C pub add -A &&
	git -C pub commit -q -m "${3:-publish $1}" &&
	git -C pub push -q origin HEAD
}

# a node script that answers --help
js () {
	printf 'if (process.argv.includes("--help")) console.log("%s"); else process.exit(3);' "$1"
}

test_expect_success 'setup: a central repository, a publisher and an agent clone with the hooks' '
	test_mesh_repo pub &&
	mv pub.git mesh.git && git -C pub remote set-url origin "$TRASH/mesh.git" &&
	cat >pub/.meshpush.ini <<-\EOF &&
	[install "voltagent"]
	from = shared/voltagent
	to = ~/ws/voltagent
	executable = *.js *.sh
	verify = node {} --help
	verify_files = *.js
	EOF
	mkdir -p pub/shared/voltagent pub/scripts &&
	js "a v1" >pub/shared/voltagent/a.js &&
	printf "echo tool\n" >pub/shared/voltagent/tool.sh &&
	printf "notes\n" >pub/shared/voltagent/README &&
	git -C pub add -A && git -C pub commit -q -m "shared files" && git -C pub push -q origin main &&
	git clone -q mesh.git agent &&
	git -C agent meshpush hooks install >/dev/null
'

test_expect_success 'install by hand: files, modes, verification, manifest' '
	git -C agent meshpush install >out &&
	test_grep "^install [0-9]\{8\}T[0-9]\{6\}\.[0-9]\{3\}Z-[0-9a-f]\{6\} (HEAD " out &&
	sed -n "/^voltagent:/,/^Status/p" out >actual &&
	cat >expect <<-\EOF &&
	voltagent:
	  added     README
	  added     a.js  (verified)
	  added     tool.sh
	EOF
	grep -v "confirmation" actual | sed "/^Status/d" >actual2 &&
	test_cmp expect actual2 &&
	test_grep "^Status: working" out &&
	test "$(stat -c %a "$WS/a.js")" = 755 &&
	test "$(stat -c %a "$WS/tool.sh")" = 755 &&
	test "$(stat -c %a "$WS/README")" = 644 &&
	test_cmp pub/shared/voltagent/a.js "$WS/a.js" &&
	ls "$STATE"/manifests/voltagent-*.json &&
	test_grep "\"a.js\"" "$STATE"/manifests/voltagent-*.json &&
	! ls -a "$WS" | grep meshpush
'

test_expect_success 'a second install has nothing to do' '
	git -C agent meshpush install >out &&
	echo "voltagent: up to date" >expect &&
	test_cmp expect out &&
	git -C agent meshpush install --quiet >out &&
	test_must_fail test -s out
'

test_expect_success 'fast-forward pull: post-merge installs what changed, the old file is backed up' '
	cp "$WS/a.js" old-a.js &&
	js "a v2" >pub/shared/voltagent/a.js && git -C pub commit -q -am "a v2" && git -C pub push -q &&
	git -C agent pull -q --ff-only 2>err &&
	test_grep "updated   a.js  (verified)" err &&
	test_grep -v "tool.sh" err &&
	test_cmp pub/shared/voltagent/a.js "$WS/a.js" &&
	id=$(ls "$STATE/installs" | tail -n 1 | sed "s/\.jsonl$//") &&
	test_cmp old-a.js "$STATE/backups/$id/voltagent/a.js"
'

test_expect_success 'merge pull (local commits, no fast-forward): post-merge installs' '
	test_commit -C agent local-note scripts/local.txt &&
	publish b.js "$(js b)" &&
	git -C agent pull -q --no-rebase --no-edit 2>err &&
	git -C agent rev-parse HEAD^2 &&
	test_grep "added     b.js  (verified)" err &&
	test -x "$WS/b.js"
'

test_expect_success 'pull --rebase with local commits: post-rewrite installs' '
	test_commit -C agent local-two scripts/two.txt &&
	publish c.js "$(js c)" &&
	git -C agent pull -q --rebase 2>err &&
	test_grep "added     c.js" err &&
	test_cmp pub/shared/voltagent/c.js "$WS/c.js" &&
	git -C agent log --format=%s -1 >msg && echo local-two >expect && test_cmp expect msg
'

test_expect_success 'branch switch: post-checkout installs the branch, and back' '
	git -C agent checkout -q -b experiment &&
	js "a experiment" >agent/shared/voltagent/a.js &&
	git -C agent commit -q -am "experiment" &&
	git -C agent checkout -q main 2>err &&
	git -C agent checkout -q experiment 2>err &&
	test_grep "updated   a.js" err &&
	test_cmp agent/shared/voltagent/a.js "$WS/a.js" &&
	git -C agent checkout -q main 2>err &&
	test_grep "updated   a.js" err &&
	test_cmp pub/shared/voltagent/a.js "$WS/a.js"
'

test_expect_success 'a file checkout (post-checkout flag 0) installs nothing' '
	echo scribble >>agent/shared/voltagent/a.js &&
	git -C agent checkout -- shared/voltagent/a.js 2>err &&
	test_must_fail test -s err &&
	ls "$STATE/installs" >before &&
	echo "changed in the work tree, not committed" >agent/shared/voltagent/README &&
	git -C agent meshpush install >out &&
	test_grep "up to date" out &&
	test_cmp pub/shared/voltagent/README "$WS/README" &&
	git -C agent checkout -- shared/voltagent/README
'

test_expect_success 'the hook arguments are not trusted: a missed hook is caught up by the next one' '
	publish d.js "$(js d)" &&
	git -C agent -c core.hooksPath=/nonexistent pull -q --no-rebase --no-edit &&
	test_must_fail test -e "$WS/d.js" &&
	git -C agent checkout -q -b other 2>err &&
	test_grep "added     d.js" err &&
	git -C agent checkout -q main 2>err &&
	test_must_fail test -s err &&
	test -e "$WS/d.js"
'

test_expect_success 'fresh clone: post-checkout (hooks from a template) installs everything' '
	rm -rf "$HOME/ws" "$STATE" &&
	mkdir -p template/hooks &&
	cp agent/.git/hooks/post-checkout agent/.git/hooks/post-merge agent/.git/hooks/post-rewrite template/hooks/ &&
	git clone -q --template="$TRASH/template" mesh.git fresh 2>err &&
	test_grep "added     a.js  (verified)" err &&
	test_grep "added     d.js" err &&
	for f in a.js b.js c.js d.js tool.sh README; do
		test_cmp pub/shared/voltagent/$f "$WS/$f" || return 1
	done
'

test_expect_success 'a second clone into the same workspace finds it up to date' '
	git clone -q --template="$TRASH/template" mesh.git fresh2 2>err &&
	test_must_fail test -s err &&
	git -C fresh2 meshpush install >out &&
	echo "voltagent: up to date" >expect &&
	test_cmp expect out
'

test_expect_success 'everything is journaled' '
	git -C fresh meshpush log >log 2>&1 || cat fresh/.git/meshpush/journal.jsonl >log &&
	test_grep "install-file" fresh/.git/meshpush/journal.jsonl &&
	test_grep "\"event\":\"install\"" fresh/.git/meshpush/journal.jsonl &&
	test_grep "\"trigger\":\"post-checkout\"" fresh/.git/meshpush/journal.jsonl
'

test_expect_success 'status: what is installed, from which commit, what differs locally' '
	echo "local edit" >>"$WS/a.js" &&
	rm "$WS/b.js" &&
	git -C fresh meshpush status >out &&
	head=$(git -C fresh rev-parse --short=7 HEAD) &&
	id=$(ls "$STATE/installs" | tail -n 1 | sed "s/\.jsonl$//") &&
	cat >expect <<-EOF &&
	install "voltagent": shared/voltagent -> $WS
	  6 files installed from commit $head (install $id)
	  a.js: changed locally
	  b.js: missing (deleted locally)
	outbox: empty
	EOF
	test_cmp expect out &&
	git -C fresh meshpush install --force >out &&
	test_grep "added     b.js" out &&
	test_grep "updated   a.js  (verified)  (changed locally" out &&
	publish e.js "$(js e)" &&
	git -C fresh -c core.hooksPath=/nonexistent pull -q &&
	git -C fresh meshpush status >out &&
	test_grep "^  HEAD has changes not installed yet (run .git meshpush install.)$" out
'

test_expect_success 'a mapping without a target is reported, exit 1; an unknown --mapping is a usage error' '
	git -C agent meshpush -c install.other.from=scripts install >out 2>err;
	test $? = 1 &&
	test_grep "\[install \"other\"\] has no .to. folder" out &&
	test_expect_code 2 git -C agent meshpush install --mapping nope 2>err &&
	test_grep "no mapping \[install \"nope\"\]" err
'

test_done
