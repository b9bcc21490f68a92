#!/usr/bin/env python3
"""Write a git fast-import stream of a realistic history to stdout.

Text comes from what Debian and Python installed (/usr/include, the Python
standard library, /usr/share/doc): commits add files, edit them (insert,
change and delete lines) and delete them; a few commits plant real-format
credentials, some of which later commits remove again.

usage: make-repo.py COMMITS FILES SEED PLANTED_OUT
"""
import os
import random
import sys

commits, max_files, seed, planted_out = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
rnd = random.Random(seed)

pool = []
for root, prefix in (("/usr/include", "include"), ("/usr/lib/python3", "python"), ("/usr/lib/python3.11", "python"),
                     ("/usr/share/doc", "doc")):
    for d, _, names in os.walk(root):
        for n in sorted(names):
            p = os.path.join(d, n)
            if n.endswith((".gz", ".pyc", ".png", ".jpg", ".svg")) or not os.path.isfile(p) or os.path.islink(p):
                continue
            try:
                size = os.path.getsize(p)
            except OSError:
                continue
            if 0 < size < 2_000_000:
                pool.append((prefix + p[len(root):], p))
pool.sort()
rnd.shuffle(pool)
pool = pool[:max_files]

ALNUM = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
def rs(n, alphabet=ALNUM):
    return "".join(rnd.choice(alphabet) for _ in range(n))

def secret_line():
    kind = rnd.randrange(6)
    if kind == 0:
        return "GITHUB_TOKEN=ghp_%s" % rs(36)
    if kind == 1:
        return 'aws_access_key_id = "AKIA%s"' % rs(16, "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567")
    if kind == 2:
        return 'const slack = "xoxb-%s-%s-%s";' % (rs(11, "0123456789"), rs(12, "0123456789"), rs(24))
    if kind == 3:
        return 'db_password = "%s"' % rs(18)
    if kind == 4:
        return "curl -H 'Authorization: Bearer %s' http://127.0.0.1:18789/hooks/agent" % rs(40)
    return "npm_token = npm_%s" % rs(36)

out = sys.stdout.buffer
live = {}        # repo path -> content (bytes)
next_file = 0
planted = []
t0 = 1700000000

def emit_blob(path, data):
    out.write(b"M 100644 inline %s\ndata %d\n" % (path.encode(), len(data)))
    out.write(data)
    out.write(b"\n")

for c in range(1, commits + 1):
    msg = b"commit %d" % c
    out.write(b"commit refs/heads/main\nmark :%d\n" % c)
    out.write(b"committer Bench <bench@example.com> %d +0000\n" % (t0 + 60 * c))
    out.write(b"data %d\n%s\n" % (len(msg), msg))
    if c > 1:
        out.write(b"from :%d\n" % (c - 1))
    ops = []
    # early commits add many files, later ones mostly edit
    nadd = rnd.randint(3, 12) if c < commits // 4 else rnd.randint(0, 3)
    for _ in range(nadd):
        if next_file >= len(pool):
            break
        path, src = pool[next_file]
        next_file += 1
        try:
            data = open(src, "rb").read()
        except OSError:
            continue
        live[path] = data
        ops.append(("M", path))
    paths = sorted(live)
    for _ in range(rnd.randint(1, 4)):
        if not paths:
            break
        path = rnd.choice(paths)
        lines = live[path].split(b"\n")
        for _ in range(rnd.randint(1, 5)):
            i = rnd.randrange(len(lines))
            r = rnd.random()
            if r < 0.4:
                lines.insert(i, b"    /* revised in commit %d: %s */" % (c, rs(12).encode()))
            elif r < 0.7 and len(lines) > 1:
                del lines[i]
            else:
                lines[i] = lines[i] + b" /* %d */" % c
        live[path] = b"\n".join(lines)
        ops.append(("M", path))
    if rnd.random() < 0.03 and paths:
        path = rnd.choice(paths)
        line = secret_line()
        lines = live[path].split(b"\n")
        at = rnd.randrange(len(lines))
        lines.insert(at, line.encode())
        live[path] = b"\n".join(lines)
        ops.append(("M", path))
        planted.append((c, path, line))
        if rnd.random() < 0.5:
            pending = (c + rnd.randint(1, 20), path, line)
            planted_removals = globals().setdefault("planted_removals", [])
            planted_removals.append(pending)
    for when, path, line in list(globals().get("planted_removals", [])):
        if when == c and path in live:
            live[path] = live[path].replace(line.encode() + b"\n", b"")
            ops.append(("M", path))
            globals()["planted_removals"].remove((when, path, line))
    if rnd.random() < 0.15 and len(paths) > 20:
        for path in rnd.sample(paths, rnd.randint(1, 3)):
            if path in live:
                del live[path]
                ops.append(("D", path))
    done = set()
    for op, path in ops:
        if (op, path) in done:
            continue
        done.add((op, path))
        if op == "D":
            out.write(b"D %s\n" % path.encode())
        elif path in live:
            emit_blob(path, live[path])
    out.write(b"\n")

with open(planted_out, "w") as f:
    for c, path, line in planted:
        f.write("%d\t%s\t%s\n" % (c, path, line))
