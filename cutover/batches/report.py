"""``cutover report --html``: the readiness report as one self-contained page.

The same overview the dashboard shows (gates, go/no-go, the trend chart) plus each institution's
sign-off, evidence hash, changes since the previous run and blockers, with the stylesheets
inlined and the charts as inline SVG: the file opens anywhere, with no server and no network.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape
from sqlalchemy.engine import Engine

from cutover.batches.charts import trend_svg
from cutover.batches.diff import diff_runs
from cutover.batches.evidence import evidence_hash, findings
from cutover.batches.history import GLOBAL_BATCH
from cutover.batches.readiness import readiness, trend
from cutover.batches.signoff import blockers

__all__ = ["render_report", "write_report"]

_WEB = Path(__file__).resolve().parent.parent / "web"


def render_report(engine: Engine, *, workspace_name: str, now: datetime) -> str:
    """The report's HTML."""
    env = Environment(
        loader=FileSystemLoader(_WEB / "templates"),
        autoescape=select_autoescape(["html"]),
        trim_blocks=False,
    )
    css = "\n".join(
        (_WEB / "static" / name).read_text(encoding="utf-8")
        for name in ("style.css", "batches.css")
    )
    with engine.connect() as conn:
        state = readiness(conn)
        points = trend(conn)
        per_batch: list[dict[str, Any]] = []
        for i in state.institutions:
            if i.run_id is None:
                continue
            per_batch.append(
                {
                    "batch": i.batch,
                    "run_id": i.run_id,
                    "readiness": i,
                    "evidence_hash": evidence_hash(conn, i.batch, i.run_id),
                    "diff": diff_runs(conn, i.batch, run_id=i.run_id, limit=0),
                    "blockers": blockers(conn, i.batch, i.run_id),
                }
            )
        latest = points[-1].run_id if points else None
        global_findings = findings(conn, GLOBAL_BATCH, latest) if latest else []
    return env.get_template("report.html").render(
        workspace_name=workspace_name,
        generated_at=now.strftime("%Y-%m-%d %H:%M"),
        css=css,
        readiness=state,
        trend=points,
        trend_svg=trend_svg(points),
        global_findings=global_findings,
        batches=per_batch,
    )


def write_report(engine: Engine, path: Path, *, workspace_name: str, now: datetime) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render_report(engine, workspace_name=workspace_name, now=now), "utf-8")
