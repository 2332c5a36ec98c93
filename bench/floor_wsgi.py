"""The app exactly as wsgi.py serves it, plus two bench-only routes that give the framework's floor.

bench/load.py serves this module, so the same server answers the drill and these routes:

- ``/bench/floor/user``: a logged-in request that does nothing but load its user (the session
  cookie, Flask-Login's user loader, one query) and return the user's id;
- ``/bench/floor/page``: the same plus the site layout (error.html on base.html) rendered with a
  sentence in it, the least a logged-in HTML page costs here.

No drill request can cost less than the second, so their throughput bounds what the drill mix
could reach on this machine and stack. Never served in production: wsgi.py has no such routes.
"""

from flask import render_template
from flask_login import current_user, login_required

from wsgi import app


@app.get("/bench/floor/user")
@login_required
def floor_user():
    return str(current_user.id)


@app.get("/bench/floor/page")
@login_required
def floor_page():
    return render_template("error.html", code=200, title="Floor", message="A logged-in page with the layout and nothing else.")
