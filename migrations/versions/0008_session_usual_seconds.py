"""drill session keeps the rep's usual answer time

The answers of a day are rated against the rep's usual answer time as it was when the day was
planned, read once instead of on every answer. Sessions planned before this migration keep NULL
and have it computed per answer as before.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-27 12:50:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('drill_session', schema=None) as batch_op:
        batch_op.add_column(sa.Column('usual_seconds', sa.Float(), nullable=True))


def downgrade():
    # ALTER TABLE DROP COLUMN, not a batch rebuild: on SQLite, with foreign keys on, dropping the old drill_session
    # table cascaded to its presentations and failed on the answered ones (attempt refers to them)
    op.drop_column('drill_session', 'usual_seconds')
