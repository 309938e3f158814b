"""``generate``: build the legacy database, its document index and the answer key.

Offenders are generated one at a time, each from its own random stream derived from the seed and
its index, so the output is the same for the same seed and count, byte for byte, and memory does
not grow with the count.
"""

from __future__ import annotations

import json
import random
import sqlite3
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path

from cutover.errors import ConfigError
from cutover.legacy.answers import QualityDefect
from cutover.legacy.calendar import TODAY, fmt_date
from cutover.legacy.pipeline import Tally, offender_chunks
from cutover.legacy.rates import DefectRates
from cutover.legacy.reference import INSTITUTIONS, TASKS
from cutover.legacy.rows import BLANK_DATE, Keyer
from cutover.legacy.story import StoryContext
from cutover.legacy.users import Staff, build_staff
from cutover.legacy.writer import LegacyWriter
from cutover.logs import get_logger

__all__ = [
    "ANSWER_KEY_FILE",
    "DB_FILE",
    "DOCUMENTS_FILE",
    "SUMMARY_FILE",
    "GenerationSummary",
    "generate",
]

DB_FILE = "obscis.db"
DOCUMENTS_FILE = "documents.csv"
ANSWER_KEY_FILE = "answer_key.jsonl"
SUMMARY_FILE = "generate.json"
MAX_OFFENDERS = 9_999_999


@dataclass(frozen=True, slots=True)
class GenerationSummary:
    """What a generation wrote."""

    out: Path
    offenders: int
    seed: int
    rates: DefectRates
    tables: dict[str, int]
    documents: int
    answer_lines: int
    release_defects: dict[str, int]
    quality_defects: dict[str, int]
    released_on_ms: int
    released_on_ms_wrong: int
    days_min: int
    days_max: int
    seconds: float = field(compare=False)

    @property
    def db_path(self) -> Path:
        return self.out / DB_FILE

    @property
    def documents_path(self) -> Path:
        return self.out / DOCUMENTS_FILE

    @property
    def answer_key_path(self) -> Path:
        return self.out / ANSWER_KEY_FILE

    def deterministic_part(self) -> dict[str, object]:
        """Everything but the timing: what the answer key's summary line carries."""
        return {
            "offenders": self.offenders,
            "seed": self.seed,
            "options": self.rates.as_dict(),
            "tables": self.tables,
            "documents": self.documents,
            "release_defects": self.release_defects,
            "quality_defects": self.quality_defects,
            "released_on_ms": self.released_on_ms,
            "released_on_ms_wrong": self.released_on_ms_wrong,
            "days_min": self.days_min,
            "days_max": self.days_max,
        }


def _catalogue(writer: LegacyWriter, staff: Staff, seed: int, rates: DefectRates) -> None:
    writer.rows(
        "INST",
        [
            (i.code.ljust(4), i.name.ljust(50), i.region, "Y" if i.active else "N")
            for i in INSTITUTIONS
        ],
    )
    writer.rows(
        "INST_TSK",
        [
            (t.inst.ljust(4), t.code.ljust(6), t.desc.ljust(30), t.typ, t.rate, fmt_date(t.eff))
            for t in TASKS
        ],
    )
    found: list[QualityDefect] = list(staff.defects)
    keyer = Keyer(random.Random(f"cutover-legacy-accounts:{seed}"), rates, found)
    accounts = []
    screens: list[tuple[str, str, str]] = []
    for u in staff.users:
        uid = u.usr_id
        login = (
            BLANK_DATE
            if u.last_login is None
            else keyer.loose_date(u.last_login, "USR_ACCT", (uid,), "LST_LOGIN_DT")
        )
        accounts.append(
            (
                uid,
                u.emp_no,
                u.usr_nm.ljust(30),
                keyer.code(u.job, 4, "USR_ACCT", (uid,), "JOB_CD"),
                keyer.code(u.inst, 4, "USR_ACCT", (uid,), "INST_CD"),
                "Y" if u.active else "N",
                login,
            )
        )
        screens.extend((uid, scrn, level) for scrn, level in u.screens)
    writer.rows("USR_ACCT", accounts)
    writer.rows("USR_SCRN", screens)
    writer.answer_lines(q.to_json() for q in found)


def _write(
    out: Path,
    offenders: int,
    ctx: StoryContext,
    rates: DefectRates,
    on_progress: Callable[[int], None] | None,
    workers: int,
) -> GenerationSummary:
    tally = Tally(quality=Counter(d.code for d in ctx.staff.defects))
    with LegacyWriter(out / DB_FILE, out / DOCUMENTS_FILE, out / ANSWER_KEY_FILE) as writer:
        _catalogue(writer, ctx.staff, ctx.seed, rates)
        for stop, chunk in offender_chunks(ctx, rates, offenders, workers):
            for table, rows in chunk.tables.items():
                writer.rows(table, rows)
            writer.document_rows(chunk.documents)
            writer.answer_lines(chunk.answers)
            tally.merge(chunk.tally)
            if on_progress is not None:
                on_progress(stop)
        writer.flush()
        summary = GenerationSummary(
            out=out,
            offenders=offenders,
            seed=ctx.seed,
            rates=rates,
            tables=dict(writer.counts),
            documents=writer.documents,
            answer_lines=writer.answers + 1,
            release_defects=dict(sorted(tally.release.items())),
            quality_defects=dict(sorted(tally.quality.items())),
            released_on_ms=tally.released_ms,
            released_on_ms_wrong=tally.released_wrong,
            days_min=tally.days_min,
            days_max=tally.days_max,
            seconds=0.0,
        )
        writer.answer_lines(
            [json.dumps({"kind": "summary", **summary.deterministic_part()}, sort_keys=True)]
        )
    return summary


def generate(
    out: Path,
    offenders: int,
    seed: int,
    rates: DefectRates | None = None,
    *,
    on_progress: Callable[[int], None] | None = None,
    workers: int = 1,
) -> GenerationSummary:
    """Write the legacy database, document index, answer key and ``generate.json`` in ``out``.

    The same ``offenders`` and ``seed`` give byte-identical files, whatever the number of
    ``workers`` (processes generating offenders while this one writes). ``on_progress`` is called
    with the number of offenders written so far, every few hundred offenders.
    """
    if not 1 <= offenders <= MAX_OFFENDERS:
        raise ConfigError(
            f"offenders must be between 1 and {MAX_OFFENDERS:,}", hint="pass --offenders N"
        )
    if not 0 <= seed < 2**31:
        raise ConfigError("seed must be a non-negative 31-bit integer", hint="pass --seed S")
    rates = rates or DefectRates()
    started = time.perf_counter()
    ctx = StoryContext(seed=seed, staff=build_staff(seed, offenders, rates, TODAY))
    try:
        out.mkdir(parents=True, exist_ok=True)
        summary = _write(out, offenders, ctx, rates, on_progress, max(1, workers))
        seconds = round(time.perf_counter() - started, 3)
        final = replace(summary, seconds=seconds)
        (out / SUMMARY_FILE).write_text(
            json.dumps({**final.deterministic_part(), "seconds": seconds}, indent=2, sort_keys=True)
            + "\n",
            encoding="utf-8",
        )
    except (OSError, sqlite3.Error) as exc:
        raise ConfigError(
            f"cannot write the legacy system into {out}: {exc}",
            hint="choose a writable folder with enough free space (--out)",
            file=str(out),
        ) from exc
    get_logger(__name__).info(
        "legacy_generated",
        offenders=offenders,
        seed=seed,
        rows=sum(final.tables.values()),
        seconds=seconds,
    )
    return final
