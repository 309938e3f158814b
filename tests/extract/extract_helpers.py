"""Small legacy-like databases for the extract tests, built here so the tests own their data.

The fixture database has the legacy quirks extraction must keep untouched: ``CHAR`` values padded
with spaces, zero-padded numbers stored as text, sentinel dates (``00000000``, ``99999999``),
impossible dates, code case drift, a table with a composite key, and a table with no key whose
rows repeat exactly.
"""

from __future__ import annotations

import random
import sqlite3
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from cutover.settings import Settings, load_settings

INSTITUTIONS = ("ECI ", "MCIH", "MCIJ", "RCI ")

#: Table -> (column definitions, primary key). ``CHAR(n)`` values are padded to n by the builder.
LEGACY_TABLES: dict[str, tuple[list[tuple[str, str]], tuple[str, ...]]] = {
    "OFFNDR": (
        [
            ("OFF_ID", "CHAR(9)"),
            ("SID_NO", "CHAR(8)"),
            ("LAST_NM", "CHAR(20)"),
            ("DOB", "CHAR(8)"),
            ("CUR_INST_CD", "CHAR(4)"),
            ("STAT_CD", "CHAR(2)"),
            ("LST_UPD_DT", "CHAR(8)"),
        ],
        ("OFF_ID",),
    ),
    "CR_TXN": (
        [
            ("TXN_ID", "CHAR(10)"),
            ("OFF_ID", "CHAR(9)"),
            ("CR_TYP", "CHAR(2)"),
            ("CR_MO", "CHAR(6)"),
            ("CR_DAYS", "CHAR(3)"),
            ("INST_CD", "CHAR(4)"),
            ("ENT_DT", "CHAR(8)"),
        ],
        ("TXN_ID",),
    ),
    "INST_TSK": (
        [("INST_CD", "CHAR(4)"), ("TSK_CD", "CHAR(5)"), ("CR_RATE", "INTEGER")],
        ("INST_CD", "TSK_CD"),
    ),
    "LBR_LOG": (
        [
            ("OFF_ID", "CHAR(9)"),
            ("INST_CD", "CHAR(4)"),
            ("WK_BGN_DT", "CHAR(8)"),
            ("DAYS_WRKD", "INTEGER"),
        ],
        (),
    ),
}

SURNAMES = ("SMITH", "JOHNSON", "WILLIAMS", "BROWN", "JONES", "GARCIA", "MILLER", "DAVIS")


def _pad(value: str, decl: str) -> str:
    width = int(decl[decl.index("(") + 1 : decl.index(")")])
    return value.ljust(width)[:width]


def _date(rng: random.Random) -> str:
    roll = rng.random()
    if roll < 0.05:
        return "00000000"
    if roll < 0.08:
        return "99999999"
    if roll < 0.10:
        return "20030231"  # impossible, as the old screens accepted
    if roll < 0.12:
        return "        "
    return f"{rng.randint(1995, 2024)}{rng.randint(1, 12):02d}{rng.randint(1, 28):02d}"


def legacy_rows(offenders: int, seed: int) -> dict[str, list[tuple[Any, ...]]]:
    """Rows per table, values already padded as the legacy system stores them."""
    rng = random.Random(seed)
    rows: dict[str, list[tuple[Any, ...]]] = {t: [] for t in LEGACY_TABLES}
    for inst in INSTITUTIONS:
        for task, rate in (("PNT1", 10), ("KITCH", 5), ("P-01", 10)):
            rows["INST_TSK"].append((inst, _pad(task, "CHAR(5)"), rate))
    txn = 0
    for i in range(offenders):
        off_id = f"{i + 1:09d}"
        inst = rng.choice(INSTITUTIONS)
        stat = rng.choice(("IN", "IN", "IN", "MS", "PA", "EX"))
        if rng.random() < 0.02:
            stat = stat.lower()  # code case drift
        rows["OFFNDR"].append(
            (
                off_id,
                f"{rng.randint(0, 99_999_999):08d}",
                _pad(rng.choice(SURNAMES), "CHAR(20)"),
                _date(rng),
                inst,
                stat,
                _date(rng),
            )
        )
        for _ in range(rng.randint(1, 6)):
            txn += 1
            rows["CR_TXN"].append(
                (
                    f"{txn:010d}",
                    off_id,
                    rng.choice(("GC", "WT", "ED", "SP", "RG")),
                    f"{rng.randint(2000, 2024)}{rng.randint(1, 12):02d}",
                    f"{rng.randint(0, 15):03d}",
                    inst,
                    _date(rng),
                )
            )
        log = (off_id, inst, f"2020{rng.randint(1, 12):02d}06", rng.randint(0, 5))
        rows["LBR_LOG"].append(log)
        if rng.random() < 0.2:
            rows["LBR_LOG"].append(log)  # exact duplicate, as keyed twice
    return rows


