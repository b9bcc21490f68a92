#!/usr/bin/env python3
"""A real agent gateway for tests: an HTTP server on 127.0.0.1 that records
every request and answers like OpenClaw's POST /hooks/agent.

Serve (in the background; tests/lib.sh's start_receiver does this):

  python3 tests/receiver.py --port-file F --log FILE [options]

  --port-file F     write the port (once listening) to F
  --log FILE        append one JSON line per request to FILE (see below)
  --port P          listen on port P (default: any free port)
  --token T         answer 401 unless "Authorization: Bearer T"
  --script "500,200"  answer the POSTs with these statuses in turn, then 200;
                    a status may be "close" (drop the connection unanswered)
  --delay-ms N      wait N ms before answering each request
  --retry-after S   send "Retry-After: S" with 429 and 503 answers; S is
                    seconds, or "date+N" for an HTTP date N seconds ahead
  --signing-key K   check X-Meshpush-Signature (HMAC-SHA256 of
                    "<X-Meshpush-Timestamp>.<body>" with K): 401 when wrong or missing
  --dedupe          honour Idempotency-Key: a key answered 2xx before gets the
                    same answer again, recorded with "replay": true
  --max-bytes N     answer 413 above N bytes of body (default 262144, 256 KiB)
  --tls-cert F --tls-key K   serve https with this certificate and key (PEM)

Every request is one JSON line in the log:
  {"time": 1700000000.123 (when it arrived), "method": "POST", "path": "/hooks/agent",
   "headers": {"authorization": "...", ...} (names lowercased),
   "body": {...} (the JSON body, or null), "raw": "..." (when not JSON),
   "bytes": 123, "status": 200, "replay": false, "signature": "ok"|"bad"|"missing"|null}
A successful POST is answered 200 {"ok": true, "runId": "run-N"}; HEAD and
GET are answered 405 (a probe sees that the gateway answers).

Query a log (for test assertions):

  python3 tests/receiver.py --log FILE --count
      number of deliveries: POSTs answered 2xx that were not replays
  python3 tests/receiver.py --log FILE --get INDEX KEY[.KEY...]
      a field of request INDEX (0-based, negative from the end), e.g.
      --get -1 body.message ; strings are printed raw, the rest as JSON
"""
import argparse
import email.utils
import hashlib
import hmac
import http.server
import json
import os
import socketserver
import sys
import threading
import time


def parse_args(argv):
    p = argparse.ArgumentParser(description="loopback agent gateway for git-meshpush tests")
    p.add_argument("--port-file")
    p.add_argument("--log", required=True)
    p.add_argument("--port", type=int, default=0)
    p.add_argument("--token")
    p.add_argument("--script", default="")
    p.add_argument("--delay-ms", type=int, default=0)
    p.add_argument("--retry-after")
    p.add_argument("--signing-key")
    p.add_argument("--dedupe", action="store_true")
    p.add_argument("--max-bytes", type=int, default=256 * 1024)
    p.add_argument("--tls-cert")
    p.add_argument("--tls-key")
    p.add_argument("--count", action="store_true")
    p.add_argument("--get", nargs=2, metavar=("INDEX", "KEY"))
    return p.parse_args(argv)


def read_log(path):
    out = []
    try:
        with open(path, encoding="utf-8") as f:
            for line in f:
                line = line.strip()
                if line:
                    out.append(json.loads(line))
    except FileNotFoundError:
        pass
    return out


def query(args):
    entries = read_log(args.log)
    if args.count:
        print(sum(1 for e in entries
                  if e["method"] == "POST" and 200 <= e["status"] < 300 and not e.get("replay")))
        return 0
    index, key = args.get
    try:
        value = entries[int(index)]
    except IndexError:
        print("receiver.py: no request %s in %s" % (index, args.log), file=sys.stderr)
        return 1
    for k in key.split("."):
        if isinstance(value, dict) and k in value:
            value = value[k]
        else:
            print("receiver.py: no field %s" % key, file=sys.stderr)
            return 1
    if isinstance(value, str):
        sys.stdout.write(value)
        sys.stdout.write("\n")
    else:
        print(json.dumps(value, ensure_ascii=False))
    return 0


