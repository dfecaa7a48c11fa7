# ruff: noqa: RUF001 - runbooks use dashes, arrows, ballot boxes and CJK text
"""Recognisers: one small function per form a person writes a thing in.

Each takes a piece of text (a list item, a table cell, a heading) and says what
it is, or ``None``; none of them keeps state. The builder decides where the
result goes. Words come from the vocabulary modules (``vocab/``); the tables
of forms each function reads are in ``tests/runbooks/test_recognise.py``.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from datetime import date, timedelta

from . import vocab

# -- tasks ------------------------------------------------------------------------

#: ballot boxes and emoji people draw as a checkbox; the second part is "done"
_OPEN_MARKS = "☐□⬜◻▢❏❑"
_DONE_MARKS = "☑✅✔✓☒"
_MARKER = re.compile(
    r"^\s*(?:[-*+]\s+|\d+[.)]\s+)?"
    r"(?:\[(?P<box>[ xX✓✔]|\s{2})\]|(?P<mark>[" + _OPEN_MARKS + _DONE_MARKS + r"])\ufe0f?)"
    r"\s*(?P<text>.*)$",
    re.S,
)


@dataclass(frozen=True)
class Task:
    text: str
    done: bool
    boxed: bool = True  # "[ ]" rather than an emoji or ballot-box mark


#: what a task line can start with (after blanks): a bullet, a number, a box or a mark
_MARKER_START = frozenset("-*+[" + _OPEN_MARKS + _DONE_MARKS)


@functools.lru_cache(maxsize=4096)
def task_marker(text: str, *, marks_mean_done: bool = False) -> Task | None:
    """``[ ] x``, ``[x] x``, ``☐ x``, ``✅ x``, ``1. [ ] x`` -> a task.

    An emoji or ballot-box mark is "done" only when ``marks_mean_done`` (the
    document uses both open and ticked marks); many runbooks draw ``✅`` as a
    bullet in front of work still to do."""
    first = text.lstrip()[:1]
    if first not in _MARKER_START and not first.isdecimal():
        return None  # a line of words: no pattern to try
    m = _MARKER.match(text)
    if not m or not m.group("text").strip():
        return None
    box = m.group("box")
    if box is not None:
        done = box.strip().lower() in ("x", "✓", "✔")
    else:
        done = marks_mean_done and m.group("mark") in _DONE_MARKS
    return Task(m.group("text").strip(), done, boxed=box is not None)


_ANY_MARK = re.compile(
    r"^\s*(?:[-*+]\s+|\d+[.)]\s+)?(?:\*\*)?(?:\[[ xX]\]|\[\s{2}\]|[" + _OPEN_MARKS + r"])\s*\S",
    re.M,
)


def has_task_marks(text: str) -> bool:
    """Does the document draw its tasks with checkboxes or ballot boxes anywhere?"""
    return bool(_ANY_MARK.search(text))


_OPEN_MARK = re.compile("[" + _OPEN_MARKS + "]")
_DONE_MARK = re.compile("[" + _DONE_MARKS + "]")


def marks_mean_done(text: str) -> bool:
    """Open and ticked marks both used: then a tick means done, as the writer meant."""
    return not text.isascii() and bool(_OPEN_MARK.search(text) and _DONE_MARK.search(text))


_NUMBERED = re.compile(r"^\s*(\d+)[.)]\s+(?P<text>\S.*)$")


def numbered_step(text: str) -> str | None:
    """``1. Do x`` / ``1) Do x`` -> "Do x"."""
    m = _NUMBERED.match(text)
    return m.group("text").strip() if m else None


def _step_heading_rx() -> re.Pattern[str]:
    words = vocab._alternation(vocab.STEP_WORDS)
    return re.compile(
        r"^\s*(?:(?:" + words + r")\s*\d+[a-z]?\s*(?:[:：.)]|[—–-]\s)?"
        r"|\d+[.)](?=\s)|第\s*\d+\s*步[:：]?)\s*(?P<text>\S.*?)\s*$",
        re.I,
    )


_STEP_HEADING = _step_heading_rx()


def step_heading(title: str) -> str | None:
    """``Step 1: Snapshot all indices``, ``1. Disable allocation``, ``Schritt 3: X``,
    ``Paso 4 - X``, ``Bước 5: X``, ``步骤 6: X``, ``手順 7: X``, ``Шаг 8. X`` -> the task text."""
    m = _STEP_HEADING.match(title)
    return m.group("text") if m else None


def rollback_bare(title: str) -> bool:
    """``## Rollback``, ``## Откат``, ``## 回滚``: a heading that is only the word for rolling
    back names the procedure (its numbered steps or its prose are the rollback plan)."""
    return plain_word(title) in _ROLLBACK_BARE


_ROLLBACK_BARE = frozenset(vocab.ROLLBACK_BARE)


_HEADING_NUMBER = re.compile(r"^\s*(?:\d+(?:\.\d+)*\.?|[A-Z]\.)\s+")
_AROUND_WORDS = re.compile(r"^[\W_]+|[\W_]+$")


def plain_word(title: str) -> str:
    """A heading reduced to its words: numbering, emoji and punctuation around it dropped."""
    return _AROUND_WORDS.sub("", _HEADING_NUMBER.sub("", title)).lower()


# -- owners -------------------------------------------------------------------------

_PLACEHOLDER = re.compile(
    r"^(?:_{2,}|-{2,}|\.{3,}|\?+|[xX]{2,}|[〇○◯＿]{2,}|tbd|tba|tbc|tbd/tbc|n/?a|n\.\s?n\.?|"
    r"name|@|@handle|@username|@name|"
    r"\[[^\]]*\]|<[^>]*>|\{[^}]*\}|\((?:to be|tbd|tbc|noch|por|a |à |chưa|待|未|не )[^)]*\)|"
    r"to be (?:assigned|confirmed|determined|named|decided)|not (?:yet )?assigned|unassigned|"
    r"john doe|jane doe|max mustermann|erika mustermann|fulano(?: de tal)?|"
    r"nguyễn văn a|张三|李四|王五|山田\s?太郎|фио|"
    r"待定|待分配|未定|未定義|未指定|要確認|chưa xác định|chưa phân công|chưa có|"
    r"offen|noch offen|noch zu benennen|wird benannt|pendiente|por asignar|por definir|"
    r"a definir|a designar|a confirmar|уточнить|не назначен[ао]?|назначить)$",
    re.I,
)
# A pointer to where the name lives, not a name: "See PagerDuty", "siehe Dienstplan".
_POINTER = re.compile(
    r"^(?:(?:see|refer to|check|siehe|ver|veja|consulte|voir|xem|см\.?|смотри|参见|参照|详见)"
    r"\s+\S.*|"
    r"(?:per|via|from|laut|según|segundo|theo)\s+(?:the\s+)?"
    r"(?:pagerduty|opsgenie|victorops|on-?call (?:schedule|rota(?:tion)?)|rota|schedule|"
    r"dienstplan|turno|escala|lịch trực)\b.*|"
    r"(?:pagerduty|opsgenie|victorops|splunk on-?call)(?:\s+(?:schedule|rotation|rota))?)$",
    re.I,
)


@functools.lru_cache(maxsize=4096)
def is_placeholder(text: str) -> bool:
    """``___``, ``[Name]``, ``TBD``, ``TBC``, ``XXX``, ``<name>``, ``John Doe``, ``@handle``,
    ``(to be assigned)``, ``noch offen``, ``por asignar``, ``未定``: a seat to fill, no one."""
    s = _TRAILING_MARKS.sub("", text.strip()).strip().strip("*`").strip()
    return not s or bool(_PLACEHOLDER.match(s) or _POINTER.match(s))


_TRAILING_MARKS = re.compile(r"[\s:*]+$")
_CONTACT_PLACEHOLDER = vocab.quick(re.compile(r"x{3}|_{3}|^\[[^\]]*\]$|^<[^>]*>$|^@$", re.I))


def contact_value(text: str) -> str:
    """A phone, email or Slack cell as written; "" for a template value (``+1-XXX-XXX-XXXX``,
    ``[Phone]``, ``<email>``, ``___``, ``@handle``)."""
    s = text.strip()
    return "" if is_placeholder(s) or _CONTACT_PLACEHOLDER.search(s) else s


_SEAT_BRACKETS = str.maketrans("[]", "()")
_SEAT_NAME = re.compile(r"\[[^\[\]]+\]")


def seat_name(written: str, role: str = "") -> str:
    """The name a seat's contact is kept under when the runbook writes a placeholder where the
    name goes but a real phone, email or Slack beside it: ``("[Name]", "DBA")`` ->
    ``"[DBA: Name]"``, ``("TBD", "DBA")`` -> ``"[DBA: TBD]"``, ``("", "DBA")`` -> ``"[DBA]"``,
    ``("TBD", "")`` -> ``"[TBD]"``. Bracketed, so it is itself a placeholder (the seat stays
    unfilled, here and on the contacts page) and reads back as written: a bracketed name
    without a role is kept (``("[DBA: TBD]", "")`` -> ``"[DBA: TBD]"``)."""
    kept = written.strip()
    if not role.strip() and _SEAT_NAME.fullmatch(kept):
        return kept
    core = written.strip().strip("[]<>{}").strip().translate(_SEAT_BRACKETS)
    role = role.strip().translate(_SEAT_BRACKETS)
    if role and core:
        return f"[{role}: {core}]"
    return f"[{role or core or '?'}]"


_OWNER_TAIL = re.compile(
    r"\s*[(\[（]\s*(?:owner|owned by|assignee|responsible|verantwortlich|responsable|"
    r"responsável|người phụ trách|phụ trách|负责人|担当|ответственный)\s*[:：]\s*"
    r"(?P<owner>(?:\\.|[^()\[\]（）\\])+)[)\]）]\s*$",
    re.I,
)
_OWNER_TAIL_END = (")", "]", "）")
_DASH_OWNER = re.compile(r"\s+[—–]\s+(?P<owner>[^—–]{1,40})$")
_HANDLE = re.compile(r"\s+(?P<owner>@[\w.\-]+)\s*$")


def split_owner(text: str) -> tuple[str, str]:
    """(text, owner): ``x (Owner: DBA)``, ``x — Alice``, ``x @alice``; owner "" if none."""
    tail = text.rstrip()[-1:]
    if tail not in _OWNER_TAIL_END and "@" not in text and "—" not in text and "–" not in text:
        return text, ""  # none of the three forms can match: no regex scan of the text
    for rx in (_OWNER_TAIL, _HANDLE, _DASH_OWNER):
        m = rx.search(text)
        if m and m.start() > 0:
            owner = m.group("owner").strip()
            if rx is _DASH_OWNER and not _looks_like_name(owner):
                continue
            # "Cluster health green — @maria": the dash only separated the owner
            return _SEPARATOR_TAIL.sub("", text[: m.start()]), owner
    return text, ""


_SEPARATOR_TAIL = re.compile(r"[\s—–:|]+$|\s+-+$")


def _looks_like_name(text: str) -> bool:
    # "— Alice", "— DBA team", "— [Name]"; not "— see the dashboard for details"
    if is_placeholder(text) and not _POINTER.match(text.strip()):
        return True
    words = text.split()
    return (
        len(words) <= 4
        and not re.search(r"[.,;:!?]$", text)
        and (text[:1].isupper() or text.startswith("@") or not text[:1].isascii())
    )


_OWNER_LINE = re.compile(
    r"^\s*(?:\*\*)?(?:owner|owners|responsible|assignee|verantwortlich|responsable|"
    r"responsável|người phụ trách|负责人|担当者?|ответственный)(?:\*\*)?\s*[:：]\s*(?:\*\*)?\s*"
    r"(?P<owner>.+?)\s*$",
    re.I,
)


#: the first letters of the owner words above (lower-cased), and "*" of a bold label
_OWNER_LINE_START = frozenset("*oravn负担о")


def owner_line(text: str) -> str | None:
    """``Owner: X`` (a sub-line or a section line) -> "X"."""
    if text.lstrip()[:1].lower() not in _OWNER_LINE_START:
        return None
    m = _OWNER_LINE.match(text)
    return m.group("owner").strip().strip("*").strip() if m else None


# -- gates --------------------------------------------------------------------------

_SIGNER = re.compile(
    r"^(?P<role>[^:_\[\]|]{2,60}?)\s*(?:sign[\s-]*off|approval|signature)?\s*[:：]\s*"
    r"(?:_{2,}|\[[^\]]*\]|<[^>]*>|\s)*(?:(?:date|datum|fecha|data|ngày|日期|日付|дата)\s*[:：]"
    r"\s*(?:_{2,}|\[[^\]]*\]|\s)*)?$",
    re.I,
)


def signer(text: str) -> str | None:
    """``Backend Lead: ____ Date: ____`` -> "Backend Lead": a required sign-off by role."""
    if "_" not in text and "[" not in text and "<" not in text:
        return None
    m = _SIGNER.match(text.strip())
    if not m:
        return None
    role = m.group("role").strip()
    if is_placeholder(role):
        return None
    dated = re.search(
        r"_{2,}.*(?<![^\W\d_])(?:date|datum|fecha|data|ngày|日期|日付|дата)\s*[:：]", text, re.I
    )
    return role if dated or _ROLE_NOUN.search(role) else None


_BARE_SIGNER = re.compile(
    r"^(?:(?P<role>[^:_\[\]|()]{2,60}?)\s+(?:sign[\s-]*off|approval|go\s*/\s*no[\s-]*go)"
    r"|(?:sign(?:ed)?[\s-]*off|approved)\s+by\s+(?P<by>[^:_\[\]|()]{2,60}?))\.?$",
    re.I,
)


def bare_signer(text: str, declared: set[str]) -> str | None:
    """``Release Manager sign-off`` / ``Signed off by DBA`` in a gate: a required sign-off
    by that role, when it names a declared role or reads as one ("… Lead", "DBA")."""
    m = _BARE_SIGNER.match(text.strip())
    if not m:
        return None
    role = (m.group("role") or m.group("by")).strip()
    if is_placeholder(role):
        return None
    return role if role.casefold() in declared or _ROLE_NOUN.search(role) else None


#: words that make "X: ____" a signer's line rather than a blank to fill in
_ROLE_NOUN = vocab.quick(
    re.compile(
        r"(?:\b(?:lead|manager|owner|engineer|officer|director|head|vp|cto|ceo|cio|ciso|admin|dba|"
        r"qa|sre|team|architect|analyst|sponsor|approver|sign[\s-]*off|approval|leiter|leitung|"
        r"verantwortlich|jefe|gerente|líder|responsable|responsável|gestor|руководитель|"
        r"менеджер)\b|负责人|经理|主管|担当|責任者|部長|trưởng|quản lý)",
        re.I,
    )
)


_DECISION = re.compile(
    r"^\s*(?:\*\*)?(?:(?i:decision)\s*[:：]\s*)?(?:\[\s*\]\s*)?(?:GO|NO[\s-]?GO)(?:\*\*)?"
    r"(?:\s*(?:/|\||or|,|\s)\s*(?:\[\s*\]\s*)?(?:\*\*)?(?:GO|NO[\s-]?GO|CONDITIONAL GO|HOLD)"
    r"(?:\*\*)?)+\s*$"
)
_DECISION_OPTION = re.compile(r"^\s*(?:GO|NO[\s-]?GO|CONDITIONAL GO)\b(?:\s*[:(—–-].*)?$")


def decision_options(text: str) -> bool:
    """``GO / NO-GO``, ``[ ] GO  [ ] NO-GO``: the gate's decision, not items."""
    return bool(_DECISION.match(text))


