"""The target schema: a modern offender-records database, as SQLAlchemy 2 typed models.

The database is created and evolved only through the Alembic migrations in ``load/migrations``;
these models are what the migrations build (a test proves the two agree).

Keys are the natural text keys the mappings produce (``person_id`` is the trimmed ``OFF_ID``).
Dates are real dates, counts are integers, codes are checked. Every table carries its lineage
(:class:`Lineage`): the run, source system, source table and source key of the legacy row the
target row came from, the mapping version, the load batch and the content hash.

Columns that identify a person (names, date of birth) carry ``info={"sensitive": True}`` so that
tools that print rows (``cutover trace``) can leave them out unless asked.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Date,
    ForeignKey,
    ForeignKeyConstraint,
    Integer,
    MetaData,
    Text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

__all__ = [
    "LINEAGE_COLUMNS",
    "SENSITIVE",
    "AppUser",
    "Assignment",
    "Base",
    "CanonicalTask",
    "Commitment",
    "CreditTransaction",
    "Custody",
    "Document",
    "Infraction",
    "Institution",
    "InstitutionTask",
    "JailCredit",
    "LaborPoolAttendance",
    "LegacyReleaseCalculation",
    "Lineage",
    "Person",
    "PersonAlias",
    "PersonIdentifier",
    "PersonMerge",
    "Revocation",
    "Role",
    "RoleGrant",
    "ScreenGrant",
    "Segregation",
    "TaskRate",
    "UserMerge",
    "UserRole",
]

#: Lineage and load-bookkeeping columns every target table carries, in table order.
LINEAGE_COLUMNS: tuple[str, ...] = (
    "_run_id",
    "_source_system",
    "_source_table",
    "_source_key",
    "_mapping_version",
    "_batch",
    "_row_hash",
)

#: ``Column.info`` marker of columns that identify a person.
SENSITIVE = {"sensitive": True}

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_N_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def _in(column: str, codes: tuple[str, ...]) -> str:
    """``column`` is one of ``codes``, as equalities joined by OR: SQLite checks an IN list of
    more than two values by building a temporary index of it for every row (migration 0002)."""
    return " OR ".join(f"{column} = '{c}'" for c in codes)


def _ordered(begin: str, end: str) -> str:
    return f"{end} IS NULL OR {begin} IS NULL OR {end} >= {begin}"


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {str: Text(), date: Date(), int: Integer(), bool: Boolean()}  # noqa: RUF012


class Lineage:
    """Where a row came from, and what the load needs to replace only what changed."""

    lineage_run_id: Mapped[str] = mapped_column("_run_id")
    lineage_source_system: Mapped[str] = mapped_column("_source_system")
    lineage_source_table: Mapped[str] = mapped_column("_source_table")
    lineage_source_key: Mapped[str] = mapped_column("_source_key")
    lineage_mapping_version: Mapped[str] = mapped_column("_mapping_version")
    lineage_batch: Mapped[str] = mapped_column("_batch", index=True)
    lineage_row_hash: Mapped[str] = mapped_column("_row_hash")


# --- catalogue: institutions, tasks, rates --------------------------------------------------


class Institution(Lineage, Base):
    __tablename__ = "institution"

    institution_id: Mapped[str] = mapped_column(primary_key=True)
    name: Mapped[str]
    region_code: Mapped[str | None]
    active: Mapped[bool]


class CanonicalTask(Lineage, Base):
    """A job as the department knows it, whatever each institution calls it."""

    __tablename__ = "canonical_task"
    __table_args__ = (CheckConstraint(_in("assignment_type", ("W", "E", "L", "S")), name="type"),)

    canonical_task_id: Mapped[str] = mapped_column(primary_key=True)
    description: Mapped[str]
    assignment_type: Mapped[str]


class InstitutionTask(Lineage, Base):
    """An institution's own task code, and the canonical task it stands for."""

    __tablename__ = "institution_task"
    __table_args__ = (CheckConstraint(_in("assignment_type", ("W", "E", "L", "S")), name="type"),)

    institution_id: Mapped[str] = mapped_column(
        ForeignKey("institution.institution_id"), primary_key=True
    )
    task_code: Mapped[str] = mapped_column(primary_key=True)
    canonical_task_id: Mapped[str | None] = mapped_column(
        ForeignKey("canonical_task.canonical_task_id"), index=True
    )
    description: Mapped[str | None]
    assignment_type: Mapped[str]


class TaskRate(Lineage, Base):
    """The credits a full month of an institution's task earns, from its effective date."""

    __tablename__ = "task_rate"
    __table_args__ = (
        ForeignKeyConstraint(
            ["institution_id", "task_code"],
            ["institution_task.institution_id", "institution_task.task_code"],
        ),
        CheckConstraint("monthly_rate >= 0", name="rate"),
    )

    institution_id: Mapped[str] = mapped_column(primary_key=True)
    task_code: Mapped[str] = mapped_column(primary_key=True)
    effective_date: Mapped[date] = mapped_column(primary_key=True)
    monthly_rate: Mapped[int]


