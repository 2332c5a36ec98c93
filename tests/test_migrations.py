"""migrations/ builds the same schema as the models (SQLite here; .ci/run checks PostgreSQL too)."""

from learnapp.app import create_app


def test_db_upgrade_builds_the_models_schema(tmp_path):
    app = create_app({"SECRET_KEY": "k", "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'm.sqlite'}"})
    runner = app.test_cli_runner()
    upgrade = runner.invoke(args=["db", "upgrade"])
    assert upgrade.exit_code == 0, upgrade.output
    check = runner.invoke(args=["db", "check"])
    assert check.exit_code == 0, check.output
