"""team_move: the day someone moved from one team to another

A rep moved to another team dropped out of their old team's past ranges and counted in the new team's
ranges from before they joined it. Each move is now recorded with its day, so a team's participation
counts a rep only for the days they belonged to it. Existing accounts have no moves: they count in their
present team from the day they joined, as before.

Revision ID: 0014
Revises: 0013
Create Date: 2026-11-28 03:55:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'team_move',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('day', sa.Date(), nullable=False),
        sa.Column('from_team_id', sa.Integer(), nullable=True),
        sa.Column('to_team_id', sa.Integer(), nullable=True),
        sa.Column('moved_by', sa.String(length=254), nullable=False),
        sa.Column('moved_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['user_id'], ['user_account.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id'),
    )
    with op.batch_alter_table('team_move', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_team_move_user_id'), ['user_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_team_move_from_team_id'), ['from_team_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_team_move_to_team_id'), ['to_team_id'], unique=False)


def downgrade():
    with op.batch_alter_table('team_move', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_team_move_to_team_id'))
        batch_op.drop_index(batch_op.f('ix_team_move_from_team_id'))
        batch_op.drop_index(batch_op.f('ix_team_move_user_id'))
    op.drop_table('team_move')
