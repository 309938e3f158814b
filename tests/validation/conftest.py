"""The ``validation`` package under test, not this test folder of the same name.

pytest puts ``tests/`` on ``sys.path`` (its conftest has no package), where this folder would be
found as a namespace package ``validation`` before the real one; the repository root goes first.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

_ROOT = str(Path(__file__).resolve().parents[2])
if sys.path[:1] != [_ROOT]:
    sys.path.insert(0, _ROOT)
if getattr(sys.modules.get("validation"), "__file__", "") is None:
    del sys.modules["validation"]

from validation import RulePack, load_pack  # noqa: E402


@pytest.fixture(scope="session")
def pack() -> RulePack:
    """The built-in Maryland pack."""
    return load_pack("md_diminution")
