# ruff: noqa: RUF001, RUF002 - real runbooks use dashes, arrows and mojibake
"""Text: mojibake repair and plain-text helpers.

Mojibake (UTF-8 read as cp1252 or Mac Roman, e.g. "ðŸ“…", "âœ“", "‚Üí") is
repaired line by line with ftfy plus a Mac Roman round trip; lines that cannot
be repaired are kept as they are.

The text helpers (escapes, ``**Key:** value`` labels, checklist item text,
table cells, canonical heading prefixes) are shared with export.py, which must
produce what these read back.
"""

from __future__ import annotations

import functools
import re
import re._constants as sre_c
import re._parser as sre_parse
from collections.abc import Iterable

import ftfy
from ftfy.badness import BADNESS_RE, is_bad

_NON_ASCII_RUN = re.compile(r"[^\x00-\x7f]+(?:[ \t]?[^\x00-\x7f]+)*")


def _macroman_run(match: re.Match) -> str:
    run = match.group(0)
    try:
        fixed = run.encode("mac_roman").decode("utf-8")
    except (UnicodeEncodeError, UnicodeDecodeError):
        return run
    return fixed


def _cp_continuation(ch: str) -> bool:
    for codec in ("cp1252", "cp1254"):
        try:
            b = ch.encode(codec)
        except UnicodeEncodeError:
            continue
        if len(b) == 1 and 0x80 <= b[0] <= 0xBF:
            return True
    return False


def _lost_bytes(match: re.Match) -> str:
    # "ğŸ‰": an emoji whose UTF-8 bytes were read as Windows-1254 and lost a byte
    # that code page does not define; the character cannot be known, so mark it.
    tail = match.group(1)
    keep = "".join(c for c in tail if not _cp_continuation(c))
    return "\ufffd" + keep


_BROKEN_EMOJI = re.compile(r"(?:ğŸ|ðŸ|âœ)(.{0,2})")


def _mojibake_chars() -> str:
    """Characters a match of ftfy's mojibake heuristic (``is_bad``) always holds one of: for
    each of its alternatives, the smallest set of characters one of its elements must be
    (``tests/runbooks/test_blocks_parser.py`` checks every match holds one), so a line
    without any is not bad. "—", "→" or "’" alone do not make a line looked at."""
    chars: set[str] = set()
    for alternative in _alternatives(sre_parse.parse(BADNESS_RE.pattern, BADNESS_RE.flags)):
        needed = [n for n in (_set_of(op, av) for op, av in alternative) if n is not None]
        # the smallest set without ASCII ("[a-z]\\s?[ÃÂ] ": "Ã" or "Â", not the blank)
        chars |= min(needed, key=lambda n: (_has_ascii(n), len(n)))
    return "".join(sorted(chars))


def _has_ascii(chars: Iterable[str]) -> bool:
    return any(c.isascii() for c in chars)


def _alternatives(parsed) -> list:
    """The top-level alternatives of a parsed pattern (one, when it has no "|")."""
    if len(parsed) == 1 and parsed[0][0] is sre_c.BRANCH:
        return list(parsed[0][1][1])
    return [parsed]


def _set_of(op, av) -> set[str] | None:
    """The characters one element can match: a literal or a class of literals and ranges
    (None: anything else, which is passed over)."""
    if op is sre_c.LITERAL:
        return {chr(av)}
    if op is not sre_c.IN or any(o not in (sre_c.LITERAL, sre_c.RANGE) for o, _ in av):
        return None
    out: set[str] = set()
    for o, a in av:
        out.update({chr(a)} if o is sre_c.LITERAL else map(chr, range(a[0], a[1] + 1)))
    return out


#: the bytes that start a multi-byte UTF-8 sequence (0xC2-0xF4), read as Mac Roman: a run of
#: text can be UTF-8 read as Mac Roman only if it holds one of them
_MACROMAN_LEADS = bytes(range(0xC2, 0xF5)).decode("mac_roman")
_MACROMAN_LEAD = re.compile("[" + re.escape(_MACROMAN_LEADS) + "]")
_BAD = re.compile("[" + re.escape(_mojibake_chars()) + "]")
#: a line without any of these is left as it is: no repair step can change it
_SUSPECT = re.compile("[" + re.escape(_mojibake_chars() + _MACROMAN_LEADS + "Ÿâ") + "]")


#: what ``ftfy.fix_encoding`` builds on every call
_FIX_ENCODING = ftfy.TextFixerConfig(explain=False)


def _repair_line(line: str) -> str:
    try:
        if _BAD.search(line) and is_bad(line):
            line = ftfy.fix_encoding_and_explain(line, _FIX_ENCODING).text
        if _MACROMAN_LEAD.search(line):
            line = _NON_ASCII_RUN.sub(_macroman_run, line)
        if "Ÿ" in line or "âœ" in line:
            line = _BROKEN_EMOJI.sub(_lost_bytes, line)
    except Exception:
        return line
    return line


