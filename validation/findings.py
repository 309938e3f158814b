"""Catalogue findings of a run: task rates, duplicate accounts, screens a job does not need.

Not about one offender but about the catalogue the credits and the access rest on:

- ``TASK_RATE_VARIES``: one canonical task credited at different monthly rates at different
  institutions (the audit's Finding 3: painter earns 10 at six institutions, 5 at two);
- ``DUPLICATE_USER``: accounts of one employee (the same employee number, or folded into a
  survivor by the transform's user merge);
- ``EXCESS_SCREEN_ACCESS``: a user holding a screen, or an access level, their job does not need.
  What each job needs is a parameter file (``validation/policies/screen_access.yaml``), not code.

Findings name keys (institutions, task codes, user ids), never people's names.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, cast

import sqlalchemy as sa
import yaml
from pydantic import BaseModel, ConfigDict, ValidationError, model_validator
from sqlalchemy.engine import Connection, Engine

from cutover.errors import ConfigError
from load import models as m
from load.tables import GLOBAL_BATCH
from validation.store import FindingRow

__all__ = [
    "DEFAULT_SCREEN_POLICY",
    "ScreenPolicy",
    "catalogue_findings",
    "duplicate_users",
    "excess_screen_access",
    "load_screen_policy",
    "task_rate_varies",
]

DEFAULT_SCREEN_POLICY = Path(__file__).resolve().parent / "policies" / "screen_access.yaml"


class ScreenPolicy(BaseModel):
    """Per job, the screens it needs and the highest access level it needs on each."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    policy: str
    version: str
    #: Access levels, lowest first.
    levels: tuple[str, ...]
    jobs: dict[str, dict[str, str]]

    @model_validator(mode="after")
    def _known_levels(self) -> ScreenPolicy:
        for job, screens in self.jobs.items():
            for screen, level in screens.items():
                if level not in self.levels:
                    raise ValueError(
                        f"job {job} screen {screen}: level {level!r} is not one of {self.levels}"
                    )
        return self

    def excess(self, job: str, screen: str, level: str) -> str | None:
        """Why a grant exceeds what ``job`` needs, or ``None`` when it does not."""
        needed = self.jobs.get(job)
        if needed is None:
            return f"job {job} is not in the policy"
        allowed = needed.get(screen)
        if allowed is None:
            return f"job {job} does not need screen {screen}"
        if level not in self.levels:
            return f"access level {level!r} is unknown"
        if self.levels.index(level) > self.levels.index(allowed):
            return f"job {job} needs {screen} at {allowed}, holds {level}"
        return None


def load_screen_policy(path: Path | None = None) -> ScreenPolicy:
    """Read a screen-access policy file (default: the one shipped with the package)."""
    source = path or DEFAULT_SCREEN_POLICY
    try:
        data = yaml.safe_load(source.read_text(encoding="utf-8"))
        return ScreenPolicy.model_validate(data)
    except OSError as exc:
        raise ConfigError(
            f"cannot read the screen-access policy {source}: {exc}",
            hint="pass the path of a policy YAML file",
            file=str(source),
        ) from exc
    except (yaml.YAMLError, ValidationError) as exc:
        raise ConfigError(
            f"the screen-access policy {source} is invalid: {exc}",
            hint="see validation/policies/screen_access.yaml for the layout",
            file=str(source),
        ) from exc


def task_rate_varies(conn: Connection) -> list[FindingRow]:
    """Canonical tasks whose current monthly rate differs between institutions."""
    it, tr = m.InstitutionTask.__table__, m.TaskRate.__table__
    latest = (
        sa.select(
            tr.c.institution_id,
            tr.c.task_code,
            sa.func.max(tr.c.effective_date).label("effective_date"),
        )
        .group_by(tr.c.institution_id, tr.c.task_code)
        .subquery()
    )
    query = (
        sa.select(it.c.canonical_task_id, it.c.institution_id, it.c.task_code, tr.c.monthly_rate)
        .join(tr, (tr.c.institution_id == it.c.institution_id) & (tr.c.task_code == it.c.task_code))
        .join(
            latest,
            (latest.c.institution_id == tr.c.institution_id)
            & (latest.c.task_code == tr.c.task_code)
            & (latest.c.effective_date == tr.c.effective_date),
        )
        .where(it.c.canonical_task_id.is_not(None))
        .order_by(it.c.canonical_task_id, it.c.institution_id, it.c.task_code)
    )
    by_task: dict[str, dict[int, list[str]]] = {}
    for canonical, inst, task, rate in cast(Any, conn.execute(query)):
        by_task.setdefault(canonical, {}).setdefault(rate, []).append(f"{inst}/{task}")
    out = []
    for canonical, rates in sorted(by_task.items()):
        institutions = {code.split("/")[0] for codes in rates.values() for code in codes}
        if len(rates) > 1 and len(institutions) > 1:
            out.append(
                FindingRow(
                    f"TASK_RATE_VARIES:{canonical}",
                    GLOBAL_BATCH,
                    "TASK_RATE_VARIES",
                    {
                        "canonical_task": canonical,
                        "rates": {str(rate): codes for rate, codes in sorted(rates.items())},
                    },
                )
            )
    return out


