"""The target schema: people, sentences, custody, credits, documents, users and roles.

Revision ID: 0001
Revises:
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "canonical_task",
        sa.Column("canonical_task_id", sa.Text(), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("assignment_type", sa.Text(), nullable=False),
        sa.Column("_run_id", sa.Text(), nullable=False),
        sa.Column("_source_system", sa.Text(), nullable=False),
        sa.Column("_source_table", sa.Text(), nullable=False),
        sa.Column("_source_key", sa.Text(), nullable=False),
        sa.Column("_mapping_version", sa.Text(), nullable=False),
        sa.Column("_batch", sa.Text(), nullable=False),
        sa.Column("_row_hash", sa.Text(), nullable=False),
        sa.CheckConstraint(
            "assignment_type IN ('W', 'E', 'L', 'S')", name=op.f("ck_canonical_task_type")
        ),
        sa.PrimaryKeyConstraint("canonical_task_id", name=op.f("pk_canonical_task")),
    )
    op.create_index(op.f("ix_canonical_task__batch"), "canonical_task", ["_batch"], unique=False)
    op.create_table(
        "institution",
        sa.Column("institution_id", sa.Text(), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("region_code", sa.Text(), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("_run_id", sa.Text(), nullable=False),
        sa.Column("_source_system", sa.Text(), nullable=False),
        sa.Column("_source_table", sa.Text(), nullable=False),
        sa.Column("_source_key", sa.Text(), nullable=False),
        sa.Column("_mapping_version", sa.Text(), nullable=False),
        sa.Column("_batch", sa.Text(), nullable=False),
        sa.Column("_row_hash", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("institution_id", name=op.f("pk_institution")),
    )
    op.create_index(op.f("ix_institution__batch"), "institution", ["_batch"], unique=False)
    op.create_table(
        "role",
        sa.Column("role_id", sa.Text(), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("_run_id", sa.Text(), nullable=False),
        sa.Column("_source_system", sa.Text(), nullable=False),
        sa.Column("_source_table", sa.Text(), nullable=False),
        sa.Column("_source_key", sa.Text(), nullable=False),
        sa.Column("_mapping_version", sa.Text(), nullable=False),
        sa.Column("_batch", sa.Text(), nullable=False),
        sa.Column("_row_hash", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("role_id", name=op.f("pk_role")),
    )
    op.create_index(op.f("ix_role__batch"), "role", ["_batch"], unique=False)
    op.create_table(
        "app_user",
        sa.Column("user_id", sa.Text(), nullable=False),
        sa.Column("employee_no", sa.Text(), nullable=True),
        sa.Column("user_name", sa.Text(), nullable=True),
        sa.Column("job_code", sa.Text(), nullable=False),
        sa.Column("institution_id", sa.Text(), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("last_login_on", sa.Date(), nullable=True),
        sa.Column("_run_id", sa.Text(), nullable=False),
        sa.Column("_source_system", sa.Text(), nullable=False),
        sa.Column("_source_table", sa.Text(), nullable=False),
        sa.Column("_source_key", sa.Text(), nullable=False),
        sa.Column("_mapping_version", sa.Text(), nullable=False),
        sa.Column("_batch", sa.Text(), nullable=False),
        sa.Column("_row_hash", sa.Text(), nullable=False),
        sa.CheckConstraint(
            "job_code IN ('CMGR', 'CMST', 'WRDN', 'CO', 'ADMN')", name=op.f("ck_app_user_job")
        ),
        sa.ForeignKeyConstraint(
            ["institution_id"],
            ["institution.institution_id"],
            name=op.f("fk_app_user_institution_id_institution"),
        ),
        sa.PrimaryKeyConstraint("user_id", name=op.f("pk_app_user")),
    )
    op.create_index(op.f("ix_app_user__batch"), "app_user", ["_batch"], unique=False)
    op.create_index(op.f("ix_app_user_employee_no"), "app_user", ["employee_no"], unique=False)
    op.create_table(
        "institution_task",
        sa.Column("institution_id", sa.Text(), nullable=False),
        sa.Column("task_code", sa.Text(), nullable=False),
        sa.Column("canonical_task_id", sa.Text(), nullable=True),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("assignment_type", sa.Text(), nullable=False),
        sa.Column("_run_id", sa.Text(), nullable=False),
        sa.Column("_source_system", sa.Text(), nullable=False),
        sa.Column("_source_table", sa.Text(), nullable=False),
        sa.Column("_source_key", sa.Text(), nullable=False),
        sa.Column("_mapping_version", sa.Text(), nullable=False),
        sa.Column("_batch", sa.Text(), nullable=False),
        sa.Column("_row_hash", sa.Text(), nullable=False),
        sa.CheckConstraint(
            "assignment_type IN ('W', 'E', 'L', 'S')", name=op.f("ck_institution_task_type")
        ),
        sa.ForeignKeyConstraint(
            ["canonical_task_id"],
            ["canonical_task.canonical_task_id"],
            name=op.f("fk_institution_task_canonical_task_id_canonical_task"),
        ),
        sa.ForeignKeyConstraint(
            ["institution_id"],
            ["institution.institution_id"],
            name=op.f("fk_institution_task_institution_id_institution"),
        ),
        sa.PrimaryKeyConstraint("institution_id", "task_code", name=op.f("pk_institution_task")),
    )
    op.create_index(
        op.f("ix_institution_task__batch"), "institution_task", ["_batch"], unique=False
    )
    op.create_index(
        op.f("ix_institution_task_canonical_task_id"),
        "institution_task",
        ["canonical_task_id"],
        unique=False,
    )
    op.create_table(
        "person",
        sa.Column("person_id", sa.Text(), nullable=False),
        sa.Column("state_id", sa.Text(), nullable=True),
        sa.Column("last_name", sa.Text(), nullable=False),
        sa.Column("first_name", sa.Text(), nullable=True),
        sa.Column("middle_initial", sa.Text(), nullable=True),
        sa.Column("birth_date", sa.Date(), nullable=True),
        sa.Column("sex_code", sa.Text(), nullable=True),
        sa.Column("race_code", sa.Text(), nullable=True),
        sa.Column("current_institution_id", sa.Text(), nullable=True),
        sa.Column("status_code", sa.Text(), nullable=False),
        sa.Column("last_updated_on", sa.Date(), nullable=True),
        sa.Column("last_updated_by", sa.Text(), nullable=True),
        sa.Column("_run_id", sa.Text(), nullable=False),
        sa.Column("_source_system", sa.Text(), nullable=False),
        sa.Column("_source_table", sa.Text(), nullable=False),
        sa.Column("_source_key", sa.Text(), nullable=False),
        sa.Column("_mapping_version", sa.Text(), nullable=False),
        sa.Column("_batch", sa.Text(), nullable=False),
        sa.Column("_row_hash", sa.Text(), nullable=False),
        sa.CheckConstraint(
            "status_code IN ('IN', 'MS', 'PA', 'EX')", name=op.f("ck_person_status")
        ),
        sa.ForeignKeyConstraint(
            ["current_institution_id"],
            ["institution.institution_id"],
            name=op.f("fk_person_current_institution_id_institution"),
        ),
        sa.PrimaryKeyConstraint("person_id", name=op.f("pk_person")),
    )
    op.create_index(op.f("ix_person__batch"), "person", ["_batch"], unique=False)
    op.create_index(op.f("ix_person_state_id"), "person", ["state_id"], unique=False)
    op.create_table(
        "role_grant",
        sa.Column("role_id", sa.Text(), nullable=False),
        sa.Column("screen_code", sa.Text(), nullable=False),
        sa.Column("access_level", sa.Text(), nullable=False),
        sa.Column("_run_id", sa.Text(), nullable=False),
        sa.Column("_source_system", sa.Text(), nullable=False),
        sa.Column("_source_table", sa.Text(), nullable=False),
        sa.Column("_source_key", sa.Text(), nullable=False),
        sa.Column("_mapping_version", sa.Text(), nullable=False),
        sa.Column("_batch", sa.Text(), nullable=False),
        sa.Column("_row_hash", sa.Text(), nullable=False),
        sa.CheckConstraint("access_level IN ('R', 'U')", name=op.f("ck_role_grant_access")),
        sa.CheckConstraint(
            "screen_code IN ('CMT1', 'DIM1', 'CSM1')", name=op.f("ck_role_grant_screen")
        ),
        sa.ForeignKeyConstraint(
            ["role_id"], ["role.role_id"], name=op.f("fk_role_grant_role_id_role")
        ),
        sa.PrimaryKeyConstraint("role_id", "screen_code", name=op.f("pk_role_grant")),
    )
    op.create_index(op.f("ix_role_grant__batch"), "role_grant", ["_batch"], unique=False)
    op.create_table(
        "assignment",
        sa.Column("assignment_id", sa.Text(), nullable=False),
        sa.Column("person_id", sa.Text(), nullable=False),
        sa.Column("institution_id", sa.Text(), nullable=False),
        sa.Column("task_code", sa.Text(), nullable=False),
        sa.Column("assignment_type", sa.Text(), nullable=False),
        sa.Column("begin_date", sa.Date(), nullable=False),
        sa.Column("end_date", sa.Date(), nullable=True),
        sa.Column("_run_id", sa.Text(), nullable=False),
        sa.Column("_source_system", sa.Text(), nullable=False),
        sa.Column("_source_table", sa.Text(), nullable=False),
        sa.Column("_source_key", sa.Text(), nullable=False),
        sa.Column("_mapping_version", sa.Text(), nullable=False),
        sa.Column("_batch", sa.Text(), nullable=False),
        sa.Column("_row_hash", sa.Text(), nullable=False),
        sa.CheckConstraint(
            "assignment_type IN ('W', 'E', 'L', 'S')", name=op.f("ck_assignment_type")
        ),
        sa.CheckConstraint(
            "end_date IS NULL OR begin_date IS NULL OR end_date >= begin_date",
            name=op.f("ck_assignment_period"),
        ),
        sa.ForeignKeyConstraint(
            ["institution_id", "task_code"],
            ["institution_task.institution_id", "institution_task.task_code"],
            name=op.f("fk_assignment_institution_id_task_code_institution_task"),
        ),
        sa.ForeignKeyConstraint(
            ["institution_id"],
            ["institution.institution_id"],
            name=op.f("fk_assignment_institution_id_institution"),
        ),
        sa.ForeignKeyConstraint(
            ["person_id"], ["person.person_id"], name=op.f("fk_assignment_person_id_person")
        ),
        sa.PrimaryKeyConstraint("assignment_id", name=op.f("pk_assignment")),
    )
    op.create_index(op.f("ix_assignment__batch"), "assignment", ["_batch"], unique=False)
    op.create_index(op.f("ix_assignment_person_id"), "assignment", ["person_id"], unique=False)
    op.create_table(
        "commitment",
        sa.Column("commitment_id", sa.Text(), nullable=False),
        sa.Column("person_id", sa.Text(), nullable=False),
        sa.Column("docket_no", sa.Text(), nullable=True),
        sa.Column("county_code", sa.Text(), nullable=True),
        sa.Column("offense_code", sa.Text(), nullable=True),
        sa.Column("offense_class", sa.Text(), nullable=False),
        sa.Column("sentenced_on", sa.Date(), nullable=True),
        sa.Column("sentence_begin_date", sa.Date(), nullable=False),
        sa.Column("term_years", sa.Integer(), nullable=False),
        sa.Column("term_months", sa.Integer(), nullable=False),
        sa.Column("term_days", sa.Integer(), nullable=False),
        sa.Column("life_sentence", sa.Boolean(), nullable=False),
        sa.Column("consecutive_to_commitment_id", sa.Text(), nullable=True),
        sa.Column("committed_on", sa.Date(), nullable=False),
        sa.Column("_run_id", sa.Text(), nullable=False),
        sa.Column("_source_system", sa.Text(), nullable=False),
        sa.Column("_source_table", sa.Text(), nullable=False),
        sa.Column("_source_key", sa.Text(), nullable=False),
        sa.Column("_mapping_version", sa.Text(), nullable=False),
        sa.Column("_batch", sa.Text(), nullable=False),
        sa.Column("_row_hash", sa.Text(), nullable=False),
        sa.CheckConstraint(
            "offense_class IN ('V', 'D', 'S', 'N')", name=op.f("ck_commitment_offense_class")
        ),
        sa.CheckConstraint(
            "consecutive_to_commitment_id <> commitment_id", name=op.f("ck_commitment_not_self")
        ),
        sa.CheckConstraint(
            "term_years >= 0 AND term_months >= 0 AND term_days >= 0",
            name=op.f("ck_commitment_term"),
        ),
        sa.ForeignKeyConstraint(
            ["consecutive_to_commitment_id"],
            ["commitment.commitment_id"],
            name=op.f("fk_commitment_consecutive_to_commitment_id_commitment"),
            initially="DEFERRED",
            deferrable=True,
        ),
        sa.ForeignKeyConstraint(
            ["person_id"], ["person.person_id"], name=op.f("fk_commitment_person_id_person")
        ),
        sa.PrimaryKeyConstraint("commitment_id", name=op.f("pk_commitment")),
    )
    op.create_index(op.f("ix_commitment__batch"), "commitment", ["_batch"], unique=False)
    op.create_index(op.f("ix_commitment_person_id"), "commitment", ["person_id"], unique=False)
    op.create_table(
        "custody",
        sa.Column("custody_id", sa.Text(), nullable=False),
        sa.Column("person_id", sa.Text(), nullable=False),
        sa.Column("institution_id", sa.Text(), nullable=False),
        sa.Column("begin_date", sa.Date(), nullable=True),
        sa.Column("end_date", sa.Date(), nullable=True),
        sa.Column("is_current", sa.Boolean(), nullable=False),
        sa.Column("_run_id", sa.Text(), nullable=False),
        sa.Column("_source_system", sa.Text(), nullable=False),
        sa.Column("_source_table", sa.Text(), nullable=False),
        sa.Column("_source_key", sa.Text(), nullable=False),
        sa.Column("_mapping_version", sa.Text(), nullable=False),
        sa.Column("_batch", sa.Text(), nullable=False),
        sa.Column("_row_hash", sa.Text(), nullable=False),
        sa.CheckConstraint(
            "end_date IS NULL OR begin_date IS NULL OR end_date >= begin_date",
            name=op.f("ck_custody_period"),
        ),
        sa.ForeignKeyConstraint(
            ["institution_id"],
            ["institution.institution_id"],
            name=op.f("fk_custody_institution_id_institution"),
        ),
        sa.ForeignKeyConstraint(
            ["person_id"], ["person.person_id"], name=op.f("fk_custody_person_id_person")
        ),
        sa.PrimaryKeyConstraint("custody_id", name=op.f("pk_custody")),
    )
    op.create_index(op.f("ix_custody__batch"), "custody", ["_batch"], unique=False)
    op.create_index(op.f("ix_custody_person_id"), "custody", ["person_id"], unique=False)
    op.create_table(
        "document",
        sa.Column("document_id", sa.Text(), nullable=False),
        sa.Column("person_id", sa.Text(), nullable=False),
        sa.Column("document_type", sa.Text(), nullable=False),
        sa.Column("indexed_on", sa.Date(), nullable=True),
        sa.Column("sentence_begin_date", sa.Date(), nullable=True),
        sa.Column("term_years", sa.Integer(), nullable=True),
        sa.Column("term_months", sa.Integer(), nullable=True),
        sa.Column("term_days", sa.Integer(), nullable=True),
        sa.Column("life_term", sa.Boolean(), nullable=True),
        sa.Column("jail_days", sa.Integer(), nullable=True),
        sa.Column("certificate_no", sa.Text(), nullable=True),
        sa.Column("_run_id", sa.Text(), nullable=False),
        sa.Column("_source_system", sa.Text(), nullable=False),
        sa.Column("_source_table", sa.Text(), nullable=False),
        sa.Column("_source_key", sa.Text(), nullable=False),
        sa.Column("_mapping_version", sa.Text(), nullable=False),
        sa.Column("_batch", sa.Text(), nullable=False),
        sa.Column("_row_hash", sa.Text(), nullable=False),
        sa.CheckConstraint(
            "document_type IN ('COMMITMENT_ORDER', 'JAIL_CERT', 'WORK_LOG')",
            name=op.f("ck_document_type"),
        ),
        sa.CheckConstraint("jail_days >= 0", name=op.f("ck_document_jail_days")),
        sa.CheckConstraint(
            "term_years >= 0 AND term_months >= 0 AND term_days >= 0", name=op.f("ck_document_term")
        ),
        sa.ForeignKeyConstraint(
            ["person_id"], ["person.person_id"], name=op.f("fk_document_person_id_person")
        ),
        sa.PrimaryKeyConstraint("document_id", name=op.f("pk_document")),
    )
    op.create_index(op.f("ix_document__batch"), "document", ["_batch"], unique=False)
    op.create_index(op.f("ix_document_person_id"), "document", ["person_id"], unique=False)
    op.create_table(
        "infraction",
        sa.Column("infraction_id", sa.Text(), nullable=False),
        sa.Column("person_id", sa.Text(), nullable=False),
        sa.Column("infraction_date", sa.Date(), nullable=False),
        sa.Column("rule_code", sa.Text(), nullable=True),
        sa.Column("gc_revoked_days", sa.Integer(), nullable=False),
        sa.Column("sp_revoked_days", sa.Integer(), nullable=False),
        sa.Column("hearing_date", sa.Date(), nullable=True),
        sa.Column("_run_id", sa.Text(), nullable=False),
        sa.Column("_source_system", sa.Text(), nullable=False),
        sa.Column("_source_table", sa.Text(), nullable=False),
        sa.Column("_source_key", sa.Text(), nullable=False),
        sa.Column("_mapping_version", sa.Text(), nullable=False),
        sa.Column("_batch", sa.Text(), nullable=False),
        sa.Column("_row_hash", sa.Text(), nullable=False),
        sa.CheckConstraint(
            "gc_revoked_days >= 0 AND sp_revoked_days >= 0", name=op.f("ck_infraction_days")
        ),
        sa.ForeignKeyConstraint(
            ["person_id"], ["person.person_id"], name=op.f("fk_infraction_person_id_person")
        ),
        sa.PrimaryKeyConstraint("infraction_id", name=op.f("pk_infraction")),
    )
    op.create_index(op.f("ix_infraction__batch"), "infraction", ["_batch"], unique=False)
    op.create_index(op.f("ix_infraction_person_id"), "infraction", ["person_id"], unique=False)
    op.create_table(
        "labor_pool_attendance",
        sa.Column("person_id", sa.Text(), nullable=False),
        sa.Column("institution_id", sa.Text(), nullable=False),
        sa.Column("week_begin_date", sa.Date(), nullable=False),
        sa.Column("days_worked", sa.Integer(), nullable=False),
        sa.Column("_run_id", sa.Text(), nullable=False),
        sa.Column("_source_system", sa.Text(), nullable=False),
        sa.Column("_source_table", sa.Text(), nullable=False),
        sa.Column("_source_key", sa.Text(), nullable=False),
        sa.Column("_mapping_version", sa.Text(), nullable=False),
        sa.Column("_batch", sa.Text(), nullable=False),
        sa.Column("_row_hash", sa.Text(), nullable=False),
        sa.CheckConstraint(
            "days_worked BETWEEN 0 AND 7", name=op.f("ck_labor_pool_attendance_days")
        ),
        sa.ForeignKeyConstraint(
            ["institution_id"],
            ["institution.institution_id"],
            name=op.f("fk_labor_pool_attendance_institution_id_institution"),
        ),
        sa.ForeignKeyConstraint(
            ["person_id"],
            ["person.person_id"],
            name=op.f("fk_labor_pool_attendance_person_id_person"),
        ),
        sa.PrimaryKeyConstraint(
            "person_id", "institution_id", "week_begin_date", name=op.f("pk_labor_pool_attendance")
        ),
    )
    op.create_index(
        op.f("ix_labor_pool_attendance__batch"), "labor_pool_attendance", ["_batch"], unique=False
    )
    op.create_table(
        "legacy_release_calculation",
        sa.Column("person_id", sa.Text(), nullable=False),
        sa.Column("calculated_as_of", sa.Date(), nullable=False),
        sa.Column("max_expiration_date", sa.Date(), nullable=True),
        sa.Column("ms_release_date", sa.Date(), nullable=True),
        sa.Column("actual_release_date", sa.Date(), nullable=True),
        sa.Column("release_type", sa.Text(), nullable=True),
        sa.Column("_run_id", sa.Text(), nullable=False),
        sa.Column("_source_system", sa.Text(), nullable=False),
        sa.Column("_source_table", sa.Text(), nullable=False),
        sa.Column("_source_key", sa.Text(), nullable=False),
        sa.Column("_mapping_version", sa.Text(), nullable=False),
        sa.Column("_batch", sa.Text(), nullable=False),
        sa.Column("_row_hash", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["person_id"],
            ["person.person_id"],
            name=op.f("fk_legacy_release_calculation_person_id_person"),
        ),
        sa.PrimaryKeyConstraint(
            "person_id", "calculated_as_of", name=op.f("pk_legacy_release_calculation")
        ),
    )
    op.create_index(
        op.f("ix_legacy_release_calculation__batch"),
        "legacy_release_calculation",
        ["_batch"],
        unique=False,
    )
    op.create_table(
        "person_alias",
        sa.Column("alias_id", sa.Text(), nullable=False),
        sa.Column("person_id", sa.Text(), nullable=False),
        sa.Column("last_name", sa.Text(), nullable=False),
        sa.Column("first_name", sa.Text(), nullable=True),
        sa.Column("middle_initial", sa.Text(), nullable=True),
        sa.Column("birth_date", sa.Date(), nullable=True),
        sa.Column("_run_id", sa.Text(), nullable=False),
        sa.Column("_source_system", sa.Text(), nullable=False),
        sa.Column("_source_table", sa.Text(), nullable=False),
        sa.Column("_source_key", sa.Text(), nullable=False),
        sa.Column("_mapping_version", sa.Text(), nullable=False),
        sa.Column("_batch", sa.Text(), nullable=False),
        sa.Column("_row_hash", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["person_id"], ["person.person_id"], name=op.f("fk_person_alias_person_id_person")
        ),
        sa.PrimaryKeyConstraint("alias_id", name=op.f("pk_person_alias")),
    )
    op.create_index(op.f("ix_person_alias__batch"), "person_alias", ["_batch"], unique=False)
    op.create_index(op.f("ix_person_alias_person_id"), "person_alias", ["person_id"], unique=False)
    op.create_table(
        "person_identifier",
        sa.Column("identifier_type", sa.Text(), nullable=False),
        sa.Column("identifier_value", sa.Text(), nullable=False),
        sa.Column("person_id", sa.Text(), nullable=False),
        sa.Column("_run_id", sa.Text(), nullable=False),
        sa.Column("_source_system", sa.Text(), nullable=False),
        sa.Column("_source_table", sa.Text(), nullable=False),
        sa.Column("_source_key", sa.Text(), nullable=False),
        sa.Column("_mapping_version", sa.Text(), nullable=False),
        sa.Column("_batch", sa.Text(), nullable=False),
        sa.Column("_row_hash", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["person_id"], ["person.person_id"], name=op.f("fk_person_identifier_person_id_person")
        ),
        sa.PrimaryKeyConstraint(
            "identifier_type", "identifier_value", name=op.f("pk_person_identifier")
        ),
    )
    op.create_index(
        op.f("ix_person_identifier__batch"), "person_identifier", ["_batch"], unique=False
    )
    op.create_index(
        op.f("ix_person_identifier_person_id"), "person_identifier", ["person_id"], unique=False
    )
    op.create_table(
        "person_merge",
        sa.Column("merged_key", sa.Text(), nullable=False),
        sa.Column("survivor_person_id", sa.Text(), nullable=False),
        sa.Column("rule", sa.Text(), nullable=False),
        sa.Column("merge_run_id", sa.Text(), nullable=False),
        sa.Column("_run_id", sa.Text(), nullable=False),
        sa.Column("_source_system", sa.Text(), nullable=False),
        sa.Column("_source_table", sa.Text(), nullable=False),
        sa.Column("_source_key", sa.Text(), nullable=False),
        sa.Column("_mapping_version", sa.Text(), nullable=False),
        sa.Column("_batch", sa.Text(), nullable=False),
        sa.Column("_row_hash", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["survivor_person_id"],
            ["person.person_id"],
            name=op.f("fk_person_merge_survivor_person_id_person"),
        ),
        sa.PrimaryKeyConstraint("merged_key", name=op.f("pk_person_merge")),
    )
    op.create_index(op.f("ix_person_merge__batch"), "person_merge", ["_batch"], unique=False)
    op.create_index(
        op.f("ix_person_merge_survivor_person_id"),
        "person_merge",
        ["survivor_person_id"],
        unique=False,
    )
    op.create_table(
        "screen_grant",
        sa.Column("user_id", sa.Text(), nullable=False),
        sa.Column("screen_code", sa.Text(), nullable=False),
        sa.Column("access_level", sa.Text(), nullable=False),
        sa.Column("_run_id", sa.Text(), nullable=False),
        sa.Column("_source_system", sa.Text(), nullable=False),
        sa.Column("_source_table", sa.Text(), nullable=False),
        sa.Column("_source_key", sa.Text(), nullable=False),
        sa.Column("_mapping_version", sa.Text(), nullable=False),
        sa.Column("_batch", sa.Text(), nullable=False),
        sa.Column("_row_hash", sa.Text(), nullable=False),
        sa.CheckConstraint("access_level IN ('R', 'U')", name=op.f("ck_screen_grant_access")),
        sa.CheckConstraint(
            "screen_code IN ('CMT1', 'DIM1', 'CSM1')", name=op.f("ck_screen_grant_screen")
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["app_user.user_id"], name=op.f("fk_screen_grant_user_id_app_user")
        ),
        sa.PrimaryKeyConstraint("user_id", "screen_code", name=op.f("pk_screen_grant")),
    )
    op.create_index(op.f("ix_screen_grant__batch"), "screen_grant", ["_batch"], unique=False)
    op.create_table(
        "segregation",
        sa.Column("segregation_id", sa.Text(), nullable=False),
        sa.Column("person_id", sa.Text(), nullable=False),
        sa.Column("institution_id", sa.Text(), nullable=True),
        sa.Column("segregation_type", sa.Text(), nullable=False),
        sa.Column("begin_date", sa.Date(), nullable=False),
        sa.Column("end_date", sa.Date(), nullable=True),
        sa.Column("_run_id", sa.Text(), nullable=False),
        sa.Column("_source_system", sa.Text(), nullable=False),
        sa.Column("_source_table", sa.Text(), nullable=False),
        sa.Column("_source_key", sa.Text(), nullable=False),
        sa.Column("_mapping_version", sa.Text(), nullable=False),
        sa.Column("_batch", sa.Text(), nullable=False),
        sa.Column("_row_hash", sa.Text(), nullable=False),
        sa.CheckConstraint("segregation_type IN ('DS', 'AS')", name=op.f("ck_segregation_type")),
        sa.CheckConstraint(
            "end_date IS NULL OR begin_date IS NULL OR end_date >= begin_date",
            name=op.f("ck_segregation_period"),
        ),
        sa.ForeignKeyConstraint(
            ["institution_id"],
            ["institution.institution_id"],
            name=op.f("fk_segregation_institution_id_institution"),
        ),
        sa.ForeignKeyConstraint(
            ["person_id"], ["person.person_id"], name=op.f("fk_segregation_person_id_person")
        ),
        sa.PrimaryKeyConstraint("segregation_id", name=op.f("pk_segregation")),
    )
    op.create_index(op.f("ix_segregation__batch"), "segregation", ["_batch"], unique=False)
    op.create_index(op.f("ix_segregation_person_id"), "segregation", ["person_id"], unique=False)
    op.create_table(
        "task_rate",
        sa.Column("institution_id", sa.Text(), nullable=False),
        sa.Column("task_code", sa.Text(), nullable=False),
        sa.Column("effective_date", sa.Date(), nullable=False),
        sa.Column("monthly_rate", sa.Integer(), nullable=False),
        sa.Column("_run_id", sa.Text(), nullable=False),
        sa.Column("_source_system", sa.Text(), nullable=False),
        sa.Column("_source_table", sa.Text(), nullable=False),
        sa.Column("_source_key", sa.Text(), nullable=False),
        sa.Column("_mapping_version", sa.Text(), nullable=False),
        sa.Column("_batch", sa.Text(), nullable=False),
        sa.Column("_row_hash", sa.Text(), nullable=False),
        sa.CheckConstraint("monthly_rate >= 0", name=op.f("ck_task_rate_rate")),
        sa.ForeignKeyConstraint(
            ["institution_id", "task_code"],
            ["institution_task.institution_id", "institution_task.task_code"],
            name=op.f("fk_task_rate_institution_id_task_code_institution_task"),
        ),
        sa.PrimaryKeyConstraint(
            "institution_id", "task_code", "effective_date", name=op.f("pk_task_rate")
        ),
    )
    op.create_index(op.f("ix_task_rate__batch"), "task_rate", ["_batch"], unique=False)
    op.create_table(
        "user_merge",
        sa.Column("merged_key", sa.Text(), nullable=False),
        sa.Column("survivor_user_id", sa.Text(), nullable=False),
        sa.Column("rule", sa.Text(), nullable=False),
        sa.Column("merge_run_id", sa.Text(), nullable=False),
        sa.Column("_run_id", sa.Text(), nullable=False),
        sa.Column("_source_system", sa.Text(), nullable=False),
        sa.Column("_source_table", sa.Text(), nullable=False),
        sa.Column("_source_key", sa.Text(), nullable=False),
        sa.Column("_mapping_version", sa.Text(), nullable=False),
        sa.Column("_batch", sa.Text(), nullable=False),
        sa.Column("_row_hash", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["survivor_user_id"],
            ["app_user.user_id"],
            name=op.f("fk_user_merge_survivor_user_id_app_user"),
        ),
        sa.PrimaryKeyConstraint("merged_key", name=op.f("pk_user_merge")),
    )
    op.create_index(op.f("ix_user_merge__batch"), "user_merge", ["_batch"], unique=False)
    op.create_index(
        op.f("ix_user_merge_survivor_user_id"), "user_merge", ["survivor_user_id"], unique=False
    )
    op.create_table(
        "user_role",
        sa.Column("user_id", sa.Text(), nullable=False),
        sa.Column("role_id", sa.Text(), nullable=False),
        sa.Column("_run_id", sa.Text(), nullable=False),
        sa.Column("_source_system", sa.Text(), nullable=False),
        sa.Column("_source_table", sa.Text(), nullable=False),
        sa.Column("_source_key", sa.Text(), nullable=False),
        sa.Column("_mapping_version", sa.Text(), nullable=False),
        sa.Column("_batch", sa.Text(), nullable=False),
        sa.Column("_row_hash", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["role_id"], ["role.role_id"], name=op.f("fk_user_role_role_id_role")
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["app_user.user_id"], name=op.f("fk_user_role_user_id_app_user")
        ),
        sa.PrimaryKeyConstraint("user_id", "role_id", name=op.f("pk_user_role")),
    )
    op.create_index(op.f("ix_user_role__batch"), "user_role", ["_batch"], unique=False)
    op.create_table(
        "credit_transaction",
        sa.Column("txn_id", sa.Text(), nullable=False),
        sa.Column("person_id", sa.Text(), nullable=False),
        sa.Column("commitment_id", sa.Text(), nullable=True),
        sa.Column("credit_type", sa.Text(), nullable=False),
        sa.Column("credit_month", sa.Date(), nullable=False),
        sa.Column("days", sa.Integer(), nullable=False),
        sa.Column("institution_id", sa.Text(), nullable=True),
        sa.Column("task_code", sa.Text(), nullable=True),
        sa.Column("entered_by", sa.Text(), nullable=True),
        sa.Column("entered_on", sa.Date(), nullable=True),
        sa.Column("_run_id", sa.Text(), nullable=False),
        sa.Column("_source_system", sa.Text(), nullable=False),
        sa.Column("_source_table", sa.Text(), nullable=False),
        sa.Column("_source_key", sa.Text(), nullable=False),
        sa.Column("_mapping_version", sa.Text(), nullable=False),
        sa.Column("_batch", sa.Text(), nullable=False),
        sa.Column("_row_hash", sa.Text(), nullable=False),
        sa.CheckConstraint(
            "credit_type IN ('GC', 'WT', 'ED', 'SP', 'RG', 'RS')",
            name=op.f("ck_credit_transaction_type"),
        ),
        sa.ForeignKeyConstraint(
            ["commitment_id"],
            ["commitment.commitment_id"],
            name=op.f("fk_credit_transaction_commitment_id_commitment"),
        ),
        sa.ForeignKeyConstraint(
            ["institution_id"],
            ["institution.institution_id"],
            name=op.f("fk_credit_transaction_institution_id_institution"),
        ),
        sa.ForeignKeyConstraint(
            ["person_id"], ["person.person_id"], name=op.f("fk_credit_transaction_person_id_person")
        ),
        sa.PrimaryKeyConstraint("txn_id", name=op.f("pk_credit_transaction")),
    )
    op.create_index(
        op.f("ix_credit_transaction__batch"), "credit_transaction", ["_batch"], unique=False
    )
    op.create_index(
        op.f("ix_credit_transaction_commitment_id"),
        "credit_transaction",
        ["commitment_id"],
        unique=False,
    )
    op.create_index(
        op.f("ix_credit_transaction_person_id"), "credit_transaction", ["person_id"], unique=False
    )
    op.create_table(
        "jail_credit",
        sa.Column("jail_credit_id", sa.Text(), nullable=False),
        sa.Column("person_id", sa.Text(), nullable=False),
        sa.Column("commitment_id", sa.Text(), nullable=False),
        sa.Column("from_date", sa.Date(), nullable=True),
        sa.Column("to_date", sa.Date(), nullable=True),
        sa.Column("days_posted", sa.Integer(), nullable=False),
        sa.Column("certificate_no", sa.Text(), nullable=True),
        sa.Column("posted_by", sa.Text(), nullable=True),
        sa.Column("posted_on", sa.Date(), nullable=True),
        sa.Column("_run_id", sa.Text(), nullable=False),
        sa.Column("_source_system", sa.Text(), nullable=False),
        sa.Column("_source_table", sa.Text(), nullable=False),
        sa.Column("_source_key", sa.Text(), nullable=False),
        sa.Column("_mapping_version", sa.Text(), nullable=False),
        sa.Column("_batch", sa.Text(), nullable=False),
        sa.Column("_row_hash", sa.Text(), nullable=False),
        sa.CheckConstraint("days_posted >= 0", name=op.f("ck_jail_credit_days")),
        sa.CheckConstraint(
            "to_date IS NULL OR from_date IS NULL OR to_date >= from_date",
            name=op.f("ck_jail_credit_period"),
        ),
        sa.ForeignKeyConstraint(
            ["commitment_id"],
            ["commitment.commitment_id"],
            name=op.f("fk_jail_credit_commitment_id_commitment"),
        ),
        sa.ForeignKeyConstraint(
            ["person_id"], ["person.person_id"], name=op.f("fk_jail_credit_person_id_person")
        ),
        sa.PrimaryKeyConstraint("jail_credit_id", name=op.f("pk_jail_credit")),
    )
    op.create_index(op.f("ix_jail_credit__batch"), "jail_credit", ["_batch"], unique=False)
    op.create_index(
        op.f("ix_jail_credit_commitment_id"), "jail_credit", ["commitment_id"], unique=False
    )
    op.create_index(op.f("ix_jail_credit_person_id"), "jail_credit", ["person_id"], unique=False)
    op.create_table(
        "revocation",
        sa.Column("infraction_id", sa.Text(), nullable=False),
        sa.Column("credit_type", sa.Text(), nullable=False),
        sa.Column("days", sa.Integer(), nullable=False),
        sa.Column("_run_id", sa.Text(), nullable=False),
        sa.Column("_source_system", sa.Text(), nullable=False),
        sa.Column("_source_table", sa.Text(), nullable=False),
        sa.Column("_source_key", sa.Text(), nullable=False),
        sa.Column("_mapping_version", sa.Text(), nullable=False),
        sa.Column("_batch", sa.Text(), nullable=False),
        sa.Column("_row_hash", sa.Text(), nullable=False),
        sa.CheckConstraint("credit_type IN ('RG', 'RS')", name=op.f("ck_revocation_type")),
        sa.CheckConstraint("days >= 0", name=op.f("ck_revocation_days")),
        sa.ForeignKeyConstraint(
            ["infraction_id"],
            ["infraction.infraction_id"],
            name=op.f("fk_revocation_infraction_id_infraction"),
        ),
        sa.PrimaryKeyConstraint("infraction_id", "credit_type", name=op.f("pk_revocation")),
    )
    op.create_index(op.f("ix_revocation__batch"), "revocation", ["_batch"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_revocation__batch"), table_name="revocation")
    op.drop_table("revocation")
    op.drop_index(op.f("ix_jail_credit_person_id"), table_name="jail_credit")
    op.drop_index(op.f("ix_jail_credit_commitment_id"), table_name="jail_credit")
    op.drop_index(op.f("ix_jail_credit__batch"), table_name="jail_credit")
    op.drop_table("jail_credit")
    op.drop_index(op.f("ix_credit_transaction_person_id"), table_name="credit_transaction")
    op.drop_index(op.f("ix_credit_transaction_commitment_id"), table_name="credit_transaction")
    op.drop_index(op.f("ix_credit_transaction__batch"), table_name="credit_transaction")
    op.drop_table("credit_transaction")
    op.drop_index(op.f("ix_user_role__batch"), table_name="user_role")
    op.drop_table("user_role")
    op.drop_index(op.f("ix_user_merge_survivor_user_id"), table_name="user_merge")
    op.drop_index(op.f("ix_user_merge__batch"), table_name="user_merge")
    op.drop_table("user_merge")
    op.drop_index(op.f("ix_task_rate__batch"), table_name="task_rate")
    op.drop_table("task_rate")
    op.drop_index(op.f("ix_segregation_person_id"), table_name="segregation")
    op.drop_index(op.f("ix_segregation__batch"), table_name="segregation")
    op.drop_table("segregation")
    op.drop_index(op.f("ix_screen_grant__batch"), table_name="screen_grant")
    op.drop_table("screen_grant")
    op.drop_index(op.f("ix_person_merge_survivor_person_id"), table_name="person_merge")
    op.drop_index(op.f("ix_person_merge__batch"), table_name="person_merge")
    op.drop_table("person_merge")
    op.drop_index(op.f("ix_person_identifier_person_id"), table_name="person_identifier")
    op.drop_index(op.f("ix_person_identifier__batch"), table_name="person_identifier")
    op.drop_table("person_identifier")
    op.drop_index(op.f("ix_person_alias_person_id"), table_name="person_alias")
    op.drop_index(op.f("ix_person_alias__batch"), table_name="person_alias")
    op.drop_table("person_alias")
    op.drop_index(
        op.f("ix_legacy_release_calculation__batch"), table_name="legacy_release_calculation"
    )
    op.drop_table("legacy_release_calculation")
    op.drop_index(op.f("ix_labor_pool_attendance__batch"), table_name="labor_pool_attendance")
    op.drop_table("labor_pool_attendance")
    op.drop_index(op.f("ix_infraction_person_id"), table_name="infraction")
    op.drop_index(op.f("ix_infraction__batch"), table_name="infraction")
    op.drop_table("infraction")
    op.drop_index(op.f("ix_document_person_id"), table_name="document")
    op.drop_index(op.f("ix_document__batch"), table_name="document")
    op.drop_table("document")
    op.drop_index(op.f("ix_custody_person_id"), table_name="custody")
    op.drop_index(op.f("ix_custody__batch"), table_name="custody")
    op.drop_table("custody")
    op.drop_index(op.f("ix_commitment_person_id"), table_name="commitment")
    op.drop_index(op.f("ix_commitment__batch"), table_name="commitment")
    op.drop_table("commitment")
    op.drop_index(op.f("ix_assignment_person_id"), table_name="assignment")
    op.drop_index(op.f("ix_assignment__batch"), table_name="assignment")
    op.drop_table("assignment")
    op.drop_index(op.f("ix_role_grant__batch"), table_name="role_grant")
    op.drop_table("role_grant")
    op.drop_index(op.f("ix_person_state_id"), table_name="person")
    op.drop_index(op.f("ix_person__batch"), table_name="person")
    op.drop_table("person")
    op.drop_index(op.f("ix_institution_task_canonical_task_id"), table_name="institution_task")
    op.drop_index(op.f("ix_institution_task__batch"), table_name="institution_task")
    op.drop_table("institution_task")
    op.drop_index(op.f("ix_app_user_employee_no"), table_name="app_user")
    op.drop_index(op.f("ix_app_user__batch"), table_name="app_user")
    op.drop_table("app_user")
    op.drop_index(op.f("ix_role__batch"), table_name="role")
    op.drop_table("role")
    op.drop_index(op.f("ix_institution__batch"), table_name="institution")
    op.drop_table("institution")
    op.drop_index(op.f("ix_canonical_task__batch"), table_name="canonical_task")
    op.drop_table("canonical_task")
