"""areas: provenance of each level's data — source, licence and attribution as an import states
them (issue #13 §1: exports of CC BY data repeat the attribution). Existing levels have none
recorded; exports then fall back to the deployment's QUARTIER_AREA_DATA_ATTRIBUTION.

Revision ID: 0026
Revises: 0024
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0026"
down_revision = "0024"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("area_levels", sa.Column("source", sa.String(500), nullable=True))
    op.add_column("area_levels", sa.Column("licence", sa.String(200), nullable=True))
    op.add_column("area_levels", sa.Column("attribution", sa.String(1000), nullable=True))


def downgrade() -> None:
    op.drop_column("area_levels", "attribution")
    op.drop_column("area_levels", "licence")
    op.drop_column("area_levels", "source")
