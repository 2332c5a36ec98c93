"""user_account.rep_since: the day a rep who became a rep again, or came back, is counted from

Admins now change roles and deactivate accounts in the app (the People pages). A manager made a rep, or
a rep reactivated after months away, was counted from the day the account was made: every day in
between showed as a missed working day, and they landed on the inactive list at once. NULL (everyone
so far): counted from the day they joined, as before.

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


def downgrade():
    op.drop_column('user_account', 'rep_since')
