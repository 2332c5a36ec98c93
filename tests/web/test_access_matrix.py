"""Every route, requested by every kind of user: nobody sees what is not theirs, and every change is a POST with a
CSRF token.

ROUTES holds one decision per endpoint of ``app.url_map``: the requests that exercise it (with other people's ids,
tokens and teams where the route takes one) and, for each kind of visitor, what must happen. A route added without
a decision here fails ``test_every_route_has_a_decision``.

The visitors: ``anonymous``; ``rep``, a rep of North whose attempt, vacation, password link and unsubscribe link the
requests name; ``peer``, another rep of North; ``manager`` of North; ``other_manager``, of South; ``trainer``, a
member of North; ``admin``, of no team.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

import pytest

from learnapp.extensions import csrf, db
from learnapp.models import Scenario, Skill
from learnapp.services import drill, notify, password_links
from learnapp.services.content import current_stage_model
from learnapp.services.db import now
from learnapp.services.vacations import add_vacation
from tests.conftest import Auth, csrf_token
from tests.helpers import right_answer

VISITORS = ("anonymous", "rep", "peer", "manager", "other_manager", "trainer", "admin")
OK = "ok"  # a page, or a redirect elsewhere than the login form (a form refused for its content, 400, counts)
LOGIN = "login"  # sent to the login form


def access(default, **visitors) -> dict[str, object]:
    """What each visitor gets: ``default`` for anyone not named."""
    return {v: visitors.get(v, default) for v in VISITORS}


PUBLIC = access(OK)
LOGGED_IN = access(OK, anonymous=LOGIN)
OWN_ONLY = access(404, anonymous=LOGIN, rep=OK)  # the rep's own attempt: nobody else's, not even their manager's
OWN_OR_LEADERS = access(404, anonymous=LOGIN, rep=OK, manager=OK, admin=OK)  # the rep, North's manager, an admin
LEADERS = access(403, anonymous=LOGIN, manager=OK, other_manager=OK, admin=OK)  # each manager sees their own teams
NORTH_LEADERS = access(403, anonymous=LOGIN, manager=OK, other_manager=404, admin=OK)
SOUTH_LEADERS = access(403, anonymous=LOGIN, manager=404, other_manager=OK, admin=OK)
AUTHORS = access(403, anonymous=LOGIN, trainer=OK, admin=OK)
ADMINS = access(403, anonymous=LOGIN, admin=OK)


@dataclass
class Request:
    method: str
    url: str  # with {placeholders} filled from the ``world`` fixture
    who: dict[str, object]
    data: dict = field(default_factory=dict)


def get(url, who, **data):
    return Request("GET", url, who, data)


def post(url, who, **data):
    return Request("POST", url, who, data)


VACATION = {"start": "2026-04-06", "end": "2026-04-08"}

ROUTES: dict[str, list[Request]] = {
    "static": [get("/static/app.css", PUBLIC)],
    "main.healthz": [get("/healthz", PUBLIC)],
    "main.index": [get("/", LOGGED_IN)],
    "auth.login": [get("/login", PUBLIC), post("/login", PUBLIC)],
    "auth.forgot": [get("/password/forgot", PUBLIC), post("/password/forgot", PUBLIC)],
    # whoever holds the link: it is the proof (an empty form changes nothing)
    "auth.set_password": [get("/password/{link}", PUBLIC), post("/password/{link}", PUBLIC)],
    "auth.logout": [post("/logout", LOGGED_IN)],  # a logged-in visitor lands on the login form, logged out
    "drill.today": [get("/drill/", LOGGED_IN)],
    "drill.more": [post("/drill/more", LOGGED_IN)],
    "drill.answer": [post("/drill/answer", OWN_ONLY, token="{token}", choice="x")],
    "drill.feedback": [get("/drill/feedback/{token}", OWN_ONLY)],
    "lessons.index": [get("/lessons/", LOGGED_IN)],
    "lessons.show": [get("/lessons/{skill}", LOGGED_IN)],
    "lessons.stage": [get("/lessons/stages/{stage}", LOGGED_IN)],
    "progress.mine": [get("/progress/", LOGGED_IN)],
    "progress.answers_csv": [get("/progress/answers.csv", LOGGED_IN)],  # each their own answers only
    "team.index": [get("/team/", LEADERS)],
    # a manager's own digest; North's manager's: North's manager and an admin (who lists every manager's at /team/digest)
    "team.digest": [get("/team/digest", LEADERS), get("/team/digest/{manager}", NORTH_LEADERS)],
    "team.show": [get("/team/{north}", NORTH_LEADERS), get("/team/{south}", SOUTH_LEADERS)],
    "team.data_csv": [get("/team/{north}/data/recall.csv", NORTH_LEADERS),
                      get("/team/{north}/data/participation.csv", NORTH_LEADERS),
                      get("/team/{south}/data/participation.csv", SOUTH_LEADERS)],
    "team.chart_svg": [get("/team/{north}/chart/retention.svg", NORTH_LEADERS)],
    "team.skill": [get("/team/{north}/skill/{skill}", NORTH_LEADERS)],
    "team.rep": [get("/team/rep/{rep}", NORTH_LEADERS), get("/team/rep/{stranger}", SOUTH_LEADERS),
                 # a trainer or an admin who is a member of North is not one of its reps
                 get("/team/rep/{trainer}", access(403, anonymous=LOGIN, manager=404, other_manager=404, admin=OK)),
                 get("/team/rep/{admin_in_north}", access(403, anonymous=LOGIN, manager=404, other_manager=404, admin=OK))],
    "team.working_days": [post("/team/rep/{rep}/working-days", NORTH_LEADERS, day=["0", "1"], since="")],
    "vacations.add": [post("/vacations/{rep}", OWN_OR_LEADERS, **VACATION),
                      post("/vacations/{trainer}", access(404, anonymous=LOGIN, trainer=OK, admin=OK), **VACATION)],
    "vacations.delete": [post("/vacations/{rep}/{vacation}/delete", OWN_OR_LEADERS),
                         # the peer's own id with the rep's vacation: nobody's
                         post("/vacations/{peer}/{vacation}/delete", access(404, anonymous=LOGIN))],
    "settings.edit": [get("/settings", LOGGED_IN), post("/settings", LOGGED_IN)],
    "settings.password_page": [get("/settings/password", PUBLIC)],  # a redirect to /settings, which asks to log in
    "settings.password": [post("/settings/password", LOGGED_IN)],
    "settings.unsubscribe_page": [get("/unsubscribe/{unsubscribe}", PUBLIC)],
    "settings.unsubscribe": [post("/unsubscribe/{unsubscribe}", PUBLIC)],  # the signed token is the proof
    "author.index": [get("/author/", AUTHORS)],
    "author.guide": [get("/author/guide", AUTHORS)],
    "author.new": [get("/author/scenarios/new", AUTHORS)],
    "author.edit": [get("/author/scenarios/{scenario}/edit", AUTHORS)],
    "author.save": [post("/author/scenarios/new", AUTHORS), post("/author/scenarios/{scenario}/edit", AUTHORS)],
    "author.history": [get("/author/scenarios/{scenario}/history", AUTHORS)],
    "author.try_it": [get("/author/scenarios/{scenario}/try", AUTHORS), post("/author/scenarios/{scenario}/try", AUTHORS)],
    "author.change_status": [post("/author/scenarios/{scenario}/retire", AUTHORS),
                             post("/author/scenarios/{scenario}/restore", AUTHORS)],
    "author.validate": [post("/author/validate", AUTHORS)],
    "author.edit_lesson": [get("/author/lessons/{skill}/edit", AUTHORS)],
    "author.save_lesson": [post("/author/lessons/{skill}/edit", AUTHORS)],
    "author.lesson_history": [get("/author/lessons/{skill}/history", AUTHORS)],
    "admin.jobs": [get("/admin/jobs", ADMINS)],
    "admin.people": [get("/admin/people", ADMINS)],
    "admin.create_person": [post("/admin/people", ADMINS)],
    "admin.create_team_view": [post("/admin/teams", ADMINS)],
    "admin.team": [get("/admin/teams/{north}", ADMINS)],
    "admin.rename_team_view": [post("/admin/teams/{north}", ADMINS)],
    "admin.delete_team_view": [post("/admin/teams/{north}/delete", ADMINS)],  # refused: North has members
    "admin.person": [get("/admin/people/{rep}", ADMINS)],
    "admin.update_person": [post("/admin/people/{rep}", ADMINS)],
    "admin.reset_person_password": [post("/admin/people/{rep}/password", ADMINS)],
    "admin.make_link": [post("/admin/people/{rep}/link", ADMINS)],
    "admin.email_link": [post("/admin/people/{rep}/link/email", ADMINS)],
    "admin.erase": [post("/admin/people/{rep}/erase", ADMINS)],  # an admin's, without the typed address: refused
    "admin.import_people": [get("/admin/people/import", ADMINS)],
    "admin.import_people_post": [post("/admin/people/import", ADMINS)],
}

# GETs that write, on purpose: the first showing of a drill item is stored (which variant, option order, when)
WRITES_ON_GET = {"drill.today"}
# POSTs without a CSRF token: mail clients send RFC 8058 one-click unsubscribes without a form
CSRF_EXEMPT = {"settings.unsubscribe"}
LAST = {"auth.logout"}  # ends the visitor's sessions: requested after everything else


def _requests():
    """(endpoint, request) in table order, with the ones in LAST at the end."""
    pairs = [(endpoint, r) for endpoint, requests in ROUTES.items() for r in requests]
    return sorted(pairs, key=lambda pair: pair[0] in LAST)


# -- the world the requests name ------------------------------------------------------------------------------

@pytest.fixture
def world(content, make_user):
    """The people, and the ids and tokens the URLs name: the rep's own attempt, vacation and links."""
    people = {
        "rep": make_user("rep", team="North"),
        "peer": make_user("rep", team="North"),
        "stranger": make_user("rep", team="South"),
        "manager": make_user("manager", team="North"),
        "other_manager": make_user("manager", team="South"),
        "trainer": make_user("trainer", team="North"),
        "admin": make_user("admin", team=None),
        "admin_in_north": make_user("admin", team="North"),
    }
    rep = people["rep"]
    item = drill.current_item(rep, now())
    drill.submit_answer(rep, item.presentation.token, right_answer(item), now())
    vacation = add_vacation(rep, date(2026, 5, 4), date(2026, 5, 8), by=rep, now=now())
    names = {
        "north": people["manager"].led_teams[0].id, "south": people["other_manager"].led_teams[0].id,
        "rep": rep.id, "peer": people["peer"].id, "manager": people["manager"].id, "stranger": people["stranger"].id, "trainer": people["trainer"].id,
        "admin_in_north": people["admin_in_north"].id, "vacation": vacation.id, "token": item.presentation.token,
        "link": password_links.token(rep, password_links.RESET), "unsubscribe": notify.unsubscribe_token(rep, notify.REMINDER),
        "scenario": db.session.scalars(db.select(Scenario.id).order_by(Scenario.id)).first(),
        "skill": db.session.scalars(db.select(Skill.id).order_by(Skill.id)).first(),
        "stage": current_stage_model().stages[0].id,
    }
    return people, names


