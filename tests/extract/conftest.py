"""Fixtures of the extract tests: a small legacy-like database and workspaces around it."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import structlog

# pytest puts tests/ on sys.path (it holds the root conftest), where this folder would pass for
# the ``extract`` package as a namespace package; with the repository root on sys.path the real
# package wins, since a regular package always takes precedence over a namespace portion.
_ROOT = str(Path(__file__).resolve().parents[2])
if _ROOT not in sys.path:
    sys.path.append(_ROOT)
# A stage package imported before this point (by an earlier test folder) may be cached as such a
# namespace package; drop it so the next import finds the real one.
for _stage in ("extract", "transform", "load", "validation"):
    if getattr(sys.modules.get(_stage), "__file__", "") is None:
        for _name in [m for m in sys.modules if m == _stage or m.startswith(f"{_stage}.")]:
            del sys.modules[_name]

from extract_helpers import create_sqlite_legacy, write_settings  # noqa: E402

from cutover.settings import Settings  # noqa: E402


@pytest.fixture(autouse=True)
def _fresh_logging() -> Iterator[None]:
    """A command run through CliRunner configures logging onto a stream it then closes."""
    yield
    structlog.reset_defaults()


@pytest.fixture
def legacy_db(tmp_path: Path) -> Path:
    return create_sqlite_legacy(tmp_path / "legacy" / "obscis.db")


@pytest.fixture
def make_workspace(tmp_path: Path) -> Callable[..., Settings]:
    counter = iter(range(1000))

    def make(sources: dict[str, dict[str, Any]], **kw: Any) -> Settings:
        return write_settings(tmp_path / f"ws{next(counter)}", sources, **kw)

    return make


@pytest.fixture
def legacy_settings(legacy_db: Path, make_workspace: Callable[..., Settings]) -> Settings:
    return make_workspace({"obscis": {"kind": "sqlalchemy", "url": f"sqlite:///{legacy_db}"}})