class Gateway:
    def __init__(self, args):
        self.args = args
        self.script = [s.strip() for s in args.script.split(",") if s.strip()]
        self.lock = threading.Lock()
        self.seen = {}  # Idempotency-Key -> (status, body)
        self.runs = 0
        self.log = None

    def next_status(self):
        with self.lock:
            if self.script:
                return self.script.pop(0)
            return "200"

    def record(self, entry):
        line = json.dumps(entry, ensure_ascii=False, sort_keys=True) + "\n"
        with self.lock:
            if self.log is None:
                self.log = open(self.args.log, "a", encoding="utf-8")
            self.log.write(line)
            self.log.flush()

    def retry_after(self):
        ra = self.args.retry_after
        if ra and ra.startswith("date+"):
            return email.utils.formatdate(time.time() + int(ra[5:]), usegmt=True)
        return ra


def make_handler(gw):
    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, fmt, *a):
            pass

        def entry(self, body_bytes):
            e = {
                "time": time.time(),
                "method": self.command,
                "path": self.path,
                "headers": {k.lower(): v for k, v in self.headers.items()},
                "bytes": len(body_bytes),
                "body": None,
                "replay": False,
                "signature": None,
            }
            if body_bytes:
                try:
                    e["body"] = json.loads(body_bytes.decode("utf-8"))
                except (UnicodeDecodeError, ValueError):
                    e["raw"] = body_bytes.decode("utf-8", "replace")
            return e

        def answer(self, status, obj, extra=None, head=False):
            data = json.dumps(obj).encode() if obj is not None else b""
            self.send_response(status)
            for k, v in (extra or {}).items():
                self.send_header(k, v)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            if not head:
                self.wfile.write(data)

        def delay(self):
            if gw.args.delay_ms:
                time.sleep(gw.args.delay_ms / 1000.0)

        def do_HEAD(self):
            e = self.entry(b"")
            self.delay()
            gw.record(dict(e, status=405))
            self.answer(405, None, {"Allow": "POST"}, head=True)

        def do_GET(self):
            e = self.entry(b"")
            self.delay()
            gw.record(dict(e, status=405))
            self.answer(405, {"ok": False, "error": "method not allowed"}, {"Allow": "POST"})

        def do_POST(self):
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            e = self.entry(body)
            self.delay()
            if length > gw.args.max_bytes:
                e["status"] = 413
                gw.record(e)
                return self.answer(413, {"ok": False, "error": "payload too large"})
            if gw.args.token is not None and \
                    self.headers.get("Authorization") != "Bearer " + gw.args.token:
                e["status"] = 401
                gw.record(e)
                return self.answer(401, {"ok": False, "error": "unauthorized"})
            if gw.args.signing_key is not None:
                ts = self.headers.get("X-Meshpush-Timestamp")
                sig = self.headers.get("X-Meshpush-Signature")
                if not ts or not sig:
                    e["signature"] = "missing"
                else:
                    mac = hmac.new(gw.args.signing_key.encode(), ts.encode() + b"." + body,
                                   hashlib.sha256).hexdigest()
                    e["signature"] = "ok" if hmac.compare_digest("sha256=" + mac, sig) else "bad"
                if e["signature"] != "ok":
                    e["status"] = 401
                    gw.record(e)
                    return self.answer(401, {"ok": False, "error": "bad signature"})
            key = self.headers.get("Idempotency-Key")
            if gw.args.dedupe and key:
                with gw.lock:
                    seen = gw.seen.get(key)
                if seen:
                    e["status"], e["replay"] = seen[0], True
                    gw.record(e)
                    return self.answer(seen[0], seen[1])
            status = gw.next_status()
            if status == "close":
                e["status"] = 0
                gw.record(e)
                self.close_connection = True
                return
            status = int(status)
            e["status"] = status
            extra = {}
            if status in (429, 503) and gw.args.retry_after:
                extra["Retry-After"] = gw.retry_after()
            if 200 <= status < 300:
                with gw.lock:
                    gw.runs += 1
                    obj = {"ok": True, "runId": "run-%d" % gw.runs}
                    if gw.args.dedupe and key:
                        gw.seen[key] = (status, obj)
            else:
                obj = {"ok": False, "error": "scripted %d" % status}
            gw.record(e)
            self.answer(status, obj, extra)

    return Handler


class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128


def serve(args):
    gw = Gateway(args)
    srv = Server(("127.0.0.1", args.port), make_handler(gw))
    if args.tls_cert:
        import ssl
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(args.tls_cert, args.tls_key)
        srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
    if args.port_file:
        tmp = args.port_file + ".tmp"
        with open(tmp, "w") as f:
            f.write("%d\n" % srv.server_address[1])
        os.rename(tmp, args.port_file)
    try:
        srv.serve_forever()
    except KeyboardInterrupt:
        pass
    return 0


def main(argv):
    args = parse_args(argv)
    if args.count or args.get:
        return query(args)
    return serve(args)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