def _client(app, people, visitor):
    client = app.test_client()  # each request in an app context of its own (tests/conftest.py RequestClient)
    if visitor != "anonymous":
        response = Auth(client).login(people[visitor].email)
        assert response.status_code == 302, response.get_data(as_text=True)
    return client


def _snapshot() -> dict[str, list]:
    """Every row of every table, read on a connection of its own."""
    with db.engine.connect() as connection:
        return {table.name: sorted(map(repr, connection.execute(table.select())))
                for table in db.metadata.sorted_tables}


def _changed(before: dict, after: dict) -> list[str]:
    return [name for name in before if before[name] != after[name]]


def _send(client, r: Request, names: dict, *, token: str | None):
    data = {k: ([v.format(**names) for v in value] if isinstance(value, list) else value.format(**names))
            for k, value in r.data.items()}
    if token is not None:
        data["csrf_token"] = token
    url = r.url.format(**names)
    return client.get(url) if r.method == "GET" else client.post(url, data=data)


def _outcome(response) -> object:
    location = response.headers.get("Location", "")
    if response.status_code in (301, 302, 303) and location.startswith("/login"):
        return LOGIN
    if response.status_code in (403, 404, 405) or response.status_code >= 500:
        return response.status_code
    return OK


# -- the table covers every route -----------------------------------------------------------------------------

