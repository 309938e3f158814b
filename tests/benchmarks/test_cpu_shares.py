"""Where the machine's cores went during a benchmark step, from ``/proc/stat``'s counters."""

from __future__ import annotations

import time

import pytest

from tests.benchmarks.cpu import CpuSampler, shares
from tests.benchmarks.report import cpu_lines


def _line(user: int, system: int, idle: int, iowait: int, *, nice: int = 0) -> str:
    # user nice system idle iowait irq softirq steal guest guest_nice
    return f"cpu  {user} {nice} {system} {idle} {iowait} 0 0 0 0 0\n"


def test_shares_are_taken_between_the_first_and_last_reading_and_idle_seconds_counted() -> None:
    lines = [
        _line(0, 0, 0, 0),
        _line(180, 20, 0, 0),  # both cores busy
        _line(250, 30, 110, 10),  # one core idle: 55% of the second
        _line(380, 50, 160, 10, nice=10),  # 25% idle
    ]
    found = shares(lines)
    assert found is not None
    assert found.samples == 3
    assert found.idle_samples == 1
    total = 390 + 50 + 160 + 10
    assert found.user == pytest.approx(390 / total)
    assert found.kernel == pytest.approx(50 / total)
    assert found.idle == pytest.approx(160 / total)
    assert found.iowait == pytest.approx(10 / total)
    assert shares(lines[:1]) is None


def test_the_sampler_reads_the_machine_while_a_step_runs() -> None:
    sampler = CpuSampler(interval=0.05).start()
    deadline = time.perf_counter() + 0.3
    while time.perf_counter() < deadline:
        pass
    found = sampler.stop()
    assert found is not None
    assert found.samples >= 3
    assert found.user + found.kernel + found.idle + found.iowait == pytest.approx(1.0, abs=0.02)
    assert found.user > 0


def test_the_report_shows_each_sampled_step() -> None:
    cpu = {"user": 0.7, "kernel": 0.08, "idle": 0.21, "iowait": 0.01}
    measured = [
        {"engine": "sqlite", "name": "dry run", "cpu": {**cpu, "samples": 77, "idle_samples": 11}},
        {"engine": "sqlite", "name": "raw copy", "cpu": None},
    ]
    lines = cpu_lines(measured)
    assert len(lines) == 3
    assert "40%+ idle" in lines[1]
    shown = ["sqlite", "dry", "run", "70.0%", "8.0%", "21.0%", "1.0%", "11", "of", "77"]
    assert lines[2].split() == shown
    assert cpu_lines(measured[1:]) == []
