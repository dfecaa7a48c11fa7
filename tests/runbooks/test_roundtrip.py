"""parse_runbook(render_plan(plan)) == plan, for generated plans and for the seeds."""

from datetime import timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from deployments.runbooks.export import render_plan
from deployments.runbooks.parse import parse_runbook
from deployments.runbooks.plan import (
    COMPARISONS,
    SEVERITIES,
    Plan,
    PlanChecklist,
    PlanCommsRule,
    PlanEscalationLevel,
    PlanGate,
    PlanItem,
    PlanNote,
    PlanPerson,
    PlanPhase,
    PlanRole,
    PlanRollbackCriterion,
    PlanSignOff,
    PlanTemplate,
)
from deployments.runbooks.recognise import contact_value, is_placeholder, seat_name

SEEDS = sorted((Path(__file__).parent / "seeds").glob("*.md"))

# Realistic but awkward: markdown punctuation, pipes, brackets, HTML, emoji, CJK.
ALPHABET = st.sampled_from(
    list("abcXYZ019 ") + list("|[]()*_`#<>!\\:;,.-+=/&%@~{}\"'") + ["é", "日本", "🚀", "✅", "→"]
)
WORDS = st.sampled_from(
    [
        "<script>alert(1)</script>",
        "javascript:alert(1)",
        "[TBD]",
        "____",
        "T-2 Hours",
        "20:00 - 20:15",
        "(15 minutes)",
        "(Owner: DBA)",
        "Level 2:",
        "Go/No-Go",
        "- [ ]",
        "**bold**",
        "`code`",
        "1.",
        "v[X.Y.Z]",
    ]
)


@st.composite
def line(draw, min_size=1):
    parts = draw(st.lists(st.one_of(ALPHABET, WORDS), min_size=min_size, max_size=8))
    text = " ".join("".join(parts).split())
    return text if text or min_size == 0 else "x"


text = line()
opt_text = line(min_size=0)
multiline = (
    st.lists(st.one_of(line(min_size=0), st.just("```"), st.just("\tindented")), max_size=5)
    .map("\n".join)
    .map(lambda s: s.strip("\n"))
)
offsets = st.integers(-14 * 24 * 60, 14 * 24 * 60).map(lambda m: timedelta(minutes=m))
durations = st.integers(0, 3 * 24 * 60).map(lambda m: timedelta(minutes=m))
opt = lambda s: st.none() | s  # noqa: E731


@st.composite
def items(draw, depth=0):
    children = draw(st.lists(items(depth + 1), max_size=2)) if depth < 2 else []
    return PlanItem(
        text=draw(opt_text),
        done=draw(st.booleans()),
        owner_role=draw(opt_text),
        verification=draw(st.one_of(st.just(""), multiline.filter(lambda s: "\t" not in s))),
        children=children,
    )


def checklists():
    return st.builds(
        PlanChecklist,
        name=text,
        items=st.lists(items(), max_size=3),
        due=opt(offsets),
        kind=st.sampled_from(["pre_deployment", "phase", "go_no_go", "post_deployment"]),
    )


def unique_by(strategy, key):
    return st.lists(strategy, max_size=4, unique_by=key)


# the importer never makes a person of a placeholder ("[TBD]", "____") nor keeps a template
# contact value ("+1-XXX", "[Phone]"): plans it can produce have none
person = text.filter(lambda s: not is_placeholder(s))
contact = opt_text.filter(lambda s: contact_value(s) == s.strip())
# ... but keeps a real phone, email or Slack written beside one, on the unfilled seat, under
# the seat's name ("[DBA: TBD]")
seat = st.builds(seat_name, opt_text, opt_text)
seat_contact = st.builds(PlanPerson, name=seat, email=contact, phone=contact, slack=contact).filter(
    lambda p: bool(p.email or p.phone or p.slack)
)


