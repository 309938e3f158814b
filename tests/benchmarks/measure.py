"""Measure one command as its own child process: wall time and that child's peak memory."""

from __future__ import annotations

import os
import subprocess
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

__all__ = ["Measurement", "run_measured"]


@dataclass(frozen=True)
class Measurement:
    name: str
    seconds: float
    peak_rss_mb: float
    rows: int | None = None

    @property
    def rows_per_second(self) -> float | None:
        return None if not self.rows or self.seconds <= 0 else self.rows / self.seconds

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "rows_per_second": self.rows_per_second}


def run_measured(
    name: str,
    argv: Sequence[str],
    *,
    rows: int | None = None,
    cwd: Path | None = None,
    env: dict[str, str] | None = None,
    log: Path | None = None,
) -> Measurement:
    """Run ``argv`` to completion; fail loudly if it fails.

    ``os.wait4`` returns the resource usage of exactly this child (and not of earlier ones), so
    ``ru_maxrss`` is the peak resident memory of the measured command alone, in KiB on Linux.
    """
    out = log.open("ab") if log else subprocess.DEVNULL
    try:
        start = time.perf_counter()
        proc = subprocess.Popen(
            list(argv), cwd=cwd, env={**os.environ, **(env or {})}, stdout=out, stderr=out
        )
        _, status, usage = os.wait4(proc.pid, 0)
        seconds = time.perf_counter() - start
    finally:
        if log:
            out.close()  # type: ignore[union-attr]
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        where = f"; see {log}" if log else ""
        code = proc.returncode
        raise RuntimeError(f"benchmark step {name!r} failed with exit code {code}{where}")
    return Measurement(name=name, seconds=seconds, peak_rss_mb=usage.ru_maxrss / 1024, rows=rows)
