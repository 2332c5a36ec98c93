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
    listing = client.get("/team/").get_data(as_text=True)
    assert "North" in listing and "South" not in listing
    team_page = client.get(f"/team/{people['rep'].team_id}").get_data(as_text=True)
    assert people["rep"].name in team_page and people["stranger"].name not in team_page


def test_an_admin_sees_every_team(people, auth, client):
    auth.login(people["admin"].email)
    listing = client.get("/team/").get_data(as_text=True)
    assert "North" in listing and "South" in listing
    assert client.get(f"/team/rep/{people['stranger'].id}").status_code == 200


def test_pages_send_a_strict_content_security_policy(people, auth, client):
    auth.login(people["rep"].email)
    policy = client.get("/drill/").headers["Content-Security-Policy"]
    assert "script-src 'self'" in policy and "unsafe-inline" not in policy