@st.composite
def plans(draw):
    roles = draw(
        unique_by(
            st.builds(
                PlanRole,
                name=text,
                duty=opt_text,
                primary=st.lists(person | seat, max_size=2),
                backup=st.lists(person, max_size=2),
                kind=st.sampled_from(["team", "stakeholder"]),
            ),
            lambda r: r.name.lower(),
        )
    )
    people = draw(
        unique_by(
            st.builds(PlanPerson, name=person, email=contact, phone=contact, slack=contact)
            | seat_contact,
            lambda p: p.name.lower(),
        )
    )
    levels = draw(
        unique_by(
            st.builds(
                PlanEscalationLevel,
                level=st.integers(1, 9),
                name=opt_text,
                roles=st.lists(text, max_size=2),
                contacts=st.lists(text, max_size=2),
                after=opt(durations),
                until=opt(durations),
            ),
            lambda lv: lv.level,
        )
    )
    templates = draw(
        unique_by(
            st.builds(
                PlanTemplate,
                key=text,
                name=text,
                subject=opt_text,
                body=multiline,
                channel=opt_text,
                placeholders=st.lists(text, max_size=3),
            ),
            lambda t: t.key,
        )
    )
    return Plan(
        title=draw(text),
        version=draw(opt_text),
        timezone=draw(st.sampled_from(["UTC", "MSK", "CET", "America/New_York"])),
        go_live_at=draw(st.sampled_from(["", "2026-03-14T22:00+01:00", "02:00+08:00", "09:30"])),
        window_start=draw(opt(offsets)),
        window_end=draw(opt(offsets)),
        phases=draw(
            st.lists(
                st.builds(
                    PlanPhase,
                    name=text,
                    start=opt(offsets),
                    duration=opt(durations),
                    description=opt_text,
                    participants=st.lists(text, max_size=3),
                    checklists=st.lists(checklists(), max_size=2),
                ),
                min_size=1,
                max_size=3,
            )
        ),
        checklists=draw(st.lists(checklists(), max_size=2)),
        roles=roles,
        people=people,
        escalation=sorted(levels, key=lambda lv: lv.level),
        rollback_criteria=draw(
            st.lists(
                st.builds(
                    PlanRollbackCriterion,
                    metric=text,
                    comparison=st.sampled_from(COMPARISONS),
                    threshold=st.floats(-1e6, 1e6, allow_nan=False),
                    unit=st.sampled_from(["", "%", "ms", "s", "req/s"]),
                    duration=opt(durations),
                    severity=st.sampled_from(SEVERITIES),
                    text=opt_text,
                    automatic=st.booleans(),
                ),
                max_size=3,
            )
        ),
        rollback_plan=draw(st.lists(items(), max_size=3)),
        comms_rules=draw(
            st.lists(
                st.builds(
                    PlanCommsRule,
                    name=text,
                    at=opt(offsets),
                    interval=opt(durations),
                    milestone=st.sampled_from(["", "go_live", "completion", "rollback"]),
                    channels=st.lists(
                        st.sampled_from(["slack", "email", "status_page", "sms"]),
                        max_size=3,
                        unique=True,
                    ),
                    audience=opt_text,
                    template=opt_text,
                ),
                max_size=3,
            )
        ),
        templates=templates,
        gates=draw(
            st.lists(
                st.builds(
                    PlanGate,
                    name=text,
                    kind=st.sampled_from(["go_no_go", "final_approval"]),
                    at=opt(offsets),
                    decision_roles=st.lists(text, max_size=2),
                    signoffs=st.lists(
                        st.builds(PlanSignOff, role=text, criteria=opt_text), max_size=3
                    ),
                    checklist=st.lists(items(), max_size=3),
                    consensus=st.sampled_from(["all", "quorum:2"]),
                ),
                max_size=2,
            )
        ),
        notes=draw(st.lists(st.builds(PlanNote, title=text, body=multiline), max_size=2)),
    )


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(plans())
def test_any_plan_survives_render_and_parse_unchanged(plan):
    assert parse_runbook(render_plan(plan)) == plan


@pytest.mark.parametrize("seed", SEEDS, ids=lambda p: p.stem)
def test_a_parsed_seed_survives_render_and_parse_unchanged(seed):
    plan = parse_runbook(seed.read_bytes())
    assert parse_runbook(render_plan(plan)) == plan
