"""vacations

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-24 05:24:18.420460

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade():
    
    op.create_table('vacation',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('start', sa.Date(), nullable=False),
    sa.Column('end', sa.Date(), nullable=False),
    sa.Column('created_by', sa.String(length=254), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['user_account.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('vacation', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_vacation_user_id'), ['user_id'], unique=False)

    


def downgrade():
    
    with op.batch_alter_table('vacation', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_vacation_user_id'))

    op.drop_table('vacation')
    
