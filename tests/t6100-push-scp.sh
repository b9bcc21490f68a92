#!/bin/sh
# git meshpush push --method scp: a real sshd on loopback, a real gateway.
. "$(dirname "$0")/lib.sh"
. "$TEST_DIR/sshd.sh"

test_have_sshd || test_skip_all 'no /usr/sbin/sshd'

REMOTE="$TRASH/remote"

# rcount NAME: deliveries the gateway NAME recorded.
rcount () {
	python3 "$TEST_DIR/receiver.py" --log "$TRASH/$1.log" --count
}

# rmsg NAME INDEX: the message of request INDEX to gateway NAME.
rmsg () {
	python3 "$TEST_DIR/receiver.py" --log "$TRASH/$1.log" --get "$2" body.message
}

backups () {
	ls "$REMOTE" | grep -c 'meshpush-backup' || true
}

test_expect_success 'setup: sshd, gateway, mesh repository, agent' '
	sshd_client_key &&
	start_sshd main &&
	printf "%s\n" "$SSHD_KNOWN" >"$TRASH/known_hosts" &&
	start_receiver oracle --token tok-oracle-0123456789 &&
	test_mesh_repo mesh &&
	mkdir -p "$REMOTE" &&
	cat >mesh/.meshpush.ini <<-EOF &&
	[agent "oracle"]
	webhook = $oracle_URL
	ssh = $SSHD_USER@127.0.0.1
	ssh_port = $SSHD_PORT
	dest = $REMOTE/
	[install "voltagent"]
	from = shared/voltagent
	to = ~/workspace/voltagent
	executable = *.sh
	verify = sh -n {}
	EOF
	mkdir -p "$XDG_CONFIG_HOME/meshpush" &&
	cat >"$XDG_CONFIG_HOME/meshpush/config.ini" <<-EOF &&
	[self]
	agent = sandman
	[token]
	oracle = env:MESH_TOKEN_ORACLE
	[ssh]
	known_hosts = $TRASH/known_hosts
	EOF
	MESH_TOKEN_ORACLE=tok-oracle-0123456789 &&
	export MESH_TOKEN_ORACLE &&
	printf "#!/bin/sh\necho version 1\n" >"$REMOTE/deploy.sh" &&
	printf "#!/bin/sh\necho version 2\n" >deploy.sh
'

test_expect_success 'scp: the whole workflow, backup, mode, read-back, confirmation' '
	git -C mesh meshpush push "$TRASH/deploy.sh" --to oracle --method scp \
		--purpose "deploys the agent" >out 2>err &&
	for s in PREPARE ANNOUNCE PUSH VERIFY CONFIRM; do
		grep -q "^$s  *ok " out || { echo "no $s line"; cat out err; return 1; }
	done &&
	test_grep "^PREPARE .*scan clean (1 file); no test command (\[mesh\] test); check passed (1 file); ssh to oracle ok (sftp, known host key) (" out &&
	test_grep "^PUSH .*sent 1 file to 1 agent over ssh, 1 backup made on the remote" out &&
	test_grep "^VERIFY .*read back 1 file: size and SHA-256 match" out &&
	test_cmp deploy.sh "$REMOTE/deploy.sh" &&
	test -x "$REMOTE/deploy.sh" &&
	test "$(backups)" = 1 &&
	printf "#!/bin/sh\necho version 1\n" >expect &&
	test_cmp expect "$REMOTE"/deploy.sh.meshpush-backup-* &&
	test "$(rcount oracle)" = 2 &&
	rmsg oracle 0 >msg0 &&
	cat >expect <<-\EOF &&
	📤 CODE PUSH: deploy.sh
	From: sandman
	To: oracle
	Method: scp
	Purpose: deploys the agent
	EOF
	head -n 5 msg0 >msg0.head &&
	test_cmp expect msg0.head &&
	rmsg oracle 1 >msg1 &&
	test_grep "^✅ CODE RECEIVED: deploy.sh$" msg1 &&
	test_grep "^Location: $SSHD_USER@127.0.0.1:$REMOTE/deploy.sh$" msg1 &&
	test_grep "^Status: working$" msg1
