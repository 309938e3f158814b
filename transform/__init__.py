"""transform stage: declarative mappings from staged legacy tables to the target schema.

Mapping files (YAML under ``mappings/<legacy-system>/``) say how each target table is filled.
The engine checks them all before any data moves, compiles them to set-based SQL that runs in
the staging database, and accounts for every source row (loaded, merged or quarantined).

Public surface:

- :func:`load_project` - read and validate a mapping folder (strict models, every problem at
  once, each with file and line);
- :func:`check_project` / :func:`compile_project` - check against the staged and target
  schemas, with crosswalk coverage;
- :func:`run_transform` - staging -> ``xf_<table>``, ``xf__quarantine``, ``xf__accounting``,
  ``xf__disagreement``, ``xf__repair`` (cells a parser's ``on_invalid: null`` set to NULL);
  reference tables of the mapping folder are staged first as ``stg_ref_<name>``;
- :func:`register_function` - a named function for mappings: with a SQL form it compiles in
  place (``text_between``), without one it is the Python fallback for what SQL cannot say;
- quarantine readers: :func:`list_quarantine`, :func:`group_quarantine`,
  :func:`export_quarantine`;
- :func:`row_hash` - the ``_row_hash`` of a transformed row.

The file format is described in :mod:`transform.models` and :mod:`transform.expressions`; a
commented example lives in ``tests/transform/fixtures/example/``.
"""

from transform.accounting import TableAccount
from transform.checker import (
    CheckReport,
    CompiledProject,
    CoverageGap,
    check_project,
    compile_project,
)
from transform.functions import register_function, registered
from transform.hashing import row_hash
from transform.project import MappingProject, load_project
from transform.quarantine import (
    QuarantineFilter,
    QuarantineGroup,
    export_quarantine,
    group_quarantine,
    list_quarantine,
)
from transform.runner import TableResult, TransformResult, run_transform
from transform.schema import OutputTables, StagedSchema, staged_name

__all__ = [
    "CheckReport",
    "CompiledProject",
    "CoverageGap",
    "MappingProject",
    "OutputTables",
    "QuarantineFilter",
    "QuarantineGroup",
    "StagedSchema",
    "TableAccount",
    "TableResult",
    "TransformResult",
    "check_project",
    "compile_project",
    "export_quarantine",
    "group_quarantine",
    "list_quarantine",
    "load_project",
    "register_function",
    "registered",
    "row_hash",
    "run_transform",
    "staged_name",
]
