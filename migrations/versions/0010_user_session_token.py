"""user_account.session_token: logging out ends every copy of the login

Flask-Login keeps ``get_id()`` in the session and the "keep me logged in" cookie. It was the bare
user id, the same at every login, so a copied cookie kept working after logout. It is now the id
and a random token that logout (and a password change) replaces. Existing users get a token each;
their open sessions end once (they log in again).

The column is added NOT NULL with an empty default in one ALTER TABLE ADD COLUMN: changing a column's
nullability afterwards makes Alembic rebuild the table on SQLite, and with foreign keys on, dropping
the old user_account fails on users with attempts and silently deletes their cascading rows.
An empty token loads nobody (web/main.load_user); every existing user gets a real one here.

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-27 19:40:00

"""
import secrets

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade():
    op.add_column('user_account', sa.Column('session_token', sa.String(length=64), nullable=False, server_default=''))
    users = sa.table('user_account', sa.column('id', sa.Integer), sa.column('session_token', sa.String))
    connection = op.get_bind()
    for (user_id,) in connection.execute(sa.select(users.c.id)).all():
        connection.execute(users.update().where(users.c.id == user_id).values(session_token=secrets.token_urlsafe(24)))


def downgrade():
    # ALTER TABLE DROP COLUMN (SQLite 3.35+), not a batch rebuild: that would drop user_account (see above)
    op.drop_column('user_account', 'session_token')
