#!/bin/sh
# git meshpush install: local changes, removals, verification failures,
# folders in the way, escaping paths and links, hostile names, the lock.
. "$(dirname "$0")/lib.sh"

WS="$HOME/ws/voltagent"
STATE="$XDG_STATE_HOME/meshpush"

# commit everything in pub and bring it to agent (hooks installed: post-merge installs)
sync_agent () {
	git -C pub add -A &&
	git -C pub commit -q -m "${1:-change}" &&
	git -C pub push -q origin HEAD &&
	git -C agent pull -q --ff-only 2>"$TRASH/pull-err"
}

last_id () {
	ls "$STATE/installs" | tail -n 1 | sed "s/\.jsonl$//"
}

export TRASH
test_expect_success 'setup' '
	test_mesh_repo pub &&
	mkdir -p pub/shared/voltagent bin &&
	cat >bin/check <<-\EOF &&
	#!/bin/sh
	# verify: records its arguments one per line, fails on files saying "broken"
	for a in "$@"; do printf "%s\n" "$a" >>"$TRASH/verify-args"; done
	if grep -q broken "$1"; then echo "check: $1 is broken" >&2; exit 4; fi
	exit 0
	EOF
	chmod +x bin/check &&
	cat >pub/.meshpush.ini <<-EOF &&
	[install "voltagent"]
	from = shared/voltagent
	to = ~/ws/voltagent
	executable = *.sh
	verify = check {}
	EOF
	echo one >pub/shared/voltagent/one.txt &&
	echo two >pub/shared/voltagent/two.txt &&
	echo gone >pub/shared/voltagent/gone.txt &&
	git -C pub add -A && git -C pub commit -q -m files && git -C pub push -q &&
	git clone -q "$TRASH/pub.git" agent &&
	git -C agent meshpush hooks install >/dev/null &&
	git -C agent meshpush install >out &&
	test_grep "Status: working" out
'

test_expect_success 'a file changed locally and upstream: backed up and named in the report' '
	echo "my local edit" >"$WS/one.txt" &&
	echo "one v2" >pub/shared/voltagent/one.txt &&
	sync_agent &&
	test_grep "updated   one.txt  (verified)  (changed locally; that copy is in $STATE/backups/.*/voltagent/one.txt)" pull-err &&
	echo "one v2" >expect && test_cmp expect "$WS/one.txt" &&
	echo "my local edit" >expect && test_cmp expect "$STATE/backups/$(last_id)/voltagent/one.txt"
'

test_expect_success 'a file changed locally only: left alone, shown by status' '
	echo "tweak" >>"$WS/two.txt" &&
	git -C agent meshpush install >out &&
	test_grep "up to date" out &&
	test_grep "tweak" "$WS/two.txt" &&
	git -C agent meshpush status >st &&
	test_grep "^  two.txt: changed locally" st &&
	git -C agent meshpush install --force >out &&
	test_grep "updated   two.txt  (verified)  (changed locally" out &&
	echo two >expect && test_cmp expect "$WS/two.txt"
'

test_expect_success 'a file removed upstream is moved to the backups, not deleted' '
	git -C pub rm -q shared/voltagent/gone.txt &&
	sync_agent "remove gone" &&
	test_grep "removed   gone.txt" pull-err &&
	test_must_fail test -e "$WS/gone.txt" &&
	echo gone >expect && test_cmp expect "$STATE/backups/$(last_id)/voltagent/gone.txt"
'

test_expect_success 'verification fails: the previous file is restored, Status: issues with the output' '
	cp "$WS/one.txt" one-before &&
	echo "one broken" >pub/shared/voltagent/one.txt &&
	echo "new broken" >pub/shared/voltagent/new.txt &&
	git -C pub add -A && git -C pub commit -q -m broken && git -C pub push -q &&
	git -C agent -c core.hooksPath=/nonexistent pull -q --ff-only &&
	test_expect_code 1 git -C agent meshpush install >out &&
	test_grep "FAILED    one.txt  verification failed, previous version restored" out &&
	test_grep "| check: $WS/one.txt is broken" out &&
	test_grep "| (exit 4)" out &&
	test_grep "^Status: issues" out &&
	test_cmp one-before "$WS/one.txt" &&
	test_must_fail test -e "$WS/new.txt" &&
	echo "new broken" >expect &&
	test_cmp expect "$STATE/backups/$(last_id)/.failed/voltagent/new.txt"
'