# --- people -----------------------------------------------------------------------------------


class Person(Lineage, Base):
    __tablename__ = "person"
    __table_args__ = (CheckConstraint(_in("status_code", ("IN", "MS", "PA", "EX")), name="status"),)

    person_id: Mapped[str] = mapped_column(primary_key=True)
    state_id: Mapped[str | None] = mapped_column(index=True)
    last_name: Mapped[str] = mapped_column(info=SENSITIVE)
    first_name: Mapped[str | None] = mapped_column(info=SENSITIVE)
    middle_initial: Mapped[str | None] = mapped_column(info=SENSITIVE)
    birth_date: Mapped[date | None] = mapped_column(info=SENSITIVE)
    sex_code: Mapped[str | None]
    race_code: Mapped[str | None]
    current_institution_id: Mapped[str | None] = mapped_column(
        ForeignKey("institution.institution_id")
    )
    status_code: Mapped[str]
    last_updated_on: Mapped[date | None]
    last_updated_by: Mapped[str | None]


class PersonIdentifier(Lineage, Base):
    """An identifier a person is known by (legacy ``OFF_ID``s, including merged ones; state ID)."""

    __tablename__ = "person_identifier"

    identifier_type: Mapped[str] = mapped_column(primary_key=True)
    identifier_value: Mapped[str] = mapped_column(primary_key=True)
    person_id: Mapped[str] = mapped_column(ForeignKey("person.person_id"), index=True)


class PersonAlias(Lineage, Base):
    """Another name a person was recorded under (for example on a merged duplicate record)."""

    __tablename__ = "person_alias"

    alias_id: Mapped[str] = mapped_column(primary_key=True)
    person_id: Mapped[str] = mapped_column(ForeignKey("person.person_id"), index=True)
    last_name: Mapped[str] = mapped_column(info=SENSITIVE)
    first_name: Mapped[str | None] = mapped_column(info=SENSITIVE)
    middle_initial: Mapped[str | None] = mapped_column(info=SENSITIVE)
    birth_date: Mapped[date | None] = mapped_column(info=SENSITIVE)


class PersonMerge(Lineage, Base):
    """A duplicate legacy person record folded into its survivor, by which rule, in which run."""

    __tablename__ = "person_merge"

    merged_key: Mapped[str] = mapped_column(primary_key=True)
    survivor_person_id: Mapped[str] = mapped_column(ForeignKey("person.person_id"), index=True)
    rule: Mapped[str]
    merge_run_id: Mapped[str]


class Custody(Lineage, Base):
    """A period a person is held at an institution (open end: still there)."""

    __tablename__ = "custody"
    __table_args__ = (CheckConstraint(_ordered("begin_date", "end_date"), name="period"),)

    custody_id: Mapped[str] = mapped_column(primary_key=True)
    person_id: Mapped[str] = mapped_column(ForeignKey("person.person_id"), index=True)
    institution_id: Mapped[str] = mapped_column(ForeignKey("institution.institution_id"))
    begin_date: Mapped[date | None]
    end_date: Mapped[date | None]
    is_current: Mapped[bool]


# --- sentences ------------------------------------------------------------------------------


class Commitment(Lineage, Base):
    """One sentence. Consecutive when ``consecutive_to_commitment_id`` is set, else concurrent."""

    __tablename__ = "commitment"
    __table_args__ = (
        CheckConstraint(_in("offense_class", ("V", "D", "S", "N")), name="offense_class"),
        CheckConstraint("term_years >= 0 AND term_months >= 0 AND term_days >= 0", name="term"),
        CheckConstraint("consecutive_to_commitment_id <> commitment_id", name="not_self"),
    )

    commitment_id: Mapped[str] = mapped_column(primary_key=True)
    person_id: Mapped[str] = mapped_column(ForeignKey("person.person_id"), index=True)
    docket_no: Mapped[str | None]
    county_code: Mapped[str | None]
    offense_code: Mapped[str | None]
    offense_class: Mapped[str]
    sentenced_on: Mapped[date | None]
    sentence_begin_date: Mapped[date]
    term_years: Mapped[int]
    term_months: Mapped[int]
    term_days: Mapped[int]
    life_sentence: Mapped[bool]
    consecutive_to_commitment_id: Mapped[str | None] = mapped_column(
        ForeignKey("commitment.commitment_id", deferrable=True, initially="DEFERRED")
    )
    committed_on: Mapped[date]