def duplicate_users(conn: Connection) -> list[FindingRow]:
    """Accounts of one employee: same employee number, or merged into a survivor.

    Both kinds of evidence are joined: accounts linked either way are one finding, keyed by the
    first account id.
    """
    users, merges = m.AppUser.__table__, m.UserMerge.__table__
    shared = (
        sa.select(users.c.employee_no)
        .where(users.c.employee_no.is_not(None))
        .group_by(users.c.employee_no)
        .having(sa.func.count() > 1)
        .subquery()
    )
    query = (
        sa.select(users.c.employee_no, users.c.user_id)
        .where(users.c.employee_no.in_(sa.select(shared.c.employee_no)))
        .order_by(users.c.employee_no, users.c.user_id)
    )
    parent: dict[str, str] = {}
    rules: dict[str, set[str]] = {}

    def root(account: str) -> str:
        parent.setdefault(account, account)
        while parent[account] != account:
            parent[account] = parent[parent[account]]
            account = parent[account]
        return account

    def link(a: str, b: str, rule: str) -> None:
        ra, rb = root(a), root(b)
        if ra != rb:
            parent[max(ra, rb)] = min(ra, rb)
        rules.setdefault(a, set()).add(rule)

    first: dict[str, str] = {}
    for employee, user in cast(Any, conn.execute(query)):
        link(first.setdefault(employee, user), user, "same employee number")
    merged = sa.select(merges.c.survivor_user_id, merges.c.merged_key, merges.c.rule)
    for survivor, merged_key, rule in cast(Any, conn.execute(merged)):
        link(str(survivor), str(merged_key).strip(), f"merged: {rule}")
    groups: dict[str, list[str]] = {}
    for account in parent:
        groups.setdefault(root(account), []).append(account)
    out = []
    for key, accounts in sorted(groups.items()):
        why = sorted({r for a in accounts for r in rules.get(a, ())})
        out.append(
            FindingRow(
                f"DUPLICATE_USER:{key}",
                GLOBAL_BATCH,
                "DUPLICATE_USER",
                {"accounts": sorted(accounts), "rules": why},
            )
        )
    return out


def excess_screen_access(conn: Connection, policy: ScreenPolicy) -> list[FindingRow]:
    """Grants beyond what the user's job needs, per the policy."""
    users, grants = m.AppUser.__table__, m.ScreenGrant.__table__
    query = (
        sa.select(
            users.c.user_id,
            users.c.job_code,
            users.c.institution_id,
            grants.c.screen_code,
            grants.c.access_level,
        )
        .join(grants, grants.c.user_id == users.c.user_id)
        .order_by(users.c.user_id, grants.c.screen_code)
    )
    out = []
    for user, job, inst, screen, level in cast(Any, conn.execute(query)):
        why = policy.excess(job, screen, level)
        if why is not None:
            out.append(
                FindingRow(
                    f"EXCESS_SCREEN_ACCESS:{user}:{screen}",
                    GLOBAL_BATCH,
                    "EXCESS_SCREEN_ACCESS",
                    {
                        "user_id": user,
                        "job": job,
                        "institution": inst,
                        "screen": screen,
                        "access": level,
                        "needed": policy.jobs.get(job, {}).get(screen),
                        "why": why,
                    },
                )
            )
    return out


def catalogue_findings(
    source: Engine | Connection, policy: ScreenPolicy | None = None
) -> list[FindingRow]:
    """Every catalogue finding of the target, by kind then key."""
    rules = policy or load_screen_policy()
    if isinstance(source, Engine):
        with source.connect() as conn:
            return catalogue_findings(conn, rules)
    return [
        *task_rate_varies(source),
        *duplicate_users(source),
        *excess_screen_access(source, rules),
    ]
