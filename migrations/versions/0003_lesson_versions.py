"""lesson versions

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-24 04:53:45.098687

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade():
    
    op.create_table('lesson_version',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('skill_id', sa.String(length=80), nullable=False),
    sa.Column('number', sa.Integer(), nullable=False),
    sa.Column('content_hash', sa.String(length=64), nullable=False),
    sa.Column('data', sa.JSON(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('created_by', sa.String(length=254), nullable=False),
    sa.ForeignKeyConstraint(['skill_id'], ['skill.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('skill_id', 'number')
    )
    with op.batch_alter_table('lesson_version', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_lesson_version_skill_id'), ['skill_id'], unique=False)

    with op.batch_alter_table('skill', schema=None) as batch_op:
        batch_op.add_column(sa.Column('current_number', sa.Integer(), nullable=False, server_default='1'))

    _first_versions()


def _first_versions():
    """Version 1 of every lesson already imported: its skill's current_number is 1, and without the version it
    names the trainer's history of that lesson was a 404 (a database upgraded from 0001 or 0002, or one taken below
    0003 and back). The data is what services.content.store_lesson keeps (the lesson without its path), the hash the
    skill's own, when and who those of its import."""
    skill = sa.table('skill', sa.column('id', sa.String), sa.column('title', sa.String), sa.column('summary', sa.String),
                     sa.column('position', sa.Integer), sa.column('lesson_md', sa.Text),
                     sa.column('content_hash', sa.String), sa.column('updated_at', sa.DateTime(timezone=True)))
    version = sa.table('lesson_version', sa.column('skill_id', sa.String), sa.column('number', sa.Integer),
                       sa.column('content_hash', sa.String), sa.column('data', sa.JSON),
                       sa.column('created_at', sa.DateTime(timezone=True)), sa.column('created_by', sa.String))
    rows = [{'skill_id': s.id, 'number': 1, 'content_hash': s.content_hash, 'created_at': s.updated_at, 'created_by': 'import',
             'data': {'skill': s.id, 'title': s.title, 'body': s.lesson_md, 'position': s.position, 'summary': s.summary}}
            for s in op.get_bind().execute(sa.select(skill)).all()]
    if rows:
        op.bulk_insert(version, rows)


def downgrade():
    
    # ALTER TABLE DROP COLUMN, not a batch rebuild: on SQLite, with foreign keys on, dropping the old skill table
    # failed (scenarios, memory states and attempts refer to it)
    op.drop_column('skill', 'current_number')

    with op.batch_alter_table('lesson_version', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_lesson_version_skill_id'))

    op.drop_table('lesson_version')
    