def decision_option(text: str) -> bool:
    """One option line of a decision (``GO: proceed``, ``NO-GO — postpone``)."""
    return bool(_DECISION_OPTION.match(text))


_DECIDER = re.compile(
    r"^\s*(?:\*\*)?(?:decision[\s-]*makers?|decided by|decision authority|approver|"
    r"entscheider|quien decide|người quyết định|决策人|決裁者|принимает решение)(?:\*\*)?\s*[:：]"
    r"\s*(?:\*\*)?\s*(?P<who>.*?)\s*$",
    re.I,
)


def decider(text: str) -> str | None:
    """``Decision maker: ___`` -> "" (unfilled) / "CTO"."""
    m = _DECIDER.match(text)
    if not m:
        return None
    who = m.group("who")
    return "" if is_placeholder(who) else who


# -- escalation --------------------------------------------------------------------

_CHAIN = re.compile(r"\s*(?:→|->|⇒|=>|➜|➡️?|>)\s*")


def _has_arrow(text: str) -> bool:
    """``→``, ``->``, ``⇒``, ``=>``, ``➜``, ``➡`` anywhere (substring tests, no regex)."""
    if ">" in text and ("->" in text or "=>" in text):
        return True
    return not text.isascii() and ("→" in text or "⇒" in text or "➜" in text or "➡" in text)


