"""user_account.erased_at: when an admin erased someone's personal data

Someone who left can ask for their personal data to be erased. The account row stays (its answers are
part of its team's retention curves and participation) with a placeholder name and address, no password
and no way back in; erased_at records when, and keeps the account from being edited or used again.
NULL (everyone so far): not erased.

Revision ID: 0015
Revises: 0014
Create Date: 2026-11-28 06:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0015'
down_revision = '0014'
branch_labels = None
depends_on = None


def upgrade():
    op.add_column('user_account', sa.Column('erased_at', sa.DateTime(timezone=True), nullable=True))


def downgrade():
    op.drop_column('user_account', 'erased_at')
