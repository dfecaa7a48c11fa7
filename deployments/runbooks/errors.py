"""The error :func:`~deployments.runbooks.parse.parse_runbook` raises on bad input."""

from __future__ import annotations


class RunbookError(ValueError):
    """The runbook cannot be imported; ``line`` is the 1-based source line, if known."""

    def __init__(self, message: str, line: int | None = None):
        self.line = line
        super().__init__(f"line {line}: {message}" if line else message)
