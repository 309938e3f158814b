"""The run ledger: every run of every command, recorded in the control database.

``start_run(settings, kind, actor)`` opens a run; ``run.step(name, table=...)`` is a context
manager that times one step and records its counts; ``run.finish(outcome)`` closes the run. A
``Run`` is also a context manager that finishes ``succeeded`` or, on an exception, ``failed``.

Tables (created idempotently; SQLite and PostgreSQL):

``runs``: ``id`` (primary key, sortable by start time), ``kind`` (``extract``, ``transform``,
...), ``actor`` (who; the operating-system user unless given), ``started_at``, ``finished_at``
(ISO 8601, UTC), ``outcome`` (``running`` until finished, then ``succeeded``, ``failed`` or what
the caller says), ``code_version``, ``mappings_hash`` (SHA-256 over the mapping files' paths and
bytes, NULL when the folder does not exist), ``source_checksums`` (JSON object: staged table ->
``rows:checksum``), ``detail`` (JSON object, free-form, never row values).

``run_steps``: ``id``, ``run_id``, ``step``, ``table_name`` (NULL for whole-run steps),
``started_at``, ``finished_at``, ``seconds``, ``counts`` (JSON object of integers), ``notes`` (JSON
object), ``outcome`` (``ok`` or ``failed``), ``error`` (the error's message when it failed).
"""

from __future__ import annotations

import datetime as dt
import getpass
import hashlib
import json
import subprocess
import time
import uuid
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from types import TracebackType
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

import cutover
from cutover.errors import CutoverError
from cutover.logs import bind, get_logger
from cutover.settings import Settings

__all__ = [
    "Run",
    "Step",
    "code_version",
    "get_run",
    "list_runs",
    "mappings_hash",
    "run_steps",
    "start_run",
]


_META = sa.MetaData()
RUNS = sa.Table(
    "runs",
    _META,
    sa.Column("id", sa.String(40), primary_key=True),
    sa.Column("kind", sa.String(40), nullable=False),
    sa.Column("actor", sa.Text, nullable=False),
    sa.Column("started_at", sa.Text, nullable=False),
    sa.Column("finished_at", sa.Text),
    sa.Column("outcome", sa.String(20), nullable=False),
    sa.Column("code_version", sa.Text, nullable=False),
    sa.Column("mappings_hash", sa.String(64)),
    sa.Column("source_checksums", sa.Text, nullable=False, default="{}"),
    sa.Column("detail", sa.Text, nullable=False, default="{}"),
)
RUN_STEPS = sa.Table(
    "run_steps",
    _META,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("run_id", sa.String(40), sa.ForeignKey("runs.id"), nullable=False, index=True),
    sa.Column("step", sa.String(60), nullable=False),
    sa.Column("table_name", sa.Text),
    sa.Column("started_at", sa.Text, nullable=False),
    sa.Column("finished_at", sa.Text, nullable=False),
    sa.Column("seconds", sa.Float, nullable=False),
    sa.Column("counts", sa.Text, nullable=False),
    sa.Column("notes", sa.Text, nullable=False),
    sa.Column("outcome", sa.String(20), nullable=False),
    sa.Column("error", sa.Text),
)


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="milliseconds")


def _engine(settings: Settings) -> Engine:
    url = settings.control.url.get_secret_value()
    if url.startswith("sqlite:///") and ":memory:" not in url:
        Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    engine = sa.create_engine(url)
    _META.create_all(engine)
    return engine


def mappings_hash(directory: Path) -> str | None:
    """SHA-256 over every file under ``directory`` (relative path and bytes, sorted)."""
    if not directory.is_dir():
        return None
    digest = hashlib.sha256()
    for path in sorted(p for p in directory.rglob("*") if p.is_file()):
        digest.update(str(path.relative_to(directory)).encode() + b"\0")
        digest.update(path.read_bytes() + b"\0")
    return digest.hexdigest()


def code_version() -> str:
    """The package version, plus the source commit when running from a git checkout."""
    root = Path(cutover.__file__).resolve().parent.parent
    try:
        out = subprocess.run(  # noqa: S603 - fixed arguments, no user input
            ["git", "-C", str(root), "rev-parse", "--short", "HEAD"],  # noqa: S607 - git from PATH
            capture_output=True,
            text=True,
            timeout=5,
            check=False,
        )
    except OSError:
        return cutover.__version__
    commit = out.stdout.strip()
    return (
        f"{cutover.__version__}+{commit}" if out.returncode == 0 and commit else cutover.__version__
    )


class Step:
    """What a step reports while it runs: counts (integers, summed) and notes (free-form)."""

    def __init__(self) -> None:
        self.counts: dict[str, int] = {}
        self.notes: dict[str, Any] = {}

    def add(self, **counts: int) -> None:
        for name, value in counts.items():
            self.counts[name] = self.counts.get(name, 0) + int(value)

    def note(self, **notes: Any) -> None:
        self.notes.update(notes)


