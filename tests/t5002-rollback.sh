#!/bin/sh
# git meshpush rollback: --list, the last install, an older one, single
# files, rolling back a rollback, --remove, pruning.
. "$(dirname "$0")/lib.sh"

WS="$HOME/ws/voltagent"
STATE="$XDG_STATE_HOME/meshpush"

# release VERSION: every shared file says VERSION; commit, push, pull (post-merge installs)
release () {
	for f in a.js b.js; do
		printf '// %s %s\n' "$f" "$1" >"pub/shared/voltagent/$f" || return 1
	done &&
	git -C pub add -A && git -C pub commit -q -m "release $1" && git -C pub push -q &&
	git -C agent pull -q --ff-only 2>"$TRASH/pull-err"
}

ids () {
	ls "$STATE/installs" | sed "s/\.jsonl$//"
}

test_expect_success 'setup: three releases installed' '
	test_mesh_repo pub &&
	mkdir -p pub/shared/voltagent &&
	cat >pub/.meshpush.ini <<-EOF &&
	[install "voltagent"]
	to = ~/ws/voltagent
	executable = *.js
	verify = node {}
	EOF
	git -C pub add -A && git -C pub commit -q -m config && git -C pub push -q &&
	git clone -q "$TRASH/pub.git" agent &&
	git -C agent meshpush hooks install >/dev/null &&
	release v1 && release v2 &&
	echo "// only in v3" >pub/shared/voltagent/c.js &&
	release v3 &&
	test_grep "added     c.js" pull-err &&
	test $(ids | wc -l) = 3
'

test_expect_success 'rollback --list: id, time, kind, commit, files; newest first' '
	git -C agent meshpush rollback --list >out &&
	first=$(ids | tail -n 1) &&
	head -n 1 out >line &&
	test_grep "^$first  20[0-9-]*T[0-9:]*Z  install  [0-9a-f]\{7\}  3 files$" line &&
	test_grep "^    voltagent:c.js$" out &&
	test $(grep -c "^20" out) = 3
'

test_expect_success 'rollback of the last install restores the files before it and removes what it added' '
	last=$(ids | tail -n 1) &&
	git -C agent meshpush rollback --no-confirm >out &&
	test_grep "rolled back install $last" out &&
	test_grep "restored  a.js" out &&
	test_grep "removed   c.js" out &&
	echo "// a.js v2" >expect && test_cmp expect "$WS/a.js" &&
	echo "// b.js v2" >expect && test_cmp expect "$WS/b.js" &&
	test "$(stat -c %a "$WS/a.js")" = 755 &&
	test_must_fail test -e "$WS/c.js" &&
	rb=$(ids | tail -n 1) &&
	echo "// only in v3" >expect && test_cmp expect "$STATE/backups/$rb/voltagent/c.js" &&
	echo "// a.js v3" >expect && test_cmp expect "$STATE/backups/$rb/voltagent/a.js" &&
	test_grep "\"event\":\"rollback\"" agent/.git/meshpush/journal.jsonl
'

test_expect_success 'rolled-back files are held: the next install leaves them, status says so' '
	git -C agent meshpush install --force >out &&
	echo "// a.js v2" >expect && test_cmp expect "$WS/a.js" &&
	git -C agent meshpush status >st &&
	test_grep "a.js: rolled back (held until upstream changes it)" st
'

test_expect_success 'a rollback is an install that can be rolled back' '
	git -C agent meshpush rollback --no-confirm >out &&
	echo "// a.js v3" >expect && test_cmp expect "$WS/a.js" &&
	echo "// only in v3" >expect && test_cmp expect "$WS/c.js"
'

test_expect_success 'rollback of an older install, one file only (by workspace path)' '
	second=$(ids | sed -n 2p) &&
	git -C agent meshpush rollback --no-confirm "$second" "$WS/b.js" >out &&
	test_grep "restored  b.js" out &&
	test_grep -v "a.js" out &&
	echo "// b.js v1" >expect && test_cmp expect "$WS/b.js" &&
	echo "// a.js v3" >expect && test_cmp expect "$WS/a.js"
'

test_expect_success 'a new upstream version ends the hold' '
	release v4 &&
	test_grep "updated   b.js" pull-err &&
	echo "// b.js v4" >expect && test_cmp expect "$WS/b.js" &&
	git -C agent meshpush status >st &&
	test_grep -v "held" st
'

# only FILE changes: commit in pub and pull (post-merge installs)
change_only () {
	git -C pub add -A && git -C pub commit -q -m "$1" && git -C pub push -q &&
	git -C agent pull -q --ff-only 2>"$TRASH/pull-err"
}

