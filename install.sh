#!/bin/sh
# install.sh [REPO...]: the repo-wide install of git-meshpush in one step.
#
# Installs the Debian packages it needs (as root, only those missing), builds
# and installs git-meshpush (skipped when the installed one is current), then
# installs the hooks in each repository named (default: the repository this
# is run in).  PREFIX (default /usr/local) and DESTDIR are honoured.
set -eu
src=$(cd "$(dirname "$0")" && pwd)
PREFIX=${PREFIX:-/usr/local}
DESTDIR=${DESTDIR:-}

if [ "$(id -u)" = 0 ]; then
	make -s -C "$src" deps
fi
make -s -C "$src" all
installed="$DESTDIR$PREFIX/bin/git-meshpush"
if [ -x "$installed" ] && cmp -s "$src/git-meshpush" "$installed" &&
   cmp -s "$src/git-meshpush.1" "$DESTDIR$PREFIX/share/man/man1/git-meshpush.1"; then
	echo "git-meshpush is already installed and current at $installed"
else
	make -s -C "$src" install PREFIX="$PREFIX" DESTDIR="$DESTDIR"
	echo "installed $installed"
fi

[ $# -gt 0 ] || set -- .
for repo in "$@"; do
	PATH="$DESTDIR$PREFIX/bin:$PATH" git -C "$repo" meshpush hooks install ||
		{ echo "error: cannot install the hooks in '$repo'" >&2; exit 1; }
done
