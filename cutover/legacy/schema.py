"""The OBSCIS-style physical layout: tables, columns, CHAR widths, declared primary keys.

Identifiers and codes are ``CHAR(n)`` (space-padded to n), dates ``CHAR(8)``, months ``CHAR(6)``,
flags ``CHAR(1)``; day counts are ``CHAR(3)`` zero-padded in ``CR_TXN`` and ``JAIL_CR`` and
``INTEGER`` elsewhere. No foreign keys: the old system enforced none.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["DOCUMENT_COLUMNS", "TABLES", "Table", "ddl"]


@dataclass(frozen=True, slots=True)
class Table:
    name: str
    columns: tuple[tuple[str, str], ...]
    key: tuple[str, ...] = ()

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(c for c, _ in self.columns)

    def insert_sql(self) -> str:
        marks = ", ".join("?" for _ in self.columns)
        return f"INSERT INTO {self.name} VALUES ({marks})"


_D = "CHAR(8)"

TABLES: tuple[Table, ...] = (
    Table(
        "INST",
        (
            ("INST_CD", "CHAR(4)"),
            ("INST_NM", "CHAR(50)"),
            ("RGN_CD", "CHAR(2)"),
            ("ACTV_FLG", "CHAR(1)"),
        ),
        ("INST_CD",),
    ),
    Table(
        "OFFNDR",
        (
            ("OFF_ID", "CHAR(9)"),
            ("SID_NO", "CHAR(8)"),
            ("LAST_NM", "CHAR(20)"),
            ("FRST_NM", "CHAR(15)"),
            ("MID_INIT", "CHAR(1)"),
            ("DOB", _D),
            ("SEX_CD", "CHAR(1)"),
            ("RACE_CD", "CHAR(1)"),
            ("CUR_INST_CD", "CHAR(4)"),
            ("STAT_CD", "CHAR(2)"),
            ("LST_UPD_DT", _D),
            ("LST_UPD_USR", "CHAR(8)"),
        ),
        ("OFF_ID",),
    ),
    Table(
        "CMT",
        (
            ("CMT_ID", "CHAR(10)"),
            ("OFF_ID", "CHAR(9)"),
            ("DKT_NO", "CHAR(12)"),
            ("CNTY_CD", "CHAR(2)"),
            ("OFNS_CD", "CHAR(6)"),
            ("OFNS_CLS", "CHAR(1)"),
            ("SENT_DT", _D),
            ("SENT_BGN_DT", _D),
            ("TERM_YRS", "INTEGER"),
            ("TERM_MOS", "INTEGER"),
            ("TERM_DYS", "INTEGER"),
            ("CONS_TO_CMT_ID", "CHAR(10)"),
            ("LIFE_FLG", "CHAR(1)"),
            ("CMT_DT", _D),
        ),
        ("CMT_ID",),
    ),
    Table(
        "JAIL_CR",
        (
            ("JCR_ID", "CHAR(10)"),
            ("OFF_ID", "CHAR(9)"),
            ("CMT_ID", "CHAR(10)"),
            ("FROM_DT", _D),
            ("TO_DT", _D),
            ("CR_DAYS", "CHAR(3)"),
            ("CERT_NO", "CHAR(10)"),
            ("POST_USR", "CHAR(8)"),
            ("POST_DT", _D),
        ),
        ("JCR_ID",),
    ),
    Table(
        "CR_TXN",
        (
            ("TXN_ID", "CHAR(12)"),
            ("OFF_ID", "CHAR(9)"),
            ("CMT_ID", "CHAR(10)"),
            ("CR_TYP", "CHAR(2)"),
            ("CR_MO", "CHAR(6)"),
            ("CR_DAYS", "CHAR(3)"),
            ("INST_CD", "CHAR(4)"),
            ("TSK_CD", "CHAR(6)"),
            ("ENT_USR", "CHAR(8)"),
            ("ENT_DT", _D),
        ),
        ("TXN_ID",),
    ),
    Table(
        "ASGN",
        (
            ("ASGN_ID", "CHAR(10)"),
            ("OFF_ID", "CHAR(9)"),
            ("INST_CD", "CHAR(4)"),
            ("ASGN_TYP", "CHAR(1)"),
            ("TSK_CD", "CHAR(6)"),
            ("BGN_DT", _D),
            ("END_DT", _D),
        ),
        ("ASGN_ID",),
    ),
    Table(
        "INST_TSK",
        (
            ("INST_CD", "CHAR(4)"),
            ("TSK_CD", "CHAR(6)"),
            ("TSK_DESC", "CHAR(30)"),
            ("ASGN_TYP", "CHAR(1)"),
            ("CR_RATE", "INTEGER"),
            ("EFF_DT", _D),
        ),
        ("INST_CD", "TSK_CD"),
    ),
    Table(
        "SEG",
        (
            ("SEG_ID", "CHAR(10)"),
            ("OFF_ID", "CHAR(9)"),
            ("INST_CD", "CHAR(4)"),
            ("SEG_TYP", "CHAR(2)"),
            ("BGN_DT", _D),
            ("END_DT", _D),
        ),
        ("SEG_ID",),
    ),
    Table(
        "LBR_LOG",
        (
            ("OFF_ID", "CHAR(9)"),
            ("INST_CD", "CHAR(4)"),
            ("WK_BGN_DT", _D),
            ("DAYS_WRKD", "INTEGER"),
        ),
    ),
    Table(
        "INFR",
        (
            ("INFR_ID", "CHAR(10)"),
            ("OFF_ID", "CHAR(9)"),
            ("INFR_DT", _D),
            ("RULE_CD", "CHAR(4)"),
            ("GC_REVK_DYS", "INTEGER"),
            ("SP_REVK_DYS", "INTEGER"),
            ("HRG_DT", _D),
        ),
        ("INFR_ID",),
    ),
    Table(
        "REL_CALC",
        (
            ("OFF_ID", "CHAR(9)"),
            ("MAX_EXP_DT", _D),
            ("MS_REL_DT", _D),
            ("CALC_DT", _D),
            ("ACT_REL_DT", _D),
            ("REL_TYP", "CHAR(2)"),
        ),
    ),
    Table(
        "USR_ACCT",
        (
            ("USR_ID", "CHAR(8)"),
            ("EMP_NO", "CHAR(6)"),
            ("USR_NM", "CHAR(30)"),
            ("JOB_CD", "CHAR(4)"),
            ("INST_CD", "CHAR(4)"),
            ("ACTV_FLG", "CHAR(1)"),
            ("LST_LOGIN_DT", _D),
        ),
        ("USR_ID",),
    ),
    Table(
        "USR_SCRN",
        (("USR_ID", "CHAR(8)"), ("SCRN_CD", "CHAR(4)"), ("ACC_LVL", "CHAR(1)")),
        ("USR_ID", "SCRN_CD"),
    ),
)

#: Header of the scanned-document index CSV.
DOCUMENT_COLUMNS: tuple[str, ...] = (
    "DOC_ID",
    "OFF_ID",
    "DOC_TYP",
    "IDX_DT",
    "SENT_BGN_DT",
    "TERM",
    "JAIL_DAYS",
    "CERT_NO",
)


def ddl(table: Table) -> str:
    """``CREATE TABLE`` for one table, with its declared primary key."""
    cols = [
        f"{name} {typ}" + (" NOT NULL" if name in table.key else "") for name, typ in table.columns
    ]
    if table.key:
        cols.append(f"PRIMARY KEY ({', '.join(table.key)})")
    return f"CREATE TABLE {table.name} (\n  " + ",\n  ".join(cols) + "\n)"
