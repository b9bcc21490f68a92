#!/bin/sh
# Benchmark of announcement delivery (src/net/):
#  1. one announcement to 20 loopback gateways that each answer after
#     200 ms, against one announcement to one of them; target: the 20 take
#     at most 1.5 x the one (deliveries go out in parallel over one libcurl
#     multi handle);
#  2. 1,000 queued announcements flushed to one gateway (answering at once):
#     the rate, announcements per second (16 requests in flight).
# Usage: sh bench/bench-announce.sh [QUEUED] (default 1000).  Medians of
# RUNS runs (default 5).  Exits 1 when the target of 1 is missed.  Only
# 127.0.0.1 is used.
set -e
SRC_DIR=$(cd "$(dirname "$0")/.." && pwd)
N=${1:-1000}
RUNS=${RUNS:-5}
T=$(mktemp -d "${TMPDIR:-/tmp}/meshpush-bench-announce.XXXXXX")
PIDS=
cleanup () {
	for p in $PIDS; do kill "$p" 2>/dev/null || true; done
	rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
export HOME="$T/home" XDG_STATE_HOME="$T/home/.local/state" XDG_CONFIG_HOME="$T/home/.config"
export GIT_CONFIG_NOSYSTEM=1
for v in $(env | sed -n 's/^\(MESHPUSH_[A-Z_]*\)=.*/\1/p'); do unset "$v"; done
mkdir -p "$XDG_CONFIG_HOME/meshpush" "$T/repo"
MP="$SRC_DIR/git-meshpush"
git init -q "$T/repo"

now_us () { date +%s%6N; }
median () { sort -n | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }

# receiver NAME [args]: a loopback gateway; its port in $T/NAME.port
receiver () {
	name=$1
	shift
	python3 "$SRC_DIR/tests/receiver.py" --port-file "$T/$name.port" --log "$T/$name.log" "$@" \
		>/dev/null 2>&1 &
	PIDS="$PIDS $!"
}
wait_port () {
	i=0
	while ! test -s "$T/$1.port"; do
		i=$((i + 1))
		test $i -lt 400 || { echo "bench: receiver $1 did not start" >&2; exit 1; }
		sleep 0.05
	done
	cat "$T/$1.port"
}

printf '[self]\nagent = bench\n' >"$XDG_CONFIG_HOME/meshpush/config.ini"
{
	printf '[mesh]\nretries = 0\ntimeout = 10\nauto_flush = false\n'
} >"$T/repo/.meshpush.ini"
all=
for i in $(seq -w 1 20); do
	receiver "a$i" --delay-ms 200
done
for i in $(seq -w 1 20); do
	printf '[agent "a%s"]\nwebhook = http://127.0.0.1:%s/hooks/agent\n' "$i" "$(wait_port "a$i")" >>"$T/repo/.meshpush.ini"
	all="$all${all:+,}a$i"
done

# 1. one announcement: to one gateway, to twenty
: >"$T/one" && : >"$T/twenty"
for r in $(seq "$RUNS"); do
	t0=$(now_us)
	"$MP" -C "$T/repo" announce bench.js --to a01 --purpose "one" >/dev/null
	t1=$(now_us)
	"$MP" -C "$T/repo" announce bench.js --to "$all" --purpose "twenty" >/dev/null
	t2=$(now_us)
	echo $((t1 - t0)) >>"$T/one"
	echo $((t2 - t1)) >>"$T/twenty"
done
one=$(median <"$T/one")
twenty=$(median <"$T/twenty")
delivered=$(python3 "$SRC_DIR/tests/receiver.py" --log "$T/a20.log" --count)
test "$delivered" = "$RUNS" || { echo "bench: a20 got $delivered announcements, not $RUNS" >&2; exit 1; }
ratio=$(awk -v a="$twenty" -v b="$one" 'BEGIN { printf "%.2f", a / b }')
ok=$(awk -v r="$ratio" 'BEGIN { print (r <= 1.5) ? "ok" : "MISSED" }')
printf 'one announcement, 1 gateway (200 ms each):   %6.1f ms (median of %d)\n' "$(echo "$one / 1000" | bc -l)" "$RUNS"
printf 'one announcement, 20 gateways (200 ms each): %6.1f ms (median of %d)\n' "$(echo "$twenty / 1000" | bc -l)" "$RUNS"
printf '20 / 1 = %s x (target <= 1.5): %s\n' "$ratio" "$ok"

# 2. N queued announcements, then flushed
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()')
printf '[agent "q"]\nwebhook = http://127.0.0.1:%s/hooks/agent\n' "$port" >>"$T/repo/.meshpush.ini"
t0=$(now_us)
for i in $(seq "$N"); do
	"$MP" -C "$T/repo" announce "f$i.js" --to q --purpose "queued $i" >/dev/null 2>&1 && {
		echo "bench: announcement $i was delivered to a closed port" >&2; exit 1; }
done
t1=$(now_us)
queued=$(ls "$XDG_STATE_HOME/meshpush/outbox" | grep -c '\.json$')
receiver q --port "$port"
wait_port q >/dev/null
t2=$(now_us)
/usr/bin/time -f "%U %S" -o "$T/cpu" "$MP" -C "$T/repo" outbox flush >/dev/null
t3=$(now_us)
cpu=$(awk '{ print $1 + $2 }' "$T/cpu")
got=$(python3 "$SRC_DIR/tests/receiver.py" --log "$T/q.log" --count)
test "$got" = "$N" || { echo "bench: the gateway got $got of $N" >&2; exit 1; }
printf 'queued %d announcements (%d runs while the gateway was down): %.1f s\n' "$queued" "$N" \
	"$(echo "($t1 - $t0) / 1000000" | bc -l)"
printf 'flushed %d to one gateway: %.2f s, %.0f announcements/s\n' "$N" "$(echo "($t3 - $t2) / 1000000" | bc -l)" \
	"$(echo "$N * 1000000 / ($t3 - $t2)" | bc -l)"
printf '  git-meshpush CPU time of the flush: %.2f s (the rest is the Python gateway)\n' "$cpu"
echo "(load average: $(cut -d' ' -f1-3 /proc/loadavg); the Python gateways share the CPUs with git-meshpush)"
test "$ok" = ok
