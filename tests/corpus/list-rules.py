#!/usr/bin/env python3
"""Print the rule list of src/scan/rules.ini as a Markdown table, or with
--update FILE replace the part of FILE between the markers
<!-- rules:begin --> and <!-- rules:end --> with it."""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ruleslib as rl  # noqa: E402


def table():
    rules, _ = rl.parse_rules(rl.default_rules_path())
    out = ["%d rules, in file order (earlier rules win when two findings overlap):" % len(rules), "",
           "| id | description | keywords | entropy |", "| --- | --- | --- | --- |"]
    for r in rules:
        out.append("| `%s` | %s | %s | %s |" % (
            r.id, r.description.replace("|", "\\|"), " ".join("`%s`" % k for k in r.keywords) or "—",
            ("%g" % r.entropy) if r.entropy else "—"))
    return "\n".join(out) + "\n"


def main(argv):
    if len(argv) == 2 and argv[0] == "--update":
        text = open(argv[1], encoding="utf-8").read()
        a = text.index("<!-- rules:begin -->") + len("<!-- rules:begin -->")
        b = text.index("<!-- rules:end -->")
        open(argv[1], "w", encoding="utf-8").write(text[:a] + "\n" + table() + text[b:])
        return 0
    sys.stdout.write(table())
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