class _AnyName(dict):
    """Fills every placeholder with 7: a row id, a token, a scenario or skill id all match their rule with it."""

    def __missing__(self, key):
        return "7"


def test_every_route_has_a_decision(app):
    """Every rule and method of the URL map is requested by some row of ROUTES (a new route needs one)."""
    adapter = app.url_map.bind("localhost")
    exercised = set()
    for endpoint, requests in ROUTES.items():
        for r in requests:
            rule, _ = adapter.match(r.url.format_map(_AnyName()), method=r.method, return_rule=True)
            assert rule.endpoint == endpoint, f"{r.method} {r.url} is {rule.endpoint}, listed under {endpoint}"
            exercised.add((rule.rule, r.method))
    missing = [f"{method} {rule.rule} ({rule.endpoint})" for rule in app.url_map.iter_rules()
               for method in sorted(rule.methods - {"HEAD", "OPTIONS"}) if (rule.rule, method) not in exercised]
    assert not missing, "routes with no access decision in ROUTES: " + ", ".join(missing)


# -- who gets what --------------------------------------------------------------------------------------------

@pytest.mark.parametrize("visitor", VISITORS)
def test_each_visitor_gets_what_the_table_says_and_refusals_change_nothing(app, world, visitor):
    """Every request of ROUTES, with a valid CSRF token (what is tested is the access check); a refused request and
    every GET but the drill's change no row of any table."""
    people, names = world
    client = _client(app, people, visitor)
    token = csrf_token(client, "/login")
    wrong = []
    before = _snapshot()
    for endpoint, r in _requests():
        response = _send(client, r, names, token=token)
        expected, got = r.who[visitor], _outcome(response)
        if endpoint == "auth.logout" and visitor != "anonymous" and got == LOGIN:  # sent to the login form, logged out
            got = OK if _outcome(client.get("/progress/")) == LOGIN else "still logged in"
        after = _snapshot()
        if got != expected:
            wrong.append(f"{r.method} {r.url}: expected {expected}, got {response.status_code} {got}")
        elif (got != OK and endpoint not in LAST) or (r.method == "GET" and endpoint not in WRITES_ON_GET):
            if _changed(before, after):
                wrong.append(f"{r.method} {r.url} ({got}) changed {_changed(before, after)}")
        before = after
    assert not wrong, f"as {visitor}:\n" + "\n".join(wrong)