def _repair(text: str) -> str:
    """Mojibake repaired line by line; lines without a character mojibake is made of (all
    ASCII, CJK, Cyrillic...) are not looked at again."""
    if text.isascii() or not _SUSPECT.search(text):
        return text
    return "\n".join(
        ln if ln.isascii() or not _SUSPECT.search(ln) else _repair_line(ln)
        for ln in text.split("\n")
    )


# ----------------------------------------------------------------------------
# Text helpers (shared with export.py, which must produce what these read back)
# ----------------------------------------------------------------------------

CANONICAL_PREFIXES = ("Phase", "Checklist", "Gate", "Template", "Note", "Rollback")


_UNESC = re.compile(r"\\([!-/:-@\[-`{-~])|&#124;")
_COMMENT = re.compile(r"<!--.*?-->", re.S)
_BOLD = re.compile(r"\*\*(.+?)\*\*|__(.+?)__")
_PLACEHOLDER_VALUES = re.compile(r"^(?:-|—|–|n/?a|)$", re.I)


def unescape(text: str) -> str:
    """Undo markdown backslash escapes (and ``&#124;`` used for pipes in cells)."""
    if "\\" not in text and "&#124;" not in text:
        return text
    return _UNESC.sub(lambda m: m.group(1) if m.group(1) is not None else "|", text)


def escape(text: str) -> str:
    """Backslash-escape every ASCII punctuation character (pipes become ``&#124;``)."""
    return "".join(
        "&#124;" if c == "|" else ("\\" + c if c.isascii() and not c.isalnum() and c > " " else c)
        for c in text
    )


@functools.lru_cache(maxsize=8192)
def plain(text: str) -> str:
    """Display text: comments and bold markers removed, escapes undone, whitespace trimmed."""
    if "<!--" in text:
        text = _COMMENT.sub("", text)
    if "**" in text or "__" in text:
        text = _BOLD.sub(lambda m: m.group(1) or m.group(2), text)
    return unescape(" ".join(text.split()))


def cell_text(raw: str) -> str:
    """A table cell's value; "-", "n/a" and empty cells are empty."""
    value = plain(raw)
    return "" if _PLACEHOLDER_VALUES.match(raw.strip()) else value


def split_list(raw: str, seps: str = ";") -> list[str]:
    """Split on unescaped separators, then unescape each part."""
    parts, cur, i = [], [], 0
    while i < len(raw):
        c = raw[i]
        if raw.startswith("&#124;", i):
            cur.append("&#124;")
            i += 6
            continue
        if c == "\\" and i + 1 < len(raw):
            cur.append(raw[i : i + 2])
            i += 2
            continue
        if c in seps:
            parts.append("".join(cur))
            cur = []
        else:
            cur.append(c)
        i += 1
    parts.append("".join(cur))
    return [v for v in (cell_text(p) for p in parts) if v]


_OWNER = re.compile(r"\s*\((?:owner|owned by|assignee)\s*:\s*((?:\\.|[^()\\])+)\)\s*$", re.I)
_CHECKBOX = re.compile(r"^\[([ xX]|\s{2})\]\s?(.*)$", re.S)
_GROUP = re.compile(r"^\*\*\[\s*([xX]?)\s*\]\s*(.*?)\*\*\s*$")


def item_text(raw: str) -> tuple[str, str]:
    """(text, owner) of a checklist item's text after the checkbox."""
    raw = " ".join(raw.split())
    owner = ""
    m = _OWNER.search(raw) if raw.endswith(")") else None
    if m:
        owner = unescape(m.group(1).strip())
        raw = raw[: m.start()]
    return unescape(raw.strip()), owner


def meta_value(raw: str) -> str:
    return unescape(raw.strip())


_LABEL = re.compile(r"^(?:\*\*(.+?)\*\*|__(.+?)__)\s*(.*)$")


def label_line(line: str) -> tuple[str, str] | None:
    """``**Key:** value`` -> (key, raw value); ``**Label**`` -> (label, "")."""
    s = line.strip()
    m = _LABEL.match(s) if s.startswith(("**", "__")) else None
    if not m:
        return None
    key = (m.group(1) or m.group(2)).strip()
    rest = m.group(3)
    if key.endswith(":"):
        key = key[:-1].rstrip()
    elif rest.startswith(":"):
        rest = rest[1:]
    elif rest and not key.endswith(":"):
        # "**Assemble team** in war room": bold words inside prose, not a label
        return None
    return key, rest.strip()


def heading_prefix(text: str) -> tuple[str, str] | None:
    """Canonical headings: "Phase: name" -> ("Phase", raw name)."""
    for p in CANONICAL_PREFIXES:
        if text.startswith(p + ": "):
            return p, text[len(p) + 2 :]
    return None
