#!/usr/bin/env python3
"""Check src/scan/rules.ini: structure, PCRE2 and Hyperscan compilation, and
every rule's tp / fp / fp_placeholder examples.

  tp              must produce a finding of its rule (regex, secret group,
                  entropy, allow, keywords), placeholder filter included
  fp              must produce no finding of its rule, even without the
                  global placeholder filter
  fp_placeholder  must produce no finding of its rule once the global
                  placeholder filter runs (emulated here, approximately)

With -v, also lists examples of one rule that another rule reports (overlaps
the engine resolves by reporting a span once). Exit 1 on any error.
Usage: check-rules-examples.py [-v] [rules.ini]
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ruleslib as rl  # noqa: E402


def main(argv):
    verbose = "-v" in argv
    args = [a for a in argv if a != "-v"]
    path = args[0] if args else rl.default_rules_path()
    rules, errors = rl.parse_rules(path)
    seen = {}
    for r in rules:
        where = "%s:%d: rule %s" % (path, r.lineno, r.id)
        if r.id in seen:
            errors.append("%s: duplicate id (first at line %d)" % (where, seen[r.id]))
        seen[r.id] = r.lineno
        if not r.description:
            errors.append("%s: no description" % where)
        if not r.regex:
            errors.append("%s: no regex" % where)
            continue
        if not r.tp:
            errors.append("%s: no tp example" % where)
        if not r.fp and not r.fp_placeholder:
            errors.append("%s: no fp example" % where)
        for k in r.keywords:
            if k != k.lower():
                errors.append("%s: keyword %r is not lowercase" % (where, k))
        try:
            cr = rl.CompiledRule(r)
        except rl.Pcre2Error as e:
            errors.append("%s: PCRE2: %s" % (where, e))
            continue
        if r.secret_group > cr.re.groups:
            errors.append("%s: secret_group %d but %d groups" % (where, r.secret_group, cr.re.groups))
            continue
        r.compiled = cr
        db, err = rl.hs_compile([r.trigger or r.regex])
        if err:
            errors.append("%s: Hyperscan: %s" % (where, err))
        r.hsdb = db
        for ex in r.tp:
            data = rl.unescape(ex).encode()
            if not rl.find([cr], data):
                why = ""
                m = cr.re.search(data)
                if m is None:
                    why = "regex does not match"
                else:
                    g = m[r.secret_group]
                    s = data[g[0]:g[1]] if g else b""
                    if cr.kw and not any(k in data.lower() for k in cr.kw):
                        why = "no keyword in line"
                    elif r.entropy and rl.entropy(s) < r.entropy:
                        why = "entropy %.2f < %.2f" % (rl.entropy(s), r.entropy)
                    elif rl.is_placeholder(s):
                        why = "placeholder filter drops %r" % s.decode()
                    else:
                        why = "allow drops %r" % s.decode()
                errors.append("%s: tp not found (%s): %s" % (where, why, ex))
            elif db is not None and 0 not in rl.hs_scan(db, data):
                errors.append("%s: tp missed by Hyperscan: %s" % (where, ex))
        for ex in r.fp:
            f = rl.find([cr], rl.unescape(ex).encode(), placeholders=False)
            if f:
                errors.append("%s: fp reported (secret %r): %s" % (where, f[0][2].decode(), ex))
        for ex in r.fp_placeholder:
            data = rl.unescape(ex).encode()
            f = rl.find([cr], data)
            if f:
                errors.append("%s: fp_placeholder reported (secret %r): %s" % (where, f[0][2].decode(), ex))
            elif not rl.find([cr], data, placeholders=False):
                errors.append("%s: fp_placeholder rejected by the rule itself, make it fp: %s" % (where, ex))
    good = [r for r in rules if hasattr(r, "compiled")]
    db, err = rl.hs_compile([r.trigger or r.regex for r in good])
    if err:
        errors.append("Hyperscan, all rules in one database: %s" % err)
    elif verbose:
        print("hyperscan database: %d bytes for %d rules" % (rl.hs_database_size(db), len(good)))
    if verbose:
        crs = [r.compiled for r in good]
        for r in good:
            for kind, exs in (("tp", r.tp), ("fp", r.fp + r.fp_placeholder)):
                for ex in exs:
                    for rid, off, sec in rl.find(crs, rl.unescape(ex).encode()):
                        if rid != r.id:
                            print("overlap: %s %s of %s also found by %s (%r)"
                                  % (kind, ex[:60], r.id, rid, sec.decode()[:40]))
    for e in errors:
        print(e)
    ntp = sum(len(r.tp) for r in rules)
    nfp = sum(len(r.fp) + len(r.fp_placeholder) for r in rules)
    print("%d rules, %d tp, %d fp examples, %d errors" % (len(rules), ntp, nfp, len(errors)))
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
