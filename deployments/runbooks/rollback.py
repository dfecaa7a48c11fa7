"""Rollback criteria: metric thresholds read from lines and tables.

A criterion is a metric, a comparison, a threshold with its unit and an
optional duration ("Error rate > 1% for 5+ minutes", "If P95 latency > 2000ms
→ ROLLBACK"); its severity comes from the words around it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from . import vocab
from .blocks import Block
from .context import _State
from .index import PlanIndex
from .plan import COMPARISONS, PlanItem, PlanRollbackCriterion
from .recognise import rollback_bare, says_rollback, threshold_action
from .text import cell_text, plain
from .times import _UNIT, _unit_delta, parse_duration
from .vocab import _alternation

# rollback criteria: "Error rate > 1% for 5+ minutes", "If P95 latency > 2000ms → ROLLBACK"
_CMP = r"(>=|<=|≥|≤|==|!=|>|<|=)"
_CRITERION = re.compile(
    r"^(?:if\s+|wenn\s+|si\s+|se\s+|nếu\s+|如果|если\s+)?(?P<metric>[^\W\d_][\w\s()/.\-]*?)\s*(?:(?P<cmp>"
    + _CMP[1:-1]
    + r")|(?P<word>"
    + _alternation((*vocab.MORE_THAN, *vocab.LESS_THAN, "drops by", "drops"))
    + r"))\s*"
    r"(?P<num>\d+(?:\.\d+)?)\s*(?:-\s*\d+(?:\.\d+)?\s*)?(?P<unit>%|ms|s\b|seconds?\b|sec\b|req/s|rps|minutes?\b|mins?\b|m\b|hours?\b|h\b|"
    r"minuten\b|minutos\b|phút|分钟|分|минут\w*)?",
    re.I,
)
#: Japanese and Chinese put the comparison after the number: "エラー率が5%を超える", "延迟500ms以上"
_POSTFIX = re.compile(
    r"^(?P<metric>[^\W\d_][^\d]*?)\s*(?:が|は|の)?\s*(?P<num>\d+(?:\.\d+)?)\s*"
    r"(?P<unit>%|ms|s\b|秒|分钟|分|minutes?\b)?\s*(?:間)?\s*"
    r"(?P<word>を超える|を超えた|を上回る|超過|以上|を下回る|未満|以下)(?P<cmp>)",
)
#: the words of every language that compare as "<" ("below", "unter", "менее", "低于")
_LESS = re.compile(r"(?:" + _alternation(vocab.LESS_THAN) + r")$", re.I)
_FOR = re.compile(
    r"(?:for|für|durante|por|trong|持续|持續|в течение|継続)\s*(?:more\s+than\s+|over\s+|>\s*)?"
    r"(\d+(?:\.\d+)?)\+?\s*" + _UNIT,
    re.I,
)
#: "5分間継続", "が 10分 続く", "5分钟持续", "5 phút liên tục": the duration before the word
#: that says it lasts
_LASTING = re.compile(
    r"(\d+(?:\.\d+)?)\+?\s*"
    + _UNIT
    + r"\s*(?:間|以上)?\s*(?:継続|続く|続いた|持续|持續|以上|liên tục|подряд)",
    re.I,
)
_AUTOMATIC = re.compile(
    r"automatic|auto[\s-]?roll|automatisch|automátic|automatic|tự động|自动|自動|автоматическ", re.I
)
_TIME_UNITS = {"m": 60, "h": 3600}


#: labels and headings inside a rollback section whose bullets are not criteria
_NOT_CRITERIA = vocab.quick(
    re.compile(
        r"authorit|decision|decide|who\b|owner|contact|process|procedure|steps?\b|notif|"
        r"communicat|entscheid|verantwort|decisi|responsab|quyết định|决策|決裁|решени|ответствен",
        re.I,
    )
)
_LIST_LINE = re.compile(r"^\s*(?:[-*+]|\d+[.)])\s")
_METRIC_TAIL = re.compile(r"\s+(?:for|during|für|durante|por|trong|в течение|longer|länger)$", re.I)


def read_criterion(text: str) -> PlanRollbackCriterion | None:
    s = plain(text)
    if not any(c.isdigit() for c in s):
        return None  # no threshold without a number
    s2 = re.sub(r"^[^:]{1,40}:\s+(?=\S)", "", s) if re.match(r"^[^:]{1,40}:\s", s) else s
    m = _CRITERION.search(s2) or _POSTFIX.search(s2)
    if not m:
        return None
    cmp = m.group("cmp")
    if not cmp:
        word = m.group("word").lower()
        cmp = "<" if _LESS.match(word) else ">"
    cmp = {"≥": ">=", "≤": "<=", "=": "=="}.get(cmp, cmp)
    if cmp not in COMPARISONS:
        return None
    unit = (m.group("unit") or "").lower()
    threshold = float(m.group("num"))
    if unit.startswith("sec") or unit in ("s", "秒"):
        unit = "s"
    elif unit and unit not in ("%", "ms", "req/s", "rps"):
        # "complete outage > 2 minutes": a time threshold, in seconds
        code = "h" if unit.startswith("h") else "m"
        threshold, unit = threshold * _TIME_UNITS[code], "s"
    tail = s2[m.end() :]
    duration = None
    fm = _FOR.search(tail) or _LASTING.search(tail)
    if fm:
        duration = _unit_delta(float(fm.group(1)), fm.group(2))
    metric = re.sub(
        r"^.*?\b(?:if|when|wenn|si|se|nếu|если)\s+", "", m.group("metric").strip(), flags=re.I
    )
    # "Any service unavailable for more than 2 minutes": the metric ends before "for"
    metric = _METRIC_TAIL.sub("", metric) or metric
    return PlanRollbackCriterion(
        metric=metric,
        comparison=cmp,
        threshold=threshold,
        unit=unit,
        duration=duration,
        text=s,
        automatic=bool(_AUTOMATIC.search(text)),
    )


def _severity(text: str, default: str = "immediate") -> str:
    t = text.lower()
    if "investigat" in t or "medium" in t or "warning" in t or "alert threshold" in t:
        return "investigate"
    if "review" in t or "high priority" in t:
        return "review"
    if "immediate" in t or "critical" in t or "automatic" in t:
        return "immediate"
    return default


@dataclass(eq=False)
class RollbackReader:
    """Builder part: rollback threshold tables."""

    index: PlanIndex

    def threshold_table(self, b: Block, head: list[str], col, get, st: _State) -> None:
        """Metric/Warning/Critical tables, and Metric/Threshold/Action tables: a row whose
        action says to roll back is a criterion (automatic when it says so); a row with
        another action is an alert, kept as a note with a warning naming its line."""
        c_metric = col("metric")
        if col("comparison") is not None:  # canonical
            for ln, row in b.rows:
                try:
                    threshold = float(get(row, col("threshold")))
                except ValueError:
                    self.index.warn(
                        ln, "rollback criterion without a numeric threshold; row skipped"
                    )
                    continue
                self.index.plan.rollback_criteria.append(
                    PlanRollbackCriterion(
                        metric=cell_text(get(row, c_metric)),
                        comparison=cell_text(get(row, col("comparison"))),
                        threshold=threshold,
                        unit=cell_text(get(row, col("unit"))),
                        duration=parse_duration(cell_text(get(row, col("duration"))))
                        if cell_text(get(row, col("duration")))
                        else None,
                        severity=cell_text(get(row, col("severity"))) or "immediate",
                        text=cell_text(get(row, col("text"))),
                        automatic=cell_text(get(row, col("automatic"))) == "yes",
                        line=ln,
                    )
                )
            return
        cols = [
            (i, h) for i, h in enumerate(head) if re.search(r"warning|critical|threshold|alert", h)
        ]
        c_action = col("action", "response")
        for ln, row in b.rows:
            metric = cell_text(get(row, c_metric))
            action = cell_text(get(row, c_action))
            if c_action is not None and not says_rollback(action):
                what = f"{metric} {' '.join(cell_text(get(row, i)) for i, _ in cols)}".strip()
                self.index.warn(
                    ln,
                    f"alert threshold '{what}' does not say to roll back ('{action}'): "
                    "kept as a note, not a rollback criterion",
                )
                st.loose.append(Block("para", ln, ln, self.index.lines[ln - 1]))
                continue
            for i, h in cols:
                value = cell_text(get(row, i))
                crit = read_criterion(f"{metric} {value}") if value else None
                if crit is None:
                    continue
                crit.severity = (
                    "immediate"
                    if "critical" in h
                    else ("review" if "warning" in h else "investigate")
                )
                crit.text = f"{metric} {value} ({b.header[i].strip()})"
                if c_action is not None:
                    crit.text = f"{metric} {value} → {action}"
                    crit.severity = "immediate"
                    crit.automatic = bool(_AUTOMATIC.search(action))
                crit.line = ln
                self.index.plan.rollback_criteria.append(crit)

    def worded_criterion(self, text: str, label: str, line: int, st: _State) -> bool:
        """A bullet of a rollback criteria section with no threshold to measure ("Data
        corruption detected", "Потеря данных"): a criterion all the same, its text kept, with
        no metric or comparison (people judge it; the watcher leaves it alone). Not a bullet
        under "Decision authority", "Process" or the like: those name people or steps."""
        if _NOT_CRITERIA.search(label) or _NOT_CRITERIA.search(st.ctx.title):
            return False
        self.index.plan.rollback_criteria.append(
            PlanRollbackCriterion(
                metric="",
                comparison="",
                threshold=0.0,
                severity=st.severity or _severity(label or st.ctx.title),
                text=plain(text),
                automatic=bool(_AUTOMATIC.search(text)),
                line=line,
            )
        )
        return True

    def prose_steps(self, st: _State, steps_before: int) -> None:
        """A rollback procedure written as prose ("If the cluster is not green in 30 minutes,
        restore from the snapshot"): each paragraph is a step of the rollback plan, when the
        section gave the plan no step of its own."""
        plan = self.index.plan
        if st.ctx.cls != "rollback_plan" or len(plan.rollback_plan) != steps_before:
            return
        if not rollback_bare(st.ctx.title):
            return  # "Rollback Procedures" prose around its own steps stays a note
        lines = self.index.lines
        paras = [
            b for b in st.loose if b.kind == "para" and not _LIST_LINE.match(lines[b.line - 1])
        ]
        if not paras:
            return
        st.loose = [b for b in st.loose if b not in paras]
        last = -2
        for b in paras:  # one loose block per line: consecutive lines are one paragraph
            text = plain(b.text)
            if b.line == last + 1 and plan.rollback_plan:
                plan.rollback_plan[-1].text = f"{plan.rollback_plan[-1].text} {text}"
            else:
                plan.rollback_plan.append(PlanItem(text=text, line=b.line))
            last = b.line

    def rollback_arrow(self, text: str, line: int, st: _State, severity_of: str = "") -> bool:
        """A threshold with an arrow to a rollback (``→ rollback``, ``→ 回滚``): a criterion,
        automatic when the action says so. False for anything else."""
        split = threshold_action(plain(text))
        if split is None or not says_rollback(split[1]):
            return False
        crit = read_criterion(split[0])
        if crit is None:
            return False
        crit.severity = st.severity or _severity(severity_of or st.ctx.title)
        crit.text = plain(text)
        crit.automatic = crit.automatic or bool(_AUTOMATIC.search(split[1]))
        crit.line = line
        self.index.plan.rollback_criteria.append(crit)
        return True
