"""Shared helpers for the rules checker and the corpus score.

Parses src/scan/rules.ini the way inih does (Debian's libinih: 200-byte lines,
inline comments after " ;"), compiles every regex with PCRE2 and Hyperscan
(prefilter mode) through ctypes, and emulates the scan engine closely enough
to test rules before the C engine exists: keywords, PCRE2 extraction of the
secret group, entropy, per-rule allow regexes, path regexes and an
approximation of the engine's global placeholder filter.
"""
import ctypes
import math
import os
import re
import sys

INI_MAX_LINE = 200   # Debian's libinih is built with the default

# ---------------------------------------------------------------- rules.ini

class Rule:
    def __init__(self, rid, lineno):
        self.id = rid
        self.lineno = lineno
        self.description = None
        self.regex = None
        self.trigger = None   # what Hyperscan looks for instead of regex
        self.secret_group = 1
        self.lines = 0
        self.keywords = []
        self.entropy = 0.0
        self.allow = []
        self.path = None
        self.tp = []
        self.fp = []
        self.fp_placeholder = []
        self.errors = []


def unescape(value):
    """tp/fp values: the engine turns the two characters \\n into a newline."""
    return value.replace("\\n", "\n")


def parse_rules(path):
    rules = []
    errors = []
    cur = None
    last_key = None
    with open(path, "rb") as f:
        raw = f.read()
    for lineno, bline in enumerate(raw.split(b"\n"), 1):
        if len(bline) + 1 >= INI_MAX_LINE:
            errors.append("%s:%d: line of %d bytes, inih reads at most %d"
                          % (path, lineno, len(bline), INI_MAX_LINE - 2))
        line = bline.decode("utf-8")
        if not line.strip() or line.lstrip()[0] in "#;":
            continue
        if line[0] in " \t":
            # inih continuation: the engine appends it to the previous value
            # of regex, allow, path, tp, fp or fp_placeholder
            if cur is None or last_key not in ("regex", "trigger", "allow", "path", "tp", "fp",
                                               "fp_placeholder"):
                errors.append("%s:%d: continuation line after no continuable key"
                              % (path, lineno))
                continue
            value = line.strip()
            if last_key == "regex":
                cur.regex += value
            elif last_key == "trigger":
                cur.trigger += value
            elif last_key == "allow":
                cur.allow[-1] += value
            elif last_key == "path":
                cur.path += value
            else:
                getattr(cur, last_key)[-1] += value
            continue
        m = re.match(r'^\[rule "([a-z0-9][a-z0-9-]*)"\]\s*$', line)
        if m:
            cur = Rule(m.group(1), lineno)
            rules.append(cur)
            continue
        if line.startswith("["):
            errors.append("%s:%d: unexpected section %s" % (path, lineno, line))
            cur = None
            continue
        m = re.match(r"^([a-z_]+)\s*[=:](.*)$", line)
        if not m or cur is None:
            errors.append("%s:%d: cannot parse: %s" % (path, lineno, line))
            continue
        key, value = m.group(1), m.group(2)
        last_key = key
        # inih inline comments: ';' preceded by white space
        c = re.search(r"[ \t];", value)
        if c:
            errors.append("%s:%d: ' ;' in value starts an inih comment, write [;]"
                          % (path, lineno))
            value = value[:c.start()]
        value = value.strip()
        if key == "description":
            cur.description = value
        elif key == "regex":
            cur.regex = value
        elif key == "trigger":
            cur.trigger = value
        elif key == "secret_group":
            cur.secret_group = int(value)
        elif key == "lines":
            cur.lines = int(value)  # the engine's search window; the emulation searches it all
        elif key == "keywords":
            cur.keywords = value.split()
        elif key == "entropy":
            cur.entropy = float(value)
        elif key == "allow":
            cur.allow.append(value)
        elif key == "path":
            cur.path = value
        elif key == "tp":
            cur.tp.append(value)
        elif key == "fp":
            cur.fp.append(value)
        elif key == "fp_placeholder":
            cur.fp_placeholder.append(value)
        else:
            errors.append("%s:%d: unknown key %s" % (path, lineno, key))
    return rules, errors

# ---------------------------------------------------------------- PCRE2

_p2 = ctypes.CDLL("libpcre2-8.so.0")
_p2.pcre2_compile_8.restype = ctypes.c_void_p
_p2.pcre2_compile_8.argtypes = [ctypes.c_char_p, ctypes.c_size_t, ctypes.c_uint32,
                                ctypes.POINTER(ctypes.c_int),
                                ctypes.POINTER(ctypes.c_size_t), ctypes.c_void_p]
_p2.pcre2_match_data_create_from_pattern_8.restype = ctypes.c_void_p
_p2.pcre2_match_data_create_from_pattern_8.argtypes = [ctypes.c_void_p, ctypes.c_void_p]
_p2.pcre2_match_8.restype = ctypes.c_int
_p2.pcre2_match_8.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_size_t,
                              ctypes.c_size_t, ctypes.c_uint32, ctypes.c_void_p,
                              ctypes.c_void_p]
