"""load stage: the target schema, its migrations, the idempotent batched load, lineage and
reconciliation.

- :mod:`load.models`: the target schema (SQLAlchemy 2 typed models);
- :func:`upgrade` / :func:`downgrade` / :func:`current`: the Alembic migrations, from code;
- :func:`load_run`: load the transform's ``xf_`` tables into the target, batch by batch;
- :func:`reconcile`: staged vs loaded, per table and batch, with accounting and checksums;
- :func:`trace` / :func:`verify_lineage`: from a target row back to its staged legacy row.
"""

from load.engine import create_target_engine
from load.lineage import LineageProblem, Trace, staged_table_name, trace, verify_lineage
from load.loader import BatchResult, LoadProgress, LoadResult, TableChange, load_run
from load.migrate import current, downgrade, head, upgrade
from load.models import LINEAGE_COLUMNS, Base
from load.reconcile import (
    ReconciliationMismatchError,
    ReconciliationReport,
    SourceLine,
    TableLine,
    reconcile,
)
from load.tables import (
    GLOBAL_BATCH,
    TARGET_METADATA,
    create_xf_tables,
    key_columns,
    load_order,
    target_table,
    xf_name,
    xf_table,
)

__all__ = [
    "GLOBAL_BATCH",
    "LINEAGE_COLUMNS",
    "TARGET_METADATA",
    "Base",
    "BatchResult",
    "LineageProblem",
    "LoadProgress",
    "LoadResult",
    "ReconciliationMismatchError",
    "ReconciliationReport",
    "SourceLine",
    "TableChange",
    "TableLine",
    "Trace",
    "create_target_engine",
    "create_xf_tables",
    "current",
    "downgrade",
    "head",
    "key_columns",
    "load_order",
    "load_run",
    "reconcile",
    "staged_table_name",
    "target_table",
    "trace",
    "upgrade",
    "verify_lineage",
    "xf_name",
    "xf_table",
]
