# A real OpenSSH server on a loopback port, for tests of the scp/sftp
# transport.  Source it after lib.sh:
#
#   . "$TEST_DIR/sshd.sh"
#   test_have_sshd || test_skip_all 'no /usr/sbin/sshd'
#   sshd_client_key                      # ~/.ssh/id_ed25519 of the test's HOME
#   start_sshd main                      # or: start_sshd NAME --password-only | --no-sftp
#   echo "$SSHD_PORT $SSHD_USER $SSHD_KNOWN"
#
# start_sshd NAME makes $TRASH/sshd-NAME/ with a fresh ed25519 host key,
# an authorized_keys file holding the client key, a config that listens
# on 127.0.0.1 only, and a known_hosts line for it ($SSHD_KNOWN, the line
# "[127.0.0.1]:PORT ssh-ed25519 AAAA..."; nothing is written into the
# client's known_hosts: the test decides).  The server runs in the
# foreground of a background job (-D -e, log in $TRASH/sshd-NAME/log) and
# is stopped by the test's cleanup.  Variables after start_sshd:
#   SSHD_PORT SSHD_USER SSHD_DIR SSHD_KNOWN SSHD_PID
# and for each NAME: sshd_port_NAME, sshd_dir_NAME, sshd_known_NAME.
#
# As root the login user is root (the tests run as root in CI); otherwise
# the current user.  sshd_rekey NAME gives a running server a new host key
# (a "changed host key"): restart it on the same port.

SSHD_BIN=${SSHD_BIN:-/usr/sbin/sshd}

test_have_sshd () {
	test -x "$SSHD_BIN" && command -v ssh-keygen >/dev/null 2>&1
}

# The client's key pair, made once per test file.
sshd_client_key () {
	mkdir -p "$HOME/.ssh" && chmod 700 "$HOME/.ssh" &&
	{ test -f "$HOME/.ssh/id_ed25519" ||
	  ssh-keygen -q -t ed25519 -N '' -C 'meshpush-test@client' -f "$HOME/.ssh/id_ed25519"; }
}

sshd_wait_port_ () {
	python3 - "$1" <<'PY'
import socket, sys, time
port = int(sys.argv[1])
for _ in range(200):
    s = socket.socket()
    try:
        s.connect(("127.0.0.1", port))
        sys.exit(0)
    except OSError:
        time.sleep(0.05)
    finally:
        s.close()
sys.exit(1)
PY
}

# sshd_launch_ NAME: (re)start the server of NAME with its config.
sshd_launch_ () {
	dir="$TRASH/sshd-$1"
	"$SSHD_BIN" -D -e -f "$dir/sshd_config" >>"$dir/log" 2>&1 &
	pid=$!
	echo "$pid" >"$dir/pid"
	test_cleanup_add "kill $pid 2>/dev/null"
	if ! sshd_wait_port_ "$(cat "$dir/port")"; then
		echo "sshd '$1' did not start:" >&2
		cat "$dir/log" >&2
		return 1
	fi
	SSHD_PID=$pid
}

sshd_known_line_ () {
	printf '[127.0.0.1]:%s %s\n' "$(cat "$1/port")" "$(cut -d' ' -f1,2 "$1/host_ed25519_key.pub")"
}

# start_sshd NAME [--password-only] [--no-sftp]
start_sshd () {
	name=$1
	shift
	auth='PubkeyAuthentication yes
PasswordAuthentication no'
	sftp='Subsystem sftp internal-sftp'
	for opt; do
		case "$opt" in
		--password-only) auth='PubkeyAuthentication no
PasswordAuthentication yes' ;;
		--no-sftp) sftp= ;;
		*) echo "start_sshd: unknown option $opt" >&2; return 1 ;;
		esac
	done
	dir="$TRASH/sshd-$name"
	mkdir -p "$dir" || return 1
	test "$(id -u)" = 0 && mkdir -p /run/sshd
	port=$(test_free_port) || return 1
	echo "$port" >"$dir/port"
	rm -f "$dir/host_ed25519_key" "$dir/host_ed25519_key.pub"
	ssh-keygen -q -t ed25519 -N '' -C "host-$name" -f "$dir/host_ed25519_key" || return 1
	if test -f "$HOME/.ssh/id_ed25519.pub"; then
		cp "$HOME/.ssh/id_ed25519.pub" "$dir/authorized_keys"
	else
		: >"$dir/authorized_keys"
	fi
	cat >"$dir/sshd_config" <<CONF
ListenAddress 127.0.0.1
Port $port
HostKey $dir/host_ed25519_key
PidFile $dir/sshd.pid
AuthorizedKeysFile $dir/authorized_keys
$auth
KbdInteractiveAuthentication no
PermitRootLogin yes
UsePAM no
StrictModes no
LogLevel VERBOSE
$sftp
CONF
	sshd_launch_ "$name" || return 1
	SSHD_DIR=$dir
	SSHD_PORT=$port
	SSHD_USER=$(id -un)
	SSHD_KNOWN=$(sshd_known_line_ "$dir")
	eval "sshd_port_$name=\$SSHD_PORT sshd_dir_$name=\$SSHD_DIR sshd_known_$name=\"\$SSHD_KNOWN\""
}

# sshd_rekey NAME: a new host key for a running server (same port).
sshd_rekey () {
	dir="$TRASH/sshd-$1"
	kill "$(cat "$dir/pid")" 2>/dev/null
	while kill -0 "$(cat "$dir/pid")" 2>/dev/null; do sleep 0.05; done
	rm -f "$dir/host_ed25519_key" "$dir/host_ed25519_key.pub"
	ssh-keygen -q -t ed25519 -N '' -C "host-$1-new" -f "$dir/host_ed25519_key" &&
	sshd_launch_ "$1" &&
	SSHD_KNOWN=$(sshd_known_line_ "$dir") &&
	eval "sshd_known_$1=\"\$SSHD_KNOWN\""
}

# The SHA256 fingerprint of the host key of NAME, as ssh-keygen -l prints it.
sshd_fingerprint () {
	ssh-keygen -l -E sha256 -f "$TRASH/sshd-$1/host_ed25519_key.pub" | cut -d' ' -f2
}
