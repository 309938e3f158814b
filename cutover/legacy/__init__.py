"""The legacy-system generator: an OBSCIS-style offender database with the audits' defects.

``generate`` writes ``obscis.db`` (SQLite, the legacy layout), ``documents.csv`` (the scanned
document index), ``answer_key.jsonl`` (every injected defect, with its effect in days) and
``generate.json`` (options, counts, seconds). Only this package knows the legacy layout.
"""

from cutover.legacy.answers import QUALITY_CODES, RELEASE_CODES
from cutover.legacy.generate import (
    ANSWER_KEY_FILE,
    DB_FILE,
    DOCUMENTS_FILE,
    SUMMARY_FILE,
    GenerationSummary,
    generate,
)
from cutover.legacy.rates import DefectRates

__all__ = [
    "ANSWER_KEY_FILE",
    "DB_FILE",
    "DOCUMENTS_FILE",
    "QUALITY_CODES",
    "RELEASE_CODES",
    "SUMMARY_FILE",
    "DefectRates",
    "GenerationSummary",
    "generate",
]
