"""Row hashes and table checksums.

A row's canonical serialization is the compact JSON array of its values in column order
(``json.dumps(values, ensure_ascii=False, separators=(",", ":"))``), where a value JSON cannot
hold is tagged by an object: ``{"$date": iso}``, ``{"$datetime": iso}``, ``{"$time": iso}``,
``{"$decimal": str(normalized)}``, ``{"$hex": bytes.hex()}``. Text stays raw, padding included,
so ``"5"``, ``5`` and ``"5 "`` hash differently. The row hash is the hex of a 128-bit BLAKE2b of
that text, UTF-8 encoded.

A table checksum is the sum of its row hashes modulo 2**128, in hex: independent of row order (so
staging and source compare without sorting), and unlike XOR a duplicated row does not cancel out.
Together with the row count it is the table's fingerprint.

The serialization is made by the standard library's JSON encoder, built once: ``json.dumps``
builds the same encoder on every call, which costs more than the encoding of a short row.
"""

from __future__ import annotations

import datetime as dt
import json
import json.encoder
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from cutover.digests import blake2b_128

__all__ = [
    "EMPTY_CHECKSUM",
    "Fingerprint",
    "canonical",
    "combine",
    "row_digest",
    "row_hash",
    "text_digest",
    "to_hex",
]

_MOD = 1 << 128
EMPTY_CHECKSUM = "0" * 32


def _tag(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        return {"$datetime": value.isoformat()}
    if isinstance(value, dt.date):
        return {"$date": value.isoformat()}
    if isinstance(value, dt.time):
        return {"$time": value.isoformat()}
    if isinstance(value, Decimal):
        return {"$decimal": str(value.normalize())}
    if isinstance(value, bytes | bytearray | memoryview):
        return {"$hex": bytes(value).hex()}
    raise TypeError(f"cannot serialize a value of type {type(value).__name__}")


def _make_encode() -> Callable[[list[Any] | tuple[Any, ...]], str]:
    """The encoder ``json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), default=_tag)``
    uses for a whole value, made once.

    ``JSONEncoder.encode`` hands a list or tuple to the C encoder (``c_make_encoder``) built from
    these very arguments, so the output is the same; only the circular-reference check is left
    out, and a row of plain values cannot refer to itself. Without the C encoder (another Python
    implementation) the reference encoder is used as it is.
    """
    make: Any = getattr(json.encoder, "c_make_encoder", None)
    if make is None:  # pragma: no cover - CPython always has the C encoder
        return json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), default=_tag).encode
    chunks = make(None, _tag, json.encoder.encode_basestring, None, ":", ",", False, False, True)
    join = "".join

    def encode(values: list[Any] | tuple[Any, ...]) -> str:
        return join(chunks(values, 0))

    return encode


_encode = _make_encode()


def canonical(values: Iterable[Any]) -> str:
    """The canonical serialization of a row's values."""
    return _encode(values if isinstance(values, tuple | list) else list(values))


def text_digest(text: str) -> bytes:
    """The 16-byte BLAKE2b of a canonical serialization (UTF-8, lone surrogates passed)."""
    return blake2b_128(text.encode("utf-8", "surrogatepass"))


def row_digest(values: Iterable[Any]) -> int:
    """The row's 128-bit hash as an integer (``to_hex`` gives the staged text)."""
    return int.from_bytes(text_digest(canonical(values)), "big")


def row_hash(values: Iterable[Any]) -> tuple[int, str]:
    """The row's hash as an integer (for checksums) and as the staged hex text, hashed once."""
    digest = text_digest(canonical(values))
    return int.from_bytes(digest, "big"), digest.hex()


def to_hex(value: int) -> str:
    return f"{value:032x}"


def combine(checksum: int, digest: int) -> int:
    return (checksum + digest) % _MOD


@dataclass(frozen=True)
class Fingerprint:
    """A table's row count and order-independent checksum (hex)."""

    rows: int
    checksum: str

    @classmethod
    def of(cls, rows: int, checksum: int) -> Fingerprint:
        return cls(rows, to_hex(checksum))