_p2.pcre2_get_ovector_pointer_8.restype = ctypes.POINTER(ctypes.c_size_t)
_p2.pcre2_get_ovector_pointer_8.argtypes = [ctypes.c_void_p]
_p2.pcre2_get_error_message_8.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_size_t]
_p2.pcre2_jit_compile_8.argtypes = [ctypes.c_void_p, ctypes.c_uint32]
_p2.pcre2_pattern_info_8.argtypes = [ctypes.c_void_p, ctypes.c_uint32, ctypes.c_void_p]
PCRE2_INFO_CAPTURECOUNT = 4


class Pcre2Error(Exception):
    pass


class Pcre2:
    def __init__(self, pattern):
        err = ctypes.c_int()
        off = ctypes.c_size_t()
        b = pattern.encode()
        # PCRE2_MULTILINE, as the engine compiles (rules.c compile_one)
        self.code = _p2.pcre2_compile_8(b, len(b), 0x00000400, ctypes.byref(err),
                                        ctypes.byref(off), None)
        if not self.code:
            buf = ctypes.create_string_buffer(256)
            _p2.pcre2_get_error_message_8(err.value, buf, 256)
            raise Pcre2Error("%s at offset %d" % (buf.value.decode(), off.value))
        _p2.pcre2_jit_compile_8(self.code, 1)
        n = ctypes.c_uint32()
        _p2.pcre2_pattern_info_8(self.code, PCRE2_INFO_CAPTURECOUNT, ctypes.byref(n))
        self.groups = n.value
        self.md = _p2.pcre2_match_data_create_from_pattern_8(self.code, None)

    def finditer(self, data):
        """Yield lists of (start, end) per group (index 0 = whole match)."""
        pos = 0
        while pos <= len(data):
            rc = _p2.pcre2_match_8(self.code, data, len(data), pos, 0, self.md, None)
            if rc < 0:
                return
            ov = _p2.pcre2_get_ovector_pointer_8(self.md)
            spans = []
            for i in range(self.groups + 1):
                s, e = ov[2 * i], ov[2 * i + 1]
                spans.append(None if i >= rc or s > len(data) else (s, e))
            yield spans
            s, e = spans[0]
            pos = e if e > s else e + 1

    def search(self, data):
        for spans in self.finditer(data):
            return spans
        return None

# ---------------------------------------------------------------- Hyperscan

class _HsErr(ctypes.Structure):
    _fields_ = [("message", ctypes.c_char_p), ("expression", ctypes.c_int)]

try:
    _hs = ctypes.CDLL("libhs.so.5")
except OSError:
    _hs = None
HS_FLAG_PREFILTER = 128
HS_FLAG_SINGLEMATCH = 8
HS_FLAG_MULTILINE = 4
HS_MODE_BLOCK = 1
_HS_CB = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.c_uint, ctypes.c_ulonglong,
                          ctypes.c_ulonglong, ctypes.c_uint, ctypes.c_void_p)


def hs_compile(patterns, flags=HS_FLAG_PREFILTER | HS_FLAG_SINGLEMATCH | HS_FLAG_MULTILINE):
    # multi-line, as the engine compiles (db.c)
    """Compile patterns in one database. Returns (db, error string or None)."""
    if _hs is None:
        return None, "libhs not available"
    n = len(patterns)
    exprs = (ctypes.c_char_p * n)(*[p.encode() for p in patterns])
    fl = (ctypes.c_uint * n)(*([flags] * n))
    ids = (ctypes.c_uint * n)(*range(n))
    db = ctypes.c_void_p()
    err = ctypes.POINTER(_HsErr)()
    rc = _hs.hs_compile_multi(exprs, fl, ids, n, HS_MODE_BLOCK, None,
                              ctypes.byref(db), ctypes.byref(err))
    if rc != 0:
        msg = "%s (expression %d)" % (err.contents.message.decode(), err.contents.expression)
        _hs.hs_free_compile_error(err)
        return None, msg
    return db, None


def hs_database_size(db):
    size = ctypes.c_size_t()
    _hs.hs_database_size(db, ctypes.byref(size))
    return size.value


def hs_scan(db, data):
    """Return the set of expression ids that match data."""
    scratch = ctypes.c_void_p()
    _hs.hs_alloc_scratch(db, ctypes.byref(scratch))
    hits = set()

    def cb(i, frm, to, fl, ctx):
        hits.add(i)
        return 0
    c = _HS_CB(cb)
    _hs.hs_scan(db, data, len(data), 0, scratch, c, None)
    _hs.hs_free_scratch(scratch)
    return hits

# ---------------------------------------------------------------- engine emulation

def entropy(b):
    if not b:
        return 0.0
    counts = {}
    for ch in b:
        counts[ch] = counts.get(ch, 0) + 1
    n = len(b)
    return -sum(c / n * math.log2(c / n) for c in counts.values())


