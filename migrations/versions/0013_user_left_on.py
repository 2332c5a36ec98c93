"""user_account.left_on: the day someone stopped counting as one of their team's reps

Admins now deactivate accounts and change roles in the app (the People pages). A rep who left dropped out
of every range, past ones too, and one who came back (or a manager made a rep) was charged for every day
in between. left_on keeps a rep who left in the participation of the ranges they worked in, up to the day
before; on their return the days between are recorded as a pause (a vacation), so they are not due and
the backlog is spread as after any pause. NULL (everyone so far): counting as before.

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
    op.add_column('user_account', sa.Column('left_on', sa.Date(), nullable=True))


def downgrade():
    op.drop_column('user_account', 'left_on')
