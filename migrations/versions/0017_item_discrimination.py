"""item_discrimination: each item's discrimination index as of the nightly rebuild, for the trainer's list

Ranking every rep on every item made the trainer's list take 2 s with 2,000 reps and five scenarios per skill. Past
a few thousand rows to rank the list reads the index from this table instead, which the nightly rebuild fills
(services.analytics.refresh_discriminations). It starts empty: the first view of the list that needs it computes it.

Revision ID: 0017
Revises: 0016
Create Date: 2026-11-28 10:20:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0017'
down_revision = '0016'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'item_discrimination',
        sa.Column('scenario_id', sa.String(length=80), nullable=False),
        sa.Column('discrimination', sa.Float(), nullable=True),
        sa.Column('computed_at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('scenario_id'),
    )


def downgrade():
    op.drop_table('item_discrimination')
