"""The ``validation`` package under test, not this test folder of the same name.

pytest puts ``tests/`` on ``sys.path`` (its conftest has no package), where this folder would be
found as a namespace package ``validation`` before the real one; the repository root goes first.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

_ROOT = str(Path(__file__).resolve().parents[2])
if sys.path[:1] != [_ROOT]:
    sys.path.insert(0, _ROOT)
if getattr(sys.modules.get("validation"), "__file__", "") is None:
    del sys.modules["validation"]

import load  # noqa: E402
from validation import RulePack, load_pack  # noqa: E402


@pytest.fixture(scope="session")
def pack() -> RulePack:
    """The built-in Maryland pack."""
    return load_pack("md_diminution")


@pytest.fixture
def pg_target(pg_url: str) -> Iterator[sa.Engine]:
    """An engine on a fresh PostgreSQL database migrated to the target schema."""
    load.upgrade(pg_url)
    engine = load.create_target_engine(pg_url)
    yield engine
    engine.dispose()
