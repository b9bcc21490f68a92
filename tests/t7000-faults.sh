#!/bin/sh
# Faults (issue 8): a journal cut short mid-line, a full disk during an
# install, a gateway that never answers or answers garbage, a manifest cut
# short, a lock left by a killed process.  Each must end with nothing lost
# and a clear message.
. "$(dirname "$0")/lib.sh"

test_expect_success 'setup: a repository with a journal cut short mid-line' '
	git init -q repo &&
	mkdir -p repo/.git/meshpush &&
	printf "%s\n%s" \
		"{\"time\":\"2026-11-26T13:00:00Z\",\"event\":\"install\",\"id\":\"one\"}" \
		"{\"time\":\"2026-11-26T13:00:01Z\",\"event\":\"announce\",\"id\":\"tw" \
		>repo/.git/meshpush/journal.jsonl
'

test_expect_success 'log shows the whole events and says a line was damaged' '
	git -C repo meshpush log >out 2>err &&
	cat >expect <<-\EOF &&
	2026-11-26T13:00:00Z  install      id=one
	EOF
	test_cmp expect out &&
	test_grep "skipped 1 damaged line(s) of the journal" err
'

test_expect_success 'log --json shows only whole events' '
	git -C repo meshpush log --json >out 2>err &&
	echo "{\"time\":\"2026-11-26T13:00:00Z\",\"event\":\"install\",\"id\":\"one\"}" >expect &&
	test_cmp expect out
'

test_expect_success 'a line without time or event is shown with "-", never "(null)"' '
	printf "%s\n" "{\"id\":\"bare\"}" "{\"time\":5,\"event\":[1]}" >repo/.git/meshpush/journal.jsonl &&
	git -C repo meshpush log >out 2>err &&
	test_grep -v "(null)" out &&
	test_grep "^-  -  *id=bare" out
'

test_done
