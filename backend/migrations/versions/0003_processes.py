"""processes: planning processes, phases, activations, organisations, roles, contributions,
participation overrides.

The database keeps "exactly one active phase per process": the partial unique index
`uq_process_phases_one_active` allows at most one, and a deferred constraint trigger checks at
commit that there is one. A BEFORE INSERT trigger lets a new process start only in
`guidelines` (later phases become active by update, through the activation service).

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

PHASES = (
    "guidelines",
    "needs_assessment",
    "measure_planning",
    "resource_provision",
    "service_delivery",
    "evaluation",
    "social_reporting",
)


def _in(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


def _audit() -> list[sa.Column[object]]:
    return [
        sa.Column("sa_orm_sentinel", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    ]


def _process_fk(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["process_id"],
        ["planning_processes.id"],
        name=f"fk_{table}_process_id_planning_processes",
        ondelete="CASCADE",
    )


ONE_ACTIVE_PHASE = """
CREATE FUNCTION planning_process_has_one_active_phase() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    target uuid;
    active_count integer;
BEGIN
    IF TG_TABLE_NAME = 'planning_processes' THEN
        target := NEW.id;
    ELSIF TG_OP = 'DELETE' THEN
        target := OLD.process_id;
    ELSE
        target := NEW.process_id;
    END IF;
    IF NOT EXISTS (SELECT 1 FROM planning_processes WHERE id = target) THEN
        RETURN NULL;  -- the process itself is gone (cascade)
    END IF;
    SELECT count(*) INTO active_count
    FROM process_phases WHERE process_id = target AND is_active;
    IF active_count <> 1 THEN
        RAISE EXCEPTION 'planning process % has % active phases; exactly one must be active',
            target, active_count
            USING ERRCODE = 'check_violation',
                  CONSTRAINT = 'ck_process_phases_exactly_one_active';
    END IF;
    RETURN NULL;
END
$$
"""

STARTS_IN_GUIDELINES = """
CREATE FUNCTION process_phase_starts_in_guidelines() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.is_active AND NEW.phase <> 'guidelines' THEN
        RAISE EXCEPTION 'a new planning process starts in guidelines, not in %', NEW.phase
            USING ERRCODE = 'check_violation',
                  CONSTRAINT = 'ck_process_phases_starts_in_guidelines';
    END IF;
    RETURN NEW;