def chain(text: str) -> list[str]:
    """``On-call → Team lead → CTO`` -> the levels in order ([] when not a chain)."""
    if not _has_arrow(text):
        return []
    parts = [p.strip(" .*") for p in _CHAIN.split(text)]
    parts = [p for p in parts if p]
    return parts if len(parts) >= 2 and all(len(p) <= 80 for p in parts) else []


# -- rollback thresholds ------------------------------------------------------------

_ARROW_ACTION = re.compile(r"\s*(?:→|->|=>|⇒|➜|➡\ufe0f?)\s*(?P<action>\S.*?)\s*$")


def threshold_action(text: str) -> tuple[str, str] | None:
    """``Error rate > 1% for 5 minutes → rollback`` -> (the condition, the action)."""
    if not _has_arrow(text):
        return None
    m = _ARROW_ACTION.search(text)
    if not m or m.start() == 0:
        return None
    return text[: m.start()].strip(), m.group("action")


def says_rollback(text: str) -> bool:
    """Does an action cell or arrow tail say to roll back (in any vocabulary language)?"""
    return bool(_ROLLBACK_ACTION.search(text))


# -- markup --------------------------------------------------------------------------

_TAGS = re.compile(
    r"<!--.*?-->|</?(?:mark|span|font|b|i|u|em|strong|small|sup|sub|kbd|br|del|ins|s)\b[^>]*>",
    re.I | re.S,
)


