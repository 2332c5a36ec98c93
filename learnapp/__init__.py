"""learnapp: spaced-practice drills for sales teams.

Reps answer short scenarios about leads; answers are graded against the rules of the buyer's
stage and FSRS brings each skill back just before it would be forgotten. The Flask application
lives in ``learnapp.app``; this package root imports no Flask so the pure domain code can be used alone.
"""

__version__ = "0.1.0"


def create_app(test_config=None):
    """Build the Flask app (``flask --app learnapp`` finds this); imports Flask only when called.

    Inside a flask command a bad setting arrives as a ClickException (see ``learnapp.app._settings``),
    which click prints as one "Error: ..." line. But ``flask --app learnapp --help`` loads the app to
    list its commands inside flask's own ``except Exception``, which prints anything but its
    NoAppException as a traceback; so the line is printed here and the command stops, the same
    way for --help as for any command.
    """
    import click

    from learnapp.app import create_app as _create_app

    try:
        return _create_app(test_config)
    except click.ClickException as exc:
        exc.show()
        raise SystemExit(exc.exit_code) from None
