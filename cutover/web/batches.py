"""Readiness, batch and offender pages: what a validator reads before signing a batch.

- ``/readiness``: per institution the gates and the overall go/no-go, the trend across dry runs;
- ``/batches/{batch}``: one batch's evidence in its latest run (or ``?run=``): what changed since
  the previous run, the days histogram, the discrepancies (filter by ``code`` and ``direction``),
  quarantine groups, catalogue findings, row accounting, the register and the sign-off;
- ``/batches/{batch}/discrepancies.csv``: the same discrepancies as CSV, streamed;
- ``/batches/{batch}/offenders/{person_id}``: one offender's legacy and recomputed dates side by
  side with the waterfall of causes, from the stored results alone; and, when the dry run's
  scratch target is there, ``cutover explain``'s month-by-month side-by-side recomputed from it
  (:func:`live_explanation`; an app may set ``app.state.explain_source`` to another callable
  ``(settings, person_id, run_id) -> str | None``).

The forms these pages show post to :mod:`cutover.web.batch_actions`.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Annotated, Any

import sqlalchemy as sa
from fastapi import APIRouter, Depends, HTTPException, Request
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import SQLAlchemyError
from starlette.responses import Response, StreamingResponse

from cutover.batches import (
    GLOBAL_BATCH,
    blockers,
    diff_runs,
    discrepancies,
    ensure_tables,
    findings,
    institution_readiness,
    list_register,
    quarantine_groups,
    readiness,
    trend,
)
from cutover.batches.charts import days_histogram, histogram_svg, trend_svg
from cutover.batches.evidence import Direction, accounting, evidence_hash, summary
from cutover.batches.history import batch_runs
from cutover.batches.tables import val_explanation, val_offender
from cutover.control import Action, can
from cutover.errors import CutoverError
from cutover.settings import Settings
from cutover.web.render import render
from cutover.web.security import Signed, allowed, config_of

__all__ = [
    "PAGE_ROWS",
    "batch_context",
    "control_engine",
    "live_explanation",
    "readiness_context",
    "router",
]

router = APIRouter()

#: Discrepancies shown on a batch page; the CSV export has them all.
PAGE_ROWS = 200


def control_engine(request: Request) -> Engine:
    """The control engine, with the batch tables in place (created once per app)."""
    engine = config_of(request).engine
    if not getattr(request.app.state, "batch_tables_ready", False):
        ensure_tables(engine)
        request.app.state.batch_tables_ready = True
    return engine


@router.get("/readiness")
def readiness_page(
    request: Request, signed: Annotated[Signed, Depends(allowed(Action.VIEW))]
) -> Response:
    with control_engine(request).connect() as conn:
        context = readiness_context(conn)
    return render(request, "readiness.html", context, signed=signed)


def readiness_context(conn: Connection) -> dict[str, Any]:
    """What the readiness overview (and ``cutover report --html``) shows."""
    points = trend(conn)
    latest = points[-1].run_id if points else None
    return {
        "readiness": readiness(conn),
        "trend": points,
        "trend_svg": trend_svg(points),
        "global_findings": findings(conn, GLOBAL_BATCH, latest) if latest else [],
    }


def _direction(value: str | None) -> Direction | None:
    return value if value in ("early", "late") else None  # type: ignore[return-value]


def _run_of(conn: Connection, batch: str, wanted: str | None) -> tuple[str, list[str]]:
    runs = [r.run_id for r in batch_runs(conn, batch)]
    if not runs:
        raise HTTPException(status_code=404)
    if wanted and wanted not in runs:
        raise HTTPException(status_code=404)
    return wanted or runs[-1], runs


def batch_context(
    conn: Connection,
    signed: Signed,
    batch: str,
    *,
    run_id: str | None = None,
    code: str | None = None,
    direction: str | None = None,
) -> dict[str, Any]:
    """Everything the batch page shows for ``batch`` in ``run_id`` (default: the latest)."""
    run, runs = _run_of(conn, batch, run_id)
    latest = run == runs[-1]
    way = _direction(direction)
    rows = list(
        discrepancies(conn, batch, run, code=code or None, direction=way, limit=PAGE_ROWS + 1)
    )
    e, o = val_explanation.c, val_offender.c
    codes = conn.execute(
        sa.select(e.code, sa.func.count())
        .select_from(
            val_explanation.join(
                val_offender, sa.and_(o.run_id == e.run_id, o.person_id == e.person_id)
            )
        )
        .where(e.run_id == run, o.batch == batch)
        .group_by(e.code)
        .order_by(e.code)
    ).all()
    state = institution_readiness(conn, batch)
    return {
        "batch": batch,
        "run_id": run,
        "runs": runs,
        "latest": latest,
        "summary": summary(conn, batch, run),
        "diff": diff_runs(conn, batch, run_id=run, limit=12),
        "histogram_svg": histogram_svg(days_histogram(conn, batch, run)),
        "rows": rows[:PAGE_ROWS],
        "more_rows": len(rows) > PAGE_ROWS,
        "codes": [(str(r[0]), int(r[1])) for r in codes],
        "code": code or "",
        "direction": way or "",
        "groups": quarantine_groups(conn, batch, run),
        "findings": findings(conn, batch, run),
        "accounting": accounting(conn, batch, run),
        "register": [r for r in list_register(conn.engine, batch) if r.state != "withdrawn"][:50],
        "readiness": state,
        "blockers": blockers(conn, batch, run) if latest else [],
        "evidence_hash": state.signoff.evidence_hash if latest else evidence_hash(conn, batch, run),
        "may_sign": batch != GLOBAL_BATCH and can(signed.user, Action.SIGN_BATCH, batch),
        "may_explain": can(signed.user, Action.EXPLAIN, batch),
        "may_accept": can(signed.user, Action.ANNOTATE, batch),
        "may_triage": can(signed.user, Action.ANNOTATE, batch)
        or (can(signed.user, Action.RUN_PIPELINE) and batch != GLOBAL_BATCH),
    }


@router.get("/batches/{batch}")
def batch_page(
    request: Request, batch: str, signed: Annotated[Signed, Depends(allowed(Action.VIEW))]
) -> Response:
    q = request.query_params
    with control_engine(request).connect() as conn:
        context = batch_context(
            conn,
            signed,
            batch,
            run_id=q.get("run") or None,
            code=q.get("code") or None,
            direction=q.get("direction") or None,
        )
    context["notice"] = _NOTICES.get(q.get("notice", ""))
    return render(request, "batch.html", context, signed=signed)


_NOTICES = {
    "signed": "Batch signed off. The sign-off is bound to this evidence: any change makes it "
    "stale.",
    "revoked": "Sign-off revoked.",
    "explained": "Recorded in the register. It carries to later runs while the facts are "
    "unchanged.",
    "triaged": "Quarantine group marked triaged.",
}

_CSV_COLUMNS = (
    "batch", "run_id", "person_id", "code", "days", "resolution", "status", "delta_days",
    "impact_kind", "legacy_ms_rel", "recomputed_ms_rel", "detail", "evidence",
)  # fmt: skip


@router.get("/batches/{batch}/discrepancies.csv")
def batch_csv(
    request: Request, batch: str, _signed: Annotated[Signed, Depends(allowed(Action.VIEW))]
) -> Response:
    engine = control_engine(request)
    q = request.query_params
    with engine.connect() as conn:
        run, _ = _run_of(conn, batch, q.get("run") or None)

    def lines() -> Iterator[str]:
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow(_CSV_COLUMNS)
        with engine.connect() as conn:
            for d in discrepancies(
                conn,
                batch,
                run,
                code=q.get("code") or None,
                direction=_direction(q.get("direction")),
            ):
                writer.writerow(
                    [batch, run, d.person_id, d.code, d.days, d.resolution, d.status,
                     d.delta_days, d.impact_kind, d.legacy_ms_rel, d.recomputed_ms_rel,
                     d.detail, " ".join(d.evidence)]
                )  # fmt: skip
                if buffer.tell() > 64_000:
                    yield buffer.getvalue()
                    buffer.seek(0)
                    buffer.truncate()
        yield buffer.getvalue()

    name = f"{batch}-{run}-discrepancies.csv"
    return StreamingResponse(
        lines(),
        media_type="text/csv; charset=utf-8",
        headers={
            "Content-Disposition": f'attachment; filename="{name}"',
            "Cache-Control": "no-store",
        },
    )


@router.get("/batches/{batch}/offenders/{person_id}")
def offender_page(
    request: Request,
    batch: str,
    person_id: str,
    signed: Annotated[Signed, Depends(allowed(Action.VIEW))],
) -> Response:
    o, e = val_offender.c, val_explanation.c
    with control_engine(request).connect() as conn:
        run, runs = _run_of(conn, batch, request.query_params.get("run") or None)
        history = {
            r.run_id: r
            for r in conn.execute(
                sa.select(val_offender).where(o.person_id == person_id, o.run_id.in_(runs))
            )
        }
        row = history.get(run)
        if row is None or row.batch != batch:
            raise HTTPException(status_code=404)
        steps = conn.execute(
            sa.select(val_explanation)
            .where(e.run_id == run, e.person_id == person_id)
            .order_by(e.seq)
        ).all()
        items = {
            (d.code, d.date_field): d for d in discrepancies(conn, batch, run, person_id=person_id)
        }
    register = [
        r for r in list_register(config_of(request).engine, batch) if r.person_id == person_id
    ]
    # One waterfall per legacy date, each running from its own legacy value: a cause that
    # moved both dates is a step in each.
    waterfalls = []
    for field, label, legacy, recomputed, delta in (
        ("MS_REL_DT", "Release date", row.legacy_ms_rel, row.recomputed_ms_rel, row.delta_days),
        (
            "MAX_EXP_DT",
            "Maximum expiration",
            row.legacy_max_exp,
            row.recomputed_max_exp,
            row.max_exp_delta_days,
        ),
    ):
        own = [s for s in steps if s.date_field == field]
        if field != "MS_REL_DT" and not own:
            continue
        waterfall, running = [], legacy
        for s in own:
            if running is not None:
                running = running + timedelta(days=s.days)
            waterfall.append((s, running, items.get((s.code, field))))
        waterfalls.append(
            {
                "field": field,
                "label": label,
                "legacy": legacy,
                "recomputed": recomputed,
                "delta": delta,
                "steps": waterfall,
            }
        )
    causes = list(dict.fromkeys(s.code for s in steps))
    comparison = _comparison(request, person_id, run)
    return render(
        request,
        "offender.html",
        {
            "batch": batch,
            "run_id": run,
            "o": row,
            "waterfalls": waterfalls,
            "causes": causes,
            "history": [(r, history[r]) for r in runs if r in history],
            "register": register,
            "comparison_text": comparison,
            "may_explain": can(signed.user, Action.EXPLAIN, batch),
            "may_accept": can(signed.user, Action.ANNOTATE, batch),
            "latest": run == runs[-1],
        },
        signed=signed,
    )


def live_explanation(settings: Settings, person_id: str, run_id: str) -> str | None:
    """``cutover explain``'s side-by-side text for ``person_id``, recomputed from the dry run's
    scratch target; ``None`` when that database is absent or cannot explain the person."""
    url = settings.scratch.url.get_secret_value()
    if url.startswith("sqlite:///") and not Path(url.removeprefix("sqlite:///")).is_file():
        return None
    from validation import (  # noqa: PLC0415 - only this page recomputes
        engines_for,
        explain_offender,
        load_pack,
        render_explain,
    )

    try:
        engines = engines_for(settings, "scratch")
        try:
            doc = explain_offender(engines, person_id, load_pack(settings.rule_pack), run_id=run_id)
        finally:
            engines.target.dispose()
            engines.control.dispose()
    except (CutoverError, SQLAlchemyError):
        return None
    text: str = render_explain(doc)
    return text


def _comparison(request: Request, person_id: str, run_id: str) -> str | None:
    source = getattr(request.app.state, "explain_source", live_explanation)
    found: str | None = source(config_of(request).settings, person_id, run_id)
    return found
