"""Nothing a user types returns a 500: odd paths, odd form fields, odd tokens."""

import pytest

from tests.conftest import csrf_token

JUNK = ["", "x" * 5000, "'; drop table attempt; --", "<script>alert(1)</script>", "\u0000", "../../etc/passwd", "😀", "1" * 40]


@pytest.fixture
def rep_client(content, make_user, auth, client):
    auth.login(make_user("rep").email)
    return client


@pytest.mark.parametrize("junk", JUNK)
def test_junk_answers_and_tokens_get_a_clear_4xx(rep_client, junk):
    token = csrf_token(rep_client, "/drill/")
    for data in ({"token": junk, "choice": junk}, {"token": junk, "order": junk}, {"choice": junk}):
        response = rep_client.post("/drill/answer", data={**data, "csrf_token": token})
        assert 400 <= response.status_code < 500


@pytest.mark.parametrize("junk", ["x", "0" * 32, "%00", "a" * 300])
def test_junk_urls_are_404(rep_client, junk):
    for url in (f"/drill/feedback/{junk}", f"/lessons/{junk}", f"/lessons/stages/{junk}", f"/team/{junk}", f"/team/rep/{junk}"):
        assert rep_client.get(url).status_code in (400, 403, 404), url


def test_a_nul_in_any_value_of_a_repeated_field_is_refused(rep_client):
    assert rep_client.get("/progress/?x=fine&x=bad%00").status_code == 400
    response = rep_client.post("/settings", data={"reminder_days": ["0", "1\x00"], "reminder_time": "09:00", "timezone": "UTC",
                                                  "csrf_token": csrf_token(rep_client, "/settings")})
    assert response.status_code == 400 and "NUL character" in response.get_data(as_text=True)


@pytest.mark.parametrize("junk", JUNK)
def test_junk_logins_rerender_the_form(client, content, junk):
    response = client.post("/login", data={"email": junk, "password": junk, "csrf_token": csrf_token(client)})
    page = response.get_data(as_text=True)
    assert response.status_code == 400 and ("<form" in page or "NUL character" in page)


def test_order_answer_with_wrong_numbers_rerenders_the_item(rep_client, content):
    from learnapp.extensions import db
    from learnapp.models import Presentation

    page = rep_client.get("/drill/").get_data(as_text=True)
    token = db.session.scalars(db.select(Presentation.token)).first()
    response = rep_client.post("/drill/answer", data={"token": token, "order": "1 1 9", "csrf_token": csrf_token(rep_client, "/drill/")})
    assert response.status_code == 400
    assert 'class="error"' in response.get_data(as_text=True) and page