test_expect_success 'rollback of an install that removed a file brings it back, and keeps it' '
	echo "// doomed" >pub/shared/voltagent/doomed.js && change_only doomed &&
	git -C pub rm -q shared/voltagent/doomed.js && change_only "remove doomed" &&
	test_grep "removed   doomed.js" pull-err &&
	git -C agent meshpush rollback --no-confirm "$(ids | tail -n 1)" doomed.js >out &&
	test_grep "restored  doomed.js" out &&
	echo "// doomed" >expect && test_cmp expect "$WS/doomed.js" &&
	git -C agent meshpush install --force >out &&
	test_cmp expect "$WS/doomed.js" &&
	echo "// doomed, back upstream" >pub/shared/voltagent/doomed.js && change_only "doomed back" &&
	test_grep "updated   doomed.js" pull-err &&
	git -C pub rm -q shared/voltagent/doomed.js && change_only "doomed gone" &&
	test_grep "removed   doomed.js" pull-err
'

test_expect_success 'an unknown id or a file not in the install is a usage error' '
	test_expect_code 2 git -C agent meshpush rollback 19990101T000000 2>err &&
	test_grep "no install .19990101T000000." err &&
	test_expect_code 2 git -C agent meshpush rollback "$(ids | tail -n 1)" nope.js 2>err &&
	test_grep "did not change .nope.js." err
'

test_expect_success 'rollback --remove: the emergency path moves the file to the backups and holds it' '
	git -C agent meshpush rollback --remove "$WS/a.js" >out &&
	test_grep "removed   a.js  emergency removal" out &&
	test_must_fail test -e "$WS/a.js" &&
	rm_id=$(ids | tail -n 1) &&
	echo "// a.js v4" >expect && test_cmp expect "$STATE/backups/$rm_id/voltagent/a.js" &&
	git -C agent meshpush install --force >out &&
	test_must_fail test -e "$WS/a.js" &&
	git -C agent meshpush status >st &&
	test_grep "a.js: removed in an emergency" st &&
	test_grep "\"event\":\"emergency-remove\"" agent/.git/meshpush/journal.jsonl &&
	git -C agent meshpush rollback --list >list &&
	test_grep "remove .*1 file" list &&
	git -C agent meshpush rollback --no-confirm >out &&
	echo "// a.js v4" >expect && test_cmp expect "$WS/a.js"
'

test_expect_success 'rollback --remove of a file outside every mapping is refused' '
	echo x >outside.js &&
	test_expect_code 2 git -C agent meshpush rollback --remove "$TRASH/outside.js" 2>err &&
	test_grep "is not in the target folder of any \[install\] mapping" err &&
	test -e outside.js
'

test_expect_success 'pruning keeps [backup] keep installs, and the last copy of every file' '
	echo "[backup]" >>"$XDG_CONFIG_HOME/meshpush/config.ini" 2>/dev/null ||
	{ mkdir -p "$XDG_CONFIG_HOME/meshpush" && echo "[backup]" >"$XDG_CONFIG_HOME/meshpush/config.ini"; } &&
	echo "keep = 2" >>"$XDG_CONFIG_HOME/meshpush/config.ini" &&
	oldest=$(ids | head -n 1) &&
	echo "// only once" >pub/shared/voltagent/once.js &&
	release v5 &&
	git -C pub rm -q shared/voltagent/once.js && release v6 &&
	release v7 && release v8 &&
	test $(find "$STATE/backups" -path "*/voltagent/a.js" | wc -l) -le 3 &&
	test $(find "$STATE/backups" -name once.js | wc -l) = 1 &&
	test_must_fail test -e "$STATE/installs/$oldest.jsonl"
'

test_expect_success 'pruning by age: backups older than [backup] max_age_days go, the last copy of a file stays' '
	printf "[backup]\nkeep = 100\nmax_age_days = 30\n" >"$XDG_CONFIG_HOME/meshpush/config.ini" &&
	echo "// lonely" >pub/shared/voltagent/lonely.js && release v9 &&
	git -C pub rm -q shared/voltagent/lonely.js && release v10 &&
	gone_id=$(ids | tail -n 1) &&
	test -e "$STATE/backups/$gone_id/voltagent/lonely.js" &&
	release v11 &&
	# make the two installs before the last look a year old
	for id in $(ids | tail -n 3 | head -n 2); do
		old=1999${id#????} &&
		sed "s/$id/$old/g" "$STATE/installs/$id.jsonl" >"$STATE/installs/$old.jsonl" &&
		rm "$STATE/installs/$id.jsonl" &&
		mv "$STATE/backups/$id" "$STATE/backups/$old" || return 1
	done &&
	release v12 &&
	old_gone=1999${gone_id#????} &&
	test -e "$STATE/backups/$old_gone/voltagent/lonely.js" &&
	test_must_fail test -e "$STATE/backups/$old_gone/voltagent/a.js" &&
	test $(ls "$STATE/installs" | grep -c "^1999") = 1
'

test_done