test_expect_success 'a failed version is held: not retried until upstream changes it or --retry' '
	git -C agent meshpush install >out &&
	test_grep "up to date" out &&
	git -C agent meshpush status >st &&
	test_grep "one.txt: verify failed" st &&
	test_expect_code 1 git -C agent meshpush install --retry >out &&
	test_grep "FAILED    one.txt" out &&
	echo "one fixed" >pub/shared/voltagent/one.txt &&
	echo "new fixed" >pub/shared/voltagent/new.txt &&
	sync_agent fixed &&
	test_grep "updated   one.txt  (verified)" pull-err &&
	test_grep "added     new.txt  (verified)" pull-err &&
	git -C agent meshpush status >st &&
	test_grep -v "verify failed" st
'

test_expect_success 'a broken version already in place (an install killed before verifying it) is replaced by the previous one' '
	cp "$WS/one.txt" one-good &&
	echo "one broken again" >pub/shared/voltagent/one.txt &&
	git -C pub add -A && git -C pub commit -q -m "broken again" && git -C pub push -q &&
	git -C agent -c core.hooksPath=/nonexistent pull -q --ff-only &&
	cp pub/shared/voltagent/one.txt "$WS/one.txt" &&
	test_expect_code 1 git -C agent meshpush install >out &&
	test_grep "FAILED    one.txt" out &&
	test_cmp one-good "$WS/one.txt" &&
	echo "one broken again" >expect &&
	test_cmp expect "$STATE/backups/$(last_id)/.failed/voltagent/one.txt" &&
	echo "one fixed" >pub/shared/voltagent/one.txt && sync_agent "fixed again"
'

test_expect_success 'a verify command that hangs is killed after verify_timeout: issues' '
	echo "slow one" >pub/shared/voltagent/hang.txt &&
	git -C pub add -A && git -C pub commit -q -m hang && git -C pub push -q &&
	git -C agent -c core.hooksPath=/nonexistent pull -q --ff-only &&
	printf "#!/bin/sh\nsleep 30\n" >bin/hang && chmod +x bin/hang &&
	test_expect_code 1 git -C agent meshpush -c install.voltagent.verify="hang {}" \
		-c install.voltagent.verify_timeout=1 install >out &&
	test_grep "FAILED    hang.txt" out &&
	test_grep "| timed out after 1 s" out &&
	test_must_fail test -e "$WS/hang.txt" &&
	git -C agent meshpush install --retry >out &&
	test_grep "added     hang.txt  (verified)" out
'

test_expect_success 'a secret in the output of a failing verify command is redacted' '
	tok="ghp_""1YxxXunzpZevTfwE4aC53rdk6s7Id50BR7CQ" &&
	printf "#!/bin/sh\necho \"GITHUB_TOKEN=%s\"\nexit 2\n" "$tok" >bin/leaky && chmod +x bin/leaky &&
	echo leak >pub/shared/voltagent/leak.txt &&
	git -C pub add -A && git -C pub commit -q -m leak && git -C pub push -q &&
	git -C agent -c core.hooksPath=/nonexistent pull -q --ff-only &&
	test_expect_code 1 git -C agent meshpush -c install.voltagent.verify="leaky {}" install >out &&
	test_grep "FAILED    leak.txt" out &&
	test_grep "| GITHUB_TOKEN=ghp_" out &&
	! grep -F "$tok" out &&
	! grep -F "$tok" agent/.git/meshpush/journal.jsonl &&
	git -C agent meshpush install --retry >out
'

test_expect_success 'verify runs in the target folder, also for a file in a subfolder' '
	printf "#!/bin/sh\npwd >\"\$TRASH/verify-cwd\"\n" >bin/cwdcheck && chmod +x bin/cwdcheck &&
	mkdir -p pub/shared/voltagent/deep/er && echo deep >pub/shared/voltagent/deep/er/file.txt &&
	git -C pub add -A && git -C pub commit -q -m deep && git -C pub push -q &&
	git -C agent -c core.hooksPath=/nonexistent pull -q --ff-only &&
	git -C agent meshpush -c install.voltagent.verify="cwdcheck {}" install >out &&
	test_grep "added     deep/er/file.txt  (verified)" out &&
	echo "$WS" >expect && test_cmp expect verify-cwd
'