'

test_expect_success 'the journal records the push and its stages' '
	grep "\"event\":\"push\"" mesh/.git/meshpush/journal.jsonl >push.json &&
	test_grep "\"outcome\":\"confirmed\"" push.json &&
	test_grep "\"method\":\"scp\"" push.json &&
	test $(grep -c "\"event\":\"push-stage\"" mesh/.git/meshpush/journal.jsonl) = 5
'

test_expect_success 'the previous content is recoverable from the backup' '
	mv "$REMOTE"/deploy.sh.meshpush-backup-* "$TRASH/restored.sh" &&
	printf "#!/bin/sh\necho version 1\n" >expect &&
	test_cmp expect "$TRASH/restored.sh"
'

test_expect_success 'a new file on the remote: no backup needed' '
	printf "#!/bin/sh\necho fresh\n" >fresh.sh &&
	git -C mesh meshpush push "$TRASH/fresh.sh" --to oracle --method scp --purpose "a new tool" >out &&
	test_cmp fresh.sh "$REMOTE/fresh.sh" &&
	test_grep "0 backups made" out &&
	test_grep "new file" out
'

test_expect_success 'a private file stays private on the remote' '
	printf "interval = 30\n" >private.conf &&
	chmod 600 private.conf &&
	git -C mesh meshpush push "$TRASH/private.conf" --to oracle --method scp --purpose "settings" >out &&
	test_grep "(sftp, mode 600, new file)" out &&
	test "$(stat -c %a "$REMOTE/private.conf")" = 600
'

test_expect_success 'a secret stops the push before anything is announced or sent' '
	before=$(rcount oracle) &&
	printf "#!/bin/sh\nGITHUB_TOKEN=ghp_%s\n" 8Rk2vQz7LmN4pX1sT9wYc3bH6dJ0fA5eGuKi >leak.sh &&
	test_expect_code 1 git -C mesh meshpush push "$TRASH/leak.sh" --to oracle --method scp \
		--purpose "leaks" >out 2>err &&
	test_grep "^PREPARE  *FAILED .*secret scan: 1 finding" out &&
	test_grep "github-pat" err &&
	test_grep "secrets found in what would be pushed: nothing was announced or sent" err &&
	test_grep -v "8Rk2vQz7LmN4pX1sT9wYc3bH6dJ0fA5eGuKi" err &&
	test_grep -v "^ANNOUNCE" out &&
	test "$(rcount oracle)" = "$before" &&
	! test -e "$REMOTE/leak.sh"
'

test_expect_success 'a failing test command stops the push' '
	before=$(rcount oracle) &&
	test_expect_code 1 git -C mesh meshpush -c mesh.test="sh -c \"echo 2 tests failed; exit 3\"" \
		push "$TRASH/deploy.sh" --to oracle --method scp --purpose "x" >out 2>err &&
	test_grep "^PREPARE  *FAILED .*test failed" out &&
	test_grep "2 tests failed" out &&
	test_grep "failed (exit 3): nothing was announced or sent" err &&
	test "$(rcount oracle)" = "$before"
'

test_expect_success 'a script whose own check fails is not pushed' '
	before=$(rcount oracle) &&
	printf "#!/bin/sh\nif then fi (\n" >broken.sh &&
	test_expect_code 1 git -C mesh meshpush push "$TRASH/broken.sh" --to oracle --method scp \
		--purpose "broken" >out 2>err &&
	test_grep "check of .broken.sh. failed" out &&
	test_grep "the check of the script .sh -n {}. failed" err &&
	test "$(rcount oracle)" = "$before" &&
	! test -e "$REMOTE/broken.sh"
'

test_expect_success 'an unknown host key is refused with its fingerprint, before announcing' '
	before=$(rcount oracle) &&
	: >"$TRASH/known_hosts" &&
	test_expect_code 1 git -C mesh meshpush push "$TRASH/deploy.sh" --to oracle --method scp \
		--purpose "x" >out 2>err &&
	test_grep "host key of .$SSHD_USER@127.0.0.1:$SSHD_PORT. is not known (ED25519 $(sshd_fingerprint main))" err &&
	test_grep "ssh-keyscan -p $SSHD_PORT 127.0.0.1 >> $TRASH/known_hosts" err &&
	test_grep "^PREPARE  *FAILED" out &&
	test "$(rcount oracle)" = "$before"