def strip_markup(text: str) -> str:
    """HTML comments and inline tags (``<mark>``, ``<span>``...) removed."""
    if "<" not in text:
        return text
    return " ".join(_TAGS.sub("", text).split())


# -- front matter ------------------------------------------------------------------

_FRONT = re.compile(r"\A---[ \t]*\n(?P<body>.*?)\n(?:---|\.\.\.)[ \t]*(?:\n|\Z)", re.S)


def front_matter(text: str) -> tuple[dict[str, str], str]:
    """YAML front matter's simple ``key: value`` lines, and the text with it blanked
    (same number of lines, so source lines stay right)."""
    m = _FRONT.match(text)
    if not m:
        return {}, text
    meta: dict[str, str] = {}
    for ln in m.group("body").split("\n"):
        kv = re.match(r"^([A-Za-z_][\w-]*)\s*:\s*(.*?)\s*$", ln)
        if kv and kv.group(2):
            meta.setdefault(kv.group(1).lower(), kv.group(2).strip("'\""))
    blank = "\n" * m.group(0).count("\n")
    return meta, blank + text[m.end() :]


# -- time offsets in words -----------------------------------------------------------

_NUM = r"(\d+(?:[.,]\d+)?)\+?"
_DIGIT = re.compile(r"\d")


def _words_rx(words: tuple[str, ...]) -> str:
    """Alternation of ``words``; a word in a Latin or Cyrillic script must end there,
    a CJK one need not (CJK text has no spaces)."""
    cjk = [re.escape(w) for w in words if re.match(r"[\u3040-\u30ff\u4e00-\u9fff]", w)]
    other = [re.escape(w) for w in words if not re.match(r"[\u3040-\u30ff\u4e00-\u9fff]", w)]
    alts = [f"(?:{'|'.join(other)})(?![^\\W\\d_])"] if other else []
    if cjk:
        alts.append(f"(?:{'|'.join(cjk)})")
    return "(?:" + "|".join(alts) + ")"


