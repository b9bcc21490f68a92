#!/bin/sh
# Faults on the network side (issue 8): gateways that accept the
# connection and never answer, answer garbage (not HTTP), stop in the middle
# of an answer, or trickle it byte by byte.  Each announcement must end in a
# timeout or an error naming the agent, be queued in the outbox (not lost),
# and be delivered exactly once when a real gateway is back on that port.
. "$(dirname "$0")/lib.sh"

# A hostile "gateway" on 127.0.0.1: start_fault_gateway NAME MODE sets
# ${NAME}_PORT and ${NAME}_URL.  Modes:
#   silent    accept, read, never answer (connections kept open)
#   garbage   answer bytes that are not HTTP, then close
#   binary    answer 4 MiB of random bytes, then close
#   cut       a 200 status line and headers promising 1000 bytes, 10 sent, then close
#   trickle   a 200 status line, then one header byte every half second, for ever
cat >faultgw.py <<'PY'
import os, random, socket, sys, threading, time
mode, port_file = sys.argv[1], sys.argv[2]
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", 0))
s.listen(64)
with open(port_file + ".tmp", "w") as f:
    f.write(str(s.getsockname()[1]))
os.rename(port_file + ".tmp", port_file)
kept = []
def serve(c):
    try:
        c.settimeout(5)
        try:
            c.recv(65536)
        except OSError:
            pass
        if mode == "silent":
            kept.append(c)
            return
        if mode == "garbage":
            c.sendall(b"\x00\xff\xfeNOT HTTP AT ALL\r\n\r\n\x1b[31m\x07" + bytes(range(256)))
        elif mode == "binary":
            c.sendall(random.randbytes(4 << 20))
        elif mode == "cut":
            c.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{\"ok\": tru")
        elif mode == "trickle":
            c.sendall(b"HTTP/1.1 200 OK\r\n")
            while True:
                c.sendall(b"X")
                time.sleep(0.5)
        c.close()
    except OSError:
        pass
while True:
    c, _ = s.accept()
    threading.Thread(target=serve, args=(c,), daemon=True).start()
PY

start_fault_gateway () {
	rm -f "$TRASH/$1.port"
	python3 "$TRASH/faultgw.py" "$2" "$TRASH/$1.port" >"$TRASH/$1.out" 2>&1 &
	fg_pid=$!
	eval "${1}_FAULT_PID=$fg_pid"
	test_cleanup_add "kill $fg_pid"
	fg_i=0
	while ! test -s "$TRASH/$1.port"; do
		fg_i=$((fg_i + 1))
		test $fg_i -lt 200 && kill -0 $fg_pid 2>/dev/null || { cat "$TRASH/$1.out" >&2; return 1; }
		sleep 0.05
	done
	eval "${1}_PORT=$(cat "$TRASH/$1.port")"
	eval "${1}_URL=http://127.0.0.1:\$${1}_PORT/hooks/agent"
}

stop_fault_gateway () {
	eval "fg_pid=\$${1}_FAULT_PID"
	kill "$fg_pid" 2>/dev/null
	wait "$fg_pid" 2>/dev/null
	return 0
}

MODES="silent garbage binary cut trickle"

test_expect_success 'setup: a repository, hostile gateways, short timeouts' '
	for m in $MODES; do start_fault_gateway $m $m || return 1; done &&
	git init -q repo &&
	{
		printf "[mesh]\nconnect_timeout = 2\ntimeout = 3\nretries = 1\n" &&
		for m in $MODES; do
			eval "url=\$${m}_URL" &&
			printf "[agent \"%s\"]\nwebhook = %s\n" $m "$url" || return 1
		done
	} >repo/.meshpush.ini &&
	mkdir -p "$XDG_CONFIG_HOME/meshpush" &&
	printf "[self]\nagent = sandman\n[token]\n" >"$XDG_CONFIG_HOME/meshpush/config.ini" &&
	for m in $MODES; do printf "%s = env:GW_TOKEN\n" $m >>"$XDG_CONFIG_HOME/meshpush/config.ini" || return 1; done &&
	GW_TOKEN=t0k3n-for-the-faults && export GW_TOKEN &&
	echo "console.log(1)" >repo/tool.js &&
	git -C repo add . && git -C repo commit -q -m tool
'
GW_TOKEN=t0k3n-for-the-faults
export GW_TOKEN

for m in $MODES; do
	test_expect_success "a gateway that $m: the announcement ends, is queued, the agent is named" "
		cd repo &&
		test_expect_code 3 timeout 120 git meshpush -c mesh.auto_flush=false announce --to $m --purpose 'fault $m' tool.js >out 2>err &&
		cat err && cp err \"\$TRASH/err-$m\" &&
		test_grep '$m' err &&
		test_grep 'queued' err &&
		git meshpush -c mesh.auto_flush=false outbox list >list &&
		test_grep '$m' list
	"
done

test_expect_success 'bytes that are not HTTP are called so, with the URL' '
	test_grep "garbage: the answer is not HTTP (is something else listening on .$garbage_URL.?)" "$TRASH/err-garbage" &&
	test_grep "binary: the answer is not HTTP" "$TRASH/err-binary"
'

test_expect_success 'a gateway asking to wait for ever (Retry-After: 10^20): capped, queued, no overflow' '
	start_receiver patient --script "429,429,429,429" --retry-after 99999999999999999999 &&
	cd repo &&
	test_expect_code 3 git meshpush -c mesh.auto_flush=false -c "agent.patient.webhook=$patient_URL" \
		-c token.patient=env:GW_TOKEN announce --to patient --purpose "patience" tool.js >out 2>err &&
	cat err &&
	test_grep "patient" err &&
	git meshpush -c mesh.auto_flush=false outbox list --json >list &&
	python3 -c "
import json, sys, time
for path in sys.argv[1:]:
    e = json.load(open(path))
    nb = e[\"not_before\"]
    assert time.time() < nb <= time.time() + 8 * 24 * 3600, nb
    print(\"ok\", nb)
" "$XDG_STATE_HOME"/meshpush/outbox/*.patient.json >checked &&
	test_grep "^ok" checked &&
	git meshpush outbox drop "$(python3 -c "
import json, sys
for line in open(sys.argv[1]):
    e = json.loads(line)
    if e[\"agent\"] == \"patient\": print(e[\"id\"])
" list)" --agent patient
'

test_expect_success 'nothing was written to the journal or outbox from the garbage' '
	! grep -rl "NOT HTTP" "$XDG_STATE_HOME" repo/.git/meshpush 2>/dev/null
'

test_expect_success 'real gateways back on the same ports: each queued announcement delivered exactly once' '
	for m in $MODES; do
		eval "port=\$${m}_PORT" &&
		stop_fault_gateway $m &&
		start_receiver $m --port "$port" --dedupe || return 1
	done &&
	cd repo &&
	git meshpush outbox flush >out 2>err &&
	git meshpush outbox flush >out2 2>err2 &&
	git meshpush outbox list >list &&
	for m in $MODES; do
		test "$(receiver_count $m)" = 1 || { echo "$m: $(receiver_count $m) deliveries" >&2; return 1; }
		test_grep "fault $m" "$TRASH/$m.log" || return 1
	done
'

test_done
