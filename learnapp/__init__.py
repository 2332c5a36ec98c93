"""learnapp: spaced-practice drills for sales teams.

Reps answer short scenarios about leads; answers are graded against the rules of the buyer's
stage and FSRS brings each skill back just before it would be forgotten. The Flask application
lives in ``learnapp.app``; this package root imports no Flask so the pure domain code can be used alone.
"""

__version__ = "0.1.0"


def create_app(test_config=None):
    """Build the Flask app (``flask --app learnapp`` finds this); imports Flask only when called."""
    from learnapp.app import create_app as _create_app

    return _create_app(test_config)