_UNIT_WORDS = _words_rx(vocab.UNIT_WORDS)
_WORD = r"([^\W\d_]+|[\u3040-\u30ff\u4e00-\u9fff]+)"
_TAIL_RELATIVE = re.compile(
    _NUM + r"\s*(" + _UNIT_WORDS + r")\s*(" + _words_rx((*vocab.BEFORE, *vocab.AFTER)) + ")",
    re.I,
)
_LEAD_RELATIVE = vocab.quick(
    re.compile(
        r"(?<![^\W\d_])("
        + "|".join(re.escape(w) for w in vocab.LEAD_BEFORE)
        + r")\s*"
        + _NUM
        + r"\s*("
        + _UNIT_WORDS
        + r")",
        re.I,
    )
)
_DAY_N = vocab.quick(
    re.compile(
        r"(?<![^\W\d_])(?:"
        + "|".join(re.escape(w) for w in vocab.DAY_WORDS)
        + r")\s*(?:([+\-−–])\s*(\d+)|(0)(?!\d))(?![\d:])",
        re.I,
    )
)
_MINUS_PLUS = vocab.quick(
    re.compile(
        r"(?<![^\W\d_])("
        + "|".join(re.escape(w) for w in (*vocab.MINUS, *vocab.PLUS))
        + r")\s+"
        + _NUM
        + r"\s*("
        + _UNIT_WORDS
        + r")(?![^\W\d_])",
        re.I,
    )
)
_UNIT_DELTA = {
    "w": timedelta(weeks=1),
    "d": timedelta(days=1),
    "h": timedelta(hours=1),
    "m": timedelta(minutes=1),
}


