#!/bin/sh
# The pre-commit hook: the lines a commit adds are scanned; a secret refuses the commit.
. "$(dirname "$0")/lib.sh"

# a GitHub token the scanner finds (split so that this file holds none)
SECRET="ghp_8Rk2vQz7LmN4pX1sT9w""Yc3bH6dJ0fA5eGuKi"

test_expect_success 'setup' '
	test_mesh_repo mesh &&
	git -C mesh meshpush hooks install >/dev/null
'

test_expect_success 'a clean commit goes through' '
	test_commit -C mesh clean shared/voltagent/tool.js "console.log(1)" &&
	test "$(git -C mesh log -1 --format=%s)" = clean
'

test_expect_success 'a commit adding a secret is refused, with file:line, rule, the secret redacted, and how to fix it' '
	mkdir -p mesh/shared/voltagent &&
	printf "const a = 1;\nconst t = \"%s\";\n" "$SECRET" >mesh/shared/voltagent/bot.js &&
	git -C mesh add shared/voltagent/bot.js &&
	test_expect_code 1 git -C mesh commit -q -m leak 2>err &&
	test_grep "^error: the commit is refused: 1 secret found in the staged changes$" err &&
	test_grep "^    shared/voltagent/bot.js:2:[0-9]* github-pat ghp_" err &&
	test_grep "meshpush:allow" err &&
	test_grep -v "$SECRET" err &&
	test "$(git -C mesh log -1 --format=%s)" = clean
'

test_expect_success 'the refusal is journaled, without the secret' '
	git -C mesh meshpush log --json --event pre-commit >log &&
	test_grep "\"verdict\": *\"refused\"" log &&
	test_grep "github-pat" log &&
	test_grep -v "$SECRET" mesh/.git/meshpush/journal.jsonl
'

test_expect_success 'only the lines the commit adds are scanned: removing the secret lets it through' '
	git -C mesh rm -q --cached shared/voltagent/bot.js &&
	printf "const a = 1;\nconst t = process.env.GITHUB_TOKEN;\n" >mesh/shared/voltagent/bot.js &&
	git -C mesh add shared/voltagent/bot.js &&
	git -C mesh commit -q -m fixed
'

test_expect_success 'a false positive marked meshpush:allow goes through' '
	printf "const t = \"%s\"; // meshpush:allow test fixture\n" "$SECRET" >mesh/fixture.js &&
	git -C mesh add fixture.js &&
	git -C mesh commit -q -m fixture
'

test_expect_success 'the first commit of a repository is scanned too (against the empty tree)' '
	git init -q first &&
	git -C first meshpush hooks install >/dev/null &&
	echo "token = $SECRET" >first/conf &&
	git -C first add conf &&
	test_expect_code 1 git -C first commit -q -m first 2>err &&
	test_grep "^    conf:1:" err &&
	test_must_fail git -C first rev-parse -q --verify HEAD
'

test_expect_success 'a chained pre-commit hook runs first, and its failure refuses the commit' '
	printf "#!/bin/sh\necho chained ran >&2\nexit 5\n" >mesh/.git/hooks/pre-commit.meshpush-chained &&
	chmod +x mesh/.git/hooks/pre-commit.meshpush-chained &&
	echo x >mesh/x.txt && git -C mesh add x.txt &&
	test_must_fail git -C mesh commit -q -m x 2>err &&
	test_grep "chained ran" err &&
	rm mesh/.git/hooks/pre-commit.meshpush-chained &&
	git -C mesh commit -q -m x
'

test_expect_success 'a chained hook that changes the index is scanned after it (formatters)' '
	printf "#!/bin/sh\necho \"key = %s\" >added.txt && git add added.txt\n" "$SECRET" \
		>mesh/.git/hooks/pre-commit.meshpush-chained &&
	chmod +x mesh/.git/hooks/pre-commit.meshpush-chained &&
	echo y >mesh/y.txt && git -C mesh add y.txt &&
	test_expect_code 1 git -C mesh commit -q -m y 2>err &&
	test_grep "^    added.txt:1:" err &&
	rm mesh/.git/hooks/pre-commit.meshpush-chained &&
	git -C mesh rm -q --cached added.txt && rm mesh/added.txt &&
	git -C mesh commit -q -m y
'

test_expect_success 'git meshpush hook pre-commit can be run by hand' '
	echo "secret: $SECRET" >mesh/hand.txt &&
	git -C mesh add hand.txt &&
	test_expect_code 1 git -C mesh meshpush hook pre-commit 2>err &&
	test_grep "hand.txt:1:" err &&
	git -C mesh rm -q --cached hand.txt
'

# run the entry of hook ID of .pre-commit-hooks.yaml as the pre-commit framework would: ENTRY FILES...
run_framework_entry () {
	id=$1
	shift
	$PY_YAML - "$SRC_DIR/.pre-commit-hooks.yaml" "$id" "$@" <<-\PY
	import shlex, subprocess, sys, yaml
	hooks = {h["id"]: h for h in yaml.safe_load(open(sys.argv[1]))}
	h = hooks[sys.argv[2]]
	assert h["language"] == "system"
	argv = shlex.split(h["entry"]) + (sys.argv[3:] if h.get("pass_filenames", True) else [])
	sys.exit(subprocess.call(argv))
	PY
}

# Debian's python3-yaml (in make deps) is seen by /usr/bin/python3 even where
# another python3 comes first in PATH.
PY_YAML=python3
python3 -c "import yaml" 2>/dev/null || PY_YAML=/usr/bin/python3
if $PY_YAML -c "import yaml" 2>/dev/null; then
	test_expect_success '.pre-commit-hooks.yaml: the commit entry scans the files it is given' '
		(cd mesh && echo "k = $SECRET" >fw.txt && echo fine >fw-ok.txt &&
		 test_expect_code 1 run_framework_entry meshpush-scan fw.txt fw-ok.txt >../out 2>&1 &&
		 run_framework_entry meshpush-scan fw-ok.txt) &&
		test_grep "fw.txt:1:" out
	'
	test_expect_success '.pre-commit-hooks.yaml: the push entry scans the pushed range' '
		(cd mesh && git add fw.txt && git commit -q --no-verify -m fw &&
		 PRE_COMMIT_FROM_REF=HEAD~1 PRE_COMMIT_TO_REF=HEAD test_expect_code 1 \
			run_framework_entry meshpush-scan-push fw.txt >../out 2>&1 &&
		 PRE_COMMIT_FROM_REF=HEAD~2 PRE_COMMIT_TO_REF=HEAD~1 run_framework_entry meshpush-scan-push x.txt &&
		 git reset -q --hard HEAD~1) &&
		test_grep "fw.txt:1:" out
	'
else
	test_skip '.pre-commit-hooks.yaml entries' 'python3 has no yaml module'
fi

test_done
