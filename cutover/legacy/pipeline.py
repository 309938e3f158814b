"""Offenders in chunks: generated here or in worker processes, always handed back in order.

Each offender draws from its own random stream (seed, index), so a chunk's rows do not depend on
which process made them: one worker or several give the same bytes. At most two chunks per
worker are in flight, so memory stays flat however many offenders are generated.
"""

from __future__ import annotations

import multiprocessing
import random
from collections import Counter, deque
from collections.abc import Iterator
from dataclasses import dataclass, field
from multiprocessing.pool import AsyncResult

from cutover.errors import CutoverError
from cutover.legacy.calendar import TODAY
from cutover.legacy.defects import Injection, inject_release_defects
from cutover.legacy.facts import Offender
from cutover.legacy.ledger import Ledger, clean_ledger, correct, ms_date, waterfall
from cutover.legacy.quality import key_quality_defects
from cutover.legacy.rates import DefectRates
from cutover.legacy.rows import Row, render_offender
from cutover.legacy.story import StoryContext, build_story
from cutover.legacy.users import build_staff

__all__ = ["CHUNK_OFFENDERS", "Chunk", "Tally", "generate_chunk", "offender_chunks"]

CHUNK_OFFENDERS = 200


@dataclass(slots=True)
class Tally:
    """Counts for the summary line."""

    release: Counter[str] = field(default_factory=Counter)
    quality: Counter[str] = field(default_factory=Counter)
    released_ms: int = 0
    released_wrong: int = 0
    days_min: int = 0
    days_max: int = 0

    def merge(self, other: Tally) -> None:
        self.release.update(other.release)
        self.quality.update(other.quality)
        self.released_ms += other.released_ms
        self.released_wrong += other.released_wrong
        self.days_min = min(self.days_min, other.days_min)
        self.days_max = max(self.days_max, other.days_max)


@dataclass(slots=True)
class Chunk:
    """The rows, documents and answer-key lines of a run of offenders."""

    tables: dict[str, list[Row]] = field(default_factory=dict)
    documents: list[tuple[str, ...]] = field(default_factory=list)
    answers: list[str] = field(default_factory=list)
    tally: Tally = field(default_factory=Tally)


def _settle(o: Offender, inj: Injection, truth: Ledger) -> int:
    """Run the waterfall; drop any defect whose own step moved nothing. Return the legacy date."""
    true_ms = ms_date(o, truth)
    while inj.defects:
        final = waterfall(o, inj.legacy, truth, inj.defects)
        if final != true_ms:
            raise CutoverError(
                "the waterfall does not reach the recomputed date",
                hint="this is a defect in the generator; report it with the seed and count",
                off_id=o.off_id,
            )
        idle = [d for d in inj.defects if d.days == 0]
        if not idle:
            break
        for d in idle:
            correct(d.code, inj.legacy, truth, d)
            inj.defects.remove(d)
    return ms_date(o, inj.legacy)


def _offender(idx: int, ctx: StoryContext, rates: DefectRates, chunk: Chunk) -> None:
    """Generate and key offender ``idx`` from its own random stream, into ``chunk``."""
    rng = random.Random((ctx.seed << 32) | idx)
    o = build_story(idx, rng, ctx)
    truth = clean_ledger(o)
    inj = inject_release_defects(rng, o, truth, rates)
    legacy_ms = _settle(o, inj, truth) if not o.lifer else 0
    if o.rel_typ == "MS":
        o.act_rel = max(legacy_ms, o.calc_dt)
    if o.rel_typ:
        o.status = "EX" if o.max_exp <= TODAY else o.rel_typ
    keyed = key_quality_defects(rng, o, inj.legacy, inj.touched, rates)
    rendered = render_offender(rng, o, inj.legacy, legacy_ms, inj.defects, keyed, ctx.staff, rates)
    for table, rows in rendered.tables.items():
        chunk.tables.setdefault(table, []).extend(rows)
    chunk.documents.extend(rendered.documents)
    chunk.answers.extend(rendered.answers)
    tally = chunk.tally
    tally.quality.update(rendered.quality_codes)
    for d in inj.defects:
        tally.release[d.code] += 1
        tally.days_min = min(tally.days_min, d.days)
        tally.days_max = max(tally.days_max, d.days)
    if o.rel_typ == "MS":
        tally.released_ms += 1
        tally.released_wrong += sum(d.days for d in inj.defects) != 0


def generate_chunk(ctx: StoryContext, rates: DefectRates, start: int, stop: int) -> Chunk:
    """Offenders ``start`` to ``stop - 1``."""
    chunk = Chunk()
    for idx in range(start, stop):
        _offender(idx, ctx, rates, chunk)
    return chunk


#: The worker process's context, set once by its initializer.
_WORKER: dict[str, tuple[StoryContext, DefectRates]] = {}


def _init_worker(seed: int, offenders: int, rates: DefectRates) -> None:
    staff = build_staff(seed, offenders, rates, TODAY)
    _WORKER["ctx"] = (StoryContext(seed=seed, staff=staff), rates)


def _worker_chunk(start: int, stop: int) -> Chunk:
    ctx, rates = _WORKER["ctx"]
    return generate_chunk(ctx, rates, start, stop)


def offender_chunks(
    ctx: StoryContext, rates: DefectRates, offenders: int, workers: int
) -> Iterator[tuple[int, Chunk]]:
    """``(offenders done, chunk)`` in index order, from this process or ``workers`` others."""
    bounds = [
        (start, min(start + CHUNK_OFFENDERS, offenders))
        for start in range(0, offenders, CHUNK_OFFENDERS)
    ]
    if workers <= 1 or len(bounds) <= 1:
        for start, stop in bounds:
            yield stop, generate_chunk(ctx, rates, start, stop)
        return
    spawn = multiprocessing.get_context("spawn")
    with spawn.Pool(workers, _init_worker, (ctx.seed, offenders, rates)) as pool:
        pending: deque[tuple[int, AsyncResult[Chunk]]] = deque()
        queue = deque(bounds)
        while queue or pending:
            while queue and len(pending) < 2 * workers:
                start, stop = queue.popleft()
                pending.append((stop, pool.apply_async(_worker_chunk, (start, stop))))
            stop, result = pending.popleft()
            yield stop, result.get()