def unit_delta(value: float, unit: str) -> timedelta:
    """``(2, "w")`` -> two weeks; the unit is a code from ``vocab.unit_of``."""
    return value * _UNIT_DELTA[unit]


def _number(raw: str) -> float:
    return float(raw.replace(",", "."))


@dataclass(frozen=True)
class Relative:
    value: timedelta
    start: int
    end: int
    unit: str = "d"  # "w" | "d" | "h" | "m": the unit the text counts in


_WEEK_N = vocab.quick(
    re.compile(
        r"(?<![^\W\d_])(?:"
        + "|".join(re.escape(w) for w in vocab.WEEK_WORDS)
        + r")\s*(?:([+\-−–])\s*(\d+)|(0)(?!\d))(?![\d:])",
        re.I,
    )
)


def _named_day_rx() -> re.Pattern[str]:
    latin = [w for w in vocab.NAMED_DAYS if not re.match(r"[\u3040-\u30ff\u4e00-\u9fff]", w)]
    cjk = [w for w in vocab.NAMED_DAYS if w not in latin]
    alts = "|".join(re.escape(w) for w in sorted(latin, key=len, reverse=True))
    cjk_alts = "|".join(re.escape(w) for w in sorted(cjk, key=len, reverse=True))
    return re.compile(rf"(?<![\w-])(?:{alts})(?![\w-])|(?:{cjk_alts})", re.I)


_NAMED_DAY = vocab.quick(_named_day_rx())


def named_day(text: str) -> tuple[timedelta, timedelta] | None:
    """``Vorwoche``, ``Go-live night``, ``Día del lanzamiento``, ``前日``: a section named after
    a day or week of the go-live -> (its start from T0, its length)."""
    m = _NAMED_DAY.search(text)
    if not m:
        return None
    days, length = vocab.NAMED_DAYS[m.group(0).lower()]
    return timedelta(days=days), timedelta(days=length)