# -- every change is a POST with a CSRF token -----------------------------------------------------------------

def _first_allowed(r: Request) -> str:
    """Someone the row lets in (a row that lets nobody in: an admin, refused for the token before the view)."""
    return next((v for v in ("admin", "rep", "manager", "trainer", "anonymous") if r.who[v] == OK), "admin")


def test_a_post_without_a_valid_csrf_token_is_refused_and_changes_nothing(app, world):
    """Sent by someone the route lets in: without a token, with a made-up one, and with another session's."""
    people, names = world
    clients = {visitor: _client(app, people, visitor) for visitor in ("admin", "rep", "manager", "trainer", "anonymous")}
    another_sessions = csrf_token(_client(app, people, "anonymous"), "/login")
    wrong = []
    before = _snapshot()
    for endpoint, r in _requests():
        if r.method != "POST" or endpoint in CSRF_EXEMPT:
            continue
        visitor = _first_allowed(r)
        client = clients[visitor]
        for token in (None, "not-a-token", another_sessions):
            response = _send(client, r, names, token=token)
            if response.status_code != 400 or "Form expired" not in response.get_data(as_text=True):
                wrong.append(f"POST {r.url} as {visitor} with token {token!r}: {response.status_code}")
    after = _snapshot()
    assert not wrong, "\n".join(wrong)
    assert not _changed(before, after), f"refused POSTs changed {_changed(before, after)}"


def test_only_the_one_click_unsubscribe_is_exempt_from_csrf(app):
    exempt = {f"{bp}.{view.rsplit('.', 1)[1]}" for view in csrf._exempt_views
              for bp in [view.rsplit(".", 2)[-2]]}
    assert exempt == CSRF_EXEMPT and not csrf._exempt_blueprints
    assert app.config.get("WTF_CSRF_ENABLED", True) and app.config.get("WTF_CSRF_CHECK_DEFAULT", True)


def test_routes_that_change_state_refuse_get(app, world):
    """A POST-only route answers a GET with 405; a route that takes both changes nothing on a GET (above)."""
    people, names = world
    client = _client(app, people, "admin")
    before = _snapshot()
    adapter = app.url_map.bind("localhost")
    for requests in ROUTES.values():
        for r in requests:
            url = r.url.format(**names)
            if r.method != "POST" or "GET" in adapter.allowed_methods(url):
                continue
            assert client.get(url).status_code == 405, url
    assert not _changed(before, _snapshot())