def create_sqlite_legacy(path: Path, offenders: int = 300, seed: int = 1) -> Path:
    """Write the legacy fixture database at ``path`` (SQLite, legacy names and padding)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    data = legacy_rows(offenders, seed)
    con = sqlite3.connect(path)
    try:
        for table, (cols, key) in LEGACY_TABLES.items():
            defs = ", ".join(f"{name} {decl}" for name, decl in cols)
            pk = f", PRIMARY KEY ({', '.join(key)})" if key else ""
            con.execute(f"CREATE TABLE {table} ({defs}{pk})")
            marks = ", ".join("?" for _ in cols)
            con.executemany(f"INSERT INTO {table} VALUES ({marks})", data[table])
        con.commit()
    finally:
        con.close()
    return path


def copy_legacy_to(url: str, sqlite_path: Path) -> None:
    """Load the fixture's tables, names and raw values into another database (PostgreSQL)."""
    src = sqlite3.connect(sqlite_path)
    engine = sa.create_engine(url)
    try:
        with engine.begin() as conn:
            for table, (cols, key) in LEGACY_TABLES.items():
                defs = ", ".join(f'"{name}" {decl}' for name, decl in cols)
                quoted = ", ".join(f'"{k}"' for k in key)
                pk = f", PRIMARY KEY ({quoted})" if key else ""
                conn.exec_driver_sql(f'CREATE TABLE "{table}" ({defs}{pk})')
                names = ", ".join(f'"{n}"' for n, _ in cols)
                marks = ", ".join("%s" for _ in cols)
                rows = src.execute(f"SELECT * FROM {table}").fetchall()
                conn.exec_driver_sql(f'INSERT INTO "{table}" ({names}) VALUES ({marks})', rows)
    finally:
        src.close()
        engine.dispose()


def write_settings(
    workspace: Path,
    sources: dict[str, dict[str, Any]],
    *,
    staging_url: str | None = None,
    control_url: str | None = None,
) -> Settings:
    """Write a ``cutover.toml`` with these sources and return the loaded settings."""
    lines = ['[project]\nname = "t"\n', '[mappings]\ndir = "mappings"\n']
    for name, fields in sources.items():
        lines.append(f"[sources.{name}]")
        for key, value in fields.items():
            if isinstance(value, dict):
                inner = ", ".join(f"{k} = {list(v)!r}" for k, v in value.items())
                lines.append(f"{key} = {{ {inner} }}")
            elif isinstance(value, bool):
                lines.append(f"{key} = {'true' if value else 'false'}")
            elif isinstance(value, int):
                lines.append(f"{key} = {value}")
            elif isinstance(value, list | tuple):
                lines.append(f"{key} = {[str(v) for v in value]!r}".replace("'", '"'))
            else:
                lines.append(f'{key} = "{value}"')
        lines.append("")
    if staging_url:
        lines.append(f'[staging]\nurl = "{staging_url}"\n')
    if control_url:
        lines.append(f'[control]\nurl = "{control_url}"\n')
    workspace.mkdir(parents=True, exist_ok=True)
    (workspace / ".cutover").mkdir(exist_ok=True)
    (workspace / "cutover.toml").write_text("\n".join(lines), encoding="utf-8")
    return load_settings(workspace, environ={})


def staged(settings: Settings, table: str, *, meta: bool = True) -> list[tuple[Any, ...]]:
    """Every staged row of ``table`` in ``_src_pos`` order (without ``_run_id`` when not meta)."""
    engine = sa.create_engine(settings.staging.url.get_secret_value())
    try:
        with engine.connect() as conn:
            t = sa.Table(table, sa.MetaData(), autoload_with=conn)
            rows = conn.execute(sa.select(t).order_by(t.c._src_pos)).all()
            cols = [c.name for c in t.columns]
    finally:
        engine.dispose()
    keep = [i for i, c in enumerate(cols) if meta or c != "_run_id"]
    return [tuple(r[i] for i in keep) for r in rows]
