"""Nobody sees what is not theirs: reps, managers of other teams, anonymous visitors."""

import pytest

from learnapp.services import drill
from learnapp.services.db import now


@pytest.fixture
def people(content, make_user):
    return {
        "rep": make_user("rep", team="North"),
        "peer": make_user("rep", team="North"),
        "stranger": make_user("rep", team="South"),
        "manager": make_user("manager", team="North"),
        "other_manager": make_user("manager", team="South"),
        "admin": make_user("admin", team=None),
    }


def test_anonymous_visitors_are_sent_to_login(client, people):
    for url in ("/drill/", "/progress/", "/team/", f"/team/rep/{people['rep'].id}", "/lessons/"):
        response = client.get(url)
        assert response.status_code == 302 and "/login" in response.headers["Location"], url


@pytest.mark.parametrize("url", ["/team/", "/team/{team}", "/team/rep/{peer}", "/team/rep/{rep}"])
def test_a_rep_opens_no_manager_page(people, auth, client, url):
    auth.login(people["rep"].email)
    target = url.format(team=people["rep"].team_id, peer=people["peer"].id, rep=people["rep"].id)
    assert client.get(target).status_code in (403, 404)


def test_a_manager_sees_only_their_own_team(people, auth, client):
    drill.current_item(people["stranger"], now())
    auth.login(people["manager"].email)
    assert client.get(f"/team/rep/{people['rep'].id}").status_code == 200
    assert client.get(f"/team/rep/{people['stranger'].id}").status_code == 404
    assert client.get(f"/team/{people['stranger'].team_id}").status_code == 404
    listing = client.get("/team/", follow_redirects=True).get_data(as_text=True)  # their one team's dashboard
    assert "North" in listing and "South" not in listing
    team_page = client.get(f"/team/{people['rep'].team_id}").get_data(as_text=True)
    assert people["rep"].name in team_page and people["stranger"].name not in team_page


def test_an_admin_sees_every_team(people, auth, client):
    auth.login(people["admin"].email)
    listing = client.get("/team/").get_data(as_text=True)
    assert "North" in listing and "South" in listing
    assert "<h1>Teams</h1>" in listing and "Your teams" not in listing  # they lead none of them
    assert client.get(f"/team/rep/{people['stranger'].id}").status_code == 200


def test_pages_send_a_strict_content_security_policy(people, auth, client):
    auth.login(people["rep"].email)
    policy = client.get("/drill/").headers["Content-Security-Policy"]
    assert "script-src 'self'" in policy and "unsafe-inline" not in policy


def test_a_manager_sees_no_trainer_or_admin_of_their_team(people, make_user, auth, client):
    """Trainers and admins may belong to a team without being its reps: its manager neither sees their practice
    nor pauses it (it was open to them: their progress page, and a vacation added to their account)."""
    from learnapp.extensions import db
    from learnapp.models import Vacation
    from tests.conftest import csrf_token

    trainer, admin = make_user("trainer", team="North"), make_user("admin", team="North")
    auth.login(people["manager"].email)
    for member in (trainer, admin):
        assert client.get(f"/team/rep/{member.id}").status_code == 404
        response = client.post(f"/vacations/{member.id}", data={"start": "2026-04-06", "end": "2026-04-08",
                                                                "csrf_token": csrf_token(client, "/settings")})
        assert response.status_code == 404
    assert db.session.scalars(db.select(Vacation)).all() == []
    assert client.get(f"/team/rep/{people['rep'].id}").status_code == 200


def test_a_manager_still_sees_a_rep_who_became_a_trainer(people, auth, client):
    """A rep given another role stays in the team's past ranges, linked to their page."""
    from learnapp.services.users import update_account

    rep, admin = people["rep"], people["admin"]
    update_account(rep, name=rep.name, email=rep.email, role="trainer", timezone=rep.timezone, team_id=rep.team_id,
                   leads=[], active=True, by=admin, now=now())
    auth.login(people["manager"].email)
    assert client.get(f"/team/rep/{rep.id}").status_code == 200


def test_a_manager_of_one_team_goes_straight_to_its_dashboard(people, auth, client):
    """Before: "Your teams" listed the one team, and every visit to Team took an extra click."""
    north = people["manager"].led_teams[0].id
    auth.login(people["manager"].email)
    response = client.get("/team/")
    assert response.status_code == 302 and response.headers["Location"].endswith(f"/team/{north}")
    response = client.get("/", follow_redirects=True)  # logging in lands there too
    assert response.request.path == f"/team/{north}"
