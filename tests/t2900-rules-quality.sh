#!/bin/sh
# The rules' own examples and the labelled corpus: the scanner's quality
# gate (issue 3: precision and recall both at least 0.98).
. "$(dirname "$0")/lib.sh"

test_expect_success 'every rule has its fields, compiles in PCRE2 and Hyperscan, and passes its examples' '
	python3 "$TEST_DIR/corpus/check-rules-examples.py" >check.out 2>&1 &&
	test_grep " 0 errors" check.out
'

test_expect_success 'precision and recall on the labelled corpus are at least 0.98' '
	MESHPUSH="$SRC_DIR/git-meshpush" sh "$TEST_DIR/corpus/score" --min 0.98,0.98 >score.out 2>&1 ||
		{ cat score.out; false; } &&
	sed -n "s/^precision=/# precision=/p" score.out
'

test_done
