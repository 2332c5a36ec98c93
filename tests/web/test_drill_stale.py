"""Stale drill tabs and malformed answer posts land on a page a rep can act on, never a bare 400 or 500."""

from datetime import timedelta

import pytest

from learnapp.extensions import db
from learnapp.models import Attempt
from learnapp.services import drill
from learnapp.services.db import now
from tests.conftest import csrf_token
from tests.helpers import form_for, right_answer


def _attempts() -> int:
    return db.session.scalar(db.select(db.func.count(Attempt.id)))


def _said(response) -> str:
    return " ".join(response.get_data(as_text=True).split())


def test_answer_with_nothing_picked_in_a_stale_tab_shows_the_answer_already_given(content, make_user, auth, client):
    rep = make_user("rep")
    auth.login(rep.email)
    page = client.get("/drill/").get_data(as_text=True)  # the same item open in two tabs
    item = drill.current_item(rep, now())
    assert client.post("/drill/answer", data=form_for(page, right_answer(item))).status_code == 303  # first tab
    stale = {k: v for k, v in form_for(page, "x").items() if k not in ("choice", "order")}
    response = client.post("/drill/answer", data=stale, follow_redirects=True)  # second tab: Answer, nothing picked
    assert response.status_code == 200 and response.request.path == f"/drill/feedback/{item.presentation.token}"
    assert "You had already answered this item; your first answer counts." in _said(response)
    assert _attempts() == 1


@pytest.mark.parametrize("answer", [{}, {"choice": "no-such-move"}, {"order": "1 2"}, {"choice": "x", "order": "9 9 x"}])
def test_a_malformed_answer_from_a_tab_left_open_since_an_earlier_day_lands_back_at_the_drill(
        content, make_user, auth, client, clock, answer):
    """Before: a bare "Bad request" page naming only the fault of the form (walk-through)."""
    rep = make_user("rep")
    auth.login(rep.email)
    page = client.get("/drill/").get_data(as_text=True)
    clock.advance(timedelta(days=1))  # the tab stays open overnight; the next day's drill is planned meanwhile
    client.get("/drill/")
    stale = {k: v for k, v in form_for(page, "x").items() if k not in ("choice", "order")}
    response = client.post("/drill/answer", data={**stale, **answer})
    assert response.status_code == 303 and response.headers["Location"].endswith("/drill/")
    landed = client.get(response.headers["Location"])
    assert landed.status_code == 200
    assert "Nothing was recorded: that page showed an item no longer in your drill" in _said(landed)
    assert _attempts() == 0


def test_a_token_of_another_rep_says_what_happened_and_links_back_to_the_drill(content, make_user, auth, client):
    owner, intruder = make_user("rep"), make_user("rep")
    token = drill.current_item(owner, now()).presentation.token
    auth.login(intruder.email)
    response = client.post("/drill/answer", data={"token": token, "csrf_token": csrf_token(client, "/drill/")})
    assert response.status_code == 404
    assert "This drill item is not yours or no longer exists." in _said(response)
    assert 'href="/drill/"' in response.get_data(as_text=True)
    assert _attempts() == 0


def test_answer_with_nothing_picked_without_javascript_says_to_pick_an_answer_first(content, make_user, auth, client):
    rep = make_user("rep")
    auth.login(rep.email)
    page = client.get("/drill/").get_data(as_text=True)
    response = client.post("/drill/answer", data={k: v for k, v in form_for(page, "x").items() if k not in ("choice", "order")})
    assert response.status_code == 400 and 'name="token"' in response.get_data(as_text=True)  # the item again
    if "order" not in page:
        assert "Pick an answer first" in _said(response)
    assert _attempts() == 0


def test_a_well_formed_answer_from_a_tab_left_open_since_an_earlier_day_is_not_recorded(
        content, make_user, auth, client, clock):
    """Before: recorded against yesterday's drill (while a malformed one was told the item was no longer in the drill)."""
    rep = make_user("rep")
    auth.login(rep.email)
    page = client.get("/drill/").get_data(as_text=True)
    item = drill.current_item(rep, now())
    form = form_for(page, right_answer(item))
    clock.advance(timedelta(days=1))  # the tab stays open overnight; the rep answers it the next morning
    response = client.post("/drill/answer", data=form)
    assert response.status_code == 303 and response.headers["Location"].endswith("/drill/")
    landed = client.get(response.headers["Location"])
    assert landed.status_code == 200 and "Item 1 of" in _said(landed)  # today's drill, planned now
    assert "Nothing was recorded: that page showed an item no longer in your drill" in _said(landed)
    assert _attempts() == 0
    assert drill.current_item(rep, now()).presentation.session_id != item.presentation.session_id


def test_an_answer_sent_a_second_after_midnight_to_an_item_shown_a_minute_before_is_recorded(
        content, make_user, auth, client, clock):
    rep = make_user("rep")
    auth.login(rep.email)
    midnight = drill.day_end(rep, drill.local_day(rep, now()))
    clock.set(midnight - timedelta(minutes=1))
    page = client.get("/drill/").get_data(as_text=True)
    item = drill.current_item(rep, now())
    form = form_for(page, right_answer(item))
    clock.set(midnight + timedelta(seconds=1))
    response = client.post("/drill/answer", data=form)
    assert response.status_code == 303 and response.headers["Location"].endswith(f"/drill/feedback/{item.presentation.token}")
    assert _attempts() == 1
