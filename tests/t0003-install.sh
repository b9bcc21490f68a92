#!/bin/sh
# make install (PREFIX, DESTDIR) and install.sh, the repo-wide install.
. "$(dirname "$0")/lib.sh"

test_expect_success 'make install honours DESTDIR and PREFIX' '
	make -s -C "$SRC_DIR" install DESTDIR="$TRASH/dest" PREFIX=/opt/mp >out 2>&1 &&
	test -x dest/opt/mp/bin/git-meshpush &&
	test -f dest/opt/mp/share/man/man1/git-meshpush.1 &&
	for h in pre-commit pre-push post-merge post-rewrite post-checkout pre-receive; do
		test -x dest/opt/mp/share/git-meshpush/hooks/$h || return 1
	done &&
	dest/opt/mp/bin/git-meshpush --version >v &&
	test_grep "^git-meshpush version" v
'

test_expect_success 'the installed man page opens with git meshpush --help' '
	PATH="$TRASH/dest/opt/mp/bin:$PATH" MANPATH="$TRASH/dest/opt/mp/share/man" MANPAGER=cat PAGER=cat \
		git meshpush --help >out 2>&1 &&
	test_grep "GIT-MESHPUSH(1)" out
'

test_expect_success 'make uninstall removes what install put there' '
	make -s -C "$SRC_DIR" uninstall DESTDIR="$TRASH/dest" PREFIX=/opt/mp &&
	test_must_fail test -e dest/opt/mp/bin/git-meshpush &&
	test_must_fail test -e dest/opt/mp/share/man/man1/git-meshpush.1
'

test_expect_success 'install.sh installs the binary and the hooks of the named repositories' '
	git init -q one && git init -q two &&
	PREFIX="$TRASH/prefix" "$SRC_DIR/install.sh" one two >out 2>&1 &&
	test -x prefix/bin/git-meshpush &&
	test_grep "installed $TRASH/prefix/bin/git-meshpush" out &&
	grep -q "git-meshpush hook pre-push" one/.git/hooks/pre-push &&
	grep -q "git-meshpush hook pre-commit" two/.git/hooks/pre-commit
'

test_expect_success 'install.sh run again skips what is current and changes nothing' '
	(cd one && find .git/hooks -type f | sort | xargs md5sum) >before &&
	PREFIX="$TRASH/prefix" "$SRC_DIR/install.sh" one >out 2>&1 &&
	test_grep "already installed and current" out &&
	(cd one && find .git/hooks -type f | sort | xargs md5sum) >after &&
	test_cmp before after
'

test_expect_success 'install.sh defaults to the repository it is run in' '
	git init -q three &&
	(cd three && PREFIX="$TRASH/prefix" "$SRC_DIR/install.sh" >../out 2>&1) &&
	grep -q "git-meshpush hook pre-push" three/.git/hooks/pre-push
'

test_done
