"""Pure unit tests for the runbook importer (no Django needed: run with ``-p no:django``)."""

from pathlib import Path

import pytest

SEEDS = Path(__file__).parent / "seeds"


@pytest.fixture(scope="session")
def seed_dir() -> Path:
    return SEEDS
