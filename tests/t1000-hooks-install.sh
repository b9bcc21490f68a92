#!/bin/sh
# git meshpush hooks install|uninstall|status and git meshpush init.
. "$(dirname "$0")/lib.sh"

HOOKS="pre-commit pre-push post-merge post-rewrite post-checkout"

# snapshot DIR: name, mode, type and checksum of every file in DIR, sorted
snapshot () {
	(cd "$1" && for f in $(ls -A | sort); do
		if test -L "$f"; then
			printf '%s link %s\n' "$f" "$(readlink "$f")"
		else
			printf '%s %s %s\n' "$f" "$(stat -c %a "$f")" "$(sha1sum <"$f" | cut -c1-40)"
		fi
	done)
}

# a foreign hook that records its name, arguments and input, then exits $2
write_foreign () {
	cat >"$1" <<-EOF
	#!/bin/sh
	# a foreign hook
	printf '%s\n' "\$0" "\$@" >"$TRASH/foreign-args"
	cat >"$TRASH/foreign-stdin"
	exit ${2:-0}
	EOF
	chmod 755 "$1"
}

test_expect_success 'setup' '
	test_mesh_repo mesh &&
	rm -f mesh/.git/hooks/*.sample
'

test_expect_success 'status in a repository without hooks: all missing' '
	git -C mesh meshpush hooks status >out &&
	cat >expect <<-EOF &&
	hooks directory: $TRASH/mesh/.git/hooks
	pre-commit     missing
	pre-push       missing
	post-merge     missing
	post-rewrite   missing
	post-checkout  missing
	EOF
	test_cmp expect out
'

test_expect_success 'install writes the five stubs, the same as hooks/ holds' '
	git -C mesh meshpush hooks install >out &&
	cat >expect <<-EOF &&
	hooks directory: $TRASH/mesh/.git/hooks
	pre-commit     installed
	pre-push       installed
	post-merge     installed
	post-rewrite   installed
	post-checkout  installed
	EOF
	test_cmp expect out &&
	for h in $HOOKS; do
		test_cmp "$SRC_DIR/hooks/$h" mesh/.git/hooks/$h &&
		test -x mesh/.git/hooks/$h || return 1
	done &&
	git -C mesh meshpush hooks status >out &&
	test_grep "^pre-push       ours$" out
'

test_expect_success 'install twice changes nothing and says so' '
	snapshot mesh/.git/hooks >before &&
	git -C mesh meshpush hooks install >out &&
	snapshot mesh/.git/hooks >after &&
	test_cmp before after &&
	test $(grep -c "already installed$" out) = 5
'

test_expect_success 'the installed hooks run: a commit and a push go through' '
	test_commit -C mesh second &&
	git -C mesh push -q origin main
'

test_expect_success 'uninstall removes the stubs and only them' '
	echo "#!/bin/sh" >mesh/.git/hooks/pre-rebase &&
	git -C mesh meshpush hooks uninstall >out &&
	test_grep "^pre-push       removed$" out &&
	ls mesh/.git/hooks >left &&
	echo pre-rebase >expect &&
	test_cmp expect left &&
	rm mesh/.git/hooks/pre-rebase
'

test_expect_success 'a foreign pre-push hook is kept and chained' '
	write_foreign mesh/.git/hooks/pre-push 0 &&
	chmod 750 mesh/.git/hooks/pre-push &&
	snapshot mesh/.git/hooks >before &&
	git -C mesh meshpush hooks install >out &&
	test_grep "^pre-push       installed; the hook that was there is kept as .pre-push.meshpush-chained. and runs too$" out &&
	test_cmp "$SRC_DIR/hooks/pre-push" mesh/.git/hooks/pre-push &&
	git -C mesh meshpush hooks status >out &&
	test_grep "^pre-push       ours + chained foreign hook$" out
'

test_expect_success 'the chained hook runs with the same arguments and input' '
	test_commit -C mesh third &&
	git -C mesh push -q origin main &&
	cat >expect <<-EOF &&
	.git/hooks/pre-push.meshpush-chained
	origin
	$TRASH/mesh.git
	EOF
	test_cmp expect foreign-args &&
	echo "refs/heads/main $(git -C mesh rev-parse main) refs/heads/main $(git -C mesh rev-parse main~1)" >expect &&
	test_cmp expect foreign-stdin
'

test_expect_success 'a push of several refs gives the chained hook every line' '
	git -C mesh branch b1 &&
	git -C mesh tag -a -m t1 v1 &&
	git -C mesh push -q origin b1 v1 &&
	z=0000000000000000000000000000000000000000 &&
	cat >expect <<-EOF &&
	refs/heads/b1 $(git -C mesh rev-parse b1) refs/heads/b1 $z
	refs/tags/v1 $(git -C mesh rev-parse v1) refs/tags/v1 $z
	EOF
	test_cmp expect foreign-stdin
'

test_expect_success 'the chained hook failing fails the push' '
	mv mesh/.git/hooks/pre-push.meshpush-chained saved-foreign &&
	write_foreign mesh/.git/hooks/pre-push.meshpush-chained 3 &&
	chmod 750 mesh/.git/hooks/pre-push.meshpush-chained &&
	test_commit -C mesh fourth &&
	test_must_fail git -C mesh push -q origin main 2>err &&
	test_grep "failed to push" err &&
	test "$(git -C mesh.git rev-parse main)" = "$(git -C mesh rev-parse main~1)" &&
	mv saved-foreign mesh/.git/hooks/pre-push.meshpush-chained
'

test_expect_success 'uninstall restores the foreign hook byte for byte, with its mode' '
	git -C mesh meshpush hooks uninstall >out &&
	test_grep "^pre-push       removed; the hook that was there before is back$" out &&
	snapshot mesh/.git/hooks >after &&
	test_cmp before after &&
	rm mesh/.git/hooks/pre-push
'

test_expect_success 'a foreign hook that is a symbolic link is chained and restored as the same link' '
	write_foreign tools-pre-commit 0 &&
	ln -s ../../../tools-pre-commit mesh/.git/hooks/pre-commit &&
	snapshot mesh/.git/hooks >before &&
	git -C mesh meshpush hooks install >out &&
	test -L mesh/.git/hooks/pre-commit.meshpush-chained &&
	test_cmp "$SRC_DIR/hooks/pre-commit" mesh/.git/hooks/pre-commit &&
	rm -f foreign-args &&
	test_commit -C mesh fifth &&
	test_grep "pre-commit.meshpush-chained" foreign-args &&
	git -C mesh meshpush hooks uninstall >out &&
	snapshot mesh/.git/hooks >after &&
	test_cmp before after &&
	rm mesh/.git/hooks/pre-commit
'

test_expect_success 'a chained hook that is not executable is not run (as git would not)' '
	write_foreign mesh/.git/hooks/pre-commit 1 &&
	chmod 644 mesh/.git/hooks/pre-commit &&
	git -C mesh meshpush hooks install >/dev/null &&
	git -C mesh meshpush hooks status >out &&
	test_grep "^pre-commit     ours + chained foreign hook$" out &&
	test_commit -C mesh sixth &&
	git -C mesh meshpush hooks uninstall >/dev/null &&
	test "$(stat -c %a mesh/.git/hooks/pre-commit)" = 644 &&
	rm mesh/.git/hooks/pre-commit
'

test_expect_success 'an edited stub is neither replaced nor removed without --force' '
	git -C mesh meshpush hooks install >/dev/null &&
	echo "echo mine" >>mesh/.git/hooks/post-merge &&
	git -C mesh meshpush hooks status >out &&
	test_grep "^post-merge     ours, edited$" out &&
	test_expect_code 1 git -C mesh meshpush hooks uninstall >out 2>err &&
	test_grep "post-merge. is a git-meshpush stub that was edited" err &&
	test_grep "^pre-push       removed$" out &&
	test_grep "echo mine" mesh/.git/hooks/post-merge &&
	test_expect_code 1 git -C mesh meshpush hooks install >out 2>err &&
	test_grep "nothing was changed" err &&
	test_grep "echo mine" mesh/.git/hooks/post-merge &&
	git -C mesh meshpush hooks install --force >out &&
	test_grep "^post-merge     updated$" out &&
	test_cmp "$SRC_DIR/hooks/post-merge" mesh/.git/hooks/post-merge &&
	git -C mesh meshpush hooks uninstall >/dev/null
'

test_expect_success 'a foreign hook where a chained one exists already: refused, nothing changed' '
	write_foreign mesh/.git/hooks/pre-push 0 &&
	write_foreign mesh/.git/hooks/pre-push.meshpush-chained 0 &&
	snapshot mesh/.git/hooks >before &&
	test_expect_code 1 git -C mesh meshpush hooks install >out 2>err &&
	test_grep "already holds a chained hook" err &&
	test_grep "nothing was changed" err &&
	snapshot mesh/.git/hooks >after &&
	test_cmp before after &&
	rm mesh/.git/hooks/pre-push mesh/.git/hooks/pre-push.meshpush-chained &&
	git -C mesh meshpush hooks uninstall >/dev/null
'

test_expect_success 'core.hooksPath relative: relative to the top of the work tree' '
	git clone -q mesh.git rel &&
	git -C rel config core.hooksPath ../rel-hooks &&
	mkdir -p rel/sub &&
	(cd rel/sub && git meshpush hooks install >../../out) &&
	test_grep "^hooks directory: $TRASH/rel-hooks (core.hooksPath)$" out &&
	for h in $HOOKS; do test_cmp "$SRC_DIR/hooks/$h" rel-hooks/$h || return 1; done &&
	test_must_fail test -e rel/.git/hooks/pre-push &&
	write_foreign rel-hooks/pre-commit.meshpush-chained 0 &&
	rm -f foreign-args &&
	test_commit -C rel rel1 &&
	test_grep "rel-hooks/pre-commit.meshpush-chained" foreign-args
'

test_expect_success 'core.hooksPath absolute' '
	git clone -q mesh.git abs &&
	git -C abs config core.hooksPath "$TRASH/abs-hooks" &&
	git -C abs meshpush hooks install >out &&
	test_grep "^hooks directory: $TRASH/abs-hooks (core.hooksPath)$" out &&
	test_cmp "$SRC_DIR/hooks/pre-push" abs-hooks/pre-push &&
	git -C abs meshpush hooks uninstall >/dev/null &&
	test_must_fail test -e abs-hooks/pre-push
'

test_expect_success 'core.hooksPath from the global configuration: installed there, with a warning' '
	git clone -q mesh.git glob &&
	git config --global core.hooksPath "$TRASH/global-hooks" &&
	git -C glob meshpush hooks install >out 2>err &&
	git config --global --unset core.hooksPath &&
	test_grep "^hooks directory: $TRASH/global-hooks (core.hooksPath, global)$" out &&
	test_grep "serve every repository" err &&
	test_cmp "$SRC_DIR/hooks/pre-push" global-hooks/pre-push
'

test_expect_success 'core.hooksPath inside the work tree (husky style): refused unless --force' '
	git clone -q mesh.git husky &&
	mkdir husky/.husky &&
	write_foreign husky/.husky/pre-commit 0 &&
	git -C husky config core.hooksPath .husky &&
	test_expect_code 2 git -C husky meshpush hooks install >out 2>err &&
	test_grep "inside the work tree" err &&
	test_grep "git-meshpush hook NAME" err &&
	test_must_fail test -e husky/.husky/pre-push &&
	git -C husky meshpush hooks install --force >out &&
	test_grep "^pre-commit     installed; the hook that was there is kept" out &&
	git -C husky meshpush hooks uninstall >/dev/null &&
	test_must_fail test -e husky/.husky/pre-push
'

test_expect_success 'a linked worktree: the hooks go to the common git directory and run there' '
	git -C mesh worktree add -q ../linked -b linked &&
	git -C linked meshpush hooks install >out &&
	test_grep "^hooks directory: $TRASH/mesh/.git/hooks$" out &&
	test_cmp "$SRC_DIR/hooks/pre-push" mesh/.git/hooks/pre-push &&
	test_must_fail test -e mesh/.git/worktrees/linked/hooks &&
	write_foreign mesh/.git/hooks/pre-commit.meshpush-chained 0 &&
	rm -f foreign-args &&
	test_commit -C linked inlinked &&
	test_grep "mesh/.git/hooks/pre-commit.meshpush-chained" foreign-args &&
	git -C mesh meshpush hooks status >out &&
	test_grep "^pre-commit     ours + chained foreign hook$" out &&
	rm mesh/.git/hooks/pre-commit.meshpush-chained &&
	git -C linked meshpush hooks uninstall >/dev/null
'

test_expect_success 'a bare repository needs --server, which installs pre-receive' '
	test_expect_code 2 git -C mesh.git meshpush hooks install 2>err &&
	test_grep "bare repository: use .git meshpush hooks install --server." err &&
	git -C mesh.git meshpush hooks install --server >out &&
	test_grep "^pre-receive    installed$" out &&
	test_cmp "$SRC_DIR/hooks/pre-receive" mesh.git/hooks/pre-receive &&
	git -C mesh.git meshpush hooks status --server >out &&
	test_grep "^pre-receive    ours$" out &&
	git -C mesh.git meshpush hooks uninstall --server >out &&
	test_grep "^pre-receive    removed$" out
'

test_expect_success 'a bare repository with a relative core.hooksPath: relative to the git directory, as git runs it' '
	git init -q --bare relbare.git &&
	git -C relbare.git config core.hooksPath server-hooks &&
	git -C relbare.git meshpush hooks install --server >out &&
	test_grep "^hooks directory: $TRASH/relbare.git/server-hooks (core.hooksPath)$" out &&
	write_foreign relbare.git/server-hooks/pre-receive.meshpush-chained 0 &&
	rm -f foreign-stdin &&
	git -C mesh push -q "$TRASH/relbare.git" main &&
	echo "0000000000000000000000000000000000000000 $(git -C mesh rev-parse main) refs/heads/main" >expect &&
	test_cmp expect foreign-stdin
'

test_expect_success 'post-rewrite: the chained hook gets the same input (old new lines)' '
	git -C mesh meshpush hooks install >/dev/null &&
	write_foreign mesh/.git/hooks/post-rewrite.meshpush-chained 0 &&
	old=$(git -C mesh rev-parse HEAD) &&
	git -C mesh commit -q --amend -m amended &&
	echo "$old $(git -C mesh rev-parse HEAD)" >expect &&
	test_cmp expect foreign-stdin &&
	test_grep "^amend$" foreign-args &&
	rm mesh/.git/hooks/post-rewrite.meshpush-chained &&
	git -C mesh meshpush hooks uninstall >/dev/null
'

test_expect_success 'bad usage exits 2 and names the problem' '
	test_expect_code 2 git -C mesh meshpush hooks frobnicate 2>err &&
	test_grep "not .frobnicate." err &&
	test_expect_code 2 git -C mesh meshpush hook no-such-hook 2>err &&
	test_grep "no-such-hook" err
'

test_expect_success 'init writes a commented .meshpush.ini that loads cleanly, and installs the hooks' '
	git clone -q mesh.git fresh &&
	git -C fresh meshpush init >out &&
	test_grep "^wrote $TRASH/fresh/.meshpush.ini" out &&
	test_grep "^pre-push       installed$" out &&
	git -C fresh meshpush config >cfg &&
	test_grep "^mesh.production = main$" cfg &&
	for s in mesh agent install scan self token; do
		test_grep "\[$s" fresh/.meshpush.ini || return 1
	done &&
	grep -v "^;" fresh/.meshpush.ini >live &&
	test_grep -v "100\." live &&
	test_grep -v "http" live
'

test_expect_success 'init again leaves .meshpush.ini alone and the hooks as they are' '
	echo "; mine" >>fresh/.meshpush.ini &&
	cp fresh/.meshpush.ini expect &&
	git -C fresh meshpush init >out &&
	test_grep "exists already" out &&
	test $(grep -c "already installed$" out) = 5 &&
	test_cmp expect fresh/.meshpush.ini
'

test_expect_success 'init in a bare repository is refused' '
	test_expect_code 2 git -C mesh.git meshpush init 2>err &&
	test_grep "bare repository" err
'

test_done
