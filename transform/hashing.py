"""The ``_row_hash`` of a transformed row: hex BLAKE2b-128 of its content columns.

Content columns are every column of ``xf_<table>`` but ``_run_id`` and ``_row_hash``, in the
table's column order. The serialization is the compact JSON array of the values, with dates,
datetimes and decimals tagged (``{"$date": "2003-02-28"}``, ``{"$decimal": "10"}``), the same
convention as the staging row hash. Values are read back through the column types, so a row
hashes the same on SQLite and PostgreSQL.

SQL has no portable BLAKE2b, so the hash is computed in a chunked Python pass over the rows
(see ``tests/benchmarks`` for its cost).
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from decimal import Decimal
from hashlib import blake2b
from typing import Any

__all__ = ["HASH_EXCLUDED", "row_hash"]

HASH_EXCLUDED = frozenset({"_run_id", "_row_hash"})


def _tag(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        return {"$datetime": value.isoformat()}
    if isinstance(value, dt.date):
        return {"$date": value.isoformat()}
    if isinstance(value, Decimal):
        return {"$decimal": str(value.normalize())}
    if isinstance(value, bytes | bytearray | memoryview):
        return {"$hex": bytes(value).hex()}
    raise TypeError(f"cannot serialize a value of type {type(value).__name__}")


_encode = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), default=_tag).encode


def row_hash(values: Sequence[Any]) -> str:
    """Hex BLAKE2b-128 of the canonical serialization of ``values``."""
    data = _encode(list(values)).encode("utf-8", "surrogatepass")
    return blake2b(data, digest_size=16).hexdigest()
