"""Score a validation run against a generated legacy system's answer key.

A release-date defect is found when the run explains that offender with the defect's code and
exactly its days. Per code: precision = explanations right / explanations given, recall =
defects found / defects injected. Beside them: clean offenders (no defect injected) the run
explained anyway, offenders left UNEXPLAINED, offenders of the key the run never validated, and
the catalogue findings the key lists (duplicate accounts, excess screen access).

The answer key's days are those of the release date (``MS_REL_DT``). A maximum expiration date
(``MAX_EXP_DT``) difference is right when each of its explanations names a cause the key lists
for that offender (a misposted jail credit moves both dates); any other code is a miss, and an
``UNEXPLAINED`` remainder counts the offender among the unexplained.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, cast

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from cutover.errors import ConfigError
from load import models as m
from validation.explain import MS_REL_DT
from validation.store import (
    VAL_EXPLANATION,
    VAL_OFFENDER,
    ensure_tables,
    read_findings,
)
from validation.waterfall import UNEXPLAINED

__all__ = [
    "AnswerKey",
    "CodeScore",
    "Score",
    "format_score",
    "load_answer_key",
    "score_run",
]

#: Finding kinds the answer key lists as data-quality defects.
_FINDING_CODES = ("DUPLICATE_USER", "EXCESS_SCREEN_ACCESS")


@dataclass(frozen=True, slots=True)
class AnswerKey:
    """The release-date defects per offender and code (their days), and the other entries."""

    release: dict[tuple[str, str], int]
    quality: tuple[dict[str, Any], ...]
    summary: dict[str, Any]

    def codes(self) -> list[str]:
        """Release-date codes, in the summary's order when it lists them."""
        listed = list(self.summary.get("release_defects", {}))
        return list(dict.fromkeys([*listed, *sorted({c for _, c in self.release})]))


def load_answer_key(path: Path) -> AnswerKey:
    """Read ``answer_key.jsonl``; a bad line is an error naming the file and the line."""
    release: dict[tuple[str, str], int] = {}
    quality: list[dict[str, Any]] = []
    summary: dict[str, Any] = {}
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise ConfigError(
            f"cannot read the answer key {path}: {exc}",
            hint="pass the answer_key.jsonl that 'cutover legacy generate' wrote",
            file=str(path),
        ) from exc
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            entry = json.loads(line)
            kind = entry["kind"]
            if kind == "release_date":
                key = (str(entry["off_id"]).strip(), str(entry["code"]))
                release[key] = release.get(key, 0) + int(entry["days"])
            elif kind == "data_quality":
                quality.append(entry)
            elif kind == "summary":
                summary = entry
        except (ValueError, KeyError, TypeError) as exc:
            raise ConfigError(
                f"{path}:{number}: not an answer-key entry ({exc.__class__.__name__}: {exc})",
                hint="each line is one JSON object with a 'kind'",
                file=str(path),
                line=number,
            ) from exc
    return AnswerKey(release, tuple(quality), summary)


@dataclass(frozen=True, slots=True)
class CodeScore:
    """Precision and recall of one code."""

    code: str
    #: Defects injected, and how many of them the run found.
    expected: int
    hits: int
    #: Explanations (or findings) given, and how many of them are right.
    found: int
    correct: int

    @property
    def precision(self) -> float:
        return self.correct / self.found if self.found else 1.0

    @property
    def recall(self) -> float:
        return self.hits / self.expected if self.expected else 1.0


@dataclass(slots=True)
class Score:
    """The scores of one run."""

    run_id: str
    offenders: int
    codes: list[CodeScore]
    findings: list[CodeScore]
    clean_offenders: int
    #: Clean offenders the run gave an explanation anyway.
    clean_explained: list[str] = field(default_factory=list)
    #: Offenders with an UNEXPLAINED residual.
    unexplained: list[str] = field(default_factory=list)
    #: Offenders of the answer key the run has no result for.
    missing: list[str] = field(default_factory=list)
    #: ``(person, code, days expected or None, days given or None)`` of every miss.
    mismatches: list[tuple[str, str, int | None, int | None]] = field(default_factory=list)
    #: Offenders whose ``MAX_EXP_DT`` differs from the recomputed one.
    expiration_differences: int = 0
    #: ``(person, code, days)`` of ``MAX_EXP_DT`` explanations naming a cause the key does not
    #: list for that offender.
    expiration_misses: list[tuple[str, str, int]] = field(default_factory=list)

    @property
    def perfect(self) -> bool:
        """Every code at precision and recall 1.0, nothing unexplained, no clean one explained."""
        return (
            all(c.precision == 1.0 and c.recall == 1.0 for c in self.codes)
            and not self.clean_explained
            and not self.unexplained
            and not self.missing
            and not self.expiration_misses
        )

    def as_dict(self) -> dict[str, Any]:
        out = asdict(self)
        for name in ("codes", "findings"):
            out[name] = [
                {**asdict(c), "precision": c.precision, "recall": c.recall}
                for c in getattr(self, name)
            ]
        out["perfect"] = self.perfect
        return out


def _resolver(target: Engine | None, validated: set[str]) -> dict[str, str]:
    """Legacy ids that are not person ids -> the person they were merged into."""
    if target is None:
        return {}
    out: dict[str, str] = {}
    pm, pi = m.PersonMerge.__table__, m.PersonIdentifier.__table__
    with target.connect() as conn:
        for row in conn.execute(sa.select(pm.c.merged_key, pm.c.survivor_person_id)):
            out[str(row[0]).strip()] = str(row[1])
        for row in conn.execute(sa.select(pi.c.identifier_value, pi.c.person_id)):
            if str(row[0]).strip() not in validated:
                out.setdefault(str(row[0]).strip(), str(row[1]))
    return out


