"""attempt index by rep and scenario

When the drill picks a skill's variant it asks when this rep last answered each of the skill's
scenarios; without this index that scans all of the rep's attempts once per scenario.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-27 13:10:00

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('attempt', schema=None) as batch_op:
        batch_op.create_index('ix_attempt_user_scenario_answered', ['user_id', 'scenario_id', 'answered_at'], unique=False)


def downgrade():
    with op.batch_alter_table('attempt', schema=None) as batch_op:
        batch_op.drop_index('ix_attempt_user_scenario_answered')
