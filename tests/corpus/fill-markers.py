#!/usr/bin/env python3
"""Fill synthetic secrets into files, in place (a one-off authoring aid).

Markers:  %{X:n}  n random characters of charset X:
            h hex lower, H hex upper, a alnum, l lowercase alnum, u upper alnum,
            L letters, d digits, b base64, w base64url, 3 base32 upper (A-Z2-7), 8 bech32 upper,
            g GitHub-style token body of n chars with a CRC32 checksum (n-6 + 6)
          %{uuid}   a random UUID v4
          %{basic}  base64 of "user:password" (a Basic auth / docker auth value)
          %{b64a:n} base64 of n random alnum characters (a Kubernetes Secret value)
          %{b64key:n} base64 of a whole RSA PEM private key of n body lines
          %{jwt}    an HS256 JWT with a realistic payload;  %{jwtrs} an RS256 one
          %{pem:n}  n lines of 64 base64 characters and a shorter last line,
                    joined by newlines;  %{pemj:n} joined by the two characters \\n
          ⟦kind⟧    (at the end of a line) labels that line as a real secret of
                    that kind: removed, and "path<TAB>line<TAB>kind" is appended
                    to the labels file given with -l
Every value is random: nothing here is, or was, a real credential.
Usage: fill-markers.py [-l labels.tsv] [--root DIR] FILE...
"""
import base64
import json
import random
import re
import string
import sys
import uuid
import zlib

CS = {
    "h": "0123456789abcdef", "H": "0123456789ABCDEF",
    "a": string.ascii_letters + string.digits,
    "l": string.ascii_lowercase + string.digits,
    "u": string.ascii_uppercase + string.digits,
    "L": string.ascii_letters, "d": string.digits,
    "b": string.ascii_letters + string.digits + "+/",
    "w": string.ascii_letters + string.digits + "_-",
    "3": string.ascii_uppercase + "234567",
    "8": "QPZRY9X8GF2TVDW0S3JN54KHCE6MUA7L",
}
B62 = string.digits + string.ascii_uppercase + string.ascii_lowercase


def rnd(cs, n):
    return "".join(random.choice(cs) for _ in range(n))


def gh(n):
    body = rnd(CS["a"], n - 6)
    c = zlib.crc32(body.encode())
    out = ""
    while c:
        c, r = divmod(c, 62)
        out = B62[r] + out
    return body + out.rjust(6, "0")


def pem(n, sep):
    lines = [rnd(CS["b"], 64) for _ in range(n)] + [rnd(CS["b"], 40) + "=="]
    return sep.join(lines)


def b64(s):
    return base64.b64encode(s.encode()).decode()


def jwt(alg, siglen):
    def seg(obj):
        return base64.urlsafe_b64encode(json.dumps(obj, separators=(",", ":")).encode()).decode().rstrip("=")
    iat = random.randint(1700000000, 1790000000)
    payload = {"sub": rnd(CS["l"], 12), "iss": "auth." + rnd(string.ascii_lowercase, 6) + ".internal",
               "role": random.choice(["service", "admin", "deployer"]), "iat": iat,
               "exp": iat + random.choice([86400 * 365, 86400 * 30, 3600 * 12])}
    return seg({"alg": alg, "typ": "JWT"}) + "." + seg(payload) + "." + rnd(CS["w"], siglen)


def sub(m):
    k = m.group(1)
    if k == "uuid":
        return str(uuid.uuid4())
    if k == "basic":
        return b64("svc-" + rnd(string.ascii_lowercase, 5) + ":" + rnd(CS["a"], 22))
    if k == "jwt":
        return jwt("HS256", 43)
    if k == "jwtrs":
        return jwt("RS256", 342)
    if k.startswith("b64a:"):
        return b64(rnd(CS["a"], int(k[5:])))
    if k.startswith("b64key:"):
        return b64("-----BEGIN RSA PRIVATE KEY-----\n" + pem(int(k[7:]), "\n")
                   + "\n-----END RSA PRIVATE KEY-----\n")
    if k.startswith("pemj:"):
        return pem(int(k[5:]), "\\n")
    if k.startswith("pem:"):
        return pem(int(k[4:]), "\n")
    cs, n = k.split(":")
    if cs == "g":
        return gh(int(n))
    return rnd(CS[cs], int(n))


MARK = re.compile(r"%\{([a-zA-Z0-9]+(?::[0-9]+)?|uuid)\}")
LABEL = re.compile(r"⟦([^⟧]+)⟧")


def main(argv):
    labels = None
    root = ""
    files = []
    it = iter(argv)
    for a in it:
        if a == "-l":
            labels = next(it)
        elif a == "--root":
            root = next(it).rstrip("/") + "/"
        else:
            files.append(a)
    rows = []
    for f in files:
        text = open(f, encoding="utf-8", newline="").read()
        # labels first, on the template's lines, so that %{pem:n} markers
        # expanding to several lines shift later labels correctly
        out_lines = []
        lineno = 0
        for line in text.split("\n"):
            lab = LABEL.search(line)
            line = LABEL.sub("", line)
            line = MARK.sub(sub, line)
            lineno += 1
            if lab:
                rel = f[len(root):] if root and f.startswith(root) else f
                rows.append("%s\t%d\t%s" % (rel, lineno, lab.group(1)))
            lineno += line.count("\n")
            out_lines.append(line)
        open(f, "w", encoding="utf-8", newline="").write("\n".join(out_lines))
    if labels and rows:
        with open(labels, "a", encoding="utf-8") as lf:
            lf.write("\n".join(rows) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
