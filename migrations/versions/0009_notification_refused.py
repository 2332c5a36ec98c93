"""notification keeps the mail relay's permanent refusal

An email the relay refuses for good (SMTP 5xx, e.g. no such mailbox) keeps its claim with the
relay's reply in ``refused``, so the hourly and quarter-hourly checks do not send it again.
Existing rows are emails sent: NULL.

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-28 10:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('notification', schema=None) as batch_op:
        batch_op.add_column(sa.Column('refused', sa.Text(), nullable=True))


def downgrade():
    with op.batch_alter_table('notification', schema=None) as batch_op:
        batch_op.drop_column('refused')
