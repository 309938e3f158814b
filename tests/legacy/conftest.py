"""A small generated legacy system, built once per session and read by many tests."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from cutover.legacy import DefectRates, GenerationSummary, generate

OFFENDERS = 400
SEED = 11


@dataclass(frozen=True)
class Generated:
    summary: GenerationSummary
    out: Path

    def answers(self) -> list[dict[str, Any]]:
        with (self.out / "answer_key.jsonl").open(encoding="utf-8") as fh:
            return [json.loads(line) for line in fh]

    def connect(self) -> sqlite3.Connection:
        return sqlite3.connect(self.out / "obscis.db")


@pytest.fixture(scope="session")
def generated(tmp_path_factory: pytest.TempPathFactory) -> Generated:
    out = tmp_path_factory.mktemp("legacy")
    return Generated(generate(out, OFFENDERS, SEED), out)


@pytest.fixture(scope="session")
def generated_clean(tmp_path_factory: pytest.TempPathFactory) -> Generated:
    out = tmp_path_factory.mktemp("legacy-clean")
    return Generated(generate(out, 200, SEED, DefectRates.none()), out)


@pytest.fixture
def db(generated: Generated) -> Iterator[sqlite3.Connection]:
    conn = generated.connect()
    yield conn
    conn.close()
