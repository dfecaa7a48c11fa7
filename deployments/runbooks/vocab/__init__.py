"""The words of each language the importer reads, merged into one lookup.

One module per language (``en``, ``de``, ``es``, ``pt``, ``vi``, ``zh``, ``ja``,
``ru``) lists its time units, before/after words, and the words that name
gates, rollback triggers and plans, task headings and the columns of task and
contact tables. Adding a language is adding a module and its name to
``LANGUAGES``.
"""

from __future__ import annotations

import re
import re._constants as _sre
import re._parser as _sre_parse
from types import ModuleType

from . import de, en, es, ja, pt, ru, vi, zh

LANGUAGES: tuple[ModuleType, ...] = (en, de, es, pt, vi, zh, ja, ru)


def _words(name: str) -> tuple[str, ...]:
    seen: dict[str, None] = {}
    for lang in LANGUAGES:
        for w in getattr(lang, name, ()):
            seen.setdefault(w.lower(), None)
    return tuple(sorted(seen, key=len, reverse=True))


def _alternation(words: tuple[str, ...]) -> str:
    """A pattern matching exactly ``words``, as a tree of shared prefixes ("roll(?:back|...)"):
    the regex engine tries each first letter once instead of every word at every position."""
    tree: dict[str, dict] = {}
    for w in words:
        node = tree
        for ch in w:
            node = node.setdefault(ch, {})
        node[""] = {}  # a word ends here
    return _branches(tree)


def _branches(node: dict[str, dict]) -> str:
    ends = "" in node
    branches = [re.escape(ch) + _branches(child) for ch, child in node.items() if ch]
    if not branches:
        return ""
    if len(branches) == 1 and not ends:
        return branches[0]
    return "(?:" + "|".join(branches) + ")" + ("?" if ends else "")


UNITS: dict[str, str] = {}
for _lang in LANGUAGES:
    for _word, _unit in _lang.UNITS.items():
        UNITS.setdefault(_word.lower(), _unit)

UNIT_WORDS = tuple(sorted(UNITS, key=len, reverse=True))
BEFORE = _words("BEFORE")
AFTER = _words("AFTER")
LEAD_BEFORE = _words("LEAD_BEFORE")
DAY_WORDS = _words("DAY_WORDS")
MINUS = _words("MINUS")
PLUS = _words("PLUS")
GATE = _words("GATE")
ROLLBACK_TRIGGERS = _words("ROLLBACK_TRIGGERS")
ROLLBACK_PLAN = _words("ROLLBACK_PLAN")
TASK_HEADINGS = _words("TASK_HEADINGS")
OWNER_COLUMNS = _words("OWNER_COLUMNS")
TASK_COLUMNS = _words("TASK_COLUMNS")
ACTIVITY_COLUMNS = _words("ACTIVITY_COLUMNS")
WHEN_COLUMNS = _words("WHEN_COLUMNS")
STATUS_COLUMNS = _words("STATUS_COLUMNS")
SIGNATURE_COLUMNS = _words("SIGNATURE_COLUMNS")
TEAMS = _words("TEAMS")
CONTACTS = _words("CONTACTS")
ESCALATION = _words("ESCALATION")
WEEK_WORDS = _words("WEEK_WORDS")
ROLLBACK_ACTIONS = _words("ROLLBACK_ACTIONS")
CHANNELS = _words("CHANNELS")

#: "Vorwoche", "Día del lanzamiento", "前日" -> (offset in days, length in days)
NAMED_DAYS: dict[str, tuple[int, int]] = {}
for _lang in LANGUAGES:
    for _word, _span in getattr(_lang, "NAMED_DAYS", {}).items():
        NAMED_DAYS.setdefault(_word.lower(), _span)

#: table column words of every language -> the English word the table readers look for
COLUMNS: dict[str, str] = {}
for _lang in LANGUAGES:
    for _word, _english in getattr(_lang, "COLUMNS", {}).items():
        COLUMNS.setdefault(_word.lower(), _english)


def column(header: str) -> str:
    """'Rolle' -> 'role', 'Teléfono' -> 'phone'; other headers unchanged (lower-cased)."""
    h = header.strip().lower()
    return COLUMNS.get(h, h)


_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u9fff]")


def phrase_rx(words: tuple[str, ...]) -> re.Pattern[str]:
    """A case-insensitive pattern finding any of ``words`` (or its English plural) as a whole
    phrase: a yes/no test (where words share a prefix, the match may be the longer one)."""
    cjk = tuple(w for w in words if _CJK.search(w))
    spaced = tuple(w for w in words if w not in cjk)
    # Chinese and Japanese write words without spaces ("当日の手順"): no boundary to look for
    alternatives = (
        [r"(?<![\w])(?:" + _alternation(spaced) + r")(?:s|es)?(?![\w])"] if spaced else []
    )
    alternatives += [_alternation(cjk)] if cjk else []
    return quick(re.compile("|".join(alternatives), re.I))


def first_chars(seq) -> set[str] | None:
    """The characters a match of the parsed pattern ``seq`` can start with (None: any, or
    not worked out). Zero-width assertions ("\\b", look-arounds) are passed over."""
    for op, av in seq:
        if op in (_sre.AT, _sre.ASSERT, _sre.ASSERT_NOT):
            continue
        if op is _sre.LITERAL:
            return {chr(av)}
        if op is _sre.IN:
            return _charset(av)
        if op is _sre.BRANCH:
            out: set[str] = set()
            for alternative in av[1]:
                chars = first_chars(alternative)
                if chars is None:
                    return None
                out |= chars
            return out
        if op is _sre.SUBPATTERN:
            return first_chars(av[3]) if not av[1] and not av[2] else None  # no inline flags
        if op in (_sre.MAX_REPEAT, _sre.MIN_REPEAT, _sre.POSSESSIVE_REPEAT) and av[0] >= 1:
            return first_chars(av[2])
        return None
    return None


def _charset(items) -> set[str] | None:
    out: set[str] = set()
    for op, av in items:
        if op is _sre.LITERAL:
            out.add(chr(av))
        elif op is _sre.RANGE and av[1] - av[0] < 256:
            out.update(map(chr, range(av[0], av[1] + 1)))
        else:
            return None  # a category ("\\w"), a negation, a wide range
    return out


def quick(rx: re.Pattern[str]) -> re.Pattern[str]:
    """``rx`` behind a look-ahead for the characters its matches start with (same matches).

    A case-insensitive search tries the whole pattern at every character: every word of an
    alternation, one after the other. The look-ahead turns most characters away with one
    test: on headings, about half the time of the classifying patterns."""
    chars = first_chars(_sre_parse.parse(rx.pattern, rx.flags))
    if not chars:
        return rx
    ahead = "".join(re.escape(c) for c in sorted(chars))
    return re.compile(f"(?=[{ahead}])(?:{rx.pattern})", rx.flags)


def unit_of(word: str) -> str | None:
    """'Wochen' -> 'w', 'ngày' -> 'd', 'часов' -> 'h'; None when not a unit word."""
    return UNITS.get(word.lower().rstrip("."))


GO_LIVE_LABELS = _words("GO_LIVE_LABELS")
ROLLBACK_BARE = _words("ROLLBACK_BARE")
STEP_WORDS = _words("STEP_WORDS")
MORE_THAN = _words("MORE_THAN")
LESS_THAN = _words("LESS_THAN")
