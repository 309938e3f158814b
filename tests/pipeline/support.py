"""Reading the pipeline's databases and answer key in the tests (small data: whole tables)."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from load.models import Base

from .conftest import Pipeline

__all__ = ["answer_rows", "answers_of", "staged_rows", "target_rows"]


def staged_rows(pipeline: Pipeline, table: str) -> list[dict[str, Any]]:
    """Every row of a staging table, as dictionaries."""
    with pipeline.staging().connect() as conn:
        return [dict(r) for r in conn.execute(sa.text(f"SELECT * FROM {table}")).mappings()]


def target_rows(pipeline: Pipeline, table: str) -> list[dict[str, Any]]:
    """Every row of a target table, typed by the target models."""
    with pipeline.target().connect() as conn:
        return [dict(r) for r in conn.execute(sa.select(Base.metadata.tables[table])).mappings()]


def answers_of(pipeline: Pipeline, code: str) -> list[dict[str, Any]]:
    """The answer key's data-quality lines of one defect code."""
    return [a for a in pipeline.answers if a.get("kind") == "data_quality" and a["code"] == code]


def answer_rows(
    pipeline: Pipeline, code: str, table: str, *, column: str | None = None
) -> set[str]:
    """Keys of the legacy rows of ``table`` the answer key names for ``code``."""
    return {
        key
        for a in answers_of(pipeline, code)
        if a["table"] == table and (column is None or a["column"] == column)
        for key in a["keys"]
    }
