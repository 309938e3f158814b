"""Measure one command as its own child process: wall time, that child's peak memory, and where
the machine's cores went meanwhile (:mod:`tests.benchmarks.cpu`)."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import IO, Any

from cutover.settings import redact_url
from tests.benchmarks.cpu import CpuSampler, CpuShares

__all__ = ["Measurement", "run_measured"]


@dataclass(frozen=True)
class Measurement:
    name: str
    seconds: float
    peak_rss_mb: float
    rows: int | None = None
    cpu: CpuShares | None = None

    @property
    def rows_per_second(self) -> float | None:
        return None if not self.rows or self.seconds <= 0 else self.rows / self.seconds

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "rows_per_second": self.rows_per_second}


#: Runs the measured command as its own child and reports that child's wall seconds and peak
#: memory. A child's peak resident memory counts its parent's at the fork (Linux carries the
#: parent's memory into the child's high-water mark until ``exec``), so the command is forked
#: from this small interpreter, never from the benchmark harness with everything it imported.
_LAUNCHER = """
import os, sys, time
report, argv = sys.argv[1], sys.argv[2:]
start = time.perf_counter()
pid = os.fork()
if pid == 0:
    try:
        os.execvp(argv[0], argv)
    except OSError as exc:
        sys.stderr.write(f"cannot run {argv[0]}: {exc}\\n")
    os._exit(127)
_, status, usage = os.wait4(pid, 0)
with open(report, "w") as f:
    f.write(f"{time.perf_counter() - start} {usage.ru_maxrss}")
sys.exit(os.waitstatus_to_exitcode(status))
"""


def run_measured(
    name: str,
    argv: Sequence[str],
    *,
    rows: int | None = None,
    cwd: Path | None = None,
    env: dict[str, str] | None = None,
    log: Path | None = None,
    stdout: Path | None = None,
) -> Measurement:
    """Run ``argv`` to completion; fail loudly if it fails.

    The child's standard error (and its standard output, unless ``stdout`` names a file to
    write it to, for a caller that reads what the command printed) is appended to ``log``.

    ``os.wait4`` returns the resource usage of exactly that child (and not of earlier ones), so
    ``ru_maxrss`` is the peak resident memory of the measured command alone, in KiB on Linux
    (of its largest process, when it starts worker processes of its own).
    """
    err: IO[bytes] | int = log.open("ab") if log else subprocess.DEVNULL
    if not isinstance(err, int):
        shown = " ".join(redact_url(a) for a in argv)  # a database URL's password stays out
        err.write(f"\n=== {name}: {shown}\n".encode())
        err.flush()
    out: IO[bytes] | int = stdout.open("wb") if stdout else err
    with tempfile.TemporaryDirectory(prefix="cutover-bench-") as tmp:
        report = Path(tmp) / "usage"
        sampler = CpuSampler().start()
        try:
            code = subprocess.run(
                [sys.executable, "-c", _LAUNCHER, str(report), *argv],
                cwd=cwd,
                env={**os.environ, **(env or {})},
                stdout=out,
                stderr=err,
                check=False,
            ).returncode
        finally:
            cpu = sampler.stop()
            for stream in {id(err): err, id(out): out}.values():
                if not isinstance(stream, int):
                    stream.close()
        if code != 0:
            where = f"; see {log}, which ends:\n{_tail(log, name)}" if log else ""
            raise RuntimeError(f"benchmark step {name!r} failed with exit code {code}{where}")
        seconds, maxrss = report.read_text(encoding="utf-8").split()
    return Measurement(name, float(seconds), peak_rss_mb=int(maxrss) / 1024, rows=rows, cpu=cpu)


def _tail(log: Path, name: str, lines: int = 15) -> str:
    """The last lines ``log`` holds of the step ``name``: what the failed command said last."""
    with log.open("rb") as f:
        f.seek(max(0, f.seek(0, os.SEEK_END) - 16_384))
        text = f.read().decode("utf-8", "replace")
    own = text.rpartition(f"=== {name}: ")[2].splitlines()[1:]
    return "\n".join("    " + line for line in own[-lines:])