'

test_expect_success 'a changed host key is refused' '
	old_known=$SSHD_KNOWN &&
	printf "%s\n" "$old_known" >"$TRASH/known_hosts" &&
	sshd_rekey main &&
	before=$(rcount oracle) &&
	cp "$REMOTE/deploy.sh" before.sh &&
	test_expect_code 1 git -C mesh meshpush push "$TRASH/deploy.sh" --to oracle --method scp \
		--purpose "x" >out 2>err &&
	test_grep "host key of .$SSHD_USER@127.0.0.1:$SSHD_PORT. has CHANGED (ED25519 $(sshd_fingerprint main))" err &&
	test_grep "ssh-keygen -R" err &&
	test "$(rcount oracle)" = "$before" &&
	test_cmp before.sh "$REMOTE/deploy.sh" &&
	printf "%s\n" "$SSHD_KNOWN" >"$TRASH/known_hosts"
'

test_expect_success 'a server that offers only passwords is refused' '
	start_sshd pw --password-only &&
	printf "%s\n%s\n" "$sshd_known_main" "$sshd_known_pw" >"$TRASH/known_hosts" &&
	cat >>mesh/.meshpush.ini <<-EOF &&
	[agent "pwonly"]
	webhook = $oracle_URL
	ssh = $SSHD_USER@127.0.0.1
	ssh_port = $sshd_port_pw
	dest = $REMOTE/
	EOF
	printf "[token]\npwonly = env:MESH_TOKEN_ORACLE\n" >>"$XDG_CONFIG_HOME/meshpush/config.ini" &&
	before=$(rcount oracle) &&
	test_expect_code 1 git -C mesh meshpush push "$TRASH/deploy.sh" --to pwonly --method scp \
		--purpose "x" >out 2>err &&
	test_grep "offers only password authentication, and git meshpush uses SSH keys only" err &&
	test "$(rcount oracle)" = "$before"
'

test_expect_success 'a server without sftp gets the file over scp, with a backup' '
	start_sshd nosftp --no-sftp &&
	printf "%s\n%s\n%s\n" "$sshd_known_main" "$sshd_known_pw" "$sshd_known_nosftp" >"$TRASH/known_hosts" &&
	mkdir -p "$TRASH/remote2" &&
	printf "old\n" >"$TRASH/remote2/notes.txt" &&
	cat >>mesh/.meshpush.ini <<-EOF &&
	[agent "legacy"]
	webhook = $oracle_URL
	ssh = $SSHD_USER@127.0.0.1
	ssh_port = $sshd_port_nosftp
	dest = $TRASH/remote2
	EOF
	printf "[token]\nlegacy = env:MESH_TOKEN_ORACLE\n" >>"$XDG_CONFIG_HOME/meshpush/config.ini" &&
	printf "new notes\n" >notes.txt &&
	git -C mesh meshpush push "$TRASH/notes.txt" --to legacy --method scp --purpose "notes" >out 2>err &&
	test_grep "(scp, mode 644, previous file kept as notes.txt.meshpush-backup-" out &&
	test_cmp notes.txt "$TRASH/remote2/notes.txt" &&
	printf "old\n" >expect &&
	test_cmp expect "$TRASH"/remote2/notes.txt.meshpush-backup-*
'

test_expect_success 'two agents, two files: each agent gets both, each confirmed' '
	before=$(rcount oracle) &&
	printf "#!/bin/sh\necho one\n" >one.sh &&
	printf "two\n" >two.txt &&
	git -C mesh meshpush push "$TRASH/one.sh" "$TRASH/two.txt" --to oracle,legacy --method scp \
		--purpose "two of them" >out 2>err &&
	test_grep "^PUSH .*sent 4 files to 2 agents over ssh" out &&
	test_grep "^VERIFY .*read back 4 files" out &&
	test_cmp one.sh "$REMOTE/one.sh" &&
	test_cmp two.txt "$REMOTE/two.txt" &&
	test_cmp one.sh "$TRASH/remote2/one.sh" &&
	test_cmp two.txt "$TRASH/remote2/two.txt" &&
	test -x "$TRASH/remote2/one.sh" &&
	# both agents use the same gateway here: 1 CODE PUSH and 4 CODE RECEIVED, each to both
	test "$(rcount oracle)" = $((before + 2 * (1 + 4)))
