"""Text every database stores alike (warroom/validation.py): NUL and lone surrogates are
refused with the field named, the same on SQLite as on PostgreSQL."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from warroom.errors import FieldError
from warroom.validation import (
    clean_text,
    first_text_problem,
    text_problem,
    validate_storable_text,
)


@pytest.mark.parametrize(
    "text",
    ["", "Verify backup 1", "Zürich · 東京 · 😀", "tabs\tand\nnewlines\r\n", "\U0010ffff"],
)
def test_ordinary_text_of_any_script_can_be_stored(text):
    assert text_problem(text) is None
    assert clean_text(text, field="note") == text


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("a\x00b", "NUL character (\\u0000)"),
        ("\x00", "NUL character"),
        ("lone high \ud800", "lone UTF-16 surrogate (\\ud800)"),
        ("\udfff lone low", "lone UTF-16 surrogate (\\udfff)"),
        ("reversed pair \ude00\ud83d", "lone UTF-16 surrogate (\\ude00)"),
    ],
)
def test_nul_and_lone_surrogates_are_refused_naming_the_field(text, says):
    assert says in text_problem(text)
    with pytest.raises(FieldError) as refused:
        clean_text(text, field="reason")
    assert refused.value.field == "reason"
    assert str(refused.value).startswith("reason: contains a ")
    with pytest.raises(ValidationError):
        validate_storable_text(text)


def test_a_length_limit_is_named_with_the_length():
    assert clean_text("x" * 200, field="name", max_length=200) == "x" * 200
    with pytest.raises(FieldError) as refused:
        clean_text("x" * 300, field="name", max_length=200)
    assert str(refused.value) == "name: is 300 characters long; the limit is 200"


def test_the_first_unstorable_string_in_json_data_is_named_by_its_path():
    assert first_text_problem({"status": "done", "note": "ok", "n": 3, "x": None}) is None
    assert first_text_problem({"note": "a\x00b"}) == (
        "note",
        "contains a NUL character (\\u0000), which cannot be stored",
    )
    field, _ = first_text_problem({"mitigations": [{"role": 1, "text": "ok"}, {"text": "\ud800"}]})
    assert field == "mitigations.1.text"
    field, problem = first_text_problem({"data": {"bad\x00key": 1}})
    assert field == "data" and problem.startswith("has a key that contains a NUL")
    assert first_text_problem("\ud800")[0] == "body"