class JailCredit(Lineage, Base):
    """Local-jail credit as the legacy system posted it, with its certificate number."""

    __tablename__ = "jail_credit"
    __table_args__ = (
        CheckConstraint("days_posted >= 0", name="days"),
        CheckConstraint(_ordered("from_date", "to_date"), name="period"),
    )

    jail_credit_id: Mapped[str] = mapped_column(primary_key=True)
    person_id: Mapped[str] = mapped_column(ForeignKey("person.person_id"), index=True)
    commitment_id: Mapped[str] = mapped_column(ForeignKey("commitment.commitment_id"), index=True)
    from_date: Mapped[date | None]
    to_date: Mapped[date | None]
    days_posted: Mapped[int]
    certificate_no: Mapped[str | None]
    posted_by: Mapped[str | None]
    posted_on: Mapped[date | None]


# --- custody life: segregation, assignments, labor pool, infractions -------------------------


class Segregation(Lineage, Base):
    __tablename__ = "segregation"
    __table_args__ = (
        CheckConstraint(_in("segregation_type", ("DS", "AS")), name="type"),
        CheckConstraint(_ordered("begin_date", "end_date"), name="period"),
    )

    segregation_id: Mapped[str] = mapped_column(primary_key=True)
    person_id: Mapped[str] = mapped_column(ForeignKey("person.person_id"), index=True)
    institution_id: Mapped[str | None] = mapped_column(ForeignKey("institution.institution_id"))
    segregation_type: Mapped[str]
    begin_date: Mapped[date]
    end_date: Mapped[date | None]


class Assignment(Lineage, Base):
    """A work, education, labor-pool or special-project assignment to an institution's task."""

    __tablename__ = "assignment"
    __table_args__ = (
        ForeignKeyConstraint(
            ["institution_id", "task_code"],
            ["institution_task.institution_id", "institution_task.task_code"],
        ),
        CheckConstraint(_in("assignment_type", ("W", "E", "L", "S")), name="type"),
        CheckConstraint(_ordered("begin_date", "end_date"), name="period"),
    )

    assignment_id: Mapped[str] = mapped_column(primary_key=True)
    person_id: Mapped[str] = mapped_column(ForeignKey("person.person_id"), index=True)
    institution_id: Mapped[str] = mapped_column(ForeignKey("institution.institution_id"))
    task_code: Mapped[str]
    assignment_type: Mapped[str]
    begin_date: Mapped[date]
    end_date: Mapped[date | None]


class LaborPoolAttendance(Lineage, Base):
    """One documented labor-pool week (Monday start) and the days worked in it."""

    __tablename__ = "labor_pool_attendance"
    __table_args__ = (CheckConstraint("days_worked BETWEEN 0 AND 7", name="days"),)

    person_id: Mapped[str] = mapped_column(ForeignKey("person.person_id"), primary_key=True)
    institution_id: Mapped[str] = mapped_column(
        ForeignKey("institution.institution_id"), primary_key=True
    )
    week_begin_date: Mapped[date] = mapped_column(primary_key=True)
    days_worked: Mapped[int]


class Infraction(Lineage, Base):
    __tablename__ = "infraction"
    __table_args__ = (
        CheckConstraint("gc_revoked_days >= 0 AND sp_revoked_days >= 0", name="days"),
    )

    infraction_id: Mapped[str] = mapped_column(primary_key=True)
    person_id: Mapped[str] = mapped_column(ForeignKey("person.person_id"), index=True)
    infraction_date: Mapped[date]
    rule_code: Mapped[str | None]
    gc_revoked_days: Mapped[int]
    sp_revoked_days: Mapped[int]
    hearing_date: Mapped[date | None]


class Revocation(Lineage, Base):
    """Credits an infraction revokes, by kind (RG good conduct, RS special project)."""

    __tablename__ = "revocation"
    __table_args__ = (
        CheckConstraint(_in("credit_type", ("RG", "RS")), name="type"),
        CheckConstraint("days >= 0", name="days"),
    )

    infraction_id: Mapped[str] = mapped_column(
        ForeignKey("infraction.infraction_id"), primary_key=True
    )
    credit_type: Mapped[str] = mapped_column(primary_key=True)
    days: Mapped[int]


# --- the credit ledger and the legacy system's own dates --------------------------------------


class CreditTransaction(Lineage, Base):
    """One posting of the legacy credit ledger, as migrated (never recomputed in place)."""

    __tablename__ = "credit_transaction"
    __table_args__ = (
        CheckConstraint(_in("credit_type", ("GC", "WT", "ED", "SP", "RG", "RS")), name="type"),
    )

    txn_id: Mapped[str] = mapped_column(primary_key=True)
    person_id: Mapped[str] = mapped_column(ForeignKey("person.person_id"), index=True)
    commitment_id: Mapped[str | None] = mapped_column(
        ForeignKey("commitment.commitment_id"), index=True
    )
    credit_type: Mapped[str]
    #: First day of the month the posting is for (legacy ``YYYYMM``).
    credit_month: Mapped[date]
    days: Mapped[int]
    institution_id: Mapped[str | None] = mapped_column(ForeignKey("institution.institution_id"))
    task_code: Mapped[str | None]
    entered_by: Mapped[str | None]
    entered_on: Mapped[date | None]


