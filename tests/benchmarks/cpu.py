"""Where the machine's cores went while a benchmark step ran: user, kernel, idle, I/O wait.

A thread reads the machine's counters (``/proc/stat``, Linux) once a second while the measured
command runs, and the shares are taken from the differences: over the whole step, and per
second, how many seconds left at least :data:`IDLE_SAMPLE` of the machine idle (one core of two
waiting while the other works, in a step that should keep both busy). The counters are the whole
machine's, so the figures mean something only with nothing else running beside the benchmark.
"""

from __future__ import annotations

import itertools
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

__all__ = ["IDLE_SAMPLE", "CpuSampler", "CpuShares", "shares"]

#: A one-second sample counts as idle when at least this share of the machine was idle.
IDLE_SAMPLE = 0.40
_STAT = Path("/proc/stat")


@dataclass(frozen=True)
class CpuShares:
    """Shares of the machine's CPU time over a step, and its idle one-second samples."""

    user: float
    kernel: float
    idle: float
    iowait: float
    samples: int
    idle_samples: int


def _counters(line: str) -> tuple[int, int, int, int, int]:
    """``/proc/stat``'s ``cpu`` line as (user, kernel, idle, iowait, total) jiffies: user with
    nice, kernel with interrupts; a guest's time is already in user's."""
    user, nice, system, idle, iowait, irq, softirq, *rest = (int(v) for v in line.split()[1:])
    steal = rest[0] if rest else 0
    kernel = system + irq + softirq
    return user + nice, kernel, idle, iowait, user + nice + kernel + idle + iowait + steal


def shares(lines: Sequence[str]) -> CpuShares | None:
    """The shares between the first and the last of ``lines`` (successive ``cpu`` lines of
    ``/proc/stat``), with each pair of neighbours a sample; None with fewer than two."""
    points = [_counters(line) for line in lines]
    if len(points) < 2 or points[-1][4] == points[0][4]:
        return None
    first, last = points[0], points[-1]
    total = last[4] - first[4]
    idle_samples = 0
    for before, after in itertools.pairwise(points):
        span = after[4] - before[4]
        if span and (after[2] - before[2]) / span >= IDLE_SAMPLE:
            idle_samples += 1
    return CpuShares(
        user=(last[0] - first[0]) / total,
        kernel=(last[1] - first[1]) / total,
        idle=(last[2] - first[2]) / total,
        iowait=(last[3] - first[3]) / total,
        samples=len(points) - 1,
        idle_samples=idle_samples,
    )


class CpuSampler:
    """Reads the machine's ``cpu`` line every ``interval`` seconds between :meth:`start` and
    :meth:`stop`; :meth:`stop` returns the shares (None where there is no ``/proc/stat``)."""

    def __init__(self, interval: float = 1.0) -> None:
        self._interval = interval
        self._lines: list[str] = []
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._sample, name="cpu-sampler", daemon=True)

    def _read(self) -> None:
        try:
            with _STAT.open(encoding="ascii") as f:
                self._lines.append(f.readline())
        except OSError:
            self._done.set()

    def _sample(self) -> None:
        while not self._done.wait(self._interval):
            self._read()

    def start(self) -> CpuSampler:
        self._read()
        self._thread.start()
        return self

    def stop(self) -> CpuShares | None:
        self._done.set()
        self._thread.join()
        self._read()
        return shares([line for line in self._lines if line.startswith("cpu ")])
