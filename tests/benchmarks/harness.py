"""What every step of ``make bench`` shares: the run's record (``Bench``), fresh workspaces,
the measured dry run with its steps from the run ledger, and the measured peer."""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from cutover.commands.workspace import write_workspace
from cutover.runs import list_runs, run_steps
from cutover.settings import load_settings
from tests.benchmarks.legacy import LegacySystem
from tests.benchmarks.measure import Measurement, run_measured

__all__ = [
    "REPO",
    "Bench",
    "check_printed_rows",
    "cutover_command",
    "fresh_workspace",
    "measured_dry_run",
    "measured_peer",
    "module_command",
]

REPO = Path(__file__).resolve().parents[2]
T = TypeVar("T")


@dataclass
class Bench:
    """One benchmark run: where it writes, what it measured so far, what failed."""

    out: Path
    fail_fast: bool
    results: dict[str, Any]
    errors: list[dict[str, str]] = field(default_factory=list)

    @property
    def log(self) -> Path:
        return self.out / "bench.log"

    def save(self) -> None:
        self.results["errors"] = self.errors
        self.results["finished_at"] = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
        path = self.out / "results.json"
        path.write_text(json.dumps(self.results, indent=2) + "\n", encoding="utf-8")

    def say(self, text: str) -> None:
        stamp = dt.datetime.now().astimezone().strftime("%H:%M:%S")
        sys.stdout.write(f"[{stamp}] {text}\n")
        sys.stdout.flush()

    def phase(self, name: str, work: Callable[[], T]) -> T | None:
        """Run one step; a failure is recorded, shouted and saved, and the run goes on."""
        self.say(f"{name} ...")
        try:
            return work()
        except Exception as exc:
            error = f"{type(exc).__name__}: {exc}"
            self.errors.append({"phase": name, "error": error})
            sys.stderr.write(f"\n*** benchmark step FAILED: {name}\n*** {error}\n\n")
            sys.stderr.flush()
            if self.fail_fast:
                raise
            return None
        finally:
            self.save()

    def record(self, engine: str, key: str, m: Measurement) -> Measurement:
        self.results["measurements"].append({"engine": engine, "key": key, **m.as_dict()})
        rps = f"{m.rows_per_second:,.0f} rows/s, " if m.rows_per_second else ""
        idle = f", machine {m.cpu.idle:.0%} idle" if m.cpu else ""
        self.say(f"  {m.name}: {m.seconds:.1f} s, {rps}peak {m.peak_rss_mb:,.0f} MB{idle}")
        return m


def cutover_command() -> str:
    return str(Path(sys.executable).with_name("cutover"))


def module_command(name: str, *args: str) -> list[str]:
    return [sys.executable, "-m", f"tests.benchmarks.{name}", *args]


def check_printed_rows(path: Path, expected: int, what: str) -> None:
    """Fail unless the command's output (one number) is the number of legacy rows."""
    text = path.read_text(encoding="utf-8").strip()
    if text != str(expected):
        raise RuntimeError(f"{what} copied {text or 'nothing'} rows, not the {expected:,} expected")


def fresh_workspace(directory: Path, source_url: str, legacy: LegacySystem) -> Path:
    shutil.rmtree(directory, ignore_errors=True)
    write_workspace(
        directory,
        name=directory.name,
        source_url=source_url,
        documents=str(legacy.documents_csv),
        mappings=str(REPO / "mappings" / "obscis"),
    )
    return directory


def measured_dry_run(
    bench: Bench, engine: str, name: str, ws: Path, legacy: LegacySystem, env: dict[str, str]
) -> tuple[Measurement, dict[str, float]]:
    """A measured ``cutover dry-run`` in ``ws``, and its steps' seconds from the run ledger."""
    m = run_measured(
        name,
        [cutover_command(), "dry-run", "-w", str(ws)],
        rows=legacy.rows,
        env=env,
        log=bench.log,
    )
    settings = load_settings(ws, environ={**os.environ, **env})
    runs = list_runs(settings, kind="dry-run", limit=1)
    if not runs or runs[0]["outcome"] != "succeeded":
        raise RuntimeError(f"the dry run in {ws} did not record a succeeded run: {runs[:1]}")
    steps = {
        s["step"]: float(s["seconds"])
        for s in run_steps(settings, runs[0]["id"])
        if s["table_name"] is None
    }
    return m, steps


def measured_peer(
    bench: Bench, engine: str, source_url: str, legacy: LegacySystem, backend: str
) -> Measurement:
    dest, work, printed = bench.out / "dlt.duckdb", bench.out / "dlt-work", bench.out / "dlt.out"
    argv = module_command("dltpeer", source_url, str(dest), str(work), "--backend", backend)
    name = f"dlt sql_database ({backend}) -> duckdb"
    m = run_measured(name, argv, rows=legacy.rows, cwd=REPO, log=bench.log, stdout=printed)
    dest.unlink(missing_ok=True)
    shutil.rmtree(work, ignore_errors=True)
    check_printed_rows(printed, legacy.rows, "dlt")
    return bench.record(engine, "dlt", m)
