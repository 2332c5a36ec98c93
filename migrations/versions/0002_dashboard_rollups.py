"""dashboard rollups

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-24 04:37:49.564908

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade():
    
    op.create_table('rollup_calibration',
    sa.Column('team_id', sa.Integer(), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('bin', sa.Integer(), nullable=False),
    sa.Column('n', sa.Integer(), nullable=False),
    sa.Column('right', sa.Integer(), nullable=False),
    sa.Column('predicted', sa.Float(), nullable=False),
    sa.PrimaryKeyConstraint('team_id', 'day', 'bin')
    )
    op.create_table('rollup_rep_day',
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('answers', sa.Integer(), nullable=False),
    sa.Column('right', sa.Integer(), nullable=False),
    sa.Column('ms', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('user_id', 'day')
    )
    op.create_table('rollup_retention',
    sa.Column('team_id', sa.Integer(), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('week', sa.Integer(), nullable=False),
    sa.Column('n', sa.Integer(), nullable=False),
    sa.Column('right', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('team_id', 'day', 'week')
    )
    


def downgrade():
    
    op.drop_table('rollup_retention')
    op.drop_table('rollup_rep_day')
    op.drop_table('rollup_calibration')
    
