"""user_account.working_days: the weekdays a rep works, set by their manager

Participation, the streak and the inactive list counted Monday to Friday for everyone, so a rep working
Tuesday to Saturday showed every Monday missed and no Saturday counted. The rep's manager (or an admin)
now sets them; every existing user starts at Monday to Friday, what was counted until now.

One ALTER TABLE ADD COLUMN with a server default (see 0010 for why not a batch rebuild on SQLite).

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-27 23:05:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade():
    op.add_column('user_account', sa.Column('working_days', sa.String(length=20), nullable=False, server_default='0,1,2,3,4'))


def downgrade():
    op.drop_column('user_account', 'working_days')
