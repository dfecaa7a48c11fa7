# ruff: noqa: RUF001 - mojibake, dashes and look-alike letters are what the tests are about
"""The parser's shortcuts give what the full parsers give.

markdown-it runs only the block rules a text can use (``blocks.block_tokens``) and its table
rule behind a pipe test; ftfy's mojibake test runs only on lines holding a character its
heuristic looks for (``text._BAD``). Each is checked against the full thing: over the seeds
and the corpus, and over generated markdown made of the pieces those rules react to."""

from __future__ import annotations

import gc
import re
import re._constants as sre_c
import re._parser as sre_parse
from pathlib import Path

import pytest
from ftfy.badness import BADNESS_RE, is_bad
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from markdown_it import MarkdownIt

from deployments.runbooks import blocks, text
from deployments.runbooks.parse import RunbookError, parse_runbook

HERE = Path(__file__).parent
TEXTS = [
    p.read_text(encoding="utf-8")
    for p in sorted(HERE.glob("seeds/*.md")) + sorted(HERE.glob("corpus/*.md"))
]
FULL = MarkdownIt("commonmark").enable("table")
FULL.disable("inline")
FULL.disable("reference")

PIECES = [
    "- ", "* ", "+ ", "1. ", "2) ", "> ", "  ", "    ", "\t", "#", "## ", "---", "===", "***",
    "___", "|", " | ", "|---|", ":-:", "```", "~~~", "<div>", "<!-- c -->", "<", ">", "text",
    "a", "[ ] ", "-", "=", ":", "\\|", " ", "☐ ", "Ã©", "\n",
]  # fmt: skip
markdown = st.lists(
    st.lists(st.sampled_from(PIECES), max_size=6).map("".join), min_size=1, max_size=12
).map("\n".join)


def tokens(ts) -> list:
    return [(t.type, t.map, t.content, t.info, t.markup, t.level) for t in ts]


def test_the_seeds_and_the_corpus_give_the_full_parsers_tokens():
    for t in TEXTS:
        assert tokens(blocks.block_tokens(t)) == tokens(FULL.parse(t))


def test_the_tokens_are_markdown_its_own_in_every_field():
    """``blocks._BlockState`` makes its tokens without Token's ``__init__``, and the block
    rules run behind quick tests: every field of every token is what markdown-it gives."""
    for t in TEXTS:
        assert blocks.block_tokens(t) == FULL.parse(t)


def test_most_runbooks_need_only_some_block_rules():
    off = [[name for name, needed in blocks._RULE_NEEDS if not needed(t)] for t in TEXTS]
    assert sum("html_block" in o for o in off) > len(TEXTS) // 2


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(markdown)
def test_generated_markdown_gives_the_full_parsers_tokens(md):
    assert tokens(blocks.block_tokens(md)) == tokens(FULL.parse(md))
    assert blocks.block_tokens(md) == FULL.parse(md)


def _needs_one_of(sub, chars: set[int]) -> bool:
    """Does every match of the parsed pattern ``sub`` hold a character of ``chars``?"""
    return any(_element_needs(op, av, chars) for op, av in sub)


def _element_needs(op, av, chars: set[int]) -> bool:
    if op is sre_c.LITERAL:
        return av in chars
    if op is sre_c.IN:
        return all(
            (o is sre_c.LITERAL and a in chars)
            or (o is sre_c.RANGE and all(c in chars for c in range(a[0], a[1] + 1)))
            for o, a in av
        )
    if op is sre_c.BRANCH:
        return all(_needs_one_of(s, chars) for s in av[1])
    if op is sre_c.SUBPATTERN:
        return _needs_one_of(av[3], chars)
    if op in (sre_c.MAX_REPEAT, sre_c.MIN_REPEAT, sre_c.POSSESSIVE_REPEAT):
        return av[0] >= 1 and _needs_one_of(av[2], chars)
    if op is sre_c.ASSERT:
        return _needs_one_of(av[1], chars)
    return False


def test_every_match_of_ftfys_mojibake_test_holds_a_character_the_line_test_looks_for():
    chars = {ord(c) for c in text._mojibake_chars()}
    assert not BADNESS_RE.flags & re.IGNORECASE
    assert _needs_one_of(sre_parse.parse(BADNESS_RE.pattern, BADNESS_RE.flags), chars)


