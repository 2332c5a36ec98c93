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
    with op.batch_alter_table('user_account', schema=None) as batch_op:
        batch_op.add_column(sa.Column('reminders_on', sa.Boolean(), server_default=sa.true(), nullable=False))
        batch_op.add_column(sa.Column('reminder_time', sa.String(length=5), server_default='09:00', nullable=False))
        batch_op.add_column(sa.Column('reminder_days', sa.String(length=20), server_default='0,1,2,3,4', nullable=False))

    


def downgrade():
    
    with op.batch_alter_table('user_account', schema=None) as batch_op:
        batch_op.drop_column('reminder_days')
        batch_op.drop_column('reminder_time')
        batch_op.drop_column('reminders_on')

    op.drop_table('notification')
    