def relative_offset(text: str) -> Relative | None:
    """An offset said in words: ``4 weeks before``, ``1 semana antes``, ``1週間前``,
    ``提前1天``, ``за 1 день``, ``Day -1``, ``D+1``, ``[release date minus 14 days]``."""
    if not _DIGIT.search(text):
        return None  # each form counts with digits
    m = _TAIL_RELATIVE.search(text)
    if m:
        sign = -1 if m.group(3).lower() in vocab.BEFORE else 1
        unit = vocab.unit_of(m.group(2)) or "d"
        return Relative(sign * unit_delta(_number(m.group(1)), unit), m.start(), m.end(), unit)
    m = _LEAD_RELATIVE.search(text)
    if m:
        unit = vocab.unit_of(m.group(3)) or "d"
        return Relative(-unit_delta(_number(m.group(2)), unit), m.start(), m.end(), unit)
    m = _MINUS_PLUS.search(text)
    if m:
        sign = -1 if m.group(1).lower() in vocab.MINUS else 1
        unit = vocab.unit_of(m.group(3)) or "d"
        return Relative(sign * unit_delta(_number(m.group(2)), unit), m.start(), m.end(), unit)
    for rx, unit in ((_DAY_N, "d"), (_WEEK_N, "w")):
        m = rx.search(text)
        if m:
            if m.group(3) is not None:
                return Relative(timedelta(), m.start(), m.end(), unit)
            sign = 1 if m.group(1) == "+" else -1
            return Relative(sign * unit_delta(int(m.group(2)), unit), m.start(), m.end(), unit)
    return None


_T_UNKNOWN = re.compile(r"\bT\s*[+\-−–]\s*\d+(?:[.,]\d+)?\+?\s*" + _WORD)
_NOT_UNITS = frozenset(
    (
        "to",
        "and",
        "or",
        "bis",
        "a",
        "à",
        "até",
        "đến",
        "до",
        "und",
        "y",
        "e",
        "et",
        "und",
        "oder",
        "through",
        "thru",
        "until",
        "from",
        "at",
        "on",
        "in",
        "for",
    )
)


def unknown_unit(text: str) -> str | None:
    """The word after a T-offset's number when it reads as a unit nobody taught the
    importer (``T-7 jours``): the offset is then left out and warned about, never guessed."""
    for m in _T_UNKNOWN.finditer(text):
        word = m.group(1)
        if vocab.unit_of(word) or word.lower() in _NOT_UNITS:
            continue
        if not re.match(r"\bT\s*[+\-−–]\s*0+\b", text[m.start() :]):
            return word  # "T-0 Go-Live" is T0 followed by a name
    return None


# -- stated go-live --------------------------------------------------------------------

#: UTC offsets (hours) of the abbreviations runbooks write after a go-live time
TZ_OFFSETS: dict[str, float] = {
    "UTC": 0,
    "GMT": 0,
    "Z": 0,
    "WET": 0,
    "BST": 1,
    "CET": 1,
    "CEST": 2,
    "EET": 2,
    "EEST": 3,
    "MSK": 3,
    "IST": 5.5,
    "ICT": 7,
    "WIB": 7,
    "SGT": 8,
    "HKT": 8,
    "TST": 8,
    "AWST": 8,
    "JST": 9,
    "KST": 9,
    "AEST": 10,
    "AEDT": 11,
    "NZST": 12,
    "NZDT": 13,
    "BRT": -3,
    "ART": -3,
    "EST": -5,
    "EDT": -4,
    "CST": -6,
    "CDT": -5,
    "MST": -7,
    "MDT": -6,
    "PST": -8,
    "PDT": -7,
}
_GO_LIVE_WORDS = (
    "go[\\s-]*live|launch|cutover|release|deployment|t0|t\\s*=\\s*0|上线|リリース|запуск|"
    "triển khai|lanzamiento|lançamento|einführung|start|" + vocab._alternation(vocab.GO_LIVE_LABELS)
)
#: the date forms written before a go-live time: ISO, 14.03.2026, 14/03/2026, 2026年3月14日
_GO_LIVE_DATE = (
    r"(?:(?P<date>\d{4}-\d{2}-\d{2})|(?P<dmy>\d{1,2}[./]\d{1,2}[./]\d{4})|"
    r"(?P<ymd>\d{4}[/年]\d{1,2}[/月]\d{1,2}日?))"
)
_GO_LIVE = vocab.quick(
    re.compile(
        r"(?:" + _GO_LIVE_WORDS + r")[^:：\n]{0,25}[:：]\s*\**\s*"
        r"(?:(?:[^\W\d_]{2,12}\.?,?\s+)?" + _GO_LIVE_DATE + r",?\s*(?:T|\s)*"
        r"(?:(?:в|um|às|as|a las|a la|lúc|vào lúc|at)\s+)?)?(?P<h>\d{1,2}):(?P<m>\d{2})\s*"
        r"(?P<tz>[A-Z]{1,5}\b|[+-]\d{2}:?\d{2})?",
        re.I,
    )
)