test_expect_success 'a folder in the way is not deleted: reported, skipped, exit 1' '
	mkdir -p "$WS/dir.txt" && echo mine >"$WS/dir.txt/keep" &&
	echo file >pub/shared/voltagent/dir.txt &&
	echo other >pub/shared/voltagent/other.txt &&
	sync_agent &&
	test_grep "skipped   dir.txt  a folder is in the way at .$WS/dir.txt.: left alone" pull-err &&
	test_grep "added     other.txt" pull-err &&
	echo mine >expect && test_cmp expect "$WS/dir.txt/keep" &&
	test_expect_code 1 git -C agent meshpush install >out &&
	test_grep "skipped   dir.txt" out &&
	rm -r "$WS/dir.txt" &&
	git -C agent meshpush install >out &&
	test_grep "added     dir.txt" out
'

test_expect_success 'symbolic links in the repository: inside installed, outside refused' '
	ln -s one.txt pub/shared/voltagent/inside-link &&
	ln -s ../../../../etc/passwd pub/shared/voltagent/up-link &&
	ln -s /etc/passwd pub/shared/voltagent/abs-link &&
	mkdir -p pub/shared/voltagent/sub && ln -s ../two.txt pub/shared/voltagent/sub/ok-link &&
	sync_agent links &&
	test_grep "added     inside-link" pull-err &&
	test_grep "added     sub/ok-link" pull-err &&
	test_grep "skipped   up-link  refused: the symbolic link .up-link. points outside .$WS. (to .\.\./\.\./\.\./\.\./etc/passwd.)" pull-err &&
	test_grep "skipped   abs-link  refused: the symbolic link .abs-link. points outside" pull-err &&
	test "$(readlink "$WS/inside-link")" = one.txt &&
	test_must_fail test -e "$WS/up-link" &&
	test_must_fail test -e "$WS/abs-link" &&
	git -C pub rm -q shared/voltagent/up-link shared/voltagent/abs-link &&
	sync_agent "no bad links"
'

test_expect_success 'paths that escape (a crafted tree with "..", ".git") are refused' '
	oid=$(echo evil | git -C agent hash-object -w --stdin) &&
	up=$(printf "100644 blob %s\tx\n" $oid | git -C agent mktree) &&
	sub=$(printf "100644 blob %s\t..\n040000 tree %s\t..\n100644 blob %s\tcrafted-ok.txt\n100644 blob %s\t.git\n" \
		$oid $up $oid $oid | git -C agent mktree) &&
	shared=$(printf "040000 tree %s\tvoltagent\n" $sub | git -C agent mktree) &&
	cfg=$(git -C agent rev-parse HEAD:.meshpush.ini) &&
	root=$(printf "100644 blob %s\t.meshpush.ini\n040000 tree %s\tshared\n" $cfg $shared | git -C agent mktree) &&
	c=$(git -C agent commit-tree -m crafted -p HEAD $root) &&
	git -C agent update-ref refs/heads/crafted $c &&
	git -C agent symbolic-ref HEAD refs/heads/crafted &&
	test_expect_code 1 git -C agent meshpush install >out;
	git -C agent symbolic-ref HEAD refs/heads/main &&
	test_grep "skipped   \.\.  refused: the path .\.\.. escapes" out &&
	test_grep "skipped   \.\./x  refused: the path .\.\./x. escapes" out &&
	test_grep "skipped   \.git  refused" out &&
	test_grep "added     crafted-ok.txt" out &&
	test_must_fail test -e "$HOME/ws/x" &&
	test_must_fail test -f "$WS/.git" &&
	git -C agent meshpush install --force >out
'

test_expect_success 'a folder of the target that became a link is not followed' '
	mkdir -p elsewhere &&
	rm -rf "$WS/sub" && ln -s "$TRASH/elsewhere" "$WS/sub" &&
	echo "sub two" >pub/shared/voltagent/sub/file.txt &&
	sync_agent &&
	test_grep "skipped   sub/file.txt  .$WS/sub. is a symbolic link: not followed" pull-err &&
	test_must_fail test -e elsewhere/file.txt &&
	rm "$WS/sub" && git -C agent meshpush install >out && test -e "$WS/sub/file.txt"
'

test_expect_success 'the target folder turned into a link elsewhere is refused' '
	mv "$WS" "$HOME/ws/real" && mkdir -p "$TRASH/evil" && ln -s "$TRASH/evil" "$WS" &&
	echo three >pub/shared/voltagent/three.txt &&
	sync_agent &&
	test_grep "skipped   \.  refused: the target .$WS. now resolves to .$TRASH/evil., but was installed into .$HOME/ws/voltagent." pull-err &&
	test_must_fail test -e evil/three.txt &&
	rm "$WS" && mv "$HOME/ws/real" "$WS" &&
	git -C agent meshpush install >out && test -e "$WS/three.txt"
