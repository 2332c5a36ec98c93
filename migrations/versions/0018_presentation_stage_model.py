"""presentation.stage_model_id: the stage rules an item was shown under, recorded when it is shown

An item is graded, and its feedback worded, by the stage rules in force when it was shown. They were chosen by time (the
newest imported at or before the showing, or the version's save if later), which mixes the web server's clock with the
clock of the host that ran the import: an import from a host a few minutes behind, landing while an item was on a rep's
screen, read as imported before it was shown, and an item whose stage it renamed was a 500 (KeyError) on answering. Now
the newest rules' id is read with the version shown, in one statement, and stored with the showing. NULL (every item
shown before this migration): chosen by time, as before.

A plain integer, not a foreign key: on SQLite adding a constrained column rebuilds the table, every item ever shown;
stage rules' versions are never deleted.

Revision ID: 0018
Revises: 0017
Create Date: 2026-11-28 20:30:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0018'
down_revision = '0017'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('presentation', schema=None) as batch_op:
        batch_op.add_column(sa.Column('stage_model_id', sa.Integer(), nullable=True))


def downgrade():
    # ALTER TABLE DROP COLUMN, not a batch rebuild: on SQLite, with foreign keys on, dropping the old presentation
    # table failed on every item answered (attempt refers to it) and would delete the drill sessions' cascading rows
    op.drop_column('presentation', 'stage_model_id')
