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
    _mark_erased()


def _mark_erased():
    """Accounts erased before a downgrade below this revision: their placeholder address (erased-N@erased.invalid,
    a domain no account may otherwise take) says they were, and without erased_at an admin could edit them again and
    reminders (0005 puts them back on) would be on. When is lost with the column: the time of this upgrade stands in.
    A database that never went below 0015 has no such account."""
    import datetime

    users = sa.table('user_account', sa.column('email', sa.String), sa.column('erased_at', sa.DateTime(timezone=True)),
                     sa.column('reminders_on', sa.Boolean))
    op.execute(users.update().where(users.c.email.like('%@erased.invalid'), users.c.erased_at.is_(None))
               .values(erased_at=datetime.datetime.now(datetime.timezone.utc), reminders_on=False))


def downgrade():
    op.drop_column('user_account', 'erased_at')
