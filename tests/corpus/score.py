#!/usr/bin/env python3
"""Score the scanner on the labelled corpus: precision and recall.

Copies tests/corpus/files to a temporary directory (outside the repository,
whose .meshpush.ini allows tests/corpus/**), runs
  $MESHPUSH scan --format json --no-redact files
there (MESHPUSH defaults to ./git-meshpush in the current directory, else
the repository's own git-meshpush), and matches findings to tests/corpus/labels.tsv by (path, line).

A line is counted once however many findings it has; a multi-line secret
(a PEM block) is labelled at, and reported at, its first line. Prints
"precision=P recall=R tp=N fp=N fn=N", then each false positive and each miss.
Always exits 0: it reports, `make corpus-check` (or similar) gates.

  --emulate   use the Python emulation of the engine (tests/corpus/ruleslib.py)
              instead of the binary: rules.ini, keywords, entropy, allow and an
              approximation of the placeholder filter
  --min P,R   exit 1 if precision < P or recall < R (for a gating target)
  -q          only the summary line
"""
import json
import os
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
FILES = os.path.join(HERE, "files")
LABELS = os.path.join(HERE, "labels.tsv")


def load_labels():
    labels = {}
    with open(LABELS, encoding="utf-8") as f:
        for line in f:
            line = line.rstrip("\n")
            if not line or line.startswith("#"):
                continue
            path, lineno, kind = line.split("\t", 2)
            labels[(path, int(lineno))] = kind
    return labels


def run_binary():
    exe = os.environ.get("MESHPUSH")
    if not exe:
        exe = "./git-meshpush"
        if not os.path.exists(exe):  # run from elsewhere: the repository's binary
            exe = os.path.join(HERE, "..", "..", "git-meshpush")
    exe = os.path.abspath(exe)
    if not os.access(exe, os.X_OK):
        sys.stderr.write("score: no scanner at '%s'; build it (make) or set MESHPUSH\n" % exe)
        return None
    tmp = tempfile.mkdtemp(prefix="meshpush-corpus-")
    try:
        shutil.copytree(FILES, os.path.join(tmp, "files"), symlinks=True)
        env = dict(os.environ)
        env["HOME"] = tmp
        env["XDG_CONFIG_HOME"] = os.path.join(tmp, ".config")
        env["XDG_CACHE_HOME"] = os.path.join(tmp, ".cache")
        env["GIT_CEILING_DIRECTORIES"] = tmp
        env["NO_COLOR"] = "1"
        p = subprocess.run([exe, "scan", "--format", "json", "--no-redact", "files"],
                           cwd=tmp, env=env, capture_output=True)
        if p.returncode not in (0, 1):
            sys.stderr.write(p.stderr.decode("utf-8", "replace"))
            sys.stderr.write("score: scan exited %d\n" % p.returncode)
        try:
            doc = json.loads(p.stdout.decode("utf-8", "replace") or "{}")
        except ValueError as e:
            sys.stderr.write("score: scan output is not JSON: %s\n" % e)
            doc = {}
        found = []
        for f in doc.get("findings", []):
            path = f.get("path", "")
            for prefix in (os.path.join(tmp, "files") + "/", "files/", "./files/"):
                if path.startswith(prefix):
                    path = path[len(prefix):]
                    break
            found.append((path, int(f.get("line", 0)), f.get("rule", "?"), f.get("secret", "")))
        return found
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def run_emulated():
    sys.path.insert(0, HERE)
    import ruleslib as rl
    rules, errors = rl.parse_rules(rl.default_rules_path())
    crules = rl.compile_rules(rules)
    found = []
    for root, dirs, files in os.walk(FILES):
        dirs.sort()
        for name in sorted(files):
            full = os.path.join(root, name)
            rel = os.path.relpath(full, FILES)
            data = open(full, "rb").read()
            if b"\0" in data[:8000]:
                continue
            for rid, off, secret in rl.find(crules, data, path=rel):
                line = data.count(b"\n", 0, off) + 1
                found.append((rel, line, rid, secret.decode("utf-8", "replace")))
    return found


def main(argv):
    quiet = "-q" in argv
    minimum = None
    if "--min" in argv:
        minimum = [float(x) for x in argv[argv.index("--min") + 1].split(",")]
    found = run_emulated() if "--emulate" in argv else run_binary()
    if found is None:
        return 1 if minimum else 0
    labels = load_labels()
    by_line = {}
    for path, line, rule, secret in found:
        by_line.setdefault((path, line), []).append((rule, secret))
    tp = [k for k in by_line if k in labels]
    fp = sorted(k for k in by_line if k not in labels)
    fn = sorted(k for k in labels if k not in by_line)
    precision = len(tp) / (len(tp) + len(fp)) if tp or fp else 1.0
    recall = len(tp) / len(labels) if labels else 1.0
    print("precision=%.3f recall=%.3f tp=%d fp=%d fn=%d"
          % (precision, recall, len(tp), len(fp), len(fn)))
    if not quiet:
        for k in fp:
            for rule, secret in by_line[k]:
                print("FP %s:%d %s %s" % (k[0], k[1], rule, secret[:70].replace("\n", "\\n")))
        for k in fn:
            print("FN %s:%d %s" % (k[0], k[1], labels[k]))
    if minimum and (precision < minimum[0] or recall < minimum[1]):
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