class LegacyReleaseCalculation(Lineage, Base):
    """The legacy system's own computed dates, kept for comparison.

    A date the legacy system never computed (lifers' ``99999999`` / ``00000000``) is NULL.
    """

    __tablename__ = "legacy_release_calculation"

    person_id: Mapped[str] = mapped_column(ForeignKey("person.person_id"), primary_key=True)
    calculated_as_of: Mapped[date] = mapped_column(primary_key=True)
    max_expiration_date: Mapped[date | None]
    ms_release_date: Mapped[date | None]
    actual_release_date: Mapped[date | None]
    release_type: Mapped[str | None]


# --- scanned documents ------------------------------------------------------------------------


class Document(Lineage, Base):
    """An entry of the scanned-document index: commitment orders, jail certificates, work logs."""

    __tablename__ = "document"
    __table_args__ = (
        CheckConstraint(
            _in("document_type", ("COMMITMENT_ORDER", "JAIL_CERT", "WORK_LOG")), name="type"
        ),
        CheckConstraint("term_years >= 0 AND term_months >= 0 AND term_days >= 0", name="term"),
        CheckConstraint("jail_days >= 0", name="jail_days"),
    )

    document_id: Mapped[str] = mapped_column(primary_key=True)
    person_id: Mapped[str] = mapped_column(ForeignKey("person.person_id"), index=True)
    document_type: Mapped[str]
    indexed_on: Mapped[date | None]
    sentence_begin_date: Mapped[date | None]
    term_years: Mapped[int | None]
    term_months: Mapped[int | None]
    term_days: Mapped[int | None]
    life_term: Mapped[bool | None]
    jail_days: Mapped[int | None]
    certificate_no: Mapped[str | None]


# --- users, roles, grants -------------------------------------------------------------------


class AppUser(Lineage, Base):
    __tablename__ = "app_user"
    __table_args__ = (
        CheckConstraint(_in("job_code", ("CMGR", "CMST", "WRDN", "CO", "ADMN")), name="job"),
    )

    user_id: Mapped[str] = mapped_column(primary_key=True)
    employee_no: Mapped[str | None] = mapped_column(index=True)
    user_name: Mapped[str | None] = mapped_column(info=SENSITIVE)
    job_code: Mapped[str]
    institution_id: Mapped[str | None] = mapped_column(ForeignKey("institution.institution_id"))
    active: Mapped[bool]
    last_login_on: Mapped[date | None]


class UserMerge(Lineage, Base):
    """A duplicate legacy user account folded into its survivor."""

    __tablename__ = "user_merge"

    merged_key: Mapped[str] = mapped_column(primary_key=True)
    survivor_user_id: Mapped[str] = mapped_column(ForeignKey("app_user.user_id"), index=True)
    rule: Mapped[str]
    merge_run_id: Mapped[str]


class ScreenGrant(Lineage, Base):
    """A legacy screen grant, kept as migrated (the access reviews judge it)."""

    __tablename__ = "screen_grant"
    __table_args__ = (
        CheckConstraint(_in("screen_code", ("CMT1", "DIM1", "CSM1")), name="screen"),
        CheckConstraint(_in("access_level", ("R", "U")), name="access"),
    )

    user_id: Mapped[str] = mapped_column(ForeignKey("app_user.user_id"), primary_key=True)
    screen_code: Mapped[str] = mapped_column(primary_key=True)
    access_level: Mapped[str]


class Role(Lineage, Base):
    """A canonical role of the new system (what a job needs)."""

    __tablename__ = "role"

    role_id: Mapped[str] = mapped_column(primary_key=True)
    description: Mapped[str]


class RoleGrant(Lineage, Base):
    """The access a canonical role needs to a legacy screen's function."""

    __tablename__ = "role_grant"
    __table_args__ = (
        CheckConstraint(_in("screen_code", ("CMT1", "DIM1", "CSM1")), name="screen"),
        CheckConstraint(_in("access_level", ("R", "U")), name="access"),
    )

    role_id: Mapped[str] = mapped_column(ForeignKey("role.role_id"), primary_key=True)
    screen_code: Mapped[str] = mapped_column(primary_key=True)
    access_level: Mapped[str]


class UserRole(Lineage, Base):
    """The canonical role a migrated user is mapped to."""

    __tablename__ = "user_role"

    user_id: Mapped[str] = mapped_column(ForeignKey("app_user.user_id"), primary_key=True)
    role_id: Mapped[str] = mapped_column(ForeignKey("role.role_id"), primary_key=True)