class Run:
    """One run in the ledger. Create it with :func:`start_run`."""

    def __init__(self, engine: Engine, run_id: str, kind: str, actor: str) -> None:
        self._engine = engine
        self.id = run_id
        self.kind = kind
        self.actor = actor
        self.outcome = "running"
        self._sources: dict[str, str] = {}

    @contextmanager
    def step(self, name: str, table: str | None = None) -> Iterator[Step]:
        """Time a step and record it, with its counts, whether it succeeds or fails."""
        step = Step()
        started_at, started = _now(), time.perf_counter()
        outcome, error = "ok", None
        try:
            yield step
        except BaseException as exc:
            outcome, error = "failed", (str(exc) if isinstance(exc, CutoverError) else repr(exc))
            raise
        finally:
            with self._engine.begin() as conn:
                conn.execute(
                    sa.insert(RUN_STEPS).values(
                        run_id=self.id,
                        step=name,
                        table_name=table,
                        started_at=started_at,
                        finished_at=_now(),
                        seconds=round(time.perf_counter() - started, 6),
                        counts=json.dumps(step.counts, sort_keys=True),
                        notes=json.dumps(step.notes, sort_keys=True, default=str),
                        outcome=outcome,
                        error=error[:2000] if error else None,
                    )
                )

    def record_sources(self, checksums: Mapping[str, str]) -> None:
        """Add source snapshot checksums (staged table -> ``rows:checksum``) to the run."""
        self._sources.update(checksums)
        with self._engine.begin() as conn:
            conn.execute(
                sa.update(RUNS)
                .where(RUNS.c.id == self.id)
                .values(source_checksums=json.dumps(self._sources, sort_keys=True))
            )

    def finish(self, outcome: str = "succeeded", **detail: Any) -> None:
        """Close the run with its outcome; ``detail`` is stored as JSON (never row values)."""
        self.outcome = outcome
        with self._engine.begin() as conn:
            conn.execute(
                sa.update(RUNS)
                .where(RUNS.c.id == self.id)
                .values(
                    finished_at=_now(),
                    outcome=outcome,
                    detail=json.dumps(detail, sort_keys=True, default=str),
                )
            )
        get_logger("runs").info("run_finished", run_id=self.id, kind=self.kind, outcome=outcome)
        self._engine.dispose()

    def __enter__(self) -> Run:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self.outcome == "running":
            if exc is None:
                self.finish("succeeded")
            else:
                self.finish("failed", error=str(exc)[:2000])


def start_run(settings: Settings, kind: str, actor: str | None = None) -> Run:
    """Open a run in the control database and bind its id to every later log event."""
    engine = _engine(settings)
    now = dt.datetime.now(dt.UTC)
    run_id = f"{now:%Y%m%dT%H%M%S}-{uuid.uuid4().hex[:8]}"
    who = actor or getpass.getuser()
    with engine.begin() as conn:
        conn.execute(
            sa.insert(RUNS).values(
                id=run_id,
                kind=kind,
                actor=who,
                started_at=now.isoformat(timespec="milliseconds"),
                outcome="running",
                code_version=code_version(),
                mappings_hash=mappings_hash(settings.mappings_dir),
                source_checksums="{}",
                detail="{}",
            )
        )
    bind(run_id=run_id)
    get_logger("runs").info("run_started", run_id=run_id, kind=kind, actor=who)
    return Run(engine, run_id, kind, who)


def _decode(row: Mapping[str, Any]) -> dict[str, Any]:
    out = dict(row)
    for field in ("source_checksums", "detail", "counts", "notes"):
        if field in out and isinstance(out[field], str):
            out[field] = json.loads(out[field])
    return out


def list_runs(
    settings: Settings, *, kind: str | None = None, limit: int = 50
) -> list[dict[str, Any]]:
    """The latest runs, newest first."""
    engine = _engine(settings)
    query = sa.select(RUNS).order_by(RUNS.c.started_at.desc(), RUNS.c.id.desc()).limit(limit)
    if kind is not None:
        query = query.where(RUNS.c.kind == kind)
    try:
        with engine.connect() as conn:
            return [_decode(dict(r._mapping)) for r in conn.execute(query)]
    finally:
        engine.dispose()


def get_run(settings: Settings, run_id: str) -> dict[str, Any] | None:
    engine = _engine(settings)
    try:
        with engine.connect() as conn:
            row = conn.execute(sa.select(RUNS).where(RUNS.c.id == run_id)).first()
            return None if row is None else _decode(dict(row._mapping))
    finally:
        engine.dispose()


def run_steps(settings: Settings, run_id: str) -> list[dict[str, Any]]:
    """A run's steps in the order they finished."""
    engine = _engine(settings)
    try:
        with engine.connect() as conn:
            rows = conn.execute(
                sa.select(RUN_STEPS).where(RUN_STEPS.c.run_id == run_id).order_by(RUN_STEPS.c.id)
            )
            return [_decode(dict(r._mapping)) for r in rows]
    finally:
        engine.dispose()
