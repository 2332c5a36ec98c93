"""working_days_change: a rep's working days over time, so a change counts from the day it is made

0011 kept only the current days, so a manager changing a rep from Monday-Friday to Tuesday-Saturday
also changed every past week: past Mondays drilled stopped counting and past Saturdays became missed
days. Each change is now recorded with the day it takes effect (the rep's local day), the days before
it and who made it; days before a rep's first change keep its ``before``. Existing reps have no
change recorded: their present days hold for every day, as before.

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-28 00:40:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'working_days_change',
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('since', sa.Date(), nullable=False),
        sa.Column('before', sa.String(length=20), nullable=False),
        sa.Column('days', sa.String(length=20), nullable=False),
        sa.Column('changed_by', sa.String(length=254), nullable=False),
        sa.Column('changed_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['user_id'], ['user_account.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('user_id', 'since'),
    )


def downgrade():
    op.drop_table('working_days_change')