def _iso_date(m: re.Match[str]) -> str:
    """The go-live date as written -> "2026-03-14" ("" when none or not a real date)."""
    if m.group("date"):
        return m.group("date")
    if m.group("dmy"):
        a, b, y = (int(x) for x in re.split(r"[./]", m.group("dmy")))
        day, month = (b, a) if b > 12 else (a, b)  # 03/14/2026 is US month-first
    elif m.group("ymd"):
        y, month, day = (int(x) for x in re.findall(r"\d+", m.group("ymd")))
    else:
        return ""
    try:
        return date(y, month, day).isoformat()
    except ValueError:
        return ""  # "31/02/2026": no such day, the time alone is kept


_CLOCK_TIME = re.compile(r"\d:\d\d")

#: what ``export.render_plan`` writes when the plan states no go-live time
_GO_LIVE_UNSET = re.compile(r"^\*\*Go-live:\*\*\s*-\s*$")


@dataclass(frozen=True)
class GoLive:
    date: str  # "2026-03-14" or "" when only a time is stated
    time: str  # "22:00"
    utc_offset_min: int | None  # None when no zone was stated
    zone: str
    line: int


def _zone_offset(zone: str, lines: list[str]) -> tuple[int | None, str]:
    """(minutes east of UTC, the zone as kept) of a zone written after a go-live time."""
    if zone == "CST" and any(re.search(r"[\u4e00-\u9fff]", x) for x in lines):
        return 8 * 60, zone  # China Standard Time in a Chinese document, not US Central
    if zone in TZ_OFFSETS:
        return int(TZ_OFFSETS[zone] * 60), zone
    if re.fullmatch(r"[+-]\d{2}:?\d{2}", zone):
        sign = -1 if zone[0] == "-" else 1
        digits = zone[1:].replace(":", "")
        return sign * (int(digits[:2]) * 60 + int(digits[2:])), zone
    return None, ""


def stated_go_live(lines: list[str], candidates: list[int] | None = None) -> GoLive | None:
    """The first ``Go-live: 2026-03-14 22:00 CET`` / ``Launch time: 02:00 TST`` line;
    ``candidates``: the indexes of the only lines that can hold one (those with a clock time
    or a ``**Go-live:**`` label), when the caller has them."""
    for i in range(len(lines)) if candidates is None else candidates:
        n, ln = i + 1, lines[i]
        if ln.startswith("#"):
            continue
        if ln.startswith("**Go-live:**") and _GO_LIVE_UNSET.match(ln):
            return None
        # no "22:00" on the line: no go-live time (a cheap test before the big one)
        m = _GO_LIVE.search(ln) if _CLOCK_TIME.search(ln) else None
        if not m:
            continue
        hour, minute = int(m.group("h")), int(m.group("m"))
        if hour > 23 or minute > 59:
            continue
        offset, zone = _zone_offset((m.group("tz") or "").upper(), lines)
        return GoLive(_iso_date(m), f"{hour:02d}:{minute:02d}", offset, zone, n)
    return None


_ROLLBACK_ACTION = vocab.quick(
    re.compile(
        "|".join(
            w if re.match(r"[\u3040-\u30ff\u4e00-\u9fff]", w) else rf"(?<![^\W\d_]){w}(?![^\W\d_])"
            for w in map(re.escape, vocab.ROLLBACK_ACTIONS)
        ),
        re.I,
    )
)
