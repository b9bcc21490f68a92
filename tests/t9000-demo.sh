#!/bin/sh
# The README's first command runs the demo mesh: it must keep working and
# show what it promises (a secret blocked, a push announced to a loopback
# gateway, a pull installed with a backup and confirmed, a rollback, the
# central repository refusing a secret).
. "$(dirname "$0")/lib.sh"

test_expect_success 'the demo runs to the end' '
	sh "$SRC_DIR/demo/demo.sh" >demo.out 2>&1
'

test_expect_success 'it shows a secret blocked at commit' '
	test_grep "the commit is refused: 1 secret found" demo.out &&
	test_grep "github-pat ghp_" demo.out &&
	test_grep -v "R8fJd2kLq9sVt3xYb7nWm4pZc6hGe1aUi0oT" demo.out
'

test_expect_success 'it shows the push announced to oracle in the protocol form' '
	test_grep "^ANNOUNCE  ok" demo.out &&
	test_grep "  | 📤 CODE PUSH: shared/voltagent/health" demo.out &&
	test_grep "  | Purpose: Report gateway health" demo.out
'

test_expect_success 'it shows the pull installed, verified, backed up and confirmed' '
	test_grep "added     health\.[a-z]*  (verified)" demo.out &&
	test_grep "updated   health\.[a-z]*  (verified)" demo.out &&
	test_grep "  | ✅ CODE RECEIVED: health" demo.out &&
	test_grep "  | Status: working" demo.out &&
	test_grep "backup=.*/backups/" demo.out
'

test_expect_success 'it shows a rollback restoring the previous version' '
	test_grep "restored  health" demo.out &&
	sed -n "/^== ROLLBACK/,/^== /p" demo.out >rollback.out &&
	test_grep "v1: report gateway health" rollback.out
'

test_expect_success 'it shows the central repository refusing a secret pushed with --no-verify' '
	test_grep "remote: error: the push is refused: 1 secret found" demo.out &&
	test_grep "(pre-receive hook declined)" demo.out
'

test_expect_success 'it talks only to loopback' '
	test_grep -v "http://[0-9.]*" demo.out || {
		grep -o "http://[0-9.]*" demo.out | sort -u >hosts &&
		test_grep -v -E "http://(1[^2]|[02-9]|12[^7])" hosts
	}
'

test_done