@given(st.text(alphabet=st.sampled_from(list("aé Ã©â€™ðŸ“…Ÿ¬√ƒ∂œ€–—…→中日Привет")), max_size=20))
def test_a_line_the_line_test_passes_over_is_never_bad(line):
    if not text._BAD.search(line):
        assert not is_bad(line)
    assert text._repair(line) == (text._repair_line(line) if not line.isascii() else line)


def _quickened() -> list[re.Pattern[str]]:
    """Every pattern of the section classifier and the vocabulary put behind ``vocab.quick``."""
    from deployments.runbooks import context, recognise, rollback, times, vocab

    found = [rx for _, rx in context._CLASSES]
    found += [recognise._ROLLBACK_ACTION, recognise._NAMED_DAY, recognise._LEAD_RELATIVE]
    found += [recognise._MINUS_PLUS, recognise._DAY_N, recognise._WEEK_N, recognise._GO_LIVE]
    found += [recognise._ROLE_NOUN, recognise._CONTACT_PLACEHOLDER, times._GO_LIVE_ANY]
    found += [rollback._NOT_CRITERIA]
    found += [context._GO_NO_GO, context._APPROVAL, context._STAKEHOLDER, context._PRE]
    found += [context._POST, context._TASK_WORDS]
    names = ("ROLLBACK_PLAN", "ROLLBACK_TRIGGERS", "GATE", "TASK_HEADINGS", "ESCALATION")
    names += ("TASK_COLUMNS", "OWNER_COLUMNS", "WHEN_COLUMNS", "STATUS_COLUMNS")
    found += [vocab.phrase_rx(getattr(vocab, name)) for name in names]
    assert all(rx.pattern.startswith("(?=[") for rx in found)
    return found


def _unquick(rx: re.Pattern[str]) -> re.Pattern[str]:
    """The pattern without the look-ahead ``vocab.quick`` put in front: "(?=[...])(?:...)"."""
    return re.compile(rx.pattern[rx.pattern.index("])(?:") + 5 : -1], rx.flags)


LINES = [ln for t in TEXTS for ln in t.split("\n")]


def test_a_pattern_behind_its_first_letters_finds_what_it_found_over_every_line():
    for rx in _quickened():
        plain = _unquick(rx)
        for ln in LINES:
            m, n = rx.search(ln), plain.search(ln)
            assert (m and (m.span(), m.groups())) == (n and (n.span(), n.groups())), (rx, ln)


WORDS = [
    *"goNOaprvSTIKiksſKİı -/_s", "rollback plan", "Rollback-Kriterien", "go/no-go", "GO NO GO",
    "sign-off", "Team", "roles", "pre-", "post ", "ſtep", "checklist", "Eskalation", "回滚条件",
    "Day -1", "D+1", "minus 3 days", "Woche 2", "за 1 день", "Go-live: 22:00 CET", "xxx", "___",
    "[Name]", "rollback", "success criteria", "Vorwoche", "前日", "DBA lead", "owner",
]  # fmt: skip


@given(st.lists(st.sampled_from(WORDS), max_size=8).map("".join))
def test_a_pattern_behind_its_first_letters_finds_what_it_found_in_any_text(s):
    for rx in _quickened():
        plain = _unquick(rx)
        m, n = rx.search(s), plain.search(s)
        assert (m and m.span()) == (n and n.span())


def test_a_letter_and_a_class_of_that_letter_match_the_same_characters_ignoring_case():
    """The look-ahead is a character class; what each first letter of the patterns matches
    ignoring case ("k": the Kelvin sign too, "s": the long s) the class matches too."""
    from deployments.runbooks import vocab

    every = "".join(chr(c) for c in range(0x110000) if not 0xD800 <= c <= 0xDFFF)
    letters = set()
    for rx in _quickened():
        letters |= vocab.first_chars(sre_parse.parse(_unquick(rx).pattern, rx.flags)) or set()
    for c in sorted(letters):
        literal = set(re.compile(re.escape(c), re.I).findall(every))
        assert literal <= set(re.compile(f"[{re.escape(c)}]", re.I).findall(every)), c


def test_the_parse_leaves_the_cycle_collector_as_it_found_it():
    """``parse_runbook`` pauses Python's cycle collector while it runs: after it, running or
    paused as before, a refused runbook too."""
    assert gc.isenabled()
    assert parse_runbook(TEXTS[0]).item_count()
    assert gc.isenabled()
    with pytest.raises(RunbookError):
        parse_runbook(b"\x00")
    assert gc.isenabled()
    gc.disable()
    try:
        parse_runbook(TEXTS[0])
        assert not gc.isenabled()
    finally:
        gc.enable()
