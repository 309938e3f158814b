"""extract stage: read legacy sources into staging, resumably and verifiably.

Sources implement :class:`Source` and register by kind with :func:`register_source`; the built-in
kinds are ``sqlalchemy``, ``odbc``, ``delimited`` and ``fixed_width``. :func:`extract_sources`
stages tables (see ``extract.staging`` for the staging layout; when source and staging are both
SQLite, ``extract.engine`` has SQLite copy the rows), :func:`verify_sources` proves staging
matches the source, :func:`profile_table` profiles a table for ``cutover inspect``.
"""

from extract.base import (
    Checkpoint,
    Column,
    ColumnKind,
    Row,
    Source,
    SourceFactory,
    TableInfo,
    open_source,
    register_source,
    source_kinds,
)
from extract.hashing import Fingerprint, canonical, row_digest, to_hex
from extract.profile import ColumnProfile, TableProfile, code_columns, profile_table
from extract.retry import RetryPolicy, retrying, translate
from extract.snapshot import TableResult, extract_sources, fingerprint, stage_table
from extract.staging import (
    CHECKPOINTS_TABLE,
    META_COLUMNS,
    TABLES_TABLE,
    Staging,
    staged_table_name,
)
from extract.verify import RangeDiff, TableVerification, verify_sources, verify_table

__all__ = [
    "CHECKPOINTS_TABLE",
    "META_COLUMNS",
    "TABLES_TABLE",
    "Checkpoint",
    "Column",
    "ColumnKind",
    "ColumnProfile",
    "Fingerprint",
    "RangeDiff",
    "RetryPolicy",
    "Row",
    "Source",
    "SourceFactory",
    "Staging",
    "TableInfo",
    "TableProfile",
    "TableResult",
    "TableVerification",
    "canonical",
    "code_columns",
    "extract_sources",
    "fingerprint",
    "open_source",
    "profile_table",
    "register_source",
    "retrying",
    "row_digest",
    "source_kinds",
    "stage_table",
    "staged_table_name",
    "to_hex",
    "translate",
    "verify_sources",
    "verify_table",
]