def score_run(
    control: Engine, run_id: str, answer_key: AnswerKey | Path, *, target: Engine | None = None
) -> Score:
    """Score ``run_id``'s results against the answer key.

    ``target`` (optional) resolves answer-key ids of merged duplicate records to their survivor.
    """
    key = answer_key if isinstance(answer_key, AnswerKey) else load_answer_key(answer_key)
    ensure_tables(control)
    o, e = VAL_OFFENDER.c, VAL_EXPLANATION.c
    with control.connect() as conn:
        persons: set[str] = set()
        expiration_differences = 0
        query = sa.select(o.person_id, o.max_exp_delta_days).where(o.run_id == run_id)
        for person, max_delta in cast(Any, conn.execute(query)):
            persons.add(person)
            expiration_differences += bool(max_delta)
        given: dict[tuple[str, str], int] = {}
        expiration: dict[tuple[str, str], int] = {}
        query = sa.select(e.person_id, e.code, e.days, e.date_field).where(e.run_id == run_id)
        for person, code, days, date_field in cast(Any, conn.execute(query)):
            into = given if date_field == MS_REL_DT else expiration
            into[person, code] = into.get((person, code), 0) + days
    alias = _resolver(target, persons)
    expected: dict[tuple[str, str], int] = {}
    for (off_id, code), days in key.release.items():
        person = off_id if off_id in persons else alias.get(off_id, off_id)
        expected[person, code] = expected.get((person, code), 0) + days
    defective = {p for p, _ in expected}
    codes = key.codes()
    codes += sorted({c for _, c in given if c not in codes and c != UNEXPLAINED})
    score = Score(
        run_id=run_id,
        offenders=len(persons),
        codes=[],
        findings=[],
        clean_offenders=len(persons - defective),
        expiration_differences=expiration_differences,
    )
    for code in codes:
        want = {p: d for (p, c), d in expected.items() if c == code}
        got = {p: d for (p, c), d in given.items() if c == code}
        right = sum(1 for p, d in got.items() if want.get(p) == d)
        score.codes.append(CodeScore(code, len(want), right, len(got), right))
        for p in sorted(set(want) | set(got)):
            if want.get(p) != got.get(p):
                score.mismatches.append((p, code, want.get(p), got.get(p)))
    score.expiration_misses = sorted(
        (p, c, d) for (p, c), d in expiration.items() if c != UNEXPLAINED and (p, c) not in expected
    )
    explained = {p for p, _ in given} | {p for p, _ in expiration}
    score.clean_explained = sorted(explained - defective)
    score.unexplained = sorted({p for p, c in (*given, *expiration) if c == UNEXPLAINED})
    score.missing = sorted(defective - persons)
    score.findings = _finding_scores(control, run_id, key.quality)
    return score


def _finding_scores(
    control: Engine, run_id: str, quality: Iterable[dict[str, Any]]
) -> list[CodeScore]:
    findings = read_findings(control, run_id)
    out = []
    for code in _FINDING_CODES:
        wanted = [
            frozenset(str(k).strip() for k in q.get("keys", []))
            for q in quality
            if q["code"] == code
        ]
        mine = [f for f in findings if f.kind == code]
        if code == "DUPLICATE_USER":
            sets = [frozenset(str(a).strip() for a in f.detail.get("accounts", [])) for f in mine]
        else:
            sets = [frozenset({str(f.detail["user_id"]), str(f.detail["screen"])}) for f in mine]
        found = sum(1 for w in wanted if any(w <= s for s in sets))
        right = sum(1 for s in sets if any(w <= s for w in wanted))
        out.append(CodeScore(code, len(wanted), found, len(sets), right))
    return out


def format_score(score: Score, *, limit: int = 20) -> str:
    """The score as a table, with the first ``limit`` misses."""
    lines = [
        f"run {score.run_id}: {score.offenders} offenders, {score.clean_offenders} clean",
        (
            f"  {'code':34}{'expected':>9}{'found':>7}{'given':>7}{'right':>7}"
            f"{'precision':>11}{'recall':>8}"
        ),
    ]
    lines += [
        f"  {c.code:34}{c.expected:>9}{c.hits:>7}{c.found:>7}{c.correct:>7}"
        f"{c.precision:>11.3f}{c.recall:>8.3f}"
        for c in [*score.codes, *score.findings]
    ]
    lines.append(f"  clean offenders explained: {len(score.clean_explained)}")
    lines.append(f"  offenders with UNEXPLAINED: {len(score.unexplained)}")
    lines.append(f"  answer-key offenders not validated: {len(score.missing)}")
    lines.append(
        f"  MAX_EXP_DT differences: {score.expiration_differences}, "
        f"explained by a cause the key does not list: {len(score.expiration_misses)}"
    )
    misses = [
        *(f"{p} {c}: expected {want}, given {got}" for p, c, want, got in score.mismatches),
        *(
            f"{p} {c} on MAX_EXP_DT: given {d:+d}, not in the key"
            for p, c, d in score.expiration_misses
        ),
    ]
    lines += [f"  miss: {m}" for m in misses[:limit]]
    if len(misses) > limit:
        lines.append(f"  ... {len(misses) - limit} more misses")
    lines.append("  PERFECT" if score.perfect else "  NOT PERFECT")
    return "\n".join(lines)
