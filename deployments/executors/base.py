"""What every executor shares: the run's context, outcomes, and config validation.

An executor is one class per integration kind. ``validate(config)`` returns the
normalised config or raises :class:`~warroom.errors.FieldError` naming the field
(``config.url``); ``run(ctx)`` does the work, reading the world before changing it and
reading it back after every write, and returns a line for the log or raises
:class:`StepFailed` with a readable message. ``ctx.dry_run`` walks the same path and
says what it would do instead of doing it.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar

from warroom.errors import FieldError


class StepFailed(Exception):
    """The step did not do what it should; the message says why, for people."""


@dataclass
class RunContext:
    config: dict
    dry_run: bool = False
    # Stable across a takeover of the same attempt: outside systems deduplicate on it.
    idempotency_key: str = ""
    # Renews the lease; returns False when the lease was lost (stop at once).
    heartbeat: Callable[[], bool] = lambda: True
    # Seconds already spent on this attempt (a taken-over wait resumes, it does not restart).
    elapsed: float = 0.0
    lines: list[str] = field(default_factory=list)

    def log(self, line: str) -> None:
        self.lines.append(line)

    def sleep(self, seconds: float) -> None:
        """Sleep in slices, renewing the lease; a lost lease stops the step."""
        end = time.monotonic() + seconds
        while (left := end - time.monotonic()) > 0:
            time.sleep(min(left, 1.0))
            if not self.heartbeat():
                raise StepFailed("the lease on this step was lost to another worker")


class Executor:
    kind: ClassVar[str]
    label: ClassVar[str]
    # Steps of a reported kind are done elsewhere (a CI/CD pipeline) and reported through
    # the API; the engine never sends them to a worker.
    reported: ClassVar[bool] = False

    def validate(self, config: Mapping[str, Any]) -> dict:
        return {}

    def run(self, ctx: RunContext) -> str:
        raise NotImplementedError

    def describe(self, config: Mapping[str, Any]) -> str:
        """What the step does, in a line (shown in the war room and by a dry run)."""
        return self.label


# --- config validation: each helper names the field it refuses --------------------
def _name(key: str, prefix: str) -> str:
    return f"{prefix}.{key}" if prefix else key


def known(config: Mapping[str, Any], allowed: set[str], prefix: str = "config") -> None:
    if not isinstance(config, Mapping):
        raise FieldError(prefix, "must be an object")
    extra = sorted(set(config) - allowed)
    if extra:
        raise FieldError(
            _name(extra[0], prefix),
            f"is not a setting of this step (known: {', '.join(sorted(allowed))})",
        )


def text(
    config: Mapping[str, Any], key: str, *, required: bool = True, default: str = "",
    prefix: str = "config", choices: tuple[str, ...] = (),
) -> str:  # fmt: skip
    value = config.get(key, None)
    if value is None or value == "":
        if required:
            raise FieldError(_name(key, prefix), "is required")
        return default
    if not isinstance(value, str):
        raise FieldError(_name(key, prefix), "must be text")
    if choices and value not in choices:
        raise FieldError(_name(key, prefix), f"must be one of {', '.join(choices)}")
    return value


def number(
    config: Mapping[str, Any], key: str, *, default: float | None = None, minimum: float = 0,
    maximum: float | None = None, prefix: str = "config", integer: bool = False,
) -> float:  # fmt: skip
    value = config.get(key, None)
    if value is None:
        if default is None:
            raise FieldError(_name(key, prefix), "is required")
        return default
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise FieldError(_name(key, prefix), "must be a number")
    if integer and value != int(value):
        raise FieldError(_name(key, prefix), "must be a whole number")
    if value < minimum:
        raise FieldError(_name(key, prefix), f"must be at least {minimum:g}")
    if maximum is not None and value > maximum:
        raise FieldError(_name(key, prefix), f"must be at most {maximum:g}")
    return int(value) if integer else float(value)


def url(
    config: Mapping[str, Any], key: str, *, required: bool = True, prefix: str = "config"
) -> str:
    value = text(config, key, required=required, prefix=prefix)
    if value and not value.startswith(("http://", "https://")):
        raise FieldError(_name(key, prefix), "must be an http:// or https:// URL")
    return value


COMPARISONS: dict[str, Callable[[float, float], bool]] = {
    ">": lambda a, b: a > b,
    ">=": lambda a, b: a >= b,
    "<": lambda a, b: a < b,
    "<=": lambda a, b: a <= b,
    "==": lambda a, b: a == b,
    "!=": lambda a, b: a != b,
}
