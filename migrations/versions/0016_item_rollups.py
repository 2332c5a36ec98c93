"""rollup_item_rep, rollup_item_time, rollup_item_wrong: item analytics without reading every attempt

The trainer's list computed its item statistics from every attempt on every view: 2.9 s with 200,000
attempts, and growing with each answer. These rollups hold what the statistics need, kept on every answer
from now on; this migration fills them from the attempts so far (in the database, one statement each).

Revision ID: 0016
Revises: 0015
Create Date: 2026-11-28 05:40:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0016'
down_revision = '0015'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'rollup_item_rep',
        sa.Column('scenario_id', sa.String(length=80), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('skill_id', sa.String(length=80), nullable=False),
        sa.Column('answers', sa.Integer(), nullable=False),
        sa.Column('right', sa.Integer(), nullable=False),
        sa.Column('first_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('first_correct', sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint('scenario_id', 'user_id', 'skill_id'),
    )
    op.create_table(
        'rollup_item_time',
        sa.Column('scenario_id', sa.String(length=80), nullable=False),
        sa.Column('tenths', sa.Integer(), nullable=False),
        sa.Column('n', sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint('scenario_id', 'tenths'),
    )
    op.create_table(
        'rollup_item_wrong',
        sa.Column('scenario_id', sa.String(length=80), nullable=False),
        sa.Column('chosen', sa.String(length=255), nullable=False),
        sa.Column('n', sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint('scenario_id', 'chosen'),
    )
    _fill()


def _fill():
    """The rollups of the attempts so far (services.analytics.rebuild counts the same, one scenario at a time)."""
    attempt = sa.table('attempt', sa.column('id', sa.Integer), sa.column('user_id', sa.Integer),
                       sa.column('scenario_id', sa.String), sa.column('skill_id', sa.String),
                       sa.column('answered_at', sa.DateTime), sa.column('correct', sa.Boolean),
                       sa.column('duration_ms', sa.Integer), sa.column('verdict', sa.JSON))
    c = attempt.c
    order = sa.func.row_number().over(partition_by=(c.user_id, c.scenario_id, c.skill_id),
                                      order_by=(c.answered_at, c.id)).label('n')
    ranked = sa.select(c.scenario_id, c.user_id, c.skill_id, c.answered_at,
                       sa.case((c.correct, 1), else_=0).label('right'), order).subquery()
    pairs = (sa.select(ranked.c.scenario_id, ranked.c.user_id, ranked.c.skill_id, sa.func.count(),
                       sa.func.sum(ranked.c.right), sa.func.min(ranked.c.answered_at),
                       sa.func.max(sa.case((ranked.c.n == 1, ranked.c.right), else_=0)) == 1)
             .group_by(ranked.c.scenario_id, ranked.c.user_id, ranked.c.skill_id))
    op.execute(sa.insert(sa.table('rollup_item_rep', *(sa.column(n) for n in (
        'scenario_id', 'user_id', 'skill_id', 'answers', 'right', 'first_at', 'first_correct')))).from_select(
        ['scenario_id', 'user_id', 'skill_id', 'answers', 'right', 'first_at', 'first_correct'], pairs))
    tenths = (c.duration_ms // 100).label('tenths')
    times = sa.select(c.scenario_id, tenths, sa.func.count()).group_by(c.scenario_id, tenths)
    op.execute(sa.insert(sa.table('rollup_item_time', sa.column('scenario_id'), sa.column('tenths'), sa.column('n')))
               .from_select(['scenario_id', 'tenths', 'n'], times))
    chosen = sa.func.substr(c.verdict['chosen'].as_string(), 1, 255).label('chosen')
    wrong = (sa.select(c.scenario_id, chosen, sa.func.count())
             .where(sa.not_(c.correct), chosen.is_not(None), chosen != '').group_by(c.scenario_id, chosen))
    op.execute(sa.insert(sa.table('rollup_item_wrong', sa.column('scenario_id'), sa.column('chosen'), sa.column('n')))
               .from_select(['scenario_id', 'chosen', 'n'], wrong))


def downgrade():
    op.drop_table('rollup_item_wrong')
    op.drop_table('rollup_item_time')
    op.drop_table('rollup_item_rep')