'

test_expect_success 'a target that is a link at its first install is followed, and recorded' '
	mkdir -p realws && ln -s "$TRASH/realws" "$HOME/linked" &&
	git -C agent meshpush -c install.linked.to=~/linked install --mapping linked >out &&
	test_grep "added     one.txt" out &&
	test_cmp pub/shared/voltagent/one.txt realws/one.txt &&
	grep -l "\"realpath\": \"$TRASH/realws\"" "$STATE"/manifests/linked-*.json &&
	git -C agent meshpush -c install.linked.to=~/linked install --mapping linked >out &&
	echo "linked: up to date" >expect && test_cmp expect out
'

test_expect_success 'a target overlapping the backups or the repository is refused' '
	test_expect_code 1 git -C agent meshpush -c install.home.to=~ install --mapping home >out &&
	test_grep "skipped   \.  refused: the target .$HOME. overlaps the backups" out &&
	test_expect_code 1 git -C agent meshpush -c install.repo.to="$TRASH/agent/sub" install --mapping repo >out &&
	test_grep "refused: the target .$TRASH/agent/sub. overlaps the repository" out &&
	test_must_fail test -e agent/sub &&
	test_must_fail test -e "$HOME/one.txt"
'

test_expect_success 'hostile names are installed and verified as they are (no shell)' '
	rm -f verify-args &&
	(cd pub/shared/voltagent &&
	 echo sp >"with space.sh" &&
	 echo nl >"new
line.sh" &&
	 echo q >"quote'\''\"s.sh" &&
	 echo sub >"\$(touch pwned).sh" &&
	 echo bq >"\`touch pwned2\`.sh" &&
	 echo dash >"-rf.sh" &&
	 echo semi >"a;touch pwned3.sh") &&
	sync_agent hostile &&
	test_must_fail test -e "$WS/../pwned" &&
	! find "$TRASH" -name "pwned*" | grep . &&
	for f in "with space.sh" "new
line.sh" "quote'\''\"s.sh" "\$(touch pwned).sh" "\`touch pwned2\`.sh" "-rf.sh" "a;touch pwned3.sh"; do
		test -x "$WS/$f" &&
		test_cmp "pub/shared/voltagent/$f" "$WS/$f" &&
		grep -Fx "$WS/-rf.sh" verify-args >/dev/null || return 1
	done &&
	test_grep "added     new\\\\nline.sh  (verified)" pull-err &&
	test_grep "added     -rf.sh  (verified)" pull-err
'

test_expect_success 'a staged file left by a killed install is swept by the next install there' '
	echo half >"$WS/.orphan.txt.meshpush-new" &&
	echo "keep me" >"$WS/.hidden-user-file" &&
	echo "one again" >pub/shared/voltagent/one.txt &&
	sync_agent &&
	test_grep "updated   one.txt" pull-err &&
	test_must_fail test -e "$WS/.orphan.txt.meshpush-new" &&
	test -e "$WS/.hidden-user-file"
'

test_expect_success 'one install at a time: the second says who holds the lock' '
	cat >bin/slow <<-\EOF &&
	#!/bin/sh
	sleep 3
	EOF
	chmod +x bin/slow &&
	echo slow >pub/shared/voltagent/slow.txt &&
	git -C pub add -A && git -C pub commit -q -m slow && git -C pub push -q &&
	git -C agent -c core.hooksPath=/nonexistent pull -q --ff-only &&
	(git -C agent meshpush -c install.voltagent.verify=slow install >first-out 2>&1 &) &&
	n=0 && while ! test -s "$STATE/install.lock" && test $n -lt 100; do sleep 0.05; n=$((n+1)); done &&
	test_expect_code 128 git -C agent meshpush install --wait 0 2>err &&
	test_grep "error: another install is running (pid [0-9][0-9]*, since 20[0-9-]*T[0-9:]*Z)" err &&
	git -C agent meshpush install --wait 20 >second-out &&
	test_grep "added     slow.txt" first-out &&
	test_grep "up to date" second-out
'

test_expect_success 'a lock left by a killed install is taken over' '
	sh -c "echo \$\$ >dead-pid" && pid=$(cat dead-pid) &&
	printf "%s 2026-01-01T00:00:00Z\n" "$pid" >"$STATE/install.lock" &&
	echo four >pub/shared/voltagent/four.txt &&
	sync_agent &&
	test_grep "added     four.txt" pull-err &&
	test_grep "\"lock_taken_over\":true" agent/.git/meshpush/journal.jsonl
'

test_done