END
$$
"""


def upgrade() -> None:
    op.create_table(
        "organisations",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("short_name", sa.String(50), nullable=False),
        sa.Column("type", sa.String(32), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("website", sa.String(500), nullable=False),
        *_audit(),
        sa.PrimaryKeyConstraint("id", name="pk_organisations"),
        sa.CheckConstraint(
            _in(
                "type",
                (
                    "welfare_organisation",
                    "administration",
                    "council_body",
                    "resident_group",
                    "other",
                ),
            ),
            name="ck_organisations_type",
        ),
    )
    op.create_index("uq_organisations_name", "organisations", [sa.text("lower(name)")], unique=True)
    op.create_index("ix_organisations_name_id", "organisations", ["name", "id"])

    op.create_table(
        "planning_processes",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("topic", sa.String(200), nullable=False),
        sa.Column("status", sa.String(32), nullable=False),
        sa.Column("cycle", sa.SmallInteger(), nullable=False),
        sa.Column("previous_process_id", sa.Uuid(), nullable=True),
        sa.Column("commissioned_by", sa.String(300), nullable=False),
        sa.Column("commissioned_to", sa.String(300), nullable=False),
        sa.Column("aim", sa.Text(), nullable=False),
        sa.Column("occasion", sa.Text(), nullable=False),
        sa.Column("report_recipients", sa.String(500), nullable=False),
        sa.Column("internal_notes", sa.Text(), nullable=False),
        *_audit(),
        sa.PrimaryKeyConstraint("id", name="pk_planning_processes"),
        sa.ForeignKeyConstraint(
            ["previous_process_id"],
            ["planning_processes.id"],
            name="fk_planning_processes_previous_process_id_planning_processes",
            ondelete="SET NULL",
        ),
        sa.UniqueConstraint(
            "previous_process_id", name="uq_planning_processes_previous_process_id"
        ),
        sa.CheckConstraint(
            _in("status", ("draft", "active", "archived")), name="ck_planning_processes_status"
        ),
        sa.CheckConstraint("cycle >= 1", name="ck_planning_processes_cycle_positive"),
    )
    op.create_index("ix_planning_processes_status", "planning_processes", ["status", "id"])

    op.create_table(
        "process_areas",
        sa.Column("process_id", sa.Uuid(), nullable=False),
        sa.Column("area_id", sa.Uuid(), nullable=False),
        sa.PrimaryKeyConstraint("process_id", "area_id", name="pk_process_areas"),
        _process_fk("process_areas"),
        sa.ForeignKeyConstraint(
            ["area_id"],
            ["social_areas.id"],
            name="fk_process_areas_area_id_social_areas",
            ondelete="CASCADE",
        ),
    )
    op.create_index("ix_process_areas_area_id", "process_areas", ["area_id"])

    position = (
        "position = CASE phase "
        + " ".join(f"WHEN '{key}' THEN {i}" for i, key in enumerate(PHASES, start=1))
        + " END"
    )
    op.create_table(
        "process_phases",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("process_id", sa.Uuid(), nullable=False),
        sa.Column("phase", sa.String(32), nullable=False),
        sa.Column("position", sa.SmallInteger(), nullable=False),
        sa.Column("is_active", sa.Boolean(), nullable=False),
        sa.Column("activated_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("planned_start", sa.Date(), nullable=True),
        sa.Column("planned_end", sa.Date(), nullable=True),
        sa.Column("what_is_done", sa.Text(), nullable=False),
        sa.Column("who_takes_part", sa.Text(), nullable=False),
        sa.Column("watch_out_for", sa.Text(), nullable=False),
        *_audit(),
        sa.PrimaryKeyConstraint("id", name="pk_process_phases"),
        _process_fk("process_phases"),
        sa.UniqueConstraint("process_id", "phase", name="uq_process_phases_process_phase"),
        sa.CheckConstraint(_in("phase", PHASES), name="ck_process_phases_phase"),
        sa.CheckConstraint(position, name="ck_process_phases_position_matches_phase"),
        sa.CheckConstraint(
            "planned_end IS NULL OR planned_start IS NULL OR planned_end >= planned_start",
            name="ck_process_phases_planned_dates_ordered",
        ),
    )
    op.create_index(
        "uq_process_phases_one_active",
        "process_phases",
        ["process_id"],
        unique=True,
        postgresql_where=sa.text("is_active"),
    )
    op.execute(ONE_ACTIVE_PHASE)
    op.execute(
        "CREATE CONSTRAINT TRIGGER planning_processes_one_active_phase "
        "AFTER INSERT ON planning_processes DEFERRABLE INITIALLY DEFERRED "
        "FOR EACH ROW EXECUTE FUNCTION planning_process_has_one_active_phase()"
    )
    op.execute(
        "CREATE CONSTRAINT TRIGGER process_phases_one_active_phase "
        "AFTER INSERT OR UPDATE OR DELETE ON process_phases DEFERRABLE INITIALLY DEFERRED "
        "FOR EACH ROW EXECUTE FUNCTION planning_process_has_one_active_phase()"
    )
    op.execute(STARTS_IN_GUIDELINES)
    op.execute(
        "CREATE TRIGGER process_phases_start_in_guidelines BEFORE INSERT ON process_phases "
        "FOR EACH ROW EXECUTE FUNCTION process_phase_starts_in_guidelines()"
    )

    op.create_table(
        "phase_activations",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("process_id", sa.Uuid(), nullable=False),
        sa.Column("phase", sa.String(32), nullable=False),
        sa.Column("previous_phase", sa.String(32), nullable=True),
        sa.Column("activated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor_kind", sa.String(32), nullable=False),
        sa.Column("actor_id", sa.Uuid(), nullable=True),
        sa.Column("actor_name", sa.String(200), nullable=False),
        *_audit(),
        sa.PrimaryKeyConstraint("id", name="pk_phase_activations"),
        _process_fk("phase_activations"),
        sa.CheckConstraint(_in("phase", PHASES), name="ck_phase_activations_phase"),
        sa.CheckConstraint(
            "previous_phase IS NULL OR " + _in("previous_phase", PHASES),
            name="ck_phase_activations_previous_phase",
        ),
        sa.CheckConstraint(
            _in("actor_kind", ("staff", "token", "system")),
            name="ck_phase_activations_actor_kind",
        ),
    )
    op.create_index("ix_phase_activations_process", "phase_activations", ["process_id", "id"])

    roles = (
        "commissioning",
        "planning",
        "participating",
        "providing",
        "evaluating",
        "receiving_reports",
    )
    op.create_table(
        "process_roles",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("process_id", sa.Uuid(), nullable=False),
        sa.Column("organisation_id", sa.Uuid(), nullable=False),
        sa.Column("phase", sa.String(32), nullable=False),
        sa.Column("role", sa.String(32), nullable=False),
        *_audit(),
        sa.PrimaryKeyConstraint("id", name="pk_process_roles"),
        _process_fk("process_roles"),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisations.id"],
            name="fk_process_roles_organisation_id_organisations",
            ondelete="RESTRICT",
        ),
        sa.UniqueConstraint(
            "process_id", "organisation_id", "phase", "role", name="uq_process_roles_assignment"
        ),
        sa.CheckConstraint(_in("phase", PHASES), name="ck_process_roles_phase"),
        sa.CheckConstraint(_in("role", roles), name="ck_process_roles_role"),
    )
    op.create_index("ix_process_roles_organisation", "process_roles", ["organisation_id"])

    op.create_table(
        "process_contributions",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("process_id", sa.Uuid(), nullable=False),
        sa.Column("organisation_id", sa.Uuid(), nullable=False),
        sa.Column("phase", sa.String(32), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        *_audit(),
        sa.PrimaryKeyConstraint("id", name="pk_process_contributions"),
        _process_fk("process_contributions"),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisations.id"],
            name="fk_process_contributions_organisation_id_organisations",
            ondelete="RESTRICT",
        ),
        sa.UniqueConstraint(
            "process_id", "organisation_id", "phase", name="uq_process_contributions_cell"
        ),
        sa.CheckConstraint(_in("phase", PHASES), name="ck_process_contributions_phase"),
    )
    op.create_index(
        "ix_process_contributions_organisation", "process_contributions", ["organisation_id"]
    )

    op.create_table(
        "participation_overrides",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("process_id", sa.Uuid(), nullable=False),
        sa.Column("module", sa.String(32), nullable=False),
        sa.Column("phase", sa.String(32), nullable=False),
        sa.Column("is_open", sa.Boolean(), nullable=False),
        *_audit(),
        sa.PrimaryKeyConstraint("id", name="pk_participation_overrides"),
        _process_fk("participation_overrides"),
        sa.UniqueConstraint(
            "process_id", "module", "phase", name="uq_participation_overrides_cell"
        ),
        sa.CheckConstraint(_in("phase", PHASES), name="ck_participation_overrides_phase"),
    )


def downgrade() -> None:
    op.drop_table("participation_overrides")
    op.drop_table("process_contributions")
    op.drop_table("process_roles")
    op.drop_table("phase_activations")
    op.execute("DROP TRIGGER process_phases_start_in_guidelines ON process_phases")
    op.execute("DROP TRIGGER process_phases_one_active_phase ON process_phases")
    op.execute("DROP TRIGGER planning_processes_one_active_phase ON planning_processes")
    op.drop_table("process_phases")
    op.drop_table("process_areas")
    op.drop_table("planning_processes")
    op.drop_table("organisations")
    op.execute("DROP FUNCTION process_phase_starts_in_guidelines()")
    op.execute("DROP FUNCTION planning_process_has_one_active_phase()")
