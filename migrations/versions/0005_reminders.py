"""reminders

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-24 05:22:15.366947

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade():
    
    op.create_table('notification',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('run_key', sa.String(length=64), nullable=False),
    sa.Column('sent_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['user_account.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('user_id', 'kind', 'run_key')
    )
    # ALTER TABLE ADD COLUMN, not a batch: on SQLite a batch rebuilds the table for a default that is an expression
    # (sa.true()), and with foreign keys on dropping the old user_account failed on users with attempts (see 0010).
    # The columns are the same either way.
    op.add_column('user_account', sa.Column('reminders_on', sa.Boolean(), server_default=sa.true(), nullable=False))
    op.add_column('user_account', sa.Column('reminder_time', sa.String(length=5), server_default='09:00', nullable=False))
    op.add_column('user_account', sa.Column('reminder_days', sa.String(length=20), server_default='0,1,2,3,4', nullable=False))

    


def downgrade():
    
    # ALTER TABLE DROP COLUMN, not a batch rebuild: on SQLite, with foreign keys on, dropping the old user_account
    # table failed on users with attempts and deleted the cascading rows of the others (see 0010)
    op.drop_column('user_account', 'reminder_days')
    op.drop_column('user_account', 'reminder_time')
    op.drop_column('user_account', 'reminders_on')

    op.drop_table('notification')
    
