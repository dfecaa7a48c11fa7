"""Forty runbooks written the ways people write them, in eight languages; each has its
expected plan beside it (``NAME.json``), checked by reading the runbook.

The test compares the parts that matter to the people running the release: item texts,
owners and done marks per checklist with its due time, phase offsets, gates with their
sign-offs and decision roles, rollback criteria and plan, roles with their seats,
contacts, escalation levels, and the lines warned about.

After a deliberate change to the importer, rewrite the expectations with
``python -m tests.runbooks.test_corpus --write`` and review the diff runbook by runbook.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from deployments.runbooks.parse import parse_runbook
from deployments.runbooks.schema import plan_json

CORPUS = Path(__file__).parent / "corpus"
RUNBOOKS = sorted(CORPUS.glob("*.md"))
LANGUAGES = ("en", "de", "es", "pt", "vi", "zh", "ja", "ru")


def _items(items: list[dict]) -> list:
    return [[i["text"], i["owner"], i["done"], _items(i["children"])] for i in items]


def essentials(path: Path) -> dict:
    """The parts of the plan a reader checks."""
    plan = plan_json(parse_runbook(path.read_bytes(), source_name=path.name))
    return {
        "title": plan["title"],
        "go_live_at": plan["go_live_at"],
        "checklists": [
            {"title": c["title"], "due_offset_s": c["due_offset_s"], "items": _items(c["items"])}
            for c in plan["checklists"]
        ],
        "phases": [[p["title"], p["offset_s"], p["duration_s"]] for p in plan["phases"]],
        "gates": [
            {
                "title": g["title"],
                "signoffs": [s["role"] for s in g["signoffs"]],
                "decision_roles": g["decision_roles"],
                "items": _items(g["items"]),
            }
            for g in plan["gates"]
        ],
        "rollback_criteria": [
            [c["metric"], c["op"], c["threshold"], c["unit"], c["for_s"], c["automatic"]]
            for c in plan["rollback_criteria"]
        ],
        "rollback_plan": _items(plan["rollback_plan"]),
        "roles": [[r["name"], r["people"], r["unfilled"]] for r in plan["roles"]],
        "contacts": [[c["name"], c["phone"], c["email"]] for c in plan["contacts"]],
        "escalation": [[e["level"], e["roles"], e["after_s"]] for e in plan["escalation"]],
        "warning_lines": sorted({w["line"] for w in plan["warnings"]}),
    }


def test_the_corpus_covers_eight_languages_with_thirty_runbooks():
    assert len(RUNBOOKS) >= 30
    assert {p.name[:2] for p in RUNBOOKS} == set(LANGUAGES)
    assert all(p.with_suffix(".json").exists() for p in RUNBOOKS)


@pytest.mark.parametrize("path", RUNBOOKS, ids=lambda p: p.stem)
def test_each_runbook_gives_the_plan_a_reader_expects(path):
    expected = json.loads(path.with_suffix(".json").read_text(encoding="utf-8"))
    assert essentials(path) == expected


if __name__ == "__main__" and "--write" in sys.argv:
    for p in RUNBOOKS:
        text = json.dumps(essentials(p), ensure_ascii=False, indent=1) + "\n"
        p.with_suffix(".json").write_text(text, encoding="utf-8")
