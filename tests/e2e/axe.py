"""axe-core (the npm package, installed by ``make axe``) injected into Debian's Chromium.

The script is added as an init script: init scripts are not subject to the page's
Content-Security-Policy, so the pages are checked exactly as they are served.
"""

from __future__ import annotations

import json
import os
from collections import Counter
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
BLOCKING = ("serious", "critical")
# WCAG 2.1 A and AA, plus axe's best practices (landmarks, headings, region).
TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"]


def require_axe() -> Path:
    if AXE.exists():
        return AXE
    why = f"{AXE.relative_to(ROOT)} is missing (run `make axe`: npm ci)"
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"CI=true but {why}", pytrace=False)
    pytest.skip(f"accessibility tests skipped: {why}")


def with_axe(ctx):
    ctx.add_init_script(path=str(require_axe()))
    return ctx


def audit(page) -> list[dict]:
    """axe's violations on the page as it stands: rule, impact, count, first targets."""
    result = page.evaluate(
        """(tags) => axe.run(document, {runOnly: {type: "tag", values: tags},
                                      resultTypes: ["violations"]})""",
        TAGS,
    )
    return [
        {
            "rule": v["id"],
            "impact": v["impact"],
            "count": len(v["nodes"]),
            "help": v["help"],
            "targets": [n["target"] for n in v["nodes"][:5]],
            "summary": v["nodes"][0].get("failureSummary", "")[:300] if v["nodes"] else "",
        }
        for v in result["violations"]
    ]


def by_impact(violations: list[dict]) -> dict[str, int]:
    counts: Counter[str] = Counter()
    for v in violations:
        counts[v["impact"] or "unknown"] += v["count"]
    return dict(counts)


def blocking(violations: list[dict]) -> list[dict]:
    return [v for v in violations if v["impact"] in BLOCKING]


def save_report(path: Path, report: dict) -> None:
    path.write_text(json.dumps(report, indent=2, sort_keys=True))
