"""The rep's five minutes through the test client: log in, drill, feedback, summary, double submit."""

import re

from learnapp.extensions import db
from learnapp.models import Attempt
from learnapp.services import drill
from tests.conftest import csrf_token
from tests.helpers import form_for, right_answer, wrong_answer


def _current(rep):
    return drill.current_item(rep, drill_now())


def drill_now():
    from learnapp.services.db import now

    return now()


def test_login_lands_on_todays_drill(content, make_user, auth, client):
    rep = make_user("rep")
    response = auth.login(rep.email)
    assert response.status_code == 302
    page = client.get(response.headers["Location"], follow_redirects=True)
    assert page.request.path == "/drill/"
    assert "Item 1 of" in page.get_data(as_text=True)


def test_wrong_password_rerenders_the_form_with_a_message(content, make_user, auth):
    rep = make_user("rep")
    response = auth.login(rep.email, "not-the-password")
    assert response.status_code == 400
    assert "Email or password is wrong." in response.get_data(as_text=True)


def test_answer_gives_feedback_with_rule_and_lesson_link(content, make_user, auth, client):
    rep = make_user("rep")
    auth.login(rep.email)
    page = client.get("/drill/").get_data(as_text=True)
    item = _current(rep)
    response = client.post("/drill/answer", data=form_for(page, wrong_answer(item)))
    assert response.status_code == 303
    feedback = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Not quite" in feedback or "Partly right" in feedback
    assert "The rule:" in feedback
    assert f'href="/lessons/{item.scenario.skill}"' in feedback
    attempt = db.session.scalars(db.select(Attempt)).one()
    # wrong is Again (1), except order-steps with only two neighbouring steps swapped: Hard (2)
    assert attempt.correct is False and attempt.rating == (2 if attempt.verdict["near_miss"] else 1)


def test_right_answer_is_right_and_next_item_follows(content, make_user, auth, client):
    rep = make_user("rep")
    auth.login(rep.email)
    page = client.get("/drill/").get_data(as_text=True)
    item = _current(rep)
    feedback = client.post("/drill/answer", data=form_for(page, right_answer(item)), follow_redirects=True)
    assert "<h1>Right</h1>" in feedback.get_data(as_text=True)
    assert "Item 2 of" in client.get("/drill/").get_data(as_text=True)


def test_double_submit_records_one_attempt(content, make_user, auth, client):
    rep = make_user("rep")
    auth.login(rep.email)
    page = client.get("/drill/").get_data(as_text=True)
    data = form_for(page, right_answer(_current(rep)))
    first = client.post("/drill/answer", data=data)
    second = client.post("/drill/answer", data=data)
    assert first.headers["Location"] == second.headers["Location"]
    assert db.session.scalar(db.select(db.func.count(Attempt.id))) == 1


def test_refresh_shows_the_same_item(content, make_user, auth, client):
    rep = make_user("rep")
    auth.login(rep.email)
    first = re.search(r'name="token" value="(\w+)"', client.get("/drill/").get_data(as_text=True)).group(1)
    again = re.search(r'name="token" value="(\w+)"', client.get("/drill/").get_data(as_text=True)).group(1)
    assert first == again


def test_answer_without_csrf_token_is_refused(content, make_user, auth, client):
    rep = make_user("rep")
    auth.login(rep.email)
    page = client.get("/drill/").get_data(as_text=True)
    data = form_for(page, right_answer(_current(rep)))
    del data["csrf_token"]
    assert client.post("/drill/answer", data=data).status_code == 400
    assert db.session.scalar(db.select(db.func.count(Attempt.id))) == 0


def test_missing_or_bogus_answer_rerenders_with_error(content, make_user, auth, client):
    rep = make_user("rep")
    auth.login(rep.email)
    page = client.get("/drill/").get_data(as_text=True)
    data = form_for(page, "x")
    data.pop("choice", None)
    data.pop("order", None)
    response = client.post("/drill/answer", data={**data, "choice": "no-such-move", "order": "9 9 x"}
                           if "order=" in page else {**data, "choice": "no-such-move"})
    assert response.status_code == 400
    assert 'class="error"' in response.get_data(as_text=True)
    assert db.session.scalar(db.select(db.func.count(Attempt.id))) == 0


def test_a_rep_cannot_answer_another_reps_item(content, make_user, auth, client, app):
    owner = make_user("rep")
    intruder = make_user("rep")
    item = _current(owner)
    auth.login(intruder.email)
    response = client.post("/drill/answer", data={"token": item.presentation.token, "choice": "share-education",
                                                  "csrf_token": csrf_token(client, "/drill/")})
    assert response.status_code == 404
    assert client.get(f"/drill/feedback/{item.presentation.token}").status_code == 404
    assert db.session.scalar(db.select(db.func.count(Attempt.id)).filter_by(user_id=owner.id)) == 0


def test_finishing_the_drill_shows_score_streak_and_next_due(content, make_user, auth, client):
    rep = make_user("rep")
    auth.login(rep.email)
    total = 0
    while (item := _current(rep)) is not None:
        page = client.get("/drill/").get_data(as_text=True)
        client.post("/drill/answer", data=form_for(page, right_answer(item)))
        total += 1
    summary = client.get("/drill/").get_data(as_text=True)
    assert f"{total} of {total} right (100%)" in summary
    assert "Streak: <strong>1 day</strong>" in summary
    assert "Next drill due:" in summary and "–" not in summary.split("Next drill due:")[1][:40]


def test_progress_page_lists_every_skill_with_recall(content, make_user, auth, client):
    rep = make_user("rep")
    auth.login(rep.email)
    page = client.get("/drill/").get_data(as_text=True)
    client.post("/drill/answer", data=form_for(page, right_answer(_current(rep))))
    progress = client.get("/progress/").get_data(as_text=True)
    assert progress.count("<tr>") >= 1 + 8
    assert "100%" in progress and "not started" in progress


def test_logout_is_a_post(content, make_user, auth, client):
    rep = make_user("rep")
    auth.login(rep.email)
    assert client.get("/logout").status_code == 405
    auth.logout()
    assert client.get("/drill/").status_code == 302


def test_practise_more_is_a_post_from_the_summary(content, make_user, auth, client):
    rep = make_user("rep")
    auth.login(rep.email)
    while (item := _current(rep)) is not None:
        page = client.get("/drill/").get_data(as_text=True)
        client.post("/drill/answer", data=form_for(page, right_answer(item)))
    summary = client.get("/drill/").get_data(as_text=True)
    assert 'action="/drill/more"' in summary
    assert client.get("/drill/more").status_code == 405
    response = client.post("/drill/more", data={"csrf_token": csrf_token(client, "/drill/")})
    assert response.status_code == 303
    assert "Item 4 of 6" in client.get("/drill/").get_data(as_text=True)


def test_due_dates_are_shown_on_the_viewers_own_calendar_day(content, make_user, auth, client):
    from datetime import datetime, timezone

    from learnapp.models import MemoryStateRow

    rep = make_user("rep", timezone="Pacific/Auckland")
    auth.login(rep.email)
    page = client.get("/drill/").get_data(as_text=True)
    client.post("/drill/answer", data=form_for(page, right_answer(_current(rep))))
    due = datetime(2026, 3, 10, 20, 0, tzinfo=timezone.utc)  # Wednesday 11 March, 09:00 in Auckland
    db.session.execute(db.update(MemoryStateRow).filter_by(user_id=rep.id).values(due=due))
    db.session.commit()
    progress = client.get("/progress/").get_data(as_text=True)
    assert "Wed 11 Mar 2026" in progress and "Tue 10 Mar 2026" not in progress
