"""scenario_version.stage_model_id: the stage rules a scenario version was checked against, recorded when it is stored

The editor's history writes each version (its answer line) under stage rules. They were chosen by time (the newest
imported at or before the version's save), which mixes the web server's clock with the clock of the host that ran an
import: a version saved in the editor a minute before an import from a host five minutes behind read as saved after
it, and was written under the rules that import brought (a stage they renamed: no answer line, so the diffs showed the
answer dropped by the trainer's save and brought back by the import). Now the INSERT reads the newest rules' id, the
ones the version was checked against under the content lock. NULL (every version stored before this migration):
chosen by time, as before.

A plain integer, not a foreign key, as presentation.stage_model_id (0018): stage rules' versions are never deleted.

Revision ID: 0019
Revises: 0018
Create Date: 2026-11-28 20:45:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0019'
down_revision = '0018'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('scenario_version', schema=None) as batch_op:
        batch_op.add_column(sa.Column('stage_model_id', sa.Integer(), nullable=True))


def downgrade():
    # ALTER TABLE DROP COLUMN, not a batch rebuild: on SQLite, with foreign keys on, dropping the old scenario_version
    # table fails on every version shown or answered (presentation and attempt refer to it)
    op.drop_column('scenario_version', 'stage_model_id')
