"""Text that every database stores alike: the same refusal on SQLite and PostgreSQL.

PostgreSQL refuses a NUL character in text (the request would fail with a 500) while
SQLite stores it; neither can encode a lone UTF-16 surrogate (``"\\ud800"`` is valid
JSON but not Unicode text). Services call :func:`clean_text` on every free-text field
they store; the API refuses such strings anywhere in a JSON body before a view runs
(:mod:`warroom.http`). Both name the field.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from typing import Any

from django.core.exceptions import ValidationError
from django.db import models

from warroom.errors import FieldError

NUL = "\x00"


def text_problem(value: str) -> str | None:
    """Why ``value`` cannot be stored as text, or None when it can."""
    if NUL in value:
        return "contains a NUL character (\\u0000), which cannot be stored"
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as exc:
        code = ord(value[exc.start])
        return f"contains a lone UTF-16 surrogate (\\u{code:04x}), which is not text"
    return None


def clean_text(value: str, *, field: str, max_length: int | None = None) -> str:
    """``value`` unchanged when it can be stored; otherwise :class:`FieldError` naming ``field``.

    ``max_length`` (characters) is checked too when given, so the message names the limit.
    """
    problem = text_problem(value)
    if problem is not None:
        raise FieldError(field, problem)
    if max_length is not None and len(value) > max_length:
        raise FieldError(field, f"is {len(value)} characters long; the limit is {max_length}")
    return value


def fingerprint(value: str) -> dict:
    """What a refusal records of a text it was sent: its length and SHA-256, never the
    text (bounded, whatever was sent)."""
    raw = value.encode("utf-8", "surrogatepass")
    return {"length": len(value), "sha256": hashlib.sha256(raw).hexdigest()}


def _problems(data: Any, path: tuple[str, ...]) -> Iterator[tuple[tuple[str, ...], str]]:
    if isinstance(data, str):
        problem = text_problem(data)
        if problem is not None:
            yield path, problem
    elif isinstance(data, dict):
        for key, value in data.items():
            problem = text_problem(str(key))
            if problem is not None:
                # The key itself is unprintable: name where it sits instead.
                yield path, f"has a key that {problem}"
                continue
            yield from _problems(value, (*path, str(key)))
    elif isinstance(data, list):
        for index, value in enumerate(data):
            yield from _problems(value, (*path, str(index)))


def first_text_problem(data: Any) -> tuple[str, str] | None:
    """The first string (value or key) in JSON data that cannot be stored.

    Returns ``(field, problem)`` with the field as a dotted path (``mitigations.0.role``;
    ``body`` for the top level), or None when every string can be stored.
    """
    for path, problem in _problems(data, ()):
        return ".".join(path) or "body", problem
    return None


def validate_storable_text(value: str) -> None:
    """Django validator form of :func:`text_problem`, for model and form fields."""
    problem = text_problem(value)
    if problem is not None:
        raise ValidationError(f"This text {problem}.", code="unstorable_text")


# --- limits on free text, the same through the API, the pages and the models -----------
# Characters. Names and one-liners are model CharFields with their own max_length.
NOTE_MAX = 4000  # item notes and block reasons
COMMENT_MAX = 2000  # sign-off and vote comments
RATIONALE_MAX = 4000  # decision and rollback rationales
REASON_MAX = 2000  # what a rollback trigger says was breached
MITIGATION_MAX = 500  # each mitigation of a CONDITIONAL GO
MITIGATIONS_MAX = 20  # how many
ITEM_TEXT_MAX = 4000  # an item's text and its verification commands (from the runbook)


def check_text_fields(obj: models.Model, only=None) -> None:
    """Every text field of ``obj`` (those in ``only`` when given) within its ``max_length``
    and storable; else :class:`FieldError` naming the field and the limit."""
    for f in obj._meta.concrete_fields:
        if not isinstance(f, models.CharField | models.TextField):
            continue
        if only is not None and f.name not in only and f.attname not in only:
            continue
        value = getattr(obj, f.attname)
        if isinstance(value, str):
            clean_text(value, field=f.name, max_length=f.max_length)


class TextChecked(models.Model):
    """A model whose text fields are checked on every save, on every database alike
    (SQLite ignores a column's length; PostgreSQL would answer a 500)."""

    class Meta:
        abstract = True

    def save(self, *args, **kwargs):
        check_text_fields(self, kwargs.get("update_fields"))
        super().save(*args, **kwargs)