'

test_expect_success 'a failure after the backup puts the remote back as it was' '
	cp "$REMOTE/deploy.sh" before.sh &&
	ls "$REMOTE" >listing.before &&
	printf "#!/bin/sh\necho version 3\n" >deploy.sh &&
	test_expect_code 128 env MESHPUSH_TEST_SSH_FAIL=rename git -C mesh meshpush push "$TRASH/deploy.sh" \
		--to oracle --method scp --purpose "x" >out 2>err &&
	test_grep "^PUSH  *FAILED" out &&
	test_grep "the remote was put back as it was (backup renamed back)" err &&
	test_cmp before.sh "$REMOTE/deploy.sh" &&
	ls "$REMOTE" >listing.after &&
	test_cmp listing.before listing.after
'

test_expect_success 'a read-back that does not match fails VERIFY and puts the remote back' '
	cp "$REMOTE/deploy.sh" before.sh &&
	ls "$REMOTE" >listing.before &&
	test_expect_code 1 env MESHPUSH_TEST_SSH_FAIL=verify git -C mesh meshpush push "$TRASH/deploy.sh" \
		--to oracle --method scp --purpose "x" >out 2>err &&
	test_grep "^PUSH  *ok" out &&
	test_grep "^VERIFY  *FAILED .*read-back did not match" out &&
	test_grep "does not match what was sent" err &&
	test_grep -v "^CONFIRM" out &&
	test_cmp before.sh "$REMOTE/deploy.sh" &&
	ls "$REMOTE" >listing.after &&
	test_cmp listing.before listing.after
'

test_expect_success 'an interrupted upload leaves the remote file intact' '
	cp "$REMOTE/deploy.sh" before.sh &&
	{ echo "#!/bin/sh"; yes "echo hello mesh" | head -n 150000; } >deploy.sh &&
	(cd mesh && exec git-meshpush -c ssh.limit_rate=100000 push "$TRASH/deploy.sh" --to oracle \
		--method scp --purpose "big" >../big.out 2>../big.err) &
	pid=$! &&
	i=0 &&
	until test -n "$(find "$REMOTE" -name ".deploy.sh.meshpush-tmp-*" -size +10k)"; do
		i=$((i + 1)) &&
		test $i -lt 600 || { kill $pid; cat big.out big.err; return 1; }
		sleep 0.05
	done &&
	kill -9 $pid &&
	{ wait $pid; true; } &&
	test_grep "^ANNOUNCE  *ok" big.out &&
	test_cmp before.sh "$REMOTE/deploy.sh" &&
	test_grep -v "^CONFIRM" big.out
'

test_expect_success '--dry-run checks, says what it would do, and sends nothing' '
	printf "#!/bin/sh\necho version 4\n" >deploy.sh &&
	cp "$REMOTE/deploy.sh" before.sh &&
	before=$(rcount oracle) &&
	wc -l <mesh/.git/meshpush/journal.jsonl >journal.before &&
	git -C mesh meshpush push --dry-run "$TRASH/deploy.sh" --to oracle --method scp --purpose "dry" >out &&
	test_grep "^PREPARE  *ok" out &&
	test_grep "would announce to 1 agent" out &&
	test_grep "📤 CODE PUSH: deploy.sh" out &&
	test_grep "would send deploy.sh (.* bytes, mode 755) to $SSHD_USER@127.0.0.1:$REMOTE/deploy.sh" out &&
	test_grep -v "^ANNOUNCE" out &&
	test "$(rcount oracle)" = "$before" &&
	test_cmp before.sh "$REMOTE/deploy.sh" &&
	wc -l <mesh/.git/meshpush/journal.jsonl >journal.after &&
	test_cmp journal.before journal.after
'

test_done
