"""user_account.rep_since and deactivated_on: when a rep counts from, and when they left

Admins now change roles and deactivate accounts in the app (the People pages). A manager made a rep, or
a rep reactivated after months away, was counted from the day the account was made: every day in
between showed as a missed working day, and they landed on the inactive list at once. NULL (everyone
so far): counted from the day they joined, as before. deactivated_on keeps a rep who left in the
participation of the ranges they worked in, up to the day before they left.

Revision ID: 0013
Revises: 0012
Create Date: 2026-11-28 01:05:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None


def upgrade():
    op.add_column('user_account', sa.Column('rep_since', sa.Date(), nullable=True))
    op.add_column('user_account', sa.Column('deactivated_on', sa.Date(), nullable=True))


def downgrade():
    op.drop_column('user_account', 'deactivated_on')
    op.drop_column('user_account', 'rep_since')
