"""``make profile``: where a dry run's time goes, sampled by py-spy across every process.

Runs ``cutover dry-run`` on a generated legacy system (reused from ``OUT`` as ``make bench``
reuses it) under ``py-spy record --subprocesses --native``: the worker processes validation, the
reconciliation and the SQLite fills start are sampled too, and native frames show how much of a
Python call is the database engine's own C code (``sqlite3VdbeExec``, ``pread64``) rather than
the interpreter's. py-spy samples from outside the process, so the code runs unchanged and the
figures are those of a normal run, slowed only by the sampling itself.

Writes ``OUT/profile.raw`` (py-spy's collapsed stacks, one line per distinct stack with its
sample count, the input of flame-graph tools) and ``OUT/profile.txt``, also printed: samples per
process, then the project's functions by inclusive share (the function and everything it called)
and the frames that were running by self share. A profile holds function and file names only,
never a value. Usage::

    python -m tests.benchmarks.profile [--offenders 10000] [--seed 7] [--out DIR] [--rate 50]
        [--top 40] [--no-native]
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from tests.benchmarks.harness import REPO, cutover_command, fresh_workspace
from tests.benchmarks.legacy import ensure_legacy

__all__ = ["Profile", "read_collapsed", "summary"]

#: The project's packages: a frame in one of them is the project's code.
PACKAGES = ("cutover/", "extract/", "transform/", "load/", "validation/")
_LINE = re.compile(r":\d+\)$")


@dataclass
class Profile:
    """Sample counts of a collapsed-stack profile."""

    total: int = 0
    processes: Counter[str] = field(default_factory=Counter)
    #: Samples in which the frame (line number left out) was on the stack, counted once each.
    inclusive: Counter[str] = field(default_factory=Counter)
    #: Samples in which the frame was the one running.
    own: Counter[str] = field(default_factory=Counter)


def read_collapsed(lines: Iterable[str]) -> Profile:
    """Count py-spy's raw output: ``process <pid>:"<command>";frame;...;frame <samples>``, a
    child process's stacks prefixed by its parent's process frame."""
    profile = Profile()
    for line in lines:
        stack, _, count = line.rstrip("\n").rpartition(" ")
        if not stack or not count.isdigit():
            continue
        samples = int(count)
        frames = stack.split(";")
        # A child process's stacks come under its parent's process frame: the innermost counts.
        depth = 0
        while depth < len(frames) and frames[depth].startswith("process "):
            depth += 1
        process, frames = (frames[depth - 1] if depth else "?"), frames[depth:]
        profile.total += samples
        profile.processes[process] += samples
        seen: set[str] = set()
        for frame in frames:
            name = _LINE.sub(")", frame)
            if name not in seen:
                seen.add(name)
                profile.inclusive[name] += samples
        if frames:
            profile.own[_LINE.sub(")", frames[-1])] += samples
    return profile


def _is_project(frame: str) -> bool:
    where = frame.rpartition("(")[2]
    return where.startswith(PACKAGES)


def summary(profile: Profile, top: int = 40) -> str:
    """The profile as text: per process, then the project's functions, then running frames."""
    total = max(profile.total, 1)

    def share(n: int) -> str:
        return f"{n:8d} {100 * n / total:5.1f}%"

    out = [f"samples: {profile.total}", "", "per process:"]
    out += [f"{share(n)}  {p[:100]}" for p, n in profile.processes.most_common(top)]
    out += ["", "the project's functions, inclusive (itself and what it called):"]
    mine = [(f, n) for f, n in profile.inclusive.most_common() if _is_project(f)]
    out += [f"{share(n)}  {f}" for f, n in mine[:top]]
    out += ["", "running frames, self (Python, the interpreter, the database engine):"]
    out += [f"{share(n)}  {f}" for f, n in profile.own.most_common(top)]
    return "\n".join(out) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--offenders", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--out", type=Path, default=REPO / "bench-out")
    parser.add_argument("--rate", type=int, default=50, help="samples per second")
    parser.add_argument("--top", type=int, default=40)
    parser.add_argument(
        "--no-native", action="store_true", help="Python frames only (no C frames of the engine)"
    )
    args = parser.parse_args(argv)
    spy = shutil.which("py-spy") or str(Path(sys.executable).with_name("py-spy"))
    if not Path(spy).exists():
        sys.stderr.write("py-spy is not installed: pip install -e '.[dev,bench]'\n")
        return 2
    args.out.mkdir(parents=True, exist_ok=True)
    log = args.out / "profile.log"
    legacy = ensure_legacy(args.out, args.offenders, args.seed, log=log)
    ws = fresh_workspace(
        args.out / f"profile-{args.offenders}-ws", f"sqlite:///{legacy.db}", legacy
    )
    raw = args.out / "profile.raw"
    command = [spy, "record", "--subprocesses", "--rate", str(args.rate)]
    command += [] if args.no_native else ["--native"]
    command += ["--format", "raw", "--output", str(raw), "--", cutover_command(), "dry-run"]
    with log.open("a", encoding="utf-8") as printed:
        done = subprocess.run(
            [*command, "-w", str(ws)], stdout=printed, stderr=subprocess.STDOUT, check=False
        )
    if done.returncode != 0 or not raw.exists():
        sys.stderr.write(
            f"the profiled dry run failed (exit {done.returncode}); see {log}. py-spy may fail "
            "while it unwinds native frames: run again, or with --no-native\n"
        )
        return 1
    with raw.open(encoding="utf-8") as lines:
        text = summary(read_collapsed(lines), args.top)
    (args.out / "profile.txt").write_text(text, encoding="utf-8")
    sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