# An approximation of the engine's global placeholder filter (the engine's C
# code is the reference; this lets the checker and the score run without it).
_PLACEHOLDER = [re.compile(p, re.I) for p in [
    r"^<[^<>]*>$", r"<[a-z0-9 _.-]*(token|key|secret|password|pass|api|your|here)[a-z0-9 _.-]*>",
    r"^\$\{?[a-z_][a-z0-9_]*\}?$", r"^\$\{\{.*\}\}$", r"^\{\{.*\}\}$", r"\$\{[^}]*\}",
    r"^%[a-z_]+%$", r"process\.env", r"os\.environ", r"os\.getenv", r"getenv\(", r"^secretref:",
    r"x{5,}", r"\*{3,}", r"\.{3,}", r"•{3,}",
    r"^(changeme|change_me|password|secret|token|null|none|undefined|redacted|dummy|test|example)$",
    r"(your|my)[_-]?(api[_-]?)?(key|token|secret|password)([_-]?here)?",
    r"_here$", r"^replace[_-]?me", r"insert[_-]?(your|key|token)",
    r"EXAMPLE", r"^AKIAIOSFODNN7EXAMPLE$", r"wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
    # vendors' documented examples, as in the engine's filter.c
    r"^sk_test_4eC39HqLyjWDarjtT1zdp7dc$", r"^pk_test_TYooMQauvdEDq54NiTphI7jx$",
    r"^sk_test_BQokikJOvBiI2HlWgH4olfQ2$", r"^ghp_16C7e42F292c6912E7710c838347Ae178B4a$",
    r"^AIzaSyDaGmWKa4JsXZ-HjGw7ISLn_3namBGewQe$", r"^xoxb-not-a-real-token-this-will-not-work$",
    r"^Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==$",
]]


# whole words that make a value a placeholder (as the engine's filter.c)
_PLACEHOLDER_WORDS = {
    "your", "yours", "example", "examples", "placeholder", "dummy", "redacted", "changeme", "changeit",
    "replaceme", "fake", "sample", "insert", "xxx", "todo", "fixme", "none", "null", "nil", "undefined",
    "notasecret", "mytoken", "mysecret", "mypassword", "yourtoken", "secrethere", "tokenhere",
}


def is_placeholder(secret):
    s = secret.decode("utf-8", "replace").strip().strip("\"'`")
    if not s:
        return True
    if len(set(s)) == 1:
        return True
    if any(w.lower() in _PLACEHOLDER_WORDS for w in re.split(r"[^A-Za-z0-9]+", s)):
        return True
    return any(p.search(s) for p in _PLACEHOLDER)


def may_span_lines(regex):
    """The engine's test for rules whose matches can span lines (engine.c)."""
    return any(t in regex for t in ("\\s\\S", "\\S\\s", "(?s", "\\n", "\\r", "BEGIN"))


KEYWORD_REACH = 512


def _line_bounds(data, start, end, reach=KEYWORD_REACH):
    a = data.rfind(b"\n", max(0, start - reach), start)
    a = a + 1 if a >= 0 else max(0, start - reach)
    b = data.find(b"\n", end, min(len(data), end + reach))
    b = b if b >= 0 else min(len(data), end + reach)
    return a, b


class CompiledRule:
    def __init__(self, rule):
        self.rule = rule
        self.multiline = may_span_lines(rule.regex)
        self.re = Pcre2(rule.regex)
        self.allow = [Pcre2(a) for a in rule.allow]
        self.path = Pcre2(rule.path) if rule.path else None
        self.kw = [k.encode() for k in rule.keywords]


def compile_rules(rules):
    return [CompiledRule(r) for r in rules]


def _matches(cr, data):
    """Like the engine: rules that cannot span lines are searched line by line."""
    if cr.multiline:
        yield from cr.re.finditer(data)
        return
    pos = 0
    while pos <= len(data):
        nl = data.find(b"\n", pos)
        end = nl if nl >= 0 else len(data)
        line = data[pos:end]
        for spans in cr.re.finditer(line):
            yield [None if sp is None else (sp[0] + pos, sp[1] + pos) for sp in spans]
        if nl < 0:
            break
        pos = nl + 1


def find(crules, data, path="", placeholders=True, only=None):
    """Emulated engine: list of (rule id, start offset, secret bytes)."""
    out = []
    lower = data.lower()
    for cr in crules:
        r = cr.rule
        if only is not None and r.id != only:
            continue
        if cr.kw and not any(k in lower for k in cr.kw):
            continue
        if cr.path and path and cr.path.search(path.encode()) is None:
            continue
        for spans in _matches(cr, data):
            g = spans[r.secret_group] if r.secret_group < len(spans) else None
            if g is None or g[1] <= g[0]:
                continue
            secret = data[g[0]:g[1]].rstrip(b"\r\n")
            if not secret:
                continue
            if cr.kw:
                a, b = _line_bounds(data, spans[0][0], spans[0][1])
                if not any(k in lower[a:b] for k in cr.kw):
                    continue
            if r.entropy and entropy(secret) < r.entropy:
                continue
            if any(a.search(secret) for a in cr.allow):
                continue
            if placeholders and is_placeholder(secret):
                continue
            out.append((r.id, g[0], secret))
    return out


def default_rules_path():
    here = os.path.dirname(os.path.abspath(__file__))
    return os.path.join(here, "..", "..", "src", "scan", "rules.ini")
